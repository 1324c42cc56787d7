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
//! - `GET /board-pack/{quarter}` (`board_pack.rs`);
//! - `GET /strategies`, `GET /strategies/new`, `POST /strategies`, `GET|POST /strategies/import`,
//!   `GET /strategies/{id}`, `POST /strategies/{id}/priorities`, `…/commitments`,
//!   `GET /strategies/{id}/export`, editing and deleting priorities and commitments under
//!   `/strategies/{id}/priorities/{pid}` and `/strategies/{id}/commitments/{cid}` (`strategies.rs`);
//! - `GET|POST /sna/definition/edit`, `GET /sna/definition/history`: the serious violence
//!   definition (`definition.rs`).
//!
//! The route table admits roles; the record-level rules (only staff edit; a partner user
//! updates only their own organisation's actions and indicators) are the access module's
//! `require_governance_staff`, `require_action_update` and `require_indicator_entry`
//! (`auth/access.rs`), which every handler applies: a staff-only handler by taking a
//! [`Staff`] user. Every change is written by
//! `alliance_db::governance` with its audit row (`governance-change`) in the change's own
//! transaction, from the actor `crate::auth::actor` names.

mod actions;
mod board_pack;
mod dashboard;
mod definition;
mod funding;
mod indicators;
mod meetings;
mod strategies;
mod strategy;

use alliance_db::access::User;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};

use super::{page, see_other};
pub(crate) use crate::auth::access::{may_edit_governance, require_governance_staff};
use crate::auth::actor;
use crate::auth::CurrentUser;
pub(crate) use crate::error::not_found;
use crate::AppState;

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .merge(board_pack::routes())
        .merge(dashboard::routes())
        .merge(strategy::routes())
        .merge(strategies::routes())
        .merge(actions::routes())
        .merge(indicators::routes())
        .merge(funding::routes())
        .merge(meetings::routes())
        .merge(definition::routes())
}

/// A handler argument: a signed-in user who may change governance records
/// ([`require_governance_staff`]); anyone else gets its 403 page before the handler runs or
/// the request's body is read.
pub(crate) struct Staff(pub User);

impl<S: Send + Sync> FromRequestParts<S> for Staff {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Staff, Response> {
        let CurrentUser(user) =
            CurrentUser::from_request_parts(parts, state).await.map_err(IntoResponse::into_response)?;
        require_governance_staff(&user).map_err(IntoResponse::into_response)?;
        Ok(Staff(user))
    }
}
