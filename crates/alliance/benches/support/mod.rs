//! What the command-level benchmarks share: where the shared data is, the demo partnership's
//! districts, and a process's peak memory. Each bench includes it with
//! `#[path = "support/mod.rs"] mod support;` (a folder without `main.rs` is no bench target).
#![allow(dead_code)] // each bench uses only part of it

use std::path::{Path, PathBuf};

/// The shared data folder (`../shared/data` beside the repository).
pub fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data")
}

/// Staffordshire and Stoke-on-Trent's local authority districts (the demo partnership).
pub const STAFFORDSHIRE: [&str; 9] = [
    "E06000021",
    "E07000192",
    "E07000193",
    "E07000194",
    "E07000195",
    "E07000196",
    "E07000197",
    "E07000198",
    "E07000199",
];

/// Files of `dir` whose names end with `suffix`, sorted.
pub fn files_in(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.to_string_lossy().ends_with(suffix)).collect())
        .unwrap_or_default();
    v.sort();
    v
}

/// The peak resident memory of this process in KiB (Linux), if known.
pub fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
