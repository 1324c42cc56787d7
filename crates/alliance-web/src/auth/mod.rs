//! Access control: passwords, sessions, CSRF, API tokens, and THE route table
//! ([`access::ROUTES`]) applied to every request by [`middleware::guard`].
//!
//! How a request is authorised (see `middleware.rs`):
//! 1. Who is asking: a `Bearer` API token (only on `/api/`), else the session cookie, else
//!    nobody.
//! 2. Which rule applies: the route table entry for the method and the matched route
//!    pattern. A route missing from the table is refused (fail closed).
//! 3. Whether the rule admits them: public, or the listed roles, or (for tokens) the
//!    listed scope.
//! 4. For every POST made with a session or anonymously: the CSRF token (form field
//!    `csrf_token` or header `X-CSRF-Token`) must equal the session's (or, before sign-in,
//!    the `alliance_csrf` cookie's): otherwise 403. A URL-encoded form is read whole up to
//!    its route's limit (64 KB on public routes, 1 MB behind sign-in; over it, 413); of a
//!    multipart form only the first field is read (the forms put `csrf_token` first) and
//!    the file streams on to the handler, whose route sets its own body limit.
//!
//! After the handler, a refusal the framework made (plain text, or no body) is answered in
//! the service's words instead (`middleware::in_our_words`); an address with no route is a
//! 404 for a signed-in caller and the sign-in for anyone else. Throttles against guessing
//! and flooding (sign-in, the public forms, password work) are in [`throttle`].
//!
//! Which data a signed-in user may see is decided by one function,
//! [`access::dataset_access`], over `alliance_core::access::access_level`.

pub mod access;
pub mod middleware;

pub mod session;
pub mod throttle;

use alliance_core::access::Role;
use alliance_db::access::{ApiToken, User};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::StatusCode;

/// Who is making a request.
#[derive(Debug, Clone)]
pub enum Principal {
    User(User),
    Token(ApiToken),
}

impl Principal {
    /// How the audit log names them: `user:<email>` or `token:<id> (<organisation>)`.
    pub fn actor(&self) -> String {
        match self {
            Principal::User(u) => user_actor(u),
            Principal::Token(t) => format!("token:{} ({})", t.id, t.org_name),
        }
    }

    pub fn org_id(&self) -> i64 {
        match self {
            Principal::User(u) => u.org_id,
            Principal::Token(t) => t.org_id,
        }
    }

    /// The actor of a change they make from `ip`.
    pub fn audit_actor(&self, ip: &str) -> alliance_db::audit::Actor {
        alliance_db::audit::Actor::new(self.actor(), ip)
    }

    pub fn role(&self) -> Option<Role> {
        match self {
            Principal::User(u) => Some(u.role),
            Principal::Token(_) => None,
        }
    }
}

/// The actor of a change a signed-in user makes from `ip`: what every audited write takes.
pub fn actor_of(user: &User, ip: &str) -> alliance_db::audit::Actor {
    alliance_db::audit::Actor::new(user_actor(user), ip)
}

/// The actor of a change a signed-in user makes in the current request, from its client
/// address (the [`ClientIp`] the middleware found): what handlers pass to audited writes.
pub fn actor(user: &User) -> alliance_db::audit::Actor {
    actor_of(user, &current().ip)
}

/// How a signed-in user is named wherever the database records who did something (an
/// intervention's author, an evaluation's runner, a governance change, the audit log):
/// `user:<email>`, beside the command line's `cli:<login>`.
pub fn user_actor(user: &User) -> String {
    format!("user:{}", user.email)
}

/// The client's address (the socket's, or a trusted proxy's `X-Forwarded-For`: see
/// [`throttle::client_address`]), or `unknown` (e.g. in tests without a socket).
#[derive(Debug, Clone)]
pub struct ClientIp(pub String);

/// The CSRF token to put in every form of the page being rendered.
#[derive(Debug, Clone, Default)]
pub struct CsrfToken(pub String);

/// What the middleware learned about a request, available to handlers and to page layouts.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub principal: Option<Principal>,
    /// The partnership's name, for pages rendered without the app state (error pages).
    pub partnership: String,
    /// The charter's name as pages write it after "the"
    /// (`alliance_core::partnership::charter_title`).
    pub charter: String,
    /// The header's accent colour (a GOV.UK palette hex value) from the partnership's profile.
    pub accent: &'static str,
    /// The version of the partnership's logo, when it has one (the header links to it).
    pub logo: Option<String>,
    pub csrf: String,
    pub ip: String,
}

tokio::task_local! {
    /// Set by the middleware for the duration of a request, so the layout can show who is
    /// signed in and put the CSRF token in the sign-out form without every handler passing
    /// them along.
    pub static REQUEST: RequestContext;
}

/// The current request's context (an empty one outside a request).
pub fn current() -> RequestContext {
    REQUEST.try_with(Clone::clone).unwrap_or(RequestContext {
        principal: None,
        partnership: String::new(),
        charter: alliance_core::partnership::CHARTER_FALLBACK.to_string(),
        accent: alliance_core::partnership::Colour::default().hex(),
        logo: None,
        csrf: String::new(),
        ip: "unknown".into(),
    })
}

/// A handler argument: the signed-in user (the route table has already admitted them).
pub struct CurrentUser(pub User);

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = StatusCode;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<CurrentUser, StatusCode> {
        match parts.extensions.get::<Principal>() {
            Some(Principal::User(u)) => Ok(CurrentUser(u.clone())),
            _ => Err(StatusCode::UNAUTHORIZED),
        }
    }
}

/// A handler argument: whoever the route table admitted (a user or an API token).
pub struct Caller(pub Principal);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = StatusCode;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Caller, StatusCode> {
        parts.extensions.get::<Principal>().cloned().map(Caller).ok_or(StatusCode::UNAUTHORIZED)
    }
}

/// 32 random bytes from the operating system, as hex (256 bits).
pub fn random_token() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// SHA-256 of a token, as hex: what is stored for session and API tokens.
pub fn token_hash(token: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Compares two secrets in time independent of where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
