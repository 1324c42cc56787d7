//! The directory of help for staff (`alliance_app::directory`, beside `alliance services
//! import|export`): what the public find on `/find-help`, edited here.
//! - `GET /directory`: every service, withdrawn ones last;
//! - `GET /directory/new`, `POST /directory`: add a service;
//! - `GET|POST /directory/{id}`: change one;
//! - `GET|POST /directory/{id}/withdraw`: withdraw one, with the reason (kept for the record,
//!   never shown to the public);
//! - `POST /directory/{id}/reinstate`: show a withdrawn one again (409 when it is not
//!   withdrawn).
//!
//! The route table admits partnership staff. A form with an error comes back as typed with a
//! GOV.UK error summary (422) and nothing is stored; every change is audited
//! (`directory-change`) in its own transaction.

use std::collections::HashMap;

use crate::extract::Path;
use alliance_app::directory::{self, ServiceForm};
use alliance_app::AppError;
use alliance_db::public::services::ServiceEntry;
use alliance_ingest::oruk::NEEDS;
use askama::Template;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use axum::routing::get;
use axum::Form as Submitted;

use super::{page, see_other};
use crate::auth::{actor, CurrentUser};
use crate::error::not_found;
use crate::forms::{self, error, FieldError, Form};
use crate::views::Layout;
use crate::{AppState, PageError};

#[derive(Template)]
#[template(path = "directory/list.html")]
struct ListPage {
    layout: Layout,
    entries: Vec<ServiceEntry>,
    done: Option<String>,
}

#[derive(Template)]
#[template(path = "directory/form.html")]
struct FormPage {
    layout: Layout,
    /// `None` for a new service.
    id: Option<String>,
    form: Form,
    needs: Vec<String>,
    choices: &'static [(&'static str, &'static str)],
    errors: Vec<FieldError>,
}

impl FormPage {
    fn needs_has(&self, slug: &str) -> bool {
        self.needs.iter().any(|n| n == slug)
    }
}

#[derive(Template)]
#[template(path = "directory/withdraw.html")]
struct WithdrawPage {
    layout: Layout,
    entry: ServiceEntry,
    form: Form,
    errors: Vec<FieldError>,
}

fn layout(state: &AppState) -> Layout {
    Layout::new(state, "/directory")
}

/// The form's single values and its needs (checkboxes, several values of one name).
fn read(fields: Vec<(String, String)>) -> (Form, Vec<String>) {
    let mut values = HashMap::new();
    let mut needs = Vec::new();
    for (k, v) in fields {
        if k == "needs" {
            // Bounded: at most one of each need offered.
            if needs.len() < NEEDS.len() && !needs.contains(&v) {
                needs.push(v);
            }
        } else {
            values.insert(k, v);
        }
    }
    (Form::new(values), needs)
}

fn service_form(form: &Form, needs: &[String]) -> ServiceForm {
    ServiceForm {
        name: form.value("name"),
        description: form.value("description"),
        organisation_name: form.value("organisation_name"),
        organisation_description: form.value("organisation_description"),
        url: form.value("url"),
        email: form.value("email"),
        phone: form.value("phone"),
        min_age: form.value("min_age"),
        max_age: form.value("max_age"),
        needs: needs.to_vec(),
        areas: form.value("areas"),
        opening_times: form.value("opening_times"),
        kind: form.value("kind"),
        postcode: form.value("postcode"),
    }
}

fn form_of(f: &ServiceForm) -> Form {
    Form::new(HashMap::from([
        ("name".into(), f.name.clone()),
        ("description".into(), f.description.clone()),
        ("organisation_name".into(), f.organisation_name.clone()),
        ("organisation_description".into(), f.organisation_description.clone()),
        ("url".into(), f.url.clone()),
        ("email".into(), f.email.clone()),
        ("phone".into(), f.phone.clone()),
        ("min_age".into(), f.min_age.clone()),
        ("max_age".into(), f.max_age.clone()),
        ("areas".into(), f.areas.clone()),
        ("opening_times".into(), f.opening_times.clone()),
        ("kind".into(), f.kind.clone()),
        ("postcode".into(), f.postcode.clone()),
    ]))
}

/// The add form (`id` `None`, which keeps its one-time key when shown again) or the change
/// form of a service.
fn form_page(state: &AppState, id: Option<String>, mut form: Form, needs: Vec<String>) -> FormPage {
    if id.is_none() {
        forms::ensure_submission_key(&mut form.values);
    }
    let errors = form.errors.clone();
    FormPage { layout: layout(state), id, form, needs, choices: NEEDS, errors }
}

