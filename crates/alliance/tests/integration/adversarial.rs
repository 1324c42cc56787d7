//! The findings of the hostile-input review (issue 13) replayed against a running server,
//! each from small files and requests generated here (no bombs are checked in): the server
//! stays up, the refusal is clear and in the service's words, and nothing changes.
//!
//! - 1: a workbook whose used range is rows × columns of 17 billion cells.
//! - 2: a `.gz` that inflates to 300 MB (one endless line).
//! - 6: parallel password guesses against the lockout; one client's sign-in allowance, which
//!   a forged `X-Forwarded-For` does not renew and which an IPv6 /64 shares, and which only
//!   failed sign-ins use up.
//! - 7: forms over 64 KB; a 60 KB place name on the public form; multipart bodies on a
//!   public route.
//! - 11: the public form's limits shared by two servers on one database, per visitor
//!   behind a trusted proxy, and counting invalid submissions too.

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use alliance_core::access::Role;
use alliance_web::auth::throttle;
use reqwest::StatusCode;

use crate::common::app::{Caller, Reply, TestApp};
use crate::common::{add_user, TEST_PASSWORD};

const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// Signs in through the form as `visitor` would, from `address` when the server trusts
/// the loopback proxy (it is ignored otherwise).
async fn sign_in_from(app: &TestApp, visitor: &Caller, email: &str, password: &str, address: &str) -> Reply {
    let fields = [("csrf_token", visitor.csrf.as_str()), ("email", email), ("password", password)];
    let request =
        app.request(reqwest::Method::POST, "/sign-in", visitor).header("x-forwarded-for", address).form(&fields);
    TestApp::read(request).await
}

fn signed_in(reply: &Reply) -> bool {
    reply.headers.get_all("set-cookie").iter().any(|c| c.to_str().is_ok_and(|c| c.starts_with("alliance_session=")))
}

async fn audit_details(app: &TestApp, action: &str) -> Vec<String> {
    crate::common::audit_rows(&app.db, action).await.into_iter().map(|e| e.detail).collect()
}

