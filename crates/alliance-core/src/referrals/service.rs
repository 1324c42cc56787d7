//! Commissioned services that take referrals: who runs each one, the personal data it needs,
//! and whom it is for (eligibility). The check of a referral against the eligibility is pure
//! and returns every reason it fails, so the service can decline with the right reason.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::codes::{BirthNeed, DeclineReason, Need};
use super::personal::{AgeLimits, PersonalDataPolicy};
use super::postcode::PostcodeDistrict;
use super::referral::Needs;
use super::workflow::{Status, Timeline};

/// Whom a service is for. Empty lists mean no restriction.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Eligibility {
    /// The ages it takes, on the referral date; `None` for any age.
    pub ages: Option<AgeLimits>,
    /// The postcode districts it covers; empty for anywhere.
    pub districts: Vec<PostcodeDistrict>,
    /// The needs it takes (a referral is eligible when any of its needs is one); empty for any.
    pub needs: Vec<Need>,
    /// The most referrals it can hold open at once (accepted or engaged); `None` for no cap.
    pub capacity: Option<u32>,
}

/// A service in the directory of help flagged as taking referrals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommissionedService {
    /// The directory's (Open Referral UK) service id.
    pub id: String,
    pub name: String,
    /// The organisation that runs it: its users receive the referrals.
    pub run_by: i64,
    pub policy: PersonalDataPolicy,
    pub eligibility: Eligibility,
}

/// A service set up so that its rules cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ServiceConfigError {
    #[error("the service needs an id and a name")]
    MissingIdOrName,
    #[error("the service takes only some ages but records neither age nor date of birth")]
    AgesWithoutBirth,
    #[error("the service takes ages {min} to {max}, beyond those it records ({} to {})", .recorded.min, .recorded.max)]
    AgesBeyondRecorded { min: u8, max: u8, recorded: AgeLimits },
    #[error("the service covers only some districts but does not record the postcode district")]
    DistrictsWithoutPostcode,
    #[error("a capacity of 0 takes no referrals: give at least 1, or no capacity for no cap")]
    ZeroCapacity,
}

impl CommissionedService {
    /// Everything that stops the service's eligibility from being checked on the data its
    /// policy collects.
    pub fn configuration_problems(&self) -> Vec<ServiceConfigError> {
        let mut problems = Vec::new();
        let e = &self.eligibility;
        if self.id.trim().is_empty() || self.name.trim().is_empty() {
            problems.push(ServiceConfigError::MissingIdOrName);
        }
        if let Some(ages) = e.ages {
            let recorded = self.policy.ages;
            if self.policy.birth == BirthNeed::NotNeeded {
                problems.push(ServiceConfigError::AgesWithoutBirth);
            } else if ages.min < recorded.min || ages.max > recorded.max {
                problems.push(ServiceConfigError::AgesBeyondRecorded { min: ages.min, max: ages.max, recorded });
            }
        }
        if !e.districts.is_empty() && !self.policy.postcode_district {
            problems.push(ServiceConfigError::DistrictsWithoutPostcode);
        }
        if e.capacity == Some(0) {
            problems.push(ServiceConfigError::ZeroCapacity);
        }
        problems
    }
}

/// A reason a referral is not eligible for a service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "reason")]
pub enum Ineligible {
    TooYoung {
        age: u8,
        min: u8,
    },
    TooOld {
        age: u8,
        max: u8,
    },
    /// The service takes only some ages and the referral has no age.
    AgeNotRecorded,
    OutsideArea {
        district: PostcodeDistrict,
    },
    /// The service covers only some districts and the referral has no district.
    DistrictNotRecorded,
    /// None of the referral's needs is one the service takes.
    NeedNotTaken,
    /// The service holds `open` referrals, its capacity.
    AtCapacity {
        open: usize,
        capacity: u32,
    },
}

impl Ineligible {
    /// The decline reason to record for it.
    pub fn decline_reason(&self) -> DeclineReason {
        match self {
            Ineligible::AtCapacity { .. } => DeclineReason::NoCapacity,
            _ => DeclineReason::NotEligible,
        }
    }
}

impl fmt::Display for Ineligible {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ineligible::TooYoung { age, min } => write!(f, "aged {age}: the service takes people aged {min} or over"),
            Ineligible::TooOld { age, max } => write!(f, "aged {age}: the service takes people aged up to {max}"),
            Ineligible::AgeNotRecorded => f.write_str("no age recorded: the service takes only some ages"),
            Ineligible::OutsideArea { district } => write!(f, "{district} is outside the districts the service covers"),
            Ineligible::DistrictNotRecorded => {
                f.write_str("no postcode district recorded: the service covers only some districts")
            }
            Ineligible::NeedNotTaken => f.write_str("none of the needs given is one the service takes"),
            Ineligible::AtCapacity { open, capacity } => {
                write!(f, "the service is full: {open} open referrals for a capacity of {capacity}")
            }
        }
    }
}

/// Every reason a referral with this age (on the referral date), district and needs is not
/// eligible, given the service's `open_caseload` (see [`open_caseload`]); empty when eligible.
pub fn check_eligibility(
    eligibility: &Eligibility,
    age: Option<u8>,
    district: Option<&PostcodeDistrict>,
    needs: &Needs,
    open_caseload: usize,
) -> Vec<Ineligible> {
    let mut reasons = Vec::new();
    if let Some(ages) = eligibility.ages {
        match age {
            None => reasons.push(Ineligible::AgeNotRecorded),
            Some(age) if age < ages.min => reasons.push(Ineligible::TooYoung { age, min: ages.min }),
            Some(age) if age > ages.max => reasons.push(Ineligible::TooOld { age, max: ages.max }),
            Some(_) => {}
        }
    }
    if !eligibility.districts.is_empty() {
        match district {
            None => reasons.push(Ineligible::DistrictNotRecorded),
            Some(d) if !eligibility.districts.contains(d) => {
                reasons.push(Ineligible::OutsideArea { district: d.clone() })
            }
            Some(_) => {}
        }
    }
    if !eligibility.needs.is_empty() && !needs.all().any(|n| eligibility.needs.contains(&n)) {
        reasons.push(Ineligible::NeedNotTaken);
    }
    if let Some(capacity) = eligibility.capacity {
        if open_caseload >= capacity as usize {
            reasons.push(Ineligible::AtCapacity { open: open_caseload, capacity });
        }
    }
    reasons
}

