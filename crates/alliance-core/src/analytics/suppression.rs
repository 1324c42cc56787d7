//! Small-number suppression: counts below a threshold are never shown, and enough other
//! cells are hidden that a suppressed count cannot be worked out from the totals.
//!
//! Conventions (following the common practice of the ONS and NHS England statistical
//! disclosure control guidance):
//! - **Primary suppression**: a count `n` with `0 < n < threshold` (5 unless configured) is hidden and
//!   shown as "fewer than 5". Zero is shown: it describes nobody. Totals are counts too, so a
//!   small row, column or grand total is hidden the same way.
//! - **Secondary (complementary) suppression** for a table published with row totals,
//!   column totals and a grand total. The table with its margins is a grid of
//!   `(rows + 1) × (columns + 1)` figures linked by one additive line per row (its cells sum
//!   to its row total, including the row of column totals) and one per column. A line with
//!   exactly one hidden figure gives that figure away (total minus the rest), so:
//!   for every line with exactly one hidden figure, also hide the smallest non-zero shown
//!   cell of that line (ties: the first), preferring inner cells to the line's total and
//!   falling back to a zero cell, then the total, only when nothing else is left. Sweep all
//!   rows then all columns, and repeat until a sweep changes nothing (a fixed point; it
//!   terminates because figures are only ever hidden, never shown again).
//!
//! At the fixed point no line has exactly one hidden figure, so no hidden figure follows
//! from a single row or column. This is the standard heuristic, not an optimal
//! (least-information-loss) solution, and it does not rule out every attack that combines
//! several lines; tables needing that stronger guarantee need a specialised tool (e.g.
//! tau-ARGUS).

use serde::Serialize;

/// The threshold of this module's worked examples (the partnership's own policy, and its
/// default, are held by the application's disclosure point, never here).
#[cfg(test)]
pub(crate) const EXAMPLE_THRESHOLD: u64 = 5;

/// One figure as published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "status", content = "value", rename_all = "kebab-case")]
pub enum Shown {
    /// The count itself.
    Value(u64),
    /// Hidden because it is small.
    Primary,
    /// Hidden so a small count cannot be worked out from the totals.
    Secondary,
}

impl Shown {
    /// The text shown for the figure under `threshold`.
    pub fn display(self, threshold: u64) -> String {
        match self {
            Shown::Value(n) => n.to_string(),
            Shown::Primary => format!("fewer than {threshold}"),
            Shown::Secondary => "withheld".to_string(),
        }
    }

    pub fn value(self) -> Option<u64> {
        match self {
            Shown::Value(n) => Some(n),
            Shown::Primary | Shown::Secondary => None,
        }
    }

    pub fn is_hidden(self) -> bool {
        !matches!(self, Shown::Value(_))
    }
}

/// A table after suppression, with its margins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SuppressedTable {
    pub cells: Vec<Vec<Shown>>,
    pub row_totals: Vec<Shown>,
    pub column_totals: Vec<Shown>,
    pub total: Shown,
}

/// The suppression rule with its threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Suppression {
    pub threshold: u64,
}

impl Suppression {
    pub fn new(threshold: u64) -> Suppression {
        Suppression { threshold }
    }

    /// Primary suppression of a single figure (one published on its own, with no totals).
    pub fn count(&self, n: u64) -> Shown {
        if n > 0 && n < self.threshold {
            Shown::Primary
        } else {
            Shown::Value(n)
        }
    }

    /// Primary suppression of a list with no totals published.
    pub fn list(&self, counts: &[u64]) -> Vec<Shown> {
        counts.iter().map(|&n| self.count(n)).collect()
    }

    /// Primary and secondary suppression of a table of counts (`cells[row][column]`; rows
    /// must have the same length) published with its row, column and grand totals.
    pub fn table(&self, cells: &[Vec<u64>]) -> SuppressedTable {
        let rows = cells.len();
        let columns = cells.first().map_or(0, Vec::len);
        // The grid with margins, flattened row by row: row `rows` is the row of column
        // totals, column `columns` the column of row totals.
        let width = columns + 1;
        let mut grid = vec![0u64; (rows + 1) * width];
        for (i, row) in cells.iter().enumerate() {
            for j in 0..columns {
                let v = row.get(j).copied().unwrap_or(0);
                grid[i * width + j] = v;
                grid[i * width + columns] += v;
                grid[rows * width + j] += v;
                grid[rows * width + columns] += v;
            }
        }
        // A line is a list of grid positions whose last one is the line's total.
        let mut lines: Vec<Vec<usize>> = Vec::with_capacity(rows + columns + 2);
        for i in 0..=rows {
            lines.push((0..=columns).map(|j| i * width + j).collect());
        }
        for j in 0..=columns {
            lines.push((0..=rows).map(|i| i * width + j).collect());
        }
        let mut state = self.lines(&grid, &lines).into_iter();
        let mut table = Vec::with_capacity(rows);
        let mut row_totals = Vec::with_capacity(rows);
        for _ in 0..rows {
            let row: Vec<Shown> = state.by_ref().take(width).collect();
            let (inner, total) = row.split_at(columns);
            table.push(inner.to_vec());
            row_totals.push(total.first().copied().unwrap_or(Shown::Value(0)));
        }
        let mut column_totals: Vec<Shown> = state.collect();
        let total = column_totals.pop().unwrap_or(Shown::Value(0));
        SuppressedTable { cells: table, row_totals, column_totals, total }
    }

