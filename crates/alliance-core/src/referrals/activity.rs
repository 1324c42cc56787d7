//! What happened to referrals in a period (a Board pack's quarter): per service, the referrals
//! made, accepted, declined, engaged and closed **in** the period (each step counted in the
//! period its date falls in, whenever the referral was made), the outcomes of those closed,
//! and the waits of the steps taken in the period. Plain counts of anonymous facts; the
//! disclosure point suppresses them.

use chrono::NaiveDate;
use serde::Serialize;

use super::codes::ClosureOutcome;
use super::retention::AnonymousReferral;

/// The steps of one service's referrals in the period.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ServiceActivity {
    pub service: String,
    pub made: u64,
    pub accepted: u64,
    pub declined: u64,
    pub engaged: u64,
    pub closed: u64,
    /// Of those closed, how many with each outcome, in the order of `ClosureOutcome::ALL`.
    pub outcomes: Vec<u64>,
}

impl ServiceActivity {
    fn new(service: &str) -> ServiceActivity {
        ServiceActivity {
            service: service.to_string(),
            outcomes: vec![0; ClosureOutcome::ALL.len()],
            ..Default::default()
        }
    }
}

/// The referral activity of a period.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Activity {
    /// One row per service, in the order of `services` given, then any other met (by id).
    pub services: Vec<ServiceActivity>,
    /// Referrals closed in the period by outcome, every outcome listed (zeros included).
    pub outcomes: Vec<(ClosureOutcome, u64)>,
    /// Days from receipt to decision of the referrals accepted or declined in the period.
    pub decision_waits: Vec<i64>,
    /// Days from acceptance to first engagement of the referrals engaged in the period.
    pub engagement_waits: Vec<i64>,
}

/// The activity of `facts` from `from` to `to` (both included). `services` lists the
/// services that get a row even with nothing in the period (the register), in order.
pub fn activity(facts: &[AnonymousReferral], from: NaiveDate, to: NaiveDate, services: &[String]) -> Activity {
    let within = |d: Option<NaiveDate>| d.is_some_and(|d| d >= from && d <= to);
    let mut rows: Vec<ServiceActivity> = services.iter().map(|s| ServiceActivity::new(s)).collect();
    let mut extra: Vec<ServiceActivity> = Vec::new();
    let mut outcomes: Vec<(ClosureOutcome, u64)> = ClosureOutcome::ALL.iter().map(|&o| (o, 0)).collect();
    let mut out = Activity::default();
    for f in facts {
        let t = &f.timeline;
        let row = match rows.iter().position(|r| r.service == f.service) {
            Some(i) => &mut rows[i],
            None => match extra.iter().position(|r| r.service == f.service) {
                Some(i) => &mut extra[i],
                None => {
                    extra.push(ServiceActivity::new(&f.service));
                    let last = extra.len() - 1;
                    &mut extra[last]
                }
            },
        };
        if within(Some(t.received_on())) {
            row.made += 1;
        }
        if within(t.accepted_on()) {
            row.accepted += 1;
        }
        if within(t.declined().map(|(d, _)| d)) {
            row.declined += 1;
        }
        if within(t.decision().map(|d| d.on())) {
            out.decision_waits.extend(t.decision_wait_days());
        }
        if within(t.engaged_on()) {
            row.engaged += 1;
            out.engagement_waits.extend(t.engagement_wait_days());
        }
        if let Some((on, outcome)) = t.closed() {
            if within(Some(on)) {
                row.closed += 1;
                if let Some(k) = ClosureOutcome::ALL.iter().position(|&c| c == outcome) {
                    outcomes[k].1 += 1;
                    row.outcomes[k] += 1;
                }
            }
        }
    }
    extra.sort_by(|a, b| a.service.cmp(&b.service));
    rows.extend(extra);
    out.services = rows;
    out.outcomes = outcomes;
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::referrals::codes::{DeclineReason, Need, SourceSetting};
    use crate::referrals::referral::Needs;
    use crate::referrals::workflow::{Event, Timeline};

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, m, day).expect("date")
    }

    fn fact(service: &str, received: NaiveDate, events: &[(Event, NaiveDate)]) -> AnonymousReferral {
        AnonymousReferral {
            service: service.into(),
            source: SourceSetting::School,
            needs: Needs::new(Need::CarryingWeapon, vec![]),
            age_band: None,
            sex: None,
            district: None,
            timeline: Timeline::replay(received, events).expect("replay"),
        }
    }

    /// The second quarter of 2025 (1 April to 30 June), worked by hand:
    /// - navigator A: made 20 March, accepted 2 April (13 days), engaged 10 April (8 days),
    ///   closed goals met 30 June: accepted, engaged, closed in the quarter, not made;
    /// - navigator B: made 1 April, declined 1 July: made only;
    /// - mentoring C: made 30 June, declined no capacity the same day (0 days);
    /// - mentoring D: made 1 July: nothing in the quarter;
    /// - parents (in the register): nothing at all, still a row.
    #[test]
    fn steps_count_in_the_quarter_their_dates_fall_in() {
        let facts = vec![
            fact(
                "navigator",
                d(3, 20),
                &[
                    (Event::Accept, d(4, 2)),
                    (Event::Engage, d(4, 10)),
                    (Event::Close { outcome: ClosureOutcome::GoalsMet }, d(6, 30)),
                ],
            ),
            fact("navigator", d(4, 1), &[(Event::Decline { reason: DeclineReason::Other }, d(7, 1))]),
            fact("mentoring", d(6, 30), &[(Event::Decline { reason: DeclineReason::NoCapacity }, d(6, 30))]),
            fact("mentoring", d(7, 1), &[]),
        ];
        let a = activity(&facts, d(4, 1), d(6, 30), &["parents".into(), "navigator".into()]);
        let row = |s: &str| a.services.iter().find(|r| r.service == s).cloned().expect("row");
        assert_eq!(
            a.services.iter().map(|r| r.service.as_str()).collect::<Vec<_>>(),
            vec!["parents", "navigator", "mentoring"]
        );
        let steps =
            |r: ServiceActivity| (r.made, r.accepted, r.declined, r.engaged, r.closed, r.outcomes.iter().sum::<u64>());
        assert_eq!(steps(row("parents")), (0, 0, 0, 0, 0, 0));
        assert_eq!(steps(row("navigator")), (1, 1, 0, 1, 1, 1));
        assert_eq!(steps(row("mentoring")), (1, 0, 1, 0, 0, 0));
        let goals_met = ClosureOutcome::ALL.iter().position(|&o| o == ClosureOutcome::GoalsMet).expect("listed");
        assert_eq!(row("navigator").outcomes[goals_met], 1);
        assert_eq!(a.outcomes.iter().find(|(o, _)| *o == ClosureOutcome::GoalsMet).map(|o| o.1), Some(1));
        assert_eq!(a.outcomes.iter().map(|o| o.1).sum::<u64>(), 1);
        assert_eq!(a.outcomes.len(), ClosureOutcome::ALL.len());
        let mut waits = a.decision_waits.clone();
        waits.sort_unstable();
        assert_eq!(waits, vec![0, 13]);
        assert_eq!(a.engagement_waits, vec![8]);
    }
}
