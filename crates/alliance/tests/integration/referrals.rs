//! Referrals end to end (issue 17), on both backends: a school makes a referral to a
//! navigator service run by a charity; the two organisations see the person and every view
//! is audited; a third organisation and a Board member never see the person (404/403, and no
//! personal data in any page, CSV or JSON); the notification reaches a local SMTP sink and
//! says only that there is something to look at; bad input gets a clear error and stores
//! nothing; the workflow moves on only for the right organisation; the retention run erases
//! the personal fields of a closed referral past the period and keeps its anonymous outcome.

use crate::common;

use alliance_app::mail::Mailer;
use alliance_app::referrals::{retention_run, subject_access, SubjectQuery};
use alliance_core::access::Role;
use alliance_core::referrals::{CommissionedService, Eligibility, PersonalDataPolicy, RetentionPeriod};
use alliance_db::Db;
use alliance_ingest::oruk::ServiceRecord;
use axum::http::StatusCode;
use common::app::{Caller, Reply, TestApp};
use common::smtp_sink::SmtpSink;

/// The commissioned service of these tests and `referral_feed`'s.
pub(crate) const SERVICE: &str = "navigator-ed";
pub(crate) const SERVICE_NAME: &str = "Emergency department navigators";
/// Personal values typed into the forms, none of which may appear where the person is not
/// to be seen.
const INITIALS: &str = "QZX";
const PHONE: &str = "07700900461";
const DISTRICT: &str = "ST4";

async fn org_id(db: &Db, name: &str) -> i64 {
    db.organisation_by_name(name).await.expect("read organisations").expect("organisation exists").id
}

/// The service in the directory of help, commissioned for referrals and run by `run_by`.
pub(crate) async fn set_up_service(db: &Db, run_by: i64) {
    let record = ServiceRecord {
        id: SERVICE.into(),
        name: SERVICE_NAME.into(),
        description: "Youth workers in the emergency department".into(),
        organisation_id: "charity".into(),
        organisation_name: "Navigator Charity".into(),
        organisation_description: String::new(),
        url: String::new(),
        email: String::new(),
        phone: String::new(),
        min_age: 10,
        max_age: 25,
        needs: vec![],
        areas: vec![],
        opening_times: String::new(),
        kind: "support".into(),
    };
    db.upsert_services(&[record]).await.expect("directory entry");
    let service = CommissionedService {
        id: SERVICE.into(),
        name: SERVICE_NAME.into(),
        run_by,
        policy: PersonalDataPolicy::default(),
        eligibility: Eligibility::default(),
    };
    db.set_referral_service(&service, true, &common::test_actor()).await.expect("commissioned service");
}

fn referral_fields<'a>(received: &'a str, consent_date: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("service", SERVICE),
        ("received", received),
        ("source", "school"),
        ("reason", "carrying-weapon"),
        ("other-needs", "school-exclusion"),
        ("other-needs", "victim-of-violence"),
        ("initials", INITIALS),
        ("age", "15"),
        ("sex", "male"),
        ("postcode-district", DISTRICT),
        ("contact-route", "phone"),
        ("contact-detail", PHONE),
        ("consent-given-by", "parent-or-carer"),
        ("consent-date", consent_date),
        ("consent-method", "verbal"),
        ("lawful-basis", "public-task"),
        ("lawful-basis-reason", "Safeguarding under the Children Act 2004 and the Serious Violence Duty"),
    ]
}

fn has_no_person(reply: &Reply) -> bool {
    !reply.body.contains(INITIALS) && !reply.body.contains(PHONE) && !reply.body.contains("7700 900461")
}

/// Whether the page names the stored date `ymd` in words (`31 March 2027`) and never as stored.
fn shows_in_words(reply: &Reply, ymd: &str) -> bool {
    reply.body.contains(&alliance_core::format::date(ymd)) && !reply.body.contains(ymd)
}

fn location(reply: &Reply) -> String {
    reply.header("location").unwrap_or_default().to_string()
}

async fn views_of(db: &Db, id: i64) -> usize {
    common::audit_rows(db, "referral-view").await.iter().filter(|e| e.target == format!("/referrals/{id}")).count()
}

async fn referral_count(db: &Db) -> usize {
    db.all_referrals().await.expect("referrals").len()
}

async fn token(db: &Db, org: i64, scopes: &[&str]) -> Caller {
    let secret = alliance_web::auth::random_token();
    db.create_api_token(org, "case system", &alliance_web::auth::token_hash(&secret), scopes, &common::test_actor())
        .await
        .expect("token");
    Caller { bearer: Some(secret), ..Caller::default() }
}

