//! Storage for the serious violence lens and the Strategic Needs Assessment: the versioned
//! serious violence definition, and the aggregated rows the report is built from (one
//! `GROUP BY` query per shape, never every crime).

use std::collections::BTreeMap;

use alliance_core::analytics::sna::definition::{
    default_definition, Definition, Fit, Gap, Mapping, SourceKind, SvGroup,
};
use alliance_core::analytics::sna::places::{LsoaRef, VintageLink};
use alliance_core::domain::Month;
use serde::Serialize;
use sqlx::Row;

use crate::audit::Actor;
use crate::params::Params;
use crate::{Backend, Db, DbError};

/// Which police records a report covers.
#[derive(Debug, Clone, Default)]
pub struct SnaFilter {
    /// District codes; empty = every record (including those without a location).
    pub districts: Vec<String>,
    pub from: Option<Month>,
    pub to: Option<Month>,
    /// Police crime types to count (those the definition maps); empty = every type.
    pub crime_types: Vec<String>,
}

/// Rows read as `T`: a tuple of their columns in order, or a struct by column name.
fn rows_as<T: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow>>(rows: &[sqlx::any::AnyRow]) -> Result<Vec<T>, sqlx::Error> {
    rows.iter().map(T::from_row).collect()
}

impl SnaFilter {
    /// The conditions of the filter's period (on the `month` column) and districts (on
    /// `district`), their values pushed to `params`: the police and the ED rows read the same
    /// filter on their own columns.
    fn conditions(&self, params: &mut Params, month: &str, district: &str) -> Vec<String> {
        let mut conditions = Vec::new();
        if let Some(from) = self.from {
            conditions.push(format!("{month} >= {}", params.push(from.to_string())));
        }
        if let Some(to) = self.to {
            conditions.push(format!("{month} <= {}", params.push(to.to_string())));
        }
        if !self.districts.is_empty() {
            conditions.push(format!("{district} IN ({})", params.list(&self.districts)));
        }
        conditions
    }
}

/// Aggregated police rows for a report.
#[derive(Debug, Clone, Default)]
pub struct SnaPoliceRows {
    /// (month, crime type, count)
    pub by_month_type: Vec<(String, String, i64)>,
    /// (LSOA code of either vintage or none, crime type, count)
    pub by_lsoa_type: Vec<(Option<String>, String, i64)>,
    /// (crime type, latest outcome or none, count)
    pub by_type_outcome: Vec<(String, Option<String>, i64)>,
}

impl SnaPoliceRows {
    /// The rows from counts of (LSOA, crime type, latest outcome), summed two ways: the
    /// records are read once for both tables, and a place's report folds its records the
    /// same way (each with a count of one).
    pub fn from_counts(
        by_month_type: Vec<(String, String, i64)>,
        counts: impl IntoIterator<Item = (Option<String>, String, Option<String>, i64)>,
    ) -> Self {
        let mut by_lsoa_type: BTreeMap<(Option<String>, String), i64> = BTreeMap::new();
        let mut by_type_outcome: BTreeMap<(String, Option<String>), i64> = BTreeMap::new();
        for (lsoa, crime_type, outcome, n) in counts {
            *by_type_outcome.entry((crime_type.clone(), outcome)).or_insert(0) += n;
            *by_lsoa_type.entry((lsoa, crime_type)).or_insert(0) += n;
        }
        SnaPoliceRows {
            by_month_type,
            by_lsoa_type: by_lsoa_type.into_iter().map(|((l, t), n)| (l, t, n)).collect(),
            by_type_outcome: by_type_outcome.into_iter().map(|((t, o), n)| (t, o, n)).collect(),
        }
    }
}

/// What [`Db::sna_unplaceable`] gives: the forces read, and their records placed in no
/// district by crime type (every one, then those with no location).
#[derive(Debug, Clone, Default)]
pub struct SnaUnplaceable {
    /// The police forces (data.police.uk slugs) whose records lie in the districts.
    pub forces: Vec<String>,
    /// (crime type, records with no location or an LSOA of no held district)
    pub without_district: Vec<(String, i64)>,
    /// (crime type, records with no location)
    pub no_location: Vec<(String, i64)>,
}

