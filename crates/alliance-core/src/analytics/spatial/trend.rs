//! The Mann–Kendall trend test (Mann 1945; Kendall 1975), as used by ArcGIS's Emerging Hot
//! Spot Analysis on each location's series of Gi* z-scores and by Create Space Time Cube on
//! each location's counts.
//!
//! For a series `x_1 … x_m` in time order:
//! - `S = Σ_{k<l} sign(x_l − x_k)` (ties contribute 0);
//! - `Var S = (m(m−1)(2m+5) − Σ_g t_g(t_g−1)(2t_g+5)) / 18`, the sum running over the groups
//!   of tied values of sizes `t_g` (Kendall 1975; Hirsch, Slack & Smith 1982, eq. 3 — the
//!   formula of `pymannkendall.original_test`);
//! - `Z = (S − 1)/√Var S` for `S > 0`, `(S + 1)/√Var S` for `S < 0`, 0 for `S = 0`
//!   (continuity correction);
//! - two-sided p-value `2·(1 − Φ(|Z|))`;
//! - Kendall's `τ = S / (m(m−1)/2)` (τ-a, as `pymannkendall`'s `Tau`).
//!
//! Ties are exact equality of the values. A series with fewer than 2 values, a non-finite
//! value, or every value tied has no trend: `Z = 0`, `p = 1`.

use super::two_sided_normal_p;
use serde::Serialize;

/// The outcome of a Mann–Kendall test on one series.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MannKendall {
    pub s: i64,
    pub variance: f64,
    pub z: f64,
    /// Two-sided.
    pub p: f64,
    pub tau: f64,
}

impl MannKendall {
    /// No trend (undefined test).
    pub const NONE: MannKendall = MannKendall { s: 0, variance: 0.0, z: 0.0, p: 1.0, tau: 0.0 };

    /// Significant upward (+1), downward (−1) or no (0) trend at two-sided level `alpha`
    /// (`p ≤ alpha`).
    pub fn direction(&self, alpha: f64) -> i8 {
        if self.p <= alpha && self.z > 0.0 {
            1
        } else if self.p <= alpha && self.z < 0.0 {
            -1
        } else {
            0
        }
    }
}

/// Mann–Kendall trend test of one series in time order.
pub fn mann_kendall_test(series: &[f64]) -> MannKendall {
    let m = series.len();
    if m < 2 || series.iter().any(|v| !v.is_finite()) {
        return MannKendall::NONE;
    }
    let mut s: i64 = 0;
    for k in 0..m {
        let a = series[k];
        for &b in &series[k + 1..] {
            s += (b > a) as i64 - (b < a) as i64;
        }
    }
    let mut sorted = series.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mut ties = 0.0;
    let mut k = 0;
    while k < m {
        let mut l = k;
        while l + 1 < m && sorted[l + 1] == sorted[k] {
            l += 1;
        }
        let t = (l - k + 1) as f64;
        ties += t * (t - 1.0) * (2.0 * t + 5.0);
        k = l + 1;
    }
    let mf = m as f64;
    let variance = (mf * (mf - 1.0) * (2.0 * mf + 5.0) - ties) / 18.0;
    if variance <= 0.0 {
        return MannKendall::NONE;
    }
    let z = match s.cmp(&0) {
        std::cmp::Ordering::Greater => (s as f64 - 1.0) / variance.sqrt(),
        std::cmp::Ordering::Less => (s as f64 + 1.0) / variance.sqrt(),
        std::cmp::Ordering::Equal => 0.0,
    };
    MannKendall { s, variance, z, p: two_sided_normal_p(z), tau: s as f64 / (mf * (mf - 1.0) / 2.0) }
}

/// Mann–Kendall test of an integer series (counts).
pub fn mann_kendall_counts(series: &[i64]) -> MannKendall {
    let as_f64: Vec<f64> = series.iter().map(|&v| v as f64).collect();
    mann_kendall_test(&as_f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rising_series_without_ties() {
        // 1..5: every pair rises, S = 10; Var = 5·4·15/18 = 50/3; Z = 9/√(50/3) = 2.2045…;
        // τ = 10/10 = 1.
        let r = mann_kendall_test(&[1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(r.s, 10);
        assert!((r.variance - 50.0 / 3.0).abs() < 1e-12);
        assert!((r.z - 9.0 / (50.0_f64 / 3.0).sqrt()).abs() < 1e-12);
        assert_eq!(r.tau, 1.0);
        // p = 2(1 − Φ(2.2045)) = 0.02749…
        assert!((r.p - 0.027_49).abs() < 1e-4, "{}", r.p);
        assert_eq!(r.direction(0.05), 1);
        assert_eq!(r.direction(0.01), 0);
    }

    #[test]
    fn ties_reduce_the_variance_by_the_published_formula() {
        // 3, 1, 3, 3, 2, 5 (m = 6). Pairs (k<l), sign(x_l − x_k):
        //   from 3: 1↓ 3= 3= 2↓ 5↑ → −1
        //   from 1: 3↑ 3↑ 2↑ 5↑    → +4
        //   from 3: 3= 2↓ 5↑       → 0
        //   from 3: 2↓ 5↑          → 0
        //   from 2: 5↑             → +1
        // S = 4. One tie group of three 3s: t(t−1)(2t+5) = 3·2·11 = 66.
        // Var = (6·5·17 − 66)/18 = (510 − 66)/18 = 444/18 = 24.666…; Z = 3/√24.666… = 0.60404…
        let r = mann_kendall_test(&[3.0, 1.0, 3.0, 3.0, 2.0, 5.0]);
        assert_eq!(r.s, 4);
        assert!((r.variance - 444.0 / 18.0).abs() < 1e-12);
        assert!((r.z - 3.0 / (444.0_f64 / 18.0).sqrt()).abs() < 1e-12);
        assert!((r.tau - 4.0 / 15.0).abs() < 1e-15);
        // falling with two tie groups: 2, 2, 1, 1 → S = −4 (the four cross pairs fall);
        // ties 2·(2·1·9) = 36; Var = (4·3·13 − 36)/18 = 120/18; Z = −3/√(20/3)
        let r = mann_kendall_counts(&[2, 2, 1, 1]);
        assert_eq!(r.s, -4);
        assert!((r.z + 3.0 / (20.0_f64 / 3.0).sqrt()).abs() < 1e-12);
    }

    #[test]
    fn degenerate_series_have_no_trend() {
        assert_eq!(mann_kendall_test(&[]), MannKendall::NONE);
        assert_eq!(mann_kendall_test(&[4.0]), MannKendall::NONE);
        assert_eq!(mann_kendall_test(&[2.0, 2.0, 2.0]), MannKendall::NONE);
        assert_eq!(mann_kendall_test(&[1.0, f64::NAN]), MannKendall::NONE);
        assert_eq!(mann_kendall_test(&[1.0, 2.0, 1.0, 2.0]).s, 2);
    }
}
