//! A prepared `INSERT` whose text parameters are bound without copying.
//!
//! `rusqlite` binds every non-empty text with `SQLITE_TRANSIENT`, so SQLite allocates and
//! copies each value, and frees the copy when the statement is reset: for the seven text
//! columns of 400,000 crimes that was about a fifth of the import's writing thread. Here texts
//! are bound with `SQLITE_STATIC` (SQLite reads the caller's bytes in place), which is sound
//! only while those bytes outlive the statement's use of them. [`BorrowedInsert::execute`]
//! makes that hold by construction: the values are borrowed for the whole call, which binds,
//! steps, resets and then clears every binding before it returns, so no pointer into the
//! caller's memory is left in the statement.
//!
//! This is the only `unsafe` code in Alliance; it calls the same bundled SQLite library that
//! `rusqlite` and `sqlx` use, on a connection `rusqlite` owns.

use std::ffi::{c_char, c_int, CStr};
use std::marker::PhantomData;
use std::ptr::NonNull;

use rusqlite::{ffi, Connection};

/// A statement prepared on a borrowed connection; finalised when dropped.
pub(super) struct BorrowedInsert<'c> {
    stmt: NonNull<ffi::sqlite3_stmt>,
    _conn: PhantomData<&'c Connection>,
}

/// Binds the parameters of one execution. `'v` is the lifetime of the borrowed values, which
/// outlive the [`BorrowedInsert::execute`] call that hands out the binder.
pub(super) struct Binder<'s, 'v> {
    stmt: *mut ffi::sqlite3_stmt,
    _values: PhantomData<(&'s mut (), &'v str)>,
}

impl<'c> BorrowedInsert<'c> {
    /// Prepares `sql` (one statement) on `conn`.
    pub(super) fn prepare(conn: &'c Connection, sql: &str) -> rusqlite::Result<BorrowedInsert<'c>> {
        let len = c_int::try_from(sql.len()).map_err(|_| failure(ffi::SQLITE_TOOBIG, None))?;
        let mut stmt = std::ptr::null_mut();
        // SAFETY: `conn.handle()` is the live connection `conn` borrows for 'c, which outlives
        // the statement (the PhantomData ties them); `sql` is valid for `len` bytes during the
        // call, and SQLite copies what it keeps.
        unsafe {
            let db = conn.handle();
            let rc = ffi::sqlite3_prepare_v2(db, sql.as_ptr().cast::<c_char>(), len, &mut stmt, std::ptr::null_mut());
            if rc != ffi::SQLITE_OK {
                return Err(failure(rc, Some(db)));
            }
        }
        // A null statement means `sql` held no statement at all.
        let stmt = NonNull::new(stmt).ok_or_else(|| failure(ffi::SQLITE_MISUSE, None))?;
        Ok(BorrowedInsert { stmt, _conn: PhantomData })
    }

    /// Binds through `bind`, runs the statement to completion, resets it and clears its
    /// bindings. Values bound are only read during this call.
    pub(super) fn execute<'v>(
        &mut self,
        bind: impl FnOnce(&mut Binder<'_, 'v>) -> rusqlite::Result<()>,
    ) -> rusqlite::Result<()> {
        let stmt = self.stmt.as_ptr();
        let bound = bind(&mut Binder { stmt, _values: PhantomData });
        let stepped = bound.and_then(|()| {
            // SAFETY: `stmt` is valid; every text bound points into values borrowed for 'v,
            // which is alive for this whole call.
            match unsafe { ffi::sqlite3_step(stmt) } {
                ffi::SQLITE_DONE | ffi::SQLITE_ROW => Ok(()),
                _ => Err(self.last_error()),
            }
        });
        // SAFETY: `stmt` is valid. Reset ends the execution; clearing the bindings drops the
        // borrowed pointers before the values can go (whatever the step returned).
        unsafe {
            ffi::sqlite3_reset(stmt);
            ffi::sqlite3_clear_bindings(stmt);
        }
        stepped
    }

    fn last_error(&self) -> rusqlite::Error {
        // SAFETY: `stmt` is valid, so its connection handle is too.
        let db = unsafe { ffi::sqlite3_db_handle(self.stmt.as_ptr()) };
        // SAFETY: as above; the error code and message are read from the live connection.
        failure(unsafe { ffi::sqlite3_extended_errcode(db) }, Some(db))
    }
}

impl Drop for BorrowedInsert<'_> {
    fn drop(&mut self) {
        // SAFETY: the statement is valid and finalised once; the connection is still open
        // (it is borrowed for 'c).
        unsafe {
            ffi::sqlite3_finalize(self.stmt.as_ptr());
        }
    }
}

