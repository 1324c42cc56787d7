//! The overdispersion check: do the monthly counts of the before period vary more than
//! Poisson counts would?
//!
//! Every interval of the evaluation assumes Poisson counts, whose variance equals their
//! mean. Recorded crime in small places is usually more variable than that (a busy
//! weekend, a prolific offender, a change in recording), and then Poisson intervals are too
//! narrow and changes look significant when they are not.
//!
//! The check is the Pearson dispersion statistic (McCullagh & Nelder 1989, *Generalized
//! Linear Models*, §4.5): with the before period's monthly counts `yᵢ` and a fitted mean
//! `μᵢ`,
//!
//! `X² = Σ (yᵢ − μᵢ)² / μᵢ`,   `φ = X² / (n − p)`
//!
//! where `p` is the number of parameters of the mean: 1 for a constant mean (`μᵢ = ȳ`, the
//! Poisson maximum-likelihood fit) or 2 for a linear trend (`μᵢ = a + b·i`, fitted by least
//! squares; a steady rise or fall is then not mistaken for extra variation). The trend is
//! used when it is defined (at least 3 months, every fitted mean positive), the constant
//! mean otherwise. `φ ≈ 1` is Poisson; `φ > 1` is overdispersion.
//!
//! When `φ > 1` the quasi-Poisson correction scales every standard error by `√φ`
//! (Wedderburn 1974; McCullagh & Nelder §9.2): on the log scale of a rate ratio the
//! interval's distances from the estimate are multiplied by `√φ`. `φ ≤ 1` is never used to
//! narrow an interval.

use serde::Serialize;

use crate::analytics::poisson::{Interval, RateRatio};

/// The mean the monthly counts are compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MeanModel {
    Constant,
    LinearTrend,
}

impl MeanModel {
    /// The number of fitted parameters.
    fn parameters(self) -> usize {
        match self {
            MeanModel::Constant => 1,
            MeanModel::LinearTrend => 2,
        }
    }
}

/// The dispersion of one area's before-period monthly counts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Dispersion {
    pub months: usize,
    pub mean_model: MeanModel,
    pub pearson_chi_square: f64,
    pub degrees_of_freedom: usize,
    /// `X² / df`.
    pub phi: f64,
    /// `φ > 1`: the intervals are widened.
    pub overdispersed: bool,
    /// The factor applied to standard errors: `√max(φ, 1)`.
    pub scale: f64,
}

/// Why the dispersion cannot be estimated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum DispersionUndefined {
    /// At least two months are needed (one degree of freedom after the mean).
    TooFewMonths { months: usize },
    /// No crime in any month: the mean is zero.
    NoCrime,
}

impl super::NotReportedReason for DispersionUndefined {
    fn explanation(&self) -> String {
        match self {
            DispersionUndefined::TooFewMonths { months } => format!(
                "the before period has {months} {} of counts and at least 2 are needed to see how much they vary",
                if *months == 1 { "month" } else { "months" }
            ),
            DispersionUndefined::NoCrime => {
                "no crime was recorded in any month of the before period, so there is no variation to measure"
                    .to_string()
            }
        }
    }
}

/// The Pearson dispersion of `counts` against `model`, or `None` when that model cannot
/// be fitted (too few months, or a fitted mean that is not positive).
pub fn pearson_dispersion(counts: &[f64], model: MeanModel) -> Option<Dispersion> {
    let n = counts.len();
    if n <= model.parameters() {
        return None;
    }
    let mean = counts.iter().sum::<f64>() / n as f64;
    let fitted: Vec<f64> = match model {
        MeanModel::Constant => vec![mean; n],
        MeanModel::LinearTrend => {
            let t_mean = (n as f64 - 1.0) / 2.0;
            let (mut sxy, mut sxx) = (0.0, 0.0);
            for (i, y) in counts.iter().enumerate() {
                let dt = i as f64 - t_mean;
                sxy += dt * (y - mean);
                sxx += dt * dt;
            }
            let slope = sxy / sxx;
            (0..n).map(|i| mean + slope * (i as f64 - t_mean)).collect()
        }
    };
    if fitted.iter().any(|m| *m <= 0.0 || !m.is_finite()) {
        return None;
    }
    let chi: f64 = counts.iter().zip(&fitted).map(|(y, m)| (y - m) * (y - m) / m).sum();
    let df = n - model.parameters();
    let phi = chi / df as f64;
    Some(Dispersion {
        months: n,
        mean_model: model,
        pearson_chi_square: chi,
        degrees_of_freedom: df,
        phi,
        overdispersed: phi > 1.0,
        scale: phi.max(1.0).sqrt(),
    })
}

/// The dispersion of a before period's monthly counts: against a linear trend where it can
/// be fitted, else against a constant mean.
pub fn dispersion(counts: &[f64]) -> Result<Dispersion, DispersionUndefined> {
    if counts.len() < 2 {
        return Err(DispersionUndefined::TooFewMonths { months: counts.len() });
    }
    if counts.iter().all(|c| *c <= 0.0) {
        return Err(DispersionUndefined::NoCrime);
    }
    pearson_dispersion(counts, MeanModel::LinearTrend)
        .or_else(|| pearson_dispersion(counts, MeanModel::Constant))
        .ok_or(DispersionUndefined::NoCrime)
}

