//! Versioned migrations, embedded in the binary: one folder per backend, same versions.

use sqlx::{AnyPool, Row};

use crate::{Backend, DbError};

struct Migration {
    version: i64,
    description: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

macro_rules! migration {
    ($version:expr, $description:expr, $file:expr) => {
        Migration {
            version: $version,
            description: $description,
            sqlite: include_str!(concat!("../migrations/sqlite/", $file)),
            postgres: include_str!(concat!("../migrations/postgres/", $file)),
        }
    };
}

const MIGRATIONS: &[Migration] = &[
    migration!(1, "foundation", "0001_foundation.sql"),
    migration!(2, "access", "0002_access.sql"),
    migration!(3, "partner data", "0003_partner_data.sql"),
    migration!(4, "serious violence", "0004_serious_violence.sql"),
    migration!(6, "interventions", "0006_interventions.sql"),
    migration!(7, "governance", "0007_governance.sql"),
    migration!(8, "public", "0008_public.sql"),
    migration!(9, "partner access", "0009_partner_access.sql"),
    migration!(10, "governance web", "0010_governance_web.sql"),
    migration!(12, "bulk import", "0012_bulk_import.sql"),
    migration!(13, "intervention editor", "0013_intervention_editor.sql"),
    migration!(14, "one current import", "0014_one_current_import.sql"),
    migration!(20, "security", "0020_security.sql"),
    migration!(21, "partnership", "0021_partnership.sql"),
    migration!(23, "sharing approval and audit key", "0023_sharing_and_audit_key.sql"),
    migration!(25, "referrals", "0025_referrals.sql"),
    migration!(28, "places", "0028_places.sql"),
];

/// Applies the migrations not yet applied, each in its own transaction.
pub(crate) async fn run(pool: &AnyPool, backend: Backend) -> Result<(), DbError> {
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS alliance_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL)",
    )
    .execute(pool)
    .await?;
    let applied: Vec<i64> = sqlx::query("SELECT version FROM alliance_migrations")
        .fetch_all(pool)
        .await?
        .iter()
        .map(|r| r.try_get::<i64, _>(0))
        .collect::<Result<_, _>>()?;
    for m in MIGRATIONS.iter().filter(|m| !applied.contains(&m.version)) {
        let sql = match backend {
            Backend::Sqlite => m.sqlite,
            Backend::Postgres => m.postgres,
        };
        let fail = |source| DbError::Migration { version: m.version, description: m.description, source };
        let mut tx = pool.begin().await?;
        sqlx::raw_sql(sql).execute(&mut *tx).await.map_err(fail)?;
        sqlx::query("INSERT INTO alliance_migrations (version, description, applied_at) VALUES ($1, $2, $3)")
            .bind(m.version)
            .bind(m.description)
            .bind(chrono::Utc::now().to_rfc3339())
            .execute(&mut *tx)
            .await
            .map_err(fail)?;
        tx.commit().await.map_err(fail)?;
        tracing::info!(version = m.version, description = m.description, "applied migration");
    }
    Ok(())
}
