//! Intervention evaluation end to end: synthetic data.police.uk street files with a known
//! effect (or none, or displacement) imported into a fresh database and evaluated through
//! the `alliance evaluate` command; and a real Stoke-on-Trent area on the shared data,
//! checked against an independent count of the raw CSV files.

#[macro_use]
mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use alliance_ingest::SourceFile;
use common::TestDb;

fn alliance(db_url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_alliance"))
        .arg("--db")
        .arg(db_url)
        .args(args)
        .env_remove("ALLIANCE_DB")
        .env("ALLIANCE_LOG", "warn")
        .output()
        .expect("run the alliance binary")
}

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

fn evaluate_synthetic(t: &TestDb, dir: &Path) -> serde_json::Value {
    let target = dir.join("target.geojson");
    let control = dir.join("control.geojson");
    run_json(
        &t.url,
        &[
            "evaluate",
            "--target",
            target.to_str().unwrap(),
            "--buffer",
            "200",
            "--control",
            control.to_str().unwrap(),
            "--before",
            "2023-01..2023-12",
            "--after",
            "2024-01..2024-12",
            "--format",
            "json",
        ],
    )
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
    let target = dir.path().join("target.geojson");
    let o = alliance(
        &t.url,
        &[
            "evaluate",
            "--target",
            target.to_str().unwrap(),
            "--buffer",
            "200",
            "--control",
            dir.path().join("control.geojson").to_str().unwrap(),
            "--before",
            "2023-01..2023-12",
            "--after",
            "2024-01..2024-12",
            "--format",
            "html",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("displacement"), "the verdict names the displacement");
    assert!(html.contains("after period starts 2024-01"));
    assert!(html.contains("<caption>Recorded crimes per month</caption>"));
    assert!(html.contains("Map of the areas"));
    assert!(!html.contains("http://") || !html.contains("src=\"http"), "no external resources");
    assert!(!html.contains("<script"));
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
    let v = run_json(
        &t.url,
        &[
            "evaluate",
            "--target-lsoa",
            &join(&target),
            "--buffer",
            "200",
            "--control-lsoa",
            &join(&control),
            "--before",
            "2024-01..2024-04",
            "--after",
            "2025-01..2025-04",
            "--format",
            "json",
        ],
    );
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
    let s = run_json(
        &t.url,
        &[
            "evaluate",
            "--target-lsoa",
            &join(&target),
            "--buffer",
            "200",
            "--suggest-control",
            "3",
            "--before",
            "2024-01..2024-04",
            "--after",
            "2025-01..2025-04",
        ],
    );
    let chosen: Vec<&str> =
        s["areas"]["comparison"]["codes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
    assert_eq!(chosen.len(), 3);
    assert!(chosen.iter().all(|c| !target.contains(*c)));
    assert_eq!(s["areas"]["suggestion"].as_array().unwrap().len(), 3);
}

on_each_backend!(real_area);
