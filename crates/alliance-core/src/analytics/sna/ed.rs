//! The Strategic Needs Assessment's emergency department (ED) sections: when assaults happen
//! (hour of day, day of week), who is hurt (age band and sex) and how (assault method mapped
//! through the serious violence definition).
//!
//! ED data is health data, so every figure published here passes small-number suppression
//! ([`crate::analytics::suppression`]) together with the totals it is published beside:
//! a profile with its total, the age-by-sex table with its margins, the methods with their
//! group subtotals and the grand total.
//!
//! Times are the **assault** date-time the patient gave (ISTV `ASSAULT DATE/TIME`), not the
//! arrival at the department: it is the time the violence happened, which is what patrol and
//! licensing decisions need, and it is always present while arrival is optional.

use serde::Serialize;

use super::definition::{Definition, Fit, SourceKind, SvGroup};
use super::times::{time_profile, TimeProfile};
use crate::analytics::suppression::{Shown, SuppressedGroups, SuppressedTable, Suppression};

/// The hour and day-of-week profiles of assaults, as published.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EdTimes {
    /// The unsuppressed profile (for internal use only: never publish it).
    #[serde(skip)]
    pub profile: TimeProfile,
    /// Assaults by hour 0–23, suppressed with their total.
    pub by_hour: Vec<Shown>,
    /// Assaults by day, Monday first, suppressed with their total.
    pub by_day: Vec<Shown>,
    pub total: Shown,
    /// Rows whose date-time could not be read (none from a validated import).
    pub unreadable: i64,
}

/// Day of week (Monday = 0) and hour of a local date-time `YYYY-MM-DDTHH…`, or `None` when
/// the text is not one. Pure arithmetic on the civil calendar (days from 1970-01-01, a
/// Thursday, by Howard Hinnant's `days_from_civil`).
pub fn weekday_and_hour(datetime: &str) -> Option<(u32, u32)> {
    let b = datetime.as_bytes();
    if b.len() < 13 || b[4] != b'-' || b[7] != b'-' || !(b[10] == b'T' || b[10] == b' ') {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let s = datetime.get(range)?;
        if s.bytes().all(|c| c.is_ascii_digit()) {
            s.parse().ok()
        } else {
            None
        }
    };
    let (y, m, d, h) = (num(0..4)?, num(5..7)?, num(8..10)?, num(11..13)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || h > 23 {
        return None;
    }
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    // 1970-01-01 was a Thursday (Monday = 0 → 3).
    let weekday = (days + 3).rem_euclid(7) as u32;
    Some((weekday, h as u32))
}

/// Builds the published time profiles from `(date-time prefix, count)` rows (the prefix
/// `YYYY-MM-DDTHH` is enough).
pub fn ed_times(rows: &[(String, i64)], suppression: &Suppression) -> EdTimes {
    let mut cells = Vec::with_capacity(rows.len());
    let mut unreadable = 0;
    for (text, n) in rows {
        match weekday_and_hour(text) {
            Some((d, h)) => cells.push((d, h, *n)),
            None => unreadable += n,
        }
    }
    let profile = time_profile(&cells);
    let to_u = |v: i64| v.max(0) as u64;
    let hours = suppression.table(&[profile.by_hour().map(to_u).to_vec()]);
    let days = suppression.table(&[profile.by_day().map(to_u).to_vec()]);
    EdTimes {
        by_hour: hours.cells.into_iter().next().unwrap_or_default(),
        by_day: days.cells.into_iter().next().unwrap_or_default(),
        total: hours.total,
        profile,
        unreadable,
    }
}

/// Age band by sex, as published. Row and column keys are codes; `None` is "not recorded".
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EdPeople {
    pub age_bands: Vec<Option<String>>,
    pub sexes: Vec<Option<String>>,
    pub table: SuppressedTable,
    /// Whether any assault has an age band or a sex at all (else the data does not have them).
    pub recorded: bool,
}

/// Orders codes: those of `order` first, in its order, then any others sorted, then `None`.
fn ordered_keys(present: &[Option<String>], order: &[&str]) -> Vec<Option<String>> {
    let mut keys: Vec<Option<String>> = order
        .iter()
        .filter(|c| present.iter().any(|p| p.as_deref() == Some(**c)))
        .map(|c| Some(c.to_string()))
        .collect();
    let mut others: Vec<String> =
        present.iter().flatten().filter(|p| !order.contains(&p.as_str())).cloned().collect::<Vec<_>>();
    others.sort();
    others.dedup();
    keys.extend(others.into_iter().map(Some));
    if present.iter().any(Option::is_none) {
        keys.push(None);
    }
    keys
}

/// Builds the age-band-by-sex table from `(age band, sex, count)` rows. `age_order` and
/// `sex_order` are the code lists of the data standard (unknown codes follow, sorted;
/// "not recorded" comes last). Only bands and sexes that occur are shown.
pub fn ed_people(
    rows: &[(Option<String>, Option<String>, i64)],
    age_order: &[&str],
    sex_order: &[&str],
    suppression: &Suppression,
) -> EdPeople {
    let blank = |v: &Option<String>| v.as_ref().filter(|s| !s.trim().is_empty()).cloned();
    let rows: Vec<(Option<String>, Option<String>, i64)> =
        rows.iter().filter(|r| r.2 > 0).map(|(a, s, n)| (blank(a), blank(s), *n)).collect();
    let ages: Vec<Option<String>> = rows.iter().map(|r| r.0.clone()).collect();
    let sexes: Vec<Option<String>> = rows.iter().map(|r| r.1.clone()).collect();
    let age_bands = ordered_keys(&ages, age_order);
    let sexes = ordered_keys(&sexes, sex_order);
    let mut cells = vec![vec![0u64; sexes.len()]; age_bands.len()];
    for (a, s, n) in &rows {
        let i = age_bands.iter().position(|k| k == a);
        let j = sexes.iter().position(|k| k == s);
        if let (Some(i), Some(j)) = (i, j) {
            cells[i][j] += *n as u64;
        }
    }
    let recorded = rows.iter().any(|r| r.0.is_some() || r.1.is_some());
    EdPeople { table: suppression.table(&cells), age_bands, sexes, recorded }
}

/// One assault method as published.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MethodRow {
    pub code: String,
    pub fit: Option<Fit>,
    pub count: Shown,
}

