//! Pure analytics over plain slices, shared by the CLI, the web app and the reports.

pub mod comparison;
pub mod evaluation;
pub mod poisson;
pub mod sna;
pub mod spatial;
pub mod suppression;
