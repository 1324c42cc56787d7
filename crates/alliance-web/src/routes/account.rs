//! Signing in and out, and changing one's password. Each stores its change and its audit
//! row in one transaction (`Db::sign_in`, `Db::record_failed_sign_in`, `Db::sign_out`,
//! `Db::change_password`); a refusal that changes nothing is recorded on its own.
//!
//! And the pages of single-use links (`alliance_app::accounts`): accepting an invitation
//! (`/account/invitation?token=…`), asking for a password reset (`/account/forgot-password`,
//! the same answer whether or not the address has an account) and setting the new password
//! (`/account/reset-password?token=…`). The link forms are throttled per client
//! ([`LINK_FORMS`], [`RESET_REQUESTS`]) and per address ([`RESET_PER_ADDRESS`]) with the
//! database's limits, a link is checked before any password work, and a used or expired
//! link is a 410 page.
//!
//! A password is checked only after the attempt is counted, per client and per account
//! (`auth::throttle`, `Db::count_sign_in_attempt`): attempts sent at once cannot outrun the
//! lockout, and unknown, locked and known accounts cost the same work. A successful one
//! gives its count back to the client (not to the account, whose count a sign-in clears):
//! only failures use up an address's allowance (`throttle::SIGN_IN`).

use alliance_db::audit::Actor;
use askama::Template;
use axum::extract::State;
use axum::http::header::LOCATION;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Extension;
use serde::Deserialize;

use super::see_other;
use crate::auth::{actor, actor_of, session, throttle, ClientIp, CurrentUser};
use crate::extract::{Form, Query};
use crate::forms::{self, FormValues};
use crate::views::access::{return_path, PasswordPage, SignInPage};
use crate::views::Layout;
use crate::{AppState, PageError};
use alliance_app::accounts;
use alliance_app::password;

pub fn routes() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/sign-in", get(sign_in_page).post(sign_in))
        .route("/sign-out", post(sign_out))
        .route("/account/password", get(password_page).post(change_password))
        .route("/account/invitation", get(invitation_page).post(accept_invitation))
        .route("/account/forgot-password", get(forgot_page).post(forgot))
        .route("/account/reset-password", get(reset_page).post(reset))
}

async fn sign_in_page(
    State(state): State<AppState>,
    Query(query): Query<std::collections::HashMap<String, String>>,
) -> Result<Html<String>, PageError> {
    let notice = if query.contains_key("account-ready") {
        Some("Your account is ready: sign in with your email address and the password you chose.")
    } else if query.contains_key("password-reset") {
        Some("Your password has been changed and every session of your account was signed out: sign in with the new password.")
    } else {
        None
    };
    let next = query.get("next").and_then(|p| return_path(p));
    Ok(Html(
        SignInPage { layout: Layout::new(&state, "/sign-in"), form: forms::Form::default(), notice, next }.render()?,
    ))
}

#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    /// The page asked for before signing in (checked by `return_path`).
    #[serde(default)]
    next: String,
}

const WRONG: &str = "The email address or password is not right, or the account is locked after repeated failures. \
                     Try again, or ask your administrator.";

/// Records a refused sign-in that changes nothing stored.
async fn refusal(state: &AppState, actor: &Actor, detail: &str) -> Result<(), PageError> {
    state.db.audit(&actor.event("sign-in-failed", "/sign-in", detail)).await?;
    Ok(())
}

/// The page refusing too many attempts from one client (429).
fn too_many_attempts() -> Result<Response, PageError> {
    let minutes = throttle::SIGN_IN.window_seconds / 60;
    let mut response = crate::error::error_page(
        StatusCode::TOO_MANY_REQUESTS,
        "Too many attempts",
        vec![format!(
            "There have been too many failed attempts to sign in from your network. Wait {minutes} minutes and try again, or ask your administrator."
        )],
    );
    response.headers_mut().insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from(minutes * 60));
    Ok(response)
}

/// The outcome of checking a user's password under the lockout.
enum Checked {
    Right,
    /// Wrong: the refusal (and any lock) has been recorded.
    Wrong,
    /// Locked: not checked (a dummy hash was, for equal work); the refusal has been recorded.
    Locked,
}

