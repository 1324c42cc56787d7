//! Intervention evaluation end to end: synthetic data.police.uk street files with a known
//! effect (or none, or displacement) imported into a fresh database and evaluated through
//! the `alliance evaluate` command; and a real Stoke-on-Trent area on the shared data,
//! checked against an independent count of the raw CSV files.

use crate::common;
use common::alliance;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use alliance_ingest::SourceFile;
use common::app::{Caller, Reply, TestApp};
use common::TestDb;

fn run_json(db_url: &str, args: &[&str]) -> serde_json::Value {
    let out = alliance(db_url, args);
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "alliance {args:?} failed: {stderr}");
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
}

/// Points (lon, lat) of the synthetic design: the target square, 167 m north of it (in the
/// 200 m buffer), the centre of the comparison circle, and 145 m outside that circle.
const TARGET_POINT: (f64, f64) = (-2.19, 53.005);
const BUFFER_POINT: (f64, f64) = (-2.19, 53.0095);
const COMPARISON_POINT: (f64, f64) = (-2.10, 53.0);
const COMPARISON_BUFFER_POINT: (f64, f64) = (-2.10, 53.004);

const TARGET_GEOJSON: &str = r#"{"type":"Polygon","coordinates":[[[-2.195,53.002],[-2.185,53.002],[-2.185,53.008],[-2.195,53.008],[-2.195,53.002]]]}"#;
const CONTROL_GEOJSON: &str =
    r#"{"type":"Feature","properties":{"radius_metres":300},"geometry":{"type":"Point","coordinates":[-2.10,53.0]}}"#;

/// Writes one street file per month of 2023 and 2024 with `per_month` crimes at each point:
/// `[target, buffer, comparison, comparison buffer]` for 2023, then for 2024.
fn write_synthetic(dir: &Path, before: [usize; 4], after: [usize; 4]) {
    let points = [TARGET_POINT, BUFFER_POINT, COMPARISON_POINT, COMPARISON_BUFFER_POINT];
    let mut n = 0u64;
    for year in [2023, 2024] {
        let per = if year == 2023 { before } else { after };
        for month in 1..=12 {
            let m = format!("{year}-{month:02}");
            let mut text = String::from("Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,Last outcome category,Context\n");
            for (i, (lon, lat)) in points.iter().enumerate() {
                for _ in 0..per[i] {
                    n += 1;
                    text.push_str(&format!(
                        "{n:064x},{m},Staffordshire Police,Staffordshire Police,{lon},{lat},On or near Test Street,E01099999,Test 001A,Burglary,Under investigation,\n"
                    ));
                }
            }
            std::fs::write(dir.join(format!("{m}-staffordshire-street.csv")), text).unwrap();
        }
    }
}

async fn synthetic_db(before: [usize; 4], after: [usize; 4]) -> (TestDb, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    write_synthetic(dir.path(), before, after);
    std::fs::write(dir.path().join("target.geojson"), TARGET_GEOJSON).unwrap();
    std::fs::write(dir.path().join("control.geojson"), CONTROL_GEOJSON).unwrap();
    let t = common::sqlite();
    let db = t.connect().await;
    common::import_all(&db, &common::police_files(dir.path())).await;
    db.close().await;
    (t, dir)
}

/// The arguments of `alliance evaluate` of the synthetic target and control (a 200 m buffer,
/// 2023 against 2024) in `format`, with `more` options after.
fn evaluate_args(dir: &Path, format: &str, more: &[&str]) -> Vec<String> {
    let (target, control) = (dir.join("target.geojson"), dir.join("control.geojson"));
    let mut args = vec!["evaluate", "--target", target.to_str().unwrap(), "--buffer", "200"];
    args.extend([
        "--control",
        control.to_str().unwrap(),
        "--before",
        "2023-01..2023-12",
        "--after",
        "2024-01..2024-12",
    ]);
    args.extend(["--format", format]);
    args.extend_from_slice(more);
    args.into_iter().map(String::from).collect()
}

fn evaluate_synthetic(t: &TestDb, dir: &Path) -> serde_json::Value {
    let args = evaluate_args(dir, "json", &[]);
    run_json(&t.url, &args.iter().map(String::as_str).collect::<Vec<_>>())
}

