//! Spatial analysis end to end: `alliance hotspots`, `kde`, `near-repeat` and `spatial
//! optimized|emerging` as processes on points files and on the stored demo data; the API and
//! the map page over HTTP (TestApp), including the bounds every request is checked against.

use crate::common;
use common::alliance;
use common::app::{Caller, TestApp};

use std::path::{Path, PathBuf};
use std::process::Output;

use alliance_core::access::Role;
use reqwest::StatusCode;

use alliance_core::analytics::spatial::{gi_star, Contiguity, PermutationOptions, Weights};
use alliance_core::geo::grid::{count_points, GridSpec};
use alliance_core::geo::projection::BngProjector;
use alliance_db::spatial::LocatedFilter;
use alliance_db::Db;
use alliance_ingest::SourceFile;

fn stdout_of(output: &Output) -> String {
    assert!(
        output.status.success(),
        "alliance failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The command line's standard output for `args` on the database at `url`, run on a blocking
/// thread (the tests' runtime keeps serving while it waits); a failure panics with its output.
async fn cli_stdout(url: &str, args: &[&str]) -> String {
    let url = url.to_string();
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        stdout_of(&alliance(&url, &args.iter().map(String::as_str).collect::<Vec<_>>()))
    })
    .await
    .expect("the command ran")
}

/// 10 × 10 cells of 100 m from (400000, 300000): one point in every cell and 30 in cell
/// (4, 4), with times: the cluster's points 1 day apart, the others 100 days apart.
fn cluster_points(dir: &Path) -> PathBuf {
    let path = dir.join("points.csv");
    let mut text = String::from("id,x,y,t\n");
    let mut id = 0;
    for iy in 0..10 {
        for ix in 0..10 {
            let n = if (ix, iy) == (4, 4) { 30 } else { 1 };
            for k in 0..n {
                id += 1;
                let x = 400_000.0 + ix as f64 * 100.0 + 10.0 + k as f64;
                let y = 300_000.0 + iy as f64 * 100.0 + 50.0;
                let t = if n > 1 { k as f64 } else { (id * 100) as f64 };
                text.push_str(&format!("{id},{x},{y},{t}\n"));
            }
        }
    }
    std::fs::write(&path, text).unwrap();
    path
}

fn csv_rows(text: &str) -> (Vec<String>, Vec<csv::StringRecord>) {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().unwrap().iter().map(str::to_string).collect();
    (header, reader.records().map(|r| r.unwrap()).collect())
}

#[test]
fn hotspots_on_a_points_file_find_the_cluster_and_its_neighbours() {
    let db = common::sqlite();
    let dir = tempfile::tempdir().unwrap();
    let points = cluster_points(dir.path());
    let p = points.to_str().unwrap();
    let out = stdout_of(&alliance(
        &db.url,
        &["hotspots", "--points", p, "--cell", "100", "--origin", "400000,300000", "--permutations", "0"],
    ));
    let (header, rows) = csv_rows(&out);
    assert_eq!(
        header,
        ["ix", "iy", "x_min", "y_min", "count", "z", "p_norm", "p_sim", "significant", "gi_star", "gi_bin"]
    );
    assert_eq!(rows.len(), 100);
    let mut hot: Vec<(String, String)> =
        rows.iter().filter(|r| &r[8] == "true").map(|r| (r[0].to_string(), r[1].to_string())).collect();
    hot.sort();
    let expected: Vec<(String, String)> =
        (3..=5).flat_map(|ix| (3..=5).map(move |iy| (ix.to_string(), iy.to_string()))).collect();
    assert_eq!(hot, expected);
    let centre = rows.iter().find(|r| &r[0] == "4" && &r[1] == "4").unwrap();
    assert_eq!(&centre[4], "30");
    assert_eq!(&centre[2], "400400");

    // With permutation significance, it comes from p_sim. Conditional permutation holds the
    // cell's own 30 fixed and redraws its 8 neighbours from the other 99 cells, all 1: every
    // permuted sum ties the observed one, ties count as extreme, so p_sim = 1 (the Gi* of
    // the cluster cell is explained by its own count, not by its neighbours).
    let out = stdout_of(&alliance(
        &db.url,
        &[
            "hotspots",
            "--points",
            p,
            "--cell",
            "100",
            "--origin",
            "400000,300000",
            "--significance",
            "permutation",
            "--permutations",
            "199",
            "--seed",
            "1",
        ],
    ));
    let (_, rows) = csv_rows(&out);
    let centre = rows.iter().find(|r| &r[0] == "4" && &r[1] == "4").unwrap();
    assert_eq!(&centre[7], "1");
    assert_eq!(&centre[8], "false");
    // By default (the ArcGIS convention) the same permutations are only a robustness check:
    // significance and the bins come from the normal p-value, so the cluster is still hot.
    let out = stdout_of(&alliance(
        &db.url,
        &["hotspots", "--points", p, "--cell", "100", "--origin", "400000,300000", "--permutations", "199"],
    ));
    let (_, rows) = csv_rows(&out);
    let centre = rows.iter().find(|r| &r[0] == "4" && &r[1] == "4").unwrap();
    assert_eq!(&centre[7], "1", "p_sim still reported");
    assert_eq!(&centre[8], "true");
    // By hand: the cell and its 8 neighbours each sum 38 over their 9-cell windows (n = 100,
    // mean 1.29, s = 2.8855), z = 26.39 / 8.2993 = 3.18, p = 0.0015: the nine smallest p of
    // 100 tests pass Benjamini–Hochberg at 0.05 (0.0045) but not at 0.01 (0.0009): bin 2.
    assert_eq!(&centre[10], "2", "gi_bin: hot spot at 95% confidence");
    let z: f64 = centre[5].parse().unwrap();
    assert!((z - 3.18).abs() < 0.01, "z {z}");

    // Local Moran has its own columns; JSON and GeoJSON say what they did.
    let out = stdout_of(&alliance(&db.url, &["hotspots", "--points", p, "--cell", "100", "--stat", "local-moran"]));
    let (header, _) = csv_rows(&out);
    assert_eq!(&header[9..], ["local_i", "quadrant"]);
    let out = stdout_of(&alliance(&db.url, &["hotspots", "--points", p, "--cell", "100", "--format", "json"]));
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["statistic"], "gi-star");
    assert_eq!(json["significance_from"], "p_norm");
    assert_eq!(json["inference"]["kind"], "normal");
    assert_eq!(json["permutations"], 0, "no permutations unless asked for");
    assert_eq!(json["cells"], "bbox", "a points file has no study area of its own");
    assert_eq!(json["rows"].as_array().unwrap().len(), 100);
    let out = stdout_of(&alliance(&db.url, &["hotspots", "--points", p, "--cell", "100", "--format", "geojson"]));
    let geo: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(geo["type"], "FeatureCollection");
    let ring = &geo["features"][0]["geometry"]["coordinates"][0];
    assert_eq!(ring.as_array().unwrap().len(), 5);
    let lon = ring[0][0].as_f64().unwrap();
    assert!((-3.0..-0.5).contains(&lon), "WGS84 longitude, got {lon}");
    let out = stdout_of(&alliance(&db.url, &["hotspots", "--points", p, "--cell", "100", "--stat", "moran"]));
    let (header, rows) = csv_rows(&out);
    assert_eq!(header[..2], ["statistic", "i"]);
    assert_eq!(rows.len(), 1);
}

