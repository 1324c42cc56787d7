//! Signed checkpoints of the audit log, for keeping off the system.
//!
//! A checkpoint says "the log had `rows` rows ending in `head_hash`, of which the first
//! `legacy_rows` were chained without a key, at `at`", signed with HMAC-SHA-256 under the audit
//! key. Kept where the database administrator cannot change it (printed, mailed to the data
//! protection officer, stored by another partner), it lets anyone with the key check later
//! that the log still begins with exactly those rows: deleting the newest rows (truncation)
//! removes the head it names, and rewriting any row changes the head's hash (the chain's keyed
//! hashes cannot be recomputed to match without the key). The file is JSON:
//!
//! ```json
//! {"format":"alliance-audit-checkpoint/1","rows":120,"head_hash":"…","legacy_rows":0,
//!  "at":"2026-12-02T17:00:00Z","signature":"…"}
//! ```
//!
//! The signature covers `format`, `rows`, `head_hash`, `legacy_rows` and `at`, one per line in
//! that order.

use hmac::Mac;
use serde::{Deserialize, Serialize};

use super::{AuditKey, ChainReport, GENESIS_HASH};
use crate::{Db, DbError};

/// The `format` of the checkpoints this version writes and reads.
pub const FORMAT: &str = "alliance-audit-checkpoint/1";

/// The largest checkpoint file read (they are a few hundred bytes).
pub const MAX_CHECKPOINT_BYTES: usize = 4096;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    pub format: String,
    /// Rows in the log when it was taken (ids 1..=rows).
    pub rows: i64,
    /// The hash of row `rows` (64 zeros for an empty log).
    pub head_hash: String,
    /// How many of them were chained before the key.
    pub legacy_rows: i64,
    /// When it was taken (RFC 3339, UTC).
    pub at: String,
    /// HMAC-SHA-256 under the audit key, lower-case hex.
    pub signature: String,
}

impl Checkpoint {
    fn signed_text(format: &str, rows: i64, head_hash: &str, legacy_rows: i64, at: &str) -> String {
        format!("{format}\n{rows}\n{head_hash}\n{legacy_rows}\n{at}")
    }

    /// A checkpoint of `rows` rows ending in `head_hash`, signed with `key`.
    pub fn sign(key: &AuditKey, rows: i64, head_hash: &str, legacy_rows: i64, at: &str) -> Checkpoint {
        let text = Checkpoint::signed_text(FORMAT, rows, head_hash, legacy_rows, at);
        Checkpoint {
            format: FORMAT.to_string(),
            rows,
            head_hash: head_hash.to_string(),
            legacy_rows,
            at: at.to_string(),
            signature: key.sign(&[text.as_bytes()]),
        }
    }

    /// Whether the signature is `key`'s over these fields (compared in constant time).
    pub fn signed_by(&self, key: &AuditKey) -> bool {
        let Ok(signature) = hex::decode(&self.signature) else { return false };
        let mut mac = key.mac();
        mac.update(
            Checkpoint::signed_text(&self.format, self.rows, &self.head_hash, self.legacy_rows, &self.at).as_bytes(),
        );
        mac.verify_slice(&signature).is_ok()
    }

    /// The checkpoint as its file holds it (JSON, one line, ending in a newline).
    pub fn to_file_text(&self) -> String {
        let mut text = serde_json::to_string(self).unwrap_or_else(|_| unreachable!("plain fields serialise"));
        text.push('\n');
        text
    }

    /// Reads a checkpoint file's text; `Invalid { field: "checkpoint" }` says what is wrong.
    pub fn parse(text: &str) -> Result<Checkpoint, DbError> {
        if text.len() > MAX_CHECKPOINT_BYTES {
            return Err(DbError::invalid("checkpoint", format!("larger than {MAX_CHECKPOINT_BYTES} bytes")));
        }
        let cp: Checkpoint = serde_json::from_str(text.trim())
            .map_err(|e| DbError::invalid("checkpoint", format!("not a checkpoint file: {e}")))?;
        if cp.format != FORMAT {
            return Err(DbError::invalid("checkpoint", format!("format \"{}\", expected \"{FORMAT}\"", cp.format)));
        }
        Ok(cp)
    }
}

