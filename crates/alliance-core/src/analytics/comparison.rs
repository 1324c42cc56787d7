//! Comparing a period with the one before it, as the dashboard does ("last 12 months
//! against the 12 before").

use serde::Serialize;

use crate::domain::{Month, MonthRange};

/// How a count in one period compares with the same-length period before it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PeriodComparison {
    pub current_period: MonthRange,
    pub previous_period: MonthRange,
    pub current: i64,
    /// `None` when the data does not cover the whole previous period: a missing year
    /// must read as "no earlier data", never as 0 or a fall of 100%.
    pub previous: Option<i64>,
}

impl PeriodComparison {
    /// Percentage change from the previous period; `None` without a previous count or when
    /// the previous count is zero (a change from zero has no percentage).
    pub fn change_percent(&self) -> Option<f64> {
        let previous = self.previous?;
        (previous > 0).then(|| (self.current - previous) as f64 * 100.0 / previous as f64)
    }
}

/// Compares the `length` months ending at `latest` with the `length` months before them.
///
/// `monthly` holds the count for each month that has data; `covered` says which months the
/// data covers at all (a month with data and no matching records counts as zero, a month
/// outside the data is unknown). The previous count is given only when every month of the
/// previous period is covered.
pub fn compare_with_previous(
    monthly: &[(Month, i64)],
    covered: &[Month],
    latest: Month,
    length: i64,
) -> PeriodComparison {
    let current_period = MonthRange::ending(latest, length);
    let previous_period = current_period.preceding();
    let sum = |range: MonthRange| -> i64 { monthly.iter().filter(|(m, _)| range.contains(*m)).map(|(_, n)| n).sum() };
    let previous_covered = previous_period.months().all(|m| covered.contains(&m));
    PeriodComparison {
        current_period,
        previous_period,
        current: sum(current_period),
        previous: previous_covered.then(|| sum(previous_period)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(text: &str) -> Month {
        text.parse().unwrap()
    }

    #[test]
    fn compares_two_full_years() {
        let covered: Vec<Month> = MonthRange::new(m("2024-01"), m("2025-12")).unwrap().months().collect();
        let monthly: Vec<(Month, i64)> =
            covered.iter().map(|&mo| (mo, if mo.year() == 2024 { 10 } else { 9 })).collect();
        let c = compare_with_previous(&monthly, &covered, m("2025-12"), 12);
        assert_eq!((c.current, c.previous), (108, Some(120)));
        assert!((c.change_percent().unwrap() - (-10.0)).abs() < 1e-12);
    }

    #[test]
    fn missing_earlier_data_is_not_zero() {
        let covered: Vec<Month> = MonthRange::new(m("2025-01"), m("2025-12")).unwrap().months().collect();
        let monthly: Vec<(Month, i64)> = covered.iter().map(|&mo| (mo, 5)).collect();
        let c = compare_with_previous(&monthly, &covered, m("2025-12"), 12);
        assert_eq!(c.current, 60);
        assert_eq!(c.previous, None);
        assert_eq!(c.change_percent(), None);
    }

    #[test]
    fn covered_months_without_records_count_as_zero() {
        let covered: Vec<Month> = MonthRange::new(m("2024-01"), m("2025-12")).unwrap().months().collect();
        let monthly = vec![(m("2025-06"), 4)];
        let c = compare_with_previous(&monthly, &covered, m("2025-12"), 12);
        assert_eq!((c.current, c.previous), (4, Some(0)));
        assert_eq!(c.change_percent(), None, "no percentage change from zero");
    }
}
