//! The workflow a receiving service works a referral through, with the date of each step:
//!
//! ```text
//! received ──accept──▶ accepted ──engage──▶ engaged ──close(outcome)──▶ closed
//!    │                    │                                               ▲
//!    │                    └──close(outcome not needing engagement)────────┘
//!    ├──decline(reason)──▶ declined
//!    └──withdraw─────────▶ withdrawn (by the referrer, before a decision)
//! ```
//!
//! Declined, withdrawn and closed are final. A step may be dated the same day as the one
//! before it, never earlier. The dates are kept in a [`Timeline`] whose fields can only be set
//! through [`transition`], so every stored timeline obeys these rules.

use chrono::NaiveDate;
use serde::Serialize;

use super::codes::{ClosureOutcome, CodeError, DeclineReason};
use crate::codes::code_list;

code_list! {
    /// Where a referral is in the workflow.
    Status ("referral status") {
        Received = "received", "Received: awaiting a decision";
        Accepted = "accepted", "Accepted";
        Declined = "declined", "Declined";
        Engaged = "engaged", "Engaged with the service";
        Closed = "closed", "Closed";
        Withdrawn = "withdrawn", "Withdrawn by the referrer";
    }
}

impl Status {
    /// Whether the service is still working on it (received, accepted or engaged).
    pub fn is_open(self) -> bool {
        matches!(self, Status::Received | Status::Accepted | Status::Engaged)
    }
}

/// Something that happens to a referral.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "event")]
pub enum Event {
    Accept,
    Decline { reason: DeclineReason },
    Engage,
    Close { outcome: ClosureOutcome },
    Withdraw,
}

impl Event {
    /// The event's name: `accept`, `decline`, `engage`, `close`, `withdraw`.
    pub fn name(self) -> &'static str {
        match self {
            Event::Accept => "accept",
            Event::Decline { .. } => "decline",
            Event::Engage => "engage",
            Event::Close { .. } => "close",
            Event::Withdraw => "withdraw",
        }
    }

    /// An event from its name and, for `decline` and `close`, the reason or outcome code
    /// (the API's and the command line's form).
    pub fn parse(name: &str, detail: Option<&str>) -> Result<Event, EventError> {
        let detail = detail.map(str::trim).filter(|d| !d.is_empty());
        let event = match name.trim().to_ascii_lowercase().as_str() {
            "accept" => Event::Accept,
            "engage" => Event::Engage,
            "withdraw" => Event::Withdraw,
            "decline" => {
                Event::Decline { reason: DeclineReason::parse(detail.ok_or(EventError::MissingDeclineReason)?)? }
            }
            "close" => Event::Close { outcome: ClosureOutcome::parse(detail.ok_or(EventError::MissingOutcome)?)? },
            _ => return Err(EventError::UnknownEvent(name.to_string())),
        };
        if detail.is_some() && matches!(event, Event::Accept | Event::Engage | Event::Withdraw) {
            return Err(EventError::UnexpectedDetail(event.name()));
        }
        Ok(event)
    }
}

/// Why a text is not an event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    #[error("unknown event \"{0}\": expected accept, decline, engage, close or withdraw")]
    UnknownEvent(String),
    #[error("a referral is declined with a reason: give one of the decline reasons")]
    MissingDeclineReason,
    #[error("a referral is closed with an outcome: give one of the closure outcomes")]
    MissingOutcome,
    #[error("\"{0}\" takes no reason or outcome")]
    UnexpectedDetail(&'static str),
    #[error(transparent)]
    Code(#[from] CodeError),
}

/// Why an event cannot happen to a referral.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("a referral that is {} cannot be {}", .from.code(), past(.event))]
    NotAllowed { from: Status, event: &'static str },
    #[error(
        "a referral cannot close as \"{}\" before it is engaged: record the engagement first",
        .0.label()
    )]
    NotEngaged(ClosureOutcome),
    #[error("the date {on} is before the referral was {} on {previous}: steps cannot go back in time", .step.code())]
    BeforePreviousStep { on: NaiveDate, previous: NaiveDate, step: Status },
}

