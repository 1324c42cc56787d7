//! Parsers and validators for every source Alliance imports.
//!
//! Each source module turns a file into domain records from `alliance-core`, streaming, and
//! stops at the first bad row with an [`IngestError`] that names the file, the line, the
//! column and the reason. Writing the records is the storage crate's job.

pub mod areas;
pub mod ed;
pub mod error;
pub mod governance_values;
pub mod indicators;
pub mod oruk;
pub mod points;
pub mod police;
pub mod source;

pub use error::{IngestError, Location};
pub use source::SourceFile;
