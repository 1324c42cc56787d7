//! Administrators' pages: organisations, users, data sharing (datasets, agreements, grants,
//! DPIAs), API tokens and the audit log. Every change is written to the audit log as a
//! `permission-change`.

use std::collections::HashMap;

use alliance_core::access::{AccessLevel, OrgType, Role};
use alliance_db::access::{NewAgreement, NewDpia, NewUser};
use alliance_db::audit::{AuditEvent, AuditQuery};
use alliance_db::DbError;
use askama::Template;
use axum::extract::{Path, Query, RawForm, State};
use axum::http::header::LOCATION;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::{Extension, Form};
use serde::Deserialize;

use crate::auth::access::SCOPES;
use crate::auth::{random_token, token_hash, ClientIp, CurrentUser};
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
        .route("/admin/data-sharing", get(data_sharing))
        .route("/admin/agreements", post(add_agreement))
        .route("/admin/grants", post(add_grant))
        .route("/admin/datasets", post(set_owner))
        .route("/admin/dpias", post(add_dpia))
        .route("/admin/tokens", get(tokens).post(add_token))
        .route("/admin/tokens/{id}/revoke", post(revoke_token))
        .route("/admin/audit", get(audit))
}

fn redirect(to: &'static str) -> Response {
    (StatusCode::SEE_OTHER, [(LOCATION, HeaderValue::from_static(to))]).into_response()
}

/// A page re-rendered with a validation error: 422.
fn invalid(html: String) -> Response {
    (StatusCode::UNPROCESSABLE_ENTITY, Html(html)).into_response()
}

async fn record_change(state: &AppState, who: &str, ip: &str, target: &str, detail: &str) -> Result<(), DbError> {
    state
        .db
        .audit(&AuditEvent { actor: &format!("user:{who}"), action: "permission-change", target, detail, ip })
        .await
        .map(|_| ())
}

// ---- organisations ----

async fn organisations_page(state: &AppState, error: Option<String>) -> Result<String, PageError> {
    let page = OrganisationsPage {
        layout: Layout::new(state, "/admin/organisations"),
        organisations: state.db.organisations().await?,
        org_types: org_type_choices(),
        error,
    };
    Ok(page.render()?)
}

async fn organisations(State(state): State<AppState>) -> Result<Html<String>, PageError> {
    Ok(Html(organisations_page(&state, None).await?))
}

#[derive(Deserialize)]
struct OrganisationForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    org_type: String,
}

async fn add_organisation(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    Form(form): Form<OrganisationForm>,
) -> Result<Response, PageError> {
    let result = match form.org_type.parse::<OrgType>() {
        Ok(t) => state.db.create_organisation(&form.name, t).await.map_err(|e| e.to_string()),
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => {
            record_change(&state, &me.email, &ip, &form.name, &format!("organisation added ({})", form.org_type))
                .await?;
            Ok(redirect("/admin/organisations"))
        }
        Err(e) => Ok(invalid(organisations_page(&state, Some(e)).await?)),
    }
}

// ---- users ----

async fn users_page(state: &AppState, error: Option<String>, message: Option<String>) -> Result<String, PageError> {
    let page = UsersPage {
        layout: Layout::new(state, "/admin/users"),
        users: state.db.users().await?,
        organisations: organisation_choices(&state.db.organisations().await?),
        roles: role_choices(),
        error,
        message,
    };
    Ok(page.render()?)
}

async fn users(State(state): State<AppState>) -> Result<Html<String>, PageError> {
    Ok(Html(users_page(&state, None, None).await?))
}

#[derive(Deserialize)]
struct UserForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    org_id: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    password: String,
}

