//! Poisson rate tools: the normal distribution, rate ratios with confidence intervals,
//! percentage change, and the E-test for two Poisson counts.
//!
//! Crime counts in a place and a period are modelled as Poisson counts over an
//! *exposure* (the period's length, optionally times the area's size). Every function
//! here takes the exposure explicitly, so periods of unequal length (a 24-month "before"
//! against a 12-month "after", or a year with a missing month) are compared as rates,
//! never as raw counts. The intervention evaluation and the Strategic Needs Assessment
//! (year-on-year change) share these functions.
//!
//! Conventions:
//! - A rate ratio is always `second / first` in time order when used for change: the
//!   *later* rate over the *earlier* one, so a ratio below 1 is a fall.
//! - The default confidence interval for a rate ratio is the **exact conditional**
//!   (Clopper–Pearson) interval, see [`RateRatioMethod`].
//! - Intervals whose upper end is unbounded carry `f64::INFINITY` (written as `null` in
//!   JSON).

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, Normal};
use statrs::function::beta::inv_beta_reg;
use statrs::function::gamma::ln_gamma;

/// Why a Poisson calculation could not be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PoissonError {
    /// Exposures are lengths of time (or time × area) and must be positive and finite.
    #[error("the exposure must be a positive, finite number (got {0})")]
    InvalidExposure(f64),
    /// A confidence level is a probability strictly between 0 and 1, e.g. 0.95.
    #[error("the confidence level must be strictly between 0 and 1 (got {0})")]
    InvalidConfidenceLevel(f64),
    /// The log-normal interval needs both counts above zero; use the exact method.
    #[error("the log-normal interval needs both counts above zero (got {first} and {second}); use the exact conditional interval")]
    ZeroCountForLogNormal { first: u64, second: u64 },
    /// Comparing two periods with no events at all carries no information.
    #[error("both counts are zero, so there is nothing to test")]
    BothCountsZero,
}

// ---------------------------------------------------------------------------------------
// The standard normal distribution
// ---------------------------------------------------------------------------------------

fn standard_normal() -> Normal {
    Normal::standard()
}

/// Φ(z), the standard normal cumulative distribution function (via `statrs`, which
/// evaluates it through the complementary error function; accurate to about 1e-11).
pub fn standard_normal_cdf(z: f64) -> f64 {
    standard_normal().cdf(z)
}

/// Φ⁻¹(p), the standard normal quantile; `-∞` at 0 and `+∞` at 1.
pub fn standard_normal_quantile(p: f64) -> f64 {
    if p <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if p >= 1.0 {
        return f64::INFINITY;
    }
    standard_normal().inverse_cdf(p)
}

/// Two-sided p-value of a standard normal test statistic: `2 · (1 − Φ(|z|))`, computed
/// from the upper tail directly so very small p-values keep their precision.
pub fn two_sided_p_value(z: f64) -> f64 {
    if z.is_nan() {
        return f64::NAN;
    }
    (2.0 * standard_normal().sf(z.abs())).min(1.0)
}

/// A two-sided confidence level such as 95 %.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(transparent)]
pub struct ConfidenceLevel(f64);

impl ConfidenceLevel {
    /// The 95 % level used throughout Alliance unless the analyst chooses another.
    pub const NINETY_FIVE: ConfidenceLevel = ConfidenceLevel(0.95);

    pub fn new(level: f64) -> Result<ConfidenceLevel, PoissonError> {
        if level > 0.0 && level < 1.0 {
            Ok(ConfidenceLevel(level))
        } else {
            Err(PoissonError::InvalidConfidenceLevel(level))
        }
    }

    pub fn value(self) -> f64 {
        self.0
    }

    /// α = 1 − level.
    pub fn alpha(self) -> f64 {
        1.0 - self.0
    }

    /// The two-sided critical value z₁₋α/₂ (1.959964… at 95 %).
    pub fn z(self) -> f64 {
        standard_normal_quantile(1.0 - self.alpha() / 2.0)
    }

    /// The level as a whole percentage for wording ("95%").
    pub fn percent(self) -> f64 {
        self.0 * 100.0
    }
}

