//! Field-level validation shared by the street and outcomes readers.

use alliance_core::domain::{ForceSlug, LsoaCode, Month};

use super::{unit_from_file_name, PoliceFileUnit};
use crate::bounded::{open_csv, CsvGuard};
use crate::error::{quoted, requote};
use crate::{IngestError, SourceFile};

pub(super) type CsvReader = csv::Reader<CsvGuard<Box<dyn std::io::Read + Send>>>;

/// A reader over the file, bounded by its limits: police files stream, so up to
/// [`Limits::max_rows`](crate::Limits::max_rows) rows.
pub(super) fn csv_reader(file: &SourceFile) -> Result<CsvReader, IngestError> {
    let mut builder = csv::ReaderBuilder::new();
    builder.has_headers(false).flexible(true).buffer_capacity(1 << 16);
    Ok(open_csv(file.reader()?, file.limits(), builder, None, file.limits().max_rows))
}

/// Reads line 1 as the header, without a byte-order mark and surrounding spaces.
pub(super) fn read_header(file: &SourceFile, csv: &mut CsvReader) -> Result<Vec<String>, IngestError> {
    let mut record = csv::StringRecord::new();
    if !csv.read_record(&mut record).map_err(|e| IngestError::from_csv(&file.name, e))? {
        return Err(IngestError::line(&file.name, 1, "the file is empty: expected a header line"));
    }
    Ok(record.iter().map(|h| h.trim_start_matches('\u{feff}').trim().to_string()).collect())
}

/// Checks the header names exactly, in order, before any row is read.
pub(super) fn check_header(
    file: &SourceFile,
    found: &[String],
    expected: &[&str],
    kind: &str,
) -> Result<(), IngestError> {
    for (i, want) in expected.iter().enumerate() {
        match found.get(i) {
            Some(got) if got == want => {}
            Some(got) => {
                return Err(IngestError::line(
                    &file.name,
                    1,
                    format!(
                        "not a data.police.uk {kind} file: header column {} is {}, expected \"{want}\"",
                        i + 1,
                        quoted(got)
                    ),
                ))
            }
            None => {
                return Err(IngestError::line(
                    &file.name,
                    1,
                    format!(
                        "not a data.police.uk {kind} file: header has {} columns, expected {} (missing \"{want}\")",
                        found.len(),
                        expected.len()
                    ),
                ))
            }
        }
    }
    if found.len() > expected.len() {
        return Err(IngestError::line(
            &file.name,
            1,
            format!(
                "not a data.police.uk {kind} file: header has {} columns, expected {}",
                found.len(),
                expected.len()
            ),
        ));
    }
    Ok(())
}

/// Cursor over the data rows of a police file with the file's unit, checking each row has the
/// header's width and the file's month.
pub(super) struct Rows {
    pub file: String,
    pub csv: CsvReader,
    pub record: csv::StringRecord,
    pub width: usize,
    pub line: u64,
    pub unit: PoliceFileUnit,
    /// A row read ahead to learn the unit of a file with a non-standard name.
    peeked: bool,
}

impl Rows {
    /// The rows of a police file whose header was read: checks the header is exactly
    /// `expected` (`what` names the kind of file in the error), then [`Rows::new`] with the
    /// Month and "Falls within" columns both kinds share.
    pub fn checked(
        file: &SourceFile,
        csv: CsvReader,
        header: &[String],
        expected: &[&str],
        kind: alliance_core::domain::PoliceFileKind,
        what: &str,
    ) -> Result<Rows, IngestError> {
        check_header(file, header, expected, what)?;
        Rows::new(file, csv, expected.len(), kind, 1, 3)
    }

    /// Prepares the rows; the unit comes from the file name when it is standard, otherwise
    /// from the first row's Month and force.
    pub fn new(
        file: &SourceFile,
        mut csv: CsvReader,
        width: usize,
        kind: alliance_core::domain::PoliceFileKind,
        month_col: usize,
        force_col: usize,
    ) -> Result<Rows, IngestError> {
        let mut record = csv::StringRecord::new();
        let (unit, peeked) = match unit_from_file_name(&file.name) {
            Some(unit) => (unit, false),
            None => {
                let has_row = csv.read_record(&mut record).map_err(|e| IngestError::from_csv(&file.name, e))?;
                if !has_row {
                    return Err(IngestError::file(
                        &file.name,
                        "the file has no rows and its name is not YYYY-MM-force-kind.csv, so its force and month are unknown",
                    ));
                }
                let line = record.position().map_or(2, |p| p.line());
                let month = parse_month(&file.name, line, "Month", record.get(month_col).unwrap_or(""))?;
                let force_name = record.get(force_col).unwrap_or("");
                let force = ForceSlug::from_force_name(force_name).ok_or_else(|| {
                    IngestError::cell(
                        &file.name,
                        line,
                        "Falls within",
                        format!("expected a police force name, found {}", quoted(force_name)),
                    )
                })?;
                (PoliceFileUnit { force, month, kind }, true)
            }
        };
        Ok(Rows { file: file.name.clone(), csv, record, width, line: 1, unit, peeked })
    }

