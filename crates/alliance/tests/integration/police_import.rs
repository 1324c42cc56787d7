//! Police imports through the library, checked against independent counts made straight from
//! the raw data.police.uk files in `../shared/data/police`. Every scenario runs on SQLite and,
//! when reachable, on PostgreSQL.

use crate::common;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use alliance_core::domain::{CountField, CountFilter, CountRow};
use alliance_db::imports::{ImportOutcome, ImportRecord};
use alliance_db::Db;
use alliance_ingest::SourceFile;
use common::{as_count_rows, column, import_all, police_files, raw_month_type_counts, read_csv, TestDb};

const BY_MONTH_TYPE: [CountField; 2] = [CountField::Month, CountField::CrimeType];

async fn month_type_counts(db: &Db) -> Vec<CountRow> {
    db.counts(&BY_MONTH_TYPE, &CountFilter::default()).await.expect("counts")
}

/// The import history as comparable values.
async fn history(db: &Db) -> Vec<serde_json::Value> {
    db.imports(10_000).await.expect("imports").iter().map(|i| serde_json::to_value(i).unwrap()).collect()
}

fn find(files: &[PathBuf], name: &str) -> PathBuf {
    files.iter().find(|p| p.file_name().is_some_and(|n| n == name)).unwrap_or_else(|| panic!("{name} missing")).clone()
}

/// Writes `lines` (each with its own line ending) to `dir/name`.
fn write_lines(dir: &Path, name: &str, lines: &[String]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, lines.concat()).expect("write test file");
    path
}

/// Why the import of `lines`, written to `dir/name`, is refused (it must be).
async fn refusal(db: &Db, dir: &Path, name: &str, lines: &[String]) -> String {
    let path = write_lines(dir, name, lines);
    db.import_police_file(&SourceFile::from_path(&path), "test", &|_| {})
        .await
        .expect_err("the file must be refused")
        .to_string()
}

/// The lines of a file, each keeping its line ending; checks no quoted field spans lines,
/// so line numbers are record numbers + 1.
fn lines_of(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).expect("read");
    let lines: Vec<String> = text.split_inclusive('\n').map(str::to_string).collect();
    assert_eq!(read_csv(path).1.len() + 1, lines.len(), "{} has multi-line fields", path.display());
    lines
}

