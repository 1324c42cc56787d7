//! Edits that race (`alliance_db::versions`): a form opened before someone else's change is
//! refused when sent, instead of writing its stale values over the change; two edits of one
//! version sent at the same moment are not both stored; and two administrators changing
//! each other's access at once cannot leave the partnership without an administrator.

use alliance_core::access::{OrgType, Role};
use alliance_core::governance::MeetingBody;
use alliance_db::{Db, DbError};

use crate::common;

/// The refusal of a stale edit: a conflict on the form's `version` field.
fn assert_stale<T: std::fmt::Debug>(what: &str, result: Result<T, DbError>) {
    match result {
        Err(DbError::Conflict { field: "version", reason }) => {
            assert!(reason.contains("changed by someone else"), "{what}: {reason}")
        }
        other => panic!("{what}: a stale edit must be refused on `version`, got {other:?}"),
    }
}

/// For a priority, a commitment, an indicator's target, a funding stream and an allocation:
/// the edit of the version shown is stored; a second edit from a form opened on that same
/// version is refused and stores nothing; an edit without a version (the command line)
/// edits whatever is current.
async fn a_stale_edit_is_refused_and_stores_nothing(t: common::TestDb) {
    let db = t.connect().await;
    let actor = common::test_actor();
    alliance::governance::seed_strategy(&db, "test").await.expect("seed");
    let s = db.strategies().await.expect("strategies").remove(0);
    let priority = db.priorities(s.id).await.expect("priorities").remove(0);
    let commitment = db.commitments(s.id).await.expect("commitments").remove(0);

    db.update_priority(priority.id, "First", "", Some(priority.version), &actor).await.expect("first edit");
    assert_stale("priority", db.update_priority(priority.id, "Second", "", Some(priority.version), &actor).await);
    let now = db.priorities(s.id).await.expect("priorities").into_iter().find(|p| p.id == priority.id).expect("it");
    assert_eq!(now.name, "First", "the stale edit stored nothing");
    db.update_priority(priority.id, "Third", "", None, &actor).await.expect("no version: edits the current");

    db.update_commitment(commitment.id, "First", Some(commitment.version), &actor).await.expect("first edit");
    assert_stale("commitment", db.update_commitment(commitment.id, "Second", Some(commitment.version), &actor).await);
    let now = db.commitments(s.id).await.expect("read").into_iter().find(|c| c.id == commitment.id).expect("it");
    assert_eq!(now.text, "First");

    let indicator =
        db.create_indicator(&common::governance::entered_indicator("reached", "Reached"), &actor).await.expect("add");
    let shown = db.indicator(indicator).await.expect("read").expect("it").version;
    db.set_indicator_target(indicator, Some(36.0), Some("2024Q4"), Some(30.0), None, Some(shown), &actor)
        .await
        .expect("first edit");
    assert_stale(
        "indicator target",
        db.set_indicator_target(indicator, None, None, None, Some(5.0), Some(shown), &actor).await,
    );
    let now = db.indicator(indicator).await.expect("read").expect("it");
    assert_eq!((now.baseline, now.target, now.tolerance), (Some(36.0), Some(30.0), None), "B's form wiped nothing");

    let stream = db.create_funding_stream("Safer Streets", "Home Office", &actor).await.expect("stream");
    let shown = db.funding_stream(stream).await.expect("read").expect("it").version;
    assert!(db.update_funding_stream(stream, "Renamed", "Home Office", Some(shown), &actor).await.expect("edit"));
    assert_stale("stream", db.update_funding_stream(stream, "Safer Streets", "Other", Some(shown), &actor).await);
    assert_eq!(db.funding_stream(stream).await.expect("read").expect("it").funder, "Home Office");

    let org = db.create_organisation("Test Police", OrgType::Police, &actor).await.expect("org");
    db.set_funding_amount(stream, "2025/26", 1_000_000, &actor).await.expect("amount");
    let allocation =
        db.create_allocation(stream, "2025/26", Some(org), None, "Wardens", 250_000, None, &actor).await.expect("add");
    let shown = db.allocation(allocation).await.expect("read").expect("it").version;
    assert!(db
        .update_allocation(allocation, Some(org), None, "Wardens", 300_000, Some(shown), &actor)
        .await
        .expect("edit"));
    assert_stale(
        "allocation",
        db.update_allocation(allocation, Some(org), None, "Mentors", 250_000, Some(shown), &actor).await,
    );
    let now = db.allocation(allocation).await.expect("read").expect("it");
    assert_eq!((now.purpose.as_str(), now.amount_pence), ("Wardens", 300_000), "A's amount stands");
    assert!(
        !db.update_allocation(allocation + 1000, Some(org), None, "None", 1, Some(0), &actor).await.expect("read"),
        "no such allocation is not a conflict"
    );
}

on_each_db!(a_stale_edit_is_refused_and_stores_nothing);

