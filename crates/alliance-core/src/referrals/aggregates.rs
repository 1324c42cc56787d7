//! Aggregate figures of referrals: plain counts of anonymous referral facts by one dimension
//! at a time, for the disclosure point to suppress (this module suppresses nothing).
//!
//! Coded dimensions list every code, zeros included, so a table has the same rows whatever
//! the data (a missing row would itself disclose a zero); services and districts list those
//! present. Each dimension's rows add up to the referrals it applies to:
//! - `reason`, `source`, `status`, `service`, `district`, `age-band`, `sex`, `decision-wait`:
//!   every referral once;
//! - `need`: a referral once under **each** of its needs, so the rows add up to more than the
//!   referrals;
//! - `outcome`: closed referrals; `decline-reason`: declined ones; `engagement-wait`:
//!   referrals that were accepted.
//!
//! Fields a service does not record count under `not-recorded`; referrals without a decision
//! (awaiting one, or withdrawn) count under `not-decided`; accepted referrals never engaged
//! under `not-engaged`.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use super::codes::{AgeBand, ClosureOutcome, DeclineReason, Need, Sex, SourceSetting, WaitBand};
use super::retention::AnonymousReferral;
use super::workflow::Status;

/// What referrals are counted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(into = "&'static str")]
pub enum Dimension {
    Service,
    Source,
    Reason,
    Need,
    Status,
    Outcome,
    DeclineReason,
    DecisionWait,
    EngagementWait,
    District,
    AgeBand,
    Sex,
}

impl Dimension {
    pub const ALL: &'static [Dimension] = &[
        Dimension::Service,
        Dimension::Source,
        Dimension::Reason,
        Dimension::Need,
        Dimension::Status,
        Dimension::Outcome,
        Dimension::DeclineReason,
        Dimension::DecisionWait,
        Dimension::EngagementWait,
        Dimension::District,
        Dimension::AgeBand,
        Dimension::Sex,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Dimension::Service => "service",
            Dimension::Source => "source",
            Dimension::Reason => "reason",
            Dimension::Need => "need",
            Dimension::Status => "status",
            Dimension::Outcome => "outcome",
            Dimension::DeclineReason => "decline-reason",
            Dimension::DecisionWait => "decision-wait",
            Dimension::EngagementWait => "engagement-wait",
            Dimension::District => "district",
            Dimension::AgeBand => "age-band",
            Dimension::Sex => "sex",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Dimension::Service => "Service",
            Dimension::Source => "Source setting",
            Dimension::Reason => "Main reason for referral",
            Dimension::Need => "Need (a referral counts under each of its needs)",
            Dimension::Status => "Status",
            Dimension::Outcome => "Outcome of closed referrals",
            Dimension::DeclineReason => "Reason declined",
            Dimension::DecisionWait => "Days from receipt to decision",
            Dimension::EngagementWait => "Days from acceptance to first engagement",
            Dimension::District => "Postcode district",
            Dimension::AgeBand => "Age band",
            Dimension::Sex => "Sex",
        }
    }
}

impl From<Dimension> for &'static str {
    fn from(d: Dimension) -> &'static str {
        d.code()
    }
}

impl fmt::Display for Dimension {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// One count: the referrals with `key` (a code) on `dimension`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AggregateRow {
    pub dimension: Dimension,
    pub key: String,
    pub label: String,
    pub count: u64,
}

pub const NOT_RECORDED: &str = "not-recorded";
pub const NOT_DECIDED: &str = "not-decided";
pub const NOT_ENGAGED: &str = "not-engaged";

/// Counts keyed by code, in a fixed order: every code of a list first (zeros included), then
/// keys met that are not on it (the "not …" keys), in the order met.
struct Tally {
    dimension: Dimension,
    rows: Vec<(String, String, u64)>,
}

impl Tally {
    fn new(dimension: Dimension, codes: impl IntoIterator<Item = (&'static str, &'static str)>) -> Tally {
        Tally { dimension, rows: codes.into_iter().map(|(c, l)| (c.to_string(), l.to_string(), 0)).collect() }
    }

    fn add(&mut self, key: &str, label: &str) {
        match self.rows.iter_mut().find(|r| r.0 == key) {
            Some(row) => row.2 += 1,
            None => self.rows.push((key.to_string(), label.to_string(), 1)),
        }
    }

