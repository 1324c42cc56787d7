//! The web app over real HTTP (the `TestApp` harness: the router served on a free local
//! port). Also the bundled demo data loader.

use crate::common;

use std::path::PathBuf;

use alliance_core::domain::{CountField, CountFilter};
use reqwest::StatusCode;

use common::app::{Caller, TestApp};

/// The app served over `test_db`, and an analyst signed in (everything but the sign-in page
/// needs a session).
async fn serve(test_db: common::TestDb) -> (TestApp, Caller) {
    let app = TestApp::start(test_db).await;
    let analyst = app.signed_in("analyst@example.org", alliance_core::access::Role::Analyst, "Test Alliance").await;
    (app, analyst)
}

/// A few Staffordshire months: two of 2024 and the last three of 2025.
fn some_months(data: &std::path::Path) -> Vec<PathBuf> {
    ["2024-03", "2024-04", "2025-10", "2025-11", "2025-12"]
        .iter()
        .map(|m| data.join(format!("police/staffordshire/{m}-staffordshire-street.csv")))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_and_api_agree_with_the_raw_files() {
    let Some(data) = common::shared_data() else { return };
    let (app, me) = serve(common::sqlite()).await;
    let db = app.db.clone();
    let files = some_months(&data);
    common::import_all(&db, &files).await;
    let raw = common::raw_month_type_counts(&files);

    // The dashboard: all crime excluding anti-social behaviour over the 12 months to the
    // latest month present (2025-01..2025-12, of which three months are loaded).
    let total: i64 = raw
        .iter()
        .filter(|((m, t), _)| m.as_str() >= "2025-01" && m.as_str() <= "2025-12" && t != "Anti-social behaviour")
        .map(|(_, n)| n)
        .sum();
    let previous: i64 = raw
        .iter()
        .filter(|((m, t), _)| m.as_str() >= "2024-01" && m.as_str() <= "2024-12" && t != "Anti-social behaviour")
        .map(|(_, n)| n)
        .sum();
    assert!(total > 20_000 && previous > 10_000, "sanity: {total} {previous}");
    let page = app.get("/", &me).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.header("content-type").is_some_and(|c| c.starts_with("text/html")));
    let html = page.body;
    let headline = html.find("All crime (excluding anti-social behaviour)").expect("the all-crime headline");
    let figure = format!(">{}<", alliance_core::format::count(total));
    let at = html[headline..].find(&figure).map(|i| i + headline);
    assert!(at.is_some(), "the dashboard should show the 12-month total {figure} after the all-crime headline");
    assert!(html.contains("2025-12"), "the latest month should be named");
    // Data older than data.police.uk's delay is called stale, as of today.
    let note = alliance_web::views::dashboard::stale_note("2025-12".parse().unwrap(), alliance_db::clock::today_date());
    assert_eq!(html.contains("id=\"stale-data\""), !note.is_empty(), "{note}");

    // The API's monthly counts equal the library's and the raw files'.
    let response = app.get("/api/v1/counts?by=month", &me).await;
    assert_eq!(response.status, StatusCode::OK);
    assert!(response.header("content-type").is_some_and(|c| c.starts_with("application/json")));
    let rows = response.json()["rows"].as_array().expect("a rows array").clone();
    let library = db.counts(&[CountField::Month], &CountFilter::default()).await.unwrap();
    let library: Vec<serde_json::Value> = library
        .iter()
        .map(|r| serde_json::json!({ "month": r.values[0].as_deref().unwrap(), "count": r.count }))
        .collect();
    assert_eq!(rows, library);
    let mut by_month = std::collections::BTreeMap::<String, i64>::new();
    for ((m, _), n) in &raw {
        *by_month.entry(m.clone()).or_default() += n;
    }
    let independent: Vec<serde_json::Value> =
        by_month.iter().map(|(m, n)| serde_json::json!({ "month": m, "count": n })).collect();
    assert_eq!(rows, independent);

    // Filters work through the API too.
    let response = app.get("/api/v1/counts?by=month,crime-type&from=2025-11&to=2025-11&crime-type=Robbery", &me).await;
    assert_eq!(response.status, StatusCode::OK);
    let n = raw.get(&("2025-11".to_string(), "Robbery".to_string())).copied().unwrap_or(0);
    assert_eq!(
        response.json(),
        serde_json::json!({ "districts": [], "rows": [{ "month": "2025-11", "crime_type": "Robbery", "count": n }] })
    );

    // A bad field is a 400 with a JSON error.
    let response = app.get("/api/v1/counts?by=colour", &me).await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    let error = response.json();
    assert!(error["detail"].as_str().is_some_and(|e| e.contains("colour")), "{error}");

    // The vendored GOV.UK Frontend stylesheet is served.
    let css = app.get("/assets/govuk/govuk-frontend.min.css", &me).await;
    assert_eq!(css.status, StatusCode::OK);
    assert!(css.header("content-type").is_some_and(|c| c.starts_with("text/css")));
    assert!(css.body.len() > 10_000 && css.body.contains(".govuk-"), "the real stylesheet");
    assert_eq!(app.get("/assets/no-such-file.css", &me).await.status, StatusCode::NOT_FOUND);

    // The import history page lists the files.
    let imports = app.get("/imports", &me).await;
    assert_eq!(imports.status, StatusCode::OK);
    assert!(imports.body.contains("2025-12-staffordshire-street.csv"));
    // Its row counts with their thousands grouped, as every other count.
    let rows = app.db.imports(1).await.unwrap().remove(0).rows_read;
    assert!(rows >= 1_000, "a month of a force's records: {rows}");
    let grouped = format!(">{}<", alliance_core::format::count(rows));
    assert!(grouped.contains(',') && imports.body.contains(&grouped), "{grouped} in {}", imports.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_on_an_empty_database_says_there_is_no_data() {
    let (app, me) = serve(common::sqlite()).await;
    let page = app.get("/", &me).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.body;
    assert!(html.contains("There is no police data"), "the empty dashboard should say so");
    assert!(!html.contains("app-headline__figure"), "no headline figures without data");
    assert!(!html.contains("id=\"stale-data\""), "no data is not old data");
    // The public figures say so too, rather than showing empty tables.
    let public = app.get("/public/figures", &Caller::default()).await;
    assert!(public.body.contains("id=\"no-police-data\""), "{}", public.body);
    assert!(!public.body.contains("id=\"months-table\""), "{}", public.body);
    let response = app.get("/api/v1/counts?by=month", &me).await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.json(), serde_json::json!({ "districts": [], "rows": [] }));

    // The figures are kept until the data changes: a file imported after that first view is on
    // the next one.
    let csv = "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,Last outcome category,Context\n\
               ,2025-06,Staffordshire Police,Staffordshire Police,-2.179400,53.024500,On or near Test Street,,,Robbery,,\n";
    let file = alliance_ingest::SourceFile::from_bytes("2025-06-staffordshire-street.csv", csv.as_bytes());
    app.db.import_police_file(&file, "test", &|_| {}).await.expect("a one-row file");
    let after = app.get("/", &me).await.body;
    assert!(!after.contains("There is no police data"), "{after}");
    assert!(after.contains("The 12 months to 2025-06") && after.contains("app-headline__figure"), "{after}");

    // So are the API's counts: the answer before the import was kept (asked again: a hit),
    // and the import made it stale.
    let counts = app.get("/api/v1/counts?by=month", &me).await;
    assert_eq!(counts.header("x-alliance-cache"), Some("miss"));
    assert!(counts.header("content-type").is_some_and(|c| c.starts_with("application/json")));
    assert_eq!(counts.json(), serde_json::json!({ "districts": [], "rows": [{ "month": "2025-06", "count": 1 }] }));
    let again = app.get("/api/v1/counts?by=month", &me).await;
    assert_eq!(again.header("x-alliance-cache"), Some("hit"));
    assert_eq!(again.json(), counts.json());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_data_loads_into_an_empty_database_once() {
    let t = common::sqlite();
    let db = t.connect().await;
    let loaded = alliance::demo::load_if_empty(&db).await.expect("load the demo data");
    assert_eq!(loaded, 18, "12 police files and 6 area files");
    let imports = db.imports(1000).await.unwrap();
    assert_eq!(imports.iter().filter(|i| i.source == "police").count(), 12);
    let months: Vec<String> = db.police_months_covered().await.unwrap().iter().map(|m| m.to_string()).collect();
    let expected: Vec<String> = (1..=12).map(|m| format!("2025-{m:02}")).collect();
    assert_eq!(months, expected);
    let counts = db.counts(&[CountField::Month, CountField::CrimeType], &CountFilter::default()).await.unwrap();
    assert!(counts.iter().map(|r| r.count).sum::<i64>() > 90_000);
    // Crimes are linked to districts by the area data.
    let districts = db.counts(&[CountField::District], &CountFilter::default()).await.unwrap();
    assert!(districts.iter().filter(|r| r.values[0].is_some()).count() >= 9, "{districts:?}");

    assert_eq!(alliance::demo::load_if_empty(&db).await.unwrap(), 0, "a second call imports nothing");
    assert_eq!(db.imports(1000).await.unwrap().len(), imports.len());

    // The demo is the real 2025 Staffordshire data: the same counts as the shared files.
    if let Some(data) = common::shared_data() {
        let files: Vec<PathBuf> =
            (1..=12).map(|m| data.join(format!("police/staffordshire/2025-{m:02}-staffordshire-street.csv"))).collect();
        assert_eq!(counts, common::as_count_rows(&common::raw_month_type_counts(&files)));
    }
}
