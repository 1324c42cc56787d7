use alliance_ingest::IngestError;

/// Errors of the storage layer.
///
/// Callers tell the user's mistakes from the system's by the variant, never by the text:
/// [`DbError::Invalid`], [`DbError::NotFound`] and [`DbError::Conflict`] are about the input
/// and may be shown (a form field's error, a 404, a 409); every other variant is a fault of
/// the engine or of stored data, logged with an id and never shown.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The file offered for import is invalid; nothing was written.
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error("database error: {0}")]
    Sql(#[from] sqlx::Error),
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("unsupported database URL \"{0}\": expected sqlite://FILE or postgres://…")]
    UnsupportedUrl(String),
    #[error("migration {version} ({description}) failed: {source}")]
    Migration {
        version: i64,
        description: &'static str,
        #[source]
        source: sqlx::Error,
    },
    /// Input that breaks a rule. `field` names the input as the caller named it (a form
    /// field's name, a command-line option, a column), `reason` says what is wrong in words
    /// a user can act on.
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    /// A record the input names does not exist.
    #[error("{what} not found")]
    NotFound { what: String },
    /// The input is valid but clashes with what is stored (a duplicate name, a record changed
    /// meanwhile).
    #[error("{field}: {reason}")]
    Conflict { field: &'static str, reason: String },
    /// Stored data that does not read back as it was written (a damaged or hand-edited
    /// database): a fault, not the user's input.
    #[error("stored data: {0}")]
    Corrupt(String),
    #[error("background task failed: {0}")]
    Task(String),
    /// The database's storage failed: the disk is full, the file is read-only or cannot be
    /// opened. A fault, named with the database (the file, for SQLite) and what to do, so an
    /// operator reading the refusal knows where to look (see `Db::storage_error`).
    #[error("the database {database}: {reason} ({source})")]
    Storage {
        database: String,
        reason: &'static str,
        #[source]
        source: Box<DbError>,
    },
}

/// A blocking task (parsing or hashing a file off the async workers) that panicked or was
/// cancelled: a fault.
impl From<tokio::task::JoinError> for DbError {
    fn from(e: tokio::task::JoinError) -> DbError {
        DbError::Task(e.to_string())
    }
}

impl DbError {
    /// Input that breaks a rule (see [`DbError::Invalid`]).
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> DbError {
        DbError::Invalid { field, reason: reason.into() }
    }

    /// A record that does not exist, named as a user would: `action 12`, `dataset "x"`.
    pub fn not_found(what: impl Into<String>) -> DbError {
        DbError::NotFound { what: what.into() }
    }

    /// Valid input that clashes with what is stored.
    pub fn conflict(field: &'static str, reason: impl Into<String>) -> DbError {
        DbError::Conflict { field, reason: reason.into() }
    }

    /// Stored data that does not read back.
    pub fn corrupt(what: impl Into<String>) -> DbError {
        DbError::Corrupt(what.into())
    }

    /// Whether the error is about the caller's input (and so may be shown to them) rather
    /// than a fault of the system.
    pub fn is_input_error(&self) -> bool {
        matches!(
            self,
            DbError::Ingest(_) | DbError::Invalid { .. } | DbError::NotFound { .. } | DbError::Conflict { .. }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_errors_are_told_from_faults_by_variant() {
        assert!(DbError::invalid("title", "Enter a title").is_input_error());
        assert!(DbError::not_found("action 3").is_input_error());
        assert!(DbError::conflict("name", "already exists").is_input_error());
        assert!(!DbError::corrupt("month \"x\"").is_input_error());
        assert!(!DbError::Task("a worker panicked".into()).is_input_error());
        assert!(!DbError::Sql(sqlx::Error::RowNotFound).is_input_error());
        assert_eq!(DbError::invalid("title", "Enter a title").to_string(), "title: Enter a title");
    }
}
