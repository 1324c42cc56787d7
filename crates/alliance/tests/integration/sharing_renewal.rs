//! Agreements edited and renewed on `/admin/data-sharing` (issue 14, second round): moving
//! the review or end date later sends the agreement's approved grants back to the datasets'
//! owners, so a renewal re-validates access only with a new owner approval; the command
//! line's `alliance sharing list|request|approve|refuse --as EMAIL` follows the web's rules
//! (only active administrators act, nobody decides their own request); every data-sharing
//! form field is bounded, in characters and in bytes, with an error naming the field.

use alliance_db::access::{GrantStatus, NewAgreement};
use reqwest::StatusCode;

use crate::common;
use crate::common::app::TestApp;

const ED_PAGE: &str = "/partner-data/ed-assaults";

fn run(app: &TestApp, args: &[&str]) -> (bool, String, String) {
    let out = common::alliance(&app.db_url, args);
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn agreement_form<'a>(title: &'a str, review_date: &'a str, end_date: &'a str) -> Vec<(&'static str, &'a str)> {
    vec![
        ("title", title),
        ("purpose", "Targeting patrols at night-time economy hotspots"),
        ("lawful_basis", "Public task"),
        ("review_date", review_date),
        ("end_date", end_date),
        ("dpia_reference", "DPIA-7"),
        ("dpia_date", "2026-01-15"),
    ]
}

fn status(app_grants: &[alliance_db::access::GrantRecord]) -> Vec<(GrantStatus, String)> {
    app_grants.iter().map(|g| (g.status, g.requested_by.clone())).collect()
}

