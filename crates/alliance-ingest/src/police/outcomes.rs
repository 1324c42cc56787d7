//! Outcomes files: one row per outcome recorded in the month, for a crime of that month or
//! an earlier one.

use alliance_core::domain::{PoliceFileKind, PoliceOutcome};

use super::fields::Rows;
use super::reader::{header, Layout, RecordReader};
use crate::{IngestError, SourceFile};

/// The ten columns of an outcomes file, in order.
pub const OUTCOMES_HEADER: [&str; 10] = header(["Outcome type"]);

/// Streams the outcomes of one outcomes file, validating each row.
pub type OutcomesReader = RecordReader<PoliceOutcome>;

pub(super) const OUTCOMES: Layout<PoliceOutcome> =
    Layout { header: &OUTCOMES_HEADER, kind: PoliceFileKind::Outcomes, what: "outcomes", record: outcome };

impl OutcomesReader {
    /// Opens an outcomes file and checks its header.
    pub fn open(file: &SourceFile) -> Result<OutcomesReader, IngestError> {
        RecordReader::open_with(file, &OUTCOMES)
    }
}

/// One row of an outcomes file as an outcome.
fn outcome(r: &Rows) -> Result<PoliceOutcome, IngestError> {
    Ok(PoliceOutcome {
        crime_id: r.required(0, "Crime ID")?,
        month: r.month(1)?,
        location: r.coordinates(4, 5)?,
        lsoa_code: r.lsoa(7)?,
        outcome_type: r.required(9, "Outcome type")?,
    })
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
