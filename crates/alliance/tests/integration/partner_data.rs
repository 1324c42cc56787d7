//! Partner data: ED assault files (ISTV / Cardiff Model) and partner indicator series —
//! parsing, refusal of patient identifiers, idempotence and replacement, geocoding
//! confidence, xlsx, and the command line end to end (SQLite, and PostgreSQL when reachable).

use crate::common;
use common::alliance;

use alliance_db::imports::ImportOutcome;
use alliance_db::partner::ed::{EdFilter, EdGroup};
use alliance_db::partner::gazetteer::NewVenue;
use alliance_db::partner::indicators::IndicatorFilter;
use alliance_db::{Db, DbError};
use alliance_ingest::ed::read_ed_file;
use alliance_ingest::ed::synthetic::{generate, write, GeneratorSpec};
use alliance_ingest::ed::EdFormat;
use alliance_ingest::indicators::read_indicator_file;
use alliance_ingest::SourceFile;
use chrono::NaiveDate;
use common::TestDb;

const HEADER: &str = "site_code,reporting_period_start,reporting_period_end,arrival_datetime,assault_datetime,\
assault_method,assault_method_other,assault_location_type,assault_location_description,age_band,sex";

fn csv(rows: &[&str]) -> String {
    let mut s = format!("# SYNTHETIC test file\n{HEADER}\n");
    for r in rows {
        s.push_str(r);
        s.push('\n');
    }
    s
}

const ROW_OK: &str =
    "RJE01,2025-01-01,2025-01-31,2025-01-04T01:20,2025-01-04T00:45,01,,02,\"The Crown, Piccadilly\",18-24,1";
const ROW_OK2: &str =
    "RJE01,2025-01-01,2025-01-31,2025-01-05 23:10,2025-01-05 22:50,98,Dog set on victim,01,Marsh St,,2";

