//! Timings of small-number suppression (primary and secondary, `Suppression::table`) on
//! seeded tables shaped like the partner data pages publish, up to a large one. Run with
//! `cargo bench -p alliance-app --bench suppression`; prints a table (median and minimum
//! per call over about 2 s, after three warm-up runs).

use std::hint::black_box;
use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

#[path = "../../alliance-core/benches/support/timing.rs"]
mod timing;
use timing::time;

/// A `rows × columns` table of counts in which about `small` of the cells are 1 to 4 and
/// the rest 0 or 5 to 60 (partner counts are mostly small: the hard case for suppression).
fn table(rng: &mut ChaCha8Rng, rows: usize, columns: usize, small: f64) -> Vec<Vec<u64>> {
    (0..rows)
        .map(|_| {
            (0..columns)
                .map(|_| {
                    if rng.gen_bool(small) {
                        rng.gen_range(1..5)
                    } else if rng.gen_bool(0.1) {
                        0
                    } else {
                        rng.gen_range(5..60)
                    }
                })
                .collect()
        })
        .collect()
}

fn main() {
    let budget = Duration::from_secs(2);
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let s = alliance_app::Disclosure::default();
    let cases = [
        ("hour of day × day of week (24 × 7), 30% small", 24, 7, 0.3),
        ("LSOA × month (300 × 12), 30% small", 300, 12, 0.3),
        ("large: 2,000 × 50 (100,000 cells), 20% small", 2_000, 50, 0.2),
    ];
    for (name, rows, columns, small) in cases {
        let cells = table(&mut rng, rows, columns, small);
        let out = s.table(&cells);
        let hidden = out.cells.iter().flatten().filter(|c| c.is_hidden()).count();
        let (runs, median, min) = time(budget, || s.table(black_box(&cells)));
        println!(
            "{name:<48} runs {runs:>6}   median {median:>11.3?}   min {min:>11.3?}   ({hidden} of {} cells hidden)",
            rows * columns
        );
    }
}
