//! Referrals feed the rest of Alliance (issue 17), on both backends:
//! - a service with its own case system makes and moves referrals through the command line
//!   (`alliance referrals create --file … --as …`, `status … --to … --as …`): the same
//!   validation as the API (no referral without consent; bad input changes nothing), only the
//!   referral's two organisations, audited as the named user;
//! - the Board pack has a "Referrals" section for the quarter (a plain sentence when no
//!   service takes referrals), every figure suppressed together with the others (a small
//!   count cannot be worked out from the totals);
//! - an intervention names the commissioned service that delivers it (form select, command
//!   line), and its evaluation report shows the service's referrals beside the crime figures.

use crate::common;
use crate::referrals::{set_up_service, SERVICE, SERVICE_NAME};

use std::path::Path;
use std::process::ExitCode;

use alliance_app::board_pack::BoardPack;
use alliance_core::access::Role;
use alliance_db::Db;
use axum::http::StatusCode;
use clap::Parser;
use common::app::TestApp;

const INITIALS: &str = "QZX";
const PHONE: &str = "07700900461";
const TEACHER: &str = "teacher@school.example";
const WORKER: &str = "worker@charity.example";

/// The body of `POST /api/v1/referrals` (and of `referrals create --file`), received on
/// `received`.
fn referral_json(received: &str, with_consent: bool) -> serde_json::Value {
    let mut v = serde_json::json!({
        "service": SERVICE,
        "received": received,
        "source": "school",
        "reason": "carrying-weapon",
        "other_needs": ["school-exclusion"],
        "person": {"initials": INITIALS, "age": "15", "sex": "male", "postcode_district": "ST4",
                   "contact_route": "phone", "contact_detail": PHONE},
    });
    if with_consent {
        v["consent"] = serde_json::json!({"given_by": "parent-or-carer", "date": received, "method": "verbal",
            "lawful_basis": "public-task",
            "reason": "Safeguarding under the Children Act 2004 and the Serious Violence Duty"});
    }
    v
}

/// Runs `alliance --db URL ARGS…` in this process (the library the binary is).
async fn cli(url: &str, args: &[&str]) -> anyhow::Result<ExitCode> {
    let mut all = vec!["alliance", "--db", url];
    all.extend_from_slice(args);
    let parsed = alliance::commands::Cli::try_parse_from(&all).map_err(|e| anyhow::anyhow!("{e}"))?;
    alliance::commands::run(parsed).await
}

fn write(dir: &Path, name: &str, value: &serde_json::Value) -> String {
    let path = dir.join(name);
    std::fs::write(&path, value.to_string()).expect("write the file");
    path.display().to_string()
}

fn range(from: &str, to: &str) -> alliance_core::domain::MonthRange {
    alliance_core::domain::MonthRange::new(from.parse().expect("month"), to.parse().expect("month")).expect("range")
}

async fn count(db: &Db) -> usize {
    db.all_referrals().await.expect("referrals").len()
}

/// Street files from July 2024 to June 2025 with crimes at the target and in its buffer, so an
/// evaluation of before (July–December 2024) and after (January–June 2025) can run.
fn write_streets(dir: &Path) {
    let mut n = 0u64;
    for (year, month) in (7..=12).map(|m| (2024, m)).chain((1..=6).map(|m| (2025, m))) {
        let m = format!("{year}-{month:02}");
        let mut text = String::from("Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,Last outcome category,Context\n");
        for (lon, lat, k) in [(-2.19, 53.005, 12), (-2.19, 53.0095, 6)] {
            for _ in 0..k {
                n += 1;
                text.push_str(&format!(
                    "{n:064x},{m},Staffordshire Police,Staffordshire Police,{lon},{lat},On or near Test Street,E01099999,Test 001A,Burglary,Under investigation,\n"
                ));
            }
        }
        std::fs::write(dir.join(format!("{m}-staffordshire-street.csv")), text).expect("write a street file");
    }
}

const TARGET_GEOJSON: &str = r#"{"type":"Polygon","coordinates":[[[-2.195,53.002],[-2.185,53.002],[-2.185,53.008],[-2.195,53.008],[-2.195,53.002]]]}"#;