impl Default for ConfidenceLevel {
    fn default() -> Self {
        ConfidenceLevel::NINETY_FIVE
    }
}

/// A confidence interval. `upper` is `f64::INFINITY` when the data put no upper bound
/// on the quantity (e.g. a rate ratio whose earlier count is zero).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Interval {
    pub lower: f64,
    pub upper: f64,
}

impl Interval {
    /// Whether the interval contains `value` (ends included).
    pub fn contains(self, value: f64) -> bool {
        self.lower <= value && value <= self.upper
    }

    /// Whether the interval lies wholly above `value`.
    pub fn is_above(self, value: f64) -> bool {
        self.lower > value
    }

    /// Whether the interval lies wholly below `value`.
    pub fn is_below(self, value: f64) -> bool {
        self.upper < value
    }

    /// The interval with both ends mapped through an increasing `f`.
    pub fn map(self, f: impl Fn(f64) -> f64) -> Interval {
        Interval { lower: f(self.lower), upper: f(self.upper) }
    }
}

// ---------------------------------------------------------------------------------------
// Counts over an exposure
// ---------------------------------------------------------------------------------------

/// A count of events over an exposure: e.g. 38 crimes in 12 months. The exposure's unit
/// is the caller's (months, years, km²·years); only ratios of exposures matter here.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PoissonCount {
    pub events: u64,
    pub exposure: f64,
}

impl PoissonCount {
    pub fn new(events: u64, exposure: f64) -> Result<PoissonCount, PoissonError> {
        if exposure.is_finite() && exposure > 0.0 {
            Ok(PoissonCount { events, exposure })
        } else {
            Err(PoissonError::InvalidExposure(exposure))
        }
    }

    /// Events per unit of exposure.
    pub fn rate(self) -> f64 {
        self.events as f64 / self.exposure
    }
}

/// How a rate-ratio confidence interval is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RateRatioMethod {
    /// **Default.** The exact conditional interval: given the total `n = x₁ + x₂`, the
    /// second count is Binomial(n, π) with `π = R·t₂ / (t₁ + R·t₂)` where `R` is the rate
    /// ratio, so the Clopper–Pearson (1934) interval for π maps one-to-one onto `R`
    /// (Ulm 1990; the method of R's `poisson.test` for two samples). It is the default
    /// because place-based counts are often small or zero: it never falls below its
    /// nominal coverage, it is defined when a count is zero (a lower bound of 0 or an
    /// unbounded upper end), and it needs no continuity correction.
    #[default]
    ExactConditional,
    /// The log-normal (Wald on the log scale) approximation: `ln R ± z·√(1/x₁ + 1/x₂)`
    /// (e.g. Rothman, Greenland & Lash, *Modern Epidemiology*). Narrower and close to the
    /// exact interval for counts above about 20 each; undefined when a count is zero.
    LogNormal,
}

/// The ratio of the second rate to the first, `(x₂/t₂) / (x₁/t₁)`, with its interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RateRatio {
    pub first: PoissonCount,
    pub second: PoissonCount,
    /// `None` when the first count is zero (no finite ratio).
    pub estimate: Option<f64>,
    pub interval: Interval,
    pub method: RateRatioMethod,
    pub confidence_level: ConfidenceLevel,
}

