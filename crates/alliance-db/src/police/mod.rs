//! Police recorded crime: importing data.police.uk files and keeping each crime's latest
//! outcome.
//!
//! The import of one file is one transaction. Rows are parsed on their own thread and
//! handed over in batches, so memory stays flat however large the file. The unit of
//! replacement is (force, month, kind): the same file again (same checksum) changes nothing;
//! a different export of the same unit replaces the earlier one's rows. Rows are never
//! deduplicated by content or Crime ID. Two runs of the same files at once import each file
//! once: the unit's current import is read inside the file's transaction, under a lock.
//!
//! The per-file algorithm is written once ([`per_file`]) over a small backend trait
//! ([`per_file::PoliceStore`]: run a bookkeeping statement, write a batch, replace an earlier
//! import's rows and refresh outcomes). Each backend implements it on a connection of its own
//! for the run, since binding rows through `sqlx`'s `Any` driver dominated the import time:
//! SQLite ([`sqlite_bulk`]) over `rusqlite`, with prepared multi-row inserts and index rebuilds
//! deferred to the end of large runs; PostgreSQL ([`pg_copy`]) over a `PgConnection`, rows sent
//! by `COPY`.

mod extents;
mod latest;
pub(crate) mod month_counts;
mod outcomes;
mod per_file;
mod pg_copy;
mod pg_deferred;
mod sqlite_bulk;

use alliance_core::domain::police::crime_key;
use alliance_core::domain::{PoliceOutcome, StreetCrime};
use alliance_ingest::police::{PoliceFileUnit, PoliceReader};
use alliance_ingest::{IngestError, SourceFile};
use tokio::sync::mpsc;

use self::latest::{Found, LatestOutcomes};
use crate::imports::{ImportAudit, ImportOutcome};
use crate::{Backend, Db, DbError};

/// Rows handed from the parsing thread to the writer at a time.
const BATCH_ROWS: usize = 1000;

/// Files up to this size are read into memory once for their checksum and parse (the largest
/// force's month is about 30 MB); larger ones are read twice, streamed, so memory stays flat.
const READ_WHOLE_BYTES: u64 = 64 << 20;

/// Whether a file is an outcomes file by its name, as data.police.uk names them. (A file named
/// otherwise is told by its header; the run's order only makes the import faster.)
fn is_outcomes_file(file: &SourceFile) -> bool {
    file.logical_name().ends_with("-outcomes.csv")
}

/// The order a run imports `files` in (indexes into them): outcomes files first, so crimes can
/// take their latest outcome as they are inserted; then street files by month (data.police.uk
/// names start with it), so the month index grows at its end.
fn run_order(files: &[SourceFile]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..files.len()).collect();
    order.sort_by_key(|&i| {
        (!is_outcomes_file(&files[i]), files[i].logical_name().get(..7).unwrap_or_default().to_string())
    });
    order
}

/// Parsed rows with their integer crime keys, computed on the parsing thread (see
/// [`crime_key`]) so the writer does not spend its time on them; street rows also with where
/// their latest outcomes are in the run's map of latest outcomes, when the parser was given
/// one (one per row, else none: the writer then looks them up itself).
pub(crate) enum Batch {
    Street(Vec<StreetCrime>, Vec<Option<i64>>, Vec<Option<Found>>),
    Outcomes(Vec<PoliceOutcome>, Vec<i64>),
}

impl Batch {
    fn street(rows: Vec<StreetCrime>, known: Option<&LatestOutcomes>) -> Batch {
        let keys: Vec<Option<i64>> = rows.iter().map(|c| c.crime_id.as_deref().map(crime_key)).collect();
        let found = match known {
            Some(known) => rows.iter().zip(&keys).map(|(c, key)| known.find(c.crime_id.as_deref()?, (*key)?)).collect(),
            None => Vec::new(),
        };
        Batch::Street(rows, keys, found)
    }

    fn outcomes(rows: Vec<PoliceOutcome>) -> Batch {
        let keys = rows.iter().map(|o| crime_key(&o.crime_id)).collect();
        Batch::Outcomes(rows, keys)
    }

    fn len(&self) -> usize {
        match self {
            Batch::Street(r, ..) => r.len(),
            Batch::Outcomes(r, _) => r.len(),
        }
    }

    fn without_location(&self) -> usize {
        match self {
            Batch::Street(r, ..) => r.iter().filter(|c| c.location.is_none()).count(),
            Batch::Outcomes(r, _) => r.iter().filter(|o| o.location.is_none()).count(),
        }
    }
}

