//! Governance on the web, as a new user would meet it: the demo loads the strategy; staff
//! add actions through the form; a partner user posts a progress update on their
//! organisation's action and is refused (403, and no form offered) on another's; a quarter's
//! indicator values are entered through the form (and bad input answers with an error
//! summary naming the field); spend is recorded; a Delivery Group meeting escalates an item
//! and agrees an action that joins the plan; and the Board pack page and the dashboard show
//! RAG counts, escalations and funding totals that match what was entered.

use crate::common;

use alliance_core::access::{OrgType, Role};
use alliance_core::governance::{ActionStatus, Direction, IndicatorSource, Quarter, TargetStatus};
use alliance_db::audit::AuditQuery;
use alliance_db::governance::NewIndicator;
use alliance_db::Db;
use alliance_web::AppState;
use axum::http::StatusCode;
use axum::Router;
use common::http::{send, Reply, Visitor};
use common::{add_user, session_for};

async fn visitor(db: &Db, email: &str, role: Role, org: &str) -> Visitor {
    let id = add_user(db, email, role, org).await;
    let (cookie, csrf) = session_for(db, id).await;
    Visitor { cookie, csrf }
}

/// URL-encodes form fields, with the visitor's CSRF token.
fn form(who: &Visitor, fields: &[(&str, &str)]) -> String {
    let enc = |s: &str| -> String {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-._".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect()
    };
    let mut out = format!("csrf_token={}", who.csrf);
    for (k, v) in fields {
        out.push_str(&format!("&{k}={}", enc(v)));
    }
    out
}

async fn post(app: &Router, who: &Visitor, path: &str, fields: &[(&str, &str)]) -> Reply {
    send(app, "POST", path, who, Some(&form(who, fields))).await
}

async fn get(app: &Router, who: &Visitor, path: &str) -> Reply {
    send(app, "GET", path, who, None).await
}

/// The id at the end of a redirect like `/actions/7` or `/actions/7#updates`.
fn id_in(reply: &Reply) -> i64 {
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", &reply.body[..reply.body.len().min(2000)]);
    let to = reply.location.as_deref().expect("a redirect");
    to.split('#').next().unwrap().rsplit('/').next().unwrap().parse().expect("an id")
}

async fn scenario(db: Db) {
    alliance::demo::load_if_empty(&db).await.expect("demo loads");
    let app = alliance_web::router(AppState::new(db.clone()));
    let police = db.create_organisation("Staffordshire Police", OrgType::Police).await.unwrap();
    let council = db.create_organisation("Stoke-on-Trent City Council", OrgType::Council).await.unwrap();
    let analyst = visitor(&db, "analyst@alliance.example", Role::Analyst, "Violence Reduction Alliance").await;
    let officer = visitor(&db, "officer@police.example", Role::PartnerUser, "Staffordshire Police").await;
    let council_user = visitor(&db, "officer@council.example", Role::PartnerUser, "Stoke-on-Trent City Council").await;
    let board = visitor(&db, "chair@board.example", Role::BoardMember, "Stoke-on-Trent City Council").await;
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
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
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("govuk-error-summary") && bad.body.contains("href=\"#text\""));
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
        &[("update_on_date", "31/09/2025"), ("update_status", "at-risk"), ("update_note", "x")],
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("href=\"#update_on_date\"") && bad.body.contains("is not a date"));
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
        db.create_indicator(&NewIndicator {
            code,
            name: code,
            kind: "output",
            definition: "test",
            unit: "count",
            frequency: "quarterly",
            direction: Direction::Up,
            baseline: None,
            baseline_period: None,
            target: Some(if code == "people-reached" { 500.0 } else { 20.0 }),
            tolerance: Some(if code == "people-reached" { 50.0 } else { 5.0 }),
            owner_org_id: Some(owner),
            priority_id: Some(priorities[2].id),
            source: IndicatorSource::Entered,
        })
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
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("href=\"#period\"") && bad.body.contains("href=\"#value\""));
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
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("href=\"#csv\"") && bad.body.contains(":2: column") && bad.body.contains("eighteen"));
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
    let svd = db.create_funding_stream("Serious Violence Duty grant", "Home Office").await.unwrap();
    db.set_funding_amount(svd, &fy, 10_000_000).await.unwrap();
    let al1 = db.create_allocation(svd, &fy, Some(police), None, "Navigators", 4_000_000).await.unwrap();
    let al2 = db.create_allocation(svd, &fy, Some(council), None, "Charter", 2_000_000).await.unwrap();
    let bad =
        post(&app, &analyst, "/funding/spend", &[("allocation", &al1.to_string()), ("quarter", &q), ("amount", "ten")])
            .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("href=\"#amount\""));
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
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("href=\"#attendees\"") && bad.body.contains("Fire Service"));
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
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("href=\"#quarter\""));
    // Filters.
    let filtered = get(&app, &board, &format!("/actions?owner={council}&status=not-started")).await;
    assert!(filtered.body.contains("Schools charter") && !filtered.body.contains("Map taxi ranks"));

    // Every change was audited.
    let audit = db
        .audit_search(&AuditQuery {
            actor: None,
            action: Some("governance-change".into()),
            from: None,
            to: None,
            limit: 100,
        })
        .await
        .unwrap();
    assert!(audit
        .iter()
        .any(|e| e.actor == "user:officer@police.example" && e.target == format!("/actions/{navigators}")));
    assert!(audit.len() >= 10, "{} audited changes", audit.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn governance_web_sqlite() {
    let t = common::sqlite();
    scenario(t.connect().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn governance_web_postgres() {
    let Some(t) = common::postgres().await else { return };
    scenario(t.connect().await).await;
}
