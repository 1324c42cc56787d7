//! Who may see what: roles, organisation types, access levels and the one decision of how
//! much of a dataset a user may see.
//!
//! The rule ([`access_level`]) is pure so it can be tested on its own; the web layer loads
//! the user's organisation, the dataset and the grants in force from storage and asks this
//! function, and nothing else decides.

use crate::codes::code_list;

code_list! {
    /// A user's role in Alliance.
    Role ("role") {
        /// Manages organisations, users, agreements, tokens; reads the audit log.
        Administrator = "administrator", "Administrator";
        /// A partnership analyst: imports data and runs analyses.
        Analyst = "analyst", "Analyst";
        /// A person at a partner organisation: sees what the agreements grant their organisation.
        PartnerUser = "partner-user", "Partner user";
        /// A member of the Executive Board: dashboards and reports, never record-level data.
        BoardMember = "board-member", "Board member";
    }
}

impl Role {
    /// The role with the least rights, which a new user is given unless another is chosen:
    /// a Board member reads dashboards and reports and never record-level data (the web's
    /// route table admits it to no route another role is refused).
    pub const LEAST: Role = Role::BoardMember;
}

code_list! {
    /// The kind of a partner organisation (the specified authorities and partners of the
    /// Serious Violence Duty, plus the Police and Crime Commissioner's office).
    OrgType ("organisation type") {
        Police = "police", "Police";
        Council = "council", "Council";
        Health = "health", "Health";
        Education = "education", "Education";
        Probation = "probation", "Probation";
        YouthJustice = "youth-justice", "Youth justice";
        Fire = "fire", "Fire and rescue";
        VoluntarySector = "voluntary-sector", "Voluntary sector";
        PccOffice = "pcc-office", "Police and Crime Commissioner's office";
    }
}

impl OrgType {
    /// Data from these organisations is about few, identifiable people: shown at aggregate
    /// level, its counts are suppressed below the threshold (see `analytics::suppression`).
    pub fn needs_suppression(self) -> bool {
        matches!(self, OrgType::Health | OrgType::Education | OrgType::YouthJustice | OrgType::Probation)
    }
}

code_list! {
    /// How much of a dataset someone may see. Ordered: `None < Aggregate < Record`.
    AccessLevel ("access level") {
        /// Nothing.
        None = "none", "None";
        /// Counts only, with small-number suppression.
        Aggregate = "aggregate", "Aggregate";
        /// Individual records.
        Record = "record", "Record";
    }
}

/// What the decision needs to know about a dataset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetPolicy {
    /// e.g. `police-recorded-crime`, `ed-assaults`, `indicators:youth-justice`.
    pub slug: String,
    /// The organisation that supplies it (the data controller), once one is named.
    pub owner_org: Option<i64>,
    /// Published open data (data.police.uk): every signed-in user sees records.
    pub open: bool,
}

/// A grant, from an information sharing agreement in force, of a level of access to a
/// dataset for an organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grant<'a> {
    pub org: i64,
    pub dataset: &'a str,
    pub level: AccessLevel,
}

