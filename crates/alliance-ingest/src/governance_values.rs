//! Values of the performance framework's entered indicators, uploaded as CSV with the
//! header `code,period,value[,note]`: the indicator's code, the quarter (`2025Q3`) or, for a
//! monthly indicator, the month (`2025-08`), the
//! value as a plain number, and an optional note. Whether each code names an entered (not
//! computed) indicator is the storage crate's check (`Db::enter_indicator_values_from`, which
//! names the line too); this module checks the shape.

use alliance_core::governance::Quarter;

use crate::bounded::open_csv;
use crate::error::{brief, quoted, requote};
use crate::limits::bytes;
use crate::{IngestError, Limits};

/// One uploaded value: (indicator code, period, value, note).
pub type UploadedValue = (String, String, f64, String);

/// Parses the whole text, stopping at the first bad line with its number and column.
pub fn parse_indicator_values(file: &str, text: &str) -> Result<Vec<UploadedValue>, IngestError> {
    Ok(parse_numbered_indicator_values(file, text)?.into_iter().map(|(_, v)| v).collect())
}

/// [`parse_indicator_values`], with each value's line in the text (the header is line 1), so
/// a later check can name the line too. Periods come out as `2025Q3` whatever the spelling.
pub fn parse_numbered_indicator_values(file: &str, text: &str) -> Result<Vec<(u64, UploadedValue)>, IngestError> {
    parse_numbered_indicator_values_with_limits(file, text, &Limits::default())
}

/// [`parse_numbered_indicator_values`] within other [`Limits`]: the text at most
/// `max_document_bytes`, at most `max_held_rows` values, fields and lines bounded as for
/// any CSV.
pub fn parse_numbered_indicator_values_with_limits(
    file: &str,
    text: &str,
    limits: &Limits,
) -> Result<Vec<(u64, UploadedValue)>, IngestError> {
    if text.len() as u64 > limits.max_document_bytes {
        return Err(IngestError::file_too_large(
            file,
            format!(
                "larger than {} (the largest accepted); nothing of it was imported",
                bytes(limits.max_document_bytes)
            ),
        ));
    }
    let text = text.trim_start_matches('\u{feff}');
    let mut builder = csv::ReaderBuilder::new();
    builder.flexible(true).trim(csv::Trim::All);
    let mut reader = open_csv(text.as_bytes(), limits, builder, None, limits.max_held_rows);
    let headers = reader.headers().map_err(|e| match e.kind() {
        csv::ErrorKind::Io(_) => IngestError::from_csv(file, e),
        _ => IngestError::line(file, 1, format!("cannot read the header: {}", brief(e))),
    })?;
    let names: Vec<String> = headers.iter().map(|h| h.to_ascii_lowercase()).collect();
    let col = |name: &str| names.iter().position(|h| h == name);
    let (Some(code_at), Some(period_at), Some(value_at)) = (col("code"), col("period"), col("value")) else {
        return Err(IngestError::line(
            file,
            1,
            "the header must name the columns code, period and value (note is optional)",
        ));
    };
    let note_at = col("note");
    let mut out = Vec::new();
    for (i, record) in reader.records().enumerate() {
        // Counting records is not counting lines: the reader skips blank lines.
        let guess = i as u64 + 2;
        let record = record.map_err(|e| {
            let line = e.position().map_or(guess, |p| line_at(text, p.byte()));
            match e.kind() {
                csv::ErrorKind::Io(_) => IngestError::from_csv(file, e),
                _ => IngestError::line(file, line, format!("cannot read the line: {}", brief(e))),
            }
        })?;
        let line = record.position().map_or(guess, |p| line_at(text, p.byte()));
        if record.iter().all(str::is_empty) {
            continue;
        }
        let get = |at: usize| record.get(at).unwrap_or("").to_string();
        let code = get(code_at);
        if code.is_empty() {
            return Err(IngestError::cell(file, line, "code", "the indicator code is empty"));
        }
        let period = get(period_at);
        if period.is_empty() {
            return Err(IngestError::cell(file, line, "period", "the period is empty: expected a quarter like 2025Q3"));
        }
        // A quarter, or a month for a monthly indicator (which the storage checks against
        // the indicator's frequency).
        let period = match period.parse::<Quarter>() {
            Ok(q) => q.to_string(),
            Err(e) => match period.trim().parse::<alliance_core::domain::Month>() {
                Ok(m) => m.to_string(),
                Err(_) => return Err(IngestError::cell(file, line, "period", requote(e, &period))),
            },
        };
        let text = get(value_at);
        let value: f64 = text
            .replace(',', "")
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite())
            .ok_or_else(|| IngestError::cell(file, line, "value", format!("{} is not a number", quoted(&text))))?;
        out.push((line, (code, period, value, note_at.map(get).unwrap_or_default())));
    }
    if out.is_empty() {
        return Err(IngestError::line(file, 2, "there are no values under the header"));
    }
    Ok(out)
}

/// The line (from 1) of the record the reader started at byte `at`: a record's position is
/// where the reader began, before the blank lines it skipped, so those are stepped over.
fn line_at(text: &str, at: u64) -> u64 {
    let bytes = text.as_bytes();
    let mut start = usize::try_from(at).unwrap_or(bytes.len()).min(bytes.len());
    while start < bytes.len() && matches!(bytes[start], b'\n' | b'\r') {
        start += 1;
    }
    1 + bytes[..start].iter().filter(|b| **b == b'\n').count() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_values_and_names_the_bad_cell() {
        let ok =
            parse_indicator_values("v.csv", "code,period,value,note\npeople-reached,2025Q3,430,\"late, partial\"\n")
                .unwrap();
        assert_eq!(ok, vec![("people-reached".into(), "2025Q3".into(), 430.0, "late, partial".into())]);
        let err = parse_indicator_values("v.csv", "code,period,value\na,2025Q3,1\nb,2025Q3,lots\n").unwrap_err();
        assert_eq!(err.to_string(), "v.csv:3: column \"value\": \"lots\" is not a number");
        assert!(parse_indicator_values("v.csv", "indicator,when\n").is_err());
        // Lines count the header and blank lines; periods are checked and written one way.
        let numbered =
            parse_numbered_indicator_values("v.csv", "code,period,value\r\n\r\na,2025-q3,1\r\n\nb,2025Q4,2").unwrap();
        assert_eq!(
            numbered,
            vec![
                (3, ("a".into(), "2025Q3".into(), 1.0, String::new())),
                (5, ("b".into(), "2025Q4".into(), 2.0, String::new()))
            ]
        );
        let err = parse_indicator_values("v.csv", "code,period,value\n\n\na,2025Q3,x\n").unwrap_err();
        assert!(err.to_string().starts_with("v.csv:4: column \"value\""), "{err}");
        // A monthly indicator's value is for a month.
        let monthly = parse_indicator_values("v.csv", "code,period,value\nsessions,2025-08,12\n").unwrap();
        assert_eq!(monthly[0].1, "2025-08");
        let err = parse_indicator_values("v.csv", "code,period,value\na,2025Q5,1\n").unwrap_err();
        assert!(err.to_string().starts_with("v.csv:2: column \"period\": \"2025Q5\" is not a quarter"), "{err}");
    }
}