    fn rows(self) -> Vec<AggregateRow> {
        let dimension = self.dimension;
        self.rows.into_iter().map(|(key, label, count)| AggregateRow { dimension, key, label, count }).collect()
    }
}

/// Referrals counted by `dimension`. See the module documentation for what each adds up to.
pub fn count_by(facts: &[AnonymousReferral], dimension: Dimension) -> Vec<AggregateRow> {
    match dimension {
        Dimension::Service => by_service(facts),
        Dimension::District => by_district(facts),
        _ => by_code(facts, dimension),
    }
}

const NOT_RECORDED_LABEL: &str = "Not recorded";

/// Sorted by service id and labelled with it: the caller puts names to them.
fn by_service(facts: &[AnonymousReferral]) -> Vec<AggregateRow> {
    let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
    for f in facts {
        *counts.entry(f.service.as_str()).or_default() += 1;
    }
    counts
        .into_iter()
        .map(|(s, count)| AggregateRow { dimension: Dimension::Service, key: s.into(), label: s.into(), count })
        .collect()
}

/// Districts present, in reading order, then those without one.
fn by_district(facts: &[AnonymousReferral]) -> Vec<AggregateRow> {
    let dimension = Dimension::District;
    let mut counts: BTreeMap<(String, u32, String), (&str, u64)> = BTreeMap::new();
    let mut unrecorded = 0;
    for f in facts {
        match &f.district {
            Some(d) => counts.entry(district_order(d.as_str())).or_insert((d.as_str(), 0)).1 += 1,
            None => unrecorded += 1,
        }
    }
    let mut rows: Vec<AggregateRow> = counts
        .into_values()
        .map(|(d, count)| AggregateRow { dimension, key: d.into(), label: d.into(), count })
        .collect();
    if unrecorded > 0 {
        rows.push(AggregateRow {
            dimension,
            key: NOT_RECORDED.into(),
            label: NOT_RECORDED_LABEL.into(),
            count: unrecorded,
        });
    }
    rows
}

/// The `(code, label)` pairs of a coded list.
fn pairs<T: Copy>(
    all: &[T],
    code: fn(T) -> &'static str,
    label: fn(T) -> &'static str,
) -> Vec<(&'static str, &'static str)> {
    all.iter().map(|v| (code(*v), label(*v))).collect()
}

/// Every code of the dimension's list (zeros included), then the "not …" key when met.
fn by_code(facts: &[AnonymousReferral], dimension: Dimension) -> Vec<AggregateRow> {
    let codes = match dimension {
        Dimension::Source => pairs(SourceSetting::ALL, SourceSetting::code, SourceSetting::label),
        Dimension::Reason | Dimension::Need => pairs(Need::ALL, Need::code, Need::label),
        Dimension::Status => pairs(Status::ALL, Status::code, Status::label),
        Dimension::Outcome => pairs(ClosureOutcome::ALL, ClosureOutcome::code, ClosureOutcome::label),
        Dimension::DeclineReason => pairs(DeclineReason::ALL, DeclineReason::code, DeclineReason::label),
        Dimension::DecisionWait | Dimension::EngagementWait => pairs(WaitBand::ALL, WaitBand::code, WaitBand::label),
        Dimension::AgeBand => pairs(AgeBand::ALL, AgeBand::code, AgeBand::label),
        Dimension::Sex => pairs(Sex::ALL, Sex::code, Sex::label),
        Dimension::Service | Dimension::District => Vec::new(),
    };
    let mut tally = Tally::new(dimension, codes);
    for f in facts {
        let t = &f.timeline;
        match dimension {
            Dimension::Source => tally.add(f.source.code(), f.source.label()),
            Dimension::Reason => tally.add(f.needs.reason().code(), f.needs.reason().label()),
            Dimension::Need => f.needs.all().for_each(|n| tally.add(n.code(), n.label())),
            Dimension::Status => tally.add(t.status().code(), t.status().label()),
            Dimension::Outcome => {
                if let Some((_, o)) = t.closed() {
                    tally.add(o.code(), o.label());
                }
            }
            Dimension::DeclineReason => {
                if let Some((_, r)) = t.declined() {
                    tally.add(r.code(), r.label());
                }
            }
            Dimension::DecisionWait => match t.decision_wait_days().map(WaitBand::of_days) {
                Some(b) => tally.add(b.code(), b.label()),
                None => tally.add(NOT_DECIDED, "No decision (awaiting one, or withdrawn)"),
            },
            Dimension::EngagementWait => {
                if t.accepted_on().is_some() {
                    match t.engagement_wait_days().map(WaitBand::of_days) {
                        Some(b) => tally.add(b.code(), b.label()),
                        None => tally.add(NOT_ENGAGED, "Not engaged"),
                    }
                }
            }
            Dimension::AgeBand => match f.age_band {
                Some(b) => tally.add(b.code(), b.label()),
                None => tally.add(NOT_RECORDED, NOT_RECORDED_LABEL),
            },
            Dimension::Sex => match f.sex {
                Some(s) => tally.add(s.code(), s.label()),
                None => tally.add(NOT_RECORDED, NOT_RECORDED_LABEL),
            },
            Dimension::Service | Dimension::District => {}
        }
    }
    tally.rows()
}

