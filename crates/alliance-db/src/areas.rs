//! Area reference data: districts, LSOAs (both censuses) with population and deprivation,
//! boundaries, and the LSOA 2011 → 2021 links derived from them.

use std::collections::HashMap;

use alliance_core::geo::containment::{apportion_populations, link_vintages, AreaShape};
use alliance_ingest::areas::{read_area_file, AreaFile, AreaTable, Boundary, BoundaryKind, District};
use alliance_ingest::SourceFile;
use serde::Serialize;
use sqlx::{Any, Row, Transaction};

use crate::imports::{
    audit_in, begin_import, checksum_and_read, current_in, finish_import, imported_detail, ImportAudit, ImportCounts,
    ImportOutcome, NewImport,
};
use crate::{Db, DbError};

/// An LSOA with what Alliance knows of it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct LsoaInfo {
    pub code: String,
    pub name: String,
    pub district_code: Option<String>,
    pub population: Option<i64>,
    pub imd_decile: Option<i64>,
}

/// A district (local authority) with its population where known.
#[derive(Debug, Clone, Serialize)]
pub struct DistrictInfo {
    pub code: String,
    pub name: String,
}

/// A stored boundary, as GeoJSON geometry text.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct StoredBoundary {
    pub kind: String,
    pub code: String,
    pub name: String,
    pub district_code: Option<String>,
    pub geometry: String,
}

impl Db {
    /// Imports one area reference file (recognised by its header or properties). A file
    /// Alliance does not recognise is reported as skipped, saying what it found and what was
    /// expected (the caller decides whether that is a failure: it is for a file named on its
    /// own).
    pub async fn import_area_file(&self, file: &SourceFile, who: &str) -> Result<ImportOutcome, DbError> {
        self.import_area(file, who, None).await
    }

    /// As [`Db::import_area_file`], writing the audit row of an import in its transaction.
    pub async fn import_area_file_audited(
        &self,
        file: &SourceFile,
        audit: &ImportAudit,
    ) -> Result<ImportOutcome, DbError> {
        self.import_area(file, &audit.actor.name, Some(audit)).await
    }

    async fn import_area(
        &self,
        file: &SourceFile,
        who: &str,
        audit: Option<&ImportAudit>,
    ) -> Result<ImportOutcome, DbError> {
        let (checksum, contents) = checksum_and_read(file, read_area_file).await?;
        let contents = match contents {
            Ok(contents) => contents,
            Err(unrecognised) => return Ok(ImportOutcome::Skipped { reason: unrecognised.to_string() }),
        };
        let unit = format!("areas/{}/{}", contents.kind_name(), file.logical_name());
        // The unit's current import is read under the write lock, so an import of the same
        // unit running at once is either seen whole or waits for this one.
        let mut tx = self.begin_write().await?;
        let current = current_in(&mut tx, self.backend(), &unit).await?;
        if let Some((id, _)) = current.as_ref().filter(|(_, c)| *c == checksum) {
            return Ok(ImportOutcome::Unchanged { import_id: *id, unit });
        }
        let replaced = current.map(|(id, _)| id);
        let import_id = begin_import(
            &mut tx,
            &NewImport::of_file("areas", contents.kind_name(), &unit, &file.name, &checksum, who),
            replaced,
        )
        .await?;
        let rows = contents.len() as i64;
        let districts_before = crate::police::month_counts::district_map(&mut tx).await?;
        write_contents(&mut tx, &contents).await?;
        derive_lsoa_2021(&mut tx).await?;
        crate::police::month_counts::recount_if_moved(&mut tx, &districts_before).await?;
        let counts = ImportCounts { rows_read: rows, rows_added: rows, ..ImportCounts::default() };
        finish_import(&mut tx, import_id, counts, replaced).await?;
        audit_in(&mut tx, self.audit_chain(), audit, &file.name, &imported_detail(import_id, &counts, replaced))
            .await?;
        tx.commit().await?;
        Ok(ImportOutcome::Imported { import_id, unit, counts, replaced })
    }

    /// The partnership profile's districts that stored LSOAs lie in, in code order: the area
    /// analyses default to. Empty when there is no profile, or no LSOA of its districts is
    /// held (then a district condition would drop every record, so none is applied).
    pub async fn partnership_area(&self) -> Result<Vec<String>, DbError> {
        let codes = self.profile_districts().await?;
        self.districts_with_lsoas(&codes).await
    }

