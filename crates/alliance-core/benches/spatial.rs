//! Timings of the spatial analytics on synthetic, seeded data, against the targets of issues
//! 5 and 15. Run with `cargo bench -p alliance-core --bench spatial` (criterion; add a
//! name to run one group, e.g. `-- issue15`). Figures are recorded in BENCHMARKS-spatial.md.
//!
//! Issue 15 targets: Gi* with the false discovery rate correction on the normal p-values over
//! about 44,500 cells under 0.3 s; an emerging hot spot analysis of about 45,000 cells × 24
//! monthly slices under 5 s.

use alliance_core::analytics::spatial::hotspot_table::{
    local_hotspots_with, GridUnits, HotspotSettings, HotspotStatistic,
};
use alliance_core::analytics::spatial::optimized::{choose_band, spacing};
use alliance_core::analytics::spatial::{
    emerging_hot_spots, gi_star, kde, knox, optimized_hot_spots, study_area_units, Alternative, Contiguity,
    DistanceMetric, EmergingOptions, Event, Kernel, KnoxOptions, OptimizedOptions, PermutationOptions,
    SignificanceFrom, SpaceTimeCube, Standardisation, StudyArea, Weights,
};
use alliance_core::geo::grid::GridSpec;
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use geo::{polygon, MultiPolygon};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Points clustered around a few hundred centres (like crime), plus background noise,
/// inside a `width × height` metre rectangle; with `snap`, clustered points are moved to the
/// centres of 50 m squares, as police points are snapped to a few thousand map points.
fn clustered_points(rng: &mut ChaCha8Rng, n: usize, width: f64, height: f64, snap: bool) -> Vec<(f64, f64)> {
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
                if snap {
                    let at = |v: f64, limit: f64| ((v / 50.0).floor() * 50.0 + 25.0).min(limit - 1.0);
                    (at(x, width), at(y, height))
                } else {
                    (x, y)
                }
            }
        })
        .collect()
}

/// A force-sized study area: a 52.75 km square, 211 × 211 = 44,521 cells of 250 m.
fn force_area() -> StudyArea {
    let side = 52_750.0;
    StudyArea::new(MultiPolygon(vec![
        polygon![(x: 0.0, y: 0.0), (x: side, y: 0.0), (x: side, y: side), (x: 0.0, y: side)],
    ]))
    .expect("area")
}

fn force_units(points: &[(f64, f64)]) -> GridUnits {
    study_area_units(points, 250.0, &force_area(), 200_000).expect("units").units
}

fn settings() -> HotspotSettings {
    HotspotSettings {
        statistic: HotspotStatistic::GiStar,
        permutation: PermutationOptions { permutations: 0, seed: 1, alternative: Alternative::TwoSided },
        alpha: 0.05,
        standardisation: Standardisation::Row,
    }
}

