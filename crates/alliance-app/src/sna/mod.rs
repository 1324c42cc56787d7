//! The Strategic Needs Assessment use case: the report's model, built once from aggregated
//! rows (a few `GROUP BY` queries of `alliance_db::sna`) and the pure analytics of
//! `alliance_core::analytics::sna`. `alliance_reports::sna` renders it as the page (`/sna`),
//! the self-contained file (`alliance sna`) and the CSV tables (`/sna/tables/{name}.csv`).
//! Every figure names its dataset, imports and definition version; the emergency department
//! figures are published under the [`Disclosure`] passed in (the configured threshold).
//! A report may cover a place of the register instead of districts ([`place`]).

pub mod place;

use std::collections::{BTreeMap, HashMap, HashSet};

use alliance_core::access::AccessLevel;
use alliance_core::analytics::sna::definition::{Definition, SourceKind};
use alliance_core::analytics::sna::ed::{ed_methods, ed_people, ed_times, EdMethods, EdPeople, EdTimes};
use alliance_core::analytics::sna::findings::{key_findings, KeyFigures};
use alliance_core::analytics::sna::outcomes::{outcome_profile, OutcomeShare};
use alliance_core::analytics::sna::places::{
    breakdown, concentration, deprivation_ratio, rate_per_1000, to_2021_vintage, AreaRate, Concentration,
    DeprivationRatio, LsoaRef,
};
use alliance_core::analytics::sna::series::{
    monthly_series, rolling_12, seasonality, year_on_year, MonthCount, Seasonality, YearOnYear,
};
use alliance_core::analytics::sna::success::{evaluate_success_measures, IndicatorValue, SuccessMeasure};
use alliance_core::analytics::suppression::Suppression;
use alliance_core::domain::{Month, MonthRange};
use alliance_db::sna::{PartnerSource, SnaFilter, SourceImport};
use alliance_db::{Db, DbError};

use crate::{AppError, Disclosure};
pub use place::ReportPlace;

/// One category series of the report (a mapped police crime type).
#[derive(Debug, Clone)]
pub struct CategorySeries {
    pub category: String,
    pub group_label: String,
    pub fit: String,
    pub in_headline: bool,
    pub series: Vec<MonthCount>,
    pub total: i64,
}

/// A place row with its name.
#[derive(Debug, Clone)]
pub struct LsoaFigure {
    pub code: String,
    pub name: String,
    pub district: String,
    pub count: f64,
    pub population: Option<i64>,
    pub rate: Option<f64>,
    pub decile: Option<i64>,
}

/// Everything the report shows.
#[derive(Debug, Clone)]
pub struct SnaReport {
    /// The partnership whose assessment this is (the profile's name); `None` with no profile.
    pub partnership: Option<String>,
    pub area_label: String,
    pub area_codes: Vec<String>,
    /// `None` when no month is covered (an empty database).
    pub period: Option<MonthRange>,
    pub months_covered: Vec<Month>,
    pub definition: Definition,
    pub headline_label: String,
    pub headline: Vec<MonthCount>,
    pub headline_total: i64,
    pub rolling: Vec<MonthCount>,
    pub year_on_year: Option<YearOnYear>,
    pub seasonality: Seasonality,
    pub categories: Vec<CategorySeries>,
    pub population: i64,
    pub lsoa_count: usize,
    /// The names of the area's districts whose neighbourhoods are their 2011 LSOAs: no 2021
    /// LSOA of theirs is held (say only the IMD file was imported, without boundaries).
    pub lsoas_2011_in: Vec<String>,
    pub lsoas_without_population: usize,
    pub overall_rate: Option<f64>,
    pub districts: Vec<AreaRate>,
    pub deciles: Vec<AreaRate>,
    pub deprivation: Option<DeprivationRatio>,
    pub concentration: Vec<Concentration>,
    pub lsoas: Vec<LsoaFigure>,
    /// Headline records left out of the place figures, and why.
    pub unplaced: Unplaced,
    pub outcomes: Vec<OutcomeShare>,
    pub outcomes_recorded: bool,
    pub success: Vec<(SuccessMeasure, IndicatorValue)>,
    pub partner_sources: Vec<PartnerSource>,
    pub imports: Vec<SourceImport>,
    pub ed: EdSection,
    /// The outlines of the area's LSOAs (2021) that have a boundary loaded, for the map.
    pub outlines: Vec<LsoaOutline>,
    pub findings: Vec<String>,
    pub generated_at: String,
    /// The policy the emergency department figures were suppressed under (its threshold is
    /// named wherever a hidden figure is shown).
    pub disclosure: Disclosure,
    /// The reader's permission for the emergency department data (row counts of partner
    /// sources are shown at record level only).
    pub ed_permission: EdPermission,
    /// The place of the register the report covers, when it covers one instead of districts
    /// (no population, so no rates; emergency department figures stay the whole area's).
    pub place: Option<ReportPlace>,
}

