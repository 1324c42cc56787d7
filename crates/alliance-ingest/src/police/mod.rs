//! data.police.uk street-level and outcomes files.
//!
//! data.police.uk publishes one file per force, month and kind
//! (`2025-03-staffordshire-street.csv`, `2023-01-gwent-outcomes.csv`); that triple is the
//! unit a re-published file replaces. Rows are validated as they stream past; the first bad
//! row stops the file.

mod fields;
mod outcomes;
mod reader;
mod street;
pub mod synthetic;

use alliance_core::domain::{ForceSlug, Month, PoliceFileKind};

pub use outcomes::OutcomesReader;
pub use reader::RecordReader;
pub use street::StreetReader;

/// Which force, month and kind a file holds: the unit of replacement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoliceFileUnit {
    pub force: ForceSlug,
    pub month: Month,
    pub kind: PoliceFileKind,
}

impl PoliceFileUnit {
    /// The key stored with each import, e.g. `staffordshire/2025-03/street`.
    pub fn key(&self) -> String {
        format!("{}/{}/{}", self.force, self.month, self.kind)
    }
}

/// True for names the folder search picks up: `*-street.csv` and `*-outcomes.csv`
/// (optionally gzip-compressed).
pub fn is_police_file_name(name: &str) -> bool {
    let name = name.strip_suffix(".gz").unwrap_or(name);
    name.ends_with("-street.csv") || name.ends_with("-outcomes.csv")
}

/// Reads force, month and kind from a standard data.police.uk file name.
pub fn unit_from_file_name(name: &str) -> Option<PoliceFileUnit> {
    let name = name.strip_suffix(".gz").unwrap_or(name);
    let stem = name.strip_suffix(".csv")?;
    let (rest, kind) = if let Some(rest) = stem.strip_suffix("-street") {
        (rest, PoliceFileKind::Street)
    } else {
        (stem.strip_suffix("-outcomes")?, PoliceFileKind::Outcomes)
    };
    let month: Month = rest.get(..7)?.parse().ok()?;
    let force = ForceSlug::parse(rest.get(8..)?)?;
    (rest.as_bytes().get(7) == Some(&b'-')).then_some(PoliceFileUnit { force, month, kind })
}

/// Either kind of police file, opened and with its header checked.
pub enum PoliceReader {
    Street(StreetReader),
    Outcomes(OutcomesReader),
}

impl PoliceReader {
    /// Opens a police file, telling the kind from its header (and checking it agrees with
    /// the file name when the name is a standard one).
    pub fn open(file: &crate::SourceFile) -> Result<PoliceReader, crate::IngestError> {
        let mut csv = fields::csv_reader(file)?;
        let header = fields::read_header(file, &mut csv)?;
        let by_name = unit_from_file_name(&file.name).map(|u| u.kind);
        let kind =
            if header.iter().any(|h| h == "Outcome type") { PoliceFileKind::Outcomes } else { PoliceFileKind::Street };
        if let Some(named) = by_name {
            if named != kind {
                return Err(crate::IngestError::line(
                    &file.name,
                    1,
                    format!("the file name says {named} but the header is that of an {kind} file"),
                ));
            }
        }
        Ok(match kind {
            PoliceFileKind::Street => {
                PoliceReader::Street(RecordReader::from_parts(file, csv, &header, &street::STREET)?)
            }
            PoliceFileKind::Outcomes => {
                PoliceReader::Outcomes(RecordReader::from_parts(file, csv, &header, &outcomes::OUTCOMES)?)
            }
        })
    }

    pub fn unit(&self) -> &PoliceFileUnit {
        match self {
            PoliceReader::Street(r) => r.unit(),
            PoliceReader::Outcomes(r) => r.unit(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_units_from_standard_names() {
        let u = unit_from_file_name("2025-03-staffordshire-street.csv").unwrap();
        assert_eq!(u.key(), "staffordshire/2025-03/street");
        let u = unit_from_file_name("2023-01-west-midlands-outcomes.csv.gz").unwrap();
        assert_eq!(u.key(), "west-midlands/2023-01/outcomes");
        assert!(unit_from_file_name("2025-13-staffordshire-street.csv").is_none());
        assert!(unit_from_file_name("staffordshire-street.csv").is_none());
        assert!(unit_from_file_name("2025-03-staffordshire-stop-and-search.csv").is_none());
    }

    #[test]
    fn folder_search_takes_street_and_outcomes_files() {
        assert!(is_police_file_name("2025-03-staffordshire-street.csv"));
        assert!(is_police_file_name("2025-03-gwent-outcomes.csv.gz"));
        assert!(!is_police_file_name("2025-03-gwent-stop-and-search.csv"));
        assert!(!is_police_file_name("README.md"));
    }
}