async fn list(State(state): State<AppState>, RawQuery(query): RawQuery) -> Result<Response, PageError> {
    let entries = state.db.directory_entries().await?;
    let done = match query.as_deref() {
        Some("added=1") => Some("The service is added to the directory".to_string()),
        Some("saved=1") => Some("The service is saved".to_string()),
        Some("withdrawn=1") => Some("The service is withdrawn: the public no longer see it".to_string()),
        Some("reinstated=1") => Some("The service is reinstated: the public see it again".to_string()),
        _ => None,
    };
    page(&ListPage { layout: layout(&state), entries, done }, false)
}

async fn new_form(State(state): State<AppState>) -> Result<Response, PageError> {
    let form = Form::new(HashMap::from([("kind".to_string(), "support".to_string())]));
    page(&form_page(&state, None, form, Vec::new()), false)
}

async fn create(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Submitted(fields): Submitted<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let (mut form, needs) = read(fields);
    let key = form.get(forms::SUBMISSION);
    match directory::add(&state.db, &service_form(&form, &needs), key.as_deref(), &actor(&user)).await {
        Ok(_) => Ok(see_other("/directory?added=1")),
        Err(AppError::Invalid { field, reason } | AppError::Conflict { field, reason }) => {
            form.errors.push(error(field, reason));
            page(&form_page(&state, None, form, needs), true)
        }
        Err(e) => Err(e.into()),
    }
}

async fn edit_form(State(state): State<AppState>, Path(id): Path<String>) -> Result<Response, PageError> {
    let Some(entry) = state.db.directory_entry(&id).await? else { return Err(not_found()) };
    if entry.withdrawn_at.is_some() {
        return Err(not_found());
    }
    let f = ServiceForm::of(&entry);
    let mut form = form_of(&f);
    form.values.extend([forms::version_value(entry.version)]);
    page(&form_page(&state, Some(id), form, f.needs.clone()), false)
}

async fn edit(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    Submitted(fields): Submitted<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    // A service withdrawn while this form was open is refused by the store on the form,
    // with what was typed kept, rather than as a page not found.
    if state.db.directory_entry(&id).await?.is_none() {
        return Err(not_found());
    }
    let (mut form, needs) = read(fields);
    let seen = forms::seen_version(&form.values);
    match directory::update(&state.db, &id, &service_form(&form, &needs), seen, &actor(&user)).await {
        Ok(()) => Ok(see_other("/directory?saved=1")),
        Err(AppError::Invalid { field, reason } | AppError::Conflict { field, reason }) => {
            form.errors.push(error(field, reason));
            page(&form_page(&state, Some(id), form, needs), true)
        }
        Err(e) => Err(e.into()),
    }
}

async fn withdraw_form(State(state): State<AppState>, Path(id): Path<String>) -> Result<Response, PageError> {
    let Some(entry) = state.db.directory_entry(&id).await? else { return Err(not_found()) };
    if entry.withdrawn_at.is_some() {
        return Err(not_found());
    }
    page(&WithdrawPage { layout: layout(&state), entry, form: Form::default(), errors: Vec::new() }, false)
}

async fn withdraw(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    Submitted(values): Submitted<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let Some(entry) = state.db.directory_entry(&id).await? else { return Err(not_found()) };
    let mut form = Form::new(values);
    match directory::withdraw(&state.db, &id, &form.value("reason"), &actor(&user)).await {
        Ok(()) => Ok(see_other("/directory?withdrawn=1")),
        Err(AppError::Invalid { field, reason }) => {
            form.errors.push(error(field, reason));
            let errors = form.errors.clone();
            page(&WithdrawPage { layout: layout(&state), entry, form, errors }, true)
        }
        Err(e) => Err(e.into()),
    }
}

/// Reinstates a withdrawn service (a button on the list; the guard has checked the CSRF
/// token). Not withdrawn: 409; unknown: 404.
async fn reinstate(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    directory::reinstate(&state.db, &id, &actor(&user)).await?;
    Ok(see_other("/directory?reinstated=1"))
}

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/directory", get(list).post(create))
        .route("/directory/new", get(new_form))
        .route("/directory/{id}", get(edit_form).post(edit))
        .route("/directory/{id}/withdraw", get(withdraw_form).post(withdraw))
        .route("/directory/{id}/reinstate", axum::routing::post(reinstate))
}
