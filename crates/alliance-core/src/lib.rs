//! Alliance's domain types and pure analytics.
//!
//! This crate is the bottom of the workspace: it does no I/O, no async, no SQL and no
//! HTTP, so every figure Alliance publishes can be tested here on hand-worked examples
//! and shared by the CLI, the web app and the report builder.

pub mod access;
pub mod analytics;
pub mod codes;
pub mod domain;
pub mod format;
pub mod geo;
pub mod governance;
pub mod logo;
pub mod partnership;
pub mod referrals;
