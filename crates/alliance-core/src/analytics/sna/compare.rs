//! Comparison of any two areas or periods as Poisson rates.

use serde::Serialize;

use crate::analytics::poisson::{rate_ratio, ConfidenceLevel, PoissonCount, RateRatioMethod};

/// Two counts, each over its exposure (months × residents, or months alone).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    pub first_label: String,
    pub second_label: String,
    pub first_rate: f64,
    pub second_rate: f64,
    /// second ÷ first; `None` when the first count is 0.
    pub ratio: Option<f64>,
    pub interval_lower: f64,
    pub interval_upper: f64,
    /// Whether the exact 95 % interval excludes 1.
    pub significant: bool,
}

/// Compares `second` with `first` (each `(label, count, exposure)`), by the exact
/// conditional rate-ratio interval of `poisson::rate_ratio`. `None` with a non-positive
/// exposure or two zero counts.
pub fn compare(first: (&str, u64, f64), second: (&str, u64, f64)) -> Option<Comparison> {
    if first.1 == 0 && second.1 == 0 {
        return None;
    }
    let a = PoissonCount::new(first.1, first.2).ok()?;
    let b = PoissonCount::new(second.1, second.2).ok()?;
    let rr = rate_ratio(a, b, ConfidenceLevel::default(), RateRatioMethod::ExactConditional).ok()?;
    Some(Comparison {
        first_label: first.0.into(),
        second_label: second.0.into(),
        first_rate: a.rate(),
        second_rate: b.rate(),
        ratio: rr.estimate,
        interval_lower: rr.interval.lower,
        interval_upper: rr.interval.upper,
        significant: !rr.interval.contains(1.0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compares_rates_not_counts() {
        // 30 crimes over 10,000 people against 30 over 20,000: the second rate is half.
        let c = compare(("A", 30, 10_000.0), ("B", 30, 20_000.0)).unwrap();
        assert_eq!(c.ratio, Some(0.5));
        assert!(c.interval_upper < 1.0 && c.significant, "{c:?}");
        let same = compare(("A", 10, 1.0), ("B", 11, 1.0)).unwrap();
        assert!(!same.significant);
        assert!(compare(("A", 0, 1.0), ("B", 0, 1.0)).is_none());
    }
}
