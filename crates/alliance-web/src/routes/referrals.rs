//! Referrals on the web (issue 17; who may use each route: `auth/access.rs`):
//! - `GET /referrals`: the organisation's referrals: the queue of the services it runs and
//!   the referrals it made, with statuses (no personal field);
//! - `GET /referrals/new?service=ID`, `POST /referrals`: the new referral form, asking only
//!   the personal fields the chosen service needs;
//! - `GET /referrals/{id}`: one referral with its personal data, for its two organisations
//!   only (404 for anyone else), every view audited; `POST /referrals/{id}/events`: accept,
//!   decline, engage, close, withdraw; `POST /referrals/{id}/erase`: erasure on request;
//!   `POST /referrals/{id}/correct`: correction on request;
//! - `GET /referrals/figures`: the aggregate figures, suppressed, for everyone signed in.
//!
//! The route table admits roles; the use cases (`alliance_app::referrals`) decide which
//! organisation may see or change a referral. POST bodies are read as bytes and parsed only
//! after those checks.

use alliance_app::referrals::{self as uc, Who};
use alliance_core::referrals::{
    BirthNeed, ClosureOutcome, ConsentFields, ConsentGivenBy, ConsentMethod, ContactRoute, DeclineReason, Event,
    LawfulBasis, NameNeed, Need, PersonalFields, ReferralForm, Sex, SourceSetting,
};
use alliance_db::access::User;
use alliance_db::clock::today_date;
use askama::Template;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};

use super::see_other;
use crate::auth::{actor, CurrentUser};
use crate::error::{bad_request, not_found, PageError};
use crate::extract::{Path, Query};
use crate::forms::{error, Form, FormValues};
use crate::views::referrals::{DetailPage, FiguresPage, ListPage, NewPage, ServiceChoice};
use crate::views::Layout;
use crate::AppState;

fn page(template: &impl Template, status: StatusCode) -> Result<Response, PageError> {
    Ok((status, Html(template.render()?)).into_response())
}

/// A URL-encoded body as pairs (repeated names kept), or the 400 page.
fn pairs(body: &Bytes) -> Result<Vec<(String, String)>, PageError> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .map_err(|_| bad_request("The form could not be read. Reload the page and send it again."))
}

fn values_of(pairs: &[(String, String)]) -> FormValues {
    let mut values = FormValues::new();
    for (k, v) in pairs {
        if k != "other-needs" && k != "csrf_token" {
            values.insert(k.clone(), v.clone());
        }
    }
    values
}

/// The referral form as the pure domain reads it, from the form's field names (those of
/// `alliance_core::referrals::Field::id`).
pub(crate) fn referral_form(pairs: &[(String, String)]) -> ReferralForm {
    let get = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    ReferralForm {
        received: get("received"),
        source: get("source"),
        reason: get("reason"),
        other_needs: pairs.iter().filter(|(k, _)| k == "other-needs").map(|(_, v)| v.clone()).collect(),
        person: PersonalFields {
            name: get("name"),
            initials: get("initials"),
            date_of_birth: get("date-of-birth"),
            age: get("age"),
            sex: get("sex"),
            postcode_district: get("postcode-district"),
            contact_route: get("contact-route"),
            contact_detail: get("contact-detail"),
        },
        consent: ConsentFields {
            given_by: get("consent-given-by"),
            date: get("consent-date"),
            method: get("consent-method"),
            lawful_basis: get("lawful-basis"),
            reason: get("lawful-basis-reason"),
        },
    }
}

async fn list(State(state): State<AppState>, CurrentUser(user): CurrentUser) -> Result<Response, PageError> {
    let who = Who::of(&user)?;
    let referrals = uc::list(&state.db, who).await?;
    page(&ListPage { layout: Layout::new(&state, "/referrals"), referrals }, StatusCode::OK)
}

#[derive(serde::Deserialize, Default)]
struct ServiceQuery {
    #[serde(default)]
    service: Option<String>,
}

