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
    /// Turns for the reads that open a connection of their own (`spatial::LARGE_READS`).
    pub(crate) large_reads: std::sync::Arc<tokio::sync::Semaphore>,
    /// The backend and the key every audit row is chained with (`audit`).
    audit_chain: crate::audit::AuditChain,
}

/// Settings every SQLite connection gets: 16 KiB pages for a new database (a third fewer
/// system calls than 4 KiB on bulk imports; ignored once the file exists), write-ahead logging
/// so readers never block the writer, foreign keys on, and a generous page cache. A writer
/// waits up to `sqlite_wait::WRITE_WAIT_MS` for the lock, polling.
const SQLITE_PRAGMAS: &str =
    "PRAGMA page_size = 16384; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
     PRAGMA cache_size = -131072; PRAGMA temp_store = MEMORY;";

/// Settings every PostgreSQL session gets: no JIT compilation. Alliance's queries are
/// aggregates that run in tens to hundreds of milliseconds, and the planner's JIT (on by
/// default above a cost that a national archive's scans pass) spent 80–100 ms compiling each of
/// the SNA's scans and 1.2 s on the street index's, measured on 20 million records
/// (`BENCHMARKS-import.md`), more than it ever saves them.
pub(crate) const POSTGRES_SETTINGS: &str = "SET jit = off";

impl Db {
    /// Connects to `url` (`sqlite://FILE`, created when missing, or `postgres://…`) and
    /// applies any pending migrations; the audit key comes from the environment or a key file
    /// next to the database ([`crate::audit::AuditKeySource::Default`]).
    pub async fn connect(url: &str) -> Result<Db, DbError> {
        Db::connect_with(url, &crate::audit::AuditKeySource::Default).await
    }

    /// [`Db::connect`] with the audit chain keyed by the key `key` names; an unreadable or
    /// short key is `Invalid { field: "audit key" }` and nothing is opened.
    ///
    /// A refusal names the database (the file, for SQLite) and, for a storage failure (a
    /// full disk, a read-only or unopenable file), says so ([`DbError::Storage`]). A police
    /// import a full disk interrupted does not stop the database from opening: what the run
    /// still owes stays recorded and is finished by a later connection with space to do it.
    pub async fn connect_with(url: &str, key: &crate::audit::AuditKeySource) -> Result<Db, DbError> {
        let name = database_name(url);
        Db::open(url, key).await.map_err(|e| {
            let backend = if url.starts_with("sqlite:") { Backend::Sqlite } else { Backend::Postgres };
            match storage_error(backend, &name, e) {
                DbError::Sql(e) => DbError::Storage {
                    database: name.clone(),
                    reason: "cannot be opened",
                    source: Box::new(DbError::Sql(e)),
                },
                other => other,
            }
        })
    }

