//! The one error type of ingest: where in which file, and why.
//!
//! Messages travel to web pages, API replies and the audit log, so they stay short whatever
//! the file holds: a value is quoted through [`quoted`] (at most [`EXCERPT_CHARS`]
//! characters, then `…` and its length in bytes), file and column names are cut the same
//! way, and messages of the libraries below (CSV, XML, JSON, zip) through [`brief`].

use std::fmt;

use crate::bounded::Breach;

/// Characters of a value quoted in a message.
pub const EXCERPT_CHARS: usize = 60;
/// Characters of a file name kept in a message (real names are under 60).
const FILE_NAME_CHARS: usize = 120;
/// Characters kept of a message from a library, which may quote input of any size.
const LIBRARY_MESSAGE_CHARS: usize = 300;

/// The first `max_chars` characters of `value` and whether it was cut. Cuts only at a
/// character boundary, so multi-byte UTF-8 stays whole.
fn cut(value: &str, max_chars: usize) -> (&str, bool) {
    match value.char_indices().nth(max_chars) {
        Some((at, _)) => (&value[..at], true),
        None => (value, false),
    }
}

/// `value` whole when it has at most [`EXCERPT_CHARS`] characters, else its first
/// [`EXCERPT_CHARS`] characters, `…` and its length: `aaa…aaa… (268435456 bytes)`.
pub fn excerpt(value: &str) -> String {
    excerpt_to(value, EXCERPT_CHARS)
}

/// [`excerpt`] with another number of characters.
pub fn excerpt_to(value: &str, max_chars: usize) -> String {
    match cut(value, max_chars) {
        (_, false) => value.to_string(),
        (head, true) => format!("{head}… ({} bytes)", value.len()),
    }
}

/// `value` in double quotes, with control characters escaped, cut like [`excerpt`]:
/// `"2025-13"`, or `"aaa…aaa…" (268435456 bytes)`.
pub fn quoted(value: &str) -> String {
    match cut(value, EXCERPT_CHARS) {
        (_, false) => format!("{value:?}"),
        (head, true) => format!("{:?} ({} bytes)", format!("{head}…"), value.len()),
    }
}

/// A library's message, cut to a few hundred characters (a parser's message may quote the
/// offending input whole).
pub fn brief(message: impl fmt::Display) -> String {
    excerpt_to(&message.to_string(), LIBRARY_MESSAGE_CHARS)
}

/// A message from a lower layer that quotes `value` whole (`found "…"`), with the value
/// requoted through [`quoted`]; any other message is cut by [`brief`].
pub(crate) fn requote(message: impl fmt::Display, value: &str) -> String {
    let message = message.to_string();
    let plain = format!("\"{value}\"");
    if message.contains(&plain) {
        message.replacen(&plain, &quoted(value), 1)
    } else {
        brief(message)
    }
}

/// Where a problem is: the file, and where known the line (1-based, the header is line 1)
/// and the column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: String,
    pub line: Option<u64>,
    pub column: Option<String>,
}

impl Location {
    /// A location with the file and column names cut to a message's length.
    pub fn new(file: &str, line: Option<u64>, column: Option<&str>) -> Location {
        Location { file: excerpt_to(file, FILE_NAME_CHARS), line, column: column.map(excerpt) }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(column) = &self.column {
            write!(f, ": column \"{column}\"")?;
        }
        Ok(())
    }
}

/// A file that cannot be imported, and why. Displays as
/// `2025-03-staffordshire-street.csv:812: column "Month": expected YYYY-MM, found "2025-13"`.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("{location}: {reason}")]
    Invalid { location: Location, reason: String },
    /// The file is over one of the [`Limits`](crate::Limits): too big once decompressed, too
    /// many rows, a field too long, nested too deep. Nothing of it is stored.
    #[error("{location}: {reason}")]
    TooLarge { location: Location, reason: String },
    #[error("{file}: cannot read: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
}

impl IngestError {
    /// A problem in one cell.
    pub fn cell(file: &str, line: u64, column: &str, reason: impl Into<String>) -> IngestError {
        IngestError::Invalid { location: Location::new(file, Some(line), Some(column)), reason: reason.into() }
    }

    /// A problem with a whole line (e.g. the wrong number of fields).
    pub fn line(file: &str, line: u64, reason: impl Into<String>) -> IngestError {
        IngestError::Invalid { location: Location::new(file, Some(line), None), reason: reason.into() }
    }

    /// A problem with the file as a whole (its name, its kind).
    pub fn file(file: &str, reason: impl Into<String>) -> IngestError {
        IngestError::Invalid { location: Location::new(file, None, None), reason: reason.into() }
    }

    /// A file as a whole over one of its limits (too many entries, features, services…;
    /// there is no one line to point at).
    pub fn file_too_large(file: &str, reason: impl Into<String>) -> IngestError {
        IngestError::too_large(Location::new(file, None, None), reason)
    }

