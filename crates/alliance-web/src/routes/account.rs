//! Signing in and out, and changing one's password.

use alliance_db::audit::AuditEvent;
use askama::Template;
use axum::extract::State;
use axum::http::header::LOCATION;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::{Extension, Form};
use serde::Deserialize;

use crate::auth::{session, ClientIp, CurrentUser};
use crate::views::access::{PasswordPage, SignInPage};
use crate::views::Layout;
use crate::{AppState, PageError};
use alliance_app::password;

pub fn routes() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/sign-in", get(sign_in_page).post(sign_in))
        .route("/sign-out", post(sign_out))
        .route("/account/password", get(password_page).post(change_password))
}

async fn sign_in_page(State(state): State<AppState>) -> Result<Html<String>, PageError> {
    Ok(Html(SignInPage { layout: Layout::new(&state, "/sign-in"), error: None, email: String::new() }.render()?))
}

#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

const WRONG: &str = "The email address or password is not right, or the account is locked after repeated failures. \
                     Try again, or ask your administrator.";

async fn sign_in(
    State(state): State<AppState>,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    Form(form): Form<SignInForm>,
) -> Result<Response, PageError> {
    let email = form.email.trim().to_lowercase();
    let refuse = |detail: String| {
        let state = state.clone();
        let (ip, email) = (ip.clone(), email.clone());
        async move {
            state
                .db
                .audit(&AuditEvent {
                    actor: &format!("user:{email}"),
                    action: "sign-in-failed",
                    target: "/sign-in",
                    detail: &detail,
                    ip: &ip,
                })
                .await?;
            let page = SignInPage { layout: Layout::new(&state, "/sign-in"), error: Some(WRONG.into()), email };
            Ok::<_, PageError>((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response())
        }
    };
    let Some(user) = state.db.user_by_email(&email).await? else {
        password::verify_dummy(&form.password).await;
        return refuse("no such user".into()).await;
    };
    let now = chrono::Utc::now();
    if user
        .locked_until
        .as_deref()
        .is_some_and(|until| until > now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true).as_str())
    {
        return refuse(format!("account locked until {}", user.locked_until.clone().unwrap_or_default())).await;
    }
    if !password::verify(&form.password, &user.password_hash).await {
        let failures = state.db.record_failed_sign_in(user.id).await?;
        let mut detail = format!("wrong password ({failures} in a row)");
        if let Some(minutes) = password::lock_minutes(failures) {
            let until = (now + chrono::Duration::minutes(minutes)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            state.db.lock_user_until(user.id, &until).await?;
            detail.push_str(&format!("; locked until {until}"));
        }
        return refuse(detail).await;
    }
    if !user.active {
        return refuse("account deactivated".into()).await;
    }
    state.db.clear_sign_in_failures(user.id).await?;
    let cookie = session::start(&state, user.id, &ip).await?;
    state
        .db
        .audit(&AuditEvent {
            actor: &format!("user:{}", user.email),
            action: "sign-in",
            target: "/sign-in",
            detail: "",
            ip: &ip,
        })
        .await?;
    let mut headers = HeaderMap::new();
    session::append(&mut headers, cookie);
    headers.insert(LOCATION, axum::http::HeaderValue::from_static("/"));
    Ok((StatusCode::SEE_OTHER, headers).into_response())
}

async fn sign_out(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    request_headers: HeaderMap,
) -> Result<Response, PageError> {
    let cookie = session::end(&state, &request_headers).await?;
    state
        .db
        .audit(&AuditEvent {
            actor: &format!("user:{}", user.email),
            action: "sign-out",
            target: "/sign-out",
            detail: "",
            ip: &ip,
        })
        .await?;
    let mut headers = HeaderMap::new();
    session::append(&mut headers, cookie);
    headers.insert(LOCATION, axum::http::HeaderValue::from_static("/sign-in?signed-out=1"));
    Ok((StatusCode::SEE_OTHER, headers).into_response())
}

async fn password_page(
    State(state): State<AppState>,
    axum::extract::Query(query): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Result<Html<String>, PageError> {
    let done = query.contains_key("changed");
    Ok(Html(PasswordPage { layout: Layout::new(&state, "/account/password"), error: None, done }.render()?))
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    confirm: String,
}

async fn change_password(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    Form(form): Form<PasswordForm>,
) -> Result<Response, PageError> {
    let problem = if !password::verify(&form.current, &user.password_hash).await {
        Some("Your current password is not right".to_string())
    } else if form.new != form.confirm {
        Some("The new password and its confirmation are different".to_string())
    } else {
        password::check_new_password(&form.new).err()
    };
    if let Some(error) = problem {
        let page = PasswordPage { layout: Layout::new(&state, "/account/password"), error: Some(error), done: false };
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response());
    }
    let hash = password::hash(&form.new).await.map_err(|e| PageError::Db(alliance_db::DbError::Legacy(e)))?;
    // Ends every session of the user, this one included; a new one is started below.
    state.db.set_password_hash(user.id, &hash).await?;
    state
        .db
        .audit(&AuditEvent {
            actor: &format!("user:{}", user.email),
            action: "password-change",
            target: &user.email,
            detail: "",
            ip: &ip,
        })
        .await?;
    let cookie = session::start(&state, user.id, &ip).await?;
    let mut headers = HeaderMap::new();
    session::append(&mut headers, cookie);
    headers.insert(LOCATION, axum::http::HeaderValue::from_static("/account/password?changed=1"));
    Ok((StatusCode::SEE_OTHER, headers).into_response())
}
