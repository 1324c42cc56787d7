//! Indicator workbooks (.xlsx), read cell by cell so a sheet's size costs nothing before it
//! is checked.
//!
//! `calamine`'s `worksheet_range` builds a dense rows × columns grid from the first to the
//! last used cell: a sheet with cells at A1 and XFD1048576 asks for 17 billion cells and the
//! process aborts. Here the sheet streams through calamine's cell reader instead; each
//! non-empty cell's position is checked against
//! [`Limits::max_sheet_rows`](crate::Limits::max_sheet_rows) and
//! [`Limits::max_columns`](crate::Limits::max_columns) before it is kept, and only one row is
//! held at a time (rows must come in order, as ECMA-376 requires and every spreadsheet
//! program writes them). Before calamine opens the workbook at all, the zip's declared part
//! sizes are checked (the zip reader refuses a part longer than it declares), and so is the
//! shared-string count calamine reserves memory for.

use std::io::{Cursor, Read};

use calamine::{DataRef, Reader, Xlsx, XlsxError};

use super::{header_index, validate_row, Accept, Cell, IndicatorValue, Place, Values};
use crate::bounded::Breach;
use crate::error::quoted;
use crate::limits::bytes;
use crate::{IngestError, Limits, SourceFile};

/// Bytes calamine reserves per shared string (a `String`).
const SHARED_STRING_BYTES: u64 = 24;

/// Parts a workbook may have (a real one has a few dozen); the zip reader holds a record of
/// each, so the count is checked before it reads them.
const MAX_PARTS: usize = 10_000;

/// The column letters of a 0-based column index: 0 is A, 16383 is XFD.
pub(crate) fn column_letters(col: u32) -> String {
    let mut n = u64::from(col) + 1;
    let mut letters = Vec::new();
    while n > 0 {
        let rem = ((n - 1) % 26) as u8;
        letters.push(b'A' + rem);
        n = (n - 1) / 26;
    }
    letters.reverse();
    String::from_utf8(letters).unwrap_or_default()
}

fn unreadable(file: &str, err: &(dyn std::error::Error + 'static)) -> IngestError {
    IngestError::library(file, None, "not a readable .xlsx workbook", err)
}

/// Checks the workbook's parts before calamine reads them: at most [`MAX_PARTS`] of them,
/// each at most [`Limits::max_document_bytes`] and all together at most
/// [`Limits::max_decompressed_bytes`] once unzipped, and a shared-string count that fits
/// [`Limits::max_document_bytes`]. Returns the size of the largest part.
fn check_parts(file: &str, bytes: &[u8], limits: &Limits) -> Result<u64, IngestError> {
    // Each part has a central directory record starting with this signature: counting them
    // bounds the parts (a chance match inside compressed data only counts one more).
    let records = bytes.windows(4).filter(|w| *w == b"PK\x01\x02").count();
    if records > MAX_PARTS {
        return Err(IngestError::file_too_large(
            file,
            format!("a workbook of more than {MAX_PARTS} parts; nothing of it was imported"),
        ));
    }
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| unreadable(file, &e))?;
    let mut largest = 0u64;
    let mut total = 0u64;
    let mut shared_strings = Vec::new();
    for i in 0..zip.len() {
        let entry = zip.by_index_data(i).map_err(|e| unreadable(file, &e))?;
        let part = String::from_utf8_lossy(entry.name_raw()).into_owned();
        if entry.size() > limits.max_document_bytes {
            return Err(IngestError::file_too_large(
                file,
                format!(
                    "the workbook part {} is larger than {} once unzipped (the largest accepted)",
                    quoted(&part),
                    crate::limits::bytes(limits.max_document_bytes)
                ),
            ));
        }
        total = total.saturating_add(entry.size());
        largest = largest.max(entry.size());
        if total > limits.max_decompressed_bytes {
            return Err(IngestError::file_too_large(
                file,
                format!(
                    "larger than {} once unzipped; nothing of it was imported",
                    crate::limits::bytes(limits.max_decompressed_bytes)
                ),
            ));
        }
        if part.to_ascii_lowercase().replace('\\', "/").ends_with("sharedstrings.xml") {
            shared_strings.push(i);
        }
    }
    for i in shared_strings {
        let part = zip.by_index(i).map_err(|e| unreadable(file, &e))?;
        if let Some(count) = shared_string_count(file, part)? {
            if count.saturating_mul(SHARED_STRING_BYTES) > limits.max_document_bytes {
                return Err(IngestError::file_too_large(
                    file,
                    format!(
                        "the workbook declares {count} shared strings, more than fit in {} (the largest accepted)",
                        crate::limits::bytes(limits.max_document_bytes)
                    ),
                ));
            }
        }
    }
    Ok(largest)
}

