//! GeoJSON area boundaries.
#![no_main]

use alliance_ingest_fuzz::{check, source};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let file = source("boundaries.geojson", data);
    check(alliance_ingest::areas::read_boundaries(&file));
});
