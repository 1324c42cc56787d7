//! Administrators' pages: organisations, users, data sharing (datasets, agreements, grants,
//! DPIAs), API tokens and the audit log. Every change is written to the audit log as a
//! `permission-change` by the storage layer, in the change's own transaction.
//!
//! Each form comes back with what was typed and an error on the field at fault (422); the
//! storage layer's `Invalid`/`Conflict` errors name that field.

use std::collections::HashMap;

use alliance_core::access::{AccessLevel, OrgType, Role};
use alliance_db::access::{NewAgreement, NewDpia, NewUser};
use alliance_db::audit::AuditQuery;
use alliance_db::DbError;
use askama::Template;
use axum::extract::{RawForm, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use super::see_other;
use crate::auth::access::SCOPES;
use crate::auth::{actor, random_token, token_hash, CurrentUser};
use crate::error::not_found;
use crate::extract::{Form, Path, Query};
use crate::forms::{self, FieldError, FormValues};
use crate::views::access::*;
use crate::views::Layout;
use crate::{AppState, PageError};
use alliance_app::password;

pub fn routes() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/admin/organisations", get(organisations).post(add_organisation))
        .route("/admin/users", get(users).post(add_user))
        .route("/admin/users/{id}", post(update_user))
        .route("/admin/users/invite", post(invite_user))
        .route("/admin/users/invite/withdraw", post(withdraw_invitation))
        .route("/admin/data-sharing", get(data_sharing))
        .route("/admin/agreements", post(add_agreement))
        .route("/admin/agreements/{id}/edit", get(edit_agreement))
        .route("/admin/agreements/{id}", post(update_agreement))
        .route("/admin/grants", post(add_grant))
        .route("/admin/grants/decide", post(decide_grant))
        .route("/admin/datasets", post(set_owner))
        .route("/admin/dpias", post(add_dpia))
        .route("/admin/tokens", get(tokens).post(add_token))
        .route("/admin/tokens/{id}/revoke", post(revoke_token))
        .route("/admin/audit", get(audit))
}

/// A page re-rendered with its form's errors: 422.
fn invalid(html: String) -> Response {
    (StatusCode::UNPROCESSABLE_ENTITY, Html(html)).into_response()
}