/// The `uniqueCount` of the shared-string table: the number calamine reserves space for.
/// Digits only are read (ignoring leading zeros), so no spelling slips past as small.
fn shared_string_count(file: &str, part: impl Read) -> Result<Option<u64>, IngestError> {
    let mut reader = quick_xml::Reader::from_reader(std::io::BufReader::new(part));
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match reader.read_event_into(&mut buf) {
            Ok(quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e))
                if e.local_name().as_ref() == "sst" =>
            {
                let mut count = None;
                for attr in e.attributes().flatten() {
                    if attr.key.local_name().as_ref() == "uniqueCount" {
                        let value: &str = attr.value.as_ref();
                        let digits: String = value
                            .trim_start_matches(|c: char| !c.is_ascii_digit() || c == '0')
                            .chars()
                            .take_while(char::is_ascii_digit)
                            .collect();
                        let n = if digits.len() > 15 { u64::MAX } else { digits.parse::<u64>().unwrap_or(0) };
                        count = Some(count.unwrap_or(0).max(n));
                    }
                }
                return Ok(count);
            }
            Ok(quick_xml::events::Event::Eof) => return Ok(None),
            Ok(_) => {}
            Err(e) => return Err(unreadable(file, &e)),
        }
    }
}

/// A cell's value as the indicator rows read it; text over the field limit is refused.
fn convert(place: &Place, row: u64, col: u32, value: &DataRef, limits: &Limits) -> Result<Cell, IngestError> {
    let text = |s: &str| {
        if s.len() as u64 > limits.max_field_bytes {
            return Err(place.too_large(
                Some(row),
                format!(
                    "cell {}{row}: text longer than {} (the longest accepted)",
                    column_letters(col),
                    bytes(limits.max_field_bytes)
                ),
            ));
        }
        Ok(Cell::Text(s.to_string()))
    };
    Ok(match value {
        DataRef::Empty => Cell::Text(String::new()),
        DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => text(s)?,
        DataRef::SharedString(s) => text(s)?,
        DataRef::Int(n) => Cell::Number(*n as f64),
        DataRef::Float(f) => Cell::Number(*f),
        DataRef::Bool(b) => Cell::Text(b.to_string()),
        DataRef::DateTime(_) => {
            return Err(place.err(
                row,
                None,
                format!(
                    "column {}: a date cell; write periods as text (YYYY-MM, YYYY-Qn or YYYY/YY)",
                    u64::from(col) + 1
                ),
            ))
        }
        DataRef::Error(e) => {
            return Err(place.err(row, None, format!("column {}: a cell error ({e})", u64::from(col) + 1)))
        }
    })
}

/// What one sheet's rows add up to while it streams.
struct SheetState<'a> {
    place: Place<'a>,
    index: Option<[Option<usize>; 6]>,
    /// The sheet has no header row naming the columns: not a data sheet (e.g. notes).
    not_data: bool,
}

/// Takes one complete row (1-based `row`) of a sheet: the header, or a value.
fn take_row(
    state: &mut SheetState,
    row: u64,
    cells: &[Cell],
    out: &mut Values,
    sheets_read: &mut u32,
    limits: &Limits,
    accept: &mut Accept,
) -> Result<(), IngestError> {
    let sheet = state.place.sheet.unwrap_or_default();
    let Some(idx) = &state.index else {
        if cells.iter().all(|c| c.text().is_empty()) {
            return Ok(());
        }
        let header: Vec<String> = cells.iter().map(Cell::text).collect();
        state.index = header_index(&state.place, row, &header)?;
        if state.index.is_none() {
            state.not_data = true;
        } else {
            *sheets_read += 1;
        }
        return Ok(());
    };
    if let Some(v) = validate_row(&state.place, row, idx, cells)? {
        accept(&v).map_err(|reason| state.place.err(row, Some("indicator"), reason))?;
        if out.values.len() as u64 >= limits.max_held_rows {
            return Err(state.place.too_large(
                Some(row),
                format!(
                    "more than {} values (the most accepted in one file); nothing of it was imported",
                    limits.max_held_rows
                ),
            ));
        }
        out.add(v, &state.place, Some(sheet), row)?;
    }
    Ok(())
}

