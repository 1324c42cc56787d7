//! The one CSV writer of every export (web downloads, API tables, command-line output):
//! RFC 4180 text with CRLF line ends and quotes where a field needs them, from the `csv`
//! crate.
//!
//! **Formula neutralisation.** A spreadsheet opening a CSV file runs any cell that begins
//! with `=`, `+`, `-`, `@`, a tab or a carriage return as a formula (CSV injection; OWASP),
//! so such a cell gets a leading apostrophe, which spreadsheets show as text. A cell that is
//! a plain number (`-12`, `+3.5`) is left as it is: it cannot be a formula, and figures must
//! stay numbers.

use std::io;

/// Where a CSV file is written row by row.
pub struct CsvWriter<W: io::Write> {
    inner: csv::Writer<W>,
}

impl<W: io::Write> CsvWriter<W> {
    /// A writer whose first row is `header`.
    pub fn new(out: W, header: &[&str]) -> io::Result<CsvWriter<W>> {
        let mut inner = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(out);
        inner.write_record(header.iter().map(|h| neutralise(h).into_owned())).map_err(into_io)?;
        Ok(CsvWriter { inner })
    }

    /// Writes one row.
    pub fn row<I, S>(&mut self, fields: I) -> io::Result<()>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.inner.write_record(fields.into_iter().map(|f| neutralise(f.as_ref()).into_owned())).map_err(into_io)
    }

    /// Flushes and returns the destination.
    pub fn finish(self) -> io::Result<W> {
        self.inner.into_inner().map_err(|e| e.into_error())
    }
}

/// A whole table as CSV text.
pub fn to_string<R, S>(header: &[&str], rows: impl IntoIterator<Item = R>) -> String
where
    R: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut out = Vec::new();
    // Writing to memory cannot fail (only the destination's I/O could).
    if let Ok(mut w) = CsvWriter::new(&mut out, header) {
        for row in rows {
            let _ = w.row(row);
        }
        let _ = w.finish();
    }
    String::from_utf8(out).unwrap_or_default()
}

/// The cell as written: with a leading apostrophe when a spreadsheet would run it.
pub fn neutralise(cell: &str) -> std::borrow::Cow<'_, str> {
    let risky = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if risky && cell.trim().parse::<f64>().is_err() {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

/// A figure as a page shows it, grouped in thousands (`1,112,305`, `-1,234.5`), in the plain
/// form a CSV file needs (`1112305`, `-1234.5`): spreadsheets and analysis tools read a
/// grouped figure, quoted for its commas, as text. Anything else (`no data`, `12.3%`,
/// `fewer than 5`, `Stoke, North`) is returned as it is.
pub fn plain_number(cell: &str) -> std::borrow::Cow<'_, str> {
    let unsigned = cell.strip_prefix('-').unwrap_or(cell);
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let mut groups = whole.split(',');
    let first = groups.next().unwrap_or("");
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    let grouped = whole.contains(',')
        && digits(first)
        && first.len() <= 3
        && groups.all(|g| g.len() == 3 && digits(g))
        && (fraction.is_empty() && !unsigned.ends_with('.') || digits(fraction));
    if grouped {
        std::borrow::Cow::Owned(cell.replace(',', ""))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

fn into_io(e: csv::Error) -> io::Error {
    io::Error::other(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_end_with_crlf_and_fields_are_quoted_when_needed() {
        let text = to_string(&["area", "count"], [vec!["Stoke, North", "12"], vec!["say \"hi\"", "3"]]);
        assert_eq!(text, "area,count\r\n\"Stoke, North\",12\r\n\"say \"\"hi\"\"\",3\r\n");
    }

    #[test]
    fn grouped_figures_become_plain_numbers() {
        for (shown, plain) in [
            ("1,112,305", "1112305"),
            ("1,000", "1000"),
            ("-1,234,567", "-1234567"),
            ("12,345.6", "12345.6"),
            ("999", "999"),
            ("0.0", "0.0"),
            ("-3.5", "-3.5"),
            // Not a grouped figure: left as it is.
            ("1,23", "1,23"),
            ("1234,567", "1234,567"),
            (",123", ",123"),
            ("1,234.", "1,234."),
            ("Stoke, North", "Stoke, North"),
            ("12.3%", "12.3%"),
            ("no data", "no data"),
            ("fewer than 5", "fewer than 5"),
            ("", ""),
        ] {
            assert_eq!(plain_number(shown), plain, "{shown:?}");
        }
    }

    #[test]
    fn formulas_are_neutralised_and_numbers_kept() {
        assert_eq!(neutralise("=HYPERLINK(\"http://x\")"), "'=HYPERLINK(\"http://x\")");
        assert_eq!(neutralise("+cmd"), "'+cmd");
        assert_eq!(neutralise("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(neutralise("\t=1"), "'\t=1");
        assert_eq!(neutralise("-12"), "-12");
        assert_eq!(neutralise("+3.5"), "+3.5");
        assert_eq!(neutralise("-"), "'-");
        assert_eq!(neutralise("Robbery"), "Robbery");
        let text = to_string(&["name"], [vec!["=1+1"]]);
        assert_eq!(text, "name\r\n'=1+1\r\n");
    }
}