async fn staffordshire(t: TestDb, data: PathBuf) {
    let db = t.connect().await;
    let files = police_files(&data.join("police/staffordshire"));
    assert_eq!(files.len(), 21, "the shared Staffordshire set has 21 street files");
    let expected = raw_month_type_counts(&files);
    assert_eq!(expected.values().sum::<i64>(), 183_523, "SOURCES.md gives 183,523 Staffordshire rows");

    // First import: every file is new.
    let outcomes = import_all(&db, &files).await;
    for (path, outcome) in files.iter().zip(&outcomes) {
        let rows = read_csv(path).1.len() as i64;
        match outcome {
            ImportOutcome::Imported { counts, replaced: None, .. } => {
                assert_eq!(counts.rows_read, rows, "{}", path.display());
                assert_eq!(counts.rows_added, rows, "{}", path.display());
                assert_eq!(counts.rows_replaced, 0);
            }
            other => panic!("{}: expected a fresh import, got {other:?}", path.display()),
        }
    }
    let counts = month_type_counts(&db).await;
    assert_eq!(counts, as_count_rows(&expected), "counts by month and crime type differ from the raw files");
    assert_eq!(db.police_record_count().await.unwrap(), 183_523);
    assert_eq!(db.police_months_covered().await.unwrap().len(), 21);
    let imports = history(&db).await;
    assert_eq!(imports.len(), 21);

    // The same files again change nothing.
    for outcome in import_all(&db, &files).await {
        assert!(matches!(outcome, ImportOutcome::Unchanged { .. }), "re-import should be unchanged: {outcome:?}");
    }
    assert_eq!(month_type_counts(&db).await, counts);
    assert_eq!(history(&db).await, imports, "a re-import must not record anything");

    // A damaged row: refused with file, line, column and reason; nothing changes.
    let tmp = tempfile::tempdir().unwrap();
    let original = find(&files, "2025-03-staffordshire-street.csv");
    let mut lines = lines_of(&original);
    let damaged = lines[811].replacen(",2025-03,", ",2025-13,", 1);
    assert_ne!(damaged, lines[811], "line 812 should hold a 2025-03 Month");
    lines[811] = damaged;
    let error = refusal(&db, tmp.path(), "2025-03-staffordshire-street.csv", &lines).await;
    assert!(
        error.contains(r#"2025-03-staffordshire-street.csv:812: column "Month": expected YYYY-MM, found "2025-13""#),
        "unexpected message: {error}"
    );
    assert_eq!(month_type_counts(&db).await, counts, "a refused file must change no counts");
    assert_eq!(history(&db).await, imports, "a refused file must record no import");

    // A wrong header is refused before any row is read (line 2 is damaged too).
    let mut lines = lines_of(&find(&files, "2025-04-staffordshire-street.csv"));
    lines[0] = lines[0].replacen("Crime type", "Crime category", 1);
    lines[1] = lines[1].replacen(",2025-04,", ",2025-99,", 1);
    let error = refusal(&db, tmp.path(), "2025-04-staffordshire-street.csv", &lines).await;
    assert!(error.contains("2025-04-staffordshire-street.csv:1"), "the header (line 1) should be named: {error}");
    assert!(error.contains("Crime category"), "the wrong column should be named: {error}");
    assert!(!error.contains(":2:"), "no row should have been read: {error}");
    assert_eq!(month_type_counts(&db).await, counts);
    assert_eq!(history(&db).await, imports);

    // A different export of the same force, month and kind replaces the earlier one.
    let original = find(&files, "2025-06-staffordshire-street.csv");
    let lines = lines_of(&original);
    let original_rows = (lines.len() - 1) as i64;
    let kept = &lines[..lines.len() - 10];
    let modified = write_lines(tmp.path(), "2025-06-staffordshire-street.csv", kept);
    let old = db.current_import("staffordshire/2025-06/street").await.unwrap().expect("2025-06 is imported");
    let outcome = db.import_police_file(&SourceFile::from_path(&modified), "test", &|_| {}).await.unwrap();
    let new_id = match outcome {
        ImportOutcome::Imported { import_id, counts, replaced, .. } => {
            assert_eq!(replaced, Some(old.id));
            assert_eq!(counts.rows_replaced, original_rows);
            assert_eq!(counts.rows_read, original_rows - 10);
            import_id
        }
        other => panic!("expected a replacing import, got {other:?}"),
    };
    let month_total = |rows: &[CountRow], month: &str| -> i64 {
        rows.iter().filter(|r| r.values[0].as_deref() == Some(month)).map(|r| r.count).sum()
    };
    let after = month_type_counts(&db).await;
    assert_eq!(month_total(&after, "2025-06"), month_total(&counts, "2025-06") - 10);
    assert_eq!(month_total(&after, "2025-05"), month_total(&counts, "2025-05"));
    let mut modified_set: Vec<PathBuf> = files.iter().filter(|p| **p != original).cloned().collect();
    modified_set.push(modified.clone());
    assert_eq!(after, as_count_rows(&raw_month_type_counts(&modified_set)));
    let records: Vec<ImportRecord> = db.imports(10_000).await.unwrap();
    let old_record = records.iter().find(|r| r.id == old.id).expect("the old import is kept");
    assert_eq!(old_record.superseded_by, Some(new_id), "the old import must be marked superseded");
    assert_eq!(records.len(), 22);
    assert_eq!(db.police_months_covered().await.unwrap().len(), 21);

    // And the original file back again replaces the modified one.
    let outcome = db.import_police_file(&SourceFile::from_path(&original), "test", &|_| {}).await.unwrap();
    assert!(matches!(outcome, ImportOutcome::Imported { replaced: Some(id), .. } if id == new_id), "{outcome:?}");
    assert_eq!(month_type_counts(&db).await, counts);
    db.close().await;
}

on_each_backend!(staffordshire);

/// Gwent street and outcomes files for three months (outcomes name crimes of earlier months).
fn gwent_files(data: &Path) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let dir = data.join("police/gwent");
    let months = ["2023-01", "2023-02", "2023-03"];
    let street = months.iter().map(|m| dir.join(format!("{m}-gwent-street.csv"))).collect();
    let outcomes = months.iter().map(|m| dir.join(format!("{m}-gwent-outcomes.csv"))).collect();
    (street, outcomes)
}

/// The latest outcome of every crime as the rules say, computed independently: for each
/// street row, the outcome of the latest month naming its Crime ID in the outcomes files (the
/// last such row of that month), or else its own "Last outcome category".
pub(crate) fn expected_outcomes(street: &[PathBuf], outcomes: &[PathBuf]) -> Vec<CountRow> {
    let mut latest: HashMap<String, (String, String)> = HashMap::new();
    for path in outcomes {
        let (header, rows) = read_csv(path);
        let (id, month, kind) =
            (column(&header, "Crime ID"), column(&header, "Month"), column(&header, "Outcome type"));
        for r in &rows {
            let entry = latest.entry(r[id].to_string()).or_insert_with(|| (r[month].to_string(), r[kind].to_string()));
            if r[month] >= *entry.0 {
                *entry = (r[month].to_string(), r[kind].to_string());
            }
        }
    }
    let mut counts: BTreeMap<Option<String>, i64> = BTreeMap::new();
    for path in street {
        let (header, rows) = read_csv(path);
        let (id, last) = (column(&header, "Crime ID"), column(&header, "Last outcome category"));
        for r in &rows {
            let outcome = match latest.get(&r[id]).filter(|_| !r[id].is_empty()) {
                Some((_, o)) => Some(o.clone()),
                None => Some(r[last].to_string()).filter(|s| !s.is_empty()),
            };
            *counts.entry(outcome).or_insert(0) += 1;
        }
    }
    counts.into_iter().map(|(o, n)| CountRow { values: vec![o], count: n }).collect()
}