fn issue15(c: &mut Criterion) {
    let mut rng = ChaCha8Rng::seed_from_u64(15);
    // a year of a force's violence (Staffordshire 2025: 41,202)
    let points = clustered_points(&mut rng, 41_000, 52_750.0, 52_750.0, true);
    let units = force_units(&points);
    assert_eq!(units.cells.len(), 44_521);
    let mut group = c.benchmark_group("issue15");
    group.sample_size(10);

    // 354 m is queen contiguity at 250 m (the diagonal 353.6 m is in, 500 m is out)
    let weights = Weights::grid_distance_band(&units.cells, 250.0, 354.0).expect("weights");
    group.bench_function("gi_star_fdr_normal_44521_cells", |b| {
        b.iter(|| local_hotspots_with(black_box(&units.counts), &weights, &settings(), SignificanceFrom::Normal))
    });
    group.bench_function("gi_star_fdr_normal_44521_cells_with_weights_600m", |b| {
        b.iter(|| {
            let w = Weights::grid_distance_band(&units.cells, 250.0, 600.0).expect("weights");
            local_hotspots_with(black_box(&units.counts), &w, &settings(), SignificanceFrom::Normal)
        })
    });

    // 24 months of a force: 82,000 incidents over 44,521 cells × 24 slices
    let events = clustered_points(&mut rng, 82_000, 52_750.0, 52_750.0, true);
    let slice_of: Vec<Option<usize>> = events.iter().map(|_| Some(rng.gen_range(0..24))).collect();
    for band in [354.0, 600.0] {
        group.bench_function(format!("emerging_44521_cells_x_24_months_band_{band}m"), |b| {
            b.iter(|| {
                let (cube, _) = SpaceTimeCube::count(&units.grid, &units.cells, &events, &slice_of, 24).expect("cube");
                let w = Weights::grid_distance_band(&units.cells, 250.0, band).expect("weights");
                emerging_hot_spots(&cube, &w, &EmergingOptions::default()).expect("emerging")
            })
        });
    }

    // optimized hot spot analysis: cell size and band chosen from the data, then Gi*
    let area = force_area();
    group.bench_function("optimized_41000_incidents", |b| {
        b.iter(|| optimized_hot_spots(black_box(&points), &area, &OptimizedOptions::default()).expect("optimized"))
    });
    group.bench_function("optimized_part_spacing", |b| b.iter(|| spacing(black_box(&points)).expect("spacing")));
    let centres: Vec<(f64, f64)> = units.cells.iter().map(|&c| units.grid.centre(c)).collect();
    group.bench_function("optimized_part_band_44521_cells", |b| {
        b.iter(|| choose_band(&units.cells, 250.0, &centres, &units.counts, 10).expect("band"))
    });
    group.finish();
}

fn issue5(c: &mut Criterion) {
    let mut group = c.benchmark_group("issue5");
    group.sample_size(10);

    // Gi* with 999 permutations on a 200 × 200 grid, queen contiguity
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let grid = GridSpec::new(0.0, 0.0, 100.0, 200, 200).expect("grid");
    let pts = clustered_points(&mut rng, 200_000, 20_000.0, 20_000.0, false);
    let counts = alliance_core::geo::grid::count_points(&grid, &grid.all_cells(), &pts).expect("counts").counts;
    let weights = Weights::contiguity(&grid.all_cells(), Contiguity::Queen).expect("weights");
    let opts = PermutationOptions { permutations: 999, seed: 7, alternative: Alternative::TwoSided };
    group.bench_function("gi_star_999_permutations_200x200", |b| b.iter(|| gi_star(&counts, &weights, &opts)));

    // KDE quartic: 100,000 points onto a 173,290-cell grid (430 × 403 cells of 50 m)
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let grid = GridSpec::new(0.0, 0.0, 50.0, 430, 403).expect("grid");
    let pts = clustered_points(&mut rng, 100_000, 21_500.0, 20_150.0, false);
    group.bench_function("kde_quartic_400m_100000_points", |b| b.iter(|| kde(&pts, &grid, Kernel::Quartic, 400.0)));

    // Near repeat: 100,000 events over a year, breaks to 300 m and 28 days, 999 permutations
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let pts = clustered_points(&mut rng, 100_000, 20_000.0, 20_000.0, false);
    let events: Vec<Event> =
        pts.iter().map(|&(x, y)| Event { x: x.round(), y: y.round(), t: rng.gen_range(0..365) as f64 }).collect();
    let opts = KnoxOptions {
        space_breaks: vec![0.0, 1.0, 100.0, 200.0, 300.0, f64::INFINITY],
        time_breaks: vec![0.0, 7.0, 14.0, 21.0, 28.0, f64::INFINITY],
        metric: DistanceMetric::Manhattan,
        permutations: 999,
        seed: 11,
    };
    group.bench_function("knox_100000_events_999_permutations", |b| b.iter(|| knox(&events, &opts)));
    group.finish();
}

criterion_group!(benches, issue15, issue5);
criterion_main!(benches);
