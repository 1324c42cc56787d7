//! `GET /public/figures`: the partnership's published figures from aggregate data only,
//! every count run through small-number suppression (`analytics::suppression`) — police
//! counts are public already, but the page applies one rule to everything it shows.

use alliance_app::counts::{self, Scope};
use alliance_app::forces::ForceCoverage;
use alliance_core::analytics::suppression::Shown;
use alliance_core::domain::{CountField, CountFilter};
use askama::Template;
use axum::extract::State;
use axum::response::Html;
use axum::routing::get;
use axum::Router;

use alliance_core::domain::CountRow;

use crate::views::public::{FiguresPage, PublicLayout, PublishedReports, ShownRow};
use crate::{AppState, PageError};
use alliance_reports::chart::{line_chart, Series, COLOURS};

pub fn routes() -> Router<AppState> {
    Router::new().route("/public/figures", get(figures))
}

async fn figures(State(state): State<AppState>) -> Result<Html<String>, PageError> {
    let disclosure = state.disclosure().await;
    let shown = |n: i64| disclosure.count(n.max(0) as u64);
    let shown_text = |s: Shown| disclosure.display_grouped(s);
    // The partnership's own districts (a national deprivation file holds all of England's, a
    // national archive every force's records): the chart, the month table and the district
    // table all count the same records, so a month's figure is the sum of its districts'.
    let area = counts::districts(&state.db, Vec::new(), Scope::Partnership).await?;
    let area_codes: Vec<String> = area.iter().map(|d| d.to_string()).collect();
    let in_area = CountFilter { districts: area, ..CountFilter::default() };
    // Another force's records are not the partnership's figures: none are published until
    // the partnership's own force's files are in (`alliance_app::forces`).
    let coverage = ForceCoverage::load(&state.db).await?;
    let months = match coverage.own_held() {
        true => last_24_months(&state.db.counts(&[CountField::Month], &in_area).await?),
        false => Vec::new(),
    };
    let labels: Vec<String> = months.iter().map(|(m, _)| m.clone()).collect();
    let values: Vec<Option<i64>> = months.iter().map(|(_, n)| shown(*n).value().map(|v| v as i64)).collect();
    let chart = if labels.is_empty() {
        String::new()
    } else {
        line_chart(
            "crimes-by-month",
            "Police recorded crime by month",
            "Street-level crimes and anti-social behaviour recorded by the police, by month",
            &labels,
            &[Series { name: "Crimes and anti-social behaviour".into(), colour: COLOURS[0], values }],
        )
    };
    let names: std::collections::HashMap<String, String> =
        state.db.districts().await?.into_iter().map(|d| (d.code, d.name)).collect();
    let latest: Vec<_> = months.iter().rev().take(12).map(|(m, _)| m.clone()).collect();
    let filter = CountFilter {
        from: latest.last().and_then(|m| m.parse().ok()),
        to: latest.first().and_then(|m| m.parse().ok()),
        ..in_area
    };
    let by_district = match months.is_empty() {
        true => Vec::new(),
        false => state.db.counts(&[CountField::District], &filter).await?,
    };
    let mut counted: std::collections::HashMap<String, i64> =
        by_district.iter().filter_map(|r| Some((r.values.first()?.clone()?, r.count))).collect();
    // Every one of the partnership's districts is listed, a district with no record too (a
    // table that leaves one out reads as if it were not in the partnership).
    if !months.is_empty() {
        for code in &area_codes {
            counted.entry(code.clone()).or_insert(0);
        }
    }
    let mut districts: Vec<ShownRow> = counted
        .into_iter()
        .map(|(code, n)| ShownRow { name: names.get(&code).cloned().unwrap_or(code), shown: shown_text(shown(n)) })
        .collect();
    districts.sort_by(|a, b| a.name.cmp(&b.name));
    let today = alliance_db::clock::today_date();
    // The total and the squares of the hierarchy /you-said-we-did publishes by district and
    // ward, suppressed jointly with it so no district, ward or square follows by subtraction.
    let reports = PublishedReports::load(&state.db, &disclosure).await?;
    Ok(Html(
        FiguresPage {
            layout: PublicLayout::new(&state, "/public/figures"),
            chart,
            months: months.iter().map(|(m, n)| ShownRow { name: m.clone(), shown: shown_text(shown(*n)) }).collect(),
            districts,
            signatories: shown_text(Shown::Value(state.db.current_signatory_count(today).await?.max(0) as u64)),
            reports: reports.total,
            threshold: disclosure.threshold(),
            hotspot_cells: reports.cells,
            police_withheld: coverage.public_note(),
        }
        .render()?,
    ))
}

/// The last 24 months of counts by month, oldest first.
fn last_24_months(by_month: &[CountRow]) -> Vec<(String, i64)> {
    let months: Vec<(String, i64)> =
        by_month.iter().filter_map(|r| Some((r.values.first()?.clone()?, r.count))).collect();
    let skip = months.len().saturating_sub(24);
    months.into_iter().skip(skip).collect()
}
