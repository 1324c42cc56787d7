//! The partnership a deployment serves: its name, area, police forces and contacts.
//!
//! Nothing in Alliance is Staffordshire's or any other partnership's by default: every page,
//! report and export names the partnership from this profile, set on first run (the setup
//! page or `alliance partnership init`). Two example profiles ship in `data/partnerships/`.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::domain::{DistrictCode, ForceSlug};

/// Longest name accepted (characters): a partnership's full name fits in a page header.
pub const MAX_NAME: usize = 120;
/// Longest short name (characters), used where space is tight (the browser tab, the pack's footer).
pub const MAX_SHORT_NAME: usize = 40;
/// Most districts a partnership area may list (a whole region such as London has 33).
pub const MAX_DISTRICTS: usize = 60;
/// Most police forces a partnership may list.
pub const MAX_FORCES: usize = 5;
/// Longest contact e-mail address or phone number (characters).
pub const MAX_CONTACT: usize = 254;
/// The suppression threshold when the profile names none: counts of 1 to 4 are hidden, the
/// convention of the ONS and NHS England guidance for health and crime counts.
pub const DEFAULT_SUPPRESSION_THRESHOLD: u64 = 5;
/// The smallest suppression threshold accepted (2 hides ones).
pub const MIN_SUPPRESSION_THRESHOLD: u64 = 2;
/// The largest suppression threshold accepted: beyond it almost every local figure would be hidden.
pub const MAX_SUPPRESSION_THRESHOLD: u64 = 100;
/// Most commitments a charter may have (the Staffordshire charter has six).
pub const MAX_CHARTER_COMMITMENTS: usize = 6;
/// Longest title of a charter commitment (characters).
pub const MAX_COMMITMENT_TITLE: usize = 120;
/// Longest description of a charter commitment (characters).
pub const MAX_COMMITMENT_DESCRIPTION: usize = 1000;

/// One commitment of the partnership's safer places charter, which every signatory pledges
/// to meet (the charter pages ask how, for each).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CharterCommitment {
    /// A short title, like "A safer environment".
    pub title: String,
    /// What a signatory commits to, in a sentence or two.
    pub description: String,
}

/// The accent colour of the header's bottom border, from the GOV.UK colour palette so text
/// contrast stays within WCAG 2.2 AA on every page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Colour {
    #[default]
    Blue,
    Purple,
    Green,
    Turquoise,
    Orange,
    Red,
    Pink,
}

impl Colour {
    pub const ALL: [Colour; 7] =
        [Colour::Blue, Colour::Purple, Colour::Green, Colour::Turquoise, Colour::Orange, Colour::Red, Colour::Pink];

    pub fn as_str(self) -> &'static str {
        match self {
            Colour::Blue => "blue",
            Colour::Purple => "purple",
            Colour::Green => "green",
            Colour::Turquoise => "turquoise",
            Colour::Orange => "orange",
            Colour::Red => "red",
            Colour::Pink => "pink",
        }
    }

    /// The GOV.UK Frontend (v5) palette value.
    pub fn hex(self) -> &'static str {
        match self {
            Colour::Blue => "#1d70b8",
            Colour::Purple => "#4c2c92",
            Colour::Green => "#00703c",
            Colour::Turquoise => "#28a197",
            Colour::Orange => "#f47738",
            Colour::Red => "#d4351c",
            Colour::Pink => "#d53880",
        }
    }
}

impl fmt::Display for Colour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Colour {
    type Err = String;

    fn from_str(s: &str) -> Result<Colour, String> {
        Colour::ALL.into_iter().find(|c| c.as_str() == s.trim().to_ascii_lowercase()).ok_or_else(|| {
            let names: Vec<&str> = Colour::ALL.iter().map(|c| c.as_str()).collect();
            format!("\"{}\" is not one of the colours: {}", s.chars().take(40).collect::<String>(), names.join(", "))
        })
    }
}

