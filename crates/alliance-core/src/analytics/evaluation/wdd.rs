//! The Weighted Displacement Difference test of Wheeler & Ratcliffe (2018).

use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

use super::change::{BeforeAfter, PeriodLengths};
use super::{AreaRole, Areas};
use crate::analytics::poisson::{two_sided_p_value, ConfidenceLevel, Interval};

/// One part (local or displacement) of a WDD: an estimate and its standard error.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct WddComponent {
    pub estimate: f64,
    pub standard_error: f64,
}

/// The Weighted Displacement Difference test.
///
/// Wheeler, A. P. & Ratcliffe, J. H. (2018). "A simple weighted displacement difference
/// test to evaluate place based crime interventions." *Crime Science* 7:11.
///
/// `WDD = ΔT − ΔC + ΔD − ΔCD`, each `Δ = after − before`, for the target (T), its control
/// (C), the displacement (buffer) area (D) and its control (CD). Under the Poisson
/// assumption the variance of a count equals its mean, so
/// `V(WDD) = T₀ + T₁ + C₀ + C₁ + D₀ + D₁ + CD₀ + CD₁`, `z = WDD / √V` and the interval is
/// `WDD ± z₁₋α/₂ · √V`. A negative WDD is a net fall in crime in the target and buffer
/// beyond the controls' change.
///
/// Unequal periods follow Wheeler's time weights (2021, "The WDD test with different
/// pre/post time periods"): every before-period count is put on the after period's length
/// by the factor `s = after_months / before_months`, so its variance is scaled by `s²`.
/// The WDD is then in crimes *per after period*. Equal periods give `s = 1`, the
/// published form. Missing areas contribute nothing.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct WeightedDisplacementDifference {
    /// The counts it is computed from. Areas other than the target are optional: without a
    /// comparison the local estimate is the target's own change, and without a buffer there
    /// is no displacement component. Written in the formula's order (T, C, D, CD), as
    /// stored results have them.
    #[serde(serialize_with = "in_formula_order")]
    pub counts: Areas<BeforeAfter>,
    /// `after_months / before_months`, the weight on every before-period count.
    pub before_count_scale: f64,
    /// ΔT − ΔC: the change in the target beyond the comparison's.
    pub local: WddComponent,
    /// ΔD − ΔCD: the change in the buffer beyond its control's; `None` without a buffer.
    pub displacement: Option<WddComponent>,
    pub total: WddComponent,
    pub z: f64,
    pub p_value: f64,
    pub interval: Interval,
}

fn in_formula_order<S: Serializer>(counts: &Areas<BeforeAfter>, serializer: S) -> Result<S::Ok, S::Error> {
    let order = [AreaRole::Target, AreaRole::Comparison, AreaRole::Buffer, AreaRole::ComparisonBuffer];
    let mut fields = serializer.serialize_struct("WddCounts", order.len())?;
    for role in order {
        fields.serialize_field(role.key(), &counts.get(role))?;
    }
    fields.end()
}

/// The WDD test for the given areas and periods (see [`WeightedDisplacementDifference`]).
pub fn weighted_displacement_difference(
    counts: Areas<BeforeAfter>,
    periods: PeriodLengths,
    level: ConfidenceLevel,
) -> WeightedDisplacementDifference {
    let scale = periods.before_to_after_scale();
    // (after − s·before, after + s²·before) for each area; a missing area adds nothing.
    let delta =
        counts.map(|a| (a.after as f64 - scale * a.before as f64, a.after as f64 + scale * scale * a.before as f64));
    let none = (0.0, 0.0);
    let (dt, vt) = delta.target;
    let (dc, vc) = delta.comparison.unwrap_or(none);
    let (dd, vd) = delta.buffer.unwrap_or(none);
    let (dcd, vcd) = delta.comparison_buffer.unwrap_or(none);
    let local = WddComponent { estimate: dt - dc, standard_error: (vt + vc).sqrt() };
    let displacement = counts.buffer.map(|_| WddComponent { estimate: dd - dcd, standard_error: (vd + vcd).sqrt() });
    let estimate = dt - dc + dd - dcd;
    let standard_error = (vt + vc + vd + vcd).sqrt();
    let z = if standard_error > 0.0 { estimate / standard_error } else { 0.0 };
    let half_width = level.z() * standard_error;
    WeightedDisplacementDifference {
        counts,
        before_count_scale: scale,
        local,
        displacement,
        total: WddComponent { estimate, standard_error },
        z,
        p_value: two_sided_p_value(z),
        interval: Interval { lower: estimate - half_width, upper: estimate + half_width },
    }
}

