//! Points CSV for the spatial analyses.
#![no_main]

use alliance_ingest_fuzz::{check, source};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let file = source("points.csv", data);
    check(alliance_ingest::points::read_points(&file));
});
