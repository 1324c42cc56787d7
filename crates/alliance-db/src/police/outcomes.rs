//! Keeping each crime's latest outcome.
//!
//! A crime's `outcome` is the outcome of the latest month recorded for its Crime ID in the
//! outcomes files (the last row of that month when there are several), or else the street
//! file's "Last outcome category". Every crime row carrying the Crime ID is updated. The
//! result does not depend on whether street or outcomes files are imported first. Crimes are
//! found by their integer `crime_key` and then matched on the full Crime ID, so a key
//! collision can only cause a harmless recomputation.
//!
//! [`REFRESH`] (correlated, one crime at a time) is shared with the SQLite path; the functions
//! here run on PostgreSQL, on the import's own connection (`pg_copy.rs`), and use its
//! set-based form (`DISTINCT ON`) wherever every crime concerned has an outcome. (On PostgreSQL
//! a street file's crimes take their latest outcome as they are inserted: `pg_copy::LATEST_OUTCOMES`.)

use sqlx::PgConnection;

use crate::imports::ImportCounts;
use crate::DbError;

/// The update, for the crimes selected by `WHERE_CLAUSE` appended after it.
pub(super) const REFRESH: &str = "UPDATE police_crimes SET \
     outcome = COALESCE((SELECT o.outcome_type FROM police_outcomes o WHERE o.crime_key = police_crimes.crime_key AND o.crime_id = police_crimes.crime_id \
                         ORDER BY o.month DESC, o.id DESC LIMIT 1), street_outcome), \
     outcome_month = (SELECT o.month FROM police_outcomes o WHERE o.crime_key = police_crimes.crime_key AND o.crime_id = police_crimes.crime_id \
                      ORDER BY o.month DESC, o.id DESC LIMIT 1) ";

/// Deletes an earlier import's rows from `table`, returning how many there were.
pub(super) async fn delete_rows(conn: &mut PgConnection, table: &str, import_id: i64) -> Result<i64, DbError> {
    let done =
        sqlx::query(&format!("DELETE FROM {table} WHERE import_id = $1")).bind(import_id).execute(&mut *conn).await?;
    Ok(done.rows_affected() as i64)
}

/// The latest outcome of each (crime key, Crime ID) among the crimes whose keys the subquery
/// `{keys}` selects, by one sort (PostgreSQL's `DISTINCT ON`), instead of two correlated lookups
/// per crime: the set-based form of [`REFRESH`] for crimes that have at least one outcome.
fn latest_outcomes(keys: &str) -> String {
    format!(
        "SELECT DISTINCT ON (o.crime_key, o.crime_id) o.crime_key, o.crime_id, o.outcome_type, o.month \
         FROM police_outcomes o WHERE o.crime_key IN ({keys}) \
         ORDER BY o.crime_key, o.crime_id, o.month DESC, o.id DESC"
    )
}

/// Sets each crime selected by `crimes` (a condition on `c`) that has outcomes to its latest,
/// leaving rows already right untouched (an unchanged row is not rewritten).
fn set_latest(keys: &str, crimes: &str) -> String {
    format!(
        "UPDATE police_crimes c SET outcome = l.outcome_type, outcome_month = l.month FROM ({}) l \
         WHERE {crimes} AND c.crime_key = l.crime_key AND c.crime_id = l.crime_id \
         AND (c.outcome IS DISTINCT FROM l.outcome_type OR c.outcome_month IS DISTINCT FROM l.month)",
        latest_outcomes(keys)
    )
}

/// The advisory lock outcomes refreshes take turns under, until their commit ("POLICERF").
const REFRESH_LOCK: i64 = 0x504f_4c49_4345_5246;

