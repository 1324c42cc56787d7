//! Spatial selection for an evaluation: which located crimes fall in the target area, the
//! buffer ring around it, the comparison area and the comparison's own buffer ring; the
//! monthly and per-category counts of each; and a suggested comparison area.
//!
//! Everything is measured in metres on the British National Grid (EPSG:27700): crimes and
//! outlines arrive in WGS84 longitude/latitude and are projected with
//! [`BngProjector`](crate::geo::projection::BngProjector) before any distance is taken.
//!
//! ## Edge conventions
//! - **Inside** a polygon means inside or on its boundary (distance 0, `geo`'s
//!   `Intersects`); inside a circle means at most `radius` metres from its centre.
//! - **Buffer ring** of width `W`: points at a distance `d` with `0 < d ≤ W` from the area
//!   (the nearest polygon edge or circle rim), that are not in the area itself.
//! - **LSOA areas** chosen by code: for months whose data.police.uk files use the same
//!   census's codes as the chosen codes (2011 codes up to 2022-12, 2021 codes from
//!   2023-01), a crime is inside when its recorded LSOA code is one of the chosen codes,
//!   exactly as data.police.uk assigned it; for months under the other census's codes, a
//!   crime is inside when its point lies within the chosen LSOAs' boundaries. Buffer
//!   distances are always measured to the boundaries.
//! - **One area per crime**, in the order target, buffer, comparison, comparison buffer: a
//!   crime that would qualify for two areas (overlapping designs) counts only in the first.
//! - Crimes without a location ("No location") cannot be placed and are not counted.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use geo::{BoundingRect, Distance, Euclidean, MultiPolygon, Point, Polygon};
use serde::{Deserialize, Serialize};

use super::{AreaRole, Areas, CategoryCounts, MonthlyCounts};
use crate::analytics::evaluation::change::BeforeAfter;
use crate::domain::{LsoaVintage, Month, MonthRange};
use crate::geo::projection::{BngProjector, ProjectionError};

/// The first month whose data.police.uk files use 2021 LSOA codes.
pub fn lsoa_vintage_of(month: Month) -> LsoaVintage {
    if month < Month::new(2023, 1).expect("valid month") {
        LsoaVintage::Census2011
    } else {
        LsoaVintage::Census2021
    }
}

/// One crime with a location, as the selection sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct LocatedCrime {
    pub month: Month,
    pub longitude: f64,
    pub latitude: f64,
    pub lsoa_code: Option<String>,
    pub crime_type: String,
}

/// A circle given as a WGS84 centre and a radius in metres (e.g. a named park).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Circle {
    pub longitude: f64,
    pub latitude: f64,
    pub radius_metres: f64,
}

/// Membership by recorded LSOA code (see the module's edge conventions).
#[derive(Debug, Clone, PartialEq)]
pub struct CodeMembership {
    pub codes: BTreeSet<String>,
    pub vintage: LsoaVintage,
}

#[derive(Debug, Clone)]
enum Shape {
    Polygon { polygon: Polygon<f64>, bbox: [f64; 4] },
    Circle { x: f64, y: f64, radius: f64 },
}

impl Shape {
    fn bbox(&self) -> [f64; 4] {
        match self {
            Shape::Polygon { bbox, .. } => *bbox,
            Shape::Circle { x, y, radius } => [x - radius, y - radius, x + radius, y + radius],
        }
    }

    /// Distance in metres from a BNG point (0 inside or on the boundary).
    fn distance(&self, x: f64, y: f64) -> f64 {
        match self {
            Shape::Polygon { polygon, .. } => Euclidean::distance(&Point::new(x, y), polygon),
            Shape::Circle { x: cx, y: cy, radius } => (((x - cx).powi(2) + (y - cy).powi(2)).sqrt() - radius).max(0.0),
        }
    }
}

/// Distance from a point to a box (0 inside).
fn bbox_distance(b: [f64; 4], x: f64, y: f64) -> f64 {
    let dx = (b[0] - x).max(0.0).max(x - b[2]);
    let dy = (b[1] - y).max(0.0).max(y - b[3]);
    (dx * dx + dy * dy).sqrt()
}

/// An area of an evaluation, projected to BNG: polygons and circles, optionally with
/// membership by LSOA code.
#[derive(Debug, Clone)]
pub struct SelectionArea {
    shapes: Vec<Shape>,
    bbox: Option<[f64; 4]>,
    pub codes: Option<CodeMembership>,
}

