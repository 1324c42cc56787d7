//! Getis–Ord local statistics Gi* and Gi (Getis & Ord 1992; Ord & Getis 1995), the
//! statistic of ArcGIS's "Hot Spot Analysis (Getis-Ord Gi*)".
//!
//! With binary weights `w_ij` (never row-standardised) and `W_i = Σ_j w_ij`:
//!
//! - **Gi\*** includes the unit itself with `w_ii = 1`; the sums run over all `n` units:
//!   `z_i = (Σ_j w_ij x_j − x̄ W_i) / (S · √((n W_i − W_i²)/(n − 1)))`,
//!   with `x̄ = Σx/n` and `S² = Σx²/n − x̄²` (Ord & Getis 1995, eq. 14 with binary weights,
//!   `S1_i = W_i`).
//! - **Gi** excludes the unit: the sums run over the other `n − 1` units, and the mean and
//!   variance are those of the other values, `x̄(i)` and `s(i)²`:
//!   `z_i = (Σ_{j≠i} w_ij x_j − x̄(i) W_i) / (s(i) · √(((n−1) W_i − W_i²)/(n − 2)))`.
//!
//! The z-scores are computed from exact integer sums (`n·T − Σx·W` and `n·Σx² − (Σx)²`), so
//! they are free of cancellation. `esda.G_Local(y, w, transform="B", star=True/False)`
//! gives the same `Zs`. Where `esda` differs:
//! - `esda`'s default `transform="R"` (row-standardised weights) does not give the Ord &
//!   Getis z-score; Alliance always uses binary weights;
//! - `esda`'s `p_norm` is one-sided (`sf(|z|)`); `p_norm` here is two-sided, `2·(1 − Φ(|z|))`;
//! - `esda`'s `p_sim` is the folded one-sided value ([`Alternative::Directed`] here, except
//!   that ties count as extreme in both tails); the default here is two-sided;
//! - where the z-score is undefined (all values equal, or a unit whose neighbourhood is the
//!   whole study area so that `n W_i − W_i² = 0`), `esda` gives NaN; here z = 0 and
//!   p = 1 (no evidence of clustering).

use super::inference::{neighbour_sum_tails, Alternative, PermutationOptions};
use super::weights::Weights;
use super::{two_sided_normal_p, SpatialError};
use serde::Serialize;

/// Gi* or Gi for one unit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GiResult {
    /// The unit's own value.
    pub value: i64,
    /// Σ_j w_ij x_j (including the unit itself for Gi*).
    pub local_sum: i64,
    /// The ratio form G_i = Σ_j w_ij x_j / Σ_j x_j (sums over j ≠ i for Gi), as `esda`'s
    /// `Gs`; 0 when the denominator is 0.
    pub g: f64,
    /// Standardised statistic (Ord & Getis 1995).
    pub z: f64,
    /// Two-sided normal p-value of `z`.
    pub p_norm: f64,
    /// Conditional-permutation pseudo p-value, when permutations were run.
    pub p_sim: Option<f64>,
}

/// Gi* or Gi for every unit, with how it was computed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GiReport {
    /// `"gi-star"` or `"gi"`.
    pub statistic: &'static str,
    /// Alternative hypothesis of `p_sim`.
    pub alternative: Alternative,
    pub permutations: usize,
    pub seed: u64,
    pub results: Vec<GiResult>,
}

/// Getis–Ord Gi* for every unit (the unit itself included with weight 1), with its
/// analytic z-score, two-sided normal p-value and, if asked, conditional permutation
/// pseudo p-value. Needs at least 2 units.
pub fn gi_star(values: &[i64], weights: &Weights, opts: &PermutationOptions) -> Result<GiReport, SpatialError> {
    getis_ord(values, weights, opts, true)
}

/// Getis–Ord Gi for every unit (the unit itself excluded; mean and variance from the
/// other n − 1 values). Needs at least 3 units.
pub fn gi(values: &[i64], weights: &Weights, opts: &PermutationOptions) -> Result<GiReport, SpatialError> {
    getis_ord(values, weights, opts, false)
}

