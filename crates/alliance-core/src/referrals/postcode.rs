//! Postcode districts: the only grain of address a referral keeps for eligibility and figures.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Why a text is not a postcode district.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("\"{0}\" is not a postcode district: enter the first part of the postcode, e.g. ST4, SN1 or B12")]
pub struct PostcodeDistrictError(pub String);

/// A postcode district (the outward code: "ST4", "SN1", "B12", "EC1A"), never a full
/// postcode. About 3,000 districts cover the UK, each with thousands of addresses.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PostcodeDistrict(String);

/// Whether `s` (upper case, no spaces) has an outward code's shape: A9, A99, AA9, AA99, A9A
/// or AA9A (A a letter, 9 a digit), the six formats of the Royal Mail's Postcode Address File.
fn is_outward_code(s: &str) -> bool {
    let shape: String = s
        .chars()
        .map(|c| match c {
            'A'..='Z' => 'A',
            '0'..='9' => '9',
            _ => '?',
        })
        .collect();
    matches!(shape.as_str(), "A9" | "A99" | "AA9" | "AA99" | "A9A" | "AA9A")
}

impl PostcodeDistrict {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A submitted district, or a full postcode cut to its district (`true` when cut).
    /// A full postcode is an outward code followed by an inward code (a digit and two
    /// letters), with or without the space.
    pub fn from_submitted(text: &str) -> Result<(PostcodeDistrict, bool), PostcodeDistrictError> {
        let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_uppercase();
        if is_outward_code(&compact) {
            return Ok((PostcodeDistrict(compact), false));
        }
        let n = compact.len();
        if compact.is_ascii() && n > 3 {
            let (outward, inward) = compact.split_at(n - 3);
            let b = inward.as_bytes();
            if is_outward_code(outward) && b[0].is_ascii_digit() && b[1..].iter().all(u8::is_ascii_uppercase) {
                return Ok((PostcodeDistrict(outward.to_string()), true));
            }
        }
        Err(PostcodeDistrictError(text.trim().to_string()))
    }
}

impl FromStr for PostcodeDistrict {
    type Err = PostcodeDistrictError;
    /// A district only (as configured for a service's area or read back from storage): a full
    /// postcode is refused here.
    fn from_str(text: &str) -> Result<PostcodeDistrict, PostcodeDistrictError> {
        let upper = text.trim().to_ascii_uppercase();
        if is_outward_code(&upper) {
            Ok(PostcodeDistrict(upper))
        } else {
            Err(PostcodeDistrictError(text.trim().to_string()))
        }
    }
}

impl TryFrom<String> for PostcodeDistrict {
    type Error = PostcodeDistrictError;
    fn try_from(text: String) -> Result<PostcodeDistrict, PostcodeDistrictError> {
        text.parse()
    }
}

impl From<PostcodeDistrict> for String {
    fn from(d: PostcodeDistrict) -> String {
        d.0
    }
}

impl fmt::Display for PostcodeDistrict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn districts_of_every_shape_are_accepted() {
        // A9, A99, AA9, AA99, A9A, AA9A.
        for (text, district) in
            [("M1", "M1"), ("B12", "B12"), ("ST4", "ST4"), ("st13", "ST13"), ("W1A", "W1A"), (" ec1a ", "EC1A")]
        {
            assert_eq!(PostcodeDistrict::from_submitted(text), Ok((PostcodeDistrict(district.into()), false)));
            assert_eq!(text.parse::<PostcodeDistrict>().map(String::from), Ok(district.to_string()));
        }
    }

    #[test]
    fn a_full_postcode_is_cut_to_its_district_on_submission_only() {
        for (text, district) in [("ST4 4QG", "ST4"), ("sn1 1aa", "SN1"), ("B121AA", "B12"), ("EC1A 1BB", "EC1A")] {
            assert_eq!(PostcodeDistrict::from_submitted(text), Ok((PostcodeDistrict(district.into()), true)), "{text}");
            // Configuration and storage take districts only.
            assert!(text.parse::<PostcodeDistrict>().is_err(), "{text}");
        }
    }

    #[test]
    fn other_text_is_refused_with_an_example() {
        for text in ["", "ST", "4ST", "ST4 4Q", "ST4 QQ1", "STAFFS", "ST4-4QG", "ST444", "Ä1"] {
            let err = PostcodeDistrict::from_submitted(text).unwrap_err();
            assert!(err.to_string().contains("e.g. ST4"), "{text}: {err}");
        }
        assert!(serde_json::from_str::<PostcodeDistrict>("\"ST4 4QG\"").is_err());
        assert_eq!(serde_json::to_string(&PostcodeDistrict("SN1".into())).ok(), Some("\"SN1\"".to_string()));
    }
}
