//! The action plan: list and "our actions", the action page with its progress-update form,
//! and the staff forms (create, edit, milestones, dependencies, escalation). A partner user
//! may post updates only to their own organisation's actions: another's answers 403 and the
//! page does not offer the form.

use std::collections::HashMap;

use crate::extract::Path;
use crate::forms;
use alliance_db::governance::{Action, ActionFields};
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::{get, post};

use super::{actor, may_edit_governance, not_found, page, see_other, Staff};
use crate::auth::access::{may_update_action, require_action_update};
use crate::auth::CurrentUser;
use crate::views::governance::actions::{values_of, ActionFormPage, ActionPage, ActionsPage};
use crate::views::governance::{error, id_from, invalid_to_field, status_from, today, FieldError, Form};
use crate::views::Layout;
use crate::{AppState, PageError};

type Values = HashMap<String, String>;

/// The action form's GOV.UK date inputs: (name, label in messages, required).
const ACTION_DATES: &[(&str, &str, bool)] = &[("start_date", "Start date", false), ("due_date", "Due date", false)];

/// Storage field names → the ids of the action form's fields (a date's error goes on its
/// day input, where the error summary's link lands).
const ACTION_FIELDS: &[(&str, &str)] = &[
    ("title", "title"),
    ("lead_person", "lead_person"),
    ("start_date", "start_date-day"),
    ("due_date", "due_date-day"),
    ("commitment_id", "commitment"),
    ("owner_org_id", "owner"),
    ("intervention_id", "intervention"),
];

async fn list(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Query(q): Query<Values>,
) -> Result<Response, PageError> {
    let staff = may_edit_governance(&user);
    let p = ActionsPage::load(&state.db, Layout::new(&state, "/actions"), Form::new(q), None, staff).await?;
    page(&p, false)
}

async fn ours(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Query(q): Query<Values>,
) -> Result<Response, PageError> {
    let own = Some((user.org_id, user.org_name.clone()));
    let p = ActionsPage::load(&state.db, Layout::new(&state, "/our-actions"), Form::new(q), own, false).await?;
    page(&p, false)
}

async fn new_form(State(state): State<AppState>, _: Staff) -> Result<Response, PageError> {
    let form = Form::new(HashMap::from([("status".to_string(), "not-started".to_string())]));
    page(&ActionFormPage::load(&state.db, Layout::new(&state, "/actions"), None, form).await?, false)
}

/// The action form's fields, or its errors (its dates' first).
fn fields_of(form: &mut Form) -> Result<ActionFields<'_>, Vec<FieldError>> {
    let mut errors = form.read_dates(ACTION_DATES);
    let form = &*form;
    let commitment = id_from(form, "commitment", "the commitment the action delivers").map_err(|e| errors.push(e)).ok();
    if form.get("title").is_none() {
        errors.push(error("title", "Enter the action's title"));
    }
    let owner = id_from(form, "owner", "the organisation that owns the action").map_err(|e| errors.push(e)).ok();
    if form.get("lead_person").is_none() {
        errors.push(error("lead_person", "Enter the lead person's name"));
    }
    let status = status_from(form, "status").map_err(|e| errors.push(e)).ok();
    let intervention = match form.get("intervention") {
        None => None,
        Some(v) => match v.parse::<i64>() {
            Ok(i) => Some(i),
            Err(_) => {
                errors.push(error("intervention", "Select an intervention from the list, or none"));
                None
            }
        },
    };
    match (commitment, owner, status) {
        (Some(commitment_id), Some(owner_org_id), Some(status)) if errors.is_empty() => Ok(ActionFields {
            commitment_id,
            title: form.values.get("title").map(String::as_str).unwrap_or(""),
            description: form.values.get("description").map(String::as_str).unwrap_or(""),
            owner_org_id,
            lead_person: form.values.get("lead_person").map(String::as_str).unwrap_or(""),
            start_date: form.values.get("start_date").map(String::as_str),
            due_date: form.values.get("due_date").map(String::as_str),
            status,
            intervention_id: intervention,
        }),
        _ => Err(errors),
    }
}

