//! Harm-weighted counts: crimes weighted by how much harm their category does.

use serde::{Deserialize, Serialize};

use super::change::{BeforeAfter, PeriodLengths};
use super::wdd::{harm_weighted_wdd, weighted_displacement_difference, HarmWeightedWdd};
use super::{AreaRole, Areas, EvaluationError};
use crate::analytics::poisson::{ConfidenceLevel, Interval};

/// Said wherever harm-weighted figures are shown.
pub const HARM_WEIGHTING_CAVEAT: &str =
    "Harm weighting is an approximation: data.police.uk groups offences into broad \
categories (for example \"violence and sexual offences\" covers both common assault and grievous bodily harm), so one \
weight per category cannot reflect the harm of the individual offences.";

/// The weight for one crime category (e.g. days of imprisonment in a crime harm index
/// such as the Cambridge Crime Harm Index, or a partnership's own scale).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HarmWeight {
    pub category: String,
    pub weight: f64,
}

/// Counts of one crime category in each area.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoryCounts {
    pub category: String,
    #[serde(flatten)]
    pub counts: Areas<BeforeAfter>,
}

/// Harm-weighted before and after totals for one area.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct HarmTotals {
    pub before: f64,
    pub after: f64,
    /// Percentage change in the harm-weighted monthly rate.
    pub percent_change: Option<f64>,
    /// Delta-method interval on the log ratio, with `V(H) = Σ w²·n` per period (Poisson
    /// counts, fixed weights); `None` when either total is zero.
    pub interval: Option<Interval>,
}

/// The harm-weighted results (the comparison buffer enters the WDD only).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HarmWeightedResult {
    pub weights: Vec<HarmWeight>,
    pub target: HarmTotals,
    pub buffer: Option<HarmTotals>,
    pub comparison: Option<HarmTotals>,
    /// Harm-weighted WDD (Wheeler's `wdd_harm`): `Σ wᵢ·WDDᵢ`, `V = Σ wᵢ²·V(WDDᵢ)`.
    pub wdd: HarmWeightedWdd,
    pub caveat: &'static str,
}

/// One area's harm totals over the weighted categories, `None` when no category counts it.
fn totals(
    rows: &[(f64, &CategoryCounts)],
    role: AreaRole,
    periods: PeriodLengths,
    level: ConfidenceLevel,
) -> Option<HarmTotals> {
    if rows.iter().all(|(_, row)| row.counts.get(role).is_none()) {
        return None;
    }
    let sum = |f: &dyn Fn(BeforeAfter) -> u64, square: bool| -> f64 {
        rows.iter()
            .filter_map(|(w, row)| row.counts.get(role).map(|&c| if square { w * w } else { *w } * f(c) as f64))
            .sum()
    };
    let before = sum(&|c| c.before, false);
    let after = sum(&|c| c.after, false);
    let var_before = sum(&|c| c.before, true);
    let var_after = sum(&|c| c.after, true);
    let ratio = (before > 0.0).then(|| (after / periods.after_months) / (before / periods.before_months));
    let interval = (before > 0.0 && after > 0.0).then(|| {
        let se = (var_before / (before * before) + var_after / (after * after)).sqrt();
        let r = (after / periods.after_months) / (before / periods.before_months);
        let z = level.z();
        Interval { lower: 100.0 * ((r.ln() - z * se).exp() - 1.0), upper: 100.0 * ((r.ln() + z * se).exp() - 1.0) }
    });
    Some(HarmTotals { before, after, percent_change: ratio.map(|r| 100.0 * (r - 1.0)), interval })
}

/// Harm-weighted counts and WDD. Every category in `counts` needs a weight, and weights
/// must be finite and non-negative.
pub fn harm_weighted(
    weights: &[HarmWeight],
    counts: &[CategoryCounts],
    periods: PeriodLengths,
    level: ConfidenceLevel,
) -> Result<HarmWeightedResult, EvaluationError> {
    for w in weights {
        if !(w.weight.is_finite() && w.weight >= 0.0) {
            return Err(EvaluationError::InvalidHarmWeight { category: w.category.clone(), weight: w.weight });
        }
    }
    let mut weighted = Vec::with_capacity(counts.len());
    for row in counts {
        let weight = weights
            .iter()
            .find(|w| w.category == row.category)
            .ok_or_else(|| EvaluationError::MissingHarmWeight { category: row.category.clone() })?;
        weighted.push((weight.weight, row));
    }
    let area = |role: AreaRole| totals(&weighted, role, periods, level);
    let target =
        area(AreaRole::Target).unwrap_or(HarmTotals { before: 0.0, after: 0.0, percent_change: None, interval: None });
    let wdd_parts: Vec<_> =
        weighted.iter().map(|(w, row)| (*w, weighted_displacement_difference(row.counts, periods, level))).collect();
    Ok(HarmWeightedResult {
        weights: weights.to_vec(),
        target,
        buffer: area(AreaRole::Buffer),
        comparison: area(AreaRole::Comparison),
        wdd: harm_weighted_wdd(&wdd_parts, level),
        caveat: HARM_WEIGHTING_CAVEAT,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const EQUAL: PeriodLengths = PeriodLengths { before_months: 12.0, after_months: 12.0 };

    fn row(category: &str, target: (u64, u64)) -> CategoryCounts {
        CategoryCounts {
            category: category.to_string(),
            counts: Areas::target_only(BeforeAfter::new(target.0, target.1)),
        }
    }

    fn weight(category: &str, weight: f64) -> HarmWeight {
        HarmWeight { category: category.to_string(), weight }
    }

    #[test]
    fn weights_multiply_counts() {
        // Violence weight 10: 20 → 10; shoplifting weight 1: 50 → 70.
        // Harm 250 → 170: −32%, though the raw count went 70 → 80 (+14%).
        let r = harm_weighted(
            &[weight("violence-and-sexual-offences", 10.0), weight("shoplifting", 1.0)],
            &[row("violence-and-sexual-offences", (20, 10)), row("shoplifting", (50, 70))],
            EQUAL,
            ConfidenceLevel::NINETY_FIVE,
        )
        .unwrap();
        assert_eq!((r.target.before, r.target.after), (250.0, 170.0));
        assert!((r.target.percent_change.unwrap() - (-32.0)).abs() < 1e-9);
        // WDD: 10·(−10) + 1·20 = −80; V = 100·30 + 1·120 = 3120.
        assert!((r.wdd.estimate - (-80.0)).abs() < 1e-9);
        assert!((r.wdd.standard_error - 3120f64.sqrt()).abs() < 1e-9);
        assert_eq!(r.caveat, HARM_WEIGHTING_CAVEAT);
    }

    #[test]
    fn a_category_without_a_weight_is_an_error() {
        let err =
            harm_weighted(&[weight("robbery", 5.0)], &[row("burglary", (1, 2))], EQUAL, ConfidenceLevel::NINETY_FIVE)
                .unwrap_err();
        assert_eq!(err, EvaluationError::MissingHarmWeight { category: "burglary".into() });
        let err = harm_weighted(&[weight("robbery", -1.0)], &[], EQUAL, ConfidenceLevel::NINETY_FIVE).unwrap_err();
        assert!(matches!(err, EvaluationError::InvalidHarmWeight { .. }));
    }
}
