//! Police recorded crime as published by data.police.uk.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{LsoaCode, Month};

/// The two data.police.uk file kinds Alliance imports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PoliceFileKind {
    /// `YYYY-MM-force-street.csv`: one row per crime or anti-social behaviour incident.
    Street,
    /// `YYYY-MM-force-outcomes.csv`: one row per outcome recorded that month.
    Outcomes,
}

impl PoliceFileKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PoliceFileKind::Street => "street",
            PoliceFileKind::Outcomes => "outcomes",
        }
    }
}

impl FromStr for PoliceFileKind {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "street" => Ok(PoliceFileKind::Street),
            "outcomes" => Ok(PoliceFileKind::Outcomes),
            other => Err(format!("unknown police file kind \"{other}\"")),
        }
    }
}

impl fmt::Display for PoliceFileKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A police force as data.police.uk names it in file names: `staffordshire`, `gwent`,
/// `west-midlands`. Lower-case ASCII letters, digits and hyphens.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String")]
pub struct ForceSlug(String);

impl TryFrom<String> for ForceSlug {
    type Error = String;

    fn try_from(text: String) -> Result<ForceSlug, String> {
        ForceSlug::parse(&text).ok_or_else(|| {
            format!("\"{text}\" is not a police force as data.police.uk names it (lower-case letters, digits and hyphens, like west-midlands)")
        })
    }
}