/// The past participle of an event's name, for messages.
fn past(event: &str) -> &'static str {
    match event {
        "accept" => "accepted",
        "decline" => "declined",
        "engage" => "engaged",
        "close" => "closed",
        _ => "withdrawn",
    }
}

/// A timeline's dates as plain optional fields (the columns storage keeps), turned back into a
/// [`Timeline`] by [`Timeline::from_dates`], which checks them as if replayed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct TimelineDates {
    pub received: NaiveDate,
    pub accepted: Option<NaiveDate>,
    pub declined: Option<(NaiveDate, DeclineReason)>,
    pub withdrawn: Option<NaiveDate>,
    pub engaged: Option<NaiveDate>,
    pub closed: Option<(NaiveDate, ClosureOutcome)>,
}

/// A service's decision on a referral.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "decision")]
pub enum Decision {
    Accepted { on: NaiveDate },
    Declined { on: NaiveDate, reason: DeclineReason },
}

impl Decision {
    pub fn on(self) -> NaiveDate {
        match self {
            Decision::Accepted { on } | Decision::Declined { on, .. } => on,
        }
    }
}

/// The dates of a referral's steps. Built by [`Timeline::received`] and [`transition`] only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Timeline {
    received: NaiveDate,
    decision: Option<Decision>,
    withdrawn: Option<NaiveDate>,
    engaged: Option<NaiveDate>,
    closed: Option<(NaiveDate, ClosureOutcome)>,
}

impl Timeline {
    /// A referral received on `on`.
    pub fn received(on: NaiveDate) -> Timeline {
        Timeline { received: on, decision: None, withdrawn: None, engaged: None, closed: None }
    }

    /// A timeline rebuilt from its received date and its events in order (as storage keeps
    /// them), checked step by step.
    pub fn replay(received: NaiveDate, events: &[(Event, NaiveDate)]) -> Result<Timeline, TransitionError> {
        events.iter().try_fold(Timeline::received(received), |t, (event, on)| transition(&t, *event, *on))
    }

    /// A timeline from stored dates, replayed in workflow order (decision or withdrawal,
    /// engagement, closure) so that a set of dates no transition could produce is refused.
    pub fn from_dates(dates: &TimelineDates) -> Result<Timeline, TransitionError> {
        let mut events = Vec::with_capacity(4);
        if let Some(on) = dates.accepted {
            events.push((Event::Accept, on));
        }
        if let Some((on, reason)) = dates.declined {
            events.push((Event::Decline { reason }, on));
        }
        if let Some(on) = dates.withdrawn {
            events.push((Event::Withdraw, on));
        }
        if let Some(on) = dates.engaged {
            events.push((Event::Engage, on));
        }
        if let Some((on, outcome)) = dates.closed {
            events.push((Event::Close { outcome }, on));
        }
        Timeline::replay(dates.received, &events)
    }

    /// The dates, for storage.
    pub fn dates(&self) -> TimelineDates {
        TimelineDates {
            received: self.received,
            accepted: self.accepted_on(),
            declined: self.declined(),
            withdrawn: self.withdrawn,
            engaged: self.engaged,
            closed: self.closed,
        }
    }

    pub fn status(&self) -> Status {
        if self.closed.is_some() {
            Status::Closed
        } else if self.engaged.is_some() {
            Status::Engaged
        } else if self.withdrawn.is_some() {
            Status::Withdrawn
        } else {
            match self.decision {
                Some(Decision::Accepted { .. }) => Status::Accepted,
                Some(Decision::Declined { .. }) => Status::Declined,
                None => Status::Received,
            }
        }
    }

    pub fn received_on(&self) -> NaiveDate {
        self.received
    }

    pub fn decision(&self) -> Option<Decision> {
        self.decision
    }

    pub fn accepted_on(&self) -> Option<NaiveDate> {
        match self.decision? {
            Decision::Accepted { on } => Some(on),
            Decision::Declined { .. } => None,
        }
    }

    pub fn declined(&self) -> Option<(NaiveDate, DeclineReason)> {
        match self.decision? {
            Decision::Declined { on, reason } => Some((on, reason)),
            Decision::Accepted { .. } => None,
        }
    }

