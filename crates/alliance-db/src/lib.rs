//! Storage: the only crate that speaks SQL.
//!
//! One codebase over two backends through `sqlx`'s `Any` driver: embedded SQLite (the
//! default, a file in WAL mode) and PostgreSQL (when the URL says `postgres://`). Queries
//! are written once in the SQL both understand (`$1` parameters, `CAST(... AS BIGINT)`
//! around sums, no backend-specific types); each backend has its own migrations folder
//! with the same version numbers. Repository modules add methods to [`Db`] by area.

pub mod access;
pub mod accounts;
pub mod areas;
pub mod audit;
pub mod clock;
pub mod counts;
mod error;
pub mod evaluations;
pub mod governance;
pub mod imports;
pub mod interventions;
mod migrations;
pub mod ops;
pub mod params;
pub mod partner;
pub mod partnership;
pub mod places;
pub mod police;
mod pool;
pub mod postcodes;
pub mod public;
pub mod referrals;
pub mod sna;
pub mod sna_places;
pub mod spatial;
mod sqlite_read;
mod sqlite_wait;
mod submissions;
pub mod versions;

pub use error::DbError;
pub use pool::{Backend, Db, DEFAULT_DATABASE_URL};