#[test]
fn kde_gives_density_per_square_kilometre_at_cell_centres() {
    let db = common::sqlite();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("one.csv");
    std::fs::write(&path, "id,x,y\na,400025,300025\nb,400475,300475\n").unwrap();
    let out = stdout_of(&alliance(
        &db.url,
        &["kde", "--points", path.to_str().unwrap(), "--cell", "50", "--radius", "400", "--kernel", "quartic"],
    ));
    let (header, rows) = csv_rows(&out);
    assert_eq!(header, ["ix", "iy", "x", "y", "density"]);
    // the point a sits on the centre of cell (0, 0): 3/(π·400²) per m² × 10⁶ from a,
    // and b is 636 m away (beyond the radius)
    let first: f64 = rows[0][4].parse().unwrap();
    let expected = 3.0 / (std::f64::consts::PI * 400.0 * 400.0) * 1e6;
    assert!((first - expected).abs() < 1e-9 * expected, "{first} vs {expected}");
    assert_eq!(rows.len(), 100);
}

#[test]
fn near_repeat_tables_have_interval_labels_and_refuse_months_only_data() {
    let db = common::sqlite();
    let dir = tempfile::tempdir().unwrap();
    let points = cluster_points(dir.path());
    let p = points.to_str().unwrap();
    let args = ["near-repeat", "--points", p, "--space-breaks", "0,1,100,200,inf", "--time-breaks", "0,7,14,inf"];
    let out = stdout_of(&alliance(&db.url, &[&args[..], &["--permutations", "99", "--format", "csv"]].concat()));
    let (header, rows) = csv_rows(&out);
    assert_eq!(
        header,
        [
            "space_band",
            "time_band",
            "observed",
            "mean_permuted",
            "median_permuted",
            "knox_ratio",
            "knox_ratio_median",
            "p_value"
        ]
    );
    assert_eq!(rows.len(), 4 * 3);
    let labels: Vec<(&str, &str)> = rows.iter().map(|r| (r.get(0).unwrap(), r.get(1).unwrap())).collect();
    assert_eq!(labels[0], ("[0,1)", "[0,7)"));
    assert_eq!(labels[11], ("[200,Inf)", "[14,Inf)"));
    // The 30 cluster points lie 1 m apart along a line, 1 day apart: pairs with
    // distance in [1, 100) and time in [0, 7) are those 1..=6 apart: Σ_{d=1..6} (30 − d).
    let observed: u64 = rows[3][2].parse().unwrap();
    assert_eq!((rows[3].get(0).unwrap(), rows[3].get(1).unwrap()), ("[1,100)", "[0,7)"));
    assert!(observed >= (1..=6).map(|d| 30 - d).sum::<u64>(), "observed {observed}");

    let out = stdout_of(&alliance(&db.url, &[&args[..], &["--permutations", "99", "--format", "json"]].concat()));
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["space_labels"][3], "[200,Inf)");
    assert_eq!(json["time_labels"].as_array().unwrap().len(), 3);
    assert_eq!(json["observed"].as_array().unwrap().len(), 4);
    assert_eq!(json["knox_ratio_median"].as_array().unwrap().len(), 4);

    let refused = alliance(&db.url, &["near-repeat", "--crime-type", "Burglary"]);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("street-level police data gives only the month"), "{stderr}");
}

