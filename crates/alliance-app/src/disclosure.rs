//! The one disclosure point: every figure that reaches a reader without record-level access
//! to its dataset (an aggregate-level partner, the Board, the public) or leaves Alliance in
//! an export passes through a [`Disclosure`], which holds the partnership's configured
//! policy. Nothing else in Alliance constructs a suppression rule or names a threshold, so
//! the configured policy cannot be bypassed by a page that forgot it.
//!
//! The algorithms (primary and secondary suppression) are pure and live in
//! `alliance_core::analytics::suppression`; this module decides which policy applies.
//!
//! # Fixed partitions (differencing)
//!
//! Suppressing each output on its own does not protect a count that is the difference of two
//! outputs: January–June minus January–May is June, whatever either table hid. So a
//! suppressed source (emergency department assaults, and any restricted dataset read at
//! aggregate level) is published to readers without record-level access only over **one
//! cell of a fixed, non-overlapping partition**:
//! - **time**: one calendar quarter ([`published_period`]: the latest whole calendar
//!   quarter inside the period asked for). Two different requests give either the same
//!   quarter (identical figures) or two disjoint quarters, never two overlapping periods,
//!   so no subtraction of two outputs gives a count for a period that was not published
//!   under suppression itself. Ranges of several quarters are not offered: January–June
//!   minus January–March would give April–June, a quarter published on its own with
//!   primary suppression only.
//! - **area**: the whole partnership area ([`published_areas`]): the district filter is not
//!   applied below record level, since a union of districts minus one district is another
//!   district, and all assaults (placed or not) minus the placed ones is the unplaced rest.
//!
//! Readers with record-level access get the period and districts they ask for, unsuppressed.
//!
//! # Revised figures (late files)
//!
//! A quarter's figures change when a late or corrected file for it arrives, and a reader who
//! kept the earlier figures could subtract them from the new ones. So a quarter is published
//! below record level only once it has been closed for [`PUBLICATION_LAG_DAYS`] days
//! ([`released_on`]): files arriving in that time are in its first publication. Before
//! that, the latest *released* quarter is given instead. Files that arrive later still revise
//! published figures: the limit is documented in `docs/disclosure-control.md`.
//!
//! # Linked tables
//!
//! Every ED table of a published quarter is suppressed together with the others
//! (`crate::ed_release`), so a figure hidden in one table cannot be read off another.

use alliance_core::access::AccessLevel;
use alliance_core::analytics::suppression::{Shown, SuppressedGroups, SuppressedTable, Suppression};
use alliance_core::domain::{Month, MonthRange};

use crate::AppError;

/// The threshold when the partnership configures none: counts of 1 to 4 are hidden, the
/// convention of the ONS and NHS England guidance for health and crime counts.
pub const DEFAULT_THRESHOLD: u64 = alliance_core::partnership::DEFAULT_SUPPRESSION_THRESHOLD;

/// The largest threshold accepted: beyond it almost every local figure would be hidden.
pub const MAX_THRESHOLD: u64 = alliance_core::partnership::MAX_SUPPRESSION_THRESHOLD;

/// The calendar quarter containing `month`.
pub fn quarter_of(month: Month) -> MonthRange {
    let first = month.plus(-i64::from((month.month() - 1) % 3));
    MonthRange { from: first, to: first.plus(2) }
}

/// The latest whole calendar quarter inside `range`, if the range holds one.
pub fn latest_whole_quarter(range: MonthRange) -> Option<MonthRange> {
    let last = quarter_of(range.to);
    let q = if last.to == range.to { last } else { quarter_of(last.from.plus(-1)) };
    (q.from >= range.from).then_some(q)
}

/// Days a calendar quarter must have been closed before its figures from a suppressed
/// source are published below record level (six weeks: monthly ED files and their
/// corrections arrive within a month of the month they cover).
pub const PUBLICATION_LAG_DAYS: i64 = 42;

/// Whether `quarter` (any period: its last month counts) is released on `today`: its last
/// day was at least [`PUBLICATION_LAG_DAYS`] days before.
pub fn released_on(quarter: MonthRange, today: chrono::NaiveDate) -> bool {
    let after = quarter.to.plus(1);
    let Some(next_first) = chrono::NaiveDate::from_ymd_opt(after.year(), after.month(), 1) else {
        return false;
    };
    // The day after the quarter's last day plus the lag, minus one.
    today >= next_first + chrono::Duration::days(PUBLICATION_LAG_DAYS - 1)
}

/// The period a reader at `level` is given figures for when they ask for `requested`
/// from a suppressed source: the period itself at record level; otherwise the latest whole
/// calendar quarter inside it that is released today (see the module docs), or `None` when
/// it holds none (then no figures are given).
pub fn published_period(level: AccessLevel, requested: MonthRange) -> Option<MonthRange> {
    published_period_on(level, requested, alliance_db::clock::today_date())
}

