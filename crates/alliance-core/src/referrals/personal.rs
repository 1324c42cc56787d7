//! The least personal data a service needs (UK GDPR Article 5(1)(c), data minimisation):
//! each commissioned service says which personal fields it needs, and a submission is cut
//! down to exactly those. A field the service does not need is refused, not silently dropped
//! or stored, so the referrer learns what not to send.
//!
//! One reduction is made instead of a refusal: a full postcode typed into the postcode
//! district field is cut to its district (outward code) with a note. People type their
//! postcode by habit, the district is the same field at a coarser grain, and the inward code
//! is dropped before anything is kept.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use super::codes::{BirthNeed, NameNeed, Sex};
use super::contact::{contact_field, Contact};
use super::fields::{given, parse_date, Field, FieldError};
use super::postcode::PostcodeDistrict;

/// The ages a service records: a submitted age outside them is a data-entry error and is
/// refused. (Whether the person is in the service's target ages is eligibility, not this.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "AgeLimitsFields")]
pub struct AgeLimits {
    pub min: u8,
    pub max: u8,
}

impl AgeLimits {
    pub fn new(min: u8, max: u8) -> Option<AgeLimits> {
        (min <= max).then_some(AgeLimits { min, max })
    }

    pub fn contains(self, age: u8) -> bool {
        (self.min..=self.max).contains(&age)
    }
}

/// Age limits as stored, checked on reading.
#[derive(Deserialize)]
struct AgeLimitsFields {
    min: u8,
    max: u8,
}

impl TryFrom<AgeLimitsFields> for AgeLimits {
    type Error = String;
    fn try_from(f: AgeLimitsFields) -> Result<AgeLimits, String> {
        AgeLimits::new(f.min, f.max)
            .ok_or_else(|| format!("age limits {} to {}: the lower is above the upper", f.min, f.max))
    }
}

impl Default for AgeLimits {
    /// Children and young people up to 25, the cohort of the serious violence strategies.
    fn default() -> AgeLimits {
        AgeLimits { min: 0, max: 25 }
    }
}

/// Which personal fields one commissioned service needs. Everything else is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonalDataPolicy {
    pub name: NameNeed,
    pub birth: BirthNeed,
    pub sex: bool,
    pub postcode_district: bool,
    /// A contact route (and the detail it needs, see [`Contact`]).
    pub contact: bool,
    pub ages: AgeLimits,
}

impl Default for PersonalDataPolicy {
    /// The least: initials, age, sex, postcode district and a contact route.
    fn default() -> PersonalDataPolicy {
        PersonalDataPolicy {
            name: NameNeed::Initials,
            birth: BirthNeed::Age,
            sex: true,
            postcode_district: true,
            contact: true,
            ages: AgeLimits::default(),
        }
    }
}

/// The person's name at the grain the service asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PersonName {
    /// 1 to 3 letters, upper case.
    Initials(String),
    Full(String),
}

/// The person's age at the grain the service asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Birth {
    DateOfBirth(NaiveDate),
    /// Age in completed years on the referral date.
    Age(u8),
}

/// The personal fields of a referral after minimisation: only what the service needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MinimisedPerson {
    pub name: Option<PersonName>,
    pub birth: Option<Birth>,
    pub sex: Option<Sex>,
    pub postcode_district: Option<PostcodeDistrict>,
    pub contact: Option<Contact>,
}

impl MinimisedPerson {
    /// Age in completed years on `referral_date`, when the service records age or date of
    /// birth. An age given as such was the age on the referral date and is returned as it is.
    pub fn age_at_referral(&self, referral_date: NaiveDate) -> Option<u8> {
        match self.birth? {
            Birth::Age(age) => Some(age),
            Birth::DateOfBirth(dob) => age_on(dob, referral_date).and_then(|a| u8::try_from(a).ok()),
        }
    }
}

/// Age in completed years on `date` of someone born on `dob`, or `None` if `date` is before
/// `dob`. Someone born on 29 February has their birthday on 1 March in other years (the usual
/// reading in England and Wales): they are not a year older on 28 February.
pub fn age_on(dob: NaiveDate, date: NaiveDate) -> Option<u32> {
    if date < dob {
        return None;
    }
    let mut years = date.year() - dob.year();
    if (date.month(), date.day()) < (dob.month(), dob.day()) {
        years -= 1;
    }
    u32::try_from(years).ok()
}

/// The personal fields as submitted (text, blank or absent).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct PersonalFields {
    pub name: Option<String>,
    pub initials: Option<String>,
    pub date_of_birth: Option<String>,
    pub age: Option<String>,
    pub sex: Option<String>,
    pub postcode_district: Option<String>,
    pub contact_route: Option<String>,
    pub contact_detail: Option<String>,
}

