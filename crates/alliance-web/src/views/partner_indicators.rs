//! The partner indicators page (`/partner-data/indicators`): the values of each indicator
//! dataset the caller's organisation may see. At aggregate level every value published
//! together is suppressed together: a breakdown with its all value, a month with its quarter,
//! an LSOA with its district ([`publish`]).

use std::collections::{BTreeMap, HashMap};

use alliance_app::Disclosure;
use alliance_core::access::AccessLevel;
use alliance_core::analytics::suppression::Shown;
use alliance_core::referrals::linked::{Figure, Linked};
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
///
/// Every value is one figure of one linked pool (`alliance_core::referrals::linked`), with a
/// line for each sum a reader could take between published values, added only where the
/// values really add up (an indicator that is a rate adds nothing):
/// - within an (indicator, area, period): the sexes to the all value, the age bands to it,
///   and the age-and-sex values to their age band and to their sex (or to the all value when
///   neither margin is given);
/// - across periods, for one indicator, area and breakdown: the values of one kind of period
///   (months, quarters) lying within a longer one to it;
/// - across areas, for one indicator, period and breakdown: the LSOAs and wards of a district
///   (`district_of`) to the district's value.
///
/// So a hidden value never follows from a shown total less shown parts in any one of these
/// sums (the pool's fixed point); a suppressed month is not its quarter less its other months.
pub fn publish(
    values: &[StoredIndicatorValue],
    disclosure: &Disclosure,
    level: AccessLevel,
    district_of: &HashMap<String, String>,
) -> (Vec<ValueRow>, bool) {
    let suppression = disclosure.for_level(level);
    let shown: Vec<Option<Shown>> = match suppression {
        None => vec![None; values.len()],
        Some(rule) => {
            let mut pool = Linked::new();
            let figures: Vec<Figure> = values.iter().map(|v| pool.figure(as_count(v.value))).collect();
            link_breakdowns(values, &figures, &mut pool);
            link_periods(values, &figures, &mut pool);
            link_areas(values, &figures, &mut pool, district_of);
            let published = pool.suppress(rule);
            figures.iter().map(|f| Some(published.get(*f))).collect()
        }
    };
    let threshold = suppression.map_or(0, |s| s.threshold);
    let mut hidden_any = false;
    let rows = values
        .iter()
        .zip(shown)
        .map(|(v, shown)| {
            let hidden = shown.filter(|s| s.is_hidden());
            hidden_any |= hidden.is_some();
            ValueRow {
                indicator: v.indicator.clone(),
                area_code: v.area_code.clone(),
                period: v.period.clone(),
                breakdown: breakdown_label(v),
                value: hidden.map_or_else(|| number(v.value), |s| s.display(threshold)),
            }
        })
        .collect();
    (rows, hidden_any)
}

/// Indexes of `values` grouped by `key`, in order of first appearance.
fn group_by<'v, K: Ord>(
    values: &'v [StoredIndicatorValue],
    key: impl Fn(&'v StoredIndicatorValue) -> K,
) -> Vec<Vec<usize>> {
    let mut groups: BTreeMap<K, Vec<usize>> = BTreeMap::new();
    for (i, v) in values.iter().enumerate() {
        groups.entry(key(v)).or_default().push(i);
    }
    groups.into_values().collect()
}

