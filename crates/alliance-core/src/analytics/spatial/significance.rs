//! Significance of local hotspot statistics as ArcGIS's "Hot Spot Analysis (Getis-Ord Gi*)"
//! reports it: a z-score, its two-sided normal p-value, a false discovery rate correction and
//! the confidence bins `Gi_Bin` −3…+3 that analysts read.
//!
//! **Inference.** By default ([`Inference::Normal`]) the p-value is the two-sided normal
//! p-value `2·(1 − Φ(|z|))` of the Gi* z-score, whose mean and variance are those of the
//! randomisation null (Getis & Ord 1992; Ord & Getis 1995, eq. 14 with binary weights; see
//! [`super::getis_ord`]). This is the convention of ArcGIS Hot Spot Analysis and of its
//! Optimized and Emerging variants. Conditional permutation pseudo p-values
//! ([`Inference::Permutation`], Anselin 1995) stay available as a robustness check, but their
//! floor `1/(R + 1)` limits what a multiple-testing correction can ever declare significant:
//! see [`PermutationAdequacy`].
//!
//! **False discovery rate correction (the rule implemented).** ArcGIS's "Apply False
//! Discovery Rate (FDR) Correction" runs the Benjamini–Hochberg step-up procedure (Benjamini
//! & Hochberg 1995) on the p-values once for each confidence level, at rates 0.10, 0.05 and
//! 0.01: with the `m` p-values sorted ascending, the critical p-value of a level `q` is the
//! largest `p_(k)` with `p_(k) ≤ k·q/m` (none if no rank passes). The tool's help says the
//! correction "will potentially reduce the critical p-value thresholds … to account for
//! multiple testing and spatial dependency", and that `Gi_Bin` "identifies statistically
//! significant hot and cold spots regardless of whether or not the FDR correction is
//! applied" (ArcGIS Pro help, *Hot Spot Analysis (Getis-Ord Gi\*)*, usage notes; Esri's
//! `fdrTransform` scales the ranks `k/m` by the three rates `[0.10, 0.05, 0.01]`).
//!
//! **Bins.** A unit gets `±3` when its p-value is at or below the 99 % critical p-value,
//! else `±2` at or below the 95 % one, else `±1` at or below the 90 % one, else 0; the sign
//! is that of z (z = 0 gives 0). Without the correction ([`Correction::None`]) the critical
//! p-values are the levels themselves (p ≤ 0.01, 0.05, 0.10). The levels are nested
//! (a p-value passing at 0.01 passes at 0.05), so the bins are well defined. Ties: every
//! p-value equal to a critical p-value passes.

use super::SpatialError;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Which null distribution the p-values that decide significance come from, as reported in
/// every output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Inference {
    /// Two-sided normal p-value of the z-score (randomisation null): ArcGIS's convention.
    Normal,
    /// Conditional-permutation pseudo p-values from this many permutations.
    Permutation { permutations: usize },
}

impl Inference {
    /// A sentence for an output page or file saying how significance was decided.
    pub fn describe(&self) -> String {
        match self {
            Inference::Normal => "two-sided normal p-values of the z-scores (randomisation null, as ArcGIS Hot Spot \
                                  Analysis)"
                .to_string(),
            Inference::Permutation { permutations } => {
                format!("conditional permutation pseudo p-values from {permutations} permutations")
            }
        }
    }
}

/// Which p-value decides significance in an analysis (the request; the report is
/// [`Inference`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum SignificanceFrom {
    /// The normal p-value (default).
    #[default]
    Normal,
    /// The permutation pseudo p-value (needs permutations).
    Permutation,
}

/// Whether the critical p-values of the bins are corrected for multiple testing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Correction {
    /// Benjamini–Hochberg at each level (ArcGIS's FDR option; the default here).
    #[default]
    Fdr,
    /// The levels themselves: p ≤ 0.10, 0.05, 0.01.
    None,
}

/// A confidence level of the bins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Confidence {
    /// 90 % (bins ±1 and beyond).
    #[default]
    Ninety,
    /// 95 % (bins ±2 and ±3).
    NinetyFive,
    /// 99 % (bins ±3).
    NinetyNine,
}

