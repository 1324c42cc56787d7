//! The ED assaults page (`/partner-data/ed-assaults`): counts by month, district, assault
//! method, age band and sex, and hour of day and day of week, and, for record-level access
//! only, the assaults themselves a page at a time. The caller's access level is decided by
//! `auth::access` before anything here runs; this module only shapes what that level allows.

use std::collections::BTreeSet;

use alliance_app::ed_release::{self, EdRelease, PublishedList, PublishedTable};
use alliance_app::Disclosure;
use alliance_core::access::AccessLevel;
use alliance_core::analytics::sna::definition::Definition;
use alliance_core::analytics::suppression::SuppressedTable;
use alliance_core::domain::{Month, MonthRange};
use alliance_db::partner::ed::{EdAssaultRow, EdFact};
use alliance_ingest::ed::codes::{label, AGE_BANDS, ASSAULT_METHODS, LOCATION_TYPES, SEXES};
use askama::Template;
use chrono::{Datelike, NaiveDateTime, Timelike};

use super::figures::FigureTable;
use super::Layout;

/// Assaults listed per page at record level.
pub const PAGE_SIZE: i64 = 50;

/// The slugs of the ED tables (their CSV downloads are `<slug>.csv`).
pub const TABLES: [&str; 5] = ["by-month", "by-district", "by-method", "by-age-and-sex", "by-hour-and-day"];

const NOT_KNOWN: &str = "Not known";
const DAYS: [&str; 7] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

/// The assaults a reader at `level` may see counted: all of them at record level; below it,
/// those of one calendar quarter only (the latest quarter with data that is released: one
/// cell of the fixed partition of `alliance_app::disclosure`, so the page's tables and the
/// SNA's are over the same non-overlapping periods and cannot be subtracted from each other).
/// Returns the facts and, below record level, the quarter (`None` when there are no facts).
pub fn published_facts(facts: Vec<EdFact>, level: AccessLevel) -> (Vec<EdFact>, Option<MonthRange>) {
    if level == AccessLevel::Record {
        return (facts, None);
    }
    let months: Vec<Month> = facts.iter().filter_map(|f| f.assault_month.parse::<Month>().ok()).collect();
    let span = match (months.iter().min(), months.iter().max()) {
        (Some(first), Some(last)) => MonthRange::new(*first, alliance_app::disclosure::quarter_of(*last).to),
        _ => None,
    };
    match span.and_then(|s| alliance_app::disclosure::published_period(level, s)) {
        Some(q) => {
            let kept =
                facts.into_iter().filter(|f| f.assault_month.parse::<Month>().is_ok_and(|m| q.contains(m))).collect();
            (kept, Some(q))
        }
        None => (Vec::new(), None),
    }
}

/// The tables of a quarter below record level: from the quarter's release, where they are
/// suppressed together with each other and with the SNA's (`alliance_app::ed_release`).
pub fn released_tables(release: &EdRelease, disclosure: &Disclosure) -> Vec<FigureTable> {
    let threshold = disclosure.threshold();
    let list = |slug, caption: &str, header: &str, l: &PublishedList| {
        let table = SuppressedTable {
            cells: l.counts.iter().map(|c| vec![*c]).collect(),
            row_totals: l.counts.clone(),
            column_totals: vec![l.total],
            total: l.total,
        };
        FigureTable::published(slug, caption, header, l.labels.clone(), vec!["Assaults".into()], &table, threshold)
    };
    let grid = |slug, caption: &str, header: &str, g: &PublishedTable| {
        FigureTable::published(slug, caption, header, g.rows.clone(), g.columns.clone(), &g.table, threshold)
    };
    vec![
        list("by-month", "ED assaults by month", "Month", &release.by_month),
        list("by-district", "ED assaults by district of the assault's location", "District", &release.by_district),
        list("by-method", "ED assaults by assault method", "Assault method", &release.by_method),
        grid("by-age-and-sex", "ED assaults by age band and sex", "Age band", &release.by_age_and_sex),
        grid("by-hour-and-day", "ED assaults by hour of day and day of week", "Hour", &release.by_hour_and_day),
    ]
}

/// The page's tables for a reader at `level`: exact at record level; below it, the release
/// of `quarter` (the facts being that quarter's), or none without a quarter.
pub fn tables_for(
    facts: &[EdFact],
    quarter: Option<MonthRange>,
    definition: &Definition,
    disclosure: &Disclosure,
    level: AccessLevel,
) -> Vec<FigureTable> {
    match (level, quarter) {
        (AccessLevel::Record, _) => tables(facts, disclosure, level),
        (_, Some(q)) => {
            released_tables(&ed_release::release(facts, q, definition, &disclosure.suppression()), disclosure)
        }
        (_, None) => tables(&[], disclosure, level),
    }
}

