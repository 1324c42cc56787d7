//! The partnership's profile on the web: `/setup`, the first run of a deployment (its first
//! visitor names the partnership and becomes its first administrator; once anyone can sign
//! in, the page is gone, a 404, so it cannot be used to take over a running Alliance), and
//! `/admin/partnership`, where administrators change the profile, the charter's
//! commitments (`/admin/partnership/charter`) and the logo (`/admin/partnership/logo`, a PNG
//! checked by `alliance_core::logo`, served to everyone at `/partnership/logo`).

use std::sync::Arc;

use alliance_app::password;
use alliance_core::access::OrgType;
use alliance_core::domain::{DistrictCode, ForceSlug};
use alliance_core::partnership::{Colour, Profile};
use alliance_db::access::NewUser;
use alliance_db::audit::Actor;
use alliance_db::partnership::FirstAdministrator;
use alliance_db::DbError;
use askama::Template;
use axum::extract::{FromRequest, Request, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::Extension;
use serde::Deserialize;

use super::see_other;
use crate::auth::{actor, ClientIp, CurrentUser};
use crate::error::{forbidden, not_found, PageError};
use crate::extract::{Form, Query};
use crate::forms::{self, FieldError, FormValues};
use crate::views::access::{org_type_choices, Choices};
use crate::views::Layout;
use crate::AppState;

pub fn routes() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/setup", get(setup_page).post(set_up))
        .route("/admin/partnership", get(profile_page).post(save_profile))
        .route("/admin/partnership/charter", post(save_charter))
        .route(
            "/admin/partnership/logo",
            post(upload_logo).layer(axum::extract::DefaultBodyLimit::max(LOGO_UPLOAD_LIMIT)),
        )
        .route("/admin/partnership/logo/delete", post(remove_logo))
        .route("/partnership/logo", get(logo))
}

/// The largest logo upload read (the PNG's limit and room for the form around it).
const LOGO_UPLOAD_LIMIT: usize = alliance_core::logo::MAX_BYTES + 16 * 1024;

/// The link of the logo at `version`: a new logo is a new address, so browsers may keep one
/// for a long time.
pub fn logo_link(version: &str) -> String {
    format!("/partnership/logo?v={}", version.get(..16).unwrap_or(version))
}

#[derive(Template)]
#[template(path = "setup.html")]
pub struct SetupPage {
    pub layout: Layout,
    pub form: forms::Form,
    pub org_types: Choices,
    pub colours: [Colour; 7],
    /// The set-up link's token, kept in the form's address.
    pub token: String,
}

#[derive(Template)]
#[template(path = "admin_partnership.html")]
pub struct ProfilePage {
    pub layout: Layout,
    pub form: forms::Form,
    pub colours: [Colour; 7],
    /// The charter's commitments form (`commitment-title-N`, `commitment-description-N`).
    pub charter: forms::Form,
    /// The logo form (its error is on `file`).
    pub logo_form: forms::Form,
    /// The current logo's link and size, when there is one.
    pub logo: Option<(String, i64, i64)>,
    /// What was just saved: `profile`, `charter`, `logo` or `logo-removed`.
    pub done: String,
}

impl ProfilePage {
    /// The errors of every form on the page, for the error summary.
    pub fn all_errors(&self) -> Vec<FieldError> {
        [&self.form, &self.charter, &self.logo_form].iter().flat_map(|f| f.errors.iter().cloned()).collect()
    }

    /// The slots of the commitments form.
    pub fn slots(&self) -> std::ops::RangeInclusive<usize> {
        1..=alliance_core::partnership::MAX_CHARTER_COMMITMENTS
    }
}

/// The page exists only while nobody can sign in.
/// The set-up link's token (`/setup?token=…`, see [`alliance_db::Db::setup_token`]).
#[derive(Deserialize, Default)]
pub struct SetupLink {
    #[serde(default)]
    token: String,
}

/// Set-up is open while nobody can sign in (404 after), and only through the link `alliance
/// serve` printed: a stranger who reaches a new deployment first is refused.
async fn still_open(state: &AppState, link: &SetupLink) -> Result<(), PageError> {
    if state.db.has_users().await? {
        return Err(not_found());
    }
    if !crate::auth::same_secret(&link.token, &state.db.setup_token()) {
        return Err(forbidden(
            "Setting up Alliance needs the link that alliance serve printed when it started (it ends with \
             ?token=…). Ask whoever started Alliance for it, or set the partnership up on the server with \
             alliance partnership init and alliance users add.",
        ));
    }
    Ok(())
}

