//! False discovery rate control by the Benjamini–Hochberg step-up procedure
//! (Benjamini & Hochberg 1995, J. R. Statist. Soc. B 57:289–300).
//!
//! With `m` p-values sorted ascending `p_(1) ≤ … ≤ p_(m)`, let `k` be the largest rank with
//! `p_(k) ≤ k·α/m`; the hypotheses of ranks `1..=k` are rejected (significant). Ties share
//! the outcome (a p-value equal to the threshold p_(k) is significant). The adjusted
//! p-value (q-value) is `q_(i) = min_{j ≥ i} min(1, m·p_(j)/j)`, so `q_i ≤ α` exactly when
//! unit `i` is significant. `esda.fdr(p, alpha)` returns the threshold `p_(k)` (or the
//! Bonferroni-like `α/m` when nothing passes); here the threshold is `None` then.

use super::SpatialError;
use serde::Serialize;

/// Outcome of Benjamini–Hochberg at one alpha.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FdrResult {
    pub alpha: f64,
    /// The largest p-value declared significant, if any.
    pub threshold: Option<f64>,
    /// One flag per input p-value, in input order.
    pub significant: Vec<bool>,
    /// Benjamini–Hochberg adjusted p-values, in input order.
    pub q_values: Vec<f64>,
}

/// Benjamini–Hochberg at false discovery rate `alpha` (0 < alpha < 1). p-values must lie in
/// [0, 1]; NaN is an error.
pub fn benjamini_hochberg(p_values: &[f64], alpha: f64) -> Result<FdrResult, SpatialError> {
    if !(alpha > 0.0 && alpha < 1.0) {
        return Err(super::bad("alpha", format!("{alpha} is not strictly between 0 and 1")));
    }
    if let Some(i) = p_values.iter().position(|p| !(0.0..=1.0).contains(p) || p.is_nan()) {
        return Err(super::bad("p-value", format!("p-value {i} is {}, not in [0, 1]", p_values[i])));
    }
    let m = p_values.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p_values[a].total_cmp(&p_values[b]).then(a.cmp(&b)));
    let mf = m as f64;
    // largest rank k (1-based) with p_(k) ≤ kα/m
    let k = (1..=m).rev().find(|&rank| p_values[order[rank - 1]] <= rank as f64 * alpha / mf).unwrap_or(0);
    let threshold = (k > 0).then(|| p_values[order[k - 1]]);
    let mut significant = vec![false; m];
    if let Some(t) = threshold {
        for (i, &p) in p_values.iter().enumerate() {
            significant[i] = p <= t;
        }
    }
    let mut q_values = vec![1.0; m];
    let mut running = 1.0_f64;
    for rank in (1..=m).rev() {
        let i = order[rank - 1];
        running = running.min(mf * p_values[i] / rank as f64).min(1.0);
        q_values[i] = running;
    }
    Ok(FdrResult { alpha, threshold, significant, q_values })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_up_rejects_up_to_the_largest_passing_rank() {
        // m = 5, α = 0.05: thresholds 0.01, 0.02, 0.03, 0.04, 0.05.
        // sorted p: 0.001 ≤ .01 ✓, 0.03 > .02 ✗, 0.035 ≤ .03? no, 0.04 ≤ .04 ✓, 0.9 ✗
        // largest passing rank is 4 (p = 0.04): ranks 1–4 are significant, even 0.03 that
        // failed its own step.
        let p = [0.04, 0.9, 0.001, 0.035, 0.03];
        let r = benjamini_hochberg(&p, 0.05).unwrap();
        assert_eq!(r.significant, vec![true, false, true, true, true]);
        assert_eq!(r.threshold, Some(0.04));
        // q-values: 0.9→0.9, 0.04→min(.9, 5·.04/4=.05)=.05, .035→min(.05, 5·.035/3)=.05,
        // .03→min(.05, .075)=.05, .001→.005
        let expected = [0.05, 0.9, 0.005, 0.05, 0.05];
        for (q, e) in r.q_values.iter().zip(expected) {
            assert!((q - e).abs() < 1e-12, "{q} vs {e}");
        }
    }

    #[test]
    fn nothing_passes_and_bad_input_is_rejected() {
        let r = benjamini_hochberg(&[0.5, 0.2], 0.05).unwrap();
        assert_eq!(r.significant, vec![false, false]);
        assert_eq!(r.threshold, None);
        assert!(benjamini_hochberg(&[f64::NAN], 0.05).is_err());
        assert!(benjamini_hochberg(&[0.1], 1.5).is_err());
        assert!(benjamini_hochberg(&[], 0.05).unwrap().significant.is_empty());
    }
}