async fn gwent_outcomes_in_either_order(first: TestDb, second: TestDb, data: PathBuf) {
    let (street, outcomes) = gwent_files(&data);
    let expected = expected_outcomes(&street, &outcomes);
    let mut results = Vec::new();
    for (t, order) in [(first, [&outcomes, &street]), (second, [&street, &outcomes])] {
        let db = t.connect().await;
        for files in order {
            for outcome in import_all(&db, files).await {
                assert!(matches!(outcome, ImportOutcome::Imported { .. }), "{outcome:?}");
            }
        }
        assert_eq!(month_type_counts(&db).await, as_count_rows(&raw_month_type_counts(&street)));
        let by_outcome = db.counts(&[CountField::Outcome], &CountFilter::default()).await.unwrap();
        assert_eq!(by_outcome, expected, "outcome counts differ from the rules computed on the raw files");
        results.push(by_outcome);
        db.close().await;
        drop(t);
    }
    assert_eq!(results[0], results[1], "the order of street and outcomes imports must not matter");
}

async fn gwent_orders(t: TestDb, data: PathBuf) {
    let second = match t.backend {
        common::Backend::Sqlite => common::sqlite(),
        common::Backend::Postgres => common::postgres().await.expect("PostgreSQL was reachable a moment ago"),
    };
    gwent_outcomes_in_either_order(t, second, data).await;
}

on_each_backend!(gwent_orders);

/// A run that began with no outcomes keeps their latest in memory while no other run has
/// written any (both backends). Here another process imports a later month's outcomes while
/// this run is between its outcomes files and its street files: its refresh cannot reach this
/// run's crimes (not yet committed), so this run must notice the other import and take those
/// outcomes from the database instead of from its map.
async fn outcomes_landing_mid_run(t: TestDb, data: PathBuf) {
    let (street, outcomes) = gwent_files(&data);
    let later = data.join("police/gwent/2023-04-gwent-outcomes.csv");
    let all_outcomes: Vec<PathBuf> = outcomes.iter().chain([&later]).cloned().collect();
    let expected = expected_outcomes(&street, &all_outcomes);
    assert_ne!(expected, expected_outcomes(&street, &outcomes), "the later outcomes must change some crimes");
    let db = t.connect().await;
    let sources: Vec<SourceFile> = outcomes.iter().chain(&street).map(|p| SourceFile::from_path(p)).collect();
    let outcomes_done = std::sync::atomic::AtomicUsize::new(0);
    let other_ran = std::sync::atomic::AtomicBool::new(false);
    let results = db
        .import_police_files(&sources, "test", &|event| {
            let alliance_db::police::RunProgress::Finished { index, .. } = event else { return };
            if index >= outcomes.len()
                || outcomes_done.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1 < outcomes.len()
            {
                return;
            }
            // The run's outcomes files are all in; its street files are next. Another process,
            // with a runtime of its own, imports the later month's outcomes now.
            let (url, later) = (t.url.clone(), later.clone());
            let other = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
                rt.block_on(async {
                    let other = Db::connect(&url).await.expect("the other process's connection");
                    let done = other.import_police_files(&[SourceFile::from_path(&later)], "other", &|_| {}).await;
                    other.close().await;
                    done
                })
            });
            let done = other.join().expect("the other process").expect("the other run");
            assert!(matches!(done[..], [Ok(ImportOutcome::Imported { .. })]), "{done:?}");
            other_ran.store(true, std::sync::atomic::Ordering::SeqCst);
        })
        .await
        .expect("the run");
    assert!(other_ran.into_inner(), "the other run went between the outcomes and the street files");
    for (file, result) in sources.iter().zip(&results) {
        assert!(matches!(result, Ok(ImportOutcome::Imported { .. })), "{}: {result:?}", file.name);
    }
    let by_outcome = db.counts(&[CountField::Outcome], &CountFilter::default()).await.unwrap();
    assert_eq!(by_outcome, expected, "the crimes must take the other run's later outcomes");
}

on_each_backend!(outcomes_landing_mid_run);