    /// Primary and secondary suppression of a grouped list published with a subtotal per
    /// group and a grand total (e.g. assault methods within serious violence groups): each
    /// group's members sum to its subtotal, and the subtotals sum to the total. The same
    /// rule as [`Suppression::table`] over those lines.
    pub fn grouped(&self, groups: &[Vec<u64>]) -> SuppressedGroups {
        // Flattened: each group's members then its subtotal; the grand total last.
        let mut values = Vec::new();
        let mut lines = Vec::with_capacity(groups.len() + 1);
        let mut top = Vec::with_capacity(groups.len() + 1);
        for members in groups {
            let start = values.len();
            values.extend_from_slice(members);
            values.push(members.iter().sum());
            let line: Vec<usize> = (start..values.len()).collect();
            top.push(values.len() - 1);
            lines.push(line);
        }
        values.push(groups.iter().flatten().sum());
        top.push(values.len() - 1);
        lines.push(top);
        let state = self.lines(&values, &lines);
        let mut out = SuppressedGroups { members: Vec::new(), subtotals: Vec::new(), total: Shown::Value(0) };
        let mut at = 0;
        for members in groups {
            out.members.push(state[at..at + members.len()].to_vec());
            out.subtotals.push(state[at + members.len()]);
            at += members.len() + 1;
        }
        out.total = state.last().copied().unwrap_or(Shown::Value(0));
        out
    }

