//! Monthly-series checks: difference in differences, the pre-period trend check, and the
//! regression-to-the-mean flag.

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, StudentsT};

use super::change::{relative_effect, BeforeAfter, RelativeEffect};
use crate::analytics::poisson::{rate_ratio, ConfidenceLevel, Interval, PoissonCount, RateRatio, RateRatioMethod};

/// Why a series statistic was not computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum SeriesUndefined {
    /// Too few months in a period for a variance (or, for a slope, for residuals).
    TooFewMonths { needed: usize, got: usize },
    /// The months' values do not vary at all, so there is no variance to test with.
    NoVariation,
}

impl super::NotReportedReason for SeriesUndefined {
    fn explanation(&self) -> String {
        match self {
            SeriesUndefined::TooFewMonths { needed, got } => format!(
                "a period has {got} {} of counts and at least {needed} are needed",
                if *got == 1 { "month" } else { "months" }
            ),
            SeriesUndefined::NoVariation => {
                "the monthly figures do not vary at all, so there is no variation to test against".to_string()
            }
        }
    }
}

/// Student's t two-sided p-value and critical value for `df` degrees of freedom.
fn t_p_value(t: f64, df: f64) -> f64 {
    match StudentsT::new(0.0, 1.0, df) {
        Ok(dist) => (2.0 * dist.sf(t.abs())).min(1.0),
        Err(_) => f64::NAN,
    }
}

fn t_critical(level: ConfidenceLevel, df: f64) -> f64 {
    match StudentsT::new(0.0, 1.0, df) {
        Ok(dist) => dist.inverse_cdf(1.0 - level.alpha() / 2.0),
        Err(_) => f64::NAN,
    }
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

fn sample_variance(values: &[f64]) -> f64 {
    let m = mean(values);
    values.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (values.len() as f64 - 1.0)
}

/// Difference in differences of monthly means, target against comparison.
///
/// `DiD = (T̄ₐ − T̄_b) − (C̄ₐ − C̄_b)` in crimes per month (Card & Krueger 1994; the
/// standard 2×2 estimator). It is computed from the monthly differences
/// `Dₘ = Tₘ − Cₘ` as `D̄ₐ − D̄_b`, which is algebraically the same estimate; its standard
/// error is Welch's, `√(s²_a/nₐ + s²_b/n_b)` over the monthly differences, with the
/// Welch–Satterthwaite degrees of freedom for the t-test and interval. Working with the
/// monthly differences removes shocks common to both areas in the same month (season,
/// recording changes) from the error. Months are treated as independent, so strong
/// autocorrelation makes the interval too narrow. The estimate is additive: areas of very
/// different size should be compared on the rate ratios instead.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DifferenceInDifferences {
    pub months_before: usize,
    pub months_after: usize,
    pub target_mean_before: f64,
    pub target_mean_after: f64,
    pub comparison_mean_before: f64,
    pub comparison_mean_after: f64,
    /// Crimes per month; negative means the target fell more (or rose less) than the comparison.
    pub estimate: f64,
    pub standard_error: f64,
    pub degrees_of_freedom: f64,
    pub t: f64,
    pub p_value: f64,
    pub interval: Interval,
}