impl Confidence {
    /// The smallest absolute bin at this confidence (1, 2 or 3).
    pub fn bin(self) -> i8 {
        match self {
            Confidence::Ninety => 1,
            Confidence::NinetyFive => 2,
            Confidence::NinetyNine => 3,
        }
    }

    /// The error rate of the level (0.10, 0.05, 0.01).
    pub fn rate(self) -> f64 {
        match self {
            Confidence::Ninety => 0.10,
            Confidence::NinetyFive => 0.05,
            Confidence::NinetyNine => 0.01,
        }
    }
}

/// The rates of the three levels, in bin order (bin 1, 2, 3).
pub const BIN_RATES: [f64; 3] = [0.10, 0.05, 0.01];

/// Confidence bins for every unit, with the critical p-values that made them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConfidenceBins {
    pub correction: Correction,
    /// Critical p-value of the 90 %, 95 % and 99 % levels (`None`: nothing passes).
    pub critical_p: [Option<f64>; 3],
    /// −3…+3 per unit, in input order.
    pub bins: Vec<i8>,
}

impl ConfidenceBins {
    /// Units at or beyond a confidence level (either sign).
    pub fn significant_at(&self, level: Confidence) -> usize {
        self.bins.iter().filter(|b| b.abs() >= level.bin()).count()
    }
}

/// The ascending order of p-values (ties by index), in parallel for large inputs.
fn ascending(p: &[f64]) -> Vec<u32> {
    let mut order: Vec<u32> = (0..p.len() as u32).collect();
    let cmp = |a: &u32, b: &u32| p[*a as usize].total_cmp(&p[*b as usize]).then(a.cmp(b));
    if p.len() > 50_000 {
        order.par_sort_unstable_by(cmp);
    } else {
        order.sort_unstable_by(cmp);
    }
    order
}

fn check_p(p: &[f64]) -> Result<(), SpatialError> {
    match p.iter().position(|v| !(0.0..=1.0).contains(v)) {
        Some(i) => Err(super::bad("p-value", format!("p-value {i} is {}, not in [0, 1]", p[i]))),
        None => Ok(()),
    }
}

/// Benjamini–Hochberg critical p-value at rate `q` over p-values already sorted by `order`:
/// the largest `p_(k)` with `p_(k) ≤ k·q/m`.
fn critical_p(p: &[f64], order: &[u32], q: f64) -> Option<f64> {
    let m = order.len() as f64;
    (1..=order.len()).rev().map(|k| (k, p[order[k - 1] as usize])).find(|&(k, v)| v <= k as f64 * q / m).map(|(_, v)| v)
}

/// Gi_Bin-style confidence bins from z-scores and their p-values (see the module
/// documentation for the rule). One sort serves the three levels. `z` and `p` must have the
/// same length; p-values must lie in [0, 1].
pub fn confidence_bins(z: &[f64], p: &[f64], correction: Correction) -> Result<ConfidenceBins, SpatialError> {
    if z.len() != p.len() {
        return Err(SpatialError::LengthMismatch { values: p.len(), units: z.len() });
    }
    check_p(p)?;
    let critical_p = match correction {
        Correction::None => BIN_RATES.map(Some),
        Correction::Fdr => {
            let order = ascending(p);
            BIN_RATES.map(|q| critical_p(p, &order, q))
        }
    };
    let bins = z
        .par_iter()
        .zip(p.par_iter())
        .with_min_len(4096)
        .map(|(&z, &p)| {
            let level = (0..3).rev().find(|&l| critical_p[l].is_some_and(|c| p <= c)).map_or(0, |l| l as i8 + 1);
            if z > 0.0 {
                level
            } else if z < 0.0 {
                -level
            } else {
                0
            }
        })
        .collect();
    Ok(ConfidenceBins { correction, critical_p, bins })
}

/// Benjamini–Hochberg adjusted p-values (q-values), `q_(i) = min_{j ≥ i} min(1, m·p_(j)/j)`,
/// in input order; the same as [`super::benjamini_hochberg`]'s, from one parallel sort.
pub fn q_values(p: &[f64]) -> Result<Vec<f64>, SpatialError> {
    check_p(p)?;
    let order = ascending(p);
    let m = p.len() as f64;
    let mut q = vec![1.0; p.len()];
    let mut running = 1.0_f64;
    for rank in (1..=order.len()).rev() {
        let i = order[rank - 1] as usize;
        running = running.min(m * p[i] / rank as f64).min(1.0);
        q[i] = running;
    }
    Ok(q)
}