    async fn open(url: &str, key: &crate::audit::AuditKeySource) -> Result<Db, DbError> {
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
        if backend == Backend::Sqlite {
            crate::sqlite_wait::register();
        }
        let pool = AnyPoolOptions::new()
            .max_connections(match backend {
                Backend::Sqlite => 4,
                Backend::Postgres => 10,
            })
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    match backend {
                        Backend::Sqlite => {
                            conn.execute(SQLITE_PRAGMAS).await?;
                            conn.execute(
                                crate::sqlite_wait::poll_when_busy_sql(crate::sqlite_wait::WRITE_WAIT_MS).as_str(),
                            )
                            .await?
                        }
                        Backend::Postgres => conn.execute(POSTGRES_SETTINGS).await?,
                    };
                    Ok(())
                })
            })
            .connect(&url)
            .await?;
        crate::migrations::run(&pool, backend).await?;
        let audit_chain = crate::audit::AuditChain { backend, key: audit_key };
        let db = Db {
            pool,
            backend,
            sqlite_path,
            postgres_url,
            streets: Default::default(),
            large_reads: std::sync::Arc::new(tokio::sync::Semaphore::new(crate::spatial::LARGE_READS)),
            audit_chain,
        };
        match db.finish_interrupted_police_import().await {
            Ok(()) => {}
            // A disk that filled during a bulk import: open anyway (queries are correct
            // without the dropped indexes, only slower; queued outcome refreshes wait).
            Err(e) if storage_failure(backend, &e).is_some() => tracing::warn!(
                "{}: an interrupted police import is still to be finished (indexes rebuilt, outcomes \
                 refreshed); it will be on a later start with space for it",
                db.storage_error(e)
            ),
            Err(e) => return Err(e),
        }
        Ok(db)
    }

    /// `e`, named with this database and what went wrong when it is a storage failure (a
    /// full disk, a read-only or unopenable file: [`DbError::Storage`]); other errors as they
    /// are.
    pub fn storage_error(&self, e: DbError) -> DbError {
        let name = match (&self.sqlite_path, &self.postgres_url) {
            (Some(path), _) => format!("file {}", path.display()),
            (None, Some(url)) => database_name(url),
            (None, None) => "(unnamed)".to_string(),
        };
        storage_error(self.backend, &name, e)
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

/// How a database is named in messages: `file PATH` for SQLite, the server and database
/// (without user, password or options) for PostgreSQL.
pub(crate) fn database_name(url: &str) -> String {
    if let Some(rest) = url.strip_prefix("sqlite:") {
        let path = rest.trim_start_matches("//");
        return format!("file {}", path.split('?').next().unwrap_or(path));
    }
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let rest = rest.split('?').next().unwrap_or(rest);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    format!("{scheme}://{rest}")
}

/// What a storage failure is, from the engine's error code: `None` for any other error.
fn storage_failure(backend: Backend, e: &DbError) -> Option<&'static str> {
    let sqlite = |code: i32| {
        match code & 0xff {
        // SQLITE_IOERR_WRITE: a write refused, as past a file size limit (EFBIG).
        _ if code == 778 => Some(
            "the disk is full (a write failed: no space, a file size limit or a failing disk): free space and run it \
             again; nothing of the failed change was stored",
        ),
        13 => Some("the disk is full (or the file reached its size limit): free space and run it again; nothing of the failed change was stored"),
        10 => Some("the disk failed to read or write it (full, removed or failing)"),
        8 => Some("the file cannot be written (it or its folder is read-only)"),
        14 => Some("the file cannot be opened (is its folder there and writable?)"),
        11 | 26 => Some("the file is damaged or not an Alliance database"),
        _ => None,
    }
    };
    let sql = match e {
        DbError::Sql(e) | DbError::Migration { source: e, .. } => e,
        DbError::Sqlite(rusqlite::Error::SqliteFailure(f, _)) if backend == Backend::Sqlite => {
            return sqlite(f.extended_code)
        }
        _ => return None,
    };
    match (backend, sql) {
        (Backend::Sqlite, sqlx::Error::Database(d)) => sqlite(d.code()?.parse::<i32>().ok()?),
        // SQLSTATE class 53: insufficient resources (53100 disk full).
        (Backend::Postgres, sqlx::Error::Database(d)) if d.code().is_some_and(|c| c == "53100") => {
            Some("the database server's disk is full: free space on it and run it again")
        }
        (_, sqlx::Error::Io(io)) if io.kind() == std::io::ErrorKind::StorageFull => Some("the disk is full"),
        _ => None,
    }
}

/// `e` as [`DbError::Storage`] naming `database` when it is a storage failure.
fn storage_error(backend: Backend, database: &str, e: DbError) -> DbError {
    match storage_failure(backend, &e) {
        Some(reason) => DbError::Storage { database: database.to_string(), reason, source: Box::new(e) },
        None => e,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn databases_are_named_without_credentials() {
        assert_eq!(database_name("sqlite://data/alliance.db?mode=rwc"), "file data/alliance.db");
        assert_eq!(database_name("sqlite:alliance.db"), "file alliance.db");
        assert_eq!(
            database_name("postgres://alliance:secret@db.example:5432/alliance?sslmode=require"),
            "postgres://db.example:5432/alliance"
        );
    }

    #[test]
    fn a_full_disk_is_named_with_the_file() {
        let full = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL),
            Some("database or disk is full".into()),
        );
        let e = storage_error(Backend::Sqlite, "file /srv/alliance.db", DbError::Sqlite(full));
        let text = e.to_string();
        assert!(text.starts_with("the database file /srv/alliance.db: the disk is full"), "{text}");
        assert!(!e.is_input_error());
        let other = storage_error(Backend::Sqlite, "file x.db", DbError::invalid("month", "bad"));
        assert!(matches!(other, DbError::Invalid { .. }));
    }
}
