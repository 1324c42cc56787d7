//! Postcodes located (migration 0032): imported whole from an ONS Postcode Directory or
//! Code-Point Open file (`alliance_ingest::postcodes`), each import replacing the table in one
//! transaction with its provenance row (unit `postcodes`) and audit row; read back one
//! postcode at a time by the public report form, the directory search and the charter map.

use std::collections::HashSet;

use alliance_ingest::postcodes::{normalise_postcode, read_postcodes, PostcodeFile};
use alliance_ingest::SourceFile;
use sqlx::Row;

use crate::imports::{
    audit_in, begin_import, checksum_and_read, current_in, finish_import, imported_detail, ImportAudit, ImportCounts,
    ImportOutcome, NewImport,
};
use crate::{Db, DbError};

/// The provenance unit of the postcode table (one current import).
pub const POSTCODES_UNIT: &str = "postcodes";

/// Rows in one multi-row insert (five parameters each).
const BATCH: usize = 200;

/// A postcode's place, read by column name (latitude and longitude are both reals).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct PostcodePlace {
    pub postcode: String,
    pub latitude: f64,
    pub longitude: f64,
    pub lsoa_code: Option<String>,
    pub district_code: Option<String>,
}

impl Db {
    /// Imports a postcode file, keeping the postcodes of `districts` (all when empty), in
    /// place of the postcodes held. The same file (by checksum) imported again is
    /// [`ImportOutcome::Unchanged`]. A refused file is an [`DbError::Ingest`] naming the file,
    /// line, column and reason, and nothing is stored.
    pub async fn import_postcodes(
        &self,
        file: &SourceFile,
        districts: &HashSet<String>,
        audit: &ImportAudit,
    ) -> Result<(ImportOutcome, Option<PostcodeFile>), DbError> {
        let districts = districts.clone();
        let (checksum, contents) = checksum_and_read(file, move |f| read_postcodes(f, &districts)).await?;
        let mut tx = self.begin_write().await?;
        let current = current_in(&mut tx, self.backend(), POSTCODES_UNIT).await?;
        if let Some((id, _)) = current.as_ref().filter(|(_, c)| *c == checksum) {
            return Ok((ImportOutcome::Unchanged { import_id: *id, unit: POSTCODES_UNIT.into() }, None));
        }
        let replaced = current.map(|(id, _)| id);
        let kind = match contents.format {
            alliance_ingest::postcodes::PostcodeFormat::OnsPostcodeDirectory => "onspd",
            alliance_ingest::postcodes::PostcodeFormat::CodePointOpen => "code-point-open",
        };
        let import_id = begin_import(
            &mut tx,
            &NewImport::of_file("postcodes", kind, POSTCODES_UNIT, &file.name, &checksum, &audit.actor.name),
            replaced,
        )
        .await?;
        let before = sqlx::query("DELETE FROM postcodes").execute(&mut *tx).await?.rows_affected() as i64;
        for chunk in contents.postcodes.chunks(BATCH) {
            let mut sql =
                String::from("INSERT INTO postcodes (postcode, latitude, longitude, lsoa_code, district_code) VALUES ");
            for i in 0..chunk.len() {
                let b = i * 5;
                if i > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&format!("(${}, ${}, ${}, ${}, ${})", b + 1, b + 2, b + 3, b + 4, b + 5));
            }
            let mut q = sqlx::query(&sql);
            for p in chunk {
                q = q
                    .bind(p.postcode.as_str())
                    .bind(p.latitude)
                    .bind(p.longitude)
                    .bind(p.lsoa.as_deref())
                    .bind(p.district.as_deref());
            }
            q.execute(&mut *tx).await?;
        }
        let rows = contents.postcodes.len() as i64;
        let counts = ImportCounts {
            rows_read: rows + contents.unlocated as i64,
            rows_added: rows,
            rows_replaced: before,
            rows_without_location: contents.unlocated as i64,
        };
        finish_import(&mut tx, import_id, counts, replaced).await?;
        let detail = format!(
            "{} ({}); {} outside the districts asked for",
            imported_detail(import_id, &counts, replaced),
            contents.format.label(),
            contents.outside
        );
        audit_in(&mut tx, self.audit_chain(), Some(audit), &file.name, &detail).await?;
        tx.commit().await?;
        Ok((ImportOutcome::Imported { import_id, unit: POSTCODES_UNIT.into(), counts, replaced }, Some(contents)))
    }

    /// The place of a postcode as typed (any case or spacing); `None` when it is not shaped
    /// like a postcode or is not held.
    pub async fn postcode(&self, typed: &str) -> Result<Option<PostcodePlace>, DbError> {
        let Some(postcode) = normalise_postcode(typed) else { return Ok(None) };
        Ok(sqlx::query_as(
            "SELECT postcode, latitude, longitude, lsoa_code, district_code FROM postcodes WHERE postcode = $1",
        )
        .bind(&postcode)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Whether any postcode is held: one row read, however large the directory (the public
    /// report form asks on every visit; a count would read the whole national file's rows).
    pub async fn postcodes_held(&self) -> Result<bool, DbError> {
        Ok(sqlx::query("SELECT 1 FROM postcodes LIMIT 1").fetch_optional(&self.pool).await?.is_some())
    }

    /// How many postcodes are held (a full count: for reports, not for every request).
    pub async fn postcode_count(&self) -> Result<i64, DbError> {
        Ok(sqlx::query("SELECT CAST(COUNT(*) AS BIGINT) FROM postcodes").fetch_one(&self.pool).await?.try_get(0)?)
    }
}
