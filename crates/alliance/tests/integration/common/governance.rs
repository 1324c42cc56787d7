//! Governance fixtures the tests build again and again, written once.

use alliance_core::governance::{Direction, IndicatorSource};
use alliance_db::governance::NewIndicator;

/// An indicator a partner enters by hand: a quarterly count, higher is better, with no
/// baseline, target, tolerance, owner or priority. Tests change what they test with struct
/// update syntax (`NewIndicator { target: Some(10.0), ..entered_indicator(code, name) }`), so
/// each one shows only the fields it cares about.
pub fn entered_indicator<'a>(code: &'a str, name: &'a str) -> NewIndicator<'a> {
    NewIndicator {
        code,
        name,
        kind: "output",
        definition: "test",
        unit: "count",
        frequency: "quarterly",
        direction: Direction::Up,
        baseline: None,
        baseline_period: None,
        target: None,
        tolerance: None,
        owner_org_id: None,
        priority_id: None,
        source: IndicatorSource::Entered,
    }
}

/// The fields of an action's update form: dated `on` (day, month and year as a person types
/// them), with `status` and `note`.
pub fn update_form(on: chrono::NaiveDate, status: &str, note: &str) -> Vec<(&'static str, String)> {
    vec![
        ("update_on_date-day", on.format("%-d").to_string()),
        ("update_on_date-month", on.format("%-m").to_string()),
        ("update_on_date-year", on.format("%Y").to_string()),
        ("update_status", status.to_string()),
        ("update_note", note.to_string()),
    ]
}
