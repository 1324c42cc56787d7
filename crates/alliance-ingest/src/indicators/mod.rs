//! Partner indicator series: periodic figures partners hold (school suspensions and
//! exclusions, youth justice first-time entrants, probation caseload, ambulance call-outs for
//! assault, hospital admissions for assault with a sharp object …), from CSV or Excel
//! (.xlsx). The format is documented in `docs/formats/indicators.md`.
//!
//! Columns (header names case-insensitive): `indicator`, `area_code` (or `area`), `period`,
//! `value`, and optionally `age_band` and `sex`. Every row is validated before anything is
//! stored; the first problem refuses the file, naming file, sheet (xlsx), row, column and
//! reason.
//!
//! Periods: `YYYY-MM` (a calendar month), `YYYY-Qn` (a calendar quarter, Q1 = January to
//! March), `YYYY/YY` (a UK financial year, April to March: `2024/25` is April 2024 to March
//! 2025).

mod workbook;

use std::collections::HashMap;

use crate::bounded::open_csv;
use crate::ed::identifiers::identifier_kind;
use crate::error::{quoted, Location};
use crate::{IngestError, SourceFile};

/// The columns accepted: (name, required).
pub const COLUMNS: &[(&str, bool)] =
    &[("indicator", true), ("area_code", true), ("period", true), ("value", true), ("age_band", false), ("sex", false)];

/// The largest magnitude of a value (a count, a rate, an amount in pence): a figure of
/// 10³⁰⁸ is a typing or unit error, and would be published as a 309-digit number.
pub const MAX_VALUE_MAGNITUDE: f64 = 1e12;

/// The kind of area a code names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AreaKind {
    Lsoa,
    Ward,
    District,
}

impl AreaKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AreaKind::Lsoa => "lsoa",
            AreaKind::Ward => "ward",
            AreaKind::District => "district",
        }
    }

    /// From a GSS code's entity prefix: E01/W01 LSOA, E05/W05 ward, E06/E07/E08/E09/W06 district.
    pub fn of_code(code: &str) -> Option<AreaKind> {
        // ASCII first: a hostile cell's multi-byte character must not be sliced through.
        if code.len() != 9 || !code.is_ascii() || !code[3..].chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        match &code[..3] {
            "E01" | "W01" => Some(AreaKind::Lsoa),
            "E05" | "W05" => Some(AreaKind::Ward),
            "E06" | "E07" | "E08" | "E09" | "W06" => Some(AreaKind::District),
            _ => None,
        }
    }
}

/// A period as given and the months it spans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    pub text: String,
    pub kind: &'static str,
    /// First month, YYYY-MM.
    pub start: String,
    /// Last month, YYYY-MM.
    pub end: String,
}

/// Parses `YYYY-MM`, `YYYY-Qn` or `YYYY/YY`.
pub fn parse_period(text: &str) -> Result<Period, String> {
    let t = text.trim();
    let bad = || format!("expected a period YYYY-MM, YYYY-Qn or a financial year YYYY/YY, found {}", quoted(t));
    let year = |s: &str| s.parse::<u32>().ok().filter(|y| (1900..=2200).contains(y) && s.len() == 4);
    if let Some((y, rest)) = t.split_once('/') {
        let y = year(y).ok_or_else(bad)?;
        let next: u32 = rest.parse().ok().filter(|_| rest.len() == 2).ok_or_else(bad)?;
        if next != (y + 1) % 100 {
            return Err(format!(
                "financial year {}: the second year must follow the first (e.g. {y}/{:02})",
                quoted(t),
                (y + 1) % 100
            ));
        }
        return Ok(Period {
            text: t.into(),
            kind: "financial-year",
            start: format!("{y}-04"),
            end: format!("{}-03", y + 1),
        });
    }
    let (y, rest) = t.split_once('-').ok_or_else(bad)?;
    let y = year(y).ok_or_else(bad)?;
    if let Some(q) = rest.strip_prefix('Q').or_else(|| rest.strip_prefix('q')) {
        let q: u32 = q.parse().ok().filter(|q| (1..=4).contains(q)).ok_or_else(bad)?;
        let first = 3 * (q - 1) + 1;
        return Ok(Period {
            text: format!("{y}-Q{q}"),
            kind: "quarter",
            start: format!("{y}-{first:02}"),
            end: format!("{y}-{:02}", first + 2),
        });
    }
    let m: u32 = rest.parse().ok().filter(|m| (1..=12).contains(m) && rest.len() == 2).ok_or_else(bad)?;
    Ok(Period { text: t.into(), kind: "month", start: format!("{y}-{m:02}"), end: format!("{y}-{m:02}") })
}

