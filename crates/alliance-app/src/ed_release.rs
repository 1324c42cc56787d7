//! The emergency department (ED) figures of one calendar quarter as published below record
//! level: every ED table Alliance offers for that quarter (the SNA's hours, days, age band by
//! sex and assault methods by serious violence group; the partner data page's months,
//! districts, methods, age band by sex and hour by day) built from the same assaults and
//! suppressed **together** as linked tables (`alliance_core::analytics::suppression::Linked`).
//!
//! The tables share figures: the grand total; the hours, which are the SNA's list and the
//! margin of the page's hour-by-day table; the days likewise; the age-by-sex table, which both
//! publish. Suppressed one by one, a count hidden in one table could be read off another (an
//! hour hidden in the SNA's list but shown as a row total of the page's table). Here each
//! shared figure is one figure of one pool, hidden everywhere or nowhere, and every table's
//! lines and grids reach one fixed point; the pool is the same whichever page asks (it is
//! always built from all of the quarter's tables), so its pattern is deterministic.
//!
//! Record-level readers do not go through here: they get exact figures for any period.

use alliance_core::analytics::sna::definition::Definition;
use alliance_core::analytics::sna::ed::{
    method_slots, methods_as_published, weekday_and_hour, EdMethods, EdPeople, EdTimes,
};
use alliance_core::analytics::sna::times::time_profile;
use alliance_core::analytics::suppression::{Linked, ListFigures, Shown, SuppressedTable, Suppression};
use alliance_core::domain::MonthRange;
use alliance_db::partner::ed::EdFact;
use alliance_ingest::ed::codes::{label, AGE_BANDS, ASSAULT_METHODS, SEXES};

/// The label the page gives a blank or unlisted code.
pub const NOT_RECORDED: &str = "Not recorded";

/// The key of the grand total, shared by every table of the quarter.
const TOTAL: &str = "total";

/// One list of the partner data page as published: labels, figures and the total.
#[derive(Debug, Clone, PartialEq)]
pub struct PublishedList {
    pub labels: Vec<String>,
    pub counts: Vec<Shown>,
    pub total: Shown,
}

/// One two-way table as published, with its row and column labels.
#[derive(Debug, Clone, PartialEq)]
pub struct PublishedTable {
    pub rows: Vec<String>,
    pub columns: Vec<String>,
    pub table: SuppressedTable,
}

/// Every ED table of one quarter, suppressed together.
#[derive(Debug, Clone)]
pub struct EdRelease {
    pub quarter: MonthRange,
    /// The grand total of assaults in the quarter, as published.
    pub total: Shown,
    // The SNA's sections.
    pub times: EdTimes,
    pub people: EdPeople,
    pub methods: EdMethods,
    // The partner data page's tables.
    pub by_month: PublishedList,
    pub by_district: PublishedList,
    pub by_method: PublishedList,
    pub by_age_and_sex: PublishedTable,
    /// Rows are hours 0–23, columns days Monday first.
    pub by_hour_and_day: PublishedTable,
}

/// Codes of `list` present in `values` in the list's order, then `None` when any value is
/// blank or not on the list.
fn codes_present(list: &[(&'static str, &'static str)], values: &[Option<&str>]) -> Vec<Option<&'static str>> {
    let mut keys: Vec<Option<&'static str>> =
        list.iter().filter(|(c, _)| values.contains(&Some(*c))).map(|(c, _)| Some(*c)).collect();
    if values.iter().any(|v| v.is_none_or(|v| label(list, v).is_none())) {
        keys.push(None);
    }
    keys
}

/// A code as a row or column of the release (`None`: blank or not on the list).
fn code_of(list: &[(&'static str, &'static str)], value: Option<&str>) -> Option<&'static str> {
    value.and_then(|v| list.iter().find(|(c, _)| *c == v).map(|(c, _)| *c))
}

