//! Open Referral UK import: parsing an ORUK JSON service list (`alliance_ingest::oruk`) and
//! importing it into SQLite (`Db::import_services_file`: parse, validate, upsert in one
//! transaction), for a directory of 1,000 services made from the five clearly-marked
//! examples in `data/seed/services-example.json` (ids and names numbered).
//!
//! Run: `cargo bench -p alliance --bench oruk`. Figures: `crates/alliance/BENCHMARKS-oruk.md`.

use std::path::Path;

use alliance_db::Db;
use alliance_ingest::SourceFile;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use serde_json::Value;

const SERVICES: usize = 1_000;

/// An ORUK list of `n` services: the examples repeated with numbered ids and names.
fn directory(n: usize) -> Vec<u8> {
    let seed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/seed/services-example.json");
    let text = std::fs::read_to_string(&seed).expect("the example services");
    let examples: Vec<Value> = serde_json::from_str(&text).expect("an ORUK list");
    let services: Vec<Value> = (0..n)
        .map(|i| {
            let mut s = examples[i % examples.len()].clone();
            s["id"] = Value::from(format!("bench-{i:05}"));
            let name = format!("{} {i}", s["name"].as_str().unwrap_or("Service"));
            s["name"] = Value::from(name);
            s
        })
        .collect();
    serde_json::to_vec(&services).expect("JSON")
}

fn oruk(c: &mut Criterion) {
    let bytes = directory(SERVICES);
    let mut group = c.benchmark_group("oruk");
    group.throughput(Throughput::Elements(SERVICES as u64));
    group.sample_size(20);

    group.bench_function("parse 1000 services", |b| {
        b.iter_batched(
            || SourceFile::from_bytes("services.json", bytes.clone()),
            |file| alliance_ingest::oruk::read_services(&file).expect("valid"),
            BatchSize::SmallInput,
        )
    });

    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
    let dir = tempfile::tempdir().expect("a temporary folder");
    let db = rt
        .block_on(Db::connect(&format!("sqlite://{}", dir.path().join("bench.db").display())))
        .expect("a SQLite database");
    group.bench_function("import 1000 services into SQLite", |b| {
        b.iter_batched(
            || SourceFile::from_bytes("services.json", bytes.clone()),
            |file| {
                let n = rt.block_on(db.import_services_file(&file)).expect("imported");
                assert_eq!(n, SERVICES);
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(benches, oruk);
criterion_main!(benches);