fn counts(v: &serde_json::Value, area: &str) -> (u64, u64) {
    let c = &v["result"]["areas"][area]["counts"];
    (c["before"].as_u64().unwrap(), c["after"].as_u64().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn injected_effect_is_detected() {
    let (t, dir) = synthetic_db([20, 10, 20, 10], [8, 10, 20, 10]).await;
    let v = evaluate_synthetic(&t, dir.path());
    assert_eq!(counts(&v, "target"), (240, 96));
    assert_eq!(counts(&v, "buffer"), (120, 120));
    assert_eq!(counts(&v, "comparison"), (240, 240));
    assert_eq!(counts(&v, "comparison_buffer"), (120, 120));
    assert_eq!(v["result"]["verdict"]["effect"], "significant_fall");
    assert_eq!(v["result"]["verdict"]["displacement"], "no_sign_of_displacement");
    let summary = v["result"]["verdict"]["summary"].as_str().unwrap();
    assert!(summary.contains("fell 60%"), "{summary}");
    // Every statistic is named with its value, interval and test.
    assert!(v["result"]["weighted_displacement_difference"]["interval"]["upper"].as_f64().unwrap() < 0.0);
    assert_eq!(v["result"]["relative_effect"]["status"], "defined");
    assert!(v["data"]["import_ids"].as_array().unwrap().len() == 24);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_effect_is_not_flagged() {
    let (t, dir) = synthetic_db([20, 10, 20, 10], [20, 10, 20, 10]).await;
    let v = evaluate_synthetic(&t, dir.path());
    assert_eq!(counts(&v, "target"), (240, 240));
    assert_eq!(v["result"]["verdict"]["effect"], "not_significant");
    assert_eq!(v["result"]["verdict"]["displacement"], "no_sign_of_displacement");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn displacement_into_the_buffer_is_reported() {
    let (t, dir) = synthetic_db([20, 10, 20, 10], [8, 22, 20, 10]).await;
    let v = evaluate_synthetic(&t, dir.path());
    assert_eq!(counts(&v, "buffer"), (120, 264));
    assert_eq!(v["result"]["verdict"]["displacement"], "displacement");
    // The HTML export: self-contained, with the verdict, the chart and its table, the map.
    let out = dir.path().join("report.html");
    let args = evaluate_args(dir.path(), "html", &["--out", out.to_str().unwrap()]);
    let o = alliance(&t.url, &args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("displacement"), "the verdict names the displacement");
    assert!(html.contains("after period starts 2024-01"));
    assert!(html.contains("<caption>Recorded crimes per month</caption>"));
    assert!(html.contains("Map of the areas"));
    assert!(!html.contains("http://") || !html.contains("src=\"http"), "no external resources");
    assert!(!html.contains("<script"));
    // A row of counts per area, and an overdispersion check per area, each in order.
    let in_order = |texts: [String; 4]| {
        let at: Vec<usize> =
            texts.iter().map(|t| html.find(t).unwrap_or_else(|| panic!("no {t:?} in the report"))).collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]), "{texts:?} out of order");
    };
    in_order(["Target", "Buffer", "Comparison", "Comparison buffer"].map(|a| format!("<th scope=\"row\">{a}</th>")));
    in_order(["target", "buffer", "comparison", "comparison buffer"].map(|a| format!("Overdispersion of the {a}")));
    assert_eq!(html.matches("Overdispersion of the ").count(), 4);
}

#[test]
fn bad_geojson_is_refused_with_the_file_named() {
    let dir = tempfile::tempdir().unwrap();
    let t = common::sqlite();
    let bad = dir.path().join("bad.geojson");
    std::fs::write(&bad, r#"{"type":"LineString","coordinates":[[0,0],[1,1]]}"#).unwrap();
    let o = alliance(
        &t.url,
        &["evaluate", "--target", bad.to_str().unwrap(), "--before", "2023-01..2023-12", "--after", "2024-01..2024-12"],
    );
    assert!(!o.status.success());
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("bad.geojson") && stderr.contains("LineString"), "{stderr}");
}

/// Counts rows of the raw street files whose LSOA code is in `codes`, per month.
fn raw_lsoa_counts(files: &[PathBuf], codes: &BTreeSet<String>) -> std::collections::BTreeMap<String, u64> {
    let mut out = std::collections::BTreeMap::new();
    for path in files {
        let (header, rows) = common::read_csv(path);
        let (m, l) = (common::column(&header, "Month"), common::column(&header, "LSOA code"));
        for r in &rows {
            if codes.contains(&r[l]) {
                *out.entry(r[m].to_string()).or_insert(0) += 1;
            }
        }
    }
    out
}

async fn real_area(t: TestDb, data: PathBuf) {
    let months = ["2024-01", "2024-02", "2024-03", "2024-04", "2025-01", "2025-02", "2025-03", "2025-04"];
    let files: Vec<PathBuf> =
        months.iter().map(|m| data.join(format!("police/staffordshire/{m}-staffordshire-street.csv"))).collect();
    let db = t.connect().await;
    common::import_all(&db, &files).await;
    db.import_area_file(&SourceFile::from_path(&data.join("lsoa/boundaries/lsoa/E06000021.geojson")), "test")
        .await
        .expect("import the Stoke-on-Trent LSOA 2021 boundaries");
    db.close().await;

    // Target: the Stoke-on-Trent 001 LSOAs (north of the city); comparison: the 035s (south).
    let (header, rows) = common::read_csv(&files[0]);
    let (code, name) = (common::column(&header, "LSOA code"), common::column(&header, "LSOA name"));
    let pick = |prefix: &str| -> BTreeSet<String> {
        rows.iter().filter(|r| r[name].starts_with(prefix)).map(|r| r[code].to_string()).collect()
    };
    let target = pick("Stoke-on-Trent 001");
    let control = pick("Stoke-on-Trent 035");
    assert!(target.len() >= 2 && !control.is_empty(), "sanity: {target:?} {control:?}");
    let join = |s: &BTreeSet<String>| s.iter().cloned().collect::<Vec<_>>().join(",");
    let target_lsoas = join(&target);
    // `alliance evaluate` of the target with a 200 m buffer, 2024-01..04 against 2025-01..04,
    // with `comparison` (how the comparison area is chosen) and `rest` after the periods.
    let evaluate = |comparison: &[&str], rest: &[&str]| {
        let head = ["evaluate", "--target-lsoa", &target_lsoas, "--buffer", "200"];
        let periods = ["--before", "2024-01..2024-04", "--after", "2025-01..2025-04"];
        run_json(&t.url, &[&head[..], comparison, &periods, rest].concat())
    };
    let v = evaluate(&["--control-lsoa", &join(&control)], &["--format", "json"]);
    let raw_t = raw_lsoa_counts(&files, &target);
    let raw_c = raw_lsoa_counts(&files, &control);
    let sum = |raw: &std::collections::BTreeMap<String, u64>, year: &str| -> u64 {
        raw.iter().filter(|(m, _)| m.starts_with(year)).map(|(_, n)| n).sum()
    };
    assert_eq!(counts(&v, "target"), (sum(&raw_t, "2024"), sum(&raw_t, "2025")));
    assert_eq!(counts(&v, "comparison"), (sum(&raw_c, "2024"), sum(&raw_c, "2025")));
    for row in v["input"]["monthly"].as_array().unwrap() {
        let month = row["month"].as_str().unwrap();
        assert_eq!(row["target"].as_u64().unwrap(), raw_t.get(month).copied().unwrap_or(0), "target in {month}");
    }
    assert!(counts(&v, "buffer").0 > 0, "a 200 m ring in a city has crime");
    assert_eq!(v["areas"]["target"]["lsoa_census"], 2021);

    // A suggested comparison excludes the target and names its candidates.
    let s = evaluate(&["--suggest-control", "3"], &[]);
    let chosen: Vec<&str> =
        s["areas"]["comparison"]["codes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
    assert_eq!(chosen.len(), 3);
    assert!(chosen.iter().all(|c| !target.contains(*c)));
    assert_eq!(s["areas"]["suggestion"].as_array().unwrap().len(), 3);
    // Each candidate's level is its mean over the four before months, from the raw files.
    for c in s["areas"]["suggestion"].as_array().unwrap() {
        let code = c["code"].as_str().unwrap();
        let raw = raw_lsoa_counts(&files, &BTreeSet::from([code.to_string()]));
        let level = sum(&raw, "2024") as f64 / 4.0;
        assert!(level > 0.0, "{code}: a chosen comparison has crime");
        assert!((c["level"].as_f64().unwrap() - level).abs() < 1e-9, "{code}: level {} against {level}", c["level"]);
    }
}

on_each_backend!(real_area);

// ---- the register and the evaluation API over HTTP ----

/// Crimes per month at each synthetic point, varying month to month; the target's before
/// months swing between 6 and 30 (more than Poisson counts would), so the overdispersion
/// check widens its interval.
fn varying_counts(year: i32, month: usize) -> [usize; 4] {
    if year == 2023 {
        [if month.is_multiple_of(2) { 30 } else { 6 }, 8 + month % 3, 20 + month % 4, 10]
    } else {
        [6 + month % 2, 9 + month % 3, 19 + month % 5, 10]
    }
}

fn write_varying(dir: &Path) {
    let points = [TARGET_POINT, BUFFER_POINT, COMPARISON_POINT, COMPARISON_BUFFER_POINT];
    let mut n = 0u64;
    for year in [2023, 2024] {
        for month in 1..=12 {
            let m = format!("{year}-{month:02}");
            let mut text = String::from("Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,Last outcome category,Context\n");
            for (i, (lon, lat)) in points.iter().enumerate() {
                for _ in 0..varying_counts(year, month)[i] {
                    n += 1;
                    text.push_str(&format!(
                        "{n:064x},{m},Staffordshire Police,Staffordshire Police,{lon},{lat},On or near Test Street,E01099999,Test 001A,Burglary,Under investigation,\n"
                    ));
                }
            }
            std::fs::write(dir.join(format!("{m}-staffordshire-street.csv")), text).unwrap();
        }
    }
}

/// Distance in metres from (lon, lat) to a point or to the target rectangle, on a local
/// flat approximation (good to well under a metre over a few hundred metres; the synthetic
/// points are each tens of metres or kilometres from any edge).
fn metres(lon: f64, lat: f64, to_lon: f64, to_lat: f64) -> f64 {
    let (kx, ky) = (111_320.0 * lat.to_radians().cos(), 110_574.0);
    (((lon - to_lon) * kx).powi(2) + ((lat - to_lat) * ky).powi(2)).sqrt()
}

/// An independent count of the stored rows by area and month: the target rectangle of
/// TARGET_GEOJSON, a 200 m ring around it, the 300 m comparison circle and a 200 m ring
/// around that. Returns `[target, buffer, comparison, comparison buffer]` per month.
async fn stored_counts(url: &str) -> std::collections::BTreeMap<String, [u64; 4]> {
    use sqlx::{Connection, Row};
    let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
    let rows = sqlx::query("SELECT month, longitude, latitude FROM police_crimes").fetch_all(&mut conn).await.unwrap();
    let mut out: std::collections::BTreeMap<String, [u64; 4]> = Default::default();
    for r in &rows {
        let (month, lon, lat): (String, f64, f64) = (r.get(0), r.get(1), r.get(2));
        let (x0, x1, y0, y1) = (-2.195, -2.185, 53.002, 53.008);
        let inside = (x0..=x1).contains(&lon) && (y0..=y1).contains(&lat);
        let to_target = metres(lon, lat, lon.clamp(x0, x1), lat.clamp(y0, y1));
        let to_centre = metres(lon, lat, COMPARISON_POINT.0, COMPARISON_POINT.1);
        let area = if inside {
            0
        } else if to_target <= 200.0 {
            1
        } else if to_centre <= 300.0 {
            2
        } else if to_centre <= 500.0 {
            3
        } else {
            continue;
        };
        out.entry(month).or_default()[area] += 1;
    }
    out
}

fn sum_period(counts: &std::collections::BTreeMap<String, [u64; 4]>, year: &str, area: usize) -> u64 {
    counts.iter().filter(|(m, _)| m.starts_with(year)).map(|(_, c)| c[area]).sum()
}

/// Every statistic of the JSON is named and carries its value, interval, test and counts.
fn assert_named_statistics(r: &serde_json::Value, comparison: bool) {
    for area in ["target", "buffer"] {
        let a = &r["areas"][area];
        assert!(a["counts"]["before"].is_u64() && a["counts"]["after"].is_u64(), "{area} counts");
        assert!(a["change"]["percent"].is_f64(), "{area} percent change");
        assert!(a["change"]["interval"]["lower"].is_f64() && a["change"]["interval"]["upper"].is_f64());
        assert!(a["change"]["rate_ratio"]["estimate"].is_f64());
        assert_eq!(a["change"]["rate_ratio"]["method"], "exact_conditional");
        assert!(a["e_test"]["p_value"].is_f64(), "{area} E-test");
    }
    let wdd = &r["weighted_displacement_difference"];
    assert!(wdd["total"]["estimate"].is_f64() && wdd["total"]["standard_error"].is_f64());
    assert!(wdd["interval"]["lower"].is_f64() && wdd["z"].is_f64() && wdd["p_value"].is_f64());
    let target_dispersion = &r["overdispersion"]["target"];
    assert_eq!(target_dispersion["status"], "defined");
    assert!(target_dispersion["value"]["phi"].as_f64().unwrap() > 1.0, "{target_dispersion}");
    assert_eq!(target_dispersion["value"]["degrees_of_freedom"], 10);
    assert_eq!(r["overdispersion"]["intervals_widened"], true);
    assert!(r["verdict"]["caveats"].as_array().unwrap().iter().any(|c| c["kind"] == "overdispersion"));
    assert!(r["verdict"]["summary"].as_str().is_some_and(|s| !s.is_empty()));
    if comparison {
        let res = &r["relative_effect"];
        assert_eq!(res["status"], "defined");
        for field in ["relative_effect_size", "z", "p_value", "relative_change_percent"] {
            assert!(res["value"][field].is_f64(), "relative effect {field}");
        }
        assert!(res["value"]["interval"]["lower"].is_f64());
        assert_eq!(res["value"]["treated"], r["areas"]["target"]["counts"]);
        assert_eq!(r["weighted_displacement_quotient"]["status"], "defined");
        assert!(r["weighted_displacement_quotient"]["value"]["wdq"].is_f64());
        assert!(r["difference_in_differences"]["value"]["estimate"].is_f64());
        assert!(r["difference_in_differences"]["value"]["interval"]["upper"].is_f64());
        assert!(r["pre_trend"]["value"]["p_value"].is_f64());
    } else {
        assert_eq!(r["relative_effect"]["status"], "not_applicable");
        assert_eq!(r["relative_effect"]["because"], "no comparison area");
    }
}

/// The register through the web form, an evaluation through the web form, the stored
/// evaluation through `GET /api/v1/interventions/{id}/evaluations/{eid}`, and a design with
/// a comparison area through `POST /api/v1/evaluate`: the JSON names every statistic and
/// its counts equal an independent count of the stored rows (read from the SQLite file).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_and_evaluation_api_over_http() {
    let dir = tempfile::tempdir().unwrap();
    write_varying(dir.path());
    let t = common::sqlite();
    let url = t.url.clone();
    let app = TestApp::start(t).await;
    common::import_all(&app.db, &common::police_files(dir.path())).await;
    let me = app.signed_in("analyst@example.org", alliance_core::access::Role::Analyst, "VRP").await;

    // The register: a bad form is refused with its errors, a good one is stored.
    let bad = app.post_form("/interventions", &me, &[("name", ""), ("intervention_type", "patrols")]).await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("Enter the name of the intervention"));
    let created = app.post_owned("/interventions", &me, &intervention_fields("Park patrols")).await;
    assert_eq!(created.status, 303, "{}", created.body);
    let location = created.header("location").expect("redirect to the intervention");
    let id: i64 = location.trim_start_matches("/interventions/").parse().unwrap();
    let list = app.get("/api/v1/interventions", &me).await.json();
    assert!(list["interventions"].as_array().unwrap().iter().any(|i| i["id"] == id && i["name"] == "Park patrols"));

    // An evaluation through the web form (no comparison area, a 200 m buffer).
    let run = app.post_form(&format!("/interventions/{id}/evaluations"), &me, &DESIGN_FORM).await;
    assert_eq!(run.status, 303, "{}", run.body);
    let eid = evaluation_id(&run);
    let page = app.get(&format!("/interventions/{id}"), &me).await;
    assert!(page.body.contains(&format!("evaluation-{eid}")));
    // The report page is the same document `alliance evaluate --format html` writes.
    let html = app.get(&format!("/interventions/{id}/evaluations/{eid}.html"), &me).await;
    assert_eq!(html.status, 200);
    assert!(html.body.starts_with("<!DOCTYPE html>") && html.body.contains("Park patrols: evaluation"));
    assert!(
        html.body.contains("<caption>Recorded crimes per month</caption>") && html.body.contains("Map of the areas")
    );

    let stored = app.get(&format!("/api/v1/interventions/{id}/evaluations/{eid}"), &me).await;
    assert_eq!(stored.status, 200, "{}", stored.body);
    let stored = stored.json();
    let r = &stored["report"]["result"];
    assert!(r.is_object(), "the stored evaluation carries its result: {stored}");
    assert_named_statistics(r, false);

    // The counts equal an independent count of the stored rows.
    let independent = stored_counts(&url).await;
    assert_eq!(independent.len(), 24);
    for (area, i) in [("target", 0), ("buffer", 1)] {
        assert_eq!(
            (r["areas"][area]["counts"]["before"].as_u64(), r["areas"][area]["counts"]["after"].as_u64()),
            (Some(sum_period(&independent, "2023", i)), Some(sum_period(&independent, "2024", i))),
            "{area}"
        );
    }
    for row in stored["report"]["input"]["monthly"].as_array().unwrap() {
        let month = row["month"].as_str().unwrap();
        assert_eq!(row["target"].as_u64(), Some(independent[month][0]), "target in {month}");
        assert_eq!(row["buffer"].as_u64(), Some(independent[month][1]), "buffer in {month}");
    }
    // A statistic not reported says why: structured fields and a sentence, in the JSON and
    // on the report page, never the reason's JSON.
    assert_eq!(r["relative_effect"]["explanation"], "The evaluation has no comparison area to measure against.");
    assert!(html
        .body
        .contains("<td>not reported</td><td>The evaluation has no comparison area to measure against.</td>"));
    assert!(!html.body.contains("{&quot;") && !html.body.contains("{\""), "no JSON in the report");
    assert!(
        html.body.contains("<li>Target: an outline drawn on the map or given as GeoJSON: 1 polygon.</li>"),
        "{}",
        html.body
    );
    assert!(html.body.contains("<li>Buffer: the ring up to 200 m around the target, outside it.</li>"));
    // An evaluation that does not exist is a problem document, like every API error.
    let missing = app.get(&format!("/api/v1/interventions/{id}/evaluations/9999"), &me).await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.header("content-type"), Some("application/problem+json"));
    let problem = missing.json();
    assert_eq!((problem["status"].as_u64(), problem["title"].as_str()), (Some(404), Some("Not found")));
    assert!(problem["detail"].as_str().is_some_and(|d| d.contains("9999")), "{problem}");
    // So is an id that is not a valid id (beyond the range of one), and a page's is a 404 page.
    let huge = app.get("/api/v1/interventions/99999999999999999999/evaluations/1", &me).await;
    assert_eq!(huge.status, 404);
    assert_eq!(huge.header("content-type"), Some("application/problem+json"));
    let huge = app.get("/interventions/99999999999999999999", &me).await;
    assert_eq!(huge.status, 404, "{}", huge.body);
    assert!(huge.body.contains("Page not found"), "{}", huge.body);

    // POST /api/v1/evaluate with a comparison circle: every statistic.
    let design = serde_json::json!({
        "target": { "kind": "geojson", "geojson": serde_json::from_str::<serde_json::Value>(TARGET_GEOJSON).unwrap() },
        "buffer_metres": 200.0,
        "comparison": { "kind": "geojson", "geojson": serde_json::from_str::<serde_json::Value>(CONTROL_GEOJSON).unwrap() },
        "before": { "from": "2023-01", "to": "2023-12" },
        "after": { "from": "2024-01", "to": "2024-12" }
    });
    let post = |who: Caller, design: serde_json::Value| {
        let app = &app;
        async move {
            app.post_bytes("/api/v1/evaluate", &who, "application/json", serde_json::to_vec(&design).unwrap()).await
        }
    };
    let reply = post(me.clone(), design.clone()).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let v = reply.json();
    let r = &v["result"];
    assert_named_statistics(r, true);
    for (area, i) in [("target", 0), ("buffer", 1), ("comparison", 2), ("comparison_buffer", 3)] {
        assert_eq!(
            (r["areas"][area]["counts"]["before"].as_u64(), r["areas"][area]["counts"]["after"].as_u64()),
            (Some(sum_period(&independent, "2023", i)), Some(sum_period(&independent, "2024", i))),
            "{area}"
        );
    }
    // Without the CSRF header the POST is refused; a bad design is a 400 with a message.
    let no_csrf = Caller { csrf: String::new(), ..me.clone() };
    assert_eq!(post(no_csrf, design.clone()).await.status, 403);
    let mut bad = design.clone();
    bad["after"] = serde_json::json!({ "from": "2023-06", "to": "2023-12" });
    let reply = post(me.clone(), bad).await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert!(reply.body.contains("must start after"), "{}", reply.body);
    // A design over months with no data is refused, naming them, and changes nothing.
    let mut empty = design.clone();
    empty["after"] = serde_json::json!({ "from": "2026-01", "to": "2026-02" });
    let reply = post(me.clone(), empty).await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert!(reply.body.contains("2026-01, 2026-02"), "{}", reply.body);
    // Through the form, the same refusal is shown with the form, and nothing is stored.
    let mut no_data = DESIGN_FORM.to_vec();
    no_data[2] = ("after_from", "2026-01");
    no_data[3] = ("after_to", "2026-02");
    let refused = app.post_form(&format!("/interventions/{id}/evaluations"), &me, &no_data).await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(refused.body.contains("no police street data is imported for 2026-01, 2026-02"), "{}", refused.body);
    assert_eq!(app.db.evaluations_of(id).await.unwrap().len(), 1, "the refused design is not stored");
}

