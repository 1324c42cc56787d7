//! Every form that creates a record carries a one-time key (`alliance_db::submissions`): the
//! same form sent twice (a double click, two tabs, a retry), even at the same moment, makes
//! one record and one audit row, and the repeat answers with what the first made; forms with
//! different keys make one record each; a key longer than 100 characters is refused.
//!
//! One table of the creating forms, each by its store's create function, run on both
//! backends; and through the web, each form's page carries its key and the same form sent
//! twice is sent on to the same place.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use alliance_app::AppError;
use alliance_core::access::{OrgType, Role};
use alliance_core::governance::{ActionStatus, MeetingBody, MeetingItemKind};
use alliance_db::access::{NewAgreement, NewDpia};
use alliance_db::governance::{ActionFields, StrategyFields};
use alliance_db::interventions::NewIntervention;
use alliance_db::public::charter::{NewPledge, NewSignatory};
use alliance_db::{Db, DbError};
use reqwest::StatusCode;
use sqlx::Connection;

use crate::common;
use crate::common::app::TestApp;

/// What a create function gives back: the id of what it made (or of what the first
/// submission with its key made), as text (a directory service's id is text).
type Made = Pin<Box<dyn Future<Output = Result<String, DbError>> + Send>>;

/// A store's create function as a form calls it: the database, the form's key, and `n`, which
/// tells apart what different submissions make where a name must be unique.
type Create = Arc<dyn Fn(Db, Option<String>, usize) -> Made + Send + Sync>;

/// One creating form: its name, the table its records go in, whether its store writes an
/// audit row (a public application has no signed-in actor, so none), and its create function.
struct Creating {
    name: &'static str,
    table: &'static str,
    audited: bool,
    create: Create,
}

/// The id as text.
fn made(r: Result<i64, DbError>) -> Result<String, DbError> {
    r.map(|id| id.to_string())
}

/// A use case's error as the store's (the use cases of places and the directory pass the
/// store's input errors on with their kind).
fn stored(e: AppError) -> DbError {
    match e {
        AppError::Invalid { field, reason } => DbError::Invalid { field, reason },
        AppError::Conflict { field, reason } => DbError::Conflict { field, reason },
        AppError::Db(e) => e,
        other => DbError::corrupt(format!("unexpected: {other}")),
    }
}

/// A [`Creating`] row: `|db, key, n, by| body`, `by` the test actor.
macro_rules! creating {
    ($name:literal, $table:literal, $audited:literal, |$db:ident, $key:ident, $n:ident, $by:ident| $body:expr) => {
        Creating {
            name: $name,
            table: $table,
            audited: $audited,
            create: Arc::new(move |$db: Db, $key: Option<String>, $n: usize| -> Made {
                Box::pin(async move {
                    let $by = common::test_actor();
                    $body
                })
            }),
        }
    };
}

/// The records stored in `table`.
async fn count(url: &str, table: &str) -> i64 {
    let mut conn = sqlx::AnyConnection::connect(url).await.expect("connect");
    let n = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(&mut conn).await.expect("count");
    let _ = conn.close().await;
    n
}

