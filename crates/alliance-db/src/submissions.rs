//! Forms sent twice: a one-time key makes a repeated submission find what the first made
//! instead of making it again.
//!
//! A form that creates a record (every creating form of the web app: an action, an
//! indicator, a place, a funding allocation, a meeting, a public report…) carries a
//! random key in a hidden field. The creating transaction first inserts the key (`INSERT …
//! ON CONFLICT DO NOTHING` under the primary key), then makes the record and stores its id
//! with the key. A repeat of the same key inserts nothing and reads the id the first stored:
//! on PostgreSQL its insert waits for the first transaction and then finds the key; on
//! SQLite `BEGIN IMMEDIATE` already runs them one after the other. So however the two
//! arrive (a double click, two tabs, two instances), one record is made. Keys are namespaced
//! by the caller (`allocation:…`) and bounded in length, and kept a day; a form without one
//! (a script) makes a record each time.

use sqlx::{AnyConnection, Row};

use crate::DbError;

/// The longest key accepted (the forms send 43 characters).
const MAX_KEY_CHARS: usize = 100;

/// How long a key is kept: long enough for any retry of a form; older keys are removed as
/// new ones are claimed, so the table stays small.
const KEPT_FOR: chrono::Duration = chrono::Duration::days(1);

/// What [`claim`] found: a new submission, or the id the first one with this key made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Claim {
    New,
    Repeat(i64),
}

/// The namespaced key of a form's submission, or `None` when the form sent none; a key longer
/// than [`MAX_KEY_CHARS`] is refused.
pub(crate) fn key(kind: &str, submitted: Option<&str>) -> Result<Option<String>, DbError> {
    match submitted.map(str::trim).filter(|k| !k.is_empty()) {
        None => Ok(None),
        Some(k) if k.chars().count() > MAX_KEY_CHARS => {
            Err(DbError::invalid("submission", "The form's submission key is too long: reload the page"))
        }
        Some(k) => Ok(Some(format!("{kind}:{k}"))),
    }
}

/// Claims `key` for the transaction: first in it, before the record is made.
pub(crate) async fn claim(tx: &mut AnyConnection, key: Option<&str>) -> Result<Claim, DbError> {
    let Some(key) = key else { return Ok(Claim::New) };
    let now = chrono::Utc::now();
    sqlx::query("DELETE FROM form_submissions WHERE created_at < $1")
        .bind(crate::clock::stamp(now - KEPT_FOR))
        .execute(&mut *tx)
        .await?;
    let inserted = sqlx::query(
        "INSERT INTO form_submissions (submission_key, created_at) VALUES ($1, $2) \
         ON CONFLICT (submission_key) DO NOTHING",
    )
    .bind(key)
    .bind(crate::clock::stamp(now))
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if inserted == 1 {
        return Ok(Claim::New);
    }
    let made: Option<i64> = sqlx::query("SELECT made_id FROM form_submissions WHERE submission_key = $1")
        .bind(key)
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
    made.map(Claim::Repeat).ok_or_else(|| DbError::corrupt(format!("form submission {key} without what it made")))
}

/// Stores what the submission of `key` made, in the same transaction as the record.
pub(crate) async fn record(tx: &mut AnyConnection, key: Option<&str>, made: i64) -> Result<(), DbError> {
    if let Some(key) = key {
        sqlx::query("UPDATE form_submissions SET made_id = $1 WHERE submission_key = $2")
            .bind(made)
            .bind(key)
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}

impl crate::Db {
    /// The id the form of `kind` with key `submitted` made, when one was stored (and is still
    /// kept). For a handler whose own checks would refuse the repeat because of what the
    /// first made (the indicator code it took): it answers with the first one's record
    /// before checking. Not a claim: the creating transaction still claims the key (and
    /// refuses an over-long one, which finds nothing here).
    pub async fn made_by_submission(&self, kind: &str, submitted: Option<&str>) -> Result<Option<i64>, DbError> {
        let Ok(Some(key)) = key(kind, submitted) else { return Ok(None) };
        let kept_since = crate::clock::stamp(chrono::Utc::now() - KEPT_FOR);
        let made: Option<Option<i64>> =
            sqlx::query_scalar("SELECT made_id FROM form_submissions WHERE submission_key = $1 AND created_at >= $2")
                .bind(key)
                .bind(kept_since)
                .fetch_optional(&self.pool)
                .await?;
        Ok(made.flatten())
    }
}
