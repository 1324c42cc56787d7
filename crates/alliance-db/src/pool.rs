//! Connecting to the database chosen by its URL.

use std::time::Duration;

use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, Executor};

use crate::DbError;

/// The database used when neither `--db` nor `ALLIANCE_DB` is given.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://alliance.db";

/// Which database engine is behind the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

/// A connection pool to Alliance's database, migrated to the current version.
#[derive(Debug, Clone)]
pub struct Db {
    pub(crate) pool: AnyPool,
    backend: Backend,
    /// The database file, for SQLite (bulk imports open their own connection to it).
    pub(crate) sqlite_path: Option<std::path::PathBuf>,
    /// The server's URL, for PostgreSQL (police imports open their own connection to it, as
    /// the `Any` driver has no `COPY`).
    pub(crate) postgres_url: Option<String>,
    /// Street names of the police data for finding typed places, kept until the next import
    /// (see `public::streets`); shared by every clone of this handle.
    pub(crate) streets: crate::public::streets::StreetCache,
    /// The backend and the key every audit row is chained with (`audit`).
    audit_chain: crate::audit::AuditChain,
}

/// Settings every SQLite connection gets: 16 KiB pages for a new database (a third fewer
/// system calls than 4 KiB on bulk imports; ignored once the file exists), write-ahead logging
/// so readers never block the writer, foreign keys on, and a generous page cache.
const SQLITE_PRAGMAS: &str =
    "PRAGMA page_size = 16384; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
     PRAGMA busy_timeout = 30000; PRAGMA cache_size = -131072; PRAGMA temp_store = MEMORY;";

impl Db {
    /// Connects to `url` (`sqlite://FILE`, created when missing, or `postgres://…`) and
    /// applies any pending migrations; the audit key comes from the environment or a key file
    /// next to the database ([`crate::audit::AuditKeySource::Default`]).
    pub async fn connect(url: &str) -> Result<Db, DbError> {
        Db::connect_with(url, &crate::audit::AuditKeySource::Default).await
    }

    /// [`Db::connect`] with the audit chain keyed by the key `key` names; an unreadable or
    /// short key is `Invalid { field: "audit key" }` and nothing is opened.
    pub async fn connect_with(url: &str, key: &crate::audit::AuditKeySource) -> Result<Db, DbError> {
        sqlx::any::install_default_drivers();
        let mut sqlite_path = None;
        let mut postgres_url = None;
        let (backend, url) = if let Some(rest) = url.strip_prefix("sqlite:") {
            let rest = rest.trim_start_matches("//");
            if rest.is_empty() || rest.starts_with(":memory:") {
                return Err(DbError::invalid(
                    "database URL",
                    "an in-memory SQLite database would vanish between connections: give a file, e.g. sqlite://alliance.db",
                ));
            }
            sqlite_path = Some(std::path::PathBuf::from(rest.split('?').next().unwrap_or(rest)));
            let sep = if rest.contains('?') { '&' } else { '?' };
            let mode = if rest.contains("mode=") { String::new() } else { format!("{sep}mode=rwc") };
            (Backend::Sqlite, format!("sqlite://{rest}{mode}"))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            postgres_url = Some(url.to_string());
            (Backend::Postgres, url.to_string())
        } else {
            return Err(DbError::UnsupportedUrl(url.to_string()));
        };
        let audit_key = crate::audit::AuditKey::resolve(key, sqlite_path.as_deref())?;
        let pool = AnyPoolOptions::new()
            .max_connections(match backend {
                Backend::Sqlite => 4,
                Backend::Postgres => 10,
            })
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        conn.execute(SQLITE_PRAGMAS).await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await?;
        crate::migrations::run(&pool, backend).await?;
        let audit_chain = crate::audit::AuditChain { backend, key: audit_key };
        let db = Db { pool, backend, sqlite_path, postgres_url, streets: Default::default(), audit_chain };
        db.finish_interrupted_police_import().await?;
        Ok(db)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// What [`crate::audit::append`] needs to chain a row: the backend and the audit key.
    pub fn audit_chain(&self) -> &crate::audit::AuditChain {
        &self.audit_chain
    }

    /// Closes every connection (checkpointing SQLite's write-ahead log).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}