/// The lines between an (indicator, area, period)'s breakdowns and its all value.
fn link_breakdowns(values: &[StoredIndicatorValue], figures: &[Figure], pool: &mut Linked) {
    let groups = group_by(values, |v| (v.indicator.as_str(), v.area_code.as_str(), v.period.as_str()));
    for group in groups {
        let pick = |f: &dyn Fn(&StoredIndicatorValue) -> bool| -> Vec<usize> {
            group.iter().copied().filter(|&i| f(&values[i])).collect()
        };
        let all = pick(&|v| is_all(v));
        let sexes = pick(&|v| v.age_band.is_empty() && !v.sex.is_empty());
        let ages = pick(&|v| !v.age_band.is_empty() && v.sex.is_empty());
        let both = pick(&|v| !v.age_band.is_empty() && !v.sex.is_empty());
        let fs = |idx: &[usize]| -> Vec<Figure> { idx.iter().map(|&i| figures[i]).collect() };
        if let Some(&total) = all.first() {
            pool.line(&fs(&sexes), figures[total]);
            pool.line(&fs(&ages), figures[total]);
            if sexes.is_empty() && ages.is_empty() {
                pool.line(&fs(&both), figures[total]);
            }
        }
        for &a in &ages {
            let parts: Vec<usize> =
                both.iter().copied().filter(|&i| values[i].age_band == values[a].age_band).collect();
            pool.line(&fs(&parts), figures[a]);
        }
        for &s in &sexes {
            let parts: Vec<usize> = both.iter().copied().filter(|&i| values[i].sex == values[s].sex).collect();
            pool.line(&fs(&parts), figures[s]);
        }
    }
}

/// The lines from the values of one kind of period within a longer period to its value.
fn link_periods(values: &[StoredIndicatorValue], figures: &[Figure], pool: &mut Linked) {
    let groups =
        group_by(values, |v| (v.indicator.as_str(), v.area_code.as_str(), v.age_band.as_str(), v.sex.as_str()));
    for group in groups {
        for &outer in &group {
            let o = &values[outer];
            let mut by_kind: BTreeMap<&str, Vec<Figure>> = BTreeMap::new();
            for &inner in group.iter().filter(|&&i| i != outer) {
                let v = &values[inner];
                let within = o.period_start <= v.period_start && v.period_end <= o.period_end;
                if within && v.period_kind != o.period_kind {
                    by_kind.entry(v.period_kind.as_str()).or_default().push(figures[inner]);
                }
            }
            for parts in by_kind.values() {
                pool.line(parts, figures[outer]);
            }
        }
    }
}

