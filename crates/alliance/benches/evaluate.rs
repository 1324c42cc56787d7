//! Intervention evaluation end to end on the shared Staffordshire data: resolving the areas,
//! fetching the located crimes near them, the spatial selection and the statistics.
//!
//! Loads eight street files (2024-01..04 and 2025-01..04, about 68,000 rows) and the
//! Stoke-on-Trent LSOA 2021 boundaries into a fresh SQLite database, then times
//! `alliance_app::evaluation::run` for three designs (three warm-up runs, then repeated runs for about
//! 2 s each; median and minimum). Run with `cargo bench -p alliance --bench evaluate`.

use std::time::{Duration, Instant};

use alliance_app::evaluation::{self, AreaSpec, EvaluationDesign};
use alliance_core::domain::MonthRange;
use alliance_db::Db;
use alliance_ingest::SourceFile;

#[path = "support/mod.rs"]
mod support;
use support::shared;

fn range(text: &str) -> MonthRange {
    let (a, b) = text.split_once("..").expect("range");
    MonthRange::new(a.parse().expect("month"), b.parse().expect("month")).expect("range")
}

fn design(target: &[&str], comparison: Option<AreaSpec>) -> EvaluationDesign {
    EvaluationDesign {
        target: AreaSpec::Lsoa { codes: target.iter().map(|c| c.to_string()).collect() },
        buffer_metres: Some(200.0),
        comparison,
        before: range("2024-01..2024-04"),
        after: range("2025-01..2025-04"),
        crime_types: Vec::new(),
        harm_weights: None,
        selected_for_high_crime: false,
        history_months: 24,
        labels: None,
    }
}

fn main() {
    let data = shared();
    if !data.join("police").is_dir() {
        eprintln!("SKIPPED: ../shared/data not found");
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = Db::connect(&format!("sqlite://{}", dir.path().join("bench.db").display())).await.expect("db");
        let months = ["2024-01", "2024-02", "2024-03", "2024-04", "2025-01", "2025-02", "2025-03", "2025-04"];
        let files: Vec<SourceFile> = months
            .iter()
            .map(|m| SourceFile::from_path(&data.join(format!("police/staffordshire/{m}-staffordshire-street.csv"))))
            .collect();
        for result in db.import_police_files(&files, "bench", &|_| {}).await.expect("police run") {
            result.expect("import");
        }
        let boundaries = data.join("lsoa/boundaries/lsoa/E06000021.geojson");
        db.import_area_file(&SourceFile::from_path(&boundaries), "bench").await.expect("boundaries");

        // Stoke-on-Trent 001A-E (north of the city) and 035A-H (south).
        let target = ["E01014257", "E01014258", "E01014259", "E01014260", "E01014264"];
        let control = db.lsoas(2021).await.expect("lsoas");
        let control: Vec<String> =
            control.iter().filter(|l| l.name.starts_with("Stoke-on-Trent 035")).map(|l| l.code.clone()).collect();
        let circle = serde_json::json!({"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {"radius_metres": 400}, "geometry": {"type": "Point", "coordinates": [-2.1797, 53.0258]}}]});
        let cases = [
            ("5 LSOAs + 200 m buffer + 8 chosen comparison LSOAs", design(&target, Some(AreaSpec::Lsoa { codes: control }))),
            ("5 LSOAs + 200 m buffer + 5 suggested comparison LSOAs (Stoke-on-Trent candidates)", design(&target, Some(AreaSpec::Suggested { count: 5 }))),
            (
                "400 m circle (Hanley) + 200 m buffer + 5 suggested comparison LSOAs",
                EvaluationDesign {
                    target: AreaSpec::Geojson { geojson: circle },
                    ..design(&target, Some(AreaSpec::Suggested { count: 5 }))
                },
            ),
        ];
        println!("| design | crimes considered | target before/after | median | min |");
        println!("|---|---|---|---|---|");
        for (name, design) in cases {
            for _ in 0..3 {
                evaluation::run(&db, &design).await.expect("evaluate");
            }
            let mut times = Vec::new();
            let started = Instant::now();
            let mut last = None;
            while started.elapsed() < Duration::from_secs(2) || times.len() < 5 {
                let t = Instant::now();
                last = Some(evaluation::run(&db, &design).await.expect("evaluate"));
                times.push(t.elapsed());
            }
            times.sort();
            let r = last.expect("a run");
            println!(
                "| {name} | {} | {}/{} | {:.1} ms | {:.1} ms |",
                r.basis.data.crimes_considered,
                r.result.areas.target.counts.before,
                r.result.areas.target.counts.after,
                times[times.len() / 2].as_secs_f64() * 1e3,
                times[0].as_secs_f64() * 1e3
            );
        }
        db.close().await;
    });
}
