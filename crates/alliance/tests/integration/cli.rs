//! The `alliance` command, run as a separate process exactly as a user would, on SQLite and
//! (when reachable) PostgreSQL, checked against independent counts of the raw files.

use crate::common;
use common::alliance;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{police_files, raw_month_type_counts, TestDb};

fn text(output: &Output) -> (String, String) {
    (String::from_utf8_lossy(&output.stdout).into_owned(), String::from_utf8_lossy(&output.stderr).into_owned())
}

/// `counts --by month,crime-type --format csv`: its header and its rows.
fn csv_counts(db_url: &str) -> (Vec<String>, Vec<(String, String, i64)>) {
    let output = alliance(db_url, &["counts", "--by", "month,crime-type", "--format", "csv"]);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "counts failed: {stdout}{stderr}");
    // No partnership profile in these databases: every record is counted, and it says so
    // beside the data, not in it.
    assert!(stderr.contains("Counting every record held."), "{stderr}");
    let mut reader = csv::Reader::from_reader(stdout.as_bytes());
    let header = reader.headers().unwrap().iter().map(str::to_string).collect();
    let rows = reader
        .records()
        .map(|r| {
            let r = r.expect("a CSV row");
            (r[0].to_string(), r[1].to_string(), r[2].parse().expect("a count"))
        })
        .collect();
    (header, rows)
}

fn expected_rows(files: &[PathBuf]) -> Vec<(String, String, i64)> {
    raw_month_type_counts(files).into_iter().map(|((m, t), n)| (m, t, n)).collect()
}

async fn command_line(t: TestDb, data: PathBuf) {
    let url = t.url.clone();
    let staffordshire = data.join("police/staffordshire");
    let files = police_files(&staffordshire);

    // Import the folder: exit 0 and a one-line summary.
    let output = alliance(&url, &["import", "police", staffordshire.to_str().unwrap()]);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "import failed: {stdout}{stderr}");
    let summary = stdout.lines().last().unwrap_or_default();
    assert!(
        summary.starts_with("21 imported (183523 rows") && summary.contains("0 failed"),
        "unexpected summary: {summary}"
    );

    // Counts as CSV equal the raw files' counts.
    let (header, rows) = csv_counts(&url);
    assert_eq!(header, ["month", "crime_type", "count"]);
    assert_eq!(rows, expected_rows(&files));
    // A district named with no area files loaded: refused with the reason, not an empty
    // table that reads as no crime.
    let output = alliance(&url, &["counts", "--by", "month", "--district", "E06000021", "--format", "csv"]);
    let (stdout, stderr) = text(&output);
    assert!(!output.status.success(), "{stdout}");
    assert!(stdout.is_empty(), "no table: {stdout}");
    assert!(stderr.contains("no LSOA of E06000021 is held"), "{stderr}");

    // Importing again adds nothing.
    let output = alliance(&url, &["import", "police", staffordshire.to_str().unwrap()]);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "re-import failed: {stdout}{stderr}");
    let summary = stdout.lines().last().unwrap_or_default();
    assert!(summary.starts_with("0 imported (0 rows") && summary.contains("21 unchanged"), "{summary}");
    assert_eq!(csv_counts(&url).1, expected_rows(&files));

    // A folder with a new, valid file and a damaged one: the damaged one is refused with its
    // line, the other goes in, the command exits non-zero and says which is which.
    let tmp = tempfile::tempdir().unwrap();
    let gwent = data.join("police/gwent/2023-01-gwent-street.csv");
    std::fs::copy(&gwent, tmp.path().join("2023-01-gwent-street.csv")).unwrap();
    damaged_copy(&staffordshire.join("2025-03-staffordshire-street.csv"), tmp.path());
    let output = alliance(&url, &["import", "police", tmp.path().to_str().unwrap()]);
    let (stdout, stderr) = text(&output);
    let all = format!("{stdout}{stderr}");
    assert!(!output.status.success(), "a damaged file must make the import exit non-zero: {all}");
    assert!(
        all.contains(r#"2025-03-staffordshire-street.csv:812: column "Month": expected YYYY-MM, found "2025-13""#),
        "the damaged file and line should be named: {all}"
    );
    assert!(
        all.lines().any(|l| l.contains("2023-01-gwent-street.csv") && l.to_lowercase().contains("imported")),
        "the imported file should be listed: {all}"
    );
    let summary = stdout.lines().last().unwrap_or_default();
    assert!(
        summary.starts_with("1 imported") && summary.contains("1 failed: 2025-03-staffordshire-street.csv"),
        "the summary should say which files were and were not imported: {summary}"
    );
    let mut with_gwent = files.clone();
    with_gwent.push(gwent);
    assert_eq!(csv_counts(&url).1, expected_rows(&with_gwent), "only the valid file may change the counts");

    // The import history lists every file imported, once each.
    let output = alliance(&url, &["imports", "--limit", "100"]);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "imports failed: {stdout}{stderr}");
    for f in &with_gwent {
        let name = f.file_name().unwrap().to_str().unwrap();
        let n = stdout.lines().filter(|l| l.contains(name)).count();
        assert_eq!(n, 1, "{name} should be listed once in:\n{stdout}");
    }
    let output = alliance(&url, &["imports", "--json"]);
    let list: serde_json::Value = serde_json::from_slice(&output.stdout).expect("imports --json is JSON");
    assert_eq!(list.as_array().map(Vec::len), Some(22));

    // Every file the command line handled is in the audit log as `cli:<user>`, failures too.
    let db = t.connect().await;
    let log = common::audit_log(&db).await;
    let imports: Vec<_> = log.iter().filter(|e| e.action == "import police" && e.actor.starts_with("cli:")).collect();
    assert_eq!(imports.len(), 21 + 21 + 2, "each file of the three runs");
    assert!(imports.iter().any(|e| e.target == "2025-03-staffordshire-street.csv" && e.detail.starts_with("FAILED")));
    assert_eq!(db.verify_audit_chain().await.unwrap().first_broken, None);
}

