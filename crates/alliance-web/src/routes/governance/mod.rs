//! Governance and performance on the web (who may use each route: `auth/access.rs`):
//! - `GET /governance`: the partnership dashboard for the Board (`dashboard.rs`);
//! - `GET /strategy`, `GET|POST /strategy/priorities/{id}`, `POST /strategy/commitments`,
//!   `GET|POST /strategy/commitments/{id}` (`strategy.rs`);
//! - `GET /actions`, `GET /actions/new`, `POST /actions`, `GET /actions/{id}`,
//!   `GET|POST /actions/{id}/edit`, `POST /actions/{id}/updates`, `…/milestones`,
//!   `…/milestones/{mid}`, `…/dependencies`, `…/escalations`, `GET /our-actions` (`actions.rs`);
//! - `GET|POST /indicators`, `GET /indicators/new`, `POST /indicators/upload` (a CSV file,
//!   multipart, or pasted text), `GET /indicators/{id}`, `GET|POST /indicators/{id}/target`,
//!   `POST /indicators/{id}/values` (`indicators.rs`);
//! - `GET /funding`, `POST /funding/streams`, `…/amounts`, `…/allocations`, `…/spend`,
//!   `GET|POST /funding/streams/{id}`, `GET|POST /funding/allocations/{id}`,
//!   `GET|POST /funding/allocations/{id}/delete` (`funding.rs`);
//! - `GET|POST /meetings`, `GET /meetings/{id}`, `POST /meetings/{id}/items` (`meetings.rs`);
//! - `GET /board-pack/{quarter}` (`board_pack.rs`).
//!
//! The route table admits roles; the per-record rule (a partner user updates only their own
//! organisation's actions and indicators) is `alliance_core::governance::can_update_action`,
//! checked in the handlers. Every change is written to the audit log (`governance-change`).

mod actions;
mod board_pack;
mod dashboard;
mod funding;
mod indicators;
mod meetings;
mod strategy;

use alliance_db::access::User;
use alliance_db::audit::AuditEvent;
use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

pub(crate) use crate::error::{forbidden, not_found};
use crate::{AppState, PageError};

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .merge(board_pack::routes())
        .merge(dashboard::routes())
        .merge(strategy::routes())
        .merge(actions::routes())
        .merge(indicators::routes())
        .merge(funding::routes())
        .merge(meetings::routes())
}

/// Writes a change to the audit log.
async fn audited(state: &AppState, user: &User, target: &str, detail: &str) -> Result<(), PageError> {
    let ip = crate::auth::current().ip;
    state
        .db
        .audit(&AuditEvent {
            actor: &crate::auth::user_actor(user),
            action: "governance-change",
            target,
            detail,
            ip: &ip,
        })
        .await?;
    Ok(())
}

/// A page, 200 when its form has no errors and 422 when it has.
fn page(template: &impl Template, has_errors: bool) -> Result<Response, PageError> {
    let html = Html(template.render()?);
    Ok(if has_errors { (StatusCode::UNPROCESSABLE_ENTITY, html).into_response() } else { html.into_response() })
}

fn see_other(to: &str) -> Response {
    axum::response::Redirect::to(to).into_response()
}

/// Whether the signed-in user may edit the strategy, create actions, record spend, etc.
fn is_staff(user: &User) -> bool {
    alliance_core::governance::can_edit_governance(user.role)
}
