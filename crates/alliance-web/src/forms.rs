//! Forms and their errors, one model for every page (the GOV.UK error summary pattern):
//! a submitted form keeps what was typed, each error names the field it belongs to, and
//! the summary at the top of the page (`templates/error_summary.html`) links to each field.

use std::collections::HashMap;

use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header::CONTENT_TYPE;

/// One validation error: the field's id (the summary links to `#field`) and the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// One error on a field.
pub fn error(field: &str, message: impl Into<String>) -> FieldError {
    FieldError { field: field.to_string(), message: message.into() }
}

/// The errors of a form.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormErrors(pub Vec<FieldError>);

impl FormErrors {
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(error(field, message));
    }
    pub fn push(&mut self, e: FieldError) {
        self.0.push(e);
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// The message of the first error on `field`.
    pub fn get(&self, field: impl AsRef<str>) -> Option<&str> {
        self.0.iter().find(|e| e.field == field.as_ref()).map(|e| e.message.as_str())
    }
    pub fn has(&self, field: impl AsRef<str>) -> bool {
        self.get(field).is_some()
    }
}

impl From<Vec<FieldError>> for FormErrors {
    fn from(errors: Vec<FieldError>) -> FormErrors {
        FormErrors(errors)
    }
}

impl<'a> IntoIterator for &'a FormErrors {
    type Item = &'a FieldError;
    type IntoIter = std::slice::Iter<'a, FieldError>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// A submitted form, as text (so it can be shown back with its errors).
pub type FormValues = HashMap<String, String>;

/// The hidden field of an edit form that holds the version of the record it was opened on
/// (`alliance_db::versions`): a form sent after someone else's change is refused, not saved
/// over it.
pub const VERSION: &str = "version";

/// The version an edit form was opened on; `None` for a form without one (a script), which
/// edits whatever is current.
pub fn seen_version(values: &FormValues) -> Option<i64> {
    values.get(VERSION).and_then(|v| v.trim().parse().ok())
}

/// The hidden field of a form that creates a record, holding its one-time key: the same
/// form sent twice (a double click, two tabs) makes one record (`alliance_db::submissions`).
pub const SUBMISSION: &str = "submission";

/// Gives a creating form its one-time key, unless it already has one (shown again with its
/// errors, it keeps the key it was sent with).
pub fn ensure_submission_key(values: &mut FormValues) {
    if values.get(SUBMISSION).is_none_or(|k| k.trim().is_empty()) {
        values.insert(SUBMISSION.to_string(), crate::auth::random_token());
    }
}

/// The form value that carries `version` through an edit form.
pub fn version_value(version: i64) -> (String, String) {
    (VERSION.to_string(), version.to_string())
}

/// A form's values and its errors.
#[derive(Debug, Clone, Default)]
pub struct Form {
    pub values: FormValues,
    pub errors: Vec<FieldError>,
}

impl Form {
    pub fn new(values: FormValues) -> Form {
        Form { values, errors: Vec::new() }
    }
    pub fn with_errors(values: FormValues, errors: Vec<FieldError>) -> Form {
        Form { values, errors }
    }
    /// The value as typed (empty when absent).
    pub fn value(&self, name: &str) -> String {
        self.values.get(name).cloned().unwrap_or_default()
    }
    pub fn error(&self, name: &str) -> Option<String> {
        self.errors.iter().find(|e| e.field == name).map(|e| e.message.clone())
    }
    pub fn is(&self, name: &str, value: &str) -> bool {
        self.values.get(name).is_some_and(|v| v == value)
    }
    /// The trimmed value, `None` when empty.
    pub fn get(&self, name: &str) -> Option<String> {
        self.values.get(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
    }
}

/// A handler argument: the submitted URL-encoded form, with no errors yet (a repeated name
/// keeps its last value). A body that cannot be read is the 400 page of
/// [`crate::extract::Form`].
impl<S: Send + Sync> FromRequest<S> for Form {
    type Rejection = crate::PageError;