/// Checks `password` for `user` as the lockout requires: the attempt is counted in the
/// database first (so attempts made at once cannot all be checked), a locked account gets
/// the same work against a dummy hash, and a wrong password is recorded (`sign-in-failed`
/// on `target`) with the lock it brings.
async fn check_password(
    state: &AppState,
    user: &alliance_db::access::User,
    password: &str,
    target: &str,
    actor: &Actor,
) -> Result<Checked, PageError> {
    let now = chrono::Utc::now();
    let stamp = alliance_db::clock::stamp;
    let first_lock =
        now + chrono::Duration::minutes(password::lock_minutes(password::FAILURES_BEFORE_LOCK).unwrap_or(15));
    let attempt = state
        .db
        .count_sign_in_attempt(user.id, &stamp(now), password::FAILURES_BEFORE_LOCK, &stamp(first_lock))
        .await?;
    let Some(attempt) = attempt else {
        state.throttle.verify_dummy(password).await;
        let until = state.db.user_by_id(user.id).await?.and_then(|u| u.locked_until).unwrap_or_default();
        state.db.audit(&actor.event("sign-in-failed", target, &format!("account locked until {until}"))).await?;
        return Ok(Checked::Locked);
    };
    if state.throttle.verify(password, &user.password_hash).await {
        return Ok(Checked::Right);
    }
    let lock = password::lock_minutes(attempt).map(|minutes| stamp(now + chrono::Duration::minutes(minutes)));
    state.db.record_failed_sign_in(user.id, attempt, lock, target, actor).await?;
    Ok(Checked::Wrong)
}

/// Gives back the sign-in allowance a successful attempt took (`throttle::SIGN_IN` counts
/// failures only). The user is signed in by then: a database error here is logged, not
/// shown, and leaves the attempt counted, as a failure would be.
async fn give_back(state: &AppState, hit: throttle::Hit) {
    if let Err(e) = state.throttle.give_back(&state.db, hit).await {
        tracing::warn!(error = %e, "a successful sign-in's hit could not be given back: it stays counted");
    }
}

async fn sign_in(
    State(state): State<AppState>,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    Form(form): Form<SignInForm>,
) -> Result<Response, PageError> {
    // At most an email address's length (254) is kept: it is shown back and written to the
    // audit log, and no longer one can belong to a user.
    let email: String = form.email.trim().to_lowercase().chars().take(254).collect();
    let actor = Actor::new(format!("user:{email}"), ip.as_str());
    let next = return_path(&form.next);
    // The page refusing the sign-in: the same words whatever the reason, the email kept.
    let refused = || {
        let typed = FormValues::from([("email".to_string(), email.clone())]);
        let page = SignInPage {
            layout: Layout::new(&state, "/sign-in"),
            form: forms::Form::with_errors(typed, vec![forms::error("email", WRONG)]),
            notice: None,
            next: next.clone(),
        };
        super::page(&page, true)
    };
    // Only failures count towards the client's allowance (`throttle::SIGN_IN`): the hit
    // taken here is given back once the sign-in has succeeded.
    let Some(hit) = state.throttle.take(&state.db, &throttle::SIGN_IN, &ip).await? else {
        return too_many_attempts();
    };
    let Some(user) = state.db.user_by_email(&email).await? else {
        state.throttle.verify_dummy(&form.password).await;
        refusal(&state, &actor, "no such user").await?;
        return refused();
    };
    match check_password(&state, &user, &form.password, "/sign-in", &actor).await? {
        Checked::Right => {}
        Checked::Wrong | Checked::Locked => return refused(),
    }
    if !user.active {
        refusal(&state, &actor, "account deactivated").await?;
        return refused();
    }
    let session = session::new_session(&state);
    state.db.sign_in(&session.record(user.id, &ip), &actor_of(&user, &ip)).await?;
    give_back(&state, hit).await;
    let mut headers = HeaderMap::new();
    session::append(&mut headers, session.cookie);
    let to = next.as_deref().and_then(|p| axum::http::HeaderValue::from_str(p).ok());
    headers.insert(LOCATION, to.unwrap_or_else(|| axum::http::HeaderValue::from_static("/")));
    Ok((StatusCode::SEE_OTHER, headers).into_response())
}