/// The aggregate tables of ED assaults as a reader at `level` may see them, each table on
/// its own (exact at record level; [`tables_for`] gives readers below record level the
/// quarter's linked release instead).
pub fn tables(facts: &[EdFact], disclosure: &Disclosure, level: AccessLevel) -> Vec<FigureTable> {
    let one = |slug, caption: &str, header: &str, keys: Vec<String>, key: &dyn Fn(&EdFact) -> String| {
        let counts: Vec<Vec<u64>> =
            keys.iter().map(|k| vec![facts.iter().filter(|f| key(f) == *k).count() as u64]).collect();
        FigureTable::new(slug, caption, header, keys, vec!["Assaults".into()], &counts, disclosure, level)
    };
    let distinct = |key: &dyn Fn(&EdFact) -> String| -> Vec<String> {
        let mut keys: Vec<String> = facts.iter().map(key).collect::<BTreeSet<_>>().into_iter().collect();
        // "Not known" last, whatever it sorts as.
        if let Some(i) = keys.iter().position(|k| k == NOT_KNOWN) {
            let k = keys.remove(i);
            keys.push(k);
        }
        keys
    };
    let month = |f: &EdFact| f.assault_month.clone();
    let district = |f: &EdFact| f.district_code.clone().unwrap_or_else(|| "Not placed".into());
    let method = |f: &EdFact| label(ASSAULT_METHODS, &f.method).unwrap_or(NOT_KNOWN).to_string();
    let age = |f: &EdFact| f.age_band.as_deref().and_then(|a| label(AGE_BANDS, a)).unwrap_or(NOT_KNOWN).to_string();
    let sex = |f: &EdFact| f.sex.as_deref().and_then(|s| label(SEXES, s)).unwrap_or(NOT_KNOWN).to_string();

    let methods: Vec<String> =
        ASSAULT_METHODS.iter().map(|(_, l)| l.to_string()).filter(|l| facts.iter().any(|f| method(f) == *l)).collect();
    let ages = in_list_order(AGE_BANDS, facts, &age);
    let sexes = in_list_order(SEXES, facts, &sex);
    let age_sex: Vec<Vec<u64>> = ages
        .iter()
        .map(|a| sexes.iter().map(|s| facts.iter().filter(|f| age(f) == *a && sex(f) == *s).count() as u64).collect())
        .collect();

    let mut hour_day = vec![vec![0u64; 7]; 24];
    for f in facts {
        if let Ok(t) = NaiveDateTime::parse_from_str(&f.assault_at, "%Y-%m-%dT%H:%M:%S") {
            hour_day[t.hour() as usize][t.weekday().num_days_from_monday() as usize] += 1;
        }
    }
    let hours: Vec<String> = (0..24).map(|h| format!("{h:02}:00 to {h:02}:59")).collect();

    vec![
        one("by-month", "ED assaults by month", "Month", distinct(&month), &month),
        one(
            "by-district",
            "ED assaults by district of the assault's location",
            "District",
            distinct(&district),
            &district,
        ),
        one("by-method", "ED assaults by assault method", "Assault method", methods, &method),
        FigureTable::new(
            "by-age-and-sex",
            "ED assaults by age band and sex",
            "Age band",
            ages,
            sexes,
            &age_sex,
            disclosure,
            level,
        ),
        FigureTable::new(
            "by-hour-and-day",
            "ED assaults by hour of day and day of week",
            "Hour",
            hours,
            DAYS.iter().map(|d| d.to_string()).collect(),
            &hour_day,
            disclosure,
            level,
        ),
    ]
}

/// The labels of a code list that occur in the facts, in the list's order, then "Not known".
fn in_list_order(list: &[(&str, &str)], facts: &[EdFact], key: &dyn Fn(&EdFact) -> String) -> Vec<String> {
    let mut out: Vec<String> =
        list.iter().map(|(_, l)| l.to_string()).filter(|l| facts.iter().any(|f| key(f) == *l)).collect();
    if facts.iter().any(|f| key(f) == NOT_KNOWN) && !out.iter().any(|l| l == NOT_KNOWN) {
        out.push(NOT_KNOWN.into());
    }
    out
}

/// One assault as the record list shows it (labels instead of codes).
pub struct RecordRow {
    pub assault_at: String,
    pub site_code: String,
    pub method: String,
    pub location_type: String,
    pub location_description: String,
    pub place: String,
    pub age_band: String,
    pub sex: String,
}

