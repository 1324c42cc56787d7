//! The browser checks (`tools/browser/check.mjs`) against the real server: `alliance serve`
//! on a free port over a fresh SQLite database (demo data loaded at start, one
//! administrator), driven in headless Chromium by puppeteer-core with axe-core.
//!
//! Needs node, `npm ci` in `tools/browser` and Chromium (`/usr/bin/chromium`, or
//! `ALLIANCE_CHROMIUM`). Without them the test says SKIPPED and passes, unless
//! `ALLIANCE_REQUIRE_BROWSER=1` (as in `.ci/run`), when it fails.

use crate::common;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

const STAFF_EMAIL: &str = "browser-admin@example.org";
const STAFF_PASSWORD: &str = "a long browser test passphrase";

fn alliance() -> Command {
    Command::new(env!("CARGO_BIN_EXE_alliance"))
}

/// What is missing for the browser checks, if anything.
fn missing_prerequisites(tools: &Path, chromium: &Path) -> Option<String> {
    let node = Command::new("node").arg("--version").output();
    if !node.is_ok_and(|o| o.status.success()) {
        return Some("node is not installed".into());
    }
    for package in ["puppeteer-core", "axe-core"] {
        if !tools.join("node_modules").join(package).join("package.json").is_file() {
            return Some(format!("{package} is not installed: run `npm ci` in {}", tools.display()));
        }
    }
    if !chromium.is_file() {
        return Some(format!("Chromium was not found at {} (set ALLIANCE_CHROMIUM)", chromium.display()));
    }
    None
}

/// The browser tools' folder and Chromium, or `None` (saying SKIPPED) when something is
/// missing; a panic instead with `ALLIANCE_REQUIRE_BROWSER=1`.
fn browser_tools() -> Option<(PathBuf, PathBuf)> {
    let tools = common::workspace_root().join("tools/browser");
    let chromium =
        std::env::var_os("ALLIANCE_CHROMIUM").map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    if let Some(why) = missing_prerequisites(&tools, &chromium) {
        if std::env::var("ALLIANCE_REQUIRE_BROWSER").is_ok_and(|v| v == "1") {
            panic!("ALLIANCE_REQUIRE_BROWSER=1 but {why}");
        }
        common::skipped(&format!("SKIPPED: browser checks: {why}"));
        return None;
    }
    Some((tools, chromium))
}

/// The server process, stopped when the test ends however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `alliance serve --demo --port 0` (the demo partnership and its data) and reads the address it bound from its first lines.
fn start_server(db_url: &str) -> (Server, String) {
    start_server_with(db_url, &[])
}

/// [`start_server`] with more options for `serve` (an SMTP relay, say).
fn start_server_with(db_url: &str, extra: &[&str]) -> (Server, String) {
    let child = alliance()
        .args(["--db", db_url, "serve", "--demo", "--bind", "127.0.0.1", "--port", "0"])
        .args(extra)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start alliance serve");
    let mut server = Server(child);
    let stdout = server.0.stdout.take().expect("the server's output");
    let mut lines = BufReader::new(stdout).lines();
    let marker = "Alliance is running at ";
    let url = loop {
        match lines.next() {
            Some(Ok(line)) => {
                if let Some(rest) = line.strip_prefix(marker) {
                    break rest.split_whitespace().next().unwrap_or_default().trim_end_matches('/').to_string();
                }
            }
            other => panic!("alliance serve stopped before it was running: {other:?}"),
        }
    };
    // Keep reading (and dropping) the rest of its output so the server never blocks on it.
    std::thread::spawn(move || lines.for_each(drop));
    (server, url)
}

fn add_staff(db_url: &str) {
    add_user(db_url, STAFF_EMAIL, "Browser Test", "administrator", "Office of the PFCC", "pcc-office");
}

#[test]
fn public_and_staff_pages_pass_the_browser_checks() {
    let Some((tools, chromium)) = browser_tools() else { return };

    let dir = tempfile::tempdir().expect("a temporary folder");
    let db_url = format!("sqlite://{}", dir.path().join("alliance.db").display());
    add_staff(&db_url);
    let (_server, url) = start_server(&db_url);

    let output = Command::new("node")
        .arg(tools.join("check.mjs"))
        .arg(&url)
        .env("ALLIANCE_STAFF_EMAIL", STAFF_EMAIL)
        .env("ALLIANCE_STAFF_PASSWORD", STAFF_PASSWORD)
        .env("ALLIANCE_CHROMIUM", &chromium)
        .current_dir(&tools)
        .output()
        .expect("run node check.mjs");
    let report = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    // Shown with `--nocapture` or when the test fails (the harness keeps it otherwise).
    let _ = writeln!(std::io::stderr(), "{report}");
    assert!(output.status.success(), "the browser checks failed:\n{report}");
    assert!(report.contains("all browser checks passed"), "{report}");
    assert!(!report.contains("FAIL"), "{report}");
}

