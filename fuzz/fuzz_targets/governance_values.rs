//! Governance indicator values CSV (text already in memory, as the web form gives it).
#![no_main]

use alliance_ingest::governance_values::parse_numbered_indicator_values_with_limits;
use alliance_ingest::Limits;
use alliance_ingest_fuzz::{check, small_limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((choice, rest)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let limits = if choice % 2 == 1 { small_limits() } else { Limits::default() };
    check(parse_numbered_indicator_values_with_limits("values.csv", text, &limits));
});
