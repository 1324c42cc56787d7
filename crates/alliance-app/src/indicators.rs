//! Computed indicators: the figure of each period from the stored data its one definition
//! names (`alliance_core::governance::computed`), for the indicator pages, the Board pack and
//! the command line alike, and the check of a definition against what is stored.
//!
//! Police data is open; every other source is restricted. A figure from a restricted
//! source carries the counts or values it was made from ([`Figure::parts`]); a reader
//! without record-level access to the source sees the figure only when every part is
//! publishable under the partnership's [`Disclosure`](crate::Disclosure) (no count from 1
//! to the threshold − 1), so no hidden count can be recovered from a sum or from the total
//! of several services ([`Restriction`]). Referral figures are aggregate for every reader:
//! no one holds them at record level.

use alliance_core::access::AccessLevel;
use alliance_core::analytics::sna::definition::{Fit, Mapping, SourceKind};
use alliance_core::domain::{Month, MonthRange};
use alliance_core::governance::{
    combine_series, ComputedData, ComputedIndicator, EdSelection, Frequency, IndicatorSource, PoliceSelection, Quarter,
};
use alliance_db::{Db, DbError};
use serde::Serialize;

use crate::AppError;

/// The figure of one period, or why there is none.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figure {
    pub value: Option<f64>,
    /// What it was computed from, or why it was not.
    pub note: String,
    /// The counts or values it was made from, each of which must be publishable for a
    /// reader below record level to see it (empty for open police data).
    pub parts: Vec<f64>,
}

impl Figure {
    fn none(note: String) -> Figure {
        Figure { value: None, note, parts: Vec::new() }
    }
}

/// Which reader-level rule a computed indicator's figures follow: the dataset whose access
/// decides (`None`: every reader is at aggregate level, as for referrals) and each period's
/// parts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Restriction {
    pub dataset: Option<&'static str>,
    /// What the dataset is, for "not shown" text.
    pub label: &'static str,
    pub parts: Vec<(String, Vec<f64>)>,
}

impl Restriction {
    /// The reader's level: `level_of(dataset)`, or aggregate for a source no one holds at
    /// record level.
    pub fn level(&self, level_of: impl Fn(&str) -> AccessLevel) -> AccessLevel {
        match self.dataset {
            Some(d) => level_of(d),
            None => AccessLevel::Aggregate,
        }
    }

    /// Whether the figure of `period` may be shown to a reader below record level under
    /// `threshold`: every part is 0, not a whole number, or at least the threshold.
    pub fn publishable(&self, period: &str, threshold: u64) -> bool {
        self.parts
            .iter()
            .find(|(p, _)| p == period)
            .is_none_or(|(_, parts)| parts.iter().all(|v| v.fract() != 0.0 || *v < 1.0 || *v >= threshold as f64))
    }
}

/// The restricted dataset of a computed definition, and its label (see [`Restriction`]).
pub fn restriction_of(def: &ComputedIndicator) -> Option<(Option<&'static str>, &'static str)> {
    match &def.data {
        ComputedData::Police(_) => None,
        ComputedData::Ed(_) => Some((Some("ed-assaults"), "emergency department")),
        ComputedData::PartnerSeries { series, .. } => {
            let dataset = alliance_core::access::indicator_dataset(series);
            Some((Some(dataset), dataset.trim_start_matches("indicators:")))
        }
        ComputedData::Referrals { .. } => Some((None, "referral")),
    }
}

/// The data.police.uk crime types a police selection counts, by the current serious
/// violence definition where it names one (its proxy mappings are never counted).
async fn police_types(db: &Db, selection: &PoliceSelection) -> Result<Vec<String>, DbError> {
    let police = SourceKind::PoliceCrimeType;
    Ok(match selection {
        PoliceSelection::CrimeType(t) => vec![t.clone()],
        PoliceSelection::SeriousViolence => sv_categories(db, police, |m| m.in_headline).await?,
        PoliceSelection::SvGroup(g) => sv_categories(db, police, |m| m.group == *g && m.fit != Fit::Proxy).await?,
    })
}