async fn create(State(state): State<AppState>, Staff(user): Staff, mut form: Form) -> Result<Response, PageError> {
    let key = form.get(forms::SUBMISSION);
    match fields_of(&mut form) {
        Ok(fields) => match state.db.create_action_keyed(&fields, None, key.as_deref(), &actor(&user)).await {
            Ok(id) => return Ok(see_other(&format!("/actions/{id}"))),
            Err(e) => form.errors.push(invalid_to_field(e, ACTION_FIELDS, "title")?),
        },
        Err(errors) => form.errors = errors,
    }
    page(&ActionFormPage::load(&state.db, Layout::new(&state, "/actions"), None, form).await?, true)
}

async fn edit_form(State(state): State<AppState>, _: Staff, Path(id): Path<i64>) -> Result<Response, PageError> {
    let Some(a) = state.db.action(id).await? else { return Err(not_found()) };
    page(
        &ActionFormPage::load(&state.db, Layout::new(&state, "/actions"), Some(id), Form::new(values_of(&a))).await?,
        false,
    )
}

async fn edit(
    State(state): State<AppState>,
    Staff(user): Staff,
    Path(id): Path<i64>,
    mut form: Form,
) -> Result<Response, PageError> {
    if state.db.action(id).await?.is_none() {
        return Err(not_found());
    }
    let seen = forms::seen_version(&form.values);
    match fields_of(&mut form) {
        Ok(fields) => match state.db.edit_action(id, &fields, seen, &actor(&user)).await {
            Ok(()) => return Ok(see_other(&format!("/actions/{id}"))),
            Err(e) => form.errors.push(invalid_to_field(e, ACTION_FIELDS, "title")?),
        },
        Err(errors) => form.errors = errors,
    }
    page(&ActionFormPage::load(&state.db, Layout::new(&state, "/actions"), Some(id), form).await?, true)
}

/// The action page, with `form` (and its errors) in whichever of its forms was submitted.
async fn action_page(
    state: &AppState,
    user: &alliance_db::access::User,
    a: Action,
    form: Form,
) -> Result<Response, PageError> {
    let rights = (may_update_action(user, &a), may_edit_governance(user));
    let has_errors = !form.errors.is_empty();
    let p = ActionPage::load(&state.db, Layout::new(state, "/actions"), a, rights.0, rights.1, form).await?;
    page(&p, has_errors)
}

/// The end of a form of the action page. `save` is the store's change, or the error of the
/// form's value it needed (a status or an action that cannot be read: the page again with
/// that error too). When the form has no errors, the change runs and the answer is on to
/// `then`; otherwise, or when the store refuses (the refusal on its field: `fields` maps
/// storage field names to the form's ids, else `fallback`), the page again. So each form of
/// the page answers the same way, and nothing is saved from a form with errors.
#[allow(clippy::too_many_arguments)]
async fn save_or_again<T>(
    state: &AppState,
    user: &alliance_db::access::User,
    a: Action,
    mut form: Form,
    save: Result<impl std::future::Future<Output = Result<T, alliance_db::DbError>>, FieldError>,
    then: &str,
    fields: &[(&str, &str)],
    fallback: &str,
) -> Result<Response, PageError> {
    match save {
        Ok(save) if form.errors.is_empty() => match save.await {
            Ok(_) => return Ok(see_other(then)),
            Err(e) => form.errors.push(invalid_to_field(e, fields, fallback)?),
        },
        Ok(_) => {}
        Err(e) => form.errors.push(e),
    }
    action_page(state, user, a, form).await
}

async fn detail(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let Some(a) = state.db.action(id).await? else { return Err(not_found()) };
    action_page(&state, &user, a, Form::default()).await
}

