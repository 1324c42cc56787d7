//! Hotspot analyses of the stored police data, kept for the next request that asks the same.
//!
//! `GET /map` computes Getis-Ord Gi* to list the top hotspots, and the map on that page then
//! asks `GET /api/v1/hotspots` for the same analysis as GeoJSON: without a cache every view
//! of the map ran the permutations twice. The cache is keyed by every input that changes the
//! result (the filter, the units and their settings, the neighbours, the statistic with its
//! permutations, seed, alternative, alpha and standardisation) and by the import generation
//! (the latest import's id), so a new police or boundary file makes every older entry a miss.
//! It holds a few entries, least recently used first out, and its lock is never held while
//! an analysis runs (two requests missing at once both compute; the later insert wins).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use alliance_core::analytics::spatial::hotspot_table::{HotspotSettings, NeighbourRule};
use alliance_db::spatial::LocatedFilter;
use alliance_db::Db;

use crate::spatial::{self as svc, Area, AreaHotspots, GridHotspots, GridRequest, SpatialServiceError};

/// How many analyses are kept: the map page and its layer request need one; a few more
/// let an analyst switch between filters and back without waiting again.
pub const CAPACITY: usize = 4;

/// The units a hotspot analysis counts points into.
#[derive(Debug, Clone, PartialEq)]
pub enum HotspotUnits {
    /// Square cells of `cell` metres from `origin` (by default the points' minimum, rounded
    /// down), over the points' bounding box or (`within_area`) only the cells meeting the
    /// district's (or every) LSOA.
    Grid { cell: f64, origin: Option<(f64, f64)>, within_area: bool },
    /// Stored boundaries of this kind (`lsoa21`, `lsoa11`, `ward`).
    Areas(String),
}

/// A hotspot analysis of the stored police data, as asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredHotspotRequest {
    /// Which records; its `district` also limits the areas (and the study area of a grid).
    pub filter: LocatedFilter,
    pub units: HotspotUnits,
    pub neighbours: NeighbourRule,
    pub settings: HotspotSettings,
}

/// A hotspot analysis' result with what drawing it needs.
#[derive(Debug)]
pub enum Hotspots {
    Grid(GridHotspots),
    /// The areas' outlines come along for the GeoJSON.
    Areas {
        hotspots: AreaHotspots,
        areas: Vec<Area>,
    },
}

/// How often the cache answered and how often an analysis ran (for tests and logs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CacheCounts {
    pub hits: u64,
    pub computations: u64,
}

#[derive(PartialEq)]
struct Key {
    /// The latest import's id when the analysis was asked for (None: nothing imported).
    generation: Option<i64>,
    request: StoredHotspotRequest,
}

/// The cache itself: least recently used first. Keys are compared by equality (they hold
/// floating-point settings, so they are not hashed); with a few entries a scan costs nothing.
#[derive(Default)]
pub struct HotspotCache {
    entries: Mutex<Vec<(Key, Arc<Hotspots>)>>,
    hits: AtomicU64,
    computations: AtomicU64,
}

impl std::fmt::Debug for HotspotCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HotspotCache").field("counts", &self.counts()).finish()
    }
}

impl HotspotCache {
    pub fn new() -> HotspotCache {
        HotspotCache::default()
    }

    pub fn counts(&self) -> CacheCounts {
        CacheCounts { hits: self.hits.load(Ordering::Relaxed), computations: self.computations.load(Ordering::Relaxed) }
    }

    /// The entry for `key`, now the most recently used. A poisoned lock (a panic while it
    /// was held, which only a bug could cause) is treated as an empty cache, never an error.
    fn get(&self, key: &Key) -> Option<Arc<Hotspots>> {
        let mut entries = self.entries.lock().ok()?;
        let at = entries.iter().position(|(k, _)| k == key)?;
        let entry = entries.remove(at);
        let value = entry.1.clone();
        entries.push(entry);
        Some(value)
    }

    fn put(&self, key: Key, value: Arc<Hotspots>) {
        let Ok(mut entries) = self.entries.lock() else { return };
        entries.retain(|(k, _)| k != &key);
        entries.push((key, value));
        if entries.len() > CAPACITY {
            let excess = entries.len() - CAPACITY;
            entries.drain(..excess);
        }
    }

    /// The analysis of the stored data `request` asks for: from the cache when the same was
    /// asked since the last import, computed (and kept) otherwise.
    pub async fn stored_hotspots(
        &self,
        db: &Db,
        request: &StoredHotspotRequest,
    ) -> Result<Arc<Hotspots>, SpatialServiceError> {
        // The generation is read before the records: an import committed in between then
        // files newer data under the older generation, which no later request asks for,
        // rather than older data under the newer one, which every later request would get.
        let key = Key { generation: db.import_generation().await?, request: request.clone() };
        if let Some(found) = self.get(&key) {
            self.hits.fetch_add(1, Ordering::Relaxed);
            return Ok(found);
        }
        let points = svc::stored_points(db, &request.filter).await?.xy;
        if points.is_empty() {
            return Err(SpatialServiceError::NoLocatedRecords);
        }
        let computed = Arc::new(compute(db, request, points).await?);
        self.computations.fetch_add(1, Ordering::Relaxed);
        self.put(key, computed.clone());
        Ok(computed)
    }
}

