//! `GET /you-said-we-did`: the partnership's responses beside suppressed counts of approved
//! reports by district and ward; `GET/POST /staff/you-said-we-did`: publishing a response.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::auth::{actor, CurrentUser};
use crate::extract::Form;
use crate::forms;
use crate::routes::see_other;
use crate::views::public::{PublicLayout, PublishedReports, StaffResponsesPage, YouSaidPage};
use crate::views::Layout;
use crate::{AppState, PageError};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/you-said-we-did", get(public_page))
        .route("/staff/you-said-we-did", get(staff_page).post(publish))
}

async fn public_page(State(state): State<AppState>) -> Result<Html<String>, PageError> {
    let disclosure = state.disclosure().await;
    // Suppressed together with /public/figures' total (one hierarchy, see PublishedReports).
    let published = PublishedReports::load(&state.db, &disclosure).await?;
    Ok(Html(
        YouSaidPage {
            layout: PublicLayout::new(&state, "/you-said-we-did"),
            responses: state.db.public_responses().await?,
            districts: published.districts,
            wards: published.wards,
            threshold: disclosure.threshold(),
        }
        .render()?,
    ))
}

/// Areas a response can be about: districts, then wards with approved reports (most first).
async fn areas(state: &AppState) -> Result<Vec<(String, String)>, PageError> {
    let counts: std::collections::HashMap<String, i64> =
        state.db.unsafe_report_area_counts("district").await?.into_iter().map(|d| (d.code, d.count)).collect();
    let mut areas: Vec<(String, String)> = crate::views::public::report_districts(&state.db)
        .await?
        .into_iter()
        .map(|(code, name)| {
            let n = counts.get(&code).copied().unwrap_or(0);
            (format!("district:{code}"), format!("{name} (district, {n} reports)"))
        })
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

async fn render_staff(state: &AppState, mut form: forms::Form) -> Result<String, PageError> {
    forms::ensure_submission_key(&mut form.values);
    Ok(StaffResponsesPage {
        layout: Layout::new(state, "/staff/you-said-we-did"),
        form,
        areas: areas(state).await?,
        responses: state.db.public_responses().await?,
    }
    .render()?)
}

async fn staff_page(State(state): State<AppState>) -> Result<Html<String>, PageError> {
    Ok(Html(render_staff(&state, forms::Form::default()).await?))
}

async fn publish(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let form = forms::Form::new(fields.into_iter().collect());
    let found = areas(&state).await?.into_iter().find(|(key, _)| *key == form.value("area"));
    let (you_said, we_did) = (form.get("you_said").unwrap_or_default(), form.get("we_did").unwrap_or_default());
    let mut errors = Vec::new();
    if found.is_none() {
        errors.push(forms::error("area", "Select the area the response is about"));
    }
    if you_said.is_empty() {
        errors.push(forms::error("you_said", "Enter what people told us"));
    }
    if we_did.is_empty() {
        errors.push(forms::error("we_did", "Enter what the partnership did"));
    }
    let Some((key, label)) = found.filter(|_| errors.is_empty()) else {
        let page = render_staff(&state, forms::Form::with_errors(form.values, errors)).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page)).into_response());
    };
    let (kind, code) = key.split_once(':').unwrap_or(("district", key.as_str()));
    let name = label.split(" (").next().unwrap_or(&label);
    let submission = form.get(forms::SUBMISSION);
    state.db.publish_response(kind, code, name, &you_said, &we_did, submission.as_deref(), &actor(&me)).await?;
    Ok(see_other("/staff/you-said-we-did"))
}