/// Aggregated emergency department assault rows for a report (current imports only).
#[derive(Debug, Clone, Default)]
pub struct SnaEdRows {
    /// (assault date and hour `YYYY-MM-DDTHH`, count)
    pub by_hour: Vec<(String, i64)>,
    /// (age band, sex, count)
    pub by_age_sex: Vec<(Option<String>, Option<String>, i64)>,
    /// (assault method code, count)
    pub by_method: Vec<(String, i64)>,
    /// (first, last) assault month with data.
    pub months: Option<(String, String)>,
    /// Assaults with an arrival time as well as an assault time.
    pub with_arrival: i64,
    /// The current ED imports: (id, kind) — kind `istv-synthetic` marks generated data.
    pub imports: Vec<(i64, String)>,
}

/// A stored definition's header.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct DefinitionVersion {
    pub version: i64,
    pub name: String,
    pub created: String,
    pub created_by: String,
}

/// A police import that feeds the report.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct SourceImport {
    pub id: i64,
    pub force: Option<String>,
    pub month: Option<String>,
    pub kind: String,
    pub file_name: String,
}

/// Whether a partner data source is present, and how many rows it holds.
#[derive(Debug, Clone, Serialize)]
pub struct PartnerSource {
    pub name: &'static str,
    pub table: &'static str,
    /// `None` when the table does not exist in this database (the source is not built or
    /// not migrated); `Some(0)` when it exists and is empty.
    pub rows: Option<i64>,
}

/// The partner tables the report looks for (built by the access-and-trust issue).
const PARTNER_TABLES: [(&str, &str); 2] =
    [("Emergency department assaults (ISTV)", "ed_assaults"), ("Partner indicators", "indicator_values")];

const WHO_SEEDS: &str = "alliance (default definition)";

/// A stored definition's head row, by column name.
#[derive(sqlx::FromRow)]
struct DefinitionHead {
    id: i64,
    version: i64,
    name: String,
    created: String,
    notes: String,
}

/// A stored mapping, by column name: its codes are parsed in `sv_definition_at`.
#[derive(sqlx::FromRow)]
struct MappingRow {
    position: i64,
    source: String,
    category: String,
    sv_group: String,
    fit: String,
    in_headline: i64,
    note: String,
}

/// A stored gap, by column name.
#[derive(sqlx::FromRow)]
struct GapRow {
    position: i64,
    source: String,
    sv_group: String,
    note: String,
}

/// An LSOA link, by column name: both codes are text, so a swap would not fail to decode.
#[derive(sqlx::FromRow)]
struct LinkRow {
    lsoa11: String,
    lsoa21: String,
    weight: f64,
}

/// An LSOA row with whether it is of the 2021 vintage.
#[derive(sqlx::FromRow)]
struct LsoaVintageRow {
    code: String,
    name: String,
    district_code: Option<String>,
    population: Option<i64>,
    imd_decile: Option<i64>,
    in_2021: i64,
}

/// What [`Db::sna_lsoa_reference`] gives: the neighbourhoods, the vintage links, and the
/// districts whose neighbourhoods are their 2011 LSOAs (no 2021 LSOA of theirs is held).
#[derive(Debug, Clone, Default)]
pub struct SnaLsoaReference {
    pub lsoas: Vec<LsoaRef>,
    pub links: Vec<VintageLink>,
    pub districts_2011: Vec<String>,
}

/// The first and last assault months of a report's ED assaults and how many have an arrival
/// time, by column name (the months are both text, so a swap would not fail to decode).
#[derive(sqlx::FromRow)]
struct EdSpan {
    first_month: Option<String>,
    last_month: Option<String>,
    with_arrival: i64,
}

impl Db {
    /// The current (latest) serious violence definition; stores the default as version 1
    /// when there is none yet.
    pub async fn sv_definition_current(&self) -> Result<Definition, DbError> {
        if let Some(d) = self.sv_definition_latest().await? {
            return Ok(d);
        }
        self.sv_definition_store(&default_definition(), WHO_SEEDS).await?;
        self.sv_definition_latest()
            .await?
            .ok_or_else(|| DbError::corrupt("the default serious violence definition was not stored"))
    }

    /// Every stored version, newest first.
    pub async fn sv_definition_versions(&self) -> Result<Vec<DefinitionVersion>, DbError> {
        Ok(sqlx::query_as("SELECT version, name, created, created_by FROM sv_definitions ORDER BY version DESC")
            .fetch_all(&self.pool)
            .await?)
    }

    /// Stores a definition as the next version (after validating it); returns the version.
    pub async fn sv_definition_store(&self, definition: &Definition, who: &str) -> Result<i64, DbError> {
        definition
            .validate()
            .map_err(|e| DbError::invalid("definition", format!("serious violence definition: {e}")))?;
        let mut tx = self.pool.begin().await?;
        let next = store_definition(&mut tx, definition, who).await?;
        tx.commit().await?;
        Ok(next)
    }