/// The headline records the place figures leave out, split by why: no location, or a
/// neighbourhood (LSOA) that is not one of the area's in the reference data held.
///
/// A report over districts reads its districts' records, so a record with no location, or in
/// an LSOA no held district has, is in none of its counts; those of the police forces whose
/// records lie in the area are counted here all the same (`forces`), since they may lie in the
/// area, and saying "0 offences had no location" of a force's files that hold hundreds is
/// false. A report over every record counts them in its headline; one over a place has only
/// located records.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Unplaced {
    /// Records with no location.
    pub no_location: i64,
    /// Records whose LSOA is not one of the area's neighbourhoods in the reference data
    /// (not held, held without a district, or a changed code with no link to the area's).
    pub not_in_reference: i64,
    /// How many of them the headline counts: the place figures total this many fewer.
    pub in_headline: i64,
    /// With districts: the police forces (data.police.uk names) whose records lie in them, of
    /// whose files the records placed in no district are counted.
    pub forces: Vec<String>,
    /// With districts: the other police forces whose files are held, none of whose records
    /// lie in the districts (a partnership holding a neighbour's files, or the national
    /// archive). No figure of the report counts their records, and the report says so rather
    /// than "no offence was left out".
    pub others: Vec<String>,
}

/// Forces' names for a sentence, as pages name them ("Staffordshire Police",
/// "Avon and Somerset Constabulary"), joined with "and".
fn force_names(slugs: &[String]) -> String {
    let names: Vec<String> = slugs.iter().map(|f| alliance_ingest::police::synthetic::force_name(f)).collect();
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        Some((last, _)) => last.clone(),
        None => String::new(),
    }
}

impl Unplaced {
    pub fn total(&self) -> i64 {
        self.no_location + self.not_in_reference
    }

    /// The forces for a sentence: "Staffordshire Police", "Staffordshire Police and West
    /// Midlands Police".
    pub fn forces_text(&self) -> String {
        force_names(&self.forces)
    }

    /// The sentence of the report's places section: how many are left out and why (each cause
    /// counted apart when both occur), and, for districts, whose records they are.
    pub fn sentence(&self, place: bool) -> String {
        use alliance_core::format::count;
        let offences = |n: i64| if n == 1 { "1 offence".to_string() } else { format!("{} offences", count(n)) };
        let was = |n: i64| if n == 1 { "was" } else { "were" };
        let reference = if place { "the reference data" } else { "the area's reference data" };
        let mut text = match (self.no_location, self.not_in_reference) {
            // Only other forces' files are held: none of their records is the area's, and
            // "no offence was left out" of thousands held would mislead.
            (0, 0) if self.forces.is_empty() && !self.others.is_empty() => String::new(),
            (0, 0) => format!("No offence was left out of the place figures for want of a location or of a neighbourhood in {reference}."),
            (0, b) => format!(
                "{} {} recorded in a neighbourhood not in {reference}, and {} not in the place figures.",
                offences(b),
                was(b),
                if b == 1 { "is" } else { "are" }
            ),
            (a, 0) => format!("{} had no location, and {} not in the place figures.", offences(a), if a == 1 { "is" } else { "are" }),
            (a, b) => format!(
                "{} offences are not in the place figures: {} had no location and {} {} recorded in a neighbourhood not in {reference}.",
                count(a + b),
                count(a),
                count(b),
                was(b)
            ),
        };
        let beyond = self.total() - self.in_headline;
        if !self.forces.is_empty() && beyond > 0 {
            let one = beyond == 1;
            text.push_str(&format!(
                " Of these, {} {} of {} that no district can be found for (no location, or a neighbourhood not in {reference}): {} files cover all of {}, so {} may lie in this area or outside it, and the headline counts above do not include {}.",
                count(beyond),
                if one { "is a record" } else { "are records" },
                self.forces_text(),
                if self.forces.len() == 1 { "the force's" } else { "the forces'" },
                if self.forces.len() == 1 { "its own area" } else { "their own areas" },
                if one { "it" } else { "they" },
                if one { "it" } else { "them" },
            ));
        }
        if !self.others.is_empty() {
            let one = self.others.len() == 1;
            let names = if self.others.len() <= 3 {
                force_names(&self.others)
            } else {
                format!("{} other forces", self.others.len())
            };
            text.push_str(&format!(
                " The police files held of {names} have no record in the area's districts: {} records lie outside the area, and no figure here counts them.",
                if one { "its" } else { "their" },
            ));
        }
        text.trim_start().to_string()
    }
}

/// An LSOA's outline: its code and its GeoJSON geometry in WGS84, as stored.
#[derive(Debug, Clone)]
pub struct LsoaOutline {
    pub code: String,
    pub geometry: String,
}

/// The records a report is asked for.
#[derive(Debug, Clone, Default)]
pub struct SnaRequest {
    pub areas: Vec<String>,
    pub from: Option<Month>,
    pub to: Option<Month>,
    /// Whether the reader may see emergency department figures (aggregate level of the
    /// `ed-assaults` dataset, decided by `auth::access::dataset_access` on the web; the
    /// command line runs with the database's own rights). Fails closed by default.
    pub ed: EdPermission,
    /// A place of the register (by id) to cover instead of districts: the police records
    /// inside its outline. Refused together with `areas`.
    pub place: Option<i64>,
    /// With no districts or place asked for: every district with data, rather than the
    /// partnership's own (see [`SnaReport::build`]).
    pub all_areas: bool,
}