    pub fn withdrawn_on(&self) -> Option<NaiveDate> {
        self.withdrawn
    }

    pub fn engaged_on(&self) -> Option<NaiveDate> {
        self.engaged
    }

    pub fn closed(&self) -> Option<(NaiveDate, ClosureOutcome)> {
        self.closed
    }

    /// The date of the latest step.
    pub fn last_step_on(&self) -> NaiveDate {
        [Some(self.received), self.decision.map(Decision::on), self.withdrawn, self.engaged, self.closed.map(|c| c.0)]
            .into_iter()
            .flatten()
            .max()
            .unwrap_or(self.received)
    }

    /// When the referral ended (declined, withdrawn or closed): the date retention runs from.
    /// `None` while it is open.
    pub fn ended_on(&self) -> Option<NaiveDate> {
        match self.status() {
            Status::Declined => self.decision.map(Decision::on),
            Status::Withdrawn => self.withdrawn,
            Status::Closed => self.closed.map(|c| c.0),
            Status::Received | Status::Accepted | Status::Engaged => None,
        }
    }

    /// Days from receipt to the service's decision (accept or decline), once decided.
    pub fn decision_wait_days(&self) -> Option<i64> {
        Some((self.decision?.on() - self.received).num_days())
    }

    /// Days from acceptance to the first engagement, once engaged.
    pub fn engagement_wait_days(&self) -> Option<i64> {
        Some((self.engaged? - self.accepted_on()?).num_days())
    }
}

