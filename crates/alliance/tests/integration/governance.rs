//! Governance and performance, as a new user would meet it: the demo loads the strategy, a
//! partner user updates their organisation's action (and is refused on another's), a
//! quarter's indicator values are entered, and the Board pack's RAG counts, escalations and
//! funding totals match what was entered; the computed rate of violence and sexual offences
//! per 1,000 residents equals the figure worked out straight from the raw CSV files.
//!
//! The permission is tested on the rule the web's access module applies
//! (`alliance_core::governance::can_update_action`), not over HTTP (`governance_web.rs` does).
//! A governance change whose audit row cannot be written is not stored
//! (`a_failing_audit_write`).

use crate::common;
use common::TestDb;

use std::collections::HashSet;

use alliance_core::access::{OrgType, Role};
use alliance_core::governance::{
    can_update_action, ActionStatus, MeetingBody, MeetingItemKind, Quarter, SpendFlag, TargetStatus,
};
use alliance_db::audit::Actor;
use alliance_db::governance::{ActionFields, NewIndicator};
use alliance_db::Db;

async fn scenario(t: TestDb) {
    let db = &t.connect().await;
    alliance::demo::load_if_empty(db).await.expect("demo loads");
    let strategy = db.strategies().await.unwrap().into_iter().next().expect("the demo loads the strategy");
    assert!(strategy.name.contains("2024-2029"));
    let priorities = db.priorities(strategy.id).await.unwrap();
    let names: Vec<&str> = priorities.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "Attitudinal change",
            "Primary prevention",
            "Secondary prevention",
            "Tertiary prevention",
            "Enforcement and criminal justice",
            "Contextual prevention"
        ]
    );
    let commitments = db.commitments(strategy.id).await.unwrap();
    assert_eq!(commitments.len(), 7 + 9 + 12 + 10 + 8);
    let navigator = commitments.iter().find(|c| c.text.contains("'Navigator' programme")).expect("tertiary commitment");
    assert_eq!(navigator.priority_id, priorities[3].id);
    // Loading it was audited; seeding again changes nothing, so records nothing.
    let log = common::audit_rows(db, alliance_db::governance::GOVERNANCE_CHANGE).await;
    assert!(
        log.iter().any(|e| e.target == "/strategy" && e.detail.contains("6 priorities and 46 commitments loaded")),
        "{log:?}"
    );
    let rows = db.verify_audit_chain().await.unwrap().rows_checked;
    let (_, created) = alliance::governance::seed_strategy(db, "test").await.unwrap();
    assert!(!created);
    assert_eq!(db.commitments(strategy.id).await.unwrap().len(), 46);
    assert_eq!(db.verify_audit_chain().await.unwrap().rows_checked, rows);

    let analyst = Actor::new("analyst", "test");
    let police = db.create_organisation("Staffordshire Police", OrgType::Police, &common::test_actor()).await.unwrap();
    let council =
        db.create_organisation("Stoke-on-Trent City Council", OrgType::Council, &common::test_actor()).await.unwrap();
    let fields = |title: &'static str, owner: i64, status: ActionStatus| ActionFields {
        commitment_id: navigator.id,
        title,
        description: "",
        owner_org_id: owner,
        lead_person: "A. Lead",
        start_date: Some("2025-04-01"),
        due_date: Some("2026-03-31"),
        status,
        intervention_id: None,
    };
    let mut actions = Vec::new();
    for (title, owner, status, added_on) in [
        ("Navigators in A&E", police, ActionStatus::OnTrack, "2025-07-01"),
        ("Schools charter", council, ActionStatus::Complete, "2025-10-05"),
        ("Taxi marshals", police, ActionStatus::OffTrack, "2025-05-01"),
        ("Peer mentors", council, ActionStatus::NotStarted, "2025-12-01"),
        ("Next year", council, ActionStatus::OnTrack, "2026-01-10"),
    ] {
        actions.push(db.create_action(&fields(title, owner, status), &analyst, Some(added_on)).await.unwrap());
    }
    let (a1, a2, a3) = (actions[0], actions[1], actions[2]);

    // A partner user at the police updates the police's action and is refused on the council's.
    let action1 = db.action(a1).await.unwrap().unwrap();
    let action2 = db.action(a2).await.unwrap().unwrap();
    assert!(can_update_action(Role::PartnerUser, police, action1.owner_org_id));
    assert!(!can_update_action(Role::PartnerUser, police, action2.owner_org_id));
    assert!(can_update_action(Role::Analyst, police, action2.owner_org_id));
    assert!(!can_update_action(Role::BoardMember, council, action2.owner_org_id));
    let officer = Actor::new("user:p@police", "test");
    db.add_action_update(a1, "2025-11-10", ActionStatus::AtRisk, "Recruitment delayed", &officer, Some(police))
        .await
        .unwrap();
    db.add_action_update(a3, "2025-08-15", ActionStatus::OffTrack, "No provider yet", &officer, Some(police))
        .await
        .unwrap();
    assert_eq!(db.action(a1).await.unwrap().unwrap().status, ActionStatus::AtRisk);
    let history = db.action_history(Some(a1)).await.unwrap();
    assert!(history
        .iter()
        .any(|h| h.field == "status" && h.new_value.as_deref() == Some("at-risk") && h.by_user == "user:p@police"));

    // Indicators: two entered for 2025Q4; typing a computed one is refused.
    for (code, target, tolerance) in [("people-reached", 500.0, 50.0), ("charter-venues", 20.0, 5.0)] {
        db.create_indicator(
            &NewIndicator {
                target: Some(target),
                tolerance: Some(tolerance),
                owner_org_id: Some(council),
                priority_id: Some(priorities[2].id),
                ..common::governance::entered_indicator(code, code)
            },
            &analyst,
        )
        .await
        .unwrap();
    }
    let entered = vec![
        ("people-reached".to_string(), "2025Q4".to_string(), 430.0, String::new()),
        ("charter-venues".to_string(), "2025Q4".to_string(), 18.0, String::new()),
    ];
    assert_eq!(db.enter_indicator_values(&entered, &analyst).await.unwrap(), 2);
    let typed = vec![("vso-per-1000-12m".to_string(), "2025Q4".to_string(), 1.0, String::new())];
    let refused = db.enter_indicator_values(&typed, &analyst).await.unwrap_err();
    assert!(refused.is_input_error() && refused.to_string().contains("computed"), "{refused}");
    assert!(matches!(refused, alliance_db::DbError::Invalid { field: "code", .. }), "{refused:?}");
    let huge = vec![("people-reached".to_string(), "2025Q3".to_string(), 1e19, String::new())];
    let refused = db.enter_indicator_values(&huge, &analyst).await.unwrap_err();
    assert!(matches!(refused, alliance_db::DbError::Invalid { field: "value", .. }), "{refused:?}");

    // Meetings: the Delivery Group escalates one item.
    let dg = db
        .create_meeting(
            MeetingBody::DeliveryGroup,
            "2025-11-20",
            "Delivery Group Q3",
            &[(police, "Inspector".into())],
            None,
            &analyst,
        )
        .await
        .unwrap();
    db.add_meeting_item(dg, MeetingItemKind::Escalation, "Navigator funding gap from April", None, &analyst)
        .await
        .unwrap();
    db.add_meeting_item(dg, MeetingItemKind::Decision, "Adopt the charter", None, &analyst).await.unwrap();
    let board = db
        .create_meeting(MeetingBody::Board, "2025-12-02", "Board", &[(council, "Director".into())], None, &analyst)
        .await
        .unwrap();
    db.add_meeting_item(
        board,
        MeetingItemKind::Escalation,
        "Board items are not escalations to itself",
        None,
        &analyst,
    )
    .await
    .unwrap();
    // The Delivery Group also marks the off-track action for escalation: it is escalated for
    // two reasons, and the pack lists it once with both.
    db.escalate_action(a3, "2025-11-20", "No provider since August", None, &Actor::new("user:dg@alliance", "test"))
        .await
        .unwrap();

    // Funding for 2025/26: two allocations, spend in three quarters.
    let svd = db.create_funding_stream("Serious Violence Duty grant", "Home Office", &analyst).await.unwrap();
    db.set_funding_amount(svd, "2025/26", 10_000_000, &analyst).await.unwrap();
    let al1 = db
        .create_allocation(svd, "2025/26", Some(police), None, "Navigators", 4_000_000, None, &analyst)
        .await
        .unwrap();
    let al2 =
        db.create_allocation(svd, "2025/26", Some(council), None, "Charter", 2_000_000, None, &analyst).await.unwrap();
    for (q, p, e) in [("2025Q2", 1_000_000, 100_000), ("2025Q3", 1_000_000, 0), ("2025Q4", 500_000, 50_000)] {
        db.record_spend(al1, q, p, e, &analyst).await.unwrap();
    }
    for q in ["2025Q2", "2025Q3", "2025Q4"] {
        db.record_spend(al2, q, 500_000, 0, &analyst).await.unwrap();
    }
    // Spend in a quarter of another financial year is refused: no total would count it.
    let elsewhere = db.record_spend(al2, "2026Q2", 9_999_900, 0, &analyst).await;
    assert!(
        matches!(&elsewhere, Err(alliance_db::DbError::Invalid { field: "quarter", reason }) if reason.contains("2025/26")),
        "{elsewhere:?}"
    );

    let quarter: Quarter = "2025Q4".parse().unwrap();
    let pack = alliance_web::views::board_pack::BoardPack::load(db, quarter, "Test").await.unwrap();
    assert_eq!(pack.actions_total, 4, "the action created in 2026 is not in the 2025Q4 pack");
    assert_eq!(pack.rag_count(ActionStatus::AtRisk), 1);
    assert_eq!(pack.rag_count(ActionStatus::Complete), 1);
    assert_eq!(pack.rag_count(ActionStatus::OffTrack), 1);
    assert_eq!(pack.rag_count(ActionStatus::NotStarted), 1);
    assert_eq!(pack.rag_count(ActionStatus::OnTrack), 0);
    let escalations: Vec<&str> = pack.escalations.iter().map(|e| e.text.as_str()).collect();
    assert_eq!(escalations.len(), 2, "{escalations:?}");
    assert!(escalations.contains(&"Navigator funding gap from April"));
    let taxi: Vec<_> = pack.escalations.iter().filter(|e| e.action_id == Some(a3)).collect();
    assert_eq!(taxi.len(), 1, "one entry for the action escalated twice over: {escalations:?}");
    assert_eq!(taxi[0].text, "Taxi marshals: No provider since August");
    assert_eq!(
        taxi[0].reasons,
        vec![
            "Delivery Group, 20 November 2025 (action plan)".to_string(),
            "Off track two quarters running".to_string()
        ],
        "off track at the ends of 2025Q3 and 2025Q4, and marked by the Delivery Group"
    );
    assert_eq!(taxi[0].source, "Delivery Group, 20 November 2025 (action plan); Off track two quarters running");
    assert_eq!(pack.indicator("people-reached").unwrap().status, TargetStatus::OffTarget);
    assert_eq!(pack.indicator("charter-venues").unwrap().status, TargetStatus::WithinTolerance);
    assert_eq!(pack.off_target().len(), 1);
    let f = &pack.funding;
    assert_eq!(f.financial_year, "2025/26");
    assert_eq!(f.available_pence, 10_000_000);
    assert_eq!(f.allocated_pence, 6_000_000);
    assert_eq!(f.spent_to_date_pence, 4_000_000);
    assert_eq!(f.spent_in_quarter_pence, 1_000_000);
    assert_eq!(f.evaluation_pence, 150_000);
    assert!((f.evaluation_share().unwrap() - 3.75).abs() < 1e-9);
    // £25,000 spent against £30,000 pro rata (3 of 4 quarters of £40,000): under by more than 10%.
    assert_eq!(f.allocations.iter().find(|a| a.id == al1).unwrap().flag, SpendFlag::Underspend);
    assert_eq!(f.allocations.iter().find(|a| a.id == al2).unwrap().flag, SpendFlag::OnProfile);
    assert!(pack.changes.iter().any(|c| c.what.contains("from On track to At risk")));
    let html = alliance_reports::board_pack::render(&pack).unwrap();
    assert!(html.contains("£60,000.00") && html.contains("£40,000.00") && html.contains("3.8%"));
    assert!(html.contains("Navigator funding gap from April"));
    assert_eq!(html.matches("<tr class=\"escalation\">").count(), 2, "each escalated item once in the pack");
    assert!(html.contains("@media print") && !html.contains("<script") && !html.contains("src=\"http"));

    // The computed rate, against the raw files.
    let rate = pack.indicator("vso-per-1000-12m").unwrap();
    assert!(rate.computed);
    let q3 = alliance_web::views::board_pack::BoardPack::load(db, "2025Q3".parse().unwrap(), "Test").await.unwrap();
    assert_eq!(q3.indicator("vso-per-1000-12m").unwrap().latest, None, "2024-10..2024-12 are not loaded");
    // A year on, with no newer police data: the pack shows the latest figure with its
    // period, not "not computed".
    let later = alliance_web::views::board_pack::BoardPack::load(db, "2026Q4".parse().unwrap(), "Test").await.unwrap();
    let later = later.indicator("vso-per-1000-12m").unwrap();
    assert_eq!((later.latest, later.latest_period.clone()), (rate.latest, rate.latest_period.clone()));
    if rate.latest.is_some() {
        assert_eq!(later.latest_period.as_deref(), Some("2025Q4"));
        assert!(later.note.starts_with("The latest figure is for 2025Q4"), "{}", later.note);
    }
    if let Some(shared) = common::shared_data() {
        let expected = independent_rate(&shared);
        let got = rate.latest.expect("12 months of 2025 are loaded");
        assert!((got - expected).abs() < 1e-9, "pack {got} vs raw files {expected}");
        assert!(html.contains(&alliance_web::views::board_pack::fmt_value(expected)));
    }
}

