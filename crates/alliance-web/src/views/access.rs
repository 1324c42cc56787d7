//! Pages of access and trust: signing in, the password, and the administrators' pages for
//! users, organisations, data sharing, API tokens and the audit log.

use alliance_core::access::{AccessLevel, OrgType, Role};
use alliance_db::access::{Agreement, ApiToken, Dataset, Dpia, Organisation, User};
use alliance_db::audit::AuditEntry;
use askama::Template;

use super::Layout;

#[derive(Template)]
#[template(path = "sign_in.html")]
pub struct SignInPage {
    pub layout: Layout,
    pub error: Option<String>,
    pub email: String,
}

#[derive(Template)]
#[template(path = "password.html")]
pub struct PasswordPage {
    pub layout: Layout,
    pub error: Option<String>,
    pub done: bool,
}

/// Choices for `<select>` lists: (value, label).
pub type Choices = Vec<(String, String)>;

pub fn org_type_choices() -> Choices {
    OrgType::ALL.iter().map(|t| (t.as_str().to_string(), t.label().to_string())).collect()
}

pub fn role_choices() -> Choices {
    Role::ALL.iter().map(|r| (r.as_str().to_string(), r.label().to_string())).collect()
}

pub fn level_choices() -> Choices {
    AccessLevel::ALL.iter().map(|l| (l.as_str().to_string(), l.as_str().to_string())).collect()
}

pub fn organisation_choices(orgs: &[Organisation]) -> Choices {
    orgs.iter().map(|o| (o.id.to_string(), o.name.clone())).collect()
}

#[derive(Template)]
#[template(path = "admin_organisations.html")]
pub struct OrganisationsPage {
    pub layout: Layout,
    pub organisations: Vec<Organisation>,
    pub org_types: Choices,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "admin_users.html")]
pub struct UsersPage {
    pub layout: Layout,
    pub users: Vec<User>,
    pub organisations: Choices,
    pub roles: Choices,
    pub error: Option<String>,
    pub message: Option<String>,
}

#[derive(Template)]
#[template(path = "admin_data_sharing.html")]
pub struct DataSharingPage {
    pub layout: Layout,
    pub datasets: Vec<Dataset>,
    pub agreements: Vec<Agreement>,
    pub dpias: Vec<Dpia>,
    pub organisations: Choices,
    pub levels: Choices,
    pub today: String,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "admin_tokens.html")]
pub struct TokensPage {
    pub layout: Layout,
    pub tokens: Vec<ApiToken>,
    pub organisations: Choices,
    pub scopes: Choices,
    /// A token just created: shown this once.
    pub new_token: Option<String>,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "admin_audit.html")]
pub struct AuditPage {
    pub layout: Layout,
    pub entries: Vec<AuditEntry>,
    pub user: String,
    pub action: String,
    pub from: String,
    pub to: String,
}