/// The Evaluate form: 2023 against 2024, a 200 m buffer, no comparison area.
const DESIGN_FORM: [(&str, &str); 6] = [
    ("before_from", "2023-01"),
    ("before_to", "2023-12"),
    ("after_from", "2024-01"),
    ("after_to", "2024-12"),
    ("buffer_metres", "200"),
    ("comparison_kind", "none"),
];

/// The intervention form of a patrol at the synthetic target.
fn intervention_fields(name: &str) -> Vec<(&'static str, String)> {
    vec![
        ("name", name.to_string()),
        ("intervention_type", "patrols".into()),
        ("place_kind", "geojson".into()),
        ("place_geojson", TARGET_GEOJSON.into()),
        ("start_date", "2024-01-01".into()),
    ]
}

/// The id of the evaluation a run redirects to (`…#evaluation-{id}`).
fn evaluation_id(run: &Reply) -> i64 {
    let location = run.header("location").expect("a redirect");
    location.rsplit_once("#evaluation-").expect("anchor of the evaluation").1.parse().unwrap()
}

/// Issue 6: what is done through the web is recorded against the signed-in user, not a
/// generic "web" author: one analyst adds an intervention and runs its evaluation, an
/// administrator edits it and re-runs the evaluation, and the register names each of them.
async fn web_changes_are_recorded_against_the_signed_in_user(app: TestApp) {
    use alliance_core::access::Role;

    let dir = tempfile::tempdir().unwrap();
    write_varying(dir.path());
    let db = app.db.clone();
    common::import_all(&db, &common::police_files(dir.path())).await;
    let analyst = app.signed_in("analyst@example.org", Role::Analyst, "VRP").await;
    let admin = app.signed_in("admin@example.org", Role::Administrator, "VRP").await;

    let fields = intervention_fields("Park patrols");
    let created = app.post_owned("/interventions", &analyst, &fields).await;
    assert_eq!(created.status, 303, "{}", created.body);
    let id: i64 = created.header("location").expect("redirect").trim_start_matches("/interventions/").parse().unwrap();
    let stored = db.intervention(id).await.unwrap().expect("the intervention is stored");
    assert_eq!(stored.created_by, "user:analyst@example.org");
    assert_eq!(stored.updated_by, "user:analyst@example.org");

    let run = app.post_form(&format!("/interventions/{id}/evaluations"), &analyst, &DESIGN_FORM).await;
    assert_eq!(run.status, 303, "{}", run.body);
    let eid = evaluation_id(&run);
    let first = db.evaluation(id, eid).await.unwrap().expect("stored");
    assert_eq!(first.run_by, "user:analyst@example.org");

    let renamed = intervention_fields("Park patrols and lighting");
    let edit = app.post_owned(&format!("/interventions/{id}/edit"), &admin, &renamed).await;
    assert_eq!(edit.status, 303, "{}", edit.body);
    let edited = db.intervention(id).await.unwrap().expect("still stored");
    assert_eq!(edited.name, "Park patrols and lighting");
    assert_eq!(edited.created_by, "user:analyst@example.org", "an edit keeps the author");
    assert_eq!(edited.updated_by, "user:admin@example.org");

    let rerun = app.post_form(&format!("/interventions/{id}/evaluations/{eid}/rerun"), &admin, &[]).await;
    assert_eq!(rerun.status, 303, "{}", rerun.body);
    let rerun = db.evaluation(id, eid).await.unwrap().expect("stored");
    assert_eq!(rerun.run_by, "user:admin@example.org");
    assert_eq!(rerun.created_at, first.created_at, "a re-run keeps the evaluation's creation time");
    assert_eq!(rerun.report.result, first.report.result, "the same data gives the same figures");
    let missing = app.post_form(&format!("/interventions/{id}/evaluations/9999/rerun"), &admin, &[]).await;
    assert_eq!(missing.status, 404);

    let page = app.get(&format!("/interventions/{id}"), &analyst).await;
    // The stamps as days in words, like every other date a page shows, not as stored.
    let (added, changed) = (&edited.created_at[..10], &edited.updated_at[..10]);
    let recorded = format!(
        "Added {} by user:analyst@example.org; last changed {} by user:admin@example.org",
        alliance_core::format::date(added),
        alliance_core::format::date(changed)
    );
    assert!(page.body.contains(&recorded), "{recorded} in {}", page.body);
    assert!(!page.body.contains(&format!("Added {}", edited.created_at)), "{}", page.body);
    assert!(!page.body.contains(&format!("last changed {}", edited.updated_at)), "{}", page.body);
    assert!(!page.body.contains("by web"));
    // The re-run's time likewise, in words to the minute.
    let run = format!("Run {} by user:admin@example.org;", alliance_core::format::stamp_time(&rerun.run_at));
    assert!(page.body.contains(&run), "{run} in {}", page.body);
    assert_eq!(common::raw_stamp(&page.body), None, "{}", page.body);
    // The intervention's dates in words, on its page and in the register.
    assert!(page.body.contains("1 January 2024 to no end date"), "{}", page.body);
    let register = app.get("/interventions", &analyst).await;
    assert!(register.body.contains(">1 January 2024<") && !register.body.contains("2024-01-01"), "{}", register.body);
    assert!(!page.body.contains("2024-01-01"), "{}", page.body);

    // Every change has its audit row, naming who made it (a refused re-run none).
    use alliance_db::interventions as i;
    let target = format!("intervention {id}");
    let mut trail: Vec<(String, String, String)> = common::audit_log(&db)
        .await
        .into_iter()
        .filter(|e| e.target == target)
        .map(|e| (e.action, e.actor, e.detail))
        .collect();
    trail.reverse();
    let (analyst_name, admin_name) = ("user:analyst@example.org".to_string(), "user:admin@example.org".to_string());
    let evaluation = format!("evaluation {eid}");
    assert_eq!(
        trail,
        vec![
            (i::INTERVENTION_CREATED.into(), analyst_name.clone(), "Park patrols".into()),
            (i::EVALUATION_STORED.into(), analyst_name, evaluation.clone()),
            (i::INTERVENTION_UPDATED.into(), admin_name.clone(), "Park patrols and lighting".into()),
            (i::EVALUATION_RERUN.into(), admin_name, evaluation),
        ]
    );
    assert_eq!(db.verify_audit_chain().await.expect("verify").first_broken, None);

    // A second evaluation of the intervention: its id is not the intervention's, and each
    // reads back as its own (newest first).
    let second = app.post_form(&format!("/interventions/{id}/evaluations"), &analyst, &DESIGN_FORM).await;
    assert_eq!(second.status, 303, "{}", second.body);
    let second = evaluation_id(&second);
    assert_ne!(second, id);
    let stored = db.evaluation(id, second).await.unwrap().expect("stored");
    assert_eq!((stored.id, stored.intervention_id), (second, id));
    let all: Vec<(i64, i64)> = db.evaluations_of(id).await.unwrap().iter().map(|e| (e.id, e.intervention_id)).collect();
    assert_eq!(all, [(second, id), (eid, id)]);
}