async fn stays_up(app: &TestApp) {
    let health = app.get("/healthz", &Caller::default()).await;
    assert_eq!((health.status, health.body.as_str()), (StatusCode::OK, r#"{"status":"ok"}"#), "the server is still up");
}

/// Finding 6: thirty wrong passwords and then the right one, sent at once (each from its
/// own address, so only the account's lockout stands in the way): exactly five guesses are
/// checked, and the right password, arriving once five have been answered, does not sign
/// in: the account is locked.
async fn parallel_guesses_cannot_outrun_the_lockout(app: TestApp) {
    let user = add_user(&app.db, "partner@example.org", Role::PartnerUser, "Test Council").await;
    let proxied = Arc::new(app.beside(|s| s.with_trusted_proxies(vec![LOOPBACK])).await);
    let visitor = proxied.visitor("/sign-in").await;
    let mut guesses = tokio::task::JoinSet::new();
    for i in 0..30 {
        let (server, who) = (proxied.clone(), visitor.clone());
        guesses.spawn(async move {
            let reply = sign_in_from(
                &server,
                &who,
                "partner@example.org",
                &format!("wrong guess {i}"),
                &format!("198.51.100.{i}"),
            )
            .await;
            (reply.status, signed_in(&reply))
        });
    }
    // Five answered guesses were five counted attempts: the account is locked from then on.
    for _ in 0..5 {
        let answered = guesses.join_next().await.expect("a guess").expect("the guess ran");
        assert_eq!(answered, (StatusCode::UNPROCESSABLE_ENTITY, false));
    }
    let right = sign_in_from(&proxied, &visitor, "partner@example.org", TEST_PASSWORD, "198.51.100.200").await;
    assert_eq!(right.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", right.body);
    assert!(!signed_in(&right), "the right password does not sign in to a locked account");
    assert!(right.body.contains("The email address or password is not right"), "the same words as any refusal");
    while let Some(answered) = guesses.join_next().await {
        assert_eq!(answered.expect("the guess ran"), (StatusCode::UNPROCESSABLE_ENTITY, false));
    }
    let stored = app.db.user_by_id(user).await.expect("read").expect("the user");
    assert_eq!(stored.failed_attempts, 5, "only the attempts let through are counted");
    assert!(stored.locked_until.is_some(), "locked");
    let failed = audit_details(&app, "sign-in-failed").await;
    assert_eq!(failed.iter().filter(|d| d.starts_with("wrong password")).count(), 5, "{failed:?}");
    assert_eq!(failed.iter().filter(|d| d.starts_with("account locked")).count(), 26, "{failed:?}");
    assert!(audit_details(&app, "sign-in").await.is_empty(), "nobody signed in");

    // When the lock has run out, one attempt is let through: the right password signs in.
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&app.db_url).await.expect("connect");
    sqlx::query("UPDATE users SET locked_until = '2001-01-01T00:00:00Z' WHERE id = $1")
        .bind(user)
        .execute(&mut conn)
        .await
        .expect("let the lock run out");
    let right = sign_in_from(&proxied, &visitor, "partner@example.org", TEST_PASSWORD, "198.51.100.201").await;
    assert_eq!(right.status, StatusCode::SEE_OTHER, "{}", right.body);
    let stored = app.db.user_by_id(user).await.expect("read").expect("the user");
    assert_eq!((stored.failed_attempts, stored.locked_until), (0, None), "a sign-in clears the count");
    drop(proxied);
}

on_each_app!(parallel_guesses_cannot_outrun_the_lockout);

/// Finding 6: one client may try to sign in `throttle::SIGN_IN.hits` times a window, whatever
/// accounts it names; a forged `X-Forwarded-For` does not give it another allowance; behind a
/// trusted proxy each visitor has their own, and an IPv6 /64 is one visitor.
async fn sign_in_attempts_are_limited_per_client(app: TestApp) {
    let limit = throttle::SIGN_IN.hits;
    let visitor = app.visitor("/sign-in").await;
    for i in 0..limit {
        // The forwarded address is ignored: this server trusts no proxy. The first "email" is
        // 50 KB: refused like any other, and only an email's length of it is kept.
        let email =
            if i == 0 { format!("{}@example.org", "n".repeat(50_000)) } else { format!("nobody{i}@example.org") };
        let reply = sign_in_from(&app, &visitor, &email, "a guess", &format!("203.0.113.{i}")).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "attempt {i}");
        assert!(reply.body.len() < 40_000, "the page does not show the whole value back");
    }
    let rows = crate::common::audit_rows(&app.db, "sign-in-failed").await;
    assert_eq!(rows.len(), limit as usize);
    assert!(rows.iter().all(|r| r.actor.len() <= 300), "audit rows stay short");
    let refused = sign_in_from(&app, &visitor, "nobody@example.org", "a guess", "203.0.113.250").await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS, "{}", refused.body);
    assert!(refused.body.contains("Too many attempts") && refused.headers.contains_key("retry-after"));
    // Even the right password of a real user is refused for this client now.
    add_user(&app.db, "analyst@example.org", Role::Analyst, "Test Alliance").await;
    let real = sign_in_from(&app, &visitor, "analyst@example.org", TEST_PASSWORD, "203.0.113.251").await;
    assert_eq!(real.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(!signed_in(&real));

    // Behind the proxy: another visitor signs in; a /64 network is one visitor.
    let proxied = app.beside(|s| s.with_trusted_proxies(vec![LOOPBACK])).await;
    let other = sign_in_from(&proxied, &visitor, "analyst@example.org", TEST_PASSWORD, "198.51.100.7").await;
    assert_eq!(other.status, StatusCode::SEE_OTHER, "{}", other.body);
    for i in 0..limit {
        let address = format!("2001:db8:1:2::{:x}", i + 1);
        let reply = sign_in_from(&proxied, &visitor, "nobody@example.org", "a guess", &address).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "attempt {i}");
    }
    let same_64 = sign_in_from(&proxied, &visitor, "nobody@example.org", "a guess", "2001:db8:1:2:ffff::1").await;
    assert_eq!(same_64.status, StatusCode::TOO_MANY_REQUESTS);
    let next_64 = sign_in_from(&proxied, &visitor, "analyst@example.org", TEST_PASSWORD, "2001:db8:1:3::1").await;
    assert_eq!(next_64.status, StatusCode::SEE_OTHER);
    drop(proxied);
}

