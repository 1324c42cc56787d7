//! Issue 18: reads of the police records in a box (an evaluation's areas, the SNA of a place)
//! go LSOA by LSOA through the boxes of each LSOA's records (`police_lsoa_extents`), and must
//! return exactly what a scan of every record returns: after imports, after a street file is
//! replaced by an export whose records moved, for records with no LSOA code, for a box met by
//! so many LSOAs that the read falls back to the box alone, and on a database whose boxes were
//! made by the migration from records already stored.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use alliance_core::domain::{Month, MonthRange};
use alliance_db::Db;
use sqlx::Connection;

use crate::common::{self, TestDb};

const HEADER: &str = "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,Last outcome category,Context\n";

/// LSOAs of the synthetic force: more than a read by box takes one by one.
const GRID_LSOAS: usize = 3_100;

/// A month of an invented force: one robbery in each of [`GRID_LSOAS`] LSOAs laid out on a
/// grid east of Cambridge, three located records with no LSOA code and two with no location;
/// `moved` puts the first LSOA's record 0.1° further east.
fn grid_file(dir: &Path, moved: bool) -> PathBuf {
    let mut text = String::from(HEADER);
    for i in 0..GRID_LSOAS {
        let (mut lon, lat) = (0.5 + (i % 62) as f64 * 0.001, 52.0 + (i / 62) as f64 * 0.001);
        if moved && i == 0 {
            lon += 0.1;
        }
        let code = format!("E01{:06}", 900_000 + i);
        text.push_str(&format!(
            ",2025-04,Testshire Police,Testshire Police,{lon:.6},{lat:.6},On or near Grid Road,{code},Grid {i:04}A,Robbery,,\n"
        ));
    }
    for (lon, lat) in [(0.7, 52.2), (0.7005, 52.2005), (0.55, 52.01)] {
        text.push_str(&format!(
            ",2025-04,Testshire Police,Testshire Police,{lon:.6},{lat:.6},On or near Lost Lane,,,Burglary,,\n"
        ));
    }
    text.push_str(",2025-04,Testshire Police,Testshire Police,,,No location,,,Robbery,,\n".repeat(2).as_str());
    let path = dir.join(if moved { "moved" } else { "first" }).join("2025-04-testshire-street.csv");
    std::fs::create_dir_all(path.parent().expect("a folder")).expect("a folder");
    std::fs::write(&path, text).expect("write the file");
    path
}

/// The ids of the records in the box and months, by a scan of every record.
async fn scan(url: &str, bbox: [f64; 4], from: &str, to: &str) -> BTreeSet<i64> {
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(url).await.expect("connect beside the library");
    let rows: Vec<(i64,)> = sqlx::query_as(
        "SELECT id FROM police_crimes WHERE longitude >= $1 AND longitude <= $2 AND latitude >= $3 \
         AND latitude <= $4 AND month >= $5 AND month <= $6",
    )
    .bind(bbox[0])
    .bind(bbox[2])
    .bind(bbox[1])
    .bind(bbox[3])
    .bind(from)
    .bind(to)
    .fetch_all(&mut conn)
    .await
    .expect("scan");
    conn.close().await.expect("close");
    rows.into_iter().map(|(id,)| id).collect()
}

fn months(from: &str, to: &str) -> MonthRange {
    MonthRange { from: from.parse::<Month>().expect("month"), to: to.parse::<Month>().expect("month") }
}

/// Boxes that test the reads: small ones round demo records, the grid's corner, all of the
/// grid (the fallback), the records with no LSOA code, the moved record, and nowhere.
async fn boxes(db: &Db) -> Vec<[f64; 4]> {
    let demo = db.located_crimes([-3.0, 52.0, -1.0, 54.0], months("2025-01", "2025-12"), &[]).await.expect("demo");
    assert!(demo.len() > 1_000, "the demo's records are read: {}", demo.len());
    let mut out: Vec<[f64; 4]> = demo
        .iter()
        .step_by(demo.len() / 12)
        .map(|(_, c)| [c.longitude - 0.004, c.latitude - 0.003, c.longitude + 0.004, c.latitude + 0.003])
        .collect();
    out.extend([
        [0.4995, 51.9995, 0.5035, 52.0035],
        [0.49, 51.99, 0.57, 52.06],
        [0.699, 52.199, 0.701, 52.201],
        [0.549, 52.009, 0.551, 52.011],
        [0.599, 51.999, 0.601, 52.001],
        [10.0, 10.0, 10.1, 10.1],
    ]);
    out
}

