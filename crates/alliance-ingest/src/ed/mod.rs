//! Emergency department assault data: the Information Sharing to Tackle Violence (ISTV)
//! minimum data set, information standard ISB 1594 (the "Cardiff Model").
//!
//! A file is one submission: a header (reporting period start and end, treatment site code)
//! and its assaults. Two formats carry the same items, CSV ([`csv`]) and XML ([`xml`]); the
//! exact columns and elements are documented in `docs/formats/ed-assaults.md`. The whole file
//! is read and validated before anything is stored, and the first problem refuses it,
//! naming the file, the line (CSV) or element path (XML), the field and the reason.
//!
//! No patient identifiers are ever accepted ([`identifiers`]).

pub mod codes;
mod csv;
pub mod identifiers;
pub mod synthetic;
mod xml;

use chrono::{NaiveDate, NaiveDateTime};

use crate::error::quoted;
use crate::{IngestError, SourceFile};

pub use self::csv::CSV_COLUMNS;
pub use self::xml::XML_ELEMENTS;

/// Which format a file is in (told by its extension).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdFormat {
    Csv,
    Xml,
}

/// One ED submission, validated.
#[derive(Debug, Clone)]
pub struct EdSubmission {
    /// ODS site code of the treating department (3 to 12 letters and digits, upper case).
    pub site_code: String,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    /// The file says it is synthetic (a `# SYNTHETIC` comment or `synthetic="true"`).
    pub synthetic: bool,
    pub assaults: Vec<EdAssault>,
}

impl EdSubmission {
    /// The unit a newer file replaces: site and reporting period.
    pub fn unit(&self) -> String {
        format!("ed/{}/{}..{}", self.site_code, self.period_start, self.period_end)
    }
}

/// One assault attendance. Times are local clock times as the department records them.
#[derive(Debug, Clone, PartialEq)]
pub struct EdAssault {
    pub arrival_at: Option<NaiveDateTime>,
    pub assault_at: NaiveDateTime,
    /// A code of [`codes::ASSAULT_METHODS`].
    pub method: String,
    pub method_other: Option<String>,
    /// A code of [`codes::LOCATION_TYPES`].
    pub location_type: String,
    pub location_description: Option<String>,
    pub age_band: Option<String>,
    pub sex: Option<String>,
}

/// The items of the data set, with their CSV column and XML element names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Field {
    SiteCode,
    PeriodStart,
    PeriodEnd,
    Arrival,
    AssaultAt,
    Method,
    MethodOther,
    LocationType,
    LocationDescription,
    AgeBand,
    Sex,
}

impl Field {
    pub(crate) const ALL: [Field; 11] = [
        Field::SiteCode,
        Field::PeriodStart,
        Field::PeriodEnd,
        Field::Arrival,
        Field::AssaultAt,
        Field::Method,
        Field::MethodOther,
        Field::LocationType,
        Field::LocationDescription,
        Field::AgeBand,
        Field::Sex,
    ];

    pub(crate) fn csv(self) -> &'static str {
        match self {
            Field::SiteCode => "site_code",
            Field::PeriodStart => "reporting_period_start",
            Field::PeriodEnd => "reporting_period_end",
            Field::Arrival => "arrival_datetime",
            Field::AssaultAt => "assault_datetime",
            Field::Method => "assault_method",
            Field::MethodOther => "assault_method_other",
            Field::LocationType => "assault_location_type",
            Field::LocationDescription => "assault_location_description",
            Field::AgeBand => "age_band",
            Field::Sex => "sex",
        }
    }

    pub(crate) fn xml(self) -> &'static str {
        match self {
            Field::SiteCode => "SiteCode",
            Field::PeriodStart => "ReportingPeriodStartDate",
            Field::PeriodEnd => "ReportingPeriodEndDate",
            Field::Arrival => "ArrivalDateTime",
            Field::AssaultAt => "AssaultDateTime",
            Field::Method => "AssaultMethod",
            Field::MethodOther => "AssaultMethodOtherDescription",
            Field::LocationType => "AssaultLocationType",
            Field::LocationDescription => "AssaultLocationDescription",
            Field::AgeBand => "AgeBand",
            Field::Sex => "Sex",
        }
    }
}

/// Longest free text accepted (location and method descriptions).
pub const MAX_FREE_TEXT: usize = 500;

/// Whether a file name is one the ED importer reads (`.csv` or `.xml`, optionally `.gz`).
pub fn is_ed_file_name(name: &str) -> bool {
    let name = name.strip_suffix(".gz").unwrap_or(name).to_ascii_lowercase();
    name.ends_with(".csv") || name.ends_with(".xml")
}

/// Reads and validates one ED file, CSV or XML by its extension.
pub fn read_ed_file(file: &SourceFile) -> Result<EdSubmission, IngestError> {
    let lower = file.logical_name().to_ascii_lowercase();
    if lower.ends_with(".csv") {
        csv::read(file)
    } else if lower.ends_with(".xml") {
        xml::read(file)
    } else {
        Err(IngestError::file(&file.name, "not an ED assault file: expected a .csv or .xml file"))
    }
}

/// The values of one assault as read, before validation.
#[derive(Debug, Default)]
pub(crate) struct RawAssault {
    pub arrival: Option<String>,
    pub assault_at: Option<String>,
    pub method: Option<String>,
    pub method_other: Option<String>,
    pub location_type: Option<String>,
    pub location_description: Option<String>,
    pub age_band: Option<String>,
    pub sex: Option<String>,
}

