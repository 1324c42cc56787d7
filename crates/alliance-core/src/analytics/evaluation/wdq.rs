//! The Weighted Displacement Quotient of Bowers & Johnson (2003).

use serde::Serialize;

use super::change::BeforeAfter;

/// Why the WDQ is not reported.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum WdqUndefined {
    /// The comparison area had no recorded crime in a period, so the ratios to it are
    /// infinite.
    ZeroComparisonCount { before: u64, after: u64 },
    /// The target did not improve relative to the comparison (success measure ≥ 0), and
    /// the WDQ only has a meaning when there was a success to displace.
    NoSuccessInTarget { success_measure: f64 },
}

impl super::NotReportedReason for WdqUndefined {
    fn explanation(&self) -> String {
        match *self {
            WdqUndefined::ZeroComparisonCount { before, after } => format!(
                "the comparison area had no recorded crime in the {} period, so its ratios cannot be formed",
                match (before, after) {
                    (0, 0) => "before or after",
                    (0, _) => "before",
                    _ => "after",
                }
            ),
            WdqUndefined::NoSuccessInTarget { success_measure } => format!(
                "the target area did not improve relative to the comparison area (success measure {:.2}; below 0 is an improvement), so there is no success whose displacement could be weighed",
                success_measure
            ),
        }
    }
}

/// How Bowers & Johnson read a WDQ value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WdqReading {
    /// WDQ > 1: the buffer improved by more than the target (diffusion exceeds the direct effect).
    DiffusionGreaterThanDirectEffect,
    /// 0 < WDQ ≤ 1: diffusion of benefit into the buffer.
    DiffusionOfBenefit,
    /// WDQ = 0: no change in the buffer relative to the comparison.
    NoChangeInBuffer,
    /// −1 ≤ WDQ < 0: some displacement, but less than the direct effect (net benefit).
    DisplacementLessThanDirectEffect,
    /// WDQ < −1: displacement exceeds the direct effect (the scheme was counterproductive).
    DisplacementGreaterThanDirectEffect,
}

/// The Weighted Displacement Quotient with its parts and the total net effect.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct WdqValue {
    /// Success measure `Tₐ/Cₐ − T_b/C_b`; negative is a success.
    pub success_measure: f64,
    /// Buffer displacement measure `Dₐ/Cₐ − D_b/C_b`; positive is displacement.
    pub buffer_displacement_measure: f64,
    pub wdq: f64,
    pub reading: WdqReading,
    /// Net crimes prevented in target and buffer together, given the comparison's trend:
    /// `[T_b·(Cₐ/C_b) − Tₐ] + [D_b·(Cₐ/C_b) − Dₐ]`; positive means fewer crimes than
    /// expected.
    pub total_net_effect: f64,
    /// The target's part of the net effect, `T_b·(Cₐ/C_b) − Tₐ`.
    pub target_net_effect: f64,
    /// The buffer's part of the net effect, `D_b·(Cₐ/C_b) − Dₐ`.
    pub buffer_net_effect: f64,
}

