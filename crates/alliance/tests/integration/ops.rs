//! Issue 18: operating Alliance as a hosted service. Readiness and liveness probes, graceful
//! shutdown of `alliance serve`, JSON logs, two `serve` processes on one database acting as
//! one service, and the SQLite online backup restored and read back.

use crate::common;
use common::app::{Caller, TestApp};
use common::TestDb;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use alliance_core::access::Role;
use reqwest::StatusCode;
use sqlx::Connection;

/// How long a test waits for an event of a server process before failing (a bound against a
/// hang, never a timing assertion).
const PATIENCE: Duration = Duration::from_secs(120);

/// An `alliance serve` process writing JSON logs, stopped when dropped.
struct Served {
    child: Option<Child>,
    base: String,
    /// Its log lines (standard error), as they are written.
    log: mpsc::Receiver<String>,
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Served {
    /// `alliance --db URL --log-format json serve --port 0 ARGS` with `ALLIANCE_LOG=filter`,
    /// once it says it is running.
    fn start(db_url: &str, args: &[&str], filter: &str) -> Served {
        let mut child = Command::new(env!("CARGO_BIN_EXE_alliance"))
            .args(["--db", db_url, "--log-format", "json", "serve", "--port", "0"])
            .args(args)
            .env_remove("ALLIANCE_DB")
            .env_remove("RUST_LOG")
            .env_remove("ALLIANCE_LOG_FORMAT")
            .env("ALLIANCE_LOG", filter)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start alliance serve");
        let stderr = child.stderr.take().expect("its log");
        let (tx, log) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut lines = BufReader::new(child.stdout.take().expect("its output")).lines();
        let base = loop {
            match lines.next() {
                Some(Ok(line)) => {
                    if let Some(rest) = line.strip_prefix("Alliance is running at ") {
                        break rest.split_whitespace().next().unwrap_or_default().trim_end_matches('/').to_string();
                    }
                }
                other => panic!("alliance serve stopped before it was running: {other:?}"),
            }
        };
        std::thread::spawn(move || lines.for_each(drop));
        Served { child: Some(child), base, log }
    }

    fn addr(&self) -> &str {
        self.base.trim_start_matches("http://")
    }

    fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// The next log line (each must be one JSON object) that `wanted` accepts.
    fn wait_for(&self, what: &str, wanted: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
        let mut seen = Vec::new();
        loop {
            match self.log.recv_timeout(PATIENCE) {
                Ok(line) => {
                    let value: serde_json::Value = serde_json::from_str(&line)
                        .unwrap_or_else(|e| panic!("a log line that is not JSON ({e}): {line}"));
                    if wanted(&value) {
                        return value;
                    }
                    seen.push(line);
                }
                Err(e) => panic!("no log line {what} ({e}); saw: {seen:#?}"),
            }
        }
    }

    /// Waits for the process to exit (up to [`PATIENCE`]) and returns its status.
    fn exit_status(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("running");
        let (tx, rx) = mpsc::channel();
        let pid = child.id();
        std::thread::spawn(move || {
            let _ = tx.send(child.wait());
        });
        match rx.recv_timeout(PATIENCE) {
            Ok(status) => status.expect("wait for the server"),
            Err(_) => {
                let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).status();
                panic!("the server did not exit within {} s of SIGTERM", PATIENCE.as_secs())
            }
        }
    }
}

fn message(v: &serde_json::Value) -> &str {
    v["fields"]["message"].as_str().unwrap_or_default()
}

/// One HTTP/1.1 exchange on a fresh connection (`Connection: close`), read to the end.
fn exchange(addr: &str, request: &str) -> String {
    let mut conn = TcpStream::connect(addr).expect("connect");
    conn.set_read_timeout(Some(PATIENCE)).expect("a read timeout");
    conn.write_all(request.as_bytes()).expect("send");
    let mut reply = String::new();
    conn.read_to_string(&mut reply).expect("read the reply");
    reply
}