async fn service_choice(
    state: &AppState,
    id: Option<&str>,
) -> Result<(Vec<(String, String)>, Option<ServiceChoice>), PageError> {
    let services = uc::open_services(&state.db).await?;
    let list =
        services.iter().map(|s| (s.service.id.clone(), format!("{} ({})", s.service.name, s.run_by_name))).collect();
    let chosen = id.and_then(|id| services.into_iter().find(|s| s.service.id == id)).map(|s| ServiceChoice {
        id: s.service.id.clone(),
        name: s.service.name.clone(),
        run_by: s.run_by_name.clone(),
        name_need: s.service.policy.name.code(),
        birth_need: s.service.policy.birth.code(),
        sex: s.service.policy.sex,
        district: s.service.policy.postcode_district,
        contact: s.service.policy.contact,
    });
    Ok((list, chosen))
}

async fn new_form(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Query(q): Query<ServiceQuery>,
) -> Result<Response, PageError> {
    Who::of(&user)?;
    let wanted = q.service.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let (services, chosen) = service_choice(&state, wanted).await?;
    let mut form = Form::default();
    if wanted.is_some() && chosen.is_none() {
        form.errors.push(error("service", "Choose a service that takes referrals"));
    }
    let status = if form.errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    page(&NewPage::new(Layout::new(&state, "/referrals/new"), services, chosen, form, Vec::new()), status)
}

async fn create(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    body: Bytes,
) -> Result<Response, PageError> {
    // Who may refer is decided before the body is read.
    let who = Who::of(&user)?;
    if user.role == alliance_core::access::Role::BoardMember {
        return Err(crate::error::forbidden("Board members see referral figures only"));
    }
    let pairs = pairs(&body)?;
    let field = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_string());
    let service_id = field("service").unwrap_or_default();
    let submission = field("submission");
    let form = referral_form(&pairs);
    let other_needs = form.other_needs.clone();
    let (services, chosen) = service_choice(&state, Some(&service_id)).await?;
    let mut shown = Form::new(values_of(&pairs));
    let by = actor(&user);
    // A repeated submission (`made.repeated`) goes to the referral the first one made.
    match uc::make(&state.db, &state.mailer, who, &service_id, &form, submission.as_deref(), today_date(), &by).await {
        Ok(Ok(made)) => {
            let to = if made.notes.is_empty() {
                format!("/referrals/{}", made.id)
            } else {
                format!("/referrals/{}?note=district-cut", made.id)
            };
            return Ok(see_other(&to));
        }
        Ok(Err(errors)) => {
            for e in errors.0 {
                shown.errors.push(error(e.field.id(), e.message));
            }
        }
        Err(alliance_app::AppError::Invalid { field, reason }) => shown.errors.push(error(field, reason)),
        Err(e) => return Err(e.into()),
    }
    page(
        &NewPage::new(Layout::new(&state, "/referrals/new"), services, chosen, shown, other_needs),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
}

#[derive(serde::Deserialize, Default)]
struct DetailQuery {
    #[serde(default)]
    note: Option<String>,
}

async fn detail_page(
    state: &AppState,
    user: &User,
    id: i64,
    form: Form,
    note: bool,
    status: StatusCode,
) -> Result<Response, PageError> {
    let who = Who::of(user)?;
    let detail = uc::view(&state.db, who, id, "referral page", &actor(user)).await?;
    page(&DetailPage::new(Layout::new(state, "/referrals"), detail, form, note), status)
}

async fn detail(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<DetailQuery>,
) -> Result<Response, PageError> {
    let note = q.note.as_deref() == Some("district-cut");
    detail_page(&state, &user, id, Form::default(), note, StatusCode::OK).await
}

/// The caller's side of a referral their organisation made or receives; anyone else (and a
/// Board member) gets the 404 an unknown referral gets, so ids reveal nothing.
async fn require_party(state: &AppState, user: &User, id: i64) -> Result<Who, PageError> {
    let who = Who::of(user)?;
    let stored = state.db.referral(id).await?.ok_or_else(not_found)?;
    if user.role == alliance_core::access::Role::BoardMember
        || !stored.parties.is_some_and(|p| p.referring_org == who.org || p.receiving_org == who.org)
    {
        return Err(not_found());
    }
    Ok(who)
}