async fn add_user(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    Form(form): Form<UserForm>,
) -> Result<Response, PageError> {
    let checked = (|| {
        let role = form.role.parse::<Role>()?;
        let org_id = form.org_id.parse::<i64>().map_err(|_| "Choose an organisation (add one first)".to_string())?;
        password::check_new_password(&form.password)?;
        Ok::<_, String>((role, org_id))
    })();
    let (role, org_id) = match checked {
        Ok(v) => v,
        Err(e) => return Ok(invalid(users_page(&state, Some(e), None).await?)),
    };
    let hash = password::hash(&form.password).await.map_err(|e| PageError::Db(DbError::Legacy(e)))?;
    let new = NewUser { email: &form.email, name: &form.name, org_id, role, password_hash: &hash };
    match state.db.create_user(&new).await {
        Ok(_) => {
            record_change(&state, &me.email, &ip, &form.email.trim().to_lowercase(), &format!("user added as {role}"))
                .await?;
            Ok(redirect("/admin/users"))
        }
        Err(DbError::Legacy(e)) => Ok(invalid(users_page(&state, Some(e), None).await?)),
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
struct UserUpdateForm {
    #[serde(default)]
    role: String,
    #[serde(default)]
    active: Option<String>,
}

async fn update_user(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    Path(id): Path<i64>,
    Form(form): Form<UserUpdateForm>,
) -> Result<Response, PageError> {
    let Some(user) = state.db.user_by_id(id).await? else {
        return Ok(invalid(users_page(&state, Some(format!("There is no user {id}")), None).await?));
    };
    let role = match form.role.parse::<Role>() {
        Ok(r) => r,
        Err(e) => return Ok(invalid(users_page(&state, Some(e), None).await?)),
    };
    let active = form.active.is_some();
    if user.id == me.id && (role != Role::Administrator || !active) {
        let e = "You cannot remove your own administrator role or deactivate yourself".to_string();
        return Ok(invalid(users_page(&state, Some(e), None).await?));
    }
    state.db.update_user_access(id, role, active).await?;
    state.db.clear_sign_in_failures(id).await?;
    record_change(&state, &me.email, &ip, &user.email, &format!("role {role}, can sign in: {active}, unlocked"))
        .await?;
    Ok(redirect("/admin/users"))
}

// ---- data sharing ----

async fn data_sharing_page(state: &AppState, error: Option<String>) -> Result<String, PageError> {
    let page = DataSharingPage {
        layout: Layout::new(state, "/admin/data-sharing"),
        datasets: state.db.datasets().await?,
        agreements: state.db.agreements().await?,
        dpias: state.db.dpias().await?,
        organisations: organisation_choices(&state.db.organisations().await?),
        levels: level_choices(),
        today: chrono::Utc::now().format("%Y-%m-%d").to_string(),
        error,
    };
    Ok(page.render()?)
}

async fn data_sharing(State(state): State<AppState>) -> Result<Html<String>, PageError> {
    Ok(Html(data_sharing_page(&state, None).await?))
}

/// Runs a change; a `DbError::Legacy` re-renders the data-sharing page with it (422).
async fn data_sharing_change(
    state: &AppState,
    change: Result<String, String>,
    who: &str,
    ip: &str,
    target: &str,
) -> Result<Response, PageError> {
    match change {
        Ok(detail) => {
            record_change(state, who, ip, target, &detail).await?;
            Ok(redirect("/admin/data-sharing"))
        }
        Err(e) => Ok(invalid(data_sharing_page(state, Some(e)).await?)),
    }
}

fn invalid_or(e: DbError) -> Result<String, String> {
    match e {
        DbError::Legacy(m) => Err(m),
        other => Err(format!("could not save: {other}")),
    }
}

#[derive(Deserialize)]
struct AgreementForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    purpose: String,
    #[serde(default)]
    lawful_basis: String,
    #[serde(default)]
    review_date: String,
}

async fn add_agreement(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    Form(f): Form<AgreementForm>,
) -> Result<Response, PageError> {
    let new = NewAgreement {
        title: &f.title,
        purpose: &f.purpose,
        lawful_basis: &f.lawful_basis,
        review_date: f.review_date.trim(),
        parties: &[],
        created_by: &me.email,
    };
    let change = match state.db.create_agreement(&new).await {
        Ok(id) => Ok(format!("agreement {id} recorded")),
        Err(e) => invalid_or(e),
    };
    data_sharing_change(&state, change, &me.email, &ip, &f.title).await
}

#[derive(Deserialize)]
struct GrantForm {
    #[serde(default)]
    agreement_id: String,
    #[serde(default)]
    org_id: String,
    #[serde(default)]
    dataset: String,
    #[serde(default)]
    level: String,
}

async fn add_grant(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    Form(f): Form<GrantForm>,
) -> Result<Response, PageError> {
    let parsed = (|| {
        let agreement =
            f.agreement_id.parse::<i64>().map_err(|_| "Choose an agreement (record one first)".to_string())?;
        let org = f.org_id.parse::<i64>().map_err(|_| "Choose an organisation".to_string())?;
        let level = f.level.parse::<AccessLevel>()?;
        Ok::<_, String>((agreement, org, level))
    })();
    let change = match parsed {
        Ok((agreement, org, level)) => match state.db.set_grant(agreement, org, &f.dataset, level).await {
            Ok(()) => Ok(format!("agreement {agreement} grants organisation {org} {level} access")),
            Err(e) => invalid_or(e),
        },
        Err(e) => Err(e),
    };
    data_sharing_change(&state, change, &me.email, &ip, &f.dataset).await
}

#[derive(Deserialize)]
struct OwnerForm {
    #[serde(default)]
    dataset: String,
    #[serde(default)]
    org_id: String,
}

async fn set_owner(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    Form(f): Form<OwnerForm>,
) -> Result<Response, PageError> {
    let change = match f.org_id.parse::<i64>() {
        Ok(org) => match state.db.set_dataset_owner(&f.dataset, Some(org)).await {
            Ok(()) => Ok(format!("owner set to organisation {org}")),
            Err(e) => invalid_or(e),
        },
        Err(_) => Err("Choose an organisation".to_string()),
    };
    data_sharing_change(&state, change, &me.email, &ip, &f.dataset).await
}

#[derive(Deserialize)]
struct DpiaForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    datasets: String,
    #[serde(default)]
    completed_on: String,
    #[serde(default)]
    review_date: String,
    #[serde(default)]
    summary: String,
}