/// A serious violence group's ED assaults (or the methods the definition does not map).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MethodGroup {
    /// `None`: methods the definition does not map to any group.
    pub group: Option<SvGroup>,
    pub methods: Vec<MethodRow>,
    pub subtotal: Shown,
}

/// ED assault methods mapped through the serious violence definition.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EdMethods {
    pub groups: Vec<MethodGroup>,
    pub total: Shown,
    pub definition_version: i64,
}

/// A serious violence group (`None`: methods the definition does not map) and its ED
/// assault methods `(code, fit, count)`, as [`method_slots`] orders them.
pub type MethodSlot = (Option<SvGroup>, Vec<(String, Option<Fit>, u64)>);

/// Groups `(method code, count)` rows by the definition's ED mappings: groups in the
/// definition's order of [`SvGroup::ALL`], methods by code, unmapped methods last. A method
/// mapped to more than one group counts in the first (the definition validates against
/// duplicates).
pub fn method_slots(definition: &Definition, rows: &[(String, i64)]) -> Vec<MethodSlot> {
    let mapping = |code: &str| definition.for_source(SourceKind::EdAssaultMethod).find(|m| m.category == code);
    let mut slots: Vec<MethodSlot> = Vec::new();
    let mut sorted: Vec<&(String, i64)> = rows.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    for (code, n) in sorted {
        let m = mapping(code);
        let group = m.map(|m| m.group);
        let entry = match slots.iter_mut().find(|s| s.0 == group) {
            Some(e) => e,
            None => {
                slots.push((group, Vec::new()));
                let last = slots.len() - 1;
                &mut slots[last]
            }
        };
        match entry.1.iter_mut().find(|r| r.0 == *code) {
            Some(r) => r.2 += (*n).max(0) as u64,
            None => entry.1.push((code.clone(), m.map(|m| m.fit), (*n).max(0) as u64)),
        }
    }
    let rank =
        |g: &Option<SvGroup>| g.map_or(SvGroup::ALL.len(), |g| SvGroup::ALL.iter().position(|x| *x == g).unwrap_or(0));
    slots.sort_by_key(|s| rank(&s.0));
    slots
}

