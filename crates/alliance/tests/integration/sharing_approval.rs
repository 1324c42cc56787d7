//! Owner-approved sharing: a grant asked for by an administrator who does not own the dataset
//! gives no access until an administrator of the owner approves it; nobody approves their own
//! request; two approvals racing leave one; a grant lapses with its agreement's review or end
//! date; the register shows requests, decisions and lapses, each audited.

use alliance_core::access::{AccessLevel, Role};
use alliance_db::access::{GrantStatus, NewAgreement};
use alliance_db::audit::Actor;
use alliance_db::DbError;
use reqwest::StatusCode;
use sqlx::Connection;

use crate::common;
use crate::common::app::TestApp;
use crate::common::sharing::EdParties;

const ED_PAGE: &str = "/partner-data/ed-assaults";

fn user(email: &str) -> Actor {
    Actor::new(format!("user:{email}"), "127.0.0.1")
}

async fn raw_sql(url: &str, sql: &str) -> Result<(), sqlx::Error> {
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(url).await?;
    let result = sqlx::query(sql).execute(&mut conn).await.map(|_| ());
    let _ = conn.close().await;
    result
}

/// The trust and the council of [`common::sharing::ed_parties`], the trust with a second
/// administrator (an owner's administrator may not decide their own request; another may).
async fn partnership(app: &TestApp) -> EdParties {
    let parties = common::sharing::ed_parties(app).await;
    app.signed_in("second@health.example", Role::Administrator, "Hospital trust").await;
    parties
}

async fn agreement(app: &TestApp, review_date: &str) -> i64 {
    let new = NewAgreement {
        title: "ED data for violence reduction",
        purpose: "Targeting",
        lawful_basis: "Public task",
        review_date,
        end_date: "",
        dpia_reference: "DPIA-7",
        dpia_date: "2026-01-15",
        parties: &[],
    };
    app.db.create_agreement(&new, None, &common::test_actor()).await.unwrap()
}

