//! Postcode files: an ONS Postcode Directory or Code-Point Open CSV (told by its header).
#![no_main]

use alliance_ingest_fuzz::{check, source};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let file = source("postcodes.csv", data);
    check(alliance_ingest::postcodes::read_postcodes(&file, &std::collections::HashSet::new()));
});
