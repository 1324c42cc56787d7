//! The timer the hand-rolled benchmarks share (those without criterion): each includes it with
//! `#[path = "…/support/timing.rs"] mod timing;` (a folder without `main.rs` is no bench target).

use std::hint::black_box;
use std::time::{Duration, Instant};

/// Runs `f` repeatedly for about `budget` (and at least five times) after three warm-up runs;
/// returns (runs, median, minimum) per call.
pub fn time<T>(budget: Duration, mut f: impl FnMut() -> T) -> (usize, Duration, Duration) {
    for _ in 0..3 {
        black_box(f());
    }
    let mut samples = Vec::new();
    let start = Instant::now();
    while start.elapsed() < budget || samples.len() < 5 {
        let t = Instant::now();
        black_box(f());
        samples.push(t.elapsed());
    }
    samples.sort();
    (samples.len(), samples[samples.len() / 2], samples[0])
}
