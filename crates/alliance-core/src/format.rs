//! Numbers and dates in plain UK formats, written once for pages, reports, findings and the
//! command line: thousands separated by commas, money in pounds and pence, changes in words,
//! dates and stored time stamps in words; and a message capitalised to start a sentence.

/// `12345` → `12,345`; `-1234567` → `-1,234,567`.
pub fn count(n: i64) -> String {
    let sign = if n < 0 { "-" } else { "" };
    format!("{sign}{}", group_thousands(n.unsigned_abs()))
}

/// Digits of `n` with a comma between each group of three.
fn group_thousands(n: u64) -> String {
    group_digits(&n.to_string())
}

/// A run of decimal digits with a comma between each group of three, however long (a
/// figure past `u64`, as `f64` values can be).
pub fn group_digits(digits: &str) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Pence as pounds: `123456` → `£1,234.56`; `-150` → `-£1.50`.
pub fn money(pence: i64) -> String {
    let sign = if pence < 0 { "-" } else { "" };
    let p = pence.unsigned_abs();
    format!("{sign}£{}.{:02}", group_thousands(p / 100), p % 100)
}

/// Pence as a form shows them for editing, without the `£`: `4000000` → `40,000.00`.
pub fn money_field(pence: i64) -> String {
    money(pence).replacen('£', "", 1)
}

/// A change in words: `up 5.2%`, `down 10.0%`, `no change` (within ±0.05%).
pub fn change(percent: f64) -> String {
    if percent.abs() < 0.05 {
        "no change".into()
    } else if percent > 0.0 {
        format!("up {percent:.1}%")
    } else {
        format!("down {:.1}%", -percent)
    }
}

/// A figure with `places` decimal places, never "negative zero": `-0.04` and `-0.0` (which
/// an empty `f64` sum gives) → `0.0`, since a figure shown as "-0.0" is a sign of nothing.
/// Every decimal a page, report or finding shows goes through here.
pub fn fixed(value: f64, places: usize) -> String {
    let text = format!("{value:.places$}");
    match text.strip_prefix('-') {
        Some(unsigned) if unsigned.bytes().all(|b| b == b'0' || b == b'.') => unsigned.to_string(),
        _ => text,
    }
}

/// A rate with one decimal place: `12.349` → `12.3`; `-0.0` → `0.0`.
pub fn rate(value: f64) -> String {
    fixed(value, 1)
}

/// A share with one decimal place and a percent sign: `12.345` → `12.3%`; `-0.0` → `0.0%`.
pub fn percent(value: f64) -> String {
    format!("{}%", fixed(value, 1))
}

/// The months' names, January first: the one list every page, form and report uses.
pub const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// A `YYYY-MM-DD` date in the plain UK format: `2027-03-31` → `31 March 2027`. Text that is
/// not such a date is returned as it is.
pub fn date(iso: &str) -> String {
    match chrono::NaiveDate::parse_from_str(iso.trim(), "%Y-%m-%d") {
        Ok(d) => day(d),
        Err(_) => iso.to_string(),
    }
}

/// The day of a stored time stamp (RFC 3339: `2027-03-31T09:15:00Z`) in the format of
/// [`date`], `31 March 2027`, the day taken in UTC, as stamps are stored. Text that is not
/// such a stamp is returned as it is.
pub fn stamp_date(stamp: &str) -> String {
    match utc(stamp) {
        Some(t) => day(t.date_naive()),
        None => stamp.to_string(),
    }
}

/// A stored time stamp as a day and a time: `2027-03-31T09:15:42Z` → `31 March 2027, 09:15 UTC`,
/// the day as [`stamp_date`] shows it and the time on the 24-hour clock to the minute, in UTC
/// as stamps are stored (and as reports give the time they were made). Text that is not such
/// a stamp is returned as it is.
pub fn stamp_time(stamp: &str) -> String {
    match utc(stamp) {
        Some(t) => format!("{}, {} UTC", day(t.date_naive()), t.format("%H:%M")),
        None => stamp.to_string(),
    }
}

/// A local clock time as a day and a time, with no zone (the clock of whoever recorded it, as
/// emergency departments record an assault): `2027-03-31T21:40:00` or `2027-03-31 21:40` →
/// `31 March 2027, 21:40`. Text that is not such a time (a date alone, one with an offset,
/// anything else) is returned as it is.
pub fn local_time(text: &str) -> String {
    let t = text.trim();
    let parsed = ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|f| chrono::NaiveDateTime::parse_from_str(t, f).ok());
    match parsed {
        Some(t) => format!("{}, {}", day(t.date()), t.format("%H:%M")),
        None => text.to_string(),
    }
}

/// A stored stamp in UTC: RFC 3339 (`2027-03-31T09:15:00Z`, any fraction or offset), or a
/// date and time without an offset (`2027-03-31 09:15:00`), taken as UTC.
fn utc(stamp: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    let stamp = stamp.trim();
    chrono::DateTime::parse_from_rfc3339(stamp).map(|t| t.with_timezone(&chrono::Utc)).ok().or_else(|| {
        ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"]
            .iter()
            .find_map(|f| chrono::NaiveDateTime::parse_from_str(stamp, f).ok())
            .map(|t| t.and_utc())
    })
}

/// A date in the plain UK format of [`date`]: `31 March 2027`.
pub fn day(d: chrono::NaiveDate) -> String {
    use chrono::Datelike;
    format!("{} {} {}", d.day(), MONTH_NAMES[d.month0() as usize], d.year())
}

