//! `/setup`: the first run of a deployment. Its first visitor names the partnership and
//! becomes its first administrator; once anyone can sign in, the page is gone (a 404), so it
//! cannot be used to take over a running Alliance.

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

use crate::auth::ClientIp;
use crate::error::{not_found, PageError};
use crate::extract::Form;
use crate::forms::{self, FieldError, FormValues};
use crate::views::access::{org_type_choices, Choices};
use crate::views::Layout;
use crate::AppState;

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new().route("/setup", axum::routing::get(setup_page).post(set_up))
}

#[derive(Template)]
#[template(path = "setup.html")]
pub struct SetupPage {
    pub layout: Layout,
    pub form: forms::Form,
    pub org_types: Choices,
}

impl SetupPage {
    pub fn value(&self, name: &str) -> String {
        self.form.value(name)
    }
    pub fn error(&self, name: &str) -> Option<String> {
        self.form.error(name)
    }
    pub fn is(&self, name: &str, value: &str) -> bool {
        self.form.is(name, value)
    }
    pub fn errors(&self) -> &[FieldError] {
        &self.form.errors
    }
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
    };
    Ok(Html(page.render()?))
}

#[derive(Deserialize)]
pub struct SetupForm {
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
        [
            ("name", &self.name),
            ("short_name", &self.short_name),
            ("districts", &self.districts),
            ("forces", &self.forces),
            ("contact_email", &self.contact_email),
            ("contact_phone", &self.contact_phone),
            ("admin_name", &self.admin_name),
            ("admin_email", &self.admin_email),
            ("org_name", &self.org_name),
            ("org_type", &self.org_type),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
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
        let forces = list(&self.forces)
            .map(|slug| {
                ForceSlug::try_from(slug.to_ascii_lowercase()).map_err(|_| {
                    forms::error(
                        "forces",
                        format!("\"{}\" is not a force as data.police.uk names it, like west-midlands", brief(slug)),
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let profile = Profile {
            name: self.name.clone(),
            short_name: self.short_name.clone(),
            districts,
            forces,
            contact_email: Some(self.contact_email.clone()),
            contact_phone: Some(self.contact_phone.clone()),
            colour: Colour::default(),
            charter_name: None,
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
        };
        Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response())
    };
    let profile = match form.profile() {
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
