//! `GET /you-said-we-did`: the partnership's responses beside suppressed counts of approved
//! reports by district and ward; `GET/POST /staff/you-said-we-did`: publishing a response.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Form, Router};

use super::{redirect, staff_actor};
use crate::views::public::{PublicLayout, ShownRow, StaffResponsesPage, YouSaidPage};
use crate::views::Layout;
use crate::{AppState, PageError};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/you-said-we-did", get(public_page))
        .route("/staff/you-said-we-did", get(staff_page).post(publish))
}

async fn public_page(State(state): State<AppState>) -> Result<Html<String>, PageError> {
    let districts = state.db.unsafe_report_area_counts("district").await?;
    let wards = state.db.unsafe_report_area_counts("ward").await?;
    Ok(Html(
        YouSaidPage {
            layout: PublicLayout::new(&state, "/you-said-we-did"),
            responses: state.db.public_responses().await?,
            districts: districts.iter().map(|d| ShownRow::area(d, &state.disclosure)).collect(),
            wards: wards.iter().filter(|w| w.count > 0).map(|w| ShownRow::area(w, &state.disclosure)).collect(),
        }
        .render()?,
    ))
}

/// Areas a response can be about: districts, then wards with approved reports (most first).
async fn areas(state: &AppState) -> Result<Vec<(String, String)>, PageError> {
    let mut areas: Vec<(String, String)> = state
        .db
        .unsafe_report_area_counts("district")
        .await?
        .into_iter()
        .map(|d| (format!("district:{}", d.code), format!("{} (district, {} reports)", d.name, d.count)))
        .collect();
    areas.extend(
        state
            .db
            .unsafe_report_area_counts("ward")
            .await?
            .into_iter()
            .filter(|w| w.count > 0)
            .map(|w| (format!("ward:{}", w.code), format!("{} (ward, {} reports)", w.name, w.count))),
    );
    Ok(areas)
}

async fn render_staff(state: &AppState, error: Option<String>) -> Result<String, PageError> {
    Ok(StaffResponsesPage {
        layout: Layout::new(state, "/staff/you-said-we-did"),
        error,
        areas: areas(state).await?,
        responses: state.db.public_responses().await?,
    }
    .render()?)
}

async fn staff_page(State(state): State<AppState>) -> Result<Html<String>, PageError> {
    Ok(Html(render_staff(&state, None).await?))
}

#[derive(serde::Deserialize)]
struct NewResponse {
    area: String,
    you_said: String,
    we_did: String,
}

async fn publish(State(state): State<AppState>, Form(form): Form<NewResponse>) -> Result<Response, PageError> {
    let found = areas(&state).await?.into_iter().find(|(key, _)| *key == form.area);
    let error = if found.is_none() {
        Some("Select the area the response is about")
    } else if form.you_said.trim().is_empty() || form.we_did.trim().is_empty() {
        Some("Enter what people told us and what the partnership did")
    } else {
        None
    };
    if let Some(error) = error {
        return Ok(
            (StatusCode::UNPROCESSABLE_ENTITY, Html(render_staff(&state, Some(error.into())).await?)).into_response()
        );
    }
    let (key, label) = found.unwrap_or_default();
    let (kind, code) = key.split_once(':').unwrap_or(("district", key.as_str()));
    let name = label.split(" (").next().unwrap_or(&label);
    state.db.publish_response(kind, code, name, form.you_said.trim(), form.we_did.trim(), &staff_actor()).await?;
    Ok(redirect("/staff/you-said-we-did"))
}