/// A form posted about referral `id`: who posts it, once the referral is known to be one of
/// their organisation's (before the body is parsed), the form's pairs and the form.
async fn party_form(
    state: &AppState,
    user: &User,
    id: i64,
    body: &Bytes,
) -> Result<(Who, Vec<(String, String)>, Form), PageError> {
    let who = require_party(state, user, id).await?;
    let pairs = pairs(body)?;
    let form = Form::new(values_of(&pairs));
    Ok((who, pairs, form))
}

async fn event(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
    body: Bytes,
) -> Result<Response, PageError> {
    let (who, _, mut form) = party_form(&state, &user, id, &body).await?;
    let name = form.value("event");
    let detail = match name.as_str() {
        "decline" => form.get("decline-reason"),
        "close" => form.get("outcome"),
        _ => None,
    };
    let parsed = Event::parse(&name, detail.as_deref());
    let on = match form.get("on") {
        None => Ok(None),
        Some(t) => chrono::NaiveDate::parse_from_str(&t, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| format!("\"{t}\" is not a date: use YYYY-MM-DD, like 2025-03-14")),
    };
    match (parsed, on) {
        (Ok(event), Ok(on)) => {
            match uc::act(&state.db, &state.mailer, who, id, event, on, today_date(), &actor(&user)).await {
                Ok(_) => return Ok(see_other(&format!("/referrals/{id}"))),
                Err(alliance_app::AppError::Invalid { reason, .. }) => form.errors.push(error("on", reason)),
                Err(alliance_app::AppError::Conflict { reason, .. }) => form.errors.push(error("event", reason)),
                Err(e) => return Err(e.into()),
            }
        }
        (parsed, on) => {
            if let Err(e) = parsed {
                let field = match name.as_str() {
                    "decline" => "decline-reason",
                    "close" => "outcome",
                    _ => "event",
                };
                form.errors.push(error(field, e.to_string()));
            }
            if let Err(e) = on {
                form.errors.push(error("on", e));
            }
        }
    }
    detail_page(&state, &user, id, form, false, StatusCode::UNPROCESSABLE_ENTITY).await
}

async fn erase(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let who = Who::of(&user)?;
    match uc::erase(&state.db, who, id, &actor(&user)).await {
        Ok(()) => Ok(see_other("/referrals?erased=1")),
        Err(alliance_app::AppError::Conflict { reason, .. }) => {
            let mut form = Form::default();
            form.errors.push(error("erase", reason));
            detail_page(&state, &user, id, form, false, StatusCode::CONFLICT).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn correct(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
    body: Bytes,
) -> Result<Response, PageError> {
    let (who, pairs, mut form) = party_form(&state, &user, id, &body).await?;
    let person = referral_form(&pairs).person;
    match uc::correct(&state.db, who, id, &person, &actor(&user)).await? {
        Ok(_) => return Ok(see_other(&format!("/referrals/{id}"))),
        Err(errors) => {
            for e in errors.0 {
                form.errors.push(error(e.field.id(), e.message));
            }
        }
    }
    detail_page(&state, &user, id, form, false, StatusCode::UNPROCESSABLE_ENTITY).await
}

async fn figures(State(state): State<AppState>, CurrentUser(_user): CurrentUser) -> Result<Response, PageError> {
    let figures = uc::figures(&state.db, &state.disclosure().await).await?;
    page(&FiguresPage { layout: Layout::new(&state, "/referrals/figures"), figures }, StatusCode::OK)
}

/// Coded lists as (code, label) for the form's options.
pub(crate) fn options() -> crate::views::referrals::Options {
    crate::views::referrals::Options {
        needs: Need::choices(),
        sources: SourceSetting::choices(),
        sexes: Sex::choices(),
        routes: ContactRoute::choices(),
        givers: ConsentGivenBy::choices(),
        methods: ConsentMethod::choices(),
        bases: LawfulBasis::choices(),
        decline_reasons: DeclineReason::choices(),
        outcomes: ClosureOutcome::choices(),
        name_needs: NameNeed::choices(),
        birth_needs: BirthNeed::choices(),
    }
}

pub(super) fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/referrals", get(list).post(create))
        .route("/referrals/new", get(new_form))
        .route("/referrals/figures", get(figures))
        .route("/referrals/{id}", get(detail))
        .route("/referrals/{id}/events", post(event))
        .route("/referrals/{id}/erase", post(erase))
        .route("/referrals/{id}/correct", post(correct))
}
