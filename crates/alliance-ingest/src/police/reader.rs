//! The one reader of police files: a street-level or an outcomes file streams through a
//! [`RecordReader`] set up with its kind's [`Layout`].

use alliance_core::domain::PoliceFileKind;

use super::fields::{csv_reader, read_header, CsvReader, Rows};
use super::PoliceFileUnit;
use crate::{IngestError, SourceFile};

/// The nine columns both kinds of file begin with: the crime, where and by whom it was
/// recorded, and where it happened. Each kind's own columns follow (see [`header`]).
const LOCATED_COLUMNS: [&str; 9] =
    ["Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude", "Location", "LSOA code", "LSOA name"];

/// A kind's header: [`LOCATED_COLUMNS`], then its own `columns` (`N` is nine more than
/// `M`; a mismatch fails to compile, as the header is a constant).
pub(super) const fn header<const M: usize, const N: usize>(columns: [&'static str; M]) -> [&'static str; N] {
    assert!(N == LOCATED_COLUMNS.len() + M, "a header is the nine located columns and the kind's own");
    let mut out = [""; N];
    let mut i = 0;
    while i < N {
        out[i] = if i < LOCATED_COLUMNS.len() { LOCATED_COLUMNS[i] } else { columns[i - LOCATED_COLUMNS.len()] };
        i += 1;
    }
    out
}

/// What a kind of police file is: its columns in order, its kind, its name in words (for
/// "not a data.police.uk … file") and how one row becomes a record.
pub(super) struct Layout<T> {
    pub header: &'static [&'static str],
    pub kind: PoliceFileKind,
    pub what: &'static str,
    pub record: fn(&Rows) -> Result<T, IngestError>,
}

/// Streams the records of one police file, validating each row; the first bad row stops it.
/// [`StreetReader`](super::StreetReader) and [`OutcomesReader`](super::OutcomesReader) are
/// this reader over their kind's records.
pub struct RecordReader<T> {
    rows: Rows,
    record: fn(&Rows) -> Result<T, IngestError>,
}

impl<T> RecordReader<T> {
    /// Opens a file and checks its header is the layout's.
    pub(super) fn open_with(file: &SourceFile, layout: &Layout<T>) -> Result<RecordReader<T>, IngestError> {
        let mut csv = csv_reader(file)?;
        let header = read_header(file, &mut csv)?;
        RecordReader::from_parts(file, csv, &header, layout)
    }

    /// The reader of a file whose header was read (by `PoliceReader::open`, which tells the
    /// kind from it): checks the header is the layout's.
    pub(super) fn from_parts(
        file: &SourceFile,
        csv: CsvReader,
        header: &[String],
        layout: &Layout<T>,
    ) -> Result<RecordReader<T>, IngestError> {
        let rows = Rows::checked(file, csv, header, layout.header, layout.kind, layout.what)?;
        Ok(RecordReader { rows, record: layout.record })
    }

    pub fn unit(&self) -> &PoliceFileUnit {
        &self.rows.unit
    }

    /// The line number of the row last read.
    pub fn line(&self) -> u64 {
        self.rows.line
    }

    /// The next record, `None` at the end of the file, or the first problem found.
    pub fn next_record(&mut self) -> Result<Option<T>, IngestError> {
        if !self.rows.advance()? {
            return Ok(None);
        }
        (self.record)(&self.rows).map(Some)
    }
}

impl<T> Iterator for RecordReader<T> {
    type Item = Result<T, IngestError>;
    fn next(&mut self) -> Option<Self::Item> {
        self.next_record().transpose()
    }
}