/// Every creating form of the web app, on a database with what they hang from (an
/// organisation, the seeded strategy, an action, a meeting, a funding stream with an amount,
/// a charter commitment).
async fn creating_forms(db: &Db) -> Vec<Creating> {
    let actor = common::test_actor();
    let org = db.create_organisation("Test Police", OrgType::Police, &actor).await.expect("org");
    alliance::governance::seed_strategy(db, "test").await.expect("seed");
    let strategy = db.strategies().await.expect("strategies").remove(0).id;
    let priority = db.priorities(strategy).await.expect("priorities").remove(0).id;
    let commitment = db.commitments(strategy).await.expect("commitments").remove(0).id;
    let fields = move |title: &'static str| ActionFields {
        commitment_id: commitment,
        title,
        description: "",
        owner_org_id: org,
        lead_person: "Lead",
        start_date: None,
        due_date: None,
        status: ActionStatus::NotStarted,
        intervention_id: None,
    };
    let action = db.create_action(&fields("Parent action"), &actor, None).await.expect("action");
    let meeting =
        db.create_meeting(MeetingBody::Board, "2025-10-15", "Board", &[], None, &actor).await.expect("meeting");
    let stream = db.create_funding_stream("Parent stream", "Home Office", &actor).await.expect("stream");
    db.set_funding_amount(stream, "2025/26", 1_000_000, &actor).await.expect("amount");
    let pledge = db.add_charter_commitment("Safe venues", "Lighting", &actor).await.expect("charter");
    vec![
        creating!("action", "actions", true, |db, key, _n, by| {
            made(db.create_action_keyed(&fields("Wardens"), None, key.as_deref(), &by).await)
        }),
        creating!("action update", "action_updates", true, |db, key, _n, by| {
            let on = alliance_db::clock::today();
            let update = db.add_action_update_keyed(
                action,
                &on,
                ActionStatus::OnTrack,
                "Going well",
                key.as_deref(),
                &by,
                Some(org),
            );
            made(update.await)
        }),
        creating!("milestone", "action_milestones", true, |db, key, _n, by| {
            made(db.add_milestone(action, "Recruit", None, key.as_deref(), &by).await)
        }),
        creating!("escalation", "action_escalations", true, |db, key, _n, by| {
            made(db.escalate_action(action, "2025-10-01", "Stuck", key.as_deref(), &by).await)
        }),
        creating!("indicator", "indicators", true, |db, key, n, by| {
            let code = format!("reached-{n}");
            made(
                db.create_indicator_keyed(
                    &common::governance::entered_indicator(&code, "Reached"),
                    key.as_deref(),
                    &by,
                )
                .await,
            )
        }),
        creating!("intervention", "interventions", true, |db, key, _n, by| {
            let new = NewIntervention {
                name: "Park lighting".into(),
                place_kind: "lsoa".into(),
                place_codes: vec!["E01014210".into()],
                ..Default::default()
            };
            made(db.create_intervention(&new, key.as_deref(), &by).await)
        }),
        creating!("strategy", "strategies", true, |db, key, n, by| {
            let f = StrategyFields {
                name: format!("Strategy {n}"),
                period_start: "2030".into(),
                period_end: "2035".into(),
                aim: "Less violence".into(),
                source: String::new(),
            };
            made(db.create_strategy(&f, key.as_deref(), &by).await)
        }),
        creating!("priority", "priorities", true, |db, key, n, by| {
            made(db.add_priority(strategy, &format!("Priority {n}"), "", key.as_deref(), &by).await)
        }),
        creating!("commitment", "commitments", true, |db, key, _n, by| {
            made(db.add_commitment(priority, "We will", key.as_deref(), &by).await)
        }),
        creating!("place", "places", true, |db, key, n, by| {
            let input = alliance_app::places::PlaceInput {
                name: format!("Park {n}"),
                kind: "park".into(),
                description: String::new(),
                geojson: PARK.into(),
            };
            alliance_app::places::add(&db, &input, key.as_deref(), &by).await.map(|id| id.to_string()).map_err(stored)
        }),
        creating!("funding stream", "funding_streams", true, |db, key, n, by| {
            made(db.create_funding_stream_keyed(&format!("Stream {n}"), "Home Office", key.as_deref(), &by).await)
        }),
        creating!("allocation", "funding_allocations", true, |db, key, _n, by| {
            made(db.create_allocation(stream, "2025/26", Some(org), None, "Wardens", 1_000, key.as_deref(), &by).await)
        }),
        creating!("meeting", "meetings", true, |db, key, _n, by| {
            made(
                db.create_meeting(MeetingBody::DeliveryGroup, "2025-11-01", "Delivery Group", &[], key.as_deref(), &by)
                    .await,
            )
        }),
        creating!("meeting item", "meeting_items", true, |db, key, _n, by| {
            made(db.add_meeting_item(meeting, MeetingItemKind::Decision, "Agreed", key.as_deref(), &by).await)
        }),
        creating!("meeting action", "meeting_items", true, |db, key, _n, by| {
            made(db.add_meeting_action(meeting, &fields("Arising"), key.as_deref(), &by).await)
        }),
        creating!("agreement", "agreements", true, |db, key, _n, by| {
            let new = NewAgreement {
                title: "ED data",
                purpose: "Targeting",
                lawful_basis: "Public task",
                review_date: "2099-06-30",
                end_date: "",
                dpia_reference: "",
                dpia_date: "",
                parties: &[],
            };
            made(db.create_agreement(&new, key.as_deref(), &by).await)
        }),
        creating!("DPIA", "dpias", true, |db, key, _n, by| {
            let new = NewDpia {
                title: "ED sharing",
                datasets: "ed",
                completed_on: "2025-01-10",
                review_date: "2099-01-10",
                summary: "",
            };
            made(db.create_dpia(&new, key.as_deref(), &by).await)
        }),
        creating!("directory service", "support_services", true, |db, key, _n, by| {
            let form = alliance_app::directory::ServiceForm {
                name: "Youth mentoring".into(),
                description: "Mentors for young people".into(),
                organisation_name: "Youth Trust".into(),
                needs: vec![alliance_ingest::oruk::NEEDS[0].0.to_string()],
                kind: "support".into(),
                ..Default::default()
            };
            alliance_app::directory::add(&db, &form, key.as_deref(), &by).await.map_err(stored)
        }),
        creating!("you said, we did", "public_responses", true, |db, key, _n, by| {
            made(
                db.publish_response(
                    "district",
                    "E06000021",
                    "Stoke-on-Trent",
                    "Dark paths",
                    "New lights",
                    key.as_deref(),
                    &by,
                )
                .await,
            )
        }),
        creating!("charter application", "charter_signatories", false, |db, key, _n, _by| {
            let application = NewSignatory {
                name: "The Example Arms".into(),
                org_type: "business".into(),
                address: "1 High Street".into(),
                postcode: "ST1 1AA".into(),
                contact_name: "Sam".into(),
                contact_email: "sam@example.org".into(),
                contact_phone: String::new(),
                staff_trained: 1,
                venues: Vec::new(),
                pledges: vec![NewPledge {
                    commitment_id: pledge,
                    how_met: "Trained staff".into(),
                    evidence: String::new(),
                }],
            };
            made(db.register_signatory(&application, key.as_deref()).await)
        }),
    ]
}

