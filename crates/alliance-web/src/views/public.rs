//! View models of the public pages (the public layout: no staff navigation, the "Exit this
//! page" button on every page) and of the staff pages that look after them.

use alliance_app::Disclosure;
use alliance_db::public::charter::{Commitment, Signatory};
use std::collections::{BTreeMap, HashMap};

use alliance_core::referrals::linked::{Figure, Linked};
use alliance_db::public::reports::{CellCount, ReportCount, UnsafeReport};
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
    /// The form's one-time key (`forms::SUBMISSION`): the same report sent twice is stored once.
    pub submission: String,
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
    /// Whether the map has wards to draw (a point is chosen by clicking one): without them
    /// the map is not offered.
    pub wards_held: bool,
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
    /// Why the age typed could not be read (the search then runs for any age).
    pub age_error: Option<String>,
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

/// The counts of approved reports as published: the total and the hotspot layer
/// (`/public/figures`), each district and each ward (`/you-said-we-did`). They share their
/// totals (a district's wards add up to it, less reports without a ward; so do its 250 m
/// cells, less reports without a point; the districts add up to the total), so they are
/// suppressed together (`alliance_core::referrals::linked`, under the partnership's
/// policy): 12 in total, 9 in one district and "fewer than 5" in the other cannot give 3,
/// and neither can a square of 5 reports inside a withheld district beside a total of 6.
///
/// Conventions: districts are the partnership's (its profile), or every district held
/// when no profile is stored; a square whose reports lie in several districts is shown only
/// when each district's part of it is, with their sum; squares of reports outside those
/// districts belong to no published total and are suppressed on their own. A hidden square
/// is left out of the layer altogether (even "fewer than 5" says someone reported there).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedReports {
    pub total: String,
    /// Every district of the partnership, in the order given.
    pub districts: Vec<ShownRow>,
    /// Wards with approved reports, largest published figure first, hidden ones after by name.
    pub wards: Vec<ShownRow>,
    /// The squares published, by easting then northing.
    pub cells: Vec<CellCount>,
}

/// One district's reports split two ways: by ward and by 250 m square.
struct DistrictParts<'a> {
    total: Figure,
    wards: Vec<(&'a str, Figure)>,
    cells: Vec<((i64, i64), Figure)>,
}

/// Sums `n` by `key` over `rows`, leaving out rows without a key.
fn sum_by<'a, K: Ord>(rows: &[&'a ReportCount], key: impl Fn(&'a ReportCount) -> Option<K>) -> BTreeMap<K, u64> {
    let mut out = BTreeMap::new();
    for r in rows {
        if let Some(k) = key(r) {
            *out.entry(k).or_insert(0) += r.n.max(0) as u64;
        }
    }
    out
}

