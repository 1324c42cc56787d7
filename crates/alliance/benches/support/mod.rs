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

/// Imports every police file under `dir` into `db` as fresh imports and prints the child's
/// `RESULT files rows seconds peak_kib` line (the parent reads it). Panics on a file that
/// fails or was already imported: a benchmark must time the whole work.
pub async fn import_police_dir(db: &alliance_db::Db, dir: &Path) {
    use alliance_db::imports::ImportOutcome;
    let started = std::time::Instant::now();
    let files =
        alliance_ingest::source::collect_files(&[dir.to_path_buf()], alliance_ingest::police::is_police_file_name)
            .expect("list files");
    let sources: Vec<alliance_ingest::SourceFile> =
        files.iter().map(|p| alliance_ingest::SourceFile::from_path(p)).collect();
    let mut rows = 0i64;
    for (path, result) in files.iter().zip(db.import_police_files(&sources, "bench", &|_| {}).await.expect("run")) {
        match result {
            Ok(ImportOutcome::Imported { counts, .. }) => rows += counts.rows_read,
            Ok(other) => panic!("{}: expected a fresh import, got {other:?}", path.display()),
            Err(e) => panic!("{}: {e}", path.display()),
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    println!("RESULT {} {rows} {seconds:.3} {}", files.len(), peak_rss_kib().unwrap_or(0));
}

/// Runs `bench` with the URL of a scratch PostgreSQL database (named `<prefix>_<pid>_<time>`)
/// made on `ALLIANCE_TEST_POSTGRES` (the local server by default) and dropped afterwards:
/// `None`, saying SKIPPED, when the server is not reachable.
pub fn on_scratch_postgres<T>(
    runtime: &tokio::runtime::Runtime,
    prefix: &str,
    bench: impl FnOnce(&str) -> T,
) -> Option<T> {
    use sqlx::Connection;
    let server = std::env::var("ALLIANCE_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string());
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    let name = format!("{prefix}_{}_{}", std::process::id(), nanos % 1_000_000_000);
    let admin = runtime.block_on(async {
        let mut conn = sqlx::postgres::PgConnection::connect(&server).await.ok()?;
        sqlx::query(&format!("CREATE DATABASE \"{name}\"")).execute(&mut conn).await.ok()?;
        Some(conn)
    });
    let Some(mut conn) = admin else {
        println!("PostgreSQL SKIPPED: not reachable at {server} (set ALLIANCE_TEST_POSTGRES)");
        return None;
    };
    let base = server.rsplit_once('/').map_or(server.as_str(), |(b, _)| b);
    let result = bench(&format!("{base}/{name}"));
    runtime.block_on(async {
        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).execute(&mut conn).await;
    });
    Some(result)
}
