//! Import throughput of partner data into SQLite: a generated ED file of 100,000 SYNTHETIC
//! assaults (parse, geocode against the built-in street list as venues, write) and an
//! indicator CSV of 100,000 values. Run: `cargo bench -p alliance-db --bench partner`.

use std::time::Instant;

use alliance_db::partner::gazetteer::NewVenue;
use alliance_db::Db;
use alliance_ingest::ed::synthetic::{generate, write, GeneratorSpec, BUILT_IN_STREETS};
use alliance_ingest::ed::EdFormat;
use alliance_ingest::SourceFile;

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
    rt.block_on(async {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let db = Db::connect(&format!("sqlite://{}", dir.path().join("bench.db").display())).await.expect("db");
        // A gazetteer: the built-in streets as places in one district.
        for (i, name) in BUILT_IN_STREETS.iter().enumerate() {
            db.upsert_venue(&NewVenue {
                name,
                kind: "street",
                district_code: Some("E06000021"),
                longitude: -2.18 + i as f64 * 1e-3,
                latitude: 53.02,
                source: "bench",
            })
            .await
            .expect("venue");
        }
        for format in [EdFormat::Csv, EdFormat::Xml] {
            let spec = GeneratorSpec {
                site_code: if format == EdFormat::Csv { "RJE01".into() } else { "RJE02".into() },
                from: chrono::NaiveDate::from_ymd_opt(2024, 4, 1).expect("date"),
                to: chrono::NaiveDate::from_ymd_opt(2025, 3, 31).expect("date"),
                assaults: 100_000,
                seed: 7,
                streets: vec![],
            };
            let text = write(&generate(&spec), format);
            let name = if format == EdFormat::Csv { "ed.csv" } else { "ed.xml" };
            let file = SourceFile::from_bytes(name, text.into_bytes());
            let started = Instant::now();
            let report = db.import_ed_file(&file, "bench").await.expect("import");
            let s = started.elapsed().as_secs_f64();
            println!(
                "ED {name}: 100000 assaults in {s:.2} s ({:.0} assaults/s); geocoding {:?}",
                100_000.0 / s,
                report.geocoding
            );
        }
        let mut csv = String::from("indicator,area_code,period,value,age_band,sex\n");
        let mut n = 0;
        'outer: for ind in 0..10 {
            for area in 0..1000 {
                for month in 1..=10 {
                    csv.push_str(&format!("Indicator {ind},E01{:06},2025-{month:02},{},,\n", 10_000 + area, area % 37));
                    n += 1;
                    if n == 100_000 {
                        break 'outer;
                    }
                }
            }
        }
        let file = SourceFile::from_bytes("indicators.csv", csv.into_bytes());
        let started = Instant::now();
        db.import_indicator_file(&file, "bench").await.expect("import");
        let s = started.elapsed().as_secs_f64();
        println!("indicators.csv: {n} values in {s:.2} s ({:.0} values/s)", n as f64 / s);
        db.close().await;
    });
}