/// [`published_period`] on a given day.
pub fn published_period_on(level: AccessLevel, requested: MonthRange, today: chrono::NaiveDate) -> Option<MonthRange> {
    match level {
        AccessLevel::Record => Some(requested),
        AccessLevel::Aggregate | AccessLevel::None => {
            let mut q = latest_whole_quarter(requested)?;
            while !released_on(q, today) {
                let earlier = quarter_of(q.from.plus(-1));
                if earlier.from < requested.from {
                    return None;
                }
                q = earlier;
            }
            Some(q)
        }
    }
}

/// The districts a reader at `level` is given figures for from a suppressed source: those
/// asked for at record level; otherwise none, meaning the whole partnership area (see the
/// module docs).
pub fn published_areas(level: AccessLevel, requested: &[String]) -> Vec<String> {
    match level {
        AccessLevel::Record => requested.to_vec(),
        AccessLevel::Aggregate | AccessLevel::None => Vec::new(),
    }
}

/// The partnership's disclosure policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Disclosure {
    suppression: Suppression,
}

impl Default for Disclosure {
    fn default() -> Disclosure {
        Disclosure { suppression: Suppression::new(DEFAULT_THRESHOLD) }
    }
}

impl Disclosure {
    /// The policy hiding counts from 1 to `threshold − 1`; `threshold` is from 2 (hide
    /// ones) to [`MAX_THRESHOLD`].
    pub fn new(threshold: u64) -> Result<Disclosure, AppError> {
        if !(2..=MAX_THRESHOLD).contains(&threshold) {
            return Err(AppError::invalid(
                "suppression_threshold",
                format!("the suppression threshold must be between 2 and {MAX_THRESHOLD}, not {threshold}"),
            ));
        }
        Ok(Disclosure { suppression: Suppression::new(threshold) })
    }

    /// Counts below this are never published.
    pub fn threshold(&self) -> u64 {
        self.suppression.threshold
    }

    /// The rule for a reader at `level` of a restricted dataset: `None` at record level
    /// (exact figures), the policy's suppression otherwise.
    pub fn for_level(&self, level: AccessLevel) -> Option<Suppression> {
        match level {
            AccessLevel::Record => None,
            AccessLevel::Aggregate | AccessLevel::None => Some(self.suppression),
        }
    }

    /// The suppression rule itself, for figures published to readers without record access.
    pub fn suppression(&self) -> Suppression {
        self.suppression
    }

    /// A single figure published on its own.
    pub fn count(&self, n: u64) -> Shown {
        self.suppression.count(n)
    }

    /// A list with no totals.
    pub fn list(&self, counts: &[u64]) -> Vec<Shown> {
        self.suppression.list(counts)
    }

    /// A table published with its row, column and grand totals.
    pub fn table(&self, cells: &[Vec<u64>]) -> SuppressedTable {
        self.suppression.table(cells)
    }

    /// A grouped list published with subtotals and a grand total.
    pub fn grouped(&self, groups: &[Vec<u64>]) -> SuppressedGroups {
        self.suppression.grouped(groups)
    }

    /// The text of a published figure: the count, "fewer than N" or "withheld".
    pub fn display(&self, shown: Shown) -> String {
        shown.display(self.threshold())
    }

