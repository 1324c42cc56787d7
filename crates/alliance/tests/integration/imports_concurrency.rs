//! Exactly-once imports (issue 13, findings 4, 5 and 10): two imports of the same files started
//! at once store each file once, with one current import per unit and every audit row in an
//! unbroken chain, on every import path (police, areas, ED, indicators) and both backends; an
//! organisation's indicator upload never replaces another organisation's file of the same name.
//!
//! Each scenario opens two handles on the database (two pools, as two processes or servers
//! would) and starts both imports together.

use crate::common;

use std::collections::BTreeMap;
use std::path::PathBuf;

use alliance_app::imports::{self, PartnerImported, PartnerKind, Supplier};
use alliance_core::domain::{CountField, CountFilter};
use alliance_db::audit::Actor;
use alliance_db::imports::{ImportAudit, ImportOutcome};
use alliance_db::partner::indicators::{IndicatorFilter, IndicatorSupplier};
use alliance_db::{Db, DbError};
use alliance_ingest::SourceFile;
use common::{audit_rows, police_files, raw_month_type_counts, read_csv, TestDb};

/// Units with more than one current import (must be none), and the number of imports.
async fn current_per_unit(db: &Db) -> (Vec<(String, usize)>, usize) {
    let all = db.imports(100_000).await.expect("imports");
    let mut current: BTreeMap<String, usize> = BTreeMap::new();
    for i in all.iter().filter(|i| i.superseded_by.is_none()) {
        *current.entry(i.unit.clone()).or_default() += 1;
    }
    (current.into_iter().filter(|(_, n)| *n > 1).collect(), all.len())
}

fn tally(results: &[Result<ImportOutcome, DbError>]) -> (usize, usize) {
    let mut imported = 0;
    let mut unchanged = 0;
    for r in results {
        match r {
            Ok(ImportOutcome::Imported { .. }) => imported += 1,
            Ok(ImportOutcome::Unchanged { .. }) => unchanged += 1,
            other => panic!("an import of the same files at once failed: {other:?}"),
        }
    }
    (imported, unchanged)
}

/// Four months of Gwent, street and outcomes files, imported by two runs at once.
async fn police_twice_at_once(t: TestDb, data: PathBuf) {
    let (a, b) = (t.connect().await, t.connect().await);
    let mut paths = police_files(&data.join("police/gwent"));
    paths.retain(|p| {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        ["2022-07", "2022-08", "2022-09", "2022-10"].iter().any(|m| name.starts_with(m))
    });
    assert_eq!(paths.len(), 8, "four months of street and outcomes files");
    let files: Vec<SourceFile> = paths.iter().map(|p| SourceFile::from_path(p)).collect();
    let streets: Vec<PathBuf> =
        paths.iter().filter(|p| p.to_string_lossy().ends_with("-street.csv")).cloned().collect();
    let expected: i64 = raw_month_type_counts(&streets).values().sum();

    let (actor_a, actor_b) = (Actor::new("cli:a", "cli"), Actor::new("cli:b", "cli"));
    let (ra, rb) = tokio::join!(
        imports::police(&a, &actor_a, "import police", &files, &|_| {}),
        imports::police(&b, &actor_b, "import police", &files, &|_| {})
    );
    let (ra, rb) = (ra.expect("run a"), rb.expect("run b"));
    let (ia, ua) = tally(&ra);
    let (ib, ub) = tally(&rb);
    assert_eq!((ia + ib, ua + ub), (8, 8), "each file imported once and found unchanged once");

    assert_eq!(a.police_record_count().await.unwrap(), expected, "street rows stored exactly once");
    assert_eq!(table_rows(&t, "police_crimes").await, expected);
    let outcome_rows: i64 = paths
        .iter()
        .filter(|p| p.to_string_lossy().ends_with("-outcomes.csv"))
        .map(|p| read_csv(p).1.len() as i64)
        .sum();
    let stored_outcomes = table_rows(&t, "police_outcomes").await;
    assert_eq!(stored_outcomes, outcome_rows, "outcome rows stored exactly once");
    // Each run began with no outcomes and kept their latest in memory until the other run's
    // imports showed; every crime must still carry the latest outcome the rules give.
    let (street_paths, outcome_paths): (Vec<PathBuf>, Vec<PathBuf>) =
        paths.iter().cloned().partition(|p| p.to_string_lossy().ends_with("-street.csv"));
    let by_outcome = a.counts(&[CountField::Outcome], &CountFilter::default()).await.unwrap();
    assert_eq!(by_outcome, crate::police_import::expected_outcomes(&street_paths, &outcome_paths));
    let (doubled, imports) = current_per_unit(&a).await;
    assert!(doubled.is_empty(), "units with two current imports: {doubled:?}");
    assert_eq!(imports, 8);

    // One audit row per file per run, all in one unbroken chain.
    assert_eq!(audit_rows(&a, "import police").await.len(), 16);
    assert_eq!(a.verify_audit_chain().await.unwrap().first_broken, None);

    // A third run finds everything in place.
    let again = a.import_police_files(&files, "test", &|_| {}).await.unwrap();
    assert_eq!(tally(&again), (0, 8));
}

