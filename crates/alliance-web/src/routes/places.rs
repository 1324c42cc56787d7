//! The place register: `GET /places`, `GET /places/new`, `POST /places` (a drawn outline, a
//! GeoJSON file or pasted GeoJSON), `GET /places/{id}`, `GET /places/{id}/geojson`,
//! `POST /places/{id}/delete`; JSON: `GET /api/v1/places` (the register as one GeoJSON
//! FeatureCollection, for the maps). Everyone signed in reads; partnership staff add and remove
//! (the route table), and the use case `alliance_app::places` checks what they give.

use std::collections::HashMap;

use alliance_app::places::{self, PlaceInput};
use alliance_app::AppError;
use alliance_core::access::Role;
use alliance_db::DbError;
use askama::Template;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form as Submitted, Json};

use crate::auth::{actor_of, CurrentUser};
use crate::error::not_found;
use crate::forms::{error, Form};
use crate::routes::api::ApiError;
use crate::views::places::{PlaceFormPage, PlacePage, PlacesPage};
use crate::views::Layout;
use crate::{AppState, PageError};

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/places", get(list).post(add))
        .route("/places/new", get(new_form))
        .route("/places/{id}", get(detail))
        .route("/places/{id}/geojson", get(download))
        .route("/places/{id}/delete", post(remove))
        .route("/api/v1/places", get(api_collection))
}

/// Whether the signed-in user may add and remove places (the route table admits only staff to
/// those routes; this only decides whether the pages offer them).
fn may_edit(role: Role) -> bool {
    matches!(role, Role::Administrator | Role::Analyst)
}

async fn list(State(state): State<AppState>, CurrentUser(user): CurrentUser) -> Result<Html<String>, PageError> {
    let page = PlacesPage {
        layout: Layout::new(&state, "/places"),
        places: state.db.places().await?,
        may_edit: may_edit(user.role),
    };
    Ok(Html(page.render()?))
}

async fn new_form(State(state): State<AppState>) -> Result<Html<String>, PageError> {
    Ok(Html(PlaceFormPage::new(Layout::new(&state, "/places"), Form::default()).render()?))
}

/// Reads the form: `multipart/form-data` from the browser (a `file` and the other fields), or
/// URL-encoded fields alone. The CSRF token was checked by the middleware either way; the body
/// is bounded by the signed-in body limit. The file, when one was chosen, wins over the box.
async fn read_form(state: &AppState, request: Request) -> Result<HashMap<String, String>, String> {
    let is_multipart = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("multipart/form-data"));
    if !is_multipart {
        let Submitted(values) =
            Submitted::<HashMap<String, String>>::from_request(request, state).await.map_err(|e| e.body_text())?;
        return Ok(values);
    }
    let mut form = Multipart::from_request(request, state).await.map_err(|e| e.body_text())?;
    let mut values = HashMap::new();
    while let Some(field) = form.next_field().await.map_err(|e| e.body_text())? {
        let name = field.name().unwrap_or_default().to_string();
        let text = field.text().await.map_err(|e| e.body_text())?;
        if name == "file" {
            if !text.trim().is_empty() {
                values.insert("geojson".to_string(), text);
            }
        } else if !(name == "geojson" && values.contains_key("geojson")) {
            values.insert(name, text);
        }
    }
    Ok(values)
}

async fn add(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    request: Request,
) -> Result<Response, PageError> {
    let layout = Layout::new(&state, "/places");
    let values = match read_form(&state, request).await {
        Ok(values) => values,
        Err(why) => {
            let form =
                Form::with_errors(HashMap::new(), vec![error("geojson", format!("The form could not be read: {why}"))]);
            return Ok((StatusCode::BAD_REQUEST, Html(PlaceFormPage::new(layout, form).render()?)).into_response());
        }
    };
    let form = Form::new(values);
    let input = PlaceInput {
        name: form.value("name"),
        kind: form.value("kind"),
        description: form.value("description"),
        geojson: form.value("geojson"),
    };
    let actor = actor_of(&user, &crate::auth::current().ip);
    match places::add(&state.db, &input, &actor).await {
        Ok(id) => Ok(Redirect::to(&format!("/places/{id}")).into_response()),
        Err(AppError::Invalid { field, reason } | AppError::Conflict { field, reason })
        | Err(AppError::Db(DbError::Invalid { field, reason } | DbError::Conflict { field, reason })) => {
            let form = Form::with_errors(form.values, vec![error(field, reason)]);
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(PlaceFormPage::new(layout, form).render()?)).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

async fn detail(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
) -> Result<Html<String>, PageError> {
    let place = state.db.place(id).await.map_err(missing)?;
    let page =
        PlacePage { layout: Layout::new(&state, "/places"), place, may_edit: may_edit(user.role), refusal: None };
    Ok(Html(page.render()?))
}

/// A place id that is not in the register is a 404 page, like any unknown address.
fn missing(e: DbError) -> PageError {
    match e {
        DbError::NotFound { .. } => not_found(),
        e => e.into(),
    }
}

async fn download(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Response, PageError> {
    let place = state.db.place(id).await.map_err(missing)?;
    let file: String =
        place.name.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
    Ok((
        [
            (CONTENT_TYPE, "application/geo+json".to_string()),
            (CONTENT_DISPOSITION, format!("attachment; filename=\"{file}.geojson\"")),
        ],
        place.geometry,
    )
        .into_response())
}

async fn remove(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let actor = actor_of(&user, &crate::auth::current().ip);
    match state.db.remove_place(id, &actor).await {
        Ok(()) => Ok(Redirect::to("/places").into_response()),
        Err(DbError::Conflict { reason, .. }) => {
            let place = state.db.place(id).await.map_err(missing)?;
            let page =
                PlacePage { layout: Layout::new(&state, "/places"), place, may_edit: true, refusal: Some(reason) };
            Ok((StatusCode::CONFLICT, Html(page.render()?)).into_response())
        }
        Err(e) => Err(missing(e)),
    }
}

async fn api_collection(State(state): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    Ok(Json(places::collection(&state.db).await?))
}