/// A progress update and the status it reports: staff on any action, a partner user on
/// their own organisation's only (403 otherwise).
async fn post_update(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
    mut form: Form,
) -> Result<Response, PageError> {
    let Some(a) = state.db.action(id).await? else { return Err(not_found()) };
    require_action_update(&state, &user, &a).await?;
    form.errors = form.read_dates(&[("update_on_date", "Date the update reports on", true)]);
    let (on, note, by) = (form.value("update_on_date"), form.value("update_note"), actor(&user));
    let key = form.get(forms::SUBMISSION);
    let save = status_from(&form, "update_status")
        .map(|status| state.db.add_action_update_keyed(id, &on, status, &note, key.as_deref(), &by, Some(user.org_id)));
    let fields = [("on_date", "update_on_date-day"), ("note", "update_note")];
    let then = format!("/actions/{id}#updates");
    save_or_again(&state, &user, a, form, save, &then, &fields, "update_note").await
}

async fn add_milestone(
    State(state): State<AppState>,
    Staff(user): Staff,
    Path(id): Path<i64>,
    mut form: Form,
) -> Result<Response, PageError> {
    let Some(a) = state.db.action(id).await? else { return Err(not_found()) };
    form.errors = form.read_dates(&[("milestone_due", "Due date", false)]);
    let (title, due, by) = (form.value("milestone_title"), form.get("milestone_due"), actor(&user));
    let key = form.get(forms::SUBMISSION);
    let save = Ok(state.db.add_milestone(id, &title, due.as_deref(), key.as_deref(), &by));
    let fields = [("milestone", "milestone_title"), ("milestone_due", "milestone_due-day")];
    let then = format!("/actions/{id}#milestones");
    save_or_again(&state, &user, a, form, save, &then, &fields, "milestone_title").await
}

async fn complete_milestone(
    State(state): State<AppState>,
    Staff(user): Staff,
    Path((id, mid)): Path<(i64, i64)>,
) -> Result<Response, PageError> {
    if !state.db.milestones(id).await?.iter().any(|m| m.id == mid) {
        return Err(not_found());
    }
    state.db.complete_milestone(mid, &today(), &actor(&user)).await?;
    Ok(see_other(&format!("/actions/{id}#milestones")))
}

async fn add_dependency(
    State(state): State<AppState>,
    Staff(user): Staff,
    Path(id): Path<i64>,
    form: Form,
) -> Result<Response, PageError> {
    let Some(a) = state.db.action(id).await? else { return Err(not_found()) };
    let by = actor(&user);
    let save = id_from(&form, "depends_on", "the action this one depends on")
        .map(|other| state.db.add_dependency(id, other, &by));
    let then = format!("/actions/{id}");
    save_or_again(&state, &user, a, form, save, &then, &[("depends_on", "depends_on")], "depends_on").await
}

async fn escalate(
    State(state): State<AppState>,
    Staff(user): Staff,
    Path(id): Path<i64>,
    mut form: Form,
) -> Result<Response, PageError> {
    let Some(a) = state.db.action(id).await? else { return Err(not_found()) };
    form.errors = form.read_dates(&[("escalation_on", "Date of the escalation", true)]);
    let (on, note, by) = (form.value("escalation_on"), form.value("escalation_note"), actor(&user));
    let key = form.get(forms::SUBMISSION);
    let save = Ok(state.db.escalate_action(id, &on, &note, key.as_deref(), &by));
    let fields = [("raised_on", "escalation_on-day"), ("note", "escalation_note")];
    let then = format!("/actions/{id}");
    save_or_again(&state, &user, a, form, save, &then, &fields, "escalation_note").await
}

pub(super) fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/actions", get(list).post(create))
        .route("/actions/new", get(new_form))
        .route("/our-actions", get(ours))
        .route("/actions/{id}", get(detail))
        .route("/actions/{id}/edit", get(edit_form).post(edit))
        .route("/actions/{id}/updates", post(post_update))
        .route("/actions/{id}/milestones", post(add_milestone))
        .route("/actions/{id}/milestones/{mid}", post(complete_milestone))
        .route("/actions/{id}/dependencies", post(add_dependency))
        .route("/actions/{id}/escalations", post(escalate))
}
