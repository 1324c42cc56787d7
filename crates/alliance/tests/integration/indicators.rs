//! Computed indicators from any source through one definition (issue 16): a police
//! indicator shows the same number as the dashboard for the same crimes and months; a partner
//! series feeds an indicator without retyping (monthly values summed or averaged into the
//! quarter, typed values refused); an emergency department indicator is quarterly and its
//! figure is withheld below the threshold from a reader without record-level access; a
//! referral indicator counts referrals made and is suppressed for every reader; the command
//! line defines the same indicator the form does.

use crate::common;

use alliance_app::imports::{self, PartnerImported, PartnerKind, Supplier};
use alliance_core::access::{AccessLevel, Role};
use alliance_core::governance::Quarter;
use alliance_db::audit::Actor;
use alliance_db::imports::ImportAudit;
use alliance_db::partner::indicators::IndicatorSupplier;
use alliance_db::{Db, DbError};
use alliance_ingest::SourceFile;
use alliance_web::views::board_pack::BoardPack;
use axum::http::StatusCode;
use common::app::{Caller, Reply, TestApp};

/// The fields of the "Add an indicator" form, with `extra` added or replacing.
fn indicator_form<'a>(code: &'a str, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut fields = vec![
        ("name", code),
        ("code", code),
        ("kind", "outcome"),
        ("definition", "As the source says"),
        ("unit", "count"),
        ("frequency", "quarterly"),
        ("direction", "down"),
    ];
    for (k, v) in extra {
        fields.retain(|(key, _)| key != k);
        fields.push((k, v));
    }
    fields
}

/// Adds an indicator through the web form and returns its id.
async fn define(app: &TestApp, who: &Caller, code: &str, extra: &[(&str, &str)]) -> i64 {
    let reply = app.post_form("/indicators", who, &indicator_form(code, extra)).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", &reply.body[..reply.body.len().min(3000)]);
    let to = reply.header("location").expect("a redirect").to_string();
    to.rsplit('/').next().unwrap().parse().expect("an id")
}

/// The text of the element with `id` up to its closing tag (no nesting inside).
fn element_text<'a>(reply: &'a Reply, id: &str) -> &'a str {
    let start = reply.body.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("no #{id}"));
    let rest = &reply.body[start..];
    let open = rest.find('>').expect("tag end") + 1;
    let close = rest[open..].find("</").expect("closing tag");
    &rest[open..open + close]
}

async fn pack(db: &Db, quarter: &str) -> BoardPack {
    BoardPack::load(db, quarter.parse().expect("quarter"), "Test").await.expect("pack")
}

fn ed_file(quarter_rows: &[(&str, &str)]) -> SourceFile {
    let mut s = String::from(
        "# SYNTHETIC test file\nsite_code,reporting_period_start,reporting_period_end,arrival_datetime,\
         assault_datetime,assault_method,assault_method_other,assault_location_type,assault_location_description,\
         age_band,sex\n",
    );
    for (date, method) in quarter_rows {
        s.push_str(&format!("RJE01,2025-07-01,2025-09-30,,{date}T22:00,{method},,01,\"Marsh Street\",18-24,1\n"));
    }
    SourceFile::from_bytes("ed-2025-q3.csv", s.into_bytes())
}

/// Imports [`ed_file`] of `quarter_rows` as the operator does from the command line, and
/// checks it is stored.
async fn import_ed(db: &Db, quarter_rows: &[(&str, &str)]) {
    let outcome = imports::partner_file(
        db,
        &Actor::new("cli:test", "cli"),
        Supplier::Operator,
        PartnerKind::Ed,
        &ed_file(quarter_rows),
    )
    .await
    .expect("no fault");
    assert!(matches!(outcome, PartnerImported::Done { .. }), "{outcome:?}");
}

