//! Hotspot and emerging hot spot analyses of the stored police data, kept for the next
//! request that asks the same.
//!
//! `GET /map` computes Getis-Ord Gi* to list the top hotspots, and the map on that page then
//! asks `GET /api/v1/hotspots` for the same analysis as GeoJSON: without a cache every view
//! of the map ran the analysis twice. The same holds for emerging hot spots (`/map?analysis=
//! emerging` and `/api/v1/hotspots/emerging`). The cache is keyed by the whole request (the
//! filter, the units and their settings, the neighbours, the statistic with its
//! permutations, seed, alternative, alpha, standardisation and inference; for emerging hot
//! spots the cell, band, slices, time steps, confidence and place) and by the import
//! generation (the latest import's id), so a new police or boundary file makes every older
//! entry a miss.
//!
//! It is bounded by BYTES ([`CACHE_BYTES`], an estimate of each result's size), least
//! recently used first out; a result larger than the whole budget is not kept. Requests are
//! checked against the analysis bounds before anything runs, so a refused request leaves
//! nothing here. The entries' lock is never held while an analysis runs; a request missing
//! what another request is computing now waits for that one to end and takes its result
//! (a map page and its layer asked together, or a first visitor arriving while the server
//! warms the default view after an import, compute it once).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use alliance_core::analytics::spatial::hotspot_table::{HotspotSettings, NeighbourRule};
use alliance_core::analytics::spatial::SignificanceFrom;
use alliance_db::spatial::LocatedFilter;
use alliance_db::Db;

use super::emerging::{Emerging, EmergingRequest};
use super::places::{text_bytes, top_emerging, top_hotspots, PlaceNamer, TopEmerging, TopHotspot};
use super::{self as svc, Area, AreaHotspots, Bounds, GridHotspots, GridRequest, HotspotResult};
use crate::AppError;

/// The bytes of analyses kept: the map page and its layer need one; a few more let an
/// analyst switch between filters and back without waiting again.
pub const CACHE_BYTES: usize = 64 * 1024 * 1024;

/// Which grid cells a grid analysis uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellsMode {
    /// The cells meeting the study area (the stored LSOA 2021 boundaries of the district, else
    /// of the partnership's districts, see [`super::Region`]) when boundaries are stored, else
    /// the bounding box: the default.
    Auto,
    /// Every cell of the points' bounding box (zeros kept), within the cell budget.
    BoundingBox,
    /// The cells meeting the study area; refused when no boundary is stored.
    StudyArea,
    /// The cells meeting a place of the register (by id: ids are never reused, so a cached
    /// analysis never outlives the outline it was made over).
    Place(i64),
}

/// The units a hotspot analysis counts points into.
#[derive(Debug, Clone, PartialEq)]
pub enum HotspotUnits {
    /// Square cells of `cell` metres from `origin` (by default the study area's, or the
    /// points', minimum rounded down).
    Grid { cell: f64, origin: Option<(f64, f64)>, cells: CellsMode },
    /// Stored boundaries of this kind (`lsoa21`, `lsoa11`, `ward`).
    Areas(String),
}

/// A hotspot analysis of the stored police data, as asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredHotspotRequest {
    /// Which records; its `district` (else its partnership's `area`) also limits the areas,
    /// the wards that name places and the study area of a grid ([`super::Region`]).
    pub filter: LocatedFilter,
    pub units: HotspotUnits,
    pub neighbours: NeighbourRule,
    pub settings: HotspotSettings,
    pub significance: SignificanceFrom,
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

impl Hotspots {
    /// An estimate of the bytes the result holds (rows, cells, outlines), for the cache.
    pub fn estimated_bytes(&self) -> usize {
        use std::mem::size_of;
        let rows = |r: &HotspotResult| match r {
            HotspotResult::Local(t) => {
                t.rows.len() * size_of::<alliance_core::analytics::spatial::hotspot_table::HotspotRow>()
            }
            HotspotResult::Global(_) => 0,
        };
        match self {
            Hotspots::Grid(g) => {
                size_of::<GridHotspots>()
                    + rows(&g.result)
                    + g.units.cells.len() * size_of::<alliance_core::geo::grid::Cell>()
                    + g.units.counts.len() * size_of::<i64>()
            }
            Hotspots::Areas { hotspots, areas } => {
                let coords: usize = areas
                    .iter()
                    .map(|a| {
                        a.bng
                            .0
                            .iter()
                            .map(|p| p.exterior().0.len() + p.interiors().iter().map(|r| r.0.len()).sum::<usize>())
                            .sum::<usize>()
                    })
                    .sum();
                let text: usize = hotspots.codes.iter().chain(&hotspots.names).map(|s| s.len() + 24).sum();
                size_of::<AreaHotspots>()
                    + rows(&hotspots.result)
                    + hotspots.counts.len() * size_of::<i64>()
                    + text * 2
                    + coords * 2 * size_of::<geo::Coord<f64>>()
            }
        }
    }
}

