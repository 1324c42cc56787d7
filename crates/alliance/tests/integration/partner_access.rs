//! Partner data behind the one access check, end to end over HTTP, as issue 3 is checked:
//! an administrator (made as `alliance users add` makes one) signs in, adds an organisation
//! and a partner user and an analyst through the web forms, records an agreement granting
//! the council aggregate access to ED data (and the partnership record access), uploads a
//! synthetic ED file through the web form; the partner user then sees suppressed
//! aggregates and no record-level text, the analyst sees records (audited). A CSRF-less
//! upload and a bad file are refused and import nothing. On SQLite and on PostgreSQL.

use crate::common;

use alliance_core::access::Role;
use alliance_db::partner::ed::EdFilter;
use alliance_db::Db;
use alliance_ingest::ed::synthetic::{generate, write, GeneratorSpec};
use alliance_ingest::ed::EdFormat;
use axum::http::StatusCode;
use chrono::NaiveDate;
use common::add_user;
use common::app::{Caller, Reply, TestApp};
use common::TEST_PASSWORD;

/// A SYNTHETIC ED file of `n` assaults in January 2025, as `alliance generate ed` writes it.
fn synthetic_ed(n: usize) -> (String, Vec<String>) {
    let spec = GeneratorSpec {
        site_code: "RJE01".into(),
        from: NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
        to: NaiveDate::from_ymd_opt(2025, 1, 31).unwrap(),
        assaults: n,
        seed: 11,
        streets: Vec::new(),
    };
    let sub = generate(&spec);
    let texts = sub.assaults.iter().filter_map(|a| a.location_description.clone()).collect();
    (write(&sub, EdFormat::Csv), texts)
}

async fn post_form(app: &TestApp, who: &Caller, path: &str, fields: &[(&str, &str)]) -> StatusCode {
    let reply = app.post_form(path, who, fields).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{path}: {}", reply.body);
    reply.status
}

/// Signs in through the form, panicking with the refusal.
async fn sign_in(app: &TestApp, email: &str) -> Caller {
    app.sign_in(email, TEST_PASSWORD).await.unwrap_or_else(|r| panic!("{}: {}", r.status, r.body))
}

/// Posts a `multipart/form-data` body of text fields and one file (fields first, as a
/// browser sends the form in document order), with no CSRF header: a form's token is one of
/// the fields or missing.
async fn send_multipart(
    app: &TestApp,
    path: &str,
    who: &Caller,
    fields: &[(&str, &str)],
    file: (&str, &str, &[u8]),
) -> Reply {
    let (content_type, body) = crate::common::http::multipart(fields, file);
    let request = app.request(reqwest::Method::POST, path, who).header("content-type", content_type).body(body);
    TestApp::read(request).await
}

/// Uploads `file` as the ED file `ed-2025-01.csv` through the partner data form, with the
/// caller's form token, or without one when `with_token` is false.
async fn upload_ed(app: &TestApp, who: &Caller, with_token: bool, file: &str) -> Reply {
    let mut fields = vec![("kind", "ed")];
    if with_token {
        fields.insert(0, ("csrf_token", who.csrf.as_str()));
    }
    send_multipart(app, "/partner-data/upload", who, &fields, ("file", "ed-2025-01.csv", file.as_bytes())).await
}

async fn org_id(db: &Db, name: &str) -> String {
    db.organisation_by_name(name).await.unwrap().unwrap_or_else(|| panic!("no organisation {name}")).id.to_string()
}

async fn ed_rows(db: &Db) -> i64 {
    db.ed_assault_total(&EdFilter::default()).await.unwrap()
}

