//! Large reads from a SQLite file through `rusqlite`, for the few queries that return
//! hundreds of thousands of rows (the located records a hot spot analysis or the street
//! index reads).
//!
//! `sqlx` runs SQLite on a worker thread and hands each row over as an `AnyRow` of owned
//! values. On the national archive the default `/map` reads the partnership's 377,121
//! located records: SQLite's own work took 0.17 s, and `sqlx` took 1.2 s more to hand the
//! rows over (`BENCHMARKS-import.md`). Read here, on a connection of its own opened for the
//! one query, the rows are decoded in place. Only reads come this way; SQLite's WAL lets them
//! run beside the pool's writers. Both drivers link the same SQLite (see the workspace
//! `Cargo.toml`).

use std::path::Path;

use rusqlite::{params_from_iter, OpenFlags, Row};

use crate::DbError;

/// Runs `sql` (with `$1`, `$2`, … bound to `params` in order) on its own read-only
/// connection to the SQLite file at `path`, mapping each row with `map`. Blocking: call it
/// from a blocking thread.
pub(crate) fn read_rows<T>(
    path: &Path,
    sql: &str,
    params: &[String],
    mut map: impl FnMut(&Row<'_>) -> Result<T, DbError>,
) -> Result<Vec<T>, DbError> {
    let conn = rusqlite::Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    // A reader waits only while a connection recovers the write-ahead log; poll as writers do.
    crate::sqlite_wait::poll_rusqlite(&conn)?;
    let mut statement = conn.prepare(sql)?;
    let mut rows = statement.query(params_from_iter(params))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(map(row)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binds_numbered_parameters_in_order_and_maps_every_row() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let path = dir.path().join("read.db");
        let conn = rusqlite::Connection::open(&path).expect("open");
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; CREATE TABLE t (k TEXT, v INTEGER); \
             INSERT INTO t VALUES ('a', 1), ('b', 2), ('c', 3), ('b', 4);",
        )
        .expect("fill");
        let rows = read_rows(
            &path,
            "SELECT k, v FROM t WHERE k IN ($1, $2) AND v >= $3 ORDER BY v",
            &["b".into(), "c".into(), "3".into()],
            |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)),
        )
        .expect("read");
        assert_eq!(rows, vec![("c".to_string(), 3), ("b".to_string(), 4)]);
        // Read-only: the connection cannot write.
        let refused = read_rows(&path, "DELETE FROM t RETURNING k", &[], |r| Ok(r.get::<_, String>(0)?));
        assert!(refused.is_err(), "{refused:?}");
    }
}
