//! The report form's street lookup (`Db::locate_place`): building the in-memory street index
//! from the imported police data and the ward boundaries (once per import generation), and
//! looking typed places up in it, on the bundled demo data (Staffordshire 2025, 102,517
//! crimes).
//!
//! Run: `cargo bench -p alliance --bench streets`. Figures: `crates/alliance/BENCHMARKS-streets.md`.

use std::time::{Duration, Instant};

use alliance_db::public::streets::PlaceLookup;
use alliance_db::Db;

/// Typed places of each kind the lookup meets: a unique street, a shared one, a shared one
/// with its town, a ward, and nothing at all.
const QUERIES: [&str; 5] = ["huntbach st", "church street", "church st stoke-on-trent", "Etruria & Hanley", "atlantis"];

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort_unstable();
    times[times.len() / 2]
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("bench.db").display());
        let db = Db::connect(&url).await.expect("db");
        alliance::demo::load_if_empty(&db).await.expect("demo data");
        let crimes = db.police_record_count().await.expect("count");

        // A fresh handle has an empty cache, so its first lookup builds the index.
        let mut builds = Vec::new();
        let mut places = 0;
        for _ in 0..7 {
            let fresh = Db::connect(&url).await.expect("db");
            let started = Instant::now();
            let gazetteer = fresh.street_gazetteer().await.expect("street index");
            builds.push(started.elapsed());
            places = gazetteer.index.places().len();
            fresh.close().await;
        }

        let rounds = 200;
        let started = Instant::now();
        let mut found = 0;
        for _ in 0..rounds {
            for q in QUERIES {
                if !matches!(db.locate_place(q).await.expect("lookup"), PlaceLookup::NotFound) {
                    found += 1;
                }
            }
        }
        let per_lookup = started.elapsed() / (rounds * QUERIES.len() as u32);
        assert_eq!(found, rounds as usize * (QUERIES.len() - 1), "every query but the last is found");

        println!("street index from {crimes} crimes: {places} street places");
        println!(
            "build: median {:.0} ms of {} (min {:.0} ms, max {:.0} ms)",
            median(builds.clone()).as_secs_f64() * 1000.0,
            builds.len(),
            builds.iter().min().expect("builds").as_secs_f64() * 1000.0,
            builds.iter().max().expect("builds").as_secs_f64() * 1000.0
        );
        println!("lookup (cached index, one import-generation query each): {:.1} µs", per_lookup.as_secs_f64() * 1e6);
    });
}
