//! Emergency department assaults: importing ISTV files, geocoding their locations, the
//! resolution queue, and reads (record level and aggregate).
//!
//! The unit of replacement is (site code, reporting period): the same file again (same
//! checksum) changes nothing; another file for the same site and period replaces the earlier
//! one's assaults. Periods that overlap without being equal are separate units.

use std::collections::HashMap;

use alliance_core::geo::gazetteer::{normalise, Confidence, Gazetteer, Place};
use alliance_ingest::ed::{read_ed_file, EdSubmission};
use alliance_ingest::SourceFile;
use serde::Serialize;

use super::{double_text, insert_sql};
use crate::imports::{
    audit_in, begin_replacing, checksum_and_read, current_in, finish_import, imported_detail, ImportAudit,
    ImportOutcome, NewImport,
};
use crate::{Db, DbError};

/// How an ED file's locations were geocoded.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct GeocodeSummary {
    pub high: i64,
    pub medium: i64,
    /// Low-confidence matches and descriptions with no match: queued for a person.
    pub queued: i64,
    /// Taken from an earlier person's resolution of the same description.
    pub resolved: i64,
    /// No location description.
    pub no_text: i64,
}

/// The result of importing one ED file.
#[derive(Debug, Clone, Serialize)]
pub struct EdImportReport {
    pub outcome: ImportOutcome,
    pub geocoding: GeocodeSummary,
    pub synthetic: bool,
}

/// Where an assault's location was placed.
#[derive(Debug, Clone, Default)]
struct Geo {
    status: &'static str,
    confidence: Option<&'static str>,
    score: Option<f64>,
    kind: Option<String>,
    name: Option<String>,
    district: Option<String>,
    longitude: Option<f64>,
    latitude: Option<f64>,
}

impl Geo {
    fn at(status: &'static str, confidence: Option<&'static str>, score: Option<f64>, place: Option<&Place>) -> Geo {
        Geo {
            status,
            confidence,
            score,
            kind: place.map(|p| p.kind.as_str().to_string()),
            name: place.map(|p| p.name.clone()),
            district: place.and_then(|p| p.district.clone()),
            longitude: place.map(|p| p.longitude),
            latitude: place.map(|p| p.latitude),
        }
    }
}

/// A person's earlier choice for a description.
#[derive(Debug, Clone)]
struct Resolution {
    place: Option<Place>,
}

/// A person's stored choice, by column name (the name and district are both text, the
/// coordinates both reals).
#[derive(sqlx::FromRow)]
struct ResolutionRow {
    location_key: String,
    geo_kind: Option<String>,
    geo_name: Option<String>,
    district_code: Option<String>,
    longitude: Option<f64>,
    latitude: Option<f64>,
}

/// A queued location description with its count, by column name (the key and the example
/// are both text).
#[derive(sqlx::FromRow)]
struct QueuedRow {
    location_key: String,
    example: Option<String>,
    assaults: i64,
}

const COLUMNS: &[&str] = &[
    "import_id",
    "site_code",
    "arrival_at",
    "assault_at",
    "assault_month",
    "method",
    "method_other",
    "location_type",
    "location_description",
    "location_key",
    "age_band",
    "sex",
    "geo_status",
    "geo_confidence",
    "geo_score",
    "geo_kind",
    "geo_name",
    "district_code",
    "longitude",
    "latitude",
];
const DOUBLES: &[usize] = &[14, 18, 19];
const ROWS_PER_INSERT: usize = 50;

