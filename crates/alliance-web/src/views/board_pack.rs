//! The Board pack's model lives in `alliance_app::board_pack` and its document in
//! `alliance_reports::board_pack`; the governance pages show parts of the same model, so
//! its names are re-exported here for them.

pub use alliance_app::board_pack::*;

use alliance_reports::chart::{Bar, BarLayout};

/// A horizontal bar chart of `(label, value, colour)` with `label` giving each value's
/// words, in the pack's layout (the one SVG toolkit, `alliance_reports::chart`).
pub fn bar_chart(id: &str, title: &str, bars: &[(String, f64, &'static str)], label: impl Fn(f64) -> String) -> String {
    let bars: Vec<Bar> = bars
        .iter()
        .map(|(name, v, colour)| Bar { label: name.clone(), value: Some(*v), text: label(*v), colour })
        .collect();
    alliance_reports::chart::bar_chart(
        id,
        title,
        "The table beside the chart gives the same figures.",
        &bars,
        BarLayout { label_width: 260.0, width: 690.0, text_room: 130.0 },
    )
}
