//! The one clock stored stamps and dates are read from, so that every table keeps them in
//! one form.

/// A time as rows are stamped with it: UTC, RFC 3339 to the second (`2025-03-31T09:15:00Z`).
/// Stamps of this one form sort as text in time order, which the queries comparing them (an
/// expiry against now, say) rely on.
pub fn stamp(time: chrono::DateTime<chrono::Utc>) -> String {
    time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Now, as a [`stamp`].
pub fn now() -> String {
    stamp(chrono::Utc::now())
}

/// Today (UTC) as a date, for the rules decided on the day (a period published, an age, a
/// deadline); [`today`] is the same day as text.
pub fn today_date() -> chrono::NaiveDate {
    chrono::Utc::now().date_naive()
}

/// Today (UTC) as dates are stored and forms ask for them: `YYYY-MM-DD`.
pub fn today() -> String {
    today_date().format("%Y-%m-%d").to_string()
}
