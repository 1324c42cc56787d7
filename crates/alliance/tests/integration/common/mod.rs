//! Shared helpers for the black-box tests: a fresh database per test (SQLite always,
//! PostgreSQL when reachable), the shared real data, and independent counts made straight
//! from the raw CSV files with the `csv` crate.
//!
//! Environment:
//! - `ALLIANCE_TEST_POSTGRES`: the PostgreSQL server to create test databases on (default
//!   `postgres://postgres@127.0.0.1:5432/postgres`).
//! - `ALLIANCE_REQUIRE_POSTGRES=1`: fail instead of skipping when PostgreSQL is not reachable.
//! - `ALLIANCE_REQUIRE_SHARED_DATA=1`: fail instead of skipping when `../shared/data` is absent.

#![allow(dead_code)]

#[macro_use]
pub mod app;
pub mod governance;
pub mod http;
pub mod sharing;
pub mod smtp_sink;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use alliance_core::domain::CountRow;
use alliance_db::imports::ImportOutcome;
use alliance_db::Db;
use alliance_ingest::SourceFile;
use sqlx::Connection;

pub const DEFAULT_TEST_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/postgres";

fn env_flag(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true"))
}

/// Says a test was skipped on the real stderr: the test harness hides `eprintln!` output of
/// passing tests, and a skip must be visible in the output of `cargo test`.
pub fn skipped(message: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{message}");
}

/// The first time stamp in `body` written as stored (`2026-12-03T21:51:50Z`,
/// `2026-12-03 21:51:50`) rather than in words as pages show times (`3 December 2026, 21:51
/// UTC`): `None` when there is none.
pub fn raw_stamp(body: &str) -> Option<&str> {
    let b = body.as_bytes();
    let digits = |from: usize, to: usize| b.get(from..to).is_some_and(|s| s.iter().all(u8::is_ascii_digit));
    let at = |i: usize, c: u8| b.get(i) == Some(&c);
    (0..b.len()).find_map(|i| {
        let date =
            digits(i, i + 4) && at(i + 4, b'-') && digits(i + 5, i + 7) && at(i + 7, b'-') && digits(i + 8, i + 10);
        let time = (at(i + 10, b'T') || at(i + 10, b' ')) && digits(i + 11, i + 13) && at(i + 13, b':');
        (date && time && digits(i + 14, i + 16)).then(|| &body[i..i + 16])
    })
}

/// The workspace root (two levels above this crate's manifest).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `<workspace>/../shared/data`, or `None` (after saying so on stderr) when it is absent.
/// Panics instead when `ALLIANCE_REQUIRE_SHARED_DATA=1`.
pub fn shared_data() -> Option<PathBuf> {
    let path = workspace_root().join("../shared/data");
    if path.join("police").is_dir() {
        return Some(path.canonicalize().unwrap_or(path));
    }
    if env_flag("ALLIANCE_REQUIRE_SHARED_DATA") {
        panic!(
            "ALLIANCE_REQUIRE_SHARED_DATA=1 but the shared data folder {} (../shared/data from the workspace root) \
             was not found",
            path.display()
        );
    }
    skipped(&format!("SKIPPED: ../shared/data not found (looked for {})", path.display()));
    None
}

/// Which database engine a test database runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A fresh, empty database for one test; removed when dropped (best effort for PostgreSQL).
pub struct TestDb {
    pub url: String,
    pub backend: Backend,
    /// Keeps the SQLite file's folder alive for the test.
    _dir: Option<tempfile::TempDir>,
    /// (server URL, database name) of a PostgreSQL database to drop.
    postgres: Option<(String, String)>,
}

impl TestDb {
    /// Connects to the test database through the library (which applies the migrations).
    pub async fn connect(&self) -> Db {
        Db::connect(&self.url).await.unwrap_or_else(|e| panic!("cannot connect to {}: {e}", self.url))
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((server, name)) = self.postgres.take() else { return };
        // Drop may run inside a Tokio runtime: do the work on a thread with its own runtime.
        let result = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
            rt.block_on(async {
                let mut conn = sqlx::postgres::PgConnection::connect(&server).await.ok()?;
                sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                    .execute(&mut conn)
                    .await
                    .ok()?;
                let _ = conn.close().await;
                Some(())
            })
        })
        .join();
        if !matches!(result, Ok(Some(()))) {
            eprintln!("warning: could not drop the PostgreSQL test database");
        }
    }
}

