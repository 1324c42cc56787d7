//! The web does what the command line does: police and area imports through the browser
//! (`/imports/upload`), a data.police.uk download zip read in place, and the SNA report
//! file downloaded from the SNA page. Roles without the right are refused before the upload
//! is read; a bad file is named with its line and column and imports nothing; a zip bomb is
//! refused from the zip's directory; every attempt is audited.

use std::io::Write;

use crate::common;

use alliance_core::access::Role;
use axum::http::StatusCode;
use common::app::{Caller, Reply, TestApp};

const STREET_HEADER: &str = "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,Last outcome category,Context\n";
const OUTCOMES_HEADER: &str =
    "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Outcome type\n";

fn street(month: &str, ids: &[&str]) -> String {
    let mut s = STREET_HEADER.to_string();
    for id in ids {
        s.push_str(&format!(
            "{id},{month},Wiltshire Police,Wiltshire Police,-1.78,51.56,On or near High Street,E01015478,Swindon 012A,Violence and sexual offences,Under investigation,\n"
        ));
    }
    s
}

/// A zip of `(path, bytes)` entries, deflated.
fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    {
        let mut w = zip::ZipWriter::new(&mut out);
        for (name, bytes) in entries {
            let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
            w.start_file(*name, options).unwrap();
            w.write_all(bytes).unwrap();
        }
        w.finish().unwrap();
    }
    out.into_inner()
}

/// A multipart form with the CSRF token first and any number of `file` fields.
fn files_form(csrf: &str, files: &[(&str, &[u8])]) -> (String, Vec<u8>) {
    let files: Vec<(&str, &str, &[u8])> = files.iter().map(|&(name, bytes)| ("file", name, bytes)).collect();
    common::http::multipart_files(&[("csrf_token", csrf)], &files)
}

async fn upload(app: &TestApp, who: &Caller, path: &str, files: &[(&str, &[u8])]) -> Reply {
    let (content_type, body) = files_form(&who.csrf, files);
    app.post_bytes(path, who, &content_type, body).await
}

async fn imports(app: &TestApp) -> usize {
    app.db.imports(100).await.unwrap().len()
}

async fn audited(app: &TestApp, action: &str) -> Vec<String> {
    common::audit_rows(&app.db, action).await.into_iter().map(|e| format!("{} {}", e.target, e.detail)).collect()
}

