//! Consent and the lawful basis of a referral. No referral is made without a consent record:
//! either someone agreed (the person, or a parent or carer) or consent was not sought and the
//! record says under which statutory duty or public task, and why.
//!
//! Agreement and lawful basis are recorded separately on purpose: a public body may ask the
//! person's agreement as good practice while relying on its public task as the lawful basis
//! (consent is a weak basis where there is an imbalance of power, which the ICO warns of for
//! public authorities). What is refused is claiming consent as the basis when none was sought.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::access::OrgType;

use super::codes::{CodeError, ConsentGivenBy, ConsentMethod, LawfulBasis};
use super::fields::{given, parse_date, Field, FieldError};

/// The shortest reason accepted for processing without consent: a few words, not "n/a".
pub const MIN_REASON_CHARS: usize = 10;
/// The longest reason accepted: a sentence or two, not a case history.
pub const MAX_REASON_CHARS: usize = 1000;

/// A validated consent record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Consent {
    pub given_by: ConsentGivenBy,
    /// When consent was given, or when the decision not to seek it was made.
    pub date: NaiveDate,
    /// How consent was given; `None` exactly when it was not sought.
    pub method: Option<ConsentMethod>,
    pub lawful_basis: LawfulBasis,
    /// Why the referral is made without relying on consent (the duty or task, and why consent
    /// was not sought or not relied on); `None` exactly when the basis is consent.
    pub reason: Option<String>,
}

/// The consent fields as submitted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ConsentFields {
    pub given_by: Option<String>,
    pub date: Option<String>,
    pub method: Option<String>,
    pub lawful_basis: Option<String>,
    pub reason: Option<String>,
}

impl Consent {
    /// Reads and checks a submitted consent record for a referral made on `referral_date` by
    /// an organisation of type `referrer`, with `today` the date of submission. Every error is
    /// reported, not just the first.
    pub fn from_fields(
        fields: &ConsentFields,
        referral_date: NaiveDate,
        today: NaiveDate,
        referrer: OrgType,
    ) -> Result<Consent, Vec<FieldError>> {
        let mut errors = Vec::new();
        let given_by = required(
            Field::ConsentGivenBy,
            &fields.given_by,
            "say who gave consent, or that it was not sought: no referral is made without a consent record",
            &mut errors,
        );
        let date = required(
            Field::ConsentDate,
            &fields.date,
            "enter the date consent was given or the decision made",
            &mut errors,
        );
        let basis =
            required(Field::LawfulBasis, &fields.lawful_basis, "choose the lawful basis for the referral", &mut errors);
        let given_by = given_by.and_then(|t| coded(Field::ConsentGivenBy, ConsentGivenBy::parse(t), &mut errors));
        let method =
            given(&fields.method).and_then(|t| coded(Field::ConsentMethod, ConsentMethod::parse(t), &mut errors));
        let basis = basis.and_then(|t| coded(Field::LawfulBasis, LawfulBasis::parse(t), &mut errors));
        let date = date.and_then(|t| parse_date(Field::ConsentDate, t).map_err(|e| errors.push(e)).ok());
        let reason = given(&fields.reason).map(|t| t.to_string());
        let method_unreadable = given(&fields.method).is_some() && method.is_none();
        let (Some(given_by), Some(date), Some(lawful_basis)) = (given_by, date, basis) else {
            return Err(errors);
        };
        let consent = Consent { given_by, date, method, lawful_basis, reason };
        errors.extend(consent.check(referral_date, today, referrer).into_iter().filter(|e| {
            // An unreadable method has already been reported; do not also call it missing.
            !(method_unreadable && e.field == Field::ConsentMethod)
        }));
        if errors.is_empty() {
            Ok(consent)
        } else {
            Err(errors)
        }
    }