impl SelectionArea {
    /// Projects WGS84 polygons and circles to BNG.
    pub fn from_wgs84(
        projector: &BngProjector,
        polygons: &[MultiPolygon<f64>],
        circles: &[Circle],
        codes: Option<CodeMembership>,
    ) -> Result<SelectionArea, ProjectionError> {
        let mut shapes = Vec::new();
        for multi in polygons {
            for polygon in &multi.0 {
                let project = |ring: &geo::LineString<f64>| -> Result<geo::LineString<f64>, ProjectionError> {
                    ring.0
                        .iter()
                        .map(|c| projector.to_bng(c.x, c.y).map(|(x, y)| geo::Coord { x, y }))
                        .collect::<Result<Vec<_>, _>>()
                        .map(geo::LineString)
                };
                let exterior = project(polygon.exterior())?;
                let interiors = polygon.interiors().iter().map(project).collect::<Result<Vec<_>, _>>()?;
                let polygon = Polygon::new(exterior, interiors);
                let Some(rect) = polygon.bounding_rect() else { continue };
                let bbox = [rect.min().x, rect.min().y, rect.max().x, rect.max().y];
                shapes.push(Shape::Polygon { polygon, bbox });
            }
        }
        for c in circles {
            let (x, y) = projector.to_bng(c.longitude, c.latitude)?;
            shapes.push(Shape::Circle { x, y, radius: c.radius_metres.max(0.0) });
        }
        let bbox = shapes
            .iter()
            .map(Shape::bbox)
            .reduce(|a, b| [a[0].min(b[0]), a[1].min(b[1]), a[2].max(b[2]), a[3].max(b[3])]);
        Ok(SelectionArea { shapes, bbox, codes })
    }

    /// The BNG bounding box `[min x, min y, max x, max y]`, `None` without shapes.
    pub fn bbox(&self) -> Option<[f64; 4]> {
        self.bbox
    }

    /// Distance in metres from a BNG point to the nearest shape (0 inside; infinite without shapes).
    pub fn distance(&self, x: f64, y: f64) -> f64 {
        let mut best = f64::INFINITY;
        for shape in &self.shapes {
            if bbox_distance(shape.bbox(), x, y) >= best {
                continue;
            }
            best = best.min(shape.distance(x, y));
            if best == 0.0 {
                break;
            }
        }
        best
    }

    /// Distance in metres from a BNG polygon to this area (0 when they touch or overlap).
    pub fn distance_to_polygon(&self, polygon: &Polygon<f64>) -> f64 {
        self.shapes
            .iter()
            .map(|shape| match shape {
                Shape::Polygon { polygon: own, .. } => Euclidean::distance(own, polygon),
                Shape::Circle { x, y, radius } => (Euclidean::distance(&Point::new(*x, *y), polygon) - radius).max(0.0),
            })
            .fold(f64::INFINITY, f64::min)
    }

    /// Whether the crime is in the area: by code when the month's codes are of the
    /// chosen census, else by distance 0 (see the module's conventions).
    fn contains(&self, crime: &LocatedCrime, distance: f64) -> bool {
        match &self.codes {
            Some(m) if lsoa_vintage_of(crime.month) == m.vintage => {
                crime.lsoa_code.as_deref().is_some_and(|c| m.codes.contains(c))
            }
            _ => distance == 0.0,
        }
    }
}

/// The areas of one evaluation, projected.
#[derive(Debug, Clone)]
pub struct AreaSelection {
    pub target: SelectionArea,
    /// Width of the buffer ring in metres (none: no buffer).
    pub buffer_metres: Option<f64>,
    pub comparison: Option<SelectionArea>,
    /// Also count the comparison's own buffer ring (same width), the control for displacement.
    pub comparison_buffer: bool,
}

impl AreaSelection {
    /// The areas the selection counts (the values say only which are present).
    pub fn design(&self) -> Areas<()> {
        let buffer = self.buffer_metres.map(|_| ());
        let comparison = self.comparison.as_ref().map(|_| ());
        let comparison_buffer = buffer.and(comparison).filter(|_| self.comparison_buffer);
        Areas { target: (), buffer, comparison, comparison_buffer }
    }