/// The timeline after `event` on `on`, or why it cannot happen: the event must be allowed
/// from the current status (see the module's diagram), and `on` may not be before the latest
/// step. Closing before engagement is allowed only with an outcome that does not say work was
/// done ([`ClosureOutcome::needs_engagement`]).
pub fn transition(current: &Timeline, event: Event, on: NaiveDate) -> Result<Timeline, TransitionError> {
    let from = current.status();
    let not_allowed = || TransitionError::NotAllowed { from, event: event.name() };
    let mut next = *current;
    match (from, event) {
        (Status::Received, Event::Accept) => next.decision = Some(Decision::Accepted { on }),
        (Status::Received, Event::Decline { reason }) => next.decision = Some(Decision::Declined { on, reason }),
        (Status::Received, Event::Withdraw) => next.withdrawn = Some(on),
        (Status::Accepted, Event::Engage) => next.engaged = Some(on),
        (Status::Accepted, Event::Close { outcome }) if outcome.needs_engagement() => {
            return Err(TransitionError::NotEngaged(outcome))
        }
        (Status::Accepted | Status::Engaged, Event::Close { outcome }) => next.closed = Some((on, outcome)),
        _ => return Err(not_allowed()),
    }
    let previous = current.last_step_on();
    if on < previous {
        return Err(TransitionError::BeforePreviousStep { on, previous, step: from });
    }
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::referrals::test_support::date;

    fn close(outcome: ClosureOutcome) -> Event {
        Event::Close { outcome }
    }

    #[test]
    fn the_full_path_records_each_date_and_status() {
        let t = Timeline::received(date(2024, 2, 28));
        assert_eq!(t.status(), Status::Received);
        let t = transition(&t, Event::Accept, date(2024, 3, 1)).expect("accept");
        assert_eq!((t.status(), t.accepted_on()), (Status::Accepted, Some(date(2024, 3, 1))));
        let t = transition(&t, Event::Engage, date(2024, 3, 1)).expect("engage the same day");
        assert_eq!(t.status(), Status::Engaged);
        assert_eq!(t.ended_on(), None);
        let t = transition(&t, close(ClosureOutcome::GoalsMet), date(2024, 8, 31)).expect("close");
        assert_eq!(t.status(), Status::Closed);
        assert_eq!(t.closed(), Some((date(2024, 8, 31), ClosureOutcome::GoalsMet)));
        assert_eq!(t.ended_on(), Some(date(2024, 8, 31)));
        // 28 Feb to 1 Mar 2024 crosses 29 Feb: 2 days.
        assert_eq!(t.decision_wait_days(), Some(2));
        assert_eq!(t.engagement_wait_days(), Some(0));
    }

    #[test]
    fn declined_and_withdrawn_end_the_referral() {
        let received = Timeline::received(date(2023, 2, 28));
        let declined = transition(&received, Event::Decline { reason: DeclineReason::NoCapacity }, date(2023, 3, 1))
            .expect("decline");
        assert_eq!(declined.status(), Status::Declined);
        assert_eq!(declined.declined(), Some((date(2023, 3, 1), DeclineReason::NoCapacity)));
        // 2023 is not a leap year: 28 Feb to 1 Mar is 1 day.
        assert_eq!(declined.decision_wait_days(), Some(1));
        assert_eq!(declined.engagement_wait_days(), None);
        assert_eq!(declined.ended_on(), Some(date(2023, 3, 1)));

        let withdrawn = transition(&received, Event::Withdraw, date(2023, 3, 31)).expect("withdraw");
        assert_eq!(withdrawn.status(), Status::Withdrawn);
        assert_eq!(withdrawn.ended_on(), Some(date(2023, 3, 31)));
        assert_eq!(withdrawn.decision_wait_days(), None);

        for final_state in [declined, withdrawn] {
            for event in [Event::Accept, Event::Engage, Event::Withdraw, close(ClosureOutcome::Other)] {
                let err = transition(&final_state, event, date(2023, 4, 1)).unwrap_err();
                assert!(matches!(err, TransitionError::NotAllowed { .. }), "{err}");
            }
        }
    }

    #[test]
    fn illegal_transitions_are_refused_with_words() {
        let received = Timeline::received(date(2025, 1, 31));
        let err = transition(&received, Event::Engage, date(2025, 2, 1)).unwrap_err();
        assert_eq!(err.to_string(), "a referral that is received cannot be engaged");
        assert!(transition(&received, close(ClosureOutcome::Disengaged), date(2025, 2, 1)).is_err());
        let accepted = transition(&received, Event::Accept, date(2025, 2, 1)).expect("accept");
        assert_eq!(
            transition(&accepted, Event::Withdraw, date(2025, 2, 2)).unwrap_err().to_string(),
            "a referral that is accepted cannot be withdrawn"
        );
        assert!(transition(&accepted, Event::Accept, date(2025, 2, 2)).is_err());
        assert!(transition(&accepted, Event::Decline { reason: DeclineReason::Other }, date(2025, 2, 2)).is_err());
        let engaged = transition(&accepted, Event::Engage, date(2025, 2, 3)).expect("engage");
        assert!(transition(&engaged, Event::Engage, date(2025, 2, 4)).is_err());
        let closed = transition(&engaged, close(ClosureOutcome::PartiallyMet), date(2025, 2, 28)).expect("close");
        assert!(transition(&closed, close(ClosureOutcome::GoalsMet), date(2025, 3, 1)).is_err());
    }

    #[test]
    fn closing_before_engagement_only_with_an_outcome_that_says_no_work_was_done() {
        let accepted = Timeline::replay(date(2025, 1, 1), &[(Event::Accept, date(2025, 1, 2))]).expect("replay");
        let err = transition(&accepted, close(ClosureOutcome::GoalsMet), date(2025, 2, 1)).unwrap_err();
        assert_eq!(err, TransitionError::NotEngaged(ClosureOutcome::GoalsMet));
        assert!(transition(&accepted, close(ClosureOutcome::PartiallyMet), date(2025, 2, 1)).is_err());
        let t = transition(&accepted, close(ClosureOutcome::DeclinedSupport), date(2025, 2, 1)).expect("close");
        assert_eq!(t.status(), Status::Closed);
        assert_eq!(t.engagement_wait_days(), None);
    }

    #[test]
    fn no_step_before_the_one_before() {
        let received = Timeline::received(date(2024, 3, 1));
        let err = transition(&received, Event::Accept, date(2024, 2, 29)).unwrap_err();
        assert_eq!(
            err,
            TransitionError::BeforePreviousStep {
                on: date(2024, 2, 29),
                previous: date(2024, 3, 1),
                step: Status::Received
            }
        );
        assert!(err.to_string().contains("before the referral was received on 2024-03-01"), "{err}");
        let accepted = transition(&received, Event::Accept, date(2024, 3, 10)).expect("accept");
        assert!(transition(&accepted, Event::Engage, date(2024, 3, 9)).is_err());
        let engaged = transition(&accepted, Event::Engage, date(2024, 3, 10)).expect("same day");
        assert!(transition(&engaged, close(ClosureOutcome::MovedAway), date(2024, 3, 9)).is_err());
        // Replaying a bad history fails at the bad step.
        let history = [(Event::Accept, date(2024, 3, 2)), (Event::Engage, date(2024, 3, 1))];
        assert!(matches!(
            Timeline::replay(date(2024, 3, 1), &history),
            Err(TransitionError::BeforePreviousStep { .. })
        ));
    }

    #[test]
    fn waits_across_month_and_year_ends() {
        // Received 31 Dec 2023, accepted 31 Jan 2024: 31 days. Engaged 1 Mar 2024: 31 Jan to
        // 29 Feb is 29 days (February 2024 has 29), one more to 1 Mar: 30 days.
        let t = Timeline::replay(
            date(2023, 12, 31),
            &[(Event::Accept, date(2024, 1, 31)), (Event::Engage, date(2024, 3, 1))],
        )
        .expect("replay");
        assert_eq!(t.decision_wait_days(), Some(31));
        assert_eq!(t.engagement_wait_days(), Some(30));
        assert_eq!(t.last_step_on(), date(2024, 3, 1));
    }

    #[test]
    fn stored_dates_round_trip_and_impossible_sets_are_refused() {
        let t = Timeline::replay(
            date(2024, 2, 29),
            &[(Event::Accept, date(2024, 3, 1)), (Event::Engage, date(2024, 3, 4))],
        )
        .expect("replay");
        assert_eq!(Timeline::from_dates(&t.dates()), Ok(t));
        let received = date(2024, 2, 29);
        let none =
            TimelineDates { received, accepted: None, declined: None, withdrawn: None, engaged: None, closed: None };
        // Closed without a decision; accepted and declined; engaged after a decline.
        let closed_only = TimelineDates { closed: Some((date(2024, 3, 1), ClosureOutcome::Other)), ..none };
        assert!(Timeline::from_dates(&closed_only).is_err());
        let both = TimelineDates {
            accepted: Some(date(2024, 3, 1)),
            declined: Some((date(2024, 3, 1), DeclineReason::Duplicate)),
            ..none
        };
        assert!(Timeline::from_dates(&both).is_err());
        let engaged_declined = TimelineDates {
            declined: Some((date(2024, 3, 1), DeclineReason::Other)),
            engaged: Some(date(2024, 3, 2)),
            ..none
        };
        assert!(Timeline::from_dates(&engaged_declined).is_err());
        assert_eq!(Timeline::from_dates(&none).map(|t| t.status()), Ok(Status::Received));
        for s in Status::ALL {
            assert_eq!(Status::parse(s.code()), Ok(*s));
        }
        assert!(Status::parse("open").is_err());
    }

    #[test]
    fn events_parse_from_names_and_codes() {
        assert_eq!(Event::parse("accept", None), Ok(Event::Accept));
        assert_eq!(
            Event::parse("Decline", Some("no-capacity")),
            Ok(Event::Decline { reason: DeclineReason::NoCapacity })
        );
        assert_eq!(Event::parse("close", Some("goals met")), Ok(Event::Close { outcome: ClosureOutcome::GoalsMet }));
        assert_eq!(Event::parse("close", None), Err(EventError::MissingOutcome));
        assert_eq!(Event::parse("decline", Some(" ")), Err(EventError::MissingDeclineReason));
        assert_eq!(Event::parse("engage", Some("goals-met")), Err(EventError::UnexpectedDetail("engage")));
        assert!(matches!(Event::parse("reopen", None), Err(EventError::UnknownEvent(_))));
        let err = Event::parse("decline", Some("busy")).unwrap_err().to_string();
        assert!(err.starts_with("unknown decline reason \"busy\""), "{err}");
    }
}
