//! Bulk mode of a PostgreSQL import run: the `police_crimes` indexes the import itself never
//! reads are dropped at the start of a large run and rebuilt by one sort each at its end.
//!
//! Inserting a row into an index costs a descent of the tree and a write-ahead log record;
//! building the index afterwards costs one sort. Measured on the shared data's 314,739 crimes
//! (backend CPU, machine shared with other builds): the month index added 0.85 s to the
//! inserts, the SNA's covering index 1.69 s and the Crime ID index 1.04 s. The import index
//! stays (replacements delete by it and the month counts read by it). The outcomes' Crime ID
//! index is dropped only for a bulk run's outcomes files, while they refresh no crime (none is
//! stored, or their refreshes are queued), and rebuilt before the queue is applied and its
//! street files, whose crimes may look up their latest outcome by it ([`OUTCOMES_INDEX`]).
//!
//! As on SQLite (`sqlite_bulk/bulk.rs`), a run is large when its files hold (by their size) more
//! rows than `police_crimes` already has, and at least [`MIN_BULK_ROWS`]. The dropped indexes'
//! own SQL is recorded in `police_deferred_indexes` in the transaction that drops them, so a run
//! killed half-way is finished (indexes rebuilt) by the next [`crate::Db::connect`]. Readers
//! meanwhile get the same answers, more slowly. Runs at once take turns under an advisory lock
//! to drop the indexes; whichever ends first rebuilds them, and the other goes on with the
//! indexes.

use alliance_ingest::SourceFile;
use sqlx::{Connection, PgConnection};

use crate::DbError;

/// The indexes of `police_crimes` a run does not read (see the module's comment).
const DEFERRED_INDEXES: &[&str] = &["police_crimes_month", "police_crimes_sna", "police_crimes_crime_key"];

/// A conservative size of one row in a data.police.uk file, in bytes (as on SQLite).
const BYTES_PER_ROW: u64 = 200;

/// Below this many incoming rows a run keeps its indexes: small imports into a large table
/// must not pay for rebuilding it.
const MIN_BULK_ROWS: u64 = 50_000;

/// The advisory lock under which runs drop and rebuild ("POLICEIX" in hex).
const LOCK: i64 = 0x504f_4c49_4345_4958;

/// Decides whether the run is large and, if so, records and drops the deferred indexes in one
/// transaction. Returns whether the run is in bulk mode.
///
/// A bulk run into stored crimes queues its outcomes files' refreshes and applies them by one
/// statement before its street files (`pg_copy::import_run`): nothing then looks crimes up by
/// Crime ID one file at a time, so the crimes' Crime ID index goes at once like the others.
pub(super) async fn begin(conn: &mut PgConnection, files: &[SourceFile]) -> Result<bool, DbError> {
    let incoming = files.iter().map(SourceFile::approximate_len).sum::<u64>() / BYTES_PER_ROW;
    let existing: i64 =
        sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM police_crimes").fetch_one(&mut *conn).await?;
    if incoming < MIN_BULK_ROWS || incoming <= existing.max(0) as u64 {
        return Ok(false);
    }
    drop_recorded(conn, DEFERRED_INDEXES).await?;
    Ok(true)
}

/// The outcomes' Crime ID index, which a run's outcomes files need only to refresh crimes: with
/// no crime stored, or their refreshes queued, they refresh nothing at once, so a bulk run drops
/// it for its outcomes files and rebuilds it before the queue is applied and its street files
/// ([`rebuild_outcomes_index`]), which may read it.
/// Inserting 12 million outcomes at random places in it took a national run's outcomes files
/// 102 s on PostgreSQL; without it 51 s, and the build by one sort 7 s.
const OUTCOMES_INDEX: &str = "police_outcomes_crime_key";