on_each_app!(sign_in_attempts_are_limited_per_client);

/// Only failed sign-ins use up a client's allowance: a busy office behind one address (a
/// council's NAT) signs in 40 times in a window, more than `throttle::SIGN_IN.hits`, and
/// everyone is let in; wrong passwords from it are still refused (429) once `hits` have
/// failed, sign-ins in between not clearing them, and then the right password too. Failures
/// sent at once are each counted in the database: of `hits + 5` sent together from one
/// address, exactly `hits` are checked.
async fn only_failed_sign_ins_use_up_the_allowance(app: TestApp) {
    let limit = throttle::SIGN_IN.hits;
    let sign_ins = 40;
    assert!(sign_ins > limit, "more sign-ins than the allowance");
    add_user(&app.db, "analyst@example.org", Role::Analyst, "Test Alliance").await;
    add_user(&app.db, "partner@example.org", Role::PartnerUser, "Test Council").await;
    let visitor = app.visitor("/sign-in").await;
    let colleague = |i: i64| if i % 2 == 0 { "analyst@example.org" } else { "partner@example.org" };
    // This server trusts no proxy: every request comes from 127.0.0.1, one address.
    for i in 0..sign_ins {
        let reply = sign_in_from(&app, &visitor, colleague(i), TEST_PASSWORD, "203.0.113.1").await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "sign-in {i}: {}", reply.body);
        assert!(signed_in(&reply), "sign-in {i}");
    }
    assert_eq!(audit_details(&app, "sign-in").await.len(), sign_ins as usize);

    // Failures count: 10 wrong, then 5 sign-ins (which give back only their own), then the
    // rest of the allowance; the next attempt is refused, right or wrong.
    let wrong = |i: i64| format!("nobody{i}@example.org");
    for i in 0..10 {
        let reply = sign_in_from(&app, &visitor, &wrong(i), "a guess", "203.0.113.1").await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "wrong attempt {i}");
    }
    for i in 0..5 {
        let reply = sign_in_from(&app, &visitor, colleague(i), TEST_PASSWORD, "203.0.113.1").await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "sign-in between failures {i}: {}", reply.body);
    }
    for i in 10..limit {
        let reply = sign_in_from(&app, &visitor, &wrong(i), "a guess", "203.0.113.1").await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "wrong attempt {i}");
    }
    let refused = sign_in_from(&app, &visitor, &wrong(limit), "a guess", "203.0.113.1").await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS, "{}", refused.body);
    assert!(refused.headers.contains_key("retry-after"));
    let right = sign_in_from(&app, &visitor, "analyst@example.org", TEST_PASSWORD, "203.0.113.1").await;
    assert_eq!(right.status, StatusCode::TOO_MANY_REQUESTS, "once over, the right password waits too");
    assert!(!signed_in(&right));
    assert_eq!(audit_details(&app, "sign-in").await.len(), sign_ins as usize + 5);
    // The accounts' own lockout is untouched: the failures named no real account.
    let analyst = app.db.user_by_email("analyst@example.org").await.expect("read").expect("the user");
    assert_eq!((analyst.failed_attempts, analyst.locked_until), (0, None));

    // Behind the proxy, wrong guesses sent at once from one address: each is counted before
    // its password is checked, so exactly `limit` are checked and the rest refused.
    let proxied = Arc::new(app.beside(|s| s.with_trusted_proxies(vec![LOOPBACK])).await);
    let mut guesses = tokio::task::JoinSet::new();
    for i in 0..limit + 5 {
        let (server, who) = (proxied.clone(), visitor.clone());
        guesses.spawn(async move {
            sign_in_from(&server, &who, &format!("guess{i}@example.org"), "a guess", "198.51.100.77").await.status
        });
    }
    let mut statuses = Vec::new();
    while let Some(status) = guesses.join_next().await {
        statuses.push(status.expect("the guess ran"));
    }
    let checked = statuses.iter().filter(|s| **s == StatusCode::UNPROCESSABLE_ENTITY).count();
    let refused = statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count();
    assert_eq!((checked, refused), (limit as usize, 5), "{statuses:?}");
    // Another address behind the proxy still signs in.
    let other = sign_in_from(&proxied, &visitor, "partner@example.org", TEST_PASSWORD, "198.51.100.78").await;
    assert_eq!(other.status, StatusCode::SEE_OTHER, "{}", other.body);
}