/// Violence and sexual offences in the 2025 Staffordshire street files whose LSOA (2021) is
/// in one of the nine districts, per 1,000 of the districts' IoD 2019 (mid-2015) population.
fn independent_rate(shared: &std::path::Path) -> f64 {
    const DISTRICTS: [(&str, &str); 9] = [
        ("E06000021", "Stoke-on-Trent"),
        ("E07000192", "Cannock Chase"),
        ("E07000193", "East Staffordshire"),
        ("E07000194", "Lichfield"),
        ("E07000195", "Newcastle-under-Lyme"),
        ("E07000196", "South Staffordshire"),
        ("E07000197", "Stafford"),
        ("E07000198", "Staffordshire Moorlands"),
        ("E07000199", "Tamworth"),
    ];
    let names: HashSet<&str> = DISTRICTS.iter().map(|d| d.1).collect();
    let mut count = 0_i64;
    for m in 1..=12 {
        let path = shared.join(format!("police/staffordshire/2025-{m:02}-staffordshire-street.csv"));
        let mut reader = csv::Reader::from_path(&path).unwrap();
        let headers = reader.headers().unwrap().clone();
        let col = |n: &str| headers.iter().position(|h| h == n).unwrap();
        let (name_col, type_col) = (col("LSOA name"), col("Crime type"));
        for row in reader.records() {
            let row = row.unwrap();
            let lsoa = &row[name_col];
            // "Stafford 012C" → "Stafford".
            let district = lsoa.rsplit_once(' ').map(|(d, _)| d).unwrap_or("");
            if &row[type_col] == "Violence and sexual offences" && names.contains(district) {
                count += 1;
            }
        }
    }
    let codes: HashSet<&str> = DISTRICTS.iter().map(|d| d.0).collect();
    let text = std::fs::read_to_string(shared.join("lsoa/File_6_-_IoD2019_Population_Denominators.csv")).unwrap();
    let mut reader = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let mut population = 0_i64;
    for row in reader.records() {
        let row = row.unwrap();
        if codes.contains(&row[2]) {
            population += row[4].replace(',', "").parse::<i64>().unwrap();
        }
    }
    count as f64 / population as f64 * 1000.0
}

