//! Moran's I: the local indicator of spatial association (Anselin 1995) and the global
//! statistic (Moran 1950; moments from Cliff & Ord 1981).
//!
//! With deviations `z_i = x_i − x̄` and weights `w_ij` (binary, or binary divided by the row
//! sum when row-standardised, the default of `esda` and GeoDa):
//!
//! - local: `I_i = (n − 1) · z_i · Σ_j w_ij z_j / Σ_k z_k²` — exactly `esda.Moran_Local`'s
//!   `Is`. Anselin (1995) and GeoDa divide by `m2 = Σz²/n` instead of `Σz²/(n − 1)`, i.e.
//!   their I_i is `n/(n − 1)` times this one; ArcGIS's "Cluster and Outlier Analysis" uses
//!   the variance of the other n − 1 values. The z-scores below do not depend on that
//!   scale.
//! - quadrant: H when `z_i > 0`, L otherwise; the lag is H when `Σ_j w_ij z_j > 0`
//!   (as `esda`'s `q`: 1 HH, 2 LH, 3 LL, 4 HL).
//! - global: `I = (n / S0) · Σ_ij w_ij z_i z_j / Σ_i z_i²`, with `E[I] = −1/(n − 1)`.

use super::inference::{neighbour_sum_tails, stream_rng, Alternative, PermutationOptions};
use super::weights::Weights;
use super::{two_sided_normal_p, SpatialError};
use rand::seq::SliceRandom;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// How the binary weights enter Moran's I.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Standardisation {
    /// `w_ij = 1/k_i` for the `k_i` neighbours of `i` (`esda`'s and GeoDa's default).
    Row,
    /// `w_ij = 1` for neighbours.
    Binary,
}

/// Local Moran quadrant of the Moran scatterplot: the unit's value, then its neighbours'.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Quadrant {
    HH,
    LH,
    LL,
    HL,
}

/// Local Moran's I for one unit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LocalMoranResult {
    pub value: i64,
    /// I_i in `esda`'s scale (see the module documentation).
    pub i: f64,
    /// The spatial lag Σ_j w_ij z_j of the deviations from the mean.
    pub lag: f64,
    pub quadrant: Quadrant,
    /// `(I_i − E[I_i]) / √Var[I_i]` under total randomisation (Anselin 1995, eqs. 13–14, in
    /// the form of Sokal, Oden & Thomson 1998, eqs. A3–A4), with the kurtosis
    /// `b2 = n Σz⁴ / (Σz²)²` of all values. 0 where undefined (no neighbours, constant data).
    pub z: f64,
    /// Two-sided normal p-value of `z`.
    pub p_norm: f64,
    /// Conditional-permutation pseudo p-value, when permutations were run.
    pub p_sim: Option<f64>,
}

/// Local Moran's I for every unit, with how it was computed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LocalMoranReport {
    pub standardisation: Standardisation,
    pub alternative: Alternative,
    pub permutations: usize,
    pub seed: u64,
    pub results: Vec<LocalMoranResult>,
}

