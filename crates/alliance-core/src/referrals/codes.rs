//! The coded lists of a referral. Each is an enum with a stable code (stored, exported and
//! accepted by the API), a plain-English label (shown on pages) and `ALL` in the order forms
//! show them. Codes never change once data exists; labels may be reworded.

use crate::access::OrgType;
use crate::codes::code_list;
pub use crate::codes::CodeError;

code_list! {
    /// A reason for referral or a need the person has. The list follows the risk factors the
    /// Staffordshire and Stoke-on-Trent strategy and the Serious Violence Duty guidance name
    /// (exploitation, exclusion, weapons, victims, family links, substance misuse, mental
    /// health, missing episodes, gangs, domestic abuse).
    Need ("need") {
        CriminalExploitation = "criminal-exploitation", "Risk of criminal exploitation (including county lines)";
        SexualExploitation = "sexual-exploitation", "Risk of sexual exploitation";
        SchoolExclusion = "school-exclusion", "Excluded from school or at risk of exclusion";
        CarryingWeapon = "carrying-weapon", "Carrying a knife or other weapon";
        VictimOfViolence = "victim-of-violence", "Victim of violence";
        WitnessToViolence = "witness-to-violence", "Witness to violence";
        FamilyMemberInvolved = "family-member-involved", "Family member involved in violence";
        SubstanceMisuse = "substance-misuse", "Drug or alcohol misuse";
        MentalHealth = "mental-health", "Mental health or emotional wellbeing";
        MissingEpisodes = "missing-episodes", "Missing from home, care or school";
        GangAssociation = "gang-association", "Association with a gang or organised criminal group";
        DomesticAbuse = "domestic-abuse", "Domestic abuse in the home";
        NotInEducationOrWork = "not-in-education-or-work", "Not in education, employment or training";
        Other = "other", "Other";
    }
}

/// What kind of personal data a referral reveals, for the data protection impact assessment.
/// Ordered from least to most restricted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DataCategory {
    /// Ordinary personal data (a UK GDPR Article 6 basis only).
    Personal,
    /// Special category data (Article 9: here health, or sex life), which needs an Article 9
    /// condition as well.
    SpecialCategory,
    /// Data about alleged offending by the person (Article 10, Data Protection Act 2018
    /// section 10).
    CriminalOffence,
}

impl Need {
    /// The category of data that recording this need creates. Mental health and substance
    /// misuse are health data; sexual exploitation is treated as data about sex life, to be
    /// safe; carrying a weapon and gang association are alleged offending. Being a victim or
    /// witness is not offence data about the person.
    pub fn data_category(self) -> DataCategory {
        match self {
            Need::MentalHealth | Need::SubstanceMisuse | Need::SexualExploitation => DataCategory::SpecialCategory,
            Need::CarryingWeapon | Need::GangAssociation => DataCategory::CriminalOffence,
            _ => DataCategory::Personal,
        }
    }
}

code_list! {
    /// Where the person was identified: the setting of the referrer.
    SourceSetting ("source setting") {
        School = "school", "School or college";
        EmergencyDepartment = "emergency-department", "Emergency department (navigator)";
        PoliceCustody = "police-custody", "Police custody";
        YouthJustice = "youth-justice", "Youth justice service";
        Probation = "probation", "Probation";
        ChildrensSocialCare = "childrens-social-care", "Children's social care";
        Health = "health", "GP or other health service";
        VoluntarySector = "voluntary-sector", "Voluntary or community organisation";
        SelfReferral = "self", "Self-referral";
        ParentOrCarer = "parent-or-carer", "Parent or carer";
        Other = "other", "Other";
    }
}

impl SourceSetting {
    /// The category of data that the setting itself reveals: an emergency department or health
    /// referral says the person was a patient; custody, youth justice and probation say they
    /// were suspected or convicted of an offence.
    pub fn data_category(self) -> DataCategory {
        match self {
            SourceSetting::EmergencyDepartment | SourceSetting::Health => DataCategory::SpecialCategory,
            SourceSetting::PoliceCustody | SourceSetting::YouthJustice | SourceSetting::Probation => {
                DataCategory::CriminalOffence
            }
            _ => DataCategory::Personal,
        }
    }
}

