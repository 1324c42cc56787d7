//! View models of the public pages (the public layout: no staff navigation, the "Exit this
//! page" button on every page) and of the staff pages that look after them.

use alliance_app::Disclosure;
use alliance_db::public::charter::{Commitment, Signatory};
use alliance_db::public::reports::{AreaReportCount, CellCount, UnsafeReport};
use alliance_db::public::responses::PublicResponse;
use alliance_ingest::oruk::ServiceRecord;
use askama::Template;

use super::Layout;

/// Where "Exit this page" goes: a neutral site, the only external link of the public pages.
pub const EXIT_URL: &str = "https://www.bbc.co.uk/weather";

pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

/// What every public page's layout needs.
pub struct PublicLayout {
    pub partnership: String,
    /// The header's accent colour from the partnership's profile.
    pub accent: &'static str,
    pub path: &'static str,
    pub exit_url: &'static str,
}

impl PublicLayout {
    pub fn new(_state: &crate::AppState, path: &'static str) -> PublicLayout {
        PublicLayout::from_context(crate::auth::current(), path)
    }

    pub fn from_context(context: crate::auth::RequestContext, path: &'static str) -> PublicLayout {
        PublicLayout { partnership: context.partnership, accent: context.accent, path, exit_url: EXIT_URL }
    }

    pub fn nav(&self) -> Vec<NavItem> {
        [
            ("/public", "Home"),
            ("/report-unsafe-place", "Report an unsafe place"),
            ("/find-help", "Find help"),
            ("/safer-places", "Safer places"),
            ("/you-said-we-did", "You said, we did"),
            ("/public/figures", "Figures"),
        ]
        .into_iter()
        .map(|(href, label)| NavItem { href, label, current: href == self.path })
        .collect()
    }
}

pub use crate::forms::{FieldError, Form, FormErrors};

/// A submitted form or query as the one form model holds it (a repeated name keeps its
/// last value; the report form's repeated `reasons` are read on their own).
pub fn form_of(fields: &[(String, String)]) -> Form {
    Form::new(fields.iter().cloned().collect())
}

#[derive(Template)]
#[template(path = "public/home.html")]
pub struct HomePage {
    pub layout: PublicLayout,
}

#[derive(Template)]
#[template(path = "public/accessibility.html")]
pub struct AccessibilityPage {
    pub layout: PublicLayout,
}

#[derive(Template)]
#[template(path = "public/exit_help.html")]
pub struct ExitHelpPage {
    pub layout: PublicLayout,
}

#[derive(Template)]
#[template(path = "public/message.html")]
pub struct MessagePage {
    pub layout: PublicLayout,
    pub title: String,
    pub paragraphs: Vec<String>,
    pub link: Option<(String, String)>,
}

#[derive(Template)]
#[template(path = "public/report.html")]
pub struct ReportPage {
    pub layout: PublicLayout,
    pub csrf: String,
    pub errors: FormErrors,
    pub values: Form,
    /// The reasons ticked (the one field that repeats).
    pub reasons_ticked: Vec<String>,
    pub reasons: &'static [(&'static str, &'static str)],
    pub times: &'static [(&'static str, &'static str)],
    pub age_bands: &'static [&'static str],
    pub genders: &'static [&'static str],
    pub place_names: Vec<String>,
    /// The places a street name typed is in, when it is in several: listed for the
    /// reporter to type one.
    pub place_choices: Vec<String>,
    /// Counts below this are not published.
    pub threshold: u64,
}

impl ReportPage {
    /// Whether the reason was ticked.
    pub fn ticked(&self, reason: &str) -> bool {
        self.reasons_ticked.iter().any(|r| r == reason)
    }
}

#[derive(Template)]
#[template(path = "public/find_help.html")]
pub struct FindHelpPage {
    pub layout: PublicLayout,
    pub values: Form,
    pub needs: &'static [(&'static str, &'static str)],
    pub areas: Vec<String>,
    pub services: Vec<ServiceRecord>,
    pub searched: bool,
}