/// Queues the refresh of the stored crimes an outcomes file names, in the file's transaction,
/// for [`apply_queued`]: a bulk run into a database that already holds crimes does this
/// instead of refreshing them file by file (see `pg_copy::import_run`).
///
/// A file replacing an earlier import (`replaced`) also deletes that import's rows here, first
/// queuing the keys of the crimes they named: such a crime may be left with no outcome at all,
/// and must go back to its street file's (which [`apply_queued`] does by key). Nothing here
/// reads the outcomes by Crime ID, so the run may build that index after its outcomes files.
pub(super) async fn queue_refresh(
    conn: &mut PgConnection,
    import_id: i64,
    replaced: Option<i64>,
    counts: &mut ImportCounts,
) -> Result<(), DbError> {
    if let Some(old) = replaced {
        sqlx::query(
            "INSERT INTO police_refresh_pending (crime_key) \
             SELECT DISTINCT crime_key FROM police_outcomes WHERE import_id = $1",
        )
        .bind(old)
        .execute(&mut *conn)
        .await?;
        counts.rows_replaced = delete_rows(conn, "police_outcomes", old).await?;
    }
    sqlx::query("INSERT INTO police_refresh_pending (import_id) VALUES ($1)")
        .bind(import_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Applies the queued refreshes, if any, in one transaction: the crimes queued by key (those a
/// replaced import named) take their latest outcome or, having none left, their street file's
/// (the correlated [`REFRESH`], by the outcomes' Crime ID index); then every stored crime that
/// has an outcome takes its latest, by one set-based update (a crime already right is not
/// rewritten).
///
/// Called by a run once its outcomes files are in (and their Crime ID index built), before its
/// street files (whose crimes take their latest outcome as they go in), and when a database is
/// opened, for a run that stopped before it. The queue's rows are taken first: each belongs to
/// a committed outcomes import, which the updates then see. Every crime stored is refreshed,
/// not only those the queued files name: a crime another run stored meanwhile is covered too,
/// and listing the named ones would cost as much as the update.
pub(crate) async fn apply_queued(conn: &mut PgConnection) -> Result<bool, DbError> {
    sqlx::raw_sql("BEGIN").execute(&mut *conn).await?;
    let applied = async {
        sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(REFRESH_LOCK).execute(&mut *conn).await?;
        sqlx::raw_sql("CREATE TEMPORARY TABLE IF NOT EXISTS taken_refreshes (crime_key BIGINT) ON COMMIT DELETE ROWS")
            .execute(&mut *conn)
            .await?;
        let taken = sqlx::raw_sql(
            "WITH taken AS (DELETE FROM police_refresh_pending RETURNING crime_key) \
             INSERT INTO taken_refreshes (crime_key) SELECT crime_key FROM taken",
        )
        .execute(&mut *conn)
        .await?
        .rows_affected();
        if taken > 0 {
            sqlx::raw_sql(&format!(
                "{REFRESH} WHERE crime_key IN (SELECT crime_key FROM taken_refreshes WHERE crime_key IS NOT NULL)"
            ))
            .execute(&mut *conn)
            .await?;
            let keys = "SELECT crime_key FROM police_crimes WHERE crime_key IS NOT NULL";
            sqlx::raw_sql(&set_latest(keys, "TRUE")).execute(&mut *conn).await?;
        }
        sqlx::raw_sql("COMMIT").execute(&mut *conn).await?;
        Ok::<_, DbError>(taken > 0)
    }
    .await;
    if applied.is_err() {
        let _ = sqlx::raw_sql("ROLLBACK").execute(&mut *conn).await;
    }
    applied
}

/// After an outcomes file's rows are in (and the rows of the file it replaces are gone),
/// recomputes the outcome of every crime either file names.
///
/// Refreshes take turns, each holding a lock until its transaction ends: two at once (two
/// connections of a run, or two runs) could otherwise each compute a crime's latest outcome
/// without the other's rows, and the one committing last would leave the older outcome. Taken
/// in turn, the later refresh starts after the earlier commit and sees both files' rows.
pub(super) async fn refresh_for_outcomes_import(
    conn: &mut PgConnection,
    import_id: i64,
    replaced: Option<i64>,
    counts: &mut ImportCounts,
) -> Result<(), DbError> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(REFRESH_LOCK).execute(&mut *conn).await?;
    // One file names a few thousand crimes: they are found by key, through the indexes. During
    // a run the table has grown past its statistics, and the planner, taking the file's keys
    // for half the table, read every outcome stored for each file (the 2 M national set after
    // one force: 113 s of refreshes against 17 s for the whole run into an empty database).
    sqlx::raw_sql("SET LOCAL enable_seqscan = off").execute(&mut *conn).await?;
    let Some(old) = replaced else {
        // Every crime the new file names has an outcome now: one set-based update, over the keys
        // of the file's rows (found by the outcomes' import index).
        let keys = format!("SELECT crime_key FROM police_outcomes WHERE import_id = {import_id}");
        sqlx::raw_sql(&set_latest(&keys, &format!("c.crime_key IN ({keys})"))).execute(&mut *conn).await?;
        return Ok(());
    };
    // A replacement may leave crimes of the old file without any outcome: those go back to
    // their street outcome, which the correlated form handles.
    sqlx::raw_sql("CREATE TEMPORARY TABLE IF NOT EXISTS affected_crimes (crime_key BIGINT NOT NULL)")
        .execute(&mut *conn)
        .await?;
    sqlx::raw_sql("DELETE FROM affected_crimes").execute(&mut *conn).await?;
    sqlx::query(
        "INSERT INTO affected_crimes (crime_key) SELECT DISTINCT crime_key FROM police_outcomes WHERE import_id = $1",
    )
    .bind(old)
    .execute(&mut *conn)
    .await?;
    counts.rows_replaced = delete_rows(conn, "police_outcomes", old).await?;
    sqlx::query(
        "INSERT INTO affected_crimes (crime_key) SELECT DISTINCT crime_key FROM police_outcomes WHERE import_id = $1",
    )
    .bind(import_id)
    .execute(&mut *conn)
    .await?;
    sqlx::raw_sql(&format!("{REFRESH} WHERE crime_key IN (SELECT crime_key FROM affected_crimes)"))
        .execute(&mut *conn)
        .await?;
    sqlx::raw_sql("DELETE FROM affected_crimes").execute(&mut *conn).await?;
    Ok(())
}