async fn computed_indicators(app: TestApp) {
    let db = app.db.clone();
    alliance::demo::load_if_empty(&db).await.expect("demo loads");
    let analyst = app.signed_in("analyst@alliance.example", Role::Analyst, "Violence Reduction Alliance").await;
    let board = app.signed_in("chair@board.example", Role::BoardMember, "Stoke-on-Trent City Council").await;
    let council = db.organisation_by_name("Stoke-on-Trent City Council").await.unwrap().expect("council").id;

    // ---- Police: the dashboard and a computed indicator of the same crimes and 12 months.
    let latest = *db.police_months_covered().await.unwrap().last().expect("the demo has police data");
    let quarter = Quarter::of_month(latest);
    assert_eq!(quarter.last_month(), latest, "the demo's data ends with a quarter");
    let vso = define(
        &app,
        &analyst,
        "vso-12m",
        &[("source", "police"), ("crime_type", "Violence and sexual offences"), ("measure", "count-12m")],
    )
    .await;
    let dashboard = app.get("/", &analyst).await;
    let note = element_text(&dashboard, "violence-definition").to_string();
    let period = format!("{} to {latest}", latest.plus(-11));
    assert!(note.contains(&period), "the dashboard states its period: {note}");
    // No partnership profile here: the headline counts every record of the police files, and
    // the note says how many of them the areas loaded hold (`area_figures` has a profile).
    let in_area =
        note.split("of which ").nth(1).and_then(|r| r.split(' ').next()).expect("the in-area count").to_string();
    assert!(note.contains(&format!("{period}: {} records in the police files", element_text(&dashboard, "headline-2"))));
    let page = app.get(&format!("/indicators/{vso}?quarter={quarter}"), &analyst).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains(&format!("{in_area} ({quarter})")),
        "the indicator's latest is the dashboard's {in_area}"
    );
    let source = element_text(&page, "source");
    assert!(source.contains("Violence and sexual offences") && source.contains("area (its LSOAs)"), "{source}");
    let expected = db
        .police_figure_of(&["Violence and sexual offences".to_string()], quarter.rolling_12_months(), None, false)
        .await
        .unwrap()
        .count;
    assert_eq!(alliance_core::format::count(expected), in_area);
    assert_eq!(pack(&db, &quarter.to_string()).await.indicator("vso-12m").unwrap().latest, Some(expected as f64));
    // Every record of the files is more, and the dashboard says why.
    assert!(note.contains("have no location or lie outside the areas loaded"), "{note}");

    // ---- A partner series feeds an indicator: monthly values summed into the quarter.
    let audit = ImportAudit::new(Actor::new("user:data@council.example", "127.0.0.1"), "import indicators");
    let text = "indicator,area_code,period,value,age_band\n\
                School exclusions,E06000021,2025-07,10,\n\
                School exclusions,E06000021,2025-08,12,\n\
                School exclusions,E06000021,2025-09,14,\n\
                School exclusions,E06000021,2025-07,100,11-15\n\
                School exclusions,E06000021,2025-10,5,\n";
    let file = SourceFile::from_bytes("exclusions.csv", text.as_bytes().to_vec());
    let values = alliance_ingest::indicators::read_indicator_file(&file).expect("a good file");
    db.import_indicator_values_audited(&file, values, IndicatorSupplier::Organisation(council), &audit)
        .await
        .expect("imported");
    let council_text = council.to_string();
    let sum = define(
        &app,
        &analyst,
        "exclusions-sum",
        &[
            ("source", "partner-series"),
            ("series", "School exclusions"),
            ("series_org", &council_text),
            ("series_measure", "sum"),
        ],
    )
    .await;
    define(
        &app,
        &analyst,
        "exclusions-mean",
        &[("source", "partner-series"), ("series", "School exclusions"), ("series_measure", "mean")],
    )
    .await;
    define(
        &app,
        &analyst,
        "exclusions-monthly",
        &[("source", "partner-series"), ("series", "School exclusions"), ("frequency", "monthly")],
    )
    .await;
    let police_org = db
        .create_organisation("Staffordshire Police", alliance_core::access::OrgType::Police, &common::test_actor())
        .await
        .unwrap();
    let police_text = police_org.to_string();
    define(
        &app,
        &analyst,
        "exclusions-police",
        &[("source", "partner-series"), ("series", "School exclusions"), ("series_org", &police_text)],
    )
    .await;
    let q3 = pack(&db, "2025Q3").await;
    let row = q3.indicator("exclusions-sum").unwrap();
    assert_eq!(
        (row.latest, row.latest_period.as_deref()),
        (Some(36.0), Some("2025Q3")),
        "10 + 12 + 14, the age band left out"
    );
    assert_eq!(q3.indicator("exclusions-mean").unwrap().latest, Some(12.0));
    let monthly = q3.indicator("exclusions-monthly").unwrap();
    assert_eq!((monthly.latest, monthly.latest_period.as_deref()), (Some(14.0), Some("2025-09")));
    assert_eq!(monthly.series.len(), 6);
    let other = q3.indicator("exclusions-police").unwrap();
    assert_eq!(other.latest, None, "the police supplied no values of the series");
    assert!(other.note.contains("no values"), "{}", other.note);
    // October alone does not make 2025Q4: the quarter is not computed and says why.
    let q4 = pack(&db, "2025Q4").await;
    let row = q4.indicator("exclusions-sum").unwrap();
    assert_eq!(row.series.last(), Some(&("2025Q4".to_string(), None)));
    assert!(row.note.contains("1 of the 3 months"), "{}", row.note);
    let page = app.get(&format!("/indicators/{sum}?quarter=2025Q3"), &analyst).await;
    let source = element_text(&page, "source");
    assert!(
        source.contains("School exclusions") && source.contains("supplied by Stoke-on-Trent City Council"),
        "{source}"
    );
    // Typing its values is refused with the reason, on the form and in an uploaded file.
    let typed =
        app.post_form(&format!("/indicators/{sum}/values"), &analyst, &[("period", "2025Q3"), ("value", "36")]).await;
    assert_eq!(typed.status, StatusCode::FORBIDDEN);
    assert!(typed.body.contains("upload the series on the partner"), "{}", typed.body);
    let err = db
        .enter_indicator_values(
            &[("exclusions-sum".into(), "2025Q3".into(), 36.0, String::new())],
            &common::test_actor(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, DbError::Invalid { .. })
            && err.to_string().contains("takes its values from the partner series \"School exclusions\""),
        "{err}"
    );

    // ---- Emergency department: quarterly only, counted by method, withheld below the threshold.
    let monthly_ed = app
        .post_form(
            "/indicators",
            &analyst,
            &indicator_form("ed-monthly", &[("source", "ed"), ("ed_select", "all"), ("frequency", "monthly")]),
        )
        .await;
    assert_eq!(monthly_ed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        monthly_ed.body.contains("href=\"#source\"")
            && monthly_ed.body.contains("published over calendar quarters only"),
        "refused, saying why"
    );
    assert!(monthly_ed.body.contains("value=\"ed-monthly\""), "what was typed is kept");
    let mut rows: Vec<(&str, &str)> = (1..=7).map(|_| ("2025-08-12", "06")).collect();
    rows.extend([("2025-07-02", "01"), ("2025-09-20", "01"), ("2025-09-21", "02")]);
    import_ed(&db, &rows).await;
    let knife = define(&app, &analyst, "ed-knife", &[("source", "ed"), ("ed_select", "method:06")]).await;
    define(&app, &analyst, "ed-all", &[("source", "ed"), ("ed_select", "all")]).await;
    let q3 = pack(&db, "2025Q3").await;
    assert_eq!(q3.indicator("ed-knife").unwrap().latest, Some(7.0));
    assert_eq!(q3.indicator("ed-all").unwrap().latest, Some(10.0));
    // A reader at aggregate level: 7 is withheld under a threshold of 10, shown under 5.
    let mut hidden = pack(&db, "2025Q3").await;
    hidden.restrict_indicators(&alliance_app::Disclosure::new(10).unwrap(), |_| AccessLevel::Aggregate);
    let row = hidden.indicator("ed-knife").unwrap();
    assert_eq!(row.latest, None);
    assert!(row.latest_text().contains("withheld"), "{}", row.latest_text());
    assert_eq!(hidden.indicator("ed-all").unwrap().latest, Some(10.0));
    let mut shown = pack(&db, "2025Q3").await;
    shown.restrict_indicators(&alliance_app::Disclosure::new(5).unwrap(), |_| AccessLevel::Aggregate);
    assert_eq!(shown.indicator("ed-knife").unwrap().latest, Some(7.0));
    // A Board member of an organisation with no ED grant sees no ED figure.
    let page = app.get(&format!("/indicators/{knife}?quarter=2025Q3"), &board).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Not shown: emergency department data"), "{}", element_text(&page, "values"));

    // ---- Referrals: counted per quarter, and suppressed for every reader below the threshold.
    define(&app, &analyst, "referrals-made", &[("source", "referrals"), ("referral_event", "made")]).await;
    let q3 = pack(&db, "2025Q3").await;
    assert_eq!(q3.indicator("referrals-made").unwrap().latest, Some(0.0), "no referrals yet");
    let bad = app
        .post_form(
            "/indicators",
            &analyst,
            &indicator_form(
                "referrals-x",
                &[("source", "referrals"), ("referral_event", "made"), ("referral_service", "no-such-service")],
            ),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("not a service that takes referrals"));

    // ---- The command line defines the same kind of indicator, checked the same way.
    let out = common::alliance(
        &app.db_url,
        &[
            "indicators",
            "define",
            "--code",
            "sv-quarter",
            "--name",
            "Serious violence",
            "--unit",
            "crimes",
            "--direction",
            "down",
            "--source",
            "police",
            "--select",
            "serious-violence",
        ],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let ind = db.indicator_by_code("sv-quarter").await.unwrap().expect("defined");
    assert_eq!(ind.source.as_string(), "computed:police;measure=count;select=serious-violence");
    let refused = common::alliance(
        &app.db_url,
        &[
            "indicators",
            "define",
            "--code",
            "ed-month",
            "--name",
            "ED",
            "--unit",
            "attendances",
            "--direction",
            "down",
            "--source",
            "ed",
            "--select",
            "all",
            "--frequency",
            "monthly",
        ],
    );
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("quarterly"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    assert!(db.indicator_by_code("ed-month").await.unwrap().is_none(), "nothing stored");
    let shown = common::alliance(&app.db_url, &["indicators", "show", "exclusions-sum", "--quarter", "2025Q3"]);
    assert!(
        String::from_utf8_lossy(&shown.stdout).contains("2025Q3  36"),
        "{}",
        String::from_utf8_lossy(&shown.stdout)
    );
    assert_eq!(db.verify_audit_chain().await.unwrap().first_broken, None);
}

on_each_app!(computed_indicators);

/// The quarter the indicator pages and the dashboard open on counts emergency department
/// files and partner series as well as police data, each only for readers who may see it:
/// police data ends in 2025Q2, the ED file covers 2025Q3 and an education series reaches
/// 2025Q4. The ED owner's analyst opens on 2025Q3, the series owner's on 2025Q4, and a
/// reader with neither opens on the police quarter (the restricted data's date is not told).
async fn the_default_quarter_counts_every_source_the_reader_may_see(app: TestApp) {
    let db = app.db.clone();
    let dir = tempfile::tempdir().expect("tempdir");
    let header = "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,Last outcome category,Context\n";
    for (n, month) in ["2025-04", "2025-05", "2025-06"].iter().enumerate() {
        let text = format!(
            "{header}{n:064x},{month},Wiltshire Police,Wiltshire Police,-1.78,51.56,On or near Station Road,E01099999,Test 001A,Robbery,Under investigation,\n"
        );
        std::fs::write(dir.path().join(format!("{month}-wiltshire-street.csv")), text).expect("write");
    }
    common::import_all(&db, &common::police_files(dir.path())).await;
    let hospital_analyst = app.signed_in("analyst@hospital.example", Role::Analyst, "City Hospital").await;
    let council_analyst = app.signed_in("analyst@council.example", Role::Analyst, "A council").await;
    let outsider = app.signed_in("analyst@charity.example", Role::Analyst, "A charity").await;
    let hospital = db.organisation_by_name("City Hospital").await.unwrap().expect("org").id;
    let council = db.organisation_by_name("A council").await.unwrap().expect("org").id;
    db.set_dataset_owner("ed-assaults", hospital, &common::test_actor()).await.unwrap();
    db.set_dataset_owner("indicators:education", council, &common::test_actor()).await.unwrap();
    let opens_on = |who: Caller, path: &'static str| {
        let app = &app;
        async move {
            let page = app.get(path, &who).await;
            assert_eq!(page.status, StatusCode::OK, "{path}");
            ["2025Q2", "2025Q3", "2025Q4"]
                .into_iter()
                .find(|q| {
                    let label = q.parse::<Quarter>().unwrap().label();
                    page.body.contains(&format!("Indicators: {label}"))
                        || page.body.contains(&format!("Partnership dashboard: {label}"))
                })
                .unwrap_or("another quarter")
        }
    };
    assert_eq!(opens_on(hospital_analyst.clone(), "/indicators").await, "2025Q2", "police data only so far");

    // ED newer than police: the ED owner's pages move on; nobody else's do.
    let mut rows: Vec<(&str, &str)> = (1..=7).map(|_| ("2025-08-12", "06")).collect();
    rows.push(("2025-09-20", "01"));
    import_ed(&db, &rows).await;
    assert_eq!(opens_on(hospital_analyst.clone(), "/indicators").await, "2025Q3");
    assert_eq!(opens_on(hospital_analyst.clone(), "/governance").await, "2025Q3");
    assert_eq!(opens_on(council_analyst.clone(), "/indicators").await, "2025Q2");
    assert_eq!(opens_on(outsider.clone(), "/indicators").await, "2025Q2", "the ED file's date is not told");

    // A partner series newer still (monthly education values to December).
    let audit = ImportAudit::new(Actor::new("user:data@council.example", "127.0.0.1"), "import indicators");
    let text = "indicator,area_code,period,value\n\
                School exclusions,E06000054,2025-11,4\n\
                School exclusions,E06000054,2025-12,6\n";
    let file = SourceFile::from_bytes("exclusions.csv", text.as_bytes().to_vec());
    let values = alliance_ingest::indicators::read_indicator_file(&file).expect("a good file");
    db.import_indicator_values_audited(&file, values, IndicatorSupplier::Organisation(council), &audit)
        .await
        .expect("imported");
    assert_eq!(opens_on(council_analyst.clone(), "/indicators").await, "2025Q4");
    assert_eq!(opens_on(hospital_analyst.clone(), "/indicators").await, "2025Q3");
    assert_eq!(opens_on(outsider.clone(), "/indicators").await, "2025Q2");
    // The Board pack opens on the same quarter as the pages, reader by reader.
    for (who, want) in [(&council_analyst, "2025Q4"), (&hospital_analyst, "2025Q3"), (&outsider, "2025Q2")] {
        let to = app.get("/board-pack", who).await;
        assert_eq!(to.header("location"), Some(format!("/board-pack/{want}").as_str()));
    }
    // The command line runs with the database's own rights: every source counts.
    let current = Quarter::of_date(&alliance_db::clock::today()).expect("today");
    let all = |_: &str| AccessLevel::Record;
    let latest = alliance_app::board_pack::latest_quarter_seen_by(&db, current, true, all).await.unwrap();
    assert_eq!(latest.to_string(), "2025Q4");
    let open = alliance_app::board_pack::latest_quarter_with_data(&db, current, true).await.unwrap();
    assert_eq!(open.to_string(), "2025Q2", "without a reader's rights, only open data counts");
}

on_each_app!(the_default_quarter_counts_every_source_the_reader_may_see);