/// A small park in Stoke-on-Trent.
const PARK: &str = r#"{"type":"Polygon","coordinates":[[[-2.195,53.002],[-2.185,53.002],[-2.185,53.008],[-2.195,53.008],[-2.195,53.002]]]}"#;

/// For each creating form: two submissions with one key at the same moment make one record
/// and one audit row and both answer with its id (so does a later repeat); two other keys
/// make one each; a key over 100 characters is refused and stores nothing.
async fn each_form_sent_twice_makes_one_record(t: common::TestDb) {
    let db = t.connect().await;
    for (i, form) in creating_forms(&db).await.into_iter().enumerate() {
        let what = form.name;
        let (records, audited) = (count(&t.url, form.table).await, common::audit_log(&db).await.len());
        let key = format!("{i}-same");
        let send = |key: &str, n: usize| tokio::spawn((form.create)(db.clone(), Some(key.to_string()), n));
        let (a, b) = (send(&key, 1), send(&key, 1));
        let a = a.await.expect("task").unwrap_or_else(|e| panic!("{what}: {e}"));
        let b = b.await.expect("task").unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(a, b, "{what}: the repeat answers with the first one's record");
        assert_eq!(count(&t.url, form.table).await, records + 1, "{what}: one record");
        let rows = usize::from(form.audited);
        assert_eq!(common::audit_log(&db).await.len(), audited + rows, "{what}: one audit row");
        let later = send(&key, 1).await.expect("task").unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(later, a, "{what}: a later repeat too");

        let (c, d) = (send(&format!("{i}-other"), 2), send(&format!("{i}-another"), 3));
        let c = c.await.expect("task").unwrap_or_else(|e| panic!("{what}: {e}"));
        let d = d.await.expect("task").unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(c != a && d != a && c != d, "{what}: other keys, other records: {a} {c} {d}");
        assert_eq!(count(&t.url, form.table).await, records + 3, "{what}: one record a key");
        assert_eq!(common::audit_log(&db).await.len(), audited + 3 * rows, "{what}: one audit row a key");

        match send(&"k".repeat(101), 4).await.expect("task") {
            Err(DbError::Invalid { field: "submission", .. }) => {}
            other => panic!("{what}: a key over 100 characters is refused, got {other:?}"),
        }
        assert_eq!(count(&t.url, form.table).await, records + 3, "{what}: the refused key stored nothing");
    }
}