/// Builds and suppresses every ED table of `quarter` from its assaults (`facts`: the
/// current imports' assaults of that quarter, over the whole partnership area).
pub fn release(facts: &[EdFact], quarter: MonthRange, definition: &Definition, rule: &Suppression) -> EdRelease {
    let mut pool = Linked::new();
    let total = facts.len() as u64;

    // Months and districts (the page's lists).
    let mut months: Vec<String> = facts.iter().map(|f| f.assault_month.clone()).collect();
    months.sort();
    months.dedup();
    let month_counts: Vec<u64> =
        months.iter().map(|m| facts.iter().filter(|f| f.assault_month == *m).count() as u64).collect();
    let month_list = pool.list(&keyed("month", &months), TOTAL, &month_counts);

    let mut districts: Vec<Option<String>> = facts.iter().map(|f| f.district_code.clone()).collect();
    districts.sort_by(|a, b| (a.is_none(), a).cmp(&(b.is_none(), b)));
    districts.dedup();
    let district_counts: Vec<u64> =
        districts.iter().map(|d| facts.iter().filter(|f| f.district_code == *d).count() as u64).collect();
    let district_names: Vec<String> =
        districts.iter().map(|d| d.clone().unwrap_or_else(|| "Not placed".to_string())).collect();
    let district_list = pool.list(&keyed("district", &district_names), TOTAL, &district_counts);

    // Methods: by code within serious violence groups (the SNA), and by label (the page), where
    // codes not on the list are counted together as "not recorded" (one line joins them).
    let mut codes: Vec<String> = facts.iter().map(|f| f.method.clone()).collect();
    codes.sort();
    codes.dedup();
    let code_rows: Vec<(String, i64)> =
        codes.iter().map(|c| (c.clone(), facts.iter().filter(|f| f.method == *c).count() as i64)).collect();
    let slots = method_slots(definition, &code_rows);
    let slot_keys: Vec<Vec<String>> =
        slots.iter().map(|s| s.1.iter().map(|m| format!("method {}", m.0)).collect()).collect();
    let group_keys: Vec<String> =
        slots.iter().map(|s| format!("group {}", s.0.map_or("not mapped", |g| g.label()))).collect();
    let slot_counts: Vec<Vec<u64>> = slots.iter().map(|s| s.1.iter().map(|m| m.2).collect()).collect();
    let groups = pool.grouped(&slot_keys, &group_keys, TOTAL, &slot_counts);
    let listed: Vec<&(&str, &str)> = ASSAULT_METHODS.iter().filter(|(c, _)| codes.iter().any(|x| x == c)).collect();
    let unlisted: Vec<&(String, i64)> = code_rows.iter().filter(|(c, _)| label(ASSAULT_METHODS, c).is_none()).collect();
    let mut method_keys: Vec<String> = listed.iter().map(|(c, _)| format!("method {c}")).collect();
    let mut method_counts: Vec<u64> =
        listed.iter().map(|(c, _)| code_rows.iter().find(|r| r.0 == *c).map_or(0, |r| r.1.max(0) as u64)).collect();
    let mut method_labels: Vec<String> = listed.iter().map(|(_, l)| l.to_string()).collect();
    if !unlisted.is_empty() {
        let members: Vec<usize> =
            unlisted.iter().map(|(c, n)| pool.figure(&format!("method {c}"), (*n).max(0) as u64)).collect();
        let sum = unlisted.iter().map(|(_, n)| (*n).max(0) as u64).sum();
        let together = pool.figure("methods not recorded", sum);
        pool.line(&members, together);
        method_keys.push("methods not recorded".to_string());
        method_counts.push(sum);
        method_labels.push(NOT_RECORDED.to_string());
    }
    let method_list = pool.list(&method_keys, TOTAL, &method_counts);

    // Age band by sex (both).
    let ages = codes_present(AGE_BANDS, &facts.iter().map(|f| f.age_band.as_deref()).collect::<Vec<_>>());
    let sexes = codes_present(SEXES, &facts.iter().map(|f| f.sex.as_deref()).collect::<Vec<_>>());
    let age_sex: Vec<Vec<u64>> = ages
        .iter()
        .map(|a| {
            sexes
                .iter()
                .map(|s| {
                    facts
                        .iter()
                        .filter(|f| code_of(AGE_BANDS, f.age_band.as_deref()) == *a)
                        .filter(|f| code_of(SEXES, f.sex.as_deref()) == *s)
                        .count() as u64
                })
                .collect()
        })
        .collect();
    let code_key = |prefix: &str, c: &Option<&str>| format!("{prefix} {}", c.unwrap_or("not recorded"));
    let age_keys: Vec<String> = ages.iter().map(|a| code_key("age", a)).collect();
    let sex_keys: Vec<String> = sexes.iter().map(|s| code_key("sex", s)).collect();
    let people = pool.table("age by sex", &age_keys, &sex_keys, TOTAL, &age_sex);

    // Hour by day (the page's table; its margins are the SNA's hours and days).
    let mut cells = Vec::new();
    let mut untimed = 0u64;
    for f in facts {
        match weekday_and_hour(&f.assault_at) {
            Some((d, h)) => cells.push((d, h, 1)),
            None => untimed += 1,
        }
    }
    let profile = time_profile(&cells);
    let hour_day: Vec<Vec<u64>> = (0..24).map(|h| (0..7).map(|d| profile.grid[d][h].max(0) as u64).collect()).collect();
    // Assaults with no readable time (none from a validated import) make the table's total
    // smaller than the quarter's: the two are linked by one more line.
    let timed_total = if untimed == 0 { TOTAL } else { "total with a time" };
    let hour_keys: Vec<String> = (0..24).map(|h| format!("hour {h}")).collect();
    let day_keys: Vec<String> = (0..7).map(|d| format!("day {d}")).collect();
    let times = pool.table("hour by day", &hour_keys, &day_keys, timed_total, &hour_day);
    if untimed > 0 {
        let timed = pool.figure(timed_total, total - untimed);
        let rest = pool.figure("time not recorded", untimed);
        let all = pool.figure(TOTAL, total);
        pool.line(&[timed, rest], all);
    }

    let released = pool.suppress(rule);
    let time_table = released.table(&times);
    let total_shown = released.figure(pool.figure(TOTAL, total));
    let list = |l: &ListFigures, labels: Vec<String>| {
        let (counts, total) = released.list(l);
        PublishedList { labels, counts, total }
    };
    let age_labels: Vec<String> =
        ages.iter().map(|a| a.and_then(|c| label(AGE_BANDS, c)).unwrap_or(NOT_RECORDED).to_string()).collect();
    let sex_labels: Vec<String> =
        sexes.iter().map(|s| s.and_then(|c| label(SEXES, c)).unwrap_or(NOT_RECORDED).to_string()).collect();
    let people_table = released.table(&people);
    EdRelease {
        quarter,
        total: total_shown,
        times: EdTimes {
            profile,
            by_hour: time_table.row_totals.clone(),
            by_day: time_table.column_totals.clone(),
            total: time_table.total,
            unreadable: untimed as i64,
        },
        people: EdPeople {
            age_bands: ages.iter().map(|a| a.map(str::to_string)).collect(),
            sexes: sexes.iter().map(|s| s.map(str::to_string)).collect(),
            table: people_table.clone(),
            recorded: facts.iter().any(|f| f.age_band.is_some() || f.sex.is_some()),
        },
        methods: methods_as_published(slots, released.grouped(&groups), definition.version),
        by_month: list(&month_list, months),
        by_district: list(&district_list, district_names),
        by_method: list(&method_list, method_labels),
        by_age_and_sex: PublishedTable { rows: age_labels, columns: sex_labels, table: people_table },
        by_hour_and_day: PublishedTable {
            rows: (0..24).map(|h| format!("{h:02}:00 to {h:02}:59")).collect(),
            columns: ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
                .map(str::to_string)
                .to_vec(),
            table: time_table,
        },
    }
}