/// Records and drops [`OUTCOMES_INDEX`] for a bulk run's outcomes files (see there). Its record
/// makes [`finish`] (at the end of this or any run, or at the next connection after a crash)
/// build it if [`rebuild_outcomes_index`] did not.
pub(super) async fn defer_outcomes_index(conn: &mut PgConnection) -> Result<(), DbError> {
    drop_recorded(conn, &[OUTCOMES_INDEX]).await
}

/// Rebuilds [`OUTCOMES_INDEX`] if it is still recorded as dropped (another run may have built it).
pub(super) async fn rebuild_outcomes_index(conn: &mut PgConnection) -> Result<(), DbError> {
    rebuild(conn, OUTCOMES_INDEX).await
}

/// Records each index's SQL in `police_deferred_indexes` and drops it, in one transaction
/// under the exclusive lock.
async fn drop_recorded(conn: &mut PgConnection, names: &[&str]) -> Result<(), DbError> {
    sqlx::raw_sql("BEGIN").execute(&mut *conn).await?;
    let dropped = async {
        sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(LOCK).execute(&mut *conn).await?;
        for name in names {
            let sql: Option<String> = sqlx::query_scalar(
                "SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() AND indexname = $1",
            )
            .bind(name)
            .fetch_optional(&mut *conn)
            .await?;
            if let Some(sql) = sql {
                sqlx::query(
                    "INSERT INTO police_deferred_indexes (name, sql) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
                )
                .bind(name)
                .bind(&sql)
                .execute(&mut *conn)
                .await?;
                sqlx::raw_sql(&format!("DROP INDEX IF EXISTS {name}")).execute(&mut *conn).await?;
            }
        }
        sqlx::raw_sql("COMMIT").execute(&mut *conn).await?;
        Ok::<_, DbError>(())
    }
    .await;
    if let Err(e) = dropped {
        let _ = sqlx::raw_sql("ROLLBACK").execute(&mut *conn).await;
        return Err(e);
    }
    Ok(())
}

/// The columns of `police_crimes` the pages filter, join and group on: the statistics
/// refreshed after a bulk run (the vacuum itself covers every row). Sampling the wide text columns too (Crime IDs, locations)
/// doubled the time of the `ANALYZE` (about 200 ms against 117 ms on the shared data's
/// 314,739 crimes); autovacuum refreshes every column later.
const ANALYSED_CRIME_COLUMNS: &str = "import_id, crime_key, month, lsoa_code, crime_type, outcome";

/// Pages of `police_crimes` not marked all-visible above which a bulk run's end vacuums the
/// table (256 MiB of 8 KiB pages, about a million records). Rows written by `COPY` are not
/// marked until a vacuum, so until autovacuum came round every "index-only" read of the SNA's
/// covering index fetched each row from the table too: on 20 million records the SNA of
/// Staffordshire's nine districts took 1.8–2.2 s per scan before a vacuum and 60–160 ms after,
/// for about 6 s of vacuum (no indexes to visit, they are rebuilt after it). Below the bound
/// those fetches cost milliseconds and the vacuum would cost a small import about 4% (100–150 ms
/// of the shared data's 3 s), so autovacuum is left to it.
const VACUUM_ABOVE_PAGES: i64 = 32_768;

/// The index that takes longest to build (four text columns, compared byte by byte since
/// migration 0041): it gets a connection to itself.
const LONGEST_BUILD: &str = "police_crimes_sna";

