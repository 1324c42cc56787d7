//! A referral: made by a user of a partner organisation to a commissioned service, with its
//! needs, the least personal data the service needs, a consent record and its workflow dates.
//! [`new_referral`] reads a submitted form and returns the referral or every error in it.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::access::OrgType;

use super::codes::{DataCategory, Need, SourceSetting};
use super::consent::{Consent, ConsentFields};
use super::fields::{given, parse_date, Field, FieldError, ValidationErrors};
use super::personal::{minimise, Birth, MinimisedPerson, Note, PersonalFields};
use super::service::{check_eligibility, CommissionedService, Ineligible};
use super::workflow::Timeline;

/// The reason for referral and any further needs, without repeats.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Needs {
    reason: Need,
    others: Vec<Need>,
}

impl Needs {
    /// The main reason and further needs; repeats (and the reason listed again) are dropped,
    /// keeping the order given.
    pub fn new(reason: Need, others: Vec<Need>) -> Needs {
        let mut kept: Vec<Need> = Vec::with_capacity(others.len());
        for n in others {
            if n != reason && !kept.contains(&n) {
                kept.push(n);
            }
        }
        Needs { reason, others: kept }
    }

    /// The main reason for referral.
    pub fn reason(&self) -> Need {
        self.reason
    }

    pub fn others(&self) -> &[Need] {
        &self.others
    }

    /// The reason first, then the other needs.
    pub fn all(&self) -> impl Iterator<Item = Need> + '_ {
        std::iter::once(self.reason).chain(self.others.iter().copied())
    }

    pub fn contains(&self, need: Need) -> bool {
        self.all().any(|n| n == need)
    }
}

/// The two organisations of a referral: the only ones that see its personal data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Parties {
    /// The organisation of the user who made the referral.
    pub referring_org: i64,
    /// The organisation that runs the receiving service.
    pub receiving_org: i64,
}

/// A referral with its personal data (until erased, see [`super::retention`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Referral {
    /// The receiving service's id.
    pub service: String,
    pub parties: Parties,
    pub source: SourceSetting,
    pub needs: Needs,
    pub person: MinimisedPerson,
    pub consent: Consent,
    pub timeline: Timeline,
}

impl Referral {
    /// The person's age on the date the referral was received, if the service records it.
    pub fn age_at_referral(&self) -> Option<u8> {
        self.person.age_at_referral(self.timeline.received_on())
    }

    /// The categories of personal data the referral holds, from its source and needs, without
    /// repeats, least restricted first (ordinary personal data is always among them).
    pub fn data_categories(&self) -> Vec<DataCategory> {
        let mut categories = vec![DataCategory::Personal, self.source.data_category()];
        categories.extend(self.needs.all().map(Need::data_category));
        categories.sort();
        categories.dedup();
        categories
    }

    /// Every reason the referral is not eligible for `service` with `open_caseload` open
    /// referrals.
    pub fn ineligibility(&self, service: &CommissionedService, open_caseload: usize) -> Vec<Ineligible> {
        check_eligibility(
            &service.eligibility,
            self.age_at_referral(),
            self.person.postcode_district.as_ref(),
            &self.needs,
            open_caseload,
        )
    }
}

/// Whether a user of `org` may see `referral`'s personal data: only the referring
/// organisation and the organisation running the receiving service. Everyone else (other
/// partners, the partnership's analysts, the Board) sees aggregate figures only. This is the
/// record-level rule; roles are checked before it (see [`crate::access`]).
pub fn personal_data_visible_to(org: i64, referral: &Referral) -> bool {
    referral.parties.referring_org == org || referral.parties.receiving_org == org
}

/// A referral as submitted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ReferralForm {
    /// `YYYY-MM-DD`; blank for today.
    pub received: Option<String>,
    pub source: Option<String>,
    pub reason: Option<String>,
    #[serde(default)]
    pub other_needs: Vec<String>,
    #[serde(default)]
    pub person: PersonalFields,
    #[serde(default)]
    pub consent: ConsentFields,
}