/// Something done to a submission that the referrer should be told of (not an error).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Note {
    pub field: Field,
    pub message: String,
}

/// The result of minimisation: the record to keep and what was changed on the way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Minimised {
    pub person: MinimisedPerson,
    pub notes: Vec<Note>,
}

/// Cuts a submission down to what `policy` needs, or says what is wrong with every field.
/// `referral_date` is the date the referral is made: the date of birth may not be after it,
/// and ages are checked on it.
pub fn minimise(
    fields: &PersonalFields,
    policy: &PersonalDataPolicy,
    referral_date: NaiveDate,
) -> Result<Minimised, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut notes = Vec::new();
    let name = name_field(fields, policy.name, &mut errors);
    let name = keep(name, &mut errors);
    let birth = birth_field(fields, policy, referral_date, &mut errors);
    let birth = keep(birth, &mut errors);
    let sex = needed(Field::Sex, &fields.sex, policy.sex, "sex")
        .and_then(|t| t.map(|t| Sex::parse(t).map_err(|e| FieldError::new(Field::Sex, e.to_string()))).transpose());
    let sex = keep(sex, &mut errors);
    let district =
        needed(Field::PostcodeDistrict, &fields.postcode_district, policy.postcode_district, "postcode district")
            .and_then(|t| t.map(district_field).transpose());
    let district = keep(district, &mut errors).map(|(district, cut)| {
        if cut {
            notes.push(Note {
                field: Field::PostcodeDistrict,
                message: format!("The full postcode was cut to its district, {district}: only the district is kept."),
            });
        }
        district
    });
    let contact = contact_field(fields, policy.contact, &mut errors);
    let contact = keep(contact, &mut errors);
    if errors.is_empty() {
        Ok(Minimised { person: MinimisedPerson { name, birth, sex, postcode_district: district, contact }, notes })
    } else {
        Err(errors)
    }
}

/// The value of a field, or `None` with its error added to `errors`.
fn keep<T>(result: Result<Option<T>, FieldError>, errors: &mut Vec<FieldError>) -> Option<T> {
    result.unwrap_or_else(|e| {
        errors.push(e);
        None
    })
}

fn district_field(text: &str) -> Result<(PostcodeDistrict, bool), FieldError> {
    PostcodeDistrict::from_submitted(text).map_err(|e| FieldError::new(Field::PostcodeDistrict, e.to_string()))
}

/// The text of a field the policy needs (an error if blank) or must not have (an error if
/// given).
pub(crate) fn needed<'a>(
    field: Field,
    text: &'a Option<String>,
    needs: bool,
    what: &str,
) -> Result<Option<&'a str>, FieldError> {
    match (given(text), needs) {
        (Some(t), true) => Ok(Some(t)),
        (None, true) => Err(FieldError::new(field, format!("enter the {what}: this service needs it"))),
        (Some(_), false) => {
            Err(FieldError::new(field, format!("this service does not need the {what}: leave it blank")))
        }
        (None, false) => Ok(None),
    }
}

fn name_field(
    fields: &PersonalFields,
    need: NameNeed,
    errors: &mut Vec<FieldError>,
) -> Result<Option<PersonName>, FieldError> {
    let (name, initials) = (given(&fields.name), given(&fields.initials));
    match need {
        NameNeed::NotNeeded => {
            keep(needed(Field::Name, &fields.name, false, "person's name"), errors);
            needed(Field::Initials, &fields.initials, false, "person's initials")?;
            Ok(None)
        }
        NameNeed::Initials => {
            if name.is_some() {
                errors.push(FieldError::new(
                    Field::Name,
                    "this service needs the initials only, not the name: leave the name blank",
                ));
            }
            let t = initials.ok_or_else(|| {
                FieldError::new(Field::Initials, "enter the person's initials: this service needs them")
            })?;
            let letters: String = t.chars().filter(|c| !matches!(c, '.' | ' ')).collect();
            let count = letters.chars().count();
            if !(1..=3).contains(&count) || !letters.chars().all(char::is_alphabetic) {
                return Err(FieldError::new(Field::Initials, "enter 1 to 3 letters, e.g. JS"));
            }
            Ok(Some(PersonName::Initials(letters.to_uppercase())))
        }
        NameNeed::FullName => {
            if initials.is_some() {
                errors.push(FieldError::new(
                    Field::Initials,
                    "this service needs the full name: leave the initials blank",
                ));
            }
            let t = name.ok_or_else(|| FieldError::new(Field::Name, "enter the person's full name"))?;
            let collapsed = t.split_whitespace().collect::<Vec<_>>().join(" ");
            let allowed = |c: char| c.is_alphabetic() || matches!(c, ' ' | '-' | '\'' | '\u{2019}' | '.');
            if collapsed.chars().count() > 100 {
                return Err(FieldError::new(Field::Name, "the name must be 100 characters or fewer"));
            }
            if !collapsed.chars().all(allowed) || !collapsed.chars().any(char::is_alphabetic) {
                return Err(FieldError::new(
                    Field::Name,
                    "the name may only have letters, spaces, hyphens, apostrophes and full stops",
                ));
            }
            Ok(Some(PersonName::Full(collapsed)))
        }
    }
}