/// A partnership's profile, as stored and as written in a profile file (JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// The full name, e.g. "Wiltshire and Swindon Violence Reduction Partnership".
    pub name: String,
    /// A short name, e.g. "Wiltshire and Swindon VRP".
    pub short_name: String,
    /// The partnership's area as local authority districts (ONS codes).
    pub districts: Vec<DistrictCode>,
    /// The police force(s) whose data.police.uk files the partnership imports.
    pub forces: Vec<ForceSlug>,
    /// Who the public and partners contact.
    #[serde(default)]
    pub contact_email: Option<String>,
    #[serde(default)]
    pub contact_phone: Option<String>,
    #[serde(default)]
    pub colour: Colour,
    /// The name of the partnership's safer places charter, if it runs one.
    #[serde(default)]
    pub charter_name: Option<String>,
    /// The small-number suppression threshold: counts from 1 to this − 1 are never published
    /// to readers without record-level access (`docs/disclosure-control.md`). `None` means
    /// [`DEFAULT_SUPPRESSION_THRESHOLD`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suppression_threshold: Option<u64>,
    /// The charter's commitments, in order (at most [`MAX_CHARTER_COMMITMENTS`]). Empty
    /// means the partnership has not named its own: the charter keeps the commitments it
    /// has (on a new database, none: the charter pages say so until an administrator adds
    /// them; the shipped Staffordshire profile names its charter's three).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub charter_commitments: Vec<CharterCommitment>,
}

/// A profile field that breaks a rule: `field` names it as the form and the file do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct ProfileError {
    pub field: &'static str,
    pub reason: String,
}

fn invalid(field: &'static str, reason: impl Into<String>) -> ProfileError {
    ProfileError { field, reason: reason.into() }
}

/// The charter's name where a partnership has not named its own (or has no profile yet).
pub const CHARTER_FALLBACK: &str = "Safer Places Charter";

/// The charter's name as pages write it after "the" ("Sign up to the …"): the profile's
/// `charter_name` without a leading "The ", or [`CHARTER_FALLBACK`] when it has none.
pub fn charter_title(profile: Option<&Profile>) -> String {
    let named = profile.and_then(|p| p.charter_name.as_deref()).map(str::trim).filter(|n| !n.is_empty());
    match named {
        Some(name) => {
            let bare = if name.len() > 4 && name.get(..4).is_some_and(|t| t.eq_ignore_ascii_case("the ")) {
                name[4..].trim_start()
            } else {
                name
            };
            bare.to_string()
        }
        None => CHARTER_FALLBACK.to_string(),
    }
}

