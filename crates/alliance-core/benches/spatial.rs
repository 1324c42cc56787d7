//! Timings of the spatial analytics on synthetic, seeded data, against the targets of
//! issue 5. Run with `cargo bench -p alliance-core --bench spatial`; prints a table.

use alliance_core::analytics::spatial::{
    gi_star, kde, knox, Alternative, Contiguity, DistanceMetric, Event, Kernel, KnoxOptions, PermutationOptions,
    Weights,
};
use alliance_core::geo::grid::GridSpec;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::time::{Duration, Instant};

/// Points clustered around a few hundred centres (like crime), plus background noise,
/// inside a `width × height` metre rectangle.
fn clustered_points(rng: &mut ChaCha8Rng, n: usize, width: f64, height: f64) -> Vec<(f64, f64)> {
    let centres: Vec<(f64, f64)> = (0..300).map(|_| (rng.gen_range(0.0..width), rng.gen_range(0.0..height))).collect();
    (0..n)
        .map(|_| {
            if rng.gen_bool(0.3) {
                (rng.gen_range(0.0..width), rng.gen_range(0.0..height))
            } else {
                let (cx, cy) = centres[rng.gen_range(0..centres.len())];
                // a rough normal from the sum of uniforms, sd ≈ 250 m
                let g = |rng: &mut ChaCha8Rng| -> f64 {
                    (0..4).map(|_| rng.gen_range(-1.0..1.0)).sum::<f64>() * 250.0 / 1.1547
                };
                let x = (cx + g(rng)).clamp(0.0, width - 1e-6);
                let y = (cy + g(rng)).clamp(0.0, height - 1e-6);
                (x, y)
            }
        })
        .collect()
}

fn time<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let out = f();
    (out, start.elapsed())
}

fn main() {
    let threads = rayon::current_num_threads();
    let mut rows: Vec<(String, Duration, &str)> = Vec::new();

    // 1. Gi* with 999 permutations on a 200 × 200 grid, queen contiguity
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let grid = GridSpec::new(0.0, 0.0, 100.0, 200, 200).expect("grid");
    let pts = clustered_points(&mut rng, 200_000, 20_000.0, 20_000.0);
    let counts = alliance_core::geo::grid::count_points(&grid, &grid.all_cells(), &pts).expect("counts").counts;
    let weights = Weights::contiguity(&grid.all_cells(), Contiguity::Queen).expect("weights");
    let opts = PermutationOptions { permutations: 999, seed: 7, alternative: Alternative::TwoSided };
    let (report, elapsed) = time(|| gi_star(&counts, &weights, &opts).expect("gi*"));
    let hot = report.results.iter().filter(|r| r.p_sim.unwrap_or(1.0) < 0.01).count();
    rows.push((format!("Gi*, 999 permutations, 200×200 grid ({hot} cells p_sim < 0.01)"), elapsed, "< 0.5 s"));

    // 2. KDE quartic: 100,000 points onto a 173,290-cell grid (430 × 403 cells of 50 m)
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let grid = GridSpec::new(0.0, 0.0, 50.0, 430, 403).expect("grid");
    let pts = clustered_points(&mut rng, 100_000, 21_500.0, 20_150.0);
    let (density, elapsed) = time(|| kde(&pts, &grid, Kernel::Quartic, 400.0).expect("kde"));
    let peak = density.iter().cloned().fold(0.0, f64::max);
    rows.push((
        format!("KDE quartic r = 400 m, 100,000 points → {} cells (peak {peak:.0}/km²)", grid.len()),
        elapsed,
        "< 0.5 s",
    ));

    // 3. Near repeat: 100,000 events over a year, breaks to 300 m and 28 days, 999 perms
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let pts = clustered_points(&mut rng, 100_000, 20_000.0, 20_000.0);
    let events: Vec<Event> =
        pts.iter().map(|&(x, y)| Event { x: x.round(), y: y.round(), t: rng.gen_range(0..365) as f64 }).collect();
    let opts = KnoxOptions {
        space_breaks: vec![0.0, 1.0, 100.0, 200.0, 300.0, f64::INFINITY],
        time_breaks: vec![0.0, 7.0, 14.0, 21.0, 28.0, f64::INFINITY],
        metric: DistanceMetric::Manhattan,
        permutations: 999,
        seed: 11,
    };
    let (result, elapsed) = time(|| knox(&events, &opts).expect("knox"));
    rows.push((
        format!("Near repeat (Knox), 100,000 events, 999 permutations ({} close pairs)", result.close_pairs),
        elapsed,
        "< 30 s",
    ));

    println!("\nspatial benchmarks ({threads} rayon threads)\n");
    println!("| workload | time | target |");
    println!("|---|---:|---|");
    for (name, d, target) in rows {
        println!("| {name} | {:.3} s | {target} |", d.as_secs_f64());
    }
}