fn geocode(
    sub: &EdSubmission,
    gazetteer: &Gazetteer,
    resolutions: &HashMap<String, Resolution>,
) -> (Vec<(Option<String>, Geo)>, GeocodeSummary) {
    let mut cache: HashMap<String, Geo> = HashMap::new();
    let mut summary = GeocodeSummary::default();
    let mut out = Vec::with_capacity(sub.assaults.len());
    for a in &sub.assaults {
        let Some(text) = a.location_description.as_deref() else {
            summary.no_text += 1;
            out.push((None, Geo { status: "none", ..Geo::default() }));
            continue;
        };
        let key = normalise(text);
        if key.is_empty() {
            summary.no_text += 1;
            out.push((None, Geo { status: "none", ..Geo::default() }));
            continue;
        }
        let geo = cache
            .entry(key.clone())
            .or_insert_with(|| {
                if let Some(r) = resolutions.get(&key) {
                    return match &r.place {
                        Some(p) => Geo::at("resolved", None, None, Some(p)),
                        None => Geo::at("unlocatable", None, None, None),
                    };
                }
                match gazetteer.locate(text) {
                    Some(m) if m.confidence >= Confidence::Medium => {
                        Geo::at("matched", Some(m.confidence.as_str()), Some(m.score), gazetteer.places().get(m.place))
                    }
                    Some(m) => Geo::at("queued", Some("low"), Some(m.score), gazetteer.places().get(m.place)),
                    None => Geo::at("queued", None, None, None),
                }
            })
            .clone();
        match (geo.status, geo.confidence) {
            ("matched", Some("high")) => summary.high += 1,
            ("matched", _) => summary.medium += 1,
            ("queued", _) => summary.queued += 1,
            _ => summary.resolved += 1,
        }
        out.push((Some(key), geo));
    }
    (out, summary)
}

/// One assault as stored (record level).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct EdAssaultRow {
    pub id: i64,
    pub site_code: String,
    pub arrival_at: Option<String>,
    pub assault_at: String,
    pub method: String,
    pub method_other: Option<String>,
    pub location_type: String,
    pub location_description: Option<String>,
    pub age_band: Option<String>,
    pub sex: Option<String>,
    pub geo_status: String,
    pub geo_confidence: Option<String>,
    pub geo_name: Option<String>,
    pub district_code: Option<String>,
    pub longitude: Option<f64>,
    pub latitude: Option<f64>,
}

/// Which assaults to read: months inclusive (YYYY-MM), a site, a district.
#[derive(Debug, Clone, Default)]
pub struct EdFilter {
    pub from_month: Option<String>,
    pub to_month: Option<String>,
    pub site_code: Option<String>,
    pub district_code: Option<String>,
}

/// What to count ED assaults by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdGroup {
    Month,
    Method,
    LocationType,
    District,
}

impl EdGroup {
    fn column(self) -> &'static str {
        match self {
            EdGroup::Month => "assault_month",
            EdGroup::Method => "method",
            EdGroup::LocationType => "location_type",
            EdGroup::District => "district_code",
        }
    }
}

/// A count of assaults for one value of a grouping (`None`: not known, e.g. not geocoded).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EdCount {
    pub key: Option<String>,
    pub count: i64,
}

/// What aggregate tables of ED assaults are made from: one assault without its free text,
/// codes or site (enough to count by month, district, method, age band, sex, hour and day).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct EdFact {
    /// Local date-time `YYYY-MM-DDTHH:MM:SS`.
    pub assault_at: String,
    pub assault_month: String,
    pub method: String,
    pub district_code: Option<String>,
    pub age_band: Option<String>,
    pub sex: Option<String>,
}

/// A location description awaiting a person's choice of place.
#[derive(Debug, Clone, Serialize)]
pub struct QueuedLocation {
    pub location_key: String,
    /// One description as written (the first imported).
    pub example: String,
    pub assaults: i64,
}

const FILTER_SQL: &str = "($1 IS NULL OR assault_month >= $1) AND ($2 IS NULL OR assault_month <= $2) \
     AND ($3 IS NULL OR site_code = $3) AND ($4 IS NULL OR district_code = $4) \
     AND import_id IN (SELECT id FROM imports WHERE source = 'ed' AND superseded_by IS NULL)";

impl EdFilter {
    /// Binds the filter as `$1` to `$4` of [`FILTER_SQL`], which every read of assaults
    /// filters by.
    fn bind<'q, O>(
        &'q self,
        query: sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>>,
    ) -> sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>> {
        query
            .bind(self.from_month.as_deref())
            .bind(self.to_month.as_deref())
            .bind(self.site_code.as_deref())
            .bind(self.district_code.as_deref())
    }
}