impl Profile {
    /// Checks every rule, trimming text fields first; the first broken rule is returned.
    pub fn validated(mut self) -> Result<Profile, ProfileError> {
        self.name = self.name.trim().to_string();
        self.short_name = self.short_name.trim().to_string();
        let name_too_long = format!("The name must be {MAX_NAME} characters or fewer");
        check_text("name", &self.name, MAX_NAME, "Enter the partnership's name", name_too_long)?;
        let short_too_long = format!("The short name must be {MAX_SHORT_NAME} characters or fewer");
        let short_empty = "Enter a short name, like \"Wiltshire and Swindon VRP\"";
        check_text("short_name", &self.short_name, MAX_SHORT_NAME, short_empty, short_too_long)?;
        let districts_empty = "Enter at least one local authority district code, like E06000054";
        let districts_many = format!("A partnership area has at most {MAX_DISTRICTS} districts");
        check_list("districts", &self.districts, MAX_DISTRICTS, districts_empty, districts_many)?;
        let forces_empty = "Enter at least one police force, like wiltshire";
        let forces_many = format!("A partnership has at most {MAX_FORCES} police forces");
        check_list("forces", &self.forces, MAX_FORCES, forces_empty, forces_many)?;
        self.contact_email = trimmed(self.contact_email);
        if let Some(email) = &self.contact_email {
            if email.chars().count() > MAX_CONTACT || !looks_like_email(email) {
                return Err(invalid("contact_email", "Enter an email address like team@example.org"));
            }
        }
        self.contact_phone = trimmed(self.contact_phone);
        if let Some(phone) = &self.contact_phone {
            let ok = phone.chars().count() <= 30
                && phone.chars().all(|c| c.is_ascii_digit() || " +()-".contains(c))
                && phone.chars().filter(char::is_ascii_digit).count() >= 5;
            if !ok {
                return Err(invalid("contact_phone", "Enter a phone number, like 01785 232385"));
            }
        }
        self.charter_name = trimmed(self.charter_name);
        if self.charter_name.as_ref().is_some_and(|c| c.chars().count() > MAX_NAME) {
            return Err(invalid("charter_name", format!("The charter's name must be {MAX_NAME} characters or fewer")));
        }
        if self.charter_commitments.len() > MAX_CHARTER_COMMITMENTS {
            return Err(invalid(
                "charter_commitments",
                format!("A charter has at most {MAX_CHARTER_COMMITMENTS} commitments"),
            ));
        }
        for (i, c) in self.charter_commitments.iter_mut().enumerate() {
            let n = i + 1;
            c.title = c.title.trim().to_string();
            c.description = c.description.trim().to_string();
            if c.title.is_empty() || c.title.chars().count() > MAX_COMMITMENT_TITLE {
                return Err(invalid(
                    "charter_commitments",
                    format!("Commitment {n}: enter a title of 1 to {MAX_COMMITMENT_TITLE} characters"),
                ));
            }
            if c.description.is_empty() || c.description.chars().count() > MAX_COMMITMENT_DESCRIPTION {
                return Err(invalid(
                    "charter_commitments",
                    format!("Commitment {n}: enter a description of 1 to {MAX_COMMITMENT_DESCRIPTION} characters"),
                ));
            }
        }
        let titles: Vec<String> = self.charter_commitments.iter().map(|c| c.title.to_lowercase()).collect();
        if let Some(t) = duplicate(&titles) {
            return Err(invalid(
                "charter_commitments",
                format!("\"{t}\" is listed twice: each commitment needs its own title"),
            ));
        }
        if let Some(t) = self.suppression_threshold {
            if !(MIN_SUPPRESSION_THRESHOLD..=MAX_SUPPRESSION_THRESHOLD).contains(&t) {
                return Err(invalid(
                    "suppression_threshold",
                    format!(
                        "The suppression threshold must be a whole number from {MIN_SUPPRESSION_THRESHOLD} to {MAX_SUPPRESSION_THRESHOLD}"
                    ),
                ));
            }
        }
        Ok(self)
    }

    /// The suppression threshold in force: the profile's, or the default.
    pub fn threshold(&self) -> u64 {
        self.suppression_threshold.unwrap_or(DEFAULT_SUPPRESSION_THRESHOLD)
    }

    /// Parses a profile file (JSON) and checks it; the error names the line or the field.
    pub fn from_json(text: &str) -> Result<Profile, ProfileError> {
        let profile: Profile = serde_json::from_str(text)
            .map_err(|e| invalid("file", format!("line {}, column {}: {e}", e.line(), e.column())))?;
        profile.validated()
    }

    pub fn to_json(&self) -> String {
        // A profile of strings and enums always serialises.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

fn trimmed(text: Option<String>) -> Option<String> {
    text.map(|t| t.trim().to_string()).filter(|t| !t.is_empty())
}

fn looks_like_email(text: &str) -> bool {
    match text.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !text.contains(char::is_whitespace)
        }
        None => false,
    }
}

/// A text the profile needs: not empty (`empty` says what to enter) and at most `max`
/// characters (`too_long` says so).
fn check_text(field: &'static str, text: &str, max: usize, empty: &str, too_long: String) -> Result<(), ProfileError> {
    if text.is_empty() {
        return Err(invalid(field, empty));
    }
    if text.chars().count() > max {
        return Err(invalid(field, too_long));
    }
    Ok(())
}