/// The ratio of the second rate to the first with its confidence interval.
///
/// With `first` the before period and `second` the after period this is the change in
/// rate: 0.62 means the rate fell by 38 %. Unequal exposures are handled by the rates.
pub fn rate_ratio(
    first: PoissonCount,
    second: PoissonCount,
    level: ConfidenceLevel,
    method: RateRatioMethod,
) -> Result<RateRatio, PoissonError> {
    let x1 = first.events;
    let x2 = second.events;
    let exposure_ratio = first.exposure / second.exposure; // R = (x2/x1) · (t1/t2)
    let estimate = (x1 > 0).then(|| second.rate() / first.rate());
    let interval = match method {
        RateRatioMethod::ExactConditional => {
            let binomial = clopper_pearson(x2, x1 + x2, level);
            // π/(1 − π) = R · t2/t1  ⇒  R = π/(1 − π) · t1/t2
            binomial.map(|p| if p >= 1.0 { f64::INFINITY } else { p / (1.0 - p) * exposure_ratio })
        }
        RateRatioMethod::LogNormal => {
            if x1 == 0 || x2 == 0 {
                return Err(PoissonError::ZeroCountForLogNormal { first: x1, second: x2 });
            }
            let log_ratio = (second.rate() / first.rate()).ln();
            let se = (1.0 / x1 as f64 + 1.0 / x2 as f64).sqrt();
            let z = level.z();
            Interval { lower: (log_ratio - z * se).exp(), upper: (log_ratio + z * se).exp() }
        }
    };
    Ok(RateRatio { first, second, estimate, interval, method, confidence_level: level })
}

/// The Clopper–Pearson (1934) exact interval for a binomial proportion `k / n`, from the
/// beta quantiles `B(α/2; k, n−k+1)` and `B(1−α/2; k+1, n−k)`; with `n = 0` it is [0, 1].
pub fn clopper_pearson(successes: u64, trials: u64, level: ConfidenceLevel) -> Interval {
    let k = successes.min(trials) as f64;
    let n = trials as f64;
    let half_alpha = level.alpha() / 2.0;
    if trials == 0 {
        return Interval { lower: 0.0, upper: 1.0 };
    }
    let lower = if successes == 0 { 0.0 } else { inv_beta_reg(k, n - k + 1.0, half_alpha) };
    let upper = if successes >= trials { 1.0 } else { inv_beta_reg(k + 1.0, n - k, 1.0 - half_alpha) };
    Interval { lower, upper }
}

/// A percentage change in rate from an earlier count to a later one, with its interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PercentChange {
    pub before: PoissonCount,
    pub after: PoissonCount,
    /// `100 · (R − 1)` where `R` is the after/before rate ratio; `None` when the before
    /// count is zero (a change from zero has no percentage).
    pub percent: Option<f64>,
    /// The rate-ratio interval mapped through `100 · (R − 1)`; -100 is the floor.
    pub interval: Interval,
    pub rate_ratio: RateRatio,
}

/// Percentage change in rate from `before` to `after` (e.g. -38.0 for a 38 % fall), with
/// the rate-ratio confidence interval carried over. Unequal period lengths are rates.
pub fn percent_change(
    before: PoissonCount,
    after: PoissonCount,
    level: ConfidenceLevel,
    method: RateRatioMethod,
) -> Result<PercentChange, PoissonError> {
    let ratio = rate_ratio(before, after, level, method)?;
    Ok(PercentChange {
        before,
        after,
        percent: ratio.estimate.map(ratio_to_percent),
        interval: ratio.interval.map(ratio_to_percent),
        rate_ratio: ratio,
    })
}

/// `100 · (r − 1)`: a rate ratio as a percentage change.
pub fn ratio_to_percent(ratio: f64) -> f64 {
    100.0 * (ratio - 1.0)
}

// ---------------------------------------------------------------------------------------
// The E-test
// ---------------------------------------------------------------------------------------

/// Which alternative a test weighs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Alternative {
    /// The two rates differ (either direction).
    #[default]
    TwoSided,
    /// The first rate is greater than the second.
    FirstGreater,
    /// The first rate is less than the second.
    FirstLess,
}

/// The result of an E-test.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ETest {
    pub first: PoissonCount,
    pub second: PoissonCount,
    /// `T = (x₁/t₁ − x₂/t₂) / √(x₁/t₁² + x₂/t₂²)`, equation (3.3) of the paper.
    pub statistic: f64,
    pub p_value: f64,
    pub alternative: Alternative,
}

/// Tail probabilities below this are dropped from the E-test's sums (the Fortran
/// reference uses a similar cut-off); the omitted mass is far below any reported digit.
const E_TEST_TAIL: f64 = 1e-20;