/// The body of a raw HTTP reply, checked to be as long as its `Content-Length` says.
fn complete_body(reply: &str) -> &str {
    let (head, body) = reply.split_once("\r\n\r\n").unwrap_or_else(|| panic!("no end of the head: {reply}"));
    let length: usize = head
        .lines()
        .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_string()))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no Content-Length: {head}"));
    assert_eq!(body.len(), length, "the whole body arrived: {reply}");
    body
}

// ---- Probes --------------------------------------------------------------------------

/// `/healthz` answers without the database, `/readyz` after a round trip to it; neither sets
/// a cookie or counts against a limit; `/readyz` is 503 when the database's migrations are
/// not the ones this binary expects (one missing, or one newer from a later release).
async fn probes(app: TestApp) {
    let nobody = Caller::default();
    let live = app.get("/healthz", &nobody).await;
    assert_eq!(live.status, StatusCode::OK);
    assert_eq!(live.json(), serde_json::json!({ "status": "ok" }));
    assert_eq!(live.header("content-type"), Some("application/json"));
    assert_eq!(live.header("cache-control"), Some("no-store"));
    assert!(live.header("set-cookie").is_none(), "no session or CSRF cookie for a probe");

    let ready = app.get("/readyz", &nobody).await;
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.body);
    let body = ready.json();
    assert_eq!(body["status"], "ready");
    let expected = body["schema"]["expected"].as_i64().expect("the expected version");
    assert!(expected >= 21, "{body}");
    assert_eq!(body["schema"]["database"].as_i64(), Some(expected));
    assert!(ready.header("set-cookie").is_none());

    // Polled as a load balancer would: never limited, nothing counted.
    for i in 0..100 {
        let path = if i % 2 == 0 { "/healthz" } else { "/readyz" };
        assert_eq!(app.get(path, &nobody).await.status, StatusCode::OK, "probe {i}");
    }
    let mut conn = sqlx::AnyConnection::connect(&app.db_url).await.expect("connect beside the app");
    let (counted,): (i64,) =
        sqlx::query_as("SELECT CAST(COUNT(*) AS BIGINT) FROM rate_limits").fetch_one(&mut conn).await.expect("count");
    assert_eq!(counted, 0, "probes count against no limit");

    // The newest migration unrecorded: not ready, and says which.
    let newest = format!("DELETE FROM alliance_migrations WHERE version = {expected}");
    sqlx::query(&newest).execute(&mut conn).await.expect("unrecord");
    let unready = app.get("/readyz", &nobody).await;
    assert_eq!(unready.status, StatusCode::SERVICE_UNAVAILABLE);
    let body = unready.json();
    assert_eq!(body["status"], "unready");
    assert!(body["problem"].as_str().is_some_and(|p| p.contains(&expected.to_string())), "{body}");
    assert_eq!(app.get("/healthz", &nobody).await.status, StatusCode::OK, "alive all the same");
    let restore = format!(
        "INSERT INTO alliance_migrations (version, description, applied_at) VALUES ({expected}, 'restored', 'now')"
    );
    sqlx::query(&restore).execute(&mut conn).await.expect("record again");
    assert_eq!(app.get("/readyz", &nobody).await.status, StatusCode::OK);

    // A later release has migrated the database: this instance steps out of service.
    sqlx::query("INSERT INTO alliance_migrations (version, description, applied_at) VALUES (9999, 'future', 'now')")
        .execute(&mut conn)
        .await
        .expect("a future migration");
    let newer = app.get("/readyz", &nobody).await;
    assert_eq!(newer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        newer.json()["problem"].as_str().is_some_and(|p| p.contains("9999") && p.contains("newer")),
        "{}",
        newer.body
    );
    sqlx::query("DELETE FROM alliance_migrations WHERE version = 9999").execute(&mut conn).await.expect("undo");
    assert_eq!(app.get("/readyz", &nobody).await.status, StatusCode::OK);
    let _ = conn.close().await;
}

