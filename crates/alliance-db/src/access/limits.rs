//! Abuse limits kept in the database, so that every server on one database shares them:
//! hits of a client on a limited action (signing in, a public form) counted in fixed
//! windows, and the day's secret under which clients are keyed. The web layer decides the
//! limits and turns an address into a key (`alliance_web::auth::throttle`); no address is
//! ever stored.

use sqlx::Row;

use crate::{Db, DbError};

impl Db {
    /// The secret of UTC day `day` (days since 1970-01-01): the one stored, or else `fresh`,
    /// stored now (the first server to ask makes it; the others read it). Earlier days'
    /// secrets are deleted, so yesterday's keys cannot be recomputed.
    pub async fn rate_limit_secret(&self, day: i64, fresh: &str) -> Result<String, DbError> {
        sqlx::query("INSERT INTO rate_limit_secrets (day, secret) VALUES ($1, $2) ON CONFLICT (day) DO NOTHING")
            .bind(day)
            .bind(fresh)
            .execute(&self.pool)
            .await?;
        sqlx::query("DELETE FROM rate_limit_secrets WHERE day < $1").bind(day).execute(&self.pool).await?;
        let row = sqlx::query("SELECT secret FROM rate_limit_secrets WHERE day = $1")
            .bind(day)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| DbError::corrupt(format!("rate_limit_secrets: day {day} missing after it was stored")))?;
        Ok(row.try_get(0)?)
    }

    /// Counts one hit of `client` on `scope` in the window starting at `window_start` (Unix
    /// seconds) and returns the hits in that window, this one included. One statement, so
    /// concurrent hits (from any server) are each counted once. Windows that started before
    /// `forget_before` are deleted when a new window begins.
    pub async fn rate_limit_hit(
        &self,
        scope: &str,
        client: &str,
        window_start: i64,
        forget_before: i64,
    ) -> Result<i64, DbError> {
        let rows = sqlx::query(
            "INSERT INTO rate_limits (scope, client, window_start, hits) VALUES ($1, $2, $3, 1) \
             ON CONFLICT (scope, client, window_start) DO UPDATE SET hits = rate_limits.hits + 1 RETURNING hits",
        )
        .bind(scope)
        .bind(client)
        .bind(window_start)
        .fetch_all(&self.pool)
        .await?;
        let hits: i64 = match rows.first() {
            Some(row) => row.try_get(0)?,
            None => return Err(DbError::corrupt("rate_limits: the counted hit returned no row")),
        };
        if hits == 1 {
            sqlx::query("DELETE FROM rate_limits WHERE window_start < $1")
                .bind(forget_before)
                .execute(&self.pool)
                .await?;
        }
        Ok(hits)
    }

    /// Takes back one hit of `client` on `scope` in the window starting at `window_start`,
    /// counted before by [`Db::rate_limit_hit`]: for an action that turned out not to count
    /// (a sign-in whose password was right). One statement, so it cannot undo a concurrent
    /// hit's count nor be lost to one; never below zero, and a window already forgotten is
    /// left as it is.
    pub async fn rate_limit_unhit(&self, scope: &str, client: &str, window_start: i64) -> Result<(), DbError> {
        sqlx::query(
            "UPDATE rate_limits SET hits = hits - 1 WHERE scope = $1 AND client = $2 AND window_start = $3 AND hits > 0",
        )
        .bind(scope)
        .bind(client)
        .bind(window_start)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