/// Copies `src` into `dir` under the same name with line 812's Month set to `2025-13`.
fn damaged_copy(src: &Path, dir: &Path) {
    let text = std::fs::read_to_string(src).unwrap();
    let mut lines: Vec<String> = text.split_inclusive('\n').map(str::to_string).collect();
    let damaged = lines[811].replacen(",2025-03,", ",2025-13,", 1);
    assert_ne!(damaged, lines[811]);
    lines[811] = damaged;
    std::fs::write(dir.join(src.file_name().unwrap()), lines.concat()).unwrap();
}

on_each_backend!(command_line);

#[test]
fn counts_refuses_bad_arguments() {
    let t = common::sqlite();
    // A district and every record at once is a contradiction, refused before any work.
    let output = alliance(&t.url, &["counts", "--by", "month", "--everywhere", "--district", "E06000021"]);
    assert!(!output.status.success());
    assert!(text(&output).1.contains("--everywhere"), "{}", text(&output).1);
    let output = alliance(&t.url, &["counts", "--by", "colour"]);
    let (stdout, stderr) = text(&output);
    assert!(!output.status.success());
    assert!(format!("{stdout}{stderr}").contains("colour"), "the bad field should be named: {stdout}{stderr}");
}

/// A file named on the command line that is not an area file is an error (a script must not
/// carry on) that says what was expected and what header was found; in a folder it is only
/// skipped, saying so. The audit log says the same as the screen: `FAILED`, then `skipped`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_areas_refuses_a_named_file_it_does_not_recognise() {
    let t = common::sqlite();
    let dir = tempfile::tempdir().unwrap();
    let street = dir.path().join("2022-07-gwent-street.csv");
    std::fs::write(&street, "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,Last outcome category,Context\n").unwrap();
    let output = alliance(&t.url, &["import", "areas", street.to_str().unwrap()]);
    let (stdout, stderr) = text(&output);
    assert!(!output.status.success(), "{stdout}{stderr}");
    assert!(
        stdout.contains("FAILED    2022-07-gwent-street.csv: not an area file Alliance recognises: it has the header \"Crime ID\", \"Month\""),
        "{stdout}"
    );
    assert!(
        stdout.contains("IMD 2019 File 1")
            && stdout.contains("File 6")
            && stdout.contains("WIMD")
            && stdout.contains("GeoJSON boundaries"),
        "{stdout}"
    );
    assert!(stdout.lines().last().unwrap_or_default().contains("1 failed: 2022-07-gwent-street.csv"), "{stdout}");

    let output = alliance(&t.url, &["import", "areas", dir.path().to_str().unwrap()]);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "a folder's stranger is skipped: {stdout}{stderr}");
    assert!(stdout.contains("skipped   2022-07-gwent-street.csv: not an area file Alliance recognises"), "{stdout}");

    let db = t.connect().await;
    let rows = common::audit_rows(&db, "import areas").await;
    let details: Vec<&str> = rows.iter().rev().map(|e| e.detail.as_str()).collect();
    assert_eq!(details.len(), 2, "{details:?}");
    assert!(details[0].starts_with("FAILED: 2022-07-gwent-street.csv: not an area file"), "{details:?}");
    assert!(details[1].starts_with("skipped: 2022-07-gwent-street.csv: not an area file"), "{details:?}");
}
