//! Monthly series: the counts per month, rolling 12-month totals, year-on-year change with a
//! Poisson rate-ratio test, and seasonality by ratio to a centred moving average.
//!
//! A month the data does not cover is unknown (`None`), never zero: a covered month with no
//! matching records is zero.

use serde::Serialize;

use crate::analytics::poisson::{rate_ratio, ConfidenceLevel, PoissonCount, RateRatioMethod};
use crate::domain::{Month, MonthRange};

/// One month of a series.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MonthCount {
    pub month: Month,
    /// `None` when the data does not cover the month.
    pub count: Option<i64>,
}

/// The counts of every month of `range`: `counts` gives the months with records, `covered`
/// the months the data covers (a covered month missing from `counts` is 0).
pub fn monthly_series(range: MonthRange, counts: &[(Month, i64)], covered: &[Month]) -> Vec<MonthCount> {
    let lookup: std::collections::HashMap<Month, i64> = counts.iter().copied().collect();
    range
        .months()
        .map(|month| MonthCount {
            month,
            count: covered.contains(&month).then(|| lookup.get(&month).copied().unwrap_or(0)),
        })
        .collect()
}

/// The rolling 12-month total ending at each month: `None` unless all 12 months to that
/// month are covered (a total over fewer months is not a 12-month figure).
pub fn rolling_12(series: &[MonthCount]) -> Vec<MonthCount> {
    let lookup: std::collections::HashMap<Month, Option<i64>> = series.iter().map(|m| (m.month, m.count)).collect();
    series
        .iter()
        .map(|m| {
            let total = MonthRange::ending(m.month, 12)
                .months()
                .map(|x| lookup.get(&x).copied().flatten())
                .sum::<Option<i64>>();
            MonthCount { month: m.month, count: total }
        })
        .collect()
}

/// The latest 12 months against the 12 before, with the rate ratio and its exact interval.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct YearOnYear {
    pub current_period: MonthRange,
    pub previous_period: MonthRange,
    pub current: i64,
    pub previous: i64,
    pub change: i64,
    /// `100 · (current / previous − 1)`; `None` when the previous count is 0.
    pub percent: Option<f64>,
    pub rate_ratio: Option<f64>,
    /// The exact conditional 95 % interval for current/previous (see `poisson::rate_ratio`).
    pub interval_lower: f64,
    pub interval_upper: f64,
    /// Whether the 95 % interval excludes 1.
    pub significant: bool,
}

/// Year on year: the 12 months ending at the latest covered month against the 12 before,
/// both with exposure 12 months. `None` unless all 24 months are covered.
pub fn year_on_year(series: &[MonthCount]) -> Option<YearOnYear> {
    let latest = series.iter().rev().find(|m| m.count.is_some())?.month;
    let current_period = MonthRange::ending(latest, 12);
    let previous_period = current_period.preceding();
    let lookup: std::collections::HashMap<Month, Option<i64>> = series.iter().map(|m| (m.month, m.count)).collect();
    let total = |r: MonthRange| r.months().map(|m| lookup.get(&m).copied().flatten()).sum::<Option<i64>>();
    let current = total(current_period)?;
    let previous = total(previous_period)?;
    let first = PoissonCount::new(previous as u64, 12.0).ok()?;
    let second = PoissonCount::new(current as u64, 12.0).ok()?;
    let ratio = rate_ratio(first, second, ConfidenceLevel::default(), RateRatioMethod::ExactConditional).ok()?;
    Some(YearOnYear {
        current_period,
        previous_period,
        current,
        previous,
        change: current - previous,
        percent: ratio.estimate.map(|r| 100.0 * (r - 1.0)),
        rate_ratio: ratio.estimate,
        interval_lower: ratio.interval.lower,
        interval_upper: ratio.interval.upper,
        significant: !ratio.interval.contains(1.0),
    })
}