/// One validated value.
#[derive(Debug, Clone, PartialEq)]
pub struct IndicatorValue {
    pub indicator: String,
    pub area_code: String,
    pub area_kind: AreaKind,
    pub period: Period,
    /// '' for all ages.
    pub age_band: String,
    /// '' for all; else `male`, `female`, `other`, `unknown`.
    pub sex: String,
    pub value: f64,
}

/// Whether the indicator importer reads a file of this name (.csv, .csv.gz, .xlsx).
pub fn is_indicator_file_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let lower = lower.strip_suffix(".gz").unwrap_or(&lower);
    lower.ends_with(".csv") || lower.ends_with(".xlsx")
}

/// Where a cell is: the file (with its sheet for xlsx), the row (1-based), the column name.
struct Place<'a> {
    file: &'a str,
    sheet: Option<&'a str>,
}

impl Place<'_> {
    fn location(&self, row: Option<u64>, column: Option<&str>) -> Location {
        let mut location = Location::new(self.file, row, column);
        if let Some(sheet) = self.sheet {
            location.file = format!("{} [sheet {}]", location.file, quoted(sheet));
        }
        location
    }

    fn err(&self, row: u64, column: Option<&str>, reason: impl Into<String>) -> IngestError {
        IngestError::Invalid { location: self.location(Some(row), column), reason: reason.into() }
    }

    /// The refusal of a file over one of its limits.
    fn too_large(&self, row: Option<u64>, reason: impl Into<String>) -> IngestError {
        IngestError::too_large(self.location(row, None), reason)
    }
}

/// Column positions, from the header.
fn header_index(place: &Place, row: u64, header: &[String]) -> Result<Option<[Option<usize>; 6]>, IngestError> {
    let mut index = [None; 6];
    let normal: Vec<String> = header
        .iter()
        .map(|h| h.trim().trim_start_matches('\u{feff}').to_ascii_lowercase().replace([' ', '-'], "_"))
        .collect();
    if !normal.iter().any(|h| h == "indicator") {
        return Ok(None);
    }
    for (i, (raw, h)) in header.iter().zip(&normal).enumerate() {
        if h.is_empty() {
            continue;
        }
        if let Some(kind) = identifier_kind(raw) {
            return Err(place.err(
                row,
                Some(raw.trim()),
                format!(
                    "this column looks like {kind}; indicator files carry aggregate figures only, never personal data"
                ),
            ));
        }
        let h = if h == "area" { "area_code" } else { h.as_str() };
        match COLUMNS.iter().position(|(c, _)| *c == h) {
            Some(c) if index[c].is_some() => return Err(place.err(row, Some(h), "the column appears twice")),
            Some(c) => index[c] = Some(i),
            None => {
                return Err(place.err(
                    row,
                    Some(raw.trim()),
                    format!(
                        "not a column of the indicator format (accepted: {})",
                        COLUMNS.iter().map(|(c, _)| *c).collect::<Vec<_>>().join(", ")
                    ),
                ))
            }
        }
    }
    for (c, (name, required)) in COLUMNS.iter().enumerate() {
        if *required && index[c].is_none() {
            return Err(place.err(row, None, format!("the required column \"{name}\" is missing")));
        }
    }
    Ok(Some(index))
}