    async fn from_request(request: Request, state: &S) -> Result<Form, crate::PageError> {
        let crate::extract::Form(values) = crate::extract::Form::<FormValues>::from_request(request, state).await?;
        Ok(Form::new(values))
    }
}

/// A form's text fields and the file chosen in its `file` field (name, bytes), if any.
pub type WithFile = (FormValues, Option<(String, Vec<u8>)>);

/// Reads a form that may carry a file: `multipart/form-data` (the text fields and a `file`)
/// from the browser, or URL-encoded fields alone. The CSRF token was checked by the middleware
/// either way, and the body is bounded by the body limit. A body that cannot be read is the
/// form's problem, not the service's: the error is its text for the page.
pub async fn read_with_file(state: &crate::AppState, request: Request) -> Result<WithFile, String> {
    let multipart = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("multipart/form-data"));
    if !multipart {
        let axum::Form(values) =
            axum::Form::<FormValues>::from_request(request, state).await.map_err(|e| e.body_text())?;
        return Ok((values, None));
    }
    let mut form = Multipart::from_request(request, state).await.map_err(|e| e.body_text())?;
    let (mut values, mut file) = (FormValues::new(), None);
    while let Some(field) = form.next_field().await.map_err(|e| e.body_text())? {
        let name = field.name().unwrap_or_default().to_string();
        if name == "file" {
            // Only the name's last part: browsers may send a path.
            let file_name = field.file_name().unwrap_or_default().rsplit(['/', '\\']).next().unwrap_or("").to_string();
            let bytes = field.bytes().await.map_err(|e| e.body_text())?;
            if !file_name.is_empty() || !bytes.is_empty() {
                file = Some((file_name, bytes.to_vec()));
            }
        } else {
            values.insert(name, field.text().await.map_err(|e| e.body_text())?);
        }
    }
    Ok((values, file))
}

/// The parts of a GOV.UK date input (`govuk-date-input`): a date field `name` is typed as
/// `name-day`, `name-month` and `name-year` (`templates/fields.html`, macro `date`).
pub const DATE_PARTS: [&str; 3] = ["day", "month", "year"];

/// A month as typed: `3`, `03`, `March` or `Mar` (any case).
fn month_number(text: &str) -> Option<u32> {
    let t = text.trim().to_ascii_lowercase();
    if let Ok(n) = t.parse::<u32>() {
        return (1..=12).contains(&n).then_some(n);
    }
    if t.len() < 3 {
        return None;
    }
    // The whole name or its first three letters or more: `mar`, `sept`, `september`.
    alliance_core::format::MONTH_NAMES.iter().position(|m| m.to_ascii_lowercase().starts_with(&t)).map(|i| i as u32 + 1)
}

/// The date typed in a GOV.UK date input, as `YYYY-MM-DD`; `Ok(None)` when nothing was typed.
/// `label` is the field's name in an error message, starting with a capital (`Date the update
/// reports on`). Errors follow the GOV.UK pattern and are on the first part at fault
/// (`name-day`, `name-month`, `name-year`): "… must include a month", "Year must include 4
/// numbers", "… must be a real date".
pub fn parse_date_parts(
    name: &str,
    label: &str,
    day: &str,
    month: &str,
    year: &str,
) -> Result<Option<String>, FieldError> {
    let (d, m, y) = (day.trim(), month.trim(), year.trim());
    if d.is_empty() && m.is_empty() && y.is_empty() {
        return Ok(None);
    }
    let missing: Vec<&str> =
        [("day", d), ("month", m), ("year", y)].iter().filter(|(_, v)| v.is_empty()).map(|(p, _)| *p).collect();
    if let Some(first) = missing.first() {
        let list = match missing.as_slice() {
            [one] => format!("a {one}"),
            [a, b] => format!("a {a} and {b}"),
            _ => "a day, month and year".to_string(),
        };
        return Err(error(&format!("{name}-{first}"), format!("{label} must include {list}")));
    }
    if y.len() != 4 || !y.chars().all(|c| c.is_ascii_digit()) {
        return Err(error(&format!("{name}-year"), "Year must include 4 numbers"));
    }
    let real = || error(&format!("{name}-day"), format!("{label} must be a real date"));
    let day: u32 = d.parse().map_err(|_| real())?;
    let month =
        month_number(m).ok_or_else(|| error(&format!("{name}-month"), format!("{label} must be a real date")))?;
    let year: i32 = y.parse().map_err(|_| real())?;
    chrono::NaiveDate::from_ymd_opt(year, month, day).map(|d| Some(d.format("%Y-%m-%d").to_string())).ok_or_else(real)
}

impl Form {
    /// Reads the GOV.UK date inputs of `fields` (`(name, label, required)`): each date typed
    /// in parts becomes `name` = `YYYY-MM-DD` (empty when blank), so the handler reads it as
    /// one value; what was typed stays in the parts to be shown again. A form posted with
    /// the date as one `YYYY-MM-DD` value (an older form, a script) is left as it is.
    /// Returns the errors (a part missing, not a real date, a required date blank).
    pub fn read_dates(&mut self, fields: &[(&str, &str, bool)]) -> Vec<FieldError> {
        let mut errors = Vec::new();
        for (name, label, required) in fields {
            let keys: Vec<String> = DATE_PARTS.iter().map(|p| format!("{name}-{p}")).collect();
            if !keys.iter().any(|k| self.values.contains_key(k)) {
                continue;
            }
            let part = |k: &String| self.values.get(k).cloned().unwrap_or_default();
            match parse_date_parts(name, label, &part(&keys[0]), &part(&keys[1]), &part(&keys[2])) {
                Ok(Some(iso)) => {
                    self.values.insert(name.to_string(), iso);
                }
                Ok(None) => {
                    self.values.insert(name.to_string(), String::new());
                    if *required {
                        errors.push(error(&keys[0], format!("Enter the {}", lower_first(label))));
                    }
                }
                Err(e) => {
                    self.values.insert(name.to_string(), String::new());
                    errors.push(e);
                }
            }
        }
        errors
    }