impl From<&EdAssaultRow> for RecordRow {
    fn from(r: &EdAssaultRow) -> RecordRow {
        let method = label(ASSAULT_METHODS, &r.method).unwrap_or(&r.method).to_string();
        RecordRow {
            assault_at: alliance_core::format::local_time(&r.assault_at),
            site_code: r.site_code.clone(),
            method: match &r.method_other {
                Some(other) if !other.is_empty() => format!("{method}: {other}"),
                _ => method,
            },
            location_type: label(LOCATION_TYPES, &r.location_type).unwrap_or(&r.location_type).to_string(),
            location_description: r.location_description.clone().unwrap_or_default(),
            place: match (&r.geo_name, &r.district_code) {
                (Some(n), Some(d)) => format!("{n} ({d})"),
                (Some(n), None) => n.clone(),
                _ => format!("not placed ({})", r.geo_status),
            },
            age_band: r.age_band.clone().unwrap_or_default(),
            sex: r.sex.as_deref().and_then(|s| label(SEXES, s)).unwrap_or("").to_string(),
        }
    }
}

/// The assaults as CSV (record level only), through `alliance_reports::csv`: free text a
/// partner typed reaches a spreadsheet with its formulas neutralised.
pub fn records_csv(rows: &[EdAssaultRow]) -> String {
    let header = [
        "assault_at",
        "arrival_at",
        "site_code",
        "method",
        "method_other",
        "location_type",
        "location_description",
        "age_band",
        "sex",
        "geo_status",
        "place",
        "district_code",
    ];
    let lines = rows.iter().map(|r| {
        [
            r.assault_at.clone(),
            r.arrival_at.clone().unwrap_or_default(),
            r.site_code.clone(),
            r.method.clone(),
            r.method_other.clone().unwrap_or_default(),
            r.location_type.clone(),
            r.location_description.clone().unwrap_or_default(),
            r.age_band.clone().unwrap_or_default(),
            r.sex.clone().unwrap_or_default(),
            r.geo_status.clone(),
            r.geo_name.clone().unwrap_or_default(),
            r.district_code.clone().unwrap_or_default(),
        ]
    });
    alliance_reports::csv::to_string(&header, lines)
}

/// Paging of the record list.
pub struct Paging {
    pub page: i64,
    pub pages: i64,
    pub total: i64,
}

#[derive(Template)]
#[template(path = "partner_data_ed.html")]
pub struct EdAssaultsPage {
    pub layout: Layout,
    /// "aggregate" or "record".
    pub level: String,
    pub threshold: u64,
    pub suppressed: bool,
    /// The number of assaults as published ("fewer than 5" when small at aggregate level).
    pub total_assaults: String,
    pub tables: Vec<FigureTable>,
    /// Below record level: the one calendar quarter the tables cover (`published_facts`),
    /// as "2025-01 to 2025-03"; empty at record level.
    pub quarter: String,
    /// Record level only.
    pub records: Option<(Vec<RecordRow>, Paging)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn five() -> Disclosure {
        Disclosure::new(5).expect("a valid threshold")
    }

    fn fact(at: &str, method: &str, district: Option<&str>) -> EdFact {
        EdFact {
            assault_at: at.into(),
            assault_month: at[..7].into(),
            method: method.into(),
            district_code: district.map(String::from),
            age_band: Some("18-24".into()),
            sex: Some("1".into()),
        }
    }

    #[test]
    fn tables_count_each_assault_once_per_table() {
        let mut facts: Vec<EdFact> = (0..12).map(|_| fact("2025-01-06T23:10:00", "01", Some("E06000021"))).collect();
        facts.push(fact("2025-02-07T01:00:00", "06", None));
        let t = tables(&facts, &five(), AccessLevel::Record);
        assert_eq!(t.len(), TABLES.len());
        for (table, slug) in t.iter().zip(TABLES) {
            assert_eq!(table.slug, slug);
            assert_eq!(table.total, "13", "{slug}");
        }
        // 2025-01-06 is a Monday, 23:00.
        assert_eq!(t[4].rows[23].cells[0], "12");
        assert_eq!(t[4].rows[1].cells[4], "1");
    }

    #[test]
    fn aggregate_tables_hide_the_single_assault() {
        let mut facts: Vec<EdFact> = (0..12).map(|_| fact("2025-01-06T23:10:00", "01", Some("E06000021"))).collect();
        facts.push(fact("2025-02-07T01:00:00", "06", None));
        let t = tables(&facts, &five(), AccessLevel::Aggregate);
        let by_month = &t[0];
        assert_eq!(by_month.rows[1].cells[0], "fewer than 5");
        // Its complement is withheld so the one cannot be worked out from the total.
        assert_eq!(by_month.rows[0].cells[0], "withheld");
        assert!(t.iter().all(|table| table.csv().lines().all(|l| !l.ends_with(",1"))));
        // Under a threshold of 13 even the twelve are hidden.
        let t = tables(&facts, &Disclosure::new(13).expect("valid"), AccessLevel::Aggregate);
        assert_eq!(t[0].rows[0].cells[0], "fewer than 13");
    }
}