    /// Stores a definition edited on the web as the next version, with its audit row
    /// (`definition-change`, `detail` saying what changed and why) in the same transaction.
    /// `based_on` is the version the editor started from: when another version was stored
    /// since, nothing is stored and the answer is a [`DbError::Conflict`] on `base_version`.
    pub async fn sv_definition_store_audited(
        &self,
        definition: &Definition,
        based_on: i64,
        actor: &Actor,
        detail: &str,
    ) -> Result<i64, DbError> {
        definition
            .validate()
            .map_err(|e| DbError::invalid("definition", format!("serious violence definition: {e}")))?;
        let mut tx = self.begin_write().await?;
        let latest: i64 = sqlx::query("SELECT CAST(COALESCE(MAX(version), 0) AS BIGINT) FROM sv_definitions")
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
        if latest != based_on {
            return Err(DbError::conflict(
                "base_version",
                format!(
                    "Version {latest} of the definition was stored after you opened version {based_on}: \
                     open the editor again to start from version {latest}"
                ),
            ));
        }
        let next = store_definition(&mut tx, definition, &actor.name).await?;
        self.commit_audited(tx, &actor.event(DEFINITION_CHANGE, "/sna/definition", detail)).await?;
        Ok(next)
    }

    /// One stored version, if it exists.
    pub async fn sv_definition_version(&self, version: i64) -> Result<Option<Definition>, DbError> {
        self.sv_definition_at(Some(version)).await
    }

    async fn sv_definition_latest(&self) -> Result<Option<Definition>, DbError> {
        self.sv_definition_at(None).await
    }

    /// The version asked for, or the latest.
    async fn sv_definition_at(&self, version: Option<i64>) -> Result<Option<Definition>, DbError> {
        const HEAD: &str = "SELECT id, version, name, created, notes FROM sv_definitions";
        let head: Option<DefinitionHead> = match version {
            None => sqlx::query_as(&format!("{HEAD} ORDER BY version DESC LIMIT 1")).fetch_optional(&self.pool).await?,
            Some(v) => sqlx::query_as(&format!("{HEAD} WHERE version = $1")).bind(v).fetch_optional(&self.pool).await?,
        };
        let Some(head) = head else {
            return Ok(None);
        };
        let bad = |what: &str, value: &str| DbError::corrupt(format!("definition: unknown {what} \"{value}\""));
        let rows: Vec<MappingRow> = sqlx::query_as(
            "SELECT position, source, category, sv_group, fit, in_headline, note FROM sv_mappings WHERE definition_id = $1",
        )
        .bind(head.id)
        .fetch_all(&self.pool)
        .await?;
        let mut mappings = Vec::with_capacity(rows.len());
        for r in rows {
            mappings.push((
                r.position,
                Mapping {
                    source: SourceKind::parse(&r.source).map_err(|_| bad("source", &r.source))?,
                    category: r.category,
                    group: SvGroup::parse(&r.sv_group).map_err(|_| bad("group", &r.sv_group))?,
                    fit: Fit::parse(&r.fit).map_err(|_| bad("fit", &r.fit))?,
                    in_headline: r.in_headline != 0,
                    note: r.note,
                },
            ));
        }
        mappings.sort_by_key(|m| m.0);
        let rows: Vec<GapRow> =
            sqlx::query_as("SELECT position, source, sv_group, note FROM sv_gaps WHERE definition_id = $1")
                .bind(head.id)
                .fetch_all(&self.pool)
                .await?;
        let mut gaps = Vec::with_capacity(rows.len());
        for r in rows {
            gaps.push((
                r.position,
                Gap {
                    source: SourceKind::parse(&r.source).map_err(|_| bad("source", &r.source))?,
                    group: SvGroup::parse(&r.sv_group).map_err(|_| bad("group", &r.sv_group))?,
                    note: r.note,
                },
            ));
        }
        gaps.sort_by_key(|g| g.0);
        Ok(Some(Definition {
            version: head.version,
            name: head.name,
            created: head.created,
            notes: head.notes,
            mappings: mappings.into_iter().map(|m| m.1).collect(),
            gaps: gaps.into_iter().map(|g| g.1).collect(),
        }))
    }