/// Whether a report may include the emergency department sections, and how.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum EdPermission {
    #[default]
    Withheld,
    /// Aggregate level (and any document that may be shared, like `alliance sna`'s file):
    /// suppressed, over one whole calendar quarter and the whole area only
    /// (`disclosure::published_period`, `disclosure::published_areas`).
    Included,
    /// Record level: exact figures for the period and districts asked for.
    Record,
}

impl SnaRequest {
    /// Refuses a request no record held can answer ([`crate::bounds`], the rule the counts
    /// follow too): districts neither named nor with an LSOA held (an unknown code, or a neighbourhood's or a
    /// place's code given as a district, was reported as "0 offences were recorded in
    /// E99999999"), a period reversed, longer than ten years or beyond the police months held
    /// (`to=9999-12` built 95,814 table rows), and districts together with a place. The page
    /// shows the reason in its error summary; `build` checks it for every other caller.
    pub async fn check(&self, db: &Db) -> Result<(), AppError> {
        if self.place.is_some() && !self.areas.is_empty() {
            return Err(AppError::invalid("place", "choose either districts or a place, not both"));
        }
        crate::bounds::districts_known(db, "area", &self.areas).await?;
        crate::bounds::period_held(db, self.from, self.to).await
    }
}

impl EdPermission {
    /// The dataset access level this permission stands for.
    pub fn level(self) -> AccessLevel {
        match self {
            EdPermission::Withheld => AccessLevel::None,
            EdPermission::Included => AccessLevel::Aggregate,
            EdPermission::Record => AccessLevel::Record,
        }
    }
}

/// The emergency department sections' content.
#[derive(Debug, Clone)]
pub enum EdSection {
    /// The reader has no aggregate access to the ED dataset.
    NotPermitted,
    /// No ED assaults are loaded for this period and area.
    NoData,
    /// The period asked for holds no whole calendar quarter that ended at least
    /// `disclosure::PUBLICATION_LAG_DAYS` days ago, the only periods ED figures are published
    /// for below record level (`disclosure::published_period`).
    NoWholeQuarter,
    Data(Box<EdFigures>),
}

/// The ED figures, every count already suppressed.
#[derive(Debug, Clone)]
pub struct EdFigures {
    pub times: EdTimes,
    pub people: EdPeople,
    pub methods: EdMethods,
    /// First and last month of assaults.
    pub months: (String, String),
    pub with_arrival: i64,
    pub import_ids: Vec<i64>,
    pub synthetic: bool,
    /// Whether the figures are limited to assaults geocoded to the chosen districts.
    pub by_district: bool,
    /// The period the figures cover, when fixed by the disclosure rule (one whole calendar
    /// quarter, below record level) rather than as asked.
    pub published_period: Option<MonthRange>,
    /// Whether the counts are exact (record level) rather than suppressed.
    pub exact: bool,
    /// In a report over a place: why these figures are the whole area's, not the place's.
    pub place_note: Option<String>,
}

impl EdFigures {
    /// The sentence saying which period and area the figures cover and why, below record
    /// level (and, in a report over a place, that they are not the place's); `None` at record
    /// level over districts.
    pub fn partition_note(&self) -> Option<String> {
        let partition = self.published_period.map(|p| {
            format!(
                "Emergency department figures are published for one whole calendar quarter at a time ({} to {} here: the latest whole quarter in the period chosen or, with no period chosen, in the data, that ended at least {} days ago) and for the whole partnership area, whatever districts are chosen, so that figures for overlapping periods or areas cannot be subtracted from each other to reveal small counts; all of a quarter's tables are suppressed together, here and on the partner data page.",
                p.from,
                p.to,
                crate::disclosure::PUBLICATION_LAG_DAYS
            )
        });
        match (partition, &self.place_note) {
            (Some(p), Some(n)) => Some(format!("{n} {p}")),
            (None, Some(n)) => Some(n.clone()),
            (p, None) => p,
        }
    }
}

/// Builds the report of `request` from the database; the emergency department figures are
/// suppressed under `disclosure` (the configured policy).
pub async fn build(db: &Db, request: &SnaRequest, disclosure: &Disclosure) -> Result<SnaReport, AppError> {
    SnaReport::build(db, request, disclosure).await
}