/// How often the cache answered and how often an analysis ran (for tests and logs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CacheCounts {
    pub hits: u64,
    pub computations: u64,
    /// Entries held now and their estimated bytes.
    pub entries: usize,
    pub bytes: usize,
}

/// What an entry answers: a hotspot or an emerging hot spot analysis, asked in full.
#[derive(Clone, PartialEq)]
enum Asked {
    Hotspots(StoredHotspotRequest),
    Emerging(EmergingRequest),
}

#[derive(Clone, PartialEq)]
struct Key {
    /// The latest import's id when the analysis was asked for (None: nothing imported).
    generation: Option<i64>,
    request: Asked,
}

/// A kept result, of the kind its key asked for, with its top cells (or areas) named.
#[derive(Clone)]
enum Kept {
    Hotspots(Arc<Hotspots>, Arc<[TopHotspot]>),
    Emerging(Arc<Emerging>, Arc<[TopEmerging]>),
}

impl Kept {
    fn estimated_bytes(&self) -> usize {
        use std::mem::size_of;
        match self {
            Kept::Hotspots(h, top) => {
                h.estimated_bytes()
                    + top
                        .iter()
                        .map(|t| size_of::<TopHotspot>() + text_bytes(&t.place, &t.street, &t.ward))
                        .sum::<usize>()
            }
            Kept::Emerging(e, top) => {
                e.estimated_bytes()
                    + top
                        .iter()
                        .map(|t| size_of::<TopEmerging>() + text_bytes(&t.place, &t.street, &t.ward))
                        .sum::<usize>()
            }
        }
    }
}

/// How many hot spots a kept hotspot analysis names (the map page's table).
pub const TOP_HOTSPOTS: usize = 10;
/// How many cells a kept emerging hot spot analysis names (the map page's table).
pub const TOP_EMERGING: usize = 15;

struct Entry {
    key: Key,
    value: Kept,
    bytes: usize,
}

/// The cache itself: least recently used first. Keys are compared by equality (they hold
/// floating-point settings, so they are not hashed); with a few entries a scan costs nothing.
pub struct HotspotCache {
    entries: Mutex<Vec<Entry>>,
    /// The analyses running now, each with the lock its computer holds: a request missing
    /// the same key waits on it. An entry is removed when its analysis ends; one left by a
    /// request that was dropped mid-way (its client went away) is unlocked and held by
    /// nobody, and goes at the next turn taken.
    running: Mutex<Vec<(Key, Arc<tokio::sync::Mutex<()>>)>>,
    budget: usize,
    hits: AtomicU64,
    computations: AtomicU64,
}

impl Default for HotspotCache {
    fn default() -> Self {
        HotspotCache::with_budget(CACHE_BYTES)
    }
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

    /// A cache holding at most `budget` estimated bytes.
    pub fn with_budget(budget: usize) -> HotspotCache {
        HotspotCache {
            entries: Mutex::new(Vec::new()),
            running: Mutex::new(Vec::new()),
            budget,
            hits: AtomicU64::new(0),
            computations: AtomicU64::new(0),
        }
    }

    pub fn counts(&self) -> CacheCounts {
        let (entries, bytes) =
            self.entries.lock().map(|e| (e.len(), e.iter().map(|x| x.bytes).sum())).unwrap_or((0, 0));
        CacheCounts {
            hits: self.hits.load(Ordering::Relaxed),
            computations: self.computations.load(Ordering::Relaxed),
            entries,
            bytes,
        }
    }

    /// The entry for `key`, now the most recently used. A poisoned lock (a panic while it
    /// was held, which only a bug could cause) is treated as an empty cache, never an error.
    fn get(&self, key: &Key) -> Option<Kept> {
        let mut entries = self.entries.lock().ok()?;
        let at = entries.iter().position(|e| &e.key == key)?;
        let entry = entries.remove(at);
        let value = entry.value.clone();
        entries.push(entry);
        Some(value)
    }