/// Widens a rate-ratio interval by `scale` on the log scale around the estimate: a bound at
/// distance `d` from `ln R` moves to `scale · d`. A bound of 0 or infinity stays; without a
/// finite positive estimate nothing changes (the exact interval of a zero count is kept).
pub fn widen_interval(estimate: Option<f64>, interval: Interval, scale: f64) -> Interval {
    let Some(r) = estimate.filter(|r| *r > 0.0 && r.is_finite()) else { return interval };
    if scale <= 1.0 {
        return interval;
    }
    let widen = |bound: f64| {
        if bound > 0.0 && bound.is_finite() {
            r * (bound / r).powf(scale)
        } else {
            bound
        }
    };
    Interval { lower: widen(interval.lower), upper: widen(interval.upper) }
}

/// A rate ratio with its interval widened by `scale` (see [`widen_interval`]).
pub fn widen_rate_ratio(ratio: &RateRatio, scale: f64) -> RateRatio {
    RateRatio { interval: widen_interval(ratio.estimate, ratio.interval, scale), ..*ratio }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn equal_counts_are_underdispersed_and_left_alone() {
        let d = dispersion(&[10.0, 10.0, 10.0, 10.0]).unwrap();
        assert_eq!(d.mean_model, MeanModel::LinearTrend);
        assert!(close(d.phi, 0.0));
        assert!(!d.overdispersed);
        assert!(close(d.scale, 1.0));
    }

    /// 2, 8, 2, 8. Constant mean 5: X² = 4 · 9/5 = 7.2 on 3 df, φ = 2.4. Linear trend
    /// (t = 0..3, t̄ = 1.5): slope = Σ(t−t̄)(y−ȳ)/Σ(t−t̄)² = 6/5 = 1.2, fitted 3.2, 4.4, 5.6,
    /// 6.8; X² = 1.44/3.2 + 12.96/4.4 + 12.96/5.6 + 1.44/6.8 = 5.921505… on 2 df, φ =
    /// 2.960752…
    #[test]
    fn alternating_counts_worked_example() {
        let c = pearson_dispersion(&[2.0, 8.0, 2.0, 8.0], MeanModel::Constant).unwrap();
        assert!(close(c.pearson_chi_square, 7.2));
        assert_eq!(c.degrees_of_freedom, 3);
        assert!(close(c.phi, 2.4));
        let t = dispersion(&[2.0, 8.0, 2.0, 8.0]).unwrap();
        assert_eq!(t.mean_model, MeanModel::LinearTrend);
        let chi = 1.44 / 3.2 + 12.96 / 4.4 + 12.96 / 5.6 + 1.44 / 6.8;
        assert!(close(t.pearson_chi_square, chi));
        assert_eq!(t.degrees_of_freedom, 2);
        assert!(close(t.phi, chi / 2.0));
        assert!(t.overdispersed);
        assert!(close(t.scale, (chi / 2.0).sqrt()));
    }

    /// A steady rise with Poisson-sized wobble is not called overdispersed against the
    /// trend, though it is against a constant mean: 10, 20, 30, 40 lies on the line
    /// (X² = 0); against the mean 25, X² = (225 + 25 + 25 + 225)/25 = 20 on 3 df.
    #[test]
    fn a_trend_is_not_mistaken_for_dispersion() {
        let counts = [10.0, 20.0, 30.0, 40.0];
        assert!(close(dispersion(&counts).unwrap().phi, 0.0));
        assert!(close(pearson_dispersion(&counts, MeanModel::Constant).unwrap().phi, 20.0 / 3.0));
    }

    /// A falling line that would go negative cannot be the mean of counts: 9, 1, 0 has the
    /// least-squares line 10/3 − 4.5·(t − 1), which is −7/6 at t = 2, so the constant mean
    /// 10/3 is used: X² = (289/9 + 49/9 + 100/9)/(10/3) = 438/30 = 14.6 on 2 df, φ = 7.3.
    #[test]
    fn falls_back_to_a_constant_mean_and_refuses_too_little() {
        let d = dispersion(&[9.0, 1.0, 0.0]).unwrap();
        assert_eq!(d.mean_model, MeanModel::Constant);
        assert!(close(d.pearson_chi_square, 14.6));
        assert!(close(d.phi, 7.3));
        assert_eq!(dispersion(&[5.0]), Err(DispersionUndefined::TooFewMonths { months: 1 }));
        assert_eq!(dispersion(&[0.0, 0.0, 0.0]), Err(DispersionUndefined::NoCrime));
    }

    /// R = 0.5 with interval 0.25 to 1.0 and φ = 4 (scale 2): the log distances ln 2 double,
    /// so 0.5·0.5² = 0.125 to 0.5·2² = 2.0. Zero and infinite bounds stay.
    #[test]
    fn intervals_widen_on_the_log_scale() {
        let i = widen_interval(Some(0.5), Interval { lower: 0.25, upper: 1.0 }, 2.0);
        assert!(close(i.lower, 0.125) && close(i.upper, 2.0));
        let i = widen_interval(Some(2.0), Interval { lower: 0.0, upper: f64::INFINITY }, 3.0);
        assert_eq!((i.lower, i.upper), (0.0, f64::INFINITY));
        let i = widen_interval(None, Interval { lower: 0.0, upper: 7.0 }, 3.0);
        assert_eq!(i.upper, 7.0);
        let i = widen_interval(Some(0.5), Interval { lower: 0.25, upper: 1.0 }, 1.0);
        assert!(close(i.lower, 0.25));
    }
}
