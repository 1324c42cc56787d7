//! Governance and performance, as a new user would meet it: the demo loads the strategy, a
//! partner user updates their organisation's action (and is refused on another's), a
//! quarter's indicator values are entered, and the Board pack's RAG counts, escalations and
//! funding totals match what was entered; the computed rate of violence and sexual offences
//! per 1,000 residents equals the figure worked out straight from the raw CSV files.
//!
//! The permission is tested on the rule the web handlers call
//! (`alliance_core::governance::can_update_action`), not over HTTP.

use crate::common;

use std::collections::HashSet;

use alliance_core::access::{OrgType, Role};
use alliance_core::governance::{
    can_update_action, ActionStatus, Direction, IndicatorSource, Quarter, SpendFlag, TargetStatus,
};
use alliance_db::governance::{ActionFields, NewIndicator};
use alliance_db::Db;

async fn scenario(db: &Db) {
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
    // Seeding again changes nothing.
    let (_, created) = alliance::governance::seed_strategy(db, "test").await.unwrap();
    assert!(!created);
    assert_eq!(db.commitments(strategy.id).await.unwrap().len(), 46);

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
    let a1 = db
        .create_action(&fields("Navigators in A&E", police, ActionStatus::OnTrack), "analyst", Some("2025-07-01"))
        .await
        .unwrap();
    let a2 = db
        .create_action(&fields("Schools charter", council, ActionStatus::Complete), "analyst", Some("2025-10-05"))
        .await
        .unwrap();
    let a3 = db
        .create_action(&fields("Taxi marshals", police, ActionStatus::OffTrack), "analyst", Some("2025-05-01"))
        .await
        .unwrap();
    let _a4 = db
        .create_action(&fields("Peer mentors", council, ActionStatus::NotStarted), "analyst", Some("2025-12-01"))
        .await
        .unwrap();
    let _later = db
        .create_action(&fields("Next year", council, ActionStatus::OnTrack), "analyst", Some("2026-01-10"))
        .await
        .unwrap();

    // A partner user at the police updates the police's action and is refused on the council's.
    let action1 = db.action(a1).await.unwrap().unwrap();
    let action2 = db.action(a2).await.unwrap().unwrap();
    assert!(can_update_action(Role::PartnerUser, police, action1.owner_org_id));
    assert!(!can_update_action(Role::PartnerUser, police, action2.owner_org_id));
    assert!(can_update_action(Role::Analyst, police, action2.owner_org_id));
    assert!(!can_update_action(Role::BoardMember, council, action2.owner_org_id));
    db.add_action_update(a1, "2025-11-10", ActionStatus::AtRisk, "Recruitment delayed", "user:p@police", Some(police))
        .await
        .unwrap();
    db.add_action_update(a3, "2025-08-15", ActionStatus::OffTrack, "No provider yet", "user:p@police", Some(police))
        .await
        .unwrap();
    assert_eq!(db.action(a1).await.unwrap().unwrap().status, ActionStatus::AtRisk);
    let history = db.action_history(Some(a1)).await.unwrap();
    assert!(history.iter().any(|h| h.field == "status" && h.new_value.as_deref() == Some("at-risk")));

    // Indicators: two entered for 2025Q4; typing a computed one is refused.
    for (code, target, tolerance) in [("people-reached", 500.0, 50.0), ("charter-venues", 20.0, 5.0)] {
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
            target: Some(target),
            tolerance: Some(tolerance),
            owner_org_id: Some(council),
            priority_id: Some(priorities[2].id),
            source: IndicatorSource::Entered,
        })
        .await
        .unwrap();
    }
    let entered = vec![
        ("people-reached".to_string(), "2025Q4".to_string(), 430.0, String::new()),
        ("charter-venues".to_string(), "2025Q4".to_string(), 18.0, String::new()),
    ];
    assert_eq!(db.enter_indicator_values(&entered, "analyst").await.unwrap(), 2);
    let typed = vec![("vso-per-1000-12m".to_string(), "2025Q4".to_string(), 1.0, String::new())];
    assert!(db.enter_indicator_values(&typed, "analyst").await.unwrap_err().to_string().contains("computed"));

    // Meetings: the Delivery Group escalates one item.
    let dg = db
        .create_meeting("delivery-group", "2025-11-20", "Delivery Group Q3", &[(police, "Inspector".into())])
        .await
        .unwrap();
    db.add_meeting_item(dg, "escalation", "Navigator funding gap from April", None).await.unwrap();
    db.add_meeting_item(dg, "decision", "Adopt the charter", None).await.unwrap();
    let board = db.create_meeting("board", "2025-12-02", "Board", &[(council, "Director".into())]).await.unwrap();
    db.add_meeting_item(board, "escalation", "Board items are not escalations to itself", None).await.unwrap();
    // The Delivery Group also marks the off-track action for escalation: it is escalated for
    // two reasons, and the pack lists it once with both.
    db.escalate_action(a3, "2025-11-20", "No provider since August", "user:dg@alliance").await.unwrap();

    // Funding for 2025/26: two allocations, spend in three quarters.
    let svd = db.create_funding_stream("Serious Violence Duty grant", "Home Office").await.unwrap();
    db.set_funding_amount(svd, "2025/26", 10_000_000).await.unwrap();
    let al1 = db.create_allocation(svd, "2025/26", Some(police), None, "Navigators", 4_000_000).await.unwrap();
    let al2 = db.create_allocation(svd, "2025/26", Some(council), None, "Charter", 2_000_000).await.unwrap();
    for (q, p, e) in [("2025Q2", 1_000_000, 100_000), ("2025Q3", 1_000_000, 0), ("2025Q4", 500_000, 50_000)] {
        db.record_spend(al1, q, p, e, "analyst").await.unwrap();
    }
    for q in ["2025Q2", "2025Q3", "2025Q4"] {
        db.record_spend(al2, q, 500_000, 0, "analyst").await.unwrap();
    }

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
        vec!["Delivery Group, 2025-11-20 (action plan)".to_string(), "Off track two quarters running".to_string()],
        "off track at the ends of 2025Q3 and 2025Q4, and marked by the Delivery Group"
    );
    assert_eq!(taxi[0].source, "Delivery Group, 2025-11-20 (action plan); Off track two quarters running");
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn governance_end_to_end_sqlite() {
    let t = common::sqlite();
    scenario(&t.connect().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn governance_end_to_end_postgres() {
    let Some(t) = common::postgres().await else { return };
    scenario(&t.connect().await).await;
}