/// Seasonality of a monthly series, or why it cannot be estimated.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Seasonality {
    /// Fewer than 24 consecutive covered months: one year cannot separate a seasonal
    /// pattern from a trend.
    TooShort { consecutive_months: usize },
    /// Boxed: the estimate is large and most reports hold the short variant.
    Estimated(Box<SeasonalEstimate>),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeasonalEstimate {
    /// The run of consecutive covered months used.
    pub period: MonthRange,
    /// The average count of each calendar month (January first) over the run.
    pub average_profile: [f64; 12],
    /// The seasonal index of each calendar month (January first), averaging 1.
    pub indices: [f64; 12],
    /// How many ratios each index averages (at least 1).
    pub ratios_per_month: [usize; 12],
    /// The seasonally adjusted series over the run: count ÷ index of its calendar month.
    pub adjusted: Vec<(Month, f64)>,
}

/// Seasonality by the ratio-to-moving-average method (classical multiplicative
/// decomposition; e.g. ONS, *Guide to seasonal adjustment*, and Makridakis, Wheelwright &
/// Hyndman, *Forecasting*, ch. 3): the trend is the centred 2×12 moving average; each
/// month's ratio to it is averaged by calendar month and the 12 averages are scaled to mean
/// 1; the adjusted series divides each count by its month's index. Uses the longest run of
/// consecutive covered months (the latest when tied); needs at least 24.
pub fn seasonality(series: &[MonthCount]) -> Seasonality {
    // The longest run of consecutive covered months.
    let mut best: (usize, usize) = (0, 0); // (start, len)
    let mut start = 0;
    for i in 0..=series.len() {
        let breaks = i == series.len()
            || series[i].count.is_none()
            || (i > start && series[i - 1].month.plus(1) != series[i].month);
        if breaks {
            if i - start >= best.1 {
                best = (start, i - start);
            }
            start = i + 1;
        }
    }
    let (s, n) = best;
    if n < 24 {
        return Seasonality::TooShort { consecutive_months: n };
    }
    let run = &series[s..s + n];
    let y: Vec<f64> = run.iter().map(|m| m.count.unwrap_or(0) as f64).collect();
    let index_of = |m: Month| (m.month() - 1) as usize;
    let mut sums = [0.0; 12];
    let mut counts = [0usize; 12];
    let mut profile_sum = [0.0; 12];
    let mut profile_n = [0usize; 12];
    for (i, m) in run.iter().enumerate() {
        profile_sum[index_of(m.month)] += y[i];
        profile_n[index_of(m.month)] += 1;
    }
    for t in 6..n.saturating_sub(6) {
        // Centred 2×12 MA: half weight on the two ends, 13 terms.
        let ma = (0.5 * y[t - 6] + y[t - 5..t + 6].iter().sum::<f64>() + 0.5 * y[t + 6]) / 12.0;
        if ma > 0.0 {
            sums[index_of(run[t].month)] += y[t] / ma;
            counts[index_of(run[t].month)] += 1;
        }
    }
    let mut raw = [1.0; 12];
    for k in 0..12 {
        if counts[k] > 0 {
            raw[k] = sums[k] / counts[k] as f64;
        }
    }
    let mean = raw.iter().sum::<f64>() / 12.0;
    let indices = raw.map(|r| if mean > 0.0 { r / mean } else { 1.0 });
    let mut average_profile = [0.0; 12];
    for k in 0..12 {
        average_profile[k] = if profile_n[k] > 0 { profile_sum[k] / profile_n[k] as f64 } else { 0.0 };
    }
    let adjusted = run
        .iter()
        .zip(&y)
        .map(|(m, v)| {
            let idx = indices[index_of(m.month)];
            (m.month, if idx > 0.0 { v / idx } else { *v })
        })
        .collect();
    Seasonality::Estimated(Box::new(SeasonalEstimate {
        period: MonthRange { from: run[0].month, to: run[n - 1].month },
        average_profile,
        indices,
        ratios_per_month: counts,
        adjusted,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(t: &str) -> Month {
        t.parse().unwrap()
    }

    fn range(a: &str, b: &str) -> MonthRange {
        MonthRange::new(m(a), m(b)).unwrap()
    }

    #[test]
    fn uncovered_months_are_unknown_not_zero() {
        let s = monthly_series(
            range("2025-01", "2025-04"),
            &[(m("2025-01"), 5), (m("2025-03"), 7)],
            &[m("2025-01"), m("2025-02"), m("2025-03")],
        );
        let counts: Vec<_> = s.iter().map(|x| x.count).collect();
        assert_eq!(counts, vec![Some(5), Some(0), Some(7), None]);
    }

    #[test]
    fn rolling_needs_twelve_covered_months() {
        // Months 1..=13 of counts 1..=13: the 12 months to month 12 sum 78, to 13 sum 90.
        let r = range("2024-01", "2025-01");
        let counts: Vec<_> = r.months().enumerate().map(|(i, mm)| (mm, i as i64 + 1)).collect();
        let covered: Vec<_> = r.months().collect();
        let s = monthly_series(r, &counts, &covered);
        let rolled = rolling_12(&s);
        assert_eq!(rolled[10].count, None);
        assert_eq!(rolled[11].count, Some(78));
        assert_eq!(rolled[12].count, Some(90));
    }

    #[test]
    fn year_on_year_uses_exact_interval() {
        // 100 in the earlier year, 150 in the later: ratio 1.5. Given the 250 in all, the later
        // count is Binomial(250, π) with π = R/(1+R); π̂ = 0.6, and the Wald interval for π,
        // 0.6 ± 1.96·√(0.24/250) = 0.539 to 0.661, maps to R = 1.17 to 1.95. The exact
        // (Clopper–Pearson) interval is slightly wider.
        let r = range("2023-01", "2024-12");
        let counts: Vec<_> = r
            .months()
            .enumerate()
            .map(|(i, mm)| {
                (
                    mm,
                    if i < 12 {
                        if i < 4 {
                            9
                        } else {
                            8
                        }
                    } else if i < 18 {
                        13
                    } else {
                        12
                    },
                )
            })
            .collect();
        let covered: Vec<_> = r.months().collect();
        let s = monthly_series(r, &counts, &covered);
        let y = year_on_year(&s).unwrap();
        assert_eq!((y.previous, y.current, y.change), (100, 150, 50));
        assert!((y.percent.unwrap() - 50.0).abs() < 1e-9);
        assert!(y.interval_lower > 1.15 && y.interval_lower < 1.17, "{}", y.interval_lower);
        assert!(y.interval_upper > 1.95 && y.interval_upper < 1.97, "{}", y.interval_upper);
        assert!(y.significant);
        // One uncovered month in the earlier year: no comparison.
        let s2 = monthly_series(r, &counts, &covered[1..]);
        assert!(year_on_year(&s2).is_none());
    }

    #[test]
    fn seasonality_says_when_too_short() {
        let r = range("2025-01", "2025-12");
        let covered: Vec<_> = r.months().collect();
        let s = monthly_series(r, &[], &covered);
        assert_eq!(seasonality(&s), Seasonality::TooShort { consecutive_months: 12 });
    }

    #[test]
    fn seasonality_recovers_a_pure_seasonal_pattern() {
        // A flat level of 100 with July 50% above and January 50% below (others 100): the
        // centred MA of a constant-sum year is 100 everywhere, so the ratios are exactly
        // 0.5, 1.5 and 1; their mean is 1, so the indices are the ratios, and the adjusted
        // series is flat at 100.
        let r = range("2022-01", "2024-12");
        let counts: Vec<_> = r
            .months()
            .map(|mm| {
                (
                    mm,
                    match mm.month() {
                        1 => 50,
                        7 => 150,
                        _ => 100,
                    },
                )
            })
            .collect();
        let covered: Vec<_> = r.months().collect();
        let s = monthly_series(r, &counts, &covered);
        let Seasonality::Estimated(e) = seasonality(&s) else { panic!("36 months are enough") };
        assert!((e.indices[0] - 0.5).abs() < 1e-9);
        assert!((e.indices[6] - 1.5).abs() < 1e-9);
        assert!((e.indices[3] - 1.0).abs() < 1e-9);
        assert!(e.adjusted.iter().all(|(_, v)| (v - 100.0).abs() < 1e-9));
        assert_eq!(e.average_profile[0], 50.0);
        assert_eq!(e.ratios_per_month[0], 2, "36 months give two Januaries with a centred average");
    }
}
