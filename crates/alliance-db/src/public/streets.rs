//! Typed places found by street name, from the street names of the imported police data (see
//! `alliance_core::geo::streets` for how one street name becomes one or several places).
//!
//! The index is built in memory, not stored: one grouped query over `police_crimes` (a row
//! per street name and snap point) and the wards, after which every lookup is a hash lookup.
//! It is kept in the [`Db`] handle and rebuilt when the import generation (the latest
//! import's id, one indexed `MAX`) changes, so no request scans `police_crimes` otherwise. A
//! table would have cost a migration on both backends and a refresh inside every import for
//! the same result.
//!
//! A lookup ([`Db::locate_place`]) never waits for a rebuild once an index of the
//! partnership's area exists: while the index of a newer import generation is built (in the
//! background, one build at a time), lookups answer from the one before. An import run lands
//! files for minutes, and each file is a new generation: a public reporter typing a street
//! then would otherwise wait for a rebuild per file (about a second on the national archive,
//! on the cores the import needs), for streets nearly all already known. The server's warming
//! and [`Db::street_gazetteer`] wait for the current generation's index.

use std::collections::HashMap;
use std::sync::Arc;

use alliance_core::domain::street_of_location;
use alliance_core::geo::grid::AreaIndex;
use alliance_core::geo::projection::BngProjector;
use alliance_core::geo::streets::{StreetArea, StreetIndex, StreetLookup, StreetPoint};
use sqlx::Row;

use super::{normalise, Place};
use crate::params::Params;
use crate::{Db, DbError};

/// The street index with the areas its places refer to, as of one import generation.
#[derive(Debug)]
pub struct StreetGazetteer {
    /// The import generation it was built at.
    pub generation: Option<i64>,
    /// The partnership's districts it was built for (empty: no profile, every street).
    pub districts: Vec<String>,
    pub index: StreetIndex,
    /// Wards, then districts: `StreetPlace::area` indexes this.
    pub areas: Vec<Place>,
}

/// The cached street index (empty until the first lookup), shared by every clone of a [`Db`].
pub(crate) type StreetCache = Arc<StreetSlot>;

/// The latest index built, and the lock a build holds, so that requests arriving meanwhile
/// wait for one build (or answer from the previous index) rather than each running it.
#[derive(Debug, Default)]
pub(crate) struct StreetSlot {
    latest: std::sync::Mutex<Option<Arc<StreetGazetteer>>>,
    building: Arc<tokio::sync::Mutex<()>>,
}

impl StreetSlot {
    fn latest(&self) -> Option<Arc<StreetGazetteer>> {
        self.latest.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// Keeps `built` unless an index of a newer generation of the same districts is kept.
    fn keep(&self, built: Arc<StreetGazetteer>) {
        let mut latest = self.latest.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if !latest.as_ref().is_some_and(|g| g.districts == built.districts && g.generation > built.generation) {
            *latest = Some(built);
        }
    }
}

/// What a typed place is.
#[derive(Debug, Clone, PartialEq)]
pub enum PlaceLookup {
    /// A ward, district or neighbourhood by name.
    Area(Place),
    /// One street: its label ("Church Street, Etruria & Hanley, Stoke-on-Trent"), the ward
    /// (else district) it lies in, and one of its snap points (WGS84 longitude, latitude).
    Street {
        label: String,
        area: Place,
        point: (f64, f64),
    },
    /// A street of that name is in several places (or not in the place typed after it): the
    /// labels of the places it is in, for the reporter to choose from.
    Choose {
        street: String,
        not_in: Option<String>,
        choices: Vec<String>,
    },
    NotFound,
}

impl Db {
    /// Finds a typed place: an exact ward, district or neighbourhood name first, then a
    /// street name (with an optional ward, district or town after it), then a ward or
    /// district whose name starts with the text (as [`Db::find_place`]).
    pub async fn locate_place(&self, query: &str) -> Result<PlaceLookup, DbError> {
        let area = self.find_place(query).await?;
        if let Some(place) = &area {
            if normalise(&place.name) == normalise(query) {
                return Ok(PlaceLookup::Area(place.clone()));
            }
        }
        let streets = self.street_gazetteer_for_lookup().await?;
        let street = match streets.index.lookup(query) {
            StreetLookup::NotAStreet => None,
            StreetLookup::Found(p) => Some(PlaceLookup::Street {
                label: p.label.clone(),
                area: streets.areas[p.area].clone(),
                point: (p.longitude, p.latitude),
            }),
            StreetLookup::Several(choices) => Some(PlaceLookup::Choose {
                street: choices[0].name.clone(),
                not_in: None,
                choices: choices.iter().map(|p| p.label.clone()).collect(),
            }),
            StreetLookup::NotIn { qualifier, choices } => Some(PlaceLookup::Choose {
                street: choices[0].name.clone(),
                not_in: Some(qualifier),
                choices: choices.iter().map(|p| p.label.clone()).collect(),
            }),
        };
        Ok(street.or(area.map(PlaceLookup::Area)).unwrap_or(PlaceLookup::NotFound))
    }

