//! Abuse protection for the public forms without storing IP addresses.
//!
//! Each form counts its submissions per client in the database (`auth::throttle`: the
//! client is its address group, known only by a keyed hash that changes every UTC day), so
//! every server on one database shares the allowance, and behind a proxy named with
//! `alliance serve --trusted-proxy` each visitor has their own. Two limits per form:
//! `PUBLIC_FORM_ACCEPTED` stored submissions an hour, and `PUBLIC_FORM_ANY` submissions an
//! hour, valid or not, so a script cannot probe the form's checks without end (both in
//! `auth::throttle`). A refused submission gets a
//! 429 page and is not stored; an accepted one is stored (committed) before the response
//! is sent, so none acknowledged is lost. Forms also carry a honeypot field that people
//! never see (hidden from sight and from screen readers): a submission that fills it is
//! thanked and dropped.

use crate::auth::throttle::{Limit, PUBLIC_FORM_ACCEPTED, PUBLIC_FORM_ANY, PUBLIC_FORM_WINDOW};

/// The name of the honeypot field.
pub const HONEYPOT: &str = "website";

/// The public forms, each with its two limits.
#[derive(Debug, Clone, Copy)]
pub enum PublicForm {
    UnsafeReport,
    CharterJoin,
}

impl PublicForm {
    /// The limit on stored submissions.
    pub fn accepted(self) -> Limit {
        let scope = match self {
            PublicForm::UnsafeReport => "unsafe-report",
            PublicForm::CharterJoin => "charter-join",
        };
        Limit { scope, hits: PUBLIC_FORM_ACCEPTED, window_seconds: PUBLIC_FORM_WINDOW }
    }

    /// The limit on every submission, valid or not.
    pub fn any(self) -> Limit {
        let scope = match self {
            PublicForm::UnsafeReport => "unsafe-report-any",
            PublicForm::CharterJoin => "charter-join-any",
        };
        Limit { scope, hits: PUBLIC_FORM_ANY, window_seconds: PUBLIC_FORM_WINDOW }
    }
}