impl<'v> Binder<'_, 'v> {
    pub(super) fn int(&mut self, at: usize, value: i64) -> rusqlite::Result<()> {
        // SAFETY: `stmt` is valid for the binder's life; SQLite checks the index.
        self.check(unsafe { ffi::sqlite3_bind_int64(self.stmt, index(at)?, value) })
    }

    pub(super) fn real(&mut self, at: usize, value: Option<f64>) -> rusqlite::Result<()> {
        match value {
            // SAFETY: as for `int`.
            Some(v) => self.check(unsafe { ffi::sqlite3_bind_double(self.stmt, index(at)?, v) }),
            None => self.null(at),
        }
    }

    pub(super) fn opt_int(&mut self, at: usize, value: Option<i64>) -> rusqlite::Result<()> {
        match value {
            Some(v) => self.int(at, v),
            None => self.null(at),
        }
    }

    /// Binds `value` in place: SQLite reads it during this execution only.
    pub(super) fn text(&mut self, at: usize, value: &'v str) -> rusqlite::Result<()> {
        let len = c_int::try_from(value.len()).map_err(|_| failure(ffi::SQLITE_TOOBIG, None))?;
        // SAFETY: `value` is valid UTF-8 of `len` bytes and outlives the execution (it is
        // borrowed for 'v, which outlives `execute`); SQLITE_STATIC (`None`) tells SQLite not to
        // copy or free it.
        self.check(unsafe {
            ffi::sqlite3_bind_text(self.stmt, index(at)?, value.as_ptr().cast::<c_char>(), len, ffi::SQLITE_STATIC())
        })
    }

    pub(super) fn opt_text(&mut self, at: usize, value: Option<&'v str>) -> rusqlite::Result<()> {
        match value {
            Some(v) => self.text(at, v),
            None => self.null(at),
        }
    }

    fn null(&mut self, at: usize) -> rusqlite::Result<()> {
        // SAFETY: as for `int`.
        self.check(unsafe { ffi::sqlite3_bind_null(self.stmt, index(at)?) })
    }

    fn check(&self, rc: c_int) -> rusqlite::Result<()> {
        if rc == ffi::SQLITE_OK {
            return Ok(());
        }
        // SAFETY: `stmt` is valid, so its connection handle is too.
        Err(failure(rc, Some(unsafe { ffi::sqlite3_db_handle(self.stmt) })))
    }
}

fn index(at: usize) -> rusqlite::Result<c_int> {
    c_int::try_from(at).map_err(|_| failure(ffi::SQLITE_RANGE, None))
}

/// A `rusqlite` error for a result code, with the connection's message when there is one.
fn failure(rc: c_int, db: Option<*mut ffi::sqlite3>) -> rusqlite::Error {
    let message = db.map(|db| {
        // SAFETY: `db` is a live connection; SQLite returns a NUL-terminated UTF-8 message
        // that stays valid until the next call on it, and it is copied at once.
        unsafe { CStr::from_ptr(ffi::sqlite3_errmsg(db)) }.to_string_lossy().into_owned()
    });
    rusqlite::Error::SqliteFailure(ffi::Error::new(rc), message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (a INTEGER NOT NULL, b TEXT, c REAL)").unwrap();
        conn
    }

    #[test]
    fn borrowed_texts_are_stored_and_bindings_do_not_outlive_the_call() {
        let conn = table();
        let mut insert = BorrowedInsert::prepare(&conn, "INSERT INTO t (a, b, c) VALUES (?, ?, ?), (?, ?, ?)").unwrap();
        {
            let owned = [String::from("first"), String::from("sécond")];
            insert
                .execute(|b| {
                    b.int(1, 1)?;
                    b.text(2, &owned[0])?;
                    b.real(3, Some(2.5))?;
                    b.int(4, 2)?;
                    b.opt_text(5, Some(&owned[1]))?;
                    b.real(6, None)
                })
                .unwrap();
        }
        // The values above are gone: a run that binds only some parameters stores NULLs for
        // the rest, not what was bound before.
        insert.execute(|b| b.int(1, 3).and_then(|()| b.int(4, 4))).unwrap();
        let err = insert.execute(|b| b.text(2, "no a")).unwrap_err();
        assert!(err.to_string().contains("NOT NULL"), "{err}");
        let rows: Vec<(i64, Option<String>, Option<f64>)> = conn
            .prepare("SELECT a, b, c FROM t ORDER BY a")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            rows,
            vec![
                (1, Some("first".into()), Some(2.5)),
                (2, Some("sécond".into()), None),
                (3, None, None),
                (4, None, None)
            ]
        );
    }

    #[test]
    fn errors_carry_sqlite_messages() {
        let conn = table();
        let err = BorrowedInsert::prepare(&conn, "INSERT INTO nowhere VALUES (?)").err().unwrap();
        assert!(err.to_string().contains("no such table: nowhere"), "{err}");
        let mut insert = BorrowedInsert::prepare(&conn, "INSERT INTO t (a) VALUES (?)").unwrap();
        let err = insert.execute(|b| b.int(2, 1)).unwrap_err();
        assert!(err.to_string().contains("column index out of range") || err.to_string().contains("range"), "{err}");
    }
}
