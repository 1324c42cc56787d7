//! Signing in and out, and changing one's password. Each stores its change and its audit
//! row in one transaction (`Db::sign_in`, `Db::record_failed_sign_in`, `Db::sign_out`,
//! `Db::change_password`); a refusal that changes nothing is recorded on its own.

use alliance_db::audit::Actor;
use askama::Template;
use axum::extract::State;
use axum::http::header::LOCATION;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Extension;
use serde::Deserialize;

use crate::auth::{actor_of, session, ClientIp, CurrentUser};
use crate::extract::{Form, Query};
use crate::forms::{self, FormValues};
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
    Ok(Html(SignInPage { layout: Layout::new(&state, "/sign-in"), form: forms::Form::default() }.render()?))
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

/// `lock_minutes` as the time the account stays locked until, from `now`.
fn lock_until(now: chrono::DateTime<chrono::Utc>) -> impl Fn(i64) -> Option<String> {
    move |failures| {
        password::lock_minutes(failures).map(|minutes| {
            (now + chrono::Duration::minutes(minutes)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        })
    }
}

/// Records a refused sign-in that changes nothing stored.
async fn refusal(state: &AppState, actor: &Actor, detail: &str) -> Result<(), PageError> {
    state.db.audit(&actor.event("sign-in-failed", "/sign-in", detail)).await?;
    Ok(())
}

async fn sign_in(
    State(state): State<AppState>,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    Form(form): Form<SignInForm>,
) -> Result<Response, PageError> {
    let email = form.email.trim().to_lowercase();
    let actor = Actor::new(format!("user:{email}"), ip.as_str());
    // The page refusing the sign-in: the same words whatever the reason, the email kept.
    let refused = || {
        let typed = FormValues::from([("email".to_string(), email.clone())]);
        let page = SignInPage {
            layout: Layout::new(&state, "/sign-in"),
            form: forms::Form::with_errors(typed, vec![forms::error("email", WRONG)]),
        };
        Ok::<_, PageError>((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response())
    };
    let Some(user) = state.db.user_by_email(&email).await? else {
        password::verify_dummy(&form.password).await;
        refusal(&state, &actor, "no such user").await?;
        return refused();
    };
    let now = chrono::Utc::now();
    let now_text = now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    if let Some(until) = user.locked_until.as_deref().filter(|until| *until > now_text.as_str()) {
        refusal(&state, &actor, &format!("account locked until {until}")).await?;
        return refused();
    }
    if !password::verify(&form.password, &user.password_hash).await {
        state.db.record_failed_sign_in(user.id, lock_until(now), &actor).await?;
        return refused();
    }
    if !user.active {
        refusal(&state, &actor, "account deactivated").await?;
        return refused();
    }
    let session = session::new_session(&state);
    state.db.sign_in(&session.record(user.id, &ip), &actor_of(&user, &ip)).await?;
    let mut headers = HeaderMap::new();
    session::append(&mut headers, session.cookie);
    headers.insert(LOCATION, axum::http::HeaderValue::from_static("/"));
    Ok((StatusCode::SEE_OTHER, headers).into_response())
}

async fn sign_out(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    request_headers: HeaderMap,
) -> Result<Response, PageError> {
    let token = session::current_token_hash(&request_headers);
    state.db.sign_out(token.as_deref(), &actor_of(&user, &ip)).await?;
    let mut headers = HeaderMap::new();
    session::append(&mut headers, session::cleared(&state));
    headers.insert(LOCATION, axum::http::HeaderValue::from_static("/sign-in?signed-out=1"));
    Ok((StatusCode::SEE_OTHER, headers).into_response())
}

async fn password_page(
    State(state): State<AppState>,
    Query(query): Query<std::collections::HashMap<String, String>>,
) -> Result<Html<String>, PageError> {
    let done = query.contains_key("changed");
    let page = PasswordPage { layout: Layout::new(&state, "/account/password"), form: forms::Form::default(), done };
    Ok(Html(page.render()?))
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
        Some(forms::error("current", "Your current password is not right"))
    } else if form.new != form.confirm {
        Some(forms::error("confirm", "The new password and its confirmation are different"))
    } else {
        password::check_new_password(&form.new).err().map(|e| forms::error("new", e))
    };
    if let Some(error) = problem {
        let form = forms::Form::with_errors(FormValues::new(), vec![error]);
        let page = PasswordPage { layout: Layout::new(&state, "/account/password"), form, done: false };
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response());
    }
    let hash = password::hash(&form.new).await.map_err(PageError::Internal)?;
    // Ends every session of the user, this one included, and starts the one they go on with.
    let session = session::new_session(&state);
    state.db.change_password(user.id, &hash, &session.record(user.id, &ip), &actor_of(&user, &ip)).await?;
    let mut headers = HeaderMap::new();
    session::append(&mut headers, session.cookie);
    headers.insert(LOCATION, axum::http::HeaderValue::from_static("/account/password?changed=1"));
    Ok((StatusCode::SEE_OTHER, headers).into_response())
}