fn getis_ord(
    values: &[i64],
    weights: &Weights,
    opts: &PermutationOptions,
    star: bool,
) -> Result<GiReport, SpatialError> {
    let n = values.len();
    if n != weights.len() {
        return Err(SpatialError::LengthMismatch { values: n, units: weights.len() });
    }
    let needed = if star { 2 } else { 3 };
    if n < needed {
        return Err(SpatialError::TooFew { statistic: if star { "Gi*" } else { "Gi" }, needed, got: n });
    }
    let total: i128 = values.iter().map(|&v| v as i128).sum();
    let total_sq: i128 = values.iter().map(|&v| v as i128 * v as i128).sum();
    let tails = (opts.permutations > 0).then(|| neighbour_sum_tails(values, weights, opts.permutations, opts.seed));
    let results = (0..n)
        .map(|i| {
            let x_i = values[i] as i128;
            let nbr_sum: i128 = weights.neighbours(i).iter().map(|&j| values[j as usize] as i128).sum();
            let k = weights.cardinality(i) as i128;
            // the population of the statistic: all n units (star) or the other n − 1
            let (m, sum, sum_sq, t, w) = if star {
                (n as i128, total, total_sq, nbr_sum + x_i, k + 1)
            } else {
                (n as i128 - 1, total - x_i, total_sq - x_i * x_i, nbr_sum, k)
            };
            let z = standardised(m, sum, sum_sq, t, w);
            let g = if sum != 0 { t as f64 / sum as f64 } else { 0.0 };
            let p_sim = tails.as_ref().map(|tails| {
                if z.is_none() {
                    1.0
                } else {
                    tails[i].p_value(opts.permutations, opts.alternative)
                }
            });
            let z = z.unwrap_or(0.0);
            GiResult { value: values[i], local_sum: t as i64, g, z, p_norm: two_sided_normal_p(z), p_sim }
        })
        .collect();
    Ok(GiReport {
        statistic: if star { "gi-star" } else { "gi" },
        alternative: opts.alternative,
        permutations: opts.permutations,
        seed: opts.seed,
        results,
    })
}