/// All of Gwent in one run, as `alliance import police` does it: on SQLite the run is large
/// enough for bulk mode (indexes rebuilt at the end) and, the tables being empty, crimes take
/// their latest outcome as they are inserted. A second database first gets one outcomes file
/// on its own, and a third the first month's street file and the last month's outcomes file
/// (a partnership holding its own force before a larger run): on SQLite the run starts its map
/// of latest outcomes from the stored ones, and its outcomes files must still reach the crimes
/// stored before it. A fourth gets that street file and an earlier version of the last
/// outcomes file, which the run replaces: a crime only the earlier version named must go back
/// to its street outcome (on PostgreSQL the run queues the replaced file's crimes by key). All
/// must give the outcomes the rules give on the raw files, report every file in the order
/// given, and leave every index.
async fn gwent_in_one_run(t: TestDb, data: PathBuf) {
    let files = police_files(&data.join("police/gwent"));
    let (street, outcomes): (Vec<PathBuf>, Vec<PathBuf>) =
        files.iter().cloned().partition(|p| p.to_string_lossy().ends_with("-street.csv"));
    let expected = expected_outcomes(&street, &outcomes);
    let second = match t.backend {
        common::Backend::Sqlite => common::sqlite(),
        common::Backend::Postgres => common::postgres().await.expect("PostgreSQL was reachable a moment ago"),
    };
    let third = match t.backend {
        common::Backend::Sqlite => common::sqlite(),
        common::Backend::Postgres => common::postgres().await.expect("PostgreSQL was reachable a moment ago"),
    };
    let fourth = match t.backend {
        common::Backend::Sqlite => common::sqlite(),
        common::Backend::Postgres => common::postgres().await.expect("PostgreSQL was reachable a moment ago"),
    };
    let earlier_version = tempfile::tempdir().unwrap();
    for (t, head) in [(t, 0), (second, 1), (third, 2), (fourth, 3)] {
        let db = t.connect().await;
        // Run 1 first imports one outcomes file on its own; run 2 the first street file and
        // the last outcomes file.
        let mut rest = files.clone();
        let is = |p: &PathBuf, kind: &str| p.to_string_lossy().ends_with(kind);
        let first = match head {
            0 => Vec::new(),
            1 => {
                let at = rest.iter().position(|p| is(p, "-outcomes.csv")).expect("outcomes");
                vec![rest.remove(at)]
            }
            2 => {
                let street = rest.remove(rest.iter().position(|p| is(p, "-street.csv")).expect("street"));
                let outcomes = rest.remove(rest.iter().rposition(|p| is(p, "-outcomes.csv")).expect("outcomes"));
                assert!(street < outcomes, "the street file is of an earlier month");
                vec![street, outcomes]
            }
            _ => {
                let street = rest.remove(rest.iter().position(|p| is(p, "-street.csv")).expect("street"));
                let last = rest.iter().rposition(|p| is(p, "-outcomes.csv")).expect("outcomes");
                let earlier = earlier_version.path().join(rest[last].file_name().expect("a file name"));
                write_earlier_version(&rest[last], &street, &outcomes, &earlier);
                vec![street, earlier]
            }
        };
        import_all(&db, &first).await;
        let sources: Vec<SourceFile> = rest.iter().map(|p| SourceFile::from_path(p)).collect();
        let finished = std::sync::Mutex::new(Vec::new());
        let results = db
            .import_police_files(&sources, "test", &|event| {
                if let alliance_db::police::RunProgress::Finished { index, .. } = event {
                    finished.lock().unwrap().push(index);
                }
            })
            .await
            .expect("the run");
        assert_eq!(results.len(), rest.len());
        for (path, result) in rest.iter().zip(&results) {
            match result {
                Ok(ImportOutcome::Imported { counts, .. }) => {
                    assert_eq!(counts.rows_read, read_csv(path).1.len() as i64, "{}", path.display())
                }
                other => panic!("{}: {other:?}", path.display()),
            }
        }
        let mut finished = finished.into_inner().unwrap();
        finished.sort_unstable();
        assert_eq!(finished, (0..rest.len()).collect::<Vec<_>>(), "every file is reported once");
        assert_eq!(month_type_counts(&db).await, as_count_rows(&raw_month_type_counts(&street)));
        let by_outcome = db.counts(&[CountField::Outcome], &CountFilter::default()).await.unwrap();
        assert_eq!(by_outcome, expected, "outcome counts differ from the rules (run {head})");
        if t.backend == common::Backend::Sqlite {
            let conn = rusqlite::Connection::open(t.url.trim_start_matches("sqlite://")).unwrap();
            let indexes: Vec<String> = conn
                .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name LIKE 'police_%' AND name NOT LIKE 'sqlite_%' ORDER BY name")
                .unwrap()
                .query_map([], |r| r.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            assert_eq!(
                indexes,
                [
                    "police_crimes_area",
                    "police_crimes_crime_key",
                    "police_crimes_import",
                    "police_crimes_month",
                    "police_month_counts_cover",
                    "police_month_counts_import",
                    "police_outcomes_crime_key",
                    "police_outcomes_import"
                ]
            );
            let (deferred, queued, _, _) = bulk_state(t.url.trim_start_matches("sqlite://"));
            assert_eq!(deferred + queued, 0, "a finished run owes nothing");
        } else {
            // A large run on PostgreSQL rebuilds the indexes it dropped (`pg_deferred.rs`).
            let mut conn = pg_conn(&t.url).await;
            let indexes: Vec<String> = sqlx::query_scalar(
                "SELECT indexname::text FROM pg_indexes WHERE schemaname = current_schema() \
                 AND tablename IN ('police_crimes', 'police_outcomes') ORDER BY indexname",
            )
            .fetch_all(&mut conn)
            .await
            .unwrap();
            assert_eq!(
                indexes,
                [
                    "police_crimes_crime_key",
                    "police_crimes_import",
                    "police_crimes_month",
                    "police_crimes_pkey",
                    "police_crimes_sna",
                    "police_outcomes_crime_key",
                    "police_outcomes_import",
                    "police_outcomes_pkey"
                ]
            );
            // Rebuilt as migration 0038 defines it: by area first (LSOA, then month).
            let sna: String =
                sqlx::query_scalar("SELECT indexdef FROM pg_indexes WHERE indexname = 'police_crimes_sna'")
                    .fetch_one(&mut conn)
                    .await
                    .unwrap();
            assert!(sna.ends_with("(lsoa_code, month, crime_type, outcome)"), "{sna}");
            let owed: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM police_deferred_indexes").fetch_one(&mut conn).await.unwrap();
            assert_eq!(owed, 0, "a finished run owes nothing");
        }
        db.close().await;
    }
}

on_each_backend!(gwent_in_one_run);

/// Writes to `to` an earlier version of the outcomes file `of`: its rows, and one more naming a
/// crime of `street` that no outcomes file names, with an outcome no file has. A run replacing
/// it with `of` must leave that crime with its street outcome.
fn write_earlier_version(of: &Path, street: &Path, all_outcomes: &[PathBuf], to: &Path) {
    let named: std::collections::HashSet<String> = all_outcomes
        .iter()
        .flat_map(|p| {
            let (header, rows) = read_csv(p);
            let id = column(&header, "Crime ID");
            rows.into_iter().map(move |r| r[id].to_string())
        })
        .collect();
    let (street_header, street_rows) = read_csv(street);
    let id = column(&street_header, "Crime ID");
    let crime = street_rows
        .iter()
        .map(|r| r[id].to_string())
        .find(|c| !c.is_empty() && !named.contains(c))
        .expect("a crime of the street file with no outcome in any outcomes file");
    let (header, rows) = read_csv(of);
    let (id, kind) = (column(&header, "Crime ID"), column(&header, "Outcome type"));
    let mut out = csv::Writer::from_path(to).unwrap();
    out.write_record(&header).unwrap();
    for r in &rows {
        out.write_record(r).unwrap();
    }
    let mut extra: Vec<String> = rows[0].iter().map(str::to_string).collect();
    extra[id] = crime;
    extra[kind] = "An outcome only the replaced version had".to_string();
    out.write_record(&extra).unwrap();
    out.flush().unwrap();
}

async fn pg_conn(url: &str) -> sqlx::PgConnection {
    <sqlx::PgConnection as sqlx::Connection>::connect(url).await.unwrap()
}

/// PostgreSQL: a bulk run killed after dropping its deferred indexes leaves them recorded; the
/// next connection rebuilds them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_bulk_run_is_finished_on_the_next_connection_postgres() {
    let Some(data) = common::shared_data() else { return };
    let Some(t) = common::postgres().await else { return };
    let dir = data.join("police/gwent");
    let db = t.connect().await;
    import_all(&db, &[dir.join("2023-01-gwent-street.csv"), dir.join("2023-02-gwent-outcomes.csv")]).await;
    let before = db.counts(&[CountField::Outcome], &CountFilter::default()).await.unwrap();
    db.close().await;
    let mut conn = pg_conn(&t.url).await;
    let sql: String = sqlx::query_scalar("SELECT indexdef FROM pg_indexes WHERE indexname = 'police_crimes_sna'")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    sqlx::query("INSERT INTO police_deferred_indexes (name, sql) VALUES ('police_crimes_sna', $1)")
        .bind(&sql)
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query("DROP INDEX police_crimes_sna").execute(&mut conn).await.unwrap();

    let db = t.connect().await;
    assert_eq!(db.counts(&[CountField::Outcome], &CountFilter::default()).await.unwrap(), before);
    db.close().await;
    let (index, owed): (bool, i64) = sqlx::query_as(
        "SELECT to_regclass('police_crimes_sna') IS NOT NULL, (SELECT COUNT(*) FROM police_deferred_indexes)",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!((index, owed), (true, 0), "the index is back and nothing is owed");
}

/// PostgreSQL checks the police rows' import once per statement (migration 0036) instead of by
/// a foreign key per row: a row naming no import is refused, and so is deleting an import that
/// police rows still name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn police_rows_need_their_import_postgres() {
    let Some(data) = common::shared_data() else { return };
    let Some(t) = common::postgres().await else { return };
    let db = t.connect().await;
    import_all(&db, &[data.join("police/gwent/2023-02-gwent-outcomes.csv")]).await;
    db.close().await;
    let mut conn = pg_conn(&t.url).await;
    let missing = sqlx::query(
        "INSERT INTO police_outcomes (import_id, crime_id, crime_key, month, outcome_type) \
         VALUES ((SELECT MAX(id) + 1 FROM imports), 'x', 1, '2023-02', 'Under investigation')",
    )
    .execute(&mut conn)
    .await
    .expect_err("a row naming no import");
    assert!(missing.to_string().contains("names an import that does not exist"), "{missing}");
    let held = sqlx::query("DELETE FROM imports WHERE kind = 'outcomes'")
        .execute(&mut conn)
        .await
        .expect_err("an import with rows");
    assert!(held.to_string().contains("still has police rows"), "{held}");
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM police_outcomes").fetch_one(&mut conn).await.unwrap();
    assert!(stored > 0, "the import's rows are all still there");
}

