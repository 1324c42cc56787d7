//! Spatial analysis end to end: `alliance hotspots`, `kde` and `near-repeat` as processes on
//! points files and on the stored demo data; the API and the map page over HTTP.

use crate::common;
use common::alliance;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Output;

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

    // With permutations, significance comes from p_sim. Conditional permutation holds the
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

    // Local Moran has its own columns; JSON and GeoJSON say what they did.
    let out = stdout_of(&alliance(&db.url, &["hotspots", "--points", p, "--cell", "100", "--stat", "local-moran"]));
    let (header, _) = csv_rows(&out);
    assert_eq!(&header[9..], ["local_i", "quadrant"]);
    let out = stdout_of(&alliance(&db.url, &["hotspots", "--points", p, "--cell", "100", "--format", "json"]));
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["statistic"], "gi-star");
    assert_eq!(json["significance_from"], "p_sim");
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
    let out = tokio::task::spawn_blocking(move || {
        stdout_of(&alliance(
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
                "--permutations",
                "0",
            ],
        ))
    })
    .await
    .unwrap();
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

/// Serves the app on a free port.
async fn serve(db: &Db) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = alliance_web::router(alliance_web::AppState::new(db.clone()));
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    addr
}

/// The signed-in analyst's (cookie, CSRF token) of the API test.
static SESSION: std::sync::OnceLock<(String, String)> = std::sync::OnceLock::new();

/// A request with `Connection: close`, as the signed-in analyst: (status, body).
async fn request(addr: std::net::SocketAddr, method: &str, path: &str, body: &str) -> (u16, String) {
    let (cookie, csrf) = SESSION.get().cloned().unwrap_or_default();
    let (method, path, body) = (method.to_string(), path.to_string(), body.to_string());
    tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nCookie: {cookie}\r\nX-CSRF-Token: {csrf}\r\nContent-Type: text/csv\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).unwrap();
        let text = String::from_utf8_lossy(&raw).into_owned();
        let status = text[9..12].parse().unwrap();
        let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
        (status, body)
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn api_endpoints_and_the_map_page() {
    let test_db = common::sqlite();
    let db = demo_db(&test_db.url).await;
    let user = common::add_user(&db, "analyst@example.org", alliance_core::access::Role::Analyst, "Test council").await;
    let _ = SESSION.set(common::session_for(&db, user).await);
    let addr = serve(&db).await;
    // without a session the API refuses
    let anonymous = std::net::TcpStream::connect(addr).map(|mut s| {
        write!(s, "GET /api/v1/hotspots HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
        let mut raw = String::new();
        s.read_to_string(&mut raw).unwrap();
        raw
    });
    assert!(anonymous.unwrap().starts_with("HTTP/1.1 401"));
    let (status, body) =
        request(addr, "GET", "/api/v1/hotspots?crime-type=Robbery&cell=500&permutations=99&district=E06000021", "")
            .await;
    assert_eq!(status, 200, "{body}");
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["statistic"], "gi-star");
    assert!(!json["rows"].as_array().unwrap().is_empty());
    let (status, body) =
        request(addr, "GET", "/api/v1/hotspots?areas=lsoa21&district=E06000021&format=geojson", "").await;
    assert_eq!(status, 200, "{body}");
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["type"], "FeatureCollection");
    let (status, body) = request(addr, "GET", "/api/v1/kde?crime-type=Robbery&cell=250&radius=800", "").await;
    assert_eq!(status, 200, "{body}");
    assert!(serde_json::from_str::<serde_json::Value>(&body).unwrap()["cells"].is_array());
    let (status, body) = request(addr, "GET", "/api/v1/boundaries?kind=lsoa21&district=E06000021", "").await;
    assert_eq!(status, 200, "{body}");
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(json["features"].as_array().unwrap().len() > 100);
    let (status, body) = request(addr, "GET", "/api/v1/near-repeat", "").await;
    assert_eq!(status, 422, "{body}");
    let dir = tempfile::tempdir().unwrap();
    let points = std::fs::read_to_string(cluster_points(dir.path())).unwrap();
    let (status, body) = request(
        addr,
        "POST",
        "/api/v1/near-repeat?space-breaks=0,1,100,inf&time-breaks=0,7,inf&permutations=19",
        &points,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(serde_json::from_str::<serde_json::Value>(&body).unwrap()["space_labels"][2], "[100,Inf)");
    let (status, body) = request(addr, "POST", "/api/v1/hotspots?cell=100&permutations=0", &points).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(serde_json::from_str::<serde_json::Value>(&body).unwrap()["rows"].as_array().unwrap().len(), 100);
    let (status, body) = request(addr, "POST", "/api/v1/hotspots?cell=100", "id,x,y\n1,abc,3\n").await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("column \\\"x\\\""), "{body}");

    let (status, page) = request(addr, "GET", "/map?crime-type=Robbery&district=E06000021&cell=500", "").await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Top hotspots"), "{page}");
    assert!(page.contains("<table"), "the hotspots table");
    assert!(page.contains("/assets/leaflet/leaflet.js"));
    db.close().await;
    let _ = SourceFile::from_bytes("unused", Vec::new());
}

