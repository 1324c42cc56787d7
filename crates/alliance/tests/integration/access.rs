//! Access and trust, black-box: the route table walked for every role and for an anonymous
//! visitor, CSRF, lockout, the audit chain and its tampering, data-sharing levels, API
//! tokens and the police upload API.

use crate::common;

use std::process::Command;

use alliance_core::access::{AccessLevel, Role};
use alliance_db::Db;
use alliance_web::auth::access::{rules, Allow};
use alliance_web::auth::Principal;
use alliance_web::AppState;
use axum::http::StatusCode;
use common::app::{Caller, Reply, TestApp};
use common::http::enc;
use common::{add_user, TEST_PASSWORD};

/// Posts a URL-encoded form body exactly as given (its CSRF token, or none, included).
async fn send_form(app: &TestApp, path: &str, who: &Caller, form: &str) -> Reply {
    let request = app
        .request(reqwest::Method::POST, path, who)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form.to_string());
    TestApp::read(request).await
}

/// A request as `token` (an API token), without a body unless given.
async fn with_token(app: &TestApp, method: reqwest::Method, path: &str, token: &str, body: Option<String>) -> Reply {
    let caller = Caller { bearer: Some(token.to_string()), ..Caller::default() };
    let mut request = app.request(method, path, &caller);
    if let Some(body) = body {
        request = request.body(body);
    }
    TestApp::read(request).await
}

/// Whether a reply is a refusal by the access check: exactly 401, 403 or the redirect to the
/// sign-in page (anything else, a 500 included, is not a refusal; the route walk then
/// requires that an admitted request did not fail either).
fn refused(reply: &Reply) -> bool {
    reply.status == StatusCode::UNAUTHORIZED
        || reply.status == StatusCode::FORBIDDEN
        || (reply.status == StatusCode::SEE_OTHER && reply.header("location").is_some_and(is_sign_in))
}

/// Whether a redirect goes to the sign-in page: bare, or with the page asked for to return to.
fn is_sign_in(location: &str) -> bool {
    location == "/sign-in" || location.starts_with("/sign-in?next=%2F")
}

/// A concrete path for a route pattern.
fn concrete(pattern: &str) -> String {
    pattern
        .replace("{*path}", "alliance.css")
        .replace("{id}", "1")
        .replace("{eid}", "1")
        .replace("{mid}", "1")
        .replace("{quarter}", "2025-Q1")
        .replace("{file}", "table.csv")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_admits_exactly_the_roles_in_the_table() {
    let app = TestApp::start(common::sqlite()).await;
    let db = app.db.clone();
    let mut visitors: Vec<(Option<Role>, Caller)> = vec![(None, app.visitor("/sign-in").await)];
    for &role in Role::ALL {
        let email = format!("{}@example.org", role.code());
        add_user(&db, &email, role, "Test Alliance").await;
        let signed_in = app.sign_in(&email, TEST_PASSWORD).await.unwrap_or_else(|r| panic!("{}", r.body));
        visitors.push((Some(role), signed_in));
    }
    // The partner data pages admit by role, then show what the organisation's access allows
    // (403 without any): the walk is about the route table, so the test organisation owns
    // the partner datasets. tests/partner_access.rs checks the levels themselves.
    let org = db.organisation_by_name("Test Alliance").await.unwrap().unwrap().id;
    for slug in ["ed-assaults", "police-recorded-crime"].into_iter().chain(alliance_core::access::INDICATOR_DATASETS) {
        db.set_dataset_owner(slug, org, &common::test_actor()).await.unwrap();
    }
    // Signing out ends the session, so it goes last.
    let mut routes: Vec<_> = rules().collect();
    routes.sort_by_key(|r| r.path == "/sign-out");
    for rule in routes {
        for (role, visitor) in &visitors {
            let path = concrete(rule.path);
            let reply = if rule.method == "POST" {
                send_form(&app, &path, visitor, &format!("csrf_token={}", visitor.csrf)).await
            } else {
                let method = reqwest::Method::from_bytes(rule.method.as_bytes()).expect("an HTTP method");
                TestApp::read(app.request(method, &path, visitor)).await
            };
            let expected = match rule.allow {
                Allow::Public => true,
                Allow::Roles(roles) => role.is_some_and(|r| roles.contains(&r)),
            };
            assert_eq!(
                !refused(&reply),
                expected,
                "{} {} as {:?}: status {} {:?}\n{}",
                rule.method,
                path,
                role,
                reply.status,
                reply.header("location"),
                &reply.body[..reply.body.len().min(300)]
            );
            if expected {
                assert!(
                    !reply.status.is_server_error(),
                    "{} {} as {:?}: admitted but failed with {}\n{}",
                    rule.method,
                    path,
                    role,
                    reply.status,
                    &reply.body[..reply.body.len().min(300)]
                );
            } else {
                let code = reply.status;
                match role {
                    None if path.starts_with("/api/") => assert_eq!(code, StatusCode::UNAUTHORIZED),
                    None => assert_eq!(code, StatusCode::SEE_OTHER),
                    Some(_) => assert_eq!(code, StatusCode::FORBIDDEN),
                }
            }
        }
    }
}

/// Addresses with no route: for a signed-in caller, a 404 in the service's words; for
/// anyone else, the sign-in (so the app's addresses cannot be mapped without an account). A
/// method the table does not list for a listed path is refused.
async fn routes_missing_from_the_table_are_refused(app: TestApp) {
    let admin = app.signed_in("admin@example.org", Role::Administrator, "Test Alliance").await;
    let anon = app.visitor("/sign-in").await;
    for path in ["/admin/secret", "/api/v1/secret", "/no-such-page", "/assets", "/imports/1", "/api/v2/counts"] {
        let reply = app.get(path, &admin).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        if path.starts_with("/api/") {
            assert_eq!(reply.json()["status"], 404, "{path}: {}", reply.body);
        } else {
            assert!(reply.body.contains("Page not found"), "{path}: {}", reply.body);
        }
        let reply = app.get(path, &anon).await;
        if path.starts_with("/api/") {
            assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{path}");
        } else {
            // The same answer for every address, existing or not: the address itself is all
            // it echoes.
            let back = format!("/sign-in?next={}", enc(path));
            assert_eq!(
                (reply.status, reply.header("location")),
                (StatusCode::SEE_OTHER, Some(back.as_str())),
                "{path}"
            );
        }
    }
    // A listed path asked with a method it does not have: 405, naming the methods it has.
    for (path, allowed) in [("/", "GET"), ("/admin/audit", "GET")] {
        let reply = app.post_form(path, &admin, &[]).await;
        assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED, "{path}: {}", reply.body);
        assert_eq!(reply.header("allow"), Some(allowed), "{path}");
    }
    let reply = app.get("/admin/grants", &admin).await;
    assert_eq!((reply.status, reply.header("allow")), (StatusCode::METHOD_NOT_ALLOWED, Some("POST")));
    let reply = TestApp::read(app.request(reqwest::Method::DELETE, "/api/v1/counts", &admin)).await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED, "{}", reply.body);
    assert_eq!((reply.header("allow"), &reply.json()["status"]), (Some("GET"), &serde_json::json!(405)));
    // Anonymously the answer stays the sign-in: no method list to map the app with.
    let reply = TestApp::read(app.request(reqwest::Method::DELETE, "/api/v1/counts", &anon)).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
}

