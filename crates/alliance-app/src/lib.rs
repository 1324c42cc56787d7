//! Alliance's application layer: one home for each use case, between storage
//! (`alliance-db`) and the two front ends (`alliance-web` and the `alliance` command line).
//!
//! A use case here parses nothing from HTTP or the terminal and renders nothing: it takes
//! typed requests, checks the rules that involve stored data, calls the pure analytics of
//! `alliance-core` and the repositories of `alliance-db`, and returns a model that a page, a
//! report file or a JSON reply turns into output. Both front ends call the same functions,
//! so the web and the command line cannot disagree.

pub mod accounts;
pub mod board_pack;
pub mod bounds;
pub mod counts;
pub mod definition;
pub mod directory;
pub mod disclosure;
pub mod ed_release;
mod error;
pub mod evaluation;
pub mod forces;
pub mod imports;
pub mod indicators;
pub mod mail;
pub mod password;
pub mod places;
pub mod postcodes;
pub mod referrals;
pub mod report_area;
pub mod sna;
pub mod spatial;
pub mod strategies;

pub use disclosure::Disclosure;
pub use error::AppError;