#[test]
fn bad_points_files_are_named_by_file_line_and_column() {
    let db = common::sqlite();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.csv");
    std::fs::write(&path, "id,x,y,t\n1,400000,300000,0\n2,400010,north,1\n").unwrap();
    let out = alliance(&db.url, &["hotspots", "--points", path.to_str().unwrap()]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("bad.csv:3: column \"y\": expected a number, found \"north\""), "{stderr}");
    std::fs::write(&path, "id,x,y\n1,400000,300000\n2,400010,300000\n").unwrap();
    let out = alliance(&db.url, &["near-repeat", "--points", path.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("bad.csv:2: column \"t\""), "{stderr}");
}

/// Imports the bundled demo police data and areas into a fresh database.
async fn demo_db(url: &str) -> Db {
    let db = Db::connect(url).await.unwrap();
    let loaded = alliance::demo::load_if_empty(&db).await.unwrap();
    assert!(loaded > 0);
    db
}

#[tokio::test(flavor = "multi_thread")]
async fn stored_data_hotspots_equal_gi_star_called_directly() {
    let test_db = common::sqlite();
    let db = demo_db(&test_db.url).await;
    let url = test_db.url.clone();
    let out = cli_stdout(
        &url,
        &[
            "hotspots",
            "--crime-type",
            "Robbery",
            "--from",
            "2025-01",
            "--to",
            "2025-06",
            "--cell",
            "500",
            "--cells",
            "bbox",
            "--permutations",
            "0",
        ],
    )
    .await;
    let (_, rows) = csv_rows(&out);
    // Independently: the same records, projected, gridded and given to gi_star.
    let filter = LocatedFilter {
        crime_types: vec!["Robbery".into()],
        from: Some("2025-01".parse().unwrap()),
        to: Some("2025-06".parse().unwrap()),
        ..LocatedFilter::default()
    };
    let crimes = db.located_police_records(&filter).await.unwrap();
    assert!(crimes.len() > 50, "{} robberies", crimes.len());
    let projector = BngProjector::new().unwrap();
    let xy: Vec<(f64, f64)> = crimes.iter().map(|c| projector.to_bng(c.longitude, c.latitude).unwrap()).collect();
    let grid = GridSpec::covering(&xy, 500.0, None).unwrap();
    let cells = grid.all_cells();
    let counts = count_points(&grid, &cells, &xy).unwrap().counts;
    let w = Weights::contiguity(&cells, Contiguity::Queen).unwrap();
    let direct = gi_star(&counts, &w, &PermutationOptions { permutations: 0, ..Default::default() }).unwrap();
    assert_eq!(rows.len(), direct.results.len());
    for (row, d) in rows.iter().zip(&direct.results) {
        let z: f64 = row[5].parse().unwrap();
        assert_eq!(z, d.z);
        assert_eq!(row[4].parse::<i64>().unwrap(), d.value);
    }
    assert_eq!(counts.iter().sum::<i64>() as usize, crimes.len());
    db.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn area_hotspots_and_persistence_on_demo_data() {
    let test_db = common::sqlite();
    let db = demo_db(&test_db.url).await;
    db.close().await;
    let url = test_db.url.clone();
    tokio::task::spawn_blocking(move || {
        let out = stdout_of(&alliance(
            &url,
            &[
                "hotspots",
                "--areas",
                "lsoa21",
                "--district",
                "E06000021",
                "--crime-type",
                "Burglary",
                "--permutations",
                "99",
            ],
        ));
        let (header, rows) = csv_rows(&out);
        assert_eq!(header[..7], ["code", "name", "count", "z", "p_norm", "p_sim", "significant"]);
        assert!(rows.len() > 100, "{} LSOAs in Stoke-on-Trent", rows.len());
        assert!(rows.iter().all(|r| r[0].starts_with("E01")));
        let out = stdout_of(&alliance(
            &url,
            &[
                "hotspots",
                "--persistence",
                "--period",
                "quarter",
                "--crime-type",
                "Robbery",
                "--cell",
                "1000",
                "--permutations",
                "0",
            ],
        ));
        let (header, rows) = csv_rows(&out);
        assert_eq!(header, ["ix", "iy", "x_min", "y_min", "count", "class", "hot_periods", "trend_z", "trend_p"]);
        assert!(rows.iter().all(|r| r[6].parse::<usize>().unwrap() <= 4));
        let out = stdout_of(&alliance(
            &url,
            &[
                "hotspots",
                "--cells",
                "area",
                "--district",
                "E06000021",
                "--crime-type",
                "Robbery",
                "--cell",
                "500",
                "--permutations",
                "0",
            ],
        ));
        let (_, rows) = csv_rows(&out);
        assert!(!rows.is_empty());
    })
    .await
    .unwrap();
}

/// The demo data in a fresh app, and an analyst signed in.
async fn demo_app(test_db: common::TestDb) -> (TestApp, Caller) {
    let app = TestApp::start(test_db).await;
    assert!(alliance::demo::load_if_empty(&app.db).await.unwrap() > 0);
    let analyst = app.signed_in("analyst@example.org", Role::Analyst, "Test council").await;
    (app, analyst)
}

/// A SQLite database with the demo data and the app's state over it, before the app starts
/// (so a test can keep a handle on the state's parts).
async fn demo_state() -> (common::TestDb, alliance_web::AppState) {
    let test_db = common::sqlite();
    let db = test_db.connect().await;
    assert!(alliance::demo::load_if_empty(&db).await.unwrap() > 0);
    (test_db, alliance_web::AppState::new(db).with_secure_cookies(false))
}

/// [`demo_app`] over SQLite, with its hot spot cache in view.
async fn demo_app_with_cache() -> (TestApp, Caller, std::sync::Arc<alliance_app::spatial::HotspotCache>) {
    let (test_db, state) = demo_state().await;
    let cache = state.hotspot_cache.clone();
    let app = TestApp::start_with(test_db, state).await;
    let me = app.signed_in("analyst@example.org", Role::Analyst, "Test council").await;
    (app, me, cache)
}

/// Points posted to the API (a CSV body, with the session's CSRF header).
async fn post_points(app: &TestApp, path: &str, who: &Caller, body: &str) -> common::app::Reply {
    app.post_bytes(path, who, "text/csv", body.as_bytes().to_vec()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_endpoints_and_the_map_page() {
    let (app, me) = demo_app(common::sqlite()).await;
    // without a session the API refuses
    let anonymous = app.get("/api/v1/hotspots", &Caller::default()).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED, "{}", anonymous.body);
    let reply = app.get("/api/v1/hotspots?crime-type=Robbery&cell=500&permutations=99&district=E06000021", &me).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let json = reply.json();
    assert_eq!(json["statistic"], "gi-star");
    assert_eq!(json["cells"], "area", "stored data: the study area by default");
    assert_eq!(json["significance_from"], "p_norm");
    assert!(json["critical_p"].is_array());
    assert!(!json["rows"].as_array().unwrap().is_empty());
    let reply = app.get("/api/v1/hotspots?areas=lsoa21&district=E06000021&format=geojson", &me).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.json()["type"], "FeatureCollection");
    let reply = app.get("/api/v1/kde?crime-type=Robbery&cell=250&radius=800", &me).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(reply.json()["cells"].is_array());
    let reply = app.get("/api/v1/boundaries?kind=lsoa21&district=E06000021", &me).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(reply.json()["features"].as_array().unwrap().len() > 100);
    let reply = app.get("/api/v1/near-repeat", &me).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.body);
    assert_eq!(reply.header("content-type"), Some("application/problem+json"));
    let dir = tempfile::tempdir().unwrap();
    let points = std::fs::read_to_string(cluster_points(dir.path())).unwrap();
    let reply = post_points(
        &app,
        "/api/v1/near-repeat?space-breaks=0,1,100,inf&time-breaks=0,7,inf&permutations=19",
        &me,
        &points,
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.json()["space_labels"][2], "[100,Inf)");
    let reply = post_points(&app, "/api/v1/hotspots?cell=100&permutations=0", &me, &points).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.json()["rows"].as_array().unwrap().len(), 100);
    let reply = post_points(&app, "/api/v1/hotspots?cell=100", &me, "id,x,y\n1,abc,3\n").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert!(reply.body.contains("column \\\"x\\\""), "{}", reply.body);

    let page = app.get("/map?crime-type=Robbery&district=E06000021&cell=500", &me).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Top hotspots"), "{}", page.body);
    assert!(page.body.contains("<table"), "the hotspots table");
    assert!(page.body.contains("/assets/leaflet/leaflet.js"));
    // The crime type menu (read from the month counts) offers exactly the types of the
    // records: "All crime types", then each distinct type of the demo's records, sorted.
    let by_type_and_outcome = app
        .db
        .counts(
            &[alliance_core::domain::CountField::CrimeType, alliance_core::domain::CountField::Outcome],
            &Default::default(),
        )
        .await
        .unwrap();
    let mut types: Vec<String> = by_type_and_outcome.iter().filter_map(|r| r.values[0].clone()).collect();
    types.dedup();
    assert!(types.len() > 5, "{types:?}");
    let menu = page.body.split("id=\"crime-type\"").nth(1).and_then(|m| m.split("</select>").next()).unwrap();
    let offered: Vec<&str> =
        menu.split("<option value=\"").skip(1).map(|o| o.split('"').next().unwrap_or_default()).collect();
    assert_eq!(offered[0], "");
    assert_eq!(offered[1..].iter().map(|t| t.replace("&#39;", "'")).collect::<Vec<_>>(), types);
    // The top hotspots name the street the police data gives most often in the cell, and
    // the ward of its centre.
    let table = page.body.split("Top hotspots").nth(1).and_then(|t| t.split("</table>").next()).unwrap();
    let first = table.split("<td class=\"govuk-table__cell\">").nth(1).expect("a first hot spot");
    assert!(first.contains(" ward"), "{first}");
    assert!(!table.contains("On or near"), "{table}");

    // Emerging hot spots: the categories and the cells beside the map, and its layer.
    let page = app
        .get("/map?analysis=emerging&crime-type=Violence%20and%20sexual%20offences&district=E06000021&cell=500", &me)
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Emerging hot spots</caption>"), "{}", page.body);
    assert!(page.body.contains("Cells with a hot spot pattern"), "{}", page.body);
    let layer = page.body.split("data-emerging=\"").nth(1).and_then(|s| s.split('"').next()).expect("the layer");
    let layer = app.get(&layer.replace("&amp;", "&").replace("&#38;", "&"), &me).await;
    assert_eq!(layer.status, StatusCode::OK, "{}", layer.body);
    assert_eq!(layer.json()["type"], "FeatureCollection");

    // Filters that cannot be read are said on the page, not dropped (a dropped month mapped
    // other months under the heading of those asked for).
    for (query, says) in [
        ("from=2025-13&to=2025-01", "is not a month"),
        ("from=2025-06&to=2025-01", "is after the last"),
        ("district=NOPE", "No district NOPE is held"),
        ("place=999999", "no such place"),
        ("analysis=emerging&from=2025-01&to=2025-01", "at least two months"),
    ] {
        let page = app.get(&format!("/map?{query}"), &me).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{query}: {}", page.body);
        assert!(page.body.contains(says), "{query}: {says:?} is not on the page: {}", page.body);
    }
}