    /// The street index of the current import generation, built when missing or out of date
    /// (waiting for a build already running rather than starting another).
    pub async fn street_gazetteer(&self) -> Result<Arc<StreetGazetteer>, DbError> {
        let _building = self.streets.building.lock().await;
        self.refresh_street_gazetteer().await
    }

    /// The index a lookup uses: the current one when built; else, when an index of the same
    /// districts exists, that one while the current one is built in the background; else (the
    /// first lookup, or the partnership's area changed) the current one, waited for.
    async fn street_gazetteer_for_lookup(&self) -> Result<Arc<StreetGazetteer>, DbError> {
        let (generation, districts) = self.street_index_key().await?;
        let Some(latest) = self.streets.latest().filter(|g| g.districts == districts) else {
            return self.street_gazetteer().await;
        };
        if latest.generation != generation {
            // One build at a time: none starts while one runs (that one is building a
            // generation at least as new as the one this request read, or the next lookup
            // after it finishes starts another).
            if let Ok(building) = self.streets.building.clone().try_lock_owned() {
                let db = self.clone();
                tokio::spawn(async move {
                    let _building = building;
                    if let Err(e) = db.refresh_street_gazetteer().await {
                        tracing::warn!("the street index of a new import: {e}");
                    }
                });
            }
        }
        Ok(latest)
    }

    /// The current index, built unless it is kept already; the caller holds the build lock.
    /// The generation is read here, under the lock: another build may have run since the
    /// request that asked read it.
    async fn refresh_street_gazetteer(&self) -> Result<Arc<StreetGazetteer>, DbError> {
        let (generation, districts) = self.street_index_key().await?;
        if let Some(g) = self.streets.latest().filter(|g| g.generation == generation && g.districts == districts) {
            return Ok(g);
        }
        let built = Arc::new(self.build_street_gazetteer(generation, districts).await?);
        self.streets.keep(built.clone());
        Ok(built)
    }

    /// What an index is built for: the import generation and the profile's districts.
    async fn street_index_key(&self) -> Result<(Option<i64>, Vec<String>), DbError> {
        let generation = self.import_generation().await?;
        let districts: Vec<String> =
            self.partnership().await?.map(|p| p.districts.iter().map(|d| d.to_string()).collect()).unwrap_or_default();
        Ok((generation, districts))
    }