code_list! {
    /// Who agreed to the referral.
    ConsentGivenBy ("consent giver") {
        Person = "person", "The person referred";
        ParentOrCarer = "parent-or-carer", "A parent or carer";
        NotSought = "not-sought", "Consent not sought";
    }
}

code_list! {
    /// How consent was recorded.
    ConsentMethod ("consent method") {
        Verbal = "verbal", "Verbally (in person or by phone)";
        Written = "written", "In writing (signed form)";
        Electronic = "electronic", "Electronically (e-mail, text or online form)";
    }
}

code_list! {
    /// The lawful basis for sharing the referral (UK GDPR Article 6(1)). Anything other than
    /// consent needs a recorded reason.
    LawfulBasis ("lawful basis") {
        Consent = "consent", "Consent (Article 6(1)(a))";
        LegalObligation = "legal-obligation", "Statutory duty (legal obligation, Article 6(1)(c))";
        PublicTask = "public-task", "Public task (Article 6(1)(e))";
        LegitimateInterests = "legitimate-interests", "Legitimate interests (Article 6(1)(f)), voluntary sector only";
    }
}

impl LawfulBasis {
    /// Whether an organisation of this type may rely on the basis. Article 6(1) closes
    /// legitimate interests to public authorities performing their tasks: of the partners,
    /// only the voluntary sector may use it (for a charity referring without consent).
    pub fn open_to(self, org_type: OrgType) -> bool {
        self != LawfulBasis::LegitimateInterests || org_type == OrgType::VoluntarySector
    }
}

code_list! {
    /// How the receiving service should first make contact.
    ContactRoute ("contact route") {
        Phone = "phone", "Phone the person";
        Email = "email", "E-mail the person";
        Letter = "letter", "Write to the person";
        ViaReferrer = "via-referrer", "Through the referrer";
        ViaParent = "via-parent", "Through a parent or carer";
    }
}

code_list! {
    /// How much of the person's name a service needs.
    NameNeed ("name requirement") {
        NotNeeded = "not-needed", "Not needed";
        Initials = "initials", "Initials only";
        FullName = "full-name", "Full name";
    }
}

code_list! {
    /// How much of the person's birth date a service needs.
    BirthNeed ("age requirement") {
        NotNeeded = "not-needed", "Not needed";
        Age = "age", "Age only";
        DateOfBirth = "date-of-birth", "Date of birth";
    }
}

code_list! {
    /// Why a receiving service declined a referral.
    DeclineReason ("decline reason") {
        NotEligible = "not-eligible", "Not eligible for the service";
        NoCapacity = "no-capacity", "No capacity to take the referral";
        DeclinedByPerson = "declined-by-person", "The person declined";
        Duplicate = "duplicate", "Duplicate of an existing referral";
        ReferredElsewhere = "referred-elsewhere", "Referred to another service";
        Other = "other", "Other";
    }
}

code_list! {
    /// How a referral ended once accepted.
    ClosureOutcome ("closure outcome") {
        GoalsMet = "goals-met", "Completed: goals met";
        PartiallyMet = "partially-met", "Completed: goals partially met";
        Disengaged = "disengaged", "Disengaged";
        MovedAway = "moved-away", "Moved out of the area";
        ReferredOn = "referred-on", "Referred on to another service";
        DeclinedSupport = "declined-support", "Declined support";
        EscalatedToStatutory = "escalated-to-statutory", "Risk escalated to statutory services";
        Other = "other", "Other";
    }
}

impl ClosureOutcome {
    /// Whether the outcome says work was done with the person, so the referral must have been
    /// engaged before it closes with it.
    pub fn needs_engagement(self) -> bool {
        matches!(self, ClosureOutcome::GoalsMet | ClosureOutcome::PartiallyMet)
    }
}