async fn referrals_end_to_end(app: TestApp) {
    let sink = SmtpSink::start().await;
    let mailer = Mailer::smtp(&sink.url(), "alliance@partnership.example", "https://alliance.example").expect("mailer");
    // A second server over the same database, sending mail to the sink.
    let app = app.beside(|s| s.with_mailer(mailer)).await;
    let db = app.db.clone();

    let school = app.signed_in("teacher@school.example", Role::PartnerUser, "Oak School").await;
    let navigator = app.signed_in("worker@charity.example", Role::PartnerUser, "Navigator Charity").await;
    let third = app.signed_in("officer@other.example", Role::PartnerUser, "Other Council").await;
    let third_analyst = app.signed_in("analyst@other.example", Role::Analyst, "Other Council").await;
    let board = app.signed_in("chair@board.example", Role::BoardMember, "Navigator Charity").await;
    let charity = org_id(&db, "Navigator Charity").await;
    let school_org = org_id(&db, "Oak School").await;
    let other_org = org_id(&db, "Other Council").await;
    set_up_service(&db, charity).await;

    // The form asks only for what the service needs (initials and age, not a name or date of birth).
    let form = app.get(&format!("/referrals/new?service={SERVICE}"), &school).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert!(form.body.contains("name=\"initials\"") && form.body.contains("name=\"age\""), "{}", form.body);
    assert!(!form.body.contains("name=\"name\"") && !form.body.contains("name=\"date-of-birth\""));

    // Bad input: no consent record and a field the service does not need. Clear errors naming
    // the fields, what was typed kept, nothing stored, nothing sent.
    let today = alliance_db::clock::today();
    let mut bad: Vec<(&str, &str)> = referral_fields("", "")
        .into_iter()
        .filter(|(k, _)| !k.starts_with("consent") && *k != "lawful-basis" && *k != "lawful-basis-reason")
        .collect();
    bad.push(("date-of-birth", "2010-01-01"));
    let reply = app.post_form("/referrals", &school, &bad).await;
    reply.assert_refused(&["There is a problem"]);
    assert!(reply.body.contains("href=\"#consent-given-by\""), "{}", reply.body);
    assert!(reply.body.contains("href=\"#date-of-birth\""), "{}", reply.body);
    assert!(reply.body.contains(&format!("value=\"{INITIALS}\"")), "the form keeps what was typed");
    assert_eq!(referral_count(&db).await, 0);
    assert!(sink.messages().is_empty());
    // Without the CSRF token: refused, nothing stored.
    let forged = Caller { csrf: String::new(), ..school.clone() };
    let reply = app.post_form("/referrals", &forged, &referral_fields("", &today)).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(referral_count(&db).await, 0);
    // A Board member cannot make one.
    let reply = app.post_form("/referrals", &board, &referral_fields("", &today)).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(referral_count(&db).await, 0);

    // The referral made.
    let reply = app.post_form("/referrals", &school, &referral_fields("", &today)).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let id: i64 = location(&reply).trim_start_matches("/referrals/").parse().expect("a referral's address");
    assert_eq!(referral_count(&db).await, 1);

    // The notification reached the sink, addressed to the charity's worker only (not its
    // Board member), with a link and no personal data.
    let messages = sink.messages();
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_eq!(messages[0].to, vec!["worker@charity.example".to_string()]);
    let data = &messages[0].data;
    assert!(data.contains(&format!("https://alliance.example/referrals/{id}")), "{data}");
    for personal in [INITIALS, PHONE, DISTRICT, "weapon", "Oak School", "school"] {
        assert!(
            !data.to_lowercase().contains(&personal.to_lowercase()),
            "the notification holds \"{personal}\": {data}"
        );
    }

    // The two organisations see the person, and each view is audited.
    assert_eq!(views_of(&db, id).await, 0);
    for who in [&school, &navigator] {
        let page = app.get(&format!("/referrals/{id}"), who).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(page.body.contains(INITIALS) && page.body.contains(PHONE), "{}", page.body);
        // Its dates (received, consent) in words, never as stored.
        assert!(shows_in_words(&page, &today), "{}", page.body);
    }
    assert_eq!(views_of(&db, id).await, 2);
    // Their lists show the referral without personal data, its dates in words.
    for who in [&school, &navigator] {
        let list = app.get("/referrals", who).await;
        assert_eq!(list.status, StatusCode::OK);
        assert!(list.body.contains(&format!("/referrals/{id}")) && has_no_person(&list), "{}", list.body);
        assert!(shows_in_words(&list, &today), "{}", list.body);
    }

    // A third organisation (any role) and a Board member never see the person.
    for (who, expected) in
        [(&third, StatusCode::NOT_FOUND), (&third_analyst, StatusCode::NOT_FOUND), (&board, StatusCode::FORBIDDEN)]
    {
        let page = app.get(&format!("/referrals/{id}"), who).await;
        assert_eq!(page.status, expected, "{}", page.body);
        assert!(has_no_person(&page), "{}", page.body);
        let list = app.get("/referrals", who).await;
        assert!(has_no_person(&list), "{}", list.body);
        assert!(!list.body.contains(&format!("/referrals/{id}\"")), "{}", list.body);
        let figures = app.get("/referrals/figures", who).await;
        assert_eq!(figures.status, StatusCode::OK, "{}", figures.body);
        assert!(has_no_person(&figures), "{}", figures.body);
        // One referral: suppressed.
        assert!(figures.body.contains("id=\"total\">fewer than 5<"), "{}", figures.body);
        // Nor can they act on it.
        let act = app.post_form(&format!("/referrals/{id}/events"), who, &[("event", "accept")]).await;
        assert!(act.status == StatusCode::NOT_FOUND || act.status == StatusCode::FORBIDDEN, "{}", act.status);
    }
    assert_eq!(views_of(&db, id).await, 2, "refused requests are not views");
    // The API's figures (JSON) for a token of the third organisation: suppressed, no person.
    let reader = token(&db, other_org, &["read:referrals"]).await;
    let json = app.get("/api/v1/referrals/figures", &reader).await;
    assert_eq!(json.status, StatusCode::OK, "{}", json.body);
    assert!(has_no_person(&json), "{}", json.body);
    assert_eq!(json.json()["total"], "fewer than 5");
    // The audit log holds no personal value either.
    let log = common::audit_log(&db).await;
    assert!(log.iter().all(|e| !e.detail.contains(INITIALS) && !e.detail.contains(PHONE)));

    // The workflow: the referrer cannot accept; the service accepts (the referrer is told).
    let reply = app.post_form(&format!("/referrals/{id}/events"), &school, &[("event", "accept")]).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "a refusal of who asks: {}", reply.body);
    assert!(reply.body.contains("only the service receiving the referral"), "{}", reply.body);
    let reply = app.post_form(&format!("/referrals/{id}/events"), &navigator, &[("event", "decline")]).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "a decline needs its reason");
    let reply = app.post_form(&format!("/referrals/{id}/events"), &navigator, &[("event", "accept")]).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(db.referral(id).await.expect("read").expect("exists").status().code(), "accepted");
    let messages = sink.messages();
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[1].to, vec!["teacher@school.example".to_string()]);
    assert!(!messages[1].data.contains(INITIALS) && !messages[1].data.contains(PHONE));

    // Through the API: a case system's token makes a referral (bad input first: every field
    // named, nothing stored) and moves it on.
    let writer = token(&db, school_org, &["write:referrals"]).await;
    let body = serde_json::json!({"service": SERVICE, "source": "hospital", "reason": "carrying-weapon",
        "person": {"initials": "AB", "age": "16", "sex": "female", "postcode_district": "ST4", "contact_route": "via-referrer"},
        "consent": {"given_by": "person", "date": today, "method": "verbal", "lawful_basis": "consent"}});
    let reply = app.post_bytes("/api/v1/referrals", &writer, "application/json", body.to_string().into_bytes()).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.body);
    assert_eq!(reply.json()["errors"][0]["field"], "source", "{}", reply.body);
    assert_eq!(referral_count(&db).await, 1);
    // A nested field is named by its member of the body, as the client sent it.
    let mut nested = body.clone();
    nested["source"] = "emergency-department".into();
    nested["consent"]["given_by"] = "a neighbour".into();
    let reply = app.post_bytes("/api/v1/referrals", &writer, "application/json", nested.to_string().into_bytes()).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.body);
    assert_eq!(reply.json()["field"], "consent.given_by", "{}", reply.body);
    // A body that is not a referral object names what is expected, not a Rust type.
    let reply = app.post_bytes("/api/v1/referrals", &writer, "application/json", b"\"a referral\"".to_vec()).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert!(reply.body.contains("expected a referral") && !reply.body.contains("NewBody"), "{}", reply.body);
    assert_eq!(referral_count(&db).await, 1);
    let mut body = body;
    body["source"] = "emergency-department".into();
    let reply = app.post_bytes("/api/v1/referrals", &writer, "application/json", body.to_string().into_bytes()).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let api_id = reply.json()["id"].as_i64().expect("an id");
    let reader_write = token(&db, other_org, &["write:referrals"]).await;
    let event = serde_json::json!({"event": "withdraw"}).to_string().into_bytes();
    let reply = app
        .post_bytes(&format!("/api/v1/referrals/{api_id}/events"), &reader_write, "application/json", event.clone())
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "another organisation's token: {}", reply.body);
    let accept = serde_json::json!({"event": "accept"}).to_string().into_bytes();
    let reply =
        app.post_bytes(&format!("/api/v1/referrals/{api_id}/events"), &writer, "application/json", accept).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "the referrer cannot accept its own referral: {}", reply.body);
    assert_eq!(reply.json()["status"], 403, "a problem document: {}", reply.body);
    let reply = app.post_bytes(&format!("/api/v1/referrals/{api_id}/events"), &writer, "application/json", event).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.json()["status"], "withdrawn");
    // A read-only token cannot write.
    let reply = app.post_bytes("/api/v1/referrals", &reader, "application/json", body.to_string().into_bytes()).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);

    // Subject access: the referrer's export of the person's referrals, audited.
    let views_before = views_of(&db, id).await;
    let who = alliance_app::referrals::Who {
        org: school_org,
        org_type: alliance_core::access::OrgType::Council,
        role: Role::PartnerUser,
    };
    let export = subject_access(
        &db,
        Some(who),
        &SubjectQuery { name: "q.z.x".into(), date_of_birth: None },
        &common::test_actor(),
    )
    .await
    .expect("export");
    assert_eq!(export.len(), 1);
    assert_eq!(export[0].id, id);
    assert!(serde_json::to_string(&export).expect("json").contains(PHONE));
    assert_eq!(views_of(&db, id).await, views_before + 1);
    let other = alliance_app::referrals::Who { org: other_org, ..who };
    let none = subject_access(
        &db,
        Some(other),
        &SubjectQuery { name: INITIALS.into(), date_of_birth: None },
        &common::test_actor(),
    )
    .await
    .expect("export");
    assert!(none.is_empty(), "a third organisation finds nothing");

    // Retention: a referral received, accepted and closed long ago.
    let reply = app.post_form("/referrals", &school, &referral_fields("2024-01-10", "2024-01-09")).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let old: i64 = location(&reply).trim_start_matches("/referrals/").parse().expect("an address");
    for (event, extra) in [("accept", ("on", "2024-01-12")), ("engage", ("on", "2024-01-20"))] {
        let reply = app.post_form(&format!("/referrals/{old}/events"), &navigator, &[("event", event), extra]).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{event}: {}", reply.body);
    }
    let reply = app
        .post_form(
            &format!("/referrals/{old}/events"),
            &navigator,
            &[("event", "close"), ("outcome", "goals-met"), ("on", "2024-03-01")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    // Erasure on request of an open referral is refused (close or withdraw first).
    let reply = app.post_form(&format!("/referrals/{id}/erase"), &school, &[]).await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.body);
    assert!(db.referral(id).await.expect("read").expect("exists").referral.is_some());

    let report = retention_run(
        &db,
        RetentionPeriod::months(12).expect("a period"),
        alliance_db::clock::today_date(),
        &common::test_actor(),
    )
    .await
    .expect("retention run");
    assert_eq!(report.erased, 1, "{report:?}");
    let erased = db.referral(old).await.expect("read").expect("kept");
    assert!(erased.referral.is_none() && erased.parties.is_none() && erased.erased_at.is_some());
    assert_eq!(erased.facts.timeline.closed().map(|(_, o)| o.code()), Some("goals-met"), "the outcome is kept");
    assert_eq!(erased.facts.age_band.map(|b| b.code()), Some("10-15"));
    // The open one (received today) and the withdrawn one (ended today) are kept.
    assert!(db.referral(id).await.expect("read").expect("exists").referral.is_some());
    assert!(db.referral(api_id).await.expect("read").expect("exists").referral.is_some());
    // Gone from both organisations' view; still counted in the figures.
    let page = app.get(&format!("/referrals/{old}"), &school).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    let json = app.get("/api/v1/referrals/figures", &reader).await.json();
    let outcome =
        json["tables"].as_array().expect("tables").iter().find(|t| t["dimension"] == "outcome").expect("outcome");
    let goals = outcome["rows"].as_array().expect("rows").iter().find(|r| r["key"] == "goals-met").expect("row");
    assert_eq!(goals["shown"], "fewer than 5", "the closed referral is counted (suppressed): {goals}");
    let log = common::audit_rows(&db, "referral-erase").await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].target, format!("/referrals/{old}"));
    // The database itself refuses a referral without consent.
    sqlx::any::install_default_drivers();
    let mut raw = <sqlx::AnyConnection as sqlx::Connection>::connect(&app.db_url).await.expect("a connection");
    let refused = sqlx::query(
        "INSERT INTO referrals (service_id, referring_org_id, receiving_org_id, source, reason, status, received_on, created_at) \
         VALUES ($1, $2, $3, 'school', 'other', 'received', '2025-01-01', '2025-01-01T00:00:00Z')",
    )
    .bind(SERVICE)
    .bind(school_org)
    .bind(charity)
    .execute(&mut raw)
    .await;
    assert!(refused.is_err(), "a referral without consent was stored");

    // The command line: the aggregate figures (suppressed, no person), a subject access
    // export, and a retention run with a period of 0 months, which erases the referral
    // withdrawn today and leaves the open one.
    let url = app.db_url.clone();
    let run = |args: Vec<&'static str>| {
        let url = url.clone();
        async move { tokio::task::spawn_blocking(move || common::alliance(&url, &args)).await.expect("the command ran") }
    };
    let out = run(vec!["referrals", "figures"]).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        text.contains("\"total\": \"fewer than 5\"") && !text.contains(INITIALS) && !text.contains(PHONE),
        "{text}"
    );
    let out = run(vec!["referrals", "export-subject", "--name", "QZX"]).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let export: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(export.as_array().map(Vec::len), Some(1), "{export}");
    let out = run(vec!["referrals", "retention", "--months", "0"]).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 erased"), "{}", String::from_utf8_lossy(&out.stdout));
    assert!(db.referral(api_id).await.expect("read").expect("kept").referral.is_none());
    assert!(db.referral(id).await.expect("read").expect("kept").referral.is_some(), "open referrals are never due");
    let out = run(vec!["referrals", "retention", "--months", "999"]).await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--months"), "{}", String::from_utf8_lossy(&out.stderr));

    // Correction on request: the new values pass the service's policy again (a full name is
    // refused where initials are asked), and the audit row names the field, not its value.
    let navigator_who = alliance_app::referrals::Who { org: charity, ..who };
    let mut fields = alliance_core::referrals::PersonalFields {
        name: Some("Quentin Zed Xavier".into()),
        age: Some("15".into()),
        sex: Some("male".into()),
        postcode_district: Some(DISTRICT.into()),
        contact_route: Some("phone".into()),
        contact_detail: Some(PHONE.into()),
        ..Default::default()
    };
    let refused = alliance_app::referrals::correct(&db, navigator_who, id, &fields, &common::test_actor())
        .await
        .expect("no fault");
    assert!(refused.is_err(), "a full name where initials are asked");
    fields.name = None;
    fields.initials = Some("QZY".into());
    let changed = alliance_app::referrals::correct(&db, navigator_who, id, &fields, &common::test_actor())
        .await
        .expect("no fault")
        .expect("valid");
    assert_eq!(changed, vec!["name"]);
    let third_who = alliance_app::referrals::Who { org: other_org, ..who };
    assert!(alliance_app::referrals::correct(&db, third_who, id, &fields, &common::test_actor()).await.is_err());
    let log = common::audit_rows(&db, "referral-correct").await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].detail, "correction of: name");

    // Correction through the page: the form shows the held fields; a bad age is refused with
    // the field named and nothing changed; a third organisation gets "not found".
    let page = app.get(&format!("/referrals/{id}"), &navigator).await;
    assert!(
        page.body.contains("action=\"/referrals/{id}/correct\"".replace("{id}", &id.to_string()).as_str()),
        "{}",
        page.body
    );
    assert!(page.body.contains("value=\"QZY\""), "{}", page.body);
    let correction = |initials: &'static str, age: &'static str| {
        vec![
            ("initials", initials),
            ("age", age),
            ("sex", "male"),
            ("postcode-district", DISTRICT),
            ("contact-route", "phone"),
            ("contact-detail", PHONE),
        ]
    };
    let path = format!("/referrals/{id}/correct");
    let reply = app.post_form(&path, &navigator, &correction("QZW", "fifteen")).await;
    reply.assert_refused(&["href=\"#age\""]);
    let reply = app.post_form(&path, &third, &correction("QZW", "15")).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    let reply = app.post_form(&path, &board, &correction("QZW", "15")).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    let held = |db: Db| async move {
        db.referral(id).await.expect("read").expect("exists").referral.expect("held").person.name
    };
    assert_eq!(held(db.clone()).await, Some(alliance_core::referrals::PersonName::Initials("QZY".into())));
    let reply = app.post_form(&path, &navigator, &correction("QZW", "15")).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(held(db.clone()).await, Some(alliance_core::referrals::PersonName::Initials("QZW".into())));
    assert!(db.verify_audit_chain().await.expect("chain").first_broken.is_none());
}
on_each_app!(referrals_end_to_end);