/// Difference in differences on aligned monthly series (see [`DifferenceInDifferences`]).
/// `target_before[i]` and `comparison_before[i]` must be the same month.
pub fn difference_in_differences(
    target_before: &[f64],
    target_after: &[f64],
    comparison_before: &[f64],
    comparison_after: &[f64],
    level: ConfidenceLevel,
) -> Result<DifferenceInDifferences, SeriesUndefined> {
    let (nb, na) = (target_before.len().min(comparison_before.len()), target_after.len().min(comparison_after.len()));
    if nb < 2 || na < 2 {
        return Err(SeriesUndefined::TooFewMonths { needed: 2, got: nb.min(na) });
    }
    let diff = |t: &[f64], c: &[f64]| -> Vec<f64> { t.iter().zip(c).map(|(a, b)| a - b).collect() };
    let before = diff(target_before, comparison_before);
    let after = diff(target_after, comparison_after);
    let (vb, va) = (sample_variance(&before) / nb as f64, sample_variance(&after) / na as f64);
    let variance = vb + va;
    if variance <= 0.0 {
        return Err(SeriesUndefined::NoVariation);
    }
    let standard_error = variance.sqrt();
    let df = variance.powi(2) / (vb.powi(2) / (nb as f64 - 1.0) + va.powi(2) / (na as f64 - 1.0));
    let estimate = mean(&after) - mean(&before);
    let t = estimate / standard_error;
    let half_width = t_critical(level, df) * standard_error;
    Ok(DifferenceInDifferences {
        months_before: nb,
        months_after: na,
        target_mean_before: mean(&target_before[..nb]),
        target_mean_after: mean(&target_after[..na]),
        comparison_mean_before: mean(&comparison_before[..nb]),
        comparison_mean_after: mean(&comparison_after[..na]),
        estimate,
        standard_error,
        degrees_of_freedom: df,
        t,
        p_value: t_p_value(t, df),
        interval: Interval { lower: estimate - half_width, upper: estimate + half_width },
    })
}

/// The p-value below which the pre-period trends are said to differ. 0.10 rather than
/// 0.05 because the check guards an assumption: missing a real divergence is the worse
/// error.
pub const PRE_TREND_THRESHOLD: f64 = 0.10;

/// Test of parallel pre-period trends: the difference between the target's and the
/// comparison's linear slopes over the before period.
///
/// By the linearity of least squares, the slope of the monthly difference
/// `Dₘ = Tₘ − Cₘ` on the month index equals `slope(T) − slope(C)`; its standard error is
/// the ordinary least-squares one, `√(σ̂² / Σ(m − m̄)²)` with `σ̂²` the residual variance
/// on `n − 2` degrees of freedom, and the test is Student's t. Diverging trends flag
/// `diverging` when `p < 0.10` ([`PRE_TREND_THRESHOLD`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PreTrendCheck {
    pub months: usize,
    /// Target slope, crimes per month per month.
    pub target_slope: f64,
    pub comparison_slope: f64,
    /// `target_slope − comparison_slope`.
    pub slope_difference: f64,
    pub standard_error: f64,
    pub t: f64,
    pub p_value: f64,
    pub diverging: bool,
}

fn slope(values: &[f64]) -> (f64, f64, f64) {
    // Returns (slope, intercept, Σ(m − m̄)²) for x = 0, 1, 2, …
    let n = values.len() as f64;
    let x_mean = (n - 1.0) / 2.0;
    let y_mean = mean(values);
    let sxx: f64 = (0..values.len()).map(|i| (i as f64 - x_mean).powi(2)).sum();
    let sxy: f64 = values.iter().enumerate().map(|(i, y)| (i as f64 - x_mean) * (y - y_mean)).sum();
    let b = sxy / sxx;
    (b, y_mean - b * x_mean, sxx)
}

/// The pre-period trend check (see [`PreTrendCheck`]) on aligned monthly before-period
/// series. Needs at least 3 months.
pub fn pre_trend_check(target_before: &[f64], comparison_before: &[f64]) -> Result<PreTrendCheck, SeriesUndefined> {
    let n = target_before.len().min(comparison_before.len());
    if n < 3 {
        return Err(SeriesUndefined::TooFewMonths { needed: 3, got: n });
    }
    let target = &target_before[..n];
    let comparison = &comparison_before[..n];
    let difference: Vec<f64> = target.iter().zip(comparison).map(|(t, c)| t - c).collect();
    let (b, a, sxx) = slope(&difference);
    let residual: f64 = difference.iter().enumerate().map(|(i, y)| (y - (a + b * i as f64)).powi(2)).sum();
    let df = n as f64 - 2.0;
    let standard_error = (residual / df / sxx).sqrt();
    let (t, p_value) = if standard_error > 0.0 {
        let t = b / standard_error;
        (t, t_p_value(t, df))
    } else if b == 0.0 {
        (0.0, 1.0)
    } else {
        // A perfectly linear divergence: no noise at all, so it is certainly diverging.
        (f64::INFINITY * b.signum(), 0.0)
    };
    Ok(PreTrendCheck {
        months: n,
        target_slope: slope(target).0,
        comparison_slope: slope(comparison).0,
        slope_difference: b,
        standard_error,
        t,
        p_value,
        diverging: p_value < PRE_TREND_THRESHOLD,
    })
}