/// A list the profile needs: at least one item (`empty` says what to enter), at most `max`
/// (`too_many` says so), and none twice.
fn check_list<T: PartialEq + std::fmt::Display>(
    field: &'static str,
    items: &[T],
    max: usize,
    empty: &str,
    too_many: String,
) -> Result<(), ProfileError> {
    if items.is_empty() {
        return Err(invalid(field, empty));
    }
    if items.len() > max {
        return Err(invalid(field, too_many));
    }
    match duplicate(items) {
        Some(item) => Err(invalid(field, format!("{item} is listed twice"))),
        None => Ok(()),
    }
}

fn duplicate<T: PartialEq>(items: &[T]) -> Option<&T> {
    items.iter().enumerate().find(|(i, item)| items[..*i].contains(item)).map(|(_, item)| item)
}

/// The example profiles shipped with Alliance (`data/partnerships/`), by the name
/// `alliance partnership init --example NAME` takes.
pub const EXAMPLES: &[(&str, &str)] = &[
    ("staffordshire", include_str!("../../../data/partnerships/staffordshire.json")),
    ("wiltshire-and-swindon", include_str!("../../../data/partnerships/wiltshire-and-swindon.json")),
    ("west-midlands", include_str!("../../../data/partnerships/west-midlands.json")),
];

