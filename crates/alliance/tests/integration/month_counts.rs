//! Issue 18: the summary `police_month_counts` that the pages count from stays exact through
//! every write that changes what it summarises: police files imported before any area is
//! known, an areas import that places their LSOAs in districts, and a street file replaced by
//! another export of its month. Each time, counts by month, crime type and district (read from
//! the summary) must equal the records counted by LSOA (read from the records themselves) and
//! summed into districts here.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use alliance_core::domain::{CountField, CountFilter};
use alliance_db::imports::ImportOutcome;
use alliance_db::Db;
use alliance_ingest::SourceFile;

use crate::common::app::TestApp;

fn demo_dir(kind: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data/demo").join(kind)
}

fn files(kind: &str) -> Vec<SourceFile> {
    let mut paths: Vec<PathBuf> =
        std::fs::read_dir(demo_dir(kind)).expect("demo data").map(|e| e.expect("entry").path()).collect();
    paths.sort();
    paths.iter().map(|p| SourceFile::from_path(p)).collect()
}

type Key = (Option<String>, Option<String>, Option<String>);

/// Month, crime type, district → count, from the summary.
async fn from_summary(db: &Db, filter: &CountFilter) -> BTreeMap<Key, i64> {
    let fields = [CountField::Month, CountField::CrimeType, CountField::District];
    let rows = db.counts(&fields, filter).await.expect("counts");
    rows.into_iter().map(|r| ((r.values[0].clone(), r.values[1].clone(), r.values[2].clone()), r.count)).collect()
}

/// The same from the records, by LSOA, summed into districts with the stored LSOAs.
async fn from_records(db: &Db, filter: &CountFilter) -> BTreeMap<Key, i64> {
    let mut district: HashMap<String, Option<String>> = HashMap::new();
    for census in [2011, 2021] {
        for l in db.lsoas(census).await.expect("lsoas") {
            district.insert(l.code, l.district_code);
        }
    }
    let fields = [CountField::Month, CountField::CrimeType, CountField::Lsoa];
    let unfiltered = CountFilter { districts: Vec::new(), ..filter.clone() };
    let wanted: Vec<String> = filter.districts.iter().map(|d| d.to_string()).collect();
    let mut out = BTreeMap::new();
    let mut kept_lsoa_rows = Vec::new();
    for r in db.counts(&fields, &unfiltered).await.expect("counts by LSOA") {
        let d = r.values[2].as_ref().and_then(|code| district.get(code).cloned().flatten());
        if !wanted.is_empty() && !d.as_ref().is_some_and(|d| wanted.contains(d)) {
            continue;
        }
        *out.entry((r.values[0].clone(), r.values[1].clone(), d)).or_insert(0) += r.count;
        kept_lsoa_rows.push(r);
    }
    // The records' own count by LSOA, with the district filter applied in the query (the
    // area index), keeps exactly those rows.
    assert_eq!(db.counts(&fields, filter).await.expect("counts by LSOA, filtered"), kept_lsoa_rows, "{filter:?}");
    out
}

/// `placed`: whether the LSOAs are in districts yet (before, a district's filter finds nothing;
/// `None`: not asserted).
async fn assert_exact(db: &Db, when: &str, placed: impl Into<Option<bool>>) {
    let placed = placed.into();
    let filters = [
        CountFilter::default(),
        CountFilter { from: "2025-03".parse().ok(), to: "2025-06".parse().ok(), ..CountFilter::default() },
        CountFilter { crime_type: Some("Violence and sexual offences".into()), ..CountFilter::default() },
        CountFilter { districts: vec!["E06000021".parse().expect("a code")], ..CountFilter::default() },
        CountFilter {
            districts: vec!["E06000021".parse().expect("a code"), "E07000198".parse().expect("a code")],
            from: "2025-03".parse().ok(),
            ..CountFilter::default()
        },
    ];
    for filter in &filters {
        let (summary, records) = (from_summary(db, filter).await, from_records(db, filter).await);
        if let Some(placed) = placed {
            assert_eq!(records.is_empty(), !filter.districts.is_empty() && !placed, "{when}: {filter:?}");
        }
        assert_eq!(summary, records, "{when}: {filter:?}");
    }
}

