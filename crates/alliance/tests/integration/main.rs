//! The black-box tests of Alliance, one module per capability.
//!
//! They are compiled into this one test binary rather than one binary per file: every
//! binary links the whole application, so thirteen of them cost thirteen links and
//! several gigabytes of disk, which a CI machine does not always have. Run one area with
//! `cargo test -p alliance --test integration police_import::`.

// `#[macro_use]` here (not on a `use`) gives every module below `on_each_backend!`.
#[macro_use]
mod common;

mod access;
mod accounts;
mod adversarial;
mod api_contract;
mod area_figures;
mod audit_checkpoint;
mod board_pack_pdf;
mod browser;
mod cli;
mod crash;
mod disclosure_attack;
mod editors;
mod evaluate;
mod form_keys;
mod governance;
mod governance_web;
mod headers;
mod imports_concurrency;
mod indicators;
mod located;
mod month_counts;
mod national;
mod ops;
mod partner_access;
mod partner_data;
mod partnership;
mod partnerships;
mod places;
mod police_import;
mod postcodes;
mod public;
mod referral_feed;
mod referrals;
mod sharing_approval;
mod sharing_renewal;
mod sna;
mod spatial;
mod strategies;
mod tiles;
mod versions;
mod walkthrough;
mod web;
mod web_imports;