/// A valid new referral and what the referrer should be told about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewReferral {
    pub referral: Referral,
    pub notes: Vec<Note>,
}

/// Who makes a referral: the organisation of the user and its kind (which decides the lawful
/// bases open to it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Referrer {
    pub org: i64,
    pub org_type: OrgType,
}

/// Reads a referral submitted by a user of the `referrer` organisation to `service` on `today`: the
/// received date (today when blank; not in the future), the source setting, the reason and
/// further needs from the coded list, the personal fields cut to the service's policy
/// ([`minimise`]), and the consent record ([`Consent::from_fields`]). Every error is reported
/// and nothing is made while there is any. Eligibility is not checked here: the receiving
/// service decides, with [`Referral::ineligibility`] to help it.
pub fn new_referral(
    form: &ReferralForm,
    service: &CommissionedService,
    referrer: Referrer,
    today: NaiveDate,
) -> Result<NewReferral, ValidationErrors> {
    let mut errors = Vec::new();
    let received = match given(&form.received) {
        None => Some(today),
        Some(t) => match parse_date(Field::Received, t) {
            Ok(d) if d > today => {
                errors.push(FieldError::new(Field::Received, "the referral date is in the future"));
                None
            }
            Ok(d) => Some(d),
            Err(e) => {
                errors.push(e);
                None
            }
        },
    };
    // With no readable referral date, the other dates are checked against today.
    let referral_date = received.unwrap_or(today);
    let source = match given(&form.source) {
        None => {
            errors.push(FieldError::new(Field::Source, "choose the setting the person was identified in"));
            None
        }
        Some(t) => SourceSetting::parse(t).map_err(|e| errors.push(FieldError::new(Field::Source, e.to_string()))).ok(),
    };
    let reason = match given(&form.reason) {
        None => {
            errors.push(FieldError::new(Field::Reason, "choose the main reason for the referral"));
            None
        }
        Some(t) => Need::parse(t).map_err(|e| errors.push(FieldError::new(Field::Reason, e.to_string()))).ok(),
    };
    let mut others = Vec::new();
    for t in form.other_needs.iter().map(|t| t.trim()).filter(|t| !t.is_empty()) {
        match Need::parse(t) {
            Ok(n) => others.push(n),
            Err(e) => errors.push(FieldError::new(Field::OtherNeeds, e.to_string())),
        }
    }
    let person = minimise(&form.person, &service.policy, referral_date).map_err(|e| errors.extend(e)).ok();
    let consent =
        Consent::from_fields(&form.consent, referral_date, today, referrer.org_type).map_err(|e| errors.extend(e)).ok();
    // Consent recorded before the person was born is a mistyped date, not a record.
    if let (Some(m), Some(c)) = (&person, &consent) {
        if let Some(Birth::DateOfBirth(born)) = m.person.birth {
            if c.date < born {
                errors.push(FieldError::new(
                    Field::ConsentDate,
                    format!("the consent date ({}) is before the person's date of birth ({born})", c.date),
                ));
            }
        }
    }
    match (received, source, reason, person, consent) {
        (Some(received), Some(source), Some(reason), Some(minimised), Some(consent)) if errors.is_empty() => {
            Ok(NewReferral {
                referral: Referral {
                    service: service.id.clone(),
                    parties: Parties { referring_org: referrer.org, receiving_org: service.run_by },
                    source,
                    needs: Needs::new(reason, others),
                    person: minimised.person,
                    consent,
                    timeline: Timeline::received(received),
                },
                notes: minimised.notes,
            })
        }
        _ => Err(ValidationErrors(errors)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::referrals::codes::{AgeBand, ConsentGivenBy, LawfulBasis, Sex};
    use crate::referrals::personal::{AgeLimits, Birth, PersonName, PersonalDataPolicy};
    use crate::referrals::service::Eligibility;
    use crate::referrals::test_support::date;
    use crate::referrals::workflow::Status;

    const SCHOOL: Referrer = Referrer { org: 3, org_type: OrgType::Education };
    const CHARITY: i64 = 7;
    const POLICE: i64 = 1;

    fn text(s: &str) -> Option<String> {
        Some(s.to_string())
    }

    fn mentoring() -> CommissionedService {
        CommissionedService {
            id: "svc-mentoring".into(),
            name: "Peer mentoring".into(),
            run_by: CHARITY,
            policy: PersonalDataPolicy::default(),
            eligibility: Eligibility { ages: AgeLimits::new(10, 17), ..Eligibility::default() },
        }
    }

    fn form() -> ReferralForm {
        ReferralForm {
            received: text("2024-02-29"),
            source: text("school"),
            reason: text("school-exclusion"),
            other_needs: vec!["carrying-weapon".into(), "school-exclusion".into(), "carrying-weapon".into()],
            person: PersonalFields {
                initials: text("AB"),
                age: text("14"),
                sex: text("female"),
                postcode_district: text("ST4 4QG"),
                contact_route: text("via-referrer"),
                ..PersonalFields::default()
            },
            consent: ConsentFields {
                given_by: text("parent-or-carer"),
                date: text("2024-02-28"),
                method: text("written"),
                lawful_basis: text("consent"),
                reason: None,
            },
        }
    }

    #[test]
    fn a_valid_form_makes_a_received_referral() {
        let made = new_referral(&form(), &mentoring(), SCHOOL, date(2024, 3, 1)).expect("valid");
        let r = &made.referral;
        assert_eq!(r.service, "svc-mentoring");
        assert_eq!(r.parties, Parties { referring_org: SCHOOL.org, receiving_org: CHARITY });
        assert_eq!(r.source, SourceSetting::School);
        assert_eq!(r.needs.reason(), Need::SchoolExclusion);
        assert_eq!(r.needs.others(), &[Need::CarryingWeapon], "repeats and the reason are dropped");
        assert_eq!(r.person.name, Some(PersonName::Initials("AB".into())));
        assert_eq!(r.person.birth, Some(Birth::Age(14)));
        assert_eq!(r.person.sex, Some(Sex::Female));
        assert_eq!(r.consent.given_by, ConsentGivenBy::ParentOrCarer);
        assert_eq!(r.consent.lawful_basis, LawfulBasis::Consent);
        assert_eq!(r.timeline.status(), Status::Received);
        assert_eq!(r.timeline.received_on(), date(2024, 2, 29));
        assert_eq!(made.notes.len(), 1, "the full postcode was cut");
        assert_eq!(r.age_at_referral().map(AgeBand::of_age), Some(AgeBand::From10To15));
        assert!(r.ineligibility(&mentoring(), 0).is_empty());
        // School source, exclusion (personal) and weapon (alleged offending).
        assert_eq!(r.data_categories(), vec![DataCategory::Personal, DataCategory::CriminalOffence]);
    }

    #[test]
    fn a_blank_received_date_is_today_and_a_future_one_is_refused() {
        let blank = ReferralForm {
            received: None,
            consent: ConsentFields { date: text("2024-03-01"), ..form().consent },
            ..form()
        };
        let made = new_referral(&blank, &mentoring(), SCHOOL, date(2024, 3, 1)).expect("valid");
        assert_eq!(made.referral.timeline.received_on(), date(2024, 3, 1));
        let future = ReferralForm { received: text("2024-03-02"), ..form() };
        let errors = new_referral(&future, &mentoring(), SCHOOL, date(2024, 3, 1)).unwrap_err();
        assert_eq!(errors.0.len(), 1);
        assert_eq!(errors.0[0].field, Field::Received);
    }

    #[test]
    fn no_referral_without_consent_and_every_error_is_reported() {
        let bad = ReferralForm {
            received: text("2024-02-30"),
            source: text("hospital"),
            reason: None,
            other_needs: vec!["knives".into()],
            person: PersonalFields { name: text("Anna Brown"), ..form().person },
            consent: ConsentFields::default(),
        };
        let errors = new_referral(&bad, &mentoring(), SCHOOL, date(2024, 3, 1)).unwrap_err();
        let fields: Vec<Field> = errors.0.iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            vec![
                Field::Received,
                Field::Source,
                Field::Reason,
                Field::OtherNeeds,
                Field::Name,
                Field::ConsentGivenBy,
                Field::ConsentDate,
                Field::LawfulBasis,
            ]
        );
        assert!(errors.to_string().contains("no referral is made without a consent record"));
    }

    #[test]
    fn consent_after_the_referral_date_is_refused() {
        let late = ReferralForm { consent: ConsentFields { date: text("2024-03-01"), ..form().consent }, ..form() };
        let errors = new_referral(&late, &mentoring(), SCHOOL, date(2024, 3, 1)).unwrap_err();
        assert!(errors.has(Field::ConsentDate));
        assert_eq!(errors.0.len(), 1);
    }

    /// Each field's `json_path` is the member of the API's body that fills it: a client told
    /// `person.date_of_birth` finds the member it sent.
    #[test]
    fn every_field_names_its_member_of_the_json_body() {
        use Field::*;
        #[rustfmt::skip]
        let fields = [Received, Source, Reason, OtherNeeds, Name, Initials, DateOfBirth, Age, Sex, PostcodeDistrict,
            ContactRoute, ContactDetail, ConsentGivenBy, ConsentDate, ConsentMethod, LawfulBasis, LawfulBasisReason];
        for field in fields {
            let mut body = serde_json::json!({"person": {}, "consent": {}});
            let value = if field == OtherNeeds { serde_json::json!(["x"]) } else { serde_json::json!("x") };
            match field.json_path().split_once('.') {
                Some((outer, inner)) => body[outer][inner] = value,
                None => body[field.json_path()] = value,
            }
            // serde fills a member by its name, so the value shows up only if the path names one.
            let f: ReferralForm = serde_json::from_value(body).expect("a form");
            assert!(format!("{f:?}").contains("\"x\""), "{field:?} at {} fills no member", field.json_path());
        }
    }

    #[test]
    fn consent_before_the_person_was_born_is_refused() {
        use crate::referrals::codes::BirthNeed;
        let mut service = mentoring();
        service.policy.birth = BirthNeed::DateOfBirth;
        let person = PersonalFields { age: None, date_of_birth: text("2010-01-01"), ..form().person };
        let born = ReferralForm { person: person.clone(), ..form() };
        new_referral(&born, &service, SCHOOL, date(2024, 3, 1)).expect("consent in 2024 of someone born in 2010");
        let consent = ConsentFields { date: text("2009-12-31"), ..form().consent };
        let before = ReferralForm { person, consent, ..form() };
        let errors = new_referral(&before, &service, SCHOOL, date(2024, 3, 1)).unwrap_err();
        assert!(errors.has(Field::ConsentDate), "{errors}");
        assert!(errors.to_string().contains("before the person's date of birth (2010-01-01)"), "{errors}");
    }

    #[test]
    fn personal_data_is_for_the_two_parties_only() {
        let r = new_referral(&form(), &mentoring(), SCHOOL, date(2024, 3, 1)).expect("valid").referral;
        assert!(personal_data_visible_to(SCHOOL.org, &r));
        assert!(personal_data_visible_to(CHARITY, &r));
        assert!(!personal_data_visible_to(POLICE, &r));
        // A self-referral made by the service's own organisation: one party, still visible.
        let charity = Referrer { org: CHARITY, org_type: OrgType::VoluntarySector };
        let own = new_referral(&form(), &mentoring(), charity, date(2024, 3, 1)).expect("valid").referral;
        assert!(personal_data_visible_to(CHARITY, &own));
        assert!(!personal_data_visible_to(SCHOOL.org, &own));
    }

    #[test]
    fn needs_keep_order_without_repeats() {
        let n = Needs::new(
            Need::MentalHealth,
            vec![Need::MentalHealth, Need::DomesticAbuse, Need::SubstanceMisuse, Need::DomesticAbuse],
        );
        assert_eq!(n.all().collect::<Vec<_>>(), vec![Need::MentalHealth, Need::DomesticAbuse, Need::SubstanceMisuse]);
        assert!(n.contains(Need::SubstanceMisuse));
        assert!(!n.contains(Need::Other));
    }
}