/// Two edits of one allocation from forms opened on the same version, sent at the same
/// moment: one is stored, the other refused, on either backend (the claim is one conditional
/// update, so the database decides, not timing).
async fn two_edits_of_one_version_at_once_store_one(t: common::TestDb) {
    let db = t.connect().await;
    let actor = common::test_actor();
    let org = db.create_organisation("Test Police", OrgType::Police, &actor).await.expect("org");
    let stream = db.create_funding_stream("Safer Streets", "Home Office", &actor).await.expect("stream");
    db.set_funding_amount(stream, "2025/26", 1_000_000, &actor).await.expect("amount");
    for round in 0..5 {
        let allocation = db
            .create_allocation(stream, "2025/26", Some(org), None, &format!("Round {round}"), 100, None, &actor)
            .await
            .expect("add");
        let shown = db.allocation(allocation).await.expect("read").expect("it").version;
        let edit = |db: Db, purpose: &'static str, pence: i64| {
            let actor = actor.clone();
            tokio::spawn(async move {
                db.update_allocation(allocation, Some(org), None, purpose, pence, Some(shown), &actor).await
            })
        };
        let (a, b) = (edit(db.clone(), "Mentors", 200), edit(db.clone(), "Wardens", 300));
        let (a, b) = (a.await.expect("task"), b.await.expect("task"));
        let stored: Vec<bool> = [&a, &b].iter().map(|r| matches!(r, Ok(true))).collect();
        assert_eq!(stored.iter().filter(|s| **s).count(), 1, "round {round}: exactly one stored: {a:?} {b:?}");
        let refused = if stored[0] { b } else { a };
        assert_stale("the other edit", refused);
        let now = db.allocation(allocation).await.expect("read").expect("it");
        let expected = if stored[0] { ("Mentors", 200) } else { ("Wardens", 300) };
        assert_eq!((now.purpose.as_str(), now.amount_pence), expected, "round {round}: the stored edit whole");
    }
}

on_each_db!(two_edits_of_one_version_at_once_store_one);

/// Active administrators, by email.
async fn administrators(db: &Db) -> Vec<String> {
    let users = db.users().await.expect("users");
    users.into_iter().filter(|u| u.active && u.role == Role::Administrator).map(|u| u.email).collect()
}

/// The administrators' page: a page left open while another administrator deactivated a
/// leaver cannot reactivate them; two administrators demoting each other at one moment
/// leave one of them an administrator; a change that would leave none is refused, from the
/// command line too; and someone demoted cannot go on changing others' access.
async fn access_changes_keep_an_administrator(t: common::TestDb) {
    let db = t.connect().await;
    let one = common::add_user(&db, "one@example.org", Role::Administrator, "Test Council").await;
    let two = common::add_user(&db, "two@example.org", Role::Administrator, "Test Council").await;
    let leaver = common::add_user(&db, "leaver@example.org", Role::Analyst, "Test Council").await;
    let by = |email: &str| alliance_db::audit::Actor::new(format!("user:{email}"), "test");

    // Both administrators' pages show the leaver at the same version.
    let shown = db.user_by_id(leaver).await.expect("read").expect("the leaver").version;
    db.update_user_access(leaver, Role::Analyst, false, Some(shown), &by("one@example.org"))
        .await
        .expect("deactivated");
    assert_stale(
        "a page left open",
        db.update_user_access(leaver, Role::Analyst, true, Some(shown), &by("two@example.org")).await,
    );
    assert!(!db.user_by_id(leaver).await.expect("read").expect("the leaver").active, "the leaver stays deactivated");

    // Two administrators demote each other at the same moment.
    let demote = |target: i64, actor: &str| {
        let (db, actor) = (db.clone(), by(actor));
        tokio::spawn(async move { db.update_user_access(target, Role::BoardMember, true, None, &actor).await })
    };
    let (a, b) = (demote(two, "one@example.org"), demote(one, "two@example.org"));
    let (a, b) = (a.await.expect("task"), b.await.expect("task"));
    assert_eq!([&a, &b].iter().filter(|r| r.is_ok()).count(), 1, "one of the two demotions is refused: {a:?} {b:?}");
    let left = administrators(&db).await;
    assert_eq!(left.len(), 1, "one administrator is left: {left:?}");

    // The last administrator cannot be deactivated, even from the command line.
    let last = db.user_by_email(&left[0]).await.expect("read").expect("the last").id;
    let cli = alliance_db::audit::Actor::new("cli:operator", "local");
    match db.update_user_access(last, Role::Administrator, false, None, &cli).await {
        Err(DbError::Conflict { field: "role", reason }) => assert!(reason.contains("no active administrator")),
        other => panic!("the last administrator's deactivation must be refused: {other:?}"),
    }
    assert_eq!(administrators(&db).await, left, "nothing changed");

    // The demoted one cannot change anyone's access any more.
    let demoted = if left[0] == "one@example.org" { "two@example.org" } else { "one@example.org" };
    match db.update_user_access(leaver, Role::Analyst, true, None, &by(demoted)).await {
        Err(DbError::Conflict { reason, .. }) => assert!(reason.contains("no longer an administrator"), "{reason}"),
        other => panic!("a demoted administrator's change must be refused: {other:?}"),
    }
    assert!(!db.user_by_id(leaver).await.expect("read").expect("the leaver").active);
}

