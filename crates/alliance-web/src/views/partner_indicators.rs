//! The partner indicators page (`/partner-data/indicators`): the values of each indicator
//! dataset the caller's organisation may see. At aggregate level each (indicator, area,
//! period) group is suppressed as one published row: its breakdown values (by age band and
//! sex) with their sum, so a small breakdown value and one complement are hidden together;
//! the all-ages, all-sexes value is a count on its own (primary suppression only).

use alliance_app::Disclosure;
use alliance_core::access::AccessLevel;
use alliance_core::analytics::suppression::Shown;
use alliance_db::partner::indicators::StoredIndicatorValue;
use askama::Template;

use super::Layout;

/// One value as published.
pub struct ValueRow {
    pub indicator: String,
    pub area_code: String,
    pub period: String,
    /// "All" or e.g. "10-15, male".
    pub breakdown: String,
    pub value: String,
}

/// The values of one dataset the caller may see.
pub struct DatasetSection {
    pub slug: String,
    pub name: String,
    /// "aggregate" or "record".
    pub level: String,
    pub suppressed: bool,
    pub rows: Vec<ValueRow>,
}

fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// A value as a count for suppression (values are figures partners count; a negative or
/// fractional value is rounded to the nearest whole, never below zero).
fn as_count(v: f64) -> u64 {
    if v.is_finite() && v > 0.0 {
        v.round() as u64
    } else {
        0
    }
}

/// The published rows of `values` (sorted as the storage layer returns them) as a reader at
/// `level` may see them: suppressed by `disclosure` below record level. Returns the rows and
/// whether anything was hidden.
pub fn publish(values: &[StoredIndicatorValue], disclosure: &Disclosure, level: AccessLevel) -> (Vec<ValueRow>, bool) {
    let suppression = disclosure.for_level(level);
    let mut out = Vec::with_capacity(values.len());
    let mut hidden_any = false;
    let mut i = 0;
    while i < values.len() {
        let key = |v: &StoredIndicatorValue| (v.indicator.clone(), v.area_code.clone(), v.period.clone());
        let mut j = i;
        while j < values.len() && key(&values[j]) == key(&values[i]) {
            j += 1;
        }
        let group = &values[i..j];
        let shown: Vec<Shown> =
            match suppression {
                None => group.iter().map(|v| Shown::Value(as_count(v.value))).collect(),
                Some(s) => {
                    let breakdown: Vec<u64> = group.iter().filter(|v| !is_all(v)).map(|v| as_count(v.value)).collect();
                    let mut hidden = if breakdown.is_empty() {
                        Vec::new()
                    } else {
                        s.table(&[breakdown]).cells.into_iter().next().unwrap_or_default()
                    }
                    .into_iter();
                    group
                        .iter()
                        .map(|v| {
                            if is_all(v) {
                                s.count(as_count(v.value))
                            } else {
                                hidden.next().unwrap_or(Shown::Secondary)
                            }
                        })
                        .collect()
                }
            };
        let threshold = suppression.map_or(0, |s| s.threshold);
        for (v, shown) in group.iter().zip(shown) {
            hidden_any |= shown.is_hidden();
            out.push(ValueRow {
                indicator: v.indicator.clone(),
                area_code: v.area_code.clone(),
                period: v.period.clone(),
                breakdown: breakdown_label(v),
                value: if shown.is_hidden() { shown.display(threshold) } else { number(v.value) },
            });
        }
        i = j;
    }
    (out, hidden_any)
}

fn is_all(v: &StoredIndicatorValue) -> bool {
    v.age_band.is_empty() && v.sex.is_empty()
}

fn breakdown_label(v: &StoredIndicatorValue) -> String {
    match (v.age_band.as_str(), v.sex.as_str()) {
        ("", "") => "All".into(),
        (a, "") => format!("age {a}"),
        ("", s) => s.into(),
        (a, s) => format!("age {a}, {s}"),
    }
}

/// The values as CSV, exactly as the page shows them (through `alliance_reports::csv`).
pub fn csv(sections: &[DatasetSection]) -> String {
    let header = ["dataset", "indicator", "area_code", "period", "breakdown", "value"];
    let rows = sections.iter().flat_map(|s| {
        s.rows.iter().map(move |r| {
            [
                s.slug.clone(),
                r.indicator.clone(),
                r.area_code.clone(),
                r.period.clone(),
                r.breakdown.clone(),
                r.value.clone(),
            ]
        })
    });
    alliance_reports::csv::to_string(&header, rows)
}

#[derive(Template)]
#[template(path = "partner_data_indicators.html")]
pub struct IndicatorsPage {
    pub layout: Layout,
    pub threshold: u64,
    pub sections: Vec<DatasetSection>,
    /// Datasets the organisation has no access to (their names), to say so.
    pub withheld: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(age: &str, sex: &str, value: f64) -> StoredIndicatorValue {
        StoredIndicatorValue {
            indicator: "School suspensions".into(),
            area_code: "E06000021".into(),
            area_kind: "district".into(),
            period: "2025-Q1".into(),
            period_kind: "quarter".into(),
            period_start: "2025-01".into(),
            period_end: "2025-03".into(),
            age_band: age.into(),
            sex: sex.into(),
            value,
        }
    }

    #[test]
    fn a_small_breakdown_value_is_hidden_with_a_complement() {
        let values = vec![v("", "", 40.0), v("10-15", "female", 3.0), v("10-15", "male", 37.0)];
        let five = Disclosure::new(5).expect("a valid threshold");
        let (rows, hidden) = publish(&values, &five, AccessLevel::Aggregate);
        assert!(hidden);
        assert_eq!(rows[0].value, "40");
        assert_eq!(rows[1].value, "fewer than 5");
        assert_eq!(rows[2].value, "withheld");
        let (rows, hidden) = publish(&values, &five, AccessLevel::Record);
        assert!(!hidden);
        assert_eq!(rows[1].value, "3");
    }
}