    /// The aggregated police rows of a report: months by crime type from the month counts,
    /// then one `GROUP BY` scan of the records by LSOA, crime type and outcome, summed both
    /// ways in [`SnaPoliceRows::from_counts`] (one pass over the area's index entries rather
    /// than two: at 20 million records the scan is most of the report's time).
    pub async fn sna_police_rows(&self, filter: &SnaFilter) -> Result<SnaPoliceRows, DbError> {
        let mut params = Params::new();
        let mut conditions = filter.conditions(&mut params, "c.month", "l.district_code");
        if !filter.crime_types.is_empty() {
            conditions.push(format!("c.crime_type IN ({})", params.list(&filter.crime_types)));
        }
        let join = if filter.districts.is_empty() { "" } else { " JOIN lsoas l ON l.code = c.lsoa_code" };
        let where_clause =
            if conditions.is_empty() { String::new() } else { format!(" WHERE {}", conditions.join(" AND ")) };
        let run = |select: &str, group: &str| {
            format!(
                "SELECT {select}, CAST(COUNT(*) AS BIGINT) FROM police_crimes c{join}{where_clause} GROUP BY {group}"
            )
        };
        let params = &params;
        let fetch = |sql: String| async move { params.bind(sqlx::query(&sql), 0).fetch_all(&self.pool).await };
        // Months and crime types from the summary every import keeps exact
        // (`police::month_counts`: the district is the one the record's LSOA lies in, as in
        // the join above), without reading the records.
        let summary_where = where_clause
            .replace("c.month", "m.month")
            .replace("c.crime_type", "m.crime_type")
            .replace("l.district_code", "m.district_code");
        let rows = fetch(format!(
            "SELECT m.month, m.crime_type, CAST(SUM(m.n) AS BIGINT) FROM police_month_counts m{summary_where} \
             GROUP BY m.month, m.crime_type"
        ))
        .await?;
        let by_month_type = rows_as(&rows)?;
        let rows = fetch(run("c.lsoa_code, c.crime_type, c.outcome", "c.lsoa_code, c.crime_type, c.outcome")).await?;
        let counts: Vec<(Option<String>, String, Option<String>, i64)> = rows_as(&rows)?;
        Ok(SnaPoliceRows::from_counts(by_month_type, counts))
    }

    /// The records a district report cannot place in any district, by crime type: those of
    /// the police forces whose records lie in `filter.districts` (in its period and crime
    /// types) that have no location, or an LSOA code the reference data does not hold or
    /// holds without a district. The area's own query (its districts' LSOAs) never reads them,
    /// so a report said "0 offences had no location" of a force whose files hold hundreds;
    /// they may lie in the area or outside it, and the report says so. Empty without districts
    /// (every record is then the report's own).
    pub async fn sna_unplaceable(&self, filter: &SnaFilter) -> Result<SnaUnplaceable, DbError> {
        if filter.districts.is_empty() {
            return Ok(SnaUnplaceable::default());
        }
        let mut params = Params::new();
        let mut conditions = filter.conditions(&mut params, "m.month", "m.district_code");
        if !filter.crime_types.is_empty() {
            conditions.push(format!("m.crime_type IN ({})", params.list(&filter.crime_types)));
        }
        let sql = format!(
            "SELECT DISTINCT i.force FROM police_month_counts m JOIN imports i ON i.id = m.import_id \
             WHERE m.n > 0 AND i.force IS NOT NULL AND {}",
            conditions.join(" AND ")
        );
        let rows = params.bind(sqlx::query(&sql), 0).fetch_all(&self.pool).await?;
        let mut forces: Vec<String> = rows.iter().map(|r| r.try_get(0)).collect::<Result<_, sqlx::Error>>()?;
        forces.sort();
        if forces.is_empty() {
            return Ok(SnaUnplaceable::default());
        }
        // The same period and crime types, no districts: on the summary (no district known)
        // and on the records (no LSOA code, read by the area index).
        let unplaced = SnaFilter { districts: Vec::new(), ..filter.clone() };
        let by_type = |table: &str, alias: &str, count: &str, condition: &str| {
            let mut params = Params::new();
            let mut conditions = unplaced.conditions(&mut params, &format!("{alias}.month"), "");
            if !unplaced.crime_types.is_empty() {
                conditions.push(format!("{alias}.crime_type IN ({})", params.list(&unplaced.crime_types)));
            }
            conditions.push(condition.to_string());
            conditions.push(format!(
                "{alias}.import_id IN (SELECT id FROM imports WHERE source = 'police' AND force IN ({}))",
                params.list(&forces)
            ));
            let sql = format!(
                "SELECT {alias}.crime_type, CAST({count} AS BIGINT) FROM {table} {alias} WHERE {} \
                 GROUP BY {alias}.crime_type",
                conditions.join(" AND ")
            );
            async move {
                let rows = params.bind(sqlx::query(&sql), 0).fetch_all(&self.pool).await?;
                Ok::<Vec<(String, i64)>, DbError>(rows_as(&rows)?)
            }
        };
        let without_district = by_type("police_month_counts", "m", "SUM(m.n)", "m.district_code IS NULL").await?;
        let no_location = by_type("police_crimes", "c", "COUNT(*)", "c.lsoa_code IS NULL").await?;
        Ok(SnaUnplaceable { forces, without_district, no_location })
    }