    /// The rule over any set of additive lines: `values` are the published figures, each
    /// line lists positions in `values` whose last one is the sum of the others. Primary
    /// suppression, then the complementary sweep of the module docs to a fixed point.
    fn lines(&self, values: &[u64], lines: &[Vec<usize>]) -> Vec<Shown> {
        let mut state: Vec<Shown> = values.iter().map(|&v| self.count(v)).collect();
        loop {
            let mut changed = false;
            for line in lines {
                let hidden = line.iter().filter(|&&p| state[p].is_hidden()).count();
                if hidden != 1 {
                    continue;
                }
                let (inner, total) = line.split_at(line.len().saturating_sub(1));
                let shown_inner = || inner.iter().filter(|&&p| !state[p].is_hidden());
                let pick = shown_inner()
                    .filter(|&&p| values[p] > 0)
                    .min_by_key(|&&p| values[p])
                    .or_else(|| shown_inner().next())
                    .or_else(|| total.iter().find(|&&p| !state[p].is_hidden()))
                    .copied();
                if let Some(p) = pick {
                    state[p] = Shown::Secondary;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        state
    }
}

/// A grouped list after suppression (see [`Suppression::grouped`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SuppressedGroups {
    pub members: Vec<Vec<Shown>>,
    pub subtotals: Vec<Shown>,
    pub total: Shown,
}

#[cfg(test)]
mod tests {
    use super::*;
    use Shown::{Primary as P, Secondary as S, Value as V};

    /// Worked by hand (see the module docs for the order of the sweeps):
    /// ```text
    ///        c0  c1  c2 | total
    ///   A    12   3   8 |  23
    ///   B     7   9   6 |  22
    ///   C    10  11   2 |  23
    ///   ----------------+------
    ///        29  23  16 |  68
    /// ```
    /// Primary: A/c1 = 3 and C/c2 = 2. Sweep 1, rows: row A has one hidden → its smallest
    /// shown cell 8 (A/c2); row C → 10 (C/c0). Columns: c0 has one hidden (C/c0) → 7 (B/c0);
    /// c1 has one (A/c1) → 9 (B/c1); c2 has two. Sweep 2 changes nothing: every row and
    /// column has two hidden cells.
    #[test]
    fn secondary_suppression_worked_example() {
        let table = Suppression::new(EXAMPLE_THRESHOLD).table(&[vec![12, 3, 8], vec![7, 9, 6], vec![10, 11, 2]]);
        assert_eq!(table.cells, vec![vec![V(12), P, S], vec![S, S, V(6)], vec![S, V(11), P]]);
        assert_eq!(table.row_totals, vec![V(23), V(22), V(23)]);
        assert_eq!(table.column_totals, vec![V(29), V(23), V(16)]);
        assert_eq!(table.total, V(68));
        assert_no_line_with_one_hidden(&table);
    }

    /// A small row total is suppressed too, and the column of row totals then needs a
    /// complement:
    /// ```text
    ///    2   1 |  3      → P  P | P
    ///   10  10 | 20      → S  S | S
    ///   12  11 | 23      → 12 11 | 23
    /// ```
    /// Column c0 has one hidden (2) → 10; c1 → 10; the totals column has one hidden (3) → 20.
    #[test]
    fn small_totals_are_hidden_with_complements() {
        let table = Suppression::new(EXAMPLE_THRESHOLD).table(&[vec![2, 1], vec![10, 10]]);
        assert_eq!(table.cells, vec![vec![P, P], vec![S, S]]);
        assert_eq!(table.row_totals, vec![P, S]);
        assert_eq!(table.column_totals, vec![V(12), V(11)]);
        assert_eq!(table.total, V(23));
        assert_no_line_with_one_hidden(&table);
    }

    /// Zeros are shown and chosen as complements only when nothing else is left.
    #[test]
    fn zero_is_shown_and_avoided_as_complement() {
        let table = Suppression::new(EXAMPLE_THRESHOLD).table(&[vec![0, 4, 20, 9]]);
        // 4 hidden → smallest non-zero shown cell is 9, not 0.
        assert_eq!(table.cells, vec![vec![V(0), P, V(20), S]]);
        assert_eq!(table.row_totals, vec![V(33)]);
        // The row of column totals repeats the row's figures (4 primary; one hidden → 9).
        assert_eq!(table.column_totals, vec![V(0), P, V(20), S]);
        assert_no_line_with_one_hidden(&table);
    }

    #[test]
    fn threshold_is_configurable_and_displayed() {
        let s = Suppression::new(10);
        assert_eq!(s.list(&[0, 1, 9, 10]), vec![V(0), P, P, V(10)]);
        assert_eq!(P.display(10), "fewer than 10");
        assert_eq!(Suppression::new(EXAMPLE_THRESHOLD).count(4).display(5), "fewer than 5");
        assert_eq!(S.display(5), "withheld");
        assert_eq!(V(5).display(5), "5");
        let clean = Suppression::new(EXAMPLE_THRESHOLD).table(&[vec![5, 6], vec![7, 8]]);
        assert!(clean.cells.iter().flatten().all(|c| !c.is_hidden()));
    }

    /// Worked by hand:
    /// ```text
    ///   group A: 3, 20 | 23        group B: 40 | 40        group C: 0, 12, 9 | 21
    ///   total 84
    /// ```
    /// Primary: A's 3. Lines in order: A has one hidden → its smallest non-zero shown member,
    /// 20. B and C have none. The top line (23, 40, 21 | 84) has none hidden. Nothing more
    /// changes. Then with B = 2 instead: B's member and subtotal are primary (2 hidden in
    /// B); the top line has one hidden (B's 2) → the smallest shown subtotal, C's 21, whose
    /// group then has one hidden → C's smallest non-zero member, 9.
    #[test]
    fn grouped_list_worked_example() {
        let s = Suppression::new(EXAMPLE_THRESHOLD);
        let g = s.grouped(&[vec![3, 20], vec![40], vec![0, 12, 9]]);
        assert_eq!(g.members, vec![vec![P, S], vec![V(40)], vec![V(0), V(12), V(9)]]);
        assert_eq!(g.subtotals, vec![V(23), V(40), V(21)]);
        assert_eq!(g.total, V(84));
        let g = s.grouped(&[vec![30, 20], vec![2], vec![0, 12, 9]]);
        assert_eq!(g.members, vec![vec![V(30), V(20)], vec![P], vec![V(0), V(12), S]]);
        assert_eq!(g.subtotals, vec![V(50), P, S]);
        assert_eq!(g.total, V(73));
    }

    fn assert_no_line_with_one_hidden(t: &SuppressedTable) {
        let mut grid: Vec<Vec<Shown>> =
            t.cells.iter().zip(&t.row_totals).map(|(r, tot)| r.iter().copied().chain([*tot]).collect()).collect();
        grid.push(t.column_totals.iter().copied().chain([t.total]).collect());
        for row in &grid {
            assert_ne!(row.iter().filter(|c| c.is_hidden()).count(), 1, "row {row:?}");
        }
        for j in 0..grid[0].len() {
            assert_ne!(grid.iter().filter(|r| r[j].is_hidden()).count(), 1, "column {j}");
        }
    }
}
