//! What the referral modules' unit tests share.

use chrono::NaiveDate;

/// The date `y`-`m`-`d`, which a test names as a valid one.
pub(crate) fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid test date")
}