/// The Weighted Displacement Quotient.
///
/// Bowers, K. J. & Johnson, S. D. (2003). "Measuring the geographical displacement and
/// diffusion of benefit effects of crime prevention activity." *Journal of Quantitative
/// Criminology* 19(3), 275–301. With T the target (their "response area" R), D the buffer,
/// C the comparison (control), and b/a before/after:
///
/// `WDQ = (Dₐ/Cₐ − D_b/C_b) / (Tₐ/Cₐ − T_b/C_b)`
///
/// The denominator is the success measure (negative when the target improved relative
/// to the comparison), the numerator the buffer displacement measure. The quotient is
/// reported only when the success measure is negative and the comparison counts are
/// above zero; otherwise the reason is returned. Counts are used directly: each ratio
/// divides areas in the same period, so unequal period lengths cancel. The WDQ has no
/// sampling distribution; it is a descriptive measure (the WDD is the test).
pub fn weighted_displacement_quotient(
    target: BeforeAfter,
    buffer: BeforeAfter,
    comparison: BeforeAfter,
) -> Result<WdqValue, WdqUndefined> {
    if comparison.before == 0 || comparison.after == 0 {
        return Err(WdqUndefined::ZeroComparisonCount { before: comparison.before, after: comparison.after });
    }
    let (cb, ca) = (comparison.before as f64, comparison.after as f64);
    let success_measure = target.after as f64 / ca - target.before as f64 / cb;
    if success_measure >= 0.0 {
        return Err(WdqUndefined::NoSuccessInTarget { success_measure });
    }
    let buffer_displacement_measure = buffer.after as f64 / ca - buffer.before as f64 / cb;
    let wdq = buffer_displacement_measure / success_measure;
    let reading = if wdq > 1.0 {
        WdqReading::DiffusionGreaterThanDirectEffect
    } else if wdq > 0.0 {
        WdqReading::DiffusionOfBenefit
    } else if wdq == 0.0 {
        WdqReading::NoChangeInBuffer
    } else if wdq >= -1.0 {
        WdqReading::DisplacementLessThanDirectEffect
    } else {
        WdqReading::DisplacementGreaterThanDirectEffect
    };
    let trend = ca / cb;
    let target_net_effect = target.before as f64 * trend - target.after as f64;
    let buffer_net_effect = buffer.before as f64 * trend - buffer.after as f64;
    Ok(WdqValue {
        success_measure,
        buffer_displacement_measure,
        wdq,
        reading,
        total_net_effect: target_net_effect + buffer_net_effect,
        target_net_effect,
        buffer_net_effect,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12
    }

    fn defined(q: Result<WdqValue, WdqUndefined>) -> WdqValue {
        match q {
            Ok(v) => v,
            Err(why) => panic!("expected a WDQ, got {why:?}"),
        }
    }

    #[test]
    fn worked_example_by_hand() {
        // Target 100 → 60, buffer 80 → 90, comparison 200 → 180.
        // Success measure 60/180 − 100/200 = −1/6; buffer measure 90/180 − 80/200 = 0.1;
        // WDQ = 0.1 / (−1/6) = −0.6: displacement, smaller than the direct effect.
        // Net effect with the comparison's trend 180/200 = 0.9:
        // target 100·0.9 − 60 = 30 prevented; buffer 80·0.9 − 90 = −18; total 12.
        let v = defined(weighted_displacement_quotient(
            BeforeAfter::new(100, 60),
            BeforeAfter::new(80, 90),
            BeforeAfter::new(200, 180),
        ));
        assert!(close(v.success_measure, -1.0 / 6.0));
        assert!(close(v.buffer_displacement_measure, 0.1));
        assert!(close(v.wdq, -0.6));
        assert_eq!(v.reading, WdqReading::DisplacementLessThanDirectEffect);
        assert!(close(v.target_net_effect, 30.0));
        assert!(close(v.buffer_net_effect, -18.0));
        assert!(close(v.total_net_effect, 12.0));
    }

    #[test]
    fn diffusion_reads_as_diffusion() {
        // Buffer also falls: 80 → 50 against comparison 200 → 200; target 100 → 60.
        let v = defined(weighted_displacement_quotient(
            BeforeAfter::new(100, 60),
            BeforeAfter::new(80, 50),
            BeforeAfter::new(200, 200),
        ));
        assert!(close(v.wdq, 0.75)); // (−0.15)/(−0.2)
        assert_eq!(v.reading, WdqReading::DiffusionOfBenefit);
    }

    #[test]
    fn not_defined_without_success_or_with_zero_comparison() {
        let q = weighted_displacement_quotient(
            BeforeAfter::new(50, 60),
            BeforeAfter::new(10, 10),
            BeforeAfter::new(100, 100),
        );
        assert!(matches!(
            q,
            Err(WdqUndefined::NoSuccessInTarget { success_measure }) if close(success_measure, 0.1)
        ));
        let q =
            weighted_displacement_quotient(BeforeAfter::new(50, 30), BeforeAfter::new(10, 10), BeforeAfter::new(0, 4));
        assert_eq!(q, Err(WdqUndefined::ZeroComparisonCount { before: 0, after: 4 }));
    }
}
