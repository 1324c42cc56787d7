//! Police recorded crime: importing data.police.uk files and keeping each crime's latest
//! outcome.
//!
//! The import of one file is one transaction. Rows are parsed on a blocking thread and
//! handed over in batches, so memory stays flat however large the file. The unit of
//! replacement is (force, month, kind): the same file again (same checksum) changes nothing;
//! a different export of the same unit replaces the earlier one's rows. Rows are never
//! deduplicated by content or Crime ID.

mod outcomes;
mod writer;

use alliance_core::domain::{PoliceFileKind, PoliceOutcome, StreetCrime};
use alliance_ingest::police::{PoliceFileUnit, PoliceReader};
use alliance_ingest::{IngestError, SourceFile};
use tokio::sync::mpsc;

use crate::imports::{begin_import, finish_import, ImportCounts, ImportOutcome, NewImport};
use crate::{Db, DbError};

/// Rows handed from the parsing thread to the writer at a time.
const BATCH_ROWS: usize = 1000;

enum Batch {
    Street(Vec<StreetCrime>),
    Outcomes(Vec<PoliceOutcome>),
}

/// What the parsing thread sends: the file's unit first, then batches, or the first error.
enum Message {
    Unit(PoliceFileUnit),
    Rows(Batch),
    Failed(IngestError),
}

/// Parses the file on the current (blocking) thread and sends its rows. Stops quietly if
/// the receiver has gone (the import was found unchanged, or failed).
fn parse_into(file: &SourceFile, tx: &mpsc::Sender<Message>) {
    let reader = match PoliceReader::open(file) {
        Ok(reader) => reader,
        Err(e) => {
            let _ = tx.blocking_send(Message::Failed(e));
            return;
        }
    };
    if tx
        .blocking_send(Message::Unit(reader.unit().clone()))
        .is_err()
    {
        return;
    }
    fn pump<T>(
        rows: impl Iterator<Item = Result<T, IngestError>>,
        wrap: fn(Vec<T>) -> Batch,
        tx: &mpsc::Sender<Message>,
    ) {
        let mut batch = Vec::with_capacity(BATCH_ROWS);
        for row in rows {
            match row {
                Ok(row) => {
                    batch.push(row);
                    if batch.len() == BATCH_ROWS {
                        let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH_ROWS));
                        if tx.blocking_send(Message::Rows(wrap(full))).is_err() {
                            return;
                        }
                    }
                }
                Err(e) => {
                    let _ = tx.blocking_send(Message::Failed(e));
                    return;
                }
            }
        }
        if !batch.is_empty() {
            let _ = tx.blocking_send(Message::Rows(wrap(batch)));
        }
    }
    match reader {
        PoliceReader::Street(r) => pump(r, Batch::Street, tx),
        PoliceReader::Outcomes(r) => pump(r, Batch::Outcomes, tx),
    }
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
        let checksum = {
            let file = file.clone();
            tokio::task::spawn_blocking(move || file.checksum())
                .await
                .map_err(|e| DbError::Task(e.to_string()))??
        };
        let (tx_rows, mut rx) = mpsc::channel::<Message>(8);
        let parser = {
            let file = file.clone();
            tokio::task::spawn_blocking(move || parse_into(&file, &tx_rows))
        };
        let unit = match rx.recv().await {
            Some(Message::Unit(unit)) => unit,
            Some(Message::Failed(e)) => return Err(e.into()),
            _ => {
                return Err(DbError::Task(
                    "the police file parser stopped without a result".into(),
                ))
            }
        };
        let key = unit.key();
        let current = self.current_import(&key).await?;
        if let Some(current) = current.as_ref().filter(|c| c.checksum == checksum) {
            drop(rx);
            let _ = parser.await;
            return Ok(ImportOutcome::Unchanged {
                import_id: current.id,
                unit: key,
            });
        }

        let mut tx = self.pool.begin().await?;
        let month = unit.month.to_string();
        let import_id = begin_import(
            &mut tx,
            &NewImport {
                source: "police",
                kind: unit.kind.as_str(),
                unit: &key,
                force: Some(unit.force.as_str()),
                month: Some(&month),
                file_name: &file.name,
                checksum: &checksum,
                imported_by: who,
            },
        )
        .await?;
        let mut counts = ImportCounts::default();
        let mut writer = writer::BatchWriter::new(self.backend());
        while let Some(message) = rx.recv().await {
            match message {
                Message::Rows(Batch::Street(rows)) => {
                    counts.rows_without_location +=
                        rows.iter().filter(|r| r.location.is_none()).count() as i64;
                    counts.rows_read += rows.len() as i64;
                    writer.insert_crimes(&mut tx, import_id, &rows).await?;
                }
                Message::Rows(Batch::Outcomes(rows)) => {
                    counts.rows_without_location +=
                        rows.iter().filter(|r| r.location.is_none()).count() as i64;
                    counts.rows_read += rows.len() as i64;
                    writer.insert_outcomes(&mut tx, import_id, &rows).await?;
                }
                Message::Failed(e) => return Err(e.into()),
                Message::Unit(_) => {}
            }
            progress(counts.rows_read as u64);
        }
        parser.await.map_err(|e| DbError::Task(e.to_string()))?;
        counts.rows_added = counts.rows_read;
        let replaced = current.map(|c| c.id);
        match unit.kind {
            PoliceFileKind::Street => {
                if let Some(old) = replaced {
                    counts.rows_replaced =
                        outcomes::delete_rows(&mut tx, "police_crimes", old).await?;
                }
                outcomes::refresh_for_street_import(&mut tx, import_id).await?;
            }
            PoliceFileKind::Outcomes => {
                outcomes::refresh_for_outcomes_import(&mut tx, import_id, replaced, &mut counts)
                    .await?;
            }
        }
        finish_import(&mut tx, import_id, counts, replaced).await?;
        tx.commit().await?;
        Ok(ImportOutcome::Imported {
            import_id,
            unit: key,
            counts,
            replaced,
        })
    }
}