/// Whether permutation pseudo p-values can pass a false discovery rate correction at all.
///
/// With `R` permutations the smallest pseudo p-value is the floor `1/(R + 1)`; Benjamini–
/// Hochberg over `m` tests at rate `q` passes the smallest p-value only if `p_(1) ≤ q/m`. So
/// the correction can find anything only when `1/(R + 1) ≤ q/m`, i.e.
/// `R ≥ ⌈m/q⌉ − 1` ([`permutations_needed`]). (With `k` units tied at the floor the step-up
/// needs only `1/(R + 1) ≤ k·q/m`, which the data decide; the guarantee above is the one a
/// plan can state in advance.) Over the 44,495 cells of a force at 250 m and q = 0.05 this
/// is 889,899 permutations, which is why the permutation p is a robustness check here and
/// the normal p the default.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PermutationAdequacy {
    pub permutations: usize,
    pub tests: usize,
    pub rate: f64,
    /// `1/(R + 1)`.
    pub floor: f64,
    /// The first Benjamini–Hochberg critical value, `q/m`.
    pub first_critical: f64,
    /// `⌈m/q⌉ − 1`.
    pub needed: usize,
    pub can_pass: bool,
}

impl PermutationAdequacy {
    /// A sentence for an output, e.g. "999 permutations give p ≥ 0.001; …".
    pub fn explain(&self) -> String {
        if self.can_pass {
            format!(
                "{} permutations give pseudo p-values down to {:.3e}, at or below the first false discovery rate \
                 threshold {:.3e} ({} tests at q = {})",
                self.permutations, self.floor, self.first_critical, self.tests, self.rate
            )
        } else {
            format!(
                "{} permutations give pseudo p-values no smaller than {:.3e}, above the first false discovery rate \
                 threshold {:.3e} ({} tests at q = {}): the correction may find nothing with them; at least {} \
                 permutations are needed",
                self.permutations, self.floor, self.first_critical, self.tests, self.rate, self.needed
            )
        }
    }
}

/// Smallest number of permutations whose floor `1/(R + 1)` passes Benjamini–Hochberg's first
/// step `q/m` over `tests` tests at rate `rate` (see [`PermutationAdequacy`]).
pub fn permutations_needed(tests: usize, rate: f64) -> Result<usize, SpatialError> {
    if !(rate > 0.0 && rate < 1.0) {
        return Err(super::bad("false discovery rate", format!("{rate} is not strictly between 0 and 1")));
    }
    let ratio = tests as f64 / rate;
    // ⌈m/q⌉ with a guard against 1e-16 rounding of an exact quotient (44,495/0.05)
    let ceil = (ratio - ratio * 1e-12).ceil() as usize;
    Ok(ceil.saturating_sub(1))
}

