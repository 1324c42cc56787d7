//! How a SQLite connection waits for the write lock: by polling every millisecond, not by
//! SQLite's default busy handler.
//!
//! SQLite has one writer at a time and no queue: a connection that finds the lock taken calls
//! its busy handler and tries again. The default handler (`PRAGMA busy_timeout`) sleeps longer
//! and longer, 100 ms between tries after the first quarter of a second, so against a police
//! import that commits file after file with microseconds between them, a public report or a
//! sign-in waited for the whole import: measured on 20 million records, a write waited 100 s
//! behind a month's update and more than 30 s (then failed) behind a national load
//! (`BENCHMARKS-import.md`). Polling every millisecond, a waiting writer takes the lock in the
//! pause an import leaves after each commit when it has held the lock for a while
//! (`police::sqlite_bulk`), so no write waits for more than about half a second plus one file.
//!
//! The pool's connections are opened by `sqlx` through its `Any` driver, which gives no access
//! to the connection handle, so the handler is installed from SQL: every SQLite connection the
//! process opens gets a function `alliance_poll_when_busy(ms)` (an automatic extension,
//! registered once by [`register`]) that installs it on its own connection; the pool calls it
//! after connecting. This module is Alliance's only `unsafe` code: three calls of SQLite's C
//! interface, each with the pointers SQLite itself passes in.

use std::ffi::{c_char, c_int, c_void};
use std::sync::Once;
use std::time::Duration;

use rusqlite::ffi;

/// The SQL that makes a pool connection poll for at most `ms` milliseconds.
pub(crate) fn poll_when_busy_sql(ms: u32) -> String {
    format!("SELECT alliance_poll_when_busy({ms})")
}

/// How long one try waits before the next.
const POLL: Duration = Duration::from_millis(1);

/// Registers the automatic extension that gives every SQLite connection opened from now on
/// the function `alliance_poll_when_busy`. Idempotent.
pub(crate) fn register() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: `add_function` has the signature SQLite expects of an automatic extension's
        // entry point (checked by the type of `sqlite3_auto_extension`'s argument).
        let rc = unsafe { ffi::sqlite3_auto_extension(Some(add_function)) };
        if rc != ffi::SQLITE_OK {
            tracing::warn!("SQLite writers will wait with the default busy handler (auto extension refused: {rc})");
        }
    });
}

/// The automatic extension's entry point: adds the function to the new connection `db`.
unsafe extern "C" fn add_function(
    db: *mut ffi::sqlite3,
    _error: *mut *mut c_char,
    _api: *const ffi::sqlite3_api_routines,
) -> c_int {
    // SAFETY: `db` is the connection SQLite is opening; the name is a NUL-terminated constant.
    unsafe {
        ffi::sqlite3_create_function_v2(
            db,
            c"alliance_poll_when_busy".as_ptr(),
            1,
            ffi::SQLITE_UTF8,
            std::ptr::null_mut(),
            Some(install),
            None,
            None,
            None,
        )
    }
}

/// `alliance_poll_when_busy(ms)`: installs [`poll`] on the calling connection, giving up
/// after about `ms` tries (milliseconds); returns 1.
unsafe extern "C" fn install(ctx: *mut ffi::sqlite3_context, argc: c_int, argv: *mut *mut ffi::sqlite3_value) {
    // SAFETY: SQLite calls this with its own context and `argc` (1, as registered) arguments.
    unsafe {
        let ms = if argc == 1 { ffi::sqlite3_value_int(*argv).max(0) } else { 0 };
        let db = ffi::sqlite3_context_db_handle(ctx);
        ffi::sqlite3_busy_handler(db, Some(poll), ms as usize as *mut c_void);
        ffi::sqlite3_result_int(ctx, 1);
    }
}

/// The busy handler: another try after [`POLL`], until `limit` (the tries allowed, carried in
/// the pointer argument) have been made; then SQLite reports the database busy.
unsafe extern "C" fn poll(limit: *mut c_void, tries: c_int) -> c_int {
    poll_again(limit as usize, tries)
}

/// [`poll`]'s rule, for both drivers: sleep and try again while `tries < limit`.
pub(crate) fn poll_again(limit: usize, tries: c_int) -> c_int {
    if (tries.max(0) as usize) < limit {
        std::thread::sleep(POLL);
        1
    } else {
        0
    }
}

/// How long any Alliance connection (the pool's, the police import's) waits for the write
/// lock before the database is busy: 30,000 tries of [`POLL`], about 30 s.
pub(crate) const WRITE_WAIT_MS: u32 = 30_000;

/// Installs the same rule on a `rusqlite` connection (the police import's own).
pub(crate) fn poll_rusqlite(conn: &rusqlite::Connection) -> rusqlite::Result<()> {
    conn.busy_handler(Some(|tries| poll_again(WRITE_WAIT_MS as usize, tries) == 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two connections to one file: the second's write waits while the first holds the lock,
    /// then fails once its tries are spent; with the lock free it succeeds at once.
    #[test]
    fn a_pool_connection_polls_then_gives_up() {
        register();
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("wait.db");
        let holder = rusqlite::Connection::open(&path).expect("open");
        holder.execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t (x INTEGER);").expect("schema");
        let waiter = rusqlite::Connection::open(&path).expect("open");
        let installed: i64 = waiter.query_row(&poll_when_busy_sql(50), [], |r| r.get(0)).expect("the function exists");
        assert_eq!(installed, 1);
        holder.execute_batch("BEGIN IMMEDIATE; INSERT INTO t VALUES (1);").expect("lock taken");
        let started = std::time::Instant::now();
        let err = waiter.execute_batch("BEGIN IMMEDIATE").expect_err("busy while the holder writes");
        assert_eq!(err.sqlite_error_code(), Some(rusqlite::ErrorCode::DatabaseBusy), "{err}");
        assert!(started.elapsed() >= Duration::from_millis(50), "it polled for its 50 tries first");
        holder.execute_batch("COMMIT").expect("commit");
        waiter.execute_batch("BEGIN IMMEDIATE; INSERT INTO t VALUES (2); COMMIT;").expect("free now");
    }

    #[test]
    fn the_rule_stops_at_the_limit() {
        assert_eq!(poll_again(3, 0), 1);
        assert_eq!(poll_again(3, 2), 1);
        assert_eq!(poll_again(3, 3), 0);
        assert_eq!(poll_again(0, 0), 0);
    }
}