on_each_app!(probes);

// ---- Graceful shutdown and JSON logs -------------------------------------------------

/// SIGTERM while a request is in flight (its body not yet sent): the server stops, the
/// request still gets its whole answer, and the process exits 0. Every log line is JSON;
/// request lines carry method, path (without the query), status and latency.
#[cfg(unix)]
#[test]
fn sigterm_finishes_requests_in_flight_and_exits_0_with_json_logs() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let url = format!("sqlite://{}", dir.path().join("ops.db").display());
    let mut server = Served::start(&url, &[], "info,sqlx=warn,alliance_web::request=debug");

    // A request whose query names someone: logged without it.
    let reply = exchange(
        server.addr(),
        "GET /healthz?email=someone%40example.org HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n",
    );
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    let line = server.wait_for("for GET /healthz", |v| message(v) == "request" && v["fields"]["path"] == "/healthz");
    let fields = &line["fields"];
    assert_eq!(fields["method"], "GET");
    assert_eq!(fields["route"], "/healthz");
    assert_eq!(fields["status"], 200);
    assert!(fields["latency_ms"].as_f64().is_some_and(|ms| ms >= 0.0), "{line}");
    assert_eq!(line["level"], "INFO");
    assert_eq!(line["target"], "alliance_web::request");
    assert!(line["timestamp"].is_string(), "{line}");
    assert!(!line.to_string().contains("someone"), "the query string is not logged: {line}");

    // A form post whose head has arrived and whose body has not.
    let body = "email=someone%40example.org&password=not+yet";
    let mut in_flight = TcpStream::connect(server.addr()).expect("connect");
    in_flight.set_read_timeout(Some(PATIENCE)).expect("a read timeout");
    let head = format!(
        "POST /sign-in HTTP/1.1\r\nHost: test\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    in_flight.write_all(head.as_bytes()).expect("send the head");
    in_flight.write_all(&body.as_bytes()[..10]).expect("send part of the body");
    server.wait_for("of the post starting", |v| message(v) == "request started" && v["fields"]["path"] == "/sign-in");

    let killed = Command::new("kill").args(["-TERM", &server.pid().to_string()]).status().expect("run kill");
    assert!(killed.success());
    server.wait_for("saying it is stopping", |v| message(v).starts_with("stopping"));

    // The rest of the body, after the signal: the request is answered in full (a refusal:
    // the form has no CSRF token), and the connection then closed.
    in_flight.write_all(&body.as_bytes()[10..]).expect("send the rest of the body");
    let mut reply = String::new();
    in_flight.read_to_string(&mut reply).expect("the answer");
    assert!(reply.starts_with("HTTP/1.1 403"), "{reply}");
    assert!(complete_body(&reply).contains("security token"), "{reply}");
    let logged = server.wait_for("for the post", |v| message(v) == "request" && v["fields"]["path"] == "/sign-in");
    assert_eq!(logged["fields"]["status"], 403);
    assert_eq!(logged["fields"]["method"], "POST");
    server.wait_for("saying it stopped", |v| message(v) == "stopped");

    let status = server.exit_status();
    assert_eq!(status.code(), Some(0), "exit 0 after a graceful stop: {status:?}");
}

// ---- Two instances, one service ------------------------------------------------------

