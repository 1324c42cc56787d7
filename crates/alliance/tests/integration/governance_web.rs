//! Governance on the web, as a new user would meet it: the demo loads the strategy; staff
//! add actions through the form; a partner user posts a progress update on their
//! organisation's action and is refused (403, and no form offered) on another's; a quarter's
//! indicator values are entered through the form (and bad input answers with an error
//! summary naming the field); spend is recorded; a Delivery Group meeting escalates an item
//! and agrees an action that joins the plan; and the Board pack page and the dashboard show
//! RAG counts, escalations and funding totals that match what was entered. A second scenario
//! (`forms_scenario`) drives the staff forms for priorities, commitments, indicators and their
//! targets, funding streams, amounts and allocations, and the indicator values file upload;
//! it ends with `funding_edits`: over-allocation flagged on /funding and in the pack, and
//! streams and allocations changed and deleted.

use crate::common;

use alliance_core::access::{OrgType, Role};
use alliance_core::governance::{
    ActionStatus, Direction, Frequency, IndicatorKind, IndicatorSource, MeetingBody, Quarter, TargetStatus,
};
use alliance_db::governance::NewIndicator;
use alliance_db::Db;
use axum::http::StatusCode;
use common::app::{Caller, Reply, TestApp};

async fn post(app: &TestApp, who: &Caller, path: &str, fields: &[(&str, &str)]) -> Reply {
    app.post_form(path, who, fields).await
}

async fn get(app: &TestApp, who: &Caller, path: &str) -> Reply {
    app.get(path, who).await
}

/// Where a redirect points.
fn location(reply: &Reply) -> Option<String> {
    reply.header("location").map(str::to_string)
}

/// The caller without their CSRF token (a form posted from elsewhere).
fn without_token(who: &Caller) -> Caller {
    Caller { csrf: String::new(), ..who.clone() }
}

/// The id at the end of a redirect like `/actions/7` or `/actions/7#updates`.
fn id_in(reply: &Reply) -> i64 {
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", &reply.body[..reply.body.len().min(2000)]);
    let to = location(reply).expect("a redirect");
    to.split('#').next().unwrap().rsplit('/').next().unwrap().parse().expect("an id")
}

/// The demo partnership with the two partner organisations both scenarios name, and the
/// people they act as: the Alliance's analyst, a police officer (a partner user) and a Board
/// member from the council.
struct Partnership {
    db: Db,
    police: i64,
    council: i64,
    analyst: Caller,
    officer: Caller,
    board: Caller,
}

async fn demo_partnership(app: &TestApp) -> Partnership {
    let db = app.db.clone();
    alliance::demo::load_if_empty(&db).await.expect("demo loads");
    let police = db.create_organisation("Staffordshire Police", OrgType::Police, &common::test_actor()).await.unwrap();
    let council =
        db.create_organisation("Stoke-on-Trent City Council", OrgType::Council, &common::test_actor()).await.unwrap();
    let analyst = app.signed_in("analyst@alliance.example", Role::Analyst, "Violence Reduction Alliance").await;
    let officer = app.signed_in("officer@police.example", Role::PartnerUser, "Staffordshire Police").await;
    let board = app.signed_in("chair@board.example", Role::BoardMember, "Stoke-on-Trent City Council").await;
    Partnership { db, police, council, analyst, officer, board }
}

