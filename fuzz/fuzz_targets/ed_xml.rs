//! ED assault (ISTV) XML.
#![no_main]

use alliance_ingest_fuzz::{check, source};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let file = source("ed.xml", data);
    check(alliance_ingest::ed::read_ed_file(&file));
});