/// Builds the error for a field of the current record (a cell or an element).
pub(crate) type Blame<'a> = &'a dyn Fn(Field, String) -> IngestError;

fn non_empty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

pub(crate) fn parse_site_code(v: Option<&str>, blame: Blame) -> Result<String, IngestError> {
    let v = v.map(str::trim).unwrap_or_default();
    if v.is_empty() {
        return Err(blame(Field::SiteCode, "is missing".into()));
    }
    if !(3..=12).contains(&v.len()) || !v.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(blame(
            Field::SiteCode,
            format!("expected an ODS site code of 3 to 12 letters and digits, found {}", quoted(v)),
        ));
    }
    Ok(v.to_ascii_uppercase())
}

pub(crate) fn parse_date(field: Field, v: Option<&str>, blame: Blame) -> Result<NaiveDate, IngestError> {
    let v = v.map(str::trim).unwrap_or_default();
    if v.is_empty() {
        return Err(blame(field, "is missing".into()));
    }
    NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .map_err(|_| blame(field, format!("expected a date YYYY-MM-DD, found {}", quoted(v))))
}

fn parse_datetime(field: Field, v: &str, blame: Blame) -> Result<NaiveDateTime, IngestError> {
    const FORMATS: [&str; 4] = ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"];
    FORMATS.iter().find_map(|f| NaiveDateTime::parse_from_str(v, f).ok()).ok_or_else(|| {
        blame(field, format!("expected a date and time YYYY-MM-DDTHH:MM[:SS] (or a space for T), found {}", quoted(v)))
    })
}

fn coded(field: Field, v: Option<&str>, list: &[(&str, &str)], blame: Blame) -> Result<String, IngestError> {
    let Some(v) = v else { return Err(blame(field, "is missing".into())) };
    match list.iter().find(|(c, _)| c.eq_ignore_ascii_case(v)) {
        Some((c, _)) => Ok((*c).to_string()),
        None => {
            Err(blame(field, format!("{} is not a known code (expected one of {})", quoted(v), codes::codes(list))))
        }
    }
}

fn free_text(field: Field, v: Option<&str>, blame: Blame) -> Result<Option<String>, IngestError> {
    let Some(v) = v else { return Ok(None) };
    if v.chars().count() > MAX_FREE_TEXT {
        return Err(blame(field, format!("longer than {MAX_FREE_TEXT} characters")));
    }
    if identifiers::contains_nhs_number(v) {
        return Err(blame(
            field,
            "holds what looks like an NHS number (ten digits with a valid check digit); patient identifiers are \
             never accepted, so the whole file is refused: remove it at source and send the file again"
                .into(),
        ));
    }
    Ok(Some(v.to_string()))
}

/// Validates one assault against the submission's reporting period.
pub(crate) fn validate_assault(
    raw: &RawAssault,
    period: (NaiveDate, NaiveDate),
    blame: Blame,
) -> Result<EdAssault, IngestError> {
    let assault_at = match non_empty(&raw.assault_at) {
        Some(v) => parse_datetime(Field::AssaultAt, v, blame)?,
        None => return Err(blame(Field::AssaultAt, "is missing (it is mandatory)".into())),
    };
    // "Required" in ISB 1594: sent when known, so it may be empty.
    let arrival_at = non_empty(&raw.arrival).map(|v| parse_datetime(Field::Arrival, v, blame)).transpose()?;
    if let Some(arrival) = arrival_at {
        if arrival < assault_at {
            return Err(blame(Field::Arrival, format!("{arrival} is before the assault date and time {assault_at}")));
        }
    }
    // The attendance must fall in the reporting period: by arrival, else by assault date.
    let (when, field) = match arrival_at {
        Some(a) => (a.date(), Field::Arrival),
        None => (assault_at.date(), Field::AssaultAt),
    };
    if when < period.0 || when > period.1 {
        return Err(blame(field, format!("{when} is outside the reporting period {} to {}", period.0, period.1)));
    }
    let method = coded(Field::Method, non_empty(&raw.method), codes::ASSAULT_METHODS, blame)?;
    let method_other = free_text(Field::MethodOther, non_empty(&raw.method_other), blame)?;
    if method == codes::METHOD_OTHER && method_other.is_none() {
        return Err(blame(
            Field::MethodOther,
            format!("is needed when {} is {} (other)", Field::Method.csv(), codes::METHOD_OTHER),
        ));
    }
    let location_type = coded(Field::LocationType, non_empty(&raw.location_type), codes::LOCATION_TYPES, blame)?;
    let location_description = free_text(Field::LocationDescription, non_empty(&raw.location_description), blame)?;
    let age_band =
        non_empty(&raw.age_band).map(|v| coded(Field::AgeBand, Some(v), codes::AGE_BANDS, blame)).transpose()?;
    let sex = non_empty(&raw.sex).map(|v| coded(Field::Sex, Some(v), codes::SEXES, blame)).transpose()?;
    Ok(EdAssault { arrival_at, assault_at, method, method_other, location_type, location_description, age_band, sex })
}

pub(crate) fn check_period(start: NaiveDate, end: NaiveDate, blame: Blame) -> Result<(), IngestError> {
    if end < start {
        return Err(blame(Field::PeriodEnd, format!("{end} is before the reporting period start {start}")));
    }
    if (end - start).num_days() > 366 {
        return Err(blame(Field::PeriodEnd, format!("a reporting period of more than a year ({start} to {end})")));
    }
    Ok(())
}