    /// Advances to the next row; `false` at the end of the file.
    pub fn advance(&mut self) -> Result<bool, IngestError> {
        if self.peeked {
            self.peeked = false;
        } else if !self.csv.read_record(&mut self.record).map_err(|e| IngestError::from_csv(&self.file, e))? {
            return Ok(false);
        }
        self.line = self.record.position().map_or(self.line + 1, |p| p.line());
        if self.record.len() != self.width {
            if self.record.len() == 1 && self.record.get(0).is_some_and(|f| f.trim().is_empty()) {
                return Err(IngestError::line(&self.file, self.line, "blank line"));
            }
            return Err(IngestError::line(
                &self.file,
                self.line,
                format!("expected {} fields, found {}", self.width, self.record.len()),
            ));
        }
        Ok(true)
    }

    pub fn get(&self, col: usize) -> &str {
        self.record.get(col).unwrap_or("")
    }

    pub fn err(&self, column: &str, reason: impl Into<String>) -> IngestError {
        IngestError::cell(&self.file, self.line, column, reason)
    }

    /// The row's month, which must be the file's month.
    pub fn month(&self, col: usize) -> Result<Month, IngestError> {
        let month = parse_month(&self.file, self.line, "Month", self.get(col))?;
        if month != self.unit.month {
            return Err(
                self.err("Month", format!("expected {} (the file's month), found \"{month}\"", self.unit.month))
            );
        }
        Ok(month)
    }

    /// Longitude and latitude: both present and in range, or both empty.
    pub fn coordinates(&self, lon_col: usize, lat_col: usize) -> Result<Option<(f64, f64)>, IngestError> {
        let (lon, lat) = (self.get(lon_col).trim(), self.get(lat_col).trim());
        match (lon.is_empty(), lat.is_empty()) {
            (true, true) => Ok(None),
            (false, true) => Err(self.err("Latitude", "empty, but Longitude is given")),
            (true, false) => Err(self.err("Longitude", "empty, but Latitude is given")),
            (false, false) => {
                let lon = parse_degrees(lon, 180.0).map_err(|r| self.err("Longitude", r))?;
                let lat = parse_degrees(lat, 90.0).map_err(|r| self.err("Latitude", r))?;
                Ok(Some((lon, lat)))
            }
        }
    }

    pub fn lsoa(&self, col: usize) -> Result<Option<LsoaCode>, IngestError> {
        let text = self.get(col).trim();
        if text.is_empty() {
            return Ok(None);
        }
        text.parse()
            .map(Some)
            .map_err(|e: alliance_core::domain::area::AreaCodeError| self.err("LSOA code", requote(e, text)))
    }

    /// A text cell, `None` when empty.
    pub fn optional(&self, col: usize) -> Option<String> {
        let text = self.get(col).trim();
        (!text.is_empty()).then(|| text.to_string())
    }

    /// A text cell that must not be empty.
    pub fn required(&self, col: usize, column: &str) -> Result<String, IngestError> {
        self.optional(col).ok_or_else(|| self.err(column, "empty; a value is required"))
    }
}

fn parse_month(file: &str, line: u64, column: &str, text: &str) -> Result<Month, IngestError> {
    let text = text.trim();
    text.parse().map_err(|e: alliance_core::domain::month::MonthParseError| {
        IngestError::cell(file, line, column, requote(e, text))
    })
}

fn parse_degrees(text: &str, limit: f64) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() && v.abs() <= limit => Ok(v),
        Ok(_) => Err(format!("expected degrees between -{limit} and {limit}, found {}", quoted(text))),
        Err(_) => Err(format!("expected a decimal number of degrees, found {}", quoted(text))),
    }
}