/// Local Moran's I (Anselin 1995) for every unit, with quadrant, analytic z under total
/// randomisation and conditional-permutation pseudo p-value.
///
/// Differences from `esda.Moran_Local`: `esda`'s analytic `VI` computes the kurtosis `b2`
/// element by element (`z**4/n / m2**2` without a sum), not as the single sample kurtosis
/// the formula asks for, so its `z` differs from this one; `esda` reports no `p_norm`
/// for it. `p_sim` uses the same conditional randomisation; see [`Alternative`] for the
/// tail convention. A unit whose value equals the mean has I_i = 0 in every permutation:
/// its p_sim is 1.
pub fn local_moran(
    values: &[i64],
    weights: &Weights,
    standardisation: Standardisation,
    opts: &PermutationOptions,
) -> Result<LocalMoranReport, SpatialError> {
    let n = check(values, weights, "local Moran's I", 3)?;
    let total: i128 = values.iter().map(|&v| v as i128).sum();
    let nn = n as i128;
    // n·z_i as exact integers
    let d: Vec<i128> = values.iter().map(|&v| nn * v as i128 - total).collect();
    let nsum_sq: f64 = d.iter().map(|&x| (x as f64) * (x as f64)).sum(); // n²·Σz²
    let sum_sq = nsum_sq / (n * n) as f64; // Σz²
    let m2 = sum_sq / n as f64;
    let m4 = d.iter().map(|&x| (x as f64 / n as f64).powi(4)).sum::<f64>() / n as f64;
    let b2 = if m2 > 0.0 { m4 / (m2 * m2) } else { 0.0 };
    let tails = (opts.permutations > 0).then(|| neighbour_sum_tails(values, weights, opts.permutations, opts.seed));
    let nf = n as f64;
    let results = (0..n)
        .map(|i| {
            let k = weights.cardinality(i);
            // n·Σ_j z_j over neighbours, exactly
            let lag_n: i128 = weights.neighbours(i).iter().map(|&j| d[j as usize]).sum();
            let (w_sum, w_sq) = match standardisation {
                Standardisation::Binary => (k as f64, k as f64),
                Standardisation::Row if k > 0 => (1.0, 1.0 / k as f64),
                Standardisation::Row => (0.0, 0.0),
            };
            let row = |x: f64| match standardisation {
                Standardisation::Row if k > 0 => x / k as f64,
                _ => x,
            };
            let lag = row(lag_n as f64 / nf);
            let z_i = d[i] as f64 / nf;
            let i_esda = if sum_sq > 0.0 { (nf - 1.0) * row(d[i] as f64 * lag_n as f64) / nsum_sq } else { 0.0 };
            // Anselin's scale for the moments: I_A = z_i · lag / m2
            let i_anselin = if m2 > 0.0 { z_i * lag / m2 } else { 0.0 };
            let expected = -w_sum / (nf - 1.0);
            let variance = w_sq * (nf - b2) / (nf - 1.0)
                + (w_sum * w_sum - w_sq) * (2.0 * b2 - nf) / ((nf - 1.0) * (nf - 2.0))
                - expected * expected;
            let z = if m2 > 0.0 && variance > 0.0 { (i_anselin - expected) / variance.sqrt() } else { 0.0 };
            let quadrant = match (d[i] > 0, lag_n > 0) {
                (true, true) => Quadrant::HH,
                (false, true) => Quadrant::LH,
                (false, false) => Quadrant::LL,
                (true, false) => Quadrant::HL,
            };
            let p_sim = tails.as_ref().map(|t| {
                if d[i] == 0 || k == 0 {
                    1.0
                } else {
                    t[i].p_value(opts.permutations, opts.alternative)
                }
            });
            LocalMoranResult { value: values[i], i: i_esda, lag, quadrant, z, p_norm: two_sided_normal_p(z), p_sim }
        })
        .collect();
    Ok(LocalMoranReport {
        standardisation,
        alternative: opts.alternative,
        permutations: opts.permutations,
        seed: opts.seed,
        results,
    })
}

/// Global Moran's I with its moments under normality and under randomisation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GlobalMoran {
    pub i: f64,
    /// −1/(n − 1).
    pub expected: f64,
    pub variance_norm: f64,
    pub z_norm: f64,
    /// Two-sided.
    pub p_norm: f64,
    pub variance_rand: f64,
    pub z_rand: f64,
    /// Two-sided.
    pub p_rand: f64,
    /// Pseudo p-value from random permutations of all values, when run.
    pub p_sim: Option<f64>,
    pub standardisation: Standardisation,
    pub alternative: Alternative,
    pub permutations: usize,
    pub seed: u64,
}

