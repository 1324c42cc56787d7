//! The intervention register and its evaluations:
//! `GET /interventions`, `GET|POST /interventions/new`, `POST /interventions`,
//! `GET /interventions/{id}`, `GET|POST /interventions/{id}/edit`,
//! `POST /interventions/{id}/evaluations`, `POST /interventions/{id}/evaluations/{eid}/rerun`,
//! `GET /interventions/{id}/evaluations/{eid}.html`; JSON: `GET /api/v1/interventions`,
//! `GET /api/v1/interventions/{id}/evaluations/{eid}`, `POST /api/v1/evaluate`.

use crate::extract::Path;
use crate::forms;
use alliance_app::evaluation::{self, EvaluationDesign, EvaluationReport};
use alliance_app::AppError;
use alliance_db::interventions::NewIntervention;
use alliance_db::DbError;
use askama::Template;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json};

use super::see_other;
use crate::auth::{actor, CurrentUser};
use crate::error::not_found;
use crate::routes::api::ApiError;
use crate::views::interventions::{self as v, DetailPage, FormPage, FormValues, ListPage};
use crate::{AppState, PageError};

async fn list(State(state): State<AppState>) -> Result<Html<String>, PageError> {
    Ok(Html(ListPage::new(&state, state.db.interventions().await?).render()?))
}

async fn new_form(State(state): State<AppState>) -> Result<Html<String>, PageError> {
    Ok(Html(form_page(&state, None, FormValues::new(), Vec::new()).await?.render()?))
}

/// The form with the commissioned services an intervention can name (issue 17).
async fn form_page(
    state: &AppState,
    id: Option<i64>,
    values: FormValues,
    errors: Vec<v::FieldError>,
) -> Result<FormPage, PageError> {
    let services = state.db.referral_services().await?.into_iter().map(|s| (s.service.id, s.service.name)).collect();
    Ok(FormPage::new(state, id, values, errors).with_services(services))
}

async fn create(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Form(values): Form<FormValues>,
) -> Result<Response, PageError> {
    match checked(&state, v::validate(&values)).await? {
        Ok(fields) => {
            let key = values.get(forms::SUBMISSION).map(String::as_str);
            let id = state.db.create_intervention(&fields, key, &actor(&user)).await?;
            Ok(see_other(&format!("/interventions/{id}")))
        }
        Err(errors) => {
            let page = form_page(&state, None, values, errors).await?.render()?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page)).into_response())
        }
    }
}

/// The form's fields with the places it names checked against the register: an intervention
/// can only name places that exist.
async fn checked(
    state: &AppState,
    validated: Result<NewIntervention, Vec<v::FieldError>>,
) -> Result<Result<NewIntervention, Vec<v::FieldError>>, PageError> {
    let Ok(fields) = validated else { return Ok(validated) };
    if let Some(service) = &fields.referral_service {
        if state.db.referral_service(service).await?.is_none() {
            let message = "Select a commissioned service from the list, or \"None\"".to_string();
            return Ok(Err(vec![v::FieldError { field: "referral_service".into(), message }]));
        }
    }
    if fields.place_kind != "place" {
        return Ok(Ok(fields));
    }
    match state.db.places_named("place_names", &fields.place_codes).await {
        Ok(_) => Ok(Ok(fields)),
        Err(DbError::Invalid { field, reason }) => {
            Ok(Err(vec![v::FieldError { field: field.into(), message: reason }]))
        }
        Err(e) => Err(e.into()),
    }
}

async fn edit_form(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Response, PageError> {
    let Some(i) = state.db.intervention(id).await? else { return Err(not_found()) };
    Ok(Html(form_page(&state, Some(id), v::values_of(&i), Vec::new()).await?.render()?).into_response())
}

async fn update(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
    Form(values): Form<FormValues>,
) -> Result<Response, PageError> {
    match checked(&state, v::validate(&values)).await? {
        Ok(fields) => {
            if !state.db.update_intervention(id, &fields, forms::seen_version(&values), &actor(&user)).await? {
                return Err(not_found());
            }
            Ok(see_other(&format!("/interventions/{id}")))
        }
        Err(errors) => {
            let page = form_page(&state, Some(id), values, errors).await?.render()?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page)).into_response())
        }
    }
}