/// What checking the log against a checkpoint found: nothing wrong when `problems` is empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckpointReport {
    pub chain: ChainReport,
    pub problems: Vec<String>,
}

impl Db {
    /// A signed checkpoint of the log as it is now. A broken chain is refused
    /// (`Conflict { field: "audit log" }`): a checkpoint vouches only for a whole log.
    pub async fn audit_checkpoint(&self) -> Result<Checkpoint, DbError> {
        let report = self.verify_audit_chain().await?;
        if let Some((id, why)) = report.first_broken {
            return Err(DbError::conflict("audit log", format!("broken at row {id}: {why}; no checkpoint written")));
        }
        let (rows, head) = report.head.unwrap_or_else(|| (0, GENESIS_HASH.to_string()));
        let at = crate::clock::now();
        Ok(Checkpoint::sign(&self.audit_chain().key, rows, &head, report.legacy_rows, &at))
    }

    /// Checks the chain and then the log against `checkpoint`: its signature under this
    /// database's key, that the row it ends at still exists (no truncation) with the hash it
    /// recorded (no rewriting), and that the rows counted as unkeyed are the same.
    pub async fn verify_audit_checkpoint(&self, checkpoint: &Checkpoint) -> Result<CheckpointReport, DbError> {
        let chain = self.verify_audit_chain().await?;
        let mut problems = Vec::new();
        if !checkpoint.signed_by(&self.audit_chain().key) {
            problems.push(
                "the checkpoint's signature does not match: it was altered, or signed with another key".to_string(),
            );
        }
        if let Some((id, why)) = &chain.first_broken {
            problems.push(format!("the chain is broken at row {id}: {why}"));
        }
        let rows_now = chain.head.as_ref().map_or(0, |(id, _)| *id);
        if chain.first_broken.is_none() && rows_now < checkpoint.rows {
            problems.push(format!(
                "the log was truncated: it has {rows_now} rows, the checkpoint of {} recorded {}",
                checkpoint.at, checkpoint.rows
            ));
        }
        if checkpoint.rows > 0 {
            match self.audit_row_hash(checkpoint.rows).await? {
                None => problems.push(format!("row {} (the checkpoint's last row) is missing", checkpoint.rows)),
                Some(hash) if hash != checkpoint.head_hash => problems.push(format!(
                    "row {}'s hash differs from the checkpoint's: the log up to it was rewritten",
                    checkpoint.rows
                )),
                Some(_) => {}
            }
        }
        if chain.legacy_rows != checkpoint.legacy_rows {
            problems.push(format!(
                "the log counts {} rows as written before the key, the checkpoint {}: the switch-over mark was moved",
                chain.legacy_rows, checkpoint.legacy_rows
            ));
        }
        Ok(CheckpointReport { chain, problems })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checkpoint_is_signed_over_every_field() {
        let key = AuditKey::from_secret(&"k".repeat(32), "test").unwrap();
        let cp = Checkpoint::sign(&key, 12, &"a".repeat(64), 0, "2026-12-02T17:00:00Z");
        assert!(cp.signed_by(&key));
        let back = Checkpoint::parse(&cp.to_file_text()).unwrap();
        assert_eq!(back, cp);
        let other = AuditKey::from_secret(&"j".repeat(32), "test").unwrap();
        assert!(!cp.signed_by(&other));
        for altered in [
            Checkpoint { rows: 11, ..cp.clone() },
            Checkpoint { head_hash: "b".repeat(64), ..cp.clone() },
            Checkpoint { legacy_rows: 5, ..cp.clone() },
            Checkpoint { at: "2026-12-03T17:00:00Z".into(), ..cp.clone() },
            Checkpoint { signature: "zz".into(), ..cp.clone() },
        ] {
            assert!(!altered.signed_by(&key), "{altered:?}");
        }
        assert!(Checkpoint::parse("{}").is_err());
        assert!(Checkpoint::parse(&"x".repeat(MAX_CHECKPOINT_BYTES + 1)).is_err());
    }
}