async fn a_grant_takes_effect_only_when_the_owner_approves(app: TestApp) {
    let p = partnership(&app).await;
    let id = agreement(&app, "2099-12-31").await.to_string();
    let council = p.council.to_string();
    assert_eq!(app.get(ED_PAGE, &p.council_analyst).await.status, StatusCode::FORBIDDEN);

    // The council's administrator asks for record-level access for the council: a request.
    let reply = app
        .post_form(
            "/admin/grants",
            &p.council_admin,
            &[("agreement_id", &id), ("org_id", &council), ("dataset", "ed-assaults"), ("level", "record")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let grants = app.db.grants().await.unwrap();
    assert_eq!(grants.len(), 1);
    assert_eq!((grants[0].status, grants[0].requested_by.as_str()), (GrantStatus::Requested, "admin@council.example"));
    assert_eq!(app.get(ED_PAGE, &p.council_analyst).await.status, StatusCode::FORBIDDEN, "a request opens nothing");
    assert!(app.db.grants_for(p.council, "ed-assaults").await.unwrap().is_empty());

    // The requester cannot approve it, nor can they make their organisation the owner.
    let decide = |decision: &'static str| {
        vec![
            ("agreement_id", id.clone()),
            ("org_id", council.clone()),
            ("dataset", "ed-assaults".to_string()),
            ("decision", decision.to_string()),
        ]
    };
    let approve = decide("approve");
    let reply = app.post_owned("/admin/grants/decide", &p.council_admin, &approve).await;
    reply.assert_refused(&["Only an administrator of Hospital trust"]);
    let reply =
        app.post_form("/admin/datasets", &p.council_admin, &[("dataset", "ed-assaults"), ("org_id", &council)]).await;
    reply.assert_refused(&["only an administrator of Hospital trust can hand it"]);
    assert_eq!(app.db.dataset("ed-assaults").await.unwrap().unwrap().owner_org_id, Some(p.health));
    assert_eq!(app.get(ED_PAGE, &p.council_analyst).await.status, StatusCode::FORBIDDEN);

    // The page shows the request awaiting the owner, with the buttons only for the owner's admin.
    let page = app.get("/admin/data-sharing", &p.council_admin).await;
    assert!(page.body.contains("Awaiting an administrator of Hospital trust"), "{}", page.body);
    let page = app.get("/admin/data-sharing", &p.health_admin).await;
    assert!(page.body.contains("value=\"approve\""), "{}", page.body);
    // Dates in words (the form's hint alone still says 2026-01-15, as a date is typed).
    assert!(page.body.contains("DPIA-7, completed 15 January 2026") && page.body.contains("In force"), "{}", page.body);
    assert!(page.body.contains(">31 December 2099<") && !page.body.contains("2099-12-31"), "{}", page.body);
    // A DPIA on the register: its dates in words too.
    let dpia = [
        ("title", "ED DPIA"),
        ("datasets", "ed-assaults"),
        ("completed_on", "2026-02-14"),
        ("review_date", "2027-02-13"),
        ("summary", "Assaults seen by the emergency department"),
    ];
    let reply = app.post_form("/admin/dpias", &p.health_admin, &dpia).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let page = app.get("/admin/data-sharing", &p.health_admin).await;
    assert!(page.body.contains(">14 February 2026<") && page.body.contains(">13 February 2027<"), "{}", page.body);
    assert!(!page.body.contains("2026-02-14") && !page.body.contains("2027-02-13"), "{}", page.body);

    // The owner's administrator approves: the council sees the data.
    let reply = app.post_owned("/admin/grants/decide", &p.health_admin, &approve).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(app.get(ED_PAGE, &p.council_analyst).await.status, StatusCode::OK);
    let in_force = app.db.grants_for(p.council, "ed-assaults").await.unwrap();
    assert_eq!(in_force.len(), 1);
    assert_eq!(
        (in_force[0].level, in_force[0].decided_by.as_deref()),
        (AccessLevel::Record, Some("admin@health.example"))
    );
    // A second decision on the same request is refused.
    let reply = app.post_owned("/admin/grants/decide", &p.health_admin, &approve).await;
    reply.assert_refused(&["already approved"]);
    let page = app.get("/admin/data-sharing", &p.health_admin).await;
    assert!(page.body.contains(">approved</strong> (approved by admin@health.example"), "{}", page.body);

    // Each step was audited.
    let audited: Vec<String> =
        common::audit_rows(&app.db, "permission-change").await.into_iter().map(|e| e.detail).collect();
    assert!(audited.iter().any(|d| d.starts_with("grant requested: agreement")), "{audited:?}");
    assert!(audited.iter().any(|d| d.starts_with("grant approved by the owner (Hospital trust)")), "{audited:?}");
    assert_eq!(app.db.verify_audit_chain().await.unwrap().first_broken, None);
}

on_each_app!(a_grant_takes_effect_only_when_the_owner_approves);

async fn nobody_approves_their_own_request(app: TestApp) {
    let p = partnership(&app).await;
    let id = agreement(&app, "2099-12-31").await;
    // An administrator of the owner asks for access for the council...
    app.db
        .set_grant(id, p.council, "ed-assaults", AccessLevel::Aggregate, &user("admin@health.example"))
        .await
        .unwrap();
    let refused = app.db.decide_grant(id, p.council, "ed-assaults", true, &user("admin@health.example")).await;
    assert!(
        matches!(&refused, Err(DbError::Invalid { field: "decision", reason }) if reason.contains("You asked for this grant")),
        "{refused:?}"
    );
    assert!(app.db.grants_for(p.council, "ed-assaults").await.unwrap().is_empty());
    // ...and the database itself refuses a decision by the requester, whatever the code does.
    let sql = format!(
        "UPDATE agreement_grants SET status = 'approved', decided_by = 'admin@health.example', decided_at = 'now', \
         decided_by_org = {} WHERE agreement_id = {id}",
        p.health
    );
    assert!(raw_sql(&app.db_url, &sql).await.is_err(), "the CHECK constraint refuses self-approval");
    assert_eq!(app.db.grants().await.unwrap()[0].status, GrantStatus::Requested);

    // Two approvals at once by the owner's other administrator: exactly one succeeds.
    let second = user("second@health.example");
    let (a, b) = tokio::join!(
        app.db.decide_grant(id, p.council, "ed-assaults", true, &second),
        app.db.decide_grant(id, p.council, "ed-assaults", false, &second),
    );
    assert_eq!([a.is_ok(), b.is_ok()].iter().filter(|ok| **ok).count(), 1, "{a:?} {b:?}");
    let loser = if a.is_ok() { b } else { a };
    assert!(matches!(loser, Err(DbError::Conflict { field: "decision", .. })), "{loser:?}");
    let decisions = common::audit_rows(&app.db, "permission-change")
        .await
        .into_iter()
        .filter(|e| e.detail.contains("by the owner"))
        .count();
    assert_eq!(decisions, 1, "one decision, one audit row");

    // Changing the level asks again: the approval does not carry over.
    app.db.set_grant(id, p.council, "ed-assaults", AccessLevel::Record, &user("admin@council.example")).await.unwrap();
    assert!(app.db.grants_for(p.council, "ed-assaults").await.unwrap().is_empty());
    // Refused requests give nothing either, and show as refused.
    app.db.decide_grant(id, p.council, "ed-assaults", false, &second).await.unwrap();
    assert!(app.db.grants_for(p.council, "ed-assaults").await.unwrap().is_empty());
    let page = app.get("/admin/data-sharing", &p.health_admin).await;
    assert!(page.body.contains(">refused</strong>"), "{}", page.body);
    // Open data needs no grant and cannot be asked for.
    let open = app
        .db
        .set_grant(id, p.council, "police-recorded-crime", AccessLevel::Record, &user("admin@council.example"))
        .await;
    assert!(matches!(open, Err(DbError::Invalid { field: "dataset", .. })), "{open:?}");
}

on_each_app!(nobody_approves_their_own_request);

async fn an_expired_agreement_gives_no_access(app: TestApp) {
    let p = partnership(&app).await;
    let id = agreement(&app, "2099-12-31").await;
    app.db
        .set_grant(id, p.council, "ed-assaults", AccessLevel::Aggregate, &user("admin@council.example"))
        .await
        .unwrap();
    app.db.decide_grant(id, p.council, "ed-assaults", true, &user("admin@health.example")).await.unwrap();
    assert_eq!(app.get(ED_PAGE, &p.council_analyst).await.status, StatusCode::OK);

    // The agreement passes its review date: the grant lapses with no job run.
    raw_sql(&app.db_url, &format!("UPDATE agreements SET review_date = '2020-01-01' WHERE id = {id}")).await.unwrap();
    assert_eq!(app.get(ED_PAGE, &p.council_analyst).await.status, StatusCode::FORBIDDEN);
    let page = app.get("/admin/data-sharing", &p.health_admin).await;
    assert!(page.body.contains(">lapsed</strong>") && page.body.contains("Review overdue"), "{}", page.body);
    let refused = common::audit_rows(&app.db, "read-refused").await;
    assert!(refused.iter().any(|e| e.target == "ed-assaults"), "the refused read is audited: {refused:?}");
    let lapses = || async {
        let rows = common::audit_rows(&app.db, "permission-change").await;
        rows.into_iter().filter(|e| e.detail.starts_with("grant lapsed")).map(|e| e.detail).collect::<Vec<_>>()
    };
    let recorded = lapses().await;
    assert_eq!(recorded.len(), 1, "the lapse is audited once, however often access is checked: {recorded:?}");
    let council = p.council;
    assert_eq!(
        recorded[0],
        format!(
            "grant lapsed: agreement {id} passed its review date 2020-01-01; organisation {council} has no access under it"
        )
    );
    assert!(page.body.contains("lapse recorded"), "{}", page.body);

    // Review date ahead but end date passed: lapsed as well.
    raw_sql(
        &app.db_url,
        &format!("UPDATE agreements SET review_date = '2099-12-31', end_date = '2021-06-30' WHERE id = {id}"),
    )
    .await
    .unwrap();
    assert_eq!(app.get(ED_PAGE, &p.council_analyst).await.status, StatusCode::FORBIDDEN);
    let page = app.get("/admin/data-sharing", &p.health_admin).await;
    assert!(page.body.contains("Ended"), "{}", page.body);
    // No new grant can be asked for under it.
    let refused =
        app.db.set_grant(id, p.council, "ed-assaults", AccessLevel::Record, &user("admin@council.example")).await;
    assert!(matches!(refused, Err(DbError::Invalid { field: "agreement_id", .. })), "{refused:?}");

    assert_eq!(lapses().await.len(), 1, "still one lapse row");
    // A grant approved by an owner stops when the dataset changes hands.
    raw_sql(&app.db_url, &format!("UPDATE agreements SET end_date = NULL WHERE id = {id}")).await.unwrap();
    assert_eq!(app.get(ED_PAGE, &p.council_analyst).await.status, StatusCode::OK);
    let third = app
        .db
        .create_organisation("Another trust", alliance_core::access::OrgType::Health, &common::test_actor())
        .await
        .unwrap();
    app.db.set_dataset_owner("ed-assaults", third, &user("admin@health.example")).await.unwrap();
    assert_eq!(app.get(ED_PAGE, &p.council_analyst).await.status, StatusCode::FORBIDDEN);
}

on_each_app!(an_expired_agreement_gives_no_access);

/// The agreement form keeps what was typed when it is refused, and names the field at fault.
async fn the_agreement_form_keeps_what_was_typed(app: TestApp) {
    let p = partnership(&app).await;
    let reply = app
        .post_form(
            "/admin/agreements",
            &p.health_admin,
            &[
                ("title", "ED sharing"),
                ("purpose", "Violence reduction"),
                ("lawful_basis", "Public task"),
                ("review_date", "2027-03-31"),
                ("end_date", "2026-01-01"),
                ("dpia_reference", "DPIA-9"),
                ("dpia_date", "2026-02-30"),
            ],
        )
        .await;
    reply.assert_refused(&["must be a real date", "id=\"dpia_date-error\""]);
    for typed in [
        "value=\"ED sharing\"",
        ">Violence reduction</textarea>",
        "value=\"DPIA-9\"",
        "value=\"2026-02-30\"",
        "value=\"2026-01-01\"",
    ] {
        assert!(reply.body.contains(typed), "{typed} kept: {}", reply.body);
    }
    assert!(app.db.agreements().await.unwrap().is_empty());
}

on_each_app!(the_agreement_form_keeps_what_was_typed);
