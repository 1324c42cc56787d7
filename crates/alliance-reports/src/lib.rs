//! Alliance's documents and the presentation shared by every front end.
//!
//! - [`chart`]: the one SVG toolkit (line and bar charts, maps), drawn on the server, each
//!   chart an image with a text alternative and a data table beside it.
//! - [`csv`]: the one CSV writer of every export.
//! - [`html`]: the one HTML escaper (askama's) for the few places that build markup outside
//!   a template (the SVG toolkit).
//!
//! The three documents a partnership files or circulates (the Strategic Needs Assessment,
//! an intervention's evaluation, the quarterly Board pack) are rendered here from the models
//! of `alliance-app`, so the command line writes the same file the web serves.

pub mod board_pack;
pub mod chart;
pub mod csv;
pub mod evaluation;
pub mod html;
pub mod odt;
pub mod sna;