on_each_app!(web_changes_are_recorded_against_the_signed_in_user);

/// The demo's example evaluation (two parks of the register, a 200 m buffer, three parks as
/// the comparison), as the reviewer read it: the target did not improve, so the WDQ is not
/// formed, while crime in the buffer rose significantly. The report says so in words: no
/// reason as JSON, the parks named as places of the register (not LSOAs), and a verdict that
/// names the rise next door and says displacement cannot be judged by the WDQ.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_evaluation_reads_in_plain_words() {
    let app = TestApp::start(common::sqlite()).await;
    let me = app.signed_in("analyst@example.org", alliance_core::access::Role::Analyst, "VRP").await;
    alliance::demo::load_demo_partnership(&app.db).await.expect("the demo loads");
    let id = app.db.interventions().await.unwrap()[0].id;
    let eid = app.db.evaluations_of(id).await.unwrap()[0].id;

    let html = app.get(&format!("/interventions/{id}/evaluations/{eid}.html"), &me).await;
    assert_eq!(html.status, 200);
    let body = html.body.replace("&#39;", "'");
    assert!(!body.contains("{&quot;") && !body.contains("&quot;reason"), "no JSON in the report");
    assert!(
        body.contains("<th scope=\"row\">Weighted displacement quotient</th><td>not reported</td><td>The target area did not improve relative to the comparison area (success measure "),
        "{body}"
    );
    assert!(
        body.contains("<li>Target: 2 places from the place register: Hanley Park (park or open space), Burslem Park (park or open space).</li>"),
        "{body}"
    );
    assert!(
        body.contains("<li>Comparison: 3 places from the place register: Tunstall Park (park or open space)"),
        "{body}"
    );
    assert!(!body.contains("LSOAs: Hanley Park"), "{body}");
    let verdict = &body[body.find("<p class=\"verdict\">").expect("the verdict")..];
    let verdict = &verdict[..verdict.find("</p>").unwrap()];
    assert!(verdict.contains("Crime in the surrounding 200 m rose significantly (+28%"), "{verdict}");
    assert!(verdict.contains("Displacement cannot be judged by the weighted displacement quotient, because the target area did not improve"), "{verdict}");
    assert!(!verdict.contains("no sign of displacement"), "{verdict}");

    // The API gives the same reason as fields and as the sentence.
    let stored = app.get(&format!("/api/v1/interventions/{id}/evaluations/{eid}"), &me).await.json();
    let wdq = &stored["report"]["result"]["weighted_displacement_quotient"];
    assert_eq!(wdq["status"], "not_defined");
    assert_eq!(wdq["reason"]["reason"], "no_success_in_target");
    assert!(wdq["reason"]["success_measure"].as_f64().is_some_and(|m| m >= 0.0), "{wdq}");
    assert!(wdq["explanation"].as_str().is_some_and(|e| e.starts_with("The target area did not improve")), "{wdq}");
    assert_eq!(stored["report"]["areas"]["target"]["place_kinds"], serde_json::json!(["park", "park"]));

    // The buffer's own effect, which the verdict speaks of, has its row in the statistics,
    // with the figure the API gives.
    let buffer = &stored["report"]["result"]["buffer_relative_effect"];
    let res = buffer["value"]["relative_effect_size"].as_f64().unwrap_or_else(|| panic!("defined: {buffer}"));
    let row =
        format!("<th scope=\"row\">Relative effect size, buffer against comparison</th><td>{res:.3} (relative change ");
    assert!(body.contains(&row), "{row} in {body}");
}

