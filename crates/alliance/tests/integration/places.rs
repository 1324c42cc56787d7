//! The place register (issue 15): places drawn or uploaded, refused when they break a rule
//! (naming the field, storing nothing), used as an evaluation's target and comparison by name
//! on the web and on the command line, and protected from removal while an intervention names
//! them. The data are synthetic street files with a known fall in the target park.

use std::path::Path;

use alliance_core::access::Role;
use reqwest::StatusCode;

use crate::common::app::{Caller, TestApp};
use crate::common::{self, alliance};

/// The target park (a square about 670 m × 670 m) and the comparison park, 6 km east.
const TARGET: &str = r#"{"type":"Polygon","coordinates":[[[-2.195,53.002],[-2.185,53.002],[-2.185,53.008],[-2.195,53.008],[-2.195,53.002]]]}"#;
const COMPARISON: &str = r#"{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[-2.105,52.997],[-2.095,52.997],[-2.095,53.003],[-2.105,53.003],[-2.105,52.997]]]}}"#;

/// Street files for 2024 (before) and 2025 (after): per month, `target` crimes in the
/// target park and 20 in the comparison park.
fn write_streets(dir: &Path, target: [usize; 2]) {
    let mut n = 0u64;
    for (i, year) in [2024, 2025].into_iter().enumerate() {
        for month in 1..=12 {
            let m = format!("{year}-{month:02}");
            let mut text = String::from("Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,Last outcome category,Context\n");
            for (count, (lon, lat)) in [(target[i], (-2.19, 53.005)), (20, (-2.10, 53.0))] {
                for _ in 0..count {
                    n += 1;
                    text.push_str(&format!(
                        "{n:064x},{m},Staffordshire Police,Staffordshire Police,{lon},{lat},On or near Park Lane,E01099999,Test 001A,Public order,Under investigation,\n"
                    ));
                }
            }
            std::fs::write(dir.join(format!("{m}-staffordshire-street.csv")), text).expect("write");
        }
    }
}

async fn add_place(app: &TestApp, who: &Caller, name: &str, geojson: &str) -> crate::common::app::Reply {
    app.post_form("/places", who, &[("name", name), ("kind", "park"), ("description", ""), ("geojson", geojson)]).await
}

async fn places_in_register(app: &TestApp) -> usize {
    app.db.places().await.expect("places").len()
}

