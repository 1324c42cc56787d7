//! The one error type of ingest: where in which file, and why.

use std::fmt;

/// Where a problem is: the file, and where known the line (1-based, the header is line 1)
/// and the column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: String,
    pub line: Option<u64>,
    pub column: Option<String>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(column) = &self.column {
            write!(f, ": column \"{column}\"")?;
        }
        Ok(())
    }
}

/// A file that cannot be imported, and why. Displays as
/// `2025-03-staffordshire-street.csv:812: column "Month": expected YYYY-MM, found "2025-13"`.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("{location}: {reason}")]
    Invalid { location: Location, reason: String },
    #[error("{file}: cannot read: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
}

impl IngestError {
    /// A problem in one cell.
    pub fn cell(file: &str, line: u64, column: &str, reason: impl Into<String>) -> IngestError {
        IngestError::Invalid {
            location: Location { file: file.to_string(), line: Some(line), column: Some(column.to_string()) },
            reason: reason.into(),
        }
    }

    /// A problem with a whole line (e.g. the wrong number of fields).
    pub fn line(file: &str, line: u64, reason: impl Into<String>) -> IngestError {
        IngestError::Invalid {
            location: Location { file: file.to_string(), line: Some(line), column: None },
            reason: reason.into(),
        }
    }

    /// A problem with the file as a whole (its name, its kind).
    pub fn file(file: &str, reason: impl Into<String>) -> IngestError {
        IngestError::Invalid {
            location: Location { file: file.to_string(), line: None, column: None },
            reason: reason.into(),
        }
    }

    pub fn io(file: &str, source: std::io::Error) -> IngestError {
        IngestError::Io { file: file.to_string(), source }
    }

    /// Turns a CSV reader error into a located error.
    pub(crate) fn from_csv(file: &str, err: csv::Error) -> IngestError {
        let line = err.position().map(|p| p.line());
        match err.into_kind() {
            csv::ErrorKind::Io(source) => IngestError::io(file, source),
            csv::ErrorKind::Utf8 { err, .. } => IngestError::Invalid {
                location: Location { file: file.to_string(), line, column: None },
                reason: format!("not valid UTF-8 text ({err})"),
            },
            csv::ErrorKind::UnequalLengths { expected_len, len, .. } => IngestError::Invalid {
                location: Location { file: file.to_string(), line, column: None },
                reason: format!("expected {expected_len} fields, found {len}"),
            },
            other => IngestError::Invalid {
                location: Location { file: file.to_string(), line, column: None },
                reason: format!("malformed CSV ({other:?})"),
            },
        }
    }
}