async fn partner_data_end_to_end(app: TestApp) {
    let db = app.db.clone();
    // The first administrator, as `alliance users add --role administrator` makes one.
    add_user(&db, "admin@example.org", Role::Administrator, "Violence Reduction Alliance").await;
    let admin = sign_in(&app, "admin@example.org").await;

    // An organisation and its partner user, and an analyst of the partnership, by the web forms.
    post_form(
        &app,
        &admin,
        "/admin/organisations",
        &[("name", "Stoke-on-Trent City Council"), ("org_type", "council")],
    )
    .await;
    let council = org_id(&db, "Stoke-on-Trent City Council").await;
    let alliance = org_id(&db, "Violence Reduction Alliance").await;
    for (email, org, role) in
        [("partner@council.example", &council, "partner-user"), ("analyst@example.org", &alliance, "analyst")]
    {
        let fields =
            [("name", email), ("email", email), ("org_id", org.as_str()), ("role", role), ("password", TEST_PASSWORD)];
        post_form(&app, &admin, "/admin/users", &fields).await;
    }
    // An agreement: the council sees ED data at aggregate level, the partnership at record level.
    let agreement = [
        ("title", "ED assault data sharing"),
        ("purpose", "Reducing serious violence"),
        ("lawful_basis", "Serious Violence Duty, Police, Crime, Sentencing and Courts Act 2022 s.16"),
        ("review_date", "2099-01-01"),
    ];
    post_form(&app, &admin, "/admin/agreements", &agreement).await;
    let agreement_id = db.agreements().await.unwrap()[0].id.to_string();
    for (org, level) in [(&council, "aggregate"), (&alliance, "record")] {
        let fields =
            [("agreement_id", agreement_id.as_str()), ("org_id", org), ("dataset", "ed-assaults"), ("level", level)];
        post_form(&app, &admin, "/admin/grants", &fields).await;
    }
    // The hospital trust that sends the ED data owns it; its administrator approves both grants.
    add_user(&db, "admin@hospital.example", Role::Administrator, "University Hospitals").await;
    let hospital = org_id(&db, "University Hospitals").await;
    db.set_dataset_owner("ed-assaults", hospital.parse().unwrap(), &common::test_actor()).await.unwrap();
    let owner_admin = alliance_db::audit::Actor::new("user:admin@hospital.example", "test");
    for org in [&council, &alliance] {
        let (agreement, org) = (agreement_id.parse().unwrap(), org.parse().unwrap());
        db.decide_grant(agreement, org, "ed-assaults", true, &owner_admin).await.unwrap();
    }

    // An upload without the form's CSRF token is refused and imports nothing.
    let (file, texts) = synthetic_ed(150);
    let reply = upload_ed(&app, &admin, false, &file).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
    assert_eq!(ed_rows(&db).await, 0);

    // A bad file (an unknown assault method code on its fourth line) is refused with the line.
    let bad = file.replacen(",01,,", ",13,,", 1);
    assert_ne!(bad, file);
    let bad_line = bad.lines().position(|l| l.contains(",13,,")).unwrap() + 1;
    let reply = upload_ed(&app, &admin, true, &bad).await;
    reply.assert_refused(&["govuk-error-summary"]);
    assert!(
        reply.body.contains(&format!("ed-2025-01.csv:{bad_line}: column &#34;assault_method&#34;"))
            || reply.body.contains(&format!("ed-2025-01.csv:{bad_line}: column &quot;assault_method&quot;")),
        "{}",
        reply.body
    );
    assert_eq!(ed_rows(&db).await, 0, "a refused file imports nothing");

    // The partner user's organisation does not supply ED data: their upload is refused.
    let partner = sign_in(&app, "partner@council.example").await;
    let reply = upload_ed(&app, &partner, true, &file).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
    assert_eq!(ed_rows(&db).await, 0);

    // The administrator uploads the good file.
    let reply = upload_ed(&app, &admin, true, &file).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(reply.body.contains("imported as import"), "{}", reply.body);
    assert_eq!(ed_rows(&db).await, 150);

    // The partner user: suppressed aggregates, and no record-level text anywhere.
    let page = app.get("/partner-data/ed-assaults", &partner).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("aggregate access"));
    assert!(page.body.contains(">fewer than 5</td>"), "150 assaults over 168 hour-and-day cells leave small cells");
    assert!(page.body.contains(">withheld</td>"), "secondary suppression");
    assert!(!page.body.contains("Location as described"));
    let csv = app.get("/partner-data/ed-assaults/by-hour-and-day.csv", &partner).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.body.contains("fewer than 5"), "{}", csv.body);
    for cell in csv.body.lines().skip(1).flat_map(|l| l.split(',').skip(1).map(str::to_string).collect::<Vec<_>>()) {
        if let Ok(n) = cell.parse::<u64>() {
            assert!(n == 0 || n >= 5, "a count of {n} shown at aggregate level");
        }
    }
    for text in texts.iter().filter(|t| t.len() > 6) {
        assert!(!page.body.contains(text.as_str()) && !csv.body.contains(text.as_str()), "{text} shown to the partner");
    }
    let records = app.get("/partner-data/ed-assaults/records.csv", &partner).await;
    assert_eq!(records.status, StatusCode::FORBIDDEN);
    let queue = app.get("/partner-data/geocoding", &partner).await;
    assert_eq!(queue.status, StatusCode::FORBIDDEN);

    // The analyst: record level, figures in full, the read audited.
    let analyst = sign_in(&app, "analyst@example.org").await;
    let page = app.get("/partner-data/ed-assaults", &analyst).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("record-level access"));
    assert!(page.body.contains("Location as described"));
    assert!(!page.body.contains(">fewer than 5</td>") && !page.body.contains(">withheld</td>"));
    assert!(texts.iter().any(|t| page.body.contains(t.as_str())), "the first page lists assaults with their text");
    let records = app.get("/partner-data/ed-assaults/records.csv", &analyst).await;
    assert_eq!(records.status, StatusCode::OK);
    assert_eq!(records.body.lines().count(), 151);
    // Assault times are the department's local clock: in words, without a zone, never as stored
    // (the page lists the earliest first).
    let earliest = records.body.lines().skip(1).filter_map(|l| l.split(',').next()).min().expect("an assault");
    let local = alliance_core::format::local_time(earliest);
    assert!(local.ends_with(&earliest[11..16]) && !local.contains("UTC"), "{earliest} shown as {local}");
    assert!(page.body.contains(&format!(">{local}<")), "{earliest} not shown as {local}: {}", page.body);
    assert_eq!(common::raw_stamp(&page.body), None, "{}", page.body);
    let audit = common::audit_log(&db).await;
    let has = |actor: &str, action: &str| audit.iter().any(|e| e.actor == actor && e.action == action);
    assert!(has("user:analyst@example.org", "read-restricted"));
    assert!(!has("user:partner@council.example", "read-restricted"));
    assert!(has("user:partner@council.example", "read-refused"));
    assert!(has("user:admin@example.org", "import ed"));
    assert_eq!(db.verify_audit_chain().await.unwrap().first_broken, None);

    // A board member's organisation with no grant: a clear 403 page.
    add_user(&db, "board@example.org", Role::BoardMember, "A charity").await;
    let board = sign_in(&app, "board@example.org").await;
    let page = app.get("/partner-data/ed-assaults", &board).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.body.contains("Your organisation has no access to this data"));
}