fn ed_error(name: &str, text: &str) -> String {
    match read_ed_file(&SourceFile::from_bytes(name, text.as_bytes().to_vec())) {
        Ok(_) => panic!("{name} should have been refused"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_good_csv_file_is_read() {
    let sub = read_ed_file(&SourceFile::from_bytes("ed.csv", csv(&[ROW_OK, ROW_OK2]).into_bytes())).unwrap();
    assert_eq!(sub.site_code, "RJE01");
    assert_eq!(sub.period_start, NaiveDate::from_ymd_opt(2025, 1, 1).unwrap());
    assert!(sub.synthetic);
    assert_eq!(sub.assaults.len(), 2);
    assert_eq!(sub.assaults[0].location_description.as_deref(), Some("The Crown, Piccadilly"));
    assert_eq!(sub.assaults[1].method_other.as_deref(), Some("Dog set on victim"));
    assert_eq!(sub.assaults[1].age_band, None);
    assert_eq!(sub.assaults[1].arrival_at.unwrap().to_string(), "2025-01-05 23:10:00");
}

#[test]
fn each_class_of_csv_error_names_line_column_and_reason() {
    // Line numbers count the comment line: the header is line 2, the first row line 3.
    let bad_code = ROW_OK.replace(",01,,02,", ",13,,02,");
    let e = ed_error("ed.csv", &csv(&[ROW_OK2, &bad_code]));
    assert!(e.starts_with("ed.csv:4: column \"assault_method\": \"13\" is not a known code"), "{e}");

    let missing = ROW_OK.replace("2025-01-04T00:45", "");
    let e = ed_error("ed.csv", &csv(&[&missing]));
    assert_eq!(e, "ed.csv:3: column \"assault_datetime\": is missing (it is mandatory)");

    let outside = ROW_OK.replace("2025-01-04T01:20", "2025-02-04T01:20");
    let e = ed_error("ed.csv", &csv(&[&outside]));
    assert!(e.contains("ed.csv:3: column \"arrival_datetime\": 2025-02-04 is outside the reporting period"), "{e}");

    let other_without_text = ROW_OK2.replace("Dog set on victim", "");
    let e = ed_error("ed.csv", &csv(&[&other_without_text]));
    assert!(e.starts_with("ed.csv:3: column \"assault_method_other\": is needed"), "{e}");

    let other_site = ROW_OK2.replace("RJE01", "RL401");
    let e = ed_error("ed.csv", &csv(&[ROW_OK, &other_site]));
    assert!(e.starts_with("ed.csv:4: column \"site_code\": RL401 differs"), "{e}");

    let e = ed_error("ed.csv", &csv(&[&ROW_OK.replace("2025-01-04T00:45", "04/01/2025 00:45")]));
    assert!(e.contains("expected a date and time"), "{e}");

    let e = ed_error("ed.csv", &format!("{HEADER},weapon\n{ROW_OK},x\n"));
    assert!(e.starts_with("ed.csv:1: column \"weapon\": not a column of the ED assault format"), "{e}");

    let e = ed_error("ed.csv", &format!("{HEADER}\n"));
    assert!(e.contains("no assaults"), "{e}");
}

#[test]
fn patient_identifier_columns_are_refused() {
    for (column, kind) in [
        ("NHS Number", "an NHS number"),
        ("patient_name", "a name"),
        ("Date of birth", "a date of birth"),
        ("DOB", "a date of birth"),
        ("home_postcode", "a postcode of residence"),
        ("Address", "an address"),
    ] {
        let text = format!("{HEADER},{column}\n{ROW_OK},x\n");
        let e = ed_error("leak.csv", &text);
        assert!(e.starts_with(&format!("leak.csv:1: column \"{column}\": this column looks like {kind}")), "{e}");
        assert!(e.contains("never accepted"), "{e}");
    }
}

#[test]
fn nhs_numbers_in_free_text_are_refused() {
    // 943 476 5919 has a valid modulus 11 check digit.
    let leak = ROW_OK.replace("\"The Crown, Piccadilly\"", "outside 943 476 5919 house");
    let e = ed_error("leak.csv", &csv(&[ROW_OK2, &leak]));
    assert!(
        e.starts_with("leak.csv:4: column \"assault_location_description\": holds what looks like an NHS number"),
        "{e}"
    );
    let leak = ROW_OK2.replace("Dog set on victim", "ref 9434765919");
    let e = ed_error("leak.csv", &csv(&[&leak]));
    assert!(e.contains("column \"assault_method_other\": holds what looks like an NHS number"), "{e}");
    // Ten digits with a wrong check digit are not an NHS number.
    let fine = ROW_OK.replace("\"The Crown, Piccadilly\"", "unit 9434765918");
    assert!(read_ed_file(&SourceFile::from_bytes("ok.csv", csv(&[&fine]).into_bytes())).is_ok());
}

fn xml(assaults: &str) -> String {
    format!(
        "<?xml version=\"1.0\"?>\n<!-- SYNTHETIC -->\n<IstvSubmission>\n<ReportingPeriodStartDate>2025-01-01</ReportingPeriodStartDate>\
         <ReportingPeriodEndDate>2025-01-31</ReportingPeriodEndDate><SiteCode>rje01</SiteCode>{assaults}</IstvSubmission>"
    )
}

const ASSAULT_OK: &str =
    "<Assault><ArrivalDateTime>2025-01-04T01:20</ArrivalDateTime><AssaultDateTime>2025-01-04T00:45</AssaultDateTime>\
<AssaultMethod>06</AssaultMethod><AssaultLocationType>02</AssaultLocationType>\
<AssaultLocationDescription>The Crown &amp; Anchor, Piccadilly</AssaultLocationDescription><Sex>2</Sex></Assault>";

#[test]
fn xml_files_are_read_and_errors_name_the_element_path() {
    let sub = read_ed_file(&SourceFile::from_bytes("ed.xml", xml(&format!("{ASSAULT_OK}{ASSAULT_OK}")).into_bytes()))
        .unwrap();
    assert_eq!(sub.site_code, "RJE01");
    assert!(sub.synthetic);
    assert_eq!(sub.assaults.len(), 2);
    assert_eq!(sub.assaults[0].location_description.as_deref(), Some("The Crown & Anchor, Piccadilly"));
    assert_eq!(sub.assaults[0].method, "06");

    let bad = ASSAULT_OK.replace("<AssaultDateTime>2025-01-04T00:45</AssaultDateTime>", "");
    let e = ed_error("ed.xml", &xml(&format!("{ASSAULT_OK}{ASSAULT_OK}{bad}")));
    assert_eq!(e, "ed.xml: element /IstvSubmission/Assault[3]/AssaultDateTime: is missing (it is mandatory)");

    let bad = ASSAULT_OK.replace("<Sex>2</Sex>", "<Sex>M</Sex>");
    let e = ed_error("ed.xml", &xml(&bad));
    assert!(e.starts_with("ed.xml: element /IstvSubmission/Assault[1]/Sex: \"M\" is not a known code"), "{e}");

    let bad = ASSAULT_OK.replace("<Sex>2</Sex>", "<Weapon>bat</Weapon>");
    let e = ed_error("ed.xml", &xml(&bad));
    assert!(e.starts_with("ed.xml: element /IstvSubmission/Assault[1]/Weapon: not an element of <Assault>"), "{e}");

    let leak = ASSAULT_OK.replace("<Sex>2</Sex>", "<PatientDateOfBirth>1990-01-01</PatientDateOfBirth>");
    let e = ed_error("ed.xml", &xml(&leak));
    assert!(
        e.starts_with("ed.xml: element /IstvSubmission/Assault[1]/PatientDateOfBirth: looks like a date of birth"),
        "{e}"
    );

    let e = ed_error("ed.xml", &xml(ASSAULT_OK).replace("<SiteCode>rje01</SiteCode>", ""));
    assert_eq!(e, "ed.xml: element /IstvSubmission/SiteCode: is missing");

    let e = ed_error("ed.xml", "<IstvSubmission><SiteCode>RJE01</Site></IstvSubmission>");
    assert!(e.starts_with("ed.xml:1: malformed XML"), "{e}");
}

#[test]
fn the_generator_round_trips_through_both_formats() {
    let spec = GeneratorSpec {
        site_code: "RJE01".into(),
        from: NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
        to: NaiveDate::from_ymd_opt(2025, 3, 31).unwrap(),
        assaults: 400,
        seed: 7,
        streets: vec![],
    };
    let sub = generate(&spec);
    assert_eq!(sub.assaults.len(), 400);
    for format in [EdFormat::Csv, EdFormat::Xml] {
        let text = write(&sub, format);
        assert!(text.contains("SYNTHETIC"));
        let name = if format == EdFormat::Csv { "g.csv" } else { "g.xml" };
        let back = read_ed_file(&SourceFile::from_bytes(name, text.into_bytes())).unwrap();
        assert_eq!(back.assaults, sub.assaults, "{name}");
        assert!(back.synthetic);
    }
    // Night-time peak: more arrivals between 22:00 and 02:59 than between 06:00 and 10:59.
    use chrono::Timelike;
    let hour = |a: &alliance_ingest::ed::EdAssault| a.arrival_at.unwrap().hour();
    let night = sub.assaults.iter().filter(|a| hour(a) >= 22 || hour(a) < 3).count();
    let morning = sub.assaults.iter().filter(|a| (6..11).contains(&hour(a))).count();
    assert!(night > 3 * morning, "night {night}, morning {morning}");
    // Same seed, same file.
    assert_eq!(generate(&spec).assaults, sub.assaults);
}

// ---- storage ----

fn police_street_csv() -> String {
    let mut s = String::from(
        "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,Last outcome category,Context\n",
    );
    for (lon, lat, loc) in [
        (-2.1800, 53.0200, "On or near Marsh Street"),
        (-2.1820, 53.0220, "On or near Marsh Street"),
        (-2.1750, 53.0240, "On or near Piccadilly"),
        (-2.2000, 53.0000, "On or near Greengate Street"),
        (-2.1000, 52.9000, "On or near Supermarket"),
    ] {
        s.push_str(&format!(
            ",2025-01,Staffordshire Police,Staffordshire Police,{lon},{lat},{loc},E01014203,Stoke-on-Trent 001A,Violence and sexual offences,,\n"
        ));
    }
    s
}

async fn seed_gazetteer(db: &Db) {
    db.import_police_file(
        &SourceFile::from_bytes("2025-01-staffordshire-street.csv", police_street_csv().into_bytes()),
        "test",
        &|_| {},
    )
    .await
    .unwrap();
    db.upsert_venue(&NewVenue {
        name: "The Red Lion",
        kind: "pub",
        district_code: Some("E07000197"),
        longitude: -2.1167,
        latitude: 52.8067,
        source: "test",
    })
    .await
    .unwrap();
}

fn ed_file(name: &str, rows: &[(&str, &str)]) -> SourceFile {
    // (assault_datetime, location description)
    let lines: Vec<String> =
        rows.iter().map(|(at, place)| format!("RJE01,2025-01-01,2025-01-31,,{at},01,,01,\"{place}\",,")).collect();
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    SourceFile::from_bytes(name, csv(&refs).into_bytes())
}

async fn storage(t: TestDb) {
    let db = t.connect().await;
    seed_gazetteer(&db).await;
    let rows = [
        ("2025-01-03T23:00", "MARSH ST"),                 // exact, one place: high
        ("2025-01-04T01:00", "Red Lion pub"),             // venue name inside the text: medium
        ("2025-01-10T02:00", "outside Grenegate Street"), // misspelling, close: medium
        ("2025-01-11T02:00", "Own home"),                 // nothing like it: queued
        ("2025-01-12T02:00", "Own home"),
        ("2025-01-20T22:00", ""), // no description
    ];
    let report = db.import_ed_file(&ed_file("jan.csv", &rows), "test").await.unwrap();
    let ImportOutcome::Imported { import_id, counts, replaced: None, .. } = report.outcome else {
        panic!("expected a first import, got {:?}", report.outcome)
    };
    assert_eq!(counts.rows_read, 6);
    let g = report.geocoding;
    assert_eq!((g.high, g.medium, g.queued, g.resolved, g.no_text), (1, 2, 2, 0, 1), "{g:?}");
    assert!(report.synthetic);

    let all = db.ed_assaults(&EdFilter::default(), 100).await.unwrap();
    assert_eq!(all.len(), 6);
    let marsh = &all[0];
    assert_eq!((marsh.geo_confidence.as_deref(), marsh.geo_name.as_deref()), (Some("high"), Some("Marsh Street")));
    // The street's point is the mean of its two police points.
    assert!((marsh.longitude.unwrap() - (-2.181)).abs() < 1e-9 && (marsh.latitude.unwrap() - 53.021).abs() < 1e-9);
    assert_eq!(all[1].district_code.as_deref(), Some("E07000197"));
    // The venue's point, as stored in the gazetteer.
    assert!((all[1].longitude.unwrap() - (-2.1167)).abs() < 1e-9 && (all[1].latitude.unwrap() - 52.8067).abs() < 1e-9);
    assert_eq!(all[2].geo_name.as_deref(), Some("Greengate Street"));

    // The same file again: unchanged.
    let again = db.import_ed_file(&ed_file("jan.csv", &rows), "test").await.unwrap();
    assert!(matches!(again.outcome, ImportOutcome::Unchanged { import_id: id, .. } if id == import_id));

    // The queue: one description, two assaults. Resolve it as unlocatable.
    let queue = db.ed_geocode_queue(10).await.unwrap();
    assert_eq!(queue.len(), 1);
    assert_eq!((queue[0].location_key.as_str(), queue[0].assaults), ("own home", 2));
    // The queue page lists it with a CSRF field and the "cannot be located" choice.
    {
        use askama::Template;
        let state = alliance_web::AppState::new(db.clone());
        let page = alliance_web::views::partner_data::GeocodingPage::load(&state, None, None).await.unwrap();
        let html = page.render().unwrap();
        assert!(html.contains("“Own home” (2 assaults)"), "{html}");
        assert!(html.contains("name=\"csrf_token\"") && html.contains("value=\"own home\""), "{html}");
        assert!(html.contains("It cannot be located"));
    }
    assert_eq!(db.resolve_ed_location("own home", None, &common::test_actor()).await.unwrap(), 2);
    assert!(db.ed_geocode_queue(10).await.unwrap().is_empty());
    let rows = common::audit_rows(&db, alliance_db::partner::ed::ED_GEOCODE_RESOLVED).await;
    assert_eq!(rows.len(), 1, "the resolution has its audit row");
    assert_eq!((rows[0].target.as_str(), rows[0].detail.as_str()), ("own home", "cannot be located: 2 assaults"));

    // A corrected file for the same site and period replaces the first; the earlier
    // resolution is applied to it.
    let corrected = [("2025-01-03T23:00", "Marsh Street"), ("2025-01-15T01:00", "own home")];
    let report = db.import_ed_file(&ed_file("jan-v2.csv", &corrected), "test").await.unwrap();
    let ImportOutcome::Imported { counts, replaced, .. } = report.outcome else { panic!("{:?}", report.outcome) };
    assert_eq!((counts.rows_read, counts.rows_replaced, replaced), (2, 6, Some(import_id)));
    assert_eq!(report.geocoding.resolved, 1);
    assert_eq!(db.ed_assaults(&EdFilter::default(), 100).await.unwrap().len(), 2);
    // A place chosen instead: a later file takes the stored choice's name, district and point
    // (read back from the resolutions, the right way round).
    let park = alliance_core::geo::gazetteer::Place {
        kind: alliance_core::geo::gazetteer::PlaceKind::Venue,
        name: "Hanley Park".into(),
        district: Some("E06000021".into()),
        longitude: -2.1712,
        latitude: 53.0189,
    };
    assert_eq!(db.resolve_ed_location("own home", Some(&park), &common::test_actor()).await.unwrap(), 1);
    let moved = [corrected[0], ("2025-01-15T02:00", "own home")];
    let report = db.import_ed_file(&ed_file("jan-v2.csv", &moved), "test").await.unwrap();
    assert_eq!(report.geocoding.resolved, 1);
    let all = db.ed_assaults(&EdFilter::default(), 100).await.unwrap();
    let home = all.iter().find(|a| a.assault_at.starts_with("2025-01-15T02")).expect("the own-home assault");
    assert_eq!((home.geo_name.as_deref(), home.district_code.as_deref()), (Some("Hanley Park"), Some("E06000021")));
    assert_eq!((home.longitude, home.latitude), (Some(-2.1712), Some(53.0189)));

    // A February file is another unit: both count.
    let feb = "RJE01,2025-02-01,2025-02-28,,2025-02-02T01:00,06,,02,Piccadilly,,";
    db.import_ed_file(&SourceFile::from_bytes("feb.csv", csv(&[feb]).into_bytes()), "test").await.unwrap();
    let by_month = db.ed_assault_counts(EdGroup::Month, &EdFilter::default()).await.unwrap();
    let by_month: Vec<(Option<&str>, i64)> = by_month.iter().map(|c| (c.key.as_deref(), c.count)).collect();
    assert_eq!(by_month, [(Some("2025-01"), 2), (Some("2025-02"), 1)]);
    let by_method = db.ed_assault_counts(EdGroup::Method, &EdFilter::default()).await.unwrap();
    assert_eq!(by_method.iter().map(|c| c.count).collect::<Vec<_>>(), [2, 1]);
    let feb_only = EdFilter { from_month: Some("2025-02".into()), ..EdFilter::default() };
    assert_eq!(db.ed_assaults(&feb_only, 10).await.unwrap().len(), 1);

    // A bad file imports nothing.
    let bad = ed_file("bad.csv", &[("2025-01-03T23:00", "x"), ("not a time", "y")]);
    let err = db.import_ed_file(&bad, "test").await.unwrap_err();
    assert!(matches!(err, DbError::Ingest(_)), "{err}");
    assert_eq!(db.ed_assaults(&EdFilter::default(), 100).await.unwrap().len(), 3);
}

on_each_db!(ed_storage => storage);

// ---- indicators ----

const INDICATORS: &str = "indicator,area_code,period,value,age_band,sex\n\
School suspensions,E06000021,2024/25,812,,\n\
School suspensions,E06000021,2025-Q1,230,10-15,male\n\
First-time entrants,E01014203,2025-03,2,,\n";

fn xlsx(rows: &[[&str; 4]], notes_sheet: bool) -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    if notes_sheet {
        let notes = wb.add_worksheet();
        notes.set_name("Notes").unwrap();
        notes.write_string(0, 0, "Figures from the youth justice service").unwrap();
    }
    let ws = wb.add_worksheet();
    ws.set_name("Data").unwrap();
    for (c, h) in ["indicator", "area_code", "period", "value"].iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    for (r, row) in rows.iter().enumerate() {
        let r = r as u32 + 1;
        for (c, cell) in row.iter().take(3).enumerate() {
            ws.write_string(r, c as u16, *cell).unwrap();
        }
        match row[3].parse::<f64>() {
            Ok(n) => ws.write_number(r, 3, n).unwrap(),
            Err(_) => ws.write_string(r, 3, row[3]).unwrap(),
        };
    }
    wb.save_to_buffer().unwrap()
}

#[test]
fn indicator_csv_and_xlsx_are_read_and_errors_are_located() {
    let values = read_indicator_file(&SourceFile::from_bytes("ind.csv", INDICATORS.as_bytes().to_vec())).unwrap();
    assert_eq!(values.len(), 3);
    assert_eq!((values[0].period.start.as_str(), values[0].period.end.as_str()), ("2024-04", "2025-03"));
    assert_eq!((values[1].age_band.as_str(), values[1].sex.as_str()), ("10-15", "male"));

    let bad = INDICATORS.replace("2025-03,2", "2025-13,2");
    let e = read_indicator_file(&SourceFile::from_bytes("ind.csv", bad.into_bytes())).unwrap_err().to_string();
    assert!(e.starts_with("ind.csv:4: column \"period\": expected a period"), "{e}");
    let dup = format!("{INDICATORS}First-time entrants,E01014203,2025-03,3,,\n");
    let e = read_indicator_file(&SourceFile::from_bytes("ind.csv", dup.into_bytes())).unwrap_err().to_string();
    assert!(e.starts_with("ind.csv:5: a second value") && e.contains("line 4"), "{e}");
    let e = read_indicator_file(&SourceFile::from_bytes("ind.csv", INDICATORS.replace("E01014203", "X1").into_bytes()))
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("ind.csv:4: column \"area_code\""), "{e}");
    let e = read_indicator_file(&SourceFile::from_bytes(
        "ind.csv",
        "indicator,area_code,period,value,name\n".as_bytes().to_vec(),
    ))
    .unwrap_err()
    .to_string();
    assert!(e.contains("column \"name\": this column looks like a name"), "{e}");

    let book = xlsx(&[["Ambulance call-outs for assault", "E07000197", "2025-Q2", "41"]], true);
    let values = read_indicator_file(&SourceFile::from_bytes("amb.xlsx", book)).unwrap();
    assert_eq!(values.len(), 1);
    assert_eq!((values[0].value, values[0].period.kind), (41.0, "quarter"));
    let book = xlsx(&[["A", "E07000197", "2025-Q2", "41"], ["A", "E07000197", "2025-Q3", "n/a"]], true);
    let e = read_indicator_file(&SourceFile::from_bytes("amb.xlsx", book)).unwrap_err().to_string();
    assert_eq!(e, "amb.xlsx [sheet \"Data\"]:3: column \"value\": expected a number, found \"n/a\"");
}

async fn indicators(t: TestDb) {
    let db = t.connect().await;
    let file = SourceFile::from_bytes("suspensions.csv", INDICATORS.as_bytes().to_vec());
    let first = db.import_indicator_file(&file, "test").await.unwrap();
    let ImportOutcome::Imported { import_id, counts, .. } = first else { panic!("{first:?}") };
    assert_eq!(counts.rows_read, 3);
    assert!(matches!(db.import_indicator_file(&file, "test").await.unwrap(), ImportOutcome::Unchanged { .. }));

    // A corrected file of the same name replaces the values.
    let corrected = INDICATORS.replace(",812,", ",815,");
    let second = db
        .import_indicator_file(&SourceFile::from_bytes("suspensions.csv", corrected.into_bytes()), "test")
        .await
        .unwrap();
    let ImportOutcome::Imported { replaced, counts, .. } = second else { panic!("{second:?}") };
    assert_eq!((replaced, counts.rows_replaced), (Some(import_id), 3));
    let filter = IndicatorFilter { indicator: Some("School suspensions".into()), ..IndicatorFilter::default() };
    let values = db.partner_indicator_values(&filter).await.unwrap();
    assert_eq!(values.iter().map(|v| v.value).collect::<Vec<_>>(), [815.0, 230.0]);

    // Another file holding a value already held is refused, naming the first file.
    let clash = "indicator,area_code,period,value\nFirst-time entrants,E01014203,2025-03,5\n";
    let err = db
        .import_indicator_file(&SourceFile::from_bytes("fte.csv", clash.as_bytes().to_vec()), "test")
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("already held from the file suspensions.csv"), "{err}");

    let book = xlsx(&[["Ambulance call-outs for assault", "E07000197", "2025-Q2", "41"]], false);
    db.import_indicator_file(&SourceFile::from_bytes("amb.xlsx", book), "test").await.unwrap();
    let names = db.partner_indicator_names().await.unwrap();
    assert_eq!(
        names,
        [
            ("Ambulance call-outs for assault".to_string(), 1),
            ("First-time entrants".to_string(), 1),
            ("School suspensions".to_string(), 2)
        ]
    );
    // A quarter's value reads back with its area and its first and last months.
    let month = |m: &str| m.parse::<alliance_core::domain::Month>().unwrap();
    let values = db.partner_series_values("Ambulance call-outs for assault", None).await.unwrap();
    let expected = alliance_core::governance::SeriesValue {
        area_code: "E07000197".into(),
        area_kind: "district".into(),
        start: month("2025-04"),
        end: month("2025-06"),
        value: 41.0,
    };
    assert_eq!(values, [expected]);
    let periods = db.partner_series_periods().await.unwrap();
    assert!(periods.contains(&("Ambulance call-outs for assault".into(), month("2025-04"), month("2025-06"))));
}