/// Global Moran's I (Cliff & Ord 1981): `I`, `E[I] = −1/(n−1)`, variance under normality
/// `(n² S1 − n S2 + 3 S0²)/((n² − 1) S0²) − E[I]²` and under randomisation
/// `(n((n² − 3n + 3) S1 − n S2 + 3 S0²) − b2((n² − n) S1 − 2n S2 + 6 S0²)) /
/// ((n − 1)(n − 2)(n − 3) S0²) − E[I]²`, with `S1 = ½ Σ_ij (w_ij + w_ji)²`,
/// `S2 = Σ_i (w_i· + w_·i)²` and `b2 = n Σz⁴/(Σz²)²` — the formulas of `esda.Moran`.
///
/// `p_norm` and `p_rand` are two-sided, as `esda`'s default (`two_tailed=True`). `p_sim`
/// permutes all values R times (per-permutation seeded streams); with
/// [`Alternative::TwoSided`] a permuted I is extreme when `|I_r − E[I]| ≥ |I − E[I]|`,
/// with [`Alternative::Directed`] `esda`'s folded tail, ties (within 1e-12 relative)
/// counted as extreme in both. Needs n ≥ 4 and at least one neighbour link.
pub fn global_moran(
    values: &[i64],
    weights: &Weights,
    standardisation: Standardisation,
    opts: &PermutationOptions,
) -> Result<GlobalMoran, SpatialError> {
    let n = check(values, weights, "global Moran's I", 4)?;
    if weights.links() == 0 {
        return Err(super::bad("weights", "no unit has a neighbour"));
    }
    let weight = |i: usize| -> f64 {
        match standardisation {
            Standardisation::Binary => 1.0,
            Standardisation::Row if weights.cardinality(i) > 0 => 1.0 / weights.cardinality(i) as f64,
            Standardisation::Row => 0.0,
        }
    };
    let nf = n as f64;
    let s0: f64 = (0..n).map(|i| weight(i) * weights.cardinality(i) as f64).sum();
    // S1 = ½ Σ over ordered pairs (i, j) of (w_ij + w_ji)². A link present both ways is
    // met from both ends; a one-way link i → j stands for the pairs (i, j) and (j, i).
    let mut s1 = 0.0;
    let mut col_sums = vec![0.0; n];
    for i in 0..n {
        for &j in weights.neighbours(i) {
            let j = j as usize;
            let w_ij = weight(i);
            let (w_ji, copies) = if weights.has_neighbour(j, i) { (weight(j), 1.0) } else { (0.0, 2.0) };
            s1 += 0.5 * copies * (w_ij + w_ji) * (w_ij + w_ji);
            col_sums[j] += w_ij;
        }
    }
    let s2: f64 = (0..n)
        .map(|i| {
            let row = weight(i) * weights.cardinality(i) as f64;
            (row + col_sums[i]).powi(2)
        })
        .sum();
    let mean = values.iter().map(|&v| v as f64).sum::<f64>() / nf;
    let z: Vec<f64> = values.iter().map(|&v| v as f64 - mean).collect();
    let sum_sq: f64 = z.iter().map(|v| v * v).sum();
    if sum_sq <= 0.0 {
        return Err(super::bad("values", "all values are equal: Moran's I is undefined"));
    }
    let statistic = |z: &[f64]| -> f64 {
        let cross: f64 =
            (0..n).map(|i| weight(i) * z[i] * weights.neighbours(i).iter().map(|&j| z[j as usize]).sum::<f64>()).sum();
        nf / s0 * cross / z.iter().map(|v| v * v).sum::<f64>()
    };
    let i_obs = statistic(&z);
    let expected = -1.0 / (nf - 1.0);
    let variance_norm = (nf * nf * s1 - nf * s2 + 3.0 * s0 * s0) / ((nf * nf - 1.0) * s0 * s0) - expected * expected;
    let b2 = nf * z.iter().map(|v| v.powi(4)).sum::<f64>() / (sum_sq * sum_sq);
    let a = nf * ((nf * nf - 3.0 * nf + 3.0) * s1 - nf * s2 + 3.0 * s0 * s0);
    let b = b2 * ((nf * nf - nf) * s1 - 2.0 * nf * s2 + 6.0 * s0 * s0);
    let variance_rand = (a - b) / ((nf - 1.0) * (nf - 2.0) * (nf - 3.0) * s0 * s0) - expected * expected;
    let z_norm = (i_obs - expected) / variance_norm.sqrt();
    let z_rand = (i_obs - expected) / variance_rand.sqrt();
    let p_sim = (opts.permutations > 0).then(|| {
        let sims: Vec<f64> = (0..opts.permutations)
            .into_par_iter()
            .map(|r| {
                let mut rng = stream_rng(opts.seed, r as u64);
                let mut shuffled = z.clone();
                shuffled.shuffle(&mut rng);
                statistic(&shuffled)
            })
            .collect();
        let tol = 1e-12 * i_obs.abs().max(1e-300);
        let extreme = match opts.alternative {
            Alternative::TwoSided => {
                let dev = (i_obs - expected).abs();
                sims.iter().filter(|&&s| (s - expected).abs() >= dev - tol).count()
            }
            Alternative::Directed => {
                let above = sims.iter().filter(|&&s| s >= i_obs - tol).count();
                let below = sims.iter().filter(|&&s| s <= i_obs + tol).count();
                above.min(below)
            }
        };
        (extreme as f64 + 1.0) / (opts.permutations as f64 + 1.0)
    });
    Ok(GlobalMoran {
        i: i_obs,
        expected,
        variance_norm,
        z_norm,
        p_norm: two_sided_normal_p(z_norm),
        variance_rand,
        z_rand,
        p_rand: two_sided_normal_p(z_rand),
        p_sim,
        standardisation,
        alternative: opts.alternative,
        permutations: opts.permutations,
        seed: opts.seed,
    })
}

