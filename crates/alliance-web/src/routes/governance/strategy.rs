//! The strategy: `GET /strategy`; staff change a priority's name and description
//! (`GET|POST /strategy/priorities/{id}`), add a commitment (`POST /strategy/commitments`) and
//! change one's words (`GET|POST /strategy/commitments/{id}`). The strategy has no history
//! table of its own (the action plan's history is about delivery): every change is kept in the
//! audit log, with the words before and after.

use std::collections::HashMap;

use crate::extract::Path;
use crate::forms;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;

use super::{actor, may_edit_governance, not_found, page, see_other, Staff};
use crate::auth::CurrentUser;
use crate::views::governance::strategy::{commitment, priority, CommitmentPage, PriorityPage, StrategyPage};
use crate::views::governance::{error, id_from, invalid_to_field, Form};
use crate::views::Layout;
use crate::{AppState, PageError};

async fn show(State(state): State<AppState>, CurrentUser(user): CurrentUser) -> Result<Response, PageError> {
    let staff = may_edit_governance(&user);
    let p = StrategyPage::load(&state.db, Layout::new(&state, "/strategy"), staff, Form::default()).await?;
    page(&p, false)
}

async fn priority_form(State(state): State<AppState>, _: Staff, Path(id): Path<i64>) -> Result<Response, PageError> {
    let Some(p) = priority(&state.db, id).await? else { return Err(not_found()) };
    let form = Form::new(HashMap::from([
        ("name".to_string(), p.name.clone()),
        ("description".to_string(), p.description.clone()),
        forms::version_value(p.version),
    ]));
    page(&PriorityPage::new(Layout::new(&state, "/strategy"), p, form), false)
}

async fn edit_priority(
    State(state): State<AppState>,
    Staff(user): Staff,
    Path(id): Path<i64>,
    mut form: Form,
) -> Result<Response, PageError> {
    let Some(p) = priority(&state.db, id).await? else { return Err(not_found()) };
    let (name, description) = (form.value("name"), form.value("description"));
    if name.trim().is_empty() {
        form.errors.push(error("name", "Enter the priority's name"));
    }
    if form.errors.is_empty() {
        match state.db.update_priority(id, &name, &description, forms::seen_version(&form.values), &actor(&user)).await
        {
            Ok(()) => return Ok(see_other(&format!("/strategy#priority-{id}"))),
            Err(e) => form.errors.push(invalid_to_field(e, &[("name", "name")], "name")?),
        }
    }
    page(&PriorityPage::new(Layout::new(&state, "/strategy"), p, form), true)
}

async fn add(State(state): State<AppState>, Staff(user): Staff, mut form: Form) -> Result<Response, PageError> {
    match id_from(&form, "priority", "the priority the commitment comes under") {
        // Only a priority of the strategy shown: an id from elsewhere is not a choice offered.
        Ok(id) if priority(&state.db, id).await?.is_none() => {
            form.errors.push(error("priority", "Select the priority the commitment comes under"));
        }
        Ok(pid) => match state
            .db
            .add_commitment(pid, &form.value("text"), form.get(forms::SUBMISSION).as_deref(), &actor(&user))
            .await
        {
            Ok(_) => return Ok(see_other(&format!("/strategy#priority-{pid}"))),
            Err(e) => form.errors.push(invalid_to_field(e, &[("text", "text"), ("priority", "priority")], "text")?),
        },
        Err(e) => form.errors.push(e),
    }
    let p = StrategyPage::load(&state.db, Layout::new(&state, "/strategy"), true, form).await?;
    page(&p, true)
}

async fn edit_form(State(state): State<AppState>, _: Staff, Path(id): Path<i64>) -> Result<Response, PageError> {
    let Some((c, priority)) = commitment(&state.db, id).await? else { return Err(not_found()) };
    let form = Form::new(HashMap::from([("text".to_string(), c.text.clone()), forms::version_value(c.version)]));
    page(&CommitmentPage::new(Layout::new(&state, "/strategy"), c, priority, form), false)
}

async fn edit(
    State(state): State<AppState>,
    Staff(user): Staff,
    Path(id): Path<i64>,
    mut form: Form,
) -> Result<Response, PageError> {
    let Some((c, priority)) = commitment(&state.db, id).await? else { return Err(not_found()) };
    let text = form.value("text");
    match state.db.update_commitment(id, &text, forms::seen_version(&form.values), &actor(&user)).await {
        Ok(()) => return Ok(see_other(&format!("/strategy#priority-{}", c.priority_id))),
        Err(e) => form.errors.push(invalid_to_field(e, &[("text", "text")], "text")?),
    }
    page(&CommitmentPage::new(Layout::new(&state, "/strategy"), c, priority, form), true)
}

pub(super) fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/strategy", get(show))
        .route("/strategy/priorities/{id}", get(priority_form).post(edit_priority))
        .route("/strategy/commitments", axum::routing::post(add))
        .route("/strategy/commitments/{id}", get(edit_form).post(edit))
}