/// Issue 5: the map page computes Gi* for its table of top hotspots and fills the cache, the
/// map layer it points at (`data-hotspots`) is then served from the cache with the figures a
/// fresh computation gives, and an import makes the next request compute again (here with the
/// imported record counted).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_map_layer_reuses_the_pages_hotspots_until_an_import() {
    use alliance_web::hotspot_cache::CacheCounts;
    use common::http::{send, Visitor};

    let test_db = common::sqlite();
    let db = demo_db(&test_db.url).await;
    let user = common::add_user(&db, "analyst@example.org", alliance_core::access::Role::Analyst, "Test council").await;
    let (cookie, csrf) = common::session_for(&db, user).await;
    let me = Visitor { cookie, csrf };
    let state = alliance_web::AppState::new(db.clone());
    let app = alliance_web::router(state.clone());
    let counts = || state.hotspot_cache.counts();

    let page = send(&app, "GET", "/map?crime-type=Robbery&district=E06000021&cell=500", &me, None).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Top hotspots"), "{}", page.body);
    assert_eq!(counts(), CacheCounts { hits: 0, computations: 1 });
    let layer =
        page.body.split("data-hotspots=\"").nth(1).and_then(|s| s.split('"').next()).expect("the map layer URL");
    // As a browser reads the attribute (askama writes `&` in values as `&#38;`).
    let layer = layer.replace("&amp;", "&").replace("&#38;", "&");

    let first = send(&app, "GET", &layer, &me, None).await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(counts(), CacheCounts { hits: 1, computations: 1 }, "the layer comes from the cache");
    let first: serde_json::Value = serde_json::from_str(&first.body).unwrap();
    let fresh = alliance_web::router(alliance_web::AppState::new(db.clone()));
    let computed = send(&fresh, "GET", &layer, &me, None).await;
    assert_eq!(first, serde_json::from_str::<serde_json::Value>(&computed.body).unwrap(), "cached = computed");
    let points = |v: &serde_json::Value| v["properties"]["points"].as_u64().expect("a point count");
    assert!(points(&first) > 0);

    // One more robbery where a stored one in the district is, in a month of its own.
    let filter = LocatedFilter {
        crime_types: vec!["Robbery".into()],
        district: Some("E06000021".into()),
        ..LocatedFilter::default()
    };
    let known = db.located_police_records(&filter).await.unwrap().into_iter().next().expect("a stored robbery");
    let csv = format!(
        "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,Last outcome category,Context\n\
         {:064x},2031-01,Staffordshire Police,Staffordshire Police,{},{},On or near Test Street,{},Test,Robbery,Under investigation,\n",
        1, known.longitude, known.latitude, known.lsoa_code.clone().unwrap_or_default()
    );
    db.import_police_file(
        &SourceFile::from_bytes("2031-01-staffordshire-street.csv", csv.into_bytes()),
        "test",
        &|_| {},
    )
    .await
    .unwrap();

    let after = send(&app, "GET", &layer, &me, None).await;
    assert_eq!(after.status, 200, "{}", after.body);
    assert_eq!(counts(), CacheCounts { hits: 1, computations: 2 }, "the import made the cached analysis a miss");
    let after: serde_json::Value = serde_json::from_str(&after.body).unwrap();
    assert_eq!(points(&after), points(&first) + 1, "the imported robbery is counted");
    db.close().await;
}