async fn setup_page(State(state): State<AppState>, Query(link): Query<SetupLink>) -> Result<Html<String>, PageError> {
    still_open(&state, &link).await?;
    let page = SetupPage {
        layout: Layout::new(&state, "/setup"),
        form: forms::Form::default(),
        org_types: org_type_choices(),
        colours: Colour::ALL,
        token: link.token,
    };
    Ok(Html(page.render()?))
}

/// The profile's fields, as the set-up and profile pages both ask for them.
#[derive(Deserialize, Default)]
pub struct ProfileFields {
    #[serde(default)]
    name: String,
    #[serde(default)]
    short_name: String,
    #[serde(default)]
    districts: String,
    #[serde(default)]
    forces: String,
    #[serde(default)]
    contact_email: String,
    #[serde(default)]
    contact_phone: String,
    #[serde(default)]
    charter_name: String,
    #[serde(default)]
    colour: String,
    #[serde(default)]
    suppression_threshold: String,
    /// The profile's version when the page was opened (`alliance_db::versions`); none on
    /// the set-up page.
    #[serde(default)]
    version: String,
}

#[derive(Deserialize)]
pub struct SetupForm {
    #[serde(flatten)]
    profile: ProfileFields,
    #[serde(default)]
    admin_name: String,
    #[serde(default)]
    admin_email: String,
    #[serde(default)]
    org_name: String,
    #[serde(default)]
    org_type: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

impl SetupForm {
    /// What was typed, to show back with the errors (never the passwords).
    fn typed(&self) -> FormValues {
        let mut typed = self.profile.typed();
        typed.extend(
            [
                ("admin_name", &self.admin_name),
                ("admin_email", &self.admin_email),
                ("org_name", &self.org_name),
                ("org_type", &self.org_type),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.clone())),
        );
        typed
    }
}