/// A cell as read: text, or a number from a spreadsheet.
enum Cell {
    Text(String),
    Number(f64),
}

impl Cell {
    fn text(&self) -> String {
        match self {
            Cell::Text(s) => s.trim().to_string(),
            Cell::Number(n) => format!("{n}"),
        }
    }
}

fn validate_row(
    place: &Place,
    row: u64,
    index: &[Option<usize>; 6],
    cells: &[Cell],
) -> Result<Option<IndicatorValue>, IngestError> {
    let get = |c: usize| index[c].and_then(|i| cells.get(i));
    if cells.iter().all(|c| c.text().is_empty()) {
        return Ok(None);
    }
    let text = |c: usize| get(c).map(Cell::text).unwrap_or_default();
    let indicator = text(0);
    if indicator.is_empty() {
        return Err(place.err(row, Some("indicator"), "is missing"));
    }
    if indicator.chars().count() > 100 {
        return Err(place.err(row, Some("indicator"), "longer than 100 characters"));
    }
    let area_code = text(1).to_ascii_uppercase();
    let Some(area_kind) = AreaKind::of_code(&area_code) else {
        return Err(place.err(
            row,
            Some("area_code"),
            format!(
                "expected an LSOA (E01/W01), ward (E05/W05) or district (E06-E09/W06) code, found {}",
                quoted(&area_code)
            ),
        ));
    };
    let period = match get(2) {
        Some(Cell::Text(s)) => parse_period(s).map_err(|r| place.err(row, Some("period"), r))?,
        Some(Cell::Number(n)) => {
            return Err(place.err(
                row,
                Some("period"),
                format!("found the number {n}: write periods as text (YYYY-MM, YYYY-Qn or YYYY/YY)"),
            ))
        }
        None => return Err(place.err(row, Some("period"), "is missing")),
    };
    let value = match get(3) {
        Some(Cell::Number(n)) => *n,
        Some(Cell::Text(s)) if s.trim().is_empty() => {
            return Err(place.err(row, Some("value"), "is missing (leave out rows with no figure)"))
        }
        Some(Cell::Text(s)) => s
            .trim()
            .replace(',', "")
            .parse::<f64>()
            .map_err(|_| place.err(row, Some("value"), format!("expected a number, found {}", quoted(s.trim()))))?,
        None => return Err(place.err(row, Some("value"), "is missing")),
    };
    if !value.is_finite() {
        return Err(place.err(row, Some("value"), "is not a finite number"));
    }
    if value.abs() > MAX_VALUE_MAGNITUDE {
        return Err(place.err(
            row,
            Some("value"),
            format!("is {value:e}, beyond the ±10¹² an indicator's figure can be: check the figure and its units"),
        ));
    }
    let age_band = text(4);
    if age_band.chars().count() > 20 {
        return Err(place.err(row, Some("age_band"), "longer than 20 characters"));
    }
    let sex = match text(5).to_ascii_lowercase().as_str() {
        "" | "all" | "persons" => String::new(),
        "m" | "male" | "1" => "male".into(),
        "f" | "female" | "2" => "female".into(),
        "other" => "other".into(),
        "unknown" | "not known" | "x" | "9" => "unknown".into(),
        other => {
            return Err(place.err(
                row,
                Some("sex"),
                format!("expected male, female, other, unknown or all (or empty), found {}", quoted(other)),
            ))
        }
    };
    Ok(Some(IndicatorValue { indicator, area_code, area_kind, period, age_band, sex, value }))
}

/// The values of a file as they are validated, indexed by their key (indicator, area,
/// period, age band, sex) to refuse a second value for the same key. The index holds a hash
/// and a position per value (about 50 bytes), not a copy of the key (about 250).
struct Values {
    values: Vec<IndicatorValue>,
    /// Key hash to the position of the first value with that hash.
    by_key: HashMap<u64, u32>,
    /// Where each value was read: the sheet (an index into `sheets`) and the row.
    at: Vec<(u32, u64)>,
    sheets: Vec<String>,
    hasher: std::collections::hash_map::RandomState,
}

