//! Times the Strategic Needs Assessment: imports all the shared police data (Staffordshire
//! and Gwent, street and outcomes) and the shared area data into a temporary SQLite database
//! once, then builds the full report (and renders the self-contained HTML) several times.
//! `cargo bench -p alliance --bench sna`. Figures: BENCHMARKS-sna.md.

use std::process::ExitCode;
use std::time::Instant;

use alliance_app::sna::{EdPermission, SnaReport, SnaRequest};
use alliance_app::Disclosure;
use alliance_core::domain::Month;
use alliance_db::Db;
use alliance_ingest::SourceFile;

#[path = "support/mod.rs"]
mod support;
use support::{files_in, shared, STAFFORDSHIRE};

async fn time(db: &Db, label: &str, request: &SnaRequest, runs: usize) {
    let mut times = Vec::new();
    let mut size = 0;
    let mut total = 0;
    for _ in 0..runs {
        let started = Instant::now();
        let report = SnaReport::build(db, request, &Disclosure::default()).await.expect("report");
        let html = alliance_reports::sna::standalone_html(&report);
        times.push(started.elapsed().as_secs_f64());
        size = html.len();
        total = report.headline_total;
    }
    times.sort_by(f64::total_cmp);
    println!(
        "{label:<44} median {:>6.3} s  min {:>6.3} s  max {:>6.3} s  ({runs} runs; {} KB HTML; headline {total})",
        times[runs / 2],
        times[0],
        times[runs - 1],
        size / 1024
    );
}

fn main() -> ExitCode {
    let data = shared();
    if !data.join("police").is_dir() {
        println!("SKIPPED: ../shared/data not found (looked for {})", data.display());
        return ExitCode::SUCCESS;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    runtime.block_on(async {
        let dir = tempfile::tempdir().expect("temporary folder");
        let db = Db::connect(&format!("sqlite://{}", dir.path().join("bench.db").display())).await.expect("db");
        let started = Instant::now();
        let lsoa = data.join("lsoa");
        let mut areas = vec![
            lsoa.join("File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv"),
            lsoa.join("File_6_-_IoD2019_Population_Denominators.csv"),
            lsoa.join("wimd2019_lsoa11.csv"),
        ];
        areas.extend(files_in(&lsoa.join("boundaries/lsoa11"), ".geojson"));
        areas.extend(files_in(&lsoa.join("boundaries/lsoa"), ".geojson"));
        for f in &areas {
            db.import_area_file(&SourceFile::from_path(f), "bench")
                .await
                .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        }
        let mut police = Vec::new();
        for force in ["staffordshire", "gwent"] {
            police.extend(files_in(&data.join("police").join(force), ".csv"));
        }
        let sources: Vec<SourceFile> = police.iter().map(|f| SourceFile::from_path(f)).collect();
        for (f, result) in
            police.iter().zip(db.import_police_files(&sources, "bench", &|_| {}).await.expect("police run"))
        {
            result.unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        }
        println!(
            "setup: {} area files and {} police files ({} records) imported in {:.1} s",
            areas.len(),
            police.len(),
            db.police_record_count().await.expect("count"),
            started.elapsed().as_secs_f64()
        );
        time(&db, "full report, all data (SQLite)", &SnaRequest::default(), 5).await;
        // Emergency department sections: 100,000 synthetic assaults, one file a year (an ISTV
        // reporting period is at most a year) for 2023 to 2025.
        let started = Instant::now();
        for (year, assaults) in [(2023, 33_334), (2024, 33_333), (2025, 33_333)] {
            let spec = alliance_ingest::ed::synthetic::GeneratorSpec {
                site_code: "RJE01".into(),
                from: chrono::NaiveDate::from_ymd_opt(year, 1, 1).expect("date"),
                to: chrono::NaiveDate::from_ymd_opt(year, 12, 31).expect("date"),
                assaults,
                seed: year as u64,
                streets: vec![],
            };
            let text = alliance_ingest::ed::synthetic::write(
                &alliance_ingest::ed::synthetic::generate(&spec),
                alliance_ingest::ed::EdFormat::Csv,
            );
            let name = format!("ed-bench-{year}.csv");
            db.import_ed_file(&SourceFile::from_bytes(&name, text.into_bytes()), "bench").await.expect("ed import");
        }
        println!("setup: 100,000 synthetic ED assaults imported in {:.1} s", started.elapsed().as_secs_f64());
        let with_ed = SnaRequest { ed: EdPermission::Included, ..SnaRequest::default() };
        time(&db, "full report with ED sections (SQLite)", &with_ed, 5).await;
        let m = |t: &str| t.parse::<Month>().ok();
        time(
            &db,
            "Staffordshire 2025 (9 districts)",
            &SnaRequest {
                areas: STAFFORDSHIRE.map(String::from).to_vec(),
                from: m("2025-01"),
                to: m("2025-12"),
                ed: EdPermission::Included,
                ..SnaRequest::default()
            },
            5,
        )
        .await;
        time(
            &db,
            "Gwent 2022-07..2024-06, one district",
            &SnaRequest { areas: vec!["W06000022".into()], ed: EdPermission::Included, ..SnaRequest::default() },
            5,
        )
        .await;
    });
    ExitCode::SUCCESS
}