on_each_app!(only_failed_sign_ins_use_up_the_allowance);

/// The change-password form checks the current password like a sign-in: its guesses are
/// counted, and five wrong ones lock the account.
async fn the_change_password_form_is_no_password_oracle(app: TestApp) {
    let me = app.signed_in("analyst@example.org", Role::Analyst, "Test Alliance").await;
    for i in 0..5 {
        let fields = [
            ("current", format!("guess number {i}")),
            ("new", "a new long passphrase".into()),
            ("confirm", "a new long passphrase".into()),
        ];
        let reply = app.post_owned("/account/password", &me, &fields).await;
        reply.assert_refused(&["Your current password is not right"]);
    }
    let fields = [("current", TEST_PASSWORD), ("new", "a new long passphrase"), ("confirm", "a new long passphrase")];
    let reply = app.post_form("/account/password", &me, &fields).await;
    reply.assert_refused(&["locked"]);
    let user = app.db.user_by_email("analyst@example.org").await.unwrap().unwrap();
    assert_eq!(user.failed_attempts, 5);
    assert!(user.locked_until.is_some());
    assert!(alliance_app::password::verify(TEST_PASSWORD, &user.password_hash).await, "the password is unchanged");
    let failed = audit_details(&app, "sign-in-failed").await;
    assert_eq!(failed.len(), 6, "{failed:?}");
}

on_each_app!(the_change_password_form_is_no_password_oracle);

/// A valid report of an unsafe place at a point on the map (no place name, so no areas
/// are needed).
fn report_fields(csrf: &str) -> Vec<(&'static str, String)> {
    crate::common::http::unsafe_place_report(csrf, "-2.1794", "53.0027")
}

