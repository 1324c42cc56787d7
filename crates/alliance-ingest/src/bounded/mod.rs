//! Readers that stop at a limit, so a parser never holds more than the limit allows.
//!
//! Each wraps the byte stream below a parser and fails with a [`Breach`] (inside an
//! `io::Error`) the moment a bound of [`Limits`](crate::Limits) is passed: before the CSV
//! reader has buffered an oversized field, before a JSON parser descends past the depth
//! limit, before the XML reader copies an endless tag. [`IngestError::io`](crate::IngestError::io)
//! turns the breach back into [`IngestError::TooLarge`](crate::IngestError::TooLarge) with the
//! file, line and field it names.

mod breach;
pub(crate) mod capped;
mod csv;
mod json;
mod xml;

pub(crate) use breach::Breach;
pub(crate) use capped::Capped;
pub(crate) use csv::{open_csv, CsvGuard};
pub(crate) use json::JsonDepth;
pub(crate) use xml::XmlSource;