/// The audit action of a person placing an ED location description.
pub const ED_GEOCODE_RESOLVED: &str = "ed-geocode-resolve";

impl Db {
    /// Imports one ED assault file (CSV or XML), geocoding its locations. `who` is recorded
    /// as the importer.
    pub async fn import_ed_file(&self, file: &SourceFile, who: &str) -> Result<EdImportReport, DbError> {
        self.import_ed(file, who, None).await
    }

    /// As [`Db::import_ed_file`], writing the audit row of an import in its transaction.
    pub async fn import_ed_file_audited(
        &self,
        file: &SourceFile,
        audit: &ImportAudit,
    ) -> Result<EdImportReport, DbError> {
        self.import_ed(file, &audit.actor.name, Some(audit)).await
    }

    async fn import_ed(
        &self,
        file: &SourceFile,
        who: &str,
        audit: Option<&ImportAudit>,
    ) -> Result<EdImportReport, DbError> {
        let (checksum, sub) = checksum_and_read(file, read_ed_file).await?;
        let unit = sub.unit();
        // A first look outside the transaction spares geocoding a file already imported; the
        // answer that counts is read again under the write lock below.
        let current = self.current_import(&unit).await?;
        if let Some(current) = current.as_ref().filter(|c| c.checksum == checksum) {
            return Ok(EdImportReport {
                outcome: ImportOutcome::Unchanged { import_id: current.id, unit },
                geocoding: GeocodeSummary::default(),
                synthetic: sub.synthetic,
            });
        }
        let gazetteer = self.ed_gazetteer().await?;
        let resolutions = self.ed_resolutions().await?;
        let synthetic = sub.synthetic;
        let (sub, geos, summary) = tokio::task::spawn_blocking(move || {
            let (geos, summary) = geocode(&sub, &gazetteer, &resolutions);
            (sub, geos, summary)
        })
        .await?;

        let mut tx = self.begin_write().await?;
        let current = current_in(&mut tx, self.backend(), &unit).await?;
        if let Some((id, _)) = current.as_ref().filter(|(_, c)| *c == checksum) {
            return Ok(EdImportReport {
                outcome: ImportOutcome::Unchanged { import_id: *id, unit },
                geocoding: GeocodeSummary::default(),
                synthetic,
            });
        }
        let replaced = current.map(|(id, _)| id);
        let month = sub.period_start.format("%Y-%m").to_string();
        let (import_id, mut counts) = begin_replacing(
            &mut tx,
            &NewImport {
                month: Some(&month),
                ..NewImport::of_file(
                    "ed",
                    if synthetic { "istv-synthetic" } else { "istv" },
                    &unit,
                    &file.name,
                    &checksum,
                    who,
                )
            },
            replaced,
            "ed_assaults",
        )
        .await?;
        let backend = self.backend();
        let mut cached: Option<(usize, String)> = None;
        let pairs: Vec<_> = sub.assaults.iter().zip(&geos).collect();
        for chunk in pairs.chunks(ROWS_PER_INSERT) {
            if cached.as_ref().map(|(n, _)| *n) != Some(chunk.len()) {
                cached = Some((chunk.len(), insert_sql(backend, "ed_assaults", COLUMNS, DOUBLES, chunk.len())));
            }
            let sql = cached.as_ref().map(|(_, s)| s.as_str()).unwrap_or_default();
            let mut q = sqlx::query(sql);
            for (a, (key, g)) in chunk {
                q = q
                    .bind(import_id)
                    .bind(sub.site_code.as_str())
                    .bind(a.arrival_at.map(|t| t.format("%Y-%m-%dT%H:%M:%S").to_string()))
                    .bind(a.assault_at.format("%Y-%m-%dT%H:%M:%S").to_string())
                    .bind(a.assault_at.format("%Y-%m").to_string())
                    .bind(a.method.as_str())
                    .bind(a.method_other.as_deref())
                    .bind(a.location_type.as_str())
                    .bind(a.location_description.as_deref())
                    .bind(key.as_deref())
                    .bind(a.age_band.as_deref())
                    .bind(a.sex.as_deref())
                    .bind(g.status)
                    .bind(g.confidence)
                    .bind(double_text(g.score))
                    .bind(g.kind.as_deref())
                    .bind(g.name.as_deref())
                    .bind(g.district.as_deref())
                    .bind(double_text(g.longitude))
                    .bind(double_text(g.latitude));
            }
            q.execute(&mut *tx).await?;
        }
        counts.rows_read = sub.assaults.len() as i64;
        counts.rows_added = counts.rows_read;
        counts.rows_without_location = summary.queued + summary.no_text;
        finish_import(&mut tx, import_id, counts, replaced).await?;
        audit_in(&mut tx, self.audit_chain(), audit, &file.name, &imported_detail(import_id, &counts, replaced))
            .await?;
        tx.commit().await?;
        Ok(EdImportReport {
            outcome: ImportOutcome::Imported { import_id, unit, counts, replaced },
            geocoding: summary,
            synthetic,
        })
    }