on_each_app!(partner_data_end_to_end);

/// The API uploads: the same checks, JSON errors with the line, scoped tokens of the
/// supplying organisation only.
async fn partner_uploads_through_the_api(app: TestApp) {
    let db = app.db.clone();
    let health = db
        .create_organisation("University Hospitals", alliance_core::access::OrgType::Health, &common::test_actor())
        .await
        .unwrap();
    let council = db
        .create_organisation("A council", alliance_core::access::OrgType::Council, &common::test_actor())
        .await
        .unwrap();
    db.set_dataset_owner("ed-assaults", health, &common::test_actor()).await.unwrap();
    db.set_dataset_owner("indicators:education", council, &common::test_actor()).await.unwrap();
    let token = |org: i64, scopes: &'static [&'static str]| {
        let db = db.clone();
        async move {
            let secret = alliance_web::auth::random_token();
            db.create_api_token(org, "test", &alliance_web::auth::token_hash(&secret), scopes, &common::test_actor())
                .await
                .unwrap();
            secret
        }
    };
    let hospital = token(health, &["upload:ed"]).await;
    let other = token(council, &["upload:ed", "upload:indicators"]).await;
    let app = &app;
    let post = |secret: String, path: &'static str, body: Vec<u8>| async move {
        let caller = Caller { bearer: Some(secret), ..Caller::default() };
        let reply = app.post_bytes(path, &caller, "text/csv", body).await;
        (reply.status, reply.json())
    };
    let (file, _) = synthetic_ed(40);
    let bad = file.replacen(",01,,", ",13,,", 1);
    let (status, json) = post(hospital.clone(), "/api/v1/imports/ed?filename=ed.csv", bad.into_bytes()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(json["error"].as_str().unwrap().contains("column \"assault_method\""), "{json}");
    assert_eq!(ed_rows(&db).await, 0);
    let (status, json) = post(other.clone(), "/api/v1/imports/ed?filename=ed.csv", file.clone().into_bytes()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "the council does not supply ED data");
    assert_eq!(json["status"], 403, "a problem document, as every refusal of the API: {json}");
    assert!(json["detail"].as_str().is_some_and(|d| !d.is_empty()), "{json}");
    let (status, json) = post(hospital.clone(), "/api/v1/imports/ed?filename=ed.csv", file.into_bytes()).await;
    assert_eq!(status, StatusCode::OK, "{json}");
    assert_eq!(json["status"], "imported");
    assert_eq!(ed_rows(&db).await, 40);
    // The hospital's token has no indicator scope; the council's may supply education figures only.
    let indicators = "indicator,area_code,period,value\nSchool suspensions,E06000021,2025-Q1,230\n".as_bytes().to_vec();
    let (status, _) = post(hospital, "/api/v1/imports/indicators?filename=i.csv", indicators.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, json) = post(other.clone(), "/api/v1/imports/indicators?filename=i.csv", indicators).await;
    assert_eq!(status, StatusCode::OK, "{json}");
    let health_figures = "indicator,area_code,period,value\nAmbulance call-outs for assault,E06000021,2025-Q1,3\n";
    let (status, _) =
        post(other.clone(), "/api/v1/imports/indicators?filename=a.csv", health_figures.as_bytes().to_vec()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "the council does not supply health figures");
    assert_eq!(db.partner_indicator_names().await.unwrap().len(), 1);

    // The indicators page: the owner sees figures in full; an organisation granted aggregate
    // access sees a small breakdown value hidden with its complement, in the page and the CSV.
    let breakdown = "indicator,area_code,period,value,age_band,sex\n\
                     School exclusions,E06000021,2025-Q2,40,,\n\
                     School exclusions,E06000021,2025-Q2,3,10-15,female\n\
                     School exclusions,E06000021,2025-Q2,37,10-15,male\n";
    let (status, json) = post(other, "/api/v1/imports/indicators?filename=b.csv", breakdown.as_bytes().to_vec()).await;
    assert_eq!(status, StatusCode::OK, "{json}");
    let charity = db
        .create_organisation("A charity", alliance_core::access::OrgType::VoluntarySector, &common::test_actor())
        .await
        .unwrap();
    let agreement = alliance_db::access::NewAgreement {
        title: "Education figures",
        purpose: "Early intervention",
        lawful_basis: "Public task",
        review_date: "2099-01-01",
        end_date: "",
        dpia_reference: "",
        dpia_date: "",
        parties: &[],
    };
    let agreement = db.create_agreement(&agreement, None, &common::test_actor()).await.unwrap();
    db.set_grant(
        agreement,
        charity,
        "indicators:education",
        alliance_core::access::AccessLevel::Aggregate,
        &common::test_actor(),
    )
    .await
    .unwrap();
    // The grant takes effect once an administrator of the owner (the council) approves it.
    add_user(&db, "admin@council.example", Role::Administrator, "A council").await;
    let owner_admin = alliance_db::audit::Actor::new("user:admin@council.example", "test");
    db.decide_grant(agreement, charity, "indicators:education", true, &owner_admin).await.unwrap();
    add_user(&db, "owner@council.example", Role::PartnerUser, "A council").await;
    add_user(&db, "partner@charity.example", Role::PartnerUser, "A charity").await;
    let owner = sign_in(app, "owner@council.example").await;
    let partner = sign_in(app, "partner@charity.example").await;
    let full = app.get("/partner-data/indicators/values.csv", &owner).await;
    assert_eq!(full.status, StatusCode::OK);
    assert!(full.body.contains("School exclusions,E06000021,2025-Q2,\"age 10-15, female\",3\r\n"), "{}", full.body);
    let page = app.get("/partner-data/indicators", &partner).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(">fewer than 5</td>") && page.body.contains(">withheld</td>"), "{}", page.body);
    let csv = app.get("/partner-data/indicators/values.csv", &partner).await;
    assert_eq!(csv.status, StatusCode::OK, "{}", csv.body);
    assert!(csv.body.contains("\"age 10-15, female\",fewer than 5\r\n"), "{}", csv.body);
    assert!(csv.body.contains("\"age 10-15, male\",withheld\r\n"), "{}", csv.body);
    assert!(!csv.body.contains(",3\r\n") && !csv.body.contains(",37\r\n"), "{}", csv.body);
    // Datasets the charity holds no grant for are not shown at all.
    assert!(!csv.body.contains("indicators:health"));
    db.create_organisation("No agreements", alliance_core::access::OrgType::Fire, &common::test_actor()).await.unwrap();
    add_user(&db, "fire@example.org", Role::PartnerUser, "No agreements").await;
    let fire = sign_in(app, "fire@example.org").await;
    assert_eq!(app.get("/partner-data/indicators", &fire).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.get("/partner-data/indicators/values.csv", &fire).await.status, StatusCode::FORBIDDEN);
}

on_each_app!(partner_uploads_through_the_api);
