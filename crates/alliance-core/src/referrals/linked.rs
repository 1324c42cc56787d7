//! Secondary suppression across referral tables that share totals.
//!
//! The referral figures are several one-way tables of the same referrals (by service, source,
//! main reason, status, waiting band, postcode district, age band, sex), and each adds up to
//! the same total. Suppressing each table on its own (its cells and its total) is not enough:
//! a table whose one hidden figure is its total, or a total hidden in one table and shown in
//! another, gives a hidden cell away by subtraction. Other figures are linked the same way:
//! the outcomes of closed referrals add up to the "closed" cell of the status table, the
//! decline reasons to its "declined" cell, the referrals with no decision to its "received"
//! and "withdrawn" cells.
//!
//! So the figures published together are suppressed **together**: every figure appears once
//! ([`Linked::figure`]), each additive relation is a line ([`Linked::line`]: its parts add up
//! to its total), and the rule of `alliance_core::analytics::suppression` runs over all the
//! lines at once: primary suppression of every figure (1 to threshold − 1), then, for every
//! line with exactly one hidden figure, the smallest non-zero shown part of that line is
//! hidden too (ties: the first; a zero part, then the line's total, only when nothing else is
//! left), sweeping the lines in the order given until a sweep changes nothing. A figure shared
//! by several lines (a total, a status cell) is one figure, hidden everywhere or nowhere.
//!
//! At the fixed point no line has exactly one hidden figure, so no hidden figure follows from
//! one relation. Like the one-table rule it is the standard heuristic, deterministic and
//! documented, not an optimal solution against attacks combining several lines (see
//! `docs/disclosure-control.md` and `docs/referrals.md`).

use crate::analytics::suppression::{self, Released, Shown, Suppression};

/// Figures published together and the additive lines between them: a pool of
/// `analytics::suppression::Linked` (whose rule this is), with each figure its own, checked
/// lines, and figures named by handle rather than by key.
#[derive(Debug, Clone, Default)]
pub struct Linked {
    pool: suppression::Linked,
    values: Vec<u64>,
}

/// A figure of a [`Linked`] set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Figure(usize);

impl Linked {
    pub fn new() -> Linked {
        Linked::default()
    }

    /// Adds a published figure.
    pub fn figure(&mut self, value: u64) -> Figure {
        let at = self.pool.figure(&format!("figure {}", self.values.len()), value);
        self.values.push(value);
        Figure(at)
    }

    /// Adds figures, one per value.
    pub fn figures(&mut self, values: &[u64]) -> Vec<Figure> {
        values.iter().map(|&v| self.figure(v)).collect()
    }

    pub fn value(&self, f: Figure) -> u64 {
        self.values[f.0]
    }

    /// Declares that `parts` add up to `total`. Returns false, adding nothing, when they do
    /// not (the caller's mistake: a line that is not additive protects nothing).
    pub fn line(&mut self, parts: &[Figure], total: Figure) -> bool {
        let sum: u64 = parts.iter().map(|p| self.values[p.0]).sum();
        if sum != self.values[total.0] || parts.is_empty() {
            return false;
        }
        let members: Vec<usize> = parts.iter().map(|p| p.0).collect();
        self.pool.line(&members, total.0);
        true
    }

    /// Primary and secondary suppression of every figure under `rule` (module docs).
    pub fn suppress(&self, rule: Suppression) -> Suppressed {
        Suppressed { released: self.pool.suppress(&rule) }
    }
}

/// The figures of a [`Linked`] set as published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppressed {
    released: Released,
}

impl Suppressed {
    pub fn get(&self, f: Figure) -> Shown {
        self.released.figure(f.0)
    }