on_each_db!(governance_end_to_end => scenario);

/// Everything governance stores, as text: equal before and after means nothing changed.
async fn governance_state(db: &Db) -> String {
    let s = db.strategies().await.unwrap();
    let id = s[0].id;
    let actions = db.actions().await.unwrap();
    let mut per_action = Vec::new();
    for a in &actions {
        per_action.push((db.action_updates(a.id).await.unwrap(), db.milestones(a.id).await.unwrap()));
    }
    format!(
        "{:?}",
        (
            (s, db.priorities(id).await.unwrap(), db.commitments(id).await.unwrap()),
            (actions, per_action, db.action_history(None).await.unwrap(), db.dependencies().await.unwrap()),
            (
                db.action_escalations().await.unwrap(),
                db.indicators().await.unwrap(),
                db.indicator_values().await.unwrap()
            ),
            (db.funding_streams().await.unwrap(), db.funding_amounts().await.unwrap(), db.allocations().await.unwrap()),
            (db.spend().await.unwrap(), db.meetings().await.unwrap(), db.meeting_items().await.unwrap()),
        )
    )
}

/// A governance change whose audit row cannot be written is not stored: with the audit log
/// refusing every row, each governance write of the storage layer fails as a fault (not as
/// the user's mistake) and leaves every governance table as it was; through the web, a
/// staff form answers 500 and stores nothing, and the audit chain is unbroken.
async fn a_failing_audit_write_leaves_the_governance_change_unstored(t: common::TestDb) {
    use common::app::{Caller, TestApp};

    let db = t.connect().await;
    let actor = common::test_actor();
    alliance::governance::seed_strategy(&db, "test").await.unwrap();
    let s = db.strategies().await.unwrap().remove(0);
    let priority = db.priorities(s.id).await.unwrap().remove(0);
    let commitment = db.commitments(s.id).await.unwrap().remove(0);
    let org = db.create_organisation("Test Police", OrgType::Police, &actor).await.unwrap();
    let fields = ActionFields {
        commitment_id: commitment.id,
        title: "Navigators",
        description: "",
        owner_org_id: org,
        lead_person: "A. Lead",
        start_date: None,
        due_date: None,
        status: ActionStatus::OnTrack,
        intervention_id: None,
    };
    let action = db.create_action(&fields, &actor, None).await.unwrap();
    let other = db.create_action(&fields, &actor, None).await.unwrap();
    let milestone = db.add_milestone(action, "Recruit", None, None, &actor).await.unwrap();
    let new_indicator = |code| NewIndicator {
        target: Some(10.0),
        owner_org_id: Some(org),
        ..common::governance::entered_indicator(code, code)
    };
    let indicator = db.create_indicator(&new_indicator("people-reached"), &actor).await.unwrap();
    let stream = db.create_funding_stream("Safer Streets", "Home Office", &actor).await.unwrap();
    db.set_funding_amount(stream, "2025/26", 1_000_000, &actor).await.unwrap();
    let allocation =
        db.create_allocation(stream, "2025/26", Some(org), None, "Wardens", 500_000, None, &actor).await.unwrap();
    let meeting = db.create_meeting(MeetingBody::Board, "2025-11-20", "Board", &[], None, &actor).await.unwrap();
    let staff = common::add_user(&db, "analyst@example.org", Role::Analyst, "Test Alliance").await;
    let (cookie, csrf) = common::session_for(&db, staff).await;
    let before = governance_state(&db).await;
    let rows_before = db.verify_audit_chain().await.unwrap().rows_checked;
    assert!(rows_before >= 12, "the set-up changes were each recorded: {rows_before}");

    super::access::fail_audit_writes(&t).await;

    let quarter = "2025Q3".to_string();
    let meeting_action = ActionFields { title: "Arising", ..fields.clone() };
    let failures: Vec<(&str, Result<(), alliance_db::DbError>)> = vec![
        ("update_priority", db.update_priority(priority.id, "Renamed", "", None, &actor).await),
        ("update_commitment", db.update_commitment(commitment.id, "New words", None, &actor).await),
        ("add_commitment", db.add_commitment(priority.id, "Another", None, &actor).await.map(drop)),
        ("create_action", db.create_action(&fields, &actor, None).await.map(drop)),
        (
            "edit_action",
            db.edit_action(action, &ActionFields { title: "Renamed", ..fields.clone() }, None, &actor).await,
        ),
        (
            "add_action_update",
            db.add_action_update(action, "2025-11-01", ActionStatus::AtRisk, "Late", &actor, Some(org)).await.map(drop),
        ),
        ("add_milestone", db.add_milestone(action, "Train", None, None, &actor).await.map(drop)),
        ("complete_milestone", db.complete_milestone(milestone, "2025-11-02", &actor).await),
        ("add_dependency", db.add_dependency(action, other, &actor).await),
        ("escalate_action", db.escalate_action(action, "2025-11-03", "Stuck", None, &actor).await.map(drop)),
        ("create_indicator", db.create_indicator(&new_indicator("sessions"), &actor).await.map(drop)),
        (
            "set_indicator_target",
            db.set_indicator_target(indicator, Some(1.0), None, Some(20.0), Some(2.0), None, &actor).await,
        ),
        (
            "enter_indicator_values",
            db.enter_indicator_values(&[("people-reached".into(), quarter.clone(), 5.0, String::new())], &actor)
                .await
                .map(drop),
        ),
        ("create_funding_stream", db.create_funding_stream("Other", "Home Office", &actor).await.map(drop)),
        ("set_funding_amount", db.set_funding_amount(stream, "2025/26", 2_000_000, &actor).await),
        (
            "create_allocation",
            db.create_allocation(stream, "2025/26", Some(org), None, "More", 900_000, None, &actor).await.map(drop),
        ),
        ("record_spend", db.record_spend(allocation, &quarter, 100_000, 0, &actor).await),
        (
            "update_funding_stream",
            db.update_funding_stream(stream, "Renamed", "Home Office", None, &actor).await.map(drop),
        ),
        (
            "update_allocation",
            db.update_allocation(allocation, Some(org), None, "Changed", 1, None, &actor).await.map(drop),
        ),
        ("delete_allocation", db.delete_allocation(allocation, &actor).await.map(drop)),
        (
            "create_meeting",
            db.create_meeting(MeetingBody::Board, "2025-12-01", "Board", &[], None, &actor).await.map(drop),
        ),
        (
            "add_meeting_item",
            db.add_meeting_item(meeting, MeetingItemKind::Decision, "Agreed", None, &actor).await.map(drop),
        ),
        ("add_meeting_action", db.add_meeting_action(meeting, &meeting_action, None, &actor).await.map(drop)),
    ];
    for (what, result) in failures {
        let e = result.expect_err(what);
        assert!(!e.is_input_error(), "{what}: a fault, not the user's mistake: {e}");
    }
    assert_eq!(governance_state(&db).await, before, "no governance change was stored without its audit row");

    // Through the web: a staff form answers with the service's error page and stores nothing.
    let app = TestApp::start(t).await;
    let analyst = Caller { cookie, csrf, bearer: None };
    let reply =
        app.post_form("/funding/streams", &analyst, &[("stream_name", "Web"), ("stream_funder", "Home Office")]).await;
    assert_eq!(reply.status, reqwest::StatusCode::INTERNAL_SERVER_ERROR, "{}", reply.body);
    assert!(reply.body.contains("Sorry, there is a problem with the service"));
    assert!(!reply.body.contains("audit write refused"), "engine errors are not shown");
    let reply = app
        .post_form(
            &format!("/actions/{action}/updates"),
            &analyst,
            &[("update_on_date", "2025-11-05"), ("update_status", "complete"), ("update_note", "Done")],
        )
        .await;
    assert_eq!(reply.status, reqwest::StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(governance_state(&app.db).await, before);
    let report = app.db.verify_audit_chain().await.unwrap();
    assert_eq!((report.rows_checked, report.first_broken), (rows_before, None));
}

on_each_db!(a_failing_audit_write => a_failing_audit_write_leaves_the_governance_change_unstored);

/// The governance cycle a Board can trust (issue 16), on the storage and the pack:
/// a partner's "At risk" dated yesterday beats the status set when the action was added
/// today; an action added this quarter is never "off track two quarters running", though
/// its back-dated updates say off track at the end of the last quarter; overdue actions
/// and milestones are flagged, listed and asked of the Board; the pack opens on the latest
/// quarter with data; the OpenDocument download holds the same pack.
async fn a_cycle_a_board_can_trust(t: TestDb) {
    let db = &t.connect().await;
    alliance::governance::seed_strategy(db, "test").await.unwrap();
    let s = db.strategies().await.unwrap().remove(0);
    let commitment = db.commitments(s.id).await.unwrap().remove(0);
    let actor = common::test_actor();
    let org = db.create_organisation("Wiltshire Police", OrgType::Police, &actor).await.unwrap();
    let today = alliance_db::clock::today_date();
    let day = |d: chrono::NaiveDate| d.format("%Y-%m-%d").to_string();
    let yesterday = day(today - chrono::Duration::days(1));
    let quarter = Quarter::of_date(&day(today)).unwrap();
    let previous = quarter.previous();
    let fields = |title: &'static str, status: ActionStatus, due: Option<&'static str>| ActionFields {
        commitment_id: commitment.id,
        title,
        description: "",
        owner_org_id: org,
        lead_person: "A. Lead",
        start_date: None,
        due_date: due,
        status,
        intervention_id: None,
    };

    // 1. Added today as not started; the partner's update dated yesterday says at risk.
    let partner = Actor::new("user:p@wiltshire", "test");
    let a1 = db.create_action(&fields("Street pastors", ActionStatus::NotStarted, None), &actor, None).await.unwrap();
    db.add_action_update(a1, &yesterday, ActionStatus::AtRisk, "Volunteers short", &partner, Some(org)).await.unwrap();
    assert_eq!(db.action(a1).await.unwrap().unwrap().status, ActionStatus::AtRisk, "the dated update counts");
    // An update recorded later but dated earlier still does not override it.
    let earlier = day(today - chrono::Duration::days(3));
    db.add_action_update(a1, &earlier, ActionStatus::OnTrack, "Late note", &partner, Some(org)).await.unwrap();
    assert_eq!(db.action(a1).await.unwrap().unwrap().status, ActionStatus::AtRisk);
    // Of two dated the same day, the one recorded later wins.
    db.add_action_update(a1, &yesterday, ActionStatus::OnTrack, "Recruited", &partner, Some(org)).await.unwrap();
    assert_eq!(db.action(a1).await.unwrap().unwrap().status, ActionStatus::OnTrack);
    db.add_action_update(a1, &yesterday, ActionStatus::AtRisk, "Lost two again", &partner, Some(org)).await.unwrap();
    assert_eq!(db.action(a1).await.unwrap().unwrap().status, ActionStatus::AtRisk);
    // An update dated after today is refused: it would set today's status from a forecast.
    let tomorrow = day(today + chrono::Duration::days(1));
    let ahead = db.add_action_update(a1, &tomorrow, ActionStatus::Complete, "Done soon", &partner, Some(org)).await;
    assert!(matches!(ahead, Err(alliance_db::DbError::Invalid { field: "on_date", .. })), "{ahead:?}");
    assert_eq!(db.action(a1).await.unwrap().unwrap().status, ActionStatus::AtRisk);

    // 2. Added this quarter, off track, with an update back-dated into last quarter saying
    // off track: not escalated. Added last quarter and off track since: escalated.
    let a2 = db.create_action(&fields("New CCTV", ActionStatus::OffTrack, None), &actor, None).await.unwrap();
    let last_q_mid = day(
        chrono::NaiveDate::parse_from_str(&previous.start_date(), "%Y-%m-%d").unwrap() + chrono::Duration::days(20)
    );
    db.add_action_update(a2, &last_q_mid, ActionStatus::OffTrack, "Was already late", &partner, Some(org))
        .await
        .unwrap();
    let a3 = db
        .create_action(&fields("Taxi marshals", ActionStatus::OffTrack, None), &actor, Some(&previous.start_date()))
        .await
        .unwrap();

    // 3. Overdue: an action due in 2020 and not complete; a complete one due then is not;
    // a milestone due in 2020 not done, another done.
    let a4 =
        db.create_action(&fields("Knife bins", ActionStatus::OnTrack, Some("2020-03-31")), &actor, None).await.unwrap();
    let a5 = db
        .create_action(&fields("Finished work", ActionStatus::Complete, Some("2020-03-31")), &actor, None)
        .await
        .unwrap();
    db.add_milestone(a4, "Order bins", Some("2020-02-01"), None, &actor).await.unwrap();
    let done = db.add_milestone(a4, "Choose sites", Some("2020-01-15"), None, &actor).await.unwrap();
    db.complete_milestone(done, "2020-01-10", &actor).await.unwrap();

    let pack = alliance_app::board_pack::BoardPack::load(db, quarter, "Wiltshire and Swindon").await.unwrap();
    assert_eq!(pack.rag_count(ActionStatus::AtRisk), 1, "a1 is at risk at the end of the quarter");
    let escalated: Vec<Option<i64>> = pack.escalations.iter().map(|e| e.action_id).collect();
    assert!(!escalated.contains(&Some(a2)), "added this quarter: not off track two quarters running");
    assert!(escalated.contains(&Some(a3)), "off track at the end of {previous} and of {quarter}");
    let row = |id| pack.all_actions().find(|r| r.id == id).unwrap();
    assert!(row(a4).overdue && !row(a5).overdue && !row(a1).overdue);
    assert_eq!(row(a4).due, "31 March 2020", "dates in plain UK format");
    let overdue: Vec<i64> = pack.overdue_actions().iter().map(|r| r.id).collect();
    assert_eq!(overdue, vec![a4]);
    let late: Vec<&str> = pack.overdue_milestones().iter().map(|m| m.title.as_str()).collect();
    assert_eq!(late, vec!["Order bins"]);
    assert_eq!(pack.milestones.len(), 2, "the pack lists every milestone of its actions");
    assert!(pack.decisions.iter().any(|d| d.decision.contains("Knife bins") && d.because.contains("Overdue")));
    assert!(pack.decisions.iter().any(|d| d.decision.contains("Taxi marshals")));
    let html = alliance_reports::board_pack::render(&pack).unwrap();
    for section in
        ["Executive summary", "Decisions required", "Overdue actions and milestones", "id=\"milestones-table\""]
    {
        assert!(html.contains(section), "the pack has {section}");
    }
    assert!(html.contains("<strong data-overdue=\"actions\">1</strong>"));
    assert!(html.contains("<strong data-overdue=\"milestones\">1</strong>"));

    // The OpenDocument download: a zip whose first entry is the stored mimetype, with the
    // same pack in content.xml.
    let odt = alliance_reports::odt::board_pack_odt(&pack).unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(odt)).unwrap();
    {
        use std::io::Read;
        let mut first = zip.by_index(0).unwrap();
        assert_eq!(first.name().unwrap(), "mimetype");
        assert_eq!(first.compression(), zip::CompressionMethod::Stored);
        let mut text = String::new();
        first.read_to_string(&mut text).unwrap();
        assert_eq!(text, "application/vnd.oasis.opendocument.text");
    }
    let mut content = String::new();
    std::io::Read::read_to_string(&mut zip.by_name("content.xml").unwrap(), &mut content).unwrap();
    for text in ["Executive summary", "Decisions required", "Knife bins", "Order bins", "31 March 2020"] {
        assert!(content.contains(text), "content.xml has {text}");
    }
    assert!(zip.by_name("META-INF/manifest.xml").is_ok() && zip.by_name("styles.xml").is_ok());

    // The pack opens on the latest quarter with data: the action history is this quarter's;
    // indicator pages look at indicator data only (none yet: the current quarter; then the
    // quarter of a value entered).
    let latest = alliance_app::board_pack::latest_quarter_with_data(db, quarter, false).await.unwrap();
    assert_eq!(latest, quarter);
    let indicator = NewIndicator {
        frequency: "monthly",
        target: Some(10.0),
        owner_org_id: Some(org),
        ..common::governance::entered_indicator("sessions", "Sessions")
    };
    db.create_indicator(&indicator, &actor).await.unwrap();
    let bad = db.enter_indicator_values(&[("sessions".into(), "2025Q3".into(), 5.0, String::new())], &actor).await;
    assert!(
        matches!(bad, Err(alliance_db::DbError::Invalid { field: "period", .. })),
        "a monthly indicator takes months"
    );
    db.enter_indicator_values(&[("sessions".into(), "2025-08".into(), 12.0, String::new())], &actor).await.unwrap();
    let latest = alliance_app::board_pack::latest_quarter_with_data(db, quarter, true).await.unwrap();
    assert_eq!(latest.to_string(), "2025Q3");
    let q3 = alliance_app::board_pack::BoardPack::load(db, latest, "W").await.unwrap();
    let sessions = q3.indicator("sessions").unwrap();
    assert_eq!((sessions.latest, sessions.latest_period.as_deref()), (Some(12.0), Some("2025-08")));
    assert_eq!(sessions.status, TargetStatus::OnTarget);
}