    /// Assigns each crime to at most one area (see the module's conventions). Distances are
    /// computed once per distinct point: data.police.uk snaps crimes to shared points.
    pub fn classify(
        &self,
        projector: &BngProjector,
        crimes: &[LocatedCrime],
    ) -> Result<Vec<Option<AreaRole>>, ProjectionError> {
        let width = self.buffer_metres.unwrap_or(0.0);
        let mut cache: HashMap<(u64, u64), (f64, f64)> = HashMap::new();
        let mut roles = Vec::with_capacity(crimes.len());
        for crime in crimes {
            let key = (crime.longitude.to_bits(), crime.latitude.to_bits());
            let (dt, dc) = match cache.get(&key) {
                Some(d) => *d,
                None => {
                    let (x, y) = projector.to_bng(crime.longitude, crime.latitude)?;
                    let dt = self.target.distance(x, y);
                    let dc = self.comparison.as_ref().map_or(f64::INFINITY, |c| c.distance(x, y));
                    cache.insert(key, (dt, dc));
                    (dt, dc)
                }
            };
            let in_target = self.target.contains(crime, dt);
            let role = if in_target {
                Some(AreaRole::Target)
            } else if self.buffer_metres.is_some() && dt <= width {
                Some(AreaRole::Buffer)
            } else if let Some(comparison) = &self.comparison {
                if comparison.contains(crime, dc) {
                    Some(AreaRole::Comparison)
                } else if self.comparison_buffer && self.buffer_metres.is_some() && dc <= width {
                    Some(AreaRole::ComparisonBuffer)
                } else {
                    None
                }
            } else {
                None
            };
            roles.push(role);
        }
        Ok(roles)
    }
}

/// Monthly and per-category counts of the classified crimes.
#[derive(Debug, Clone, PartialEq)]
pub struct Tally {
    pub monthly: Vec<MonthlyCounts>,
    pub categories: Vec<CategoryCounts>,
}

/// Counts the classified crimes per month of `months` (every month gets a row, zero when
/// nothing fell in an area) and per crime category over the before and after periods.
/// Areas not in the `design` (e.g. [`AreaSelection::design`]) are `None`.
pub fn tally(
    crimes: &[LocatedCrime],
    roles: &[Option<AreaRole>],
    months: &[Month],
    before: MonthRange,
    after: MonthRange,
    design: Areas<()>,
) -> Tally {
    let mut monthly: BTreeMap<Month, MonthlyCounts> =
        months.iter().map(|&month| (month, MonthlyCounts { month, counts: design.map(|()| 0) })).collect();
    let mut categories: BTreeMap<String, CategoryCounts> = BTreeMap::new();
    for (crime, &role) in crimes.iter().zip(roles) {
        let Some(role) = role else { continue };
        if let Some(slot) = monthly.get_mut(&crime.month).and_then(|row| row.counts.get_mut(role)) {
            *slot += 1;
        }
        let period_before = before.contains(crime.month);
        if !period_before && !after.contains(crime.month) {
            continue;
        }
        let entry = categories.entry(crime.crime_type.clone()).or_insert_with(|| CategoryCounts {
            category: crime.crime_type.clone(),
            counts: design.map(|()| BeforeAfter::new(0, 0)),
        });
        if let Some(counts) = entry.counts.get_mut(role) {
            if period_before {
                counts.before += 1;
            } else {
                counts.after += 1;
            }
        }
    }
    Tally { monthly: monthly.into_values().collect(), categories: categories.into_values().collect() }
}

/// A candidate comparison area with its monthly counts over the before period.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub code: String,
    pub name: String,
    pub monthly: Vec<u64>,
}

/// A ranked candidate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoredCandidate {
    pub code: String,
    pub name: String,
    /// Mean monthly count over the before period.
    pub level: f64,
    /// Least-squares slope over the before period as a share of the level (per month).
    pub relative_trend: f64,
    /// The dissimilarity score (lower is more similar).
    pub score: f64,
}

/// Mean and least-squares slope divided by the mean (0 when the mean is 0 or one month).
fn level_and_trend(series: &[u64]) -> (f64, f64) {
    let n = series.len() as f64;
    if series.is_empty() {
        return (0.0, 0.0);
    }
    let mean = series.iter().sum::<u64>() as f64 / n;
    if series.len() < 2 || mean == 0.0 {
        return (mean, 0.0);
    }
    let t_mean = (n - 1.0) / 2.0;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (i, &y) in series.iter().enumerate() {
        let dt = i as f64 - t_mean;
        sxy += dt * (y as f64 - mean);
        sxx += dt * dt;
    }
    (mean, sxy / sxx / mean)
}