on_each_app!(routes_missing_from_the_table_are_refused);

/// The app on a fresh SQLite database with an administrator at `org`, signed in through the
/// sign-in form as a browser would be.
async fn app_with_admin(org: &str) -> (TestApp, Caller) {
    let app = TestApp::start(common::sqlite()).await;
    add_user(&app.db, "admin@example.org", Role::Administrator, org).await;
    let admin = app.sign_in("admin@example.org", TEST_PASSWORD).await.ok().unwrap();
    (app, admin)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn posts_without_the_csrf_token_are_refused() {
    let (app, admin) = app_with_admin("Test Alliance").await;
    let db = app.db.clone();
    let add = |csrf: &str| format!("name=Youth+Offending+Service&org_type=youth-justice{csrf}");
    for form in [add(""), add("&csrf_token=0000"), add(&format!("&csrf_token={}", "a".repeat(64)))] {
        let reply = send_form(&app, "/admin/organisations", &admin, &form).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{form}");
    }
    assert!(db.organisation_by_name("Youth Offending Service").await.unwrap().is_none());
    let reply = send_form(&app, "/admin/organisations", &admin, &add(&format!("&csrf_token={}", admin.csrf))).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert!(db.organisation_by_name("Youth Offending Service").await.unwrap().is_some());

    // Signing in needs the anonymous token too.
    let anon = app.visitor("/sign-in").await;
    let form = format!("email=admin%40example.org&password={}", enc(TEST_PASSWORD));
    assert_eq!(send_form(&app, "/sign-in", &anon, &form).await.status, StatusCode::FORBIDDEN);
    let other = Caller { cookie: String::new(), csrf: anon.csrf.clone(), bearer: None };
    let with_token = format!("{form}&csrf_token={}", anon.csrf);
    assert_eq!(send_form(&app, "/sign-in", &other, &with_token).await.status, StatusCode::FORBIDDEN);
    assert_eq!(send_form(&app, "/sign-in", &anon, &with_token).await.status, StatusCode::SEE_OTHER);
}

/// A page asked for without a session (a link in an email) is where the sign-in returns to;
/// a return address that is not a page of this site (another host, `//host`, `/\\host`) goes
/// to the dashboard instead, so no sign-in link can send a user away.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_in_returns_to_the_page_asked_for_and_nowhere_else() {
    let app = TestApp::start(common::sqlite()).await;
    add_user(&app.db, "admin@example.org", Role::Administrator, "Test Alliance").await;
    let asked = app.get("/sna?area=E06000021", &Caller::default()).await;
    let to = asked.header("location").expect("a redirect").to_string();
    assert_eq!((asked.status, to.as_str()), (StatusCode::SEE_OTHER, "/sign-in?next=%2Fsna%3Farea%3DE06000021"));
    let form_page = app.get(&to, &Caller::default()).await;
    assert!(form_page.body.contains("name=\"next\" value=\"/sna?area=E06000021\""), "{}", form_page.body);
    for (next, back) in [
        ("/sna?area=E06000021", "/sna?area=E06000021"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example/", "/"),
        ("/sign-in", "/"),
    ] {
        let anon = app.visitor("/sign-in").await;
        let form = format!(
            "email=admin%40example.org&password={}&next={}&csrf_token={}",
            enc(TEST_PASSWORD),
            enc(next),
            anon.csrf
        );
        let reply = send_form(&app, "/sign-in", &anon, &form).await;
        assert_eq!((reply.status, reply.header("location")), (StatusCode::SEE_OTHER, Some(back)), "{next}");
    }
    // A wrong password keeps where to return to in the form shown again.
    let anon = app.visitor("/sign-in").await;
    let form = format!("email=admin%40example.org&password=wrong&next=%2Finterventions&csrf_token={}", anon.csrf);
    let reply = send_form(&app, "/sign-in", &anon, &form).await;
    assert!(reply.body.contains("name=\"next\" value=\"/interventions\""), "{}", reply.body);
    // A form sent without a session is not where a sign-in returns to.
    let posted = app.post_form("/admin/organisations", &anon, &[("name", "x")]).await;
    assert_eq!(posted.header("location"), Some("/sign-in"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_failures_lock_the_account_until_an_administrator_unlocks_it() {
    let app = TestApp::start(common::sqlite()).await;
    let db = app.db.clone();
    add_user(&db, "admin@example.org", Role::Administrator, "Test Alliance").await;
    let user = add_user(&db, "partner@example.org", Role::PartnerUser, "Test Council").await;
    for attempt in 1..=5 {
        let reply = app.sign_in("partner@example.org", "wrong password!").await.expect_err("refused");
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "attempt {attempt}");
        assert!(reply.body.contains("There is a problem"));
    }
    // Locked: the right password is refused too, with the same message.
    let reply = app.sign_in("partner@example.org", TEST_PASSWORD).await.expect_err("locked");
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    let stored = db.user_by_id(user).await.unwrap().unwrap();
    assert_eq!(stored.failed_attempts, 5);
    assert!(stored.locked_until.is_some());
    // An unknown email gets the same answer.
    let unknown = app.sign_in("nobody@example.org", TEST_PASSWORD).await.expect_err("refused");
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);

    // The administrator unlocks the account.
    let admin = app.sign_in("admin@example.org", TEST_PASSWORD).await.ok().unwrap();
    let form = format!("role=partner-user&active=1&csrf_token={}", admin.csrf);
    assert_eq!(send_form(&app, &format!("/admin/users/{user}"), &admin, &form).await.status, StatusCode::SEE_OTHER);
    assert!(app.sign_in("partner@example.org", TEST_PASSWORD).await.is_ok());

    // All of it is in the audit log.
    let failed = common::audit_rows(&db, "sign-in-failed").await;
    assert_eq!(failed.len(), 7);
    assert!(failed.iter().any(|e| e.detail.contains("locked until")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_out_and_changing_the_password_end_sessions() {
    let app = TestApp::start(common::sqlite()).await;
    let db = app.db.clone();
    add_user(&db, "analyst@example.org", Role::Analyst, "Test Alliance").await;
    let me = app.sign_in("analyst@example.org", TEST_PASSWORD).await.ok().unwrap();
    let second = app.sign_in("analyst@example.org", TEST_PASSWORD).await.ok().unwrap();
    let form = format!(
        "current={}&new=another+long+passphrase&confirm=another+long+passphrase&csrf_token={}",
        enc(TEST_PASSWORD),
        me.csrf
    );
    let reply = send_form(&app, "/account/password", &me, &form).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert!(refused(&app.get("/", &second).await), "the other session ended");
    let old = app.sign_in("analyst@example.org", TEST_PASSWORD).await.expect_err("the old password is refused");
    old.assert_refused(&["<a href=\"#email\">The email address or password is not right"]);
    let fresh = app.sign_in("analyst@example.org", "another long passphrase").await.ok().unwrap();
    assert_eq!(app.get("/", &fresh).await.status, StatusCode::OK);
    let out = send_form(&app, "/sign-out", &fresh, &format!("csrf_token={}", fresh.csrf)).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert!(refused(&app.get("/", &fresh).await));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_audit_row_is_found_by_audit_verify() {
    let app = TestApp::start(common::sqlite()).await;
    let db = app.db.clone();
    add_user(&db, "admin@example.org", Role::Administrator, "Test Alliance").await;
    for _ in 0..3 {
        app.sign_in("admin@example.org", TEST_PASSWORD).await.ok().unwrap();
    }
    let _ = app.sign_in("admin@example.org", "wrong password!").await;
    // Adding the organisation and the user, three sign-ins and one refusal: six rows.
    let report = db.verify_audit_chain().await.unwrap();
    assert_eq!((report.rows_checked, report.first_broken.clone()), (6, None));
    db.close().await;

    let verify = || {
        Command::new(env!("CARGO_BIN_EXE_alliance"))
            .args(["--db", &app.db_url, "audit", "verify"])
            .env("ALLIANCE_LOG", "warn")
            .output()
            .expect("run alliance")
    };
    let ok = verify();
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stdout));
    assert!(String::from_utf8_lossy(&ok.stdout).contains("intact: 6 rows"));

    // Someone edits row 2 by hand.
    let db = Db::connect(&app.db_url).await.expect("reconnect");
    sqlx::query("UPDATE audit_log SET actor = 'user:someone-else@example.org' WHERE id = 2")
        .execute(&mut *sqlx_conn(&app.db_url).await)
        .await
        .unwrap();
    db.close().await;
    let broken = verify();
    let out = String::from_utf8_lossy(&broken.stdout).into_owned();
    assert!(!broken.status.success(), "{out}");
    assert!(out.contains("BROKEN at row 2") && out.contains("altered"), "{out}");

    // Deleting a row is found too (row 3 removed: row 4 follows row 2). Row 2, the user's
    // creation by the test, is put back first.
    let mut conn = sqlx_conn(&app.db_url).await;
    sqlx::query("UPDATE audit_log SET actor = 'test' WHERE id = 2").execute(&mut *conn).await.unwrap();
    sqlx::query("DELETE FROM audit_log WHERE id = 3").execute(&mut *conn).await.unwrap();
    drop(conn);
    let out = String::from_utf8_lossy(&verify().stdout).into_owned();
    assert!(out.contains("BROKEN at row 4"), "{out}");
}

async fn sqlx_conn(url: &str) -> Box<sqlx::SqliteConnection> {
    use sqlx::Connection;
    Box::new(sqlx::SqliteConnection::connect(url).await.expect("open the SQLite file"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partner_granted_aggregates_cannot_read_records() {
    let app = TestApp::start(common::sqlite()).await;
    let db = app.db.clone();
    let health = db
        .create_organisation("Royal Stoke ED", alliance_core::access::OrgType::Health, &common::test_actor())
        .await
        .unwrap();
    add_user(&db, "admin@example.org", Role::Administrator, "Test Alliance").await;
    let partner = add_user(&db, "partner@example.org", Role::PartnerUser, "Stoke Council").await;
    let council = db.organisation_by_name("Stoke Council").await.unwrap().unwrap().id;
    let admin = app.sign_in("admin@example.org", TEST_PASSWORD).await.ok().unwrap();
    // Through the administrators' pages: the owner, an agreement, an aggregate grant.
    let post = |path: &'static str, form: String| {
        let (app, admin) = (&app, &admin);
        async move { send_form(app, path, admin, &format!("{form}&csrf_token={}", admin.csrf)).await }
    };
    assert_eq!(
        post("/admin/datasets", format!("dataset=ed-assaults&org_id={health}")).await.status,
        StatusCode::SEE_OTHER
    );
    let agreement = "title=ED+data+sharing&purpose=Violence+reduction&lawful_basis=Public+task&review_date=2099-03-31";
    assert_eq!(post("/admin/agreements", agreement.into()).await.status, StatusCode::SEE_OTHER);
    let bad_date = post("/admin/agreements", agreement.replace("2099-03-31", "next+year")).await;
    assert_eq!(bad_date.status, StatusCode::UNPROCESSABLE_ENTITY);
    // The error is on the review date, linked from the summary, and what was typed comes back.
    assert!(bad_date.body.contains("<a href=\"#review_date\">The review date must be a real date like 2026-03-31</a>"));
    assert!(bad_date.body.contains("id=\"title\" name=\"title\" type=\"text\" value=\"ED data sharing\""));
    assert!(bad_date.body.contains("value=\"next year\""), "{}", bad_date.body);
    assert!(bad_date.body.contains(">Violence reduction</textarea>"));
    let grant = format!("agreement_id=1&org_id={council}&dataset=ed-assaults&level=aggregate");
    assert_eq!(post("/admin/grants", grant).await.status, StatusCode::SEE_OTHER);
    // The grant takes effect once an administrator of the owner approves it.
    add_user(&db, "admin@stoke-ed.example", Role::Administrator, "Royal Stoke ED").await;
    let owner_admin = alliance_db::audit::Actor::new("user:admin@stoke-ed.example", "test");
    db.decide_grant(1, council, "ed-assaults", true, &owner_admin).await.unwrap();
    let page = app.get("/admin/data-sharing", &admin).await;
    assert!(page.body.contains("Stoke Council: <code>ed-assaults</code> at aggregate level"), "{}", page.body);

    // The partner sees aggregate, the health analyst record, the board member at health aggregate.
    let me = app.sign_in("partner@example.org", TEST_PASSWORD).await.ok().unwrap();
    let levels = app.get("/api/v1/datasets", &me).await;
    let json: serde_json::Value = serde_json::from_str(&levels.body).unwrap();
    let level_of = |slug: &str| {
        json["datasets"].as_array().unwrap().iter().find(|d| d["dataset"] == slug).unwrap()["access"].clone()
    };
    assert_eq!(level_of("ed-assaults"), "aggregate");
    assert_eq!(level_of("indicators:probation"), "none");
    assert_eq!(level_of("police-recorded-crime"), "record");

    let state = AppState::new(db.clone());
    let partner_user = Principal::User(db.user_by_id(partner).await.unwrap().unwrap());
    let check = |who: Principal, needed: AccessLevel| {
        let state = state.clone();
        async move {
            alliance_web::auth::access::require_dataset(&state, &who, "ed-assaults", needed, "test").await.unwrap()
        }
    };
    assert_eq!(check(partner_user.clone(), AccessLevel::Aggregate).await, Ok(AccessLevel::Aggregate));
    assert_eq!(check(partner_user, AccessLevel::Record).await, Err(()));
    let analyst = add_user(&db, "ed@example.org", Role::Analyst, "Royal Stoke ED").await;
    let board = add_user(&db, "board@example.org", Role::BoardMember, "Royal Stoke ED").await;
    let analyst = Principal::User(db.user_by_id(analyst).await.unwrap().unwrap());
    let board = Principal::User(db.user_by_id(board).await.unwrap().unwrap());
    assert_eq!(check(analyst, AccessLevel::Record).await, Ok(AccessLevel::Record));
    assert_eq!(check(board, AccessLevel::Record).await, Err(()));
    assert_eq!(common::audit_rows(&db, "read-refused").await.len(), 2);
    assert_eq!(common::audit_rows(&db, "read-restricted").await.len(), 1);
    assert!(db.verify_audit_chain().await.unwrap().first_broken.is_none());
}

const STREET_HEADER: &str = "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,Last outcome category,Context\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partner_systems_upload_police_files_with_scoped_tokens() {
    let (app, admin) = app_with_admin("Staffordshire Police").await;
    let db = app.db.clone();
    let org = db.organisation_by_name("Staffordshire Police").await.unwrap().unwrap().id;
    // The police dataset is supplied by Staffordshire Police (only its owner's tokens upload).
    db.set_dataset_owner("police-recorded-crime", org, &common::test_actor()).await.unwrap();
    let mut tokens = Vec::new();
    for scopes in ["scope=upload%3Apolice", "scope=read%3Acounts"] {
        let form = format!("name=Nightly+upload&org_id={org}&{scopes}&csrf_token={}", admin.csrf);
        let page = send_form(&app, "/admin/tokens", &admin, &form).await;
        assert_eq!(page.status, StatusCode::OK);
        let start = page.body.find("<code id=\"new-token\">").expect("the new token shown once") + 21;
        tokens.push(page.body[start..start + 73].to_string());
    }
    assert!(tokens[0].starts_with("alliance_"));
    let listing = app.get("/admin/tokens", &admin).await;
    assert!(!listing.body.contains(&tokens[0]), "a token is shown only once");

    let upload = |token: &str, name: &str, body: String| {
        let (app, token, path) = (&app, token.to_string(), format!("/api/v1/imports/police?filename={name}"));
        async move {
            let reply = with_token(app, reqwest::Method::POST, &path, &token, Some(body)).await;
            (reply.status, serde_json::from_str::<serde_json::Value>(&reply.body).unwrap_or_default())
        }
    };
    let good = format!(
        "{STREET_HEADER}abc,2025-03,Staffordshire Police,Staffordshire Police,-2.1,53.0,On or near Church Street,E01014210,Stoke-on-Trent 012A,Robbery,Under investigation,\n"
    );
    let name = "2025-03-staffordshire-street.csv";
    let (status, json) = upload(&tokens[0], name, good.clone()).await;
    assert_eq!(status, StatusCode::OK, "{json}");
    assert_eq!((json["status"].as_str(), json["rows"].as_i64()), (Some("imported"), Some(1)));
    let (_, json) = upload(&tokens[0], name, good.clone()).await;
    assert_eq!(json["status"], "unchanged");
    // A bad row: refused with its line, nothing imported.
    let bad = format!("{good}def,2025-13,Staffordshire Police,Staffordshire Police,-2.1,53.0,On or near X,E01014210,Stoke 012A,Robbery,,\n");
    let (status, json) = upload(&tokens[0], name, bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{json}");
    assert_eq!(json["status"], "failed");
    assert!(json["error"].as_str().unwrap().contains(":3:"), "{json}");
    // The wrong scope, a made-up token, a revoked token.
    assert_eq!(upload(&tokens[1], name, good.clone()).await.0, StatusCode::FORBIDDEN);
    assert_eq!(upload("alliance_nonsense", name, good.clone()).await.0, StatusCode::UNAUTHORIZED);
    let revoke = format!("csrf_token={}", admin.csrf);
    assert_eq!(send_form(&app, "/admin/tokens/1/revoke", &admin, &revoke).await.status, StatusCode::SEE_OTHER);
    assert_eq!(upload(&tokens[0], name, good).await.0, StatusCode::UNAUTHORIZED);
    // A read token reads counts; it cannot reach pages.
    let counts = with_token(&app, reqwest::Method::GET, "/api/v1/counts?by=month", &tokens[1], None).await;
    assert_eq!(counts.status, StatusCode::OK, "{}", counts.body);
    let page = with_token(&app, reqwest::Method::GET, "/", &tokens[1], None).await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED, "{}", page.body);
    let shown = db.api_tokens().await.unwrap();
    assert!(shown[1].last_used_at.is_some() && shown[0].revoked_at.is_some());
    let imports = common::audit_rows(&db, "import").await;
    assert_eq!(imports.len(), 3);
    assert!(imports.iter().all(|e| e.actor == "token:1 (Staffordshire Police)"));
}

/// A token of `org` with `scope`, made by `admin` on the tokens page (shown once).
async fn new_token(app: &TestApp, admin: &Caller, org: i64, scope: &str) -> String {
    let form = format!("name=Nightly+upload&org_id={org}&scope={}&csrf_token={}", enc(scope), admin.csrf);
    let page = send_form(app, "/admin/tokens", admin, &form).await;
    assert_eq!(page.status, StatusCode::OK);
    let start = page.body.find("<code id=\"new-token\">").expect("the new token shown once") + 21;
    page.body[start..start + 73].to_string()
}

/// An attacker with a token of the scope `upload:police` from an organisation that does not
/// own the police dataset: 403 before the body is read (a file that would fail at its first
/// row is not reported as 422), nothing stored, no import audited; the owner's token then
/// uploads the same file.
async fn another_organisations_police_token_is_refused(test_db: common::TestDb) {
    let app = TestApp::start(test_db).await;
    let db = app.db.clone();
    add_user(&db, "admin@example.org", Role::Administrator, "Office of the PCC").await;
    add_user(&db, "someone@example.org", Role::PartnerUser, "Staffordshire Police").await;
    add_user(&db, "someone@example.net", Role::PartnerUser, "Stoke-on-Trent City Council").await;
    let admin = app.sign_in("admin@example.org", TEST_PASSWORD).await.ok().unwrap();
    let police = db.organisation_by_name("Staffordshire Police").await.unwrap().unwrap().id;
    let council = db.organisation_by_name("Stoke-on-Trent City Council").await.unwrap().unwrap().id;
    let owner_token = new_token(&app, &admin, police, "upload:police").await;
    let attacker = new_token(&app, &admin, council, "upload:police").await;
    let name = "2025-03-staffordshire-street.csv";
    let path = format!("/api/v1/imports/police?filename={name}");
    let good = format!(
        "{STREET_HEADER}abc,2025-03,Staffordshire Police,Staffordshire Police,-2.1,53.0,On or near Church Street,E01014210,Stoke-on-Trent 012A,Robbery,Under investigation,\n"
    );
    let imports_audited = || async { common::audit_rows(&db, "import").await.len() };

    // Nobody owns the dataset yet: no organisation's token may upload.
    for token in [&owner_token, &attacker] {
        let r = with_token(&app, reqwest::Method::POST, &path, token, Some(good.clone())).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    }
    db.set_dataset_owner("police-recorded-crime", police, &common::test_actor()).await.unwrap();
    // Another organisation's token, good file or bad (a bad one would be 422 if it were read).
    for body in [good.clone(), "not,a,police,file\n1,2,3,4\n".to_string()] {
        let r = with_token(&app, reqwest::Method::POST, &path, &attacker, Some(body)).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        assert!(r.body.contains("organisation that supplies police recorded crime"), "{}", r.body);
    }
    assert!(db.imports(10).await.unwrap().is_empty(), "nothing stored");
    assert_eq!(imports_audited().await, 0, "nothing read, so nothing to audit");
    // The owner's token uploads it.
    let r = with_token(&app, reqwest::Method::POST, &path, &owner_token, Some(good)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(db.imports(10).await.unwrap().len(), 1);
    assert_eq!(imports_audited().await, 1);
}

on_each_db!(another_organisations_police_token_is_refused);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_administrator_is_made_on_the_command_line() {
    let t = common::sqlite();
    let run = |args: &[&str], stdin: &str| {
        use std::io::Write;
        let mut child = Command::new(env!("CARGO_BIN_EXE_alliance"))
            .args(["--db", &t.url])
            .args(args)
            .env("ALLIANCE_LOG", "warn")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run alliance");
        child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    };
    let add = ["users", "add", "--email", "Chief@Example.org", "--name", "Chief Analyst", "--role", "administrator"];
    let org = ["--org", "Staffordshire Commissioner's Office", "--org-type", "pcc-office", "--password-stdin"];
    let args: Vec<&str> = add.iter().chain(org.iter()).copied().collect();
    let short = run(&args, "short\n");
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("at least 12 characters"));
    let made = run(&args, "a long admin passphrase\n");
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    assert!(String::from_utf8_lossy(&made.stdout).contains("created the organisation"));
    let again = run(&args, "a long admin passphrase\n");
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    // A user refused (a malformed email) leaves no organisation behind: everything is checked
    // first, and the organisation and the user are added in one transaction.
    let bad = ["users", "add", "--email", "bad", "--name", "Y Analyst", "--role", "analyst", "--org", "Y"];
    let refused =
        run(&[&bad[..], &["--org-type", "council", "--password-stdin"]].concat(), "a long admin passphrase\n");
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("is not an email address"));
    assert!(!String::from_utf8_lossy(&refused.stdout).contains("created the organisation"));
    // An email already taken, likewise.
    let taken = ["users", "add", "--email", "chief@example.org", "--name", "Y", "--role", "analyst", "--org", "Y"];
    let refused =
        run(&[&taken[..], &["--org-type", "council", "--password-stdin"]].concat(), "a long admin passphrase\n");
    assert!(!refused.status.success());
    {
        let db = t.connect().await;
        assert!(db.organisation_by_name("Y").await.unwrap().is_none(), "no organisation \"Y\" is left behind");
        let log = common::audit_log(&db).await;
        assert!(!log.iter().any(|e| e.target == "Y"), "nor its audit row");
    }

    let app = TestApp::start(t).await;
    let admin = app.sign_in("chief@example.org", "a long admin passphrase").await.expect("signs in");
    let page = app.get("/admin/users", &admin).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Chief Analyst") && page.body.contains("Staffordshire Commissioner"), "{}", page.body);
}

/// Makes every INSERT into `audit_log` fail from now on (a trigger in the test database).
pub(crate) async fn fail_audit_writes(t: &common::TestDb) {
    fail_audit_writes_at(&t.url, t.backend).await;
}

/// [`fail_audit_writes`] for the database at `url` on `backend`.
async fn fail_audit_writes_at(url: &str, backend: common::Backend) {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(url).await.expect("connect to the test database");
    let statements: &[&str] = match backend {
        common::Backend::Sqlite => &["CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log \
             BEGIN SELECT RAISE(ABORT, 'audit write refused by the test'); END"],
        common::Backend::Postgres => &[
            "CREATE FUNCTION refuse_audit() RETURNS trigger AS $$ \
             BEGIN RAISE EXCEPTION 'audit write refused by the test'; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION refuse_audit()",
        ],
    };
    for sql in statements {
        sqlx::query(sql).execute(&mut conn).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    let _ = conn.close().await;
}

/// A change whose audit row cannot be written is not stored: with the audit log refusing
/// every row, creating a user, granting access, adding an organisation through the
/// administrators' page and changing a password all fail as faults (not as the user's
/// mistakes) and leave the database as it was.
async fn a_failing_audit_write_leaves_the_change_unstored(app: TestApp) {
    use alliance_db::access::{NewAgreement, NewUser};
    let db = app.db.clone();
    let actor = common::test_actor();
    let admin_id = add_user(&db, "admin@example.org", Role::Administrator, "Test Alliance").await;
    let org = db.organisation_by_name("Test Alliance").await.unwrap().unwrap().id;
    let agreement = NewAgreement {
        title: "ED data sharing",
        purpose: "Violence reduction",
        lawful_basis: "Public task",
        review_date: "2027-03-31",
        end_date: "",
        dpia_reference: "",
        dpia_date: "",
        parties: &[],
    };
    let agreement = db.create_agreement(&agreement, None, &actor).await.unwrap();
    let (cookie, csrf) = common::session_for(&db, admin_id).await;
    let admin = Caller { cookie, csrf, bearer: None };
    let rows_before = db.verify_audit_chain().await.unwrap().rows_checked;
    assert_eq!(rows_before, 4, "organisation, user, agreement and sign-in were each recorded");

    let backend = if app.db_url.starts_with("postgres") { common::Backend::Postgres } else { common::Backend::Sqlite };
    fail_audit_writes_at(&app.db_url, backend).await;

    let hash = alliance_app::password::hash(TEST_PASSWORD).await.unwrap();
    let new = NewUser { email: "new@example.org", name: "New", org_id: org, role: Role::Analyst, password_hash: &hash };
    let refused = db.create_user(&new, &actor).await.expect_err("the audit row could not be written");
    assert!(!refused.is_input_error(), "a fault, not the user's mistake: {refused}");
    assert!(db.user_by_email("new@example.org").await.unwrap().is_none(), "the user was not stored");

    let refused = db.set_grant(agreement, org, "ed-assaults", AccessLevel::Aggregate, &actor).await;
    assert!(refused.is_err());
    assert!(db.grants().await.unwrap().is_empty(), "the grant was not stored");
    assert!(db.agreements().await.unwrap()[0].parties.is_empty(), "nor the party it would have added");

    let form = format!("name=Youth+Offending+Service&org_type=youth-justice&csrf_token={}", admin.csrf);
    let reply = send_form(&app, "/admin/organisations", &admin, &form).await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(reply.body.contains("Sorry, there is a problem with the service"), "{}", reply.body);
    assert!(!reply.body.contains("audit write refused"), "engine errors are not shown: {}", reply.body);
    assert!(db.organisation_by_name("Youth Offending Service").await.unwrap().is_none());

    let before = db.user_by_id(admin_id).await.unwrap().unwrap().password_hash;
    let form = format!(
        "current={}&new=another+long+passphrase&confirm=another+long+passphrase&csrf_token={}",
        enc(TEST_PASSWORD),
        admin.csrf
    );
    let reply = send_form(&app, "/account/password", &admin, &form).await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(db.user_by_id(admin_id).await.unwrap().unwrap().password_hash, before, "the password is unchanged");
    assert_eq!(app.get("/", &admin).await.status, StatusCode::OK, "and the session still open");

    let report = db.verify_audit_chain().await.unwrap();
    assert_eq!((report.rows_checked, report.first_broken), (rows_before, None));
}

on_each_app!(a_failing_audit_write_leaves_the_change_unstored);

/// Ids that are not numbers, forms that cannot be read and unknown records are answered in
/// the service's words and layout, never with the framework's texts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_addresses_and_forms_are_answered_in_the_services_words() {
    let (app, admin) = app_with_admin("Test Alliance").await;
    let form = format!("role=analyst&active=1&csrf_token={}", admin.csrf);
    for path in ["/admin/users/abc", "/admin/users/999", "/admin/tokens/abc/revoke", "/admin/tokens/999/revoke"] {
        let reply = send_form(&app, path, &admin, &form).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        assert!(reply.body.contains("Page not found") && reply.body.contains("govuk-header"), "{path}: {}", reply.body);
        assert!(!reply.body.contains("Cannot parse") && !reply.body.contains("i64"), "{path}: {}", reply.body);
    }
    // A repeated field where one is expected is a form Alliance cannot read: 400, in its words.
    let form = format!("role=analyst&role=board-member&csrf_token={}", admin.csrf);
    let reply = send_form(&app, "/admin/users/1", &admin, &form).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert!(reply.body.contains("The form could not be read"), "{}", reply.body);
    assert!(!reply.body.contains("deserialize"), "{}", reply.body);
    // A name already taken is an error on its field, with what was typed kept (not a 409 page).
    let form = format!("name=Test+Alliance&org_type=council&csrf_token={}", admin.csrf);
    let reply = send_form(&app, "/admin/organisations", &admin, &form).await;
    reply.assert_refused(&["<a href=\"#name\">An organisation called"]);
    assert!(reply.body.contains("already exists</a>"), "{}", reply.body);
    assert!(reply.body.contains("value=\"Test Alliance\""), "{}", reply.body);
    assert!(reply.body.contains("<option value=\"council\" selected>"), "{}", reply.body);
    // The API's query string: a problem document.
    let reply = app.get("/api/v1/counts?by=month&from=%FF", &admin).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    let problem: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(problem["status"], 400);
    assert!(!reply.body.contains("deserialize"), "{}", reply.body);
}

/// API tokens expire a year after they are made (shown with when they were last used), an
/// expired one is refused, and expired sessions are refused and then purged.
async fn tokens_expire_and_expired_sessions_are_purged(app: TestApp) {
    use alliance_web::auth::{random_token, token_hash};
    use common::app::Caller;
    use sqlx::Connection;

    let actor = common::test_actor();
    let org = app.db.create_organisation("Staffordshire Police", alliance_core::access::OrgType::Police, &actor);
    let org = org.await.unwrap();
    let secret = format!("alliance_{}", random_token());
    let id =
        app.db.create_api_token(org, "nightly counts", &token_hash(&secret), &["read:counts"], &actor).await.unwrap();
    let stored = |id: i64| {
        let db = app.db.clone();
        async move { db.api_tokens().await.unwrap().into_iter().find(|t| t.id == id).unwrap() }
    };
    let token = stored(id).await;
    let expires = chrono::DateTime::parse_from_rfc3339(token.expires_at.as_deref().unwrap()).unwrap();
    let days = (expires.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_days();
    assert!((364..=365).contains(&days), "a year: {days} days");
    assert!(!token.expired && token.last_used_at.is_none());
    let system = Caller { bearer: Some(secret.clone()), ..Default::default() };
    assert_eq!(app.get("/api/v1/counts?by=month", &system).await.status, StatusCode::OK);
    let used = stored(id).await.last_used_at.expect("last used is recorded");
    let admin = app.signed_in("admin@example.org", Role::Administrator, "Test Alliance").await;
    let page = app.get("/admin/tokens", &admin).await;
    // Times in words, as the other pages show them, not as stored: last used to the minute,
    // created and expiring as days.
    let expires_at = token.expires_at.as_deref().unwrap();
    for shown in [
        alliance_core::format::stamp_time(&used),
        alliance_core::format::stamp_date(expires_at),
        format!("{} by ", alliance_core::format::stamp_date(&token.created_at)),
    ] {
        assert!(page.body.contains(&shown), "{shown} in {}", page.body);
    }
    assert!(!page.body.contains(&used) && !page.body.contains(expires_at), "{}", page.body);
    assert_eq!(common::raw_stamp(&page.body), None, "{}", page.body);
    // Nor do the organisations page (when each was added) or the audit log (when each thing
    // was done, to the minute) show a stamp as stored.
    let organisations = app.get("/admin/organisations", &admin).await;
    let added = app.db.organisations().await.unwrap().into_iter().find(|o| o.id == org).unwrap().created_at;
    assert!(organisations.body.contains(&alliance_core::format::stamp_date(&added)), "{}", organisations.body);
    assert_eq!(common::raw_stamp(&organisations.body), None, "{}", organisations.body);
    let audit = app.get("/admin/audit", &admin).await;
    assert!(audit.body.contains(" UTC</td>"), "{}", audit.body);
    assert_eq!(common::raw_stamp(&audit.body), None, "{}", audit.body);

    let mut conn = sqlx::AnyConnection::connect(&app.db_url).await.unwrap();
    sqlx::query("UPDATE api_tokens SET expires_at = '2001-01-01T00:00:00Z' WHERE id = $1")
        .bind(id)
        .execute(&mut conn)
        .await
        .unwrap();
    let refused = app.get("/api/v1/counts?by=month", &system).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert!(refused.body.contains("expired"), "{}", refused.body);
    assert!(stored(id).await.expired);
    assert!(app.get("/admin/tokens", &admin).await.body.contains("Expired"));

    // A session past its expiry is refused, and the next sign-in deletes it.
    let user = app.db.user_by_email("admin@example.org").await.unwrap().unwrap();
    let old = random_token();
    let session = alliance_db::access::NewSession {
        token_hash: &token_hash(&old),
        user_id: user.id,
        csrf_token: &random_token(),
        expires_at: "2001-01-01T00:00:00Z",
        ip: "test",
    };
    app.db.sign_in(&session, &actor).await.unwrap();
    let stale = Caller { cookie: format!("alliance_session={old}"), ..Default::default() };
    let reply = app.get("/", &stale).await;
    assert_eq!((reply.status, reply.header("location")), (StatusCode::SEE_OTHER, Some("/sign-in")));
    let count = |hash: String| {
        let url = app.db_url.clone();
        async move {
            let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
            let row = sqlx::query("SELECT COUNT(*) FROM sessions WHERE token_hash = $1")
                .bind(hash)
                .fetch_one(&mut conn)
                .await
                .unwrap();
            sqlx::Row::get::<i64, _>(&row, 0)
        }
    };
    assert_eq!(count(token_hash(&old)).await, 1);
    app.signed_in("analyst@example.org", Role::Analyst, "Test Alliance").await;
    assert_eq!(count(token_hash(&old)).await, 0, "expired sessions are purged at a sign-in");
}

on_each_app!(tokens_expire_and_expired_sessions_are_purged);

/// What the framework would say (a body it cannot parse) reaches nobody: the API answers
/// with a problem document in the service's words.
async fn framework_refusals_are_in_the_services_words(app: TestApp) {
    let analyst = app.signed_in("analyst@example.org", Role::Analyst, "Test Alliance").await;
    let reply = app.post_bytes("/api/v1/evaluate", &analyst, "application/json", b"{not json".to_vec()).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert_eq!(reply.header("content-type"), Some("application/problem+json"));
    assert!(!reply.body.contains("Failed to") && !reply.body.contains("JSON"), "{}", reply.body);
    let reply = app.post_bytes("/api/v1/evaluate", &analyst, "text/csv", b"a,b".to_vec()).await;
    assert_eq!(reply.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{}", reply.body);
    assert_eq!(reply.header("content-type"), Some("application/problem+json"));
    assert!(!reply.body.contains("Expected request with"), "{}", reply.body);
}

on_each_app!(framework_refusals_are_in_the_services_words);
