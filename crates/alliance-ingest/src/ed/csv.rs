//! ED assault files as CSV: one row per assault, the submission header repeated on every
//! row (site code and reporting period must be the same on all rows). Lines starting with
//! `#` before or between rows are comments; a comment containing `SYNTHETIC` marks the file
//! as synthetic.

use std::io::Read;

use super::{
    check_period, identifiers, parse_date, parse_site_code, validate_assault, EdSubmission, Field, RawAssault,
};
use crate::{IngestError, SourceFile};

/// The columns accepted, in the order the generator writes them, and whether each is required.
pub const CSV_COLUMNS: &[(&str, bool)] = &[
    ("site_code", true),
    ("reporting_period_start", true),
    ("reporting_period_end", true),
    ("arrival_datetime", true),
    ("assault_datetime", true),
    ("assault_method", true),
    ("assault_method_other", false),
    ("assault_location_type", true),
    ("assault_location_description", true),
    ("age_band", false),
    ("sex", false),
];

fn normalise_header(h: &str) -> String {
    h.trim().trim_start_matches('\u{feff}').trim().to_ascii_lowercase().replace([' ', '-'], "_")
}

pub(crate) fn read(file: &SourceFile) -> Result<EdSubmission, IngestError> {
    let name = file.name.as_str();
    let mut text = String::new();
    file.reader()?.read_to_string(&mut text).map_err(|e| match e.kind() {
        std::io::ErrorKind::InvalidData => IngestError::file(name, "not valid UTF-8 text"),
        _ => IngestError::io(name, e),
    })?;
    let synthetic =
        text.lines().any(|l| l.trim_start().starts_with('#') && l.to_ascii_uppercase().contains("SYNTHETIC"));

    let mut reader =
        ::csv::ReaderBuilder::new().has_headers(true).comment(Some(b'#')).flexible(false).from_reader(text.as_bytes());
    let header = reader.headers().map_err(|e| IngestError::from_csv(name, e))?.clone();
    // The header is the first line that is neither a comment nor blank.
    let header_line =
        text.lines().position(|l| !l.starts_with('#') && !l.trim().is_empty()).map_or(1, |i| i as u64 + 1);
    let names: Vec<String> = header.iter().map(normalise_header).collect();
    // Identifiers first: the most important refusal, whatever else is wrong.
    for (raw, _) in header.iter().zip(&names) {
        if let Some(kind) = identifiers::identifier_kind(raw) {
            return Err(IngestError::cell(
                name,
                header_line,
                raw.trim(),
                format!(
                    "this column looks like {kind}; patient identifiers are never accepted, so the whole file is \
                     refused: remove the column at source and send the file again"
                ),
            ));
        }
    }
    let mut index = [None; 11];
    for (i, n) in names.iter().enumerate() {
        match Field::ALL.iter().position(|f| f.csv() == n) {
            Some(f) if index[f].is_some() => {
                return Err(IngestError::cell(name, header_line, n, "the column appears twice"));
            }
            Some(f) => index[f] = Some(i),
            None => {
                return Err(IngestError::cell(
                    name,
                    header_line,
                    header.get(i).unwrap_or_default().trim(),
                    format!(
                        "not a column of the ED assault format (accepted: {})",
                        CSV_COLUMNS.iter().map(|(c, _)| *c).collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
        }
    }
    for (f, (col, required)) in Field::ALL.iter().zip(CSV_COLUMNS) {
        debug_assert_eq!(f.csv(), *col);
        if *required && index[*f as usize].is_none() {
            return Err(IngestError::line(name, header_line, format!("the required column \"{col}\" is missing")));
        }
    }

    let mut header_values: Option<(String, chrono::NaiveDate, chrono::NaiveDate)> = None;
    let mut assaults = Vec::new();
    let mut record = ::csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(IngestError::from_csv(name, e)),
        }
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        let get = |f: Field| index[f as usize].and_then(|i| record.get(i)).map(str::to_string);
        let blame = |f: Field, reason: String| IngestError::cell(name, line, f.csv(), reason);
        let site = parse_site_code(get(Field::SiteCode).as_deref(), &blame)?;
        let start = parse_date(Field::PeriodStart, get(Field::PeriodStart).as_deref(), &blame)?;
        let end = parse_date(Field::PeriodEnd, get(Field::PeriodEnd).as_deref(), &blame)?;
        match &header_values {
            None => {
                check_period(start, end, &blame)?;
                header_values = Some((site, start, end));
            }
            Some((s0, a0, b0)) => {
                if *s0 != site {
                    return Err(blame(Field::SiteCode, format!("{site} differs from {s0} on earlier rows")));
                }
                if (*a0, *b0) != (start, end) {
                    return Err(blame(
                        Field::PeriodStart,
                        format!("reporting period {start} to {end} differs from {a0} to {b0} on earlier rows"),
                    ));
                }
            }
        }
        let period = header_values.as_ref().map(|(_, a, b)| (*a, *b)).unwrap_or((start, end));
        let raw = RawAssault {
            arrival: get(Field::Arrival),
            assault_at: get(Field::AssaultAt),
            method: get(Field::Method),
            method_other: get(Field::MethodOther),
            location_type: get(Field::LocationType),
            location_description: get(Field::LocationDescription),
            age_band: get(Field::AgeBand),
            sex: get(Field::Sex),
        };
        assaults.push(validate_assault(&raw, period, &blame)?);
    }
    let Some((site_code, period_start, period_end)) = header_values else {
        return Err(IngestError::file(
            name,
            "no assaults: a CSV file carries its site code and reporting period on its rows, so it needs at least \
             one (send a period without assaults as XML)",
        ));
    };
    Ok(EdSubmission { site_code, period_start, period_end, synthetic, assaults })
}