async fn report_from(app: &TestApp, visitor: &Caller, fields: &[(&'static str, String)], address: &str) -> Reply {
    let request = app
        .request(reqwest::Method::POST, "/report-unsafe-place", visitor)
        .header("x-forwarded-for", address)
        .form(fields);
    TestApp::read(request).await
}

async fn stored_reports(app: &TestApp) -> usize {
    app.db.unsafe_reports("pending", 10_000).await.expect("read reports").len()
}

/// Finding 11: the public form's allowance is kept in the database, so a second server on
/// it does not double it; behind a trusted proxy each visitor has their own; invalid
/// submissions are limited too. Every acknowledged report is stored.
async fn public_form_limits_hold_across_servers_and_proxies(app: TestApp) {
    use throttle::{PUBLIC_FORM_ACCEPTED as ACCEPTED, PUBLIC_FORM_ANY as ANY};
    let second = app.beside(|s| s).await;
    let visitor = app.visitor("/report-unsafe-place").await;
    let fields = report_fields(&visitor.csrf);
    for i in 0..ACCEPTED {
        let server = if i % 2 == 0 { &app } else { &second };
        let reply = report_from(server, &visitor, &fields, "192.0.2.1").await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "report {i}: {}", reply.body);
    }
    for server in [&app, &second] {
        let reply = report_from(server, &visitor, &fields, "192.0.2.2").await;
        assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS, "the allowance is shared by both servers");
        assert!(reply.body.contains("Exit this page") && reply.headers.contains_key("retry-after"));
    }
    assert_eq!(stored_reports(&app).await, ACCEPTED as usize, "every acknowledged report is stored, no more");

    // Behind the proxy: another visitor has their own allowance.
    let proxied = app.beside(|s| s.with_trusted_proxies(vec![LOOPBACK])).await;
    let reply = report_from(&proxied, &visitor, &fields, "198.51.100.20").await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    // Invalid submissions count too: a script cannot probe the form without end.
    let mut invalid = report_fields(&visitor.csrf);
    invalid.retain(|(k, _)| *k != "reasons");
    for i in 1..ANY {
        let reply = report_from(&proxied, &visitor, &invalid, "198.51.100.20").await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "invalid submission {i}");
    }
    let reply = report_from(&proxied, &visitor, &invalid, "198.51.100.20").await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    let reply = report_from(&proxied, &visitor, &fields, "198.51.100.20").await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS, "a valid one too, once over");
    assert_eq!(stored_reports(&app).await, ACCEPTED as usize + 1);
    // The database holds no address, only keyed hashes.
    for table in ["rate_limits", "unsafe_reports", "audit_log"] {
        let dump = dump_table(&app, table).await;
        assert!(!dump.contains("198.51.100.20") && !dump.contains("192.0.2.1"), "{table} holds an address: {dump}");
    }
    drop(proxied);
    drop(second);
}

on_each_app!(public_form_limits_hold_across_servers_and_proxies);

/// Every text column of a table, joined.
async fn dump_table(app: &TestApp, table: &str) -> String {
    let url = app.db_url.clone();
    use sqlx::{Connection, Row};
    let mut conn = sqlx::AnyConnection::connect(&url).await.expect("connect");
    let rows = sqlx::query(&format!("SELECT * FROM {table}")).fetch_all(&mut conn).await.expect("read the table");
    let mut out = String::new();
    for row in rows {
        for i in 0..row.columns().len() {
            if let Ok(Some(text)) = row.try_get::<Option<String>, _>(i) {
                out.push_str(&text);
                out.push('|');
            }
        }
    }
    out
}

