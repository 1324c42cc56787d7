//! View models of the public pages (the public layout: no staff navigation, the "Exit this
//! page" button on every page) and of the staff pages that look after them.

use alliance_app::Disclosure;
use alliance_core::analytics::suppression::Shown;
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
    /// The charter's name from the profile, as written after "the" (a neutral name when unset).
    pub charter: String,
    /// The header's accent colour from the partnership's profile.
    pub accent: &'static str,
    /// The link of the partnership's logo, when it has one.
    pub logo: Option<String>,
    pub path: &'static str,
    pub exit_url: &'static str,
}

impl PublicLayout {
    pub fn new(_state: &crate::AppState, path: &'static str) -> PublicLayout {
        PublicLayout::from_context(crate::auth::current(), path)
    }

    pub fn from_context(context: crate::auth::RequestContext, path: &'static str) -> PublicLayout {
        let logo = context.logo.map(|v| crate::routes::logo_link(&v));
        PublicLayout {
            partnership: context.partnership,
            charter: context.charter,
            accent: context.accent,
            logo,
            path,
            exit_url: EXIT_URL,
        }
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
    /// Whether postcodes are held, so the place field takes one.
    pub postcodes_held: bool,
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
    /// Kilometres from the postcode searched, one per service (`None`: no postcode searched,
    /// or the service has no known place).
    pub distances: Vec<Option<f64>>,
    /// Why the postcode typed could not be placed.
    pub postcode_error: Option<String>,
}

impl FindHelpPage {
    /// "1.2 km away" for the service at `index`, when known.
    pub fn distance(&self, index: &usize) -> Option<String> {
        let km = self.distances.get(*index).copied().flatten()?;
        Some(if km < 10.0 { format!("{km:.1} km away") } else { format!("{km:.0} km away") })
    }
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShownRow {
    pub name: String,
    pub shown: String,
}

/// The counts of approved reports as published: the total (`/public/figures`), each
/// district and each ward (`/you-said-we-did`). The three share their totals (wards add up to
/// their district, less reports without a ward; districts add up to the total), so they are
/// suppressed together as one grouped list (`Disclosure::grouped`: primary and secondary
/// suppression over the lines total = Σ districts and district = Σ wards + unwarded): 12 in
/// total, 9 in one district and "fewer than 5" in the other cannot give 3.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedReports {
    pub total: String,
    /// Every district of the partnership, in the order given.
    pub districts: Vec<ShownRow>,
    /// Wards with approved reports, largest published figure first, hidden ones after by name.
    pub wards: Vec<ShownRow>,
}

impl PublishedReports {
    /// `districts`: every district with its count; `ward_names`: the names of known wards;
    /// `pairs`: approved reports by (district, ward).
    pub fn new(
        districts: &[AreaReportCount],
        ward_names: &std::collections::HashMap<String, String>,
        pairs: &[(String, Option<String>, i64)],
        disclosure: &Disclosure,
    ) -> PublishedReports {
        let count = |n: i64| n.max(0) as u64;
        // Each district's group: its named wards, then the rest (reports without a known
        // ward), which is never published but is part of the district's line.
        let mut groups: Vec<Vec<u64>> = Vec::with_capacity(districts.len());
        let mut group_wards: Vec<Vec<&str>> = Vec::with_capacity(districts.len());
        for d in districts {
            let mut wards: Vec<(&str, u64)> = pairs
                .iter()
                .filter(|(dc, w, n)| *dc == d.code && *n > 0 && w.as_ref().is_some_and(|w| ward_names.contains_key(w)))
                .filter_map(|(_, w, n)| Some((w.as_deref()?, count(*n))))
                .collect();
            wards.sort();
            let named: u64 = wards.iter().map(|w| w.1).sum();
            let mut members: Vec<u64> = wards.iter().map(|w| w.1).collect();
            members.push(count(d.count).saturating_sub(named));
            groups.push(members);
            group_wards.push(wards.into_iter().map(|w| w.0).collect());
        }
        let published = disclosure.grouped(&groups);
        let text = |s: Shown| disclosure.display(s);
        let districts_shown = districts
            .iter()
            .zip(&published.subtotals)
            .map(|(d, s)| ShownRow { name: d.name.clone(), shown: text(*s) })
            .collect();
        let mut wards: Vec<(Option<u64>, ShownRow)> = Vec::new();
        for (codes, shown) in group_wards.iter().zip(&published.members) {
            for (code, s) in codes.iter().zip(shown) {
                let name = ward_names.get(*code).cloned().unwrap_or_else(|| code.to_string());
                wards.push((s.value(), ShownRow { name, shown: text(*s) }));
            }
        }
        wards.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.name.cmp(&b.1.name)));
        PublishedReports {
            total: text(published.total),
            districts: districts_shown,
            wards: wards.into_iter().map(|w| w.1).collect(),
        }
    }

    /// Reads the counts and publishes them under `disclosure`.
    pub async fn load(db: &alliance_db::Db, disclosure: &Disclosure) -> Result<PublishedReports, alliance_db::DbError> {
        let mut districts = db.unsafe_report_area_counts("district").await?;
        // By name: an order by count would rank the hidden ones.
        districts.sort_by(|a, b| a.name.cmp(&b.name));
        let ward_names = db.unsafe_report_area_counts("ward").await?.into_iter().map(|w| (w.code, w.name)).collect();
        let pairs = db.unsafe_report_district_ward_counts().await?;
        Ok(PublishedReports::new(&districts, &ward_names, &pairs, disclosure))
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
    /// The partnership's suppression threshold (the public map leaves out smaller cells).
    pub threshold: u64,
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