    /// The districts the partnership's profile names, held or not, in its order; none
    /// without a profile. What a public report must lie in ([`Db::partnership_area`] is
    /// empty when none of them is held, which would admit everywhere).
    pub async fn profile_districts(&self) -> Result<Vec<String>, DbError> {
        let Some(profile) = self.partnership().await? else { return Ok(Vec::new()) };
        Ok(profile.districts.iter().map(|d| d.to_string()).collect())
    }

    /// Whether any ward boundary of the partnership's area (every one stored when its profile
    /// names no held district) is stored: what the report form's map draws.
    pub async fn partnership_wards_held(&self) -> Result<bool, DbError> {
        let area = self.partnership_area().await?;
        let mut params = crate::params::Params::new();
        let in_area = match area.is_empty() {
            true => String::new(),
            false => format!(" AND district_code IN ({})", params.list(area.iter().cloned())),
        };
        let sql = format!("SELECT 1 FROM area_boundaries WHERE kind = 'ward'{in_area} LIMIT 1");
        Ok(params.bind(sqlx::query(&sql), 0).fetch_optional(&self.pool).await?.is_some())
    }

    /// Those of `codes` that some stored LSOA lies in, in code order: the districts records
    /// can be placed in (a district with none holds no record by any count).
    pub async fn districts_with_lsoas(&self, codes: &[String]) -> Result<Vec<String>, DbError> {
        if codes.is_empty() {
            return Ok(Vec::new());
        }
        let mut params = crate::params::Params::new();
        let sql = format!(
            "SELECT DISTINCT district_code FROM lsoas WHERE district_code IN ({}) ORDER BY district_code",
            params.list(codes.iter().cloned())
        );
        let rows = params.bind(sqlx::query(&sql), 0).fetch_all(&self.pool).await?;
        Ok(rows.iter().map(|r| r.try_get(0)).collect::<Result<_, sqlx::Error>>()?)
    }

    /// The district each of `codes` (LSOAs, wards) lies in, where held: a small area's figure
    /// and its district's are linked when both are published (a district less the LSOAs shown
    /// would give away a hidden one).
    pub async fn districts_of_areas(&self, codes: &[String]) -> Result<HashMap<String, String>, DbError> {
        let mut out = HashMap::new();
        for chunk in codes.chunks(500) {
            let mut params = crate::params::Params::new();
            let list = params.list(chunk.iter().cloned());
            let sql = format!(
                "SELECT code, district_code FROM lsoas WHERE district_code IS NOT NULL AND code IN ({list}) \
                 UNION SELECT code, district_code FROM area_boundaries \
                 WHERE kind = 'ward' AND district_code IS NOT NULL AND code IN ({list})"
            );
            for r in params.bind(sqlx::query(&sql), 0).fetch_all(&self.pool).await? {
                out.insert(r.try_get(0)?, r.try_get(1)?);
            }
        }
        Ok(out)
    }

    /// [`Db::partnership_area`] as a test of a district: every district when the profile names
    /// none that is held.
    pub async fn partnership_area_filter(&self) -> Result<AreaFilter, DbError> {
        Ok(AreaFilter(self.partnership_area().await?.into_iter().collect()))
    }

    /// The condition on police records `c` that their LSOA lies in one of `districts`, its
    /// values pushed to `params`: read by the records' area index (see
    /// [`Db::fetch_police_rows`]).
    pub(crate) fn records_in_districts(params: &mut crate::params::Params, districts: &[String]) -> String {
        format!(
            "c.lsoa_code IN (SELECT l.code FROM lsoas l WHERE l.district_code IN ({}))",
            params.list(districts.iter().cloned())
        )
    }

    /// Runs `sql`, a read of police records; `by_area_index` when it selects them by
    /// [`Db::records_in_districts`]. PostgreSQL's planner takes an area's records for scattered
    /// rows (it knows the LSOA column's order, not that one force's files were written
    /// together) and reads the whole table instead: on 20 million records 3.7 s against 0.65 s
    /// by the records' area index (migration 0038). The index is the design for such reads,
    /// so on PostgreSQL the scan is ruled out for that query alone.
    pub(crate) async fn fetch_police_rows(
        &self,
        sql: &str,
        params: &crate::params::Params,
        by_area_index: bool,
    ) -> Result<Vec<sqlx::any::AnyRow>, DbError> {
        self.fetch_police_query(params.bind(sqlx::query(sql), 0), by_area_index).await
    }