/// Every box's records, read by the library, equal the scan's, for two month ranges; and the
/// SNA's read of a place agrees.
async fn reads_equal_scans(t: &TestDb, db: &Db, when: &str) {
    for bbox in boxes(db).await {
        for (from, to) in [("2025-01", "2025-12"), ("2025-02", "2025-04")] {
            let read: BTreeSet<i64> = db
                .located_crimes(bbox, months(from, to), &[])
                .await
                .expect("read by box")
                .into_iter()
                .map(|(id, _)| id)
                .collect();
            let scanned = scan(&t.url, bbox, from, to).await;
            assert_eq!(read, scanned, "{when}: box {bbox:?}, {from}..{to}");
            let place = db
                .sna_police_records_in_box(bbox, Some(months(from, to).from), Some(months(from, to).to), &[])
                .await
                .expect("read for a place");
            assert_eq!(place.len(), scanned.len(), "{when}: the SNA's read of box {bbox:?}, {from}..{to}");
        }
    }
    // A crime type narrows the read as it narrows the scan.
    let all = [0.49, 51.99, 0.71, 52.21];
    let robberies = db.located_crimes(all, months("2025-04", "2025-04"), &["Robbery".into()]).await.expect("read");
    assert_eq!(robberies.len(), GRID_LSOAS, "{when}: the grid's robberies");
    let burglaries = db.located_crimes(all, months("2025-04", "2025-04"), &["Burglary".into()]).await.expect("read");
    assert_eq!(burglaries.len(), 3, "{when}: the records with no LSOA code");
}

async fn box_reads_find_every_record(t: TestDb) {
    let dir = tempfile::tempdir().expect("a folder");
    let demo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data/demo/police");
    let files: Vec<PathBuf> = ["2025-01", "2025-02", "2025-03"]
        .iter()
        .map(|m| demo.join(format!("{m}-staffordshire-street.csv.gz")))
        .collect();
    let db = t.connect().await;
    common::import_all(&db, &files).await;
    common::import_all(&db, &[grid_file(dir.path(), false)]).await;
    reads_equal_scans(&t, &db, "imported").await;

    // Another export of the grid's month, one record moved: the old rows go, the box grows.
    let replaced = common::import_all(&db, &[grid_file(dir.path(), true)]).await;
    assert!(matches!(replaced[0], alliance_db::imports::ImportOutcome::Imported { replaced: Some(_), .. }));
    reads_equal_scans(&t, &db, "replaced").await;
    let moved =
        db.located_crimes([0.599, 51.999, 0.601, 52.001], months("2025-04", "2025-04"), &[]).await.expect("read");
    assert_eq!(moved.len(), 1, "the moved record is found where it is now");
    let (_, crime) = &moved[0];
    assert_eq!(
        (crime.month, crime.lsoa_code.as_deref(), crime.crime_type.as_str()),
        (months("2025-04", "2025-04").from, Some("E01900000"), "Robbery")
    );
    assert!((crime.longitude - 0.6).abs() < 1e-9 && (crime.latitude - 52.0).abs() < 1e-9, "{crime:?}");
    db.close().await;

    // A database migrated with records already stored: the migration makes the boxes.
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&t.url).await.expect("connect");
    for sql in ["DROP TABLE police_lsoa_extents", "DELETE FROM alliance_migrations WHERE version = 42"] {
        sqlx::query(sql).execute(&mut conn).await.expect(sql);
    }
    conn.close().await.expect("close");
    let db = t.connect().await;
    reads_equal_scans(&t, &db, "migrated").await;
    db.close().await;
}

on_each_db!(box_reads_find_every_record);