/// Several WDD tests (e.g. one per crime category) combined with harm weights, as in
/// Wheeler's `wdd_harm`: `Σ wᵢ·WDDᵢ` with variance `Σ wᵢ²·V(WDDᵢ)`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct HarmWeightedWdd {
    pub estimate: f64,
    pub standard_error: f64,
    pub z: f64,
    pub p_value: f64,
    pub interval: Interval,
}

/// Combines `(weight, WDD)` pairs into one harm-weighted WDD.
pub fn harm_weighted_wdd(parts: &[(f64, WeightedDisplacementDifference)], level: ConfidenceLevel) -> HarmWeightedWdd {
    let estimate: f64 = parts.iter().map(|(w, wdd)| w * wdd.total.estimate).sum();
    let variance: f64 = parts.iter().map(|(w, wdd)| w * w * wdd.total.standard_error.powi(2)).sum();
    let standard_error = variance.sqrt();
    let z = if standard_error > 0.0 { estimate / standard_error } else { 0.0 };
    let half_width = level.z() * standard_error;
    HarmWeightedWdd {
        estimate,
        standard_error,
        z,
        p_value: two_sided_p_value(z),
        interval: Interval { lower: estimate - half_width, upper: estimate + half_width },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::test_support::close;

    const LEVEL: ConfidenceLevel = ConfidenceLevel::NINETY_FIVE;
    const EQUAL: PeriodLengths = PeriodLengths { before_months: 12.0, after_months: 12.0 };

    #[test]
    fn wheeler_ratcliffe_published_example() {
        // Wheeler & Ratcliffe (2018), the Philadelphia Foot Patrol Experiment example:
        // target 207 → 110, control 308 → 318, displacement 178 → 157, its control
        // 150 → 140. WDD = −118, V = 1568, SE ≈ 39.6, z = −2.98, 95% CI −196 to −40.
        let counts = Areas {
            target: BeforeAfter::new(207, 110),
            comparison: Some(BeforeAfter::new(308, 318)),
            buffer: Some(BeforeAfter::new(178, 157)),
            comparison_buffer: Some(BeforeAfter::new(150, 140)),
        };
        let wdd = weighted_displacement_difference(counts, EQUAL, LEVEL);
        assert!(close(wdd.total.estimate, -118.0, 1e-12));
        assert!(close(wdd.total.standard_error, 1568f64.sqrt(), 1e-12));
        assert!(close((wdd.z * 100.0).round() / 100.0, -2.98, 1e-12));
        assert_eq!(wdd.interval.lower.round(), -196.0);
        assert_eq!(wdd.interval.upper.round(), -40.0);
        assert!(close(wdd.local.estimate, -107.0, 1e-12)); // (110−207) − (318−308)
        assert!(close(wdd.displacement.unwrap().estimate, -11.0, 1e-12)); // (157−178) − (140−150)
        assert!(wdd.p_value < 0.01);
    }

    #[test]
    fn wheeler_time_weight_example() {
        // Wheeler (2021), different pre/post lengths: control 100 → 50, treated 80 → 20,
        // with a before period twice as long as the after. WDD = −20, V = 115.
        let counts =
            Areas { comparison: Some(BeforeAfter::new(100, 50)), ..Areas::target_only(BeforeAfter::new(80, 20)) };
        let periods = PeriodLengths { before_months: 24.0, after_months: 12.0 };
        let wdd = weighted_displacement_difference(counts, periods, LEVEL);
        assert!(close(wdd.total.estimate, -20.0, 1e-12));
        assert!(close(wdd.total.standard_error, 115f64.sqrt(), 1e-12));
        assert_eq!(wdd.displacement, None);
    }

    #[test]
    fn simple_no_displacement_examples() {
        let only = |t: BeforeAfter, c: BeforeAfter| Areas { comparison: Some(c), ..Areas::target_only(t) };
        let wdd =
            weighted_displacement_difference(only(BeforeAfter::new(20, 10), BeforeAfter::new(20, 20)), EQUAL, LEVEL);
        assert!(close(wdd.total.estimate, -10.0, 1e-12));
        assert!(close(wdd.total.standard_error, 70f64.sqrt(), 1e-12));
    }

    #[test]
    fn harm_weights_combine_estimates_and_variances() {
        let one = |t: (u64, u64)| {
            weighted_displacement_difference(Areas::target_only(BeforeAfter::new(t.0, t.1)), EQUAL, LEVEL)
        };
        let combined = harm_weighted_wdd(&[(2.0, one((30, 20))), (0.5, one((10, 14)))], LEVEL);
        // 2·(−10) + 0.5·4 = −18; V = 4·50 + 0.25·24 = 206.
        assert!(close(combined.estimate, -18.0, 1e-12));
        assert!(close(combined.standard_error, 206f64.sqrt(), 1e-12));
    }
}
