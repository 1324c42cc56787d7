//! data.police.uk outcomes CSV, through the streaming reader to the last row.
#![no_main]

use alliance_ingest_fuzz::{check, source};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let file = source("2025-03-staffordshire-outcomes.csv", data);
    check(alliance_ingest::police::OutcomesReader::open(&file).and_then(|r| r.collect::<Result<Vec<_>, _>>()));
});