/// The assault method codes an ED selection counts (`None`: all).
async fn ed_methods(db: &Db, selection: &EdSelection) -> Result<Option<Vec<String>>, DbError> {
    Ok(match selection {
        EdSelection::All => None,
        EdSelection::Method(c) => Some(vec![c.clone()]),
        EdSelection::SeriousViolence => Some(sv_categories(db, SourceKind::EdAssaultMethod, |m| m.in_headline).await?),
    })
}

/// The categories of `source` whose mappings in the current serious violence definition
/// `count`, sorted, each once (a category mapped to two groups is counted once).
async fn sv_categories(db: &Db, source: SourceKind, count: impl Fn(&Mapping) -> bool) -> Result<Vec<String>, DbError> {
    let def = db.sv_definition_current().await?;
    let mut categories: Vec<String> = def.for_source(source).filter(|m| count(m)).map(|m| m.category.clone()).collect();
    categories.sort();
    categories.dedup();
    Ok(categories)
}

/// The rule stated with every police figure, so the same count on two pages is the same
/// number or says why it differs.
pub const POLICE_AREA_NOTE: &str = "Counted in the partnership's LSOAs, as the dashboard's headlines and the SNA's \
     counts are: records with no location, or located outside the area, are left out (those pages count them only when \
     no partnership area is set).";

/// The figure of `period` (a month or a calendar quarter) by the definition.
pub async fn figure(db: &Db, def: &ComputedIndicator, period: MonthRange) -> Result<Figure, DbError> {
    let months = def.measure.months_for(period);
    let count = alliance_core::format::count;
    match &def.data {
        ComputedData::Police(selection) => {
            let types = police_types(db, selection).await?;
            let rate = def.measure == alliance_core::governance::Measure::Rate12Months;
            let f = db.police_figure_of(&types, months, def.area.as_deref(), rate).await?;
            if !f.complete() {
                return Ok(Figure::none(format!(
                    "Not computed for {period}: police data covers {} of the {} months {months}.",
                    f.months_covered,
                    months.len()
                )));
            }
            let area = match &def.area {
                Some(d) => format!("district {d}"),
                None => "the partnership's area".into(),
            };
            if rate {
                return Ok(match f.per_1000() {
                    Some(r) => Figure {
                        value: Some(r),
                        note: format!(
                            "{} crimes ({}) in {months} ÷ {} residents of {area} ({}) × 1,000. {POLICE_AREA_NOTE}",
                            count(f.count),
                            f.crime_type,
                            count(f.population.unwrap_or(0)),
                            f.population_sources.join("; ")
                        ),
                        parts: Vec::new(),
                    },
                    None => Figure::none("Not computed: no LSOA population is loaded.".into()),
                });
            }
            Ok(Figure {
                value: Some(f.count as f64),
                note: format!("{} crimes ({}) in {area}, {months}. {POLICE_AREA_NOTE}", count(f.count), f.crime_type),
                parts: Vec::new(),
            })
        }
        ComputedData::Ed(selection) => {
            let methods = ed_methods(db, selection).await?;
            let f = db.ed_figure(months, methods.as_deref()).await?;
            if !f.complete() {
                return Ok(Figure::none(format!(
                    "Not computed for {period}: the emergency department files cover {} of its {} months.",
                    f.months_covered,
                    months.len()
                )));
            }
            Ok(Figure {
                value: Some(f.count as f64),
                note: format!("Emergency department assault attendances by assault date, {months}, whole area."),
                parts: vec![f.count as f64],
            })
        }
        ComputedData::PartnerSeries { series, org } => {
            let values = db.partner_series_values(series, *org).await?;
            if values.is_empty() {
                return Ok(Figure::none(format!(
                    "Not computed: no values of the partner series \"{series}\" (all ages and sexes) have been uploaded{}.",
                    if org.is_some() { " by its organisation" } else { "" }
                )));
            }
            Ok(match combine_series(&values, months, def.area.as_deref(), def.measure) {
                Ok(c) => Figure {
                    value: Some(c.value),
                    note: format!(
                        "From the partner series \"{series}\": {} of {} value{} inside {months}.",
                        def.measure.as_str(),
                        c.parts.len(),
                        if c.parts.len() == 1 { "" } else { "s" }
                    ),
                    parts: c.parts,
                },
                Err(why) => Figure::none(format!("Not computed for {period}: {why}.")),
            })
        }
        ComputedData::Referrals { event, service } => {
            let by_service = db.referral_event_counts(*event, months).await?;
            let all: Vec<f64> = by_service.values().map(|n| *n as f64).collect();
            let (value, parts) = match service {
                Some(s) => (by_service.get(s).copied().unwrap_or(0) as f64, all),
                None => {
                    let total: f64 = all.iter().sum();
                    (total, vec![total])
                }
            };
            let today = chrono::Utc::now().format("%Y-%m").to_string();
            let to_date = if months.to.to_string() >= today { " (the period is not over: so far)" } else { "" };
            Ok(Figure { value: Some(value), note: format!("{}, {months}{to_date}.", event.label()), parts })
        }
    }
}