/// An intervention reads back exactly as it was stored: every field (each EMMIE dimension
/// with its own value, so two read from each other's column would show), then after an edit.
async fn an_intervention_reads_back_as_stored(t: TestDb) {
    use alliance_core::domain::intervention::{EmmieEffect, EvidenceQuality, InterventionType};
    use alliance_db::interventions::NewIntervention;
    let db = t.connect().await;
    let mut new = NewIntervention {
        name: "Hanley Park lighting".into(),
        description: "Lighting on the park's paths".into(),
        intervention_type: InterventionType::TargetHardening,
        strategy_priority: Some("Safer places".into()),
        lead_organisation: Some("Stoke-on-Trent City Council".into()),
        funding_stream: Some("Safer Streets".into()),
        funding_pence: Some(12_345_600),
        start_date: Some("2024-04-01".into()),
        end_date: Some("2025-03-31".into()),
        place_kind: "lsoa".into(),
        place_codes: vec!["E01014210".into(), "E01014211".into()],
        place_geometry: None,
        crime_types: vec!["Robbery".into(), "Violence and sexual offences".into()],
        emmie_effect: Some(EmmieEffect::Mixed),
        emmie_effect_quality: Some(EvidenceQuality::Strong),
        emmie_mechanism: Some(EvidenceQuality::Moderate),
        emmie_moderators: Some(EvidenceQuality::Limited),
        emmie_implementation: Some(EvidenceQuality::NoEvidence),
        emmie_economic_cost: None,
        referral_service: None,
    };
    let actor = common::test_actor();
    let id = db.create_intervention(&new, None, &actor).await.expect("store");
    let stored = db.intervention(id).await.expect("read").expect("stored");
    assert_eq!(stored.fields, new);
    assert_eq!((stored.id, stored.created_by.as_str()), (id, actor.name.as_str()));
    assert_eq!(stored.updated_at, stored.created_at);

    new.emmie_economic_cost = Some(EvidenceQuality::Moderate);
    new.emmie_implementation = None;
    new.place_kind = "geojson".into();
    new.place_codes = Vec::new();
    new.place_geometry = Some(serde_json::json!({"type": "Point", "coordinates": [-2.17, 53.02]}));
    assert!(db.update_intervention(id, &new, None, &actor).await.expect("edit"));
    let listed = db.interventions().await.expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].fields, new);
    db.close().await;
}