/// Finding 7: forms over 64 KB are read (not refused as if their token were missing);
/// a public form over its limit is a clear 413; a long place name is a 422 naming the
/// bound; multipart bodies on a public route are refused in the service's words.
async fn oversized_forms_get_clear_refusals(app: TestApp) {
    let visitor = app.visitor("/report-unsafe-place").await;
    let mut fields = report_fields(&visitor.csrf);
    fields.retain(|(k, _)| *k != "place");
    // 100 KB: over the public forms' limit, refused before anything reads it.
    fields.push(("place", "Church Street ".repeat(100 * 1024 / 14)));
    let reply = report_from(&app, &visitor, &fields, "").await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", &reply.body[..reply.body.len().min(500)]);
    assert!(reply.body.contains("larger than Alliance accepts") && !reply.body.contains("security token"));
    assert!(reply.body.contains("Exit this page"), "the public layout");
    // 60 KB (the finding's) and 10 KB: read, and refused for the place's length.
    for size in [60 * 1024, 10_000] {
        fields.pop();
        fields.push(("place", "x".repeat(size)));
        let reply = report_from(&app, &visitor, &fields, "").await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{size}");
        assert!(reply.body.contains("at most 200 characters"), "{}", &reply.body[..reply.body.len().min(500)]);
    }
    assert_eq!(stored_reports(&app).await, 0);
    let join = app.visitor("/safer-places/join").await;
    let long = "x".repeat(3_000);
    let reply = app.post_form("/safer-places/join", &join, &[("name", long.as_str()), ("how-1", &long)]).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.body.contains("Enter at most 200 characters here"), "{}", &reply.body[..reply.body.len().min(500)]);

    // A staff form of 100 KB: read, and refused for what it says, not for its token.
    let admin = app.signed_in("admin@example.org", Role::Administrator, "Test Alliance").await;
    let long_name = "Youth Offending Service ".repeat(100 * 1024 / 24);
    let reply = app
        .post_form("/admin/organisations", &admin, &[("name", long_name.as_str()), ("org_type", "youth-justice")])
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", &reply.body[..reply.body.len().min(500)]);
    assert!(reply.body.contains("at most 200 characters"));
    assert!(app.db.organisations().await.unwrap().iter().all(|o| o.name.len() < 300));

    // Multipart on a public form: without the token first, refused for the token; with it,
    // refused as unreadable; never a 500, never the framework's words.
    let boundary = "adversarial-7";
    let part = |name: &str, value: &str| {
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
    };
    let without =
        format!("{}{}--{boundary}--\r\n", part("place", &"y".repeat(2_000)), part("csrf_token", &visitor.csrf));
    let with = format!("{}{}--{boundary}--\r\n", part("csrf_token", &visitor.csrf), part("place", &"y".repeat(2_000)));
    for (body, status) in [(without, StatusCode::FORBIDDEN), (with, StatusCode::BAD_REQUEST)] {
        let request = app
            .request(reqwest::Method::POST, "/report-unsafe-place", &visitor)
            .header("content-type", format!("multipart/form-data; boundary={boundary}"))
            .body(body);
        let reply = TestApp::read(request).await;
        assert_eq!(reply.status, status, "{}", &reply.body[..reply.body.len().min(500)]);
        assert!(reply.body.contains("Exit this page"), "a page in the service's layout");
        assert!(!reply.body.contains("Failed to") && !reply.body.contains("multipart"), "{}", reply.body);
    }
    assert_eq!(stored_reports(&app).await, 0);
    stays_up(&app).await;
}

on_each_app!(oversized_forms_get_clear_refusals);

async fn upload(app: &TestApp, who: &Caller, kind: &str, file: (&str, &[u8])) -> Reply {
    let (content_type, body) =
        crate::common::http::multipart(&[("csrf_token", &who.csrf), ("kind", kind)], ("file", file.0, file.1));
    let request =
        app.request(reqwest::Method::POST, "/partner-data/upload", who).header("content-type", content_type).body(body);
    TestApp::read(request).await
}

/// A workbook with `rows` (cells as text) and a cell at XFD1048576: a used range of 17
/// billion cells, in a file of a few kilobytes.
fn far_workbook(rows: &[&[&str]]) -> Vec<u8> {
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    for (r, cells) in rows.iter().enumerate() {
        for (c, text) in cells.iter().enumerate() {
            sheet.write_string(r as u32, c as u16, *text).expect("a cell");
        }
    }
    sheet.write_string(1_048_575, 16_383, "far away").expect("XFD1048576");
    let xlsx = workbook.save_to_buffer().expect("a workbook");
    assert!(xlsx.len() < 16 * 1024, "a small file: {} bytes", xlsx.len());
    xlsx
}

const INDICATOR_HEADER: &[&str] = &["indicator", "area_code", "period", "value"];

