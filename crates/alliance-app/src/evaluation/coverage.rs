//! Whether an evaluation's areas lie where police records are held. An area outside the data
//! imported (a Cornish park on a database of Staffordshire Police's files) counts no crime in
//! any period, and the report read as a finding: "went from 0 to 0 crimes… no sign of
//! displacement", "8 months imported". Such an area is refused, naming what is held.
//!
//! The test reads `police_lsoa_extents` (migration 0042), the box of each LSOA's located
//! records: when no LSOA's box meets the area's box widened by the buffer, no record can lie
//! in or around the area (boxes only grow, so each holds every record of its LSOA).
//!
//! The refusal names the forces whose files are held, not the box of their records: a
//! force's files carry records far beyond its area (the demo's Staffordshire files reach
//! across England, from Cornwall to Norfolk), so that box would say little and mislead.

use alliance_db::Db;
use alliance_ingest::police::synthetic::force_name;

use crate::AppError;

/// Beyond this many forces a refusal counts them instead of naming each.
const FORCES_NAMED: usize = 3;

/// The police records held, as a refusal names them.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Held {
    /// The forces (data.police.uk slugs) with a police file in force.
    forces: Vec<String>,
}

/// `None` when some police record may lie in the WGS84 box `bbox`; otherwise what is held,
/// to say why the area is refused.
pub(super) async fn held_outside(db: &Db, bbox: [f64; 4]) -> Result<Option<Held>, AppError> {
    if db.police_records_meet(bbox).await? {
        return Ok(None);
    }
    Ok(Some(Held { forces: db.police_forces_held().await? }))
}

impl Held {
    /// What is held, in words: "the files of Staffordshire Police".
    fn describe(&self) -> String {
        match self.forces.len() {
            0 => "the police files held".to_string(),
            n if n > FORCES_NAMED => format!("the files of {n} police forces"),
            _ => {
                let names: Vec<String> = self.forces.iter().map(|f| force_name(f)).collect();
                format!("the files of {}", and_list(&names))
            }
        }
    }
}

/// The refusal of an area outside the data held; `field` names the input (`target` or
/// `comparison`), `what` the area in words ("target area").
pub(super) fn outside(field: &'static str, what: &str, held: &Held) -> AppError {
    AppError::invalid(
        field,
        format!(
            "Alliance holds no police records in or around the {what}: it lies outside the data imported ({}). \
             Import the data.police.uk files of the force that covers it, or choose an area inside the data held.",
            held.describe()
        ),
    )
}

/// Why no comparison can be suggested when no stored LSOA boundary lies around the target:
/// no boundaries of the census `kind` are stored at all; the target lies outside the police
/// data held (`outside`), so the boundaries imported for that data do not reach it; or the
/// boundaries of the target's district are not stored.
pub(super) fn nothing_to_suggest(kind: &str, boundaries_held: bool, outside: Option<&Held>) -> AppError {
    let reason = match (boundaries_held, outside) {
        (false, _) => {
            format!("no stored {kind} boundaries to suggest a comparison from; import the boundary files first")
        }
        (true, Some(held)) => format!(
            "the target area lies outside the police data imported ({}), so there are no LSOAs around it to \
             suggest a comparison from; choose a target inside the data held",
            held.describe()
        ),
        (true, None) => format!(
            "no stored {kind} boundaries around the target to suggest a comparison from; import the boundary files \
             of the target's local authority district"
        ),
    };
    AppError::invalid("comparison", reason)
}

/// "a", "a and b", "a, b and c".
fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held(forces: &[&str]) -> Held {
        Held { forces: forces.iter().map(|f| f.to_string()).collect() }
    }

    #[test]
    fn an_area_outside_the_data_is_refused_naming_what_is_held() {
        let AppError::Invalid { field, reason } = outside("target", "target area", &held(&["staffordshire"])) else {
            panic!("an input error")
        };
        assert_eq!(field, "target");
        assert_eq!(
            reason,
            "Alliance holds no police records in or around the target area: it lies outside the data imported \
             (the files of Staffordshire Police). Import the data.police.uk files of the force that covers it, or \
             choose an area inside the data held."
        );
    }

    #[test]
    fn many_forces_are_counted_and_unknown_ones_named_by_slug() {
        let two = held(&["staffordshire", "nowhere"]);
        assert_eq!(two.describe(), "the files of Staffordshire Police and nowhere");
        let three = held(&["staffordshire", "west-midlands", "west-mercia"]);
        assert_eq!(three.describe(), "the files of Staffordshire Police, West Midlands Police and West Mercia Police");
        assert_eq!(held(&["a", "b", "c", "d"]).describe(), "the files of 4 police forces");
        assert_eq!(held(&[]).describe(), "the police files held");
    }

    #[test]
    fn a_suggestion_refused_for_want_of_data_says_which_data() {
        let reason = |e: AppError| match e {
            AppError::Invalid { field: "comparison", reason } => reason,
            other => panic!("an input error on the comparison: {other:?}"),
        };
        let staffordshire = held(&["staffordshire"]);
        let outside = reason(nothing_to_suggest("lsoa21", true, Some(&staffordshire)));
        assert!(outside.contains("outside the police data imported (the files of Staffordshire Police)"), "{outside}");
        assert!(!outside.contains("import the boundary files"), "{outside}");
        let none = reason(nothing_to_suggest("lsoa21", false, Some(&staffordshire)));
        assert!(
            none.contains("no stored lsoa21 boundaries") && none.contains("import the boundary files first"),
            "{none}"
        );
        let district = reason(nothing_to_suggest("lsoa11", true, None));
        assert!(district.contains("lsoa11 boundaries around the target"), "{district}");
    }
}