impl SnaReport {
    /// Builds the report from the database (see [`build`]). A place that does not exist is
    /// `NotFound`; a place with districts is refused as invalid.
    ///
    /// With no districts or place asked for, the report covers the partnership's districts
    /// (`Db::partnership_area`, as the map does), unless `all_areas` asks for every district:
    /// on a database holding other forces' records too (a region, the national archive) the
    /// default report was the country's, labelled "all areas with data loaded".
    pub async fn build(db: &Db, request: &SnaRequest, disclosure: &Disclosure) -> Result<SnaReport, AppError> {
        request.check(db).await?;
        // The emergency department figures stay those of the districts asked for (none: the
        // whole area's, ED records of no district included), as before the default area.
        let asked = request;
        let partnership;
        let request = match request.areas.is_empty() && request.place.is_none() && !request.all_areas {
            true => {
                partnership = SnaRequest { areas: db.partnership_area().await?, ..request.clone() };
                &partnership
            }
            false => request,
        };
        let definition = db.sv_definition_current().await?;
        // Only the police categories the definition maps are read (an index on crime type
        // narrows the scans to them).
        let crime_types: Vec<String> = definition
            .for_source(SourceKind::PoliceCrimeType)
            .map(|m| m.category.clone())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let (place, rows) = match request.place {
            Some(id) => {
                let (place, rows) = place::police_rows(db, id, request.from, request.to, &crime_types).await?;
                (Some(place), rows)
            }
            None => {
                let filter =
                    SnaFilter { districts: request.areas.clone(), from: request.from, to: request.to, crime_types };
                (None, db.sna_police_rows(&filter).await?)
            }
        };
        let all_covered = db.police_months_covered().await?;
        // A place's LSOAs may lie in any district; districts' reports need only their own.
        let stand_in_districts = if place.is_some() { &[][..] } else { &request.areas[..] };
        let alliance_db::sna::SnaLsoaReference { lsoas: all_lsoas, links, districts_2011 } =
            db.sna_lsoa_reference(stand_in_districts).await?;
        let districts = db.districts().await?;
        let imports = db.sna_source_imports().await?;
        let partner_sources = db.sna_partner_sources().await?;

        let district_names: HashMap<String, String> =
            districts.iter().map(|d| (d.code.clone(), d.name.clone())).collect();
        let area_label = if let Some(p) = &place {
            p.label()
        } else if request.areas.is_empty() {
            "all areas with data loaded".to_string()
        } else {
            request
                .areas
                .iter()
                .map(|c| district_names.get(c).cloned().unwrap_or_else(|| c.clone()))
                .collect::<Vec<_>>()
                .join(", ")
        };
        // The period: the request's bounds, else the covered months.
        let from = request.from.or_else(|| all_covered.first().copied());
        let to = request.to.or_else(|| all_covered.last().copied());
        let period = match (from, to) {
            (Some(f), Some(t)) => MonthRange::new(f, t),
            _ => None,
        };
        let months_covered: Vec<Month> =
            all_covered.iter().copied().filter(|m| period.is_some_and(|p| p.contains(*m))).collect();
        let months = months_covered.len() as i64;

        // Series by police crime type.
        let police = SourceKind::PoliceCrimeType;
        let headline_types: HashSet<String> =
            definition.for_source(police).filter(|m| m.in_headline).map(|m| m.category.to_lowercase()).collect();
        let is_headline = |t: &str| headline_types.contains(&t.to_lowercase());
        let mut by_type: BTreeMap<String, Vec<(Month, i64)>> = BTreeMap::new();
        let mut headline_by_month: BTreeMap<Month, i64> = BTreeMap::new();
        for (month, crime_type, n) in &rows.by_month_type {
            let Ok(m) = month.parse::<Month>() else { continue };
            by_type.entry(crime_type.to_lowercase()).or_default().push((m, *n));
            if is_headline(crime_type) {
                *headline_by_month.entry(m).or_insert(0) += n;
            }
        }
        let (headline, categories) = match period {
            Some(p) => {
                let counts: Vec<(Month, i64)> = headline_by_month.into_iter().collect();
                let headline = monthly_series(p, &counts, &months_covered);
                let categories = definition
                    .for_source(police)
                    .map(|m| {
                        let counts = by_type.get(&m.category.to_lowercase()).cloned().unwrap_or_default();
                        let series = monthly_series(p, &counts, &months_covered);
                        CategorySeries {
                            category: m.category.clone(),
                            group_label: m.group.label().to_string(),
                            fit: m.fit.code().to_string(),
                            in_headline: m.in_headline,
                            total: series.iter().filter_map(|s| s.count).sum(),
                            series,
                        }
                    })
                    .collect();
                (headline, categories)
            }
            None => (Vec::new(), Vec::new()),
        };
        let headline_total: i64 = headline.iter().filter_map(|m| m.count).sum();
        let rolling = rolling_12(&headline);
        let yoy = year_on_year(&headline);
        let seasonal = seasonality(&headline);

        // Places: the area's 2021 LSOAs; for a place, those its offences are recorded in,
        // without their populations (the place's share of their residents is unknown).
        let area: HashSet<&str> = request.areas.iter().map(String::as_str).collect();
        let recorded_in: HashSet<String> = if place.is_some() {
            let all_2021: HashSet<&str> = all_lsoas.iter().map(|l| l.code.as_str()).collect();
            let counts: Vec<(String, i64)> =
                rows.by_lsoa_type.iter().filter_map(|(c, _, n)| c.clone().map(|c| (c, *n))).collect();
            to_2021_vintage(&counts, &all_2021, &links)
                .0
                .into_iter()
                .filter(|(_, n)| *n > 0.0)
                .map(|(c, _)| c)
                .collect()
        } else {
            HashSet::new()
        };
        let area_lsoas: Vec<LsoaRef> = all_lsoas
            .into_iter()
            .filter(|l| match &l.district {
                _ if place.is_some() => recorded_in.contains(&l.code),
                Some(d) => area.is_empty() && district_names.contains_key(d) || area.contains(d.as_str()),
                None => false,
            })
            .map(|l| if place.is_some() { LsoaRef { population: None, ..l } } else { l })
            .collect();
        let codes_2021: HashSet<&str> = area_lsoas.iter().map(|l| l.code.as_str()).collect();
        let area_districts: HashSet<&str> = area_lsoas.iter().filter_map(|l| l.district.as_deref()).collect();
        let lsoas_2011_in: Vec<String> = districts_2011
            .iter()
            .filter(|d| area_districts.contains(d.as_str()))
            .map(|d| district_names.get(d).cloned().unwrap_or_else(|| d.clone()))
            .collect();
        let mut lsoa_counts: HashMap<String, i64> = HashMap::new();
        let mut no_lsoa = 0;
        for (code, crime_type, n) in &rows.by_lsoa_type {
            if !is_headline(crime_type) {
                continue;
            }
            match code {
                Some(c) => *lsoa_counts.entry(c.clone()).or_insert(0) += n,
                None => no_lsoa += n,
            }
        }
        let counts_vec: Vec<(String, i64)> = lsoa_counts.into_iter().collect();
        let (placed, outside) = to_2021_vintage(&counts_vec, &codes_2021, &links);
        // Over districts, the records of the area's forces that no district can be found for
        // (no location, or an LSOA not held) are outside every count read above.
        let unplaced = match (&place, request.areas.is_empty()) {
            (None, false) => {
                let filter = SnaFilter {
                    districts: request.areas.clone(),
                    from: request.from,
                    to: request.to,
                    crime_types: headline_types_of(&definition),
                };
                let beyond = db.sna_unplaceable(&filter).await?;
                let sum =
                    |rows: &[(String, i64)]| rows.iter().filter(|(t, _)| is_headline(t)).map(|r| r.1).sum::<i64>();
                let no_location = sum(&beyond.no_location);
                Unplaced {
                    no_location,
                    not_in_reference: outside + sum(&beyond.without_district) - no_location,
                    in_headline: outside,
                    others: imports
                        .iter()
                        .filter_map(|i| i.force.clone())
                        .filter(|f| !beyond.forces.contains(f))
                        .collect::<std::collections::BTreeSet<_>>()
                        .into_iter()
                        .collect(),
                    forces: beyond.forces,
                }
            }
            _ => Unplaced {
                no_location: no_lsoa,
                not_in_reference: outside,
                in_headline: no_lsoa + outside,
                forces: Vec::new(),
                others: Vec::new(),
            },
        };
        let population: i64 = area_lsoas.iter().filter_map(|l| l.population).sum();
        let lsoas_without_population = area_lsoas.iter().filter(|l| l.population.is_none()).count();
        let placed_total: f64 = placed.values().sum();
        let overall_rate = rate_per_1000(placed_total, population, months);
        let district_rows = breakdown(&area_lsoas, &placed, months, |l| {
            l.district.as_ref().map(|d| (d.clone(), district_names.get(d).cloned().unwrap_or_else(|| d.clone())))
        });
        let decile_rows =
            breakdown(&area_lsoas, &placed, months, |l| l.imd_decile.map(|d| (format!("{d:02}"), d.to_string())));
        let deprivation = deprivation_ratio(&decile_rows);
        let codes: Vec<&str> = area_lsoas.iter().map(|l| l.code.as_str()).collect();
        let concentration = concentration(&codes, &placed);
        let lsoas: Vec<LsoaFigure> = area_lsoas
            .iter()
            .map(|l| {
                let count = placed.get(&l.code).copied().unwrap_or(0.0);
                LsoaFigure {
                    code: l.code.clone(),
                    name: l.name.clone(),
                    district: l
                        .district
                        .as_ref()
                        .map(|d| district_names.get(d).cloned().unwrap_or_else(|| d.clone()))
                        .unwrap_or_default(),
                    count,
                    population: l.population,
                    rate: l.population.and_then(|p| rate_per_1000(count, p, months)),
                    decile: l.imd_decile,
                }
            })
            .collect();

        // Outcomes of the headline crimes.
        let outcome_rows: Vec<(Option<String>, i64)> =
            rows.by_type_outcome.iter().filter(|(t, _, _)| is_headline(t)).map(|(_, o, n)| (o.clone(), *n)).collect();
        let outcomes_recorded = outcome_rows.iter().any(|(o, n)| *n > 0 && o.as_deref().is_some_and(|t| !t.is_empty()));
        let outcomes = outcome_profile(&outcome_rows);

        // Success measures: no loaded source gives any of them yet.
        let success = evaluate_success_measures(&[]);

        let mut ed = Self::ed_section(db, asked, disclosure, period, &partner_sources, &definition).await?;
        if let (EdSection::Data(f), Some(p)) = (&mut ed, &place) {
            f.place_note = Some(p.ed_note());
        }

        // The area's outlines alone: a database holding national boundaries holds some 35,000.
        let area_codes: Vec<String> = lsoas.iter().map(|l| l.code.clone()).collect();
        let outlines: Vec<LsoaOutline> = db
            .boundaries_by_code(&["lsoa21"], &area_codes)
            .await?
            .into_iter()
            .map(|b| LsoaOutline { code: b.code, geometry: b.geometry })
            .collect();
        let top_district =
            district_rows.iter().filter_map(|d| d.rate.map(|r| (d.name.clone(), r))).max_by(|a, b| a.1.total_cmp(&b.1));
        let figures = KeyFigures {
            area: area_label.clone(),
            period: period.map_or_else(|| "no period".into(), |p| p.to_string()),
            months,
            headline_total,
            headline_label: "serious violence (police proxy)".into(),
            year_on_year: yoy.clone(),
            top_district,
            overall_rate,
            deprivation: deprivation.clone(),
            concentration: concentration.iter().find(|c| c.percent_of_lsoas == 10.0).cloned(),
            success_measures_with_data: success
                .iter()
                .filter(|(_, v)| matches!(v, IndicatorValue::Value { .. }))
                .count(),
            success_measures_total: success.len(),
        };
        let findings = if period.is_some() {
            key_findings(&figures)
        } else {
            vec!["There is no police data for this period, so there are no findings.".into()]
        };
        Ok(SnaReport {
            partnership: db.partnership().await?.map(|p| p.name),
            area_label,
            area_codes: request.areas.clone(),
            period,
            months_covered,
            headline_label: "Serious violence (police proxy)".into(),
            definition,
            headline,
            headline_total,
            rolling,
            year_on_year: yoy,
            seasonality: seasonal,
            categories,
            population,
            lsoa_count: area_lsoas.len(),
            lsoas_2011_in,
            lsoas_without_population,
            overall_rate,
            districts: district_rows,
            deciles: decile_rows,
            deprivation,
            concentration,
            lsoas,
            unplaced,
            outcomes,
            outcomes_recorded,
            success,
            partner_sources,
            imports,
            ed,
            outlines,
            findings,
            generated_at: chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
            disclosure: *disclosure,
            ed_permission: request.ed,
            place,
        })
    }

