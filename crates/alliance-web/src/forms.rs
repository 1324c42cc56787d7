//! Forms and their errors, one model for every page (the GOV.UK error summary pattern):
//! a submitted form keeps what was typed, each error names the field it belongs to, and
//! the summary at the top of the page (`templates/error_summary.html`) links to each field.

use std::collections::HashMap;

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

#[cfg(test)]
mod tests {
    use super::*;

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