code_list! {
    /// Sex, as the person or referrer states it. "Other or prefer not to say" is one value on
    /// purpose: small categories are identifying.
    Sex ("sex") {
        Female = "female", "Female";
        Male = "male", "Male";
        OtherOrNotSaid = "other-or-not-said", "Other or prefer not to say";
    }
}

code_list! {
    /// Age bands: the same bands and codes as the emergency department data
    /// (`alliance_ingest::ed::codes::AGE_BANDS`), so referrals and assaults can be set side by
    /// side.
    AgeBand ("age band") {
        Under10 = "0-9", "0 to 9";
        From10To15 = "10-15", "10 to 15";
        From16To17 = "16-17", "16 to 17";
        From18To24 = "18-24", "18 to 24";
        From25To34 = "25-34", "25 to 34";
        From35To44 = "35-44", "35 to 44";
        From45To54 = "45-54", "45 to 54";
        From55To64 = "55-64", "55 to 64";
        Over64 = "65+", "65 and over";
    }
}

impl AgeBand {
    /// The band an age in completed years falls in (both edges of a band included).
    pub fn of_age(age: u8) -> AgeBand {
        match age {
            0..=9 => AgeBand::Under10,
            10..=15 => AgeBand::From10To15,
            16..=17 => AgeBand::From16To17,
            18..=24 => AgeBand::From18To24,
            25..=34 => AgeBand::From25To34,
            35..=44 => AgeBand::From35To44,
            45..=54 => AgeBand::From45To54,
            55..=64 => AgeBand::From55To64,
            _ => AgeBand::Over64,
        }
    }
}

code_list! {
    /// Bands of waiting time in days, for aggregate tables. Edges are whole days, both ends
    /// included: 7 days is "0-7", 8 days is "8-14".
    WaitBand ("waiting-time band") {
        UpToAWeek = "0-7", "Up to 7 days";
        UpToTwoWeeks = "8-14", "8 to 14 days";
        UpToFourWeeks = "15-28", "15 to 28 days";
        UpToEightWeeks = "29-56", "29 to 56 days";
        OverEightWeeks = "57+", "57 days or more";
    }
}

