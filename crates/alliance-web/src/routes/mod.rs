//! The router: each area of the app contributes its routes here, so a newcomer finds every
//! URL from this file.

mod account;
mod admin;
mod api;
mod dashboard;
mod directory_admin;
mod governance;
pub(crate) mod health;
mod imports;
mod imports_upload;
mod interventions;
mod map;
mod partner_data;
mod partner_figures;
mod partnership;
mod places;
mod postcodes_upload;
mod public;
mod referrals;
mod sna;
mod spatial;

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::{AppState, PageError};

/// A page, 200 when its form has no errors and 422 when it has (the governance and
/// directory pages answer their forms through it).
fn page(template: &impl Template, has_errors: bool) -> Result<Response, PageError> {
    let html = Html(template.render()?);
    Ok(if has_errors { (StatusCode::UNPROCESSABLE_ENTITY, html).into_response() } else { html.into_response() })
}

/// The answer to a form that was handled: 303 See Other to `to`, so reloading the page
/// does not send the form again. Every area answers its forms through it.
fn see_other(to: &str) -> Response {
    (StatusCode::SEE_OTHER, [(axum::http::header::LOCATION, to.to_string())]).into_response()
}

/// The link of the partnership's logo at `version` (for the page header).
pub(crate) fn logo_link(version: &str) -> String {
    partnership::logo_link(version)
}

/// The default bound on a postcode file's upload (`AppState::postcode_upload_limit`).
pub use postcodes_upload::DEFAULT_POSTCODE_UPLOAD_LIMIT;
pub use public::ReportChoices;

/// The referral form's coded lists (for `views::referrals`).
pub(crate) fn referral_options() -> crate::views::referrals::Options {
    referrals::options()
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(dashboard::routes())
        .merge(imports::routes())
        .merge(imports_upload::routes())
        // The public pages every visitor sees alike are kept until the data changes.
        .merge(public::routes().layer(axum::middleware::from_fn_with_state(state.clone(), crate::public_cache::serve)))
        .merge(partner_data::routes())
        .merge(sna::routes())
        .merge(interventions::routes())
        .merge(places::routes())
        .merge(governance::routes())
        .merge(api::routes())
        .merge(spatial::routes(state.clone()))
        .merge(account::routes())
        .merge(partnership::routes())
        .merge(admin::routes())
        .merge(referrals::routes())
        .merge(directory_admin::routes())
        .merge(postcodes_upload::routes())
        .route("/assets/{*path}", get(crate::assets::asset))
        // The probes: the guard lets them through untouched (no session, cookie or profile read).
        .merge(health::routes())
        // Last: the access check over every route above (and the fallback), from the table in auth/access.rs.
        .layer(axum::middleware::from_fn_with_state(state.clone(), crate::auth::middleware::guard))
        // Outermost: security headers on every response, refusals included.
        .layer(axum::middleware::from_fn_with_state(state.clone(), crate::security_headers::add))
        // Around everything: one log line per request (method, path without query, status, latency).
        .layer(axum::middleware::from_fn(crate::request_log::log))
        .with_state(state)
}