/// A fresh SQLite database in its own temporary folder.
pub fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let url = format!("sqlite://{}", dir.path().join("alliance-test.db").display());
    TestDb { url, backend: Backend::Sqlite, _dir: Some(dir), postgres: None }
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A fresh PostgreSQL database on the server of `ALLIANCE_TEST_POSTGRES`, or `None` (after
/// saying so on stderr) when the server cannot be reached. Panics instead when
/// `ALLIANCE_REQUIRE_POSTGRES=1`.
pub async fn postgres() -> Option<TestDb> {
    let server = std::env::var("ALLIANCE_TEST_POSTGRES").unwrap_or_else(|_| DEFAULT_TEST_POSTGRES.to_string());
    let connected = tokio::time::timeout(Duration::from_secs(10), sqlx::postgres::PgConnection::connect(&server)).await;
    let mut conn = match connected {
        Ok(Ok(conn)) => conn,
        failure => {
            let why = match failure {
                Ok(Err(e)) => e.to_string(),
                _ => "timed out after 10 s".to_string(),
            };
            if env_flag("ALLIANCE_REQUIRE_POSTGRES") {
                panic!("ALLIANCE_REQUIRE_POSTGRES=1 but PostgreSQL is not reachable at {server}: {why}");
            }
            skipped(&format!("SKIPPED: PostgreSQL not reachable at {server} (set ALLIANCE_TEST_POSTGRES): {why}"));
            return None;
        }
    };
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    let name = format!(
        "alliance_test_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        nanos % 1_000_000_000
    );
    sqlx::query(&format!("CREATE DATABASE \"{name}\""))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("cannot create the test database {name} on {server}: {e}"));
    let _ = conn.close().await;
    let url = with_database(&server, &name);
    Some(TestDb { url, backend: Backend::Postgres, _dir: None, postgres: Some((server, name)) })
}

/// `server` with its database path replaced by `name` (query string kept).
fn with_database(server: &str, name: &str) -> String {
    let (base, query) = match server.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (server, String::new()),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    format!("{base}/{name}{query}")
}

/// The street files of a folder, as the CLI finds them.
pub fn police_files(dir: &Path) -> Vec<PathBuf> {
    alliance_ingest::source::collect_files(&[dir.to_path_buf()], alliance_ingest::police::is_police_file_name)
        .expect("list police files")
}

/// Imports files one by one, panicking on any error; returns the outcomes.
pub async fn import_all(db: &Db, files: &[PathBuf]) -> Vec<ImportOutcome> {
    let mut out = Vec::new();
    for path in files {
        let outcome = db
            .import_police_file(&SourceFile::from_path(path), "test", &|_| {})
            .await
            .unwrap_or_else(|e| panic!("import of {} failed: {e}", path.display()));
        out.push(outcome);
    }
    out
}

/// Reads a CSV file with a header, yielding each record with the header, independently of
/// Alliance's parsers.
pub fn read_csv(path: &Path) -> (csv::StringRecord, Vec<csv::StringRecord>) {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_path(path)
        .unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
    let header = reader.headers().expect("header").clone();
    let rows =
        reader.records().collect::<Result<Vec<_>, _>>().unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    (header, rows)
}

/// The index of a named column.
pub fn column(header: &csv::StringRecord, name: &str) -> usize {
    header
        .iter()
        .position(|h| h.trim_start_matches('\u{feff}') == name)
        .unwrap_or_else(|| panic!("no column {name:?} in {header:?}"))
}

/// Counts of street rows per (month, crime type) straight from the raw files: every row
/// counts once, nothing is deduplicated.
pub fn raw_month_type_counts(files: &[PathBuf]) -> BTreeMap<(String, String), i64> {
    let mut counts = BTreeMap::new();
    for path in files {
        let (header, rows) = read_csv(path);
        let (m, t) = (column(&header, "Month"), column(&header, "Crime type"));
        for r in &rows {
            *counts.entry((r[m].to_string(), r[t].to_string())).or_insert(0) += 1;
        }
    }
    counts
}

/// The same counts in the shape `Db::counts(&[Month, CrimeType], ..)` returns.
pub fn as_count_rows(counts: &BTreeMap<(String, String), i64>) -> Vec<CountRow> {
    counts.iter().map(|((m, t), n)| CountRow { values: vec![Some(m.clone()), Some(t.clone())], count: *n }).collect()
}

