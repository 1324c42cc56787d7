//! The audit log: append-only and hash-chained with a key kept outside the database.
//!
//! Each row stores `hash = HMAC-SHA-256(key, prev_hash ‖ canonical row)` in lower-case hex,
//! where `prev_hash` is the previous row's hash (64 zeros for the first row), the canonical
//! row is the JSON array `[id, at, actor, action, target, detail, ip]` (serde_json's
//! escaping makes it unambiguous) and the key is the [`AuditKey`] (a file or an environment
//! variable, never stored in the database). Altering, deleting or inserting a row by hand
//! breaks the chain at that row, which [`Db::verify_audit_chain`] reports; without the key
//! nobody can recompute the later hashes to hide it. Truncation (deleting the newest rows)
//! leaves a shorter chain that is still whole: a [`checkpoint::Checkpoint`] kept off the
//! system (`alliance audit checkpoint`) detects it. This module has no UPDATE or DELETE on
//! the table: the code can only append.
//!
//! Rows written before migration 0023 were chained with plain SHA-256 (`SHA-256(prev_hash ‖
//! canonical row)`): the table `audit_chain_upgrade` records how many, and they are verified
//! under that rule; every later row under the keyed one.
//!
//! Appends are serialised by the database, across processes and instances (see [`append`]):
//! a change and its audit row are written in one transaction. `prev_hash` is also UNIQUE, so
//! even a writer that bypassed the lock could not fork the chain.

pub mod checkpoint;
mod key;

pub use key::{
    default_key_file, AuditKey, AuditKeySource, KEY_ENV, KEY_FILE_ENV, MIN_KEY_BYTES, POSTGRES_DEFAULT_KEY_FILE,
};

use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::AnyConnection;
use sqlx::{FromRow, Row};

use crate::params::Params;
use crate::{Backend, Db, DbError};

/// The `prev_hash` of the first row.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What happened, to be recorded.
#[derive(Debug, Clone)]
pub struct AuditEvent<'a> {
    /// `user:<email>`, `token:<id>`, `cli:<login>`, or `anonymous`.
    pub actor: &'a str,
    /// e.g. `sign-in`, `sign-in-failed`, `read-restricted`, `import`, `export`, `permission-change`.
    pub action: &'a str,
    /// What it was done to: a path, a dataset, a user's email, a file name.
    pub target: &'a str,
    pub detail: &'a str,
    /// The client's address, from the socket (`cli` for the command line).
    pub ip: &'a str,
}

/// Who makes a change and from where: what every audited write is given, so that it can
/// write its audit row in its own transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// As [`AuditEvent::actor`]: `user:<email>`, `token:<id> (<organisation>)`, `cli:<login>`.
    pub name: String,
    /// As [`AuditEvent::ip`].
    pub ip: String,
}

impl Actor {
    pub fn new(name: impl Into<String>, ip: impl Into<String>) -> Actor {
        Actor { name: name.into(), ip: ip.into() }
    }

    /// The event of this actor doing `action` to `target`.
    pub fn event<'a>(&'a self, action: &'a str, target: &'a str, detail: &'a str) -> AuditEvent<'a> {
        AuditEvent { actor: &self.name, action, target, detail, ip: &self.ip }
    }
}

/// One stored row.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, sqlx::FromRow)]
pub struct AuditEntry {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub detail: String,
    pub ip: String,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditEntry {
    /// The canonical text hashed for this row.
    pub fn canonical(&self) -> String {
        serde_json::json!([self.id, self.at, self.actor, self.action, self.target, self.detail, self.ip]).to_string()
    }

    /// The hash this row should have after `prev_hash`, keyed with `key`.
    pub fn expected_hash(&self, key: &AuditKey, prev_hash: &str) -> String {
        key.sign(&[prev_hash.as_bytes(), self.canonical().as_bytes()])
    }

    /// The hash of the rule before migration 0023: plain SHA-256, no key.
    pub fn legacy_hash(&self, prev_hash: &str) -> String {
        let mut h = Sha256::new();
        h.update(prev_hash.as_bytes());
        h.update(self.canonical().as_bytes());
        hex::encode(h.finalize())
    }
}

/// What an append needs besides the transaction: the backend (for its lock) and the key.
/// [`Db::audit_chain`] gives the database's own.
#[derive(Debug, Clone)]
pub struct AuditChain {
    pub backend: Backend,
    pub key: AuditKey,
}

const COLUMNS: &str = "id, at, actor, action, target, detail, ip, prev_hash, hash";

/// A search of the log; every field optional. `from`/`to` are dates (YYYY-MM-DD) or RFC
/// 3339 times, compared as text with `at`; `to` as a bare date includes that whole day.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub limit: i64,
}