    pub fn all(&self, fs: &[Figure]) -> Vec<Shown> {
        fs.iter().map(|&f| self.get(f)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Shown::{Primary as P, Secondary as S, Value as V};

    const RULE: Suppression = Suppression { threshold: 5 };

    /// Two tables of the same 20 referrals. Alone, table A (by source: 3, 8, 9) hides 3 and
    /// then 8; table B (by sex: 10, 10) hides nothing. Linked, nothing more is needed: the
    /// total 20 is shown in both and A keeps two hidden cells.
    #[test]
    fn tables_sharing_a_shown_total_suppress_as_alone() {
        let mut l = Linked::new();
        let total = l.figure(20);
        let a = l.figures(&[3, 8, 9]);
        let b = l.figures(&[10, 10]);
        assert!(l.line(&a, total));
        assert!(l.line(&b, total));
        let s = l.suppress(RULE);
        assert_eq!(s.all(&a), vec![P, S, V(9)]);
        assert_eq!(s.all(&b), vec![V(10), V(10)]);
        assert_eq!(s.get(total), V(20));
    }

    /// A small total is one figure, hidden (primary) in every table that adds up to it:
    /// table A of 4 referrals (by source: 4, 0), table B of the same 4 (by sex: 2, 2).
    #[test]
    fn a_hidden_total_is_hidden_in_every_table() {
        let mut l = Linked::new();
        let total = l.figure(4);
        let a = l.figures(&[4, 0]);
        let b = l.figures(&[2, 2]);
        l.line(&a, total);
        l.line(&b, total);
        let s = l.suppress(RULE);
        assert_eq!(s.get(total), P);
        assert_eq!(s.all(&a), vec![P, V(0)]);
        assert_eq!(s.all(&b), vec![P, P]);
    }

    /// A cell of one table equal to the total of another: the outcomes of closed referrals
    /// add up to the "closed" cell of the status table. Status: received 10, accepted 9,
    /// closed 3 (total 22); outcomes of the 3 closed: goals met 3, disengaged 0. The closed
    /// cell is small (hidden), so the outcome line has its total hidden and one part left:
    /// goals met is hidden too, else 3 = closed would be read off it. Worked by hand: the
    /// status line hides 3 (primary) then its smallest non-zero shown part, 9; the outcome
    /// line hides 3 (primary) already, and closed is hidden: two hidden, nothing more.
    #[test]
    fn a_cell_that_is_another_tables_total_is_linked() {
        let mut l = Linked::new();
        let total = l.figure(22);
        let status = l.figures(&[10, 9, 3]);
        let outcomes = l.figures(&[3, 0]);
        l.line(&status, total);
        l.line(&outcomes, status[2]);
        let s = l.suppress(RULE);
        assert_eq!(s.all(&status), vec![V(10), S, P]);
        assert_eq!(s.all(&outcomes), vec![P, V(0)]);
        assert_eq!(s.get(total), V(22));
    }

    /// The outcome table alone (6 and 0, total 6) has nothing small to hide; but when the
    /// status table's sweep hides its "closed" cell, the outcome table would give it back
    /// (6 + 0), so a part of the outcome line is hidden too.
    /// First, status 2, 6, 4 (two primary cells): closed (6) stays shown, nothing to add.
    #[test]
    fn a_cell_hidden_in_one_table_is_not_given_by_another_tables_parts() {
        let mut l = Linked::new();
        let total = l.figure(12);
        let status = l.figures(&[2, 6, 4]);
        let outcomes = l.figures(&[6, 0]);
        l.line(&status, total);
        l.line(&outcomes, status[1]);
        let s = l.suppress(RULE);
        assert_eq!(s.all(&status), vec![P, V(6), P]);
        assert_eq!(s.all(&outcomes), vec![V(6), V(0)]);
        // Then status 2, 6, 7: the status sweep hides 6 (its smallest shown part), the closed
        // cell, so the outcome line (6, 0 → 6) has one hidden figure: its part 6 is hidden too.
        let mut l = Linked::new();
        let total = l.figure(15);
        let status = l.figures(&[2, 6, 7]);
        let outcomes = l.figures(&[6, 0]);
        l.line(&status, total);
        l.line(&outcomes, status[1]);
        let s = l.suppress(RULE);
        assert_eq!(s.all(&status), vec![P, S, V(7)]);
        assert_eq!(s.all(&outcomes), vec![S, V(0)]);
    }

    /// Invariant on many small tables: after suppression no line has exactly one hidden
    /// figure, and shown figures are the values.
    #[test]
    fn no_line_is_left_with_exactly_one_hidden_figure() {
        for seed in 0..200u64 {
            let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let mut next = |m: u64| {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                (x >> 33) % m
            };
            let a: Vec<u64> = (0..4).map(|_| next(9)).collect();
            let n: u64 = a.iter().sum();
            // A second split of the same total: cut it at random points.
            let cut1 = next(n + 1);
            let cut2 = cut1 + next(n - cut1 + 1);
            let b = [cut1, cut2 - cut1, n - cut2];
            let c: Vec<u64> = vec![a[0] / 2, a[0] - a[0] / 2];
            let mut l = Linked::new();
            let total = l.figure(n);
            let fa = l.figures(&a);
            let fb = l.figures(&b);
            let fc = l.figures(&c);
            assert!(l.line(&fa, total));
            assert!(l.line(&fb, total));
            assert!(l.line(&fc, fa[0]));
            let s = l.suppress(RULE);
            for line in [
                [fa.clone(), vec![total]].concat(),
                [fb.clone(), vec![total]].concat(),
                [fc.clone(), vec![fa[0]]].concat(),
            ] {
                let hidden = line.iter().filter(|&&f| s.get(f).is_hidden()).count();
                assert_ne!(hidden, 1, "seed {seed}: a {a:?} b {b:?} c {c:?}");
            }
            for f in fa.iter().chain(&fb).chain(&fc).chain([&total]) {
                if let V(v) = s.get(*f) {
                    assert_eq!(v, l.value(*f));
                    assert!(v == 0 || v >= 5);
                }
            }
        }
    }

    #[test]
    fn a_line_that_does_not_add_up_is_refused() {
        let mut l = Linked::new();
        let total = l.figure(10);
        let parts = l.figures(&[3, 3]);
        assert!(!l.line(&parts, total));
        assert!(!l.line(&[], total));
    }
}
