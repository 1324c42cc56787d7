//! The place register: `GET /places`, `GET /places/new`, `POST /places` (a drawn outline, a
//! GeoJSON file or pasted GeoJSON), `GET /places/{id}`, `GET /places/{id}/geojson`,
//! `POST /places/{id}/delete`; JSON: `GET /api/v1/places` (the register as one GeoJSON
//! FeatureCollection, for the maps). Everyone signed in reads; partnership staff add and remove
//! (the route table), and the use case `alliance_app::places` checks what they give.

use std::collections::HashMap;

use crate::extract::Path;
use alliance_app::places::{self, PlaceInput};
use alliance_app::AppError;
use alliance_core::access::Role;
use alliance_db::DbError;
use askama::Template;
use axum::extract::{Request, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Json;

use super::see_other;
use crate::auth::{actor, CurrentUser};
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

async fn add(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    request: Request,
) -> Result<Response, PageError> {
    let layout = Layout::new(&state, "/places");
    // The file, when one was chosen, wins over the GeoJSON box.
    let values = match crate::forms::read_with_file(&state, request).await {
        Ok((mut values, Some((_, bytes)))) if !bytes.is_empty() => {
            values.insert("geojson".into(), String::from_utf8_lossy(&bytes).into_owned());
            values
        }
        Ok((values, _)) => values,
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
    let actor = actor(&user);
    let key = form.get(crate::forms::SUBMISSION);
    match places::add(&state.db, &input, key.as_deref(), &actor).await {
        Ok(id) => Ok(see_other(&format!("/places/{id}"))),
        Err(AppError::Invalid { field, reason } | AppError::Conflict { field, reason })
        | Err(AppError::Db(DbError::Invalid { field, reason } | DbError::Conflict { field, reason })) => {
            let form = Form::with_errors(form.values, vec![error(field, reason)]);
            super::page(&PlaceFormPage::new(layout, form), true)
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
    let actor = actor(&user);
    match state.db.remove_place(id, &actor).await {
        Ok(()) => Ok(see_other("/places")),
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