on_each_db!(a_cycle_a_board_can_trust);

/// `alliance board-pack` without `--quarter` writes the pack of the latest quarter with data
/// (none yet: the current quarter), and as OpenDocument text when `--out` ends in `.odt`.
#[test]
fn the_board_pack_command_writes_odt_for_the_latest_quarter() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let db = format!("sqlite://{}", dir.path().join("a.db").display());
    let run = |args: &[&str]| crate::common::alliance(&db, args);
    let init = run(&["partnership", "init", "--example", "wiltshire-and-swindon"]);
    assert!(init.status.success(), "{}", String::from_utf8_lossy(&init.stderr));
    let out = dir.path().join("pack.odt");
    let written = run(&["board-pack", "--out", &out.display().to_string()]);
    assert!(written.status.success(), "{}", String::from_utf8_lossy(&written.stderr));
    let today = alliance_db::clock::today();
    let quarter = Quarter::of_date(&today).unwrap();
    assert!(String::from_utf8_lossy(&written.stdout).contains(&format!("Board pack for {quarter}")));
    let bytes = std::fs::read(&out).expect("the pack");
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("an OpenDocument file is a zip");
    assert_eq!(zip.by_index(0).unwrap().name().unwrap(), "mimetype");
    let mut content = String::new();
    std::io::Read::read_to_string(&mut zip.by_name("content.xml").unwrap(), &mut content).unwrap();
    assert!(content.contains("Wiltshire and Swindon") && content.contains("Executive summary"), "{content}");
    assert!(!content.contains("Staffordshire"));
}
