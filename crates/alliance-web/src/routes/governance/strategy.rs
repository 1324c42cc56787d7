//! The strategy: `GET /strategy`; staff add a commitment (`POST /strategy/commitments`) and
//! change one's words (`GET|POST /strategy/commitments/{id}`).

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use axum::Form as Submitted;

use super::{audited, is_staff, not_found, page, see_other};
use crate::auth::CurrentUser;
use crate::views::governance::strategy::{commitment, CommitmentPage, StrategyPage};
use crate::views::governance::{id_from, invalid_to_field, Form};
use crate::views::Layout;
use crate::{AppState, PageError};

async fn show(State(state): State<AppState>, CurrentUser(user): CurrentUser) -> Result<Response, PageError> {
    let p = StrategyPage::load(&state.db, Layout::new(&state, "/strategy"), is_staff(&user), Form::default()).await?;
    page(&p, false)
}

async fn add(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Submitted(values): Submitted<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let mut form = Form::new(values);
    match id_from(&form, "priority", "the priority the commitment comes under") {
        Ok(priority) => match state.db.add_commitment(priority, &form.value("text")).await {
            Ok(id) => {
                audited(&state, &user, &format!("/strategy/commitments/{id}"), "commitment added").await?;
                return Ok(see_other(&format!("/strategy#priority-{priority}")));
            }
            Err(e) => form.errors.push(invalid_to_field(e, &[("text", "text")], "text")?),
        },
        Err(e) => form.errors.push(e),
    }
    let p = StrategyPage::load(&state.db, Layout::new(&state, "/strategy"), true, form).await?;
    page(&p, true)
}

async fn edit_form(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Response, PageError> {
    let Some((c, priority)) = commitment(&state.db, id).await? else { return Ok(not_found()) };
    let form = Form::new(HashMap::from([("text".to_string(), c.text.clone())]));
    page(
        &CommitmentPage { layout: Layout::new(&state, "/strategy"), commitment: c, priority, form, errors: Vec::new() },
        false,
    )
}

async fn edit(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
    Submitted(values): Submitted<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let Some((c, priority)) = commitment(&state.db, id).await? else { return Ok(not_found()) };
    let mut form = Form::new(values);
    match state.db.update_commitment(id, &form.value("text")).await {
        Ok(()) => {
            audited(&state, &user, &format!("/strategy/commitments/{id}"), "commitment changed").await?;
            return Ok(see_other(&format!("/strategy#priority-{}", c.priority_id)));
        }
        Err(e) => form.errors.push(invalid_to_field(e, &[("text", "text")], "text")?),
    }
    let errors = form.errors.clone();
    page(&CommitmentPage { layout: Layout::new(&state, "/strategy"), commitment: c, priority, form, errors }, true)
}

pub(super) fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/strategy", get(show))
        .route("/strategy/commitments", axum::routing::post(add))
        .route("/strategy/commitments/{id}", get(edit_form).post(edit))
}