/// Issue 13 finding 3: one GET asked for 250 m cells over the bounding box of every point
/// (stray points far outside the force make it huge) with 9,999 permutations, and the server
/// ran it. Each bound now refuses before any work with a 422 naming it, and nothing is cached;
/// by default the grid is the study area's, so the stray points no longer inflate it.
async fn oversized_hotspot_requests_are_refused_before_any_work(app: TestApp) {
    assert!(alliance::demo::load_if_empty(&app.db).await.unwrap() > 0);
    let me = app.signed_in("board@example.org", Role::BoardMember, "Test council").await;
    // A stray robbery in Shetland, as data.police.uk files sometimes hold.
    let csv = "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,Last outcome category,Context\n\
               ,2031-02,Staffordshire Police,Staffordshire Police,-1.2,60.3,On or near Far Street,,,Robbery,Under investigation,\n";
    app.db
        .import_police_file(
            &alliance_ingest::SourceFile::from_bytes("2031-02-staffordshire-street.csv", csv.as_bytes().to_vec()),
            "test",
            &|_| {},
        )
        .await
        .unwrap();
    let refusals = [
        // the finding: the bounding box of all points at 250 m, 9,999 permutations
        ("/api/v1/hotspots?crime-type=Robbery&cell=250&cells=bbox&permutations=9999", "grid cells"),
        ("/api/v1/hotspots?crime-type=Robbery&cell=250&cells=bbox&permutations=9999&format=geojson", "grid cells"),
        ("/api/v1/hotspots?cell=250&permutations=10000", "9999 permutations"),
        // the study area at 150 m is about 120,000 cells: within the cell budget, but × 9,999
        // permutations over the work budget
        ("/api/v1/hotspots?cell=150&permutations=9999", "permutations"),
        ("/api/v1/kde?crime-type=Robbery&cell=10", "grid cells"),
        // a distance band reaching across the county: billions of neighbour pairs
        ("/api/v1/hotspots?cell=250&distance-band=100000", "neighbour pairs"),
        ("/api/v1/hotspots/emerging?cell=250&band=100000", "neighbour pairs"),
    ];
    for (path, bound) in refusals {
        let reply = app.get(path, &me).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {}", reply.body);
        assert_eq!(reply.header("content-type"), Some("application/problem+json"), "{path}");
        let detail = reply.json()["detail"].as_str().unwrap_or_default().to_string();
        assert!(detail.contains(bound), "{path}: {detail}");
        assert!(reply.body.len() < 2_000, "a short refusal: {}", reply.body);
    }
    // Filter lists become query parameters: a list longer than the bound is a 400 naming it,
    // never a database error.
    for key in ["lsoa", "area", "crime-type"] {
        let codes = vec!["E01000001"; 5_001].join(",");
        let reply = app.get(&format!("/api/v1/hotspots?cell=500&{key}={codes}"), &me).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{key}: {}", &reply.body[..reply.body.len().min(300)]);
        assert!(reply.body.contains("at most 5000"), "{key}: {}", reply.body);
    }
    let page = app.get("/map?cell=250&crime-type=Robbery", &me).await;
    assert_eq!(page.status, StatusCode::OK, "the map's own choices are within the bounds: {}", page.body);
    // Nothing refused was kept: the cache holds the map's one analysis only (checked through
    // the layer of the same request being served, and the refused ones computing nothing).
    let reply = app.get("/api/v1/hotspots?crime-type=Robbery&cell=250&permutations=0", &me).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let json = reply.json();
    assert_eq!(json["cells"], "area");
    assert!(
        json["dropped_outside_area"].as_u64() >= Some(1),
        "the Shetland robbery is dropped, and said so: {}",
        json["dropped_outside_area"]
    );
    let cells = json["rows"].as_array().unwrap().len();
    assert!((30_000..60_000).contains(&cells), "the county's cells, not the box to Shetland: {cells}");

    // The offline background: the streets the police data names, at its snapped points.
    let reply = app.get("/api/v1/streets?district=E06000021", &me).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let streets = reply.json();
    let features = streets["features"].as_array().unwrap();
    assert!(features.len() > 100, "{} streets in Stoke-on-Trent", features.len());
    assert!(features.iter().all(|f| !f["properties"]["name"].as_str().unwrap().starts_with("On or near")));
    assert!(features.iter().all(|f| f["properties"]["records"].as_i64().unwrap() >= 1));
    assert!(!features.iter().any(|f| f["properties"]["name"] == "Far Street"), "Shetland is in no district");

    // With no district asked for: every record's streets while there is no profile, and the
    // partnership's own once its profile names a district (as the map's analyses; on a
    // national archive the country's streets were read and sent).
    let all = app.get("/api/v1/streets", &me).await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.body);
    let all = all.json()["features"].as_array().unwrap().len();
    assert!(all > features.len(), "{all} streets against Stoke-on-Trent's {}", features.len());
    let mut profile: alliance_core::partnership::Profile =
        alliance_core::partnership::example("staffordshire").expect("the example").expect("it parses");
    profile.districts = vec!["E06000021".parse().unwrap()];
    app.db.init_partnership(&profile, &common::test_actor()).await.expect("profile stored");
    let own = app.get("/api/v1/streets", &me).await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.body);
    assert_eq!(own.json()["features"], streets["features"], "the partnership's streets are Stoke-on-Trent's");
}

