//! The Board pack's indicator trend is year on year (`alliance_core::governance::trend`): the
//! latest value against the same quarter (or month) a year earlier, gathered from every value
//! entered, not from the four quarters the pack shows; with no value a year earlier there is
//! no trend yet. A year-earlier value the reader may not see withholds the trend too.

use alliance_app::board_pack::BoardPack;
use alliance_app::Disclosure;
use alliance_core::access::AccessLevel;
use alliance_core::governance::{Direction, IndicatorSource, Quarter, Trend};
use alliance_db::audit::Actor;
use alliance_db::governance::NewIndicator;
use alliance_db::Db;

/// A fresh SQLite database in its own folder (kept alive by the returned guard).
async fn fresh_db() -> (tempfile::TempDir, Db) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let url = format!("sqlite://{}", dir.path().join("trend.db").display());
    let db = Db::connect(&url).await.expect("the database opens");
    (dir, db)
}

fn indicator<'a>(code: &'a str, name: &'a str, frequency: &'a str, direction: Direction) -> NewIndicator<'a> {
    NewIndicator {
        code,
        name,
        kind: "outcome",
        definition: "test",
        unit: "count",
        frequency,
        direction,
        baseline: None,
        baseline_period: None,
        target: None,
        tolerance: None,
        owner_org_id: None,
        priority_id: None,
        source: IndicatorSource::Entered,
    }
}

async fn enter(db: &Db, code: &str, values: &[(&str, f64)]) {
    let rows: Vec<(String, String, f64, String)> =
        values.iter().map(|(p, v)| (code.to_string(), p.to_string(), *v, String::new())).collect();
    let stored = db.enter_indicator_values(&rows, &Actor::new("analyst", "test")).await.expect("values entered");
    assert_eq!(stored, values.len());
}

fn q(s: &str) -> Quarter {
    s.parse().expect("a quarter")
}

#[tokio::test]
async fn the_board_pack_trend_compares_the_same_quarter_a_year_earlier() {
    let (_dir, db) = fresh_db().await;
    let actor = Actor::new("analyst", "test");
    for (code, name, frequency, direction) in [
        ("robbery", "Robbery", "quarterly", Direction::Down),
        ("robbery-new", "Robbery (new series)", "quarterly", Direction::Down),
        ("public-order", "Public order offences", "quarterly", Direction::Down),
        ("take-up", "Sessions taken up", "quarterly", Direction::Up),
        ("calls", "Calls about disorder", "monthly", Direction::Down),
    ] {
        db.create_indicator(&indicator(code, name, frequency, direction), &actor).await.expect("indicator added");
    }
    // Robbery 2025: 184, 312, 276, 259; 2024Q4 was 301. Under the old rule (Q4 against Q1)
    // this read "Worsening"; 259 against 301 is a fall: improving.
    let robbery_2025 = [("2025Q1", 184.0), ("2025Q2", 312.0), ("2025Q3", 276.0), ("2025Q4", 259.0)];
    enter(&db, "robbery", &[("2024Q4", 301.0)]).await;
    enter(&db, "robbery", &robbery_2025).await;
    // The same quarters with nothing a year before: no trend yet, not a verdict.
    enter(&db, "robbery-new", &robbery_2025).await;
    // Public order 2025: 1,823, 2,207, 2,392, 1,978; 2024Q4 was 1,902: 76 more, worsening,
    // although it fell 17% from Q3 (and older values, 2023Q4, do not count).
    enter(
        &db,
        "public-order",
        &[
            ("2023Q4", 2500.0),
            ("2024Q4", 1902.0),
            ("2025Q1", 1823.0),
            ("2025Q2", 2207.0),
            ("2025Q3", 2392.0),
            ("2025Q4", 1978.0),
        ],
    )
    .await;
    // Higher is better: 40 against 50 a year earlier is worsening.
    enter(&db, "take-up", &[("2024Q4", 50.0), ("2025Q3", 10.0), ("2025Q4", 40.0)]).await;
    // Monthly: December 2025 (35) against December 2024 (30), not against November (60).
    enter(&db, "calls", &[("2024-12", 30.0), ("2025-11", 60.0), ("2025-12", 35.0)]).await;

    let pack = BoardPack::load(&db, q("2025Q4"), "Test").await.expect("the pack");
    let trend = |code: &str| pack.indicator(code).unwrap_or_else(|| panic!("{code} in the pack")).trend;
    assert_eq!(trend("robbery"), Trend::Improving);
    assert_eq!(trend("robbery-new"), Trend::Unknown);
    assert_eq!(trend("robbery-new").label(), "Not enough data");
    assert_eq!(trend("public-order"), Trend::Worsening);
    assert_eq!(trend("take-up"), Trend::Worsening);
    assert_eq!(trend("calls"), Trend::Worsening);
    let robbery = pack.indicator("robbery").expect("robbery");
    assert_eq!(robbery.trend_basis, Some(("2024Q4".to_string(), 301.0)));
    assert_eq!(robbery.series.len(), 4, "the pack still shows four quarters");

    // A quarter's pack uses the value latest at that quarter: at 2025Q3, 276 against no
    // 2024Q3 value is no trend yet.
    let q3 = BoardPack::load(&db, q("2025Q3"), "Test").await.expect("the pack");
    assert_eq!(q3.indicator("robbery").map(|i| i.trend), Some(Trend::Unknown));
}

#[tokio::test]
async fn a_hidden_year_earlier_value_withholds_the_trend() {
    let (_dir, db) = fresh_db().await;
    let actor = Actor::new("analyst", "test");
    let name = "Youth justice first time entrants";
    assert_eq!(alliance_core::access::indicator_dataset(name), "indicators:youth-justice");
    db.create_indicator(&indicator("fte", name, "quarterly", Direction::Down), &actor).await.expect("indicator added");
    let disclosure = Disclosure::default();
    let threshold = disclosure.threshold() as f64;
    assert!(threshold > 2.0, "2 is a value the threshold hides");
    // 2 a year before (hidden below record level); the quarters shown are all publishable.
    let shown = [threshold + 10.0, threshold + 11.0, threshold + 12.0, threshold + 13.0];
    let quarters = ["2025Q1", "2025Q2", "2025Q3", "2025Q4"];
    let mut values = vec![("2024Q4", 2.0)];
    values.extend(quarters.into_iter().zip(shown));
    enter(&db, "fte", &values).await;

    let mut record = BoardPack::load(&db, q("2025Q4"), "Test").await.expect("the pack");
    record.restrict_indicators(&disclosure, |_| AccessLevel::Record);
    assert_eq!(record.indicator("fte").map(|i| i.trend), Some(Trend::Worsening));

    let mut aggregate = BoardPack::load(&db, q("2025Q4"), "Test").await.expect("the pack");
    aggregate.restrict_indicators(&disclosure, |_| AccessLevel::Aggregate);
    let fte = aggregate.indicator("fte").expect("fte");
    assert_eq!(fte.trend, Trend::Unknown, "the trend would tell of the hidden 2");
    assert_eq!(fte.latest, Some(threshold + 13.0), "the latest value is still shown");
    assert!(fte.series.iter().all(|(_, v)| v.is_some()), "every quarter shown is publishable");
}