/// A message put at the start of a sentence (a lower-case reason shown as an error on its
/// own): its first letter upper case, the rest as it is.
pub fn capitalised(message: &str) -> String {
    let mut chars = message.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Checks that `format` shows each given text as the text beside it.
    fn shows(format: fn(&str) -> String, cases: &[(&str, &str)]) {
        for (given, shown) in cases {
            assert_eq!(format(given), *shown, "{given:?}");
        }
    }

    #[test]
    fn capitalised_changes_the_first_letter_only() {
        shows(
            capitalised,
            &[
                ("your organisation does not supply ED data", "Your organisation does not supply ED data"),
                ("éd", "Éd"),
                ("", ""),
            ],
        );
    }

    #[test]
    fn dates_in_uk_format() {
        shows(
            date,
            &[
                ("2027-03-31", "31 March 2027"),
                ("2025-01-05", "5 January 2025"),
                ("not a date", "not a date"),
                ("2025-02-30", "2025-02-30"),
            ],
        );
    }

    #[test]
    fn stamps_as_their_day_in_utc() {
        shows(
            stamp_date,
            &[
                ("2027-03-31T09:15:00Z", "31 March 2027"),
                ("2025-01-05T23:59:59.123456789+00:00", "5 January 2025"),
                // Stored stamps are UTC; one with an offset is shown as its UTC day.
                ("2025-01-06T00:30:00+01:00", "5 January 2025"),
                ("2027-03-31", "2027-03-31"),
                ("not a stamp", "not a stamp"),
                ("2025-01-05 23:59:59", "5 January 2025"),
            ],
        );
    }

    #[test]
    fn stamps_as_their_day_and_time_in_utc() {
        shows(
            stamp_time,
            &[
                ("2027-03-31T09:15:42Z", "31 March 2027, 09:15 UTC"),
                ("2026-12-03T21:51:50.123Z", "3 December 2026, 21:51 UTC"),
                (" 2025-01-05T23:59:59.999999+00:00 ", "5 January 2025, 23:59 UTC"),
                // An offset is turned to UTC, the day with it.
                ("2025-01-06T00:30:00+01:00", "5 January 2025, 23:30 UTC"),
                // Without an offset, as SQL writes a time: taken as UTC.
                ("2026-12-03 21:51:50", "3 December 2026, 21:51 UTC"),
                ("2026-12-03T21:51:50", "3 December 2026, 21:51 UTC"),
                // A date alone, or anything else, is not a stamp: shown as it is.
                ("2027-03-31", "2027-03-31"),
                ("never", "never"),
                ("", ""),
            ],
        );
    }

    #[test]
    fn local_times_as_their_day_and_time_without_a_zone() {
        shows(
            local_time,
            &[
                ("2027-03-31T21:40:00", "31 March 2027, 21:40"),
                ("2027-03-31 21:40", "31 March 2027, 21:40"),
                (" 2025-01-05T07:05:59.5 ", "5 January 2025, 07:05"),
                // Malformed, a date alone, or a stamp with a zone: shown as stored, never a panic.
                ("2027-02-30T21:40:00", "2027-02-30T21:40:00"),
                ("2027-03-31T25:00", "2027-03-31T25:00"),
                ("2027-03-31", "2027-03-31"),
                ("2027-03-31T21:40:00Z", "2027-03-31T21:40:00Z"),
                ("not a time", "not a time"),
                ("", ""),
            ],
        );
    }

    #[test]
    fn days_in_uk_format() {
        let d = |y, m, d| chrono::NaiveDate::from_ymd_opt(y, m, d).expect("a real date");
        assert_eq!(day(d(2027, 3, 31)), "31 March 2027");
        assert_eq!(day(d(2024, 2, 29)), "29 February 2024");
    }

    #[test]
    fn counts_are_grouped_in_threes() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1000), "1,000");
        assert_eq!(count(-1_234_567), "-1,234,567");
        assert_eq!(count(i64::MIN), "-9,223,372,036,854,775,808");
    }

    #[test]
    fn money_is_pounds_and_pence_with_the_sign_first() {
        assert_eq!(money(0), "£0.00");
        assert_eq!(money(5), "£0.05");
        assert_eq!(money(123_456), "£1,234.56");
        assert_eq!(money(-150), "-£1.50");
        assert_eq!(money_field(4_000_000), "40,000.00");
    }

    #[test]
    fn changes_rates_and_percents() {
        assert_eq!(change(5.24), "up 5.2%");
        assert_eq!(change(-10.0), "down 10.0%");
        assert_eq!(change(0.01), "no change");
        assert_eq!(change(-0.049), "no change");
        assert_eq!(rate(12.349), "12.3");
        assert_eq!(percent(12.345), "12.3%");
    }

    #[test]
    fn no_figure_is_shown_as_negative_zero() {
        // An empty `f64` sum is -0.0: a rate of no offences was shown as "-0.0".
        let empty: f64 = std::iter::empty::<f64>().sum();
        assert_eq!(rate(empty), "0.0");
        assert_eq!(rate(-0.0), "0.0");
        assert_eq!(rate(-0.04), "0.0", "rounds to -0.0");
        assert_eq!(rate(-0.05), "-0.1");
        assert_eq!(rate(-12.3), "-12.3");
        assert_eq!(percent(-0.0), "0.0%");
        assert_eq!(fixed(-0.0004, 3), "0.000");
        assert_eq!(fixed(-0.0004, 0), "0");
        assert_eq!(fixed(-1.5, 2), "-1.50");
        assert_eq!(fixed(0.0, 2), "0.00");
    }
}