/// Ranks candidate comparison areas by how alike their before-period level and trend are
/// to the target's, and returns the `k` most alike (ties by code).
///
/// Score (lower is better), for target mean monthly count `mₜ`, relative trend `gₜ`
/// (least-squares slope ÷ mean, per month) and a before period of `L` months:
///
/// `score = |ln((mᵢ + 0.5) / (mₜ/k + 0.5))| + L·|gᵢ − gₜ|`
///
/// The first term compares levels on a log scale, aiming each of the `k` areas at a `k`-th
/// of the target's level so that together they carry about the target's count (0.5 keeps
/// it finite for empty areas); the second is the difference in trend expressed as the
/// relative change it implies over the before period. Both terms are proportional
/// differences, so they are added unweighted. Candidates with no crime in the before
/// period are left out (their trend is undefined).
pub fn suggest_comparison(target_monthly: &[u64], candidates: &[Candidate], k: usize) -> Vec<ScoredCandidate> {
    let (mt, gt) = level_and_trend(target_monthly);
    let length = target_monthly.len() as f64;
    let aim = mt / k.max(1) as f64;
    let mut scored: Vec<ScoredCandidate> = candidates
        .iter()
        .filter(|c| c.monthly.iter().sum::<u64>() > 0)
        .map(|c| {
            let (level, relative_trend) = level_and_trend(&c.monthly);
            let score = ((level + 0.5) / (aim + 0.5)).ln().abs() + length * (relative_trend - gt).abs();
            ScoredCandidate { code: c.code.clone(), name: c.name.clone(), level, relative_trend, score }
        })
        .collect();
    scored.sort_by(|a, b| a.score.total_cmp(&b.score).then_with(|| a.code.cmp(&b.code)));
    scored.truncate(k);
    scored
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::polygon;

    fn m(text: &str) -> Month {
        text.parse().unwrap()
    }

    /// A square of about 1 km near Stoke-on-Trent, in WGS84.
    fn square() -> MultiPolygon<f64> {
        MultiPolygon(vec![polygon![
            (x: -2.20, y: 53.00), (x: -2.185, y: 53.00), (x: -2.185, y: 53.009), (x: -2.20, y: 53.009), (x: -2.20, y: 53.00)
        ]])
    }

    fn crime(lon: f64, lat: f64, month: &str) -> LocatedCrime {
        LocatedCrime { month: m(month), longitude: lon, latitude: lat, lsoa_code: None, crime_type: "Robbery".into() }
    }

    #[test]
    fn classifies_target_buffer_and_comparison() {
        let p = BngProjector::new().unwrap();
        let target = SelectionArea::from_wgs84(&p, &[square()], &[], None).unwrap();
        let comparison = SelectionArea::from_wgs84(
            &p,
            &[],
            &[Circle { longitude: -2.10, latitude: 53.00, radius_metres: 300.0 }],
            None,
        )
        .unwrap();
        let sel =
            AreaSelection { target, buffer_metres: Some(200.0), comparison: Some(comparison), comparison_buffer: true };
        // 0.001° of latitude is about 111 m; 0.0015° of longitude at 53°N is about 100 m.
        let crimes = vec![
            crime(-2.19, 53.005, "2024-01"),  // inside
            crime(-2.19, 53.0101, "2024-01"), // ~122 m north of the top edge: buffer
            crime(-2.19, 53.0125, "2024-01"), // ~390 m north: nowhere
            crime(-2.10, 53.001, "2024-01"),  // 111 m from the circle centre: comparison
            crime(-2.10, 53.004, "2024-01"),  // ~445 m from the centre: comparison buffer
            crime(-2.10, 53.008, "2024-01"),  // ~890 m: nowhere
        ];
        assert_eq!(sel.design(), Areas::all(|_| ()));
        let without_ring = AreaSelection { comparison_buffer: false, ..sel.clone() };
        assert_eq!(without_ring.design().comparison_buffer, None);
        let roles = sel.classify(&p, &crimes).unwrap();
        assert_eq!(
            roles,
            vec![
                Some(AreaRole::Target),
                Some(AreaRole::Buffer),
                None,
                Some(AreaRole::Comparison),
                Some(AreaRole::ComparisonBuffer),
                None
            ]
        );
    }

    #[test]
    fn codes_decide_membership_in_their_own_census_months() {
        let p = BngProjector::new().unwrap();
        let codes = CodeMembership { codes: ["E01000001".to_string()].into(), vintage: LsoaVintage::Census2021 };
        let target = SelectionArea::from_wgs84(&p, &[square()], &[], Some(codes)).unwrap();
        let sel = AreaSelection { target, buffer_metres: Some(100.0), comparison: None, comparison_buffer: false };
        assert_eq!(sel.design(), Areas { buffer: Some(()), ..Areas::target_only(()) });
        let mut inside_wrong_code = crime(-2.19, 53.005, "2024-01");
        inside_wrong_code.lsoa_code = Some("E01000002".into());
        let mut outside_right_code = crime(-2.10, 53.005, "2024-01");
        outside_right_code.lsoa_code = Some("E01000001".into());
        let mut old_month_inside = crime(-2.19, 53.005, "2022-06");
        old_month_inside.lsoa_code = Some("E01999999".into());
        let roles = sel.classify(&p, &[inside_wrong_code, outside_right_code, old_month_inside]).unwrap();
        // Code decides for 2024 (the point inside with another code is within 100 m: buffer);
        // geometry decides for 2022, a month of 2011 codes.
        assert_eq!(roles, vec![Some(AreaRole::Buffer), Some(AreaRole::Target), Some(AreaRole::Target)]);
    }

    #[test]
    fn tally_counts_months_and_categories() {
        let crimes = vec![crime(0.0, 0.0, "2024-01"), crime(0.0, 0.0, "2024-03"), crime(0.0, 0.0, "2024-03")];
        let roles = vec![Some(AreaRole::Target), Some(AreaRole::Target), Some(AreaRole::Buffer)];
        let months: Vec<Month> = MonthRange::new(m("2024-01"), m("2024-04")).unwrap().months().collect();
        let t = tally(
            &crimes,
            &roles,
            &months,
            MonthRange::new(m("2024-01"), m("2024-02")).unwrap(),
            MonthRange::new(m("2024-03"), m("2024-04")).unwrap(),
            Areas { buffer: Some(()), ..Areas::target_only(()) },
        );
        assert_eq!(t.monthly.iter().map(|r| r.counts.target).collect::<Vec<_>>(), vec![1, 0, 1, 0]);
        assert_eq!(
            t.monthly.iter().map(|r| r.counts.buffer).collect::<Vec<_>>(),
            vec![Some(0), Some(0), Some(1), Some(0)]
        );
        assert_eq!(t.monthly[0].counts.comparison, None);
        assert_eq!(t.monthly[0].counts.comparison_buffer, None);
        assert_eq!(t.categories.len(), 1);
        assert_eq!(
            t.categories[0].counts,
            Areas { buffer: Some(BeforeAfter::new(0, 1)), ..Areas::target_only(BeforeAfter::new(1, 1)) }
        );
    }

    #[test]
    fn suggestion_prefers_similar_level_and_trend() {
        // Target: 20/month, flat. k = 2 aims each candidate at 10/month, flat.
        let target = vec![20, 20, 20, 20];
        let c = |code: &str, monthly: Vec<u64>| Candidate { code: code.into(), name: code.into(), monthly };
        let candidates = vec![
            c("A", vec![10, 10, 10, 10]), // exact: score 0
            c("B", vec![4, 8, 12, 16]),   // level 10 but rising
            c("C", vec![30, 30, 30, 30]), // flat but three times the level
            c("D", vec![11, 9, 10, 10]),  // nearly exact
            c("E", vec![0, 0, 0, 0]),     // no crime: left out
        ];
        let s = suggest_comparison(&target, &candidates, 2);
        assert_eq!(s.iter().map(|x| x.code.as_str()).collect::<Vec<_>>(), vec!["A", "D"]);
        assert_eq!(s[0].score, 0.0);
        // k = 10 aims at 2/month. B: slope 4/month on mean 10 → relative trend 0.4;
        // score = |ln(10.5 / 2.5)| + 4 × 0.4.
        let all = suggest_comparison(&target, &candidates, 10);
        let b = all.iter().find(|x| x.code == "B").unwrap();
        assert!((b.relative_trend - 0.4).abs() < 1e-12);
        assert!((b.score - ((10.5f64 / 2.5).ln() + 1.6)).abs() < 1e-12, "{b:?}");
        assert_eq!(all.len(), 4);
    }
}
