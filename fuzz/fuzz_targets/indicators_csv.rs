//! Partner indicator CSV.
#![no_main]

use alliance_ingest_fuzz::{check, source};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let file = source("indicators.csv", data);
    check(alliance_ingest::indicators::read_indicator_file(&file));
});