    /// The error on a date input `name` (on the whole date or one of its parts).
    pub fn date_error(&self, name: &str) -> Option<String> {
        self.errors
            .iter()
            .find(|e| e.field == name || date_part_of(&e.field, name).is_some())
            .map(|e| e.message.clone())
    }

    /// Whether the part (`day`, `month`, `year`) of the date input `name` is at fault: the
    /// parts a "must include" error names, else every part of a date in error.
    pub fn date_part_error(&self, name: &str, part: &str) -> bool {
        match self.date_error(name) {
            None => false,
            Some(message) if message.contains("must include") => message.to_ascii_lowercase().contains(part),
            Some(_) => true,
        }
    }

    /// The part of a date input as typed, or taken from the whole `YYYY-MM-DD` value (a date
    /// already stored, or today's offered by default).
    pub fn date_part(&self, name: &str, part: &str) -> String {
        if let Some(v) = self.values.get(&format!("{name}-{part}")) {
            return v.clone();
        }
        let whole = self.values.get(name).map(|v| v.trim()).unwrap_or("");
        match chrono::NaiveDate::parse_from_str(whole, "%Y-%m-%d") {
            Ok(d) => {
                use chrono::Datelike;
                match part {
                    "day" => d.day().to_string(),
                    "month" => d.month().to_string(),
                    _ => d.year().to_string(),
                }
            }
            Err(_) => String::new(),
        }
    }
}

/// `Some(part)` when `field` is `name-part` of a date input.
fn date_part_of<'a>(field: &'a str, name: &str) -> Option<&'a str> {
    field.strip_prefix(name)?.strip_prefix('-').filter(|p| DATE_PARTS.contains(p))
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_lowercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gov_uk_date_inputs_read_and_name_the_part_at_fault() {
        let p = |d, m, y| parse_date_parts("due", "Due date", d, m, y);
        assert_eq!(p("31", "3", "2027"), Ok(Some("2027-03-31".into())));
        assert_eq!(p(" 1 ", "March", "2027"), Ok(Some("2027-03-01".into())));
        assert_eq!(p("1", "sept", "2027"), Ok(Some("2027-09-01".into())));
        assert_eq!(p("", "", ""), Ok(None));
        assert_eq!(p("31", "", "2027"), Err(error("due-month", "Due date must include a month")));
        assert_eq!(p("", "", "2027"), Err(error("due-day", "Due date must include a day and month")));
        assert_eq!(p("31", "3", "27"), Err(error("due-year", "Year must include 4 numbers")));
        assert_eq!(p("31", "2", "2027"), Err(error("due-day", "Due date must be a real date")));
        assert_eq!(p("1", "Smarch", "2027"), Err(error("due-month", "Due date must be a real date")));
        let mut form = Form::new(HashMap::from([
            ("due-day".to_string(), "31".to_string()),
            ("due-month".to_string(), "".to_string()),
            ("due-year".to_string(), "2027".to_string()),
            ("on-day".to_string(), "".to_string()),
            ("on-month".to_string(), "".to_string()),
            ("on-year".to_string(), "".to_string()),
            ("old".to_string(), "2025-01-02".to_string()),
        ]));
        let errors =
            form.read_dates(&[("due", "Due date", false), ("on", "Date of the meeting", true), ("old", "Old", true)]);
        assert_eq!(
            errors,
            vec![error("due-month", "Due date must include a month"), error("on-day", "Enter the date of the meeting")]
        );
        form.errors = errors;
        assert_eq!(form.date_part("due", "day"), "31", "what was typed is kept");
        assert!(form.date_part_error("due", "month") && !form.date_part_error("due", "day"));
        assert!(form.date_part_error("on", "year"));
        assert_eq!(form.value("old"), "2025-01-02", "a date posted whole is left as it is");
        assert_eq!(form.date_part("old", "month"), "1");
    }

    #[test]
    fn errors_are_found_by_field_and_values_kept_as_typed() {
        let mut errors = FormErrors::default();
        assert!(errors.is_empty());
        errors.add("title", "Enter a title");
        errors.add("title", "second");
        assert_eq!(errors.get("title"), Some("Enter a title"));
        assert!(!errors.has("due"));
        assert_eq!((&errors).into_iter().count(), 2);
        let form = Form::new(HashMap::from([("title".to_string(), "  Knife crime  ".to_string())]));
        assert_eq!(form.value("title"), "  Knife crime  ");
        assert_eq!(form.get("title").as_deref(), Some("Knife crime"));
        assert_eq!(form.get("missing"), None);
    }
}