    /// The rules a consent record must meet:
    /// - its date is not in the future and not after the referral date;
    /// - consent given (by the person or a parent or carer) says how; consent not sought has no
    ///   method and cannot be the lawful basis;
    /// - the basis is open to the referrer's kind of organisation ([`LawfulBasis::open_to`]);
    /// - a basis other than consent needs a reason of 10 to 1,000 characters; consent as the
    ///   basis needs none, and none is kept.
    pub fn check(&self, referral_date: NaiveDate, today: NaiveDate, referrer: OrgType) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if self.date > today {
            errors.push(FieldError::new(Field::ConsentDate, "the consent date is in the future"));
        } else if self.date > referral_date {
            errors.push(FieldError::new(
                Field::ConsentDate,
                "the consent date is after the referral date: consent must come first",
            ));
        }
        match (self.given_by, self.method) {
            (ConsentGivenBy::NotSought, Some(_)) => errors.push(FieldError::new(
                Field::ConsentMethod,
                "consent was not sought, so there is no method: leave it blank",
            )),
            (ConsentGivenBy::Person | ConsentGivenBy::ParentOrCarer, None) => {
                errors.push(FieldError::new(Field::ConsentMethod, "say how consent was given"))
            }
            _ => {}
        }
        if self.given_by == ConsentGivenBy::NotSought && self.lawful_basis == LawfulBasis::Consent {
            errors.push(FieldError::new(
                Field::LawfulBasis,
                "consent cannot be the lawful basis when it was not sought: choose a statutory duty or public task",
            ));
        }
        if !self.lawful_basis.open_to(referrer) {
            errors.push(FieldError::new(
                Field::LawfulBasis,
                "a public authority cannot rely on legitimate interests: choose public task or a statutory duty",
            ));
        }
        match (self.lawful_basis, self.reason.as_deref().map(str::trim)) {
            (LawfulBasis::Consent, Some(_)) => errors.push(FieldError::new(
                Field::LawfulBasisReason,
                "no reason is needed when the lawful basis is consent: leave it blank",
            )),
            (LawfulBasis::Consent, None) => {}
            (_, None) => errors.push(FieldError::new(
                Field::LawfulBasisReason,
                "give the reason for referring without relying on consent: the duty or task, and why",
            )),
            (_, Some(r)) if r.chars().count() < MIN_REASON_CHARS => errors.push(FieldError::new(
                Field::LawfulBasisReason,
                format!("describe the reason in at least {MIN_REASON_CHARS} characters"),
            )),
            (_, Some(r)) if r.chars().count() > MAX_REASON_CHARS => errors.push(FieldError::new(
                Field::LawfulBasisReason,
                format!("the reason must be {MAX_REASON_CHARS} characters or fewer"),
            )),
            _ => {}
        }
        errors
    }

    /// Whether the person (or their parent or carer) agreed to the referral.
    pub fn agreed(&self) -> bool {
        self.given_by != ConsentGivenBy::NotSought
    }
}

/// The text of a required field, or `None` with `missing` added to `errors`.
fn required<'a>(
    field: Field,
    text: &'a Option<String>,
    missing: &str,
    errors: &mut Vec<FieldError>,
) -> Option<&'a str> {
    let t = given(text);
    if t.is_none() {
        errors.push(FieldError::new(field, missing));
    }
    t
}

