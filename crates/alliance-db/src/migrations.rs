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
    migration!(29, "intervention service", "0029_intervention_service.sql"),
    migration!(31, "accounts", "0031_accounts.sql"),
    migration!(32, "postcodes and directory editing", "0032_postcodes_and_directory.sql"),
    migration!(35, "police month counts", "0035_police_month_counts.sql"),
    migration!(36, "police import checks", "0036_police_import_checks.sql"),
    migration!(37, "police import check once", "0037_police_import_check_once.sql"),
    migration!(38, "police area index", "0038_police_area_index.sql"),
    migration!(39, "month counts cover", "0039_month_counts_cover.sql"),
    migration!(40, "refresh bound", "0040_refresh_bound.sql"),
    migration!(41, "police keys bytewise", "0041_police_keys_bytewise.sql"),
    migration!(42, "police lsoa extents", "0042_police_lsoa_extents.sql"),
    migration!(43, "charter seed for staffordshire only", "0043_charter_seed_for_staffordshire_only.sql"),
    migration!(44, "referral submission key", "0044_referral_submission_key.sql"),
    migration!(45, "action version", "0045_action_version.sql"),
    migration!(46, "edit versions", "0046_edit_versions.sql"),
    migration!(47, "form submissions", "0047_form_submissions.sql"),
    migration!(48, "partnership version", "0048_partnership_version.sql"),
];

/// The versions of every migration this binary knows, oldest first.
pub(crate) fn known_versions() -> Vec<i64> {
    MIGRATIONS.iter().map(|m| m.version).collect()
}

/// The key of the PostgreSQL advisory lock instances hold while migrating ("ALLIANCE" in hex).
const MIGRATION_LOCK: i64 = 0x414c_4c49_414e_4345;

/// Applies the migrations not yet applied, each in its own transaction. Instances starting
/// at once on one database (two `alliance serve` processes) apply each migration once: on
/// PostgreSQL they take turns under an advisory lock, and on either backend each migration's
/// transaction first claims its version in `alliance_migrations`, skipping it when another
/// instance got there first.
pub(crate) async fn run(pool: &AnyPool, backend: Backend) -> Result<(), DbError> {
    let mut conn = pool.acquire().await?;
    if backend == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_lock($1)").bind(MIGRATION_LOCK).execute(&mut *conn).await?;
    }
    let result = run_on(&mut conn, backend).await;
    if backend == Backend::Postgres {
        // Released with the session too, should this fail.
        let _ = sqlx::query("SELECT pg_advisory_unlock($1)").bind(MIGRATION_LOCK).execute(&mut *conn).await;
    }
    result
}

async fn run_on(conn: &mut sqlx::pool::PoolConnection<sqlx::Any>, backend: Backend) -> Result<(), DbError> {
    use sqlx::Acquire;
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS alliance_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL)",
    )
    .execute(&mut **conn)
    .await?;
    let applied: Vec<i64> = sqlx::query("SELECT version FROM alliance_migrations")
        .fetch_all(&mut **conn)
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
        let mut tx = conn.begin().await?;
        // Claim the version first (on SQLite this also takes the write lock, so another
        // instance's claim waits for this transaction and then finds the version taken).
        let claimed = sqlx::query(
            "INSERT INTO alliance_migrations (version, description, applied_at) VALUES ($1, $2, $3) ON CONFLICT (version) DO NOTHING",
        )
        .bind(m.version)
        .bind(m.description)
        .bind(crate::clock::now())
        .execute(&mut *tx)
        .await
        .map_err(fail)?;
        if claimed.rows_affected() == 0 {
            tx.rollback().await?;
            continue;
        }
        sqlx::raw_sql(sql).execute(&mut *tx).await.map_err(fail)?;
        tx.commit().await.map_err(fail)?;
        tracing::info!(version = m.version, description = m.description, "applied migration");
    }
    Ok(())
}