fn check(values: &[i64], weights: &Weights, statistic: &'static str, needed: usize) -> Result<usize, SpatialError> {
    if values.len() != weights.len() {
        return Err(SpatialError::LengthMismatch { values: values.len(), units: weights.len() });
    }
    if values.len() < needed {
        return Err(SpatialError::TooFew { statistic, needed, got: values.len() });
    }
    Ok(values.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::spatial::weights::Contiguity;
    use crate::geo::grid::GridSpec;

    /// The 3×3 grid of the Gi* tests, rook contiguity, rows from the bottom:
    /// ```text
    /// iy=2:  1 3 6
    /// iy=1:  0 2 3
    /// iy=0:  0 0 1
    /// ```
    /// x̄ = 16/9, Σz² = 60 − 16²/9 = 284/9.
    ///
    /// Cell 8 (value 6, z = 38/9) has rook neighbours 5 and 7 (both 3, z = 11/9), so the
    /// row-standardised lag is 11/9 and
    /// I_8 = (n − 1)·z_8·lag/Σz² = 8 · (38/9)(11/9) / (284/9) = 3344/2556 = 1.308294209702…
    /// With binary weights the lag doubles: I_8 = 2.616588419405…
    fn example() -> (Vec<i64>, Weights) {
        let grid = GridSpec::new(0.0, 0.0, 1.0, 3, 3).unwrap();
        let w = Weights::contiguity(&grid.all_cells(), Contiguity::Rook).unwrap();
        (vec![0, 0, 1, 0, 2, 3, 1, 3, 6], w)
    }

    fn no_perm() -> PermutationOptions {
        PermutationOptions { permutations: 0, ..Default::default() }
    }

    #[test]
    fn local_moran_matches_the_hand_computation() {
        let (x, w) = example();
        let row = local_moran(&x, &w, Standardisation::Row, &no_perm()).unwrap();
        assert!((row.results[8].i - 3344.0 / 2556.0).abs() < 1e-12);
        assert!((row.results[8].lag - 11.0 / 9.0).abs() < 1e-12);
        assert_eq!(row.results[8].quadrant, Quadrant::HH);
        // cell 0 (value 0) with neighbours 1 (0) and 3 (0): low among low
        assert_eq!(row.results[0].quadrant, Quadrant::LL);
        assert!((row.results[0].i - 0.801_251_956_181_534).abs() < 1e-12);
        // cell 2 (value 1, below the mean) next to 1 (0) and 5 (3): lag (−16/9 + 11/9)/2 < 0
        assert_eq!(row.results[2].quadrant, Quadrant::LL);
        // cell 5 (3, above) next to 2 (1), 4 (2), 8 (6): lag > 0
        assert_eq!(row.results[5].quadrant, Quadrant::HH);
        // z under total randomisation (Sokal et al. 1998 A3–A4), same for both weightings
        // since each row's weights are equal (values from an independent script)
        assert!((row.results[8].z - 2.804_938_303_188_316).abs() < 1e-9);
        let bin = local_moran(&x, &w, Standardisation::Binary, &no_perm()).unwrap();
        assert!((bin.results[8].i - 2.0 * 3344.0 / 2556.0).abs() < 1e-12);
        assert!((bin.results[8].z - row.results[8].z).abs() < 1e-9);
        assert!((bin.results[0].z - 1.802_953_727_407_704).abs() < 1e-9);
    }

    #[test]
    fn local_moran_quadrant_lh_and_hl() {
        // a path 0 - 1 - 2 - 3 with values 5, 0, 0, 5: unit 0 is high next to low (HL),
        // unit 1 low next to high-and-low average (lag (5 − 2.5 + 0 − 2.5)/2 = 0 → L): LL
        let w = Weights::from_neighbours(&[vec![1], vec![0, 2], vec![1, 3], vec![2]]).unwrap();
        let r = local_moran(&[5, 0, 0, 5], &w, Standardisation::Row, &no_perm()).unwrap();
        assert_eq!(r.results[0].quadrant, Quadrant::HL);
        assert_eq!(r.results[1].quadrant, Quadrant::LL);
        let r = local_moran(&[0, 5, 5, 0], &w, Standardisation::Row, &no_perm()).unwrap();
        assert_eq!(r.results[0].quadrant, Quadrant::LH);
    }

    #[test]
    fn local_moran_permutations_are_seeded() {
        let (x, w) = example();
        let opts = PermutationOptions { permutations: 199, seed: 9, alternative: Alternative::Directed };
        let a = local_moran(&x, &w, Standardisation::Row, &opts).unwrap();
        assert_eq!(a, local_moran(&x, &w, Standardisation::Row, &opts).unwrap());
        assert_eq!(a.alternative, Alternative::Directed);
        for r in &a.results {
            let p = r.p_sim.unwrap();
            assert!(p > 0.0 && p <= 1.0);
        }
    }

    #[test]
    fn global_moran_matches_the_cliff_ord_formulas() {
        // Binary rook weights on the 3×3 grid: S0 = 24 (12 shared edges, both ways),
        // S1 = ½·Σ(w_ij + w_ji)² = ½·24·4 = 48, S2 = Σ(2k_i)² = 4·(4·4 + 4·9 + 16) = 272.
        // Σ_ij w_ij z_i z_j = 2·Σ_edges z_i z_j; I = (9/24)·that/(284/9) = 0.410211267605…
        let (x, w) = example();
        let g = global_moran(&x, &w, Standardisation::Binary, &no_perm()).unwrap();
        assert!((g.i - 0.410_211_267_605_634).abs() < 1e-12);
        assert!((g.expected + 0.125).abs() < 1e-15);
        assert!((g.variance_norm - 0.053_125).abs() < 1e-12);
        assert!((g.z_norm - 2.322_072_506_227_868).abs() < 1e-9);
        assert!((g.variance_rand - 0.044_892_816_405_475).abs() < 1e-12);
        assert!((g.z_rand - 2.526_020_215_048_562).abs() < 1e-9);
        let r = global_moran(&x, &w, Standardisation::Row, &no_perm()).unwrap();
        assert!((r.i - 0.457_746_478_873_239).abs() < 1e-12);
        assert!((r.z_rand - 2.663_223_527_521_874).abs() < 1e-9);
        let opts = PermutationOptions { permutations: 999, seed: 1, alternative: Alternative::TwoSided };
        let p = global_moran(&x, &w, Standardisation::Row, &opts).unwrap().p_sim.unwrap();
        // strong positive autocorrelation on 9 cells: p around 0.01
        assert!(p < 0.05, "{p}");
    }

    #[test]
    fn global_moran_rejects_constant_values() {
        let (_, w) = example();
        assert!(global_moran(&[1; 9], &w, Standardisation::Row, &no_perm()).is_err());
    }
}
