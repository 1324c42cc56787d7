//! The home dashboard: the last 12 months against the 12 before, the monthly trend, and
//! tables by district and crime type, with how fresh the data is and where it came from.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use alliance_app::counts::{self, Scope};
use alliance_core::analytics::comparison::{compare_with_previous, PeriodComparison};
use alliance_core::analytics::sna::places::rate_per_1000;
use alliance_core::domain::police::ANTI_SOCIAL_BEHAVIOUR;
use alliance_core::domain::{CountField, CountFilter, DistrictCode, Month, MonthRange};
use askama::Template;

use super::format;
use super::Layout;
use crate::{AppState, PageError};
use alliance_reports::chart::{line_chart, Series, COLOURS};

/// A group of crime types shown as one headline.
struct Group {
    name: &'static str,
    includes: fn(&str) -> bool,
}

const ALL_CRIME: &str = "All crime (excluding anti-social behaviour)";

const HEADLINES: [Group; 4] = [
    Group { name: ALL_CRIME, includes: |t| t != ANTI_SOCIAL_BEHAVIOUR },
    Group { name: "Violence and sexual offences", includes: |t| t == "Violence and sexual offences" },
    Group { name: "Robbery", includes: |t| t == "Robbery" },
    Group { name: "Possession of weapons", includes: |t| t == "Possession of weapons" },
];

/// One headline figure, ready to print.
pub struct Headline {
    pub name: &'static str,
    pub current: String,
    pub current_period: String,
    /// "up 4.1% on the 12 months before (9,120)" or why there is no comparison.
    pub comparison: String,
}

/// One row of a table comparing two periods.
pub struct ComparisonRow {
    pub name: String,
    pub current: String,
    pub previous: String,
    pub change: String,
}

/// One row of the district table.
pub struct DistrictRow {
    pub name: String,
    pub code: String,
    pub all_crime: String,
    pub violence: String,
    pub population: String,
    pub rate: String,
}