on_each_backend!(police_twice_at_once);

/// A small ED file of January 2025 (SYNTHETIC).
fn ed_csv(rows: usize) -> Vec<u8> {
    let mut s = String::from(
        "# SYNTHETIC test file\nsite_code,reporting_period_start,reporting_period_end,arrival_datetime,\
         assault_datetime,assault_method,assault_method_other,assault_location_type,assault_location_description,\
         age_band,sex\n",
    );
    for i in 0..rows {
        s.push_str(&format!(
            "RJE01,2025-01-01,2025-01-31,,2025-01-{:02}T22:00,01,,01,\"Marsh Street\",18-24,1\n",
            1 + i % 28
        ));
    }
    s.into_bytes()
}

async fn ed_assault_count(db: &Db) -> i64 {
    db.ed_assault_total(&alliance_db::partner::ed::EdFilter::default()).await.expect("ed total")
}

/// The rows of a table, counted straight from the database.
async fn table_rows(t: &TestDb, table: &str) -> i64 {
    use sqlx::Connection;
    let sql = format!("SELECT CAST(COUNT(*) AS BIGINT) FROM {table}");
    match t.backend {
        common::Backend::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(&t.url).await.expect("sqlite");
            sqlx::query_scalar(&sql).fetch_one(&mut c).await.expect("count")
        }
        common::Backend::Postgres => {
            let mut c = sqlx::PgConnection::connect(&t.url).await.expect("postgres");
            sqlx::query_scalar(&sql).fetch_one(&mut c).await.expect("count")
        }
    }
}

const LA_CODES: &str = "LADCD,LADNM,LADCD_ACTIVE,LADNM_ACTIVE,UTLACD,UTLANM,CAUTHCD,CAUTHNM,RGNCD,RGNNM,CTRYCD,CTRYNM,\
EWCD,EWNM,GBCD,GBNM,UKCD,UKNM,Current,LAD20CD,LAD20NM
E06000001,Hartlepool,E06000001,Hartlepool,E06000001,Hartlepool,E47000006,Tees Valley,E12000001,North East,E92000001,\
England,K04000001,England and Wales,K03000001,Great Britain,K02000001,United Kingdom,TRUE,E06000001,Hartlepool
E06000002,Middlesbrough,E06000002,Middlesbrough,E06000002,Middlesbrough,E47000006,Tees Valley,E12000001,North East,\
E92000001,England,K04000001,England and Wales,K03000001,Great Britain,K02000001,United Kingdom,TRUE,E06000002,Middlesbrough
";

/// The operator's import of a partner `file` of `kind` through two connections at once: the
/// database's outcome of each.
async fn partner_file_twice_at_once(
    (a, b): (&Db, &Db),
    actor: &Actor,
    kind: PartnerKind,
    file: &SourceFile,
) -> Vec<Result<ImportOutcome, DbError>> {
    let (ra, rb) = tokio::join!(
        imports::partner_file(a, actor, Supplier::Operator, kind, file),
        imports::partner_file(b, actor, Supplier::Operator, kind, file)
    );
    [ra, rb]
        .into_iter()
        .map(|r| match r.expect("no fault") {
            PartnerImported::Done { outcome, .. } => Ok(outcome),
            other => panic!("{other:?}"),
        })
        .collect()
}

