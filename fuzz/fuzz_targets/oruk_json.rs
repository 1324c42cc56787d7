//! Open Referral UK service JSON.
#![no_main]

use alliance_ingest_fuzz::{check, source};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let file = source("services.json", data);
    check(alliance_ingest::oruk::read_services(&file));
});