/// A storage error about the input as an error on the form's element `id_of(field)`; any
/// other error is the service's fault and passes through.
fn on_field(e: DbError, id_of: impl Fn(&'static str) -> &'static str) -> Result<FieldError, PageError> {
    match e {
        DbError::Invalid { field, reason } | DbError::Conflict { field, reason } => {
            Ok(forms::error(id_of(field), reason))
        }
        other => Err(other.into()),
    }
}

/// A submitted form's fields by name (the last of a repeated name).
fn values(fields: &[(String, String)]) -> FormValues {
    fields.iter().cloned().collect()
}

// ---- organisations ----

async fn organisations_page(state: &AppState, form: forms::Form) -> Result<String, PageError> {
    let page = OrganisationsPage {
        layout: Layout::new(state, "/admin/organisations"),
        organisations: state.db.organisations().await?,
        org_types: org_type_choices(),
        form,
    };
    Ok(page.render()?)
}

async fn organisations(State(state): State<AppState>) -> Result<Html<String>, PageError> {
    Ok(Html(organisations_page(&state, forms::Form::default()).await?))
}

async fn add_organisation(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    form: forms::Form,
) -> Result<Response, PageError> {
    let result = match form.value("org_type").parse::<OrgType>() {
        Ok(t) => state.db.create_organisation(&form.value("name"), t, &actor(&me)).await.map(|_| ()),
        Err(_) => Err(DbError::invalid("org_type", "Choose the type of organisation")),
    };
    match result {
        Ok(()) => Ok(see_other("/admin/organisations")),
        Err(e) => {
            let error = on_field(e, |f| f)?;
            Ok(invalid(organisations_page(&state, forms::Form::with_errors(form.values, vec![error])).await?))
        }
    }
}

// ---- users ----

async fn users_page(state: &AppState, form: forms::Form) -> Result<String, PageError> {
    users_page_with(state, form, None).await
}

async fn users_page_with(
    state: &AppState,
    form: forms::Form,
    invited: Option<alliance_app::accounts::Invited>,
) -> Result<String, PageError> {
    let now = alliance_db::clock::now();
    let page = UsersPage {
        layout: Layout::new(state, "/admin/users"),
        users: state.db.users().await?,
        organisations: organisation_choices(&state.db.organisations().await?),
        roles: role_choices(),
        form,
        invitations: state.db.pending_invitations(&now).await?,
        invited,
    };
    Ok(page.render()?)
}

/// The users page's forms as first shown: a new user is offered the least role
/// (`Role::LEAST`), never Administrator by default.
fn least_role_form() -> forms::Form {
    let least = Role::LEAST.code().to_string();
    forms::Form::new(HashMap::from([("role".to_string(), least.clone()), ("invite_role".to_string(), least)]))
}

async fn users(State(state): State<AppState>) -> Result<Html<String>, PageError> {
    Ok(Html(users_page(&state, least_role_form()).await?))
}

/// Invites someone by e-mail (`alliance_app::accounts::invite`): they choose their own
/// password through a single-use link. The page comes back saying whether the link was
/// e-mailed; when it was not (no relay configured, or the relay failed), it shows the link
/// this once, for the administrator to hand over.
async fn invite_user(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    form: forms::Form,
) -> Result<Response, PageError> {
    let mut errors = Vec::new();
    let role = form
        .value("invite_role")
        .parse::<Role>()
        .map_err(|_| errors.push(forms::error("invite_role", "Choose a role")))
        .ok();
    let org_id = form
        .value("invite_org_id")
        .parse::<i64>()
        .map_err(|_| errors.push(forms::error("invite_org_id", "Choose an organisation (add one first)")))
        .ok();
    let (Some(role), Some(org_id), true) = (role, org_id, errors.is_empty()) else {
        return Ok(invalid(users_page(&state, forms::Form::with_errors(form.values, errors)).await?));
    };
    let (email, name) = (form.value("invite_email"), form.value("invite_name"));
    let invite = alliance_app::accounts::Invite { email: &email, name: &name, org_id, role };
    let partnership = state.partnership.name(&state.db).await;
    match alliance_app::accounts::invite(&state.db, &state.mailer, &partnership, &invite, &actor(&me)).await {
        Ok(invited) => Ok(Html(users_page_with(&state, least_role_form(), Some(invited)).await?).into_response()),
        Err(alliance_app::AppError::Invalid { field, reason } | alliance_app::AppError::Conflict { field, reason }) => {
            let field = match field {
                "name" => "invite_name",
                "email" => "invite_email",
                "org_id" => "invite_org_id",
                _ => "invite_email",
            };
            let form = forms::Form::with_errors(form.values, vec![forms::error(field, reason)]);
            Ok(invalid(users_page(&state, form).await?))
        }
        Err(e) => Err(e.into()),
    }
}

/// Withdraws a pending invitation (`Db::withdraw_invitation`): its link stops working. One
/// already used, expired or withdrawn is said on the page rather than withdrawn twice.
async fn withdraw_invitation(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    form: forms::Form,
) -> Result<Response, PageError> {
    let email = form.value("email");
    if state.db.withdraw_invitation(&email, &actor(&me)).await? {
        return Ok(see_other("/admin/users"));
    }
    let message = "That invitation is no longer pending: it was accepted, withdrawn or expired";
    let form = forms::Form::with_errors(FormValues::new(), vec![forms::error("invitations", message)]);
    Ok(invalid(users_page(&state, form).await?))
}

async fn add_user(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    mut form: forms::Form,
) -> Result<Response, PageError> {
    // The password is never shown back.
    let password = form.values.remove("password").unwrap_or_default();
    let mut errors = Vec::new();
    let role = form.value("role").parse::<Role>().map_err(|_| errors.push(forms::error("role", "Choose a role"))).ok();
    let org_id = form
        .value("org_id")
        .parse::<i64>()
        .map_err(|_| errors.push(forms::error("org_id", "Choose an organisation (add one first)")))
        .ok();
    if let Err(e) = password::check_new_password(&password) {
        errors.push(forms::error("password", e));
    }
    let (Some(role), Some(org_id), true) = (role, org_id, errors.is_empty()) else {
        return Ok(invalid(users_page(&state, forms::Form::with_errors(form.values, errors)).await?));
    };
    let hash = password::hash(&password).await.map_err(PageError::Internal)?;
    let (email, name) = (form.value("email"), form.value("name"));
    let new = NewUser { email: &email, name: &name, org_id, role, password_hash: &hash };
    match state.db.create_user(&new, &actor(&me)).await {
        Ok(_) => Ok(see_other("/admin/users")),
        Err(e) => {
            let error = on_field(e, |f| f)?;
            Ok(invalid(users_page(&state, forms::Form::with_errors(form.values, vec![error])).await?))
        }
    }
}

#[derive(serde::Deserialize)]
struct UserUpdateForm {
    #[serde(default)]
    role: String,
    #[serde(default)]
    active: Option<String>,
    /// The user's version when the page was opened (`alliance_db::versions`).
    #[serde(default)]
    version: Option<String>,
}

async fn update_user(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<UserUpdateForm>,
) -> Result<Response, PageError> {
    let Some(user) = state.db.user_by_id(id).await? else { return Err(not_found()) };
    let field = format!("role-{id}");
    let refuse = |message: &str| forms::Form::with_errors(FormValues::new(), vec![forms::error(&field, message)]);
    let Ok(role) = form.role.parse::<Role>() else {
        return Ok(invalid(users_page(&state, refuse("Choose a role")).await?));
    };
    let active = form.active.is_some();
    if user.id == me.id && (role != Role::Administrator || !active) {
        let form = refuse("You cannot remove your own administrator role or deactivate yourself");
        return Ok(invalid(users_page(&state, form).await?));
    }
    let seen = form.version.as_deref().and_then(|v| v.trim().parse().ok());
    match state.db.update_user_access(id, role, active, seen, &actor(&me)).await {
        Ok(()) => Ok(see_other("/admin/users")),
        Err(DbError::Conflict { reason, .. } | DbError::Invalid { reason, .. }) => {
            Ok(invalid(users_page(&state, refuse(&reason)).await?))
        }
        Err(e) => Err(e.into()),
    }
}

// ---- data sharing ----

async fn data_sharing_page(
    state: &AppState,
    me: &alliance_db::access::User,
    mut form: forms::Form,
    sent: &'static str,
) -> Result<String, PageError> {
    // One key for the agreement and the DPIA forms: each store namespaces it.
    forms::ensure_submission_key(&mut form.values);
    state.db.record_lapses().await?;
    let page = DataSharingPage {
        me_email: me.email.clone(),
        me_org: me.org_id,
        layout: Layout::new(state, "/admin/data-sharing"),
        datasets: state.db.datasets().await?,
        agreements: state.db.agreements().await?,
        dpias: state.db.dpias().await?,
        organisations: organisation_choices(&state.db.organisations().await?),
        levels: level_choices(),
        today: alliance_db::clock::today(),
        form,
        sent,
    };
    Ok(page.render()?)
}

async fn data_sharing(State(state): State<AppState>, CurrentUser(me): CurrentUser) -> Result<Html<String>, PageError> {
    Ok(Html(data_sharing_page(&state, &me, forms::Form::default(), "").await?))
}

/// The end of a data-sharing change: back to the page, or the page again with the form
/// `sent` as typed and the error on its field (`id_of` names the element of a field).
async fn data_sharing_done(
    state: &AppState,
    me: &alliance_db::access::User,
    result: Result<(), DbError>,
    values: FormValues,
    sent: &'static str,
    id_of: impl Fn(&'static str) -> &'static str,
) -> Result<Response, PageError> {
    match result {
        Ok(()) => Ok(see_other("/admin/data-sharing")),
        Err(e) => {
            let error = on_field(e, id_of)?;
            Ok(invalid(data_sharing_page(state, me, forms::Form::with_errors(values, vec![error]), sent).await?))
        }
    }
}

/// An agreement's fields as typed in the add or edit form (the parties are added apart).
struct AgreementFields([String; 7]);

impl AgreementFields {
    const NAMES: [&'static str; 7] =
        ["title", "purpose", "lawful_basis", "review_date", "end_date", "dpia_reference", "dpia_date"];

    fn of(form: &forms::Form) -> AgreementFields {
        AgreementFields(AgreementFields::NAMES.map(|name| form.value(name)))
    }

    fn agreement(&self) -> NewAgreement<'_> {
        let [title, purpose, lawful_basis, review_date, end_date, dpia_reference, dpia_date] = &self.0;
        NewAgreement { title, purpose, lawful_basis, review_date, end_date, dpia_reference, dpia_date, parties: &[] }
    }
}

async fn add_agreement(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    form: forms::Form,
) -> Result<Response, PageError> {
    let typed = AgreementFields::of(&form);
    let new = typed.agreement();
    let key = form.get(forms::SUBMISSION);
    let result = state.db.create_agreement(&new, key.as_deref(), &actor(&me)).await.map(|_| ());
    data_sharing_done(&state, &me, result, form.values, "agreement", |f| f).await
}

/// The agreement's fields as the edit form shows them.
fn agreement_values(a: &alliance_db::access::Agreement) -> FormValues {
    [
        ("title", a.title.clone()),
        ("purpose", a.purpose.clone()),
        ("lawful_basis", a.lawful_basis.clone()),
        ("review_date", a.review_date.clone()),
        ("end_date", a.end_date.clone().unwrap_or_default()),
        ("dpia_reference", a.dpia_reference.clone()),
        ("dpia_date", a.dpia_date.clone().unwrap_or_default()),
        (forms::VERSION, a.version.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

async fn agreement_edit_page(state: &AppState, id: i64, form: Option<forms::Form>) -> Result<String, PageError> {
    let Some(agreement) = state.db.agreements().await?.into_iter().find(|a| a.id == id) else {
        return Err(not_found());
    };
    let form = form.unwrap_or_else(|| forms::Form::new(agreement_values(&agreement)));
    let page = AgreementEditPage {
        layout: Layout::new(state, "/admin/data-sharing"),
        approved: agreement.grants.iter().filter(|g| g.status == alliance_db::access::GrantStatus::Approved).count(),
        agreement,
        form,
    };
    Ok(page.render()?)
}

/// The form to edit or renew an agreement (`/admin/agreements/{id}/edit`).
async fn edit_agreement(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Html<String>, PageError> {
    Ok(Html(agreement_edit_page(&state, id, None).await?))
}

/// Saves an edit or renewal: moving the review or end date later sends the agreement's
/// approved grants back to their owners for approval (`Db::update_agreement`).
async fn update_agreement(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<i64>,
    form: forms::Form,
) -> Result<Response, PageError> {
    let typed = AgreementFields::of(&form);
    let edited = typed.agreement();
    match state.db.update_agreement(id, &edited, forms::seen_version(&form.values), &actor(&me)).await {
        Ok(_) => Ok(see_other("/admin/data-sharing")),
        Err(DbError::NotFound { .. }) => Err(not_found()),
        Err(e) => {
            let error = on_field(e, |f| f)?;
            let form = forms::Form::with_errors(form.values, vec![error]);
            Ok(invalid(agreement_edit_page(&state, id, Some(form)).await?))
        }
    }
}

async fn add_grant(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    form: forms::Form,
) -> Result<Response, PageError> {
    let parsed = (|| {
        let agreement = form
            .value("agreement_id")
            .parse::<i64>()
            .map_err(|_| DbError::invalid("agreement_id", "Choose an agreement (record one first)"))?;
        let org =
            form.value("org_id").parse::<i64>().map_err(|_| DbError::invalid("org_id", "Choose an organisation"))?;
        let level =
            form.value("level").parse::<AccessLevel>().map_err(|_| DbError::invalid("level", "Choose a level"))?;
        Ok::<_, DbError>((agreement, org, level))
    })();
    let result = match parsed {
        Ok((agreement, org, level)) => {
            state.db.set_grant(agreement, org, &form.value("dataset"), level, &actor(&me)).await
        }
        Err(e) => Err(e),
    };
    let id_of = |f: &'static str| match f {
        "org_id" => "grant-org",
        "dataset" => "grant-dataset",
        other => other,
    };
    data_sharing_done(&state, &me, result, form.values, "grant", id_of).await
}

/// An owner's administrator approves or refuses a grant request (`decision`: `approve` or
/// `refuse`); the storage layer checks who may decide, in the decision's transaction.
async fn decide_grant(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    form: forms::Form,
) -> Result<Response, PageError> {
    let approve = match form.value("decision").as_str() {
        "approve" => Some(true),
        "refuse" => Some(false),
        _ => None,
    };
    let ids = (form.value("agreement_id").parse::<i64>(), form.value("org_id").parse::<i64>());
    let result = match (approve, ids) {
        (Some(approve), (Ok(agreement), Ok(org))) => {
            state.db.decide_grant(agreement, org, &form.value("dataset"), approve, &actor(&me)).await
        }
        (None, _) => Err(DbError::invalid("decision", "Choose approve or refuse")),
        _ => Err(DbError::invalid("decision", "Choose a request from the list")),
    };
    let result = match result {
        Err(DbError::NotFound { what }) => Err(DbError::invalid("decision", format!("There is no {what}"))),
        other => other,
    };
    data_sharing_done(&state, &me, result, form.values, "decision", |_| "decision").await
}

async fn set_owner(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    form: forms::Form,
) -> Result<Response, PageError> {
    let result = match form.value("org_id").parse::<i64>() {
        Ok(org) => state.db.set_dataset_owner(&form.value("dataset"), org, &actor(&me)).await,
        Err(_) => Err(DbError::invalid("org_id", "Choose an organisation")),
    };
    let id_of = |f: &'static str| if f == "dataset" { "owner-dataset" } else { "owner-org" };
    data_sharing_done(&state, &me, result, form.values, "owner", id_of).await
}

async fn add_dpia(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    form: forms::Form,
) -> Result<Response, PageError> {
    let (title, datasets, completed_on, review_date, summary) = (
        form.value("title"),
        form.value("datasets"),
        form.value("completed_on"),
        form.value("review_date"),
        form.value("summary"),
    );
    let new = NewDpia {
        title: &title,
        datasets: &datasets,
        completed_on: &completed_on,
        review_date: &review_date,
        summary: &summary,
    };
    let key = form.get(forms::SUBMISSION);
    let result = state.db.create_dpia(&new, key.as_deref(), &actor(&me)).await.map(|_| ());
    let id_of = |f: &'static str| match f {
        "title" => "dpia-title",
        "review_date" => "dpia-review",
        "datasets" => "dpia-datasets",
        other => other,
    };
    data_sharing_done(&state, &me, result, form.values, "dpia", id_of).await
}

// ---- API tokens ----

async fn tokens_page(
    state: &AppState,
    new_token: Option<String>,
    form: forms::Form,
    ticked: Vec<String>,
) -> Result<String, PageError> {
    let page = TokensPage {
        layout: Layout::new(state, "/admin/tokens"),
        tokens: state.db.api_tokens().await?,
        organisations: organisation_choices(&state.db.organisations().await?),
        scopes: SCOPES.iter().map(|(s, l)| (s.to_string(), l.to_string())).collect(),
        new_token,
        form,
        ticked,
    };
    Ok(page.render()?)
}

async fn tokens(State(state): State<AppState>) -> Result<Html<String>, PageError> {
    Ok(Html(tokens_page(&state, None, forms::Form::default(), Vec::new()).await?))
}

/// The form repeats `scope`, so it is read as pairs.
async fn add_token(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    RawForm(body): RawForm,
) -> Result<Response, PageError> {
    let pairs: Vec<(String, String)> = form_pairs(&body);
    let form = forms::Form::new(values(&pairs));
    let scopes: Vec<&str> = pairs
        .iter()
        .filter(|(k, _)| k == "scope")
        .filter_map(|(_, v)| SCOPES.iter().find(|(s, _)| s == v).map(|(s, _)| *s))
        .collect();
    let ticked: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
    let result = match form.value("org_id").parse::<i64>() {
        Ok(org_id) => {
            let token = format!("alliance_{}", random_token());
            let name = form.value("name");
            state.db.create_api_token(org_id, &name, &token_hash(&token), &scopes, &actor(&me)).await.map(|_| token)
        }
        Err(_) => Err(DbError::invalid("org_id", "Choose an organisation (add one first)")),
    };
    match result {
        Ok(token) => {
            Ok(Html(tokens_page(&state, Some(token), forms::Form::default(), Vec::new()).await?).into_response())
        }
        Err(e) => {
            let error = on_field(e, |f| f)?;
            let form = forms::Form::with_errors(form.values, vec![error]);
            Ok(invalid(tokens_page(&state, None, form, ticked).await?))
        }
    }
}

fn form_pairs(body: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(body);
    let uri = format!("/?{text}").parse::<axum::http::Uri>().unwrap_or_else(|_| axum::http::Uri::from_static("/"));
    axum::extract::Query::<Vec<(String, String)>>::try_from_uri(&uri).map(|q| q.0).unwrap_or_default()
}

async fn revoke_token(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    state.db.revoke_api_token(id, &actor(&me)).await?;
    Ok(see_other("/admin/tokens"))
}

// ---- audit ----

async fn audit(
    State(state): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Html<String>, PageError> {
    let get = |k: &str| q.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
    let query = AuditQuery {
        actor: Some(get("user")),
        action: Some(get("action")),
        from: Some(get("from")),
        to: Some(get("to")),
        limit: 500,
    };
    let page = AuditPage {
        layout: Layout::new(&state, "/admin/audit"),
        entries: state.db.audit_search(&query).await?,
        user: get("user"),
        action: get("action"),
        from: get("from"),
        to: get("to"),
    };
    Ok(Html(page.render()?))
}