async fn the_summary_stays_exact_through_every_import(app: TestApp) {
    let db = &app.db;
    // Police first: no LSOA is known yet, so every count has no district.
    for result in db.import_police_files(&files("police"), "test", &|_| {}).await.expect("police") {
        assert!(matches!(result.expect("file"), ImportOutcome::Imported { .. }));
    }
    let before = from_summary(db, &CountFilter::default()).await;
    assert!(before.keys().all(|(_, _, d)| d.is_none()));
    assert_exact(db, "police before areas", false).await;

    // The areas place the LSOAs in districts, a few hundred at a time (the deprivation file,
    // then the 2021 codes the boundaries derive): the records of the LSOAs placed move from no
    // district to theirs, in each file's import.
    for file in files("areas") {
        let name = file.name.clone();
        db.import_area_file(&file, "test").await.expect("areas");
        assert_exact(db, &format!("after {name}"), None).await;
    }
    let placed = from_summary(db, &CountFilter::default()).await;
    assert!(placed.keys().any(|(_, _, d)| d.as_deref() == Some("E06000021")));
    assert_eq!(placed.values().sum::<i64>(), before.values().sum::<i64>(), "recounting changes no total");
    assert_exact(db, "after areas", true).await;

    // A deprivation file without district codes (the Welsh index) adds LSOAs in no district:
    // the mapping grows, no record moves, and the import stands.
    let wimd = "lsoa11_code,IMD_decile,IMD_rank\nW01000001,5,885\nW01000002,7,1324\n";
    db.import_area_file(&SourceFile::from_bytes("wimd2019-test.csv", wimd.as_bytes().to_vec()), "test")
        .await
        .expect("LSOAs in no district");
    assert_eq!(from_summary(db, &CountFilter::default()).await, placed, "nothing moved");

    // Another export of March, with its last 500 records missing, replaces the first.
    let march = files("police").into_iter().find(|f| f.name.starts_with("2025-03")).expect("March");
    let mut text = String::new();
    std::io::Read::read_to_string(&mut march.reader().expect("open"), &mut text).expect("read");
    let lines: Vec<&str> = text.lines().collect();
    let shorter = lines[..lines.len() - 500].join("\n") + "\n";
    let total_before = placed.values().sum::<i64>();
    let replaced = SourceFile::from_bytes("2025-03-staffordshire-street.csv", shorter.into_bytes());
    let outcome = db.import_police_files(&[replaced], "test", &|_| {}).await.expect("replace").remove(0);
    assert!(matches!(outcome.expect("file"), ImportOutcome::Imported { replaced: Some(_), .. }));
    let after = from_summary(db, &CountFilter::default()).await;
    assert_eq!(after.values().sum::<i64>(), total_before - 500);
    assert_exact(db, "after a replaced month", true).await;

    // A later deprivation file places ten of Stoke-on-Trent's LSOAs in another district: their
    // records move from one district to the other (few LSOAs: by their records alone).
    let imd = files("areas").into_iter().find(|f| f.name.starts_with("imd")).expect("the IMD file");
    let mut text = String::new();
    std::io::Read::read_to_string(&mut imd.reader().expect("open"), &mut text).expect("read");
    let (header, rows) = text.split_once('\n').expect("a header");
    let stoke_rows: Vec<&str> = rows.lines().filter(|r| r.contains(",E06000021,")).take(10).collect();
    assert_eq!(stoke_rows.len(), 10);
    let moved = |rows: &[&str], to: &str| -> String {
        rows.iter().map(|r| r.replacen(",E06000021,", &format!(",{to},"), 1) + "\n").collect()
    };
    let few = format!("{header}\n{}", moved(&stoke_rows, "E06000099"));
    db.import_area_file(&SourceFile::from_bytes("imd2019-moved-few.csv", few.into_bytes()), "test").await.expect("few");
    let after_few = from_summary(db, &CountFilter::default()).await;
    assert_eq!(after_few.values().sum::<i64>(), total_before - 500, "moving changes no total");
    assert!(after_few.keys().any(|(_, _, d)| d.as_deref() == Some("E06000099")), "records moved to E06000099");
    assert_exact(db, "after ten LSOAs moved", true).await;

    // One placing thousands of LSOAs at once (Stoke-on-Trent's and 2,000 with no records) is
    // recounted whole, by one scan.
    let all_stoke: Vec<&str> = rows.lines().filter(|r| r.contains(",E06000021,")).collect();
    let mut many = format!("{header}\n{}", moved(&all_stoke, "E06000098"));
    let template = all_stoke[0].split_once(',').expect("a row").1.replacen(",E06000021,", ",E06000098,", 1);
    for i in 0..2_000 {
        many.push_str(&format!("E0199{i:04},{template}\n"));
    }
    db.import_area_file(&SourceFile::from_bytes("imd2019-moved-many.csv", many.into_bytes()), "test")
        .await
        .expect("many");
    let after_many = from_summary(db, &CountFilter::default()).await;
    assert_eq!(after_many.values().sum::<i64>(), total_before - 500, "recounting changes no total");
    let in_district = |counts: &BTreeMap<Key, i64>, code: &str| -> i64 {
        counts.iter().filter(|((_, _, d), _)| d.as_deref() == Some(code)).map(|(_, n)| n).sum()
    };
    // (Stoke-on-Trent keeps the records of its 2021 LSOAs that the 2011 file does not name.)
    assert!(in_district(&after_many, "E06000098") > 0, "records moved to E06000098");
    assert!(in_district(&after_many, "E06000021") < in_district(&after_few, "E06000021") / 2, "most of Stoke's moved");
    assert_exact(db, "after thousands of LSOAs placed", None).await;
}

on_each_app!(the_summary_stays_exact_through_every_import);