/// The adequacy of `permutations` for `tests` tests at false discovery rate `rate`.
pub fn permutation_adequacy(permutations: usize, tests: usize, rate: f64) -> Result<PermutationAdequacy, SpatialError> {
    let needed = permutations_needed(tests, rate)?;
    let floor = 1.0 / (permutations as f64 + 1.0);
    let first_critical = if tests == 0 { 1.0 } else { rate / tests as f64 };
    Ok(PermutationAdequacy {
        permutations,
        tests,
        rate,
        floor,
        first_critical,
        needed,
        can_pass: permutations >= needed && permutations > 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::spatial::benjamini_hochberg;

    #[test]
    fn fdr_bins_follow_benjamini_hochberg_at_each_level() {
        // m = 10 p-values. Critical lines k·q/10:
        //   q = 0.10: 0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.09, 0.10
        //   q = 0.05: 0.005, 0.01, 0.015, 0.02, 0.025, …
        //   q = 0.01: 0.001, 0.002, 0.003, …
        // sorted p: 0.0005 0.0015 0.004 0.012 0.03 0.045 0.2 0.5 0.7 0.9
        // q = 0.01: 0.0005 ≤ .001 ✓, .0015 ≤ .002 ✓, .004 > .003, .012 > .004 … → critical .0015
        // q = 0.05: .004 ≤ .015 ✓, .012 ≤ .02 ✓, .03 > .025, .045 > .03, rest fail → critical .012
        // q = 0.10: .03 ≤ .05 ✓, .045 ≤ .06 ✓, .2 > .07 … → critical .045
        let p = [0.2, 0.0005, 0.045, 0.9, 0.012, 0.0015, 0.5, 0.004, 0.03, 0.7];
        let z = [1.0, 3.5, 2.0, 0.1, -2.5, 3.2, -0.5, -2.9, 2.2, 0.3];
        let b = confidence_bins(&z, &p, Correction::Fdr).unwrap();
        assert_eq!(b.critical_p, [Some(0.045), Some(0.012), Some(0.0015)]);
        assert_eq!(b.bins, vec![0, 3, 1, 0, -2, 3, 0, -2, 1, 0]);
        assert_eq!(b.significant_at(Confidence::NinetyFive), 4);
        // each level agrees with the reference implementation
        for (level, q) in BIN_RATES.iter().enumerate() {
            let reference = benjamini_hochberg(&p, *q).unwrap();
            for (i, &bin) in b.bins.iter().enumerate() {
                assert_eq!(reference.significant[i], bin.unsigned_abs() as usize > level, "unit {i} at {q}");
            }
        }
    }

    #[test]
    fn without_correction_the_levels_are_the_critical_values() {
        let z = [3.0, -2.0, 1.7, 1.0, 0.0];
        let p = [0.002, 0.05, 0.09, 0.3, 0.001];
        let b = confidence_bins(&z, &p, Correction::None).unwrap();
        // 0.05 equals the 95 % level: it passes (≤). z = 0 has no sign: bin 0.
        assert_eq!(b.bins, vec![3, -2, 1, 0, 0]);
    }

    #[test]
    fn nothing_passes_when_every_p_is_large_and_bad_input_is_refused() {
        let b = confidence_bins(&[2.0, 2.0], &[0.2, 0.3], Correction::Fdr).unwrap();
        assert_eq!(b.critical_p, [None, None, None]);
        assert_eq!(b.bins, vec![0, 0]);
        assert!(confidence_bins(&[1.0], &[f64::NAN], Correction::Fdr).is_err());
        assert!(confidence_bins(&[1.0, 2.0], &[0.1], Correction::Fdr).is_err());
        assert!(confidence_bins(&[], &[], Correction::Fdr).unwrap().bins.is_empty());
    }

    #[test]
    fn q_values_match_the_reference() {
        let p = [0.04, 0.9, 0.001, 0.035, 0.03];
        let q = q_values(&p).unwrap();
        let reference = benjamini_hochberg(&p, 0.05).unwrap().q_values;
        assert_eq!(q, reference);
    }

    #[test]
    fn permutations_needed_by_hand() {
        // 44,495 cells at q = 0.05: m/q = 889,900 exactly, R ≥ 889,899.
        assert_eq!(permutations_needed(44_495, 0.05).unwrap(), 889_899);
        // 100 tests at q = 0.10: R ≥ 999, and 999 permutations then just pass (1/1000 = 0.1/100).
        assert_eq!(permutations_needed(100, 0.10).unwrap(), 999);
        let a = permutation_adequacy(999, 100, 0.10).unwrap();
        assert!(a.can_pass);
        assert_eq!(a.floor, 0.001);
        // 999 permutations over 44,495 cells cannot pass: the issue's finding.
        let a = permutation_adequacy(999, 44_495, 0.05).unwrap();
        assert!(!a.can_pass);
        assert!(a.explain().contains("889899"), "{}", a.explain());
        // 7 tests at q = 0.3: m/q = 23.33…, R ≥ 23 (1/24 ≤ 0.3/7 = 0.04286 but 1/23 = 0.0435 is not)
        assert_eq!(permutations_needed(7, 0.3).unwrap(), 23);
        assert!(permutations_needed(7, 0.0).is_err());
    }

    #[test]
    fn inference_is_described() {
        assert!(Inference::Normal.describe().contains("normal"));
        assert!(Inference::Permutation { permutations: 999 }.describe().contains("999"));
        let json = serde_json::to_string(&Inference::Permutation { permutations: 9 }).unwrap();
        assert_eq!(json, r#"{"kind":"permutation","permutations":9}"#);
    }
}