    /// The ED sections: withheld without aggregate access, "no data" when nothing is loaded
    /// for the period and area, else the suppressed profiles.
    async fn ed_section(
        db: &Db,
        request: &SnaRequest,
        disclosure: &Disclosure,
        period: Option<MonthRange>,
        partner_sources: &[PartnerSource],
        definition: &Definition,
    ) -> Result<EdSection, DbError> {
        let level = request.ed.level();
        if level == AccessLevel::None {
            return Ok(EdSection::NotPermitted);
        }
        let loaded = partner_sources.iter().any(|p| p.table == "ed_assaults" && p.rows.is_some_and(|n| n > 0));
        if !loaded {
            return Ok(EdSection::NoData);
        }
        let (filter, published_period) = if level == AccessLevel::Record {
            let filter = SnaFilter {
                districts: request.areas.clone(),
                from: period.map(|p| p.from).or(request.from),
                to: period.map(|p| p.to).or(request.to),
                crime_types: Vec::new(),
            };
            (filter, None)
        } else {
            // One whole calendar quarter of the period asked for (a bound not given is the
            // ED data's own first or last month), over the whole area: see
            // `disclosure::published_period`.
            let (from, to) = match (request.from, request.to) {
                (Some(f), Some(t)) => (f, t),
                (f, t) => {
                    let all = db.sna_ed_rows(&SnaFilter::default()).await?;
                    let Some((first, last)) = all
                        .months
                        .as_ref()
                        .and_then(|(a, b)| Some((a.parse::<Month>().ok()?, b.parse::<Month>().ok()?)))
                    else {
                        return Ok(EdSection::NoData);
                    };
                    if f.is_none() && t.is_none() {
                        // No period asked for: the latest released quarter with data (the
                        // partner data page's quarter too).
                        (first, crate::disclosure::quarter_of(last).to)
                    } else {
                        (f.unwrap_or(first), t.unwrap_or(last))
                    }
                }
            };
            let Some(asked) = MonthRange::new(from, to) else { return Ok(EdSection::NoData) };
            let Some(quarter) = crate::disclosure::published_period(level, asked) else {
                return Ok(EdSection::NoWholeQuarter);
            };
            let filter = SnaFilter {
                districts: crate::disclosure::published_areas(level, &request.areas),
                from: Some(quarter.from),
                to: Some(quarter.to),
                crime_types: Vec::new(),
            };
            (filter, Some(quarter))
        };
        let rows = db.sna_ed_rows(&filter).await?;
        let Some(months) = rows.months.clone() else { return Ok(EdSection::NoData) };
        // Record level: nothing hidden (a threshold of 1 hides no count).
        let suppression = disclosure.for_level(level).unwrap_or(Suppression::new(1));
        use alliance_ingest::ed::codes::{AGE_BANDS, SEXES};
        let codes = |list: &[(&'static str, &'static str)]| list.iter().map(|c| c.0).collect::<Vec<_>>();
        let months = match published_period {
            Some(q) => (q.from.to_string(), q.to.to_string()),
            None => months,
        };
        let (times, people, methods) = match published_period {
            // Below record level: the quarter's tables suppressed together with the partner
            // data page's (`crate::ed_release`: linked tables).
            Some(quarter) => {
                let facts = db
                    .ed_assault_facts(&alliance_db::partner::ed::EdFilter {
                        from_month: Some(quarter.from.to_string()),
                        to_month: Some(quarter.to.to_string()),
                        site_code: None,
                        district_code: None,
                    })
                    .await?;
                let r = crate::ed_release::release(&facts, quarter, definition, &suppression);
                (r.times, r.people, r.methods)
            }
            None => (
                ed_times(&rows.by_hour, &suppression),
                ed_people(&rows.by_age_sex, &codes(AGE_BANDS), &codes(SEXES), &suppression),
                ed_methods(definition, &rows.by_method, &suppression),
            ),
        };
        Ok(EdSection::Data(Box::new(EdFigures {
            times,
            people,
            methods,
            months,
            with_arrival: rows.with_arrival,
            import_ids: rows.imports.iter().map(|i| i.0).collect(),
            synthetic: rows.imports.iter().any(|i| i.1.ends_with("synthetic")),
            by_district: !filter.districts.is_empty(),
            published_period,
            exact: level == AccessLevel::Record,
            place_note: None,
        })))
    }