/// What the parsing thread sends: the file's unit first, then batches and `End` with the
/// boxes of the file's LSOAs' located rows (see [`extents`]; none for an outcomes file), or
/// the first error. Only `End` tells a whole file from a parser that stopped half-way.
pub(crate) enum Message {
    Unit(PoliceFileUnit),
    Rows(Batch),
    Failed(IngestError),
    End(extents::Extents),
}

/// Parses the file on the current thread, handing each message to `send`, which returns
/// `false` when the receiver has gone (the import was found unchanged, or failed). Street
/// rows are looked up in `known` as they are batched (see [`Batch`]).
pub(crate) fn parse_into(file: &SourceFile, known: Option<&LatestOutcomes>, mut send: impl FnMut(Message) -> bool) {
    let reader = match PoliceReader::open(file) {
        Ok(reader) => reader,
        Err(e) => {
            send(Message::Failed(e));
            return;
        }
    };
    if !send(Message::Unit(reader.unit().clone())) {
        return;
    }
    fn pump<T>(
        rows: impl Iterator<Item = Result<T, IngestError>>,
        wrap: impl Fn(Vec<T>) -> Batch,
        boxes: impl Fn(&mut extents::Extents, &T),
        send: &mut impl FnMut(Message) -> bool,
    ) {
        let mut batch = Vec::with_capacity(BATCH_ROWS);
        let mut extents = extents::Extents::default();
        for row in rows {
            match row {
                Ok(row) => {
                    boxes(&mut extents, &row);
                    batch.push(row);
                    if batch.len() == BATCH_ROWS {
                        let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH_ROWS));
                        if !send(Message::Rows(wrap(full))) {
                            return;
                        }
                    }
                }
                Err(e) => {
                    send(Message::Failed(e));
                    return;
                }
            }
        }
        if !batch.is_empty() && !send(Message::Rows(wrap(batch))) {
            return;
        }
        send(Message::End(extents));
    }
    match reader {
        PoliceReader::Street(r) => pump(r, |rows| Batch::street(rows, known), extents::Extents::add_row, &mut send),
        PoliceReader::Outcomes(r) => pump(r, Batch::outcomes, |_, _| {}, &mut send),
    }
}

/// What a run of imports reports as it goes: rows read so far in a file, and each file's
/// result as soon as it is known. `index` is the file's position in the run.
pub enum RunProgress<'a> {
    Rows { index: usize, rows: u64 },
    Finished { index: usize, result: &'a Result<ImportOutcome, DbError> },
}

/// [`RunProgress`] with an owned result, to cross from the import thread to the caller.
pub(crate) enum RunEvent {
    Rows { index: usize, rows: u64 },
    Finished { index: usize, result: Result<ImportOutcome, DbError> },
}

impl Db {
    /// Imports one data.police.uk street or outcomes file. `who` is recorded as the
    /// importer; `progress` is called with the number of rows read so far.
    pub async fn import_police_file(
        &self,
        file: &SourceFile,
        who: &str,
        progress: &(dyn Fn(u64) + Send + Sync),
    ) -> Result<ImportOutcome, DbError> {
        let mut results = self
            .import_police_run(std::slice::from_ref(file), who, None, &|event| {
                if let RunProgress::Rows { rows, .. } = event {
                    progress(rows)
                }
            })
            .await?;
        results.pop().unwrap_or_else(|| Err(DbError::Task("the import returned no result".into())))
    }

    /// Imports data.police.uk files, each in its own transaction: a file that fails imports
    /// nothing and the run goes on with the next. Returns each file's result, in the order
    /// given (on SQLite, outcomes files are imported first; `on_progress` names files by index);
    /// `Err` only when the database itself could not be used. On SQLite the whole run shares
    /// one connection and large runs rebuild their indexes once at the end (see
    /// [`sqlite_bulk`]); on PostgreSQL rows go in by `COPY`, several files at a time on
    /// connections of the run's own (see [`pg_copy`]).
    pub async fn import_police_files(
        &self,
        files: &[SourceFile],
        who: &str,
        on_progress: &(dyn Fn(RunProgress) + Send + Sync),
    ) -> Result<Vec<Result<ImportOutcome, DbError>>, DbError> {
        self.import_police_run(files, who, None, on_progress).await
    }