    /// The text of a published figure for a page a person reads: the count grouped in
    /// thousands as the GOV.UK style asks ("6,305"), "fewer than N" or "withheld". (CSV
    /// downloads keep [`Disclosure::display`]'s plain digits.)
    pub fn display_grouped(&self, shown: Shown) -> String {
        match shown {
            Shown::Value(n) => alliance_core::format::count(i64::try_from(n).unwrap_or(i64::MAX)),
            hidden => self.display(hidden),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_configured_threshold_is_the_one_applied() {
        let ten = Disclosure::new(10).expect("valid");
        assert_eq!(ten.threshold(), 10);
        assert_eq!(ten.count(9), Shown::Primary);
        assert_eq!(ten.display(ten.count(9)), "fewer than 10");
        assert_eq!(ten.display_grouped(ten.count(9)), "fewer than 10");
        assert_eq!(ten.display_grouped(ten.count(6305)), "6,305");
        assert_eq!(ten.display(ten.count(6305)), "6305");
        assert_eq!(ten.count(10), Shown::Value(10));
        assert_eq!(Disclosure::default().count(4), Shown::Primary);
        assert_eq!(Disclosure::default().count(5), Shown::Value(5));
    }

    #[test]
    fn record_level_readers_get_exact_figures_and_others_the_policy() {
        let d = Disclosure::new(7).expect("valid");
        assert_eq!(d.for_level(AccessLevel::Record), None);
        assert_eq!(d.for_level(AccessLevel::Aggregate).map(|s| s.threshold), Some(7));
        assert_eq!(d.for_level(AccessLevel::None).map(|s| s.threshold), Some(7));
    }

    fn m(text: &str) -> Month {
        text.parse().expect("month")
    }

    fn range(from: &str, to: &str) -> MonthRange {
        MonthRange::new(m(from), m(to)).expect("range")
    }

    #[test]
    fn quarters_are_calendar_quarters() {
        assert_eq!(quarter_of(m("2025-01")), range("2025-01", "2025-03"));
        assert_eq!(quarter_of(m("2025-03")), range("2025-01", "2025-03"));
        assert_eq!(quarter_of(m("2025-08")), range("2025-07", "2025-09"));
        assert_eq!(quarter_of(m("2025-12")), range("2025-10", "2025-12"));
    }

    #[test]
    fn a_period_is_snapped_to_its_latest_whole_quarter() {
        // The attack: January–June and January–May give disjoint quarters.
        assert_eq!(latest_whole_quarter(range("2025-01", "2025-06")), Some(range("2025-04", "2025-06")));
        assert_eq!(latest_whole_quarter(range("2025-01", "2025-05")), Some(range("2025-01", "2025-03")));
        assert_eq!(latest_whole_quarter(range("2024-11", "2025-03")), Some(range("2025-01", "2025-03")));
        assert_eq!(latest_whole_quarter(range("2025-02", "2025-04")), None, "no whole quarter");
        assert_eq!(latest_whole_quarter(range("2025-04", "2025-04")), None);
        assert_eq!(latest_whole_quarter(range("2024-10", "2024-12")), Some(range("2024-10", "2024-12")));
    }

    /// Every pair of periods of 2025 gives, below record level, the same quarter or two
    /// disjoint ones: no two published periods overlap without being equal.
    #[test]
    fn no_two_published_periods_overlap_unless_equal() {
        let months: Vec<Month> = range("2025-01", "2025-12").months().collect();
        let mut published = Vec::new();
        for (i, from) in months.iter().enumerate() {
            for to in &months[i..] {
                let asked = MonthRange::new(*from, *to).expect("range");
                assert_eq!(published_period(AccessLevel::Record, asked), Some(asked));
                published.extend(published_period(AccessLevel::Aggregate, asked));
            }
        }
        for a in &published {
            assert_eq!(a.len(), 3, "{a}");
            for b in &published {
                let overlap = a.from <= b.to && b.from <= a.to;
                assert!(!overlap || a == b, "{a} and {b}");
            }
        }
    }

    fn day(text: &str) -> chrono::NaiveDate {
        text.parse().expect("date")
    }

    /// A quarter is published below record level 42 days after it ends (Q1 2026 ends on 31
    /// March: released on 12 May); before that the latest released quarter is given.
    #[test]
    fn a_quarter_is_published_only_once_closed_for_the_lag() {
        let q1 = range("2026-01", "2026-03");
        assert!(!released_on(q1, day("2026-03-31")));
        assert!(!released_on(q1, day("2026-05-11")));
        assert!(released_on(q1, day("2026-05-12")));
        let q4 = range("2025-10", "2025-12");
        assert!(released_on(q4, day("2026-02-11")) && !released_on(q4, day("2026-02-10")));
        let year = range("2025-01", "2026-06");
        assert_eq!(published_period_on(AccessLevel::Aggregate, year, day("2026-07-01")), Some(q1));
        assert_eq!(published_period_on(AccessLevel::Aggregate, year, day("2026-05-01")), Some(q4));
        assert_eq!(
            published_period_on(AccessLevel::Aggregate, year, day("2026-08-11")),
            Some(range("2026-04", "2026-06"))
        );
        assert_eq!(published_period_on(AccessLevel::Record, year, day("2026-05-01")), Some(year), "record: as asked");
        assert_eq!(published_period_on(AccessLevel::Aggregate, q1, day("2026-04-01")), None, "nothing released yet");
    }

    #[test]
    fn districts_apply_at_record_level_only() {
        let asked = vec!["E06000021".to_string()];
        assert_eq!(published_areas(AccessLevel::Record, &asked), asked);
        assert!(published_areas(AccessLevel::Aggregate, &asked).is_empty());
        assert!(published_areas(AccessLevel::None, &asked).is_empty());
    }

    #[test]
    fn thresholds_outside_the_range_are_refused() {
        assert!(Disclosure::new(1).is_err());
        assert!(Disclosure::new(0).is_err());
        assert!(Disclosure::new(MAX_THRESHOLD + 1).is_err());
        assert!(Disclosure::new(2).is_ok());
    }
}