impl FindHelpPage {
    pub fn need_label(&self, slug: &str) -> String {
        self.needs.iter().find(|(s, _)| *s == slug).map_or(slug, |(_, l)| *l).to_string()
    }
    pub fn ages(&self, s: &ServiceRecord) -> String {
        match (s.min_age, s.max_age) {
            (0, m) if m >= alliance_ingest::oruk::NO_MAX_AGE => "Any age".into(),
            (a, m) if m >= alliance_ingest::oruk::NO_MAX_AGE => format!("{a} and over"),
            (0, m) => format!("Up to {m}"),
            (a, m) => format!("{a} to {m}"),
        }
    }
}

/// A venue dot on the directory's map (SVG coordinates).
pub struct MapPoint {
    pub x: f64,
    pub y: f64,
    pub label: String,
}

#[derive(Template)]
#[template(path = "public/directory.html")]
pub struct DirectoryPage {
    pub layout: PublicLayout,
    pub query: String,
    pub signatories: Vec<Signatory>,
    pub commitments: Vec<Commitment>,
    pub map_outlines: Vec<String>,
    pub map_points: Vec<MapPoint>,
    pub unmapped: usize,
}

#[derive(Template)]
#[template(path = "public/join.html")]
pub struct JoinPage {
    pub layout: PublicLayout,
    pub csrf: String,
    pub errors: FormErrors,
    pub values: Form,
    pub commitments: Vec<Commitment>,
    pub org_types: &'static [&'static str],
}

impl JoinPage {
    pub fn field(&self, prefix: &str, id: impl std::fmt::Display) -> String {
        format!("{prefix}{id}")
    }
}

/// One row of a suppressed table of counts.
pub struct ShownRow {
    pub name: String,
    pub shown: String,
}

impl ShownRow {
    /// An area's count of reports as the disclosure policy publishes it.
    pub fn area(a: &AreaReportCount, disclosure: &Disclosure) -> ShownRow {
        ShownRow { name: a.name.clone(), shown: disclosure.display(disclosure.count(a.count.max(0) as u64)) }
    }
}

#[derive(Template)]
#[template(path = "public/you_said.html")]
pub struct YouSaidPage {
    pub layout: PublicLayout,
    pub responses: Vec<PublicResponse>,
    pub districts: Vec<ShownRow>,
    pub wards: Vec<ShownRow>,
    /// Counts below this are not published.
    pub threshold: u64,
}

#[derive(Template)]
#[template(path = "public/figures.html")]
pub struct FiguresPage {
    pub layout: PublicLayout,
    pub chart: String,
    pub months: Vec<ShownRow>,
    pub districts: Vec<ShownRow>,
    pub signatories: String,
    pub reports: String,
    /// Counts below this are not published.
    pub threshold: u64,
    pub hotspot_cells: Vec<CellCount>,
}

// Staff pages (the staff layout).

#[derive(Template)]
#[template(path = "public/staff_reports.html")]
pub struct StaffReportsPage {
    pub layout: Layout,
    pub pending: Vec<UnsafeReport>,
    pub approved: i64,
    pub rejected: i64,
    pub cells: Vec<CellCount>,
}

impl StaffReportsPage {
    pub fn reason_labels(&self, r: &UnsafeReport) -> String {
        r.reasons
            .iter()
            .map(|s| alliance_db::public::reports::REASONS.iter().find(|(k, _)| k == s).map_or(s.as_str(), |(_, l)| *l))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

#[derive(Template)]
#[template(path = "public/staff_charter.html")]
pub struct StaffCharterPage {
    pub layout: Layout,
    pub submitted: Vec<Signatory>,
    pub renewals: Vec<Signatory>,
    pub verified: usize,
    pub returned: Vec<Signatory>,
    pub current: i64,
}

#[derive(Template)]
#[template(path = "public/staff_responses.html")]
pub struct StaffResponsesPage {
    pub layout: Layout,
    /// The response form as typed, with its errors.
    pub form: crate::forms::Form,
    pub areas: Vec<(String, String)>,
    pub responses: Vec<PublicResponse>,
}