/// A run in which one file fails after thousands of its rows were written: that file leaves
/// nothing (no rows, no import record), the other files of the run stand, the run (large
/// enough for SQLite's bulk mode) still leaves every index, and the repaired file imports
/// afterwards.
async fn a_file_failing_part_way(t: TestDb, data: PathBuf) {
    let dir = data.join("police/staffordshire");
    let original = dir.join("2025-02-staffordshire-street.csv");
    let good: Vec<PathBuf> = police_files(&dir).into_iter().filter(|p| *p != original).collect();
    let mut lines = lines_of(&original);
    assert!(lines.len() > 5000, "the file should span several batches");
    let damaged = lines[4999].replacen(",2025-02,", ",2025-00,", 1);
    assert_ne!(damaged, lines[4999], "line 5000 should hold a 2025-02 Month");
    lines[4999] = damaged;
    let tmp = tempfile::tempdir().unwrap();
    let bad = write_lines(tmp.path(), "2025-02-staffordshire-street.csv", &lines);

    let db = t.connect().await;
    let run: Vec<SourceFile> = std::iter::once(&bad).chain(&good).map(|p| SourceFile::from_path(p)).collect();
    let results = db.import_police_files(&run, "test", &|_| {}).await.expect("the run");
    let error = results[0].as_ref().expect_err("the damaged file must fail").to_string();
    assert!(error.contains("2025-02-staffordshire-street.csv:5000: column \"Month\""), "{error}");
    for result in &results[1..] {
        assert!(matches!(result, Ok(ImportOutcome::Imported { .. })), "{result:?}");
    }
    assert_eq!(month_type_counts(&db).await, as_count_rows(&raw_month_type_counts(&good)));
    assert_eq!(history(&db).await.len(), good.len(), "the failed file records no import");
    if t.backend == common::Backend::Sqlite {
        let (_, _, indexes, _) = bulk_state(t.url.trim_start_matches("sqlite://"));
        assert_eq!(indexes, BULK_INDEXES, "the bulk indexes are rebuilt after a run with a failure");
    }

    import_all(&db, std::slice::from_ref(&original)).await;
    assert_eq!(month_type_counts(&db).await, as_count_rows(&raw_month_type_counts(&police_files(&dir))));
    db.close().await;
}

