//! ED assault (ISTV) CSV.
#![no_main]

use alliance_ingest_fuzz::{check, source};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let file = source("ed.csv", data);
    check(alliance_ingest::ed::read_ed_file(&file));
});