/// Runs a hotspot analysis on `points` (National Grid metres), loading the areas it needs;
/// the statistic runs on a blocking thread (999 permutations take a while).
pub async fn compute(
    db: &Db,
    request: &StoredHotspotRequest,
    points: Vec<(f64, f64)>,
) -> Result<Hotspots, SpatialServiceError> {
    let district = request.filter.district.as_deref();
    let (neighbours, settings) = (request.neighbours, request.settings);
    match &request.units {
        HotspotUnits::Areas(kind) => {
            let areas = svc::areas(db, kind, district).await?;
            let kind = kind.clone();
            let (hotspots, areas) = tokio::task::spawn_blocking(move || {
                svc::area_hotspots(&kind, &points, &areas, neighbours, &settings).map(|h| (h, areas))
            })
            .await
            .map_err(|e| SpatialServiceError::Task(e.to_string()))??;
            Ok(Hotspots::Areas { hotspots, areas })
        }
        &HotspotUnits::Grid { cell, origin, within_area } => {
            let area =
                if within_area { Some(svc::study_area(&svc::areas(db, "lsoa21", district).await?)) } else { None };
            let grid = GridRequest { cell, origin, neighbours, settings };
            let h = tokio::task::spawn_blocking(move || svc::grid_hotspots(&points, area.as_ref(), grid))
                .await
                .map_err(|e| SpatialServiceError::Task(e.to_string()))??;
            Ok(Hotspots::Grid(h))
        }
    }
}

#[cfg(test)]
mod tests {
    use alliance_core::analytics::spatial::hotspot_table::HotspotStatistic;
    use alliance_core::analytics::spatial::{Alternative, Contiguity, PermutationOptions, Standardisation};

    use super::*;

    fn key(generation: i64, cell: f64) -> Key {
        Key {
            generation: Some(generation),
            request: StoredHotspotRequest {
                filter: LocatedFilter::default(),
                units: HotspotUnits::Grid { cell, origin: None, within_area: false },
                neighbours: NeighbourRule::Contiguity(Contiguity::Queen),
                settings: HotspotSettings {
                    statistic: HotspotStatistic::GiStar,
                    permutation: PermutationOptions { permutations: 99, seed: 1, alternative: Alternative::TwoSided },
                    alpha: 0.05,
                    standardisation: Standardisation::Row,
                },
            },
        }
    }

    fn value() -> Arc<Hotspots> {
        let points = [(0.0, 0.0), (10.0, 10.0)];
        let request = key(0, 10.0).request;
        let HotspotUnits::Grid { cell, origin, .. } = request.units else { unreachable!("a grid key") };
        let grid = GridRequest { cell, origin, neighbours: request.neighbours, settings: request.settings };
        Arc::new(Hotspots::Grid(svc::grid_hotspots(&points, None, grid).expect("a two-cell grid")))
    }

    #[test]
    fn a_key_differing_in_any_input_or_generation_misses() {
        let cache = HotspotCache::new();
        cache.put(key(1, 250.0), value());
        assert!(cache.get(&key(1, 250.0)).is_some());
        assert!(cache.get(&key(2, 250.0)).is_none(), "a newer import");
        assert!(cache.get(&key(1, 500.0)).is_none(), "another cell size");
        let mut other = key(1, 250.0);
        other.request.settings.permutation.seed = 2;
        assert!(cache.get(&other).is_none(), "another seed");
        let mut other = key(1, 250.0);
        other.request.filter.crime_types = vec!["Robbery".into()];
        assert!(cache.get(&other).is_none(), "another crime type");
    }

    #[test]
    fn holds_at_most_capacity_entries_dropping_the_least_recently_used() {
        let cache = HotspotCache::new();
        for g in 0..CAPACITY as i64 {
            cache.put(key(g, 250.0), value());
        }
        // Using the oldest makes the second oldest the one to go.
        assert!(cache.get(&key(0, 250.0)).is_some());
        cache.put(key(99, 250.0), value());
        assert_eq!(cache.entries.lock().unwrap().len(), CAPACITY);
        assert!(cache.get(&key(0, 250.0)).is_some(), "recently used, kept");
        assert!(cache.get(&key(1, 250.0)).is_none(), "least recently used, dropped");
        assert!(cache.get(&key(99, 250.0)).is_some());
    }
}