on_each_db!(access_changes_keep_an_administrator);

/// Through the web: the second officer's target form, opened before the first one's save,
/// is answered with the form again and the refusal, and the first one's figures stand.
async fn a_stale_target_form_is_refused_on_the_page(t: common::TestDb) {
    use common::app::TestApp;

    let app = TestApp::start(t).await;
    let officer = app.signed_in("officer@example.org", Role::Analyst, "Test Council").await;
    let actor = common::test_actor();
    let indicator = app
        .db
        .create_indicator(&common::governance::entered_indicator("reached", "Reached"), &actor)
        .await
        .expect("add");
    let form = app.get(&format!("/indicators/{indicator}/target"), &officer).await;
    assert!(form.body.contains(r#"name="version" value="0""#), "the form carries its version: {}", form.body);
    let path = format!("/indicators/{indicator}/target");
    let first = app.post_form(&path, &officer, &[("version", "0"), ("baseline", "36"), ("target", "30")]).await;
    assert_eq!(first.status, reqwest::StatusCode::SEE_OTHER, "{}", first.body);
    let second = app.post_form(&path, &officer, &[("version", "0"), ("tolerance", "5")]).await;
    second.assert_refused(&["changed by someone else"]);
    let now = app.db.indicator(indicator).await.expect("read").expect("it");
    assert_eq!((now.baseline, now.target, now.tolerance), (Some(36.0), Some(30.0), None));
}

on_each_db!(a_stale_target_form_is_refused_on_the_page);

/// A funding allocation or a meeting sent twice with the form's one-time key is made once
/// (the same id back, one row, one audit row), also when both arrive at once; a form with
/// another key, or none (a script), makes another.
async fn a_form_sent_twice_makes_one_record(t: common::TestDb) {
    let db = t.connect().await;
    let actor = common::test_actor();
    let org = db.create_organisation("Test Police", OrgType::Police, &actor).await.expect("org");
    let stream = db.create_funding_stream("Safer Streets", "Home Office", &actor).await.expect("stream");
    db.set_funding_amount(stream, "2025/26", 1_000_000, &actor).await.expect("amount");
    let allocate = |key: Option<&'static str>| {
        let (db, actor) = (db.clone(), actor.clone());
        tokio::spawn(async move {
            db.create_allocation(stream, "2025/26", Some(org), None, "Wardens", 40_000, key, &actor).await
        })
    };
    let (a, b) = (allocate(Some("k1")), allocate(Some("k1")));
    let (a, b) = (a.await.expect("task").expect("made"), b.await.expect("task").expect("made"));
    assert_eq!(a, b, "the repeat answers with the first one's allocation");
    assert_eq!(db.allocations().await.expect("read").len(), 1, "one allocation");
    let added = common::audit_log(&db).await.into_iter().filter(|e| e.detail.contains("added: £400")).count();
    assert_eq!(added, 1, "one audit row");
    let again = allocate(Some("k1")).await.expect("task").expect("made");
    assert_eq!(again, a, "later too");
    let other = allocate(Some("k2")).await.expect("task").expect("made");
    assert_ne!(other, a, "another key, another allocation");
    allocate(None).await.expect("task").expect("made");
    allocate(None).await.expect("task").expect("made");
    assert_eq!(db.allocations().await.expect("read").len(), 4, "without a key each call makes one");

    let meet = |key| db.create_meeting(MeetingBody::Board, "2025-10-15", "Executive Board", &[], key, &actor);
    let first = meet(Some("m1")).await.expect("meeting");
    assert_eq!(meet(Some("m1")).await.expect("meeting"), first);
    assert_eq!(db.meetings().await.expect("read").len(), 1);
    // A key is kept a day: one claimed two days ago no longer stands, so the form (long
    // gone from any browser) would make a meeting again, and the old row is removed.
    {
        use sqlx::Connection;
        let mut conn = sqlx::AnyConnection::connect(&t.url).await.expect("connect");
        sqlx::query("UPDATE form_submissions SET created_at = '2001-01-01T00:00:00Z' WHERE submission_key = $1")
            .bind("meeting:m1")
            .execute(&mut conn)
            .await
            .expect("age the key");
        assert_ne!(meet(Some("m2")).await.expect("meeting"), first, "another key");
        let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM form_submissions WHERE submission_key = $1")
            .bind("meeting:m1")
            .fetch_one(&mut conn)
            .await
            .expect("count");
        assert_eq!(left, 0, "the day-old key was removed when the next was claimed");
    }
    let long = "x".repeat(101);
    match meet(Some(long.as_str())).await {
        Err(DbError::Invalid { field: "submission", .. }) => {}
        other => panic!("an over-long key is refused: {other:?}"),
    }
}

on_each_db!(a_form_sent_twice_makes_one_record);