on_each_backend!(a_file_failing_part_way);

/// A bulk run killed half-way leaves an index dropped and refreshes queued: the next
/// connection finishes them. Simulated by hand on a database with real crimes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_bulk_run_is_finished_on_the_next_connection() {
    let Some(data) = common::shared_data() else { return };
    let t = common::sqlite();
    let dir = data.join("police/gwent");
    let files = [dir.join("2023-01-gwent-street.csv"), dir.join("2023-02-gwent-outcomes.csv")];
    let db = t.connect().await;
    import_all(&db, &files).await;
    let before = db.counts(&[CountField::Outcome], &CountFilter::default()).await.unwrap();
    db.close().await;

    let path = t.url.trim_start_matches("sqlite://").to_string();
    let crimes_with_outcomes: i64 = {
        let conn = rusqlite::Connection::open(&path).unwrap();
        let from_outcomes: i64 = conn
            .query_row("SELECT COUNT(*) FROM police_crimes WHERE outcome_month IS NOT NULL", [], |r| r.get(0))
            .unwrap();
        let sql: String = conn
            .query_row("SELECT sql FROM sqlite_master WHERE name = 'police_crimes_crime_key'", [], |r| r.get(0))
            .unwrap();
        conn.execute("INSERT INTO police_deferred_indexes (name, sql) VALUES ('police_crimes_crime_key', ?1)", [&sql])
            .unwrap();
        conn.execute_batch("DROP INDEX police_crimes_crime_key").unwrap();
        // The outcomes import's refresh "had not run": its crimes show their street outcome.
        let import: i64 = conn.query_row("SELECT id FROM imports WHERE kind = 'outcomes'", [], |r| r.get(0)).unwrap();
        conn.execute("INSERT INTO police_refresh_pending (import_id) VALUES (?1)", [import]).unwrap();
        conn.execute("UPDATE police_crimes SET outcome = street_outcome, outcome_month = NULL", []).unwrap();
        from_outcomes
    };
    assert!(crimes_with_outcomes > 0, "some 2023-01 crimes have a 2023-02 outcome");

    let db = t.connect().await;
    assert_eq!(db.counts(&[CountField::Outcome], &CountFilter::default()).await.unwrap(), before);
    db.close().await;
    let conn = rusqlite::Connection::open(&path).unwrap();
    let (index, owed): (i64, i64) = conn
        .query_row(
            "SELECT (SELECT COUNT(*) FROM sqlite_master WHERE name = 'police_crimes_crime_key'), \
             (SELECT COUNT(*) FROM police_deferred_indexes) + (SELECT COUNT(*) FROM police_refresh_pending)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((index, owed), (1, 0), "the index is back and nothing is owed");
}

