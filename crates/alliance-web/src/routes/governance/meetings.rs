//! Meetings: `GET /meetings`, adding one (`POST /meetings`, staff), `GET /meetings/{id}`,
//! and adding its decisions, escalations and actions arising (`POST /meetings/{id}/items`,
//! staff). An action arising is created in the action plan and linked to the item.

use crate::extract::Path;
use alliance_core::governance::{ActionStatus, MeetingBody, MeetingItemKind};
use alliance_db::access::User;
use alliance_db::governance::{ActionFields, Meeting};
use axum::extract::State;
use axum::response::Response;
use axum::routing::{get, post};

use super::{actor, may_edit_governance, not_found, page, see_other, Staff};
use crate::auth::CurrentUser;
use crate::views::governance::meetings::{parse_attendees, MeetingPage, MeetingsPage};
use crate::views::governance::{error, id_from, invalid_to_field, Form};
use crate::views::Layout;
use crate::{AppState, PageError};

async fn list(State(state): State<AppState>, CurrentUser(user): CurrentUser) -> Result<Response, PageError> {
    page(
        &MeetingsPage::load(&state.db, Layout::new(&state, "/meetings"), may_edit_governance(&user), Form::default())
            .await?,
        false,
    )
}

async fn create(State(state): State<AppState>, Staff(user): Staff, mut form: Form) -> Result<Response, PageError> {
    form.errors = form.read_dates(&[("held_on", "Date of the meeting", true)]);
    let body = form.value("body").parse::<MeetingBody>().ok();
    if body.is_none() {
        form.errors.push(error("body", "Select the Executive Board or the Delivery Group"));
    }
    if form.get("title").is_none() {
        form.errors.push(error("title", "Enter the meeting's title"));
    }
    let organisations: Vec<(i64, String)> =
        state.db.organisations().await?.into_iter().map(|o| (o.id, o.name)).collect();
    let attendees = parse_attendees(&form.value("attendees"), &organisations)
        .map_err(|e| form.errors.push(error("attendees", e)))
        .ok();
    if let (Some(body), Some(attendees), true) = (body, attendees, form.errors.is_empty()) {
        let (held_on, title) = (form.value("held_on"), form.value("title"));
        let key = form.get(crate::forms::SUBMISSION);
        match state.db.create_meeting(body, &held_on, &title, &attendees, key.as_deref(), &actor(&user)).await {
            Ok(id) => return Ok(see_other(&format!("/meetings/{id}"))),
            Err(e) => form.errors.push(invalid_to_field(
                e,
                &[("held_on", "held_on-day"), ("body", "body"), ("title", "title")],
                "title",
            )?),
        }
    }
    page(&MeetingsPage::load(&state.db, Layout::new(&state, "/meetings"), true, form).await?, true)
}

async fn meeting(state: &AppState, id: i64) -> Result<Option<Meeting>, PageError> {
    Ok(state.db.meetings().await?.into_iter().find(|m| m.id == id))
}

async fn meeting_page(state: &AppState, user: &User, m: Meeting, form: Form) -> Result<Response, PageError> {
    let has_errors = !form.errors.is_empty();
    let staff = may_edit_governance(user);
    page(&MeetingPage::load(&state.db, Layout::new(state, "/meetings"), m, staff, form).await?, has_errors)
}

async fn detail(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let Some(m) = meeting(&state, id).await? else { return Err(not_found()) };
    meeting_page(&state, &user, m, Form::default()).await
}

async fn add_item(
    State(state): State<AppState>,
    Staff(user): Staff,
    Path(id): Path<i64>,
    mut form: Form,
) -> Result<Response, PageError> {
    let Some(m) = meeting(&state, id).await? else { return Err(not_found()) };
    let kind = form.value("kind").parse::<MeetingItemKind>().ok();
    if kind.is_none() {
        form.errors.push(error("kind", "Select whether it is a decision, an escalation or an action arising"));
    }
    let text = form.value("text");
    let key = form.get(crate::forms::SUBMISSION);
    if text.trim().is_empty() {
        form.errors.push(error("text", "Enter what was decided, escalated or agreed"));
    }
    if kind == Some(MeetingItemKind::Action) {
        let mut date_errors = form.read_dates(&[("due_date", "Due date", false)]);
        form.errors.append(&mut date_errors);
        let commitment =
            id_from(&form, "commitment", "the commitment the action delivers").map_err(|e| form.errors.push(e)).ok();
        let owner =
            id_from(&form, "owner", "the organisation that owns the action").map_err(|e| form.errors.push(e)).ok();
        if form.get("lead_person").is_none() {
            form.errors.push(error("lead_person", "Enter the lead person's name"));
        }
        if let (Some(commitment_id), Some(owner_org_id), true) = (commitment, owner, form.errors.is_empty()) {
            let due = form.get("due_date");
            let fields = ActionFields {
                commitment_id,
                title: &text,
                description: &format!("Arising from {} on {}", m.title, m.held_on),
                owner_org_id,
                lead_person: form.values.get("lead_person").map(String::as_str).unwrap_or(""),
                start_date: Some(&m.held_on),
                due_date: due.as_deref(),
                status: ActionStatus::NotStarted,
                intervention_id: None,
            };
            match state.db.add_meeting_action(id, &fields, key.as_deref(), &actor(&user)).await {
                Ok(_) => return Ok(see_other(&format!("/meetings/{id}"))),
                Err(e) => {
                    form.errors.push(invalid_to_field(e, &[("due_date", "due_date-day"), ("title", "text")], "text")?)
                }
            }
        }
    } else if let (Some(kind), true) = (kind, form.errors.is_empty()) {
        match state.db.add_meeting_item(id, kind, &text, key.as_deref(), &actor(&user)).await {
            Ok(_) => return Ok(see_other(&format!("/meetings/{id}"))),
            Err(e) => form.errors.push(invalid_to_field(e, &[("kind", "kind"), ("text", "text")], "text")?),
        }
    }
    meeting_page(&state, &user, m, form).await
}

pub(super) fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/meetings", get(list).post(create))
        .route("/meetings/{id}", get(detail))
        .route("/meetings/{id}/items", post(add_item))
}
