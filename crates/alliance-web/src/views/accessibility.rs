//! The accessibility statement (`/accessibility`) with the partnership's contact.
//!
//! The statement's text is `public/accessibility.html`; `public/accessibility_statement.html`
//! extends it with the contact the profile gives, so the public is told whom to write to
//! rather than an office the partnership may not have.

use askama::Template;

use super::public::PublicLayout;

#[derive(Template)]
#[template(path = "public/accessibility_statement.html")]
pub struct AccessibilityStatement {
    pub layout: PublicLayout,
    /// The profile's `contact_email`, when it gives one.
    pub contact_email: Option<String>,
    /// The profile's `contact_phone`, when it gives one.
    pub contact_phone: Option<String>,
}