/// Why regression to the mean may explain part of a fall.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RegressionToTheMeanReason {
    /// The target's before-period rate was significantly above its own earlier history.
    AboveOwnHistory { rate_ratio: f64, lower: f64 },
    /// The target rose into the before period significantly more than the comparison did.
    RoseMoreThanComparison { relative_rise_percent: f64 },
    /// The analyst says the target was chosen because its crime was high.
    SelectedForHighCrime,
}

/// The regression-to-the-mean check.
///
/// Places chosen because crime was unusually high tend to fall back whatever is done
/// (Galton's regression to the mean; in crime prevention, e.g. Farrington & Welsh on
/// hot-spot selection). Alliance flags it when
/// - the target's monthly rate in the before period is above the rate over the earlier
///   history months, with the rate ratio's exact 95% interval wholly above 1; or
/// - relative to the comparison, the target rose from history to the before period:
///   the relative effect size `(T_hist · C_before) / (T_before · C_hist)` has its
///   interval wholly below 1; or
/// - the analyst marks the target as chosen for being high.
///
/// It is a flag for a caveat, not a correction.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RegressionToTheMeanCheck {
    pub history_months: usize,
    /// The before-period rate over the history rate for the target (later over earlier).
    pub against_history: Option<RateRatio>,
    /// History → before relative effect for target against comparison (RES < 1: the
    /// target rose more than the comparison).
    pub against_comparison: Option<RelativeEffect>,
    pub reasons: Vec<RegressionToTheMeanReason>,
    pub flagged: bool,
}

/// Minimum history months for the history comparisons.
pub const MIN_HISTORY_MONTHS: usize = 6;

