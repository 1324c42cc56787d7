//! Waiting times: from receipt to the service's decision, and from acceptance to the first
//! engagement, in whole calendar days (the same day is 0), summarised by count, median and
//! 90th percentile.
//!
//! Conventions:
//! - **Median**: the middle value of the sorted waits; for an even count, the mean of the two
//!   middle values (so it may end in .5). This is the usual definition (Excel `MEDIAN`,
//!   R `median`).
//! - **90th percentile**: the nearest-rank method, the smallest wait such that at least 90% of
//!   waits are no longer: the value at rank ⌈0.9 × n⌉ of the sorted waits (Hyndman and Fan,
//!   "Sample quantiles in statistical packages", The American Statistician 50(4), 1996,
//!   definition 1). It is always a wait that occurred, and "90% of referrals were decided
//!   within N days" is then exactly true. It differs from Excel's `PERCENTILE.INC` (definition
//!   7, which interpolates): for waits 1 to 10 days this gives 9, Excel 9.1.
//!
//! Only referrals that reached both dates count: a referral still awaiting its decision is
//! in `awaiting_decision`, not in the decision waits.

use serde::Serialize;

use super::workflow::{Status, Timeline};

/// Count, median and 90th percentile of waits in days; `None` when there are none.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct WaitSummary {
    pub count: usize,
    pub median: Option<f64>,
    pub p90: Option<i64>,
}

/// The waits of a set of referrals.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct WaitingTimes {
    /// Receipt to accept or decline.
    pub decision: WaitSummary,
    /// Acceptance to first engagement.
    pub engagement: WaitSummary,
    /// Referrals received and not yet decided (nor withdrawn).
    pub awaiting_decision: usize,
}

/// The value at rank ⌈p/100 × n⌉ (1-based) of `sorted` (ascending); `None` when empty.
/// `percent` is clamped to 1–100.
pub fn nearest_rank(sorted: &[i64], percent: u32) -> Option<i64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let p = percent.clamp(1, 100) as usize;
    // ⌈p·n/100⌉ in integers, at least rank 1.
    let rank = (p * n).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

/// The median of `sorted` (ascending); `None` when empty.
pub fn median(sorted: &[i64]) -> Option<f64> {
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2] as f64),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) as f64 / 2.0),
    }
}

/// Count, median and 90th percentile of `days` (any order).
pub fn summarise(days: &[i64]) -> WaitSummary {
    let mut sorted = days.to_vec();
    sorted.sort_unstable();
    WaitSummary { count: sorted.len(), median: median(&sorted), p90: nearest_rank(&sorted, 90) }
}

/// The waiting times of `timelines`.
pub fn waiting_times<'a>(timelines: impl IntoIterator<Item = &'a Timeline>) -> WaitingTimes {
    let mut decision = Vec::new();
    let mut engagement = Vec::new();
    let mut awaiting_decision = 0;
    for t in timelines {
        decision.extend(t.decision_wait_days());
        engagement.extend(t.engagement_wait_days());
        if t.status() == Status::Received {
            awaiting_decision += 1;
        }
    }
    WaitingTimes { decision: summarise(&decision), engagement: summarise(&engagement), awaiting_decision }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::referrals::codes::DeclineReason;
    use crate::referrals::test_support::date;
    use crate::referrals::workflow::Event;

    #[test]
    fn median_and_nearest_rank_on_hand_worked_sets() {
        assert_eq!(summarise(&[]), WaitSummary { count: 0, median: None, p90: None });
        assert_eq!(summarise(&[5]), WaitSummary { count: 1, median: Some(5.0), p90: Some(5) });
        // Sorted 1 2 3: median 2; rank ⌈2.7⌉ = 3.
        assert_eq!(summarise(&[3, 1, 2]), WaitSummary { count: 3, median: Some(2.0), p90: Some(3) });
        // 1 2 3 4: median (2+3)/2; rank ⌈3.6⌉ = 4.
        assert_eq!(summarise(&[4, 3, 2, 1]), WaitSummary { count: 4, median: Some(2.5), p90: Some(4) });
        // 1..10: median 5.5; rank ⌈9⌉ = 9 exactly (interpolation would give 9.1).
        let ten: Vec<i64> = (1..=10).collect();
        assert_eq!(summarise(&ten), WaitSummary { count: 10, median: Some(5.5), p90: Some(9) });
        // 1..20: rank 18.
        let twenty: Vec<i64> = (1..=20).rev().collect();
        assert_eq!(summarise(&twenty).p90, Some(18));
        // Eleven waits: rank ⌈9.9⌉ = 10th value, 34; median the 6th, 5.
        let fib = [0, 1, 1, 2, 3, 5, 8, 13, 21, 34, 55];
        assert_eq!(summarise(&fib), WaitSummary { count: 11, median: Some(5.0), p90: Some(34) });
        // Ties: 7 7 7 7 30 — rank ⌈4.5⌉ = 5 is the long wait.
        assert_eq!(summarise(&[7, 30, 7, 7, 7]), WaitSummary { count: 5, median: Some(7.0), p90: Some(30) });
    }

    #[test]
    fn nearest_rank_edges() {
        let v = [10, 20, 30, 40];
        assert_eq!(nearest_rank(&v, 100), Some(40));
        assert_eq!(nearest_rank(&v, 25), Some(10)); // ⌈1⌉ = 1
        assert_eq!(nearest_rank(&v, 26), Some(20)); // ⌈1.04⌉ = 2
        assert_eq!(nearest_rank(&v, 0), Some(10)); // clamped to 1%
        assert_eq!(nearest_rank(&[], 90), None);
    }

    #[test]
    fn waits_of_referrals_count_only_completed_intervals() {
        let replay = |received, events: &[(Event, NaiveDate)]| Timeline::replay(received, events).expect("replay");
        let timelines = [
            // Decided in 2 days (across 29 Feb 2024), engaged 5 days later.
            replay(date(2024, 2, 28), &[(Event::Accept, date(2024, 3, 1)), (Event::Engage, date(2024, 3, 6))]),
            // Declined after 10 days.
            replay(date(2024, 3, 1), &[(Event::Decline { reason: DeclineReason::NotEligible }, date(2024, 3, 11))]),
            // Accepted after 4 days, not yet engaged.
            replay(date(2024, 3, 1), &[(Event::Accept, date(2024, 3, 5))]),
            // Awaiting a decision; and withdrawn (neither counts in the decision waits).
            replay(date(2024, 3, 1), &[]),
            replay(date(2024, 3, 1), &[(Event::Withdraw, date(2024, 3, 2))]),
        ];
        let w = waiting_times(&timelines);
        // Decision waits 2, 10, 4 → sorted 2 4 10: median 4, rank ⌈2.7⌉ = 3 → 10.
        assert_eq!(w.decision, WaitSummary { count: 3, median: Some(4.0), p90: Some(10) });
        assert_eq!(w.engagement, WaitSummary { count: 1, median: Some(5.0), p90: Some(5) });
        assert_eq!(w.awaiting_decision, 1);
    }
}