    /// A file over one of its limits, at `location`.
    pub fn too_large(location: Location, reason: impl Into<String>) -> IngestError {
        IngestError::TooLarge { location, reason: reason.into() }
    }

    /// A read error; a limit reached while reading (see [`crate::bounded`]) becomes
    /// [`IngestError::TooLarge`] with its place.
    pub fn io(file: &str, source: std::io::Error) -> IngestError {
        match Breach::of_io(&source) {
            Some(breach) => breach.into_error(file),
            None => IngestError::Io { file: excerpt_to(file, FILE_NAME_CHARS), source },
        }
    }

    /// A library's error: a limit reached while it read becomes [`IngestError::TooLarge`],
    /// anything else the message `what (…)`, cut short, for the whole file or `line`.
    pub(crate) fn library(
        file: &str,
        line: Option<u64>,
        what: &str,
        err: &(dyn std::error::Error + 'static),
    ) -> IngestError {
        match Breach::find(err) {
            Some(breach) => breach.into_error(file),
            None => IngestError::Invalid {
                location: Location::new(file, line, None),
                reason: format!("{what} ({})", brief(err)),
            },
        }
    }

    /// Turns a JSON parser error into a located error: `what (…)` at its line, or the limit
    /// the reader below it reached.
    pub(crate) fn from_json(file: &str, err: serde_json::Error, what: &str) -> IngestError {
        if err.classify() == serde_json::error::Category::Io {
            return IngestError::io(file, err.into());
        }
        let line = (err.line() > 0).then_some(err.line() as u64);
        IngestError::Invalid { location: Location::new(file, line, None), reason: format!("{what} ({})", brief(err)) }
    }

    /// Turns a CSV reader error into a located error.
    pub(crate) fn from_csv(file: &str, err: csv::Error) -> IngestError {
        let line = err.position().map(|p| p.line());
        let located = |reason: String| IngestError::Invalid { location: Location::new(file, line, None), reason };
        match err.into_kind() {
            csv::ErrorKind::Io(source) => IngestError::io(file, source),
            csv::ErrorKind::Utf8 { err, .. } => located(format!("not valid UTF-8 text ({err})")),
            csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
                located(format!("expected {expected_len} fields, found {len}"))
            }
            other => located(format!("malformed CSV ({})", brief(format!("{other:?}")))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_values_are_quoted_whole() {
        assert_eq!(excerpt("2025-13"), "2025-13");
        assert_eq!(quoted("2025-13"), "\"2025-13\"");
        assert_eq!(quoted("a\nb"), "\"a\\nb\"", "control characters are escaped");
        let sixty = "x".repeat(60);
        assert_eq!(excerpt(&sixty), sixty, "sixty characters are not cut");
    }

    #[test]
    fn long_values_keep_sixty_characters_and_give_their_length() {
        let value = "a".repeat(1000);
        assert_eq!(excerpt(&value), format!("{}… (1000 bytes)", "a".repeat(60)));
        assert_eq!(quoted(&value), format!("\"{}…\" (1000 bytes)", "a".repeat(60)));
    }

    #[test]
    fn cuts_fall_on_character_boundaries() {
        // "é" is two bytes and "€" three: 59 ASCII letters then a multi-byte character must
        // keep that character whole as the 60th.
        let value = format!("{}€€€€", "a".repeat(59));
        assert_eq!(value.len(), 59 + 12);
        assert_eq!(excerpt(&value), format!("{}€… (71 bytes)", "a".repeat(59)));
        let accents = "é".repeat(100);
        let short = excerpt(&accents);
        assert!(short.starts_with(&"é".repeat(60)) && !short.starts_with(&"é".repeat(61)), "{short}");
        assert!(short.ends_with("… (200 bytes)"), "{short}");
    }

    #[test]
    fn messages_of_lower_layers_are_requoted() {
        let long = "x".repeat(500);
        let message = requote(format!("expected YYYY-MM, found \"{long}\""), &long);
        assert_eq!(message, format!("expected YYYY-MM, found \"{}…\" (500 bytes)", "x".repeat(60)));
        assert_eq!(requote("expected YYYY-MM, found \"2025-13\"", "2025-13"), "expected YYYY-MM, found \"2025-13\"");
        assert_eq!(requote("y".repeat(400), "z").chars().count(), 300 + "… (400 bytes)".chars().count());
    }

    #[test]
    fn a_huge_value_gives_a_short_message() {
        let huge = "9".repeat(8 << 20);
        let err = IngestError::cell("f.csv", 2, &huge, format!("expected a number, found {}", quoted(&huge)));
        let text = err.to_string();
        assert!(text.len() < 300, "{} bytes", text.len());
        assert!(text.contains("(8388608 bytes)"), "{text}");
    }
}
