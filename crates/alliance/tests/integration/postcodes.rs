//! Postcodes (issue 16): `alliance import postcodes` reads an ONS Postcode Directory or a
//! Code-Point Open file (told by its header; samples made in each format under
//! `crates/alliance/tests/data/`), keeps the districts asked for, replaces the postcodes held
//! in one audited import, and refuses a bad file naming its line and column with nothing
//! changed. The public report form and the charter map then place a postcode.

use crate::common;

use alliance_web::AppState;
use axum::http::StatusCode;
use common::app::TestApp;

fn sample(name: &str) -> String {
    common::workspace_root().join("crates/alliance/tests/data").join(name).to_string_lossy().into_owned()
}

fn text(out: &std::process::Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

async fn import_either_format(test_db: common::TestDb) {
    let db = test_db.connect().await;
    let url = test_db.url.clone();
    let onspd = sample("postcodes-onspd-sample.csv");

    assert!(!db.postcodes_held().await.unwrap(), "a new database holds no postcodes");
    // ONSPD, Stoke-on-Trent only: three postcodes (one terminated, kept); the rest outside.
    let out = common::alliance(&url, &["import", "postcodes", &onspd, "--district", "E06000021"]);
    assert!(out.status.success(), "{}", text(&out));
    let said = text(&out);
    assert!(said.contains("3 postcodes imported") && said.contains("ONS Postcode Directory"), "{said}");
    assert!(said.contains("3 outside E06000021"), "{said}");
    assert_eq!(db.postcode_count().await.unwrap(), 3);
    assert!(db.postcodes_held().await.unwrap());
    let hanley = db.postcode("st11aa").await.unwrap().expect("held");
    assert_eq!(hanley.postcode, "ST1 1AA");
    assert!((hanley.latitude - 53.0245).abs() < 1e-9 && (hanley.longitude + 2.1794).abs() < 1e-9);
    assert_eq!(hanley.lsoa_code.as_deref(), Some("E01014200"));
    assert_eq!(hanley.district_code.as_deref(), Some("E06000021"));
    assert!(db.postcode("SN1 1AA").await.unwrap().is_none(), "outside the district asked for");
    // The same file again changes nothing.
    let again = common::alliance(&url, &["import", "postcodes", &onspd, "--district", "E06000021"]);
    assert!(text(&again).contains("unchanged"), "{}", text(&again));

    // Code-Point Open (no header; eastings and northings projected to WGS84), every district:
    // it replaces what was held.
    let out = common::alliance(&url, &["import", "postcodes", &sample("postcodes-codepoint-sample.csv"), "--all"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("3 postcodes imported") && text(&out).contains("Code-Point Open"), "{}", text(&out));
    assert!(text(&out).contains("1 without a grid reference"), "{}", text(&out));
    assert_eq!(db.postcode_count().await.unwrap(), 3);
    assert!(db.postcode("ST4 2AA").await.unwrap().is_none(), "replaced, not added to");
    let hanley = db.postcode("ST1 1AA").await.unwrap().expect("held");
    assert!((hanley.latitude - 53.0245).abs() < 0.01 && (hanley.longitude + 2.1794).abs() < 0.01, "{hanley:?}");
    assert_eq!(hanley.lsoa_code, None, "Code-Point Open has no LSOA");

    // A bad row: refused naming the file, line and column; what was held is kept.
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.csv");
    let mut body = std::fs::read_to_string(&onspd).unwrap();
    body.push_str("XX,XX,NOT A POSTCODE,198001,,E99999999,E06000021,,0,1,1,1,E92000001,E12000005,,53.0,-2.1,,\n");
    std::fs::write(&broken, body).unwrap();
    let out = common::alliance(&url, &["import", "postcodes", &broken.to_string_lossy(), "--all"]);
    assert!(!out.status.success());
    let said = text(&out);
    assert!(
        said.contains("broken.csv")
            && said.contains('8')
            && said.contains("pcds")
            && said.contains("not a UK postcode"),
        "{said}"
    );
    assert_eq!(db.postcode_count().await.unwrap(), 3, "a refused file changes nothing");
    let audit = postcode_imports(&db).await;
    assert_eq!(audit.len(), 4, "two imports, one unchanged, one refused: {audit:?}");
    assert!(audit.iter().any(|e| e.detail.starts_with("FAILED")));
}

/// The audit log's postcode imports (the last ten).
async fn postcode_imports(db: &alliance_db::Db) -> Vec<alliance_db::audit::AuditEntry> {
    common::audit_rows(db, "import postcodes").await
}

on_each_db!(import_either_format);

/// The public report form takes a postcode for its place, and the charter map places a venue
/// given only a postcode (over the demo's Staffordshire wards).
async fn postcodes_place_reports_and_venues(t: common::TestDb) {
    let db = t.connect().await;
    alliance::demo::load_if_empty(&db).await.expect("demo data");
    let app = TestApp::start_with(t, AppState::new(db.clone()).with_secure_cookies(false)).await;
    let me = app.visitor("/report-unsafe-place").await;
    let today = alliance_db::clock::today_date();
    let report = |place: &str| {
        [
            ("website", ""),
            ("place", place),
            ("longitude", ""),
            ("latitude", ""),
            ("date-day", &today.format("%d").to_string()),
            ("date-month", &today.format("%m").to_string()),
            ("date-year", &today.format("%Y").to_string()),
            ("time-of-day", "night"),
            ("reasons", "poor-lighting"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect::<Vec<_>>()
    };
    let post = |fields: Vec<(String, String)>| {
        let app = &app;
        let me = &me;
        async move {
            let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            app.post_form("/report-unsafe-place", me, &pairs).await
        }
    };
    // Before any postcodes are imported, the form says a postcode will not be found.
    assert!(app.get("/report-unsafe-place", &me).await.body.contains("We have no list of postcodes"));
    let before = db.unsafe_reports("pending", 10).await.unwrap().len();
    let refused = post(report("ST1 1AA")).await;
    refused.assert_refused(&["We could not find the postcode ST1 1AA"]);

    let onspd = alliance_ingest::SourceFile::from_path(std::path::Path::new(&sample("postcodes-onspd-sample.csv")));
    alliance_app::postcodes::import(&db, &common::test_actor(), &onspd, &alliance_app::postcodes::Keep::All)
        .await
        .unwrap()
        .unwrap();
    assert!(!app.get("/report-unsafe-place", &me).await.body.contains("We have no list of postcodes"));
    let sent = post(report("st1 1aa")).await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    let pending = db.unsafe_reports("pending", 10).await.unwrap();
    assert_eq!(pending.len(), before + 1);
    let r = pending.iter().find(|r| r.place == "Near ST1 1AA").expect("the report, placed by its postcode");
    assert!(r.point.is_some() && r.cell.is_some(), "{r:?}");
    assert_eq!(r.district_code.as_deref(), Some("E06000021"));
    // A postcode not held is refused on the place field, and nothing is stored.
    let unknown = post(report("ZZ9 9ZZ")).await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(db.unsafe_reports("pending", 10).await.unwrap().len(), before + 1);

    // A verified charter venue given with a postcode and no point is on the map.
    let map_before = app.get("/safer-places", &common::app::Caller::default()).await.body;
    let signatory = alliance_db::public::charter::NewSignatory {
        name: "Hanley Arcade".into(),
        org_type: "business".into(),
        address: "1 Market Square".into(),
        postcode: "ST1 1AA".into(),
        contact_name: "Manager".into(),
        contact_email: "manager@example.org".into(),
        contact_phone: "01782 000000".into(),
        staff_trained: 1,
        venues: vec![alliance_db::public::charter::NewVenue {
            name: "Hanley Arcade".into(),
            address: "1 Market Square".into(),
            postcode: "ST1 1AA".into(),
            place: None,
            point: None,
        }],
        pledges: db
            .charter_commitments()
            .await
            .unwrap()
            .iter()
            .map(|c| alliance_db::public::charter::NewPledge {
                commitment_id: c.id,
                how_met: "Lighting and trained staff".into(),
                evidence: String::new(),
            })
            .collect(),
    };
    let id = db.register_signatory(&signatory, None).await.unwrap();
    assert!(db.verify_signatory(id, today, &common::test_actor()).await.unwrap());
    let map_after = app.get("/safer-places", &common::app::Caller::default()).await.body;
    assert!(map_after.contains("Hanley Arcade: Hanley Arcade"), "the venue is on the map: {map_after}");
    assert!(!map_before.contains("Hanley Arcade: Hanley Arcade"));
}

on_each_db!(postcodes_place_reports_and_venues);

/// Sends a POST whose headers declare `declared` bytes of multipart body but sends only
/// `sent` (the CSRF field first, as a browser does), and reads the answer's status: the
/// server must answer without waiting for the rest. (A server that read on would never
/// answer: the guard's timeout fails the test instead of hanging it.)
async fn status_without_the_body(app: &TestApp, who: &common::app::Caller, declared: u64) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let boundary = "alliance-test-boundary-7d1f";
    let sent = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{}\r\n--{boundary}\r\n\
         Content-Disposition: form-data; name=\"file\"; filename=\"ONSPD.csv\"\r\nContent-Type: text/csv\r\n\r\npcd,pcds,lat,long\r\n",
        who.csrf
    );
    let addr = app.base.trim_start_matches("http://").to_string();
    let mut conn = tokio::net::TcpStream::connect(&addr).await.expect("connect");
    let head = format!(
        "POST /admin/postcodes HTTP/1.1\r\nHost: {addr}\r\nCookie: {}\r\n\
         Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {declared}\r\n\r\n",
        who.cookie
    );
    conn.write_all(head.as_bytes()).await.expect("send the head");
    conn.write_all(sent.as_bytes()).await.expect("send the first part");
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    let read = async {
        while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = conn.read(&mut buf).await.expect("read");
            if n == 0 {
                break;
            }
            answer.extend_from_slice(&buf[..n]);
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(120), read)
        .await
        .expect("the server answered without waiting for the body");
    let text = String::from_utf8_lossy(&answer);
    text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("a status line: {text}"))
}

/// An administrator uploads a postcode file on the web (`/admin/postcodes`); the directory
/// search then places its postcodes. Anyone else is refused before the body is read; a file
/// over the bound is refused from its declared length, unread; a bad file gets a 422 naming
/// its line and column, with nothing stored; every attempt is audited.
async fn an_administrator_uploads_postcodes(app: TestApp) {
    use alliance_core::access::Role;
    let admin = app.signed_in("admin@example.org", Role::Administrator, "Office of the PCC").await;
    let analyst = app.signed_in("analyst@example.org", Role::Analyst, "A council").await;
    let partner = app.signed_in("partner@example.org", Role::PartnerUser, "A charity").await;
    let onspd = std::fs::read(sample("postcodes-onspd-sample.csv")).expect("the sample");

    let page = app.get("/admin/postcodes", &admin).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("<span id=\"held\">0</span>") && page.body.contains("Up to 2 GB"), "{}", page.body);
    assert!(page.body.contains("href=\"/admin/postcodes\""), "in the administrators' menu");
    assert!(!app.get("/", &analyst).await.body.contains("href=\"/admin/postcodes\""), "not in others' menus");
    assert_eq!(app.get("/admin/postcodes", &analyst).await.status, StatusCode::FORBIDDEN);

    // Refused before a byte of the body is read: a 3 GB upload declared, 200 bytes sent.
    assert_eq!(status_without_the_body(&app, &analyst, 3 << 30).await, 403);
    assert_eq!(status_without_the_body(&app, &partner, 3 << 30).await, 403);
    assert_eq!(status_without_the_body(&app, &admin, 3 << 30).await, 413, "over the 2 GB bound, unread");
    assert_eq!(app.db.postcode_count().await.unwrap(), 0);

    // A good file, every postcode kept (the test database has no profile).
    let (content_type, body) = common::http::multipart(
        &[("csrf_token", admin.csrf.as_str()), ("keep", "all")],
        ("file", "ONSPD_sample.csv", &onspd),
    );
    let done = app.post_bytes("/admin/postcodes", &admin, &content_type, body).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(
        done.body.contains("ONSPD_sample.csv: 5 postcodes imported") && done.body.contains("ONS Postcode Directory")
    );
    assert!(done.body.contains("<span id=\"held\">5</span>"));
    assert_eq!(app.db.postcode_count().await.unwrap(), 5);
    let found = app.get("/find-help?postcode=st1+1aa", &common::app::Caller::default()).await;
    assert_eq!(found.status, StatusCode::OK);
    assert!(!found.body.contains("We could not find the postcode"), "the postcode is placed");

    // A bad row: 422 naming file, line and column; what was held is kept.
    let mut broken = String::from_utf8(onspd.clone()).unwrap();
    broken.push_str("XX,XX,NOT A POSTCODE,198001,,E99999999,E06000021,,0,1,1,1,E92000001,E12000005,,53.0,-2.1,,\n");
    let (content_type, body) = common::http::multipart(
        &[("csrf_token", admin.csrf.as_str()), ("keep", "all")],
        ("file", "broken.csv", broken.as_bytes()),
    );
    let refused = app.post_bytes("/admin/postcodes", &admin, &content_type, body).await;
    refused.assert_refused(&["broken.csv:8", "pcds", "not a UK postcode"]);
    assert!(refused.body.contains("href=\"#file\""), "in the error summary");
    assert_eq!(app.db.postcode_count().await.unwrap(), 5, "a refused file changes nothing");
    // No file chosen.
    let (content_type, body) = common::http::multipart(&[("csrf_token", admin.csrf.as_str())], ("file", "", b""));
    assert_eq!(
        app.post_bytes("/admin/postcodes", &admin, &content_type, body).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    let audit = postcode_imports(&app.db).await;
    assert_eq!(audit.len(), 2, "the import and the refused file: {audit:?}");
    assert!(audit.iter().all(|e| e.actor.contains("admin@example.org")), "{audit:?}");
    assert!(audit.iter().any(|e| e.detail.starts_with("FAILED") && e.detail.contains("broken.csv")), "{audit:?}");
}
on_each_app!(an_administrator_uploads_postcodes);