/// `(m·T − ΣxW) / (√(m·Σx² − (Σx)²) · √(W(m − W)/(m − 1)))`: Ord & Getis's z with the
/// mean and variance over the `m` values in play. `None` when undefined.
pub(crate) fn standardised(m: i128, sum: i128, sum_sq: i128, t: i128, w: i128) -> Option<f64> {
    let spread = m * sum_sq - sum * sum;
    let w_term = w * (m - w);
    if spread <= 0 || w_term <= 0 || m < 2 {
        return None;
    }
    let numerator = (m * t - sum * w) as f64;
    Some(numerator / ((spread as f64).sqrt() * (w_term as f64 / (m - 1) as f64).sqrt()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::spatial::weights::Contiguity;
    use crate::geo::grid::GridSpec;

    /// 3×3 grid, queen contiguity, rows from the bottom:
    /// ```text
    /// iy=2:  1 3 6
    /// iy=1:  0 2 3
    /// iy=0:  0 0 1
    /// ```
    /// n = 9, Σx = 16, Σx² = 60, x̄ = 16/9, S² = 60/9 − (16/9)² = 284/81.
    ///
    /// Gi* of the top-right cell (index 8): neighbours 4, 5, 7 and itself, W = 4,
    /// Σ w x = 2 + 3 + 3 + 6 = 14;
    /// z = (14 − 4·16/9) / (√(284/81) · √((9·4 − 16)/8)) = 62 / √710 = 2.326818537626…
    ///
    /// Gi* of the bottom-left cell (index 0): W = 4, Σ w x = 0 + 0 + 0 + 2 = 2;
    /// z = (9·2 − 16·4) / √(284 · 2.5) = −46 / √710 = −1.726349237593…
    ///
    /// Gi of cell 8: the other 8 values have Σ = 10, Σx² = 24; neighbours 4, 5, 7, W = 3,
    /// Σ w x = 8; z = (8·8 − 10·3) / (√(8·24 − 100) · √(3·5/7)) = 34 / √(92·15/7)
    /// = 2.421521859480…
    ///
    /// The centre cell's Gi* neighbourhood is the whole grid (W = n): z is undefined → 0.
    fn example() -> (Vec<i64>, Weights) {
        let grid = GridSpec::new(0.0, 0.0, 1.0, 3, 3).unwrap();
        let w = Weights::contiguity(&grid.all_cells(), Contiguity::Queen).unwrap();
        (vec![0, 0, 1, 0, 2, 3, 1, 3, 6], w)
    }

    #[test]
    fn gi_star_matches_the_hand_computation() {
        let (x, w) = example();
        let none = PermutationOptions { permutations: 0, ..Default::default() };
        let r = gi_star(&x, &w, &none).unwrap();
        assert!((r.results[8].z - 2.326_818_537_626_484_5).abs() < 1e-12);
        assert!((r.results[0].z + 1.726_349_237_593_843_4).abs() < 1e-12);
        assert_eq!(r.results[8].local_sum, 14);
        assert!((r.results[8].g - 14.0 / 16.0).abs() < 1e-15);
        assert_eq!(r.results[4].z, 0.0);
        assert_eq!(r.results[4].p_norm, 1.0);
        // two-sided normal p of z = 2.3268: 2·(1 − Φ(2.3268)) = 0.019975…
        assert!((r.results[8].p_norm - 0.019_975).abs() < 1e-5, "{}", r.results[8].p_norm);
        assert_eq!(r.results[8].p_sim, None);
    }

    #[test]
    fn gi_matches_the_hand_computation() {
        let (x, w) = example();
        let r = gi(&x, &w, &PermutationOptions::default()).unwrap();
        assert!((r.results[8].z - 2.421_521_859_480_527).abs() < 1e-12);
        assert_eq!(r.results[8].local_sum, 8);
        assert!((r.results[8].g - 8.0 / 10.0).abs() < 1e-15);
        assert_eq!(r.statistic, "gi");
    }

    #[test]
    fn permutation_p_values_are_reproducible_and_bounded() {
        let (x, w) = example();
        let opts = PermutationOptions { permutations: 999, seed: 42, alternative: Alternative::TwoSided };
        let a = gi_star(&x, &w, &opts).unwrap();
        let b = gi_star(&x, &w, &opts).unwrap();
        assert_eq!(a, b);
        for r in &a.results {
            let p = r.p_sim.unwrap();
            assert!((1.0 / 1000.0..=1.0).contains(&p));
        }
        // Cell 8's three neighbours hold 2, 3, 3 (sum 8); draws of 3 from the other eight
        // values {0,0,1,0,2,3,1,3} reach 8 only as {2,3,3}: probability 1/56. Its
        // permutation mean is 3·10/8 = 3.75, so sums at least |8 − 3.75| = 4.25 away are
        // those ≥ 8 (none can be ≤ −0.5): p ≈ 1/56 + 1/1000 ≈ 0.019.
        let p8 = a.results[8].p_sim.unwrap();
        assert!(p8 > 0.008 && p8 < 0.035, "{p8}");
        // The centre cell's z is undefined: p_sim = 1.
        assert_eq!(a.results[4].p_sim, Some(1.0));
    }

    #[test]
    fn errors_are_typed() {
        let (x, w) = example();
        assert!(matches!(
            gi_star(&x[..3], &w, &PermutationOptions::default()),
            Err(SpatialError::LengthMismatch { .. })
        ));
        let w2 = Weights::from_neighbours(&[vec![1], vec![0]]).unwrap();
        assert!(matches!(gi(&[1, 2], &w2, &PermutationOptions::default()), Err(SpatialError::TooFew { .. })));
    }
}