    /// The turn to compute `key`: at once when nobody is computing it, else when they end.
    async fn turn(&self, key: &Key) -> tokio::sync::OwnedMutexGuard<()> {
        let lock = {
            let mut running = self.running.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            // Entries nobody holds or waits on (left by dropped requests) go, so requests
            // dropped on purpose cannot grow the list.
            running.retain(|(_, lock)| Arc::strong_count(lock) > 1);
            match running.iter().find(|(k, _)| k == key) {
                Some((_, lock)) => lock.clone(),
                None => {
                    let lock = Arc::new(tokio::sync::Mutex::new(()));
                    running.push((key.clone(), lock.clone()));
                    lock
                }
            }
        };
        lock.lock_owned().await
    }

    /// Ends the turn on `key` (its result kept, or its analysis failed).
    fn finished(&self, key: &Key) {
        self.running.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).retain(|(k, _)| k != key);
    }

    /// The kept result for `key`, counted as a hit.
    fn hit(&self, key: &Key) -> Option<Kept> {
        let found = self.get(key)?;
        self.hits.fetch_add(1, Ordering::Relaxed);
        Some(found)
    }

    fn put(&self, key: Key, value: Kept) {
        let bytes = value.estimated_bytes();
        let Ok(mut entries) = self.entries.lock() else { return };
        entries.retain(|e| e.key != key);
        if bytes > self.budget {
            return;
        }
        entries.push(Entry { key, value, bytes });
        let mut total: usize = entries.iter().map(|e| e.bytes).sum();
        while total > self.budget {
            let oldest = entries.remove(0);
            total -= oldest.bytes;
        }
    }

    /// The analysis of the stored data `request` asks for: from the cache when the same was
    /// asked since the last import, computed (and kept) otherwise.
    pub async fn stored_hotspots(
        &self,
        db: &Db,
        request: &StoredHotspotRequest,
        bounds: &Bounds,
    ) -> Result<Arc<Hotspots>, AppError> {
        Ok(self.stored_hotspots_named(db, request, bounds).await?.0)
    }

    /// [`HotspotCache::stored_hotspots`] with its [`TOP_HOTSPOTS`] hottest cells or areas
    /// named (street and ward). The names are made from the records the analysis read, when
    /// it runs, so a page that shows them reads the records once, and not at all from the
    /// cache.
    pub async fn stored_hotspots_named(
        &self,
        db: &Db,
        request: &StoredHotspotRequest,
        bounds: &Bounds,
    ) -> Result<(Arc<Hotspots>, Arc<[TopHotspot]>), AppError> {
        // Refuse what is out of bounds before reading anything.
        bounds.check_permutations(request.settings.permutation.permutations)?;
        // The generation is read before the records: an import committed in between then
        // files newer data under the older generation, which no later request asks for,
        // rather than older data under the newer one, which every later request would get.
        let key = Key { generation: db.import_generation().await?, request: Asked::Hotspots(request.clone()) };
        self.kept_or_computed(
            key,
            |kept| match kept {
                Kept::Hotspots(found, top) => Some((found, top)),
                Kept::Emerging(..) => None,
            },
            |(found, top)| Kept::Hotspots(found, top),
            self.compute_hotspots(db, request, bounds),
        )
        .await
    }

    /// The result kept for `key`, else `compute`d once however many requests ask at once: the
    /// first computes in its turn, the others wait for it and take what it kept. `unpack` and
    /// `pack` turn the kept value of the key's kind into the result and back.
    async fn kept_or_computed<T: Clone>(
        &self,
        key: Key,
        unpack: fn(Kept) -> Option<T>,
        pack: fn(T) -> Kept,
        compute: impl std::future::Future<Output = Result<T, AppError>>,
    ) -> Result<T, AppError> {
        if let Some(found) = self.hit(&key).and_then(unpack) {
            return Ok(found);
        }
        let _turn = self.turn(&key).await;
        if let Some(found) = self.hit(&key).and_then(unpack) {
            return Ok(found);
        }
        let computed = compute.await;
        self.finished(&key);
        let computed = computed?;
        self.computations.fetch_add(1, Ordering::Relaxed);
        self.put(key, pack(computed.clone()));
        Ok(computed)
    }

    /// Runs the analysis and names its top places.
    async fn compute_hotspots(
        &self,
        db: &Db,
        request: &StoredHotspotRequest,
        bounds: &Bounds,
    ) -> Result<(Arc<Hotspots>, Arc<[TopHotspot]>), AppError> {
        let started = std::time::Instant::now();
        let stored = svc::stored_points(db, &request.filter).await?;
        if stored.xy.is_empty() {
            return Err(svc::no_located_records());
        }
        let (read, stored_count) = (started.elapsed(), stored.xy.len());
        let computed = Arc::new(compute(db, request, stored.xy.clone(), CellsMode::Auto, bounds).await?);
        let analysed = started.elapsed();
        let namer = PlaceNamer::new(db, svc::Region::of(&request.filter), stored.xy, stored.locations).await?;
        let top: Arc<[TopHotspot]> = top_hotspots(&computed, &namer, TOP_HOTSPOTS).into();
        tracing::debug!(
            records = stored_count,
            read_ms = read.as_millis() as u64,
            analysed_ms = (analysed - read).as_millis() as u64,
            named_ms = (started.elapsed() - analysed).as_millis() as u64,
            "hot spot analysis computed"
        );
        Ok((computed, top))
    }

    /// The emerging hot spot analysis of the stored data `request` asks for: from the cache
    /// when the same was asked since the last import, computed (and kept) otherwise.
    pub async fn stored_emerging(
        &self,
        db: &Db,
        request: &EmergingRequest,
        bounds: &Bounds,
    ) -> Result<Arc<Emerging>, AppError> {
        Ok(self.stored_emerging_named(db, request, bounds).await?.0)
    }

    /// [`HotspotCache::stored_emerging`] with its [`TOP_EMERGING`] cells of a hot spot
    /// pattern named, from the records the analysis read (as for hotspots).
    pub async fn stored_emerging_named(
        &self,
        db: &Db,
        request: &EmergingRequest,
        bounds: &Bounds,
    ) -> Result<(Arc<Emerging>, Arc<[TopEmerging]>), AppError> {
        bounds.check_permutations(0)?;
        // The generation first, as for hotspots.
        let key = Key { generation: db.import_generation().await?, request: Asked::Emerging(request.clone()) };
        let compute = async {
            let (computed, stored) = svc::emerging::emerging_stored_with_records(db, request, bounds).await?;
            let namer = PlaceNamer::new(db, svc::Region::of(&request.filter), stored.xy, stored.locations).await?;
            let top: Arc<[TopEmerging]> = top_emerging(&computed, &namer, TOP_EMERGING).into();
            Ok((Arc::new(computed), top))
        };
        self.kept_or_computed(
            key,
            |kept| match kept {
                Kept::Emerging(found, top) => Some((found, top)),
                Kept::Hotspots(..) => None,
            },
            |(found, top)| Kept::Emerging(found, top),
            compute,
        )
        .await
    }
}