/// A computed indicator's figures around a quarter, as the pages and the Board pack show
/// them.
#[derive(Debug, Clone, Default)]
pub struct ComputedSeries {
    /// The periods shown, oldest first: four quarters to the quarter, or six months to its
    /// last month for a monthly indicator.
    pub series: Vec<(String, Option<f64>)>,
    /// The latest figure up to the quarter, and its period.
    pub latest: Option<(String, f64)>,
    pub note: String,
    /// Set for a restricted source.
    pub restriction: Option<Restriction>,
}

/// The periods of a computed indicator up to `quarter`: `(label, months)`, oldest first.
fn periods(frequency: Frequency, quarter: Quarter, count: i64) -> Vec<(String, MonthRange)> {
    if frequency == Frequency::Monthly {
        let last = quarter.last_month();
        (0..count)
            .rev()
            .map(|k| {
                let m: Month = last.plus(-k);
                (m.to_string(), MonthRange { from: m, to: m })
            })
            .collect()
    } else {
        let mut q = quarter;
        let mut out = Vec::new();
        for _ in 0..count {
            out.push((q.to_string(), q.months()));
            q = q.previous();
        }
        out.reverse();
        out
    }
}

/// The figures of `def` for the periods shown at `quarter` ([`ComputedSeries`]). When none
/// of them has a figure (the data is older), the latest of the periods before them that has
/// one is given, with its period, rather than "not computed". `coverage` (read once by the
/// caller, for every indicator it shows) says whether police figures are the partnership's.
pub async fn series(
    db: &Db,
    def: &ComputedIndicator,
    frequency: Frequency,
    quarter: Quarter,
    coverage: &crate::forces::ForceCoverage,
) -> Result<ComputedSeries, DbError> {
    let monthly = frequency == Frequency::Monthly;
    let shown = periods(frequency, quarter, if monthly { 6 } else { 4 });
    let mut out = ComputedSeries::default();
    let mut parts = Vec::new();
    for (label, months) in &shown {
        let f = figure(db, def, *months).await?;
        out.note = f.note.clone();
        if let Some(v) = f.value {
            out.latest = Some((label.clone(), v));
        }
        parts.push((label.clone(), f.parts));
        out.series.push((label.clone(), f.value));
    }
    if out.latest.is_none() {
        let before = periods(frequency, quarter, if monthly { 6 + 24 } else { 4 + 8 });
        for (label, months) in before.iter().rev().skip(shown.len()) {
            let f = figure(db, def, *months).await?;
            if let Some(v) = f.value {
                out.latest = Some((label.clone(), v));
                parts.push((label.clone(), f.parts));
                break;
            }
        }
    }
    let last_shown = shown.last().map(|(l, _)| l.clone()).unwrap_or_default();
    if let Some((period, _)) = out.latest.as_ref().filter(|(p, _)| *p != last_shown) {
        out.note = format!("The latest figure is for {period}, the latest period with the data it needs. {}", out.note);
    }
    out.restriction = restriction_of(def).map(|(dataset, label)| Restriction { dataset, label, parts });
    if matches!(def.data, alliance_core::governance::computed::ComputedData::Police(_)) {
        let warning = coverage.indicator_note();
        if !warning.is_empty() {
            out.note = format!("{warning} {}", out.note).trim_end().to_string();
        }
    }
    Ok(out)
}