on_each_db!(indicator_storage => indicators);

// ---- the command line ----

fn cli(t: TestDb) {
    let url = t.url.clone();
    let dir = tempfile::tempdir().unwrap();
    let csv_path = dir.path().join("ed-q1.csv");
    let xml_path = dir.path().join("ed-apr.xml");
    let out = alliance(
        &url,
        &[
            "generate",
            "ed",
            "--site",
            "RJE01",
            "--from",
            "2025-01-01",
            "--to",
            "2025-03-31",
            "--assaults",
            "400",
            "--seed",
            "7",
            "--format",
            "csv",
            "--out",
            csv_path.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("400 SYNTHETIC assaults"));
    let out = alliance(
        &url,
        &[
            "generate",
            "ed",
            "--from",
            "2025-04-01",
            "--to",
            "2025-04-30",
            "--assaults",
            "50",
            "--format",
            "xml",
            "--out",
            xml_path.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let out = alliance(&url, &["import", "ed", dir.path().to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("imported  ed-q1.csv (SYNTHETIC): 400 assaults"), "{stdout}");
    assert!(stdout.contains("imported  ed-apr.xml (SYNTHETIC): 50 assaults"), "{stdout}");
    assert!(stdout.lines().last().unwrap().starts_with("2 imported (450 rows"), "{stdout}");

    // Again: unchanged. A bad file beside them: refused with its line, exit non-zero.
    std::fs::write(dir.path().join("bad.csv"), csv(&[ROW_OK, &ROW_OK.replace(",02,", ",77,")])).unwrap();
    let out = alliance(&url, &["import", "ed", dir.path().to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(!out.status.success());
    assert!(
        stdout.contains("FAILED    bad.csv:4: column \"assault_location_type\": \"77\" is not a known code"),
        "{stdout}"
    );
    assert!(
        stdout.lines().last().unwrap().starts_with("0 imported (0 rows")
            && stdout.contains("2 unchanged, 0 skipped, 1 failed: bad.csv"),
        "{stdout}"
    );

    let ind = dir.path().join("indicators.csv");
    std::fs::write(&ind, INDICATORS).unwrap();
    let out = alliance(&url, &["import", "indicators", ind.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("imported  indicators.csv: 3 values"), "{stdout}");

    // Every import from the command line is in the audit log, refused ones too, as `cli:<user>`.
    let audit = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let db = alliance_db::Db::connect(&url).await.unwrap();
            common::audit_log(&db).await
        })
    })
    .join()
    .unwrap();
    let rows = |action: &str, target: &str| {
        audit.iter().filter(|e| e.action == action && e.target == target && e.actor.starts_with("cli:")).count()
    };
    assert_eq!(rows("import ed", "ed-q1.csv"), 2, "imported, then unchanged");
    assert_eq!(rows("import ed", "bad.csv"), 1);
    assert!(audit.iter().any(|e| e.target == "bad.csv" && e.detail.contains("FAILED") && e.ip == "cli"));
    assert_eq!(rows("import indicators", "indicators.csv"), 1);
}

#[test]
fn command_line_sqlite() {
    cli(common::sqlite());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn command_line_postgres() {
    let Some(t) = common::postgres().await else { return };
    tokio::task::spawn_blocking(move || cli(t)).await.unwrap();
}

/// A partnership of one district on a database holding more (the demo's nine districts; in
/// practice a region or the national archive): the ED gazetteer offers the streets of its own
/// area, exactly those it offered for that district before, and venues wherever they are.
#[tokio::test(flavor = "multi_thread")]
async fn the_ed_gazetteer_holds_the_partnerships_streets() {
    use alliance_core::geo::gazetteer::PlaceKind;
    const STOKE: &str = "E06000021";
    let t = common::sqlite();
    let db = t.connect().await;
    assert!(alliance::demo::load_if_empty(&db).await.expect("demo data") > 0);
    db.upsert_venue(&NewVenue {
        name: "The Far Arms",
        kind: "pub",
        district_code: Some("E07000199"),
        longitude: -1.7,
        latitude: 52.6,
        source: "test",
    })
    .await
    .expect("venue");
    let streets = |g: &alliance_core::geo::gazetteer::Gazetteer| -> Vec<alliance_core::geo::gazetteer::Place> {
        g.places().iter().filter(|p| p.kind == PlaceKind::Street).cloned().collect()
    };
    let everywhere = streets(&db.ed_gazetteer().await.expect("gazetteer"));
    let stoke_before: Vec<_> = everywhere.iter().filter(|p| p.district.as_deref() == Some(STOKE)).cloned().collect();
    assert!(
        !stoke_before.is_empty() && stoke_before.len() < everywhere.len(),
        "{} of {}",
        stoke_before.len(),
        everywhere.len()
    );

    let mut profile: alliance_core::partnership::Profile =
        alliance_core::partnership::example("staffordshire").expect("the example").expect("it parses");
    profile.districts = vec![STOKE.parse().expect("a district code")];
    db.init_partnership(&profile, &common::test_actor()).await.expect("profile stored");
    let gazetteer = db.ed_gazetteer().await.expect("gazetteer");
    assert_eq!(streets(&gazetteer), stoke_before, "the partnership's streets, the same points");
    assert!(gazetteer.places().iter().any(|p| p.kind == PlaceKind::Venue && p.name == "The Far Arms"));
    db.close().await;
}