    /// "dataset, imports, definition" for an ED figure's caption.
    pub fn ed_provenance(&self) -> String {
        match &self.ed {
            EdSection::Data(f) => format!(
                "Source: emergency department assaults (ISTV minimum data set, Cardiff Model), current ED imports {}{}; assault date-time as reported; {} to {}; {}; serious violence definition version {}. {}",
                id_ranges(&f.import_ids),
                if f.synthetic { " (SYNTHETIC: generated test data, not real patients)" } else { "" },
                f.months.0,
                f.months.1,
                if f.by_district { "assaults geocoded to the chosen districts only" } else { "every assault, placed or not" },
                self.definition.version,
                if f.exact {
                    "Health data: exact figures, shown because your organisation has record-level access.".to_string()
                } else {
                    format!(
                        "Health data: counts of 1 to {} are shown as \"fewer than {}\" and other figures are withheld so they cannot be worked out from the totals. {}",
                        self.disclosure.threshold() - 1,
                        self.disclosure.threshold(),
                        f.partition_note().unwrap_or_default()
                    )
                }
            ),
            _ => "Source: emergency department assaults (ISTV).".into(),
        }
    }

    /// "dataset, imports, definition" for a figure's caption.
    pub fn provenance(&self) -> String {
        let police: Vec<&SourceImport> =
            self.imports.iter().filter(|i| i.kind == "street" || i.kind == "outcomes").collect();
        let ids = id_ranges(&police.iter().map(|i| i.id).collect::<Vec<_>>());
        format!(
            "Source: data.police.uk street-level crime ({} current police imports: {}); serious violence definition version {} ({}).",
            police.len(),
            if ids.is_empty() { "none".into() } else { ids },
            self.definition.version,
            self.definition.name
        )
    }

