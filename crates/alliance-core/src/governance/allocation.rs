//! How much of a funding stream's money for a financial year is allocated, unallocated and
//! spent, and whether the stream is over-allocated: more allocated to interventions and
//! organisations than the stream has for the year.
//!
//! Over-allocation is flagged, never refused: real budgets are committed before a top-up
//! arrives, so the partnership records what it has promised and the Board sees the gap.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{FinancialYear, Quarter};

/// The rule for flagging over-allocation, as shown on the funding page and the Board pack.
pub const ALLOCATION_RULE: &str =
    "A funding stream is over-allocated in a financial year when the allocations from it \
     for that year add up to more than its amount for the year. Allocating exactly the amount is not over-allocation. \
     A year with no amount recorded counts as an amount of £0, so any allocation from it is over-allocated until the \
     amount is entered. Unallocated is the amount less the allocations, never below £0; the excess is shown as the \
     amount over.";

/// A stream's amount for a financial year, in pence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamAmount {
    pub stream_id: i64,
    pub year: FinancialYear,
    pub pence: i64,
}

/// An allocation from a stream in a financial year, in pence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamAllocation {
    pub allocation_id: i64,
    pub stream_id: i64,
    pub year: FinancialYear,
    pub pence: i64,
}

/// Spend recorded against an allocation in a quarter, in pence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AllocationSpend {
    pub allocation_id: i64,
    pub quarter: Quarter,
    pub pence: i64,
}

/// The position of one stream in one financial year, all in pence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StreamYearPosition {
    pub stream_id: i64,
    pub year: FinancialYear,
    /// The stream's amount for the year (0 when none is recorded).
    pub amount: i64,
    /// The sum of the year's allocations from the stream.
    pub allocated: i64,
    /// `amount - allocated`, or 0 when that is negative.
    pub unallocated: i64,
    /// `allocated - amount`, or 0 when that is negative: how far over the amount it is.
    pub over_by: i64,
    /// Spend recorded against the year's allocations in the year's quarters up to the
    /// quarter the position is taken at.
    pub spent: i64,
    /// `allocated > amount`; equal is not over-allocated. See [`ALLOCATION_RULE`].
    pub over_allocated: bool,
}

/// Whether `allocated` pence is more than `amount` pence: strictly more, so a stream
/// allocated to the last penny is fully allocated, not over-allocated.
pub fn is_over_allocated(amount: i64, allocated: i64) -> bool {
    allocated > amount
}

