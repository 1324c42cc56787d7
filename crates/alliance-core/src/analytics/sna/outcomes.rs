//! The outcome profile of crimes: data.police.uk outcome categories grouped into five.
//!
//! Grouping (Alliance's, stated in every report):
//! - **charged or summonsed**: suspect charged (also as part of another case), awaiting
//!   court outcome, every court result (offender sent to prison, fined, given a community or
//!   suspended sentence, discharged, ordered to pay compensation, deprived of property,
//!   otherwise dealt with; defendant found not guilty or sent to Crown Court; court case
//!   unable to proceed; court result unavailable);
//! - **caution or out-of-court disposal**: offender given a caution, penalty notice or drugs
//!   possession warning; local resolution;
//! - **no further action or no suspect**: investigation complete, no suspect identified;
//!   unable to prosecute suspect; formal action, further action or further investigation
//!   not in the public interest;
//! - **under investigation**;
//! - **other**: action to be taken by another organisation, status update unavailable,
//!   anything else; and "no outcome recorded" for an empty outcome.

use serde::Serialize;

/// An outcome group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeGroup {
    ChargedOrSummonsed,
    CautionOrOutOfCourt,
    NoFurtherAction,
    UnderInvestigation,
    Other,
    NoOutcome,
}

impl OutcomeGroup {
    pub const ALL: [OutcomeGroup; 6] = [
        OutcomeGroup::ChargedOrSummonsed,
        OutcomeGroup::CautionOrOutOfCourt,
        OutcomeGroup::NoFurtherAction,
        OutcomeGroup::UnderInvestigation,
        OutcomeGroup::Other,
        OutcomeGroup::NoOutcome,
    ];

    pub fn label(self) -> &'static str {
        match self {
            OutcomeGroup::ChargedOrSummonsed => "Charged or summonsed",
            OutcomeGroup::CautionOrOutOfCourt => "Caution or out-of-court disposal",
            OutcomeGroup::NoFurtherAction => "No further action or no suspect",
            OutcomeGroup::UnderInvestigation => "Under investigation",
            OutcomeGroup::Other => "Other",
            OutcomeGroup::NoOutcome => "No outcome recorded",
        }
    }
}

/// The group of a data.police.uk outcome category (case-insensitive).
pub fn outcome_group(outcome: Option<&str>) -> OutcomeGroup {
    let Some(text) = outcome.map(|t| t.trim().to_lowercase()).filter(|t| !t.is_empty()) else {
        return OutcomeGroup::NoOutcome;
    };
    let t = text.as_str();
    if t.starts_with("suspect charged")
        || t.starts_with("awaiting court")
        || t.starts_with("court ")
        || t.starts_with("defendant")
        || (t.starts_with("offender") && !t.contains("caution") && !t.contains("penalty") && !t.contains("warning"))
    {
        OutcomeGroup::ChargedOrSummonsed
    } else if t.contains("caution")
        || t.contains("penalty notice")
        || t.contains("possession warning")
        || t == "local resolution"
    {
        OutcomeGroup::CautionOrOutOfCourt
    } else if t.contains("no suspect identified")
        || t.contains("unable to prosecute")
        || t.contains("not in the public interest")
    {
        OutcomeGroup::NoFurtherAction
    } else if t == "under investigation" {
        OutcomeGroup::UnderInvestigation
    } else {
        OutcomeGroup::Other
    }
}

/// One row of an outcome profile.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutcomeShare {
    pub group: OutcomeGroup,
    pub count: i64,
    /// The group's share of every offence's outcome; `None` with no offence at all (a share
    /// of nothing is not 0 %).
    pub percent: Option<f64>,
}

/// Sums counts of outcome categories into the groups, every group listed (0 when absent).
pub fn outcome_profile(rows: &[(Option<String>, i64)]) -> Vec<OutcomeShare> {
    let mut sums = [0i64; 6];
    for (o, n) in rows {
        let g = outcome_group(o.as_deref());
        sums[OutcomeGroup::ALL.iter().position(|x| *x == g).unwrap_or(4)] += n;
    }
    let total: i64 = sums.iter().sum();
    OutcomeGroup::ALL
        .iter()
        .zip(sums)
        .map(|(g, n)| OutcomeShare {
            group: *g,
            count: n,
            percent: (total > 0).then(|| 100.0 * n as f64 / total as f64),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_real_categories() {
        use OutcomeGroup::*;
        let cases = [
            ("Unable to prosecute suspect", NoFurtherAction),
            ("Investigation complete; no suspect identified", NoFurtherAction),
            ("Further investigation is not in the public interest", NoFurtherAction),
            ("Suspect charged as part of another case", ChargedOrSummonsed),
            ("Court result unavailable", ChargedOrSummonsed),
            ("Offender sent to prison", ChargedOrSummonsed),
            ("Defendant found not guilty", ChargedOrSummonsed),
            ("Offender given a caution", CautionOrOutOfCourt),
            ("Offender given a drugs possession warning", CautionOrOutOfCourt),
            ("Offender given penalty notice", CautionOrOutOfCourt),
            ("Local resolution", CautionOrOutOfCourt),
            ("Under investigation", UnderInvestigation),
            ("Status update unavailable", Other),
            ("Action to be taken by another organisation", Other),
        ];
        for (text, group) in cases {
            assert_eq!(outcome_group(Some(text)), group, "{text}");
        }
        assert_eq!(outcome_group(Some("")), NoOutcome);
        assert_eq!(outcome_group(None), NoOutcome);
    }

    #[test]
    fn profile_sums_to_100() {
        let p = outcome_profile(&[
            (Some("Unable to prosecute suspect".into()), 6),
            (Some("Suspect charged".into()), 3),
            (None, 1),
        ]);
        assert_eq!(p[0].count, 3);
        assert_eq!(p[2].count, 6);
        assert_eq!(p[5].count, 1);
        assert!((p[2].percent.expect("a share") - 60.0).abs() < 1e-12);
        assert!((p.iter().filter_map(|o| o.percent).sum::<f64>() - 100.0).abs() < 1e-9);
    }

    #[test]
    fn no_offence_gives_no_share() {
        let p = outcome_profile(&[]);
        assert_eq!(p.len(), OutcomeGroup::ALL.len(), "every group listed");
        assert!(p.iter().all(|o| o.count == 0 && o.percent.is_none()), "{p:?}");
        assert!(outcome_profile(&[(Some("Under investigation".into()), 0)]).iter().all(|o| o.percent.is_none()));
    }
}