/// One real Crime ID: a crime of 2023-01 whose outcome is recorded in the 2023-02 outcomes
/// file takes that file's outcome, and nothing else moves.
async fn gwent_one_crime(t: TestDb, data: PathBuf) {
    let dir = data.join("police/gwent");
    let street = dir.join("2023-01-gwent-street.csv");
    let outcomes = dir.join("2023-02-gwent-outcomes.csv");
    let (sh, srows) = read_csv(&street);
    let (s_id, s_type, s_last) =
        (column(&sh, "Crime ID"), column(&sh, "Crime type"), column(&sh, "Last outcome category"));
    let (oh, orows) = read_csv(&outcomes);
    let (o_id, o_kind) = (column(&oh, "Crime ID"), column(&oh, "Outcome type"));
    // The first outcome row naming a 2023-01 crime (appearing once in the outcomes file)
    // with an outcome different from the street file's.
    let (crime, outcome_row) = orows
        .iter()
        .filter(|o| orows.iter().filter(|x| x[o_id] == o[o_id]).count() == 1)
        .find_map(|o| {
            let s = srows.iter().find(|s| !s[s_id].is_empty() && s[s_id] == o[o_id])?;
            (s[s_last] != o[o_kind]).then(|| (s.clone(), o.clone()))
        })
        .expect("some 2023-01 crime gets a new outcome in 2023-02");
    let k = srows.iter().filter(|s| s[s_id] == crime[s_id]).count() as i64;

    let db = t.connect().await;
    import_all(&db, std::slice::from_ref(&street)).await;
    let fields = [CountField::Month, CountField::CrimeType, CountField::Outcome];
    let before = db.counts(&fields, &CountFilter::default()).await.unwrap();

    // An outcomes file holding only that row, under the real file's name.
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("2023-02-gwent-outcomes.csv");
    let mut w = csv::Writer::from_path(&path).unwrap();
    w.write_record(&oh).unwrap();
    w.write_record(&outcome_row).unwrap();
    w.flush().unwrap();
    drop(w);
    import_all(&db, &[path]).await;
    let after = db.counts(&fields, &CountFilter::default()).await.unwrap();

    let key = |o: &str| vec![Some("2023-01".to_string()), Some(crime[s_type].to_string()), Some(o.to_string())];
    let mut expected: BTreeMap<Vec<Option<String>>, i64> = before.iter().map(|r| (r.values.clone(), r.count)).collect();
    *expected.get_mut(&key(&crime[s_last])).expect("the crime's group exists before") -= k;
    *expected.entry(key(&outcome_row[o_kind])).or_insert(0) += k;
    expected.retain(|_, n| *n != 0);
    let expected: Vec<CountRow> = expected.into_iter().map(|(values, count)| CountRow { values, count }).collect();
    assert_eq!(
        after, expected,
        "Crime ID {} should move from {:?} to {:?}",
        &crime[s_id], &crime[s_last], &outcome_row[o_kind]
    );
    db.close().await;
}

on_each_backend!(gwent_one_crime);

/// A street file of `rows` (Crime ID, month) for Wiltshire.
fn wiltshire_street(rows: &[(&str, &str)]) -> String {
    let mut text = String::from("Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,Last outcome category,Context\n");
    for (id, month) in rows {
        text.push_str(&format!(
            "{id},{month},Wiltshire Police,Wiltshire Police,-1.78,51.56,On or near High Street,E01015480,Swindon 001A,Robbery,Under investigation,\n"
        ));
    }
    text
}

/// Makes the audit log refuse the rows recording failed attempts (detail `FAILED: …`), as a
/// full disk would refuse them, while imports (whose rows say `imported as import N`) go on.
async fn refuse_failed_attempt_rows(t: &TestDb) {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&t.url).await.expect("connect to the test database");
    let statements: &[&str] = match t.backend {
        common::Backend::Sqlite => &["CREATE TRIGGER refuse_failed BEFORE INSERT ON audit_log \
             WHEN NEW.detail LIKE 'FAILED%' BEGIN SELECT RAISE(ABORT, 'audit write refused by the test'); END"],
        common::Backend::Postgres => &[
            "CREATE FUNCTION refuse_failed() RETURNS trigger AS $$ BEGIN \
             IF NEW.detail LIKE 'FAILED%' THEN RAISE EXCEPTION 'audit write refused by the test'; END IF; \
             RETURN NEW; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER refuse_failed BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION refuse_failed()",
        ],
    };
    for sql in statements {
        sqlx::query(sql).execute(&mut conn).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    let _ = conn.close().await;
}