/// The monthly trend, as a chart and a table.
pub struct Trend {
    pub svg: String,
    pub series_names: Vec<(String, &'static str)>,
    pub rows: Vec<(String, Vec<String>)>,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
pub struct DashboardPage {
    pub layout: Layout,
    pub figures: Arc<DashboardFigures>,
    pub last_import: String,
    pub imports: Vec<crate::views::imports::ImportRow>,
    /// What to say when the latest police month held is older than data.police.uk's usual
    /// delay (empty: it is recent). Worked out per request: the figures are kept, the date moves.
    pub stale_note: String,
}

/// data.police.uk publishes a month about two months after it ends, so in a given month the
/// latest month published is at most this many months before it.
const PUBLICATION_DELAY_MONTHS: i64 = 3;

/// The warning for police data whose latest month is `latest`, seen on `today`: empty while
/// newer months could not have been published yet. A Board member reading "the 12 months to
/// 2025-12" in December 2026 should know the figures are a year old, not current.
pub fn stale_note(latest: Month, today: chrono::NaiveDate) -> String {
    use chrono::Datelike;
    let Some(now) = Month::new(today.year(), today.month()) else { return String::new() };
    let behind = latest.months_until(now);
    if behind <= PUBLICATION_DELAY_MONTHS {
        return String::new();
    }
    format!(
        "The latest police data held is for {latest}, {behind} months before this month: data.police.uk will have \
         published newer months since. An administrator can import them on the imports page (or with alliance \
         import police FOLDER)."
    )
}

/// What the dashboard shows of the stored data: the same for every reader, so kept until the
/// data changes (`AppState::dashboard`). On 20 million records computing it took 94–119 ms,
/// and the signed-in dashboard served about 11 requests a second at 20 connections.
pub struct DashboardFigures {
    pub has_data: bool,
    /// What to say of the profile's districts that no stored LSOA lies in (empty: none). Their
    /// records cannot be placed, so the area's figures leave them out until their area files
    /// are in (or, when no district is held, the figures count every record).
    pub unplaced_note: String,
    /// What to say when none of the police files held is of the profile's force(s) (empty:
    /// at least one is): `alliance_app::forces::ForceCoverage::note`.
    pub force_note: String,
    pub latest_month: String,
    pub current_period: String,
    pub current_months_covered: i64,
    pub headlines: Vec<Headline>,
    pub trend: Option<Trend>,
    pub districts: Vec<DistrictRow>,
    pub population_note: String,
    pub crime_types: Vec<ComparisonRow>,
    pub records: String,
    /// What the violence headline counts, against the count in the partnership's area that
    /// computed indicators, the Board pack and the SNA's place figures use (issue 16: a figure
    /// on two pages is the same number, or says why it differs).
    pub violence_note: String,
    /// The violence and sexual offences recorded in the partnership's area over the 12 months.
    pub violence_in_area: String,
}

/// The crime type of the violence headline.
const VIOLENCE: &str = "Violence and sexual offences";

/// Sums the monthly counts of the crime types a group includes.
fn monthly_for(by_month_type: &[(Month, String, i64)], includes: fn(&str) -> bool) -> Vec<(Month, i64)> {
    let mut sums: BTreeMap<Month, i64> = BTreeMap::new();
    for (m, t, n) in by_month_type {
        if includes(t) {
            *sums.entry(*m).or_default() += n;
        }
    }
    sums.into_iter().collect()
}

fn comparison_text(c: &PeriodComparison) -> String {
    match (c.previous, c.change_percent()) {
        (Some(prev), Some(pct)) => format!("{} on the 12 months before ({})", format::change(pct), format::count(prev)),
        (Some(prev), None) => {
            format!("{} in the 12 months before: no percentage change from zero", format::count(prev))
        }
        (None, _) => format!("No data for the 12 months before ({}), so no comparison", c.previous_period),
    }
}

impl DashboardPage {
    pub async fn load(state: &AppState, who: &crate::auth::Principal) -> Result<DashboardPage, PageError> {
        // Restricted datasets' imports at the caller's level only (views::imports::visible).
        let imports = crate::views::imports::visible(state, who, state.db.imports(8).await?).await?;
        let last_import =
            imports.first().map(|i| format::stamp_time(&i.record.imported_at)).unwrap_or_else(|| "never".into());
        let figures = state.dashboard.get(&state.db, || DashboardFigures::load(state)).await?;
        let stale_note = match figures.latest_month.parse::<Month>() {
            Ok(latest) if figures.has_data => stale_note(latest, alliance_db::clock::today_date()),
            _ => String::new(),
        };
        Ok(DashboardPage { layout: Layout::new(state, "/"), figures, last_import, imports, stale_note })
    }
}

impl DashboardFigures {
    async fn load(state: &AppState) -> Result<DashboardFigures, PageError> {
        let db = &state.db;
        let covered = db.police_months_covered().await?;
        let Some(&latest) = covered.last() else {
            return Ok(DashboardFigures {
                has_data: false,
                unplaced_note: String::new(),
                force_note: String::new(),
                latest_month: String::new(),
                current_period: String::new(),
                current_months_covered: 0,
                headlines: Vec::new(),
                trend: None,
                districts: Vec::new(),
                population_note: String::new(),
                crime_types: Vec::new(),
                records: "0".into(),
                violence_note: String::new(),
                violence_in_area: String::new(),
            });
        };
        let current = MonthRange::ending(latest, 12);
        // The partnership's area, as the public figures, the map and the SNA count it: a
        // database holding other forces' data must not headline them as the partnership's.
        let area = counts::districts(db, Vec::new(), Scope::Partnership).await?;
        let in_area = CountFilter { districts: area.clone(), ..CountFilter::default() };
        let rows = db.counts(&[CountField::Month, CountField::CrimeType], &in_area).await?;
        let by_month_type: Vec<(Month, String, i64)> = rows
            .iter()
            .filter_map(|r| {
                let month = r.values.first()?.as_deref()?.parse().ok()?;
                Some((month, r.values.get(1)?.clone().unwrap_or_default(), r.count))
            })
            .collect();
        let records: i64 = db.counts(&[], &CountFilter::default()).await?.iter().map(|r| r.count).sum();

        let headlines = HEADLINES
            .iter()
            .map(|g| {
                let c = compare_with_previous(&monthly_for(&by_month_type, g.includes), &covered, latest, 12);
                Headline {
                    name: g.name,
                    current: format::count(c.current),
                    current_period: c.current_period.to_string(),
                    comparison: comparison_text(&c),
                }
            })
            .collect();

        let mut types: Vec<&str> = by_month_type.iter().map(|(_, t, _)| t.as_str()).collect();
        types.sort_unstable();
        types.dedup();
        let crime_types = types
            .iter()
            .map(|t| {
                let monthly: Vec<(Month, i64)> =
                    by_month_type.iter().filter(|(_, ty, _)| ty == t).map(|(m, _, n)| (*m, *n)).collect();
                let c = compare_with_previous(&monthly, &covered, latest, 12);
                ComparisonRow {
                    name: t.to_string(),
                    current: format::count(c.current),
                    previous: c.previous.map(format::count).unwrap_or_else(|| "no data".into()),
                    change: c.change_percent().map(format::change).unwrap_or_else(|| "not available".into()),
                }
            })
            .collect();

        // The same records a computed indicator of violence and sexual offences over these 12
        // months counts (alliance_app::indicators: the partnership's LSOAs).
        let headline_violence =
            compare_with_previous(&monthly_for(&by_month_type, |t| t == VIOLENCE), &covered, latest, 12).current;
        let in_area = db.police_figure_of(&[VIOLENCE.to_string()], current, None, false).await?.count;
        let trend = Some(trend(&by_month_type, &covered, latest));
        let names: HashMap<String, String> = db.districts().await?.into_iter().map(|d| (d.code, d.name)).collect();
        let months_covered = current.months().filter(|m| covered.contains(m)).count() as i64;
        let (districts, population_note, file_violence) =
            district_rows(state, current, months_covered, &area, &names).await?;
        let violence_note = if area.is_empty() {
            format!(
                "{VIOLENCE}, {current}: {} records in the police files, of which {} were recorded in the areas \
                 loaded (their LSOAs). Computed indicators, the Board pack and the SNA's place figures count those \
                 {}; the other {} have no location or lie outside the areas loaded. The hotspot map counts the \
                 located records in its grid cells, so its total differs again.",
                format::count(headline_violence),
                format::count(in_area),
                format::count(in_area),
                format::count(headline_violence - in_area),
            )
        } else {
            format!(
                "{VIOLENCE}, {current}: {} records in the partnership's area (its LSOAs), the figure computed \
                 indicators, the Board pack and the SNA's place figures count. The police files hold {} more that \
                 have no location or lie outside the area; no headline counts them. The hotspot map counts the \
                 located records in its grid cells over the area, so its total differs again.",
                format::count(in_area),
                format::count(file_violence - in_area),
            )
        };
        Ok(DashboardFigures {
            has_data: true,
            unplaced_note: unplaced_note(state, &area, &names).await?,
            force_note: alliance_app::forces::ForceCoverage::load(db).await?.note(),
            latest_month: latest.to_string(),
            current_period: current.to_string(),
            current_months_covered: months_covered,
            headlines,
            trend,
            districts,
            population_note,
            crime_types,
            records: format::count(records),
            violence_note,
            violence_in_area: format::count(in_area),
        })
    }
}

/// The warning about the profile's districts outside `area` (the held ones), named where a
/// name is stored; empty when every district is held.
async fn unplaced_note(
    state: &AppState,
    area: &[DistrictCode],
    names: &HashMap<String, String>,
) -> Result<String, PageError> {
    let Some(profile) = state.db.partnership().await? else { return Ok(String::new()) };
    let unplaced: Vec<String> = profile
        .districts
        .iter()
        .filter(|d| !area.contains(d))
        .map(|d| match names.get(&d.to_string()) {
            Some(name) => format!("{name} ({d})"),
            None => d.to_string(),
        })
        .collect();
    Ok(match (unplaced.is_empty(), area.is_empty()) {
        (true, _) => String::new(),
        (false, true) => format!(
            "No area data is held for any of the partnership's districts ({}), so these figures count every \
             record held, wherever it lies. An administrator can import their LSOA files (the deprivation or \
             boundary files) on the imports page.",
            unplaced.join(", ")
        ),
        (false, false) => format!(
            "No area data is held for {}, so their records cannot be placed in the partnership's area and no \
             figure here counts them. An administrator can import their LSOA files (the deprivation or boundary \
             files) on the imports page.",
            unplaced.join(", ")
        ),
    })
}

/// The last (up to) 36 months to the latest, with uncovered months left as gaps.
fn trend(by_month_type: &[(Month, String, i64)], covered: &[Month], latest: Month) -> Trend {
    let first = covered.first().copied().unwrap_or(latest).max(latest.plus(-35));
    let months: Vec<Month> = MonthRange { from: first, to: latest }.months().collect();
    // A line of the chart: its label and which crime types it counts.
    type CrimeGroup = (&'static str, fn(&str) -> bool);
    let groups: [CrimeGroup; 3] = [
        (ALL_CRIME, |t| t != ANTI_SOCIAL_BEHAVIOUR),
        ("Violence and sexual offences", |t| t == "Violence and sexual offences"),
        ("Anti-social behaviour", |t| t == ANTI_SOCIAL_BEHAVIOUR),
    ];
    let series: Vec<Series> = groups
        .iter()
        .enumerate()
        .map(|(i, (name, includes))| {
            let monthly: HashMap<Month, i64> = monthly_for(by_month_type, *includes).into_iter().collect();
            Series {
                name: name.to_string(),
                colour: COLOURS[i],
                values: months
                    .iter()
                    .map(|m| covered.contains(m).then(|| monthly.get(m).copied().unwrap_or(0)))
                    .collect(),
            }
        })
        .collect();
    let labels: Vec<String> = months.iter().map(|m| m.to_string()).collect();
    let svg = line_chart(
        "trend",
        "Police recorded crime and anti-social behaviour by month",
        &format!(
            "Line chart of monthly counts from {} to {}; the same figures are in the table that follows.",
            first, latest
        ),
        &labels,
        &series,
    );
    let rows = months
        .iter()
        .enumerate()
        .map(|(i, m)| {
            (
                m.to_string(),
                series.iter().map(|s| s.values[i].map(format::count).unwrap_or_else(|| "no data".into())).collect(),
            )
        })
        .collect();
    Trend { svg, series_names: series.iter().map(|s| (s.name.clone(), s.colour)).collect(), rows }
}

/// The district table over `period`, of which `months_covered` have data: the partnership's
/// districts (`area`; empty: every district), then one row for every other record; with the
/// violence and sexual offences of every row (the police files'). Rates are a year's, as the
/// SNA's (`rate_per_1000`): scaled from the months with data, so a partnership with five
/// months loaded does not read its crime as less than half of what it is.
async fn district_rows(
    state: &AppState,
    period: MonthRange,
    months_covered: i64,
    area: &[DistrictCode],
    names: &HashMap<String, String>,
) -> Result<(Vec<DistrictRow>, String, i64), PageError> {
    let db = &state.db;
    let period_only = CountFilter { from: Some(period.from), to: Some(period.to), ..CountFilter::default() };
    // The partnership's districts each get a row; records anywhere else (a national
    // deprivation file holds every district, a force's files reach over its border) and
    // records with no location share the last row. Only the area's districts are grouped:
    // on the national archive grouping every district of England and Wales took half the
    // dashboard's time (100 of 200 ms); the last row is the period's total less them.
    let in_area = CountFilter { districts: area.to_vec(), ..period_only.clone() };
    let rows = db.counts(&[CountField::District, CountField::CrimeType], &in_area).await?;
    let populations = db.district_populations().await?;
    // (all crime but anti-social behaviour, violence) of a crime type's count.
    let split = |t: &str, n: i64| (if t != ANTI_SOCIAL_BEHAVIOUR { n } else { 0 }, if t == VIOLENCE { n } else { 0 });
    let mut by_district: BTreeMap<Option<String>, (i64, i64)> = BTreeMap::new();
    // Every one of the partnership's districts has a row, one with no record too: a table
    // leaving it out reads as if the district were not in the partnership.
    for code in area {
        by_district.insert(Some(code.to_string()), (0, 0));
    }
    for r in &rows {
        let t = r.values.get(1).cloned().flatten().unwrap_or_default();
        let district =
            r.values.first().cloned().flatten().filter(|d| area.is_empty() || area.iter().any(|a| a.as_str() == d));
        let (all, violence) = split(&t, r.count);
        let entry = by_district.entry(district).or_default();
        entry.0 += all;
        entry.1 += violence;
    }
    let mut in_files = (0, 0);
    if area.is_empty() {
        // Every district was grouped (the no-location records among them).
        for (all, violence) in by_district.values() {
            in_files = (in_files.0 + all, in_files.1 + violence);
        }
    } else {
        for r in db.counts(&[CountField::CrimeType], &period_only).await? {
            let (all, violence) = split(r.values.first().cloned().flatten().as_deref().unwrap_or_default(), r.count);
            in_files = (in_files.0 + all, in_files.1 + violence);
        }
        let placed = by_district.values().fold((0, 0), |t, v| (t.0 + v.0, t.1 + v.1));
        let rest = (in_files.0 - placed.0, in_files.1 - placed.1);
        if rest != (0, 0) {
            by_district.insert(None, rest);
        }
    }
    let violence_in_files = in_files.1;
    let mut out: Vec<DistrictRow> = by_district
        .into_iter()
        .map(|(code, (all, violence))| {
            let population = code.as_ref().and_then(|c| populations.get(c)).copied();
            DistrictRow {
                name: match &code {
                    Some(c) => names.get(c).cloned().unwrap_or_else(|| c.clone()),
                    None if area.is_empty() => "No location, or outside the areas loaded".into(),
                    None => "Outside the partnership's area, or no location".into(),
                },
                code: code.clone().unwrap_or_default(),
                all_crime: format::count(all),
                violence: format::count(violence),
                population: population.map(format::count).unwrap_or_else(|| "not known".into()),
                rate: population
                    .and_then(|p| rate_per_1000(all as f64, p, months_covered))
                    .map(format::rate)
                    .unwrap_or_else(|| "not available".into()),
            }
        })
        .collect();
    out.sort_by(|a, b| (a.code.is_empty(), &a.name).cmp(&(b.code.is_empty(), &b.name)));
    let scaled = match months_covered {
        12 => "in the 12 months".to_string(),
        1 => "a year, scaled from the 1 month with data (× 12)".to_string(),
        n => format!("a year, scaled from the {n} months with data (× 12 ÷ {n})"),
    };
    let note = format!(
        "Rates are crimes (excluding anti-social behaviour) per 1,000 residents {scaled}, using the mid-2015 LSOA \
         population estimates published with the English Indices of Deprivation 2019 (Census 2011 counts for \
         Welsh LSOAs)."
    );
    Ok((out, note, violence_in_files))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn police_data_older_than_the_publication_delay_is_called_stale() {
        let day = |d: &str| d.parse::<chrono::NaiveDate>().expect("a date");
        let month = |m: &str| m.parse::<Month>().expect("a month");
        // December's data is published in February: in March it is the latest there is.
        assert_eq!(stale_note(month("2025-12"), day("2026-03-31")), "");
        let note = stale_note(month("2025-12"), day("2026-04-01"));
        assert!(note.contains("for 2025-12, 4 months before this month"), "{note}");
        let year_old = stale_note(month("2025-12"), day("2026-12-05"));
        assert!(year_old.contains("12 months before"), "{year_old}");
        assert_eq!(stale_note(month("2026-12"), day("2026-12-05")), "", "a month not yet over");
    }
}