/// Findings 1 and 2: a workbook whose used range is A1:XFD1048576 from a partner whose
/// organisation supplies nothing, and a `.gz` inflating to 300 MB on one line from an
/// administrator: each is refused at once with a short message, the server stays up, and
/// nothing is stored; neither the reply nor the audit row copies the file.
///
/// And the supplier check of an indicator workbook, whose dataset only its rows tell: a
/// partner whose organisation supplies school figures uploads the same workbook with a
/// hospital figure in its first row: refused as not its dataset (403) at that row, before
/// the far cell is reached; with a school figure there, the workbook is read and refused by
/// its size (422).
async fn bombs_are_refused_briefly(app: TestApp) {
    let partner = app.signed_in("partner@council.example", Role::PartnerUser, "Test Council").await;
    let reply = upload(&app, &partner, "indicators", ("monthly.xlsx", &far_workbook(&[&["code"]]))).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", &reply.body[..reply.body.len().min(3000)]);
    assert!(reply.body.contains("does not supply the dataset of any partner indicators"), "{}", reply.body);
    assert!(reply.body.len() < 64 * 1024, "a short reply: {} bytes", reply.body.len());
    stays_up(&app).await;

    let schools = app.signed_in("partner@schools.example", Role::PartnerUser, "Test Schools").await;
    let org = app.db.organisation_by_name("Test Schools").await.expect("read").expect("the organisation").id;
    app.db.set_dataset_owner("indicators:education", org, &crate::common::test_actor()).await.expect("owner");
    let hospital_row: &[&str] = &["Hospital admissions for assault", "E06000021", "2025-03", "4"];
    let reply =
        upload(&app, &schools, "indicators", ("monthly.xlsx", &far_workbook(&[INDICATOR_HEADER, hospital_row]))).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", &reply.body[..reply.body.len().min(3000)]);
    assert!(reply.body.contains("does not supply the dataset indicators:health"), "{}", reply.body);
    let school_row: &[&str] = &["School suspensions", "E06000021", "2025-03", "4"];
    let reply =
        upload(&app, &schools, "indicators", ("monthly.xlsx", &far_workbook(&[INDICATOR_HEADER, school_row]))).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", &reply.body[..reply.body.len().min(3000)]);
    assert!(reply.body.contains("XFD1048576 is outside the largest sheet accepted"), "{}", reply.body);
    stays_up(&app).await;
    let refusals = audit_details(&app, "import indicators").await;
    assert_eq!(refusals.len(), 3, "each refusal audited: {refusals:?}");
    assert!(refusals.iter().all(|d| d.starts_with("FAILED: ")), "{refusals:?}");

    let admin = app.signed_in("admin@example.org", Role::Administrator, "Test Alliance").await;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(b"attendance_id,arrival_date,age_band,sex,assault_location,assault_method,location_free_text\n")
        .expect("header");
    let block = vec![b'a'; 1 << 20];
    for _ in 0..300 {
        gz.write_all(&block).expect("compress");
    }
    let bomb = gz.finish().expect("a gzip file");
    assert!(bomb.len() < 1 << 20, "a small file: {} bytes", bomb.len());
    let reply = upload(&app, &admin, "ed", ("ed-2025-01.csv.gz", &bomb)).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", &reply.body[..reply.body.len().min(500)]);
    assert!(reply.body.len() < 64 * 1024, "a short reply: {} bytes", reply.body.len());
    assert!(!reply.body.contains(&"a".repeat(1000)), "the reply does not copy the file");
    stays_up(&app).await;

    for action in ["import ed", "import indicators"] {
        for detail in audit_details(&app, action).await {
            assert!(detail.len() < 2048, "{action}: an audit row of {} bytes", detail.len());
        }
    }
    assert!(app.db.indicator_values().await.expect("read").is_empty(), "nothing stored");
    let ed = dump_table(&app, "ed_assaults").await;
    assert!(ed.is_empty(), "nothing stored: {}", &ed[..ed.len().min(200)]);
}

on_each_app!(bombs_are_refused_briefly);

