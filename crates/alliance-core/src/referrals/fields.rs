//! The fields of a referral form and the errors that name them, so a page can link each error
//! to its field (the GOV.UK error summary) and the API can return the field's name.

use std::fmt;

use chrono::NaiveDate;
use serde::Serialize;

/// A field of the referral form. `id()` is the form field's name and the API's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(into = "&'static str")]
pub enum Field {
    Received,
    Source,
    Reason,
    OtherNeeds,
    Name,
    Initials,
    DateOfBirth,
    Age,
    Sex,
    PostcodeDistrict,
    ContactRoute,
    ContactDetail,
    ConsentGivenBy,
    ConsentDate,
    ConsentMethod,
    LawfulBasis,
    LawfulBasisReason,
}

impl Field {
    pub fn id(self) -> &'static str {
        match self {
            Field::Received => "received",
            Field::Source => "source",
            Field::Reason => "reason",
            Field::OtherNeeds => "other-needs",
            Field::Name => "name",
            Field::Initials => "initials",
            Field::DateOfBirth => "date-of-birth",
            Field::Age => "age",
            Field::Sex => "sex",
            Field::PostcodeDistrict => "postcode-district",
            Field::ContactRoute => "contact-route",
            Field::ContactDetail => "contact-detail",
            Field::ConsentGivenBy => "consent-given-by",
            Field::ConsentDate => "consent-date",
            Field::ConsentMethod => "consent-method",
            Field::LawfulBasis => "lawful-basis",
            Field::LawfulBasisReason => "lawful-basis-reason",
        }
    }

    /// The field's member in the API's JSON body (`ReferralForm` as JSON): `reason`,
    /// `person.date_of_birth`, `consent.given_by`; a client is told the names it sent.
    pub fn json_path(self) -> &'static str {
        match self {
            Field::Received => "received",
            Field::Source => "source",
            Field::Reason => "reason",
            Field::OtherNeeds => "other_needs",
            Field::Name => "person.name",
            Field::Initials => "person.initials",
            Field::DateOfBirth => "person.date_of_birth",
            Field::Age => "person.age",
            Field::Sex => "person.sex",
            Field::PostcodeDistrict => "person.postcode_district",
            Field::ContactRoute => "person.contact_route",
            Field::ContactDetail => "person.contact_detail",
            Field::ConsentGivenBy => "consent.given_by",
            Field::ConsentDate => "consent.date",
            Field::ConsentMethod => "consent.method",
            Field::LawfulBasis => "consent.lawful_basis",
            Field::LawfulBasisReason => "consent.reason",
        }
    }
}

impl From<Field> for &'static str {
    fn from(field: Field) -> &'static str {
        field.id()
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// One thing wrong with one field, in words a referrer can act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    pub field: Field,
    pub message: String,
}

impl FieldError {
    pub fn new(field: Field, message: impl Into<String>) -> FieldError {
        FieldError { field, message: message.into() }
    }
}

/// Everything wrong with a submission: nothing is stored while there is any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
pub struct ValidationErrors(pub Vec<FieldError>);

impl ValidationErrors {
    /// Whether `field` has an error (for tests and for marking fields on a page).
    pub fn has(&self, field: Field) -> bool {
        self.0.iter().any(|e| e.field == field)
    }

    /// The message for `field`, if any.
    pub fn message(&self, field: Field) -> Option<&str> {
        self.0.iter().find(|e| e.field == field).map(|e| e.message.as_str())
    }
}

/// The submitted text of a field, trimmed, or `None` when blank or absent.
pub(crate) fn given(text: &Option<String>) -> Option<&str> {
    text.as_deref().map(str::trim).filter(|t| !t.is_empty())
}

/// A date written `YYYY-MM-DD` (the form's date inputs are joined to this by the web layer),
/// from 1900 on: an earlier year is a typing error in every field of a referral.
pub fn parse_date(field: Field, text: &str) -> Result<NaiveDate, FieldError> {
    let t = text.trim();
    let bad = || FieldError::new(field, format!("\"{t}\" is not a date: enter it as year-month-day, e.g. 2025-03-31"));
    let parts: Vec<&str> = t.split('-').collect();
    let [y, m, d] = parts.as_slice() else { return Err(bad()) };
    if y.len() != 4 || !(1..=2).contains(&m.len()) || !(1..=2).contains(&d.len()) {
        return Err(bad());
    }
    let digits = |s: &str| -> Option<u32> { s.bytes().all(|b| b.is_ascii_digit()).then(|| s.parse().ok()).flatten() };
    let (Some(y), Some(m), Some(d)) = (digits(y), digits(m), digits(d)) else { return Err(bad()) };
    if y < 1900 {
        return Err(FieldError::new(field, format!("\"{t}\" is not a date: the year must be 1900 or later")));
    }
    if !(1..=12).contains(&m) {
        return Err(FieldError::new(field, format!("\"{t}\" is not a date: the month must be 1 to 12")));
    }
    NaiveDate::from_ymd_opt(y as i32, m, d)
        .ok_or_else(|| FieldError::new(field, format!("\"{t}\" is not a date: that month has no day {d}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_parse_and_impossible_days_are_named() {
        assert_eq!(parse_date(Field::Received, "2024-02-29"), Ok(NaiveDate::from_ymd_opt(2024, 2, 29).unwrap()));
        assert_eq!(parse_date(Field::Received, " 2025-3-1 "), Ok(NaiveDate::from_ymd_opt(2025, 3, 1).unwrap()));
        // 2023 is not a leap year; 1900 is not (divisible by 100, not 400); 2000 is.
        let e = parse_date(Field::DateOfBirth, "2023-02-29").unwrap_err();
        assert_eq!(e.field, Field::DateOfBirth);
        assert!(e.message.contains("no day 29"), "{}", e.message);
        assert!(parse_date(Field::Received, "1900-02-29").is_err());
        assert!(parse_date(Field::Received, "1900-01-01").is_ok());
        assert!(parse_date(Field::Received, "0224-03-01").unwrap_err().message.contains("1900"));
        assert!(parse_date(Field::Received, "2000-02-29").is_ok());
        assert!(parse_date(Field::Received, "2025-04-31").is_err());
        assert!(parse_date(Field::Received, "2025-13-01").unwrap_err().message.contains("month"));
        for bad in ["31/03/2025", "2025-03", "25-03-31", "2025-+3-01", "", "2025-03-31T10:00"] {
            assert!(parse_date(Field::Received, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn errors_join_with_their_fields() {
        let errors = ValidationErrors(vec![
            FieldError::new(Field::Initials, "enter 1 to 3 letters"),
            FieldError::new(Field::Age, "enter a whole number"),
        ]);
        assert_eq!(errors.to_string(), "initials: enter 1 to 3 letters; age: enter a whole number");
        assert!(errors.has(Field::Age));
        assert!(!errors.has(Field::Sex));
        assert_eq!(errors.message(Field::Initials), Some("enter 1 to 3 letters"));
    }
}