/// Every dimension's counts, in [`Dimension::ALL`] order.
pub fn aggregate(facts: &[AnonymousReferral]) -> Vec<AggregateRow> {
    Dimension::ALL.iter().flat_map(|d| count_by(facts, *d)).collect()
}

/// Orders districts as people read them: by area letters, then district number, then any
/// letter after it (ST2 before ST10, EC1A after EC1).
fn district_order(d: &str) -> (String, u32, String) {
    let letters: String = d.chars().take_while(char::is_ascii_alphabetic).collect();
    let rest = &d[letters.len()..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let suffix = rest[digits.len()..].to_string();
    (letters, digits.parse().unwrap_or(0), suffix)
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::referrals::postcode::PostcodeDistrict;
    use crate::referrals::referral::Needs;
    use crate::referrals::workflow::{Event, Timeline};

    fn date(m: u32, d: u32) -> NaiveDate {
        crate::referrals::test_support::date(2024, m, d)
    }

    fn fact(
        service: &str,
        source: SourceSetting,
        needs: Needs,
        district: Option<&str>,
        age_band: Option<AgeBand>,
        events: &[(Event, NaiveDate)],
    ) -> AnonymousReferral {
        AnonymousReferral {
            service: service.into(),
            source,
            needs,
            age_band,
            sex: age_band.map(|_| Sex::Female),
            district: district.map(|d| d.parse::<PostcodeDistrict>().expect("district")),
            timeline: Timeline::replay(date(2, 1), events).expect("replay"),
        }
    }

    /// Four referrals, worked by hand:
    /// 1. navigator, ED, victim + weapon, ST4, 16-17: accepted 1 Feb (0 days), engaged
    ///    9 Feb (8 days), closed goals met.
    /// 2. navigator, police custody, weapon, ST10, 16-17: declined no capacity on 29 Feb
    ///    (28 days).
    /// 3. mentoring, school, exclusion + weapon, ST2, 10-15: awaiting a decision.
    /// 4. mentoring, school, exclusion, no district, no age: accepted 2 Apr (61 days),
    ///    closed declined support without engagement.
    fn facts() -> Vec<AnonymousReferral> {
        use Need::*;
        vec![
            fact(
                "navigator",
                SourceSetting::EmergencyDepartment,
                Needs::new(VictimOfViolence, vec![CarryingWeapon]),
                Some("ST4"),
                Some(AgeBand::From16To17),
                &[
                    (Event::Accept, date(2, 1)),
                    (Event::Engage, date(2, 9)),
                    (Event::Close { outcome: ClosureOutcome::GoalsMet }, date(5, 31)),
                ],
            ),
            fact(
                "navigator",
                SourceSetting::PoliceCustody,
                Needs::new(CarryingWeapon, vec![]),
                Some("ST10"),
                Some(AgeBand::From16To17),
                &[(Event::Decline { reason: DeclineReason::NoCapacity }, date(2, 29))],
            ),
            fact(
                "mentoring",
                SourceSetting::School,
                Needs::new(SchoolExclusion, vec![CarryingWeapon]),
                Some("ST2"),
                Some(AgeBand::From10To15),
                &[],
            ),
            fact(
                "mentoring",
                SourceSetting::School,
                Needs::new(SchoolExclusion, vec![]),
                None,
                None,
                &[(Event::Accept, date(4, 2)), (Event::Close { outcome: ClosureOutcome::DeclinedSupport }, date(4, 3))],
            ),
        ]
    }

    fn counts(rows: &[AggregateRow]) -> Vec<(&str, u64)> {
        rows.iter().filter(|r| r.count > 0).map(|r| (r.key.as_str(), r.count)).collect()
    }

    #[test]
    fn counts_by_each_dimension_match_the_hand_count() {
        let f = facts();
        assert_eq!(counts(&count_by(&f, Dimension::Service)), vec![("mentoring", 2), ("navigator", 2)]);
        assert_eq!(
            counts(&count_by(&f, Dimension::Source)),
            vec![("school", 2), ("emergency-department", 1), ("police-custody", 1)]
        );
        assert_eq!(
            counts(&count_by(&f, Dimension::Reason)),
            vec![("school-exclusion", 2), ("carrying-weapon", 1), ("victim-of-violence", 1)]
        );
        // Weapon appears in three referrals' needs; the rows add to 6 for 4 referrals.
        let need = count_by(&f, Dimension::Need);
        assert_eq!(counts(&need), vec![("school-exclusion", 2), ("carrying-weapon", 3), ("victim-of-violence", 1)]);
        assert_eq!(need.iter().map(|r| r.count).sum::<u64>(), 6);
        assert_eq!(counts(&count_by(&f, Dimension::Status)), vec![("received", 1), ("declined", 1), ("closed", 2)]);
        assert_eq!(counts(&count_by(&f, Dimension::Outcome)), vec![("goals-met", 1), ("declined-support", 1)]);
        assert_eq!(counts(&count_by(&f, Dimension::DeclineReason)), vec![("no-capacity", 1)]);
        // Decision waits 0, 28 and 61 days, one awaiting.
        assert_eq!(
            counts(&count_by(&f, Dimension::DecisionWait)),
            vec![("0-7", 1), ("15-28", 1), ("57+", 1), (NOT_DECIDED, 1)]
        );
        // Accepted: referral 1 engaged after 8 days, referral 4 never engaged.
        assert_eq!(counts(&count_by(&f, Dimension::EngagementWait)), vec![("8-14", 1), (NOT_ENGAGED, 1)]);
        assert_eq!(
            counts(&count_by(&f, Dimension::District)),
            vec![("ST2", 1), ("ST4", 1), ("ST10", 1), (NOT_RECORDED, 1)]
        );
        assert_eq!(counts(&count_by(&f, Dimension::AgeBand)), vec![("10-15", 1), ("16-17", 2), (NOT_RECORDED, 1)]);
        assert_eq!(counts(&count_by(&f, Dimension::Sex)), vec![("female", 3), (NOT_RECORDED, 1)]);
    }

    #[test]
    fn coded_tables_keep_every_row_including_zeros() {
        let rows = count_by(&[], Dimension::Outcome);
        assert_eq!(rows.len(), ClosureOutcome::ALL.len());
        assert!(rows.iter().all(|r| r.count == 0 && r.dimension == Dimension::Outcome));
        assert_eq!(count_by(&facts(), Dimension::Source).len(), SourceSetting::ALL.len());
        assert_eq!(count_by(&facts(), Dimension::AgeBand).len(), AgeBand::ALL.len() + 1);
        assert!(count_by(&[], Dimension::District).is_empty());
        assert_eq!(count_by(&facts(), Dimension::Reason)[0].label, Need::CriminalExploitation.label());
    }

    #[test]
    fn every_dimension_adds_up_to_the_referrals_it_applies_to() {
        let f = facts();
        let rows = aggregate(&f);
        let total = |d: Dimension| rows.iter().filter(|r| r.dimension == d).map(|r| r.count).sum::<u64>();
        for d in [
            Dimension::Service,
            Dimension::Source,
            Dimension::Reason,
            Dimension::Status,
            Dimension::DecisionWait,
            Dimension::District,
            Dimension::AgeBand,
            Dimension::Sex,
        ] {
            assert_eq!(total(d), 4, "{d}");
        }
        assert_eq!(total(Dimension::Outcome), 2);
        assert_eq!(total(Dimension::DeclineReason), 1);
        assert_eq!(total(Dimension::EngagementWait), 2);
    }

    #[test]
    fn districts_sort_as_read() {
        let mut ds = vec!["ST10", "B12", "ST2", "EC1A", "EC1", "ST4"];
        ds.sort_by_key(|d| district_order(d));
        assert_eq!(ds, vec!["B12", "EC1", "EC1A", "ST2", "ST4", "ST10"]);
    }
}