on_each_db!(an_intervention_reads_back_as_stored);

/// A circle of 800 m in Truro, Cornwall: in Great Britain, far from any Staffordshire record.
const TRURO_GEOJSON: &str = r#"{"type":"Feature","properties":{"radius_metres":800},"geometry":{"type":"Point","coordinates":[-5.0527,50.2632]}}"#;

/// A circle of 100 m whose centre lies 400 m west of the synthetic target point: no record
/// in it, but the target point 300 m from its edge, in a 400 m buffer.
const BESIDE_GEOJSON: &str = r#"{"type":"Feature","properties":{"radius_metres":100},"geometry":{"type":"Point","coordinates":[-2.19604,53.005]}}"#;

/// An area where no police record is held (Truro, on a database of Staffordshire Police's
/// files) is refused on its own input, naming the data held, instead of reported as "0 to 0
/// crimes, no sign of displacement" (or, with a suggested comparison, as missing boundary
/// files); an area whose buffer reaches the data is evaluated, its buffer counted.
async fn an_area_outside_the_data_held_is_refused(t: TestDb) {
    use alliance_app::evaluation::{run, AreaSpec, EvaluationDesign};
    use alliance_app::AppError;

    let dir = tempfile::tempdir().unwrap();
    write_synthetic(dir.path(), [20, 10, 20, 10], [8, 10, 20, 10]);
    let db = t.connect().await;
    common::import_all(&db, &common::police_files(dir.path())).await;

    let area = |text: &str| AreaSpec::Geojson { geojson: serde_json::from_str(text).expect("literal GeoJSON") };
    let month = |m: &str| m.parse().expect("a literal month");
    let design = |target: AreaSpec, buffer_metres: Option<f64>, comparison: Option<AreaSpec>| EvaluationDesign {
        target,
        buffer_metres,
        comparison,
        before: alliance_core::domain::MonthRange { from: month("2023-01"), to: month("2023-12") },
        after: alliance_core::domain::MonthRange { from: month("2024-01"), to: month("2024-12") },
        crime_types: Vec::new(),
        harm_weights: None,
        selected_for_high_crime: false,
        history_months: 24,
        labels: None,
    };
    let refusal = |outcome: Result<_, AppError>| match outcome {
        Err(AppError::Invalid { field, reason }) => (field, reason),
        Err(other) => panic!("an input error, not {other:?}"),
        Ok(alliance_app::evaluation::EvaluationReport { result, .. }) => panic!("refused, not evaluated: {result:?}"),
    };
    let held = "(the files of Staffordshire Police)";

    let (field, reason) = refusal(run(&db, &design(area(TRURO_GEOJSON), Some(200.0), None)).await);
    assert_eq!(field, "target");
    assert_eq!(
        reason,
        format!(
            "Alliance holds no police records in or around the target area: it lies outside the data imported {held}. \
             Import the data.police.uk files of the force that covers it, or choose an area inside the data held."
        )
    );

    // A suggested comparison is refused for the same reason, not for want of boundary files.
    let suggested = Some(AreaSpec::Suggested { count: 5 });
    let (field, reason) = refusal(run(&db, &design(area(TRURO_GEOJSON), Some(200.0), suggested)).await);
    assert_eq!(field, "target");
    assert!(reason.contains("outside the data imported") && !reason.contains("boundary files"), "{reason}");

    // A comparison area outside the data is refused on the comparison.
    let far_comparison = Some(area(TRURO_GEOJSON));
    let (field, reason) = refusal(run(&db, &design(area(TARGET_GEOJSON), Some(200.0), far_comparison)).await);
    assert_eq!(field, "comparison");
    assert!(reason.starts_with("Alliance holds no police records in or around the comparison area"), "{reason}");
    assert!(reason.contains(held), "{reason}");

    // Beside the data: refused alone, evaluated when its buffer reaches the records.
    let (field, _) = refusal(run(&db, &design(area(BESIDE_GEOJSON), None, None)).await);
    assert_eq!(field, "target");
    let report = run(&db, &design(area(BESIDE_GEOJSON), Some(400.0), None)).await.expect("the buffer holds records");
    let v = serde_json::to_value(&report).expect("a report as JSON");
    assert_eq!(counts(&v, "target"), (0, 0));
    assert_eq!(counts(&v, "buffer"), (240, 96), "the synthetic target point, 300 m from the circle");

    // Inside the data the design is evaluated as before.
    let report = run(&db, &design(area(TARGET_GEOJSON), Some(200.0), None)).await.expect("inside the data");
    let v = serde_json::to_value(&report).expect("a report as JSON");
    assert_eq!(counts(&v, "target"), (240, 96));
    db.close().await;
}

on_each_db!(an_area_outside_the_data_held_is_refused);
