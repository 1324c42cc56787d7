//! What a question about police records may ask: the one rule the counts (`alliance counts`,
//! `GET /api/v1/counts`) and the Strategic Needs Assessment (`alliance sna`, `/sna`) apply
//! before they read anything.
//!
//! A period, a district or a crime type that no record held can answer was answered with an
//! empty table or "0 offences were recorded in E99999999", which reads as no crime rather
//! than as no data; a period of thousands of years made a 48 MB page. Such questions are
//! refused with the field and the reason, and the reason says what is held.

use alliance_core::domain::{Month, MonthRange};
use alliance_db::Db;

use crate::AppError;

/// The longest period one question covers: 10 years, more than data.police.uk publishes
/// (36 months) and than any assessment compares, so a report's monthly tables stay small.
pub const MAX_PERIOD_MONTHS: i64 = 120;

/// Checks a period asked for against the months of police data `held` (sorted): refused when
/// `to` is before `from`, when it is longer than [`MAX_PERIOD_MONTHS`], when a bound lies
/// outside the months held, or when no month of it is held. Nothing is clamped: the reason
/// names the months held. With no police data held only the first two apply (a report may
/// still have emergency department figures).
pub fn period(from: Option<Month>, to: Option<Month>, held: &[Month]) -> Result<(), AppError> {
    if let (Some(f), Some(t)) = (from, to) {
        let Some(range) = MonthRange::new(f, t) else {
            return Err(AppError::invalid(
                "to",
                format!("the last month ({t}) is before the first month ({f}): enter a last month the same as or after the first"),
            ));
        };
        if range.len() > MAX_PERIOD_MONTHS {
            return Err(AppError::invalid(
                "to",
                format!(
                    "{range} is {} months: a question covers at most {MAX_PERIOD_MONTHS} months (10 years)",
                    range.len()
                ),
            ));
        }
    }
    let (Some(first), Some(last)) = (held.first().copied(), held.last().copied()) else {
        return Ok(());
    };
    let held_text = format!("the police data held covers {first} to {last}");
    for (field, bound, which) in [("from", from, "first"), ("to", to, "last")] {
        if let Some(m) = bound.filter(|m| *m < first || *m > last) {
            return Err(AppError::invalid(
                field,
                format!("the {which} month ({m}) is outside the months held: {held_text}; choose months within it"),
            ));
        }
    }
    let asked = MonthRange { from: from.unwrap_or(first), to: to.unwrap_or(last) };
    if !held.iter().any(|m| asked.contains(*m)) {
        return Err(AppError::invalid(
            "from",
            format!("no police data is held for {asked}: {held_text}, with gaps; choose months with data"),
        ));
    }
    Ok(())
}

/// [`period`] against the months of street data held.
pub async fn period_held(db: &Db, from: Option<Month>, to: Option<Month>) -> Result<(), AppError> {
    if from.is_none() && to.is_none() {
        return Ok(());
    }
    period(from, to, &db.police_months_covered().await?)
}

/// Checks that some record held carries `crime_type` (compared exactly, as the counts are):
/// refused otherwise, naming the nearest crime types held (those that match ignoring case or
/// contain the text), else every one held.
pub async fn crime_type(db: &Db, crime_type: Option<&str>) -> Result<(), AppError> {
    let Some(asked) = crime_type else { return Ok(()) };
    let held = db.crime_types().await?;
    match nearest_crime_types(asked, &held) {
        None => Ok(()),
        Some(reason) => Err(AppError::invalid("crime_type", reason)),
    }
}

/// `None` when `asked` is one of `held`; else why not, with the nearest held or all of them.
fn nearest_crime_types(asked: &str, held: &[String]) -> Option<String> {
    if held.iter().any(|t| t == asked) {
        return None;
    }
    if held.is_empty() {
        return Some(format!("no record held has the crime type \"{asked}\": no police records are held"));
    }
    let lower = asked.trim().to_lowercase();
    let near: Vec<&str> =
        held.iter().filter(|t| !lower.is_empty() && t.to_lowercase().contains(&lower)).map(String::as_str).collect();
    let quoted = |list: &[&str]| list.iter().map(|t| format!("\"{t}\"")).collect::<Vec<_>>().join(", ");
    Some(match near.is_empty() {
        false => format!("no record held has the crime type \"{asked}\": did you mean {}?", quoted(&near)),
        true => format!(
            "no record held has the crime type \"{asked}\": the crime types held are {}",
            quoted(&held.iter().map(String::as_str).collect::<Vec<_>>())
        ),
    })
}

/// Checks that some stored LSOA lies in each of `codes` (districts asked for by `field`):
/// a district with none held could only be answered with nothing, which reads as no crime
/// rather than no area data. The reason names every code refused; an LSOA's code (`E01…`,
/// `W01…`, by the ONS's code prefixes) is told apart, as it is not a district at all.
pub async fn districts_held(db: &Db, field: &'static str, codes: &[String]) -> Result<(), AppError> {
    districts_of(db, field, codes, false).await
}

