//! The counts query: how many police records, grouped by chosen fields.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{DistrictCode, Month};

/// A field the counts query can group by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CountField {
    Month,
    CrimeType,
    District,
    Lsoa,
    Outcome,
}

impl CountField {
    /// The name used on the command line and in `?by=` (`crime-type`).
    pub fn option_name(self) -> &'static str {
        match self {
            CountField::Month => "month",
            CountField::CrimeType => "crime-type",
            CountField::District => "district",
            CountField::Lsoa => "lsoa",
            CountField::Outcome => "outcome",
        }
    }

    /// The name used as a CSV header and a JSON key (`crime_type`).
    pub fn column_name(self) -> &'static str {
        match self {
            CountField::Month => "month",
            CountField::CrimeType => "crime_type",
            CountField::District => "district",
            CountField::Lsoa => "lsoa",
            CountField::Outcome => "outcome",
        }
    }

    /// Parses a comma list such as `month,crime-type`, refusing repeats and unknown names.
    pub fn parse_list(text: &str) -> Result<Vec<CountField>, String> {
        let mut fields = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let field: CountField = part.parse()?;
            if fields.contains(&field) {
                return Err(format!("field \"{part}\" is given twice"));
            }
            fields.push(field);
        }
        if fields.is_empty() {
            return Err("give at least one field: month, crime-type, district, lsoa, outcome".into());
        }
        Ok(fields)
    }
}

impl FromStr for CountField {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "month" => Ok(CountField::Month),
            "crime-type" | "crime_type" => Ok(CountField::CrimeType),
            "district" => Ok(CountField::District),
            "lsoa" => Ok(CountField::Lsoa),
            "outcome" => Ok(CountField::Outcome),
            other => Err(format!("unknown field \"{other}\": expected month, crime-type, district, lsoa or outcome")),
        }
    }
}

impl fmt::Display for CountField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.option_name())
    }
}

/// Which records the counts query looks at.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CountFilter {
    pub from: Option<Month>,
    pub to: Option<Month>,
    pub crime_type: Option<String>,
    /// Records whose LSOA lies in one of these districts. Empty: every record, those with no
    /// location or outside the loaded areas too. The front ends fill it with the partnership's
    /// districts unless asked for everything, so that a database holding other forces' data
    /// (a region, the national archive) does not count them as the partnership's.
    pub districts: Vec<DistrictCode>,
}

/// One group of the counts query: the group's values, in the order of the fields asked
/// for, and how many records it holds. A value is `None` where the record has none (no
/// LSOA, no outcome, an LSOA outside the loaded reference areas).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountRow {
    pub values: Vec<Option<String>>,
    pub count: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_field_lists() {
        assert_eq!(CountField::parse_list("month,crime-type").unwrap(), vec![CountField::Month, CountField::CrimeType]);
        assert!(CountField::parse_list("month,month").is_err());
        assert!(CountField::parse_list("colour").unwrap_err().contains("colour"));
        assert!(CountField::parse_list("").is_err());
    }
}