/// The result of walking the chain.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ChainReport {
    pub rows_checked: i64,
    /// The first row that does not follow from its predecessor, and why.
    pub first_broken: Option<(i64, String)>,
    /// How many rows, from the first, were written before the chain was keyed (verified with
    /// plain SHA-256).
    pub legacy_rows: i64,
    /// The id and hash of the last row that verified (`None` for an empty log).
    pub head: Option<(i64, String)>,
}

/// The PostgreSQL advisory lock that serialises appends to the chain across processes
/// (any fixed number unique to this purpose; "AUDT").
const AUDIT_LOCK_KEY: i64 = 0x4155_4454;

/// Takes the audit chain's lock at once, for a change whose checks must read every earlier
/// change committed (the last administrator): on PostgreSQL the transaction-scoped advisory
/// lock [`append`] takes anyway (taking it twice in one transaction is harmless); on SQLite
/// nothing, since `BEGIN IMMEDIATE` already holds the write lock.
pub(crate) async fn lock_chain_now(tx: &mut AnyConnection, backend: Backend) -> Result<(), DbError> {
    if backend == Backend::Postgres {
        sqlx::query(self::chain::LOCK_SQL).bind(self::chain::lock_key()).execute(&mut *tx).await?;
    }
    Ok(())
}

/// Appends `event` to the chain inside the caller's transaction and returns its id, so that
/// the change the event records and its audit row commit or roll back together.
///
/// The transaction must come from [`Db::begin_write`]: on SQLite it then already holds the
/// database's write lock (`BEGIN IMMEDIATE`), and on PostgreSQL this takes a transaction-
/// scoped advisory lock before reading the end of the chain; either way no other writer can
/// append between the read and the insert, so concurrent writers never fork the chain or
/// collide on its keys.
pub async fn append(tx: &mut AnyConnection, chain: &AuditChain, event: &AuditEvent<'_>) -> Result<i64, DbError> {
    if chain.backend == Backend::Postgres {
        sqlx::query(self::chain::LOCK_SQL).bind(self::chain::lock_key()).execute(&mut *tx).await?;
    }
    let last = match sqlx::query(self::chain::LAST_SQL).fetch_optional(&mut *tx).await? {
        Some(r) => Some((r.try_get::<i64, _>(0)?, r.try_get::<String, _>(1)?)),
        None => None,
    };
    let entry = self::chain::entry_after(&chain.key, last, event);
    sqlx::query(&self::chain::insert_sql())
        .bind(entry.id)
        .bind(&entry.at)
        .bind(&entry.actor)
        .bind(&entry.action)
        .bind(&entry.target)
        .bind(&entry.detail)
        .bind(&entry.ip)
        .bind(&entry.prev_hash)
        .bind(&entry.hash)
        .execute(&mut *tx)
        .await?;
    Ok(entry.id)
}

