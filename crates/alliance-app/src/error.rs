//! Errors of the use cases, sorted by what the caller should do about them.

use alliance_db::DbError;

/// Why a use case did not complete. The first five are about the request and are shown to
/// the person who made it (a form error, a 404, a 403, a 409, a 422); the rest are faults,
/// logged with an id and never shown.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Input that breaks a rule: `field` names the input, `reason` says what to change.
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    /// A record the request names does not exist (or is not visible to the caller).
    #[error("{what} not found")]
    NotFound { what: String },
    /// The caller may not do this; `reason` is shown to them as plain text.
    #[error("forbidden: {reason}")]
    Forbidden { reason: String },
    /// Valid input that clashes with what is stored.
    #[error("{field}: {reason}")]
    Conflict { field: &'static str, reason: String },
    /// The request asks for more work or data than Alliance allows (cells, permutations,
    /// bytes, rows); `reason` names the bound.
    #[error("{reason}")]
    TooLarge { reason: String },
    #[error(transparent)]
    Db(DbError),
    /// Anything else that went wrong inside (a task that panicked, a hash that failed).
    #[error("{0}")]
    Internal(String),
}

impl AppError {
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> AppError {
        AppError::Invalid { field, reason: reason.into() }
    }

    pub fn not_found(what: impl Into<String>) -> AppError {
        AppError::NotFound { what: what.into() }
    }

    pub fn forbidden(reason: impl Into<String>) -> AppError {
        AppError::Forbidden { reason: reason.into() }
    }

    pub fn conflict(field: &'static str, reason: impl Into<String>) -> AppError {
        AppError::Conflict { field, reason: reason.into() }
    }

    pub fn too_large(reason: impl Into<String>) -> AppError {
        AppError::TooLarge { reason: reason.into() }
    }

    pub fn internal(what: impl Into<String>) -> AppError {
        AppError::Internal(what.into())
    }
}

/// Storage errors about the input keep their meaning; faults stay faults.
impl From<DbError> for AppError {
    fn from(e: DbError) -> AppError {
        match e {
            DbError::Invalid { field, reason } => AppError::Invalid { field, reason },
            DbError::NotFound { what } => AppError::NotFound { what },
            DbError::Conflict { field, reason } => AppError::Conflict { field, reason },
            other => AppError::Db(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_input_errors_keep_their_kind_and_faults_stay_faults() {
        assert!(matches!(
            AppError::from(DbError::invalid("due_date", "is before the start")),
            AppError::Invalid { field: "due_date", .. }
        ));
        assert!(matches!(AppError::from(DbError::not_found("action 4")), AppError::NotFound { .. }));
        assert!(matches!(AppError::from(DbError::conflict("name", "taken")), AppError::Conflict { field: "name", .. }));
        assert!(matches!(AppError::from(DbError::corrupt("month")), AppError::Db(DbError::Corrupt(_))));
    }
}
