//! The error a bounded reader raises, carried through `io::Error` and the libraries above it.

use std::fmt;
use std::sync::Arc;

use crate::error::Location;
use crate::IngestError;

/// A limit passed: where, and which.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Breach {
    pub line: Option<u64>,
    pub column: Option<String>,
    pub reason: String,
}

impl fmt::Display for Breach {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

impl std::error::Error for Breach {}

impl Breach {
    pub fn new(line: Option<u64>, reason: impl Into<String>) -> Breach {
        Breach { line, column: None, reason: reason.into() }
    }

    pub fn in_column(mut self, column: impl Into<String>) -> Breach {
        self.column = Some(column.into());
        self
    }

    /// The breach as an I/O error, for a reader to return.
    pub fn into_io(self) -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::InvalidData, self)
    }

    pub fn into_error(self, file: &str) -> IngestError {
        IngestError::too_large(Location::new(file, self.line, self.column.as_deref()), self.reason)
    }

    /// The breach an I/O error carries, if any.
    pub fn of_io(err: &std::io::Error) -> Option<Breach> {
        err.get_ref().and_then(|inner| inner.downcast_ref::<Breach>()).cloned()
    }

    /// The breach anywhere in an error's chain of sources (libraries wrap the I/O error of
    /// the reader they were given, some of them in an `Arc`).
    pub fn find(err: &(dyn std::error::Error + 'static)) -> Option<Breach> {
        let mut current = Some(err);
        while let Some(e) = current {
            if let Some(b) = e.downcast_ref::<Breach>() {
                return Some(b.clone());
            }
            if let Some(b) = e.downcast_ref::<std::io::Error>().and_then(Breach::of_io) {
                return Some(b);
            }
            if let Some(b) = e.downcast_ref::<Arc<std::io::Error>>().and_then(|io| Breach::of_io(io)) {
                return Some(b);
            }
            current = e.source();
        }
        None
    }
}