/// A referral form sent twice at once (a double click) makes one referral: both answers go
/// to it. Sent again with the same key but other contents (the form reopened with the back
/// button and changed), it makes a second, as its sender meant. Through the API, a retry with
/// the same Idempotency-Key answers 200 with the first referral.
async fn a_referral_sent_twice_is_made_once(app: TestApp) {
    let db = app.db.clone();
    let school = app.signed_in("teacher@school.example", Role::PartnerUser, "Oak School").await;
    app.signed_in("worker@charity.example", Role::PartnerUser, "Navigator Charity").await;
    set_up_service(&db, org_id(&db, "Navigator Charity").await).await;
    let today = alliance_db::clock::today();
    let form = app.get(&format!("/referrals/new?service={SERVICE}"), &school).await;
    let key = form.body.split("name=\"submission\" value=\"").nth(1).and_then(|r| r.split('"').next());
    let key = key.expect("the form carries a submission key").to_string();
    assert!(key.len() >= 20, "{key}");
    let mut fields = referral_fields(&today, &today);
    fields.push(("submission", &key));
    let (a, b) =
        tokio::join!(app.post_form("/referrals", &school, &fields), app.post_form("/referrals", &school, &fields));
    assert_eq!((a.status, b.status), (StatusCode::SEE_OTHER, StatusCode::SEE_OTHER), "{} {}", a.body, b.body);
    assert_eq!(location(&a), location(&b), "both go to the one referral");
    assert_eq!(referral_count(&db).await, 1);
    assert_eq!(common::audit_rows(&db, "referral-create").await.len(), 1, "one referral, one audit row");

    let changed: Vec<(&str, &str)> = fields.iter().map(|&(k, v)| if k == "age" { (k, "16") } else { (k, v) }).collect();
    let c = app.post_form("/referrals", &school, &changed).await;
    assert_eq!(c.status, StatusCode::SEE_OTHER, "{}", c.body);
    assert_ne!(location(&c), location(&a), "other contents: another referral");
    assert_eq!(referral_count(&db).await, 2);

    let writer = token(&db, org_id(&db, "Oak School").await, &["write:referrals"]).await;
    let body = serde_json::json!({"service": SERVICE, "source": "school", "reason": "carrying-weapon",
        "person": {"initials": "AB", "age": "16", "sex": "female", "postcode_district": "ST4", "contact_route": "via-referrer"},
        "consent": {"given_by": "person", "date": today, "method": "verbal", "lawful_basis": "consent"}})
    .to_string()
    .into_bytes();
    let key = [("idempotency-key", "case-4711")];
    let first = app.post_bytes_with("/api/v1/referrals", &writer, "application/json", &key, body.clone()).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    let retry = app.post_bytes_with("/api/v1/referrals", &writer, "application/json", &key, body.clone()).await;
    assert_eq!(retry.status, StatusCode::OK, "{}", retry.body);
    assert_eq!(retry.json()["id"], first.json()["id"]);
    assert_eq!(retry.json()["repeated"], true);
    assert_eq!(referral_count(&db).await, 3);
    // Without the header every request makes a referral, as before.
    let plain = app.post_bytes("/api/v1/referrals", &writer, "application/json", body).await;
    assert_eq!(plain.status, StatusCode::CREATED, "{}", plain.body);
    assert_eq!(referral_count(&db).await, 4);
}

on_each_app!(a_referral_sent_twice_is_made_once);