on_each_app!(oversized_hotspot_requests_are_refused_before_any_work);

/// The refused requests leave nothing in the cache, and the page's analysis is reused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_requests_cache_nothing() {
    let (app, me, cache) = demo_app_with_cache().await;
    for path in [
        "/api/v1/hotspots?cell=250&cells=bbox&permutations=9999",
        "/api/v1/hotspots?cell=150&permutations=9999",
        "/api/v1/hotspots?cell=250&permutations=10000",
    ] {
        let reply = app.get(path, &me).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {}", reply.body);
    }
    let counts = cache.counts();
    assert_eq!((counts.computations, counts.entries, counts.bytes), (0, 0, 0), "{counts:?}");
}

/// Issue 5: the map page computes Gi* for its table of top hotspots and fills the cache, the
/// map layer it points at (`data-hotspots`) is then served from the cache with the figures a
/// fresh computation gives, and an import makes the next request compute again (here with the
/// imported record counted).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_map_layer_reuses_the_pages_hotspots_until_an_import() {
    let (app, me, cache) = demo_app_with_cache().await;
    let counts = || {
        let c = cache.counts();
        (c.hits, c.computations)
    };

    let page = app.get("/map?crime-type=Robbery&district=E06000021&cell=500", &me).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Top hotspots"), "{}", page.body);
    assert_eq!(counts(), (0, 1));
    let layer =
        page.body.split("data-hotspots=\"").nth(1).and_then(|s| s.split('"').next()).expect("the map layer URL");
    // As a browser reads the attribute (askama writes `&` in values as `&#38;`).
    let layer = layer.replace("&amp;", "&").replace("&#38;", "&");

    // Every layer the page points at is a request the API accepts (each parameter once, each
    // one it knows): a layer refused leaves the map blank.
    for attribute in ["data-density", "data-boundaries", "data-streets"] {
        let url = page.body.split(&format!("{attribute}=\"")).nth(1).and_then(|s| s.split('"').next());
        let url = url.unwrap_or_else(|| panic!("{attribute}")).replace("&amp;", "&").replace("&#38;", "&");
        let reply = app.get(&url, &me).await;
        assert_eq!(reply.status, StatusCode::OK, "{attribute} {url}: {}", reply.body);
    }
    assert_eq!(counts(), (0, 1), "the other layers leave the hot spot cache alone");

    let first = app.get(&layer, &me).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(counts(), (1, 1), "the layer comes from the cache");
    let first = first.json();
    let fresh_db = app.db.clone();
    let fresh = TestApp::start_with(common::sqlite(), alliance_web::AppState::new(fresh_db)).await;
    let computed = fresh.get(&layer, &me).await;
    assert_eq!(first, computed.json(), "cached = computed");
    let points = |v: &serde_json::Value| v["properties"]["points"].as_u64().expect("a point count");
    assert!(points(&first) > 0);
    // The page again: its table of named hot spots comes from the cache too (the names were
    // made from the records the analysis read), the same as the first time.
    let top =
        |body: &str| body.split("Top hotspots").nth(1).and_then(|t| t.split("</table>").next()).map(str::to_string);
    let again = app.get("/map?crime-type=Robbery&district=E06000021&cell=500", &me).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert_eq!(counts(), (2, 1), "the page's analysis and names come from the cache");
    assert!(top(&page.body).is_some_and(|t| t.contains(" ward")), "{}", page.body);
    assert_eq!(top(&again.body), top(&page.body));

    // One more robbery where a stored one in the district is, in a month of its own.
    let filter = LocatedFilter {
        crime_types: vec!["Robbery".into()],
        district: Some("E06000021".into()),
        ..LocatedFilter::default()
    };
    let known = app.db.located_police_records(&filter).await.unwrap().into_iter().next().expect("a stored robbery");
    let csv = format!(
        "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,Last outcome category,Context\n\
         {:064x},2031-01,Staffordshire Police,Staffordshire Police,{},{},On or near Test Street,{},Test,Robbery,Under investigation,\n",
        1, known.longitude, known.latitude, known.lsoa_code.clone().unwrap_or_default()
    );
    app.db
        .import_police_file(
            &SourceFile::from_bytes("2031-01-staffordshire-street.csv", csv.into_bytes()),
            "test",
            &|_| {},
        )
        .await
        .unwrap();

    let after = app.get(&layer, &me).await;
    assert_eq!(after.status, StatusCode::OK, "{}", after.body);
    assert_eq!(counts(), (2, 2), "the import made the cached analysis a miss");
    assert_eq!(points(&after.json()), points(&first) + 1, "the imported robbery is counted");
}

