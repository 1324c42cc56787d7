//! Partner data pages: ED assaults and partner indicators at the level the caller's
//! organisation is granted (`/partner-data/ed-assaults`, `/partner-data/indicators`, with CSV
//! downloads of the same figures), uploads (`/partner-data/upload`), and the queue of ED
//! assault locations the geocoder could not place with confidence, where an analyst picks the
//! right place (`GET`/`POST /partner-data/geocoding`). The route table in `auth::access`
//! says which roles reach each page; how much of a dataset they then see is decided by
//! `auth::access::require_dataset` alone. The CSRF field `csrf_token` is checked by the auth
//! middleware (multipart forms too).

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

use alliance_core::access::AccessLevel;

use super::see_other;
use crate::auth::access::require_dataset;
use crate::auth::{actor, Caller, CurrentUser, Principal};
use crate::extract::{Form, Query};
use crate::views::partner_data::GeocodingPage;
use crate::{AppState, PageError};

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/partner-data/geocoding", axum::routing::get(queue).post(resolve))
        .merge(super::partner_figures::routes())
}

#[derive(Debug, Deserialize)]
pub struct Done {
    pub resolved: Option<u64>,
}

/// The queue shows ED free text, so besides the role rule it needs record-level access to
/// the ED data.
async fn queue(
    State(state): State<AppState>,
    Caller(who): Caller,
    Query(done): Query<Done>,
) -> Result<Response, PageError> {
    record_access(&state, &who, "the geocoding queue").await?;
    Ok(Html(GeocodingPage::load(&state, done.resolved, None).await?.render()?).into_response())
}

async fn record_access(state: &AppState, who: &Principal, what: &str) -> Result<(), PageError> {
    match require_dataset(state, who, "ed-assaults", AccessLevel::Record, what).await? {
        Ok(_) => Ok(()),
        Err(()) => Err(super::partner_figures::no_access("Record-level emergency department data", who)),
    }
}

/// The choice for one description: `place` is `<gazetteer index>|<name>` or `none`.
#[derive(Debug, Deserialize)]
pub struct Choice {
    pub location_key: String,
    pub place: Option<String>,
}

async fn resolve(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Caller(who): Caller,
    Form(choice): Form<Choice>,
) -> Result<Response, PageError> {
    record_access(&state, &who, "resolving a geocoding queue entry").await?;
    let gazetteer = state.db.ed_gazetteer().await?;
    let chosen = match choice.place.as_deref() {
        Some("none") => Ok(None),
        Some(value) => crate::views::partner_data::chosen_place(&gazetteer, &choice.location_key, value)
            .map(Some)
            .ok_or("Choose one of the places listed, or say the place cannot be located"),
        None => Err("Choose a place, or say the place cannot be located"),
    };
    match chosen {
        Ok(place) => {
            let n = state.db.resolve_ed_location(&choice.location_key, place.as_ref(), &actor(&user)).await?;
            Ok(see_other(&format!("/partner-data/geocoding?resolved={n}")))
        }
        Err(message) => {
            let page = GeocodingPage::load(&state, None, Some((choice.location_key, message.to_string()))).await?;
            super::page(&page, true)
        }
    }
}