/// Partner and area files: two imports of the same file at once.
async fn partner_and_area_files_twice_at_once(t: TestDb) {
    let (a, b) = (t.connect().await, t.connect().await);
    let actor = Actor::new("cli:test", "cli");

    // ED, through the use case (as the command line and the web form run it).
    let ed = SourceFile::from_bytes("ed-2025-01.csv", ed_csv(40));
    let outcomes = partner_file_twice_at_once((&a, &b), &actor, PartnerKind::Ed, &ed).await;
    assert_eq!(tally(&outcomes), (1, 1));
    assert_eq!(ed_assault_count(&a).await, 40);
    assert_eq!(audit_rows(&a, "import ed").await.len(), 2);

    // Indicators.
    let ind = SourceFile::from_bytes(
        "monthly.csv",
        b"indicator,area_code,period,value\nSchool suspensions,E07000197,2025-01,812\n".to_vec(),
    );
    let outcomes = partner_file_twice_at_once((&a, &b), &actor, PartnerKind::Indicators, &ind).await;
    assert_eq!(tally(&outcomes), (1, 1));
    assert_eq!(a.partner_indicator_values(&IndicatorFilter::default()).await.unwrap().len(), 1);

    // Areas: the first lines of the shared district code list.
    let areas = SourceFile::from_bytes("la_all_codes.csv", LA_CODES.as_bytes().to_vec());
    let (ra, rb) = tokio::join!(
        imports::areas(&a, &actor, &areas, imports::AreaFileFrom::Chosen),
        imports::areas(&b, &actor, &areas, imports::AreaFileFrom::Chosen)
    );
    assert_eq!(tally(&[ra.expect("no fault"), rb.expect("no fault")]), (1, 1));
    assert_eq!(a.districts().await.unwrap().len(), 2);
    assert_eq!(audit_rows(&a, "import areas").await.len(), 2);

    let (doubled, _) = current_per_unit(&a).await;
    assert!(doubled.is_empty(), "units with two current imports: {doubled:?}");
    assert_eq!(a.verify_audit_chain().await.unwrap().first_broken, None);
}

on_each_db!(partner_and_area_files_twice_at_once);

/// A council's upload named like a hospital's leaves the hospital's values (finding 5).
async fn one_organisation_cannot_replace_anothers_file(t: TestDb) {
    let db = t.connect().await;
    let (hospital, council) = (IndicatorSupplier::Organisation(7), IndicatorSupplier::Organisation(8));
    let audit = ImportAudit::new(Actor::new("user:h@example.org", "127.0.0.1"), "import indicators");
    let read = |text: &str| {
        let file = SourceFile::from_bytes("monthly.csv", text.as_bytes().to_vec());
        let values = alliance_ingest::indicators::read_indicator_file(&file).expect("a good file");
        (file, values)
    };
    let (file, values) =
        read("indicator,area_code,period,value\nAmbulance call-outs for assault,E07000197,2025-01,41\n");
    let first = db.import_indicator_values_audited(&file, values, hospital, &audit).await.unwrap();
    assert!(matches!(first, ImportOutcome::Imported { replaced: None, .. }), "{first:?}");

    // Other figures under the same name: stored beside the hospital's, replacing nothing.
    let (file, values) = read("indicator,area_code,period,value\nSchool suspensions,E07000197,2025-01,812\n");
    let second = db.import_indicator_values_audited(&file, values, council, &audit).await.unwrap();
    assert!(matches!(second, ImportOutcome::Imported { replaced: None, .. }), "{second:?}");

    // The hospital's own figure under the same name: refused, naming the hospital's file.
    let (file, values) =
        read("indicator,area_code,period,value\nAmbulance call-outs for assault,E07000197,2025-01,0\n");
    let err = db.import_indicator_values_audited(&file, values, council, &audit).await.unwrap_err();
    assert!(matches!(err, DbError::Ingest(_)), "{err}");

    let held = db.partner_indicator_values(&IndicatorFilter::default()).await.unwrap();
    let figures: Vec<(&str, f64)> = held.iter().map(|v| (v.indicator.as_str(), v.value)).collect();
    assert_eq!(figures, [("Ambulance call-outs for assault", 41.0), ("School suspensions", 812.0)]);
    let (doubled, imports) = current_per_unit(&db).await;
    assert!(doubled.is_empty(), "{doubled:?}");
    assert_eq!(imports, 2);
    // The two imports that changed data wrote their audit rows with them.
    assert_eq!(audit_rows(&db, "import indicators").await.len(), 2);

    // The hospital's corrected file replaces its own import only.
    let (file, values) =
        read("indicator,area_code,period,value\nAmbulance call-outs for assault,E07000197,2025-01,43\n");
    let third = db.import_indicator_values_audited(&file, values, hospital, &audit).await.unwrap();
    let ImportOutcome::Imported { replaced: Some(_), counts, .. } = third else { panic!("{third:?}") };
    assert_eq!(counts.rows_replaced, 1);
    let held = db.partner_indicator_values(&IndicatorFilter::default()).await.unwrap();
    let figures: Vec<(&str, f64)> = held.iter().map(|v| (v.indicator.as_str(), v.value)).collect();
    assert_eq!(figures, [("Ambulance call-outs for assault", 43.0), ("School suspensions", 812.0)]);
}

on_each_db!(one_organisation_cannot_replace_anothers_file);