async fn governance_web(app: TestApp) {
    let Partnership { db, police, council, analyst, officer, board } = demo_partnership(&app).await;
    let council_user = app.signed_in("officer@council.example", Role::PartnerUser, "Stoke-on-Trent City Council").await;
    let today = alliance_db::clock::today();
    let quarter = Quarter::of_date(&today).unwrap();

    // The strategy page lists the seeded priorities; staff add a commitment.
    let strategy = get(&app, &board, "/strategy").await;
    assert_eq!(strategy.status, StatusCode::OK);
    assert!(strategy.body.contains("Tertiary prevention") && strategy.body.contains("Contextual prevention"));
    assert!(!strategy.body.contains("action=\"/strategy/commitments\""), "board members are not offered the form");
    let s = db.strategies().await.unwrap().remove(0);
    let priorities = db.priorities(s.id).await.unwrap();
    let bad =
        post(&app, &analyst, "/strategy/commitments", &[("priority", &priorities[0].id.to_string()), ("text", " ")])
            .await;
    bad.assert_refused(&["govuk-error-summary", "href=\"#text\""]);
    let added = post(
        &app,
        &analyst,
        "/strategy/commitments",
        &[("priority", &priorities[0].id.to_string()), ("text", "run a campaign with the football clubs")],
    )
    .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER);
    assert_eq!(db.commitments(s.id).await.unwrap().len(), 47);
    let commitment = db.commitments(s.id).await.unwrap().into_iter().find(|c| c.text.contains("'Navigator'")).unwrap();
    let c = commitment.id.to_string();

    // Staff add two actions through the form; a bad one names its fields.
    let bad = post(&app, &analyst, "/actions", &[("commitment", &c), ("title", ""), ("status", "on-track")]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    for field in ["title", "owner", "lead_person"] {
        assert!(bad.body.contains(&format!("href=\"#{field}\"")), "error summary names {field}");
    }
    let (p, co) = (police.to_string(), council.to_string());
    // A rule the storage layer checks (due before start) names its field and keeps what was typed.
    let bad = post(
        &app,
        &analyst,
        "/actions",
        &[
            ("commitment", &c),
            ("title", "Backwards dates"),
            ("owner", &p),
            ("lead_person", "A. Lead"),
            ("status", "on-track"),
            ("start_date-day", "31"),
            ("start_date-month", "3"),
            ("start_date-year", "2027"),
            ("due_date-day", "30"),
            ("due_date-month", "March"),
            ("due_date-year", "2026"),
        ],
    )
    .await;
    bad.assert_refused(&["href=\"#due_date-day\"", "before the start date"]);
    assert!(bad.body.contains("The due date 30 March 2026 is before the start date 31 March 2027"), "UK dates");
    assert!(bad.body.contains("value=\"Backwards dates\"") && bad.body.contains("value=\"March\""), "kept as typed");
    assert!(bad.body.contains("class=\"govuk-date-input\" id=\"due_date\""), "a GOV.UK date input");
    assert!(db.actions().await.unwrap().iter().all(|a| a.title != "Backwards dates"), "nothing stored");
    let action = |title: &'static str, owner: &'static str| {
        vec![
            ("commitment", c.as_str()),
            ("title", title),
            ("owner", owner),
            ("lead_person", "A. Lead"),
            ("status", "on-track"),
            ("due_date", "2027-03-31"),
        ]
    };
    let mut police_fields = action("Navigators in A&E", "");
    police_fields[2].1 = &p;
    let navigators = id_in(&post(&app, &analyst, "/actions", &police_fields).await);
    let mut council_fields = action("Schools charter", "");
    council_fields[2].1 = &co;
    council_fields[4].1 = "not-started";
    let charter = id_in(&post(&app, &analyst, "/actions", &council_fields).await);
    assert_eq!(post(&app, &officer, "/actions", &police_fields).await.status, StatusCode::FORBIDDEN);

    // The analyst opens the action's edit form; the officer's update lands before it is sent.
    let edit = get(&app, &analyst, &format!("/actions/{navigators}/edit")).await;
    let version = edit.body.split("name=\"version\" value=\"").nth(1).and_then(|r| r.split('"').next());
    let version = version.expect("the edit form carries the version it was opened on").to_string();

    // The police officer updates the police's action ...
    let page = get(&app, &officer, &format!("/actions/{navigators}")).await;
    assert!(page.body.contains(&format!("action=\"/actions/{navigators}/updates\"")));
    let updated = post(
        &app,
        &officer,
        &format!("/actions/{navigators}/updates"),
        &[("update_on_date", &today), ("update_status", "at-risk"), ("update_note", "Recruitment delayed")],
    )
    .await;
    assert_eq!(updated.status, StatusCode::SEE_OTHER);
    let a = db.action(navigators).await.unwrap().unwrap();
    assert_eq!(a.status, ActionStatus::AtRisk);
    let history = db.action_history(Some(navigators)).await.unwrap();
    assert!(history.iter().any(|h| h.field == "status"
        && h.new_value.as_deref() == Some("at-risk")
        && h.by_user == "user:officer@police.example"));
    let page = get(&app, &officer, &format!("/actions/{navigators}")).await;
    assert!(page.body.contains("Recruitment delayed") && page.body.contains("Status changed from On track to At risk"));
    // The analyst's form, opened before the update, still says on track: sent now it is
    // refused, not saved over the officer's at risk.
    let mut stale = police_fields.clone();
    stale.push(("description", "Now with two navigators"));
    stale.push(("version", &version));
    let refused = post(&app, &analyst, &format!("/actions/{navigators}/edit"), &stale).await;
    refused.assert_refused(&["changed by someone else after you opened it"]);
    let a = db.action(navigators).await.unwrap().unwrap();
    assert_eq!((a.status, a.description.as_str()), (ActionStatus::AtRisk, ""), "nothing of the stale form saved");
    // Opened again, the form carries the new version and saves.
    let edit = get(&app, &analyst, &format!("/actions/{navigators}/edit")).await;
    let fresh =
        edit.body.split("name=\"version\" value=\"").nth(1).and_then(|r| r.split('"').next()).unwrap().to_string();
    let mut current = police_fields.clone();
    current[4].1 = "at-risk";
    current.push(("description", "Now with two navigators"));
    current.push(("version", &fresh));
    assert_eq!(
        post(&app, &analyst, &format!("/actions/{navigators}/edit"), &current).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(db.action(navigators).await.unwrap().unwrap().description, "Now with two navigators");
    // A forged commitment or owner is refused on its field, not stored and not a fault.
    let mut forged = police_fields.clone();
    forged[0].1 = "999999";
    post(&app, &analyst, "/actions", &forged).await.assert_refused(&["href=\"#commitment\""]);
    let mut forged = police_fields.clone();
    forged[2].1 = "999999";
    post(&app, &analyst, "/actions", &forged).await.assert_refused(&["href=\"#owner\""]);
    // ... and is refused on the council's: no form offered, and 403 on POST, nothing stored.
    let theirs = get(&app, &officer, &format!("/actions/{charter}")).await;
    assert_eq!(theirs.status, StatusCode::OK);
    assert!(!theirs.body.contains(&format!("action=\"/actions/{charter}/updates\"")));
    let refused = post(
        &app,
        &officer,
        &format!("/actions/{charter}/updates"),
        &[("update_on_date", &today), ("update_status", "complete"), ("update_note", "Done")],
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(db.action(charter).await.unwrap().unwrap().status, ActionStatus::NotStarted);
    assert!(db.action_updates(charter).await.unwrap().is_empty());
    let as_board = post(&app, &board, &format!("/actions/{navigators}/updates"), &[("update_note", "x")]).await;
    assert_eq!(as_board.status, StatusCode::FORBIDDEN);
    // A bad update names the field.
    let bad = post(
        &app,
        &officer,
        &format!("/actions/{navigators}/updates"),
        &[
            ("update_on_date-day", "31"),
            ("update_on_date-month", "9"),
            ("update_on_date-year", "2025"),
            ("update_status", "at-risk"),
            ("update_note", "x"),
        ],
    )
    .await;
    bad.assert_refused(&["href=\"#update_on_date-day\"", "must be a real date"]);
    // A date posted whole (a script, an older form) is checked by the storage layer, and its
    // error lands on the date input too.
    let bad = post(
        &app,
        &officer,
        &format!("/actions/{navigators}/updates"),
        &[("update_on_date", "31/09/2025"), ("update_status", "at-risk"), ("update_note", "x")],
    )
    .await;
    bad.assert_refused(&["href=\"#update_on_date-day\"", "is not a date"]);
    // "Our actions" shows the organisation's own only.
    let ours = get(&app, &officer, "/our-actions").await;
    assert!(ours.body.contains("Navigators in A") && !ours.body.contains("Schools charter"));
    // Staff escalate the police action to the Board from the plan.
    let escalated = post(
        &app,
        &analyst,
        &format!("/actions/{navigators}/escalations"),
        &[("escalation_on", &today), ("escalation_note", "No recruits by next month")],
    )
    .await;
    assert_eq!(escalated.status, StatusCode::SEE_OTHER);

    // Indicators: the council enters its own; the police officer cannot; the analyst uploads.
    for (code, owner) in [("people-reached", council), ("charter-venues", council)] {
        db.create_indicator(
            &NewIndicator {
                target: Some(if code == "people-reached" { 500.0 } else { 20.0 }),
                tolerance: Some(if code == "people-reached" { 50.0 } else { 5.0 }),
                owner_org_id: Some(owner),
                priority_id: Some(priorities[2].id),
                ..common::governance::entered_indicator(code, code)
            },
            &common::test_actor(),
        )
        .await
        .unwrap();
    }
    let reached = db.indicator_by_code("people-reached").await.unwrap().unwrap();
    let venues = db.indicator_by_code("charter-venues").await.unwrap().unwrap();
    let q = quarter.to_string();
    let bad = post(
        &app,
        &council_user,
        &format!("/indicators/{}/values", reached.id),
        &[("period", "Q3"), ("value", "lots")],
    )
    .await;
    bad.assert_refused(&["href=\"#period\"", "href=\"#value\""]);
    assert!(bad.body.contains("Enter the value as a number"));
    let entered =
        post(&app, &council_user, &format!("/indicators/{}/values", reached.id), &[("period", &q), ("value", "430")])
            .await;
    assert_eq!(entered.status, StatusCode::SEE_OTHER);
    let refused =
        post(&app, &officer, &format!("/indicators/{}/values", venues.id), &[("period", &q), ("value", "1")]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let bad_csv = format!("code,period,value\ncharter-venues,{q},eighteen\n");
    let bad = post(&app, &analyst, "/indicators/upload", &[("csv", &bad_csv)]).await;
    bad.assert_refused(&["href=\"#csv\"", ":2: column", "eighteen"]);
    let csv = format!("code,period,value,note\ncharter-venues,{q},18,from the licensing team\n");
    assert_eq!(post(&app, &analyst, "/indicators/upload", &[("csv", &csv)]).await.status, StatusCode::SEE_OTHER);
    let computed = db.indicator_by_code("vso-per-1000-12m").await.unwrap().unwrap();
    let page = get(&app, &analyst, &format!("/indicators/{}", computed.id)).await;
    assert!(page.body.contains("id=\"computed\"") && !page.body.contains("/values\""));
    let typed =
        post(&app, &analyst, &format!("/indicators/{}/values", computed.id), &[("period", &q), ("value", "1")]).await;
    assert_eq!(typed.status, StatusCode::FORBIDDEN);
    let list = get(&app, &board, "/indicators").await;
    assert!(list.body.contains("id=\"rule\"") && list.body.contains("Off target"));

    // Funding: a stream and two allocations; spend recorded through the form.
    let fy = quarter.financial_year().to_string();
    let actor = common::test_actor();
    let svd = db.create_funding_stream("Serious Violence Duty grant", "Home Office", &actor).await.unwrap();
    db.set_funding_amount(svd, &fy, 10_000_000, &actor).await.unwrap();
    let al1 = db.create_allocation(svd, &fy, Some(police), None, "Navigators", 4_000_000, None, &actor).await.unwrap();
    let al2 = db.create_allocation(svd, &fy, Some(council), None, "Charter", 2_000_000, None, &actor).await.unwrap();
    let bad =
        post(&app, &analyst, "/funding/spend", &[("allocation", &al1.to_string()), ("quarter", &q), ("amount", "ten")])
            .await;
    bad.assert_refused(&["href=\"#amount\""]);
    for (al, amount, evaluation) in [(al1, "7500", "750.50"), (al2, "2,500.00", "")] {
        let r = post(
            &app,
            &analyst,
            "/funding/spend",
            &[("allocation", &al.to_string()), ("quarter", &q), ("amount", amount), ("evaluation", evaluation)],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    }
    assert_eq!(post(&app, &officer, "/funding/spend", &[]).await.status, StatusCode::FORBIDDEN);

    // A Delivery Group meeting: an escalation, and an action arising that joins the plan.
    let bad = post(
        &app,
        &analyst,
        "/meetings",
        &[
            ("body", "delivery-group"),
            ("held_on", &today),
            ("title", "DG"),
            ("attendees", "Fire Service, Watch manager"),
        ],
    )
    .await;
    bad.assert_refused(&["href=\"#attendees\"", "Fire Service"]);
    let meeting = id_in(
        &post(
            &app,
            &analyst,
            "/meetings",
            &[
                ("body", "delivery-group"),
                ("held_on", &today),
                ("title", "Delivery Group"),
                ("attendees", "Staffordshire Police, Inspector\nStoke-on-Trent City Council, Director"),
            ],
        )
        .await,
    );
    let item = post(
        &app,
        &analyst,
        &format!("/meetings/{meeting}/items"),
        &[("kind", "escalation"), ("text", "Navigator funding gap from April")],
    )
    .await;
    assert_eq!(item.status, StatusCode::SEE_OTHER);
    let arising = post(
        &app,
        &analyst,
        &format!("/meetings/{meeting}/items"),
        &[
            ("kind", "action"),
            ("text", "Map taxi ranks"),
            ("commitment", &c),
            ("owner", &p),
            ("lead_person", "Sergeant"),
        ],
    )
    .await;
    assert_eq!(arising.status, StatusCode::SEE_OTHER);
    let plan = db.actions().await.unwrap();
    let taxi = plan.iter().find(|a| a.title == "Map taxi ranks").expect("the action arising is in the plan");
    assert_eq!((taxi.owner_org_id, taxi.status), (police, ActionStatus::NotStarted));
    let meetings = get(&app, &analyst, "/meetings").await;
    for body in MeetingBody::ALL {
        assert!(meetings.body.contains(&format!("value=\"{}\"", body.code())), "the form offers {body}");
    }
    let m = get(&app, &board, &format!("/meetings/{meeting}")).await;
    assert!(m.body.contains(&format!("href=\"/actions/{}\"", taxi.id)) && m.body.contains("Inspector"));

    // The Board pack: RAG counts, escalations and funding totals match what was entered.
    let pack = alliance_web::views::board_pack::BoardPack::load(&db, quarter, "Test").await.unwrap();
    assert_eq!(pack.actions_total, 3);
    assert_eq!(pack.rag_count(ActionStatus::AtRisk), 1);
    assert_eq!(pack.rag_count(ActionStatus::NotStarted), 2);
    assert_eq!(pack.rag_count(ActionStatus::OnTrack), 0);
    let escalations: Vec<&str> = pack.escalations.iter().map(|e| e.text.as_str()).collect();
    assert_eq!(escalations.len(), 2, "{escalations:?}");
    assert!(escalations.contains(&"Navigator funding gap from April"));
    assert!(escalations.contains(&"Navigators in A&E: No recruits by next month"));
    assert_eq!(pack.indicator("people-reached").unwrap().status, TargetStatus::OffTarget);
    assert_eq!(pack.indicator("charter-venues").unwrap().status, TargetStatus::WithinTolerance);
    let f = &pack.funding;
    assert_eq!((f.available_pence, f.allocated_pence), (10_000_000, 6_000_000));
    assert_eq!((f.spent_in_quarter_pence, f.evaluation_pence), (1_000_000, 75_050));
    let html = get(&app, &board, &format!("/board-pack/{q}")).await;
    assert_eq!(html.status, StatusCode::OK);
    for text in [
        "£100,000.00",
        "£60,000.00",
        "£10,000.00",
        "£750.50",
        "Navigator funding gap from April",
        "No recruits by next month",
    ] {
        assert!(html.body.contains(text), "the pack shows {text}");
    }
    // The dashboard shows the pack's figures and links to each priority.
    let dash = get(&app, &board, &format!("/governance?quarter={q}")).await;
    assert_eq!(dash.status, StatusCode::OK);
    assert!(dash.body.contains("data-status=\"at-risk\">1<") && dash.body.contains("data-status=\"not-started\">2<"));
    assert!(dash.body.contains("Escalations to the Board (2)") && dash.body.contains("£60,000.00"));
    assert!(dash.body.contains(&format!("href=\"/actions?priority={}\"", priorities[3].id)));
    assert!(dash.body.contains("href=\"/our-actions\""), "the navigation links the governance pages");
    let bad = get(&app, &board, "/governance?quarter=Q9").await;
    bad.assert_refused(&["href=\"#quarter\""]);
    // Filters.
    let filtered = get(&app, &board, &format!("/actions?owner={council}&status=not-started")).await;
    assert!(filtered.body.contains("Schools charter") && !filtered.body.contains("Map taxi ranks"));

    // Every change was audited.
    let audit = governance_changes(&db).await;
    assert!(audit
        .iter()
        .any(|e| e.actor == "user:officer@police.example" && e.target == format!("/actions/{navigators}")));
    assert!(audit.len() >= 10, "{} audited changes", audit.len());
}

crate::on_each_app!(governance_web);

/// A multipart form (the indicator values upload) with the visitor's CSRF token first, as a
/// browser sends it, and one file.
async fn post_file(app: &TestApp, who: &Caller, path: &str, fields: &[(&str, &str)], file: (&str, &[u8])) -> Reply {
    let mut all = vec![("csrf_token", who.csrf.as_str())];
    all.extend_from_slice(fields);
    let (content_type, body) = common::http::multipart(&all, ("file", file.0, file.1));
    app.post_bytes(path, who, &content_type, body).await
}

/// [`post`] with owned values.
async fn post_owned(app: &TestApp, who: &Caller, path: &str, fields: &[(&str, String)]) -> Reply {
    app.post_owned(path, who, fields).await
}

async fn governance_changes(db: &Db) -> Vec<alliance_db::audit::AuditEntry> {
    common::audit_rows(db, alliance_db::governance::GOVERNANCE_CHANGE).await
}

/// The staff forms that close issue 7's gaps: changing a priority and a commitment, adding
/// an indicator (entered or computed) and changing its target, funding streams, amounts and
/// allocations, and indicator values uploaded as a CSV file. Each: success changes what the
/// page shows; bad input answers 422 with the error summary and changes nothing; other roles
/// are refused with 403 and change nothing.
async fn governance_forms(app: TestApp) {
    let Partnership { db, police, council, analyst, officer, board } = demo_partnership(&app).await;
    let quarter = Quarter::of_date(&alliance_db::clock::today()).unwrap();
    let q = quarter.to_string();

    // ---- Strategy: a priority's name and description; a commitment's words.
    let s = db.strategies().await.unwrap().remove(0);
    let first = db.priorities(s.id).await.unwrap().remove(0);
    let url = format!("/strategy/priorities/{}", first.id);
    let strategy = get(&app, &analyst, "/strategy").await;
    assert!(strategy.body.contains(&format!("href=\"{url}\"")), "staff are offered the change link");
    assert!(!get(&app, &board, "/strategy").await.body.contains(&format!("href=\"{url}\"")));
    let form_page = get(&app, &analyst, &url).await;
    assert_eq!(form_page.status, StatusCode::OK);
    assert!(form_page.body.contains(&format!("value=\"{}\"", first.name)), "the form shows the current name");
    for who in [&board, &officer] {
        assert_eq!(get(&app, who, &url).await.status, StatusCode::FORBIDDEN);
        let refused = post(&app, who, &url, &[("name", "Renamed by the wrong person"), ("description", "x")]).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
    }
    let bad = post(&app, &analyst, &url, &[("name", "  "), ("description", "Something else")]).await;
    bad.assert_refused(&["govuk-error-summary", "href=\"#name\""]);
    assert!(bad.body.contains("id=\"name-error\"") && bad.body.contains("Enter the priority"));
    let unchanged = db.priorities(s.id).await.unwrap().remove(0);
    assert_eq!(
        (unchanged.name.as_str(), unchanged.description.as_str()),
        (first.name.as_str(), first.description.as_str())
    );
    let renamed = post(
        &app,
        &analyst,
        &url,
        &[("name", "Attitudinal and cultural change"), ("description", "Changing what young people think is normal.")],
    )
    .await;
    assert_eq!(renamed.status, StatusCode::SEE_OTHER);
    assert_eq!(location(&renamed), Some(format!("/strategy#priority-{}", first.id)));
    let strategy = get(&app, &board, "/strategy").await;
    assert!(strategy.body.contains("Attitudinal and cultural change"));
    assert!(strategy.body.contains("Changing what young people think is normal."));
    let audit = governance_changes(&db).await;
    let entry = audit.iter().find(|e| e.target == url).expect("the priority change is audited");
    assert!(entry.detail.contains(&format!("name changed from \"{}\"", first.name)), "{}", entry.detail);
    assert_eq!(entry.actor, "user:analyst@alliance.example");
    // A commitment's words, kept in the audit log before and after.
    let c = db.commitments(s.id).await.unwrap().remove(0);
    let c_url = format!("/strategy/commitments/{}", c.id);
    assert_eq!(post(&app, &officer, &c_url, &[("text", "x")]).await.status, StatusCode::FORBIDDEN);
    assert_eq!(post(&app, &analyst, &c_url, &[("text", "")]).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(db.commitments(s.id).await.unwrap()[0].text, c.text);
    let changed =
        post(&app, &analyst, &c_url, &[("text", "work with every secondary school on healthy relationships")]).await;
    assert_eq!(changed.status, StatusCode::SEE_OTHER);
    assert!(get(&app, &board, "/strategy")
        .await
        .body
        .contains("work with every secondary school on healthy relationships"));
    let audit = governance_changes(&db).await;
    assert!(audit.iter().any(|e| e.target == c_url && e.detail.contains(&c.text)), "the old words are kept");
    // A commitment under a priority that is not offered is refused with an error.
    let n = db.commitments(s.id).await.unwrap().len();
    let bad = post(&app, &analyst, "/strategy/commitments", &[("priority", "999999"), ("text", "something")]).await;
    bad.assert_refused(&["href=\"#priority\""]);
    assert_eq!(db.commitments(s.id).await.unwrap().len(), n);

    // ---- Indicators: the form to add one.
    let before = db.indicators().await.unwrap().len();
    assert_eq!(get(&app, &board, "/indicators/new").await.status, StatusCode::FORBIDDEN);
    assert!(get(&app, &analyst, "/indicators").await.body.contains("href=\"/indicators/new\""));
    assert!(!get(&app, &board, "/indicators").await.body.contains("href=\"/indicators/new\""));
    let new_form = get(&app, &analyst, "/indicators/new").await;
    assert_eq!(new_form.status, StatusCode::OK);
    assert!(new_form.body.contains("name=\"kind\"") && new_form.body.contains("Robbery"));
    // The form offers every code of the core's lists, which are what the storage layer accepts.
    for code in IndicatorKind::ALL.iter().map(|k| k.code()).chain(Frequency::ALL.iter().map(|f| f.code())) {
        assert!(new_form.body.contains(&format!("value=\"{code}\"")), "the form offers {code}");
    }
    let council_id = council.to_string();
    let good = [
        ("name", "Mentoring sessions delivered"),
        ("code", "mentoring-sessions"),
        ("kind", "output"),
        ("definition", "Sessions delivered by the mentoring provider, from its monthly return"),
        ("unit", "sessions"),
        ("frequency", "quarterly"),
        ("direction", "up"),
        ("source", "entered"),
        ("crime_type", ""),
        ("baseline", "30"),
        ("baseline_period", "2024/25"),
        ("target", "40"),
        ("tolerance", "5"),
        ("owner", council_id.as_str()),
        ("priority", ""),
    ];
    let refused = post(&app, &officer, "/indicators", &good).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    /// The good form with some fields changed.
    fn edited<'a>(good: &[(&'a str, &'a str)], changes: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
        good.iter().map(|(k, v)| (*k, changes.iter().find(|(c, _)| c == k).map_or(*v, |(_, n)| *n))).collect()
    }
    let with = |changes: &[(&'static str, &'static str)]| edited(&good, changes);
    let bad = post(
        &app,
        &analyst,
        "/indicators",
        &with(&[("code", "Mentoring Sessions"), ("kind", ""), ("target", "lots"), ("baseline_period", "last year")]),
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    for field in ["code", "kind", "target", "baseline_period"] {
        assert!(bad.body.contains(&format!("href=\"#{field}\"")), "the summary links {field}");
        assert!(bad.body.contains(&format!("id=\"{field}-error\"")), "{field} has its error message");
    }
    assert!(bad.body.contains("value=\"Mentoring sessions delivered\""), "what was typed is kept");
    let bad = post(&app, &analyst, "/indicators", &with(&[("source", "rate-12m"), ("tolerance", "-2")])).await;
    bad.assert_refused(&["href=\"#crime_type\"", "href=\"#tolerance\""]);
    assert_eq!(db.indicators().await.unwrap().len(), before, "nothing was created by refused or bad forms");
    let created = post(&app, &analyst, "/indicators", &good).await;
    let mentoring = id_in(&created);
    let ind = db.indicator(mentoring).await.unwrap().unwrap();
    assert_eq!(ind.source, IndicatorSource::Entered);
    assert_eq!((ind.kind.as_str(), ind.direction), ("output", Direction::Up));
    assert_eq!((ind.baseline, ind.target, ind.tolerance), (Some(30.0), Some(40.0), Some(5.0)));
    assert_eq!((ind.baseline_period.as_deref(), ind.owner_org_id), (Some("2024/25"), Some(council)));
    let page = get(&app, &board, &format!("/indicators/{mentoring}")).await;
    assert!(page.body.contains("Mentoring sessions delivered") && page.body.contains("30 (2024/25)"));
    assert!(!page.body.contains("/target\""), "board members are not offered the target form");
    let duplicate = post(&app, &analyst, "/indicators", &good).await;
    duplicate.assert_refused(&["href=\"#code\"", "There is already an indicator"]);
    // A computed indicator is created computed, and its values can never be typed.
    let robbery = id_in(
        &post(
            &app,
            &analyst,
            "/indicators",
            &with(&[
                ("name", "Robbery in the quarter"),
                ("code", "robbery-quarter"),
                ("kind", "outcome"),
                ("unit", "crimes"),
                ("direction", "down"),
                ("source", "quarter-count"),
                ("crime_type", "Robbery"),
                ("owner", ""),
            ]),
        )
        .await,
    );
    let ind = db.indicator(robbery).await.unwrap().unwrap();
    assert_eq!(ind.source.as_string(), "computed:police;measure=count;select=crime-type:Robbery");
    let page = get(&app, &analyst, &format!("/indicators/{robbery}")).await;
    assert!(page.body.contains("id=\"computed\"") && !page.body.contains("/values\""));
    let typed = post(&app, &analyst, &format!("/indicators/{robbery}/values"), &[("period", &q), ("value", "3")]).await;
    assert_eq!(typed.status, StatusCode::FORBIDDEN);

    // ---- An indicator's baseline, target and tolerance.
    let t_url = format!("/indicators/{mentoring}/target");
    assert!(get(&app, &analyst, &format!("/indicators/{mentoring}")).await.body.contains(&format!("href=\"{t_url}\"")));
    let t_page = get(&app, &analyst, &t_url).await;
    assert_eq!(t_page.status, StatusCode::OK);
    assert!(t_page.body.contains("value=\"40\"") && t_page.body.contains("value=\"2024/25\""));
    for who in [&board, &officer] {
        assert_eq!(get(&app, who, &t_url).await.status, StatusCode::FORBIDDEN);
        assert_eq!(post(&app, who, &t_url, &[("target", "1")]).await.status, StatusCode::FORBIDDEN);
    }
    let bad = post(&app, &analyst, &t_url, &[("baseline", "30"), ("target", "forty-five"), ("tolerance", "-1")]).await;
    bad.assert_refused(&["href=\"#target\"", "href=\"#tolerance\""]);
    assert_eq!(db.indicator(mentoring).await.unwrap().unwrap().target, Some(40.0), "nothing changed");
    let set = post(
        &app,
        &analyst,
        &t_url,
        &[("baseline", "32"), ("baseline_period", "2024q4"), ("target", "45"), ("tolerance", "")],
    )
    .await;
    assert_eq!(set.status, StatusCode::SEE_OTHER);
    let ind = db.indicator(mentoring).await.unwrap().unwrap();
    assert_eq!((ind.baseline, ind.target, ind.tolerance), (Some(32.0), Some(45.0), None));
    assert_eq!(ind.baseline_period.as_deref(), Some("2024Q4"));
    let page = get(&app, &board, &format!("/indicators/{mentoring}")).await;
    assert!(page.body.contains("32 (2024Q4)") && page.body.contains(">45<"), "the page shows the new figures");
    // The computed indicator takes a target too (a target is not a value).
    let set = post(&app, &analyst, &format!("/indicators/{robbery}/target"), &[("target", "120")]).await;
    assert_eq!(set.status, StatusCode::SEE_OTHER);
    assert_eq!(db.indicator(robbery).await.unwrap().unwrap().target, Some(120.0));
    let audit = governance_changes(&db).await;
    let entry = audit.iter().find(|e| e.detail.starts_with("indicator mentoring-sessions:")).expect("audited");
    assert!(entry.detail.contains("target 40 → 45") && entry.detail.contains("tolerance 5 → none"), "{}", entry.detail);

    // ---- Indicator values as an uploaded CSV file.
    let list = get(&app, &analyst, "/indicators").await;
    assert!(list.body.contains("enctype=\"multipart/form-data\"") && list.body.contains("type=\"file\""));
    let unknown = format!("code,period,value\nmentoring-sessions,{q},12\nno-such-indicator,{q},3\n");
    let bad = post_file(&app, &analyst, "/indicators/upload", &[("csv", "")], ("values.csv", unknown.as_bytes())).await;
    bad.assert_refused(&["href=\"#file\"", "id=\"file-error\""]);
    assert!(bad.body.contains("values.csv:3: column") && bad.body.contains("no-such-indicator"), "line, field, reason");
    let not_a_number = format!("code,period,value\nmentoring-sessions,{q},twelve\n");
    let bad =
        post_file(&app, &analyst, "/indicators/upload", &[("csv", "")], ("values.csv", not_a_number.as_bytes())).await;
    bad.assert_refused(&["values.csv:2: column", "twelve"]);
    let computed = format!("code,period,value\nrobbery-quarter,{q},3\n");
    let bad =
        post_file(&app, &analyst, "/indicators/upload", &[("csv", "")], ("values.csv", computed.as_bytes())).await;
    bad.assert_refused(&["computed from imported data"]);
    let bad = post_file(
        &app,
        &analyst,
        "/indicators/upload",
        &[("csv", "")],
        ("values.csv", b"code,period,value\nmentoring-sessions,2025Q3,\xff\n"),
    )
    .await;
    bad.assert_refused(&["not UTF-8"]);
    let nothing = post_file(&app, &analyst, "/indicators/upload", &[("csv", "")], ("", b"")).await;
    nothing.assert_refused(&["href=\"#file\"", "Choose a CSV file"]);
    assert!(!db.indicator_values().await.unwrap().contains_key(&mentoring), "bad files store nothing");
    // The CSRF token is checked on the multipart form too; other roles are refused.
    let good_csv = format!("code,period,value,note\nmentoring-sessions,{q},12,from the provider\n");
    let (content_type, body) = common::http::multipart(&[], ("file", "v.csv", good_csv.as_bytes()));
    let no_token = app.post_bytes("/indicators/upload", &without_token(&analyst), &content_type, body).await;
    assert_eq!(no_token.status, StatusCode::FORBIDDEN);
    let forged = Caller { csrf: "0".repeat(64), ..analyst.clone() };
    let wrong_token = post_file(&app, &forged, "/indicators/upload", &[], ("v.csv", good_csv.as_bytes())).await;
    assert_eq!(wrong_token.status, StatusCode::FORBIDDEN);
    let partner = post_file(&app, &officer, "/indicators/upload", &[], ("v.csv", good_csv.as_bytes())).await;
    assert_eq!(partner.status, StatusCode::FORBIDDEN);
    assert!(!db.indicator_values().await.unwrap().contains_key(&mentoring), "refused uploads store nothing");
    let uploaded =
        post_file(&app, &analyst, "/indicators/upload", &[("csv", "")], ("values.csv", good_csv.as_bytes())).await;
    assert_eq!(uploaded.status, StatusCode::SEE_OTHER, "{}", &uploaded.body[..uploaded.body.len().min(3000)]);
    assert_eq!(location(&uploaded).as_deref(), Some("/indicators"));
    let stored = db.indicator_values().await.unwrap().remove(&mentoring).expect("stored");
    assert_eq!(
        (stored[0].period.as_str(), stored[0].value, stored[0].note.as_str()),
        (q.as_str(), 12.0, "from the provider")
    );
    let page = get(&app, &board, &format!("/indicators/{mentoring}?quarter={q}")).await;
    assert!(page.body.contains("from the provider"));
    // Both a file and pasted text is ambiguous, and refused.
    let both =
        post_file(&app, &analyst, "/indicators/upload", &[("csv", &good_csv)], ("v.csv", good_csv.as_bytes())).await;
    both.assert_refused(&["not both"]);

    // ---- Funding: streams, amounts by financial year, allocations.
    let fy = quarter.financial_year().to_string();
    for who in [&board, &officer] {
        let r = post(&app, who, "/funding/streams", &[("stream_name", "Wrong"), ("stream_funder", "x")]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
    }
    let bad = post(&app, &analyst, "/funding/streams", &[("stream_name", ""), ("stream_funder", "Home Office")]).await;
    bad.assert_refused(&["href=\"#stream_name\"", "id=\"stream_name-error\""]);
    assert!(db.funding_streams().await.unwrap().is_empty(), "no stream from refused or bad forms");
    let added =
        post(&app, &analyst, "/funding/streams", &[("stream_name", "Safer Streets"), ("stream_funder", "Home Office")])
            .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER);
    let stream = db.funding_streams().await.unwrap().remove(0);
    assert_eq!((stream.name.as_str(), stream.funder.as_str()), ("Safer Streets", "Home Office"));
    let funding = get(&app, &board, "/funding").await;
    assert!(funding.body.contains("Safer Streets"));
    assert!(!funding.body.contains("action=\"/funding/"), "board members are not offered the funding forms");
    let funding = get(&app, &analyst, "/funding").await;
    for form in ["streams", "amounts", "allocations", "spend"] {
        assert!(funding.body.contains(&format!("action=\"/funding/{form}\"")), "staff are offered /funding/{form}");
    }
    let again =
        post(&app, &analyst, "/funding/streams", &[("stream_name", "safer streets"), ("stream_funder", "Home Office")])
            .await;
    again.assert_refused(&["already a funding stream", "href=\"#stream_name\""]);
    assert!(again.body.contains("value=\"safer streets\""), "what was typed is kept on a storage error");
    let sid = stream.id.to_string();
    let amount = |year: &str, value: &str| {
        [("amount_stream", sid.clone()), ("amount_year", year.to_string()), ("amount_value", value.to_string())]
    };
    let bad = post_owned(&app, &analyst, "/funding/amounts", &amount("2025/27", "lots")).await;
    bad.assert_refused(&["href=\"#amount_year\"", "href=\"#amount_value\""]);
    assert!(db.funding_amounts().await.unwrap().is_empty());
    let set = post_owned(&app, &analyst, "/funding/amounts", &amount(&fy, "150,000")).await;
    assert_eq!(set.status, StatusCode::SEE_OTHER);
    let page = get(&app, &board, &format!("/funding?quarter={q}")).await;
    assert!(page.body.contains("£150,000.00"));
    // The heading names the financial year and how far into it the figures go, once.
    let quarter: alliance_core::governance::Quarter = q.parse().unwrap();
    let heading = format!("Funding {}, to the end of Q{}</h1>", quarter.financial_year(), quarter.financial_quarter());
    assert!(page.body.contains(&heading), "{heading}");
    let set = post_owned(&app, &analyst, "/funding/amounts", &amount(&fy, "£160,000")).await;
    assert_eq!(set.status, StatusCode::SEE_OTHER);
    let amounts = db.funding_amounts().await.unwrap();
    assert_eq!(amounts.len(), 1, "the year's amount is replaced, not added to");
    assert_eq!((amounts[0].financial_year.as_str(), amounts[0].amount_pence), (fy.as_str(), 16_000_000));
    let audit = governance_changes(&db).await;
    assert!(audit.iter().any(|e| e.detail.contains("£160,000.00 (was £150,000.00)")), "the replaced amount is kept");
    assert_eq!(
        post(
            &app,
            &officer,
            "/funding/amounts",
            &[("amount_stream", &sid), ("amount_year", &fy), ("amount_value", "1")]
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    // Allocations.
    let police_id = police.to_string();
    let allocation = |org: &str, purpose: &str, value: &str| {
        [
            ("allocation_stream", sid.clone()),
            ("allocation_year", fy.clone()),
            ("allocation_org", if org == "police" { police_id.clone() } else { org.to_string() }),
            ("allocation_intervention", String::new()),
            ("allocation_purpose", purpose.to_string()),
            ("allocation_amount", value.to_string()),
        ]
    };
    let bad = post_owned(&app, &analyst, "/funding/allocations", &allocation("", "", "40000")).await;
    bad.assert_refused(&["href=\"#allocation_org\"", "href=\"#allocation_purpose\""]);
    let bad = post_owned(&app, &analyst, "/funding/allocations", &allocation("police", "Taxi marshals", "-5")).await;
    bad.assert_refused(&["href=\"#allocation_amount\""]);
    assert!(db.allocations().await.unwrap().is_empty(), "no allocation from bad forms");
    let done =
        post_owned(&app, &analyst, "/funding/allocations", &allocation("police", "Taxi marshals", "40,000")).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    let allocations = db.allocations().await.unwrap();
    assert_eq!(allocations.len(), 1);
    assert_eq!((allocations[0].org_id, allocations[0].amount_pence), (Some(police), 4_000_000));
    let page = get(&app, &board, &format!("/funding?quarter={q}")).await;
    assert!(page.body.contains("Taxi marshals") && page.body.contains("£40,000.00"));
    let refused = post(
        &app,
        &officer,
        "/funding/allocations",
        &[
            ("allocation_stream", &sid),
            ("allocation_year", &fy),
            ("allocation_org", &police_id),
            ("allocation_purpose", "x"),
            ("allocation_amount", "1"),
        ],
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(db.allocations().await.unwrap().len(), 1);
    // The new allocation takes spend through the existing form, and the pack counts it.
    let spend = post(
        &app,
        &analyst,
        "/funding/spend",
        &[("allocation", &allocations[0].id.to_string()), ("quarter", &q), ("amount", "10000"), ("evaluation", "")],
    )
    .await;
    assert_eq!(spend.status, StatusCode::SEE_OTHER);
    let pack = alliance_web::views::board_pack::BoardPack::load(&db, quarter, "Test").await.unwrap();
    assert_eq!((pack.funding.available_pence, pack.funding.allocated_pence), (16_000_000, 4_000_000));

    funding_edits(&db, &app, (&analyst, &officer, &board), stream.id, police, quarter).await;
}

/// The position of stream `sid` in the Board pack of `quarter`:
/// (available, allocated, unallocated, over by, spent to date, over-allocated).
async fn pack_stream(db: &Db, quarter: Quarter, sid: i64) -> (i64, i64, i64, i64, i64, bool) {
    let pack = alliance_web::views::board_pack::BoardPack::load(db, quarter, "Test").await.unwrap();
    let s = pack.funding.streams.iter().find(|s| s.id == sid).expect("the stream is in the pack");
    (
        s.available_pence,
        s.allocated_pence,
        s.unallocated_pence,
        s.over_allocated_by_pence,
        s.spent_to_date_pence,
        s.over_allocated,
    )
}

/// Over-allocation and changes to funding records, continuing [`forms_scenario`] from one
/// stream with £160,000 for the year and one £40,000 allocation (to the police, "Taxi
/// marshals") with £10,000 spent in the quarter. Allocating exactly the rest is not
/// over-allocation; a penny-precise excess is accepted, warned about after the redirect,
/// audited, and flagged on /funding and in the pack with its figures; changing and
/// deleting allocations change those figures; bad input and other roles change nothing.
async fn funding_edits(
    db: &Db,
    app: &TestApp,
    (analyst, officer, board): (&Caller, &Caller, &Caller),
    sid: i64,
    police: i64,
    quarter: Quarter,
) {
    let (q, fy) = (quarter.to_string(), quarter.financial_year().to_string());
    let police_id = police.to_string();
    let allocate = |purpose: &str, value: &str| {
        [
            ("allocation_stream", sid.to_string()),
            ("allocation_year", fy.clone()),
            ("allocation_org", police_id.clone()),
            ("allocation_intervention", String::new()),
            ("allocation_purpose", purpose.to_string()),
            ("allocation_amount", value.to_string()),
        ]
    };
    let follow = |reply: &Reply| location(reply).expect("a redirect");

    // ---- Allocating exactly what is left: £40,000 + £120,000 = £160,000, not over.
    let done = post_owned(app, analyst, "/funding/allocations", &allocate("Night-time wardens", "120000")).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert!(follow(&done).ends_with("#allocations"), "{}", follow(&done));
    let page = get(app, analyst, &follow(&done)).await;
    assert!(!page.body.contains("id=\"saved-warning\"") && !page.body.contains("id=\"over-allocated\""));
    assert!(page.body.contains("Within amount"));
    assert_eq!(pack_stream(db, quarter, sid).await, (16_000_000, 16_000_000, 0, 0, 1_000_000, false));

    // ---- One more allocation of £5,000.50 goes over: accepted, warned, audited, flagged.
    let over = post_owned(app, analyst, "/funding/allocations", &allocate("Street lighting survey", "5,000.50")).await;
    assert_eq!(over.status, StatusCode::SEE_OTHER);
    let to = follow(&over);
    assert!(to.contains("saved=") && to.ends_with("#saved-warning"), "{to}");
    let lighting = db.allocations().await.unwrap().into_iter().find(|a| a.purpose == "Street lighting survey").unwrap();
    assert_eq!(lighting.amount_pence, 500_050, "an over-allocating allocation is kept");
    let page = get(app, analyst, &to).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("id=\"saved-warning\""));
    assert!(
        page.body.contains("£165,000.50 allocated against £160,000.00, £5,000.50 more than it has"),
        "the warning gives the figures"
    );
    let audit = governance_changes(db).await;
    assert!(audit.iter().any(|e| e.detail.contains("Street lighting survey")
        && e.detail.contains("now over-allocated: £165,000.50 allocated against £160,000.00, £5,000.50 over")));
    // Anyone reading /funding sees the flag and the figures in the position table.
    let page = get(app, board, &format!("/funding?quarter={q}")).await;
    assert!(page.body.contains("id=\"over-allocated\"") && page.body.contains("Over-allocated by £5,000.50"));
    let row_start = page.body.find(&format!("data-stream=\"{sid}\" data-year=\"{fy}\"")).expect("a position row");
    let row = &page.body[row_start..row_start + page.body[row_start..].find("</tr>").unwrap()];
    for figure in ["£160,000.00", "£165,000.50", "£0.00", "£10,000.00", "Over-allocated by £5,000.50"] {
        assert!(row.contains(figure), "the position row shows {figure}: {row}");
    }
    assert!(!page.body.contains("href=\"/funding/allocations/"), "board members are not offered change links");
    assert!(!get(app, board, "/funding").await.body.contains("id=\"saved-warning\""));
    // The Board pack: the stream's figures, the count, and the flag in the rendered pack.
    assert_eq!(pack_stream(db, quarter, sid).await, (16_000_000, 16_500_050, 0, 500_050, 1_000_000, true));
    let pack = get(app, board, &format!("/board-pack/{q}")).await;
    assert_eq!(pack.status, StatusCode::OK);
    assert!(pack.body.contains("id=\"over-allocated\"") && pack.body.contains("Over-allocated by £5,000.50"));
    assert!(pack.body.contains("£165,000.50 allocated against £160,000.00 available, £5,000.50 over"));
    assert!(
        pack.body.contains("<strong>1</strong>funding stream over-allocated"),
        "the one-page summary counts the over-allocated stream"
    );
    let dashboard = get(app, board, "/governance").await;
    assert!(dashboard.body.contains("1 stream over-allocated"));

    // ---- Changing an allocation: refused for other roles, bad input changes nothing.
    let url = format!("/funding/allocations/{}", lighting.id);
    let form_page = get(app, analyst, &url).await;
    assert_eq!(form_page.status, StatusCode::OK);
    assert!(form_page.body.contains(&format!("action=\"{url}\"")) && form_page.body.contains("value=\"5,000.50\""));
    assert!(form_page.body.contains("name=\"csrf_token\""));
    let edit = |purpose: &str, value: &str| {
        [
            ("allocation_org", police_id.clone()),
            ("allocation_intervention", String::new()),
            ("allocation_purpose", purpose.to_string()),
            ("allocation_amount", value.to_string()),
        ]
    };
    for who in [officer, board] {
        assert_eq!(get(app, who, &url).await.status, StatusCode::FORBIDDEN);
        assert_eq!(post_owned(app, who, &url, &edit("Lighting", "1")).await.status, StatusCode::FORBIDDEN);
    }
    let bad = post_owned(app, analyst, &url, &edit(" ", "lots")).await;
    bad.assert_refused(&["govuk-error-summary"]);
    assert!(bad.body.contains("href=\"#allocation_purpose\"") && bad.body.contains("href=\"#allocation_amount\""));
    assert!(bad.body.contains("id=\"allocation_amount-error\""));
    let mut nobody = edit("Lighting", "1");
    nobody[0].1 = String::new();
    let bad = post_owned(app, analyst, &url, &nobody).await;
    bad.assert_refused(&["href=\"#allocation_org\""]);
    let unchanged = db.allocation(lighting.id).await.unwrap().unwrap();
    assert_eq!(
        (unchanged.purpose.as_str(), unchanged.amount_pence, unchanged.org_id),
        ("Street lighting survey", 500_050, Some(police))
    );
    // A good change: £5,000.50 → £1,000, new purpose. Still £1,000 over, and warned again.
    let saved = post_owned(app, analyst, &url, &edit("Street lighting audit", "1000")).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    assert!(follow(&saved).ends_with("#saved-warning"));
    let changed = db.allocation(lighting.id).await.unwrap().unwrap();
    assert_eq!((changed.purpose.as_str(), changed.amount_pence), ("Street lighting audit", 100_000));
    assert_eq!(pack_stream(db, quarter, sid).await, (16_000_000, 16_100_000, 0, 100_000, 1_000_000, true));
    assert!(get(app, board, &format!("/funding?quarter={q}")).await.body.contains("Over-allocated by £1,000.00"));
    let audit = governance_changes(db).await;
    let entry = audit.iter().find(|e| e.target == url).expect("the change is audited");
    assert!(entry.detail.contains("amount changed from \"£5,000.50\" to \"£1,000.00\""), "{}", entry.detail);
    assert!(entry.detail.contains("purpose changed from \"Street lighting survey\" to \"Street lighting audit\""));

    // ---- Deleting: a confirmation page first (GET deletes nothing), POST only, staff only.
    let delete = format!("{url}/delete");
    let confirm = get(app, analyst, &delete).await;
    assert_eq!(confirm.status, StatusCode::OK);
    assert!(confirm.body.contains("Are you sure") && confirm.body.contains(&format!("action=\"{delete}\"")));
    assert!(db.allocation(lighting.id).await.unwrap().is_some(), "opening the confirmation deletes nothing");
    for who in [officer, board] {
        assert_eq!(get(app, who, &delete).await.status, StatusCode::FORBIDDEN);
        assert_eq!(post(app, who, &delete, &[]).await.status, StatusCode::FORBIDDEN);
    }
    let no_token =
        app.post_bytes(&delete, &without_token(analyst), "application/x-www-form-urlencoded", Vec::new()).await;
    assert_eq!(no_token.status, StatusCode::FORBIDDEN, "a POST without the CSRF token is refused");
    assert!(db.allocation(lighting.id).await.unwrap().is_some(), "refused deletions delete nothing");
    let deleted = post(app, analyst, &delete, &[]).await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);
    assert!(db.allocation(lighting.id).await.unwrap().is_none());
    assert_eq!(post(app, analyst, &delete, &[]).await.status, StatusCode::NOT_FOUND, "already deleted");
    assert_eq!(pack_stream(db, quarter, sid).await, (16_000_000, 16_000_000, 0, 0, 1_000_000, false));
    let page = get(app, board, &format!("/funding?quarter={q}")).await;
    assert!(!page.body.contains("id=\"over-allocated\"") && !page.body.contains("Street lighting audit"));
    let audit = governance_changes(db).await;
    assert!(audit.iter().any(|e| e.target == url
        && e.detail.contains("deleted: was £1,000.00")
        && e.detail.contains("Street lighting audit")));
    // Deleting the allocation with spend takes its spend too, and says so first.
    let taxi = db.allocations().await.unwrap().into_iter().find(|a| a.purpose == "Taxi marshals").unwrap();
    let delete = format!("/funding/allocations/{}/delete", taxi.id);
    assert!(get(app, analyst, &delete).await.body.contains(&format!("£10,000.00 in {q}")));
    assert_eq!(post(app, analyst, &delete, &[]).await.status, StatusCode::SEE_OTHER);
    assert!(db.spend().await.unwrap().iter().all(|s| s.allocation_id != taxi.id));
    assert_eq!(pack_stream(db, quarter, sid).await, (16_000_000, 12_000_000, 4_000_000, 0, 0, false));
    assert!(governance_changes(db).await.iter().any(|e| e.detail.contains(&format!("£10,000.00 in {q}"))));

    // ---- Changing a stream's name and funder.
    let other =
        db.create_funding_stream("Safety of Women at Night", "Home Office", &common::test_actor()).await.unwrap();
    let url = format!("/funding/streams/{sid}");
    assert!(get(app, analyst, "/funding").await.body.contains(&format!("href=\"{url}\"")));
    let form_page = get(app, analyst, &url).await;
    assert_eq!(form_page.status, StatusCode::OK);
    assert!(form_page.body.contains("value=\"Safer Streets\""));
    let rename = |name: &str, funder: &str| [("stream_name", name.to_string()), ("stream_funder", funder.to_string())];
    for who in [officer, board] {
        assert_eq!(get(app, who, &url).await.status, StatusCode::FORBIDDEN);
        assert_eq!(post_owned(app, who, &url, &rename("Wrong", "x")).await.status, StatusCode::FORBIDDEN);
    }
    let bad = post_owned(app, analyst, &url, &rename("", "")).await;
    bad.assert_refused(&["href=\"#stream_name\"", "href=\"#stream_funder\""]);
    let taken = post_owned(app, analyst, &url, &rename("safety of women at night", "Home Office")).await;
    taken.assert_refused(&["already a funding stream", "href=\"#stream_name\""]);
    let s = db.funding_stream(sid).await.unwrap().unwrap();
    assert_eq!((s.name.as_str(), s.funder.as_str()), ("Safer Streets", "Home Office"), "bad input changes nothing");
    let saved =
        post_owned(app, analyst, &url, &rename("Safer Streets round 5", "Home Office (Safer Streets Fund)")).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    let s = db.funding_stream(sid).await.unwrap().unwrap();
    assert_eq!((s.name.as_str(), s.funder.as_str()), ("Safer Streets round 5", "Home Office (Safer Streets Fund)"));
    assert_eq!(db.funding_stream(other).await.unwrap().unwrap().name, "Safety of Women at Night");
    let pack = alliance_web::views::board_pack::BoardPack::load(db, quarter, "Test").await.unwrap();
    assert_eq!(pack.funding.streams.iter().find(|s| s.id == sid).unwrap().name, "Safer Streets round 5");
    assert!(pack.funding.allocations.iter().all(|a| a.stream == "Safer Streets round 5"));
    assert!(governance_changes(db).await.iter().any(|e| e.target == url
        && e.detail.contains("name changed from \"Safer Streets\" to \"Safer Streets round 5\"")
        && e.detail.contains("funder changed from \"Home Office\" to \"Home Office (Safer Streets Fund)\"")));
    assert_eq!(get(app, analyst, "/funding/streams/999999").await.status, StatusCode::NOT_FOUND);
}

crate::on_each_app!(governance_forms);

/// Issue 16's governance cycle through the web only: actions and updates typed in GOV.UK
/// date inputs (an error names the field and the part, and keeps what was typed); a
/// partner's update dated yesterday sets the status; overdue actions and milestones are
/// flagged on the action, the plan and the dashboard; the Board pack opens on the latest
/// quarter with data and downloads as OpenDocument text; spend is entered in financial-year
/// quarters; each role's header shows only what it may use; new users are offered the
/// least role.
async fn governance_cycle(app: TestApp) {
    let db = app.db.clone();
    alliance::governance::seed_strategy(&db, "test").await.unwrap();
    let org = db.create_organisation("Wiltshire Police", OrgType::Police, &common::test_actor()).await.unwrap();
    let analyst = app.signed_in("analyst@wiltshire.example", Role::Analyst, "Wiltshire Police").await;
    let officer = app.signed_in("officer@wiltshire.example", Role::PartnerUser, "Wiltshire Police").await;
    let board = app.signed_in("chair@wiltshire.example", Role::BoardMember, "Wiltshire Police").await;
    let admin = app.signed_in("admin@wiltshire.example", Role::Administrator, "Wiltshire Police").await;
    let s = db.strategies().await.unwrap().remove(0);
    let c = db.commitments(s.id).await.unwrap().remove(0).id.to_string();
    let o = org.to_string();
    let today = alliance_db::clock::today_date();
    let yesterday = today - chrono::Duration::days(1);
    let quarter = Quarter::of_date(&today.format("%Y-%m-%d").to_string()).unwrap();

    // Staff add an action due on 31 March 2020 (so overdue), typed in a GOV.UK date input.
    let base = [("commitment", c.as_str()), ("owner", o.as_str()), ("lead_person", "A. Lead"), ("status", "on-track")];
    let mut late = base.to_vec();
    late.extend([("title", "Knife bins"), ("due_date-day", "31"), ("due_date-month", "3"), ("due_date-year", "2020")]);
    let bins = id_in(&post(&app, &analyst, "/actions", &late).await);
    assert_eq!(db.action(bins).await.unwrap().unwrap().due_date.as_deref(), Some("2020-03-31"));
    // A date with its month missing: the error names the field and the part; nothing stored.
    let mut bad = base.to_vec();
    bad.extend([("title", "Half a date"), ("due_date-day", "31"), ("due_date-month", ""), ("due_date-year", "2027")]);
    let reply = post(&app, &analyst, "/actions", &bad).await;
    reply.assert_refused(&["href=\"#due_date-month\"", "Due date must include a month"]);
    assert!(
        reply.body.contains("value=\"Half a date\"")
            && reply
                .body
                .contains("id=\"due_date-day\" name=\"due_date-day\" type=\"text\" inputmode=\"numeric\" value=\"31\"")
    );
    assert!(db.actions().await.unwrap().iter().all(|a| a.title != "Half a date"));

    // Added today as not started; the partner's update dated yesterday says at risk.
    let mut fresh = base.to_vec();
    fresh.retain(|(k, _)| *k != "status");
    fresh.extend([("title", "Street pastors"), ("status", "not-started")]);
    let pastors = id_in(&post(&app, &analyst, "/actions", &fresh).await);
    let update = common::governance::update_form(yesterday, "at-risk", "Volunteers short");
    let wrong = [
        ("update_on_date-day", "30"),
        ("update_on_date-month", "2"),
        ("update_on_date-year", "2026"),
        ("update_status", "at-risk"),
        ("update_note", "Kept"),
    ];
    let reply = post(&app, &officer, &format!("/actions/{pastors}/updates"), &wrong).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        reply.body.contains("Date the update reports on must be a real date")
            && reply.body.contains(">Kept</textarea>")
    );
    assert!(db.action_updates(pastors).await.unwrap().is_empty());
    let reply = post_owned(&app, &officer, &format!("/actions/{pastors}/updates"), &update).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(db.action(pastors).await.unwrap().unwrap().status, ActionStatus::AtRisk);
    let page = get(&app, &officer, &format!("/actions/{pastors}")).await;
    assert!(page.body.contains("id=\"status\">At risk</strong>"), "the dated update sets the status");
    assert!(page.body.contains(&alliance_core::format::date(&yesterday.format("%Y-%m-%d").to_string())), "UK dates");
    assert!(!page.body.contains("id=\"overdue\""));

    // Overdue: the action page, a milestone, the plan, the dashboard and the pack.
    let milestone = [
        ("milestone_title", "Order bins"),
        ("milestone_due-day", "1"),
        ("milestone_due-month", "Feb"),
        ("milestone_due-year", "2020"),
    ];
    assert_eq!(
        post(&app, &analyst, &format!("/actions/{bins}/milestones"), &milestone).await.status,
        StatusCode::SEE_OTHER
    );
    let page = get(&app, &board, &format!("/actions/{bins}")).await;
    assert!(page.body.contains("id=\"overdue\">Overdue</strong>") && page.body.contains("31 March 2020"));
    assert!(page.body.contains("data-overdue-milestone="), "the milestone due 1 February 2020 is overdue");
    let plan = get(&app, &board, "/actions").await;
    assert!(
        plan.body.contains(&format!("data-overdue=\"{bins}\""))
            && !plan.body.contains(&format!("data-overdue=\"{pastors}\""))
    );
    let dashboard = get(&app, &board, "/governance").await;
    assert!(
        dashboard.body.contains(&format!("data-overdue=\"action-{bins}\"")) && dashboard.body.contains("Order bins")
    );
    assert!(
        dashboard.body.contains(&format!("/board-pack/{quarter}/odt")),
        "the dashboard opens on this quarter, which has data"
    );
    let to = get(&app, &board, "/board-pack").await;
    assert_eq!((to.status, location(&to)), (StatusCode::SEE_OTHER, Some(format!("/board-pack/{quarter}"))));
    let pack = get(&app, &board, &format!("/board-pack/{quarter}")).await;
    assert!(
        pack.body.contains("Decisions required")
            && pack.body.contains("<strong data-overdue=\"milestones\">1</strong>")
    );
    let odt = get(&app, &board, &format!("/board-pack/{quarter}/odt")).await;
    assert_eq!(odt.status, StatusCode::OK);
    assert_eq!(odt.header("content-type"), Some("application/vnd.oasis.opendocument.text"));
    assert!(odt.header("content-disposition").is_some_and(|d| d.contains(&format!("board-pack-{quarter}.odt"))));
    // A quarter outside the data and strategy held has no pack: refused, naming the quarters
    // there are packs of, not an empty pack.
    for path in ["/board-pack/1900Q1", "/board-pack/1900Q1/odt", "/board-pack/1900Q1/pdf"] {
        let refused = get(&app, &board, path).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{path}");
        assert!(
            refused.body.contains("There is no Board pack of ")
                && refused.body.contains("Board pack")
                && refused.body.contains(&format!("{quarter}")),
            "{path}: {}",
            refused.body
        );
    }
    let refused = get(&app, &board, "/board-pack/soon").await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.body.contains("is not a quarter"), "{}", refused.body);
    // A quarter whose year no data can have is named as that, not as "not a quarter".
    let refused = get(&app, &board, "/board-pack/2999Q4").await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(
        refused.body.contains("outside the years") && !refused.body.contains("is not a quarter"),
        "{}",
        refused.body
    );

    // Spend in a financial-year quarter: 2025/26 Q2 is July to September 2025.
    let stream =
        db.create_funding_stream("Violence Reduction Unit grant", "Home Office", &common::test_actor()).await.unwrap();
    db.set_funding_amount(stream, "2025/26", 1_000_000, &common::test_actor()).await.unwrap();
    let al = db
        .create_allocation(stream, "2025/26", Some(org), None, "Pastors", 500_000, None, &common::test_actor())
        .await
        .unwrap();
    let spend = [
        ("allocation", al.to_string()),
        ("quarter", "2025/26 Q2".to_string()),
        ("amount", "1000".to_string()),
        ("evaluation", "0".to_string()),
    ];
    assert_eq!(post_owned(&app, &analyst, "/funding/spend", &spend).await.status, StatusCode::SEE_OTHER);
    assert_eq!(db.spend().await.unwrap()[0].quarter, "2025Q3");
    let funding = get(&app, &board, "/funding?quarter=2025Q3").await;
    assert!(funding.body.contains("2025/26 Q2 (July to September 2025)"), "spend shown in financial-year quarters");

    // Each role's header shows only what it may use.
    let staff_home = get(&app, &analyst, "/interventions").await.body;
    let partner_home = get(&app, &officer, "/interventions").await.body;
    let board_home = get(&app, &board, "/interventions").await.body;
    let link = "href=\"/imports\"";
    assert!(staff_home.contains(link), "staff see {link}");
    assert!(!partner_home.contains(link) && !board_home.contains(link), "others do not see {link}");
    // The geocoding queue needs record-level ED access besides the role: it is reached from
    // the partner data page, not the header (`partnerships::every_navigation_link_opens`).
    for home in [&staff_home, &partner_home, &board_home] {
        assert!(!home.contains("href=\"/partner-data/geocoding\""));
    }
    assert!(partner_home.contains("href=\"/governance\"") && !board_home.contains("href=\"/admin/users\""));
    // New users are offered the least role, not Administrator.
    let users = get(&app, &admin, "/admin/users").await;
    let add_form = users.body.split("id=\"role\" name=\"role\"").nth(1).expect("the add-user form's role");
    let add_form = add_form.split("</select>").next().unwrap();
    assert!(add_form.contains("<option value=\"board-member\" selected>"), "{add_form}");
    assert!(!add_form.contains("<option value=\"administrator\" selected>"));
    assert_eq!(Role::LEAST, Role::BoardMember);
}

crate::on_each_app!(governance_cycle);