impl PublishedReports {
    /// `districts`: the districts published (code, name), in the order shown; `ward_names`:
    /// the names of known wards; `counts`: approved reports by district, ward and square.
    pub fn new(
        districts: &[(String, String)],
        ward_names: &HashMap<String, String>,
        counts: &[ReportCount],
        disclosure: &Disclosure,
    ) -> PublishedReports {
        let mut linked = Linked::new();
        let mut parts: Vec<DistrictParts> = Vec::with_capacity(districts.len());
        for (code, _) in districts {
            let rows: Vec<&ReportCount> = counts.iter().filter(|r| r.district_code.as_ref() == Some(code)).collect();
            let all: u64 = rows.iter().map(|r| r.n.max(0) as u64).sum();
            let total = linked.figure(all);
            let by_ward = sum_by(&rows, |r| r.ward_code.as_deref().filter(|w| ward_names.contains_key(*w)));
            let wards: Vec<(&str, Figure)> = by_ward.iter().map(|(w, n)| (*w, linked.figure(*n))).collect();
            // The reports without a known ward, never published but part of the district's line.
            let unwarded = linked.figure(all - by_ward.values().sum::<u64>());
            let line: Vec<Figure> = wards.iter().map(|w| w.1).chain([unwarded]).collect();
            linked.line(&line, total);
            let by_cell = sum_by(&rows, ReportCount::corner);
            let cells: Vec<((i64, i64), Figure)> = by_cell.iter().map(|(c, n)| (*c, linked.figure(*n))).collect();
            let unplaced = linked.figure(all - by_cell.values().sum::<u64>());
            let line: Vec<Figure> = cells.iter().map(|c| c.1).chain([unplaced]).collect();
            linked.line(&line, total);
            parts.push(DistrictParts { total, wards, cells });
        }
        let subtotals: Vec<Figure> = parts.iter().map(|p| p.total).collect();
        let total = linked.figure(subtotals.iter().map(|&f| linked.value(f)).sum());
        linked.line(&subtotals, total);
        let elsewhere: Vec<&ReportCount> = counts
            .iter()
            .filter(|r| !r.district_code.as_ref().is_some_and(|d| districts.iter().any(|(c, _)| c == d)))
            .collect();
        let outside: Vec<((i64, i64), Figure)> =
            sum_by(&elsewhere, ReportCount::corner).into_iter().map(|(c, n)| (c, linked.figure(n))).collect();
        let published = linked.suppress(disclosure.suppression());

        let text = |f: Figure| disclosure.display(published.get(f));
        let districts_shown = districts
            .iter()
            .zip(&parts)
            .map(|((_, name), p)| ShownRow { name: name.clone(), shown: text(p.total) })
            .collect();
        let mut wards: Vec<(Option<u64>, ShownRow)> = parts
            .iter()
            .flat_map(|p| &p.wards)
            .map(|(code, f)| {
                let name = ward_names.get(*code).cloned().unwrap_or_else(|| code.to_string());
                (published.get(*f).value(), ShownRow { name, shown: text(*f) })
            })
            .collect();
        wards.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.name.cmp(&b.1.name)));
        // A square is published when every part of it is, as their sum.
        let mut squares: BTreeMap<(i64, i64), Option<u64>> = BTreeMap::new();
        for (corner, f) in parts.iter().flat_map(|p| &p.cells).chain(&outside) {
            let part = published.get(*f).value();
            let square = squares.entry(*corner).or_insert(Some(0));
            *square = square.zip(part).map(|(a, b)| a + b);
        }
        let cells = squares
            .into_iter()
            .filter_map(|((easting, northing), n)| {
                Some(CellCount { easting, northing, count: i64::try_from(n?).ok()? }).filter(|c| c.count > 0)
            })
            .collect();
        PublishedReports {
            total: text(total),
            districts: districts_shown,
            wards: wards.into_iter().map(|w| w.1).collect(),
            cells,
        }
    }

    /// Reads the counts and publishes them under `disclosure`.
    pub async fn load(db: &alliance_db::Db, disclosure: &Disclosure) -> Result<PublishedReports, alliance_db::DbError> {
        let districts = report_districts(db).await?;
        let ward_names = db.unsafe_report_area_counts("ward").await?.into_iter().map(|w| (w.code, w.name)).collect();
        let counts = db.approved_report_counts().await?;
        Ok(PublishedReports::new(&districts, &ward_names, &counts, disclosure))
    }
}

/// The districts the public report figures are given for, by name (an order by count would
/// rank the hidden ones): the partnership's, named from the area data where held; every
/// district held when no profile is stored. A national deprivation file holds every district
/// of England, and one partnership's residents should not read a table of them all.
pub async fn report_districts(db: &alliance_db::Db) -> Result<Vec<(String, String)>, alliance_db::DbError> {
    let held: Vec<(String, String)> = db.districts().await?.into_iter().map(|d| (d.code, d.name)).collect();
    let mut out = match db.partnership().await? {
        Some(profile) => profile
            .districts
            .iter()
            .map(|d| {
                let code = d.to_string();
                let name = held.iter().find(|(c, _)| *c == code).map_or_else(|| code.clone(), |(_, n)| n.clone());
                (code, name)
            })
            .collect(),
        None => held,
    };
    out.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(out)
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
    /// Why no police figures are published although records are held (only other forces'
    /// are: `alliance_app::forces`); empty otherwise.
    pub police_withheld: String,
}

// Staff pages (the staff layout).

#[derive(Template)]
#[template(path = "public/staff_reports.html")]
pub struct StaffReportsPage {
    pub layout: Layout,
    pub pending: Vec<UnsafeReport>,
    /// The latest approvals, each of which can be withdrawn.
    pub recently_approved: Vec<UnsafeReport>,
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