async fn renewal_needs_a_new_owner_approval(app: TestApp) {
    let p = common::sharing::ed_parties(&app).await;
    let new = NewAgreement {
        title: "ED data for violence reduction",
        purpose: "Targeting",
        lawful_basis: "Public task",
        review_date: "2099-06-30",
        end_date: "2099-12-31",
        dpia_reference: "DPIA-7",
        dpia_date: "2026-01-15",
        parties: &[],
    };
    let id = app.db.create_agreement(&new, None, &common::test_actor()).await.expect("agreement");
    let id_text = id.to_string();

    // The command line: a request by the council's administrator, listed; the requester may
    // not approve it; a non-administrator may not act; the owner's administrator approves.
    let (ok, _, err) = run(
        &app,
        &[
            "sharing",
            "request",
            "--as",
            "analyst@council.example",
            "--agreement",
            &id_text,
            "--org",
            "Council",
            "--dataset",
            "ed-assaults",
            "--level",
            "record",
        ],
    );
    assert!(!ok && err.contains("--as: analyst@council.example is not an active administrator"), "{err}");
    assert!(app.db.grants().await.expect("grants").is_empty(), "nothing stored");
    let (ok, out, err) = run(
        &app,
        &[
            "sharing",
            "request",
            "--as",
            "admin@council.example",
            "--agreement",
            &id_text,
            "--org",
            "council",
            "--dataset",
            "ed-assaults",
            "--level",
            "record",
        ],
    );
    assert!(ok, "{err}");
    assert!(out.contains("no access until an administrator of the dataset's owner approves it"), "{out}");
    let (ok, out, _) = run(&app, &["sharing", "list"]);
    assert!(
        ok && out.contains("ED data for violence reduction [In force]")
            && out.contains("ed-assaults at record level, requested"),
        "{out}"
    );
    let decide = |who: &str, verb: &str| {
        run(
            &app,
            &[
                "sharing",
                verb,
                "--as",
                who,
                "--agreement",
                &id_text,
                "--org",
                &p.council.to_string(),
                "--dataset",
                "ed-assaults",
            ],
        )
    };
    let (ok, _, err) = decide("admin@council.example", "approve");
    assert!(!ok && err.contains("--as: Only an administrator of Hospital trust"), "{err}");
    assert_eq!(app.get(ED_PAGE, &p.council_analyst).await.status, StatusCode::FORBIDDEN);
    let (ok, _, err) = decide("admin@health.example", "approve");
    assert!(ok, "{err}");
    assert_eq!(app.get(ED_PAGE, &p.council_analyst).await.status, StatusCode::OK, "approved: in force");
    let (ok, _, err) = decide("admin@health.example", "refuse");
    assert!(!ok && err.contains("already approved"), "{err}");

    // The edit form shows the agreement; an edit that does not extend it keeps the grant.
    let form = app.get(&format!("/admin/agreements/{id}/edit"), &p.council_admin).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(
        form.body.contains("value=\"2099-06-30\"") && form.body.contains("1 approved grant goes back"),
        "{}",
        form.body
    );
    assert_eq!(
        app.get(&format!("/admin/agreements/{id}/edit"), &p.council_analyst).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(app.get("/admin/agreements/999/edit", &p.council_admin).await.status, StatusCode::NOT_FOUND);
    let path = format!("/admin/agreements/{id}");
    let reply =
        app.post_form(&path, &p.council_admin, &agreement_form("ED data (renamed)", "2099-06-30", "2099-12-31")).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let grants = app.db.grants().await.expect("grants");
    assert_eq!(grants[0].status, GrantStatus::Approved, "a new title renews nothing");
    assert_eq!(app.db.agreements().await.expect("agreements")[0].title, "ED data (renamed)");

    // Bad input names its field and changes nothing.
    let reply = app.post_form(&path, &p.council_admin, &agreement_form("ED data", "2099-13-40", "")).await;
    reply.assert_refused(&["id=\"review_date-error\""]);
    assert_eq!(app.db.agreements().await.expect("agreements")[0].review_date, "2099-06-30");

    // Renewal: the review date moved later sends the grant back; the renewing administrator
    // is its requester now and cannot approve it; access stops until the owner approves.
    let reply =
        app.post_form(&path, &p.council_admin, &agreement_form("ED data (renamed)", "2100-06-30", "2100-12-31")).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(
        status(&app.db.grants().await.expect("grants")),
        vec![(GrantStatus::Requested, "admin@council.example".to_string())]
    );
    assert_eq!(app.get(ED_PAGE, &p.council_analyst).await.status, StatusCode::FORBIDDEN, "renewed: not yet approved");
    let (ok, _, err) = decide("admin@council.example", "approve");
    assert!(!ok, "{err}");
    let council_text = p.council.to_string();
    let fields = [
        ("agreement_id", id_text.as_str()),
        ("org_id", &council_text),
        ("dataset", "ed-assaults"),
        ("decision", "approve"),
    ];
    let reply = app.post_form("/admin/grants/decide", &p.health_admin, &fields).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(app.get(ED_PAGE, &p.council_analyst).await.status, StatusCode::OK);

    // A lapsed agreement (review date passed) renewed: still no access without approval.
    let lapsed = agreement_form("ED data (renamed)", "2020-01-31", "2100-12-31");
    assert_eq!(app.post_form(&path, &p.council_admin, &lapsed).await.status, StatusCode::SEE_OTHER);
    assert_eq!(app.get(ED_PAGE, &p.council_analyst).await.status, StatusCode::FORBIDDEN, "lapsed");
    assert_eq!(
        app.db.grants().await.expect("grants")[0].status,
        GrantStatus::Approved,
        "an earlier date renews nothing"
    );
    let renewed = agreement_form("ED data (renamed)", "2101-01-31", "");
    assert_eq!(app.post_form(&path, &p.council_admin, &renewed).await.status, StatusCode::SEE_OTHER);
    assert_eq!(app.db.grants().await.expect("grants")[0].status, GrantStatus::Requested);
    assert_eq!(app.get(ED_PAGE, &p.council_analyst).await.status, StatusCode::FORBIDDEN, "renewal is no approval");
    let (ok, _, err) = decide("admin@health.example", "approve");
    assert!(ok, "{err}");
    assert_eq!(app.get(ED_PAGE, &p.council_analyst).await.status, StatusCode::OK);

    let audited: Vec<String> =
        common::audit_rows(&app.db, "permission-change").await.into_iter().map(|e| e.detail).collect();
    assert_eq!(
        audited.iter().filter(|d| d.starts_with("grant sent back for approval: agreement")).count(),
        2,
        "{audited:?}"
    );
    assert!(audited.iter().any(|d| d.contains("edited: review date 2099-06-30 → 2100-06-30")), "{audited:?}");
    let sent_back: Vec<_> = common::audit_rows(&app.db, "permission-change")
        .await
        .into_iter()
        .filter(|e| e.detail.starts_with("grant sent back for approval"))
        .collect();
    let grant = format!("organisation {}, record access", p.council);
    assert!(sent_back.iter().all(|e| e.target == "ed-assaults" && e.detail.contains(&grant)), "{sent_back:?}");
}
on_each_app!(renewal_needs_a_new_owner_approval);

/// Every field of the data-sharing forms is bounded: too many characters, or too many bytes
/// of multi-byte text, is refused on its field with the limit named, and nothing is stored.
async fn data_sharing_fields_are_bounded(app: TestApp) {
    let p = common::sharing::ed_parties(&app).await;
    let long_title = "t".repeat(201);
    let reply =
        app.post_form("/admin/agreements", &p.council_admin, &agreement_form(&long_title, "2099-06-30", "")).await;
    reply.assert_refused(&["id=\"title-error\"", "at most 200 characters (it has 201)"]);
    // 2,001 two-byte letters: over the purpose's 2,000 characters.
    let purpose = "é".repeat(2001);
    let mut fields = agreement_form("Fine", "2099-06-30", "");
    fields[1] = ("purpose", &purpose);
    let reply = app.post_form("/admin/agreements", &p.council_admin, &fields).await;
    reply.assert_refused(&["id=\"purpose-error\"", "at most 2000 characters"]);
    // Bytes: 200 four-byte characters fit the title; 10,000 bytes are refused unread.
    let emoji_title = "🛡".repeat(200);
    let huge = "x".repeat(10_000);
    let mut fields = agreement_form(&emoji_title, "2099-06-30", "");
    fields[6] = ("dpia_date", &huge);
    let reply = app.post_form("/admin/agreements", &p.council_admin, &fields).await;
    reply.assert_refused(&["id=\"dpia_date-error\"", "bytes of text were sent"]);
    assert!(app.db.agreements().await.expect("agreements").is_empty(), "nothing stored");
    let reply =
        app.post_form("/admin/agreements", &p.council_admin, &agreement_form(&emoji_title, "2099-06-30", "")).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "200 characters of 4 bytes fit: {}", reply.body);
    let id = app.db.agreements().await.expect("agreements")[0].id.to_string();

    // The grant form's dataset, the owner form's dataset, the DPIA's fields.
    let long_slug = "d".repeat(101);
    let council = p.council.to_string();
    let reply = app
        .post_form(
            "/admin/grants",
            &p.council_admin,
            &[("agreement_id", &id), ("org_id", &council), ("dataset", &long_slug), ("level", "aggregate")],
        )
        .await;
    reply.assert_refused(&["id=\"grant-dataset-error\"", "at most 100 characters"]);
    assert!(!reply.body.contains(&long_slug), "the oversized value is not echoed into the message");
    let reply =
        app.post_form("/admin/datasets", &p.council_admin, &[("dataset", &long_slug), ("org_id", &council)]).await;
    reply.assert_refused(&["id=\"owner-dataset-error\""]);
    let summary = "s".repeat(4001);
    let dpia = [
        ("title", "ED DPIA"),
        ("datasets", "ed-assaults"),
        ("completed_on", "2026-01-15"),
        ("review_date", "2027-01-15"),
        ("summary", summary.as_str()),
    ];
    let reply = app.post_form("/admin/dpias", &p.council_admin, &dpia).await;
    reply.assert_refused(&["id=\"summary-error\"", "at most 4000 characters"]);
    let long_datasets = "e".repeat(501);
    let dpia = [
        ("title", "ED DPIA"),
        ("datasets", long_datasets.as_str()),
        ("completed_on", "2026-01-15"),
        ("review_date", "2027-01-15"),
        ("summary", "ok"),
    ];
    let reply = app.post_form("/admin/dpias", &p.council_admin, &dpia).await;
    reply.assert_refused(&["id=\"dpia-datasets-error\""]);
    assert!(app.db.dpias().await.expect("dpias").is_empty());
    assert!(app.db.grants().await.expect("grants").is_empty());
    // The edit form is bounded the same way.
    let reply = app
        .post_form(&format!("/admin/agreements/{id}"), &p.council_admin, &agreement_form(&long_title, "2099-06-30", ""))
        .await;
    reply.assert_refused(&["id=\"title-error\""]);
    let _ = &p.health_admin;
}
on_each_app!(data_sharing_fields_are_bounded);