    /// The aggregated ED assault rows of a report: months of the assault in the filter's
    /// period and, when districts are given, assaults geocoded to them (an assault not placed
    /// in a district is then left out). Four small `GROUP BY` scans.
    pub async fn sna_ed_rows(&self, filter: &SnaFilter) -> Result<SnaEdRows, DbError> {
        let mut conditions =
            vec!["e.import_id IN (SELECT id FROM imports WHERE source = 'ed' AND superseded_by IS NULL)".to_string()];
        let mut params = Params::new();
        conditions.extend(filter.conditions(&mut params, "e.assault_month", "e.district_code"));
        let where_clause = conditions.join(" AND ");
        let params = &params;
        let fetch = |select: &str, group: &str| {
            let sql = format!("SELECT {select} FROM ed_assaults e WHERE {where_clause}{group}");
            async move { params.bind(sqlx::query(&sql), 0).fetch_all(&self.pool).await }
        };
        let rows =
            fetch("SUBSTR(e.assault_at, 1, 13), CAST(COUNT(*) AS BIGINT)", " GROUP BY SUBSTR(e.assault_at, 1, 13)")
                .await?;
        let by_hour = rows_as(&rows)?;
        let rows = fetch("e.age_band, e.sex, CAST(COUNT(*) AS BIGINT)", " GROUP BY e.age_band, e.sex").await?;
        let by_age_sex = rows_as(&rows)?;
        let rows = fetch("e.method, CAST(COUNT(*) AS BIGINT)", " GROUP BY e.method").await?;
        let by_method = rows_as(&rows)?;
        let rows = fetch(
            "MIN(e.assault_month) AS first_month, MAX(e.assault_month) AS last_month, \
             CAST(COUNT(e.arrival_at) AS BIGINT) AS with_arrival",
            "",
        )
        .await?;
        let span: EdSpan = match rows.first() {
            Some(r) => sqlx::FromRow::from_row(r)?,
            None => EdSpan { first_month: None, last_month: None, with_arrival: 0 },
        };
        let rows =
            sqlx::query("SELECT id, kind FROM imports WHERE source = 'ed' AND superseded_by IS NULL ORDER BY id")
                .fetch_all(&self.pool)
                .await?;
        let imports = rows_as(&rows)?;
        Ok(SnaEdRows {
            by_hour,
            by_age_sex,
            by_method,
            months: span.first_month.zip(span.last_month),
            with_arrival: span.with_arrival,
            imports,
        })
    }