async fn register_and_evaluate_places(app: TestApp) {
    let dir = tempfile::tempdir().expect("tempdir");
    write_streets(dir.path(), [20, 8]);
    common::import_all(&app.db, &common::police_files(dir.path())).await;
    let analyst = app.signed_in("analyst@example.org", Role::Analyst, "Office of the PCC").await;
    let board = app.signed_in("board@example.org", Role::BoardMember, "Office of the PCC").await;

    // A Board member reads the register but may not add to it.
    assert_eq!(app.get("/places", &board).await.status, StatusCode::OK);
    assert_eq!(add_place(&app, &board, "Target Park", TARGET).await.status, StatusCode::FORBIDDEN);
    assert_eq!(places_in_register(&app).await, 0);

    // Bad input: the field is named, what was typed is kept, nothing is stored.
    let bad = add_place(
        &app,
        &analyst,
        "Target Park",
        r#"{"type":"Polygon","coordinates":[[[2.35,48.85],[2.36,48.85],[2.36,48.86],[2.35,48.85]]]}"#,
    )
    .await;
    bad.assert_refused(&["not in Great Britain"]);
    assert!(bad.body.contains("href=\"#geojson\""), "the error summary links to the field");
    assert!(bad.body.contains("value=\"Target Park\""), "the name typed is kept");
    let no_name = add_place(&app, &analyst, "Parks, all of them", TARGET).await;
    assert_eq!(no_name.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(no_name.body.contains("href=\"#name\""));
    let not_json = add_place(&app, &analyst, "Target Park", "{\"type\": ").await;
    assert!(not_json.body.contains("line 1, column"), "{}", not_json.body);
    assert_eq!(places_in_register(&app).await, 0);

    // Drawn (the form's GeoJSON box) and uploaded (a multipart file) places.
    let added = add_place(&app, &analyst, "Target Park", TARGET).await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    let (content_type, body) = common::http::multipart(
        &[("csrf_token", &analyst.csrf), ("name", "Control Park"), ("kind", "park"), ("geojson", "")],
        ("file", "control.geojson", COMPARISON.as_bytes()),
    );
    let uploaded = app.post_bytes("/places", &analyst, &content_type, body).await;
    assert_eq!(uploaded.status, StatusCode::SEE_OTHER, "{}", uploaded.body);
    // The same name in another case is refused: names are unique whatever their case.
    let twice = add_place(&app, &analyst, "target park", TARGET).await;
    twice.assert_refused(&["There is already a place called"]);
    assert_eq!(places_in_register(&app).await, 2);
    let register = app.get("/api/v1/places", &board).await.json();
    let names: Vec<&str> = register["features"]
        .as_array()
        .expect("features")
        .iter()
        .filter_map(|f| f["properties"]["name"].as_str())
        .collect();
    assert_eq!(names, ["Control Park", "Target Park"]);
    let audit = common::audit_rows(&app.db, "place").await;
    assert_eq!(audit.iter().filter(|e| e.detail.starts_with("place added")).count(), 2);

    // An intervention in the target park, naming a place that does not exist first.
    let mut fields = vec![
        ("name", "Park patrols"),
        ("intervention_type", "patrols"),
        ("place_kind", "place"),
        ("place_names", "Target Park, Nowhere Park"),
    ];
    let unknown = app.post_form("/interventions", &analyst, &fields).await;
    unknown.assert_refused(&["no place called", "Nowhere Park"]);
    fields[3] = ("place_names", "Target Park");
    let created = app.post_form("/interventions", &analyst, &fields).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let id = app.db.interventions().await.expect("interventions")[0].id;

    // Evaluated against the comparison place: the injected fall (20 → 8 a month) is found.
    let evaluated = app
        .post_form(
            &format!("/interventions/{id}/evaluations"),
            &analyst,
            &[
                ("before_from", "2024-01"),
                ("before_to", "2024-12"),
                ("after_from", "2025-01"),
                ("after_to", "2025-12"),
                ("buffer_metres", "200"),
                ("comparison_kind", "place"),
                ("comparison_places", "Control Park"),
            ],
        )
        .await;
    assert_eq!(evaluated.status, StatusCode::SEE_OTHER, "{}", evaluated.body);
    let stored = &app.db.evaluations_of(id).await.expect("evaluations")[0];
    let result = serde_json::to_value(&stored.report).expect("json");
    assert_eq!(result["result"]["areas"]["target"]["counts"]["before"], 240);
    assert_eq!(result["result"]["areas"]["target"]["counts"]["after"], 96);
    assert_eq!(result["result"]["areas"]["comparison"]["counts"]["before"], 240);
    assert_eq!(result["result"]["verdict"]["effect"], "significant_fall");
    assert_eq!(result["areas"]["target"]["kind"], "place");
    assert_eq!(result["areas"]["comparison"]["codes"][0], "Control Park");

    // A place as the study area of a hotspot analysis: only the records inside it count.
    let target_id = app.db.places_named("name", &["Target Park".to_string()]).await.expect("named")[0].id;
    let hotspots = app.get(&format!("/api/v1/hotspots?place={target_id}&cell=100"), &board).await;
    assert_eq!(hotspots.status, StatusCode::OK, "{}", hotspots.body);
    let h = hotspots.json();
    assert_eq!(h["cells"], "area");
    assert_eq!(h["points"].as_u64().expect("points") - h["dropped_outside_area"].as_u64().expect("dropped"), 240 + 96);
    let refused = app.get(&format!("/api/v1/hotspots?place={target_id}&cells=bbox"), &board).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert_eq!(app.get("/api/v1/hotspots?place=999999", &board).await.status, StatusCode::NOT_FOUND);
    // The map offers the place as its study area and asks its layers for the same cells.
    let map = app.get(&format!("/map?place={target_id}&cell=250"), &board).await;
    assert_eq!(map.status, StatusCode::OK);
    assert!(map.body.contains(&format!("<option value=\"{target_id}\" selected>Target Park</option>")), "{}", map.body);
    assert!(map.body.contains(&format!("place={target_id}")), "the layers ask for the place's cells");
    let density = app.get(&format!("/api/v1/kde?format=geojson&cell=250&place={target_id}"), &board).await;
    assert_eq!(density.status, StatusCode::OK, "{}", density.body);

    // A place an intervention names cannot be removed, nor one a stored evaluation compares
    // with (it could not be run again); one nothing names can.
    let control_id = app.db.places_named("name", &["control park".to_string()]).await.expect("named")[0].id;
    let refused = app.post_form(&format!("/places/{target_id}/delete"), &analyst, &[]).await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert!(refused.body.contains("Park patrols"), "{}", refused.body);
    assert_eq!(app.post_form(&format!("/places/{control_id}/delete"), &board, &[]).await.status, StatusCode::FORBIDDEN);
    let refused = app.post_form(&format!("/places/{control_id}/delete"), &analyst, &[]).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    assert!(refused.body.contains(&format!("evaluation {} of intervention {id}", stored.id)), "{}", refused.body);
    let spare = add_place(&app, &analyst, "Spare Park", COMPARISON).await;
    assert_eq!(spare.status, StatusCode::SEE_OTHER, "{}", spare.body);
    let spare_id = app.db.places_named("name", &["spare park".to_string()]).await.expect("named")[0].id;
    assert_eq!(app.post_form(&format!("/places/{spare_id}/delete"), &analyst, &[]).await.status, StatusCode::SEE_OTHER);
    assert_eq!(places_in_register(&app).await, 2);
    assert_eq!(app.get(&format!("/places/{spare_id}"), &analyst).await.status, StatusCode::NOT_FOUND);
    // The outline downloads as GeoJSON.
    let download = app.get(&format!("/places/{target_id}/geojson"), &board).await;
    assert_eq!(download.header("content-type"), Some("application/geo+json"));
    assert_eq!(download.json()["features"][0]["geometry"]["type"], "MultiPolygon");
}
on_each_app!(register_and_evaluate_places);

/// `alliance places add --each-feature`: a file of parks is added whole or not at all, and
/// `alliance evaluate --target-place/--control-place` evaluates them by name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn places_from_the_command_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_streets(dir.path(), [20, 20]);
    let t = common::sqlite();
    let db = t.connect().await;
    common::import_all(&db, &common::police_files(dir.path())).await;
    db.close().await;
    let feature = |name: &str, geometry: &str| {
        format!(r#"{{"type":"Feature","properties":{{"name":"{name}"}},"geometry":{geometry}}}"#)
    };
    let comparison_geometry =
        &COMPARISON[COMPARISON.find("\"geometry\":").expect("geometry") + 11..COMPARISON.len() - 1];
    let bad = format!(
        r#"{{"type":"FeatureCollection","features":[{},{}]}}"#,
        feature("Target Park", TARGET),
        feature("Broken Park", r#"{"type":"LineString","coordinates":[[-2.1,53.0],[-2.0,53.0]]}"#)
    );
    let file = dir.path().join("parks.geojson");
    std::fs::write(&file, bad).expect("write");
    let path = file.to_str().expect("path");
    let out = alliance(&t.url, &["places", "add", "--kind", "park", "--each-feature", path]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("Broken Park") && stderr.contains("LineString"), "{stderr}");
    let list = alliance(&t.url, &["places", "list"]);
    assert!(String::from_utf8_lossy(&list.stdout).trim().is_empty(), "nothing was added");

    let good = format!(
        r#"{{"type":"FeatureCollection","features":[{},{}]}}"#,
        feature("Target Park", TARGET),
        feature("Control Park", comparison_geometry)
    );
    std::fs::write(&file, good).expect("write");
    let out = alliance(&t.url, &["places", "add", "--kind", "park", "--each-feature", path]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let list = String::from_utf8_lossy(&alliance(&t.url, &["places", "list"]).stdout).to_string();
    assert!(list.contains("Target Park") && list.contains("Control Park"), "{list}");

    let out = alliance(
        &t.url,
        &[
            "evaluate",
            "--target-place",
            "Target Park",
            "--control-place",
            "Control Park",
            "--buffer",
            "200",
            "--before",
            "2024-01..2024-12",
            "--after",
            "2025-01..2025-12",
        ],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["result"]["areas"]["target"]["counts"]["before"], 240);
    assert_eq!(v["result"]["areas"]["comparison"]["counts"]["after"], 240);
    assert_eq!(v["result"]["verdict"]["effect"], "not_significant");
    let unknown = alliance(
        &t.url,
        &["evaluate", "--target-place", "Atlantis", "--before", "2024-01..2024-12", "--after", "2025-01..2025-12"],
    );
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no place called \"Atlantis\""));
}

/// Emerging hot spots over a place (issue 15): the API (`place=ID`) and the command line
/// (`--place NAME`) give the same analysis of the records inside the place, the others
/// dropped and counted; the map page and its layer compute it once (the cache's counters
/// say so), and a second request is served from the cache.
async fn emerging_hot_spots_over_a_place(t: crate::common::TestDb) {
    let dir = tempfile::tempdir().expect("tempdir");
    write_streets(dir.path(), [20, 8]);
    let url = t.url.clone();
    let db = t.connect().await;
    common::import_all(&db, &common::police_files(dir.path())).await;
    let state = alliance_web::AppState::new(db).with_secure_cookies(false);
    let cache = state.hotspot_cache.clone();
    let app = TestApp::start_with(t, state).await;
    let counts = || {
        let c = cache.counts();
        (c.hits, c.computations)
    };
    let analyst = app.signed_in("analyst@example.org", Role::Analyst, "Office of the PCC").await;
    assert_eq!(add_place(&app, &analyst, "Target Park", TARGET).await.status, StatusCode::SEE_OTHER);
    let id = app.db.places_named("name", &["Target Park".to_string()]).await.expect("named")[0].id;

    // The map page's emerging analysis over the place, then its layer: one computation.
    let page = app.get(&format!("/map?analysis=emerging&place={id}&cell=250"), &analyst).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Emerging hot spots</caption>"), "{}", page.body);
    assert!(page.body.contains(&format!("<option value=\"{id}\" selected>Target Park</option>")));
    assert_eq!(counts(), (0, 1));
    let layer = page.body.split("data-emerging=\"").nth(1).and_then(|s| s.split('"').next()).expect("the layer");
    let layer = layer.replace("&amp;", "&").replace("&#38;", "&");
    assert!(layer.contains(&format!("place={id}")), "{layer}");
    let reply = app.get(&layer, &analyst).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.json()["type"], "FeatureCollection");
    assert_eq!(counts(), (1, 1), "the layer is the page's analysis, from the cache");

    // The API: the records inside the place only (24 months of 20 then 8 a month), the
    // comparison park's 480 dropped; asked again, served from the cache.
    let path = format!("/api/v1/hotspots/emerging?place={id}&cell=100");
    let reply = app.get(&path, &analyst).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let api = reply.json();
    assert_eq!(counts(), (1, 2));
    assert_eq!(api["place"], id);
    assert_eq!(api["dropped_outside_area"], 480);
    assert_eq!(api["points"].as_u64().expect("points") - 480, 240 + 96);
    assert_eq!(api["slices"].as_array().expect("slices").len(), 24);
    let counted: i64 =
        api["rows"].as_array().expect("rows").iter().map(|r| r["count"].as_i64().expect("a count")).sum();
    assert_eq!(counted, 240 + 96, "every record inside the place is in a cell");
    assert_eq!(app.get(&path, &analyst).await.json(), api);
    assert_eq!(counts(), (2, 2), "the same request again: from the cache");

    // The command line, by the place's name: the same JSON.
    let cli = tokio::task::spawn_blocking(move || {
        alliance(&url, &["spatial", "emerging", "--place", "target park", "--cell", "100", "--format", "json"])
    })
    .await
    .expect("the command ran");
    assert!(cli.status.success(), "{}", String::from_utf8_lossy(&cli.stderr));
    let cli: serde_json::Value = serde_json::from_slice(&cli.stdout).expect("JSON");
    assert_eq!(cli, api, "the command line and the API give the same analysis of the place");

    // A place that is not in the register: 404 on the API, nothing computed.
    assert_eq!(app.get("/api/v1/hotspots/emerging?place=999999", &analyst).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get("/api/v1/hotspots/emerging?place=park", &analyst).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(counts(), (2, 2));

    // The density layer over the same place: only the records inside it, the rest dropped.
    let kde = app.get(&format!("/api/v1/kde?place={id}&cell=100"), &analyst).await;
    assert_eq!(kde.status, StatusCode::OK, "{}", kde.body);
    let kde = kde.json();
    assert_eq!((kde["points"].as_u64(), kde["dropped_outside_area"].as_u64()), (Some(240 + 96), Some(480)), "{kde}");
    assert_eq!(app.get("/api/v1/kde?place=999999", &analyst).await.status, StatusCode::NOT_FOUND);
}

on_each_db!(emerging_over_a_place => emerging_hot_spots_over_a_place);