impl Values {
    fn new() -> Values {
        Values {
            values: Vec::new(),
            by_key: HashMap::new(),
            at: Vec::new(),
            sheets: Vec::new(),
            hasher: std::collections::hash_map::RandomState::new(),
        }
    }

    fn same_key(a: &IndicatorValue, b: &IndicatorValue) -> bool {
        a.indicator == b.indicator
            && a.area_code == b.area_code
            && a.period.text == b.period.text
            && a.age_band == b.age_band
            && a.sex == b.sex
    }

    fn describe(&self, position: usize) -> String {
        let (sheet, row) = self.at[position];
        match self.sheets.get(sheet as usize) {
            Some(name) => format!("sheet {} row {row}", quoted(name)),
            None => format!("line {row}"),
        }
    }

    /// Adds a value read at `row` (of `sheet`, for a workbook), refusing a second value for
    /// the same key.
    fn add(&mut self, v: IndicatorValue, place: &Place, sheet: Option<&str>, row: u64) -> Result<(), IngestError> {
        use std::hash::BuildHasher;
        let hash = self.hasher.hash_one((&v.indicator, &v.area_code, &v.period.text, &v.age_band, &v.sex));
        let first = match self.by_key.get(&hash) {
            Some(&i) if Values::same_key(&self.values[i as usize], &v) => Some(i as usize),
            // Two keys with one hash: too rare to index, so look through the values.
            Some(_) => self.values.iter().position(|w| Values::same_key(w, &v)),
            None => None,
        };
        if let Some(first) = first {
            return Err(place.err(
                row,
                None,
                format!(
                    "a second value for {} in {} for {} (the first is at {})",
                    v.indicator,
                    v.area_code,
                    v.period.text,
                    self.describe(first)
                ),
            ));
        }
        let sheet = match sheet {
            Some(name) if self.sheets.last().map(String::as_str) == Some(name) => self.sheets.len() as u32 - 1,
            Some(name) => {
                self.sheets.push(name.to_string());
                self.sheets.len() as u32 - 1
            }
            None => u32::MAX,
        };
        self.by_key.entry(hash).or_insert(self.values.len() as u32);
        self.at.push((sheet, row));
        self.values.push(v);
        Ok(())
    }
}

/// Reads and validates a whole indicator file.
pub fn read_indicator_file(file: &SourceFile) -> Result<Vec<IndicatorValue>, IngestError> {
    read_indicator_file_checked(file, &mut |_| Ok(()))
}

/// A check of each value as soon as its row is read: `Err(reason)` stops the reading there.
pub type Accept<'a> = dyn FnMut(&IndicatorValue) -> Result<(), String> + 'a;

/// [`read_indicator_file`], showing each value to `accept` as soon as its row is validated
/// (the first row after the header), before the next row is read: the first value refused
/// stops the reading with an error naming its row and the `indicator` column. The importer
/// uses it to check who may supply each value's dataset, which only the rows tell, so a
/// partner's file for a dataset it does not supply is read no further than its first row.
pub fn read_indicator_file_checked(file: &SourceFile, accept: &mut Accept) -> Result<Vec<IndicatorValue>, IngestError> {
    let lower = file.logical_name().to_ascii_lowercase();
    if lower.ends_with(".xlsx") {
        workbook::read_xlsx(file, accept)
    } else {
        read_csv(file, accept)
    }
}

