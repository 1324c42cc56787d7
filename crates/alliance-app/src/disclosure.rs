//! The one disclosure point: every figure that reaches a reader without record-level access
//! to its dataset (an aggregate-level partner, the Board, the public) or leaves Alliance in
//! an export passes through a [`Disclosure`], which holds the partnership's configured
//! policy. Nothing else in Alliance constructs a suppression rule or names a threshold, so
//! the configured policy cannot be bypassed by a page that forgot it.
//!
//! The algorithms (primary and secondary suppression) are pure and live in
//! `alliance_core::analytics::suppression`; this module decides which policy applies.

use alliance_core::access::AccessLevel;
use alliance_core::analytics::suppression::{Shown, SuppressedGroups, SuppressedTable, Suppression};

use crate::AppError;

/// The threshold when the partnership configures none: counts of 1 to 4 are hidden, the
/// convention of the ONS and NHS England guidance for health and crime counts.
pub const DEFAULT_THRESHOLD: u64 = 5;

/// The largest threshold accepted: beyond it almost every local figure would be hidden.
pub const MAX_THRESHOLD: u64 = 100;

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

    #[test]
    fn thresholds_outside_the_range_are_refused() {
        assert!(Disclosure::new(1).is_err());
        assert!(Disclosure::new(0).is_err());
        assert!(Disclosure::new(MAX_THRESHOLD + 1).is_err());
        assert!(Disclosure::new(2).is_ok());
    }
}