async fn sign_out(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    request_headers: HeaderMap,
) -> Result<Response, PageError> {
    let token = session::current_token_hash(&request_headers);
    state.db.sign_out(token.as_deref(), &actor(&user)).await?;
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

/// Changes the signed-in user's password. The current password is checked like a sign-in
/// (counted per client and per account first, so this form is no way round the lockout):
/// the new password's rules are checked before it, and a wrong or locked one is refused.
async fn change_password(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    Form(form): Form<PasswordForm>,
) -> Result<Response, PageError> {
    let refuse = |error| {
        let form = forms::Form::with_errors(FormValues::new(), vec![error]);
        let page = PasswordPage { layout: Layout::new(&state, "/account/password"), form, done: false };
        super::page(&page, true)
    };
    if form.new != form.confirm {
        return refuse(forms::error("confirm", "The new password and its confirmation are different"));
    }
    if let Err(e) = password::check_new_password(&form.new) {
        return refuse(forms::error("new", e));
    }
    let Some(hit) = state.throttle.take(&state.db, &throttle::SIGN_IN, &ip).await? else {
        return too_many_attempts();
    };
    let actor = actor_of(&user, &ip);
    match check_password(&state, &user, &form.current, "/account/password", &actor).await? {
        Checked::Right => {}
        Checked::Wrong => return refuse(forms::error("current", "Your current password is not right")),
        Checked::Locked => {
            return refuse(forms::error(
                "current",
                "Your account is locked after repeated wrong passwords: try again later, or ask your administrator",
            ))
        }
    }
    let hash = state.throttle.hash(&form.new).await.map_err(PageError::Internal)?;
    // Ends every session of the user, this one included, and starts the one they go on with.
    let session = session::new_session(&state);
    state.db.change_password(user.id, &hash, &session.record(user.id, &ip), &actor).await?;
    give_back(&state, hit).await;
    let mut headers = HeaderMap::new();
    session::append(&mut headers, session.cookie);
    headers.insert(LOCATION, axum::http::HeaderValue::from_static("/account/password?changed=1"));
    Ok((StatusCode::SEE_OTHER, headers).into_response())
}

// ---- single-use links: invitations and password resets ----

/// Posts to the link forms (accepting an invitation, setting a new password) from one
/// client: each may cost a password hash, so 30 a quarter hour, like signing in.
pub const LINK_FORMS: throttle::Limit = throttle::Limit { scope: "account-link", hits: 30, window_seconds: 900 };
/// Password reset requests from one client: 10 an hour.
pub const RESET_REQUESTS: throttle::Limit = throttle::Limit { scope: "password-reset", hits: 10, window_seconds: 3600 };
/// Password reset requests for one address, from anyone: 3 an hour. Over it, the answer is
/// the same and nothing is sent (so the limit tells nobody whether the address has an account).
pub const RESET_PER_ADDRESS: throttle::Limit =
    throttle::Limit { scope: "password-reset-address", hits: 3, window_seconds: 3600 };

#[derive(Template)]
#[template(path = "account_invitation.html")]
pub struct InvitationPage {
    pub layout: Layout,
    pub invitation: alliance_db::accounts::PendingInvitation,
    pub token: String,
    /// Only errors: passwords are never shown back.
    pub form: forms::Form,
}

#[derive(Template)]
#[template(path = "account_forgot.html")]
pub struct ForgotPage {
    pub layout: Layout,
    pub form: forms::Form,
    /// The request was taken (the same page whether or not the address has an account).
    pub sent: bool,
}

#[derive(Template)]
#[template(path = "account_reset.html")]
pub struct ResetPage {
    pub layout: Layout,
    pub email: String,
    pub token: String,
    pub form: forms::Form,
}

#[derive(Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

#[derive(Deserialize)]
pub struct NewPasswordForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

impl NewPasswordForm {
    /// The error of the new password, if it breaks a rule.
    fn error(&self) -> Option<forms::FieldError> {
        if let Err(e) = password::check_new_password(&self.password) {
            return Some(forms::error("password", e));
        }
        (self.password != self.confirm)
            .then(|| forms::error("confirm", "The password and its confirmation are different"))
    }
}

/// The page of a link that cannot be used (410).
fn link_gone(what: &str) -> Response {
    crate::error::error_page(
        StatusCode::GONE,
        "This link cannot be used",
        vec![format!(
            "The {what} link has expired, has already been used, or was replaced by a newer one. {}",
            if what == "invitation" {
                "Ask your administrator to invite you again."
            } else {
                "Ask for a new link from the sign-in page."
            }
        )],
    )
}

fn too_many_link_requests(limit: &throttle::Limit) -> Response {
    let minutes = limit.window_seconds / 60;
    let mut response = crate::error::error_page(
        StatusCode::TOO_MANY_REQUESTS,
        "Too many attempts",
        vec![format!("There have been too many attempts from your network. Wait {minutes} minutes and try again.")],
    );
    response.headers_mut().insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from(minutes * 60));
    response
}