/// The referrals a service holds open against its capacity: accepted or engaged. Referrals
/// awaiting a decision do not count (accepting one is what would take a place).
pub fn open_caseload<'a>(timelines: impl IntoIterator<Item = &'a Timeline>) -> usize {
    timelines.into_iter().filter(|t| matches!(t.status(), Status::Accepted | Status::Engaged)).count()
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::referrals::codes::NameNeed;
    use crate::referrals::workflow::Event;

    fn district(s: &str) -> PostcodeDistrict {
        s.parse().expect("district")
    }

    fn navigator() -> CommissionedService {
        CommissionedService {
            id: "svc-navigator".into(),
            name: "ED Navigator".into(),
            run_by: 7,
            policy: PersonalDataPolicy::default(),
            eligibility: Eligibility {
                ages: AgeLimits::new(10, 17),
                districts: vec![district("ST1"), district("ST4")],
                needs: vec![Need::VictimOfViolence, Need::CarryingWeapon],
                capacity: Some(2),
            },
        }
    }

    fn needs(reason: Need, others: &[Need]) -> Needs {
        Needs::new(reason, others.to_vec())
    }

    #[test]
    fn an_eligible_referral_has_no_reasons() {
        let e = navigator().eligibility;
        let n = needs(Need::SchoolExclusion, &[Need::CarryingWeapon]);
        // Age edges 10 and 17 are inside; one open referral of two places.
        assert_eq!(check_eligibility(&e, Some(10), Some(&district("ST4")), &n, 1), vec![]);
        assert_eq!(check_eligibility(&e, Some(17), Some(&district("ST1")), &n, 0), vec![]);
    }

    #[test]
    fn every_failing_rule_is_reported() {
        let e = navigator().eligibility;
        let n = needs(Need::MentalHealth, &[]);
        let reasons = check_eligibility(&e, Some(9), Some(&district("ST5")), &n, 2);
        assert_eq!(
            reasons,
            vec![
                Ineligible::TooYoung { age: 9, min: 10 },
                Ineligible::OutsideArea { district: district("ST5") },
                Ineligible::NeedNotTaken,
                Ineligible::AtCapacity { open: 2, capacity: 2 },
            ]
        );
        assert_eq!(reasons[3].decline_reason(), DeclineReason::NoCapacity);
        assert_eq!(reasons[0].decline_reason(), DeclineReason::NotEligible);
        assert_eq!(reasons[0].to_string(), "aged 9: the service takes people aged 10 or over");
        let old = check_eligibility(&e, Some(18), None, &needs(Need::VictimOfViolence, &[]), 0);
        assert_eq!(old, vec![Ineligible::TooOld { age: 18, max: 17 }, Ineligible::DistrictNotRecorded]);
        let unknown = check_eligibility(&e, None, Some(&district("ST1")), &needs(Need::VictimOfViolence, &[]), 0);
        assert_eq!(unknown, vec![Ineligible::AgeNotRecorded]);
    }

    #[test]
    fn no_restrictions_take_everyone() {
        let open = Eligibility::default();
        assert!(check_eligibility(&open, None, None, &needs(Need::Other, &[]), 10_000).is_empty());
    }

    #[test]
    fn configuration_must_collect_what_eligibility_checks() {
        assert_eq!(navigator().configuration_problems(), vec![]);
        let mut s = navigator();
        s.policy = PersonalDataPolicy {
            name: NameNeed::NotNeeded,
            birth: BirthNeed::NotNeeded,
            postcode_district: false,
            ..PersonalDataPolicy::default()
        };
        s.eligibility.capacity = Some(0);
        s.name = " ".into();
        assert_eq!(
            s.configuration_problems(),
            vec![
                ServiceConfigError::MissingIdOrName,
                ServiceConfigError::AgesWithoutBirth,
                ServiceConfigError::DistrictsWithoutPostcode,
                ServiceConfigError::ZeroCapacity,
            ]
        );
        let mut adults = navigator();
        adults.eligibility.ages = AgeLimits::new(18, 30);
        assert!(matches!(adults.configuration_problems()[..], [ServiceConfigError::AgesBeyondRecorded { .. }]));
    }

    #[test]
    fn the_caseload_counts_accepted_and_engaged_only() {
        let d = |day| NaiveDate::from_ymd_opt(2025, 1, day).expect("date");
        let t = |events: &[(Event, NaiveDate)]| Timeline::replay(d(1), events).expect("replay");
        let timelines = [
            t(&[]),
            t(&[(Event::Accept, d(2))]),
            t(&[(Event::Accept, d(2)), (Event::Engage, d(3))]),
            t(&[
                (Event::Accept, d(2)),
                (Event::Engage, d(3)),
                (Event::Close { outcome: crate::referrals::ClosureOutcome::GoalsMet }, d(4)),
            ]),
            t(&[(Event::Withdraw, d(2))]),
        ];
        assert_eq!(open_caseload(&timelines), 2);
    }
}