impl Db {
    /// Starts a transaction that will write: `BEGIN IMMEDIATE` on SQLite, which takes the write
    /// lock at once (a deferred transaction that reads and then writes fails with
    /// `SQLITE_BUSY` when another connection wrote in between; this one waits its turn under
    /// the busy timeout instead), and a plain `BEGIN` on PostgreSQL, whose row locks and
    /// constraints do that work.
    pub async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, DbError> {
        Ok(match self.backend() {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }

    /// Appends `event` to the chain inside `tx` and commits: the last step of every audited
    /// change, so that the change and its audit row are kept or lost together.
    pub(crate) async fn commit_audited(
        &self,
        mut tx: sqlx::Transaction<'static, sqlx::Any>,
        event: &AuditEvent<'_>,
    ) -> Result<(), DbError> {
        append(&mut tx, self.audit_chain(), event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// [`commit_audited`](Db::commit_audited) for a change of one row that applies only in the
    /// state it expects (`… WHERE id = $n AND status = 'submitted'`), given the rows it
    /// `changed`: `false` when that is not one row (an unknown id, or a decision already
    /// taken), and then nothing is kept or recorded (dropping `tx` rolls it back).
    pub(crate) async fn commit_audited_if_one_row(
        &self,
        tx: sqlx::Transaction<'static, sqlx::Any>,
        changed: u64,
        event: &AuditEvent<'_>,
    ) -> Result<bool, DbError> {
        if changed != 1 {
            return Ok(false);
        }
        self.commit_audited(tx, event).await?;
        Ok(true)
    }

    /// Appends an event on its own (for events that record no change of stored data, such
    /// as a sign-in or a read of restricted data) and returns its id. A change is recorded
    /// with [`append`] inside the change's own transaction instead.
    pub async fn audit(&self, event: &AuditEvent<'_>) -> Result<i64, DbError> {
        let mut tx = self.begin_write().await?;
        let id = append(&mut tx, self.audit_chain(), event).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// What a page built from stored data depends on, as two numbers that only grow: the
    /// newest audit row's id (every audited change of stored data writes one in its own
    /// transaction, and appends are serialised) and the newest import's id (every import of
    /// any kind records one, audited or not, and a replacement is a new import). Caches of
    /// rendered pages key on it (the public page cache of `alliance-web`), on every instance
    /// alike.
    pub async fn data_version(&self) -> Result<(i64, i64), DbError> {
        let row = sqlx::query(
            "SELECT CAST((SELECT COALESCE(MAX(id), 0) FROM audit_log) AS BIGINT), \
                    CAST((SELECT COALESCE(MAX(id), 0) FROM imports) AS BIGINT)",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok((row.try_get(0)?, row.try_get(1)?))
    }

    /// Searches the log, newest first.
    pub async fn audit_search(&self, q: &AuditQuery) -> Result<Vec<AuditEntry>, DbError> {
        let mut sql = format!("SELECT {COLUMNS} FROM audit_log WHERE 1 = 1");
        let mut params = Params::new();
        if let Some(actor) = q.actor.as_deref().filter(|s| !s.is_empty()) {
            sql.push_str(&format!(" AND LOWER(actor) LIKE {}", params.push(format!("%{}%", actor.to_lowercase()))));
        }
        if let Some(action) = q.action.as_deref().filter(|s| !s.is_empty()) {
            sql.push_str(&format!(" AND action = {}", params.push(action)));
        }
        if let Some(from) = q.from.as_deref().filter(|s| !s.is_empty()) {
            sql.push_str(&format!(" AND at >= {}", params.push(from)));
        }
        if let Some(to) = q.to.as_deref().filter(|s| !s.is_empty()) {
            // A bare date includes the whole day: compare with the next character after it.
            let to = if to.len() == 10 { format!("{to}T99") } else { to.to_string() };
            sql.push_str(&format!(" AND at <= {}", params.push(to)));
        }
        sql.push_str(&format!(" ORDER BY id DESC LIMIT {}", q.limit.clamp(1, 10_000)));
        let rows = params.bind(sqlx::query(&sql), 0).fetch_all(&self.pool).await?;
        Ok(rows.iter().map(AuditEntry::from_row).collect::<Result<_, _>>()?)
    }

    /// How many rows were chained before the key (migration 0023's count).
    pub async fn audit_legacy_rows(&self) -> Result<i64, DbError> {
        let row =
            sqlx::query("SELECT legacy_rows FROM audit_chain_upgrade WHERE id = 1").fetch_optional(&self.pool).await?;
        match row {
            Some(r) => Ok(r.try_get(0)?),
            None => Err(DbError::corrupt("audit_chain_upgrade: its one row is missing")),
        }
    }

    /// Walks the whole chain in id order and reports the first row that does not follow
    /// from its predecessor (wrong id sequence, wrong `prev_hash`, or a hash that does not
    /// match the row's contents under this database's key, or under plain SHA-256 for the
    /// rows written before the chain was keyed).
    pub async fn verify_audit_chain(&self) -> Result<ChainReport, DbError> {
        let legacy_rows = self.audit_legacy_rows().await?;
        let key = &self.audit_chain().key;
        let mut prev_hash = GENESIS_HASH.to_string();
        let mut prev_id = 0i64;
        let mut checked = 0i64;
        let report = |checked, first_broken, prev_id: i64, prev_hash: String| ChainReport {
            rows_checked: checked,
            first_broken,
            legacy_rows,
            head: (prev_id > 0).then_some((prev_id, prev_hash)),
        };
        loop {
            let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM audit_log WHERE id > $1 ORDER BY id LIMIT 1000"))
                .bind(prev_id)
                .fetch_all(&self.pool)
                .await?;
            if rows.is_empty() {
                return Ok(report(checked, None, prev_id, prev_hash));
            }
            for r in &rows {
                let e = AuditEntry::from_row(r)?;
                let expected =
                    if e.id <= legacy_rows { e.legacy_hash(&prev_hash) } else { e.expected_hash(key, &prev_hash) };
                let broken = if e.id != prev_id + 1 {
                    Some(format!(
                        "expected row {} next, found row {} (a row was removed or inserted)",
                        prev_id + 1,
                        e.id
                    ))
                } else if e.prev_hash != prev_hash {
                    Some("its previous-hash does not match the hash of the row before it".to_string())
                } else if e.hash != expected {
                    Some(if e.id <= legacy_rows {
                        "its contents do not match its hash (the row was altered)".to_string()
                    } else {
                        "its contents do not match its keyed hash (the row was altered, or the log was \
                         rewritten without the key, or this is not the key the log was written with)"
                            .to_string()
                    })
                } else {
                    None
                };
                if let Some(why) = broken {
                    return Ok(report(checked, Some((e.id, why)), prev_id, prev_hash));
                }
                checked += 1;
                prev_id = e.id;
                prev_hash = e.hash;
            }
        }
    }

    /// The stored hash of row `id`, if it exists.
    pub async fn audit_row_hash(&self, id: i64) -> Result<Option<String>, DbError> {
        let row = sqlx::query("SELECT hash FROM audit_log WHERE id = $1").bind(id).fetch_optional(&self.pool).await?;
        Ok(match row {
            Some(r) => Some(r.try_get(0)?),
            None => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_follows_the_documented_rule() {
        let e = AuditEntry {
            id: 1,
            at: "2025-01-01T00:00:00.000Z".into(),
            actor: "user:a@example.org".into(),
            action: "sign-in".into(),
            target: "/sign-in".into(),
            detail: "".into(),
            ip: "127.0.0.1".into(),
            prev_hash: GENESIS_HASH.into(),
            hash: String::new(),
        };
        assert_eq!(
            e.canonical(),
            r#"[1,"2025-01-01T00:00:00.000Z","user:a@example.org","sign-in","/sign-in","","127.0.0.1"]"#
        );
        let mut h = Sha256::new();
        h.update(GENESIS_HASH.as_bytes());
        h.update(e.canonical().as_bytes());
        assert_eq!(e.legacy_hash(GENESIS_HASH), hex::encode(h.finalize()));
        let key = AuditKey::from_secret(&"k".repeat(32), "test").unwrap();
        let mut mac = <hmac::Hmac<Sha256> as hmac::Mac>::new_from_slice(&[b'k'; 32]).unwrap();
        hmac::Mac::update(&mut mac, GENESIS_HASH.as_bytes());
        hmac::Mac::update(&mut mac, e.canonical().as_bytes());
        assert_eq!(e.expected_hash(&key, GENESIS_HASH), hex::encode(hmac::Mac::finalize(mac).into_bytes()));
        assert_ne!(e.expected_hash(&key, GENESIS_HASH), e.legacy_hash(GENESIS_HASH));
        assert_ne!(e.expected_hash(&key, GENESIS_HASH), e.expected_hash(&key, &"1".repeat(64)));
        let other = AuditKey::from_secret(&"j".repeat(32), "test").unwrap();
        assert_ne!(e.expected_hash(&key, GENESIS_HASH), e.expected_hash(&other, GENESIS_HASH));
    }
}

/// The pieces of [`append`] for connections that are not `Any` ones: the police import runs
/// each file's transaction on its own `rusqlite` or `PgConnection` (`police/`) and appends the
/// file's audit row there, under the same lock and with the same chain rule.
pub(crate) mod chain {
    use super::{AuditEntry, AuditEvent, AuditKey, AUDIT_LOCK_KEY, COLUMNS, GENESIS_HASH};

    /// PostgreSQL: `SELECT pg_advisory_xact_lock($1)` with [`lock_key`].
    pub(crate) const LOCK_SQL: &str = "SELECT pg_advisory_xact_lock($1)";
    pub(crate) const LAST_SQL: &str = "SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1";

    pub(crate) fn lock_key() -> i64 {
        AUDIT_LOCK_KEY
    }

    pub(crate) fn insert_sql() -> String {
        format!("INSERT INTO audit_log ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
    }

    /// The row that follows `last` (the chain's last id and hash, `None` when empty).
    pub(crate) fn entry_after(key: &AuditKey, last: Option<(i64, String)>, event: &AuditEvent<'_>) -> AuditEntry {
        let (prev_id, prev_hash) = last.unwrap_or_else(|| (0, GENESIS_HASH.to_string()));
        let mut entry = AuditEntry {
            id: prev_id + 1,
            at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            actor: event.actor.to_string(),
            action: event.action.to_string(),
            target: event.target.to_string(),
            detail: event.detail.to_string(),
            ip: event.ip.to_string(),
            prev_hash,
            hash: String::new(),
        };
        entry.hash = entry.expected_hash(key, &entry.prev_hash);
        entry
    }
}