    async fn ed_resolutions(&self) -> Result<HashMap<String, Resolution>, DbError> {
        let rows: Vec<ResolutionRow> = sqlx::query_as(
            "SELECT location_key, geo_kind, geo_name, district_code, longitude, latitude FROM ed_geocode_resolutions",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut out = HashMap::new();
        for r in rows {
            let place = match r.geo_kind.as_deref() {
                Some(k) => Some(Place {
                    kind: if k == "venue" {
                        alliance_core::geo::gazetteer::PlaceKind::Venue
                    } else {
                        alliance_core::geo::gazetteer::PlaceKind::Street
                    },
                    name: r.geo_name.unwrap_or_default(),
                    district: r.district_code,
                    longitude: r.longitude.unwrap_or_default(),
                    latitude: r.latitude.unwrap_or_default(),
                }),
                None => None,
            };
            out.insert(r.location_key, Resolution { place });
        }
        Ok(out)
    }

    /// Location descriptions awaiting a person, most assaults first (ties by text).
    pub async fn ed_geocode_queue(&self, limit: usize) -> Result<Vec<QueuedLocation>, DbError> {
        let rows: Vec<QueuedRow> = sqlx::query_as(
            "SELECT location_key, MIN(location_description) AS example, COUNT(*) AS assaults FROM ed_assaults \
             WHERE geo_status = 'queued' AND location_key IS NOT NULL \
             AND import_id IN (SELECT id FROM imports WHERE source = 'ed' AND superseded_by IS NULL) \
             GROUP BY location_key",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut out: Vec<QueuedLocation> = rows
            .into_iter()
            .map(|r| QueuedLocation {
                location_key: r.location_key,
                example: r.example.unwrap_or_default(),
                assaults: r.assaults,
            })
            .collect();
        out.sort_by(|a, b| b.assaults.cmp(&a.assaults).then_with(|| a.location_key.cmp(&b.location_key)));
        out.truncate(limit);
        Ok(out)
    }

    /// Records a person's choice for a location description (`None`: the place cannot be
    /// located) and applies it to every assault with that description, with its audit row
    /// (`ed-geocode-resolve`) in the same transaction. Returns the number of assaults updated.
    pub async fn resolve_ed_location(
        &self,
        location_key: &str,
        place: Option<&Place>,
        actor: &crate::audit::Actor,
    ) -> Result<u64, DbError> {
        let who = actor.name.as_str();
        let now = crate::clock::now();
        let g = match place {
            Some(p) => Geo::at("resolved", None, None, Some(p)),
            None => Geo::at("unlocatable", None, None, None),
        };
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM ed_geocode_resolutions WHERE location_key = $1")
            .bind(location_key)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO ed_geocode_resolutions (location_key, geo_kind, geo_name, district_code, longitude, latitude, \
             resolved_by, resolved_at) VALUES ($1, $2, $3, $4, CAST($5 AS DOUBLE PRECISION), CAST($6 AS DOUBLE PRECISION), $7, $8)",
        )
        .bind(location_key)
        .bind(g.kind.as_deref())
        .bind(g.name.as_deref())
        .bind(g.district.as_deref())
        .bind(double_text(g.longitude))
        .bind(double_text(g.latitude))
        .bind(who)
        .bind(&now)
        .execute(&mut *tx)
        .await?;
        let updated = sqlx::query(
            "UPDATE ed_assaults SET geo_status = $1, geo_kind = $2, geo_name = $3, district_code = $4, \
             longitude = CAST($5 AS DOUBLE PRECISION), latitude = CAST($6 AS DOUBLE PRECISION) WHERE location_key = $7",
        )
        .bind(g.status)
        .bind(g.kind.as_deref())
        .bind(g.name.as_deref())
        .bind(g.district.as_deref())
        .bind(double_text(g.longitude))
        .bind(double_text(g.latitude))
        .bind(location_key)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let chosen = g.name.as_deref().unwrap_or("cannot be located");
        let detail = format!("{chosen}: {updated} assaults");
        // The description as the queue showed it, cut to a bounded length for the log.
        let target: String = location_key.chars().take(200).collect();
        self.commit_audited(tx, &actor.event(ED_GEOCODE_RESOLVED, &target, &detail)).await?;
        Ok(updated)
    }

    /// ED assaults at record level (current imports only), by assault time then id.
    pub async fn ed_assaults(&self, filter: &EdFilter, limit: i64) -> Result<Vec<EdAssaultRow>, DbError> {
        self.ed_assaults_page(filter, 0, limit).await
    }

    /// One page of [`Db::ed_assaults`]: `limit` rows after skipping `offset`.
    pub async fn ed_assaults_page(
        &self,
        filter: &EdFilter,
        offset: i64,
        limit: i64,
    ) -> Result<Vec<EdAssaultRow>, DbError> {
        let sql = format!(
            "SELECT id, site_code, arrival_at, assault_at, method, method_other, location_type, location_description, \
             age_band, sex, geo_status, geo_confidence, geo_name, district_code, longitude, latitude \
             FROM ed_assaults WHERE {FILTER_SQL} ORDER BY assault_at, id LIMIT $5 OFFSET $6"
        );
        Ok(filter.bind(sqlx::query_as(&sql)).bind(limit).bind(offset.max(0)).fetch_all(&self.pool).await?)
    }

    /// The facts aggregate tables are made from (current imports only), by assault time.
    pub async fn ed_assault_facts(&self, filter: &EdFilter) -> Result<Vec<EdFact>, DbError> {
        let sql = format!(
            "SELECT assault_at, assault_month, method, district_code, age_band, sex FROM ed_assaults \
             WHERE {FILTER_SQL} ORDER BY assault_at, id"
        );
        Ok(filter.bind(sqlx::query_as(&sql)).fetch_all(&self.pool).await?)
    }

    /// The number of ED assaults (current imports only) matching a filter, for paging.
    pub async fn ed_assault_total(&self, filter: &EdFilter) -> Result<i64, DbError> {
        let sql = format!("SELECT COUNT(*) FROM ed_assaults WHERE {FILTER_SQL}");
        let (total,): (i64,) = filter.bind(sqlx::query_as(&sql)).fetch_one(&self.pool).await?;
        Ok(total)
    }

    /// Counts of ED assaults (current imports only) by one grouping, sorted by key with the
    /// unknown (`None`) last. Small-number suppression is the access layer's job.
    pub async fn ed_assault_counts(&self, by: EdGroup, filter: &EdFilter) -> Result<Vec<EdCount>, DbError> {
        let col = by.column();
        let sql = format!("SELECT {col}, COUNT(*) FROM ed_assaults WHERE {FILTER_SQL} GROUP BY {col}");
        let rows: Vec<(Option<String>, i64)> = filter.bind(sqlx::query_as(&sql)).fetch_all(&self.pool).await?;
        let mut out: Vec<EdCount> = rows.into_iter().map(|(key, count)| EdCount { key, count }).collect();
        out.sort_by(|a, b| match (&a.key, &b.key) {
            (Some(x), Some(y)) => x.cmp(y),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        });
        Ok(out)
    }
}
