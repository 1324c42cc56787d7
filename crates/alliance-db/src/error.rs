use alliance_ingest::IngestError;

/// Errors of the storage layer.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The file offered for import is invalid; nothing was written.
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error("database error: {0}")]
    Sql(#[from] sqlx::Error),
    #[error("unsupported database URL \"{0}\": expected sqlite://FILE or postgres://…")]
    UnsupportedUrl(String),
    #[error("migration {version} ({description}) failed: {source}")]
    Migration {
        version: i64,
        description: &'static str,
        #[source]
        source: sqlx::Error,
    },
    #[error("{0}")]
    Invalid(String),
    #[error("background task failed: {0}")]
    Task(String),
}