impl ForceSlug {
    /// A slug from a force's display name: "Staffordshire Police" → `staffordshire`.
    pub fn from_force_name(name: &str) -> Option<ForceSlug> {
        let trimmed = name.trim();
        let base = trimmed.strip_suffix(" Police").or_else(|| trimmed.strip_suffix(" Constabulary")).unwrap_or(trimmed);
        let slug: String = base
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_ascii_lowercase)
            .collect::<Vec<_>>()
            .join("-");
        ForceSlug::parse(&slug)
    }

    /// Accepts an already-formed slug.
    pub fn parse(text: &str) -> Option<ForceSlug> {
        let ok = !text.is_empty()
            && text.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !text.starts_with('-')
            && !text.ends_with('-');
        ok.then(|| ForceSlug(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ForceSlug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The crime type data.police.uk gives anti-social behaviour incidents (which are not crimes
/// and carry no Crime ID).
pub const ANTI_SOCIAL_BEHAVIOUR: &str = "Anti-social behaviour";

/// The fourteen crime types data.police.uk has used since 2013, in its own order.
pub const CRIME_TYPES: [&str; 14] = [
    "Anti-social behaviour",
    "Bicycle theft",
    "Burglary",
    "Criminal damage and arson",
    "Drugs",
    "Other theft",
    "Possession of weapons",
    "Public order",
    "Robbery",
    "Shoplifting",
    "Theft from the person",
    "Vehicle crime",
    "Violence and sexual offences",
    "Other crime",
];

/// A 63-bit integer key for a Crime ID, so the database can index crimes by an 8-byte
/// integer instead of a 64-character text (indexing the text made imports four times
/// slower). data.police.uk Crime IDs are 64 hex digits: their first 15 digits are the key.
/// Other IDs are hashed (FNV-1a). Keys can collide, so lookups also compare the full ID.
pub fn crime_key(crime_id: &str) -> i64 {
    let head = crime_id.get(..15).filter(|h| crime_id.len() >= 16 && h.bytes().all(|b| b.is_ascii_hexdigit()));
    match head.and_then(|h| i64::from_str_radix(h, 16).ok()) {
        Some(key) => key,
        None => {
            let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
            for b in crime_id.bytes() {
                hash ^= u64::from(b);
                hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
            }
            (hash >> 1) as i64
        }
    }
}

/// One row of a street-level file: a crime or an anti-social behaviour incident.
///
/// Every row counts: identical rows are separate incidents and Crime IDs can repeat, so rows
/// are never deduplicated.
#[derive(Debug, Clone, PartialEq)]
pub struct StreetCrime {
    /// Empty for anti-social behaviour.
    pub crime_id: Option<String>,
    pub month: Month,
    pub reported_by: String,
    pub falls_within: String,
    /// WGS84 longitude and latitude of the anonymised snap point, when the row has a location.
    pub location: Option<(f64, f64)>,
    /// "On or near Church Street", or "No location".
    pub location_description: String,
    pub lsoa_code: Option<LsoaCode>,
    pub lsoa_name: Option<String>,
    pub crime_type: String,
    pub last_outcome: Option<String>,
}

/// One row of an outcomes file: an outcome recorded in `month` for the crime `crime_id`
/// (which may have been recorded in an earlier month).
#[derive(Debug, Clone, PartialEq)]
pub struct PoliceOutcome {
    pub crime_id: String,
    pub month: Month,
    pub location: Option<(f64, f64)>,
    pub lsoa_code: Option<LsoaCode>,
    pub outcome_type: String,
}

/// The street or place a published location names: "On or near Station Road" → "Station
/// Road"; a location without the prefix names itself ("Shopping Area"). None when nothing is
/// named: "No location", empty, or "On or near" with no street after it (data.police.uk
/// files hold rows of "On or near " alone). The prefix is matched whatever its case and
/// spacing, so "on or near  High Street" is "High Street". The one reading of a location for
/// every use (hot cells' streets, the street map, the gazetteers), so they cannot differ.
pub fn street_of_location(location: &str) -> Option<&str> {
    const PREFIX: &str = "on or near";
    let text = location.trim();
    let name = match text.get(..PREFIX.len()) {
        // The prefix is ASCII, so slicing after it is at a character boundary.
        Some(head) if head.eq_ignore_ascii_case(PREFIX) => {
            let rest = &text[PREFIX.len()..];
            // "On or nearby…" is not the prefix: it must end at the text's end or a space.
            if !rest.is_empty() && !rest.starts_with(char::is_whitespace) {
                text
            } else {
                rest.trim()
            }
        }
        _ => text,
    };
    (!name.is_empty() && !name.eq_ignore_ascii_case("No location")).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_location_names_its_street_or_nothing() {
        assert_eq!(street_of_location("On or near Station Road"), Some("Station Road"));
        assert_eq!(street_of_location("on or near  High Street"), Some("High Street"));
        assert_eq!(street_of_location("ON OR NEAR\tHigh Street "), Some("High Street"));
        assert_eq!(street_of_location("On or near "), None);
        assert_eq!(street_of_location("On or near"), None);
        assert_eq!(street_of_location("  on or near \t "), None);
        assert_eq!(street_of_location("No location"), None);
        assert_eq!(street_of_location("No Location"), None);
        assert_eq!(street_of_location("On or near No location"), None);
        assert_eq!(street_of_location(""), None);
        assert_eq!(street_of_location("Shopping Area"), Some("Shopping Area"));
        assert_eq!(street_of_location("On or nearby Lane"), Some("On or nearby Lane"));
        assert_eq!(street_of_location("On or neaéé"), Some("On or neaéé"), "not cut inside a character");
    }

    #[test]
    fn crime_keys_take_the_hex_prefix_or_a_hash() {
        let id = "d050388dfa07e877f3ffd556448656e78c1fa667521e324554c5802ce5105de3";
        assert_eq!(crime_key(id), 0x0d05_0388_dfa0_7e87);
        assert!(crime_key("short-id") >= 0);
        assert_ne!(crime_key("short-id"), crime_key("short-ie"));
    }

    #[test]
    fn force_slugs_follow_file_names() {
        assert_eq!(ForceSlug::from_force_name("Staffordshire Police").unwrap().as_str(), "staffordshire");
        assert_eq!(ForceSlug::from_force_name("West Midlands Police").unwrap().as_str(), "west-midlands");
        assert_eq!(ForceSlug::from_force_name("Avon and Somerset Constabulary").unwrap().as_str(), "avon-and-somerset");
        assert!(ForceSlug::from_force_name("  ").is_none());
        assert!(ForceSlug::parse("Gwent").is_none());
    }
}