pub(super) fn read_xlsx(file: &SourceFile, accept: &mut Accept) -> Result<Vec<IndicatorValue>, IngestError> {
    let name = file.name.as_str();
    let limits = file.limits();
    let mut content = Vec::new();
    file.reader_capped(limits.max_document_bytes, "for a workbook")?
        .read_to_end(&mut content)
        .map_err(|e| IngestError::io(name, e))?;
    let largest_part = check_parts(name, &content, limits)?;
    let mut workbook = Xlsx::new(Cursor::new(content)).map_err(|e: XlsxError| unreadable(name, &e))?;
    // Sheets may name the same part again and again: bound the reading they could ask for.
    let sheets = workbook.sheet_names();
    if (sheets.len() as u64).saturating_mul(largest_part) > limits.max_decompressed_bytes {
        return Err(IngestError::file_too_large(
            name,
            format!(
                "{} sheets of up to {} each: more than {} to read (the most accepted); nothing of it was imported",
                sheets.len(),
                bytes(largest_part),
                bytes(limits.max_decompressed_bytes)
            ),
        ));
    }
    let mut out = Values::new();
    let mut sheets_read = 0;
    for sheet in sheets {
        let mut cells_reader = match workbook.worksheet_cells_reader(&sheet) {
            Ok(reader) => reader,
            Err(XlsxError::NotAWorksheet(_)) => continue, // A chart sheet.
            Err(e) => return Err(unreadable(name, &e)),
        };
        let place = Place { file: name, sheet: Some(&sheet) };
        let mut state = SheetState { place, index: None, not_data: false };
        // The row being gathered (0-based) and its cells; the last column taken in it.
        let mut current: Option<u32> = None;
        let mut last_col: Option<u32> = None;
        let mut row_cells: Vec<Cell> = Vec::new();
        loop {
            let cell = match cells_reader.next_cell() {
                Ok(cell) => cell,
                Err(e) => {
                    let row = current.map(|r| u64::from(r) + 1);
                    return Err(match Breach::find(&e) {
                        Some(breach) => breach.into_error(name),
                        None => state.place.err(
                            row.unwrap_or(0),
                            None,
                            format!("the sheet cannot be read ({})", crate::error::brief(&e)),
                        ),
                    });
                }
            };
            let Some(cell) = cell else { break };
            if matches!(cell.get_value(), DataRef::Empty) {
                continue;
            }
            let (r, c) = cell.get_position();
            let (row, col) = (u64::from(r) + 1, u64::from(c) + 1);
            // The row before is taken (and each of its values checked) before this cell's
            // position is: a refusal of the file's first data row comes before its size.
            if let Some(cur) = current {
                if r < cur || (r == cur && last_col.is_some_and(|l| c <= l)) {
                    return Err(state.place.err(
                        row,
                        None,
                        format!("cell {}{row} comes out of order: the sheet's rows are not sorted", column_letters(c)),
                    ));
                }
                if r != cur {
                    take_row(&mut state, u64::from(cur) + 1, &row_cells, &mut out, &mut sheets_read, limits, accept)?;
                    row_cells.clear();
                    if state.not_data {
                        break;
                    }
                }
            }
            if row > limits.max_sheet_rows || col > limits.max_columns {
                return Err(state.place.too_large(
                    Some(row),
                    format!(
                        "cell {}{row} is outside the largest sheet accepted ({} columns, {} rows); \
                         nothing of it was imported",
                        column_letters(c),
                        limits.max_columns,
                        limits.max_sheet_rows
                    ),
                ));
            }
            current = Some(r);
            last_col = Some(c);
            while row_cells.len() < c as usize {
                row_cells.push(Cell::Text(String::new()));
            }
            row_cells.push(convert(&state.place, row, c, cell.get_value(), limits)?);
        }
        if let (Some(cur), false) = (current, state.not_data) {
            take_row(&mut state, u64::from(cur) + 1, &row_cells, &mut out, &mut sheets_read, limits, accept)?;
        }
    }
    if sheets_read == 0 {
        return Err(IngestError::file(
            name,
            "no sheet has a header row with the columns indicator, area_code, period, value",
        ));
    }
    if out.values.is_empty() {
        return Err(IngestError::file(name, "no values"));
    }
    Ok(out.values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_letters_follow_excel() {
        assert_eq!(column_letters(0), "A");
        assert_eq!(column_letters(25), "Z");
        assert_eq!(column_letters(26), "AA");
        assert_eq!(column_letters(701), "ZZ");
        assert_eq!(column_letters(702), "AAA");
        // XFD: (24 × 26 + 6) × 26 + 4 = 16,384 columns, index 16,383.
        assert_eq!(column_letters(16_383), "XFD");
    }
}
