//! The public side: pages for the public (public layout, "Exit this page" on each), and the
//! staff pages that look after them. Who may use which route is in `auth/access.rs`.
//!
//! - `/public`, `/accessibility`, `/exit-this-page-help`: static pages (`pages`).
//! - `/report-unsafe-place`: the report form (`report`); `/staff/unsafe-places`: moderation.
//! - `/find-help`, `/api/v1/services`: the directory of services (`help`).
//! - `/safer-places`, `/safer-places/join`: the charter (`charter`); `/staff/safer-places`.
//! - `/you-said-we-did`, `/staff/you-said-we-did`: responses (`said`).
//! - `/public/figures`: published figures with small-number suppression (`figures`).
//!
//! Forms are plain HTML forms that work without JavaScript; their CSRF token is checked by
//! the access middleware (the anonymous double-submit cookie for visitors). Abuse protection
//! is in `guard`.

mod charter;
mod figures;
pub mod guard;
mod help;
mod report;
pub use report::ReportChoices;
mod said;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::views::accessibility::AccessibilityStatement;
use crate::views::public::{ExitHelpPage, HomePage, MessagePage, PublicLayout};
use crate::{AppState, PageError};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/public", get(home))
        .route("/accessibility", get(accessibility))
        .route("/exit-this-page-help", get(exit_help))
        .merge(report::routes())
        .merge(help::routes())
        .merge(charter::routes())
        .merge(said::routes())
        .merge(figures::routes())
}

async fn home(State(state): State<AppState>) -> Result<Html<String>, PageError> {
    Ok(Html(HomePage { layout: PublicLayout::new(&state, "/public") }.render()?))
}

async fn accessibility(State(state): State<AppState>) -> Result<Html<String>, PageError> {
    let profile = state.partnership.get(&state.db).await;
    let contact = |field: fn(&alliance_core::partnership::Profile) -> &Option<String>| {
        profile.as_deref().and_then(|p| field(p).clone())
    };
    Ok(Html(
        AccessibilityStatement {
            layout: PublicLayout::new(&state, "/accessibility"),
            contact_email: contact(|p| &p.contact_email),
            contact_phone: contact(|p| &p.contact_phone),
        }
        .render()?,
    ))
}

async fn exit_help(State(state): State<AppState>) -> Result<Html<String>, PageError> {
    Ok(Html(ExitHelpPage { layout: PublicLayout::new(&state, "/exit-this-page-help") }.render()?))
}

/// The CSRF token to put in the page's forms (set by the access middleware).
fn csrf() -> String {
    crate::auth::current().csrf
}

/// Counts one submission of the current client on `limit` (see `guard`): `false` when the
/// client is over it.
async fn allowed(state: &AppState, limit: crate::auth::throttle::Limit) -> Result<bool, PageError> {
    Ok(state.throttle.allow(&state.db, &limit, &crate::auth::current().ip).await?)
}

/// The "too many" page: 429 with a GOV.UK-style explanation.
fn too_many(state: &AppState, path: &'static str) -> Result<Response, PageError> {
    let page = MessagePage {
        layout: PublicLayout::new(state, path),
        title: "You have sent a lot of forms in a short time".into(),
        paragraphs: vec![
            "To protect this service from misuse, we could not accept this one. Nothing you sent before was lost."
                .into(),
            "Please wait an hour and try again. If you are in danger, call 999.".into(),
        ],
        link: Some(("/public".into(), "Go to the start".into())),
    };
    Ok((StatusCode::TOO_MANY_REQUESTS, [(axum::http::header::RETRY_AFTER, "3600")], Html(page.render()?))
        .into_response())
}
