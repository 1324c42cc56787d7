//! "You said, we did": the partnership's published responses to what people reported.

use serde::Serialize;
use sqlx::Row;

use crate::audit::Actor;
use crate::clock::now;
use crate::submissions::{self, Claim};
use crate::{Db, DbError};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct PublicResponse {
    pub id: i64,
    pub area_kind: String,
    pub area_code: String,
    pub area_name: String,
    pub you_said: String,
    pub we_did: String,
    pub published_at: String,
    pub published_by: String,
}

impl Db {
    /// Publishes a response about an area ('ward' or 'district') and records it
    /// (`publish-response`) in the same transaction; returns its id. The same form sent again
    /// (its `submission` key) publishes nothing more and returns the first one's id.
    #[allow(clippy::too_many_arguments)]
    pub async fn publish_response(
        &self,
        area_kind: &str,
        area_code: &str,
        area_name: &str,
        you_said: &str,
        we_did: &str,
        submission: Option<&str>,
        actor: &Actor,
    ) -> Result<i64, DbError> {
        let key = submissions::key("response", submission)?;
        let mut tx = self.begin_write().await?;
        if let Claim::Repeat(first) = submissions::claim(&mut tx, key.as_deref()).await? {
            return Ok(first);
        }
        let row = sqlx::query(
            "INSERT INTO public_responses (area_kind, area_code, area_name, you_said, we_did, published_at, published_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(area_kind)
        .bind(area_code)
        .bind(area_name)
        .bind(you_said)
        .bind(we_did)
        .bind(now())
        .bind(actor.name.as_str())
        .fetch_one(&mut *tx)
        .await?;
        let id: i64 = row.try_get(0)?;
        submissions::record(&mut tx, key.as_deref(), id).await?;
        let target = format!("{area_kind}:{area_code}");
        self.commit_audited(tx, &actor.event("publish-response", &target, &format!("response {id} published"))).await?;
        Ok(id)
    }

    /// Published responses, newest first.
    pub async fn public_responses(&self) -> Result<Vec<PublicResponse>, DbError> {
        Ok(sqlx::query_as(
            "SELECT id, area_kind, area_code, area_name, you_said, we_did, published_at, published_by \
             FROM public_responses ORDER BY id DESC",
        )
        .fetch_all(&self.pool)
        .await?)
    }
}
