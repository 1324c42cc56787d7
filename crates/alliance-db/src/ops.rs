//! Operating a deployment: whether the database is ready to serve (readiness probes) and an
//! online backup of a SQLite database.

use std::path::Path;
use std::time::Duration;

use sqlx::Row;

use crate::{Backend, Db, DbError};

/// How long a readiness probe waits for the database before calling it unready.
pub const READINESS_TIMEOUT: Duration = Duration::from_secs(2);

/// What a readiness probe found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Readiness {
    /// The newest migration this binary knows.
    pub expected_version: i64,
    /// The newest migration recorded in the database (`None`: none recorded).
    pub database_version: Option<i64>,
    /// Why the instance should not take traffic, or `None` when it may.
    pub problem: Option<String>,
}

impl Readiness {
    pub fn is_ready(&self) -> bool {
        self.problem.is_none()
    }
}

impl Db {
    /// One round trip to the database, reading which migrations it has: ready when every
    /// migration this binary knows is applied and none newer (a newer instance has migrated
    /// the database, so this one may no longer read it correctly: take it out of service).
    /// A database that does not answer within [`READINESS_TIMEOUT`] is not ready.
    pub async fn readiness(&self) -> Readiness {
        let known = crate::migrations::known_versions();
        let expected_version = known.iter().copied().max().unwrap_or(0);
        let read = tokio::time::timeout(
            READINESS_TIMEOUT,
            sqlx::query("SELECT version FROM alliance_migrations").fetch_all(&self.pool),
        )
        .await;
        let applied: Vec<i64> = match read {
            Err(_) => {
                return Readiness {
                    expected_version,
                    database_version: None,
                    problem: Some(format!("the database did not answer within {} s", READINESS_TIMEOUT.as_secs())),
                }
            }
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "readiness: cannot read the migrations");
                return Readiness {
                    expected_version,
                    database_version: None,
                    problem: Some("the database cannot be read".to_string()),
                };
            }
            Ok(Ok(rows)) => rows.iter().filter_map(|r| r.try_get::<i64, _>(0).ok()).collect(),
        };
        let database_version = applied.iter().copied().max();
        let missing: Vec<i64> = known.iter().copied().filter(|v| !applied.contains(v)).collect();
        let newer: Vec<i64> = applied.iter().copied().filter(|v| *v > expected_version).collect();
        let problem = if !missing.is_empty() {
            Some(format!("migrations {missing:?} are not applied"))
        } else if !newer.is_empty() {
            Some(format!(
                "the database has migrations {newer:?}, newer than this binary's {expected_version}: upgrade this instance"
            ))
        } else {
            None
        };
        Readiness { expected_version, database_version, problem }
    }

    /// Writes a consistent copy of a SQLite database to `out` while it stays in use
    /// (`VACUUM INTO`: one read transaction, so writers carry on and the copy is the database
    /// as of one moment). `out` must not exist. PostgreSQL is backed up with `pg_dump`.
    pub async fn backup_sqlite(&self, out: &Path) -> Result<u64, DbError> {
        if self.backend() != Backend::Sqlite {
            return Err(DbError::invalid(
                "--out",
                "this is a PostgreSQL database: back it up with pg_dump (see docs/deploy.md)",
            ));
        }
        if out.exists() {
            return Err(DbError::invalid("--out", format!("{} already exists: give a new file", out.display())));
        }
        let Some(target) = out.to_str() else {
            return Err(DbError::invalid("--out", "the path is not valid UTF-8"));
        };
        // `VACUUM INTO` takes its file name as an expression: bound, never spliced.
        sqlx::query("VACUUM INTO $1").bind(target).execute(&self.pool).await?;
        let bytes =
            std::fs::metadata(out).map(|m| m.len()).map_err(|e| DbError::Task(format!("{}: {e}", out.display())))?;
        Ok(bytes)
    }
}
