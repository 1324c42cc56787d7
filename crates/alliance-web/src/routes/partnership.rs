//! The partnership's profile on the web: `/setup`, the first run of a deployment (its first
//! visitor names the partnership and becomes its first administrator; once anyone can sign
//! in, the page is gone, a 404, so it cannot be used to take over a running Alliance), and
//! `/admin/partnership`, where administrators change the profile.

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
use axum::http::header::LOCATION;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::Extension;
use serde::Deserialize;

use crate::auth::{actor_of, ClientIp, CurrentUser};
use crate::error::{not_found, PageError};
use crate::extract::{Form, Query};
use crate::forms::{self, FieldError, FormValues};
use crate::views::access::{org_type_choices, Choices};
use crate::views::Layout;
use crate::AppState;

pub fn routes() -> axum::Router<AppState> {
    use axum::routing::get;
    axum::Router::new()
        .route("/setup", get(setup_page).post(set_up))
        .route("/admin/partnership", get(profile_page).post(save_profile))
}

#[derive(Template)]
#[template(path = "setup.html")]
pub struct SetupPage {
    pub layout: Layout,
    pub form: forms::Form,
    pub org_types: Choices,
    pub colours: [Colour; 7],
}

#[derive(Template)]
#[template(path = "admin_partnership.html")]
pub struct ProfilePage {
    pub layout: Layout,
    pub form: forms::Form,
    pub colours: [Colour; 7],
    pub saved: bool,
}

/// The page exists only while nobody can sign in.
async fn still_open(state: &AppState) -> Result<(), PageError> {
    if state.db.has_users().await? {
        return Err(not_found());
    }
    Ok(())
}

async fn setup_page(State(state): State<AppState>) -> Result<Html<String>, PageError> {
    still_open(&state).await?;
    let page = SetupPage {
        layout: Layout::new(&state, "/setup"),
        form: forms::Form::default(),
        org_types: org_type_choices(),
        colours: Colour::ALL,
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
    request: Request,
) -> Result<Response, PageError> {
    // Who may do this is decided before the form is read.
    still_open(&state).await?;
    let Form(form) = Form::<SetupForm>::from_request(request, &state).await?;
    let refuse = |errors: Vec<FieldError>| -> Result<Response, PageError> {
        let page = SetupPage {
            layout: Layout::new(&state, "/setup"),
            form: forms::Form::with_errors(form.typed(), errors),
            org_types: org_type_choices(),
            colours: Colour::ALL,
        };
        Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response())
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
    Ok((StatusCode::SEE_OTHER, [(LOCATION, "/sign-in")]).into_response())
}

async fn profile_page(
    State(state): State<AppState>,
    Query(query): Query<SavedQuery>,
) -> Result<Html<String>, PageError> {
    let fields = state.db.partnership().await?.map(|p| ProfileFields::of(&p)).unwrap_or_default();
    let page = ProfilePage {
        layout: Layout::new(&state, "/admin/partnership"),
        form: forms::Form::new(fields.typed()),
        colours: Colour::ALL,
        saved: query.saved.is_some(),
    };
    Ok(Html(page.render()?))
}

#[derive(Deserialize)]
pub struct SavedQuery {
    saved: Option<String>,
}

async fn save_profile(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    Form(fields): Form<ProfileFields>,
) -> Result<Response, PageError> {
    let refuse = |error: FieldError| -> Result<Response, PageError> {
        let page = ProfilePage {
            layout: Layout::new(&state, "/admin/partnership"),
            form: forms::Form::with_errors(fields.typed(), vec![error]),
            colours: Colour::ALL,
            saved: false,
        };
        Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response())
    };
    let profile = match fields.profile() {
        Ok(p) => p,
        Err(e) => return refuse(e),
    };
    let actor = actor_of(&user, &ip);
    // A deployment from before profiles existed has none yet: the first save creates it.
    let stored = match state.db.set_partnership(&profile, &actor).await {
        Err(DbError::NotFound { .. }) => state.db.init_partnership(&profile, &actor).await,
        other => other,
    };
    match stored {
        Ok(()) => {}
        Err(DbError::Invalid { field, reason }) | Err(DbError::Conflict { field, reason }) => {
            return refuse(forms::error(field, reason))
        }
        Err(e) => return Err(e.into()),
    }
    state.partnership.put(Some(Arc::new(profile)));
    Ok((StatusCode::SEE_OTHER, [(LOCATION, "/admin/partnership?saved=1")]).into_response())
}
