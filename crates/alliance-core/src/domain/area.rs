//! Statistical and administrative areas: LSOAs and local authority districts.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Why a text is not an area code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected a 9-character GSS code such as E01014210, found \"{0}\"")]
pub struct AreaCodeError(pub String);

/// Accepts GSS codes: one letter then eight digits (E01014210, W06000022).
fn is_gss_code(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 9 && b[0].is_ascii_uppercase() && b[1..].iter().all(u8::is_ascii_digit)
}

macro_rules! gss_code {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = AreaCodeError;
            fn from_str(text: &str) -> Result<Self, AreaCodeError> {
                if is_gss_code(text) {
                    Ok($name(text.to_string()))
                } else {
                    Err(AreaCodeError(text.to_string()))
                }
            }
        }

        impl TryFrom<String> for $name {
            type Error = AreaCodeError;
            fn try_from(text: String) -> Result<Self, AreaCodeError> {
                if is_gss_code(&text) {
                    Ok($name(text))
                } else {
                    Err(AreaCodeError(text))
                }
            }
        }

        impl From<$name> for String {
            fn from(code: $name) -> String {
                code.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

gss_code!(
    /// A Lower layer Super Output Area code (E01… in England, W01… in Wales).
    LsoaCode
);
gss_code!(
    /// A local authority district code (E06…, E07…, E08…, E09…, W06…).
    DistrictCode
);

/// Which census an LSOA code belongs to. data.police.uk uses 2011 codes up to
/// 2022-12 and 2021 codes from 2023-01; most codes are the same in both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LsoaVintage {
    Census2011,
    Census2021,
}

impl LsoaVintage {
    /// The year as stored in the database.
    pub fn year(self) -> i64 {
        match self {
            LsoaVintage::Census2011 => 2011,
            LsoaVintage::Census2021 => 2021,
        }
    }

    pub fn from_year(year: i64) -> Option<LsoaVintage> {
        match year {
            2011 => Some(LsoaVintage::Census2011),
            2021 => Some(LsoaVintage::Census2021),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_gss_codes_and_refuses_others() {
        assert!("E01014210".parse::<LsoaCode>().is_ok());
        assert!("W06000022".parse::<DistrictCode>().is_ok());
        for bad in ["", "E0101421", "e01014210", "E01014210X", "E0101421A"] {
            assert!(bad.parse::<LsoaCode>().is_err(), "{bad}");
        }
    }
}
