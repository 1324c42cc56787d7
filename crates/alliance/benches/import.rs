//! Import throughput: every data.police.uk file in `../shared/data/police/` (both forces,
//! street and outcomes, validation and indexes included) into a fresh SQLite database and,
//! when reachable, a fresh PostgreSQL database (`ALLIANCE_TEST_POSTGRES`, default
//! `postgres://postgres@127.0.0.1:5432/postgres`).
//!
//! Each backend runs in a child process of this binary, so the peak memory reported
//! (`VmHWM`, the process's resident high-water mark) belongs to that backend alone. Both run
//! on the same files in the same run, one after the other, and the last line gives the ratio of
//! their throughputs (PostgreSQL rows/s over SQLite rows/s): on a machine shared with other
//! work the absolute figures move with the load, the ratio much less.
//!
//! Run with `cargo bench -p alliance --bench import`.

use std::process::{Command, ExitCode};

use alliance_db::Db;

#[path = "support/mod.rs"]
mod support;
use support::{import_police_dir, on_scratch_postgres, shared};

/// Set in the child: the database URL to import into.
const CHILD_ENV: &str = "ALLIANCE_BENCH_IMPORT_CHILD";

/// Child: import everything into `url` and print one `RESULT files rows seconds peak_kib` line.
fn child(url: &str) -> ExitCode {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        let db = Db::connect(url).await.expect("connect");
        import_police_dir(&db, &shared().join("police")).await;
        db.close().await;
    });
    ExitCode::SUCCESS
}

/// Runs the child for one backend and prints its figures; returns its rows per second.
fn run_backend(name: &str, url: &str) -> Option<f64> {
    let exe = std::env::current_exe().expect("current exe");
    let output = Command::new(exe).env(CHILD_ENV, url).output().expect("run the child process");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let Some(line) = stdout.lines().find(|l| l.starts_with("RESULT ")) else {
        eprintln!("{name}: the import failed:\n{stdout}{}", String::from_utf8_lossy(&output.stderr));
        return None;
    };
    let f: Vec<&str> = line.split_whitespace().skip(1).collect();
    let (files, rows, seconds, peak): (usize, i64, f64, u64) =
        (f[0].parse().unwrap(), f[1].parse().unwrap(), f[2].parse().unwrap(), f[3].parse().unwrap());
    println!(
        "{name:<10} {files:>5} files {rows:>9} rows {seconds:>8.2} s {:>10.0} rows/s   peak memory {:>6.1} MiB",
        rows as f64 / seconds,
        peak as f64 / 1024.0
    );
    Some(rows as f64 / seconds)
}

fn main() -> ExitCode {
    if let Ok(url) = std::env::var(CHILD_ENV) {
        return child(&url);
    }
    if !shared().join("police").is_dir() {
        println!("SKIPPED: ../shared/data not found (looked for {})", shared().join("police").display());
        return ExitCode::SUCCESS;
    }
    println!(
        "import of all of ../shared/data/police/ (street + outcomes, both forces), each backend in its own process"
    );
    let dir = tempfile::tempdir().expect("temporary folder");
    let sqlite = run_backend("SQLite", &format!("sqlite://{}", dir.path().join("bench.db").display()));
    let mut ok = sqlite.is_some();

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    if let Some(postgres) = on_scratch_postgres(&runtime, "alliance_bench", |url| run_backend("PostgreSQL", url)) {
        ok &= postgres.is_some();
        if let (Some(s), Some(p)) = (sqlite, postgres) {
            println!("PostgreSQL/SQLite throughput ratio {:.2} (target at least 0.5)", p / s);
        }
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