    /// [`Db::fetch_police_rows`] of a query already bound.
    pub(crate) async fn fetch_police_query(
        &self,
        query: crate::params::AnyQuery<'_>,
        by_area_index: bool,
    ) -> Result<Vec<sqlx::any::AnyRow>, DbError> {
        if !by_area_index || self.backend() != crate::Backend::Postgres {
            return Ok(query.fetch_all(&self.pool).await?);
        }
        let mut tx = self.pool.begin().await?;
        sqlx::query("SET LOCAL enable_seqscan = off").execute(&mut *tx).await?;
        let rows = query.fetch_all(&mut *tx).await?;
        tx.commit().await?;
        Ok(rows)
    }

    /// Every district, by code.
    pub async fn districts(&self) -> Result<Vec<DistrictInfo>, DbError> {
        let rows = sqlx::query("SELECT code, name FROM districts ORDER BY code").fetch_all(&self.pool).await?;
        Ok(rows
            .iter()
            .map(|r| Ok(DistrictInfo { code: r.try_get(0)?, name: r.try_get(1)? }))
            .collect::<Result<_, sqlx::Error>>()?)
    }

    /// Every LSOA of the given census (2011 or 2021).
    pub async fn lsoas(&self, census: i64) -> Result<Vec<LsoaInfo>, DbError> {
        let column = if census == 2011 { "in_2011" } else { "in_2021" };
        let sql = format!(
            "SELECT code, name, district_code, population, imd_decile FROM lsoas WHERE {column} = 1 ORDER BY code"
        );
        Ok(sqlx::query_as(&sql).fetch_all(&self.pool).await?)
    }