/// The value of a coded field, or `None` with its error added to `errors`.
fn coded<T>(field: Field, parsed: Result<T, CodeError>, errors: &mut Vec<FieldError>) -> Option<T> {
    parsed.map_err(|e| errors.push(FieldError::new(field, e.to_string()))).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::referrals::test_support::date;

    fn fields(given_by: &str, day: &str, method: &str, basis: &str, reason: &str) -> ConsentFields {
        let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
        ConsentFields {
            given_by: opt(given_by),
            date: opt(day),
            method: opt(method),
            lawful_basis: opt(basis),
            reason: opt(reason),
        }
    }

    const REFERRAL: (i32, u32, u32) = (2024, 2, 29);

    fn read(f: &ConsentFields) -> Result<Consent, Vec<FieldError>> {
        let referral = date(REFERRAL.0, REFERRAL.1, REFERRAL.2);
        Consent::from_fields(f, referral, date(2024, 3, 4), OrgType::Education)
    }

    fn fields_in_error(f: &ConsentFields) -> Vec<Field> {
        read(f).err().unwrap_or_default().into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn consent_given_by_the_person_or_a_parent() {
        let c = read(&fields("person", "2024-02-28", "verbal", "consent", "")).expect("valid");
        assert_eq!(c.given_by, ConsentGivenBy::Person);
        assert_eq!(c.method, Some(ConsentMethod::Verbal));
        assert_eq!(c.reason, None);
        assert!(c.agreed());
        // Same day as the referral (a leap day) is fine.
        let c = read(&fields("parent-or-carer", "2024-02-29", "written", "consent", "")).expect("valid");
        assert_eq!(c.date, date(2024, 2, 29));
    }

    #[test]
    fn not_sought_needs_a_statutory_basis_and_a_reason() {
        let reason = "Section 47 enquiry: seeking consent would put the child at risk";
        let c = read(&fields("not-sought", "2024-02-29", "", "public-task", reason)).expect("valid");
        assert_eq!(c.reason.as_deref(), Some(reason));
        assert!(!c.agreed());
        assert_eq!(fields_in_error(&fields("not-sought", "2024-02-29", "", "consent", "")), vec![Field::LawfulBasis]);
        assert_eq!(
            fields_in_error(&fields("not-sought", "2024-02-29", "", "legal-obligation", "")),
            vec![Field::LawfulBasisReason]
        );
        assert_eq!(
            fields_in_error(&fields("not-sought", "2024-02-29", "verbal", "public-task", reason)),
            vec![Field::ConsentMethod]
        );
        // Nine characters is too short, ten is enough; 1,001 too long.
        assert_eq!(
            fields_in_error(&fields("not-sought", "2024-02-29", "", "public-task", "123456789")),
            vec![Field::LawfulBasisReason]
        );
        assert!(read(&fields("not-sought", "2024-02-29", "", "public-task", "1234567890")).is_ok());
        let long = "x".repeat(1001);
        assert_eq!(
            fields_in_error(&fields("not-sought", "2024-02-29", "", "public-task", &long)),
            vec![Field::LawfulBasisReason]
        );
    }

    #[test]
    fn agreement_with_a_public_task_basis_still_needs_the_reason() {
        let f = fields("person", "2024-02-29", "electronic", "public-task", "Navigator programme under the Duty");
        assert!(read(&f).is_ok());
        assert_eq!(
            fields_in_error(&fields("person", "2024-02-29", "electronic", "public-task", "")),
            vec![Field::LawfulBasisReason]
        );
        // Consent as the basis keeps no reason.
        assert_eq!(
            fields_in_error(&fields("person", "2024-02-29", "verbal", "consent", "because it is needed")),
            vec![Field::LawfulBasisReason]
        );
        assert_eq!(fields_in_error(&fields("person", "2024-02-29", "", "consent", "")), vec![Field::ConsentMethod]);
    }

    #[test]
    fn legitimate_interests_only_for_the_voluntary_sector() {
        let f = fields(
            "not-sought",
            "2024-02-29",
            "",
            "legitimate-interests",
            "Child at immediate risk; parent is the risk",
        );
        assert_eq!(fields_in_error(&f), vec![Field::LawfulBasis]);
        let referral = date(REFERRAL.0, REFERRAL.1, REFERRAL.2);
        let charity = Consent::from_fields(&f, referral, date(2024, 3, 4), OrgType::VoluntarySector).expect("valid");
        assert_eq!(charity.lawful_basis, LawfulBasis::LegitimateInterests);
    }

    #[test]
    fn consent_dates_come_before_the_referral_and_not_in_the_future() {
        // Referral on 29 Feb 2024, submitted 4 Mar 2024.
        assert_eq!(fields_in_error(&fields("person", "2024-03-01", "verbal", "consent", "")), vec![Field::ConsentDate]);
        let future = read(&fields("person", "2024-03-05", "verbal", "consent", "")).unwrap_err();
        assert_eq!(future.len(), 1);
        assert!(future[0].message.contains("future"), "{future:?}");
        assert_eq!(fields_in_error(&fields("person", "2023-02-29", "verbal", "consent", "")), vec![Field::ConsentDate]);
    }

    #[test]
    fn no_referral_without_a_consent_record_and_every_problem_is_named() {
        let errors = read(&ConsentFields::default()).unwrap_err();
        let named: Vec<Field> = errors.iter().map(|e| e.field).collect();
        assert_eq!(named, vec![Field::ConsentGivenBy, Field::ConsentDate, Field::LawfulBasis]);
        assert!(errors[0].message.contains("no referral is made without a consent record"));
        let errors = read(&fields("someone", "2024-02-29", "by pigeon", "vital-interests", "")).unwrap_err();
        let named: Vec<Field> = errors.iter().map(|e| e.field).collect();
        assert_eq!(named, vec![Field::ConsentGivenBy, Field::ConsentMethod, Field::LawfulBasis]);
        // An unreadable method is reported once, not also as missing.
        let errors = read(&fields("person", "2024-02-29", "by pigeon", "consent", "")).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert!(errors[0].message.starts_with("unknown consent method"));
    }
}