    /// Builds the index from the streets of the partnership's `area` (its districts), by their
    /// records' LSOAs: a database holding other forces' data too (a region, the national
    /// archive) must not offer a Staffordshire reporter 200 Church Streets across England and
    /// Wales. When every district's LSOAs are held, the records are those the LSOAs place in
    /// the area (as the SNA and the month counts place them) and those without an LSOA; when
    /// some district has none held, records in an LSOA of no known district are kept too, placed
    /// by the wards.
    async fn build_street_gazetteer(
        &self,
        generation: Option<i64>,
        area: Vec<String>,
    ) -> Result<StreetGazetteer, DbError> {
        // Every ward, not only the area's: a record of no known LSOA is kept and placed by the
        // ward it lies in, wherever that is (once per import, in the server's warming).
        let wards = self.boundary_shapes("ward", None).await?;
        let districts = self.districts().await?;
        let district_names: HashMap<&str, &str> =
            districts.iter().map(|d| (d.code.as_str(), d.name.as_str())).collect();
        let mut areas: Vec<Place> = Vec::with_capacity(wards.len() + districts.len());
        let mut labels: Vec<StreetArea> = Vec::with_capacity(areas.capacity());
        for w in &wards {
            areas.push(Place {
                kind: "ward".into(),
                code: w.code.clone(),
                name: w.name.clone(),
                district_code: w.district_code.clone(),
            });
            let district_name = w.district_code.as_deref().and_then(|c| district_names.get(c)).map(|n| n.to_string());
            labels.push(StreetArea { name: w.name.clone(), district_name });
        }
        let mut district_area: HashMap<String, usize> = HashMap::new();
        for d in &districts {
            district_area.insert(d.code.clone(), areas.len());
            areas.push(Place {
                kind: "district".into(),
                code: d.code.clone(),
                name: d.name.clone(),
                district_code: Some(d.code.clone()),
            });
            labels.push(StreetArea { name: d.name.clone(), district_name: None });
        }
        let shapes: Vec<geo::MultiPolygon<f64>> = wards.into_iter().map(|w| w.shape).collect();
        let ward_index = AreaIndex::new(&shapes);
        let projector = BngProjector::new().map_err(|e| DbError::Task(format!("the BNG projection: {e}")))?;

        let mut params = Params::new();
        let held = self.partnership_area().await?;
        let named = "c.longitude IS NOT NULL AND c.latitude IS NOT NULL AND c.location LIKE 'On or near %'";
        // Every record read, each placed in its LSOA's district (none: unknown), those of
        // `in_area` kept.
        let every_record = |in_area: &str| {
            format!(
                "SELECT c.location, c.longitude, c.latitude, l.district_code, COUNT(*) \
                 FROM police_crimes c LEFT JOIN lsoas l ON l.code = c.lsoa_code WHERE {named}{in_area} \
                 GROUP BY c.location, c.longitude, c.latitude, l.district_code"
            )
        };
        let by_area_index = !area.is_empty() && held.len() == area.len();
        let sql = if area.is_empty() {
            every_record("")
        } else if by_area_index {
            // Every district's LSOAs are held: the records those LSOAs place in the area (read
            // by the area index, migration 0038, instead of every record of a national archive),
            // and those without an LSOA.
            format!(
                "SELECT c.location, c.longitude, c.latitude, l.district_code, COUNT(*) \
                 FROM lsoas l JOIN police_crimes c ON c.lsoa_code = l.code \
                 WHERE l.district_code IN ({}) AND {named} \
                 GROUP BY c.location, c.longitude, c.latitude, l.district_code \
                 UNION ALL \
                 SELECT c.location, c.longitude, c.latitude, NULL, COUNT(*) FROM police_crimes c \
                 WHERE c.lsoa_code IS NULL AND {named} GROUP BY c.location, c.longitude, c.latitude",
                params.list(area.iter().cloned())
            )
        } else {
            // Some district has no LSOAs held, so its records' LSOAs are of no known district:
            // those are kept (placed by the wards), which needs every record read.
            every_record(&format!(
                " AND (l.district_code IS NULL OR l.district_code IN ({}))",
                params.list(area.iter().cloned())
            ))
        };
        let rows = self.fetch_police_rows(&sql, &params, by_area_index).await?;
        let mut points = Vec::with_capacity(rows.len());
        for r in &rows {
            let location: String = r.try_get(0)?;
            let Some(name) = street_of_location(&location) else {
                continue;
            };
            let (longitude, latitude): (f64, f64) = (r.try_get(1)?, r.try_get(2)?);
            let district: Option<String> = r.try_get(3)?;
            let Ok((easting, northing)) = projector.to_bng(longitude, latitude) else { continue };
            let area = ward_index
                .area_of(longitude, latitude)
                .or_else(|| district.as_ref().and_then(|d| district_area.get(d).copied()));
            points.push(StreetPoint {
                name: name.to_string(),
                longitude,
                latitude,
                easting,
                northing,
                crimes: r.try_get(4)?,
                area,
            });
        }
        Ok(StreetGazetteer { generation, districts: area, index: StreetIndex::new(&points, &labels), areas })
    }
}