/// An example profile by name.
pub fn example(name: &str) -> Option<Result<Profile, ProfileError>> {
    EXAMPLES.iter().find(|(n, _)| *n == name).map(|(_, json)| Profile::from_json(json))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wiltshire() -> Profile {
        example("wiltshire-and-swindon").expect("shipped").expect("valid")
    }

    #[test]
    fn every_shipped_example_is_valid_and_names_its_own_area() {
        let staffs = example("staffordshire").expect("shipped").expect("valid");
        assert_eq!(staffs.districts.len(), 9, "Stoke-on-Trent and Staffordshire's eight districts");
        assert_eq!(staffs.forces[0].as_str(), "staffordshire");
        let wilts = wiltshire();
        assert_eq!(wilts.forces[0].as_str(), "wiltshire");
        assert!(!wilts.to_json().contains("Staffordshire"), "nothing of Staffordshire in Wiltshire's profile");
        let west = example("west-midlands").expect("shipped").expect("valid");
        assert_eq!(west.districts.len(), 7, "the seven metropolitan boroughs");
        assert!(west.districts.iter().all(|d| d.to_string().starts_with("E08")), "metropolitan districts");
        assert_eq!(west.forces[0].as_str(), "west-midlands");
        assert!(example("nowhere").is_none());
    }

    #[test]
    fn a_profile_round_trips_through_its_file_format() {
        let wilts = wiltshire();
        assert_eq!(Profile::from_json(&wilts.to_json()).expect("round trip"), wilts);
    }

    /// A field's name and a change that breaks its rule.
    type Breaking = (&'static str, Box<dyn Fn(&mut Profile)>);

    #[test]
    fn each_broken_rule_names_its_field() {
        let cases: Vec<Breaking> = vec![
            ("name", Box::new(|p| p.name = "  ".into())),
            ("name", Box::new(|p| p.name = "x".repeat(MAX_NAME + 1))),
            ("short_name", Box::new(|p| p.short_name.clear())),
            ("districts", Box::new(|p| p.districts.clear())),
            ("districts", Box::new(|p| p.districts.push(p.districts[0].clone()))),
            ("forces", Box::new(|p| p.forces.clear())),
            ("contact_email", Box::new(|p| p.contact_email = Some("not an address".into()))),
            ("contact_phone", Box::new(|p| p.contact_phone = Some("call us".into()))),
            ("suppression_threshold", Box::new(|p| p.suppression_threshold = Some(1))),
            ("charter_commitments", Box::new(|p| p.charter_commitments = vec![commitment("  ", "x")])),
            (
                "charter_commitments",
                Box::new(|p| p.charter_commitments = vec![commitment("A", "x"), commitment("a", "y")]),
            ),
            (
                "charter_commitments",
                Box::new(|p| p.charter_commitments = (0..7).map(|i| commitment(&format!("C{i}"), "x")).collect()),
            ),
            ("suppression_threshold", Box::new(|p| p.suppression_threshold = Some(MAX_SUPPRESSION_THRESHOLD + 1))),
        ];
        for (field, break_it) in cases {
            let mut p = wiltshire();
            break_it(&mut p);
            assert_eq!(p.validated().expect_err(field).field, field);
        }
    }

    #[test]
    fn text_is_trimmed_and_empty_optionals_become_none() {
        let mut p = wiltshire();
        p.name = "  Somewhere VRP  ".into();
        p.contact_phone = Some("   ".into());
        let p = p.validated().expect("valid");
        assert_eq!(p.name, "Somewhere VRP");
        assert_eq!(p.contact_phone, None);
    }

    #[test]
    fn a_bad_file_names_the_line_and_unknown_fields_are_refused() {
        let err = Profile::from_json("{\n\"name\": 3}").expect_err("bad");
        assert_eq!(err.field, "file");
        assert!(err.reason.contains("line 2"), "{}", err.reason);
        let unknown = wiltshire().to_json().replacen('{', "{\"logo_url\": \"x\",", 1);
        assert!(Profile::from_json(&unknown).expect_err("unknown").reason.contains("logo_url"));
        let bad_district = wiltshire().to_json().replace("E06000054", "Wiltshire");
        assert_eq!(Profile::from_json(&bad_district).expect_err("district").field, "file");
    }

    #[test]
    fn the_threshold_defaults_to_five_and_an_older_file_without_it_still_reads() {
        let mut p = wiltshire();
        assert_eq!(p.suppression_threshold, None);
        assert_eq!(p.threshold(), DEFAULT_SUPPRESSION_THRESHOLD);
        assert!(!p.to_json().contains("suppression_threshold"), "an unset threshold is not written");
        p.suppression_threshold = Some(10);
        let back = Profile::from_json(&p.to_json()).expect("round trip");
        assert_eq!(back.threshold(), 10);
    }

    #[test]
    fn the_charter_is_named_from_the_profile_or_neutrally() {
        let mut p = example("wiltshire-and-swindon").expect("shipped").expect("valid");
        assert_eq!(charter_title(None), CHARTER_FALLBACK);
        p.charter_name = None;
        assert_eq!(charter_title(Some(&p)), "Safer Places Charter");
        p.charter_name = Some("The Purple Flag Charter".into());
        assert_eq!(charter_title(Some(&p)), "Purple Flag Charter");
        p.charter_name = Some("Safe Spaces Pledge".into());
        assert_eq!(charter_title(Some(&p)), "Safe Spaces Pledge");
    }

    fn commitment(title: &str, description: &str) -> CharterCommitment {
        CharterCommitment { title: title.into(), description: description.into() }
    }

    #[test]
    fn charter_commitments_round_trip_and_an_older_file_without_them_still_reads() {
        let staffs = example("staffordshire").expect("shipped").expect("valid");
        assert_eq!(staffs.charter_commitments.len(), 3, "the three commitments the charter launched with");
        assert_eq!(Profile::from_json(&staffs.to_json()).expect("round trip"), staffs);
        let wilts = wiltshire();
        assert!(wilts.charter_commitments.is_empty());
        assert!(!wilts.to_json().contains("charter_commitments"), "an empty list is not written");
        let mut p = wilts;
        p.charter_commitments = vec![commitment("  Safe venues ", " We keep venues safe. ")];
        let p = p.validated().expect("valid");
        assert_eq!(p.charter_commitments, vec![commitment("Safe venues", "We keep venues safe.")]);
    }

    #[test]
    fn colours_parse_by_name_only() {
        assert_eq!("Green".parse::<Colour>(), Ok(Colour::Green));
        assert!("#ff0000".parse::<Colour>().is_err());
    }
}