fn read_csv(file: &SourceFile, accept: &mut Accept) -> Result<Vec<IndicatorValue>, IngestError> {
    let place = Place { file: &file.name, sheet: None };
    let mut builder = ::csv::ReaderBuilder::new();
    builder.has_headers(false);
    let mut reader = open_csv(file.reader()?, file.limits(), builder, Some(b'#'), file.limits().max_held_rows);
    let mut index = None;
    let mut out = Values::new();
    for record in reader.records() {
        let record = record.map_err(|e| IngestError::from_csv(&file.name, e))?;
        let row = record.position().map(|p| p.line()).unwrap_or(0);
        let cells: Vec<String> = record.iter().map(str::to_string).collect();
        let Some(idx) = &index else {
            index = header_index(&place, row, &cells)?;
            if index.is_none() {
                return Err(place.err(
                    row,
                    None,
                    "expected a header row naming the columns indicator, area_code, period, value",
                ));
            }
            continue;
        };
        let cells: Vec<Cell> = cells.into_iter().map(Cell::Text).collect();
        if let Some(v) = validate_row(&place, row, idx, &cells)? {
            accept(&v).map_err(|reason| place.err(row, Some("indicator"), reason))?;
            out.add(v, &place, None, row)?;
        }
    }
    if out.values.is_empty() {
        return Err(IngestError::file(&file.name, "no values"));
    }
    Ok(out.values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods() {
        let p = parse_period("2024/25").unwrap();
        assert_eq!((p.kind, p.start.as_str(), p.end.as_str()), ("financial-year", "2024-04", "2025-03"));
        let p = parse_period("2025-Q3").unwrap();
        assert_eq!((p.kind, p.start.as_str(), p.end.as_str()), ("quarter", "2025-07", "2025-09"));
        let p = parse_period("2025-02").unwrap();
        assert_eq!((p.kind, p.start.as_str(), p.end.as_str()), ("month", "2025-02", "2025-02"));
        assert!(parse_period("2024/26").unwrap_err().contains("must follow"));
        assert!(parse_period("2025-13").is_err());
        assert!(parse_period("2025-Q5").is_err());
        assert!(parse_period("March 2025").is_err());
    }

    #[test]
    fn a_value_beyond_any_figure_is_refused_naming_its_line() {
        let text = "indicator,area_code,period,value\nSchool suspensions,E06000021,2025-Q1,1e308\n";
        let err = read_indicator_file(&SourceFile::from_bytes("v.csv", text.as_bytes().to_vec())).unwrap_err();
        assert!(err.to_string().starts_with("v.csv:2: column \"value\""), "{err}");
        assert!(err.to_string().contains("beyond"), "{err}");
        let ok = "indicator,area_code,period,value\nSchool suspensions,E06000021,2025-Q1,-1000000000000\n";
        assert!(read_indicator_file(&SourceFile::from_bytes("v.csv", ok.as_bytes().to_vec())).is_ok());
    }

    #[test]
    fn a_second_value_for_a_key_names_the_first() {
        let text = "indicator,area_code,period,value,sex\nx,E06000021,2025-03,1,f\nx,E06000021,2025-03,2,m\n\
                    x,E06000021,2025-03,3,female\n";
        let err = read_indicator_file(&SourceFile::from_bytes("i.csv", text.as_bytes().to_vec())).unwrap_err();
        assert_eq!(
            err.to_string(),
            "i.csv:4: a second value for x in E06000021 for 2025-03 (the first is at line 2)",
            "sex is part of the key: f and female are the same"
        );
    }

    #[test]
    fn area_kinds() {
        assert_eq!(AreaKind::of_code("E01014203"), Some(AreaKind::Lsoa));
        assert_eq!(AreaKind::of_code("E05012345"), Some(AreaKind::Ward));
        assert_eq!(AreaKind::of_code("E06000021"), Some(AreaKind::District));
        assert_eq!(AreaKind::of_code("E12000005"), None);
        assert_eq!(AreaKind::of_code("E0600002"), None);
    }

    /// Nine bytes with a two-byte character across byte 3: refused, not sliced through
    /// (the CI's fuzz target found this panic).
    #[test]
    fn non_ascii_codes_are_refused_not_sliced() {
        let code = "E \u{a1}N5{  ";
        assert_eq!(code.len(), 9);
        assert!(!code.is_char_boundary(3));
        assert_eq!(AreaKind::of_code(code), None);
        assert_eq!(AreaKind::of_code("E0\u{e9}01420"), None);
    }
}
