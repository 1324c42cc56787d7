//! Retention: a referral's personal data is kept for a configured number of months after it
//! ends (declined, withdrawn or closed), then erased, leaving the anonymous facts the
//! partnership needs to evaluate its services (UK GDPR Article 5(1)(e), storage limitation).
//!
//! Month arithmetic follows the corresponding date rule of English law (Dodds v Walker, House
//! of Lords, 1981): a period of months ends on the same day number in the later month, or on
//! its last day when it has no such day. Six months after 31 August 2024 is 28 February 2025;
//! twelve months after 29 February 2024 is 28 February 2025. Erasure is due from that date on.

use std::fmt;
use std::str::FromStr;

use chrono::{Months, NaiveDate};
use serde::{Deserialize, Serialize};

use super::codes::{AgeBand, Sex, SourceSetting};
use super::postcode::PostcodeDistrict;
use super::referral::{Needs, Referral};
use super::workflow::Timeline;

/// The longest retention period accepted: 20 years, beyond any safeguarding schedule.
pub const MAX_RETENTION_MONTHS: u32 = 240;

/// How long personal data is kept after a referral ends, in whole months (0 to 240; 0
/// erases it on the day the referral ends).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct RetentionPeriod(u32);

/// Why a retention period is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("\"{0}\" is not a retention period: give a whole number of months from 0 to 240, e.g. 24")]
pub struct RetentionPeriodError(pub String);

impl RetentionPeriod {
    pub fn months(months: u32) -> Result<RetentionPeriod, RetentionPeriodError> {
        if months <= MAX_RETENTION_MONTHS {
            Ok(RetentionPeriod(months))
        } else {
            Err(RetentionPeriodError(months.to_string()))
        }
    }

    pub fn in_months(self) -> u32 {
        self.0
    }

    /// The date `self` after `ended` by the corresponding date rule.
    pub fn after(self, ended: NaiveDate) -> NaiveDate {
        // At most 240 months from a date chrono holds: cannot overflow for dates before
        // year 262,000, so the fallback is unreachable in practice.
        ended.checked_add_months(Months::new(self.0)).unwrap_or(NaiveDate::MAX)
    }
}

impl FromStr for RetentionPeriod {
    type Err = RetentionPeriodError;
    /// `24` or `24 months`.
    fn from_str(text: &str) -> Result<RetentionPeriod, RetentionPeriodError> {
        let t = text.trim();
        let number = t.strip_suffix("months").or_else(|| t.strip_suffix("month")).unwrap_or(t).trim();
        number.parse::<u32>().map_err(|_| RetentionPeriodError(t.to_string())).and_then(RetentionPeriod::months)
    }
}

impl TryFrom<u32> for RetentionPeriod {
    type Error = RetentionPeriodError;
    fn try_from(months: u32) -> Result<RetentionPeriod, RetentionPeriodError> {
        RetentionPeriod::months(months)
    }
}

impl From<RetentionPeriod> for u32 {
    fn from(p: RetentionPeriod) -> u32 {
        p.0
    }
}

impl fmt::Display for RetentionPeriod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            1 => f.write_str("1 month"),
            n => write!(f, "{n} months"),
        }
    }
}

/// The date from which a referral's personal data is due for erasure, or `None` while the
/// referral is open (retention runs from the day it ends).
pub fn erasure_date(timeline: &Timeline, period: RetentionPeriod) -> Option<NaiveDate> {
    timeline.ended_on().map(|ended| period.after(ended))
}

/// Whether a referral's personal data is due for erasure on `on`.
pub fn erasure_due(timeline: &Timeline, period: RetentionPeriod, on: NaiveDate) -> bool {
    erasure_date(timeline, period).is_some_and(|due| on >= due)
}

/// What is kept of a referral after erasure: no name, birth date, exact age, contact, consent
/// record or organisation, only what an evaluation of the service needs. It is not published
/// as records: like the referrals, it is seen as suppressed aggregates only (exact dates with
/// a district, age band and sex could single out a person in a small area).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AnonymousReferral {
    pub service: String,
    pub source: SourceSetting,
    pub needs: Needs,
    /// The age band on the referral date, when the service recorded age or date of birth.
    pub age_band: Option<AgeBand>,
    pub sex: Option<Sex>,
    pub district: Option<PostcodeDistrict>,
    /// The dates of each step, the decline reason or the closure outcome.
    pub timeline: Timeline,
}