    /// As [`Db::import_police_files`], writing each imported file's audit row in the file's
    /// own transaction (files found unchanged or failing change nothing and are audited by
    /// the caller).
    pub async fn import_police_files_audited(
        &self,
        files: &[SourceFile],
        audit: &ImportAudit,
        on_progress: &(dyn Fn(RunProgress) + Send + Sync),
    ) -> Result<Vec<Result<ImportOutcome, DbError>>, DbError> {
        self.import_police_run(files, &audit.actor.name, Some(audit), on_progress).await
    }

    async fn import_police_run(
        &self,
        files: &[SourceFile],
        who: &str,
        audit: Option<&ImportAudit>,
        on_progress: &(dyn Fn(RunProgress) + Send + Sync),
    ) -> Result<Vec<Result<ImportOutcome, DbError>>, DbError> {
        let (Backend::Sqlite, Some(path)) = (self.backend(), self.sqlite_path.clone()) else {
            let url = self
                .postgres_url
                .as_deref()
                .ok_or_else(|| DbError::UnsupportedUrl("a PostgreSQL database opened without its URL".into()))?;
            return pg_copy::import_run(
                url,
                files,
                per_file::By { who, audit, key: &self.audit_chain().key },
                on_progress,
            )
            .await;
        };
        let (events_tx, mut events_rx) = mpsc::unbounded_channel();
        let (files, who, audit) = (files.to_vec(), who.to_string(), audit.cloned());
        let key = self.audit_chain().key.clone();
        let count = files.len();
        let handle = tokio::runtime::Handle::current();
        let job = tokio::task::spawn_blocking(move || {
            sqlite_bulk::import_run(
                &handle,
                &path,
                &files,
                per_file::By { who: &who, audit: audit.as_ref(), key: &key },
                &|event| {
                    let _ = events_tx.send(event);
                },
            )
        });
        // Files may finish in another order than given (outcomes files go first).
        let mut results: Vec<Option<Result<ImportOutcome, DbError>>> = (0..count).map(|_| None).collect();
        while let Some(event) = events_rx.recv().await {
            match event {
                RunEvent::Rows { index, rows } => on_progress(RunProgress::Rows { index, rows }),
                RunEvent::Finished { index, result } => {
                    let result = result.map_err(|e| self.storage_error(e));
                    on_progress(RunProgress::Finished { index, result: &result });
                    if let Some(slot) = results.get_mut(index) {
                        *slot = Some(result);
                    }
                }
            }
        }
        job.await.map_err(|e| DbError::Task(e.to_string()))?.map_err(|e| self.storage_error(e))?;
        results
            .into_iter()
            .map(|r| r.ok_or_else(|| DbError::Task("the import did not report every file".into())))
            .collect()
    }

    /// Finishes an SQLite bulk import run that was interrupted (see [`sqlite_bulk`]); called
    /// when the database is opened.
    pub(crate) async fn finish_interrupted_police_import(&self) -> Result<(), DbError> {
        // Asked through the pool: the import's own connection is opened only when a run owes work.
        let owed: i64 = sqlx::query_scalar(
            "SELECT (SELECT CAST(COUNT(*) AS BIGINT) FROM police_deferred_indexes) \
             + (SELECT CAST(COUNT(*) AS BIGINT) FROM police_refresh_pending)",
        )
        .fetch_one(&self.pool)
        .await?;
        if owed == 0 {
            return Ok(());
        }
        if let (Backend::Sqlite, Some(path)) = (self.backend(), self.sqlite_path.clone()) {
            let finished = tokio::task::spawn_blocking(move || sqlite_bulk::finish_interrupted_run(&path))
                .await
                .map_err(|e| DbError::Task(e.to_string()))??;
            if finished {
                tracing::warn!("finished an interrupted police import: indexes rebuilt, outcomes refreshed");
            }
        } else if let Some(url) = self.postgres_url.as_deref() {
            // On the import's kind of connection: the rebuild runs the indexes' own SQL.
            let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(url).await?;
            let finished = pg_deferred::finish(&mut conn, url).await;
            let refreshed = match finished {
                Ok(_) => outcomes::apply_queued(&mut conn).await,
                Err(_) => Ok(false),
            };
            let _ = sqlx::Connection::close(conn).await;
            if finished? | refreshed? {
                tracing::warn!("finished an interrupted police import: indexes rebuilt, outcomes refreshed");
            }
        }
        Ok(())
    }
}