/// The methods of `slots` with their published figures (`shown`, from suppressing the slots'
/// counts as a grouped list, alone or linked with other tables).
pub fn methods_as_published(slots: Vec<MethodSlot>, shown: SuppressedGroups, definition_version: i64) -> EdMethods {
    let groups = slots
        .into_iter()
        .zip(shown.members)
        .zip(shown.subtotals)
        .map(|(((group, methods), members), subtotal)| MethodGroup {
            group,
            methods: methods
                .into_iter()
                .zip(members)
                .map(|((code, fit, _), count)| MethodRow { code, fit, count })
                .collect(),
            subtotal,
        })
        .collect();
    EdMethods { groups, total: shown.total, definition_version }
}

/// Groups `(method code, count)` rows by the definition's ED mappings ([`method_slots`]) and
/// suppresses them with their subtotals and total.
pub fn ed_methods(definition: &Definition, rows: &[(String, i64)], suppression: &Suppression) -> EdMethods {
    let slots = method_slots(definition, rows);
    let counts: Vec<Vec<u64>> = slots.iter().map(|s| s.1.iter().map(|r| r.2).collect()).collect();
    let shown = suppression.grouped(&counts);
    methods_as_published(slots, shown, definition.version)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::sna::definition::default_definition;
    use Shown::{Primary as P, Secondary as S, Value as V};

    #[test]
    fn weekday_and_hour_from_the_calendar() {
        // 2025-01-06 was a Monday; 2024-02-29 a Thursday; 2000-03-01 a Wednesday;
        // 1970-01-01 a Thursday.
        assert_eq!(weekday_and_hour("2025-01-06T00:15:00"), Some((0, 0)));
        assert_eq!(weekday_and_hour("2025-01-12T23:59:59"), Some((6, 23)));
        assert_eq!(weekday_and_hour("2024-02-29T13"), Some((3, 13)));
        assert_eq!(weekday_and_hour("2000-03-01 07:00"), Some((2, 7)));
        assert_eq!(weekday_and_hour("1970-01-01T02"), Some((3, 2)));
        assert_eq!(weekday_and_hour("2025-13-01T02"), None);
        assert_eq!(weekday_and_hour("2025-01-01T24"), None);
        assert_eq!(weekday_and_hour("2025-01-01"), None);
        assert_eq!(weekday_and_hour("2025-0a-01T02"), None);
    }

    /// Saturday 2025-01-04 23:xx: 9 assaults; Sunday 2025-01-05 01:xx: 3; Friday 2025-01-03
    /// 23:xx: 6; one unreadable row of 2. By hour: 23 → 15, 01 → 3 (primary), so the
    /// smallest other non-zero hour (none left but 15) is withheld too; total 18 shown. By
    /// day: Friday 6, Saturday 9, Sunday 3 (primary) → Friday withheld (the smallest
    /// non-zero shown).
    #[test]
    fn times_are_profiled_and_suppressed_with_their_total() {
        let rows = vec![
            ("2025-01-04T23".to_string(), 9),
            ("2025-01-05T01".to_string(), 3),
            ("2025-01-03T23".to_string(), 6),
            ("garbage".to_string(), 2),
        ];
        let t = ed_times(&rows, &Suppression::new(crate::analytics::suppression::EXAMPLE_THRESHOLD));
        assert_eq!(t.unreadable, 2);
        assert_eq!(t.total, V(18));
        assert_eq!(t.profile.total, 18);
        assert_eq!(t.by_hour[23], S);
        assert_eq!(t.by_hour[1], P);
        assert_eq!(t.by_hour[0], V(0));
        assert_eq!(t.by_day[4], S);
        assert_eq!(t.by_day[5], V(9));
        assert_eq!(t.by_day[6], P);
        assert_eq!(t.by_day[0], V(0));
    }

    /// ```text
    ///             1 (male)  2 (female)  none | total
    ///   18-24        10         6         0  |  16
    ///   25-34         8         2         0  |  10
    ///   none          0         0         7  |   7
    ///   total        18         8         7  |  33
    /// ```
    /// Primary: 25-34/female = 2. Rows first: row 25-34 has one hidden → 8 withheld. Then
    /// columns: male has one hidden (8) → 10 withheld; female has one (2) → 6 withheld. The
    /// next sweep finds two hidden in every line that has any: the fixed point.
    #[test]
    fn people_table_orders_codes_and_suppresses() {
        let s = |v: &str| Some(v.to_string());
        let rows = vec![
            (s("25-34"), s("2"), 2),
            (s("18-24"), s("1"), 10),
            (s("18-24"), s("2"), 6),
            (s("25-34"), s("1"), 8),
            (None, Some(" ".into()), 7),
        ];
        let p = ed_people(
            &rows,
            &["0-9", "18-24", "25-34"],
            &["1", "2", "9"],
            &Suppression::new(crate::analytics::suppression::EXAMPLE_THRESHOLD),
        );
        assert_eq!(p.age_bands, vec![s("18-24"), s("25-34"), None]);
        assert_eq!(p.sexes, vec![s("1"), s("2"), None]);
        assert!(p.recorded);
        assert_eq!(p.table.cells, vec![vec![S, S, V(0)], vec![S, P, V(0)], vec![V(0), V(0), V(7)]]);
        assert_eq!(p.table.row_totals, vec![V(16), V(10), V(7)]);
        assert_eq!(p.table.column_totals, vec![V(18), V(8), V(7)]);
        assert_eq!(p.table.total, V(33));
        let none = ed_people(
            &[(None, None, 12)],
            &[],
            &[],
            &Suppression::new(crate::analytics::suppression::EXAMPLE_THRESHOLD),
        );
        assert!(!none.recorded);
    }

    /// Default definition: 06 and 07 → knife and sharp object; 01 and 08 → serious
    /// assault; "77" is not mapped. Counts: 06 = 4 (primary), 07 = 11, 01 = 30, 08 = 6,
    /// 77 = 5. Knife group 4 + 11 = 15 → 11 withheld; serious assault 36; unmapped 5.
    #[test]
    fn methods_map_through_the_definition() {
        let d = default_definition();
        let rows: Vec<(String, i64)> =
            [("08", 6), ("01", 30), ("07", 11), ("06", 4), ("77", 5)].map(|(c, n)| (c.to_string(), n)).to_vec();
        let m = ed_methods(&d, &rows, &Suppression::new(crate::analytics::suppression::EXAMPLE_THRESHOLD));
        let groups: Vec<Option<SvGroup>> = m.groups.iter().map(|g| g.group).collect();
        assert_eq!(groups, vec![Some(SvGroup::KnifeAndSharpObject), Some(SvGroup::SeriousAssault), None]);
        let knife = &m.groups[0];
        assert_eq!(
            knife.methods.iter().map(|r| (r.code.as_str(), r.count)).collect::<Vec<_>>(),
            vec![("06", P), ("07", S)]
        );
        assert_eq!(knife.subtotal, V(15));
        assert_eq!(knife.methods[0].fit, Some(Fit::Exact));
        let serious = &m.groups[1];
        assert_eq!(serious.methods.iter().map(|r| r.count).collect::<Vec<_>>(), vec![V(30), V(6)]);
        assert_eq!(serious.methods[0].fit, Some(Fit::Broader));
        assert_eq!(serious.subtotal, V(36));
        assert_eq!(m.groups[2].methods[0].fit, None);
        assert_eq!(m.groups[2].subtotal, V(5));
        assert_eq!(m.total, V(56));
    }
}