/// The two single-use links whose form sets a password: an invitation (the account is made)
/// and a password reset (the password is changed and every session ends). Both pages and
/// both posts go through [`link_form`] and [`set_password_from_link`].
#[derive(Clone, Copy)]
enum PasswordLink {
    Invitation,
    Reset,
}

/// Whom a live link is for: what its page shows.
enum LinkHolder {
    Invitation(alliance_db::accounts::PendingInvitation),
    Reset(String),
}

impl LinkHolder {
    fn email(&self) -> &str {
        match self {
            LinkHolder::Invitation(invitation) => &invitation.email,
            LinkHolder::Reset(email) => email,
        }
    }
}

impl PasswordLink {
    /// The link's name in messages.
    fn name(self) -> &'static str {
        match self {
            PasswordLink::Invitation => "invitation",
            PasswordLink::Reset => "password reset",
        }
    }

    /// Whom the link is for, or `None` when it cannot be used.
    async fn holder(self, state: &AppState, token: &str) -> Result<Option<LinkHolder>, PageError> {
        Ok(match self {
            PasswordLink::Invitation => accounts::invitation(&state.db, token).await?.map(LinkHolder::Invitation),
            PasswordLink::Reset => accounts::reset_email(&state.db, token).await?.map(LinkHolder::Reset),
        })
    }

    /// The link's page: its holder, the token carried in the form, and the form's errors.
    fn page(state: &AppState, holder: LinkHolder, token: &str, form: forms::Form) -> Result<String, PageError> {
        let token = token.trim().to_string();
        Ok(match holder {
            LinkHolder::Invitation(invitation) => {
                InvitationPage { layout: Layout::new(state, "/account/invitation"), invitation, token, form }
                    .render()?
            }
            LinkHolder::Reset(email) => {
                ResetPage { layout: Layout::new(state, "/account/reset-password"), email, token, form }.render()?
            }
        })
    }
}

/// The page of a link (a 410 page when it cannot be used).
async fn link_form(state: &AppState, kind: PasswordLink, token: &str) -> Result<Response, PageError> {
    let Some(holder) = kind.holder(state, token).await? else {
        return Ok(link_gone(kind.name()));
    };
    Ok(Html(PasswordLink::page(state, holder, token, forms::Form::default())?).into_response())
}