/// The one-line definition of an indicator's source in words, for its page (naming the
/// organisation of a partner series).
pub async fn describe(db: &Db, source: &IndicatorSource) -> Result<String, DbError> {
    Ok(match source {
        IndicatorSource::Entered => "Entered or uploaded by partnership staff or the owner organisation.".into(),
        IndicatorSource::Computed(def) => {
            let org_name = match &def.data {
                ComputedData::PartnerSeries { org: Some(o), .. } => {
                    db.organisations().await?.into_iter().find(|x| x.id == *o).map(|x| x.name)
                }
                _ => None,
            };
            def.describe(org_name.as_deref())
        }
    })
}

/// Checks a definition before an indicator is created with it: the rules of
/// `ComputedIndicator::validate`, then what only stored data can tell: the assault method
/// code is one of the ED code list's, the organisation, the referral service and the
/// district exist. The error names the field (`source`).
// The checks read the database: kept as plain `if`s inside the arms, not as match guards.
#[allow(clippy::collapsible_match)]
pub async fn check(db: &Db, source: &IndicatorSource, frequency: Frequency) -> Result<(), AppError> {
    let Some(def) = source.computed() else { return Ok(()) };
    def.validate(frequency).map_err(|e| AppError::invalid("source", e))?;
    let refuse = |reason: String| Err(AppError::invalid("source", reason));
    match &def.data {
        ComputedData::Ed(EdSelection::Method(code)) => {
            if !alliance_ingest::ed::codes::ASSAULT_METHODS.iter().any(|(c, _)| *c == code.as_str()) {
                return refuse(format!("\"{code}\" is not an assault method code of the ED code list"));
            }
        }
        ComputedData::PartnerSeries { org: Some(o), .. } => {
            if !db.organisations().await?.iter().any(|x| x.id == *o) {
                return refuse(format!("there is no organisation {o}"));
            }
        }
        ComputedData::Referrals { service: Some(s), .. } => {
            if db.referral_service(s).await?.is_none() {
                return refuse(format!("\"{s}\" is not a service that takes referrals"));
            }
        }
        ComputedData::Police(_) => {
            if let Some(d) = &def.area {
                if !db.districts().await?.iter().any(|x| &x.code == d) {
                    return refuse(format!("\"{d}\" is not a district of the areas loaded"));
                }
            }
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_figure_is_publishable_only_when_every_part_is() {
        let r = Restriction {
            dataset: None,
            label: "referral",
            parts: vec![("2025Q3".into(), vec![12.0, 0.0, 7.0]), ("2025Q4".into(), vec![12.0, 3.0])],
        };
        assert!(r.publishable("2025Q3", 5));
        assert!(!r.publishable("2025Q4", 5), "3 is below 5, so the service next to it is withheld too");
        assert!(r.publishable("2026Q1", 5), "no parts: nothing to protect");
        assert!(!r.publishable("2025Q3", 10));
        assert_eq!(r.level(|_| AccessLevel::Record), AccessLevel::Aggregate, "no one holds referrals at record level");
    }

    #[test]
    fn periods_are_quarters_or_months_oldest_first() {
        let q: Quarter = "2025Q3".parse().expect("quarter");
        let quarters: Vec<String> = periods(Frequency::Quarterly, q, 4).into_iter().map(|p| p.0).collect();
        assert_eq!(quarters, ["2024Q4", "2025Q1", "2025Q2", "2025Q3"]);
        let months: Vec<String> = periods(Frequency::Monthly, q, 3).into_iter().map(|p| p.0).collect();
        assert_eq!(months, ["2025-07", "2025-08", "2025-09"]);
    }
}