impl ProfileFields {
    /// What was typed, to show back with the errors.
    fn typed(&self) -> FormValues {
        [
            ("name", &self.name),
            ("short_name", &self.short_name),
            ("districts", &self.districts),
            ("forces", &self.forces),
            ("contact_email", &self.contact_email),
            ("contact_phone", &self.contact_phone),
            ("charter_name", &self.charter_name),
            ("colour", &self.colour),
            ("suppression_threshold", &self.suppression_threshold),
            (forms::VERSION, &self.version),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
    }

    /// The fields of a stored profile, to fill in the form.
    fn of(profile: &Profile) -> ProfileFields {
        let join = |items: Vec<&str>| items.join(", ");
        ProfileFields {
            name: profile.name.clone(),
            short_name: profile.short_name.clone(),
            districts: join(profile.districts.iter().map(|d| d.as_str()).collect()),
            forces: join(profile.forces.iter().map(|f| f.as_str()).collect()),
            contact_email: profile.contact_email.clone().unwrap_or_default(),
            contact_phone: profile.contact_phone.clone().unwrap_or_default(),
            charter_name: profile.charter_name.clone().unwrap_or_default(),
            colour: profile.colour.as_str().to_string(),
            suppression_threshold: profile.suppression_threshold.map(|t| t.to_string()).unwrap_or_default(),
            // Added by the page from the stored row (`Db::partnership_version`).
            version: String::new(),
        }
    }

    /// The profile, or the first field that breaks a rule.
    fn profile(&self) -> Result<Profile, FieldError> {
        let districts = list(&self.districts)
            .map(|code| {
                code.parse::<DistrictCode>().map_err(|_| {
                    forms::error(
                        "districts",
                        format!("\"{}\" is not a district code: enter codes like E06000054", brief(code)),
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        // Commas only: a force's name typed with spaces ("Wiltshire Police") is refused, not split.
        let forces = self
            .forces
            .split(',')
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .map(|slug| {
                ForceSlug::try_from(slug.to_ascii_lowercase()).map_err(|_| {
                    forms::error(
                        "forces",
                        format!("\"{}\" is not a force as data.police.uk names it, like west-midlands", brief(slug)),
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let colour = match self.colour.trim() {
            "" => Colour::default(),
            text => text.parse::<Colour>().map_err(|e| forms::error("colour", e))?,
        };
        let suppression_threshold = match self.suppression_threshold.trim() {
            "" => None,
            text => Some(text.parse::<u64>().map_err(|_| {
                forms::error(
                    "suppression_threshold",
                    "Enter the suppression threshold as a whole number from 2 to 100, like 5",
                )
            })?),
        };
        let profile = Profile {
            name: self.name.clone(),
            short_name: self.short_name.clone(),
            districts,
            forces,
            contact_email: Some(self.contact_email.clone()),
            contact_phone: Some(self.contact_phone.clone()),
            colour,
            charter_name: Some(self.charter_name.clone()),
            suppression_threshold,
            // Edited on their own form (`save_charter`); the caller keeps the stored ones.
            charter_commitments: Vec::new(),
        };
        profile.validated().map_err(|e| forms::error(e.field, e.reason))
    }
}

fn list(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| c == ',' || c.is_whitespace()).filter(|part| !part.is_empty())
}

/// At most 40 characters of what was typed, for an error message.
fn brief(text: &str) -> String {
    text.chars().take(40).collect()
}

async fn set_up(
    State(state): State<AppState>,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    Query(link): Query<SetupLink>,
    request: Request,
) -> Result<Response, PageError> {
    // Who may do this is decided before the form is read.
    still_open(&state, &link).await?;
    let Form(form) = Form::<SetupForm>::from_request(request, &state).await?;
    let refuse = |errors: Vec<FieldError>| -> Result<Response, PageError> {
        let page = SetupPage {
            layout: Layout::new(&state, "/setup"),
            form: forms::Form::with_errors(form.typed(), errors),
            org_types: org_type_choices(),
            colours: Colour::ALL,
            token: link.token.clone(),
        };
        super::page(&page, true)
    };
    let profile = match form.profile.profile() {
        Ok(p) => p,
        Err(e) => return refuse(vec![e]),
    };
    let Ok(org_type) = form.org_type.parse::<OrgType>() else {
        return refuse(vec![forms::error("org_type", "Choose the type of your organisation")]);
    };
    if form.password != form.confirm {
        return refuse(vec![forms::error("confirm", "The password and its confirmation are different")]);
    }
    if let Err(e) = password::check_new_password(&form.password) {
        return refuse(vec![forms::error("password", e)]);
    }
    let hash = password::hash(&form.password).await.map_err(PageError::Internal)?;
    let first = FirstAdministrator {
        org_name: &form.org_name,
        org_type,
        user: NewUser {
            email: &form.admin_email,
            name: &form.admin_name,
            org_id: 0,
            role: alliance_core::access::Role::Administrator,
            password_hash: &hash,
        },
    };
    let actor = Actor::new(format!("setup:{}", form.admin_email.trim().to_lowercase()), ip);
    match state.db.set_up_partnership(&profile, &first, &actor).await {
        Ok(_) => {}
        // The user's fields are called name and email in storage; on this page they are the
        // administrator's.
        Err(DbError::Invalid { field, reason }) | Err(DbError::Conflict { field, reason }) if field != "profile" => {
            let field = match field {
                "name" => "admin_name",
                "email" => "admin_email",
                other => other,
            };
            return refuse(vec![forms::error(field, reason)]);
        }
        Err(DbError::Conflict { .. }) => return Err(not_found()),
        Err(e) => return Err(e.into()),
    }
    state.partnership.put(Some(Arc::new(profile)));
    Ok(see_other("/sign-in"))
}

/// The form of the profile page that was sent, with its errors (the others as stored).
#[derive(Default)]
struct PageForms {
    form: Option<forms::Form>,
    charter: Option<forms::Form>,
    logo_form: Option<forms::Form>,
}

/// The profile page again, with the form sent and its errors (422).
async fn refused(state: &AppState, sent: PageForms) -> Result<Response, PageError> {
    Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(render_profile_page(state, sent, "").await?)).into_response())
}

async fn render_profile_page(state: &AppState, forms_sent: PageForms, done: &str) -> Result<String, PageError> {
    // Both forms name the profile's version: a save from a page opened before another
    // administrator's is refused, not written over theirs.
    let (stored, version) = state.db.partnership_with_version().await?;
    let version = forms::version_value(version);
    let form = match forms_sent.form {
        Some(f) => f,
        None => {
            let mut values = stored.as_ref().map(ProfileFields::of).unwrap_or_default().typed();
            values.extend([version.clone()]);
            forms::Form::new(values)
        }
    };
    let charter = match forms_sent.charter {
        Some(f) => f,
        None => {
            // The profile's own commitments, or else those in force (on a new database, the
            // standard three), so the form shows what the charter pages show.
            let own = stored.as_ref().map(|p| p.charter_commitments.clone()).unwrap_or_default();
            let list: Vec<(String, String)> = if own.is_empty() {
                state.db.charter_commitments().await?.into_iter().map(|c| (c.title, c.description)).collect()
            } else {
                own.into_iter().map(|c| (c.title, c.description)).collect()
            };
            let mut values = FormValues::new();
            for (i, (title, description)) in list.into_iter().enumerate() {
                values.insert(format!("commitment-title-{}", i + 1), title);
                values.insert(format!("commitment-description-{}", i + 1), description);
            }
            values.extend([version]);
            forms::Form::new(values)
        }
    };
    let logo = state.db.partnership_logo().await?.map(|l| (logo_link(&l.sha256), l.width, l.height));
    let page = ProfilePage {
        layout: Layout::new(state, "/admin/partnership"),
        form,
        colours: Colour::ALL,
        charter,
        logo_form: forms_sent.logo_form.unwrap_or_default(),
        logo,
        done: done.to_string(),
    };
    Ok(page.render()?)
}

async fn profile_page(
    State(state): State<AppState>,
    Query(query): Query<SavedQuery>,
) -> Result<Html<String>, PageError> {
    let done = match (query.saved.is_some(), query.done.as_deref()) {
        (true, _) => "profile",
        (false, Some("charter")) => "charter",
        (false, Some("logo")) => "logo",
        (false, Some("logo-removed")) => "logo-removed",
        _ => "",
    };
    Ok(Html(render_profile_page(&state, PageForms::default(), done).await?))
}

#[derive(Deserialize)]
pub struct SavedQuery {
    saved: Option<String>,
    done: Option<String>,
}

async fn save_profile(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Form(fields): Form<ProfileFields>,
) -> Result<Response, PageError> {
    let typed = fields.typed();
    let refuse = |error: FieldError| PageForms {
        form: Some(forms::Form::with_errors(typed.clone(), vec![error])),
        ..PageForms::default()
    };
    let mut profile = match fields.profile() {
        Ok(p) => p,
        Err(e) => return refused(&state, refuse(e)).await,
    };
    // The charter's commitments are edited on their own form: the stored ones are kept.
    if let Some(stored) = state.db.partnership().await? {
        profile.charter_commitments = stored.charter_commitments;
    }
    let actor = actor(&user);
    // A deployment from before profiles existed has none yet: the first save creates it.
    let seen = forms::seen_version(&typed);
    let stored = match state.db.set_partnership(&profile, seen, &actor).await {
        Err(DbError::NotFound { .. }) => state.db.init_partnership(&profile, &actor).await,
        other => other,
    };
    match stored {
        Ok(()) => {}
        Err(DbError::Invalid { field, reason }) | Err(DbError::Conflict { field, reason }) => {
            return refused(&state, refuse(forms::error(field, reason))).await
        }
        Err(e) => return Err(e.into()),
    }
    state.partnership.put(Some(Arc::new(profile)));
    Ok(see_other("/admin/partnership?saved=1"))
}

/// Saves the charter's commitments (up to six title and description pairs; empty slots are
/// skipped) into the profile; the charter pages then ask signatories for these
/// (`Db::set_partnership` brings the charter's table in line in the same transaction).
async fn save_charter(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let values: FormValues = fields.into_iter().collect();
    let refuse = |error: FieldError| PageForms {
        charter: Some(forms::Form::with_errors(values.clone(), vec![error])),
        ..PageForms::default()
    };
    let Some(mut profile) = state.db.partnership().await? else {
        return refused(&state, refuse(forms::error("commitment-title-1", "Set up the partnership's profile first")))
            .await;
    };
    let mut list = Vec::new();
    for n in 1..=alliance_core::partnership::MAX_CHARTER_COMMITMENTS {
        let get = |k: &str| values.get(&format!("{k}-{n}")).map(|v| v.trim().to_string()).unwrap_or_default();
        let (title, description) = (get("commitment-title"), get("commitment-description"));
        match (title.is_empty(), description.is_empty()) {
            (true, true) => continue,
            (true, false) => {
                let error = forms::error(&format!("commitment-title-{n}"), format!("Enter a title for commitment {n}"));
                return refused(&state, refuse(error)).await;
            }
            (false, true) => {
                let error = forms::error(
                    &format!("commitment-description-{n}"),
                    format!("Describe commitment {n}: what a signatory commits to"),
                );
                return refused(&state, refuse(error)).await;
            }
            (false, false) => list.push(alliance_core::partnership::CharterCommitment { title, description }),
        }
    }
    if list.is_empty() {
        return refused(&state, refuse(forms::error("commitment-title-1", "Enter at least one commitment"))).await;
    }
    profile.charter_commitments = list;
    let profile = match profile.validated() {
        Ok(p) => p,
        Err(e) => {
            // "Commitment N: …" names its slot.
            let n = e.reason.strip_prefix("Commitment ").and_then(|r| r.split(':').next()).unwrap_or("1").to_string();
            return refused(&state, refuse(forms::error(&format!("commitment-title-{n}"), e.reason))).await;
        }
    };
    match state.db.set_partnership(&profile, forms::seen_version(&values), &actor(&user)).await {
        Ok(()) => {}
        Err(DbError::Invalid { reason, .. } | DbError::Conflict { reason, .. }) => {
            return refused(&state, refuse(forms::error("commitment-title-1", reason))).await
        }
        Err(e) => return Err(e.into()),
    }
    state.partnership.put(Some(Arc::new(profile)));
    Ok(see_other("/admin/partnership?done=charter"))
}

/// Stores an uploaded logo (the multipart form's `file`) once `alliance_core::logo` accepts
/// it; a refused file comes back on the form (422) saying why, and nothing is stored.
async fn upload_logo(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    request: Request,
) -> Result<Response, PageError> {
    let refuse = |message: String| PageForms {
        logo_form: Some(forms::Form::with_errors(FormValues::new(), vec![forms::error("file", message)])),
        ..PageForms::default()
    };
    let file = match crate::forms::read_with_file(&state, request).await {
        Ok((_, file)) => file,
        Err(e) => {
            tracing::debug!(error = %e, "logo upload refused");
            return refused(
                &state,
                refuse("The file could not be read: a logo is a PNG image of 200 KB or smaller".into()),
            )
            .await;
        }
    };
    let Some((_, bytes)) = file else { return refused(&state, refuse("Choose a PNG file".into())).await };
    let logo = match alliance_core::logo::Logo::from_png(bytes) {
        Ok(l) => l,
        Err(e) => return refused(&state, refuse(e.to_string())).await,
    };
    let version = state.db.set_partnership_logo(&logo, &actor(&user)).await?;
    state.partnership.put_logo(Some(version));
    Ok(see_other("/admin/partnership?done=logo"))
}

async fn remove_logo(State(state): State<AppState>, CurrentUser(user): CurrentUser) -> Result<Response, PageError> {
    state.db.remove_partnership_logo(&actor(&user)).await?;
    state.partnership.put_logo(None);
    Ok(see_other("/admin/partnership?done=logo-removed"))
}

/// The logo, to everyone (the public site's header shows it): `image/png`, never sniffed as
/// anything else, cached for a year when asked for by its version (a new logo has a new
/// link), else for five minutes; `304 Not Modified` for a copy the browser already has.
async fn logo(
    State(state): State<AppState>,
    Query(query): Query<std::collections::HashMap<String, String>>,
    headers: axum::http::HeaderMap,
) -> Result<Response, PageError> {
    use axum::http::header;
    let Some(stored) = state.db.partnership_logo().await? else { return Err(not_found()) };
    let etag = format!("\"{}\"", stored.sha256);
    let versioned = query.get("v").is_some_and(|v| !v.is_empty() && stored.sha256.starts_with(v.as_str()));
    let cache = if versioned { "public, max-age=31536000, immutable" } else { "public, max-age=300" };
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    if matches {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag), (header::CACHE_CONTROL, cache.to_string())])
            .into_response());
    }
    Ok((
        [
            (header::CONTENT_TYPE, alliance_core::logo::CONTENT_TYPE.to_string()),
            (header::CACHE_CONTROL, cache.to_string()),
            (header::ETAG, etag),
        ],
        stored.png,
    )
        .into_response())
}