fn keyed(prefix: &str, names: &[String]) -> Vec<String> {
    names.iter().map(|n| format!("{prefix} {n}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alliance_core::analytics::sna::definition::default_definition;

    fn fact(at: &str, method: &str, district: Option<&str>, age: Option<&str>, sex: Option<&str>) -> EdFact {
        EdFact {
            assault_at: at.to_string(),
            assault_month: at[..7].to_string(),
            method: method.to_string(),
            district_code: district.map(str::to_string),
            age_band: age.map(str::to_string),
            sex: sex.map(str::to_string),
        }
    }

    /// A quarter of assaults: many on Saturday nights, a few at odd hours.
    fn quarter_of_assaults() -> Vec<EdFact> {
        let mut facts = Vec::new();
        for i in 0..40 {
            let day = ["2025-01-04", "2025-01-11", "2025-02-01", "2025-03-08"][i % 4];
            let sex = if i % 3 == 0 { "2" } else { "1" };
            facts.push(fact(&format!("{day}T23:10:00"), "01", Some("E06000021"), Some("18-24"), Some(sex)));
        }
        for i in 0..12 {
            facts.push(fact("2025-02-14T22:00:00", "06", Some("E06000021"), Some("25-34"), Some(["1", "2"][i % 2])));
        }
        facts.push(fact("2025-03-03T04:00:00", "06", None, Some("45-54"), Some("1")));
        facts.push(fact("2025-03-04T05:00:00", "77", Some("E06000022"), None, None));
        facts.push(fact("2025-01-07T13:00:00", "01", Some("E06000022"), Some("65+"), Some("2")));
        facts
    }

    fn quarter() -> MonthRange {
        MonthRange::new("2025-01".parse().expect("month"), "2025-03".parse().expect("month")).expect("range")
    }

    /// Every figure published twice (a margin here, a list there) has one state; nothing
    /// from 1 to 4 is shown anywhere; and the whole release is the same when built again.
    #[test]
    fn shared_figures_agree_across_the_sna_and_the_page() {
        let facts = quarter_of_assaults();
        let rule = Suppression::new(5);
        let r = release(&facts, quarter(), &default_definition(), &rule);
        assert_eq!(r.times.by_hour, r.by_hour_and_day.table.row_totals);
        assert_eq!(r.times.by_day, r.by_hour_and_day.table.column_totals);
        assert_eq!(r.people.table, r.by_age_and_sex.table);
        assert_eq!(r.total, shown(55));
        for total in [r.times.total, r.methods.total, r.by_month.total, r.by_district.total, r.by_method.total] {
            assert_eq!(total, r.total);
        }
        // Hour 4 and 5 (one assault each) are hidden in the SNA's list and in the page's margin.
        assert!(r.times.by_hour[4].is_hidden() && r.by_hour_and_day.table.row_totals[4].is_hidden());
        // A method code has one state on the SNA and on the page; "77" (one assault) is not on
        // the list and shows as "Not recorded".
        let sna_06 = r.methods.groups.iter().flat_map(|g| &g.methods).find(|m| m.code == "06").map(|m| m.count);
        let page_06 = r.by_method.labels.iter().position(|l| l.starts_with("Knife"));
        assert_eq!(sna_06, page_06.map(|i| r.by_method.counts[i]));
        assert!(sna_06.is_some());
        assert_eq!(r.by_method.labels.last().map(String::as_str), Some(NOT_RECORDED));
        let all = published(&r);
        assert!(all.iter().all(|s| s.value().is_none_or(|v| v == 0 || v >= 5)), "{all:?}");
        let again = release(&facts, quarter(), &default_definition(), &rule);
        assert_eq!(published(&again), all, "deterministic");
    }

    fn shown(n: u64) -> Shown {
        Shown::Value(n)
    }

    fn published(r: &EdRelease) -> Vec<Shown> {
        let mut out = vec![r.total];
        out.extend(&r.times.by_hour);
        out.extend(&r.times.by_day);
        for t in [&r.by_age_and_sex.table, &r.by_hour_and_day.table] {
            out.extend(t.cells.iter().flatten());
            out.extend(&t.row_totals);
            out.extend(&t.column_totals);
            out.push(t.total);
        }
        for l in [&r.by_month, &r.by_district, &r.by_method] {
            out.extend(&l.counts);
            out.push(l.total);
        }
        for g in &r.methods.groups {
            out.push(g.subtotal);
            out.extend(g.methods.iter().map(|m| m.count));
        }
        out
    }
}