async fn add_dpia(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    Form(f): Form<DpiaForm>,
) -> Result<Response, PageError> {
    let new = NewDpia {
        title: &f.title,
        datasets: &f.datasets,
        completed_on: f.completed_on.trim(),
        review_date: f.review_date.trim(),
        summary: &f.summary,
        created_by: &me.email,
    };
    let change = match state.db.create_dpia(&new).await {
        Ok(id) => Ok(format!("DPIA {id} recorded")),
        Err(e) => invalid_or(e),
    };
    data_sharing_change(&state, change, &me.email, &ip, &f.title).await
}

// ---- API tokens ----

async fn tokens_page(state: &AppState, new_token: Option<String>, error: Option<String>) -> Result<String, PageError> {
    let page = TokensPage {
        layout: Layout::new(state, "/admin/tokens"),
        tokens: state.db.api_tokens().await?,
        organisations: organisation_choices(&state.db.organisations().await?),
        scopes: SCOPES.iter().map(|(s, l)| (s.to_string(), l.to_string())).collect(),
        new_token,
        error,
    };
    Ok(page.render()?)
}

async fn tokens(State(state): State<AppState>) -> Result<Html<String>, PageError> {
    Ok(Html(tokens_page(&state, None, None).await?))
}

/// The form repeats `scope`, so it is read as pairs.
async fn add_token(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    RawForm(body): RawForm,
) -> Result<Response, PageError> {
    let pairs: Vec<(String, String)> = form_pairs(&body);
    let field = |k: &str| pairs.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone()).unwrap_or_default();
    let scopes: Vec<&str> = pairs
        .iter()
        .filter(|(k, _)| k == "scope")
        .filter_map(|(_, v)| SCOPES.iter().find(|(s, _)| s == v).map(|(s, _)| *s))
        .collect();
    let Ok(org_id) = field("org_id").parse::<i64>() else {
        return Ok(invalid(tokens_page(&state, None, Some("Choose an organisation (add one first)".into())).await?));
    };
    if scopes.is_empty() {
        return Ok(invalid(tokens_page(&state, None, Some("Choose at least one scope".into())).await?));
    }
    let token = format!("alliance_{}", random_token());
    let name = field("name");
    match state.db.create_api_token(org_id, &name, &token_hash(&token), &scopes, &me.email).await {
        Ok(id) => {
            record_change(
                &state,
                &me.email,
                &ip,
                &format!("token:{id}"),
                &format!("token \"{name}\" created for organisation {org_id} with scopes {}", scopes.join(" ")),
            )
            .await?;
            Ok(Html(tokens_page(&state, Some(token), None).await?).into_response())
        }
        Err(DbError::Legacy(e)) => Ok(invalid(tokens_page(&state, None, Some(e)).await?)),
        Err(e) => Err(e.into()),
    }
}

fn form_pairs(body: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(body);
    let uri = format!("/?{text}").parse::<axum::http::Uri>().unwrap_or_else(|_| axum::http::Uri::from_static("/"));
    Query::<Vec<(String, String)>>::try_from_uri(&uri).map(|q| q.0).unwrap_or_default()
}

async fn revoke_token(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    state.db.revoke_api_token(id).await?;
    record_change(&state, &me.email, &ip, &format!("token:{id}"), "token revoked").await?;
    Ok(redirect("/admin/tokens"))
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