/// Adds a user with the test password through `alliance users add`.
fn add_user(db_url: &str, email: &str, name: &str, role: &str, org: &str, org_type: &str) {
    let mut child = alliance()
        .args(["--db", db_url, "users", "add", "--email", email, "--name", name, "--role", role])
        .args(["--org", org, "--org-type", org_type, "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("start alliance users add");
    writeln!(child.stdin.take().expect("stdin"), "{STAFF_PASSWORD}").expect("write the password");
    assert!(child.wait().expect("alliance users add").success(), "alliance users add {email} failed");
}

/// Issue 17 by hand (`tools/browser/referrals.mjs`): a school's user makes a referral through
/// the form, the charity running the service accepts it, a third organisation's user and a
/// Board member are refused it (the Board sees figures only). Then, from outside the browser:
/// every view of the referral is in the audit log and only its two organisations viewed it,
/// and the notifications reached the SMTP sink without personal data.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn referral_journey_in_the_browser() {
    const INITIALS: &str = "QZX";
    const PHONE: &str = "07700900461";
    let users = [
        ("ALLIANCE_REFERRER_EMAIL", "teacher@school.example", "partner-user", "Oak School", "education"),
        ("ALLIANCE_RECEIVER_EMAIL", "worker@charity.example", "partner-user", "Navigator Charity", "voluntary-sector"),
        ("ALLIANCE_THIRD_EMAIL", "officer@other.example", "partner-user", "Other Council", "council"),
        ("ALLIANCE_BOARD_EMAIL", "chair@board.example", "board-member", "Navigator Charity", "voluntary-sector"),
    ];
    let Some((tools, chromium)) = browser_tools() else { return };
    let sink = common::smtp_sink::SmtpSink::start().await;
    let dir = tempfile::tempdir().expect("a temporary folder");
    let db_url = format!("sqlite://{}", dir.path().join("alliance.db").display());
    for (_, email, role, org, org_type) in users {
        add_user(&db_url, email, email, role, org, org_type);
    }
    let (_server, url) =
        start_server_with(&db_url, &["--smtp-url", &sink.url(), "--mail-from", "alliance@partnership.example"]);
    // The demo's directory of help has example-01: the charity runs it and takes referrals.
    let set_up = alliance()
        .args(["--db", &db_url, "referrals", "service", "--id", "example-01", "--run-by", "Navigator Charity"])
        .output()
        .expect("run alliance referrals service");
    assert!(set_up.status.success(), "{}", String::from_utf8_lossy(&set_up.stderr));

    let mut node = Command::new("node");
    node.arg(tools.join("referrals.mjs"))
        .arg(&url)
        .env("ALLIANCE_PASSWORD", STAFF_PASSWORD)
        .env("ALLIANCE_REFERRAL_SERVICE", "example-01")
        .env("ALLIANCE_INITIALS", INITIALS)
        .env("ALLIANCE_PHONE", PHONE)
        .env("ALLIANCE_CHROMIUM", &chromium)
        .current_dir(&tools);
    for (var, email, ..) in users {
        node.env(var, email);
    }
    let output =
        tokio::task::spawn_blocking(move || node.output()).await.expect("join").expect("run node referrals.mjs");
    let report = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    let _ = writeln!(std::io::stderr(), "{report}");
    assert!(output.status.success(), "the referral journey failed:\n{report}");
    assert!(report.contains("all referral checks passed") && !report.contains("FAIL"), "{report}");
    let id: i64 = report
        .lines()
        .find_map(|l| l.strip_prefix("referral "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no referral id in the report:\n{report}"));

    // Every view of the person is audited, by the two organisations' users only: the
    // referrer after sending and after the decision, the receiver before and after accepting.
    let db = alliance_db::Db::connect(&db_url).await.expect("open the database");
    let views: Vec<_> = common::audit_rows(&db, "referral-view")
        .await
        .into_iter()
        .filter(|e| e.target == format!("/referrals/{id}"))
        .collect();
    assert_eq!(views.len(), 4, "{views:?}");
    assert!(
        views.iter().all(|v| v.actor == "user:teacher@school.example" || v.actor == "user:worker@charity.example"),
        "{views:?}"
    );
    assert!(db.verify_audit_chain().await.expect("chain").first_broken.is_none());

    // The notifications: the new referral to the charity, the decision to the school; only
    // something to look at, with a link, never the person.
    let messages = sink.messages();
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert_eq!(messages[0].to, vec!["worker@charity.example".to_string()]);
    assert_eq!(messages[1].to, vec!["teacher@school.example".to_string()]);
    for m in &messages {
        assert!(m.data.contains(&format!("/referrals/{id}")), "{}", m.data);
        for personal in [INITIALS, PHONE, "ST4", "weapon", "Oak School"] {
            assert!(!m.data.to_lowercase().contains(&personal.to_lowercase()), "{personal} in {}", m.data);
        }
    }
}
