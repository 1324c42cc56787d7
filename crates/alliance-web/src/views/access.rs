//! Pages of access and trust: signing in, the password, and the administrators' pages for
//! users, organisations, data sharing, API tokens and the audit log.

use alliance_core::access::{AccessLevel, OrgType, Role};
use alliance_db::access::{Agreement, ApiToken, Dataset, Dpia, Organisation, User};
use alliance_db::audit::AuditEntry;
use askama::Template;

use super::Layout;
use crate::forms::{FieldError, Form};

/// What the templates of these pages ask of their form: the value typed, the error of a
/// field, and the errors for the summary (`error_summary.html`).
macro_rules! form_accessors {
    ($page:ty) => {
        impl $page {
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
    };
}

#[derive(Template)]
#[template(path = "sign_in.html")]
pub struct SignInPage {
    pub layout: Layout,
    /// The email typed (never the password) and the refusal.
    pub form: Form,
    /// A line of success to show above the form (the account is ready, the password reset).
    pub notice: Option<&'static str>,
    /// The page to go to once signed in (checked by [`return_path`]), when it is not `/`.
    pub next: Option<String>,
}
form_accessors!(SignInPage);

/// `path` when it is a page of this site to return to after signing in: an absolute path
/// (`/…`) of at most 2,000 characters, not `//host` or `/\host` (which browsers read as
/// another site), with no control characters, and not the sign-in page itself. Anything else
/// is `None`, and the sign-in goes to the dashboard: no sign-in link can send a user away.
pub fn return_path(path: &str) -> Option<String> {
    let ok = path.starts_with('/')
        && !path.starts_with("//")
        && !path.contains('\\')
        && path.len() <= 2_000
        && !path.chars().any(char::is_control)
        && path != "/"
        && !path.starts_with("/sign-in");
    ok.then(|| path.to_string())
}

#[derive(Template)]
#[template(path = "password.html")]
pub struct PasswordPage {
    pub layout: Layout,
    /// Only errors: passwords are never shown back.
    pub form: Form,
    pub done: bool,
}
form_accessors!(PasswordPage);

/// Choices for `<select>` lists: (value, label).
pub type Choices = Vec<(String, String)>;

/// A coded list's `choices()` as [`Choices`].
pub fn owned(choices: Vec<(&str, &str)>) -> Choices {
    choices.into_iter().map(|(value, label)| (value.to_string(), label.to_string())).collect()
}

pub fn org_type_choices() -> Choices {
    owned(OrgType::choices())
}

pub fn role_choices() -> Choices {
    owned(Role::choices())
}

pub fn level_choices() -> Choices {
    AccessLevel::ALL.iter().map(|l| (l.code().to_string(), l.code().to_string())).collect()
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
    pub form: Form,
}
form_accessors!(OrganisationsPage);

#[derive(Template)]
#[template(path = "admin_users.html")]
pub struct UsersPage {
    pub layout: Layout,
    pub users: Vec<User>,
    pub organisations: Choices,
    pub roles: Choices,
    /// The "add a user" form; an error of a row's change is on `role-<id>`. The invitation
    /// form's fields are `invite_name`, `invite_email`, `invite_org_id` and `invite_role`.
    pub form: Form,
    /// Invitations not yet used or expired.
    pub invitations: Vec<alliance_db::accounts::PendingInvitation>,
    /// The invitation just made: its link is shown (this once) when it was not e-mailed.
    pub invited: Option<alliance_app::accounts::Invited>,
}
form_accessors!(UsersPage);

#[derive(Template)]
#[template(path = "admin_data_sharing.html")]
pub struct DataSharingPage {
    pub layout: Layout,
    /// The administrator looking: who may decide which request.
    pub me_email: String,
    pub me_org: i64,
    pub datasets: Vec<Dataset>,
    pub agreements: Vec<Agreement>,
    pub dpias: Vec<Dpia>,
    pub organisations: Choices,
    pub levels: Choices,
    pub today: String,
    /// The form sent (its values and errors), shown back in the section it came from.
    pub form: Form,
    /// Which of the page's forms was sent: `agreement`, `grant`, `owner` or `dpia`.
    pub sent: &'static str,
}
form_accessors!(DataSharingPage);

impl DataSharingPage {
    /// The value typed in `name` of the form `which`, when that form was the one sent.
    pub fn typed(&self, which: &str, name: &str) -> String {
        if self.sent == which {
            self.form.value(name)
        } else {
            String::new()
        }
    }
    /// Whether `option` was chosen in `name` of the form `which` that was sent.
    pub fn chosen(&self, which: &str, name: &str, option: &str) -> bool {
        self.sent == which && self.form.is(name, option)
    }
    /// The dataset's owner, by name ("no owner yet" when none is named).
    pub fn owner_of(&self, dataset: &str) -> String {
        self.datasets
            .iter()
            .find(|d| d.slug == dataset)
            .and_then(|d| d.owner_name.clone())
            .unwrap_or_else(|| "no owner yet".to_string())
    }
    /// Whether the viewer may approve or refuse `g`: it awaits a decision, the viewer is an
    /// administrator of the dataset's owner, and did not ask for it. The storage layer checks
    /// again when the decision is sent.
    pub fn may_decide(&self, g: &alliance_db::access::GrantRecord) -> bool {
        g.status == alliance_db::access::GrantStatus::Requested
            && !g.requested_by.eq_ignore_ascii_case(&self.me_email)
            && self.datasets.iter().any(|d| d.slug == g.dataset && d.owner_org_id == Some(self.me_org))
    }
    /// Requests awaiting a decision, in every agreement.
    pub fn pending(&self) -> Vec<&alliance_db::access::GrantRecord> {
        self.agreements
            .iter()
            .flat_map(|a| a.grants.iter())
            .filter(|g| g.status == alliance_db::access::GrantStatus::Requested)
            .collect()
    }
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
    pub form: Form,
    /// The scopes ticked in the form sent.
    pub ticked: Vec<String>,
}
form_accessors!(TokensPage);

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

/// The form to edit or renew an information sharing agreement.
#[derive(Template)]
#[template(path = "admin_agreement_edit.html")]
pub struct AgreementEditPage {
    pub layout: Layout,
    pub agreement: Agreement,
    /// How many of its grants are approved now (and would go back for approval on renewal).
    pub approved: usize,
    /// The agreement's fields, or what was typed with the error.
    pub form: Form,
}
form_accessors!(AgreementEditPage);

#[cfg(test)]
mod tests {
    use super::return_path;

    #[test]
    fn only_this_sites_pages_are_returned_to() {
        assert_eq!(return_path("/sna?area=E06000021").as_deref(), Some("/sna?area=E06000021"));
        assert_eq!(return_path("/interventions/3"), Some("/interventions/3".into()));
        for bad in [
            "https://evil.example/",
            "//evil.example/x",
            "/\\evil.example",
            "evil",
            "",
            "/",
            "/sign-in?next=/x",
            "/a\nb",
        ] {
            assert_eq!(return_path(bad), None, "{bad:?}");
        }
        assert_eq!(return_path(&format!("/{}", "a".repeat(2_000))), None, "too long");
    }
}