/// Two requests for the same analysis at once compute it once; the server's warming makes
/// the default map ready at start and again after each import, so the first visitor after an
/// import finds it kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_map_is_ready_after_an_import_and_computed_once() {
    let test_db = common::sqlite();
    let db = test_db.connect().await;
    assert!(alliance::demo::load_if_empty(&db).await.unwrap() > 0);
    let state = alliance_web::AppState::new(db).with_secure_cookies(false);
    let (cache, server) = (state.hotspot_cache.clone(), state.clone());
    let app = TestApp::start_with(test_db, state).await;
    let me = app.signed_in("analyst@example.org", Role::Analyst, "Test council").await;
    let counts = || {
        let c = cache.counts();
        (c.hits, c.computations)
    };

    let asked = "/map?crime-type=Robbery&district=E06000021&cell=250";
    let (a, b) = tokio::join!(app.get(asked, &me), app.get(asked, &me));
    assert_eq!((a.status, b.status), (StatusCode::OK, StatusCode::OK), "{}", a.body);
    assert_eq!(counts(), (1, 1), "one computed, the other waited for it");

    // Without a partnership profile the default view is every record stored: not warmed.
    let mut warmed = None;
    assert!(alliance_web::warm::step(&server, &mut warmed).await, "the street index warmed at start");
    assert_eq!(counts(), (1, 1), "no default map computed without a partnership's area");
    let profile = alliance_core::partnership::example("staffordshire").expect("an example").expect("valid");
    app.db.init_partnership(&profile, &common::test_actor()).await.unwrap();
    assert!(alliance_web::warm::step(&server, &mut warmed).await, "the partnership's area is new");
    assert_eq!(counts(), (1, 2), "the default view computed");
    assert!(!alliance_web::warm::step(&server, &mut warmed).await, "nothing changed: nothing to do");
    let page = app.get("/map", &me).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Top hotspots"), "{}", page.body);
    assert_eq!(counts(), (2, 2), "the first visitor's map was kept for them");

    // An import (here in-process; from the CLI or another instance the same), then a look.
    let filter = LocatedFilter { crime_types: vec!["Robbery".into()], ..LocatedFilter::default() };
    let known = app.db.located_police_records(&filter).await.unwrap().into_iter().next().expect("a stored robbery");
    let csv = format!(
        "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,Last outcome category,Context\n\
         {:064x},2031-01,Staffordshire Police,Staffordshire Police,{},{},On or near Test Street,{},Test,Robbery,Under investigation,\n",
        2, known.longitude, known.latitude, known.lsoa_code.clone().unwrap_or_default()
    );
    let file = SourceFile::from_bytes("2031-01-staffordshire-street.csv", csv.into_bytes());
    app.db.import_police_file(&file, "test", &|_| {}).await.unwrap();
    assert!(alliance_web::warm::step(&server, &mut warmed).await, "the import is seen");
    assert_eq!(counts(), (2, 3), "the default view computed again");
    let after = app.get("/map", &me).await;
    assert_eq!(after.status, StatusCode::OK, "{}", after.body);
    assert_eq!(counts(), (3, 3), "the first visitor after the import finds it kept");
}

/// Issue 15: optimized and emerging hot spot analysis from the command line and the API give
/// the same cells and figures for the same inputs, say what they chose and why, and the
/// emerging categories follow from each cell's bins.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn optimized_and_emerging_hot_spots_agree_between_cli_and_api() {
    let test_db = common::sqlite();
    let url = test_db.url.clone();
    let (app, me) = demo_app(test_db).await;
    let filters = "crime-type=Violence%20and%20sexual%20offences&district=E06000021";

    let reply = app.get(&format!("/api/v1/hotspots/optimized?{filters}"), &me).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let api = reply.json();
    assert_eq!(api["analysis"], "optimized-hot-spots");
    assert!(api["explanation"].as_array().unwrap().len() >= 4, "{}", api["explanation"]);
    assert!(api["cell_size"]["value"].as_f64().unwrap() > 0.0);
    assert_eq!(api["cell_size"]["chosen_by"], "data");
    let rows = api["rows"].as_array().unwrap();
    assert!(rows.iter().any(|r| r["gi_bin"].as_i64().unwrap() > 0), "some hot spot in Stoke's violence");
    let cli = cli_stdout(
        &url,
        &[
            "spatial",
            "optimized",
            "--crime-type",
            "Violence and sexual offences",
            "--district",
            "E06000021",
            "--format",
            "json",
        ],
    )
    .await;
    let cli: serde_json::Value = serde_json::from_str(&cli).unwrap();
    assert_eq!(cli, api, "the command line and the API give the same analysis");

    let reply = app.get(&format!("/api/v1/hotspots/emerging?{filters}&cell=500"), &me).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let api = reply.json();
    assert_eq!(api["analysis"], "emerging-hot-spots");
    let slices = api["slices"].as_array().unwrap().len();
    assert!(slices >= 2, "{}", api["slices"]);
    let rows = api["rows"].as_array().unwrap();
    let tally: u64 = api["categories"].as_array().unwrap().iter().map(|c| c["cells"].as_u64().unwrap()).sum();
    assert_eq!(tally as usize, rows.len(), "every cell has one category");
    for r in rows {
        let bins: Vec<i64> = r["bins"].as_array().unwrap().iter().map(|b| b.as_i64().unwrap()).collect();
        assert_eq!(bins.len(), slices);
        let hot = bins.iter().filter(|&&b| b >= 1).count() as u64;
        assert_eq!(r["hot_slices"].as_u64(), Some(hot));
        let category = r["category"].as_str().unwrap();
        let last = *bins.last().unwrap();
        if category.ends_with("hot-spot") && category != "historical-hot-spot" {
            assert!(last >= 1, "{category} is hot in the final slice: {bins:?}");
        }
        if category == "new-hot-spot" {
            assert_eq!(hot, 1, "{bins:?}");
        }
        if category == "no-pattern" {
            assert!(last == 0, "{bins:?}");
        }
    }
    let csv = cli_stdout(
        &url,
        &[
            "spatial",
            "emerging",
            "--crime-type",
            "Violence and sexual offences",
            "--district",
            "E06000021",
            "--cell",
            "500",
            "--all",
        ],
    )
    .await;
    let (header, csv_rows) = csv_rows(&csv);
    assert_eq!(header[5], "category");
    assert_eq!(csv_rows.len(), rows.len());
    for (c, r) in csv_rows.iter().zip(rows) {
        assert_eq!(&c[5], r["category"].as_str().unwrap());
        assert_eq!(c[4].parse::<i64>().unwrap(), r["count"].as_i64().unwrap());
    }

    // Over a bound: refused before work, naming it.
    let reply = app.get("/api/v1/hotspots/emerging?cell=20", &me).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.body);
    assert!(reply.json()["detail"].as_str().unwrap().contains("grid cells"), "{}", reply.body);
}