/// The anonymous form of `referral`.
pub fn anonymise(referral: &Referral) -> AnonymousReferral {
    AnonymousReferral {
        service: referral.service.clone(),
        source: referral.source,
        needs: referral.needs.clone(),
        age_band: referral.age_at_referral().map(AgeBand::of_age),
        sex: referral.person.sex,
        district: referral.person.postcode_district.clone(),
        timeline: referral.timeline,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::referrals::codes::{
        ClosureOutcome, ConsentGivenBy, ConsentMethod, ContactRoute, DeclineReason, LawfulBasis, Need,
    };
    use crate::referrals::consent::Consent;
    use crate::referrals::contact::Contact;
    use crate::referrals::personal::{Birth, MinimisedPerson, PersonName};
    use crate::referrals::referral::Parties;
    use crate::referrals::test_support::date;
    use crate::referrals::workflow::Event;

    fn months(n: u32) -> RetentionPeriod {
        RetentionPeriod::months(n).expect("period")
    }

    fn closed_on(day: NaiveDate) -> Timeline {
        Timeline::replay(
            date(2023, 1, 2),
            &[(Event::Accept, date(2023, 1, 3)), (Event::Close { outcome: ClosureOutcome::DeclinedSupport }, day)],
        )
        .expect("replay")
    }

    #[test]
    fn corresponding_dates_clamp_to_month_ends_and_leap_days() {
        // (ended, months, due): month ends, leap years.
        let cases = [
            (date(2024, 8, 31), 6, date(2025, 2, 28)),
            (date(2023, 8, 31), 6, date(2024, 2, 29)),
            (date(2024, 2, 29), 12, date(2025, 2, 28)),
            (date(2024, 2, 29), 48, date(2028, 2, 29)),
            (date(2024, 1, 31), 1, date(2024, 2, 29)),
            (date(2023, 1, 31), 1, date(2023, 2, 28)),
            (date(2024, 3, 31), 1, date(2024, 4, 30)),
            (date(2024, 12, 15), 24, date(2026, 12, 15)),
            (date(2024, 12, 15), 0, date(2024, 12, 15)),
        ];
        for (ended, n, due) in cases {
            assert_eq!(months(n).after(ended), due, "{n} months after {ended}");
        }
    }

    #[test]
    fn erasure_is_due_from_the_date_for_ended_referrals_only() {
        let t = closed_on(date(2024, 8, 31));
        assert_eq!(erasure_date(&t, months(6)), Some(date(2025, 2, 28)));
        assert!(!erasure_due(&t, months(6), date(2025, 2, 27)));
        assert!(erasure_due(&t, months(6), date(2025, 2, 28)));
        assert!(erasure_due(&t, months(6), date(2025, 3, 1)));
        // Declined and withdrawn referrals run from their decline or withdrawal.
        let declined = Timeline::replay(
            date(2024, 2, 1),
            &[(Event::Decline { reason: DeclineReason::Duplicate }, date(2024, 2, 29))],
        )
        .expect("replay");
        assert_eq!(erasure_date(&declined, months(12)), Some(date(2025, 2, 28)));
        let withdrawn = Timeline::replay(date(2024, 2, 1), &[(Event::Withdraw, date(2024, 2, 2))]).expect("replay");
        assert!(erasure_due(&withdrawn, months(0), date(2024, 2, 2)));
        // Open referrals are never due, however old.
        let open = Timeline::replay(date(2000, 1, 1), &[(Event::Accept, date(2000, 1, 2))]).expect("replay");
        assert_eq!(erasure_date(&open, months(0)), None);
        assert!(!erasure_due(&open, months(0), date(2099, 1, 1)));
    }

    #[test]
    fn retention_periods_are_whole_months_up_to_twenty_years() {
        assert_eq!("24".parse::<RetentionPeriod>().map(u32::from), Ok(24));
        assert_eq!(" 6 months ".parse::<RetentionPeriod>().map(u32::from), Ok(6));
        assert_eq!("1 month".parse::<RetentionPeriod>().map(|p| p.to_string()), Ok("1 month".to_string()));
        assert_eq!("240".parse::<RetentionPeriod>().map(u32::from), Ok(240));
        for bad in ["241", "-1", "two years", "1.5", ""] {
            assert!(bad.parse::<RetentionPeriod>().is_err(), "{bad}");
        }
        assert!(serde_json::from_str::<RetentionPeriod>("300").is_err());
    }

    #[test]
    fn anonymising_keeps_only_the_evaluation_fields() {
        let mut referral = Referral {
            service: "svc-navigator".into(),
            parties: Parties { referring_org: 1, receiving_org: 2 },
            source: SourceSetting::EmergencyDepartment,
            needs: Needs::new(Need::VictimOfViolence, vec![Need::CarryingWeapon]),
            person: MinimisedPerson {
                name: Some(PersonName::Full("Jo Smith".into())),
                // Born 29 Feb 2008: 15 on 28 Feb 2024 (the referral date), band 10-15; 16 the
                // next day would be band 16-17.
                birth: Some(Birth::DateOfBirth(date(2008, 2, 29))),
                sex: Some(Sex::Male),
                postcode_district: Some("ST4".parse().expect("district")),
                contact: Some(Contact { route: ContactRoute::Phone, detail: Some("07700900123".into()) }),
            },
            consent: Consent {
                given_by: ConsentGivenBy::Person,
                date: date(2024, 2, 28),
                method: Some(ConsentMethod::Verbal),
                lawful_basis: LawfulBasis::Consent,
                reason: None,
            },
            timeline: Timeline::received(date(2024, 2, 28)),
        };
        let a = anonymise(&referral);
        assert_eq!(a.age_band, Some(AgeBand::From10To15));
        assert_eq!(a.sex, Some(Sex::Male));
        assert_eq!(a.district.as_ref().map(PostcodeDistrict::as_str), Some("ST4"));
        assert_eq!(a.source, SourceSetting::EmergencyDepartment);
        assert_eq!(a.needs.all().collect::<Vec<_>>(), vec![Need::VictimOfViolence, Need::CarryingWeapon]);
        assert_eq!(a.timeline, referral.timeline);
        // Nothing personal survives in the serialised form.
        let json = serde_json::to_string(&a).expect("json");
        for personal in ["Jo Smith", "2008-02-29", "07700900123", "verbal", "referring_org"] {
            assert!(!json.contains(personal), "{personal} in {json}");
        }
        referral.timeline = Timeline::received(date(2024, 2, 29));
        assert_eq!(anonymise(&referral).age_band, Some(AgeBand::From16To17));
    }
}