    /// The districts whose neighbourhoods are their 2011 LSOAs, for a sentence: their names,
    /// or how many when a national database makes them too many to list.
    pub fn lsoas_2011_text(&self) -> String {
        match self.lsoas_2011_in.len() {
            n if n > 10 => format!("{n} districts"),
            _ => self.lsoas_2011_in.join(", "),
        }
    }

    /// Which census's LSOAs the report's neighbourhoods are, for captions: "2021", "2011" (no
    /// 2021 LSOA held in any of the area's districts) or "2011 and 2021" (in some). The
    /// tables said "LSOAs 2021" of 2011 neighbourhoods.
    pub fn lsoa_vintage(&self) -> &'static str {
        match self.lsoas_2011_in.len() {
            0 => "2021",
            n if n >= self.districts.len() => "2011",
            _ => "2011 and 2021",
        }
    }

    /// "area reference imports" for population and deprivation figures, saying which LSOAs
    /// the populations are of.
    pub fn area_provenance(&self) -> String {
        let areas: Vec<i64> =
            self.imports.iter().filter(|i| i.force.is_none() && i.month.is_none()).map(|i| i.id).collect();
        let lsoas = match self.lsoa_vintage() {
            "2011" => "2011 LSOAs, as published",
            "2021" => "2021 LSOAs derived from 2011 by boundary overlap",
            _ => "2011 LSOAs as published where no 2021 LSOA is held, else 2021 LSOAs derived from 2011 by boundary overlap",
        };
        format!(
            "Population: IoD2019 mid-2015 LSOA population ({lsoas}); deprivation: English IMD 2019 / Welsh IMD 2019 deciles; area imports {}.",
            if areas.is_empty() { "none".into() } else { id_ranges(&areas) }
        )
    }
}