/// `alliance import police` where two files fail and the audit rows of their failed attempts
/// cannot be written: each is reported with its own reason and the audit failure, the other
/// files are imported (each with its audit row), the summary is printed and the exit status
/// is non-zero; the failed files stored nothing.
async fn a_failed_files_audit_write_failing_does_not_stop_the_run(t: TestDb) {
    let tmp = tempfile::tempdir().unwrap();
    let bad_month = |id: &str| wiltshire_street(&[(id, "2025-13")]);
    let files = [
        ("2025-01-wiltshire-street.csv", wiltshire_street(&[("a1", "2025-01")])),
        ("2025-02-wiltshire-street.csv", bad_month("b1")),
        ("2025-03-wiltshire-street.csv", wiltshire_street(&[("c1", "2025-03")])),
        ("2025-04-wiltshire-street.csv", bad_month("d1")),
    ];
    for (name, text) in &files {
        std::fs::write(tmp.path().join(name), text).unwrap();
    }
    t.connect().await.close().await; // migrated
    refuse_failed_attempt_rows(&t).await;

    let out = common::alliance(&t.url, &["import", "police", tmp.path().to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    for bad in ["2025-02-wiltshire-street.csv", "2025-04-wiltshire-street.csv"] {
        assert!(stdout.contains(&format!("FAILED    {bad}:2: column \"Month\"")), "{bad}'s own reason: {stdout}");
        assert!(
            stdout.contains(&format!("FAILED    {bad}: its attempt could not be recorded in the audit log")),
            "{bad}'s audit failure: {stdout}"
        );
    }
    assert!(stdout.contains("imported  2025-01-wiltshire-street.csv: 1 rows"), "{stdout}");
    assert!(stdout.contains("imported  2025-03-wiltshire-street.csv: 1 rows"), "{stdout}");
    assert!(stdout.contains("2 imported (2 rows"), "the summary: {stdout}");
    assert!(
        stdout.contains("2 failed: 2025-02-wiltshire-street.csv, 2025-04-wiltshire-street.csv"),
        "each failed file once: {stdout}"
    );

    let db = t.connect().await;
    let months: Vec<Option<String>> = month_type_counts(&db).await.into_iter().map(|r| r.values[0].clone()).collect();
    assert_eq!(months, [Some("2025-01".to_string()), Some("2025-03".to_string())], "nothing of the failed files");
    assert_eq!(history(&db).await.len(), 2);
    let rows = common::audit_rows(&db, "import police").await;
    assert_eq!(rows.len(), 2, "one row per import: {rows:?}");
    assert!(rows.iter().all(|r| r.detail.starts_with("imported as import")), "{rows:?}");
    assert!(db.verify_audit_chain().await.unwrap().first_broken.is_none());
    db.close().await;
}

on_each_db!(a_failed_files_audit_write_failing => a_failed_files_audit_write_failing_does_not_stop_the_run);

/// What a SQLite database's police tables owe and hold: (deferred indexes, queued refreshes,
/// Crime ID indexes present, police imports committed), read by a connection of the test's
/// own (not `Db::connect`, whose behaviour is under test).
/// The indexes a SQLite bulk run drops and rebuilds (`sqlite_bulk/bulk.rs`).
const BULK_INDEXES: i64 = 3;

/// A SQLite database's bulk state: indexes owed, refreshes queued, the bulk indexes present,
/// police imports committed.
fn bulk_state(path: &str) -> (i64, i64, i64, i64) {
    let conn = rusqlite::Connection::open(path).expect("open the database");
    conn.busy_timeout(std::time::Duration::from_secs(30)).unwrap();
    conn.query_row(
        "SELECT (SELECT COUNT(*) FROM police_deferred_indexes), (SELECT COUNT(*) FROM police_refresh_pending), \
         (SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' \
           AND name IN ('police_crimes_crime_key', 'police_outcomes_crime_key', 'police_crimes_area')), \
         (SELECT COUNT(*) FROM imports WHERE source = 'police')",
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )
    .expect("read the bulk state")
}

/// A second process's `Db::connect` while `alliance import police` is in bulk mode (its Crime
/// ID indexes dropped, refreshes queued) leaves that work to the import: the import is
/// stopped (SIGSTOP) after its first file is committed, so the connection happens at a known
/// point of the run; the indexes are still dropped after it. Resumed (SIGCONT), the import
/// finishes with its indexes rebuilt, nothing owed, and the same outcomes as the files
/// imported one at a time (no bulk mode) into another database.
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_connection_leaves_a_running_bulk_import_its_deferred_work() {
    let Some(data) = common::shared_data() else { return };
    let mut paths = police_files(&data.join("police/gwent"));
    paths.retain(|p| {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        name.starts_with("2022-") || (name.starts_with("2023-0") && &name[5..7] < "07")
    });
    assert_eq!(paths.len(), 24, "twelve months of Gwent street and outcomes files");
    let t = common::sqlite();
    let path = t.url.trim_start_matches("sqlite://").to_string();
    t.connect().await.close().await;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_alliance"))
        .arg("--db")
        .arg(&t.url)
        .args(["import", "police"])
        .args(&paths)
        .env_remove("ALLIANCE_DB")
        .env("ALLIANCE_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start the import");
    let pid = child.id().to_string();
    let signal = |name: &str| {
        let ok = std::process::Command::new("kill").args([name, &pid]).status().expect("kill");
        assert!(ok.success(), "kill {name}");
    };
    // A bounded poll for the run's state (no sleep for timing: it ends when the state is seen).
    let started = std::time::Instant::now();
    loop {
        let (deferred, _, _, committed) = bulk_state(&path);
        if deferred == BULK_INDEXES && committed >= 1 {
            break;
        }
        assert!(child.try_wait().unwrap().is_none(), "the import ended before the state was seen");
        assert!(started.elapsed() < std::time::Duration::from_secs(600), "no bulk run seen");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    signal("-STOP");
    let (deferred, _, indexes, committed) = bulk_state(&path);
    assert!(
        deferred == BULK_INDEXES && indexes == 0 && committed < 24,
        "stopped mid-run in bulk mode: {committed} files"
    );

    let other = t.connect().await;
    let (deferred, _, indexes, _) = bulk_state(&path);
    assert_eq!((deferred, indexes), (BULK_INDEXES, 0), "the second connection left the running import's indexes to it");
    other.close().await;

    signal("-CONT");
    let out = child.wait_with_output().expect("the import ends");
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(bulk_state(&path), (0, 0, BULK_INDEXES, 24), "indexes rebuilt by the import, nothing owed");

    let fields = [CountField::Month, CountField::CrimeType, CountField::Outcome];
    let db = t.connect().await;
    let bulk = db.counts(&fields, &CountFilter::default()).await.unwrap();
    db.close().await;
    let reference = common::sqlite();
    let one_by_one = reference.connect().await;
    import_all(&one_by_one, &paths).await;
    assert_eq!(bulk, one_by_one.counts(&fields, &CountFilter::default()).await.unwrap(), "the same outcomes");
    one_by_one.close().await;
}