async fn referrals_feed_the_rest(app: TestApp) {
    let db = app.db.clone();
    let url = app.db_url.clone();
    let dir = tempfile::tempdir().expect("a temporary folder");
    let quarter: alliance_core::governance::Quarter = "2025Q2".parse().expect("quarter");

    // No commissioned service yet: the Board pack says so in a sentence, with no figures.
    let pack = BoardPack::load(&db, quarter, "Test").await.expect("pack");
    assert!(pack.referrals.is_none());
    let html = alliance_reports::board_pack::render(&pack).expect("render");
    assert!(html.contains("id=\"no-referrals\"") && html.contains(alliance_app::board_pack::NO_REFERRALS));
    assert!(!html.contains("id=\"referrals-by-service\""));

    app.signed_in(TEACHER, Role::PartnerUser, "Oak School").await;
    app.signed_in(WORKER, Role::PartnerUser, "Navigator Charity").await;
    let analyst = app.signed_in("analyst@vrp.example", Role::Analyst, "VRP").await;
    app.signed_in("chair@board.example", Role::BoardMember, "Navigator Charity").await;
    let charity = db.organisation_by_name("Navigator Charity").await.expect("read").expect("exists").id;
    set_up_service(&db, charity).await;

    // The command line: no consent record → the referral is not made, every field named.
    let no_consent = write(dir.path(), "no-consent.json", &referral_json("2025-04-02", false));
    let code = cli(&url, &["referrals", "create", "--file", &no_consent, "--as", TEACHER]).await.expect("runs");
    assert_eq!(code, ExitCode::FAILURE);
    assert_eq!(count(&db).await, 0, "bad input changes nothing");
    // Not JSON: refused naming the file, line and column; nothing made.
    let broken = dir.path().join("broken.json");
    std::fs::write(&broken, "{\"service\": ").expect("write");
    let e = cli(&url, &["referrals", "create", "--file", broken.to_str().expect("path"), "--as", TEACHER])
        .await
        .expect_err("not JSON");
    assert!(e.to_string().contains("broken.json: line 1"), "{e}");
    // A Board member, an unknown address: refused, nothing made.
    let good = write(dir.path(), "referral.json", &referral_json("2025-04-02", true));
    assert!(cli(&url, &["referrals", "create", "--file", &good, "--as", "chair@board.example"]).await.is_err());
    assert!(cli(&url, &["referrals", "create", "--file", &good, "--as", "nobody@example.org"]).await.is_err());
    assert_eq!(count(&db).await, 0);
    // As the teacher: made, audited as the named user through the command line.
    let code = cli(&url, &["referrals", "create", "--file", &good, "--as", TEACHER]).await.expect("made");
    assert_eq!(code, ExitCode::SUCCESS);
    assert_eq!(count(&db).await, 1);
    let id = db.all_referrals().await.expect("read")[0].id;
    let created = common::audit_rows(&db, "referral-create").await;
    assert_eq!(created.len(), 1);
    assert!(created[0].actor.starts_with("cli:") && created[0].actor.ends_with(&format!(" as user:{TEACHER}")));
    assert!(!created[0].detail.contains(INITIALS) && !created[0].detail.contains(PHONE));

    // Status: only the receiving service accepts; a detail only where it belongs; a date not
    // before the step before; audited as the named user.
    let id_text = id.to_string();
    let status = |to: &'static str, who: &'static str, extra: &'static [&'static str]| {
        let url = url.clone();
        let id_text = id_text.clone();
        async move {
            let mut args = vec!["referrals", "status", id_text.as_str(), "--to", to, "--as", who];
            args.extend_from_slice(extra);
            cli(&url, &args).await
        }
    };
    assert!(status("accepted", TEACHER, &["--on", "2025-04-03"]).await.is_err(), "the referrer cannot accept");
    assert!(status("accepted", WORKER, &["--on", "2025-04-03", "--outcome", "goals-met"]).await.is_err());
    assert!(status("closed", WORKER, &["--on", "2025-04-03", "--outcome", "finished"]).await.is_err());
    assert!(status("accepted", WORKER, &["--on", "2025-04-01"]).await.is_err(), "before it was received");
    assert!(status("promoted", WORKER, &[]).await.is_err());
    assert_eq!(db.referral(id).await.expect("read").expect("exists").status().code(), "received");
    status("accepted", WORKER, &["--on", "2025-04-03"]).await.expect("accepted");
    status("engaged", WORKER, &["--on", "2025-04-10"]).await.expect("engaged");
    status("closed", WORKER, &["--on", "2025-06-20", "--outcome", "goals-met"]).await.expect("closed");
    assert_eq!(db.referral(id).await.expect("read").expect("exists").status().code(), "closed");
    let moves = common::audit_rows(&db, "referral-status").await;
    assert_eq!(moves.len(), 3);
    assert!(moves.iter().all(|m| m.actor.ends_with(&format!(" as user:{WORKER}"))), "{moves:?}");

    // Six more referrals in the quarter through the use case: five engaged and closed with
    // goals met, one declined (as below). The quarter then has 7 made, 6 accepted, 1 declined,
    // 6 engaged, 6 closed (goals met).
    let who = |email: &'static str| {
        let db = db.clone();
        async move {
            let u = db.user_by_email(email).await.expect("read").expect("user");
            alliance_app::referrals::Who::of(&u).expect("who")
        }
    };
    let (teacher_who, worker_who) = (who(TEACHER).await, who(WORKER).await);
    let mailer = alliance_app::mail::Mailer::none();
    let today = alliance_db::clock::today_date();
    let day = |d: &str| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").expect("date");
    let actor = common::test_actor();
    for k in 0..6 {
        let form: alliance_core::referrals::ReferralForm =
            serde_json::from_value(referral_json("2025-05-02", true)).expect("form");
        let made = alliance_app::referrals::make(
            &db,
            &mailer,
            teacher_who,
            SERVICE,
            &form,
            None,
            today,
            &common::test_actor(),
        )
        .await
        .expect("no fault")
        .expect("valid");
        use alliance_core::referrals::Event;
        let act = |event: Event, on: &str| {
            alliance_app::referrals::act(&db, &mailer, worker_who, made.id, event, Some(day(on)), today, &actor)
        };
        if k == 5 {
            act(Event::Decline { reason: alliance_core::referrals::DeclineReason::NoCapacity }, "2025-05-03")
                .await
                .expect("declined");
            continue;
        }
        act(Event::Accept, "2025-05-03").await.expect("accepted");
        act(Event::Engage, "2025-05-05").await.expect("engaged");
        act(Event::Close { outcome: alliance_core::referrals::ClosureOutcome::GoalsMet }, "2025-06-01")
            .await
            .expect("closed");
    }

    // The Board pack's section: made 7, engaged 6, closed 6 (goals met 6). Declined 1 is
    // small ("fewer than 5"); the decided count (7) is published with its median, so the
    // accepted count (6 = 7 − 1) would give the declined one away: it is withheld, in the
    // service's line and in the total alike.
    let pack = BoardPack::load(&db, quarter, "Test").await.expect("pack");
    let r = pack.referrals.as_ref().expect("a referral section");
    let line = r.service(SERVICE).expect("the service's line");
    assert_eq!(line.service_name, SERVICE_NAME);
    for l in [line, &r.all] {
        assert_eq!(
            (l.made.as_str(), l.accepted.as_str(), l.declined.as_str(), l.engaged.as_str(), l.closed.as_str()),
            ("7", "withheld", "fewer than 5", "6", "6")
        );
    }
    let goals_met = r.all.outcomes.iter().find(|o| o.0 == "Completed: goals met").expect("listed");
    assert_eq!(goals_met.1, "6");

    // Referral counts feed the performance framework: a computed indicator of referrals made
    // (issue 17, "feeds the rest") counts the quarter's 7 in the Board pack's model.
    let define = [
        "indicators",
        "define",
        "--code",
        "referrals-made",
        "--name",
        "Referrals made",
        "--unit",
        "referrals",
        "--direction",
        "up",
        "--source",
        "referrals",
        "--event",
        "made",
    ];
    assert_eq!(cli(&url, &define).await.expect("defined"), ExitCode::SUCCESS);
    let pack = BoardPack::load(&db, quarter, "Test").await.expect("pack");
    let made = pack.indicators.iter().find(|i| i.code == "referrals-made").expect("the indicator in the pack");
    assert_eq!((made.computed, made.latest), (true, Some(7.0)), "{made:?}");
    assert!(r.all.outcomes.iter().filter(|o| o.0 != "Completed: goals met").all(|o| o.1 == "0"));
    assert_eq!(r.decided, "7");
    // Decision waits: 1 day (the CLI one) and 1 day (six of them); engagement: 7 and 2 days.
    assert_eq!(r.decision_median.as_deref(), Some("1"));
    assert_eq!(r.engaged, "6");
    assert_eq!(r.engagement_median.as_deref(), Some("2"));
    let html = alliance_reports::board_pack::render(&pack).expect("render");
    assert!(html.contains("id=\"referrals-by-service\"") && html.contains(SERVICE_NAME), "{html}");
    assert!(!html.contains(INITIALS) && !html.contains(PHONE) && !html.contains("id=\"no-referrals\""));
    let odt = alliance_reports::odt::board_pack_odt(&pack).expect("odt");
    assert!(odt.starts_with(b"PK"), "an OpenDocument file is a zip");
    // Another quarter: every line zero, still shown.
    let q1 = BoardPack::load(&db, "2025Q1".parse().expect("quarter"), "Test").await.expect("pack");
    assert_eq!(q1.referrals.as_ref().expect("section").all.made, "0");
    // The Board pack page on the web shows the section to the Board (figures only).
    let board = app.signed_in("board2@board.example", Role::BoardMember, "VRP").await;
    let page = app.get("/board-pack/2025Q2", &board).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("id=\"referrals-by-service\"") && page.body.contains("withheld"), "{}", page.body);
    assert!(!page.body.contains(INITIALS));

    // An intervention names the service: through the form (a select of the services; an
    // unknown one refused with its field named) and the command line.
    let form = app.get("/interventions/new", &analyst).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("name=\"referral_service\"") && form.body.contains(&format!("value=\"{SERVICE}\"")));
    let mut fields = vec![
        ("name", "ED navigators at the hospital"),
        ("intervention_type", "navigator"),
        ("place_kind", "geojson"),
        ("place_geojson", TARGET_GEOJSON),
        ("start_date", "2025-01-01"),
        ("referral_service", "no-such-service"),
    ];
    let refused = app.post_form("/interventions", &analyst, &fields).await;
    refused.assert_refused(&["href=\"#referral_service\""]);
    assert!(db.interventions().await.expect("read").is_empty(), "nothing stored");
    fields.pop();
    fields.push(("referral_service", SERVICE));
    let created = app.post_form("/interventions", &analyst, &fields).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let iid = db.interventions().await.expect("read")[0].id;
    assert_eq!(db.intervention(iid).await.expect("read").expect("exists").referral_service.as_deref(), Some(SERVICE));
    let iid_text = iid.to_string();
    assert!(cli(&url, &["referrals", "link-intervention", &iid_text, "--service", "nope"]).await.is_err());
    assert!(cli(&url, &["referrals", "link-intervention", "999999", "--service", SERVICE]).await.is_err());
    cli(&url, &["referrals", "link-intervention", &iid_text, "--none"]).await.expect("unlinked");
    assert_eq!(db.intervention(iid).await.expect("read").expect("exists").referral_service, None);
    cli(&url, &["referrals", "link-intervention", &iid_text, "--service", SERVICE]).await.expect("linked");
    let edit = app.get(&format!("/interventions/{iid}/edit"), &analyst).await;
    assert!(edit.body.contains(&format!("value=\"{SERVICE}\" selected")), "{}", edit.body);

    // Its evaluation shows the service's referrals in the published quarter of each period
    // (the latest whole calendar quarter: October–December 2024 and April–June 2025) beside
    // the crime figures, suppressed as in the Board pack.
    write_streets(dir.path());
    common::import_all(&db, &common::police_files(dir.path())).await;
    let design = [
        ("before_from", "2024-07"),
        ("before_to", "2024-12"),
        ("after_from", "2025-01"),
        ("after_to", "2025-06"),
        ("buffer_metres", "200"),
        ("comparison_kind", "none"),
    ];
    let run = app.post_form(&format!("/interventions/{iid}/evaluations"), &analyst, &design).await;
    assert_eq!(run.status, StatusCode::SEE_OTHER, "{}", run.body);
    let eid = run.header("location").expect("redirect").rsplit_once("#evaluation-").expect("anchor").1.to_string();
    let report = app.get(&format!("/interventions/{iid}/evaluations/{eid}.html"), &analyst).await;
    assert_eq!(report.status, StatusCode::OK);
    let body = &report.body;
    assert!(body.contains("id=\"service-referrals\"") && body.contains(SERVICE_NAME), "{body}");
    assert!(
        body.contains("1 October 2024 to 31 December 2024") && body.contains("1 April 2025 to 30 June 2025"),
        "{body}"
    );
    assert!(body.contains("<td class=\"num\">7</td>") && body.contains("withheld"), "{body}");
    assert!(!body.contains(INITIALS) && !body.contains(PHONE));
    let referrals = alliance_app::referrals::for_intervention(
        &db,
        iid,
        range("2024-07", "2024-12"),
        range("2025-01", "2025-06"),
        &alliance_app::Disclosure::default(),
    )
    .await
    .expect("figures")
    .expect("a service");
    let periods: Vec<(&str, &str)> = referrals.periods.iter().map(|p| (p.0.as_str(), p.3.made.as_str())).collect();
    assert_eq!(periods, vec![("Before", "0"), ("After", "7")]);
    assert!(db.verify_audit_chain().await.expect("chain").first_broken.is_none());
}
on_each_app!(referrals_feed_the_rest);
