//! The keyed audit chain and its checkpoints, through the `alliance` command as an operator
//! would run it: an untouched log verifies against a checkpoint; deleting the newest rows
//! (which leaves a whole, shorter chain) fails against it; rewriting a row and recomputing
//! every later hash with plain SHA-256 or with a wrong key fails with or without it; a log
//! written before the chain was keyed still verifies under the old rule, and moving the
//! switch-over mark is caught by a checkpoint.

use std::path::Path;

use alliance_db::audit::{AuditEntry, AuditEvent, AuditKey};
use sqlx::{Connection, Row};

use crate::common;
use crate::common::app::TestApp;
use common::alliance;

/// Runs `alliance --db URL ARGS` and returns (succeeded, stdout + stderr).
fn run(url: &str, args: &[&str]) -> (bool, String) {
    let out = alliance(url, args);
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

async fn raw(url: &str) -> sqlx::AnyConnection {
    sqlx::any::install_default_drivers();
    sqlx::AnyConnection::connect(url).await.expect("connect to the test database")
}

/// `n` audit rows, as sign-ins would make them.
async fn some_rows(app: &TestApp, n: usize) {
    for i in 0..n {
        let target = format!("/page/{i}");
        let event = AuditEvent {
            actor: "user:someone@example.org",
            action: "sign-in",
            target: &target,
            detail: "",
            ip: "127.0.0.1",
        };
        app.db.audit(&event).await.expect("append an audit row");
    }
}

async fn rows(conn: &mut sqlx::AnyConnection) -> Vec<AuditEntry> {
    let rows =
        sqlx::query("SELECT id, at, actor, action, target, detail, ip, prev_hash, hash FROM audit_log ORDER BY id")
            .fetch_all(&mut *conn)
            .await
            .unwrap();
    rows.iter()
        .map(|r| AuditEntry {
            id: r.get("id"),
            at: r.get("at"),
            actor: r.get("actor"),
            action: r.get("action"),
            target: r.get("target"),
            detail: r.get("detail"),
            ip: r.get("ip"),
            prev_hash: r.get("prev_hash"),
            hash: r.get("hash"),
        })
        .collect()
}

/// Rewrites row `id`'s detail, then recomputes its hash and every later one with `hash_of`
/// (what a database administrator without the key can do).
async fn rewrite_from(url: &str, id: i64, hash_of: impl Fn(&AuditEntry, &str) -> String) {
    let mut conn = raw(url).await;
    let mut prev = alliance_db::audit::GENESIS_HASH.to_string();
    for mut e in rows(&mut conn).await {
        if e.id == id {
            e.detail = "nothing to see here".into();
        }
        if e.id >= id {
            e.prev_hash = prev.clone();
            e.hash = hash_of(&e, &prev);
            sqlx::query("UPDATE audit_log SET detail = $1, prev_hash = $2, hash = $3 WHERE id = $4")
                .bind(&e.detail)
                .bind(&e.prev_hash)
                .bind(&e.hash)
                .bind(e.id)
                .execute(&mut conn)
                .await
                .unwrap();
        }
        prev = e.hash;
    }
    let _ = conn.close().await;
}

fn checkpoint(url: &str, dir: &Path, name: &str) -> String {
    let file = dir.join(name);
    let file = file.to_str().unwrap().to_string();
    let (ok, text) = run(url, &["audit", "checkpoint", "--out", &file]);
    assert!(ok, "checkpoint failed: {text}");
    file
}

async fn truncation_is_caught_by_a_checkpoint(app: TestApp) {
    let url = app.db_url.clone();
    let dir = tempfile::tempdir().unwrap();
    some_rows(&app, 30).await;
    let file = checkpoint(&url, dir.path(), "checkpoint.json");
    let saved: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(saved["rows"], 30);
    assert_eq!(saved["format"], "alliance-audit-checkpoint/1");
    // The checkpoint file is never overwritten.
    let (ok, text) = run(&url, &["audit", "checkpoint", "--out", &file]);
    assert!(!ok && text.contains("never replaced"), "{text}");

    // Untouched, and with rows added since: passes.
    some_rows(&app, 3).await;
    let (ok, text) = run(&url, &["audit", "verify", "--checkpoint", &file]);
    assert!(ok, "an untouched log must verify: {text}");
    assert!(text.contains("audit log intact: 33 rows") && text.contains("30 rows of the checkpoint"), "{text}");

    // Delete the newest 20 rows: the shorter chain is still whole, so only the checkpoint
    // shows what went.
    let mut conn = raw(&url).await;
    sqlx::query("DELETE FROM audit_log WHERE id > 13").execute(&mut conn).await.unwrap();
    let _ = conn.close().await;
    let (ok, text) = run(&url, &["audit", "verify"]);
    assert!(ok, "without a checkpoint truncation cannot be seen (the limit the checkpoint exists for): {text}");
    let (ok, text) = run(&url, &["audit", "verify", "--checkpoint", &file]);
    assert!(!ok, "truncation must fail against the checkpoint: {text}");
    assert!(
        text.contains("truncated: it has 13 rows") && text.contains("row 30 (the checkpoint's last row) is missing"),
        "{text}"
    );

    // A checkpoint altered by hand (claiming fewer rows) is refused by its signature.
    let forged = std::fs::read_to_string(&file).unwrap().replace("\"rows\":30", "\"rows\":13");
    let forged_file = dir.path().join("forged.json");
    std::fs::write(&forged_file, forged).unwrap();
    let (ok, text) = run(&url, &["audit", "verify", "--checkpoint", forged_file.to_str().unwrap()]);
    assert!(!ok && text.contains("signature does not match"), "{text}");
}

on_each_app!(truncation_is_caught_by_a_checkpoint);

async fn rewriting_without_the_key_is_caught(app: TestApp) {
    let url = app.db_url.clone();
    let dir = tempfile::tempdir().unwrap();
    some_rows(&app, 25).await;
    let file = checkpoint(&url, dir.path(), "checkpoint.json");
    let (ok, text) = run(&url, &["audit", "verify"]);
    assert!(ok && text.contains("keyed hash chain verified"), "{text}");

    // Rewrite row 10 and recompute every later hash with plain SHA-256 (the old, unkeyed rule).
    rewrite_from(&url, 10, |e, prev| e.legacy_hash(prev)).await;
    let (ok, text) = run(&url, &["audit", "verify"]);
    assert!(!ok, "a rewrite under plain SHA-256 must fail: {text}");
    assert!(text.contains("BROKEN at row 10") && text.contains("keyed hash"), "{text}");
    let (ok, text) = run(&url, &["audit", "verify", "--checkpoint", &file]);
    assert!(!ok && text.contains("row 25's hash differs"), "{text}");

    // The same with a key that is not the log's.
    let wrong = AuditKey::from_secret(&"w".repeat(64), "a wrong key").unwrap();
    rewrite_from(&url, 10, |e, prev| e.expected_hash(&wrong, prev)).await;
    let (ok, text) = run(&url, &["audit", "verify"]);
    assert!(!ok && text.contains("BROKEN at row 10"), "a rewrite under a wrong key must fail: {text}");
    let (ok, text) = run(&url, &["audit", "verify", "--checkpoint", &file]);
    assert!(!ok, "{text}");

    // Verifying with a key that is not the log's fails too (the key is what is trusted).
    let other_key = dir.path().join("other.key");
    std::fs::write(&other_key, "x".repeat(64)).unwrap();
    let (ok, text) = run(&url, &["--audit-key-file", other_key.to_str().unwrap(), "audit", "verify"]);
    assert!(!ok && text.contains("BROKEN at row 1"), "{text}");
    // A key that is too short is refused before anything is opened.
    std::fs::write(&other_key, "short").unwrap();
    let (ok, text) = run(&url, &["--audit-key-file", other_key.to_str().unwrap(), "audit", "verify"]);
    assert!(!ok && text.contains("at least 32"), "{text}");
}

on_each_app!(rewriting_without_the_key_is_caught);

/// A log begun before the chain was keyed: its first rows verify under plain SHA-256 and the
/// rest under the key; moving the switch-over mark to pass a wholesale unkeyed rewrite off as
/// old rows is caught by a checkpoint taken after the upgrade.
async fn rows_from_before_the_key_verify_under_the_old_rule(app: TestApp) {
    let url = app.db_url.clone();
    let dir = tempfile::tempdir().unwrap();
    some_rows(&app, 5).await;
    // As migration 0023 finds an older log: five rows chained with plain SHA-256.
    rewrite_from(&url, 1, |e, prev| e.legacy_hash(prev)).await;
    let mut conn = raw(&url).await;
    sqlx::query("UPDATE audit_chain_upgrade SET legacy_rows = 5").execute(&mut conn).await.unwrap();
    let _ = conn.close().await;
    some_rows(&app, 5).await;
    let report = app.db.verify_audit_chain().await.unwrap();
    assert_eq!((report.rows_checked, report.legacy_rows, report.first_broken), (10, 5, None));
    let (ok, text) = run(&url, &["audit", "verify"]);
    assert!(ok && text.contains("rows 1 to 5 were written before the chain was keyed"), "{text}");
    let file = checkpoint(&url, dir.path(), "after-upgrade.json");

    // Without the key, a rewrite of everything under plain SHA-256 with the mark moved to the
    // end verifies as an old log...
    rewrite_from(&url, 6, |e, prev| e.legacy_hash(prev)).await;
    let mut conn = raw(&url).await;
    sqlx::query("UPDATE audit_chain_upgrade SET legacy_rows = 10").execute(&mut conn).await.unwrap();
    let _ = conn.close().await;
    let (ok, text) = run(&url, &["audit", "verify"]);
    assert!(ok, "the documented limit: without a checkpoint this passes: {text}");
    // ...but not against the checkpoint.
    let (ok, text) = run(&url, &["audit", "verify", "--checkpoint", &file]);
    assert!(!ok && text.contains("switch-over mark was moved") && text.contains("row 10's hash differs"), "{text}");
}

on_each_app!(rows_from_before_the_key_verify_under_the_old_rule);

/// With no key configured, a SQLite database gets a key file beside it, readable by its owner
/// only, and the same key on every later run.
#[tokio::test]
async fn a_sqlite_database_without_a_configured_key_gets_one_beside_it() {
    let t = common::sqlite();
    let db = t.connect().await;
    let path = t.url.strip_prefix("sqlite://").unwrap();
    let key_file = alliance_db::audit::default_key_file(Path::new(path));
    assert!(key_file.is_file(), "{} was made", key_file.display());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let event = AuditEvent { actor: "cli:test", action: "test", target: "x", detail: "", ip: "cli" };
    db.audit(&event).await.unwrap();
    db.close().await;
    let (ok, text) = run(&t.url, &["audit", "verify"]);
    assert!(ok && text.contains("intact: 1 rows"), "the command line found the same key: {text}");
}