/// The police crime types the definition counts in its headline (as stored: the records'
/// own spelling is compared without case).
fn headline_types_of(definition: &Definition) -> Vec<String> {
    let types: std::collections::BTreeSet<String> = definition
        .for_source(SourceKind::PoliceCrimeType)
        .filter(|m| m.in_headline)
        .map(|m| m.category.clone())
        .collect();
    types.into_iter().collect()
}

/// `[1,2,3,7]` → `1–3, 7`.
pub fn id_ranges(ids: &[i64]) -> String {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    let mut parts = Vec::new();
    let mut i = 0;
    while i < ids.len() {
        let mut j = i;
        while j + 1 < ids.len() && ids[j + 1] == ids[j] + 1 {
            j += 1;
        }
        parts.push(if i == j { ids[i].to_string() } else { format!("{}–{}", ids[i], ids[j]) });
        i = j + 1;
    }
    parts.join(", ")
}

/// The label of an ED patient's sex code ("Not recorded" when missing, the code itself when
/// it is not in the data standard).
pub fn sex_label(code: &Option<String>) -> String {
    code_label(alliance_ingest::ed::codes::SEXES, code)
}

/// The label of an ED patient's age band code, as [`sex_label`].
pub fn age_band_label(code: &Option<String>) -> String {
    code_label(alliance_ingest::ed::codes::AGE_BANDS, code)
}

/// The data standard's name of an ED assault method code.
pub fn method_label(code: &str) -> Option<&'static str> {
    alliance_ingest::ed::codes::label(alliance_ingest::ed::codes::ASSAULT_METHODS, code)
}

fn code_label(list: &[(&'static str, &'static str)], code: &Option<String>) -> String {
    match code {
        Some(c) => alliance_ingest::ed::codes::label(list, c).map_or_else(|| c.clone(), str::to_string),
        None => "Not recorded".into(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn id_ranges_compress() {
        assert_eq!(super::id_ranges(&[7, 1, 2, 3]), "1–3, 7");
        assert_eq!(super::id_ranges(&[]), "");
    }

    /// Wiltshire and Swindon holding only Gwent's files: no record of Gwent lies in the
    /// districts, and the report said "No offence was left out of the place figures".
    #[test]
    fn only_another_forces_files_held() {
        let gwent = super::Unplaced { others: vec!["gwent".into()], ..Default::default() };
        assert_eq!(
            gwent.sentence(false),
            "The police files held of Gwent Police have no record in the area's districts: its records lie outside the area, and no figure here counts them."
        );
        let four = super::Unplaced {
            forces: vec!["wiltshire".into()],
            others: ["gwent", "dyfed-powys", "avon-and-somerset", "south-wales"].map(String::from).to_vec(),
            ..Default::default()
        };
        assert_eq!(
            four.sentence(false),
            "No offence was left out of the place figures for want of a location or of a neighbourhood in the area's reference data. The police files held of 4 other forces have no record in the area's districts: their records lie outside the area, and no figure here counts them."
        );
        let none = super::Unplaced::default();
        assert_eq!(
            none.sentence(true),
            "No offence was left out of the place figures for want of a location or of a neighbourhood in the reference data."
        );
    }

    /// West Midlands holding Staffordshire Police's files, some of whose records lie in it.
    #[test]
    fn a_neighbouring_forces_unplaced_records() {
        let u = super::Unplaced {
            no_location: 1200,
            not_in_reference: 34,
            in_headline: 0,
            forces: vec!["staffordshire".into()],
            others: Vec::new(),
        };
        assert_eq!(u.forces_text(), "Staffordshire Police");
        assert_eq!(
            u.sentence(false),
            "1,234 offences are not in the place figures: 1,200 had no location and 34 were recorded in a neighbourhood not in the area's reference data. Of these, 1,234 are records of Staffordshire Police that no district can be found for (no location, or a neighbourhood not in the area's reference data): the force's files cover all of its own area, so they may lie in this area or outside it, and the headline counts above do not include them."
        );
        let two = super::Unplaced {
            no_location: 1,
            not_in_reference: 0,
            forces: vec!["avon-and-somerset".into(), "west-midlands".into()],
            ..u
        };
        assert_eq!(two.forces_text(), "Avon and Somerset Constabulary and West Midlands Police");
        assert!(
            two.sentence(false).ends_with("Of these, 1 is a record of Avon and Somerset Constabulary and West Midlands Police that no district can be found for (no location, or a neighbourhood not in the area's reference data): the forces' files cover all of their own areas, so it may lie in this area or outside it, and the headline counts above do not include it."),
            "{}",
            two.sentence(false)
        );
    }

    #[test]
    fn ed_codes_have_labels() {
        assert_eq!(super::sex_label(&Some("2".into())), "Female");
        assert_eq!(super::sex_label(&None), "Not recorded");
        assert_eq!(super::sex_label(&Some("Q".into())), "Q");
    }
}
