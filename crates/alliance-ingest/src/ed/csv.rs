//! ED assault files as CSV: one row per assault, the submission header repeated on every
//! row (site code and reporting period must be the same on all rows). Lines starting with
//! `#` before or between rows are comments; a comment containing `SYNTHETIC` marks the file
//! as synthetic.
//!
//! The file streams through the CSV reader (bounded by the file's [`Limits`](crate::Limits));
//! only the validated assaults are held, at most
//! [`Limits::max_held_rows`](crate::Limits::max_held_rows) of them.

use std::io::{self, Read};

use super::{
    check_period, identifiers, parse_date, parse_site_code, validate_assault, EdSubmission, Field, RawAssault,
};
use crate::bounded::open_csv;
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
    let mut builder = ::csv::ReaderBuilder::new();
    builder.has_headers(true).flexible(false);
    let limits = file.limits();
    let mut reader = open_csv(CommentWatch::new(file.reader()?), limits, builder, Some(b'#'), limits.max_held_rows);
    let header = reader.headers().map_err(|e| IngestError::from_csv(name, e))?.clone();
    let header_line = reader.get_ref().get_ref().header_line.unwrap_or(1);
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
                let column = header.get(i).unwrap_or_default().trim();
                return Err(IngestError::cell(
                    name,
                    header_line,
                    column,
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
    while reader.read_record(&mut record).map_err(|e| IngestError::from_csv(name, e))? {
        let line = record.position().map_or(0, |p| p.line());
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
    let synthetic = reader.get_ref().get_ref().synthetic;
    let Some((site_code, period_start, period_end)) = header_values else {
        return Err(IngestError::file(
            name,
            "no assaults: a CSV file carries its site code and reporting period on its rows, so it needs at least \
             one (send a period without assaults as XML)",
        ));
    };
    Ok(EdSubmission { site_code, period_start, period_end, synthetic, assaults })
}

/// Watches the lines of an ED CSV as they stream to the CSV reader, for what the reader
/// drops: a `#` comment line saying SYNTHETIC (after any spaces), and the line of the header
/// (the first that is neither blank nor a comment).
pub(crate) struct CommentWatch<R> {
    inner: R,
    line: u64,
    offset: u64,
    line_started: bool,
    only_spaces: bool,
    in_comment: bool,
    matched: usize,
    pub synthetic: bool,
    pub header_line: Option<u64>,
}

const MARK: &[u8] = b"SYNTHETIC";
const BOM: &[u8] = b"\xEF\xBB\xBF";

impl<R: Read> CommentWatch<R> {
    pub fn new(inner: R) -> CommentWatch<R> {
        CommentWatch {
            inner,
            line: 1,
            offset: 0,
            line_started: false,
            only_spaces: true,
            in_comment: false,
            matched: 0,
            synthetic: false,
            header_line: None,
        }
    }

    fn watch(&mut self, b: u8) {
        let at = self.offset;
        self.offset += 1;
        if at < 3 && !self.line_started && BOM[at as usize] == b {
            return; // The byte-order mark the CSV reader strips too.
        }
        if b == b'\n' {
            self.line += 1;
            (self.line_started, self.only_spaces, self.in_comment, self.matched) = (false, true, false, 0);
            return;
        }
        if !self.line_started {
            self.line_started = true;
            if b != b'#' && b != b'\r' && self.header_line.is_none() {
                self.header_line = Some(self.line);
            }
        }
        if self.only_spaces {
            if matches!(b, b' ' | b'\t' | b'\r') {
                return;
            }
            self.only_spaces = false;
            self.in_comment = b == b'#';
            return;
        }
        if self.in_comment && !self.synthetic {
            let up = b.to_ascii_uppercase();
            self.matched = if up == MARK[self.matched] { self.matched + 1 } else { usize::from(up == MARK[0]) };
            self.synthetic = self.matched == MARK.len();
        }
    }
}

impl<R: Read> Read for CommentWatch<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        for &b in &buf[..n] {
            self.watch(b);
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn watch(text: &str) -> (bool, Option<u64>) {
        let mut w = CommentWatch::new(text.as_bytes());
        io::copy(&mut w, &mut io::sink()).unwrap();
        (w.synthetic, w.header_line)
    }

    #[test]
    fn finds_the_synthetic_mark_and_the_header_line() {
        assert_eq!(watch("# made up: Synthetic data\nsite_code\n"), (true, Some(2)));
        assert_eq!(watch("\u{feff}# note\n\n  # SYNTHETIC\nsite_code\n"), (true, Some(3)));
        assert_eq!(watch("site_code\n# SYNTHETIC at the end\n"), (true, Some(1)));
        assert_eq!(watch("# SYNTHESIS\nsite_code,SYNTHETIC\n"), (false, Some(2)), "only comments mark a file");
        assert_eq!(watch("# SSYNTHETIC\n"), (true, None));
    }
}