    /// The neighbourhoods a report places records in, and the 2011 → 2021 links.
    ///
    /// They are the LSOAs of the 2021 vintage, except in a district that has none held (its
    /// area data came from files keyed by 2011 codes, such as the IMD file, without the 2021
    /// boundaries): there the 2011 LSOAs stand in. Most LSOAs kept their code in 2021, so
    /// records in those are placed; records in an LSOA that was split, merged or renamed
    /// carry a code not held and stay unplaced, which the report counts.
    ///
    /// `districts` limits the 2011 stand-ins to the report's area (empty: every district's),
    /// so a partnership on the national archive does not read every other district's.
    pub async fn sna_lsoa_reference(&self, districts: &[String]) -> Result<SnaLsoaReference, DbError> {
        let mut params = Params::new();
        let in_area = match districts.is_empty() {
            true => String::new(),
            false => format!(" AND district_code IN ({})", params.list(districts)),
        };
        let sql = format!(
            "SELECT code, name, district_code, population, imd_decile, in_2021 FROM lsoas \
             WHERE in_2021 = 1 OR (in_2011 = 1 AND district_code IS NOT NULL{in_area} AND district_code NOT IN \
               (SELECT district_code FROM lsoas WHERE in_2021 = 1 AND district_code IS NOT NULL)) \
             ORDER BY code"
        );
        let rows = params.bind(sqlx::query(&sql), 0).fetch_all(&self.pool).await?;
        let rows: Vec<LsoaVintageRow> = rows_as(&rows)?;
        let mut districts_2011 = std::collections::BTreeSet::new();
        let lsoas = rows
            .into_iter()
            .map(|l| {
                if l.in_2021 != 1 {
                    districts_2011.extend(l.district_code.clone());
                }
                LsoaRef {
                    code: l.code,
                    name: l.name,
                    district: l.district_code,
                    population: l.population,
                    imd_decile: l.imd_decile,
                }
            })
            .collect();
        let rows: Vec<LinkRow> =
            sqlx::query_as("SELECT lsoa11, lsoa21, weight FROM lsoa_links").fetch_all(&self.pool).await?;
        let links =
            rows.into_iter().map(|r| VintageLink { lsoa11: r.lsoa11, lsoa21: r.lsoa21, weight: r.weight }).collect();
        Ok(SnaLsoaReference { lsoas, links, districts_2011: districts_2011.into_iter().collect() })
    }

    /// The current imports behind the police figures and the area figures.
    pub async fn sna_source_imports(&self) -> Result<Vec<SourceImport>, DbError> {
        Ok(sqlx::query_as(
            "SELECT id, force, month, kind, file_name FROM imports WHERE source IN ('police', 'areas') \
             AND superseded_by IS NULL ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// The partner data sources the report can use, present or not.
    pub async fn sna_partner_sources(&self) -> Result<Vec<PartnerSource>, DbError> {
        let mut out = Vec::new();
        for (name, table) in PARTNER_TABLES {
            let exists_sql = match self.backend() {
                Backend::Sqlite => {
                    "SELECT CAST(COUNT(*) AS BIGINT) FROM sqlite_master WHERE type = 'table' AND name = $1"
                }
                Backend::Postgres => {
                    "SELECT CAST(COUNT(*) AS BIGINT) FROM information_schema.tables WHERE table_name = $1 \
                     AND table_schema = current_schema()"
                }
            };
            let exists: i64 = sqlx::query(exists_sql).bind(table).fetch_one(&self.pool).await?.try_get(0)?;
            let rows = if exists > 0 {
                // The table name comes from the constant list above, never from input.
                Some(
                    sqlx::query(&format!("SELECT CAST(COUNT(*) AS BIGINT) FROM {table}"))
                        .fetch_one(&self.pool)
                        .await?
                        .try_get(0)?,
                )
            } else {
                None
            };
            out.push(PartnerSource { name, table, rows });
        }
        Ok(out)
    }
}

/// The audit action of a definition stored from the web.
pub const DEFINITION_CHANGE: &str = "definition-change";

/// Inserts `definition` as the next version inside `tx`; returns the version.
async fn store_definition(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    definition: &Definition,
    who: &str,
) -> Result<i64, DbError> {
    let next: i64 = sqlx::query("SELECT CAST(COALESCE(MAX(version), 0) + 1 AS BIGINT) FROM sv_definitions")
        .fetch_one(&mut **tx)
        .await?
        .try_get(0)?;
    let id: i64 = sqlx::query(
        "INSERT INTO sv_definitions (version, name, created, created_by, notes) VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(next)
    .bind(definition.name.as_str())
    .bind(crate::clock::now())
    .bind(who)
    .bind(definition.notes.as_str())
    .fetch_one(&mut **tx)
    .await?
    .try_get(0)?;
    for (i, m) in definition.mappings.iter().enumerate() {
        sqlx::query(
            "INSERT INTO sv_mappings (definition_id, position, source, category, sv_group, fit, in_headline, note) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(id)
        .bind(i as i64)
        .bind(m.source.code())
        .bind(m.category.as_str())
        .bind(m.group.code())
        .bind(m.fit.code())
        .bind(i64::from(m.in_headline))
        .bind(m.note.as_str())
        .execute(&mut **tx)
        .await?;
    }
    for (i, g) in definition.gaps.iter().enumerate() {
        sqlx::query(
            "INSERT INTO sv_gaps (definition_id, position, source, sv_group, note) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(i as i64)
        .bind(g.source.code())
        .bind(g.group.code())
        .bind(g.note.as_str())
        .execute(&mut **tx)
        .await?;
    }
    Ok(next)
}