/// As [`districts_held`], also accepting a district whose name is held without any LSOA (the
/// district names file and ward boundaries, with no LSOA files): the SNA's emergency
/// department figures are placed by ward, so such a district has figures, police ones none.
pub async fn districts_known(db: &Db, field: &'static str, codes: &[String]) -> Result<(), AppError> {
    districts_of(db, field, codes, true).await
}

async fn districts_of(db: &Db, field: &'static str, codes: &[String], names_suffice: bool) -> Result<(), AppError> {
    if let Some(lsoa) = codes.iter().find(|c| c.starts_with("E01") || c.starts_with("W01")) {
        return Err(AppError::invalid(
            field,
            format!(
                "{lsoa} is the code of a neighbourhood (LSOA), not of a district: give the district it lies in \
                 (a district's code starts E06, E07, E08, E09 or W06)"
            ),
        ));
    }
    if codes.is_empty() {
        return Ok(());
    }
    let mut held = db.districts_with_lsoas(codes).await?;
    if names_suffice {
        held.extend(db.districts().await?.into_iter().map(|d| d.code).filter(|c| codes.contains(c)));
    }
    let missing: Vec<&str> = codes.iter().filter(|c| !held.contains(c)).map(String::as_str).collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(AppError::invalid(
        field,
        format!(
            "no LSOA of {} is held, so no record can be placed there: check the district code (a \
             district's code starts E06, E07, E08, E09 or W06), or import the area files for it first",
            missing.join(", ")
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(text: &str) -> Month {
        text.parse().expect("a month")
    }

    fn year_2025() -> Vec<Month> {
        MonthRange::new(m("2025-01"), m("2025-12")).expect("a range").months().collect()
    }

    fn refused(result: Result<(), AppError>) -> (&'static str, String) {
        match result {
            Err(AppError::Invalid { field, reason }) => (field, reason),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn a_period_within_the_months_held_is_accepted() {
        let held = year_2025();
        assert!(period(Some(m("2025-01")), Some(m("2025-12")), &held).is_ok());
        assert!(period(None, Some(m("2025-03")), &held).is_ok());
        assert!(period(Some(m("2025-12")), None, &held).is_ok());
        assert!(period(None, None, &held).is_ok());
        // No police data held: only the shape of the period is checked.
        assert!(period(Some(m("2024-01")), Some(m("2024-03")), &[]).is_ok());
    }

    #[test]
    fn a_reversed_or_long_period_is_refused_with_its_field() {
        let held = year_2025();
        let (field, reason) = refused(period(Some(m("2025-06")), Some(m("2025-01")), &held));
        assert_eq!(field, "to");
        assert!(reason.contains("(2025-01) is before the first month (2025-06)"), "{reason}");
        let (field, reason) = refused(period(Some(m("2000-01")), Some(m("2010-01")), &[]));
        assert_eq!(field, "to");
        assert!(reason.contains("121 months") && reason.contains("at most 120"), "{reason}");
        assert!(period(Some(m("2000-01")), Some(m("2009-12")), &[]).is_ok(), "120 months exactly");
    }

    #[test]
    fn months_beyond_the_data_held_are_refused_naming_what_is_held() {
        let held = year_2025();
        let (field, reason) = refused(period(Some(m("2025-01")), Some(m("2026-06")), &held));
        assert_eq!(field, "to");
        assert!(reason.contains("(2026-06) is outside") && reason.contains("covers 2025-01 to 2025-12"), "{reason}");
        let (field, reason) = refused(period(Some(m("2024-12")), None, &held));
        assert_eq!(field, "from");
        assert!(reason.contains("(2024-12) is outside"), "{reason}");
        // Inside the span but in a gap: no month of it is held.
        let gappy = [m("2023-01"), m("2025-01")];
        let (field, reason) = refused(period(Some(m("2024-01")), Some(m("2024-06")), &gappy));
        assert_eq!(field, "from");
        assert!(reason.contains("no police data is held for 2024-01 to 2024-06"), "{reason}");
    }

    #[test]
    fn an_unknown_crime_type_names_the_nearest_held() {
        let held: Vec<String> =
            ["Robbery", "Violence and sexual offences", "Anti-social behaviour"].map(String::from).to_vec();
        assert_eq!(nearest_crime_types("Robbery", &held), None);
        let reason = nearest_crime_types("Violence", &held).expect("refused");
        assert!(reason.contains("did you mean \"Violence and sexual offences\"?"), "{reason}");
        let reason = nearest_crime_types("robbery", &held).expect("compared exactly, as counted");
        assert!(reason.contains("\"Robbery\""), "{reason}");
        let reason = nearest_crime_types("Arson", &held).expect("refused");
        assert!(reason.contains("the crime types held are \"Robbery\", \"Violence and sexual offences\""), "{reason}");
        let reason = nearest_crime_types("Robbery", &[]).expect("nothing held");
        assert!(reason.contains("no police records are held"), "{reason}");
    }
}
