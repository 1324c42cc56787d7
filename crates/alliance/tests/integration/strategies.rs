//! Strategies as data, through the web as partnership staff would use them: on a fresh
//! database staff create a strategy, add its priorities and commitments, download it as a
//! strategy file and import that file into a second Alliance, where it comes back the same;
//! the demo strategy file imports and exports unchanged; a bad file is refused naming the
//! file, the field and the reason, with nothing stored and the attempt audited; and roles
//! without governance rights are refused before their upload is read.

use crate::common;

use alliance_core::access::Role;
use axum::http::StatusCode;
use common::app::{Caller, Reply, TestApp};
use common::http::multipart;

/// Where a redirect points.
fn location(reply: &Reply) -> String {
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", &reply.body[..reply.body.len().min(3000)]);
    reply.header("location").expect("a redirect").to_string()
}

/// The strategy id of a redirect like `/strategies/7` or `/strategies/7#priority-3`.
fn strategy_id(reply: &Reply) -> i64 {
    let to = location(reply);
    to.trim_start_matches("/strategies/").split(['#', '?']).next().unwrap().parse().expect("an id")
}

async fn upload(app: &TestApp, who: &Caller, name: &str, bytes: &[u8]) -> Reply {
    let (content_type, body) = multipart(&[("csrf_token", &who.csrf)], ("file", name, bytes));
    app.post_bytes("/strategies/import", who, &content_type, body).await
}

async fn failed_imports(app: &TestApp) -> Vec<String> {
    common::audit_rows(&app.db, "import strategy").await.into_iter().map(|e| e.detail).collect()
}

async fn strategies_on_the_web(app: TestApp) {
    let analyst = app.signed_in("analyst@vrp.example", Role::Analyst, "Wiltshire and Swindon VRP").await;
    let board = app.signed_in("chair@vrp.example", Role::BoardMember, "Wiltshire and Swindon VRP").await;
    let partner = app.signed_in("officer@police.example", Role::PartnerUser, "Wiltshire Police").await;

    // A fresh database: no strategy, and staff are offered to create or import one.
    let page = app.get("/strategy", &analyst).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("href=\"/strategies/new\""), "{}", page.body);
    assert!(app.get("/strategies", &analyst).await.body.contains("No strategy is held yet"));

    // Create: a bad form keeps what was typed and names the field.
    let bad = app
        .post_form(
            "/strategies",
            &analyst,
            &[
                ("name", "Wiltshire and Swindon Serious Violence Strategy"),
                ("period_start", "2026"),
                ("period_end", "2024"),
                ("aim", "Fewer people hurt"),
            ],
        )
        .await;
    bad.assert_refused(&["href=\"#period_end\""]);
    assert!(bad.body.contains("value=\"Wiltshire and Swindon Serious Violence Strategy\""), "typed values kept");
    assert!(app.db.strategies().await.unwrap().is_empty(), "a refused form stores nothing");
    let created = app
        .post_form(
            "/strategies",
            &analyst,
            &[
                ("name", "Wiltshire and Swindon Serious Violence Strategy"),
                ("period_start", "2025"),
                ("period_end", "2030"),
                ("aim", "Fewer people hurt"),
                ("source", ""),
            ],
        )
        .await;
    let id = strategy_id(&created);
    // Its priorities and commitments.
    let p1 = app
        .post_form(
            &format!("/strategies/{id}/priorities"),
            &analyst,
            &[("priority_name", "Prevention"), ("priority_description", "Early help for young people")],
        )
        .await;
    assert!(location(&p1).starts_with(&format!("/strategies/{id}#priority-")));
    let again =
        app.post_form(&format!("/strategies/{id}/priorities"), &analyst, &[("priority_name", "prevention")]).await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY, "a second priority of the same name");
    assert!(again.body.contains("already has a priority called"), "{}", again.body);
    let p2 =
        app.post_form(&format!("/strategies/{id}/priorities"), &analyst, &[("priority_name", "Enforcement")]).await;
    location(&p2);
    let priorities = app.db.priorities(id).await.unwrap();
    assert_eq!(priorities.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["Prevention", "Enforcement"]);
    let pid = priorities[0].id.to_string();
    for text in ["Fund detached youth work in Swindon", "Train school staff in trauma-informed practice"] {
        let c = app
            .post_form(&format!("/strategies/{id}/commitments"), &analyst, &[("priority", &pid), ("text", text)])
            .await;
        location(&c);
    }
    // A priority of no strategy here is not a choice offered.
    let stray =
        app.post_form(&format!("/strategies/{id}/commitments"), &analyst, &[("priority", "9999"), ("text", "x")]).await;
    assert_eq!(stray.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.db.commitments(id).await.unwrap().len(), 2);
    // It is the current strategy (its years include this year): the strategy page shows it.
    let current = app.get("/strategy", &board).await;
    assert!(current.body.contains("Fund detached youth work in Swindon"), "{}", current.body);

    // Board members and partner users read and download, but change nothing.
    assert_eq!(app.get(&format!("/strategies/{id}"), &board).await.status, StatusCode::OK);
    let denied = app.post_form(&format!("/strategies/{id}/priorities"), &board, &[("priority_name", "Mine")]).await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    assert_eq!(app.get("/strategies/new", &partner).await.status, StatusCode::FORBIDDEN);

    // Download it as a file.
    let file = app.get(&format!("/strategies/{id}/export"), &partner).await;
    assert_eq!(file.status, StatusCode::OK);
    assert!(file
        .header("content-disposition")
        .unwrap()
        .contains("wiltshire-and-swindon-serious-violence-strategy.json"));
    let json = file.json();
    assert_eq!(json["format"], "alliance-strategy/1");
    assert_eq!(json["priorities"][0]["commitments"][1], "Train school staff in trauma-informed practice");

    // Importing it again here is refused: the name is held. Nothing changes; the attempt is audited.
    let before = app.db.strategies().await.unwrap().len();
    let twice = upload(&app, &analyst, "mine.json", file.body.as_bytes()).await;
    twice.assert_refused(&["mine.json: field name: A strategy called"]);
    assert_eq!(app.db.strategies().await.unwrap().len(), before);
    assert!(failed_imports(&app).await.iter().any(|d| d.contains("FAILED: mine.json: field name")));

    // Round trip: into a second Alliance, and back out the same.
    let other = TestApp::start(common::sqlite()).await;
    let admin = other.signed_in("admin@elsewhere.example", Role::Administrator, "Elsewhere").await;
    let imported = upload(&other, &admin, "wiltshire.json", file.body.as_bytes()).await;
    let new_id = strategy_id(&imported);
    let shown = other.get(&location(&imported), &admin).await;
    assert!(shown.body.contains("Imported Wiltshire and Swindon Serious Violence Strategy"), "{}", shown.body);
    let back = other.get(&format!("/strategies/{new_id}/export"), &admin).await;
    assert_eq!(back.body, file.body, "export → import → export gives the same file");

    // A bad file: its problem names the file, the field and the reason; nothing is stored.
    let broken =
        file.body.replace("\"Enforcement\"", "\"Prevention\"").replace("Wiltshire and Swindon Serious", "Another");
    let refused = upload(&app, &analyst, "broken.json", broken.as_bytes()).await;
    refused.assert_refused(&["broken.json: field priorities[1].name: &#34;Prevention&#34; names two priorities"]);
    let typo = file.body.replace("\"aim\"", "\"aims\"").replace("Wiltshire and Swindon Serious", "Another");
    let refused = upload(&app, &analyst, "typo.json", typo.as_bytes()).await;
    assert!(refused.body.contains("typo.json:"), "{}", refused.body);
    assert!(refused.body.contains("unknown field `aims`"), "{}", refused.body);
    assert_eq!(upload(&app, &analyst, "notes.txt", b"hello").await.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.db.strategies().await.unwrap().len(), before, "refused files store nothing");

    // Roles without governance rights are refused before the upload is read: a good file and
    // a body that is no multipart form at all get the same 403, and nothing is stored.
    let good = file.body.replace("Wiltshire and Swindon Serious", "Partner's");
    for who in [&partner, &board] {
        assert_eq!(upload(&app, who, "good.json", good.as_bytes()).await.status, StatusCode::FORBIDDEN);
        let garbage =
            app.post_bytes("/strategies/import", who, "multipart/form-data; boundary=x", b"not a form".to_vec()).await;
        assert_eq!(garbage.status, StatusCode::FORBIDDEN);
    }
    assert_eq!(app.db.strategies().await.unwrap().len(), before);
}
on_each_app!(strategies_on_the_web);