/// The regression-to-the-mean check from the history months (before the before period)
/// and the before months, each `(target, comparison)` per month; comparison may be absent.
pub fn regression_to_the_mean(
    history: &[(u64, Option<u64>)],
    before: &[(u64, Option<u64>)],
    selected_for_high_crime: bool,
) -> RegressionToTheMeanCheck {
    let level = ConfidenceLevel::NINETY_FIVE;
    let mut reasons = Vec::new();
    let mut against_history = None;
    let mut against_comparison = None;
    if history.len() >= MIN_HISTORY_MONTHS && !before.is_empty() {
        let t_hist: u64 = history.iter().map(|(t, _)| t).sum();
        let t_before: u64 = before.iter().map(|(t, _)| t).sum();
        let hist = PoissonCount::new(t_hist, history.len() as f64);
        let pre = PoissonCount::new(t_before, before.len() as f64);
        if let (Ok(hist), Ok(pre)) = (hist, pre) {
            if let Ok(rr) = rate_ratio(hist, pre, level, RateRatioMethod::ExactConditional) {
                if rr.interval.is_above(1.0) {
                    reasons.push(RegressionToTheMeanReason::AboveOwnHistory {
                        rate_ratio: rr.estimate.unwrap_or(f64::INFINITY),
                        lower: rr.interval.lower,
                    });
                }
                against_history = Some(rr);
            }
        }
        let comparison_hist: Option<u64> = history.iter().map(|(_, c)| *c).sum();
        let comparison_before: Option<u64> = before.iter().map(|(_, c)| *c).sum();
        if let (Some(c_hist), Some(c_before)) = (comparison_hist, comparison_before) {
            // History → before for both areas; the odds ratio is the same for counts and
            // rates because both areas share the same months.
            if let Ok(res) =
                relative_effect(BeforeAfter::new(t_hist, t_before), BeforeAfter::new(c_hist, c_before), level)
            {
                if res.interval.is_below(1.0) {
                    reasons.push(RegressionToTheMeanReason::RoseMoreThanComparison {
                        relative_rise_percent: res.relative_change_percent,
                    });
                }
                against_comparison = Some(res);
            }
        }
    }
    if selected_for_high_crime {
        reasons.push(RegressionToTheMeanReason::SelectedForHighCrime);
    }
    RegressionToTheMeanCheck {
        history_months: history.len(),
        against_history,
        against_comparison,
        flagged: !reasons.is_empty(),
        reasons,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::test_support::close;

    const LEVEL: ConfidenceLevel = ConfidenceLevel::NINETY_FIVE;

    #[test]
    fn did_worked_example() {
        // Target 10,12,11,13 → 6,7,5,6; comparison 8,9,8,9 → 8,8,9,7.
        // Means: T 11.5 → 6, C 8.5 → 8; DiD = (6 − 11.5) − (8 − 8.5) = −5.
        let did = difference_in_differences(
            &[10.0, 12.0, 11.0, 13.0],
            &[6.0, 7.0, 5.0, 6.0],
            &[8.0, 9.0, 8.0, 9.0],
            &[8.0, 8.0, 9.0, 7.0],
            LEVEL,
        )
        .unwrap();
        assert!(close(did.estimate, -5.0, 1e-12));
        // Differences: before 2,3,3,4 (var 2/3), after −2,−1,−4,−1 (var 2): SE = √(2/3/4 + 2/4).
        assert!(close(did.standard_error, (2.0f64 / 3.0 / 4.0 + 0.5).sqrt(), 1e-12));
        assert!(did.p_value < 0.01);
        assert!(did.interval.upper < 0.0);
    }

    #[test]
    fn did_needs_two_months_a_side() {
        assert_eq!(
            difference_in_differences(&[1.0], &[1.0, 2.0], &[1.0], &[2.0, 3.0], LEVEL),
            Err(SeriesUndefined::TooFewMonths { needed: 2, got: 1 })
        );
    }

    #[test]
    fn pre_trend_finds_diverging_slopes() {
        // Target climbs 1 a month, comparison flat, small noise.
        let target = [10.0, 11.2, 11.9, 13.1, 14.0, 14.8, 16.1, 17.0];
        let comparison = [10.0, 10.2, 9.9, 10.1, 10.0, 9.8, 10.1, 10.0];
        let check = pre_trend_check(&target, &comparison).unwrap();
        assert!(check.slope_difference > 0.9 && check.slope_difference < 1.1);
        assert!(close(check.slope_difference, check.target_slope - check.comparison_slope, 1e-12));
        assert!(check.diverging);
    }

    #[test]
    fn pre_trend_parallel_series_pass() {
        let target = [10.0, 12.0, 9.0, 11.0, 10.0, 12.0, 9.0, 11.0];
        let comparison = [5.0, 6.0, 5.0, 6.0, 5.0, 6.0, 5.0, 6.0];
        let check = pre_trend_check(&target, &comparison).unwrap();
        assert!(!check.diverging, "{check:?}");
    }

    #[test]
    fn rtm_flags_a_spike_before_the_intervention() {
        let history: Vec<(u64, Option<u64>)> = (0..24).map(|_| (10, Some(10))).collect();
        let before: Vec<(u64, Option<u64>)> = (0..12).map(|_| (18, Some(10))).collect();
        let check = regression_to_the_mean(&history, &before, false);
        assert!(check.flagged);
        assert!(matches!(check.reasons[0], RegressionToTheMeanReason::AboveOwnHistory { .. }));
        assert!(matches!(check.reasons[1], RegressionToTheMeanReason::RoseMoreThanComparison { .. }));
    }

    #[test]
    fn rtm_is_quiet_for_a_steady_target_unless_selected_for_high_crime() {
        let history: Vec<(u64, Option<u64>)> = (0..24).map(|_| (10, Some(10))).collect();
        let before: Vec<(u64, Option<u64>)> = (0..12).map(|_| (10, Some(10))).collect();
        assert!(!regression_to_the_mean(&history, &before, false).flagged);
        let selected = regression_to_the_mean(&history, &before, true);
        assert_eq!(selected.reasons, vec![RegressionToTheMeanReason::SelectedForHighCrime]);
    }
}
