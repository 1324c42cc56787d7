//! Alliance's documents and the presentation shared by every front end.
//!
//! - [`chart`]: the one SVG toolkit (line and bar charts, maps), drawn on the server, each
//!   chart an image with a text alternative and a data table beside it.
//! - [`csv`]: the one CSV writer of every export.
//! - [`odt`] and [`pdf`]: the Board pack as an editable OpenDocument file and as a PDF, both
//!   written from the same blocks (`board_pack_text.rs`).
//! - [`html`]: the one HTML escaper (askama's) for the few places that build markup outside
//!   a template (the SVG toolkit).
//!
//! The three documents a partnership files or circulates (the Strategic Needs Assessment,
//! an intervention's evaluation, the quarterly Board pack) are rendered here from the models
//! of `alliance-app`, so the command line writes the same file the web serves.

pub mod board_pack;
mod board_pack_text;
pub mod chart;
pub mod csv;
pub mod evaluation;
pub mod html;
pub mod odt;
pub mod pdf;
pub mod sna;