fn birth_field(
    fields: &PersonalFields,
    policy: &PersonalDataPolicy,
    referral_date: NaiveDate,
    errors: &mut Vec<FieldError>,
) -> Result<Option<Birth>, FieldError> {
    let (dob, age) = (given(&fields.date_of_birth), given(&fields.age));
    let limits = policy.ages;
    let outside = |field: Field, age: u32, how: &str| {
        FieldError::new(
            field,
            format!("{how} {age}, outside the ages this service records ({} to {}): check it", limits.min, limits.max),
        )
    };
    match policy.birth {
        BirthNeed::NotNeeded => {
            keep(needed(Field::DateOfBirth, &fields.date_of_birth, false, "date of birth"), errors);
            needed(Field::Age, &fields.age, false, "age")?;
            Ok(None)
        }
        BirthNeed::Age => {
            if dob.is_some() {
                errors.push(FieldError::new(
                    Field::DateOfBirth,
                    "this service needs the age only, not the date of birth: leave it blank",
                ));
            }
            let t = age.ok_or_else(|| FieldError::new(Field::Age, "enter the person's age: this service needs it"))?;
            let years: u32 = t.parse().map_err(|_| {
                FieldError::new(Field::Age, format!("\"{t}\" is not an age: enter a whole number of years"))
            })?;
            match u8::try_from(years) {
                Ok(a) if limits.contains(a) => Ok(Some(Birth::Age(a))),
                _ => Err(outside(Field::Age, years, "the age is")),
            }
        }
        BirthNeed::DateOfBirth => {
            if age.is_some() {
                errors.push(FieldError::new(
                    Field::Age,
                    "this service needs the date of birth (the age is worked out from it): leave the age blank",
                ));
            }
            let t = dob.ok_or_else(|| {
                FieldError::new(Field::DateOfBirth, "enter the person's date of birth: this service needs it")
            })?;
            let date = parse_date(Field::DateOfBirth, t)?;
            let years = age_on(date, referral_date).ok_or_else(|| {
                FieldError::new(Field::DateOfBirth, "the date of birth is after the referral date: check it")
            })?;
            match u8::try_from(years) {
                Ok(a) if limits.contains(a) => Ok(Some(Birth::DateOfBirth(date))),
                _ => Err(outside(Field::DateOfBirth, years, "on the referral date the date of birth gives an age of")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::referrals::codes::ContactRoute;
    use crate::referrals::test_support::date;

    fn text(s: &str) -> Option<String> {
        Some(s.to_string())
    }

    /// A complete submission for the default policy (initials, age, sex, district, contact).
    fn submission() -> PersonalFields {
        PersonalFields {
            initials: text("j.s."),
            age: text("15"),
            sex: text("male"),
            postcode_district: text("ST4"),
            contact_route: text("via-referrer"),
            ..PersonalFields::default()
        }
    }

    fn errors_of(r: Result<Minimised, Vec<FieldError>>) -> Vec<Field> {
        r.err().unwrap_or_default().into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn ages_in_completed_years_with_leap_day_birthdays() {
        // Born 29 Feb 2008 (a leap year): 16 on 28 Feb 2025, 17 on 1 Mar 2025 (2025 has no 29 Feb).
        assert_eq!(age_on(date(2008, 2, 29), date(2025, 2, 28)), Some(16));
        assert_eq!(age_on(date(2008, 2, 29), date(2025, 3, 1)), Some(17));
        // In a leap year the birthday is the day itself: 2024 - 2008 = 16 on 29 Feb 2024.
        assert_eq!(age_on(date(2008, 2, 29), date(2024, 2, 28)), Some(15));
        assert_eq!(age_on(date(2008, 2, 29), date(2024, 2, 29)), Some(16));
        // Month ends: born 31 Jan 2000, 24 on 30 Jan 2025, 25 on 31 Jan 2025.
        assert_eq!(age_on(date(2000, 1, 31), date(2025, 1, 30)), Some(24));
        assert_eq!(age_on(date(2000, 1, 31), date(2025, 1, 31)), Some(25));
        // Born on the day: 0; the day before birth: none.
        assert_eq!(age_on(date(2025, 3, 1), date(2025, 3, 1)), Some(0));
        assert_eq!(age_on(date(2025, 3, 1), date(2025, 2, 28)), None);
    }

    #[test]
    fn the_default_policy_keeps_initials_age_sex_district_and_route() {
        let kept = minimise(&submission(), &PersonalDataPolicy::default(), date(2025, 3, 1)).expect("valid");
        assert_eq!(
            kept.person,
            MinimisedPerson {
                name: Some(PersonName::Initials("JS".into())),
                birth: Some(Birth::Age(15)),
                sex: Some(Sex::Male),
                postcode_district: Some("ST4".parse().expect("district")),
                contact: Some(Contact { route: ContactRoute::ViaReferrer, detail: None }),
            }
        );
        assert!(kept.notes.is_empty());
        assert_eq!(kept.person.age_at_referral(date(2030, 1, 1)), Some(15), "an age given is the age at referral");
    }

    #[test]
    fn a_full_postcode_is_cut_with_a_note() {
        let fields = PersonalFields { postcode_district: text("st4 4qg"), ..submission() };
        let kept = minimise(&fields, &PersonalDataPolicy::default(), date(2025, 3, 1)).expect("valid");
        assert_eq!(kept.person.postcode_district.as_ref().map(PostcodeDistrict::as_str), Some("ST4"));
        assert_eq!(kept.notes.len(), 1);
        assert_eq!(kept.notes[0].field, Field::PostcodeDistrict);
        assert!(!kept.notes[0].message.contains("4QG"), "the note must not repeat the full postcode");
    }

    #[test]
    fn fields_the_service_does_not_need_are_refused_not_dropped() {
        let policy = PersonalDataPolicy {
            name: NameNeed::NotNeeded,
            birth: BirthNeed::NotNeeded,
            sex: false,
            postcode_district: false,
            contact: false,
            ages: AgeLimits::default(),
        };
        let everything = PersonalFields {
            name: text("Jo Smith"),
            initials: text("JS"),
            date_of_birth: text("2010-01-01"),
            age: text("15"),
            sex: text("female"),
            postcode_district: text("ST4"),
            contact_route: text("phone"),
            contact_detail: text("07700 900123"),
        };
        let fields = errors_of(minimise(&everything, &policy, date(2025, 3, 1)));
        for f in [Field::Name, Field::Initials, Field::DateOfBirth, Field::Age, Field::Sex, Field::PostcodeDistrict] {
            assert!(fields.contains(&f), "{f} should be refused: {fields:?}");
        }
        assert!(fields.contains(&Field::ContactRoute));
        // Nothing submitted, nothing needed: an empty record.
        let empty = minimise(&PersonalFields::default(), &policy, date(2025, 3, 1)).expect("valid");
        assert_eq!(
            empty.person,
            MinimisedPerson { name: None, birth: None, sex: None, postcode_district: None, contact: None }
        );
    }

    #[test]
    fn a_finer_grain_than_asked_is_refused() {
        // Initials-and-age service sent a name and a date of birth as well.
        let fields = PersonalFields { name: text("Jo Smith"), date_of_birth: text("2010-01-01"), ..submission() };
        let refused = errors_of(minimise(&fields, &PersonalDataPolicy::default(), date(2025, 3, 1)));
        assert_eq!(refused, vec![Field::Name, Field::DateOfBirth]);
        // Full-name-and-birth-date service sent initials and an age as well.
        let policy = PersonalDataPolicy {
            name: NameNeed::FullName,
            birth: BirthNeed::DateOfBirth,
            ..PersonalDataPolicy::default()
        };
        let fields = PersonalFields { name: text("Jo Smith"), date_of_birth: text("2010-01-01"), ..submission() };
        assert_eq!(errors_of(minimise(&fields, &policy, date(2025, 3, 1))), vec![Field::Initials, Field::Age]);
    }

    #[test]
    fn required_fields_say_so() {
        let r = minimise(&PersonalFields::default(), &PersonalDataPolicy::default(), date(2025, 3, 1));
        let errors = r.err().unwrap_or_default();
        let fields: Vec<Field> = errors.iter().map(|e| e.field).collect();
        assert_eq!(fields, vec![Field::Initials, Field::Age, Field::Sex, Field::PostcodeDistrict, Field::ContactRoute]);
        assert!(errors.iter().all(|e| e.message.contains("this service needs")), "{errors:?}");
    }

    #[test]
    fn initials_are_one_to_three_letters() {
        let policy = PersonalDataPolicy::default();
        for (given, kept) in [("j", "J"), ("J S", "JS"), ("a.b.c.", "ABC"), ("éo", "ÉO")] {
            let r = minimise(&PersonalFields { initials: text(given), ..submission() }, &policy, date(2025, 3, 1));
            assert_eq!(r.map(|m| m.person.name), Ok(Some(PersonName::Initials(kept.into()))), "{given}");
        }
        for bad in ["ABCD", "J5", "..", "J-S"] {
            let r = minimise(&PersonalFields { initials: text(bad), ..submission() }, &policy, date(2025, 3, 1));
            assert_eq!(errors_of(r), vec![Field::Initials], "{bad}");
        }
    }

    #[test]
    fn full_names_are_letters_and_punctuation_with_spaces_collapsed() {
        let policy = PersonalDataPolicy { name: NameNeed::FullName, ..PersonalDataPolicy::default() };
        let fields = |name: &str| PersonalFields { name: text(name), initials: None, ..submission() };
        let r = minimise(&fields("  Siân   O'Neill-Jones "), &policy, date(2025, 3, 1));
        assert_eq!(r.map(|m| m.person.name), Ok(Some(PersonName::Full("Siân O'Neill-Jones".into()))));
        assert_eq!(errors_of(minimise(&fields("Jo <script>"), &policy, date(2025, 3, 1))), vec![Field::Name]);
        assert_eq!(errors_of(minimise(&fields("- ."), &policy, date(2025, 3, 1))), vec![Field::Name]);
        assert_eq!(errors_of(minimise(&fields(&"a".repeat(101)), &policy, date(2025, 3, 1))), vec![Field::Name]);
    }

    #[test]
    fn ages_must_be_whole_numbers_within_the_limits() {
        let policy = PersonalDataPolicy::default();
        let with_age = |age: &str| PersonalFields { age: text(age), ..submission() };
        for ok in ["0", "25", " 17 "] {
            assert!(minimise(&with_age(ok), &policy, date(2025, 3, 1)).is_ok(), "{ok}");
        }
        for bad in ["26", "-1", "15.5", "fifteen", "300"] {
            assert_eq!(errors_of(minimise(&with_age(bad), &policy, date(2025, 3, 1))), vec![Field::Age], "{bad}");
        }
        // A service for adults up to 40 says otherwise.
        let adults = PersonalDataPolicy { ages: AgeLimits::new(18, 40).expect("limits"), ..policy };
        assert!(minimise(&with_age("30"), &adults, date(2025, 3, 1)).is_ok());
        assert_eq!(errors_of(minimise(&with_age("17"), &adults, date(2025, 3, 1))), vec![Field::Age]);
        assert_eq!(AgeLimits::new(20, 10), None);
        assert!(serde_json::from_str::<AgeLimits>(r#"{"min":20,"max":10}"#).is_err());
        assert_eq!(serde_json::from_str::<AgeLimits>(r#"{"min":10,"max":17}"#).ok(), AgeLimits::new(10, 17));
    }

    #[test]
    fn dates_of_birth_are_real_not_after_the_referral_and_within_the_limits() {
        let policy = PersonalDataPolicy { birth: BirthNeed::DateOfBirth, ..PersonalDataPolicy::default() };
        let with_dob = |dob: &str| PersonalFields { date_of_birth: text(dob), age: None, ..submission() };
        let referral = date(2025, 3, 1);
        let kept = minimise(&with_dob("2008-02-29"), &policy, referral).expect("valid");
        assert_eq!(kept.person.birth, Some(Birth::DateOfBirth(date(2008, 2, 29))));
        assert_eq!(kept.person.age_at_referral(referral), Some(17));
        // Born the day of the referral: age 0, accepted; the day after: refused.
        assert!(minimise(&with_dob("2025-03-01"), &policy, referral).is_ok());
        let after = minimise(&with_dob("2025-03-02"), &policy, referral).unwrap_err();
        assert!(after[0].message.contains("after the referral date"), "{after:?}");
        // 25 on the referral date is the last accepted age: born 1 Mar 1999 is 26.
        assert!(minimise(&with_dob("1999-03-02"), &policy, referral).is_ok());
        assert_eq!(errors_of(minimise(&with_dob("1999-03-01"), &policy, referral)), vec![Field::DateOfBirth]);
        assert_eq!(errors_of(minimise(&with_dob("2023-02-29"), &policy, referral)), vec![Field::DateOfBirth]);
    }
}