/// Finding 9: a full disk while the public form is used. The server runs as `alliance serve`
/// with its file size limit (RLIMIT_FSIZE, set by `prlimit`) just above the database's size,
/// so the database can no longer grow, as on a full disk, without needing root for a small
/// file system. Reports are sent until storing fails: every report acknowledged ("sent") is
/// stored, each failure is the service's error page with a reference that is in the log,
/// and the server stays up.
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_loses_no_acknowledged_report() {
    use std::io::BufRead;
    use std::process::{Command, Stdio};

    if Command::new("prlimit").arg("--version").output().is_err() {
        crate::common::skipped("prlimit (util-linux) is not installed: the full-disk test needs it");
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary folder");
    let file = dir.path().join("full.db");
    let url = format!("sqlite://{}", file.display());
    // Made and closed first: migrated, and its write-ahead log checkpointed away.
    alliance_db::Db::connect(&url).await.expect("create the database").close().await;
    let size = std::fs::metadata(&file).expect("the database file").len();
    let limit = size + 512 * 1024;
    // SIGXFSZ ignored (as a shell's trap leaves it across exec): writes past the limit fail
    // with EFBIG, which SQLite reports as a full disk.
    let mut server = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "trap '' XFSZ; exec prlimit --fsize={limit}:{limit} \"$0\" --db \"$1\" serve --port 0 --trusted-proxy 127.0.0.1"
        ))
        .arg(env!("CARGO_BIN_EXE_alliance"))
        .arg(&url)
        .env_remove("ALLIANCE_DB")
        .env("ALLIANCE_LOG", "error")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start alliance serve");
    let mut lines = std::io::BufReader::new(server.stdout.take().expect("its output")).lines();
    let base = loop {
        let line = lines.next().expect("alliance serve printed its address").expect("a line");
        if let Some(rest) = line.split("running at ").nth(1) {
            break rest.split_whitespace().next().expect("the address").trim_end_matches('/').to_string();
        }
    };
    let client = crate::common::app::client();
    let page = client.get(format!("{base}/report-unsafe-place")).send().await.expect("the form");
    let token = crate::common::app::csrf_cookie(page.headers());
    let fields = report_fields(&token);
    let (mut acknowledged, mut failed, mut references) = (0, 0, Vec::new());
    for i in 0..200 {
        let reply = client
            .post(format!("{base}/report-unsafe-place"))
            .header("cookie", format!("alliance_csrf={token}"))
            // Each report from its own visitor (behind the trusted proxy), so no limit is met.
            .header("x-forwarded-for", format!("10.9.{}.{}", i / 250, i % 250 + 1))
            .form(&fields)
            .send()
            .await
            .expect("the server answers");
        let status = reply.status();
        let body = reply.text().await.expect("a body");
        match status {
            StatusCode::SEE_OTHER => acknowledged += 1,
            StatusCode::INTERNAL_SERVER_ERROR => {
                assert!(body.contains("Sorry, there is a problem with the service"), "{body}");
                assert!(!body.contains("disk") && !body.contains("SQLITE"), "engine errors are not shown: {body}");
                let reference = body.split("administrator: ").nth(1).and_then(|r| r.get(..8)).expect("a reference");
                references.push(reference.to_string());
                failed += 1;
                if failed == 3 {
                    break;
                }
            }
            other => panic!("report {i}: {other}: {body}"),
        }
    }
    eprintln!("full disk: {acknowledged} acknowledged, {failed} failed");
    assert!(failed > 0, "the database never filled ({acknowledged} reports stored): raise the test's report count");
    let health = client.get(format!("{base}/healthz")).send().await.expect("the server is up");
    assert_eq!(health.status(), StatusCode::OK);
    let _ = server.kill();
    let _ = server.wait();
    let mut log = String::new();
    std::io::Read::read_to_string(&mut server.stderr.take().expect("its log"), &mut log).expect("read the log");
    for reference in &references {
        assert!(log.contains(reference.as_str()), "the log names the failure {reference}: {log}");
    }
    // Reopened without the limit: exactly the acknowledged reports are there.
    let db = alliance_db::Db::connect(&url).await.expect("the database still opens");
    let stored = db.unsafe_reports("pending", 10_000).await.expect("read the reports").len();
    assert_eq!(stored, acknowledged, "every acknowledged report is stored, and only those");
    db.close().await;
}
