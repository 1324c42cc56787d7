//! Street-level files: one row per crime or anti-social behaviour incident.

use alliance_core::domain::{PoliceFileKind, StreetCrime};

use super::fields::Rows;
use super::reader::{header, Layout, RecordReader};
use crate::{IngestError, SourceFile};

/// The twelve columns of a street-level file, in order.
pub const STREET_HEADER: [&str; 12] = header(["Crime type", "Last outcome category", "Context"]);

/// Streams the crimes of one street-level file, validating each row.
pub type StreetReader = RecordReader<StreetCrime>;

pub(super) const STREET: Layout<StreetCrime> =
    Layout { header: &STREET_HEADER, kind: PoliceFileKind::Street, what: "street-level", record: street_crime };

impl StreetReader {
    /// Opens a street file and checks its header.
    pub fn open(file: &SourceFile) -> Result<StreetReader, IngestError> {
        RecordReader::open_with(file, &STREET)
    }
}

/// One row of a street-level file as a crime.
fn street_crime(r: &Rows) -> Result<StreetCrime, IngestError> {
    Ok(StreetCrime {
        crime_id: r.optional(0),
        month: r.month(1)?,
        reported_by: r.get(2).trim().to_string(),
        falls_within: r.get(3).trim().to_string(),
        location: r.coordinates(4, 5)?,
        location_description: r.get(6).trim().to_string(),
        lsoa_code: r.lsoa(7)?,
        lsoa_name: r.optional(8),
        crime_type: r.required(9, "Crime type")?,
        last_outcome: r.optional(10),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,Last outcome category,Context\n";

    fn file(name: &str, body: &str) -> SourceFile {
        SourceFile::from_bytes(name, format!("{HEADER}{body}").into_bytes())
    }

    fn read_all(f: &SourceFile) -> Result<Vec<StreetCrime>, IngestError> {
        StreetReader::open(f)?.collect()
    }

    #[test]
    fn reads_crimes_asb_and_rows_without_location() {
        let f = file(
            "2025-03-staffordshire-street.csv",
            "abc,2025-03,Staffordshire Police,Staffordshire Police,-2.1,53.0,On or near Church Street,E01014210,Stoke-on-Trent 012A,Robbery,Under investigation,\n\
             ,2025-03,Staffordshire Police,Staffordshire Police,-2.1,53.0,On or near Church Street,E01014210,Stoke-on-Trent 012A,Anti-social behaviour,,\n\
             ,2025-03,Staffordshire Police,Staffordshire Police,-2.1,53.0,On or near Church Street,E01014210,Stoke-on-Trent 012A,Anti-social behaviour,,\n\
             def,2025-03,Staffordshire Police,Staffordshire Police,,,No location,,,\"Violence and sexual offences\",Unable to prosecute suspect,\n",
        );
        let crimes = read_all(&f).unwrap();
        assert_eq!(crimes.len(), 4, "identical ASB rows are separate incidents");
        assert_eq!(crimes[0].crime_id.as_deref(), Some("abc"));
        assert_eq!(crimes[0].location, Some((-2.1, 53.0)));
        assert_eq!(crimes[1].crime_id, None);
        assert_eq!(crimes[1].last_outcome, None);
        assert_eq!(crimes[3].location, None);
        assert_eq!(crimes[3].lsoa_code, None);
        assert_eq!(crimes[3].crime_type, "Violence and sexual offences");
    }

    #[test]
    fn a_bad_month_names_file_line_and_column() {
        let f = file(
            "2025-03-staffordshire-street.csv",
            "a,2025-03,S,Staffordshire Police,,,No location,,,Robbery,,\nb,2025-13,S,Staffordshire Police,,,No location,,,Robbery,,\n",
        );
        let err = read_all(&f).unwrap_err().to_string();
        assert_eq!(err, "2025-03-staffordshire-street.csv:3: column \"Month\": expected YYYY-MM, found \"2025-13\"");
    }

    #[test]
    fn a_row_from_another_month_is_refused() {
        let f =
            file("2025-03-staffordshire-street.csv", "a,2025-04,S,Staffordshire Police,,,No location,,,Robbery,,\n");
        let err = read_all(&f).unwrap_err().to_string();
        assert!(err.contains(":2: column \"Month\": expected 2025-03 (the file's month)"), "{err}");
    }

    #[test]
    fn wrong_headers_are_caught_before_rows() {
        let f = SourceFile::from_bytes("2025-03-x-street.csv", b"Crime ID,Month,Reported by\n1,2,3\n".to_vec());
        let err = StreetReader::open(&f).err().unwrap().to_string();
        assert!(err.starts_with("2025-03-x-street.csv:1: not a data.police.uk street-level file"), "{err}");
    }

    #[test]
    fn coordinates_and_lsoa_codes_are_checked() {
        let cases = [
            ("a,2025-03,S,F,-2.1,,On or near X,,,Robbery,,\n", "column \"Latitude\": empty, but Longitude is given"),
            ("a,2025-03,S,F,west,53,On or near X,,,Robbery,,\n", "column \"Longitude\": expected a decimal number"),
            (
                "a,2025-03,S,F,-2.1,95,On or near X,,,Robbery,,\n",
                "column \"Latitude\": expected degrees between -90 and 90",
            ),
            ("a,2025-03,S,F,-2.1,53,On or near X,E0101,,Robbery,,\n", "column \"LSOA code\""),
            ("a,2025-03,S,F,-2.1,53,On or near X,,,,,\n", "column \"Crime type\": empty"),
            ("a,2025-03,S,F,-2.1,53\n", "expected 12 fields, found 6"),
        ];
        for (row, want) in cases {
            let err = read_all(&file("2025-03-staffordshire-street.csv", row)).unwrap_err().to_string();
            assert!(err.contains(want), "{row}: {err}");
            assert!(err.starts_with("2025-03-staffordshire-street.csv:2"), "{err}");
        }
    }

    #[test]
    fn non_standard_names_take_the_unit_from_the_first_row() {
        let f = file("upload.csv", "a,2025-03,Gwent Police,Gwent Police,,,No location,,,Robbery,,\n");
        let reader = StreetReader::open(&f).unwrap();
        assert_eq!(reader.unit().key(), "gwent/2025-03/street");
        assert_eq!(reader.count(), 1, "the row read ahead is not lost");
    }

    #[test]
    fn gzip_files_are_read_transparently() {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(format!("{HEADER}a,2025-03,S,F,,,No location,,,Robbery,,\n").as_bytes()).unwrap();
        let f = SourceFile::from_bytes("2025-03-staffordshire-street.csv.gz", gz.finish().unwrap());
        assert_eq!(read_all(&f).unwrap().len(), 1);
    }
}
