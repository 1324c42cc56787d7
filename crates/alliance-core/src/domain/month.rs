//! Calendar months, the time unit of data.police.uk street-level data.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A calendar month such as `2025-03`.
///
/// Stored and displayed as `YYYY-MM`, which also sorts chronologically as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Month {
    year: i32,
    month: u32,
}

/// Why a text is not a month.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected YYYY-MM, found \"{0}\"")]
pub struct MonthParseError(pub String);

impl Month {
    /// A month from its year and month number (1–12).
    pub fn new(year: i32, month: u32) -> Option<Month> {
        ((1..=12).contains(&month) && (1000..=9999).contains(&year)).then_some(Month { year, month })
    }

    pub fn year(self) -> i32 {
        self.year
    }

    /// The month number, 1 for January.
    pub fn month(self) -> u32 {
        self.month
    }

    /// Months since year 0, for arithmetic.
    fn ordinal(self) -> i64 {
        i64::from(self.year) * 12 + i64::from(self.month) - 1
    }

    fn from_ordinal(ordinal: i64) -> Month {
        Month { year: ordinal.div_euclid(12) as i32, month: ordinal.rem_euclid(12) as u32 + 1 }
    }

    /// The month `n` months later (earlier when negative).
    pub fn plus(self, n: i64) -> Month {
        Month::from_ordinal(self.ordinal() + n)
    }

    /// Number of months from `self` to `later` (negative when `later` is earlier).
    pub fn months_until(self, later: Month) -> i64 {
        later.ordinal() - self.ordinal()
    }

    /// The calendar quarter, 1 to 4.
    pub fn quarter(self) -> u32 {
        (self.month - 1) / 3 + 1
    }
}

impl FromStr for Month {
    type Err = MonthParseError;

    fn from_str(text: &str) -> Result<Month, MonthParseError> {
        let err = || MonthParseError(text.to_string());
        let bytes = text.as_bytes();
        if bytes.len() != 7
            || bytes[4] != b'-'
            || !text[..4].bytes().all(|b| b.is_ascii_digit())
            || !text[5..].bytes().all(|b| b.is_ascii_digit())
        {
            return Err(err());
        }
        let year: i32 = text[..4].parse().map_err(|_| err())?;
        let month: u32 = text[5..].parse().map_err(|_| err())?;
        Month::new(year, month).ok_or_else(err)
    }
}

impl TryFrom<String> for Month {
    type Error = MonthParseError;
    fn try_from(text: String) -> Result<Month, MonthParseError> {
        text.parse()
    }
}

impl From<Month> for String {
    fn from(month: Month) -> String {
        month.to_string()
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// An inclusive range of months, `from..=to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthRange {
    pub from: Month,
    pub to: Month,
}

impl MonthRange {
    /// A range; `None` when `to` is before `from`.
    pub fn new(from: Month, to: Month) -> Option<MonthRange> {
        (from <= to).then_some(MonthRange { from, to })
    }

    /// The `n` months ending with `to`.
    pub fn ending(to: Month, n: i64) -> MonthRange {
        MonthRange { from: to.plus(1 - n), to }
    }

    pub fn len(self) -> i64 {
        self.from.months_until(self.to) + 1
    }

    pub fn is_empty(self) -> bool {
        false
    }

    pub fn contains(self, month: Month) -> bool {
        self.from <= month && month <= self.to
    }

    /// The months of the range, in order.
    pub fn months(self) -> impl Iterator<Item = Month> {
        (0..self.len()).map(move |i| self.from.plus(i))
    }

    /// The range of the same length immediately before this one.
    pub fn preceding(self) -> MonthRange {
        MonthRange { from: self.from.plus(-self.len()), to: self.from.plus(-1) }
    }
}

impl fmt::Display for MonthRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} to {}", self.from, self.to)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_yyyy_mm() {
        let m: Month = "2025-03".parse().unwrap();
        assert_eq!((m.year(), m.month()), (2025, 3));
        assert_eq!(m.to_string(), "2025-03");
    }

    #[test]
    fn rejects_bad_months() {
        for bad in ["2025-13", "2025-00", "2025-3", "25-03", "2025/03", "", "2025-03-01", "abcd-ef"] {
            assert!(bad.parse::<Month>().is_err(), "{bad} should be refused");
        }
        assert_eq!("2025-13".parse::<Month>().unwrap_err().to_string(), "expected YYYY-MM, found \"2025-13\"");
    }

    #[test]
    fn arithmetic_crosses_years() {
        let m: Month = "2025-01".parse().unwrap();
        assert_eq!(m.plus(-1).to_string(), "2024-12");
        assert_eq!(m.plus(23).to_string(), "2026-12");
        assert_eq!(m.months_until("2026-01".parse().unwrap()), 12);
    }

    #[test]
    fn ranges_know_their_predecessor() {
        let r = MonthRange::ending("2025-12".parse().unwrap(), 12);
        assert_eq!(r.from.to_string(), "2025-01");
        assert_eq!(r.len(), 12);
        let p = r.preceding();
        assert_eq!((p.from.to_string(), p.to.to_string()), ("2024-01".into(), "2024-12".into()));
        assert_eq!(r.months().count(), 12);
    }
}
