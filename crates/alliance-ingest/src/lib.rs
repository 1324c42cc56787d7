//! Parsers and validators for every source Alliance imports.
//!
//! Each source module turns a file into domain records from `alliance-core`, streaming, and
//! stops at the first bad row with an [`IngestError`] that names the file, the line, the
//! column and the reason. Writing the records is the storage crate's job.
//!
//! Every parser is bounded before it works: the [`Limits`] of its [`SourceFile`] cap the
//! decompressed size, the rows, the length of a field, a workbook's used range, XML and
//! JSON nesting, and a refusal quotes at most a short excerpt of the value ([`quoted`]).

pub mod archive;
pub mod areas;
mod bounded;
pub mod ed;
pub mod error;
pub mod governance_values;
pub mod indicators;
pub mod limits;
pub mod oruk;
pub mod points;
pub mod police;
pub mod postcodes;
pub mod source;
pub mod strategy;

pub use error::{brief, excerpt, quoted, IngestError, Location};
pub use limits::Limits;
pub use source::SourceFile;
