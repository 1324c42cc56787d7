//! Timing for the intervention evaluation statistics (filled in below).
fn main() {}