/// Sets a password through a link: the client's allowance first, then the link (no password
/// work for a dead link), then the password's rules, then the change, which spends the link
/// in the same transaction.
async fn set_password_from_link(
    state: &AppState,
    ip: &str,
    kind: PasswordLink,
    form: NewPasswordForm,
) -> Result<Response, PageError> {
    if !state.throttle.allow(&state.db, &LINK_FORMS, ip).await? {
        return Ok(too_many_link_requests(&LINK_FORMS));
    }
    let Some(holder) = kind.holder(state, &form.token).await? else {
        return Ok(link_gone(kind.name()));
    };
    if let Some(error) = form.error() {
        let errors = forms::Form::with_errors(FormValues::new(), vec![error]);
        let page = PasswordLink::page(state, holder, &form.token, errors)?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page)).into_response());
    }
    let hash = state.throttle.hash(&form.password).await.map_err(PageError::Internal)?;
    let actor = Actor::new(format!("user:{}", holder.email()), ip);
    let (done, result) = match kind {
        PasswordLink::Invitation => (
            "/sign-in?account-ready=1",
            accounts::accept_invitation(&state.db, &form.token, &hash, &actor).await.map(|_| ()),
        ),
        PasswordLink::Reset => (
            "/sign-in?password-reset=1",
            accounts::reset_password(&state.db, &form.token, &hash, &actor).await.map(|_| ()),
        ),
    };
    match result {
        Ok(()) => Ok(see_other(done)),
        Err(alliance_app::AppError::NotFound { .. }) => Ok(link_gone(kind.name())),
        Err(alliance_app::AppError::Conflict { .. }) => Ok(crate::error::error_page(
            StatusCode::CONFLICT,
            "You already have an account",
            vec![format!(
                "{} already has an account: sign in, or ask for a new password from the sign-in page.",
                holder.email()
            )],
        )),
        Err(e) => Err(e.into()),
    }
}

async fn invitation_page(
    State(state): State<AppState>,
    Query(query): Query<TokenQuery>,
) -> Result<Response, PageError> {
    link_form(&state, PasswordLink::Invitation, &query.token).await
}

/// The invitee chooses a password; the account is made and the link spent at once.
async fn accept_invitation(
    State(state): State<AppState>,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    Form(form): Form<NewPasswordForm>,
) -> Result<Response, PageError> {
    set_password_from_link(&state, &ip, PasswordLink::Invitation, form).await
}

async fn forgot_page(State(state): State<AppState>) -> Result<Html<String>, PageError> {
    Ok(Html(forgot_form(&state, forms::Form::default(), false).render()?))
}

/// The page asking for a reset link, with the form as typed; `sent`: the page saying a link
/// is on its way.
fn forgot_form(state: &AppState, form: forms::Form, sent: bool) -> ForgotPage {
    ForgotPage { layout: Layout::new(state, "/account/forgot-password"), form, sent }
}

#[derive(Deserialize)]
pub struct ForgotForm {
    #[serde(default)]
    email: String,
}

/// Takes a request for a reset link. Whatever the address, the answer is the same page (a
/// malformed address aside, which is the form's error); the link is e-mailed only to an
/// active account, and only while the address is under its limit.
async fn forgot(
    State(state): State<AppState>,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    Form(form): Form<ForgotForm>,
) -> Result<Response, PageError> {
    let email: String = form.email.trim().to_lowercase().chars().take(254).collect();
    if !email.contains('@') || email.len() < 3 {
        let typed = FormValues::from([("email".to_string(), email.clone())]);
        let error = forms::error("email", "Enter your email address, like name@example.org");
        let page = forgot_form(&state, forms::Form::with_errors(typed, vec![error]), false);
        return super::page(&page, true);
    }
    if !state.throttle.allow(&state.db, &RESET_REQUESTS, &ip).await? {
        return Ok(too_many_link_requests(&RESET_REQUESTS));
    }
    let actor = Actor::new(format!("user:{email}"), ip.as_str());
    if state.throttle.allow(&state.db, &RESET_PER_ADDRESS, &email).await? {
        let partnership = state.partnership.name(&state.db).await;
        accounts::request_reset(&state.db, &state.mailer, &partnership, &email, &actor).await?;
    } else {
        state
            .db
            .audit(&actor.event(alliance_db::accounts::RESET_REQUESTED, &email, "refused: over the address's limit"))
            .await?;
    }
    Ok(Html(forgot_form(&state, forms::Form::default(), true).render()?).into_response())
}

async fn reset_page(State(state): State<AppState>, Query(query): Query<TokenQuery>) -> Result<Response, PageError> {
    link_form(&state, PasswordLink::Reset, &query.token).await
}

/// Sets the new password through a reset link: every session of the user ends.
async fn reset(
    State(state): State<AppState>,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    Form(form): Form<NewPasswordForm>,
) -> Result<Response, PageError> {
    set_password_from_link(&state, &ip, PasswordLink::Reset, form).await
}
