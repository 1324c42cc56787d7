//! The web app over real HTTP: the router is served on a free local port and spoken to with
//! plain HTTP/1.1 requests. Also the bundled demo data loader.

use crate::common;

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::PathBuf;

use alliance_core::domain::{CountField, CountFilter};
use alliance_db::Db;
use alliance_web::AppState;

/// A response: status, headers (lower-case names) and body.
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
}

/// Where the app is served, and the session cookie of a signed-in analyst.
#[derive(Clone, Copy)]
struct Site {
    addr: SocketAddr,
    cookie: &'static str,
}

/// Serves the app over `db` on 127.0.0.1 at a free port, in a background task, with an
/// analyst signed in (everything but the sign-in page needs a session).
async fn serve(db: &Db) -> Site {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind a free port");
    let addr = listener.local_addr().unwrap();
    let user = common::add_user(db, "analyst@example.org", alliance_core::access::Role::Analyst, "Test Alliance").await;
    let (cookie, _csrf) = common::session_for(db, user).await;
    let cookie: &'static str = Box::leak(cookie.into_boxed_str());
    let app = alliance_web::router(AppState::new(db.clone()));
    tokio::spawn(async move {
        axum::serve(listener, app).await.expect("serve");
    });
    Site { addr, cookie }
}

/// `GET path` with `Connection: close`, read to the end.
async fn get(site: Site, path: &str) -> Response {
    let (addr, cookie) = (site.addr, site.cookie);
    let path = path.to_string();
    tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(addr).expect("connect");
        write!(stream, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n").unwrap();
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).expect("read the response");
        parse_response(&raw)
    })
    .await
    .unwrap()
}

fn parse_response(raw: &[u8]) -> Response {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("end of headers");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines.next().and_then(|l| l.split_whitespace().nth(1)).and_then(|s| s.parse().ok()).expect("status");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    if headers.iter().any(|(n, v)| n == "transfer-encoding" && v.contains("chunked")) {
        body = dechunk(&body);
    }
    Response { status, headers, body }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let eol = data.windows(2).position(|w| w == b"\r\n").expect("chunk size line");
        let size_text = String::from_utf8_lossy(&data[..eol]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap().trim(), 16).expect("chunk size");
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[eol + 2..eol + 2 + size]);
        data = &data[eol + 2 + size + 2..];
    }
}

/// `12345` → `12,345`, written here independently of the app's formatter.
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
    let t = common::sqlite();
    let db = t.connect().await;
    let files = some_months(&data);
    common::import_all(&db, &files).await;
    let raw = common::raw_month_type_counts(&files);
    let addr = serve(&db).await;

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
    let page = get(addr, "/").await;
    assert_eq!(page.status, 200);
    assert!(page.header("content-type").is_some_and(|c| c.starts_with("text/html")));
    let html = page.text();
    let headline = html.find("All crime (excluding anti-social behaviour)").expect("the all-crime headline");
    let figure = format!(">{}<", alliance_core::format::count(total));
    let at = html[headline..].find(&figure).map(|i| i + headline);
    assert!(at.is_some(), "the dashboard should show the 12-month total {figure} after the all-crime headline");
    assert!(html.contains("2025-12"), "the latest month should be named");

    // The API's monthly counts equal the library's and the raw files'.
    let response = get(addr, "/api/v1/counts?by=month").await;
    assert_eq!(response.status, 200);
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
    let response = get(addr, "/api/v1/counts?by=month,crime-type&from=2025-11&to=2025-11&crime-type=Robbery").await;
    assert_eq!(response.status, 200);
    let n = raw.get(&("2025-11".to_string(), "Robbery".to_string())).copied().unwrap_or(0);
    assert_eq!(
        response.json(),
        serde_json::json!({ "rows": [{ "month": "2025-11", "crime_type": "Robbery", "count": n }] })
    );

    // A bad field is a 400 with a JSON error.
    let response = get(addr, "/api/v1/counts?by=colour").await;
    assert_eq!(response.status, 400);
    let error = response.json();
    assert!(error["detail"].as_str().is_some_and(|e| e.contains("colour")), "{error}");

    // The vendored GOV.UK Frontend stylesheet is served.
    let css = get(addr, "/assets/govuk/govuk-frontend.min.css").await;
    assert_eq!(css.status, 200);
    assert!(css.header("content-type").is_some_and(|c| c.starts_with("text/css")));
    assert!(css.body.len() > 10_000 && css.text().contains(".govuk-"), "the real stylesheet");
    assert_eq!(get(addr, "/assets/no-such-file.css").await.status, 404);

    // The import history page lists the files.
    let imports = get(addr, "/imports").await;
    assert_eq!(imports.status, 200);
    assert!(imports.text().contains("2025-12-staffordshire-street.csv"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_on_an_empty_database_says_there_is_no_data() {
    let t = common::sqlite();
    let db = t.connect().await;
    let addr = serve(&db).await;
    let page = get(addr, "/").await;
    assert_eq!(page.status, 200);
    let html = page.text();
    assert!(html.contains("There is no police data"), "the empty dashboard should say so");
    assert!(!html.contains("app-headline__figure"), "no headline figures without data");
    let response = get(addr, "/api/v1/counts?by=month").await;
    assert_eq!(response.status, 200);
    assert_eq!(response.json(), serde_json::json!({ "rows": [] }));
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
