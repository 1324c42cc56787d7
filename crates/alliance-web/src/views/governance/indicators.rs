//! The performance framework: `/indicators` (each with its status in the quarter and the
//! rule that decides it) and `/indicators/{id}` (values per period as a chart and a table,
//! and the form to enter a value). Status, trend and computed values are the Board pack's
//! ([`BoardPack::load`]); a computed indicator is shown as computed and has no form.

use alliance_core::governance::{Quarter, INDICATOR_RULE};
use alliance_db::governance::Indicator;
use alliance_db::{Db, DbError};
use askama::Template;

use super::{FieldError, Form};
use crate::views::board_pack::{bar_chart, fmt_value, BoardPack, IndicatorRow};
use crate::views::Layout;

#[derive(Template)]
#[template(path = "governance/indicators.html")]
pub struct IndicatorsPage {
    pub layout: Layout,
    pub quarter: Quarter,
    pub rows: Vec<IndicatorRow>,
    pub can_upload: bool,
    pub form: Form,
    pub errors: Vec<FieldError>,
}

impl IndicatorsPage {
    pub fn new(layout: Layout, pack: BoardPack, can_upload: bool, form: Form) -> IndicatorsPage {
        let errors = form.errors.clone();
        IndicatorsPage { layout, quarter: pack.quarter, rows: pack.indicators, can_upload, form, errors }
    }
    pub fn rule(&self) -> &'static str {
        INDICATOR_RULE
    }
}

/// One stored or computed value of an indicator.
pub struct ValueRow {
    pub period: String,
    pub value: String,
    pub note: String,
    pub by: String,
}

#[derive(Template)]
#[template(path = "governance/indicator.html")]
pub struct IndicatorPage {
    pub layout: Layout,
    pub indicator: Indicator,
    pub row: IndicatorRow,
    pub values: Vec<ValueRow>,
    pub chart: String,
    /// Entered indicators only, for staff and the owning organisation's partner users.
    pub can_enter: bool,
    pub form: Form,
    pub errors: Vec<FieldError>,
}

impl IndicatorPage {
    /// The page of `indicator` in `pack` (loaded for the quarter shown).
    pub async fn load(
        db: &Db,
        layout: Layout,
        indicator: Indicator,
        pack: &BoardPack,
        can_enter: bool,
        form: Form,
    ) -> Result<Option<IndicatorPage>, DbError> {
        let Some(row) = pack.indicators.iter().find(|r| r.id == indicator.id).cloned() else { return Ok(None) };
        let values: Vec<ValueRow> = if indicator.source.is_computed() {
            row.series
                .iter()
                .map(|(p, v)| ValueRow {
                    period: p.clone(),
                    value: v.map(fmt_value).unwrap_or_else(|| "Not computed".into()),
                    note: String::new(),
                    by: "Computed".into(),
                })
                .collect()
        } else {
            db.indicator_values()
                .await?
                .remove(&indicator.id)
                .unwrap_or_default()
                .into_iter()
                .map(|v| ValueRow { period: v.period, value: fmt_value(v.value), note: v.note, by: v.entered_by })
                .collect()
        };
        let bars: Vec<(String, f64, &str)> = if indicator.source.is_computed() {
            row.series.iter().filter_map(|(p, v)| v.map(|v| (p.clone(), v, "#1d70b8"))).collect()
        } else {
            values
                .iter()
                .filter_map(|v| v.value.replace(',', "").parse().ok().map(|x| (v.period.clone(), x, "#1d70b8")))
                .collect()
        };
        let chart = bar_chart(
            "indicator-chart",
            &format!("{} by period ({})", indicator.name, indicator.unit),
            &bars,
            fmt_value,
        );
        let can_enter = can_enter && !indicator.source.is_computed();
        let errors = form.errors.clone();
        Ok(Some(IndicatorPage { layout, indicator, row, values, chart, can_enter, form, errors }))
    }
    pub fn rule(&self) -> &'static str {
        INDICATOR_RULE
    }
    pub fn baseline_text(&self) -> String {
        match (self.indicator.baseline, &self.indicator.baseline_period) {
            (Some(b), Some(p)) => format!("{} ({p})", fmt_value(b)),
            (Some(b), None) => fmt_value(b),
            _ => "None set".into(),
        }
    }
    pub fn source_text(&self) -> String {
        self.indicator.source.as_string()
    }
}