/// Rebuilds whatever indexes `police_deferred_indexes` records as dropped (by this run, another
/// one still going, or one that was interrupted), then returns whether anything was rebuilt.
///
/// Two steps, each keeping both cores of a 2-core server busy: first both police tables are
/// analysed side by side (the tables more than doubled: plans chosen on their old statistics
/// would go wrong; `ANALYZE` reads rows, not indexes, and it waits for any `CREATE INDEX` on
/// its table, so it goes first), the crimes with a `VACUUM` in the same pass when more than
/// [`VACUUM_ABOVE_PAGES`] of them are not yet marked all-visible (see there); then the indexes are built on two
/// connections, the SNA's covering index alone on one (it takes as long as the other two
/// together) and the rest one after another on the other. Measured on the shared data: the
/// run's end went from 932 ms (three builds at once, then the `ANALYZE`) to the figure in
/// `BENCHMARKS-import.md`.
///
/// Each index is rebuilt in its own transaction, which deletes its record: a crash keeps the
/// records of those not yet built, for the next [`crate::Db::connect`]. Builders hold the lock
/// shared (they only wait for a run dropping the indexes, which holds it alone), and lock their
/// index's record, so two runs ending at once build each index once: the second finds the
/// record gone.
///
/// `conn` reads what is owed and does half the work; the other half opens a connection to `url`.
pub(crate) async fn finish(conn: &mut PgConnection, url: &str) -> Result<bool, DbError> {
    let owed: Vec<String> =
        sqlx::query_scalar("SELECT name FROM police_deferred_indexes ORDER BY name").fetch_all(&mut *conn).await?;
    if owed.is_empty() {
        return Ok(false);
    }
    let mut other = PgConnection::connect(url).await?;
    let not_visible: i64 = sqlx::query_scalar(
        "SELECT CAST(pg_relation_size('police_crimes') / current_setting('block_size')::int - relallvisible \
         AS BIGINT) FROM pg_class WHERE oid = 'police_crimes'::regclass",
    )
    .fetch_one(&mut *conn)
    .await?;
    let verb = if not_visible > VACUUM_ABOVE_PAGES { "VACUUM (ANALYZE)" } else { "ANALYZE" };
    let analyse_crimes = format!("{verb} police_crimes ({ANALYSED_CRIME_COLUMNS})");
    let (crimes, outcomes) = tokio::join!(
        sqlx::raw_sql(&analyse_crimes).execute(&mut *conn),
        sqlx::raw_sql("ANALYZE police_outcomes").execute(&mut other)
    );
    crimes?;
    outcomes?;
    let (alone, rest): (Vec<&String>, Vec<&String>) = owed.iter().partition(|name| *name == LONGEST_BUILD);
    let (a, b) = tokio::join!(rebuild_in_turn(&mut other, &alone), rebuild_in_turn(conn, &rest));
    let _ = other.close().await;
    a.and(b)?;
    Ok(true)
}

/// Rebuilds `names` one after another on `conn`. Every build runs to its end (a failed one
/// rolls back only itself); the first failure is the answer.
async fn rebuild_in_turn(conn: &mut PgConnection, names: &[&String]) -> Result<(), DbError> {
    let mut first_failure = Ok(());
    for name in names {
        let built = rebuild(conn, name).await;
        if first_failure.is_ok() {
            first_failure = built;
        }
    }
    first_failure
}

/// Rebuilds one dropped index, if its record is still there, and deletes the record, in one
/// transaction.
async fn rebuild(conn: &mut PgConnection, name: &str) -> Result<(), DbError> {
    sqlx::raw_sql("BEGIN").execute(&mut *conn).await?;
    let rebuilt = async {
        sqlx::query("SELECT pg_advisory_xact_lock_shared($1)").bind(LOCK).execute(&mut *conn).await?;
        let sql: Option<String> =
            sqlx::query_scalar("SELECT sql FROM police_deferred_indexes WHERE name = $1 FOR UPDATE")
                .bind(name)
                .fetch_optional(&mut *conn)
                .await?;
        if let Some(sql) = sql {
            let exists: bool =
                sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL").bind(name).fetch_one(&mut *conn).await?;
            if !exists {
                sqlx::raw_sql(&sql).execute(&mut *conn).await?;
            }
            sqlx::query("DELETE FROM police_deferred_indexes WHERE name = $1").bind(name).execute(&mut *conn).await?;
        }
        sqlx::raw_sql("COMMIT").execute(&mut *conn).await?;
        Ok::<_, DbError>(())
    }
    .await;
    if rebuilt.is_err() {
        let _ = sqlx::raw_sql("ROLLBACK").execute(&mut *conn).await;
    }
    rebuilt
}