/// The lines from the LSOAs and wards of a district to the district's value.
fn link_areas(
    values: &[StoredIndicatorValue],
    figures: &[Figure],
    pool: &mut Linked,
    district_of: &HashMap<String, String>,
) {
    let groups = group_by(values, |v| (v.indicator.as_str(), v.period.as_str(), v.age_band.as_str(), v.sex.as_str()));
    for group in groups {
        for &district in group.iter().filter(|&&i| values[i].area_kind == "district") {
            let mut by_kind: BTreeMap<&str, Vec<Figure>> = BTreeMap::new();
            for &small in &group {
                let v = &values[small];
                if v.area_kind != "district" && district_of.get(&v.area_code) == Some(&values[district].area_code) {
                    by_kind.entry(v.area_kind.as_str()).or_default().push(figures[small]);
                }
            }
            for parts in by_kind.values() {
                pool.line(parts, figures[district]);
            }
        }
    }
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

    fn at(area: &str, period: &str, age: &str, sex: &str, value: f64) -> StoredIndicatorValue {
        let (kind, start, end) = match period {
            "2025-Q1" => ("quarter", "2025-01", "2025-03"),
            "2025-Q2" => ("quarter", "2025-04", "2025-06"),
            "2025/26" => ("financial-year", "2025-04", "2026-03"),
            month => ("month", month, month),
        };
        StoredIndicatorValue {
            indicator: "School suspensions".into(),
            area_code: area.into(),
            area_kind: if area.starts_with("E01") { "lsoa" } else { "district" }.into(),
            period: period.into(),
            period_kind: kind.into(),
            period_start: start.into(),
            period_end: end.into(),
            age_band: age.into(),
            sex: sex.into(),
            value,
        }
    }

    fn v(age: &str, sex: &str, value: f64) -> StoredIndicatorValue {
        at("E06000021", "2025-Q1", age, sex, value)
    }

    fn published(values: &[StoredIndicatorValue], district_of: &HashMap<String, String>) -> Vec<String> {
        let five = Disclosure::new(5).expect("a valid threshold");
        publish(values, &five, AccessLevel::Aggregate, district_of).0.into_iter().map(|r| r.value).collect()
    }

    /// Whether any shown value pins a hidden one: for each sum the values make, a shown total
    /// less its shown parts is a hidden part only when exactly one part is hidden.
    fn one_hidden_in(shown: &[String], parts: &[usize], total: usize) -> bool {
        let hidden = |i: usize| shown[i] == "fewer than 5" || shown[i] == "withheld";
        !hidden(total) && parts.iter().filter(|&&i| hidden(i)).count() == 1
    }

    #[test]
    fn a_small_breakdown_value_is_hidden_with_a_complement() {
        let values = vec![v("", "", 40.0), v("10-15", "female", 3.0), v("10-15", "male", 37.0)];
        let five = Disclosure::new(5).expect("a valid threshold");
        let (rows, hidden) = publish(&values, &five, AccessLevel::Aggregate, &HashMap::new());
        assert!(hidden);
        assert_eq!(rows[0].value, "40");
        assert_eq!(rows[1].value, "fewer than 5");
        assert_eq!(rows[2].value, "withheld");
        let (rows, hidden) = publish(&values, &five, AccessLevel::Record, &HashMap::new());
        assert!(!hidden);
        assert_eq!(rows[1].value, "3");
    }

    /// The reviewer's case: all 99, male 3, female 96, ages 60 and 39. The male value was
    /// hidden, its complement chosen among the ages, and 99 − 96 gave it back.
    #[test]
    fn a_hidden_sex_is_not_the_total_less_the_other_sex() {
        let values = vec![
            v("", "", 99.0),
            v("", "female", 96.0),
            v("", "male", 3.0),
            v("10-15", "", 60.0),
            v("16-17", "", 39.0),
        ];
        let shown = published(&values, &HashMap::new());
        assert_eq!(shown[2], "fewer than 5");
        assert!(!one_hidden_in(&shown, &[1, 2], 0), "sexes against all: {shown:?}");
        assert!(!one_hidden_in(&shown, &[3, 4], 0), "ages against all: {shown:?}");
    }

    /// A month hidden is not its quarter less its other months.
    #[test]
    fn a_hidden_month_is_not_its_quarter_less_the_others() {
        let values = vec![
            at("E06000021", "2025-Q2", "", "", 99.0),
            at("E06000021", "2025-04", "", "", 2.0),
            at("E06000021", "2025-05", "", "", 40.0),
            at("E06000021", "2025-06", "", "", 57.0),
        ];
        let shown = published(&values, &HashMap::new());
        assert_eq!(shown[1], "fewer than 5");
        assert!(!one_hidden_in(&shown, &[1, 2, 3], 0), "{shown:?}");
        // Months that do not add up to the quarter (a rate, a partial quarter) link nothing.
        let mut rates = values.clone();
        rates[0].value = 33.0;
        let shown = published(&rates, &HashMap::new());
        assert_eq!((shown[0].as_str(), shown[2].as_str(), shown[3].as_str()), ("33", "40", "57"));
    }

    /// An LSOA hidden is not its district less the district's other LSOAs.
    #[test]
    fn a_hidden_lsoa_is_not_its_district_less_the_others() {
        let values = vec![
            at("E01000001", "2025-Q1", "", "", 3.0),
            at("E01000002", "2025-Q1", "", "", 30.0),
            at("E06000021", "2025-Q1", "", "", 33.0),
        ];
        let district_of: HashMap<String, String> = [("E01000001", "E06000021"), ("E01000002", "E06000021")]
            .into_iter()
            .map(|(a, d)| (a.to_string(), d.to_string()))
            .collect();
        let shown = published(&values, &district_of);
        assert_eq!(shown[0], "fewer than 5");
        assert!(!one_hidden_in(&shown, &[0, 1], 2), "{shown:?}");
        // Without the link the LSOA's complement is left shown: the case the link exists for.
        let unlinked = published(&values, &HashMap::new());
        assert!(one_hidden_in(&unlinked, &[0, 1], 2), "{unlinked:?}");
    }
}