impl WaitBand {
    /// The band of a wait in whole days (negative waits cannot occur: transitions refuse them).
    pub fn of_days(days: i64) -> WaitBand {
        match days {
            ..=7 => WaitBand::UpToAWeek,
            8..=14 => WaitBand::UpToTwoWeeks,
            15..=28 => WaitBand::UpToFourWeeks,
            29..=56 => WaitBand::UpToEightWeeks,
            _ => WaitBand::OverEightWeeks,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::fmt;

    use super::*;

    /// Every list: codes unique, codes lower-case kebab (or the age-band digits), each code
    /// and label parses back, serde writes the code.
    fn check_list<T>(all: &[T])
    where
        T: Copy + PartialEq + fmt::Debug + serde::Serialize + std::str::FromStr<Err = CodeError>,
        &'static str: From<T>,
    {
        let codes: Vec<&str> = all.iter().map(|v| <&str>::from(*v)).collect();
        let mut sorted = codes.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), codes.len(), "duplicate code in {codes:?}");
        for (v, code) in all.iter().zip(&codes) {
            assert!(code.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '+'));
            assert_eq!(code.parse::<T>().as_ref().ok(), Some(v));
            assert_eq!(serde_json::to_string(v).ok(), Some(format!("\"{code}\"")));
        }
    }

    #[test]
    fn lists_are_consistent() {
        check_list(Need::ALL);
        check_list(SourceSetting::ALL);
        check_list(ConsentGivenBy::ALL);
        check_list(ConsentMethod::ALL);
        check_list(LawfulBasis::ALL);
        check_list(ContactRoute::ALL);
        check_list(DeclineReason::ALL);
        check_list(ClosureOutcome::ALL);
        check_list(Sex::ALL);
        check_list(AgeBand::ALL);
        check_list(WaitBand::ALL);
        check_list(NameNeed::ALL);
        check_list(BirthNeed::ALL);
    }

    #[test]
    fn parse_accepts_labels_and_loose_codes_and_names_the_list_when_wrong() {
        assert_eq!(Need::parse("Carrying a knife or other weapon"), Ok(Need::CarryingWeapon));
        assert_eq!(Need::parse(" School_Exclusion "), Ok(Need::SchoolExclusion));
        assert_eq!(SourceSetting::parse("parent or carer"), Ok(SourceSetting::ParentOrCarer));
        let err = SourceSetting::parse("hospital").unwrap_err();
        assert_eq!(err.list, "source setting");
        let message = err.to_string();
        assert!(message.starts_with("unknown source setting \"hospital\": expected one of school, "), "{message}");
        assert!(message.contains("emergency-department"));
        assert!(serde_json::from_str::<Sex>("\"unknown\"").is_err());
        assert_eq!(serde_json::from_str::<Sex>("\"female\"").ok(), Some(Sex::Female));
    }

    #[test]
    fn age_bands_match_the_emergency_department_codes_and_edges() {
        // The ED list (alliance-ingest, ed/codes.rs), written out by hand.
        let ed = ["0-9", "10-15", "16-17", "18-24", "25-34", "35-44", "45-54", "55-64", "65+"];
        assert_eq!(AgeBand::ALL.iter().map(|b| b.code()).collect::<Vec<_>>(), ed);
        let edges = [
            (0, "0-9"),
            (9, "0-9"),
            (10, "10-15"),
            (15, "10-15"),
            (16, "16-17"),
            (17, "16-17"),
            (18, "18-24"),
            (24, "18-24"),
            (25, "25-34"),
            (64, "55-64"),
            (65, "65+"),
            (120, "65+"),
        ];
        for (age, code) in edges {
            assert_eq!(AgeBand::of_age(age).code(), code, "age {age}");
        }
    }

    #[test]
    fn wait_band_edges() {
        let edges = [(0, "0-7"), (7, "0-7"), (8, "8-14"), (14, "8-14"), (15, "15-28"), (28, "15-28")];
        for (days, code) in edges {
            assert_eq!(WaitBand::of_days(days).code(), code, "{days} days");
        }
        assert_eq!(WaitBand::of_days(29), WaitBand::UpToEightWeeks);
        assert_eq!(WaitBand::of_days(56), WaitBand::UpToEightWeeks);
        assert_eq!(WaitBand::of_days(57), WaitBand::OverEightWeeks);
    }

    #[test]
    fn data_categories() {
        assert_eq!(Need::MentalHealth.data_category(), DataCategory::SpecialCategory);
        assert_eq!(SourceSetting::EmergencyDepartment.data_category(), DataCategory::SpecialCategory);
        assert_eq!(SourceSetting::PoliceCustody.data_category(), DataCategory::CriminalOffence);
        assert_eq!(SourceSetting::School.data_category(), DataCategory::Personal);
        assert_eq!(Need::CarryingWeapon.data_category(), DataCategory::CriminalOffence);
        assert_eq!(Need::VictimOfViolence.data_category(), DataCategory::Personal);
        assert!(ClosureOutcome::GoalsMet.needs_engagement());
        assert!(!ClosureOutcome::DeclinedSupport.needs_engagement());
        assert!(LawfulBasis::LegitimateInterests.open_to(OrgType::VoluntarySector));
        assert!(!LawfulBasis::LegitimateInterests.open_to(OrgType::Council));
        assert!(!LawfulBasis::LegitimateInterests.open_to(OrgType::Education));
        for &org_type in OrgType::ALL {
            assert!(LawfulBasis::PublicTask.open_to(org_type) && LawfulBasis::Consent.open_to(org_type));
        }
    }
}