/// Only the street files among `files`.
pub fn street_only(files: &[PathBuf]) -> Vec<PathBuf> {
    files.iter().filter(|p| p.to_string_lossy().ends_with("-street.csv")).cloned().collect()
}

/// Runs `scenario(test_db)` on a fresh database as two tests, `<name>::sqlite` and
/// `<name>::postgres` (skipped, saying so, when PostgreSQL is not reachable); `<name>` is the
/// scenario's name unless given first (`on_each_db!(name => scenario)`).
#[macro_export]
macro_rules! on_each_db {
    ($scenario:ident) => {
        on_each_db!($scenario => $scenario);
    };
    ($name:ident => $scenario:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$scenario($crate::common::sqlite()).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(db) = $crate::common::postgres().await else { return };
                super::$scenario(db).await;
            }
        }
    };
}

/// Runs `scenario(test_db, shared_data)` as two tests, `<scenario>::sqlite` and
/// `<scenario>::postgres` (skipped, saying so, when PostgreSQL is not reachable); both are
/// skipped, saying so, when the shared data is absent.
#[macro_export]
macro_rules! on_each_backend {
    ($scenario:ident) => {
        mod $scenario {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let Some(data) = $crate::common::shared_data() else { return };
                super::$scenario($crate::common::sqlite(), data).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(data) = $crate::common::shared_data() else { return };
                let Some(db) = $crate::common::postgres().await else { return };
                super::$scenario(db, data).await;
            }
        }
    };
}

/// Who the tests' own changes to the database are recorded as in the audit log.
pub fn test_actor() -> alliance_db::audit::Actor {
    alliance_db::audit::Actor::new("test", "test")
}

/// The audit rows of `action`, newest first: as many as a search gives (10,000), far more
/// than a test writes, so that a count of them is exact.
pub async fn audit_rows(db: &Db, action: &str) -> Vec<alliance_db::audit::AuditEntry> {
    audit_search(db, Some(action)).await
}

/// Every audit row, newest first (as many as a search gives, as [`audit_rows`]).
pub async fn audit_log(db: &Db) -> Vec<alliance_db::audit::AuditEntry> {
    audit_search(db, None).await
}

async fn audit_search(db: &Db, action: Option<&str>) -> Vec<alliance_db::audit::AuditEntry> {
    let q = alliance_db::audit::AuditQuery { action: action.map(str::to_string), limit: 10_000, ..Default::default() };
    db.audit_search(&q).await.expect("search the audit log")
}

/// The password of users made by [`add_user`].
pub const TEST_PASSWORD: &str = "a long test passphrase";

/// Adds a user with [`TEST_PASSWORD`] at `org` (a council, created when missing) and
/// returns the user's id.
pub async fn add_user(db: &Db, email: &str, role: alliance_core::access::Role, org: &str) -> i64 {
    let org_id = match db.organisation_by_name(org).await.expect("read organisations") {
        Some(o) => o.id,
        None => db
            .create_organisation(org, alliance_core::access::OrgType::Council, &test_actor())
            .await
            .expect("add organisation"),
    };
    let hash = alliance_app::password::hash(TEST_PASSWORD).await.expect("hash");
    let user = alliance_db::access::NewUser { email, name: email, org_id, role, password_hash: &hash };
    db.create_user(&user, &test_actor()).await.expect("add user")
}

/// A session for a user made directly in the database: (`Cookie` header value, CSRF token).
pub async fn session_for(db: &Db, user_id: i64) -> (String, String) {
    use alliance_web::auth::{random_token, token_hash};
    let (token, csrf) = (random_token(), random_token());
    let expires = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let session = alliance_db::access::NewSession {
        token_hash: &token_hash(&token),
        user_id,
        csrf_token: &csrf,
        expires_at: &expires,
        ip: "test",
    };
    db.sign_in(&session, &test_actor()).await.expect("add session");
    (format!("alliance_session={token}"), csrf)
}

/// Runs the `alliance` binary on `db_url` with `args`, with warnings-only logging and no
/// `ALLIANCE_DB` from the environment.
pub fn alliance(db_url: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_alliance"))
        .arg("--db")
        .arg(db_url)
        .args(args)
        .env_remove("ALLIANCE_DB")
        .env("ALLIANCE_LOG", "warn")
        .output()
        .expect("run the alliance binary")
}