/// The position of every stream and financial year that has an amount or an allocation,
/// sorted by stream id and then year. Spend counts when it is recorded against one of the
/// year's allocations in a quarter of that financial year no later than `as_at`; spend
/// recorded in a quarter outside the allocation's year is not the year's spend and is left
/// out. See [`ALLOCATION_RULE`].
pub fn stream_year_positions(
    amounts: &[StreamAmount],
    allocations: &[StreamAllocation],
    spend: &[AllocationSpend],
    as_at: Quarter,
) -> Vec<StreamYearPosition> {
    let mut totals: BTreeMap<(i64, FinancialYear), (i64, i64, i64)> = BTreeMap::new();
    for a in amounts {
        totals.entry((a.stream_id, a.year)).or_default().0 += a.pence;
    }
    let mut key_of: BTreeMap<i64, (i64, FinancialYear)> = BTreeMap::new();
    for a in allocations {
        totals.entry((a.stream_id, a.year)).or_default().1 += a.pence;
        key_of.insert(a.allocation_id, (a.stream_id, a.year));
    }
    for s in spend {
        let Some(key) = key_of.get(&s.allocation_id) else { continue };
        if s.quarter.financial_year() == key.1 && s.quarter <= as_at {
            totals.entry(*key).or_default().2 += s.pence;
        }
    }
    totals
        .into_iter()
        .map(|((stream_id, year), (amount, allocated, spent))| StreamYearPosition {
            stream_id,
            year,
            amount,
            allocated,
            unallocated: (amount - allocated).max(0),
            over_by: (allocated - amount).max(0),
            spent,
            over_allocated: is_over_allocated(amount, allocated),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fy(start: i32) -> FinancialYear {
        FinancialYear { start }
    }

    fn q(s: &str) -> Quarter {
        s.parse().unwrap()
    }

    #[test]
    fn boundary_equal_is_not_over_allocated() {
        assert!(!is_over_allocated(10_000_000, 10_000_000));
        assert!(is_over_allocated(10_000_000, 10_000_001));
        assert!(!is_over_allocated(10_000_000, 0));
        assert!(is_over_allocated(0, 1));
    }

    #[test]
    fn positions_hand_worked() {
        // Stream 1 has £100,000 in 2025/26 and £50,000 in 2026/27. In 2025/26 it allocates
        // £60,000 (allocation 10) and £40,000 (allocation 11): exactly the amount, £0 left.
        // In 2026/27 it allocates £30,000 (allocation 12) and £25,000.01 (allocation 13):
        // £55,000.01 against £50,000, over by £5,000.01.
        // Stream 2 has no amount for 2025/26 but an allocation of £1,000 (allocation 20).
        // Stream 3 has £20,000 in 2025/26 and nothing allocated.
        let amounts = [
            StreamAmount { stream_id: 1, year: fy(2025), pence: 10_000_000 },
            StreamAmount { stream_id: 1, year: fy(2026), pence: 5_000_000 },
            StreamAmount { stream_id: 3, year: fy(2025), pence: 2_000_000 },
        ];
        let allocations = [
            StreamAllocation { allocation_id: 10, stream_id: 1, year: fy(2025), pence: 6_000_000 },
            StreamAllocation { allocation_id: 11, stream_id: 1, year: fy(2025), pence: 4_000_000 },
            StreamAllocation { allocation_id: 12, stream_id: 1, year: fy(2026), pence: 3_000_000 },
            StreamAllocation { allocation_id: 13, stream_id: 1, year: fy(2026), pence: 2_500_001 },
            StreamAllocation { allocation_id: 20, stream_id: 2, year: fy(2025), pence: 100_000 },
        ];
        // Spend on allocation 10: £5,000 in 2025Q2, £7,000 in 2025Q3, £9,000 in 2025Q4 (after
        // the as-at quarter, 2025Q3, so not counted), £1 in 2024Q4 (another financial year,
        // not counted). Allocation 11: £2,500 in 2025Q3. Allocation 12 (2026/27): £3,000 in
        // 2026Q2 (after as-at). An unknown allocation 99 is ignored.
        let spend = [
            AllocationSpend { allocation_id: 10, quarter: q("2025Q2"), pence: 500_000 },
            AllocationSpend { allocation_id: 10, quarter: q("2025Q3"), pence: 700_000 },
            AllocationSpend { allocation_id: 10, quarter: q("2025Q4"), pence: 900_000 },
            AllocationSpend { allocation_id: 10, quarter: q("2024Q4"), pence: 100 },
            AllocationSpend { allocation_id: 11, quarter: q("2025Q3"), pence: 250_000 },
            AllocationSpend { allocation_id: 12, quarter: q("2026Q2"), pence: 300_000 },
            AllocationSpend { allocation_id: 99, quarter: q("2025Q3"), pence: 1 },
        ];
        let p = stream_year_positions(&amounts, &allocations, &spend, q("2025Q3"));
        assert_eq!(p.len(), 4);
        assert_eq!(
            p[0],
            StreamYearPosition {
                stream_id: 1,
                year: fy(2025),
                amount: 10_000_000,
                allocated: 10_000_000,
                unallocated: 0,
                over_by: 0,
                // £5,000 + £7,000 + £2,500.
                spent: 1_450_000,
                over_allocated: false,
            }
        );
        assert_eq!(
            p[1],
            StreamYearPosition {
                stream_id: 1,
                year: fy(2026),
                amount: 5_000_000,
                allocated: 5_500_001,
                unallocated: 0,
                over_by: 500_001,
                spent: 0,
                over_allocated: true,
            }
        );
        assert_eq!(
            (p[2].stream_id, p[2].amount, p[2].allocated, p[2].over_by, p[2].over_allocated),
            (2, 0, 100_000, 100_000, true)
        );
        assert_eq!(
            (p[3].stream_id, p[3].amount, p[3].allocated, p[3].unallocated, p[3].over_allocated),
            (3, 2_000_000, 0, 2_000_000, false)
        );
        // At 2026Q2 the 2026/27 spend counts, and the 2025Q4 spend of 2025/26 does too.
        let later = stream_year_positions(&amounts, &allocations, &spend, q("2026Q2"));
        assert_eq!((later[0].spent, later[1].spent), (2_350_000, 300_000));
    }

    #[test]
    fn nothing_recorded_gives_no_positions() {
        assert!(stream_year_positions(&[], &[], &[], q("2025Q3")).is_empty());
    }
}