/// The map analyses the partnership's own districts when none is chosen: a database may hold
/// other forces' records too (a region, the national archive). Here the profile names one of
/// the demo's nine districts, and the page's analysis, its layer's request and its district
/// choices keep to it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_map_keeps_to_the_partnerships_districts() {
    let (app, me) = demo_app(common::sqlite()).await;
    let stoke = "E06000021";
    let all = app.db.located_police_records(&LocatedFilter::default()).await.unwrap();
    let in_stoke = LocatedFilter { district: Some(stoke.into()), ..LocatedFilter::default() };
    let in_stoke = app.db.located_police_records(&in_stoke).await.unwrap();
    let by_area = LocatedFilter { area: vec![stoke.into()], ..LocatedFilter::default() };
    assert_eq!(app.db.located_police_records(&by_area).await.unwrap(), in_stoke, "area = the district's records");
    assert!(!in_stoke.is_empty() && in_stoke.len() < all.len(), "{} of {}", in_stoke.len(), all.len());

    // Without a profile: every record, no area in the layer's request.
    assert!(app.db.partnership_area().await.unwrap().is_empty());
    let page = app.get("/map?cell=1000", &me).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(!page.body.contains("area=E0"), "no area without a profile");
    assert!(page.body.contains("value=\"E07000198\""), "every district to choose from");

    let mut profile = alliance_core::partnership::example("staffordshire").expect("an example").expect("valid");
    profile.districts.retain(|d| d.to_string() == stoke);
    app.db.init_partnership(&profile, &common::test_actor()).await.unwrap();
    assert_eq!(app.db.partnership_area().await.unwrap(), vec![stoke.to_string()]);
    let page = app.get("/map?cell=1000", &me).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains(&format!("area={stoke}")), "the layer asks for the same area");
    assert!(!page.body.contains("value=\"E07000198\""), "only the partnership's districts to choose from");
    // The layer's request (as the page gives it) answers for the area only.
    let layer =
        page.body.split("data-hotspots=\"").nth(1).and_then(|s| s.split('"').next()).expect("the map layer URL");
    let layer = layer.replace("&amp;", "&").replace("&#38;", "&");
    assert!(layer.contains(&format!("area={stoke}")), "{layer}");
    let reply = app.get(&layer, &me).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let points = reply.json()["properties"]["points"].as_u64().expect("a point count");
    assert!(points > 0 && points <= in_stoke.len() as u64, "{points} points of {} in Stoke", in_stoke.len());
    // Its study area is the partnership's LSOAs, not every boundary stored (the demo holds
    // the nine districts'): the cells of Stoke-on-Trent's own analysis, and fewer than the
    // nine districts' cells.
    let cells = |v: &serde_json::Value| v["features"].as_array().map(Vec::len).expect("features");
    let stoke_only = app.get(&layer.replace(&format!("area={stoke}"), &format!("district={stoke}")), &me).await;
    assert_eq!(stoke_only.status, StatusCode::OK, "{}", stoke_only.body);
    let everywhere = app.get(&layer.replace(&format!("&area={stoke}"), "&area=everywhere"), &me).await;
    assert_eq!(everywhere.status, StatusCode::OK, "{}", everywhere.body);
    assert_eq!(cells(&reply.json()), cells(&stoke_only.json()));
    assert!(
        cells(&reply.json()) * 3 < cells(&everywhere.json()),
        "{} of {}",
        cells(&reply.json()),
        cells(&everywhere.json())
    );
}

/// The API's analyses of stored records keep to the partnership's area when no `area` is
/// given, as the map does: a partner system calling `/api/v1/hotspots` on a database that
/// holds other areas' records too got every record, its grid stretched over them all.
/// `area=everywhere` still asks for every record.
async fn the_api_analyses_default_to_the_partnerships_area(app: TestApp) {
    assert!(alliance::demo::load_if_empty(&app.db).await.unwrap() > 0);
    let me = app.signed_in("analyst@example.org", Role::Analyst, "Test council").await;
    let stoke = "E06000021";
    let get = |url: String| {
        let (app, me) = (&app, &me);
        async move {
            let reply = app.get(&url, me).await;
            assert_eq!(reply.status, StatusCode::OK, "{url}: {}", reply.body);
            reply.json()
        }
    };
    let points = |v: &serde_json::Value| v["points"].as_u64().expect("a point count");

    // Without a profile there is no partnership's area: every record, as on the map.
    let default = get("/api/v1/hotspots?cell=1000".into()).await;
    let everywhere = get("/api/v1/hotspots?cell=1000&area=everywhere".into()).await;
    assert_eq!(points(&default), points(&everywhere));

    // The profile names one of the nine districts the demo holds.
    let mut profile = alliance_core::partnership::example("staffordshire").expect("an example").expect("valid");
    profile.districts.retain(|d| d.to_string() == stoke);
    app.db.init_partnership(&profile, &common::test_actor()).await.unwrap();
    let default = get("/api/v1/hotspots?cell=1000".into()).await;
    let named = get(format!("/api/v1/hotspots?cell=1000&area={stoke}")).await;
    let partnership = get("/api/v1/hotspots?cell=1000&area=partnership".into()).await;
    let everywhere = get("/api/v1/hotspots?cell=1000&area=everywhere".into()).await;
    assert_eq!(points(&default), points(&named), "the partnership's area by default");
    assert_eq!(default, named);
    assert_eq!(default, partnership);
    assert!(
        0 < points(&default) && points(&default) < points(&everywhere),
        "{} of {}",
        points(&default),
        points(&everywhere)
    );
    // A district named is the area, as on the map.
    let district = get(format!("/api/v1/hotspots?cell=1000&district={stoke}")).await;
    assert_eq!(points(&district), points(&named));

    // The other analyses of stored records alike.
    for path in ["/api/v1/kde?cell=250", "/api/v1/hotspots/emerging?cell=1000", "/api/v1/hotspots/optimized?cell=1000"]
    {
        let default = get(path.into()).await;
        assert_eq!(default, get(format!("{path}&area={stoke}")).await, "{path}");
        assert_ne!(default, get(format!("{path}&area=everywhere")).await, "{path}");
    }

    // Refused, not guessed: everywhere with a district, or mixed with codes.
    for query in [format!("area=everywhere&district={stoke}"), format!("area=everywhere,{stoke}")] {
        let reply = app.get(&format!("/api/v1/hotspots?cell=1000&{query}"), &me).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{query}: {}", reply.body);
        assert!(reply.json()["detail"].as_str().unwrap().contains("\"area\""), "{}", reply.body);
    }
}

