//! The quarterly Board pack as one self-contained HTML document (askama template
//! `board_pack.html`: inline CSS, SVG charts each with its table, print styles), rendered
//! from the model of `alliance_app::board_pack`, the same for `alliance board-pack` and the
//! web app's `/board-pack/{quarter}`.

use std::ops::Deref;

use alliance_app::board_pack::{rag_fill, BoardPack};
use askama::Template;

use crate::chart::{bar_chart, Bar, BarLayout};

/// The pack as a document: the model's fields and methods, and the presentation the
/// template adds (money, charts).
#[derive(Template)]
#[template(path = "board_pack.html")]
struct BoardPackDocument<'a> {
    pack: &'a BoardPack,
}

impl Deref for BoardPackDocument<'_> {
    type Target = BoardPack;
    fn deref(&self) -> &BoardPack {
        self.pack
    }
}

/// The Board pack of `pack` as HTML.
pub fn render(pack: &BoardPack) -> Result<String, askama::Error> {
    BoardPackDocument { pack }.render()
}

/// The bar layout of the pack's charts: wide labels (stream and status names).
const LAYOUT: BarLayout = BarLayout { label_width: 260.0, width: 690.0, text_room: 130.0 };

impl BoardPackDocument<'_> {
    /// A `YYYY-MM-DD` date in words (`31 March 2027`).
    fn uk(&self, date: impl AsRef<str>) -> String {
        alliance_core::format::date(date.as_ref())
    }

    fn pence(&self, p: impl std::borrow::Borrow<i64>) -> String {
        alliance_core::format::money(*p.borrow())
    }

    fn rag_svg(&self) -> String {
        let bars: Vec<Bar> = self
            .pack
            .rag
            .iter()
            .map(|r| Bar {
                label: r.status.label().to_string(),
                value: Some(r.count as f64),
                text: r.count.to_string(),
                colour: rag_fill(r.status),
            })
            .collect();
        bar_chart(
            "rag-chart",
            "Actions by status at the end of the quarter",
            "Bars show the number of actions with each status; the table gives the same figures.",
            &bars,
            LAYOUT,
        )
    }

    fn funding_svg(&self) -> String {
        let mut bars = Vec::new();
        for s in &self.pack.funding.streams {
            for (what, pence, colour) in
                [("allocated", s.allocated_pence, "#1d70b8"), ("spent to date", s.spent_to_date_pence, "#00703c")]
            {
                bars.push(Bar {
                    label: format!("{}: {what}", s.name),
                    value: Some(pence as f64 / 100.0),
                    text: alliance_core::format::money(pence),
                    colour,
                });
            }
        }
        bar_chart(
            "funding-chart",
            "Allocated and spent to date by funding stream (£)",
            "Bars show each stream's allocations and spend to date; the table gives the same figures.",
            &bars,
            LAYOUT,
        )
    }
}
