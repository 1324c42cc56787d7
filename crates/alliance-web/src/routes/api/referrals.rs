//! Referrals through the JSON API, for services that keep their own case system:
//! - `POST /api/v1/referrals` (scope `write:referrals`): make a referral. Body:
//!   `{"service": ID, "received", "source", "reason", "other_needs": [..], "person": {..},
//!   "consent": {..}}` (the fields of `alliance_core::referrals::ReferralForm`); 201 with
//!   `{"id", "status", "notes"}`, or 422 naming every field at fault.
//! - `POST /api/v1/referrals/{id}/events` (scope `write:referrals`): `{"event": "accept" |
//!   "decline" | "engage" | "close" | "withdraw", "detail": reason or outcome code, "on":
//!   "YYYY-MM-DD"}`; only the referral's two organisations (404 for anyone else).
//! - `GET /api/v1/referrals/figures` (scope `read:referrals`): the aggregate figures,
//!   suppressed like every figure for readers without record access.
//!
//! Who may is decided from the caller (user or token) before the body is parsed.

use alliance_app::referrals::{self as uc, Who};
use alliance_core::access::{OrgType, Role};
use alliance_core::referrals::{Event, ReferralForm};
use alliance_db::audit::Actor;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use super::ApiError;
use crate::auth::{Caller, Principal};
use crate::extract::Path;
use crate::AppState;

/// The largest referral body accepted (a referral is a few hundred bytes).
pub const MAX_BODY: usize = 64 * 1024;

async fn who_of(state: &AppState, principal: &Principal) -> Result<(Who, Actor), ApiError> {
    let ip = crate::auth::current().ip;
    match principal {
        Principal::User(u) => Ok((Who::of(u)?, crate::auth::actor_of(u, &ip))),
        Principal::Token(t) => {
            let org =
                state.db.organisations().await?.into_iter().find(|o| o.id == t.org_id).ok_or(ApiError::NotFound)?;
            let org_type = org
                .org_type
                .parse::<OrgType>()
                .map_err(|_| ApiError::Internal(format!("organisation {} has an unknown type", org.id)))?;
            // A token acts for its organisation as a partner user would.
            Ok((Who { org: t.org_id, org_type, role: Role::PartnerUser }, Actor::new(principal.actor(), ip)))
        }
    }
}

fn json_body<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    if body.len() > MAX_BODY {
        return Err(ApiError::TooLarge(format!("a referral body is at most {MAX_BODY} bytes")));
    }
    serde_json::from_slice(body).map_err(|e| ApiError::BadRequest(format!("the body is not the JSON expected: {e}")))
}

#[derive(Deserialize)]
#[serde(expecting = "a referral: an object with service, source, reason, person and consent")]
struct NewBody {
    #[serde(default)]
    service: String,
    #[serde(flatten)]
    form: ReferralForm,
}

/// The 422 problem document of a refused body: each error named by the member of the JSON
/// body it is about (`person.date_of_birth`, not the web form's `date-of-birth`).
fn problems(errors: &alliance_core::referrals::ValidationErrors) -> Response {
    let list: Vec<_> = errors.0.iter().map(|e| json!({"field": e.field.json_path(), "reason": e.message})).collect();
    let body = json!({
        "type": "about:blank",
        "title": "Invalid input",
        "status": 422,
        "detail": errors.0.iter().map(|e| format!("{}: {}", e.field.json_path(), e.message)).collect::<Vec<_>>().join("; "),
        "field": errors.0.first().map(|e| e.field.json_path()),
        "errors": list,
    });
    let mut response = (StatusCode::UNPROCESSABLE_ENTITY, body.to_string()).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
    response
}

/// With an `Idempotency-Key` header, a request sent again (a retry after a timeout) answers
/// 200 with the referral the first one made (201) instead of making a second.
pub async fn create(
    State(state): State<AppState>,
    Caller(principal): Caller,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (who, actor) = who_of(&state, &principal).await?;
    if who.role == Role::BoardMember {
        return Err(ApiError::Forbidden("Board members see referral figures only".into()));
    }
    let key = match headers.get("idempotency-key").map(|v| v.to_str()) {
        None => None,
        Some(Ok(k)) => Some(k.to_string()),
        Some(Err(_)) => {
            return Err(ApiError::BadRequest("the Idempotency-Key header must be printable ASCII".into()));
        }
    };
    let NewBody { service, form } = json_body(&body)?;
    let today = alliance_db::clock::today_date();
    match uc::make(&state.db, &state.mailer, who, &service, &form, key.as_deref(), today, &actor).await? {
        Ok(made) => {
            let notes: Vec<_> =
                made.notes.iter().map(|n| json!({"field": n.field.json_path(), "note": n.message})).collect();
            let status = if made.repeated { StatusCode::OK } else { StatusCode::CREATED };
            Ok((status, Json(json!({"id": made.id, "status": "received", "notes": notes, "repeated": made.repeated})))
                .into_response())
        }
        Err(errors) => Ok(problems(&errors)),
    }
}

#[derive(Deserialize)]
#[serde(expecting = "an event: an object with event and, as the event needs, detail and on")]
struct EventBody {
    #[serde(default)]
    event: String,
    #[serde(default)]
    detail: Option<String>,
    #[serde(default)]
    on: Option<String>,
}

pub async fn event(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path(id): Path<i64>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (who, actor) = who_of(&state, &principal).await?;
    let stored = state.db.referral(id).await?.ok_or(ApiError::NotFound)?;
    if who.role == Role::BoardMember
        || !stored.parties.is_some_and(|p| p.referring_org == who.org || p.receiving_org == who.org)
    {
        return Err(ApiError::NotFound);
    }
    let b: EventBody = json_body(&body)?;
    let event = Event::parse(&b.event, b.detail.as_deref())
        .map_err(|e| ApiError::Invalid { field: "event", reason: e.to_string() })?;
    let on =
        b.on.as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|t| {
                chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d").map_err(|_| ApiError::Invalid {
                    field: "on",
                    reason: format!("\"{t}\" is not a date: use YYYY-MM-DD"),
                })
            })
            .transpose()?;
    let today = alliance_db::clock::today_date();
    let timeline = uc::act(&state.db, &state.mailer, who, id, event, on, today, &actor).await?;
    Ok(Json(json!({"id": id, "status": timeline.status().code(), "dates": timeline.dates()})).into_response())
}

pub async fn figures(State(state): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    let figures = uc::figures(&state.db, &state.disclosure().await).await?;
    serde_json::to_value(&figures).map(Json).map_err(|e| ApiError::Internal(e.to_string()))
}
