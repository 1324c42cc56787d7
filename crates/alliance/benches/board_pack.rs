//! Board pack generation on the bundled demo data (Staffordshire 2025, 102,517 police rows)
//! with the seeded strategy, 40 actions with updates, 10 entered indicators and funding; then
//! the PDF and the OpenDocument file rendered from the loaded pack, and from the same pack
//! with 400 more actions.
//! `cargo bench -p alliance --bench board_pack`.

use std::time::Instant;

use alliance_core::access::OrgType;
use alliance_core::governance::{ActionStatus, Direction, IndicatorSource};
use alliance_db::governance::{ActionFields, NewIndicator};
use alliance_db::Db;

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    rt.block_on(async {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = Db::connect(&format!("sqlite://{}", dir.path().join("bench.db").display())).await.expect("db");
        alliance::demo::load_if_empty(&db).await.expect("demo");
        let s = db.strategies().await.unwrap().remove(0);
        let commitments = db.commitments(s.id).await.unwrap();
        let actor = alliance_db::audit::Actor::new("bench", "bench");
        let org = db.create_organisation("Staffordshire Police", OrgType::Police, &alliance_db::audit::Actor::new("bench", "bench")).await.unwrap();
        for i in 0..40 {
            let f = ActionFields {
                commitment_id: commitments[i % commitments.len()].id,
                title: "Action",
                description: "",
                owner_org_id: org,
                lead_person: "Lead",
                start_date: None,
                due_date: None,
                status: ActionStatus::OnTrack,
                intervention_id: None,
            };
            let id = db.create_action(&f, &actor, Some("2025-04-01")).await.unwrap();
            db.add_action_update(id, "2025-08-01", ActionStatus::AtRisk, "update", &actor, Some(org)).await.unwrap();
        }
        for i in 0..10 {
            let code = format!("entered-{i}");
            db.create_indicator(&NewIndicator {
                code: &code,
                name: &code,
                kind: "output",
                definition: "",
                unit: "count",
                frequency: "quarterly",
                direction: Direction::Up,
                baseline: None,
                baseline_period: None,
                target: Some(100.0),
                tolerance: Some(10.0),
                owner_org_id: None,
                priority_id: None,
                source: IndicatorSource::Entered,
            }, &actor)
            .await
            .unwrap();
            let values: Vec<_> = ["2025Q1", "2025Q2", "2025Q3", "2025Q4"]
                .iter()
                .map(|q| (code.clone(), q.to_string(), 90.0 + i as f64, String::new()))
                .collect();
            db.enter_indicator_values(&values, &actor).await.unwrap();
        }
        let stream = db.create_funding_stream("Serious Violence Duty grant", "Home Office", &actor).await.unwrap();
        db.set_funding_amount(stream, "2025/26", 10_000_000, &actor).await.unwrap();
        let a = db.create_allocation(stream, "2025/26", Some(org), None, "bench", 5_000_000, None, &actor).await.unwrap();
        db.record_spend(a, "2025Q3", 1_000_000, 100_000, &actor).await.unwrap();
        let q = "2025Q4".parse().unwrap();
        let mut times = Vec::new();
        let mut bytes = 0;
        for _ in 0..5 {
            let t = Instant::now();
            let pack = alliance_app::board_pack::BoardPack::load(&db, q, "Bench").await.unwrap();
            bytes = alliance_reports::board_pack::render(&pack).unwrap().len();
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        times.sort_by(|a, b| a.total_cmp(b));
        println!("board pack 2025Q4 (SQLite, demo data, 40 actions, 15 indicators): median {:.1} ms, min {:.1} ms, max {:.1} ms over 5 runs; {} bytes of HTML", times[2], times[0], times[4], bytes);

        // The documents rendered from a loaded pack (no database): the PDF and the
        // OpenDocument file, on this pack and on one of 400 actions (about 20 pages).
        let mut pack = alliance_app::board_pack::BoardPack::load(&db, q, "Bench").await.unwrap();
        pack.logo_png = Some(alliance_core::logo::sample_png(240, 80));
        let mut large = pack.clone();
        let template = large.all_actions().next().expect("an action").clone();
        let sections = large.priorities.len();
        for i in 0..400 {
            let mut a = template.clone();
            a.title = format!("Action {i}: a longer title, as partners write them, that wraps in its column");
            large.priorities[i % sections].actions.push(a);
        }
        for (what, pack) in [("demo pack", &pack), ("pack with 400 more actions", &large)] {
            time(&format!("PDF of the {what}"), || alliance_reports::pdf::board_pack_pdf(pack).unwrap());
            time(&format!("ODT of the {what}"), || alliance_reports::odt::board_pack_odt(pack).unwrap());
        }
    });
}

/// Times `render` over 21 runs and prints the median, minimum and maximum and the size.
fn time(what: &str, render: impl Fn() -> Vec<u8>) {
    let mut times = Vec::new();
    let mut size = 0;
    for _ in 0..21 {
        let t = Instant::now();
        size = render().len();
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(|a, b| a.total_cmp(b));
    println!(
        "{what}: median {:.2} ms, min {:.2} ms, max {:.2} ms over 21 runs; {size} bytes",
        times[10], times[0], times[20]
    );
}
