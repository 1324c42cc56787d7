//! The directory of support services and positive activities, stored one row per service
//! and exchanged in Open Referral UK JSON (`alliance_ingest::oruk`).

use alliance_ingest::oruk::{read_services, ServiceRecord};
use alliance_ingest::SourceFile;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::now;
use crate::{Db, DbError};

/// A search of the directory; empty fields match everything.
#[derive(Debug, Clone, Default)]
pub struct ServiceSearch {
    /// Words in the name, description or organisation.
    pub text: String,
    /// A need slug (`alliance_ingest::oruk::NEEDS`).
    pub need: String,
    /// An area name the service must cover (services covering the whole partnership area,
    /// with no areas listed, always match).
    pub area: String,
    /// The age of the person the help is for.
    pub age: Option<i64>,
    /// 'support' or 'activity'.
    pub kind: String,
}

fn from_row(r: &AnyRow) -> Result<ServiceRecord, DbError> {
    let split = |s: String, sep: char| s.split(sep).filter(|x| !x.is_empty()).map(str::to_string).collect();
    Ok(ServiceRecord {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        description: r.try_get("description")?,
        organisation_id: r.try_get("organisation_id")?,
        organisation_name: r.try_get("organisation_name")?,
        organisation_description: r.try_get("organisation_description")?,
        url: r.try_get("url")?,
        email: r.try_get("email")?,
        phone: r.try_get("phone")?,
        min_age: r.try_get("min_age")?,
        max_age: r.try_get("max_age")?,
        needs: split(r.try_get("needs")?, ','),
        areas: split(r.try_get("areas")?, '|'),
        opening_times: r.try_get("opening_times")?,
        kind: r.try_get("kind")?,
    })
}

impl Db {
    /// Imports an ORUK JSON file in one transaction: every service is inserted or replaced
    /// (by id), or none is. Returns how many services the file held.
    pub async fn import_services_file(&self, file: &SourceFile) -> Result<usize, DbError> {
        let records = {
            let file = file.clone();
            tokio::task::spawn_blocking(move || read_services(&file))
                .await
                .map_err(|e| DbError::Task(e.to_string()))??
        };
        self.upsert_services(&records).await?;
        Ok(records.len())
    }

    /// Inserts or replaces services (by id) in one transaction.
    pub async fn upsert_services(&self, records: &[ServiceRecord]) -> Result<(), DbError> {
        let mut tx = self.pool.begin().await?;
        let at = now();
        for s in records {
            sqlx::query(
                "INSERT INTO support_services (id, name, description, organisation_id, organisation_name, \
                 organisation_description, url, email, phone, min_age, max_age, needs, areas, opening_times, kind, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, description = excluded.description, \
                 organisation_id = excluded.organisation_id, organisation_name = excluded.organisation_name, \
                 organisation_description = excluded.organisation_description, url = excluded.url, \
                 email = excluded.email, phone = excluded.phone, min_age = excluded.min_age, max_age = excluded.max_age, \
                 needs = excluded.needs, areas = excluded.areas, opening_times = excluded.opening_times, \
                 kind = excluded.kind, updated_at = excluded.updated_at",
            )
            .bind(s.id.as_str())
            .bind(s.name.as_str())
            .bind(s.description.as_str())
            .bind(s.organisation_id.as_str())
            .bind(s.organisation_name.as_str())
            .bind(s.organisation_description.as_str())
            .bind(s.url.as_str())
            .bind(s.email.as_str())
            .bind(s.phone.as_str())
            .bind(s.min_age)
            .bind(s.max_age)
            .bind(s.needs.join(","))
            .bind(s.areas.join("|"))
            .bind(s.opening_times.as_str())
            .bind(s.kind.as_str())
            .bind(at.as_str())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Services matching a search, by name. Filtering is done here in Rust over the whole
    /// directory (hundreds of rows), which keeps the matching rules identical on both
    /// backends.
    pub async fn services(&self, search: &ServiceSearch) -> Result<Vec<ServiceRecord>, DbError> {
        let rows = sqlx::query("SELECT * FROM support_services").fetch_all(&self.pool).await?;
        let text = search.text.trim().to_lowercase();
        let area = search.area.trim().to_lowercase();
        let mut out = Vec::new();
        for r in &rows {
            let s = from_row(r)?;
            let haystack = format!("{} {} {}", s.name, s.description, s.organisation_name).to_lowercase();
            let keep = (text.is_empty() || text.split_whitespace().all(|w| haystack.contains(w)))
                && (search.need.is_empty() || s.needs.contains(&search.need))
                && (area.is_empty() || s.areas.is_empty() || s.areas.iter().any(|a| a.to_lowercase().contains(&area)))
                && search.age.is_none_or(|age| s.min_age <= age && age <= s.max_age)
                && (search.kind.is_empty() || s.kind == search.kind);
            if keep {
                out.push(s);
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
        Ok(out)
    }

    /// One service by id.
    pub async fn service(&self, id: &str) -> Result<Option<ServiceRecord>, DbError> {
        let row =
            sqlx::query("SELECT * FROM support_services WHERE id = $1").bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(from_row).transpose()
    }

    /// The distinct area names services cover, for the filter.
    pub async fn service_areas(&self) -> Result<Vec<String>, DbError> {
        let mut areas: Vec<String> =
            self.services(&ServiceSearch::default()).await?.into_iter().flat_map(|s| s.areas).collect();
        areas.sort();
        areas.dedup();
        Ok(areas)
    }
}