on_each_db!(each_form_sent_twice_makes_one_record);

/// One creating form through the web: the page that shows it (with its one-time key), where
/// it posts, and its fields.
struct WebForm {
    page: String,
    post: String,
    fields: Vec<(String, String)>,
}

/// A web form's fields from pairs.
fn fields(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// The GOV.UK date input `name` (its day, month and year boxes) on 1 October 2025.
fn date(name: &str) -> Vec<(String, String)> {
    [("day", "1"), ("month", "10"), ("year", "2025")]
        .iter()
        .map(|(p, v)| (format!("{name}-{p}"), v.to_string()))
        .collect()
}

/// The value of the hidden `submission` field of the form on `body` that posts to `post`.
fn key_of(body: &str, post: &str) -> Option<String> {
    let form = body.split(&format!("action=\"{post}\"")).nth(1)?.split("</form>").next()?;
    Some(form.split("name=\"submission\" value=\"").nth(1)?.split('"').next()?.to_string())
}

/// Through the web, for each creating form: its page carries a one-time key; the form sent
/// twice with it is sent on to the same place both times (what the first made), and only the
/// first is stored (one audit row).
async fn each_web_form_carries_its_key(t: common::TestDb) {
    let app = TestApp::start(t).await;
    let officer = app.signed_in("officer@example.org", Role::Analyst, "Test Council").await;
    let admin = app.signed_in("admin@example.org", Role::Administrator, "Test Council").await;
    let actor = common::test_actor();
    alliance::governance::seed_strategy(&app.db, "test").await.expect("seed");
    let strategy = app.db.strategies().await.expect("strategies").remove(0).id;
    let priority = app.db.priorities(strategy).await.expect("priorities").remove(0).id.to_string();
    let commitment = app.db.commitments(strategy).await.expect("commitments").remove(0).id;
    let org = app.db.organisation_by_name("Test Council").await.expect("read").expect("org").id;
    let parent = ActionFields {
        commitment_id: commitment,
        title: "Parent action",
        description: "",
        owner_org_id: org,
        lead_person: "Lead",
        start_date: None,
        due_date: None,
        status: ActionStatus::NotStarted,
        intervention_id: None,
    };
    let action = app.db.create_action(&parent, &actor, None).await.expect("action");
    let meeting =
        app.db.create_meeting(MeetingBody::Board, "2025-10-15", "Board", &[], None, &actor).await.expect("meeting");
    let (commitment, org) = (commitment.to_string(), org.to_string());
    let web = |page: &str, post: &str, fields: Vec<(String, String)>| WebForm {
        page: page.into(),
        post: post.into(),
        fields,
    };
    let staff_forms = [
        web(
            "/actions/new",
            "/actions",
            fields(&[
                ("commitment", &commitment),
                ("title", "Wardens"),
                ("owner", &org),
                ("lead_person", "Lead"),
                ("status", "not-started"),
            ]),
        ),
        web(
            &format!("/actions/{action}"),
            &format!("/actions/{action}/updates"),
            [fields(&[("update_status", "on-track"), ("update_note", "Going well")]), date("update_on_date")].concat(),
        ),
        web(
            &format!("/actions/{action}"),
            &format!("/actions/{action}/milestones"),
            fields(&[("milestone_title", "Recruit")]),
        ),
        web(
            &format!("/actions/{action}"),
            &format!("/actions/{action}/escalations"),
            [fields(&[("escalation_note", "Stuck")]), date("escalation_on")].concat(),
        ),
        web(
            &format!("/meetings/{meeting}"),
            &format!("/meetings/{meeting}/items"),
            fields(&[("kind", "decision"), ("text", "Agreed")]),
        ),
        web(
            "/indicators/new",
            "/indicators",
            fields(&[
                ("name", "Young people reached"),
                ("code", "people-reached"),
                ("kind", "output"),
                ("definition", "Young people met by a youth worker"),
                ("unit", "people"),
                ("frequency", "quarterly"),
                ("direction", "up"),
                ("source", "entered"),
            ]),
        ),
        web(
            "/interventions/new",
            "/interventions",
            fields(&[
                ("name", "Park lighting"),
                ("intervention_type", "target_hardening"),
                ("place_kind", "lsoa"),
                ("place_codes", "E01014210"),
            ]),
        ),
        web(
            "/strategies/new",
            "/strategies",
            fields(&[
                ("name", "Next strategy"),
                ("period_start", "2030"),
                ("period_end", "2035"),
                ("aim", "Less violence"),
            ]),
        ),
        web(
            &format!("/strategies/{strategy}"),
            &format!("/strategies/{strategy}/priorities"),
            fields(&[("priority_name", "Night-time economy")]),
        ),
        web(
            &format!("/strategies/{strategy}"),
            &format!("/strategies/{strategy}/commitments"),
            fields(&[("priority", &priority), ("text", "Fund street pastors")]),
        ),
        web("/strategy", "/strategy/commitments", fields(&[("priority", &priority), ("text", "Train door staff")])),
        web(
            "/places/new",
            "/places",
            fields(&[("name", "Victoria Park"), ("kind", "park"), ("description", ""), ("geojson", PARK)]),
        ),
        web(
            "/funding",
            "/funding/streams",
            fields(&[("stream_name", "Safer Streets"), ("stream_funder", "Home Office")]),
        ),
        web(
            "/directory/new",
            "/directory",
            fields(&[
                ("name", "Youth mentoring"),
                ("description", "Mentors for young people"),
                ("organisation_name", "Youth Trust"),
                ("needs", alliance_ingest::oruk::NEEDS[0].0),
                ("kind", "support"),
            ]),
        ),
    ];
    let admin_forms = [
        web(
            "/admin/data-sharing",
            "/admin/agreements",
            fields(&[
                ("title", "ED data"),
                ("purpose", "Targeting"),
                ("lawful_basis", "Public task"),
                ("review_date", "2099-06-30"),
            ]),
        ),
        web(
            "/admin/data-sharing",
            "/admin/dpias",
            fields(&[
                ("title", "ED sharing"),
                ("datasets", "ed"),
                ("completed_on", "2025-01-10"),
                ("review_date", "2099-01-10"),
            ]),
        ),
    ];
    let all = staff_forms.iter().map(|f| (f, &officer)).chain(admin_forms.iter().map(|f| (f, &admin)));
    for (form, who) in all {
        let what = form.post.as_str();
        let page = app.get(&form.page, who).await;
        assert_eq!(page.status, StatusCode::OK, "{what}: {}", page.body);
        let key = key_of(&page.body, what).unwrap_or_else(|| panic!("{what}: the form carries a key: {}", page.body));
        assert!(key.len() >= 40, "{what}: a random key: {key}");
        let mut sent: Vec<(&str, String)> = form.fields.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        sent.push(("submission", key));
        let audited = common::audit_log(&app.db).await.len();
        let first = app.post_owned(what, who, &sent).await;
        assert_eq!(first.status, StatusCode::SEE_OTHER, "{what}: {}", first.body);
        let again = app.post_owned(what, who, &sent).await;
        assert_eq!(again.status, StatusCode::SEE_OTHER, "{what}: {}", again.body);
        assert_eq!(again.header("location"), first.header("location"), "{what}: the repeat goes where the first went");
        assert_eq!(common::audit_log(&app.db).await.len(), audited + 1, "{what}: only the first is stored");
    }
    // The public application and "you said, we did" (whose areas come from data not loaded
    // here; both are stored once at most by the store, above) carry a key too.
    app.db.add_charter_commitment("Safe venues", "Lighting", &actor).await.expect("charter");
    let public = common::app::Caller::default();
    for (path, who) in [("/safer-places/join", &public), ("/staff/you-said-we-did", &officer)] {
        let page = app.get(path, who).await;
        assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.body);
        assert!(key_of(&page.body, path).is_some_and(|k| k.len() >= 40), "{path}: the form carries a key");
    }
}

on_each_db!(each_web_form_carries_its_key);