/// Runs a hotspot analysis on `points` (National Grid metres), loading the areas it needs;
/// `auto` says what [`CellsMode::Auto`] means for these points (the study area for stored
/// records, the bounding box for posted points). The statistic runs on a blocking thread.
pub async fn compute(
    db: &Db,
    request: &StoredHotspotRequest,
    points: Vec<(f64, f64)>,
    auto: CellsMode,
    bounds: &Bounds,
) -> Result<Hotspots, AppError> {
    let region = svc::Region::of(&request.filter);
    let (neighbours, settings, significance, bounds) =
        (request.neighbours, request.settings, request.significance, *bounds);
    bounds.check_permutations(settings.permutation.permutations)?;
    match &request.units {
        HotspotUnits::Areas(kind) => {
            let areas = svc::areas(db, kind, region).await?;
            let kind = kind.clone();
            let (hotspots, areas) = svc::blocking(move || {
                svc::area_hotspots(&kind, &points, &areas, neighbours, &settings, significance, &bounds)
                    .map(|h| (h, areas))
            })
            .await?;
            Ok(Hotspots::Areas { hotspots, areas })
        }
        &HotspotUnits::Grid { cell, origin, cells } => {
            let mode = if cells == CellsMode::Auto { auto } else { cells };
            let area = match mode {
                CellsMode::BoundingBox => None,
                CellsMode::StudyArea => {
                    let shape = svc::study_area(&svc::areas(db, "lsoa21", region).await?);
                    Some(svc::blocking(move || Ok(alliance_core::analytics::spatial::StudyArea::new(shape)?)).await?)
                }
                CellsMode::Auto => svc::default_study_area(db, region).await?,
                CellsMode::Place(id) => Some(svc::place_study_area(db, id).await?),
            };
            let grid = GridRequest { cell, origin, neighbours, settings, significance };
            let h = svc::blocking(move || svc::grid_hotspots(&points, area.as_ref(), grid, &bounds)).await?;
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
        Key { generation: Some(generation), request: Asked::Hotspots(request(cell)) }
    }

    fn request(cell: f64) -> StoredHotspotRequest {
        StoredHotspotRequest {
            filter: LocatedFilter::default(),
            units: HotspotUnits::Grid { cell, origin: None, cells: CellsMode::BoundingBox },
            neighbours: NeighbourRule::Contiguity(Contiguity::Queen),
            settings: HotspotSettings {
                statistic: HotspotStatistic::GiStar,
                permutation: PermutationOptions { permutations: 99, seed: 1, alternative: Alternative::TwoSided },
                alpha: 0.05,
                standardisation: Standardisation::Row,
            },
            significance: SignificanceFrom::Normal,
        }
    }

    fn emerging(cell: f64, place: Option<i64>) -> Key {
        Key {
            generation: Some(1),
            request: Asked::Emerging(EmergingRequest {
                filter: LocatedFilter::default(),
                cell,
                band: None,
                slice: alliance_core::analytics::spatial::SliceLength::Month,
                time_steps: 1,
                confidence: alliance_core::analytics::spatial::Confidence::Ninety,
                place,
            }),
        }
    }

    fn value() -> Kept {
        let points = [(0.0, 0.0), (10.0, 10.0)];
        let request = request(10.0);
        let HotspotUnits::Grid { cell, origin, .. } = request.units else { unreachable!("a grid key") };
        let grid = GridRequest {
            cell,
            origin,
            neighbours: request.neighbours,
            settings: request.settings,
            significance: request.significance,
        };
        Kept::Hotspots(
            Arc::new(Hotspots::Grid(
                svc::grid_hotspots(&points, None, grid, &Bounds::default()).expect("a two-cell grid"),
            )),
            Arc::from(Vec::new()),
        )
    }

    #[test]
    fn a_key_differing_in_any_input_or_generation_misses() {
        let cache = HotspotCache::new();
        cache.put(key(1, 250.0), value());
        assert!(cache.get(&key(1, 250.0)).is_some());
        assert!(cache.get(&key(2, 250.0)).is_none(), "a newer import");
        assert!(cache.get(&key(1, 500.0)).is_none(), "another cell size");
        let with = |change: fn(&mut StoredHotspotRequest)| {
            let mut r = request(250.0);
            change(&mut r);
            Key { generation: Some(1), request: Asked::Hotspots(r) }
        };
        assert!(cache.get(&with(|r| r.settings.permutation.seed = 2)).is_none(), "another seed");
        assert!(cache.get(&with(|r| r.settings.permutation.permutations = 999)).is_none(), "other permutations");
        assert!(cache.get(&with(|r| r.significance = SignificanceFrom::Permutation)).is_none(), "another inference");
        assert!(cache.get(&with(|r| r.filter.crime_types = vec!["Robbery".into()])).is_none(), "another crime type");
        // An emerging analysis is another kind of request: kept apart, keyed by its place.
        assert!(cache.get(&emerging(250.0, None)).is_none(), "not a hotspot key");
        cache.put(emerging(250.0, Some(7)), value());
        assert!(cache.get(&emerging(250.0, Some(7))).is_some());
        assert!(cache.get(&emerging(250.0, Some(8))).is_none(), "another place");
        assert!(cache.get(&emerging(250.0, None)).is_none(), "the partnership's area");
    }

    #[test]
    fn holds_at_most_its_budget_in_bytes_dropping_the_least_recently_used() {
        let one = value().estimated_bytes();
        assert!(one > 0);
        let cache = HotspotCache::with_budget(3 * one);
        for g in 0..3 {
            cache.put(key(g, 250.0), value());
        }
        // Using the oldest makes the second oldest the one to go.
        assert!(cache.get(&key(0, 250.0)).is_some());
        cache.put(key(99, 250.0), value());
        let counts = cache.counts();
        assert_eq!((counts.entries, counts.bytes), (3, 3 * one));
        assert!(cache.get(&key(0, 250.0)).is_some(), "recently used, kept");
        assert!(cache.get(&key(1, 250.0)).is_none(), "least recently used, dropped");
        assert!(cache.get(&key(99, 250.0)).is_some());
        // A result larger than the whole budget is not kept at all.
        let small = HotspotCache::with_budget(one - 1);
        small.put(key(1, 250.0), value());
        assert_eq!(small.counts().entries, 0);
        assert!(small.get(&key(1, 250.0)).is_none());
    }
}