/// Two `alliance serve` processes on one database: a session made on one works on the other
/// (and signing out on one ends it on both), the public form's allowance is one allowance,
/// and both show the same figures, before and after an import.
async fn two_instances(t: TestDb, data: PathBuf) {
    use alliance_web::auth::throttle::PUBLIC_FORM_ACCEPTED;
    let app = TestApp::start(t).await;
    let first = Served::start(&app.db_url, &[], "warn");
    let second = Served::start(&app.db_url, &[], "warn");
    let (a, b) = (app.at(&first.base), app.at(&second.base));
    for server in [&a, &b] {
        assert_eq!(server.get("/readyz", &Caller::default()).await.status, StatusCode::OK);
    }

    // Sessions: signed in on A, used on B.
    common::add_user(&app.db, "analyst@example.org", Role::Analyst, "Test Council").await;
    let analyst = a.sign_in("analyst@example.org", common::TEST_PASSWORD).await.expect("signed in on A");
    let page = b.get("/account/password", &analyst).await;
    assert_eq!(page.status, StatusCode::OK, "the session made on A works on B: {}", page.body);

    // Figures: the same on both, and both see an import made elsewhere at once.
    let files = common::police_files(&data.join("police/staffordshire"));
    let files = common::street_only(&files);
    assert!(files.len() >= 2);
    common::import_all(&app.db, &files[..1]).await;
    let total = |counts: &serde_json::Value| -> i64 {
        counts["rows"].as_array().expect("rows").iter().map(|r| r["count"].as_i64().expect("a count")).sum()
    };
    let raw = |n: usize| -> i64 { common::raw_month_type_counts(&files[..n]).values().sum() };
    let (counts_a, public_a) = figures(&a, &analyst).await;
    let (counts_b, public_b) = figures(&b, &analyst).await;
    assert_eq!(counts_a, counts_b);
    assert_eq!(total(&counts_a), raw(1));
    assert_eq!(public_a, public_b, "the public figures page is the same on both");
    common::import_all(&app.db, &files[1..2]).await;
    let (counts_a, public_a2) = figures(&a, &analyst).await;
    let (counts_b, public_b2) = figures(&b, &analyst).await;
    assert_eq!(counts_a, counts_b);
    assert_eq!(total(&counts_b), raw(2), "B sees the import at once");
    assert_eq!(public_a2, public_b2);
    assert_ne!(public_a, public_a2, "the public figures changed with the import");

    // The public form's allowance is counted once for both.
    let visitor = a.visitor("/report-unsafe-place").await;
    let mut fields = common::http::unsafe_place_report(&visitor.csrf, "-2.1794", "53.0027");
    fields.retain(|(k, _)| *k != "csrf_token"); // (`post_owned` sends the visitor's itself.)
    for i in 0..PUBLIC_FORM_ACCEPTED {
        let server = if i % 2 == 0 { &a } else { &b };
        let reply = server.post_owned("/report-unsafe-place", &visitor, &fields).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "report {i}: {}", reply.body);
    }
    for server in [&a, &b] {
        let reply = server.post_owned("/report-unsafe-place", &visitor, &fields).await;
        assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS, "the allowance is shared by both processes");
    }
    let stored = app.db.unsafe_reports("pending", 10_000).await.expect("read reports").len();
    assert_eq!(stored, PUBLIC_FORM_ACCEPTED as usize);

    // Signing out on B ends the session on A too.
    let out = b.post_form("/sign-out", &analyst, &[]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER, "{}", out.body);
    let after = a.get("/account/password", &analyst).await;
    assert_eq!(after.status, StatusCode::SEE_OTHER, "signed out everywhere");
    drop((a, b, first, second));
}

/// Counts by month and crime type (as `who`) and the public figures page, from `server`.
async fn figures(server: &TestApp, who: &Caller) -> (serde_json::Value, String) {
    let counts = server.get("/api/v1/counts?by=month,crime-type", who).await;
    assert_eq!(counts.status, StatusCode::OK, "{}", counts.body);
    let public = server.get("/public/figures", &Caller::default()).await;
    assert_eq!(public.status, StatusCode::OK);
    (counts.json(), public.body)
}

on_each_backend!(two_instances);

// ---- Backups -------------------------------------------------------------------------