/// The demo's strategy is a strategy file: it imports (as `serve --demo` does) and exports
/// unchanged, and successive strategies keep the one whose years include this year current.
async fn the_demo_strategy_is_a_file(app: TestApp) {
    let (id, created) = alliance::governance::seed_strategy(&app.db, "test").await.unwrap();
    assert!(created);
    let admin = app.signed_in("admin@alliance.example", Role::Administrator, "Alliance").await;
    let file = app.get(&format!("/strategies/{id}/export"), &admin).await;
    assert_eq!(file.body, alliance::governance::STRATEGY_SEED_JSON, "the shipped file round-trips byte for byte");
    // A later strategy imported from a file does not displace the current one before its time.
    let later =
        file.body.replace("2024-2029\"", "2031-2035\"").replace("\"2024\"", "\"2031\"").replace("\"2029\"", "\"2035\"");
    let imported = upload(&app, &admin, "next.json", later.as_bytes()).await;
    let next = strategy_id(&imported);
    let list = app.db.strategies().await.unwrap();
    assert_eq!(list.iter().map(|s| s.id).collect::<Vec<_>>(), [id, next], "the current (2024–2029) first");
    let page = app.get("/strategies", &admin).await;
    assert!(page.body.contains("Violence Reduction Strategy 2031-2035"), "{}", page.body);
    // Its computed indicators share their codes with the first: kept, not duplicated.
    assert_eq!(app.db.indicators().await.unwrap().len(), 5);
    // The command line imports and exports the same files.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("current.json");
    let run = common::alliance(&app.db_url, &["strategy", "export", "--out", out.to_str().unwrap()]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), alliance::governance::STRATEGY_SEED_JSON);
    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        later.replace("\"direction\": \"down\"", "\"direction\": \"sideways\"").replace("2031-2035", "2036-2040"),
    )
    .unwrap();
    let run = common::alliance(&app.db_url, &["strategy", "import", bad.to_str().unwrap()]);
    assert!(!run.status.success());
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("bad.json: field computed_indicators[0].direction:"), "{stderr}");
    assert_eq!(app.db.strategies().await.unwrap().len(), 2, "nothing half-imported");
}
on_each_app!(the_demo_strategy_is_a_file);