on_each_app!(the_api_analyses_default_to_the_partnerships_area);

/// Located records are read by a driver of each backend's own (`rusqlite` on SQLite, the
/// native PostgreSQL driver there), not the pool's: both give the demo's records alike,
/// whatever the filter, in the one order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn located_records_read_alike_on_both_backends() {
    let Some(pg) = common::postgres().await else { return };
    let (lite, _) = demo_app(common::sqlite()).await;
    let (post, _) = demo_app(pg).await;
    let stoke = "E06000021".to_string();
    let all = lite.db.located_police_records(&LocatedFilter::default()).await.unwrap();
    let (first, last) = (all[all.len() / 3].month, all[2 * all.len() / 3].month);
    let filters = [
        LocatedFilter::default(),
        LocatedFilter {
            district: Some(stoke.clone()),
            crime_types: vec!["Robbery".into()],
            ..LocatedFilter::default()
        },
        LocatedFilter {
            area: vec![stoke, "E07000198".into()],
            from: Some(first),
            to: Some(last),
            ..LocatedFilter::default()
        },
    ];
    for filter in &filters {
        let a = lite.db.located_police_records(filter).await.unwrap();
        let b = post.db.located_police_records(filter).await.unwrap();
        assert!(!a.is_empty(), "{filter:?}");
        assert_eq!(a, b, "{filter:?}");
    }
}

/// The total count of a CSV of grid cells (`count` in the fifth column) and its number of cells.
fn cells_and_records(csv: &str) -> (usize, i64) {
    let (header, rows) = csv_rows(csv);
    assert_eq!(header[4], "count", "{header:?}");
    (rows.len(), rows.iter().map(|r| r[4].parse::<i64>().unwrap()).sum())
}

/// A partnership of one district on a database holding more (here the demo's nine districts;
/// in practice a region or the national archive): the command line analyses the partnership's
/// area by default, as the map does, and the whole database only when asked (`--all-areas`).
#[tokio::test(flavor = "multi_thread")]
async fn the_command_line_analyses_the_partnerships_area_unless_asked_for_all() {
    const STOKE: &str = "E06000021";
    let test_db = common::sqlite();
    let db = demo_db(&test_db.url).await;
    let robbery = |area: Vec<String>, district: Option<String>| LocatedFilter {
        crime_types: vec!["Robbery".into()],
        district,
        area,
        ..LocatedFilter::default()
    };
    let everywhere = db.located_police_records(&robbery(vec![], None)).await.unwrap().len() as i64;
    let in_stoke = db.located_police_records(&robbery(vec![STOKE.into()], None)).await.unwrap().len() as i64;
    assert!(in_stoke > 20 && in_stoke < everywhere, "Stoke {in_stoke} of {everywhere}");
    let mut profile: alliance_core::partnership::Profile =
        alliance_core::partnership::example("staffordshire").expect("the example").expect("it parses");
    profile.districts = vec![STOKE.parse().unwrap()];
    db.init_partnership(&profile, &common::test_actor()).await.expect("profile stored");
    db.close().await;

    let url = test_db.url.clone();
    tokio::task::spawn_blocking(move || {
        let run = |extra: &[&str]| {
            let mut args = vec!["hotspots", "--crime-type", "Robbery", "--cell", "1000", "--permutations", "0"];
            args.extend_from_slice(extra);
            stdout_of(&alliance(&url, &args))
        };
        // The study area (LSOA boundaries) and the records are Stoke-on-Trent's: every robbery
        // there lies in a cell of its boundaries, so none is dropped.
        let (stoke_cells, stoke_records) = cells_and_records(&run(&["--cells", "area"]));
        assert_eq!(stoke_records, in_stoke);
        // The bounding box of the partnership's records counts the same records.
        let (_, bbox_records) = cells_and_records(&run(&["--cells", "bbox"]));
        assert_eq!(bbox_records, in_stoke);
        // Asked for everything: every robbery stored (the bounding box drops none), and the
        // nine districts' boundaries as the study area (which drops the few placed outside them).
        let (_, all_records) = cells_and_records(&run(&["--cells", "bbox", "--all-areas"]));
        assert_eq!(all_records, everywhere);
        let (all_cells, in_nine) = cells_and_records(&run(&["--cells", "area", "--all-areas"]));
        assert!(all_cells > stoke_cells, "{all_cells} cells against Stoke's {stoke_cells}");
        assert!(in_nine > in_stoke && in_nine <= everywhere, "{in_nine} of {everywhere}");
        // A district asked for by name is that district, with or without a profile.
        let (_, by_name) = cells_and_records(&run(&["--cells", "area", "--district", STOKE]));
        assert_eq!(by_name, in_stoke);
        // --all-areas with a district is a contradiction, refused before any work.
        let refused = alliance(&url, &["hotspots", "--all-areas", "--district", STOKE]);
        assert!(!refused.status.success());
        assert!(String::from_utf8_lossy(&refused.stderr).contains("--all-areas"));
    })
    .await
    .unwrap();
}

/// One caller cannot take every core: while they already run `heavy::PER_CALLER` analyses,
/// another is refused at once (429, `Retry-After`, a problem document) before any work,
/// other callers are served meanwhile, and a finished analysis frees its place.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_caller_runs_a_bounded_number_of_analyses_at_once() {
    let (test_db, state) = demo_state().await;
    let heavy = state.heavy.clone();
    let app = TestApp::start_with(test_db, state).await;
    let board = app.signed_in("board@example.org", Role::BoardMember, "Test council").await;
    let analyst = app.signed_in("analyst@example.org", Role::Analyst, "Test council").await;
    let asked = "/api/v1/hotspots?cell=1000&district=E06000021";
    // The board member's analyses already running, as their parallel requests would be.
    let running: Vec<_> = (0..alliance_web::heavy::PER_CALLER)
        .map(|_| heavy.try_start("user:board@example.org").expect("under the cap"))
        .collect();
    let refused = app.get(asked, &board).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS, "{}", refused.body);
    assert_eq!(refused.header("retry-after"), Some("5"));
    assert_eq!(refused.header("content-type"), Some("application/problem+json"));
    assert!(refused.body.contains("analyses running"), "{}", refused.body);
    assert_eq!(app.get(asked, &analyst).await.status, StatusCode::OK, "another caller is served");
    drop(running);
    assert_eq!(app.get(asked, &board).await.status, StatusCode::OK, "places given back");
}
