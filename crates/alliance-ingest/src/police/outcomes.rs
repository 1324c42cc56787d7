//! Outcomes files: one row per outcome recorded in the month, for a crime of that month or
//! an earlier one.

use alliance_core::domain::{PoliceFileKind, PoliceOutcome};

use super::fields::{CsvReader, Rows};
use super::PoliceFileUnit;
use crate::{IngestError, SourceFile};

/// The ten columns of an outcomes file, in order.
pub const OUTCOMES_HEADER: [&str; 10] = [
    "Crime ID",
    "Month",
    "Reported by",
    "Falls within",
    "Longitude",
    "Latitude",
    "Location",
    "LSOA code",
    "LSOA name",
    "Outcome type",
];

/// Streams the outcomes of one outcomes file, validating each row.
pub struct OutcomesReader {
    rows: Rows,
}

impl OutcomesReader {
    pub fn open(file: &SourceFile) -> Result<OutcomesReader, IngestError> {
        super::fields::open(file, OutcomesReader::from_parts)
    }

    pub(super) fn from_parts(
        file: &SourceFile,
        csv: CsvReader,
        header: &[String],
    ) -> Result<OutcomesReader, IngestError> {
        Ok(OutcomesReader {
            rows: Rows::checked(file, csv, header, &OUTCOMES_HEADER, PoliceFileKind::Outcomes, "outcomes")?,
        })
    }

    pub fn unit(&self) -> &PoliceFileUnit {
        &self.rows.unit
    }

    /// The next outcome, `None` at the end of the file, or the first problem found.
    pub fn next_outcome(&mut self) -> Result<Option<PoliceOutcome>, IngestError> {
        if !self.rows.advance()? {
            return Ok(None);
        }
        let r = &self.rows;
        Ok(Some(PoliceOutcome {
            crime_id: r.required(0, "Crime ID")?,
            month: r.month(1)?,
            location: r.coordinates(4, 5)?,
            lsoa_code: r.lsoa(7)?,
            outcome_type: r.required(9, "Outcome type")?,
        }))
    }
}

impl Iterator for OutcomesReader {
    type Item = Result<PoliceOutcome, IngestError>;
    fn next(&mut self) -> Option<Self::Item> {
        self.next_outcome().transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_outcomes_and_requires_a_crime_id() {
        let header =
            "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Outcome type\n";
        let ok = SourceFile::from_bytes(
            "2023-01-gwent-outcomes.csv",
            format!("{header}abc,2023-01,Gwent Police,Gwent Police,-3.2,51.6,On or near X,W01001434,Caerphilly 013F,Offender given a caution\n").into_bytes(),
        );
        let outcomes: Vec<_> = OutcomesReader::open(&ok).unwrap().collect::<Result<_, _>>().unwrap();
        assert_eq!(outcomes.len(), 1);
        assert_eq!(outcomes[0].outcome_type, "Offender given a caution");
        let bad = SourceFile::from_bytes(
            "2023-01-gwent-outcomes.csv",
            format!("{header},2023-01,Gwent Police,Gwent Police,,,No location,,,Offender given a caution\n")
                .into_bytes(),
        );
        let err = OutcomesReader::open(&bad).unwrap().next().unwrap().unwrap_err().to_string();
        assert_eq!(err, "2023-01-gwent-outcomes.csv:2: column \"Crime ID\": empty; a value is required");
    }
}