/// How much of `dataset` a user with `role` at organisation `org` may see.
///
/// The rule, in order:
/// 1. Open data (published under the Open Government Licence): record level for everyone.
/// 2. A user of the owning organisation sees its records (the owner is the data controller).
/// 3. Otherwise the highest level any grant in force gives the user's organisation for the
///    dataset; no grant means `None`. Administrators get no more than their organisation's
///    grants: managing the system does not open the data.
/// 4. Board members are capped at `Aggregate` whatever their organisation holds: the Board
///    sees figures, never people.
pub fn access_level(role: Role, org: i64, dataset: &DatasetPolicy, grants: &[Grant<'_>]) -> AccessLevel {
    let level = if dataset.open || dataset.owner_org == Some(org) {
        AccessLevel::Record
    } else {
        grants
            .iter()
            .filter(|g| g.org == org && g.dataset == dataset.slug)
            .map(|g| g.level)
            .max()
            .unwrap_or(AccessLevel::None)
    };
    match role {
        Role::BoardMember => level.min(AccessLevel::Aggregate),
        Role::Administrator | Role::Analyst | Role::PartnerUser => level,
    }
}

/// The dataset slugs of partner indicator series, by domain.
pub const INDICATOR_DATASETS: [&str; 5] = [
    "indicators:education",
    "indicators:youth-justice",
    "indicators:probation",
    "indicators:health",
    "indicators:other",
];

/// The indicator datasets whose values are restricted data (about few, identifiable people:
/// the domains of [`OrgType::needs_suppression`]): entered values of an indicator in one of
/// them are shown to a reader at the reader's level of that dataset. `indicators:other` is
/// the partnership's own figures.
pub const RESTRICTED_INDICATOR_DATASETS: [&str; 4] =
    ["indicators:education", "indicators:youth-justice", "indicators:probation", "indicators:health"];

/// Whether `dataset` is one of [`INDICATOR_DATASETS`] (the slugs an indicator may belong to).
pub fn is_indicator_dataset(dataset: &str) -> bool {
    INDICATOR_DATASETS.contains(&dataset)
}

/// The name shown for an indicator dataset ("health", "youth justice"), or the slug itself.
pub fn indicator_dataset_label(dataset: &str) -> &str {
    match dataset {
        "indicators:education" => "education",
        "indicators:youth-justice" => "youth justice",
        "indicators:probation" => "probation",
        "indicators:health" => "health",
        "indicators:other" => "other partner",
        other => other,
    }
}

/// The dataset an indicator series belongs to, by the words of its name: the default when
/// no dataset was chosen for it (the dataset decides who may see it, so a name must land in
/// exactly one). Names that fit no partner domain go to `indicators:other`, which is granted
/// like any other dataset (nobody sees it by default).
///
/// Words are matched whole (letters, digits and `&`), by rules in this order, the first that
/// matches deciding: youth justice; probation; unmistakable health words (`A&E`, `ED`,
/// emergency department, ambulance, hospital, health, NHS), so that "A&E attendances" is
/// health rather than school attendance; education (school, pupil, suspension, exclusion,
/// attendance, education); admissions (hospital admissions without the word hospital) as
/// health, after education so that "school admissions" stays education; otherwise other.
pub fn indicator_dataset(indicator: &str) -> &'static str {
    let lower = indicator.to_lowercase();
    let words: Vec<&str> =
        lower.split(|c: char| !(c.is_alphanumeric() || c == '&')).filter(|w| !w.is_empty()).collect();
    // A phrase of one or more words, each matched as a word or (ending in `*`) a word start.
    let has_phrase = |phrase: &str| {
        let parts: Vec<&str> = phrase.split(' ').collect();
        words.windows(parts.len()).any(|run| {
            run.iter().zip(&parts).all(|(w, p)| match p.strip_suffix('*') {
                Some(stem) => w.starts_with(stem),
                None => w == p,
            })
        })
    };
    let has = |phrases: &[&str]| phrases.iter().any(|p| has_phrase(p));
    if has(&["youth justice", "youth offending", "first time entrant*"]) {
        "indicators:youth-justice"
    } else if has(&["probation", "caseload*", "reoffend*", "re offend*"]) {
        "indicators:probation"
    } else if has(&["a&e", "ed", "emergency department*", "ambulance*", "hospital*", "health*", "nhs"]) {
        "indicators:health"
    } else if has(&["school*", "suspension*", "exclusion*", "pupil*", "attendance*", "education*"]) {
        "indicators:education"
    } else if has(&["admission*"]) {
        "indicators:health"
    } else {
        "indicators:other"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEALTH: i64 = 1;
    const COUNCIL: i64 = 2;
    const CHARITY: i64 = 3;

    fn ed() -> DatasetPolicy {
        DatasetPolicy { slug: "ed-assaults".into(), owner_org: Some(HEALTH), open: false }
    }

    #[test]
    fn owner_sees_records_others_only_what_is_granted() {
        let grants = [
            Grant { org: COUNCIL, dataset: "ed-assaults", level: AccessLevel::Aggregate },
            Grant { org: CHARITY, dataset: "other", level: AccessLevel::Record },
        ];
        assert_eq!(access_level(Role::Analyst, HEALTH, &ed(), &grants), AccessLevel::Record);
        assert_eq!(access_level(Role::PartnerUser, COUNCIL, &ed(), &grants), AccessLevel::Aggregate);
        assert_eq!(access_level(Role::Analyst, COUNCIL, &ed(), &grants), AccessLevel::Aggregate);
        // A grant for another dataset opens nothing here.
        assert_eq!(access_level(Role::PartnerUser, CHARITY, &ed(), &grants), AccessLevel::None);
        // Administrators get their organisation's grants, no more.
        assert_eq!(access_level(Role::Administrator, CHARITY, &ed(), &grants), AccessLevel::None);
    }

    #[test]
    fn highest_grant_wins_and_board_is_capped() {
        let grants = [
            Grant { org: COUNCIL, dataset: "ed-assaults", level: AccessLevel::Aggregate },
            Grant { org: COUNCIL, dataset: "ed-assaults", level: AccessLevel::Record },
        ];
        assert_eq!(access_level(Role::Analyst, COUNCIL, &ed(), &grants), AccessLevel::Record);
        assert_eq!(access_level(Role::BoardMember, COUNCIL, &ed(), &grants), AccessLevel::Aggregate);
        assert_eq!(access_level(Role::BoardMember, HEALTH, &ed(), &[]), AccessLevel::Aggregate);
        assert_eq!(access_level(Role::BoardMember, CHARITY, &ed(), &grants), AccessLevel::None);
    }

    #[test]
    fn open_data_is_record_level_for_all() {
        let police = DatasetPolicy { slug: "police-recorded-crime".into(), owner_org: Some(9), open: true };
        for &role in Role::ALL {
            let expected = if role == Role::BoardMember { AccessLevel::Aggregate } else { AccessLevel::Record };
            assert_eq!(access_level(role, CHARITY, &police, &[]), expected);
        }
    }

    #[test]
    fn indicators_fall_into_their_domain_dataset() {
        assert_eq!(indicator_dataset("School suspensions"), "indicators:education");
        assert_eq!(indicator_dataset("Youth justice first-time entrants"), "indicators:youth-justice");
        assert_eq!(indicator_dataset("Probation caseload"), "indicators:probation");
        assert_eq!(indicator_dataset("Ambulance call-outs for assault"), "indicators:health");
        assert_eq!(indicator_dataset("Hospital admissions for assault with a sharp object"), "indicators:health");
        assert_eq!(indicator_dataset("Street lights repaired"), "indicators:other");
        assert!(INDICATOR_DATASETS.contains(&indicator_dataset("anything")));
    }

    /// One name per dataset and the names that the old rule order misfiled (issue 14).
    #[test]
    fn each_dataset_by_name_and_health_before_school_attendance() {
        let cases = [
            ("A&E attendances for assault", "indicators:health"),
            ("ED attendances", "indicators:health"),
            ("Emergency department attendances (under 25)", "indicators:health"),
            ("Hospital admissions for assault by a sharp object", "indicators:health"),
            ("Admissions for assault", "indicators:health"),
            ("NHS-recorded assaults", "indicators:health"),
            ("School attendance (persistent absence)", "indicators:education"),
            ("School admissions", "indicators:education"),
            ("Permanent exclusions", "indicators:education"),
            ("Pupils suspended", "indicators:education"),
            ("Youth offending team caseload", "indicators:youth-justice"),
            ("First-time entrants to the youth justice system", "indicators:youth-justice"),
            ("Proven reoffending rate", "indicators:probation"),
            ("Probation caseload", "indicators:probation"),
            ("Street lights repaired", "indicators:other"),
            // Words are whole: "reduced" holds "ed", "schedule" no school, "healthy" is health.
            ("Reduced street drinking", "indicators:other"),
            ("Licensing schedule reviews", "indicators:other"),
            ("Healthy relationships sessions", "indicators:health"),
        ];
        for (name, dataset) in cases {
            assert_eq!(indicator_dataset(name), dataset, "{name}");
        }
        for d in RESTRICTED_INDICATOR_DATASETS {
            assert!(is_indicator_dataset(d));
            assert_ne!(indicator_dataset_label(d), d);
        }
        assert!(!RESTRICTED_INDICATOR_DATASETS.contains(&"indicators:other"));
        assert!(!is_indicator_dataset("ed-assaults"));
    }

    #[test]
    fn names_round_trip() {
        for &role in Role::ALL {
            assert_eq!(role.code().parse::<Role>(), Ok(role));
        }
        assert_eq!("Partner user".parse::<Role>(), Ok(Role::PartnerUser));
        assert_eq!(" partner_user ".parse::<Role>(), Ok(Role::PartnerUser));
        for &t in OrgType::ALL {
            assert_eq!(t.code().parse::<OrgType>(), Ok(t));
        }
        assert_eq!(
            "hospital".parse::<OrgType>().map_err(|e| e.to_string()),
            Err("unknown organisation type \"hospital\": expected one of police, council, health, education, \
                 probation, youth-justice, fire, voluntary-sector, pcc-office"
                .to_string())
        );
        assert_eq!("Record".parse::<AccessLevel>(), Ok(AccessLevel::Record));
        assert!(AccessLevel::None < AccessLevel::Aggregate && AccessLevel::Aggregate < AccessLevel::Record);
        let role = "chair".parse::<Role>().unwrap_err().to_string();
        assert_eq!(role, "unknown role \"chair\": expected one of administrator, analyst, partner-user, board-member");
    }
}