async fn detail(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Response, PageError> {
    let Some(i) = state.db.intervention(id).await? else { return Err(not_found()) };
    let evaluations = state.db.evaluations_of(id).await?;
    let page = DetailPage::new(&state, i, evaluations, v::evaluate_defaults(), Vec::new());
    Ok(Html(page.render()?).into_response())
}

async fn evaluate(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
    Form(values): Form<FormValues>,
) -> Result<Response, PageError> {
    let Some(i) = state.db.intervention(id).await? else { return Err(not_found()) };
    let outcome = match v::validate_design(&i, &values) {
        Ok(design) => match evaluation::store(&state.db, id, &design, &actor(&user)).await {
            Ok(stored) => return Ok(see_other(&format!("/interventions/{id}#evaluation-{}", stored.id))),
            // The design could not be run on the data held (periods without data, unknown codes…):
            // the message goes with the form field it is about.
            Err(AppError::Invalid { field, reason }) => {
                vec![v::FieldError { field: form_field(field, &values).into(), message: reason }]
            }
            Err(e) => return Err(e.into()),
        },
        Err(errors) => errors,
    };
    let evaluations = state.db.evaluations_of(id).await?;
    let page = DetailPage::new(&state, i, evaluations, values, outcome).render()?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page)).into_response())
}

/// The Evaluate form's field for an input the evaluation names.
fn form_field(field: &str, values: &v::FormValues) -> &'static str {
    match field {
        "after" => "after_from",
        "buffer_metres" => "buffer_metres",
        // The intervention's own place, not a field of this form: said above the form.
        "target" => "target",
        "comparison" if values.get("comparison_kind").is_some_and(|k| k == "place") => "comparison_places",
        "comparison" => "comparison_codes",
        _ => "before_from",
    }
}

async fn rerun(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path((id, eid)): Path<(i64, i64)>,
) -> Result<Response, PageError> {
    if state.db.evaluation(id, eid).await?.is_none() {
        return Err(not_found());
    }
    evaluation::rerun(&state.db, id, eid, &actor(&user)).await?;
    Ok(see_other(&format!("/interventions/{id}")))
}

async fn report(State(state): State<AppState>, Path((id, file)): Path<(i64, String)>) -> Result<Response, PageError> {
    let Some(eid) = file.strip_suffix(".html").and_then(|e| e.parse::<i64>().ok()) else { return Err(not_found()) };
    let (Some(i), Some(e)) = (state.db.intervention(id).await?, state.db.evaluation(id, eid).await?) else {
        return Err(not_found());
    };
    let design = &e.report.basis.design;
    let disclosure = state.disclosure().await;
    let referrals =
        alliance_app::referrals::for_intervention(&state.db, id, design.before, design.after, &disclosure).await?;
    let html = alliance_reports::evaluation::render_with_referrals(
        &e.report,
        &format!("{}: evaluation {eid}", i.name),
        referrals.as_ref(),
    );
    let disposition = format!("inline; filename=\"intervention-{id}-evaluation-{eid}.html\"");
    Ok((
        [(header::CONTENT_TYPE, "text/html; charset=utf-8".to_string()), (header::CONTENT_DISPOSITION, disposition)],
        html,
    )
        .into_response())
}

async fn api_list(State(state): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    let list = state.db.interventions().await?;
    Ok(Json(serde_json::json!({ "interventions": list })))
}

async fn api_evaluation(
    State(state): State<AppState>,
    Path((id, eid)): Path<(i64, i64)>,
) -> Result<Response, ApiError> {
    match state.db.evaluation(id, eid).await? {
        Some(e) => Ok(Json(e).into_response()),
        None => Err(ApiError::NoSuch(format!("intervention {id} has no evaluation {eid}"))),
    }
}

async fn api_evaluate(
    State(state): State<AppState>,
    Json(design): Json<EvaluationDesign>,
) -> Result<Json<EvaluationReport>, ApiError> {
    match evaluation::run(&state.db, &design).await {
        Ok(report) => Ok(Json(report)),
        // A design that cannot be run on the data held is the client's to change.
        Err(AppError::Invalid { reason, .. }) => Err(ApiError::BadRequest(reason)),
        Err(e) => Err(e.into()),
    }
}

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/interventions", get(list).post(create))
        .route("/interventions/new", get(new_form))
        .route("/interventions/{id}", get(detail))
        .route("/interventions/{id}/edit", get(edit_form).post(update))
        .route("/interventions/{id}/evaluations", post(evaluate))
        .route("/interventions/{id}/evaluations/{eid}/rerun", post(rerun))
        .route("/interventions/{id}/evaluations/{file}", get(report))
        .route("/api/v1/interventions", get(api_list))
        .route("/api/v1/interventions/{id}/evaluations/{eid}", get(api_evaluation))
        .route("/api/v1/evaluate", post(api_evaluate))
}