/// `alliance backup --out FILE` copies a SQLite database while it is open and in use; the
/// copy, put in place of a database, opens and reads back the same data. It never overwrites
/// a file, and a PostgreSQL database is sent to pg_dump.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_backup_restores_with_its_data() {
    let Some(data) = common::shared_data() else { return };
    let t = common::sqlite();
    let db = t.connect().await;
    let files = common::street_only(&common::police_files(&data.join("police/staffordshire")));
    common::import_all(&db, &files[..2]).await;
    common::add_user(&db, "admin@example.org", Role::Administrator, "Test Council").await;
    let fields = [alliance_core::domain::CountField::Month, alliance_core::domain::CountField::CrimeType];
    let before = db.counts(&fields, &Default::default()).await.expect("counts");

    let dir = tempfile::tempdir().expect("a temporary folder");
    let backup = dir.path().join("backup.db");
    // Taken while this process holds the database open (the pool above), as a server would.
    let output = common::alliance(&t.url, &["backup", "--out", backup.to_str().expect("a path")]);
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.starts_with("Backed up the database to "), "{stdout}");

    // Changes after the backup are not in it.
    common::import_all(&db, &files[2..3]).await;
    assert_ne!(db.counts(&fields, &Default::default()).await.expect("counts"), before);

    // Restored: the backup put in place of a database file.
    let restored_path = dir.path().join("restored.db");
    std::fs::copy(&backup, &restored_path).expect("put the backup in place");
    let restored = alliance_db::Db::connect(&format!("sqlite://{}", restored_path.display())).await.expect("open");
    assert_eq!(restored.counts(&fields, &Default::default()).await.expect("counts"), before);
    assert_eq!(
        restored.counts(&fields, &Default::default()).await.expect("counts"),
        common::as_count_rows(&common::raw_month_type_counts(&files[..2]))
    );
    assert!(restored.user_by_email("admin@example.org").await.expect("read").is_some(), "users come back too");
    assert!(restored.readiness().await.is_ready());
    restored.close().await;

    // Never over an existing file.
    let again = common::alliance(&t.url, &["backup", "--out", backup.to_str().expect("a path")]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));

    if let Some(pg) = common::postgres().await {
        let out = dir.path().join("pg.db");
        let refused = common::alliance(&pg.url, &["backup", "--out", out.to_str().expect("a path")]);
        assert!(!refused.status.success());
        assert!(String::from_utf8_lossy(&refused.stderr).contains("pg_dump"));
        assert!(!out.exists(), "nothing written");
    }
    db.close().await;
}

// ---- Instances starting together -----------------------------------------------------

/// Four instances opening one new database at once (as `docker compose up` starts them)
/// all start, and each migration is applied once.
async fn instances_starting_together_migrate_once(t: TestDb) {
    let url = t.url.as_str();
    let started = tokio::join!(
        alliance_db::Db::connect(url),
        alliance_db::Db::connect(url),
        alliance_db::Db::connect(url),
        alliance_db::Db::connect(url)
    );
    let dbs: Vec<alliance_db::Db> = [started.0, started.1, started.2, started.3]
        .into_iter()
        .map(|db| db.unwrap_or_else(|e| panic!("an instance failed to start: {e}")))
        .collect();
    let readiness = dbs[0].readiness().await;
    assert!(readiness.is_ready(), "{readiness:?}");
    let mut conn = sqlx::AnyConnection::connect(&t.url).await.expect("connect");
    let (rows, distinct): (i64, i64) = sqlx::query_as(
        "SELECT CAST(COUNT(*) AS BIGINT), CAST(COUNT(DISTINCT description) AS BIGINT) FROM alliance_migrations",
    )
    .fetch_one(&mut conn)
    .await
    .expect("count");
    assert_eq!(rows, distinct, "each migration recorded once");
    assert!(rows >= 14);
    let _ = conn.close().await;
    for db in dbs {
        db.close().await;
    }
}

on_each_db!(instances_starting_together => instances_starting_together_migrate_once);