async fn police_and_areas_on_the_web(app: TestApp) {
    let admin = app.signed_in("admin@vrp.example", Role::Administrator, "Wiltshire and Swindon VRP").await;
    let analyst = app.signed_in("analyst@vrp.example", Role::Analyst, "Wiltshire and Swindon VRP").await;
    let police_analyst = app.signed_in("analyst@police.example", Role::Analyst, "Wiltshire Police").await;
    let partner = app.signed_in("officer@council.example", Role::PartnerUser, "Swindon Borough Council").await;
    let board = app.signed_in("chair@vrp.example", Role::BoardMember, "Wiltshire and Swindon VRP").await;
    let january = street("2025-01", &["a1", "a2"]);
    let outcomes = format!("{OUTCOMES_HEADER}a1,2025-01,Wiltshire Police,Wiltshire Police,-1.78,51.56,On or near High Street,E01015478,Swindon 012A,Investigation complete; no suspect identified\n");

    // Refused by role (the route table) and by supply (before the body is read): a good file
    // and a body that is no form at all are refused alike, and nothing is imported.
    for who in [&partner, &board] {
        assert_eq!(app.get("/imports/upload", who).await.status, StatusCode::FORBIDDEN);
    }
    for who in [&partner, &board, &analyst] {
        let r = upload(&app, who, "/imports/police", &[("2025-01-wiltshire-street.csv", january.as_bytes())]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        let garbage =
            app.post_bytes("/imports/police", who, "multipart/form-data; boundary=x", b"not a form".to_vec()).await;
        assert_eq!(garbage.status, StatusCode::FORBIDDEN);
        let r = upload(&app, who, "/imports/areas", &[("districts.csv", b"x")]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
    }
    assert_eq!(imports(&app).await, 0);
    let form = app.get("/imports/upload", &analyst).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(!form.body.contains("action=\"/imports/police\""), "not offered to who may not supply it");

    // An administrator uploads a data.police.uk download zip: its street and outcomes files
    // import from inside it; the stop and search file is passed over.
    let download = zip_of(&[
        ("2025-01/2025-01-wiltshire-street.csv", january.as_bytes()),
        ("2025-01/2025-01-wiltshire-outcomes.csv", outcomes.as_bytes()),
        ("2025-01/2025-01-wiltshire-stop-and-search.csv", b"Type,Date\n"),
    ]);
    let page = app.get("/imports/upload", &admin).await;
    assert!(page.body.contains("action=\"/imports/police\"") && page.body.contains("action=\"/imports/areas\""));
    let done = upload(&app, &admin, "/imports/police", &[("wiltshire-2025-01.zip", &download)]).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(done.body.contains("2 imported (3 rows), 0 unchanged, 0 not imported"), "{}", done.body);
    assert!(done.body.contains("2025-01-wiltshire-street.csv (in wiltshire-2025-01.zip)"), "{}", done.body);
    assert!(done.body.contains("2025-01/2025-01-wiltshire-stop-and-search.csv (in wiltshire-2025-01.zip)"));
    assert_eq!(imports(&app).await, 2);
    let page = app.get("/imports", &analyst).await;
    assert!(page.body.contains("2025-01-wiltshire-street.csv"), "{}", page.body);
    // When each file was imported, in words to the minute, not as stored; the dashboard's
    // last import likewise.
    let imported_at = app.db.imports(1).await.unwrap().remove(0).imported_at;
    let shown = alliance_core::format::stamp_time(&imported_at);
    assert!(shown.ends_with(" UTC") && page.body.contains(&shown), "{shown} in {}", page.body);
    assert!(!page.body.contains(&imported_at), "{}", page.body);
    assert_eq!(common::raw_stamp(&page.body), None, "{}", page.body);
    let dashboard = app.get("/", &analyst).await;
    assert!(dashboard.body.contains(&shown), "{shown} in {}", dashboard.body);
    assert_eq!(common::raw_stamp(&dashboard.body), None, "{}", dashboard.body);

    // The same street file sent unzipped is the same file: unchanged. A bad file beside it
    // is named with its line and column, and imports nothing; a file of another name is refused.
    let mut february = street("2025-02", &["b1"]);
    february.push_str(&street("2025-13", &["b2"])[STREET_HEADER.len()..]);
    let mixed = upload(
        &app,
        &admin,
        "/imports/police",
        &[
            ("2025-01-wiltshire-street.csv", january.as_bytes()),
            ("2025-02-wiltshire-street.csv", february.as_bytes()),
            ("notes.txt", b"hello"),
        ],
    )
    .await;
    assert_eq!(mixed.status, StatusCode::OK, "{}", mixed.body);
    assert!(mixed.body.contains("0 imported (0 rows), 1 unchanged, 2 not imported"), "{}", mixed.body);
    assert!(mixed.body.contains("2025-02-wiltshire-street.csv:3: column &#34;Month&#34;"), "{}", mixed.body);
    assert!(mixed.body.contains("notes.txt: not a data.police.uk file"), "{}", mixed.body);
    assert_eq!(imports(&app).await, 2, "nothing of the bad files");
    let log = audited(&app, "import police").await;
    assert!(log.iter().any(|l| l.starts_with("notes.txt FAILED")), "{log:?}");
    assert!(log.iter().any(|l| l.contains("2025-02-wiltshire-street.csv") && l.contains("FAILED")), "{log:?}");

    // A zip bomb is refused from the zip's directory, before it is inflated; a damaged or
    // empty zip is named.
    let zeros = vec![0u8; 8 << 20];
    let bomb = zip_of(&[("2025-03-wiltshire-street.csv", &zeros)]);
    let refused = upload(&app, &admin, "/imports/police", &[("bomb.zip", &bomb)]).await;
    refused.assert_refused(&["compressed more than 100 to 1"]);
    let empty = zip_of(&[("readme.txt", b"nothing here")]);
    let refused = upload(&app, &admin, "/imports/police", &[("empty.zip", &empty)]).await;
    assert!(refused.body.contains("empty.zip: the zip holds no data.police.uk street or outcomes files"));
    let refused = upload(&app, &admin, "/imports/police", &[("cut.zip", &download[..download.len() / 2])]).await;
    assert!(refused.body.contains("cut.zip: not a readable .zip file"), "{}", refused.body);
    assert_eq!(imports(&app).await, 2);

    // The organisation that supplies police data may import it too.
    let police_org = app.db.organisation_by_name("Wiltshire Police").await.unwrap().unwrap().id;
    app.db.set_dataset_owner("police-recorded-crime", police_org, &common::test_actor()).await.unwrap();
    let good_feb = street("2025-02", &["b1"]);
    let r = upload(&app, &police_analyst, "/imports/police", &[("2025-02-wiltshire-street.csv", good_feb.as_bytes())])
        .await;
    assert!(r.body.contains("1 imported (1 rows)"), "{}", r.body);
    // …but not area data, which only administrators import.
    assert_eq!(upload(&app, &police_analyst, "/imports/areas", &[("x.csv", b"x")]).await.status, StatusCode::FORBIDDEN);

    // Area files: an administrator imports district names; a file Alliance does not
    // recognise is refused by name.
    let districts = "LADCD,LADNM\nE06000030,Swindon\nE06000054,Wiltshire\n";
    let r = upload(
        &app,
        &admin,
        "/imports/areas",
        &[("districts-wiltshire.csv", districts.as_bytes()), ("photo.jpg", b"\xff\xd8")],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("1 imported"), "{}", r.body);
    assert!(r.body.contains("photo.jpg: not an area file Alliance recognises"), "{}", r.body);
    let names: Vec<String> = app.db.districts().await.unwrap().into_iter().map(|d| d.name).collect();
    assert!(names.contains(&"Swindon".to_string()), "{names:?}");
    assert!(audited(&app, "import areas").await.iter().any(|l| l.starts_with("photo.jpg FAILED")));

    // The SNA page offers its report file; the download is the same document `alliance sna` writes.
    let sna = app.get("/sna?from=2025-01&to=2025-02", &board).await;
    let link = ["&amp;", "&#38;"].map(|amp| format!("href=\"/sna/report.html?from=2025-01{amp}to=2025-02\""));
    assert!(link.iter().any(|l| sna.body.contains(l.as_str())), "{}", sna.body);
    let file = app.get("/sna/report.html?from=2025-01&to=2025-02", &board).await;
    assert_eq!(file.status, StatusCode::OK);
    assert_eq!(
        file.header("content-disposition"),
        Some("attachment; filename=\"strategic-needs-assessment-2025-01-to-2025-02.html\"")
    );
    assert!(
        file.body.starts_with("<!DOCTYPE html>") || file.body.starts_with("<!doctype html>"),
        "{}",
        &file.body[..200]
    );
    assert!(file.body.contains("<style"), "self-contained: its styles inside");
    let bad = app.get("/sna/report.html?from=2025-13", &board).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
}
on_each_app!(police_and_areas_on_the_web);

/// The command line reads the same download zip in place: `alliance import police FILE.zip`.
async fn a_download_zip_from_the_command_line(app: TestApp) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("download.zip");
    let april = street("2025-04", &["c1", "c2", "c3"]);
    std::fs::write(
        &path,
        zip_of(&[
            ("2025-04/2025-04-wiltshire-street.csv", april.as_bytes()),
            ("2025-04/2025-04-wiltshire-stop-and-search.csv", b"Type,Date\n"),
        ]),
    )
    .unwrap();
    let run = common::alliance(&app.db_url, &["import", "police", path.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&run.stderr));
    assert!(stdout.contains("1 imported (3 rows"), "{stdout}");
    assert!(stdout.contains("download.zip: 1 other files passed over"), "{stdout}");
    assert_eq!(imports(&app).await, 1);
    // A zip that is not one is refused by name, and nothing is imported.
    std::fs::write(&path, b"not a zip").unwrap();
    let run = common::alliance(&app.db_url, &["import", "police", path.to_str().unwrap()]);
    assert!(!run.status.success());
    assert!(String::from_utf8_lossy(&run.stderr).contains("download.zip: not a readable .zip file"));
    assert_eq!(imports(&app).await, 1);
}
on_each_app!(a_download_zip_from_the_command_line);