/// The E-test of Krishnamoorthy & Thomson (2004), "A more powerful test for comparing
/// two Poisson means", *Journal of Statistical Planning and Inference* 119(1), 23–35.
///
/// Tests H₀: λ₁ = λ₂ for `X₁ ~ Poisson(t₁λ₁)` and `X₂ ~ Poisson(t₂λ₂)`. The statistic
/// is the unpooled Wald statistic `T(x₁, x₂) = (x₁/t₁ − x₂/t₂) / √(x₁/t₁² + x₂/t₂²)`
/// (taken as 0 when both counts are 0), and the p-value is its exact distribution under
/// the rates estimated under H₀, `λ̂ = (x₁ + x₂)/(t₁ + t₂)`:
///
/// `p = Σₖ₁ Σₖ₂ P(k₁; t₁λ̂) · P(k₂; t₂λ̂) · 1[ |T(k₁,k₂)| ≥ |T(x₁,x₂)| ]`
///
/// (one-sided alternatives use `T ≥ T_obs` or `T ≤ T_obs`). Worked example: 6 events
/// against 2 over equal exposures gives p = 0.1749 (two-sided).
///
/// `T` is strictly decreasing in `k₂` for fixed `k₁`, so each row of the double sum is
/// one or two Poisson tails; the sum costs O(range₁ + range₂) after the pmfs are built.
pub fn e_test(first: PoissonCount, second: PoissonCount, alternative: Alternative) -> Result<ETest, PoissonError> {
    let (x1, x2) = (first.events, second.events);
    if x1 == 0 && x2 == 0 {
        return Err(PoissonError::BothCountsZero);
    }
    let (t1, t2) = (first.exposure, second.exposure);
    let statistic = e_test_statistic(x1, x2, t1, t2);
    let pooled_rate = (x1 + x2) as f64 / (t1 + t2);
    let pmf1 = PoissonRange::new(t1 * pooled_rate);
    let pmf2 = PoissonRange::new(t2 * pooled_rate);
    // Cumulative sums of pmf2 over its range, so a tail over k2 is a difference.
    let mut cumulative2 = Vec::with_capacity(pmf2.probabilities.len() + 1);
    cumulative2.push(0.0);
    let mut running = 0.0;
    for p in &pmf2.probabilities {
        running += p;
        cumulative2.push(running);
    }
    let total2 = running;
    // Mass of pmf2 at k2 ∈ [lo, hi) given as indices into the range.
    let mass2 = |from: usize, to: usize| cumulative2[to] - cumulative2[from];
    let n2 = pmf2.probabilities.len();
    // Relative tolerance so ties (|T| equal to the observed value) count as "as extreme".
    let tolerance = 1e-12 * statistic.abs().max(1.0);

    let mut p_value = 0.0;
    for (i, &p1) in pmf1.probabilities.iter().enumerate() {
        let k1 = pmf1.first + i as u64;
        // Index of the first k2 (in pmf2's range) with T(k1, k2) < threshold, found by
        // binary search since T decreases in k2.
        let first_below = |threshold: f64| -> usize {
            let (mut lo, mut hi) = (0usize, n2);
            while lo < hi {
                let mid = (lo + hi) / 2;
                let k2 = pmf2.first + mid as u64;
                if e_test_statistic(k1, k2, t1, t2) >= threshold {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            lo
        };
        let row = match alternative {
            Alternative::FirstGreater => mass2(0, first_below(statistic - tolerance)),
            Alternative::FirstLess => {
                // T ≤ T_obs  ⇔  not (T > T_obs)
                let upper_end = first_below_strict(&pmf2, k1, t1, t2, statistic + tolerance);
                total2 - mass2(0, upper_end)
            }
            Alternative::TwoSided => {
                let observed = statistic.abs();
                if observed <= tolerance {
                    total2 // every outcome is at least as extreme as T = 0
                } else {
                    // T ≥ |T_obs|  or  T ≤ −|T_obs| (disjoint when T_obs ≠ 0)
                    let high = mass2(0, first_below(observed - tolerance));
                    let low_start = first_below_strict(&pmf2, k1, t1, t2, -observed + tolerance);
                    high + total2 - mass2(0, low_start)
                }
            }
        };
        p_value += p1 * row;
    }
    Ok(ETest { first, second, statistic, p_value: p_value.clamp(0.0, 1.0), alternative })
}

/// Index (into `range`) of the first k2 with `T(k1, k2) ≤ threshold`; T decreases in k2.
fn first_below_strict(range: &PoissonRange, k1: u64, t1: f64, t2: f64, threshold: f64) -> usize {
    let (mut lo, mut hi) = (0usize, range.probabilities.len());
    while lo < hi {
        let mid = (lo + hi) / 2;
        let k2 = range.first + mid as u64;
        if e_test_statistic(k1, k2, t1, t2) > threshold {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

/// Equation (3.3) of Krishnamoorthy & Thomson (2004) with d = 0.
fn e_test_statistic(k1: u64, k2: u64, t1: f64, t2: f64) -> f64 {
    let (a, b) = (k1 as f64 / t1, k2 as f64 / t2);
    let variance = k1 as f64 / (t1 * t1) + k2 as f64 / (t2 * t2);
    if variance <= 0.0 {
        0.0
    } else {
        (a - b) / variance.sqrt()
    }
}

/// Poisson probabilities over the range of counts that carries all but a negligible
/// tail (each omitted point below [`E_TEST_TAIL`] relative to the mode).
struct PoissonRange {
    first: u64,
    probabilities: Vec<f64>,
}

impl PoissonRange {
    fn new(mean: f64) -> PoissonRange {
        if mean <= 0.0 {
            return PoissonRange { first: 0, probabilities: vec![1.0] };
        }
        let ln_pmf = |k: u64| -> f64 { k as f64 * mean.ln() - mean - ln_gamma(k as f64 + 1.0) };
        let mode = mean.floor() as u64;
        let cutoff = E_TEST_TAIL.ln();
        let mut first = mode;
        while first > 0 && ln_pmf(first - 1) > cutoff {
            first -= 1;
        }
        let mut last = mode;
        while ln_pmf(last + 1) > cutoff {
            last += 1;
        }
        let probabilities = (first..=last).map(|k| ln_pmf(k).exp()).collect();
        PoissonRange { first, probabilities }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::test_support::close;

    fn count(events: u64, exposure: f64) -> PoissonCount {
        PoissonCount::new(events, exposure).unwrap()
    }

    #[test]
    fn normal_cdf_and_quantile_match_tables() {
        assert!(close(standard_normal_cdf(0.0), 0.5, 1e-15));
        // statrs's erfc is good to about 1e-11 absolute, far below any reported digit.
        assert!(close(standard_normal_cdf(1.959963984540054), 0.975, 1e-10));
        assert!(close(standard_normal_cdf(-1.0), 0.15865525393145707, 1e-10));
        assert!(close(standard_normal_quantile(0.975), 1.959963984540054, 1e-9));
        assert!(close(standard_normal_quantile(0.05), -1.6448536269514722, 1e-9));
        assert!(close(ConfidenceLevel::NINETY_FIVE.z(), 1.959963984540054, 1e-9));
        assert_eq!(standard_normal_quantile(0.0), f64::NEG_INFINITY);
        assert!(close(two_sided_p_value(-1.959963984540054), 0.05, 1e-10));
        // Far tail keeps precision: 2·(1 − Φ(8)) = 1.2442e-15.
        assert!(close(two_sided_p_value(8.0) / 1.2441921148543639e-15, 1.0, 1e-9));
    }

    #[test]
    fn confidence_level_is_validated() {
        assert!(ConfidenceLevel::new(0.9).is_ok());
        assert_eq!(ConfidenceLevel::new(1.0), Err(PoissonError::InvalidConfidenceLevel(1.0)));
        assert_eq!(ConfidenceLevel::new(0.0), Err(PoissonError::InvalidConfidenceLevel(0.0)));
    }

    #[test]
    fn exposure_is_validated() {
        assert_eq!(PoissonCount::new(3, 0.0), Err(PoissonError::InvalidExposure(0.0)));
        assert!(PoissonCount::new(3, f64::NAN).is_err());
        assert!(PoissonCount::new(3, -1.0).is_err());
    }

    #[test]
    fn clopper_pearson_has_closed_forms_at_the_edges() {
        let level = ConfidenceLevel::NINETY_FIVE;
        // k = 0: upper = 1 − (α/2)^(1/n); k = n: lower = (α/2)^(1/n).
        let zero = clopper_pearson(0, 10, level);
        assert_eq!(zero.lower, 0.0);
        assert!(close(zero.upper, 1.0 - 0.025f64.powf(0.1), 1e-10));
        let all = clopper_pearson(10, 10, level);
        assert!(close(all.lower, 0.025f64.powf(0.1), 1e-10));
        assert_eq!(all.upper, 1.0);
    }

    #[test]
    fn clopper_pearson_interior_ends_have_the_tail_probabilities() {
        // The lower end p_L solves P(X ≥ k; n, p_L) = α/2, i.e. I_{p_L}(k, n−k+1) = α/2.
        use statrs::function::beta::beta_reg;
        let iv = clopper_pearson(6, 8, ConfidenceLevel::NINETY_FIVE);
        assert!(close(beta_reg(6.0, 3.0, iv.lower), 0.025, 1e-10));
        assert!(close(beta_reg(7.0, 2.0, iv.upper), 0.975, 1e-10));
        // Published value (binom.test(6, 8)): 0.3491442 to 0.9681460.
        assert!(close(iv.lower, 0.3491442, 1e-6));
        assert!(close(iv.upper, 0.9681460, 1e-6));
    }

    #[test]
    fn rate_ratio_uses_rates_for_unequal_periods() {
        // 48 crimes in 24 months before, 12 in 12 months after: rate 2/month → 1/month.
        let rr = rate_ratio(
            count(48, 24.0),
            count(12, 12.0),
            ConfidenceLevel::NINETY_FIVE,
            RateRatioMethod::ExactConditional,
        )
        .unwrap();
        assert!(close(rr.estimate.unwrap(), 0.5, 1e-12));
        assert!(rr.interval.contains(0.5));
        assert!(rr.interval.upper < 1.0, "a halving on 60 crimes is beyond chance: {:?}", rr.interval);
    }

    #[test]
    fn exact_interval_maps_the_binomial_interval() {
        // Equal exposures: R = π/(1 − π) with π the share of events in the second period.
        let rr =
            rate_ratio(count(2, 1.0), count(6, 1.0), ConfidenceLevel::NINETY_FIVE, RateRatioMethod::ExactConditional)
                .unwrap();
        let p = clopper_pearson(6, 8, ConfidenceLevel::NINETY_FIVE);
        assert!(close(rr.interval.lower, p.lower / (1.0 - p.lower), 1e-12));
        assert!(close(rr.interval.upper, p.upper / (1.0 - p.upper), 1e-12));
        assert!(close(rr.estimate.unwrap(), 3.0, 1e-12));
        // From binom.test(6, 8)'s 0.3491442 to 0.9681460: 0.5364 to 30.39.
        assert!(close(rr.interval.lower, 0.5364, 5e-4));
        assert!(close(rr.interval.upper, 30.39, 0.01));
    }

    #[test]
    fn zero_counts_give_open_ended_intervals() {
        let level = ConfidenceLevel::NINETY_FIVE;
        let from_zero = rate_ratio(count(0, 12.0), count(5, 12.0), level, RateRatioMethod::ExactConditional).unwrap();
        assert_eq!(from_zero.estimate, None);
        assert_eq!(from_zero.interval.upper, f64::INFINITY);
        assert!(from_zero.interval.lower > 0.0);
        let to_zero = rate_ratio(count(5, 12.0), count(0, 12.0), level, RateRatioMethod::ExactConditional).unwrap();
        assert_eq!(to_zero.estimate, Some(0.0));
        assert_eq!(to_zero.interval.lower, 0.0);
        assert!(to_zero.interval.upper.is_finite());
        assert_eq!(
            rate_ratio(count(5, 12.0), count(0, 12.0), level, RateRatioMethod::LogNormal),
            Err(PoissonError::ZeroCountForLogNormal { first: 5, second: 0 })
        );
    }

    #[test]
    fn log_normal_interval_follows_its_formula_and_nears_the_exact_one() {
        let level = ConfidenceLevel::NINETY_FIVE;
        let rr = rate_ratio(count(200, 12.0), count(150, 12.0), level, RateRatioMethod::LogNormal).unwrap();
        let se = (1.0f64 / 200.0 + 1.0 / 150.0).sqrt();
        assert!(close(rr.interval.lower, (0.75f64.ln() - level.z() * se).exp(), 1e-12));
        let exact = rate_ratio(count(200, 12.0), count(150, 12.0), level, RateRatioMethod::ExactConditional).unwrap();
        assert!(close(rr.interval.lower, exact.interval.lower, 0.01));
        assert!(close(rr.interval.upper, exact.interval.upper, 0.01));
    }

    #[test]
    fn percent_change_of_the_parks_example() {
        // 100 → 62 over equal years is the "down 38%" of the Stoke parks press release.
        let change = percent_change(
            count(100, 12.0),
            count(62, 12.0),
            ConfidenceLevel::NINETY_FIVE,
            RateRatioMethod::ExactConditional,
        )
        .unwrap();
        assert!(close(change.percent.unwrap(), -38.0, 1e-9));
        assert!(change.interval.upper < 0.0);
        assert!(change.interval.lower > -100.0);
    }

    #[test]
    fn e_test_worked_example_six_versus_two() {
        let t = e_test(count(6, 1.0), count(2, 1.0), Alternative::TwoSided).unwrap();
        assert!(close(t.p_value, 0.1749, 5e-5), "p = {}", t.p_value);
        assert!(close(t.statistic, 4.0 / 8f64.sqrt(), 1e-12));
        // Symmetric in the order of the counts.
        let swapped = e_test(count(2, 1.0), count(6, 1.0), Alternative::TwoSided).unwrap();
        assert!(close(swapped.p_value, t.p_value, 1e-12));
    }

    #[test]
    fn e_test_scales_with_exposure_consistently() {
        // The same rates over doubled exposures and doubled counts give more evidence.
        let small = e_test(count(6, 1.0), count(2, 1.0), Alternative::TwoSided).unwrap();
        let large = e_test(count(12, 2.0), count(4, 2.0), Alternative::TwoSided).unwrap();
        assert!(large.p_value < small.p_value);
        // The same counts over exposures scaled together are the same test.
        let scaled = e_test(count(6, 12.0), count(2, 12.0), Alternative::TwoSided).unwrap();
        assert!(close(scaled.p_value, small.p_value, 1e-9));
    }

    #[test]
    fn e_test_one_sided_tails_add_up() {
        let greater = e_test(count(6, 1.0), count(2, 1.0), Alternative::FirstGreater).unwrap();
        let less = e_test(count(6, 1.0), count(2, 1.0), Alternative::FirstLess).unwrap();
        // The two one-sided p-values overlap only at T = T_obs, so they sum to at least 1.
        assert!(greater.p_value < 0.15);
        assert!(less.p_value > 0.85);
        assert!(greater.p_value + less.p_value >= 1.0 - 1e-9);
    }

    #[test]
    fn e_test_equal_counts_is_not_significant_and_zero_zero_is_an_error() {
        let t = e_test(count(10, 1.0), count(10, 1.0), Alternative::TwoSided).unwrap();
        assert!(close(t.p_value, 1.0, 1e-9));
        assert_eq!(e_test(count(0, 1.0), count(0, 1.0), Alternative::TwoSided), Err(PoissonError::BothCountsZero));
    }

    #[test]
    fn e_test_agrees_with_the_normal_approximation_for_large_counts() {
        let t = e_test(count(1200, 1.0), count(1100, 1.0), Alternative::TwoSided).unwrap();
        let wald = two_sided_p_value(100.0 / 2300f64.sqrt());
        assert!(close(t.p_value, wald, 0.003), "{} vs {}", t.p_value, wald);
    }
}