    /// Stored boundaries of one kind (`lsoa11`, `lsoa21`, `ward`), optionally of one district.
    pub async fn boundaries(&self, kind: &str, district: Option<&str>) -> Result<Vec<StoredBoundary>, DbError> {
        Ok(sqlx::query_as(
            "SELECT kind, code, name, district_code, geometry FROM area_boundaries \
             WHERE kind = $1 AND ($2 IS NULL OR district_code = $2) ORDER BY code",
        )
        .bind(kind)
        .bind(district)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The stored boundaries of `kind` in any of `districts` (every one stored when the list
    /// is empty), in code order: a partnership's area on a database holding other areas too.
    pub async fn boundaries_in(&self, kind: &str, districts: &[String]) -> Result<Vec<StoredBoundary>, DbError> {
        if districts.is_empty() {
            return self.boundaries(kind, None).await;
        }
        let sql = format!(
            "SELECT kind, code, name, district_code, geometry FROM area_boundaries \
             WHERE kind = $1 AND district_code IN ({}) ORDER BY code",
            crate::params::placeholders(2, districts.len())
        );
        let mut query = sqlx::query_as(&sql).bind(kind);
        for d in districts {
            query = query.bind(d.as_str());
        }
        Ok(query.fetch_all(&self.pool).await?)
    }
}

async fn upsert_districts(tx: &mut Transaction<'_, Any>, districts: &[District]) -> Result<(), DbError> {
    for d in districts {
        sqlx::query(
            "INSERT INTO districts (code, name) VALUES ($1, $2) ON CONFLICT (code) DO UPDATE SET name = excluded.name",
        )
        .bind(d.code.as_str())
        .bind(d.name.as_str())
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Inserts or updates an LSOA's identity; a name equal to the code is a placeholder that
/// never overwrites a real name.
const UPSERT_LSOA: &str =
    "INSERT INTO lsoas (code, name, district_code, in_2011, in_2021) VALUES ($1, $2, $3, $4, $5) \
     ON CONFLICT (code) DO UPDATE SET \
       name = CASE WHEN excluded.name = excluded.code THEN lsoas.name ELSE excluded.name END, \
       district_code = COALESCE(excluded.district_code, lsoas.district_code), \
       in_2011 = CASE WHEN excluded.in_2011 = 1 THEN 1 ELSE lsoas.in_2011 END, \
       in_2021 = CASE WHEN excluded.in_2021 = 1 THEN 1 ELSE lsoas.in_2021 END";

async fn upsert_lsoa(
    tx: &mut Transaction<'_, Any>,
    code: &str,
    name: Option<&str>,
    district: Option<&str>,
    census: i64,
) -> Result<(), DbError> {
    sqlx::query(UPSERT_LSOA)
        .bind(code)
        .bind(name.unwrap_or(code))
        .bind(district)
        .bind(i64::from(census == 2011))
        .bind(i64::from(census == 2021))
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn write_contents(tx: &mut Transaction<'_, Any>, contents: &AreaFile) -> Result<(), DbError> {
    match contents {
        AreaFile::Table(AreaTable::Districts(districts)) => upsert_districts(tx, districts).await?,
        AreaFile::Table(AreaTable::Deprivation(rows, districts)) => {
            upsert_districts(tx, districts).await?;
            for d in rows {
                upsert_lsoa(tx, d.lsoa.as_str(), d.name.as_deref(), d.district.as_ref().map(|x| x.as_str()), 2011)
                    .await?;
                sqlx::query("UPDATE lsoas SET imd_rank = $1, imd_decile = $2, imd_source = $3 WHERE code = $4")
                    .bind(d.rank)
                    .bind(d.decile)
                    .bind(d.index)
                    .bind(d.lsoa.as_str())
                    .execute(&mut **tx)
                    .await?;
            }
        }
        AreaFile::Table(AreaTable::Population(rows, districts)) => {
            upsert_districts(tx, districts).await?;
            for p in rows {
                upsert_lsoa(tx, p.lsoa.as_str(), p.name.as_deref(), p.district.as_ref().map(|x| x.as_str()), 2011)
                    .await?;
                // A mid-2015 estimate is preferred to the 2011 census count when both are given.
                sqlx::query(
                    "UPDATE lsoas SET population = $1, population_source = $2 WHERE code = $3 \
                     AND (population_source IS NULL OR population_source = $2 OR $2 <> 'Census 2011')",
                )
                .bind(p.population)
                .bind(p.source)
                .bind(p.lsoa.as_str())
                .execute(&mut **tx)
                .await?;
            }
        }
        AreaFile::Boundaries(kind, rows) => write_boundaries(tx, *kind, rows).await?,
    }
    Ok(())
}

async fn write_boundaries(tx: &mut Transaction<'_, Any>, kind: BoundaryKind, rows: &[Boundary]) -> Result<(), DbError> {
    for b in rows {
        let district = b.district.as_ref().map(|d| d.as_str());
        sqlx::query(
            "INSERT INTO area_boundaries (kind, code, name, district_code, geometry) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (kind, code) DO UPDATE SET name = excluded.name, district_code = excluded.district_code, geometry = excluded.geometry",
        )
        .bind(kind.as_str())
        .bind(b.code.as_str())
        .bind(b.name.as_str())
        .bind(district)
        .bind(b.geometry_json.as_str())
        .execute(&mut **tx)
        .await?;
        match kind {
            BoundaryKind::Lsoa2011 => upsert_lsoa(tx, &b.code, Some(&b.name), district, 2011).await?,
            BoundaryKind::Lsoa2021 => upsert_lsoa(tx, &b.code, Some(&b.name), district, 2021).await?,
            BoundaryKind::Ward => {}
        }
    }
    Ok(())
}

async fn load_shapes(tx: &mut Transaction<'_, Any>, kind: &str) -> Result<Vec<AreaShape>, DbError> {
    let rows = sqlx::query("SELECT code, geometry FROM area_boundaries WHERE kind = $1")
        .bind(kind)
        .fetch_all(&mut **tx)
        .await?;
    let mut shapes = Vec::with_capacity(rows.len());
    for r in &rows {
        let code: String = r.try_get(0)?;
        let text: String = r.try_get(1)?;
        let geometry: geojson::Geometry = text
            .parse::<geojson::GeoJson>()
            .ok()
            .and_then(|g| geojson::Geometry::try_from(g).ok())
            .ok_or_else(|| DbError::corrupt(format!("boundary {kind} {code} is not GeoJSON geometry")))?;
        let shape = match geometry.value {
            v @ geojson::Value::Polygon(_) => geo::Polygon::<f64>::try_from(v).map(|p| geo::MultiPolygon(vec![p])),
            v => geo::MultiPolygon::<f64>::try_from(v),
        }
        .map_err(|e| DbError::corrupt(format!("boundary {kind} {code}: {e}")))?;
        shapes.push(AreaShape { code, shape });
    }
    Ok(shapes)
}

/// Recomputes the 2011 → 2021 links from the boundaries, then gives each LSOA that is new
/// in 2021 a population (its 2011 parents' residents shared out in whole numbers, so a
/// district's 2021 LSOAs add up to its published 2011 total: `apportion_populations`) and a
/// deprivation decile (that of the parent contributing most population), marked as derived.
async fn derive_lsoa_2021(tx: &mut Transaction<'_, Any>) -> Result<(), DbError> {
    let old = load_shapes(tx, "lsoa11").await?;
    let new = load_shapes(tx, "lsoa21").await?;
    if old.is_empty() || new.is_empty() {
        return Ok(());
    }
    let links = tokio::task::block_in_place(|| link_vintages(&old, &new));
    sqlx::raw_sql("DELETE FROM lsoa_links").execute(&mut **tx).await?;
    for l in &links {
        sqlx::query("INSERT INTO lsoa_links (lsoa11, lsoa21, weight) VALUES ($1, $2, $3)")
            .bind(l.old_code.as_str())
            .bind(l.new_code.as_str())
            .bind(l.weight)
            .execute(&mut **tx)
            .await?;
    }
    let rows = sqlx::query("SELECT code, population, imd_rank, imd_decile, imd_source FROM lsoas WHERE in_2011 = 1")
        .fetch_all(&mut **tx)
        .await?;
    // A 2011 LSOA's population, IMD rank, IMD decile and IMD source, by its code.
    type Parent = (Option<i64>, Option<i64>, Option<i64>, Option<String>);
    let mut parents: HashMap<String, Parent> = HashMap::new();
    for r in &rows {
        parents.insert(r.try_get(0)?, (r.try_get(1)?, r.try_get(2)?, r.try_get(3)?, r.try_get(4)?));
    }
    let apportioned = apportion_populations(&links, |code| parents.get(code).and_then(|p| p.0));
    for (child, share) in &apportioned {
        let population = share.population;
        let (rank, decile, source) = share
            .main_parent
            .as_deref()
            .and_then(|parent| {
                parents.get(parent).map(|p| (p.1, p.2, p.3.clone().map(|s| format!("{s} of 2011 LSOA {parent}"))))
            })
            .unwrap_or((None, None, None));
        sqlx::query(
            "UPDATE lsoas SET population = $1, population_source = $2, imd_rank = $3, imd_decile = $4, imd_source = $5 \
             WHERE code = $6 AND in_2011 = 0",
        )
        .bind(population)
        .bind(population.map(|_| "apportioned from 2011 LSOAs"))
        .bind(rank)
        .bind(decile)
        .bind(source)
        .bind(child.as_str())
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

impl Db {
    /// Resident population per district: the sum over its 2011 LSOAs when any carry a
    /// population (the published denominators, as the computed indicators and the Board pack
    /// use: `police_figure_of`), else over its 2021 LSOAs. The 2021 LSOAs' populations are
    /// apportioned from the 2011 ones in whole residents and add up to them
    /// (`derive_lsoa_2021`), but a 2021 LSOA whose parents are not all held has none; one
    /// rule keeps the dashboard and the Board pack on the same figure.
    pub async fn district_populations(&self) -> Result<HashMap<String, i64>, DbError> {
        let mut out = HashMap::new();
        // The later column overwrites: 2011 wins wherever it is held.
        for column in ["in_2021", "in_2011"] {
            let rows = sqlx::query(&format!(
                "SELECT district_code, CAST(SUM(population) AS BIGINT) FROM lsoas \
                 WHERE {column} = 1 AND population IS NOT NULL AND district_code IS NOT NULL GROUP BY district_code"
            ))
            .fetch_all(&self.pool)
            .await?;
            for r in &rows {
                out.insert(r.try_get::<String, _>(0)?, r.try_get::<i64, _>(1)?);
            }
        }
        Ok(out)
    }
}

/// The districts of the partnership's area, for keeping lists (place names, the report map's
/// wards) to it; empty admits every district.
#[derive(Debug, Clone, Default)]
pub struct AreaFilter(std::collections::BTreeSet<String>);

impl AreaFilter {
    /// Whether a place in `district` (none: not known) belongs: always without an area, else
    /// only in one of its districts.
    pub fn admits(&self, district: Option<&str>) -> bool {
        self.0.is_empty() || district.is_some_and(|d| self.0.contains(d))
    }

    /// Whether it admits every district (no profile, or none of its districts held).
    pub fn is_everywhere(&self) -> bool {
        self.0.is_empty()
    }
}
