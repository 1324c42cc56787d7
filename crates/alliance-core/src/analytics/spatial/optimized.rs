//! Optimized hot spot analysis, as ArcGIS's "Optimized Hot Spot Analysis" (help page "How
//! Optimized Hot Spot Analysis works") does for incident points counted in a fishnet grid
//! over a study area ("bounding polygons defining where incidents are possible"): it
//! chooses the cell size and the distance band from the data, then runs Gi* with the false
//! discovery rate correction, and says why it chose what it chose.
//!
//! The rules, in the order the tool applies them (the constants are those of the tool's
//! Python scripts, which ship with ArcGIS, and of its messages):
//!
//! 1. **Study area.** Incidents outside the study area are dropped and counted. At least
//!    30 incidents must remain.
//! 2. **Locational outliers.** The incidents' distinct locations (coincident incidents
//!    collapsed) each get their nearest-neighbour distance; a location whose distance is
//!    at least 3 standard deviations (population) above the mean is a locational outlier.
//!    Outliers are reported and left out of the cell size (ArcGIS Pro's message: "these
//!    will not be used to compute the polygon cell size"; the ArcGIS 10.1 script still used
//!    them); their incidents are still counted if they are in the study area.
//! 3. **Cell size.** From the other locations' nearest-neighbour distances: the larger of
//!    their mean and their median, times the larger of 2 and the ratio of the larger to the
//!    smaller. Rounded to whole metres here (our choice: grids that read well and repeat).
//! 4. **Grid.** The cells of that size meeting the study area ([`super::study_area`]),
//!    zeros kept; at least 30 cells with varying counts.
//! 5. **Distance band (incremental spatial autocorrelation).** Global Moran's I of the cell
//!    counts (row-standardised weights, randomisation z) at 10 distances: starting at the
//!    distance at which every cell that is not a locational outlier (same 3-standard-
//!    deviation rule on the cell centres) has a neighbour (the largest such nearest-neighbour
//!    distance, times 1.0001), in steps of their mean nearest-neighbour distance. If the
//!    last distance would pass the cells' standard distance (`√(var x + var y)`, population),
//!    the 10 distances are spread evenly from the start up to it instead. The band is the
//!    distance of the **first peak** of the z-scores: the first distance `d_c` with
//!    `z_{c+1} < z_c`, `z_c > 1.65` and some rise `z_{j+1} > z_j` at an earlier step `j < c`.
//!    Without a peak, the band is the mean distance from each cell to its k-th nearest
//!    neighbour, `k = ⌊0.05·n⌋` kept between 3 and 30, capped at the standard distance.
//! 6. **Gi\*** with that fixed distance band (binary weights, the cell itself included),
//!    two-sided normal p-values, Benjamini–Hochberg at 0.10, 0.05 and 0.01 for the bins
//!    ([`super::significance`]), and `significant` at the chosen false discovery rate.
//!
//! Departure: units without neighbours at a distance keep zero weights in Moran's I (the
//! convention of [`super::moran::global_moran`] and `esda`), where the ArcGIS tool leaves
//! them out of `n`; with the start distance chosen so that every non-outlier cell has a
//! neighbour this only touches isolated outlier cells.

use rstar::primitives::GeomWithData;
use rstar::RTree;
use serde::Serialize;

use super::hotspot_table::{local_hotspots_with, GridUnits, HotspotSettings, HotspotStatistic, HotspotTable};
use super::significance::SignificanceFrom;
use super::study_area::{points_in_area, StudyArea};
use super::weights::CellLookup;
use super::{
    budget::check_cell_budget, two_sided_normal_p, Alternative, PermutationOptions, SpatialError, Standardisation,
    Weights,
};
use crate::geo::grid::{count_points, Cell};
use rayon::prelude::*;

/// The fewest incidents and cells the tool accepts.
pub const MIN_FEATURES: usize = 30;

/// Nearest-neighbour spacing of the incidents, with locational outliers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Spacing {
    pub incidents: usize,
    pub distinct_locations: usize,
    /// Mean and population standard deviation of the locations' nearest-neighbour distances.
    pub mean: f64,
    pub std: f64,
    /// Locations at least 3 standard deviations above the mean, and their incidents.
    pub outlier_locations: usize,
    pub outlier_incidents: usize,
    /// Mean and median nearest-neighbour distance of the other locations.
    pub mean_kept: f64,
    pub median_kept: f64,
}

/// Nearest-neighbour distances of a set of points (each to the nearest other point), with
/// an R-tree. Needs at least 2 points.
pub fn nearest_neighbour_distances(points: &[(f64, f64)]) -> Result<Vec<f64>, SpatialError> {
    kth_neighbour_distances(points, 1)
}

/// Distance from each point to its k-th nearest other point (k ≥ 1). Needs more than k points.
fn kth_neighbour_distances(points: &[(f64, f64)], k: usize) -> Result<Vec<f64>, SpatialError> {
    if points.len() <= k {
        return Err(SpatialError::TooFew {
            statistic: "nearest-neighbour distances",
            needed: k + 1,
            got: points.len(),
        });
    }
    if let Some(index) = points.iter().position(|p| !p.0.is_finite() || !p.1.is_finite()) {
        return Err(SpatialError::NonFinite { index });
    }
    let tree = RTree::bulk_load(points.iter().enumerate().map(|(i, &(x, y))| GeomWithData::new([x, y], i)).collect());
    Ok(points
        .par_iter()
        .enumerate()
        .with_min_len(512)
        .map(|(i, &(x, y))| {
            tree.nearest_neighbor_iter_with_distance_2(&[x, y])
                .filter(|(g, _)| g.data != i)
                .nth(k - 1)
                .map_or(f64::INFINITY, |(_, d2)| d2.sqrt())
        })
        .collect())
}

/// The median (mean of the two middle values for an even count).
fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

/// Mean and population standard deviation.
fn mean_std(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
    (mean, var.sqrt())
}

/// Which distances are locational outliers: at least 3 standard deviations above the mean
/// (none when the standard deviation is 0).
fn outliers(distances: &[f64]) -> Vec<bool> {
    let (mean, std) = mean_std(distances);
    distances.iter().map(|&d| std > 0.0 && (d - mean) / std >= 3.0).collect()
}

/// The incidents' spacing (rule 2 of the module documentation). Needs 2 distinct locations.
pub fn spacing(points: &[(f64, f64)]) -> Result<Spacing, SpatialError> {
    use std::collections::HashMap;
    let mut at: HashMap<(u64, u64), usize> = HashMap::new();
    let mut locations: Vec<(f64, f64)> = Vec::new();
    let mut multiplicity: Vec<usize> = Vec::new();
    for (index, &(x, y)) in points.iter().enumerate() {
        if !x.is_finite() || !y.is_finite() {
            return Err(SpatialError::NonFinite { index });
        }
        // +0.0 turns −0.0 into 0.0, so both are one location
        let key = ((x + 0.0).to_bits(), (y + 0.0).to_bits());
        let k = *at.entry(key).or_insert_with(|| {
            locations.push((x, y));
            multiplicity.push(0);
            locations.len() - 1
        });
        multiplicity[k] += 1;
    }
    let distances = nearest_neighbour_distances(&locations)?;
    let (mean, std) = mean_std(&distances);
    let out = outliers(&distances);
    let kept: Vec<f64> = distances.iter().zip(&out).filter(|(_, &o)| !o).map(|(&d, _)| d).collect();
    let (mean_kept, _) = mean_std(&kept);
    Ok(Spacing {
        incidents: points.len(),
        distinct_locations: locations.len(),
        mean,
        std,
        outlier_locations: out.iter().filter(|&&o| o).count(),
        outlier_incidents: multiplicity.iter().zip(&out).filter(|(_, &o)| o).map(|(&m, _)| m).sum(),
        mean_kept,
        median_kept: median(&kept),
    })
}

/// Where a chosen value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChosenBy {
    /// Given by the user.
    Given,
    /// Derived from the data by the tool's main rule.
    Data,
    /// Derived from the data by the tool's fallback rule.
    Fallback,
}

/// A chosen parameter with the reason, for the page to show.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Choice {
    /// Metres.
    pub value: f64,
    pub chosen_by: ChosenBy,
    pub reason: String,
}

/// The cell size from the incidents' spacing (rule 3 of the module documentation).
pub fn cell_size_from_spacing(s: &Spacing) -> Choice {
    let (larger, smaller, which) = if s.mean_kept > s.median_kept {
        (s.mean_kept, s.median_kept, "mean")
    } else {
        (s.median_kept, s.mean_kept, "median")
    };
    let ratio = if smaller > 0.0 { larger / smaller } else { f64::INFINITY };
    let scale = if ratio.is_finite() { ratio.max(2.0) } else { 2.0 };
    let value = (larger * scale).round().max(1.0);
    Choice {
        value,
        chosen_by: ChosenBy::Data,
        reason: format!(
            "cell size {value:.0} m: the {which} distance between each incident location and its nearest neighbour \
             ({larger:.1} m; the {} is {smaller:.1} m) times {scale:.2}, the larger of 2 and their ratio, over {} \
             locations{}",
            if which == "mean" { "median" } else { "mean" },
            s.distinct_locations - s.outlier_locations,
            if s.outlier_locations > 0 {
                format!(" ({} locational outliers left out)", s.outlier_locations)
            } else {
                String::new()
            }
        ),
    }
}

/// Global Moran's I at one distance.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BandAutocorrelation {
    pub distance: f64,
    pub moran_i: f64,
    /// Under randomisation.
    pub z: f64,
    pub p: f64,
    pub mean_neighbours: f64,
}

/// Global Moran's I with row-standardised weights for symmetric binary neighbour lists
/// (distance bands), with its randomisation z-score (Cliff & Ord 1981; the formulas of
/// [`super::moran::global_moran`], specialised: for symmetric links `S1 = ½Σ_i Σ_{j∈N(i)}
/// (1/k_i + 1/k_j)²` and `S2 = Σ_i (1 + Σ_{j∈N(i)} 1/k_j)²` over units with neighbours).
/// `None` when undefined (constant values, no links, n < 4).
pub fn moran_row_standardised(values: &[i64], weights: &Weights) -> Option<BandAutocorrelation> {
    let n = values.len();
    if n < 4 || weights.len() != n || weights.links() == 0 {
        return None;
    }
    let nf = n as f64;
    let mean = values.iter().map(|&v| v as f64).sum::<f64>() / nf;
    let z: Vec<f64> = values.iter().map(|&v| v as f64 - mean).collect();
    let sum_sq: f64 = z.iter().map(|v| v * v).sum();
    if sum_sq <= 0.0 {
        return None;
    }
    let w = |i: usize| {
        let k = weights.cardinality(i);
        if k > 0 {
            1.0 / k as f64
        } else {
            0.0
        }
    };
    let (cross, s0, s1, s2) = (0..n)
        .into_par_iter()
        .with_min_len(512)
        .map(|i| {
            let wi = w(i);
            let nbrs = weights.neighbours(i);
            let lag: f64 = nbrs.iter().map(|&j| z[j as usize]).sum();
            let s1: f64 = nbrs.iter().map(|&j| (wi + w(j as usize)).powi(2)).sum();
            let col: f64 = nbrs.iter().map(|&j| w(j as usize)).sum();
            let row = wi * nbrs.len() as f64;
            (wi * z[i] * lag, row, 0.5 * s1, (row + col).powi(2))
        })
        .reduce(|| (0.0, 0.0, 0.0, 0.0), |a, b| (a.0 + b.0, a.1 + b.1, a.2 + b.2, a.3 + b.3));
    let b2 = nf * z.iter().map(|v| v.powi(4)).sum::<f64>() / (sum_sq * sum_sq);
    let sums = MoranSums { cross, s0, s1, s2, links: weights.links() as f64 };
    moran_from_sums(nf, sum_sq, b2, &sums)
}

/// The sums over units and links that global Moran's I needs.
#[derive(Debug, Clone, Copy, Default)]
struct MoranSums {
    /// Σ_i w_i· z_i Σ_j z_j (row weights).
    cross: f64,
    s0: f64,
    s1: f64,
    s2: f64,
    links: f64,
}

/// Moran's I and its randomisation z from the sums (Cliff & Ord 1981).
fn moran_from_sums(nf: f64, sum_sq: f64, b2: f64, m: &MoranSums) -> Option<BandAutocorrelation> {
    let MoranSums { cross, s0, s1, s2, links } = *m;
    if s0 <= 0.0 || sum_sq <= 0.0 {
        return None;
    }
    let i = nf / s0 * cross / sum_sq;
    let expected = -1.0 / (nf - 1.0);
    let a = nf * ((nf * nf - 3.0 * nf + 3.0) * s1 - nf * s2 + 3.0 * s0 * s0);
    let b = b2 * ((nf * nf - nf) * s1 - 2.0 * nf * s2 + 6.0 * s0 * s0);
    let variance = (a - b) / ((nf - 1.0) * (nf - 2.0) * (nf - 3.0) * s0 * s0) - expected * expected;
    if variance <= 0.0 {
        return None;
    }
    let zs = (i - expected) / variance.sqrt();
    Some(BandAutocorrelation {
        distance: f64::NAN,
        moran_i: i,
        z: zs,
        p: two_sided_normal_p(zs),
        mean_neighbours: links / nf,
    })
}

/// The distances incremental spatial autocorrelation tries, and how they were set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DistancePlan {
    pub distances: Vec<f64>,
    pub start: f64,
    pub step: f64,
    /// The standard distance of the units, when it capped the distances.
    pub capped_at: Option<f64>,
}

/// Standard distance `√(mean (x − x̄)² + mean (y − ȳ)²)`.
pub fn standard_distance(points: &[(f64, f64)]) -> f64 {
    let n = points.len() as f64;
    let (mx, my) = (points.iter().map(|p| p.0).sum::<f64>() / n, points.iter().map(|p| p.1).sum::<f64>() / n);
    (points.iter().map(|p| (p.0 - mx).powi(2) + (p.1 - my).powi(2)).sum::<f64>() / n).sqrt()
}

/// The distances of rule 5 of the module documentation, for units at `centres`.
pub fn autocorrelation_distances(centres: &[(f64, f64)], increments: usize) -> Result<DistancePlan, SpatialError> {
    if increments == 0 {
        return Err(super::bad("increments", "at least one distance is needed"));
    }
    let nn = nearest_neighbour_distances(centres)?;
    let out = outliers(&nn);
    let kept: Vec<f64> = nn.iter().zip(&out).filter(|(_, &o)| !o).map(|(&d, _)| d).collect();
    let start = kept.iter().cloned().fold(0.0, f64::max) * 1.0001;
    let (step, _) = mean_std(&kept);
    let cap = standard_distance(centres);
    let last = start + step * (increments - 1) as f64;
    if last > cap && cap > start {
        let step = (cap - start) / increments as f64;
        let distances = (0..increments).map(|k| start + step * k as f64).collect();
        return Ok(DistancePlan { distances, start, step, capped_at: Some(cap) });
    }
    let distances = (0..increments).map(|k| start + step * k as f64).collect();
    Ok(DistancePlan { distances, start, step, capped_at: None })
}

/// Index of the first peak of a z-score profile (rule 5): the first `c` with
/// `z[c + 1] < z[c]`, `z[c] > threshold` and a rise `z[j + 1] > z[j]` at some `j < c`.
pub fn first_peak(z: &[f64], threshold: f64) -> Option<usize> {
    let mut gone_up = false;
    for c in 0..z.len().saturating_sub(1) {
        let d = z[c + 1] - z[c];
        if d < 0.0 && gone_up && z[c] > threshold {
            return Some(c);
        }
        if d > 0.0 {
            gone_up = true;
        }
    }
    None
}

/// Global Moran's I of cell counts at each distance (fixed distance bands between cell
/// centres, `d ≤ distance`, as [`Weights::grid_distance_band`]; row-standardised weights;
/// the same values as [`moran_row_standardised`] on those weights). Computed in two passes
/// over each cell's lattice offsets sorted by distance, each offset entering at the first
/// distance that contains it, so no weights are built: the cost is the number of links at
/// the largest distance, twice. `distances` must be non-decreasing.
pub fn incremental_spatial_autocorrelation(
    cells: &[Cell],
    size: f64,
    counts: &[i64],
    distances: &[f64],
) -> Result<Vec<BandAutocorrelation>, SpatialError> {
    if cells.len() != counts.len() {
        return Err(SpatialError::LengthMismatch { values: counts.len(), units: cells.len() });
    }
    if !(size.is_finite() && size > 0.0) {
        return Err(super::bad("cell size", format!("{size} is not a positive number of metres")));
    }
    if distances.iter().any(|d| !(d.is_finite() && *d >= 0.0)) || distances.windows(2).any(|w| w[1] < w[0]) {
        return Err(super::bad("distances", "they must be finite, non-negative and non-decreasing"));
    }
    let bands = distances.len();
    let Some(&max) = distances.last() else { return Ok(vec![]) };
    let n = cells.len();
    let lookup = CellLookup::new(cells)?;
    let reach = (max / size).floor() as i64 + 1;
    // (dx, dy, first band containing the offset)
    let offsets: Vec<(i64, i64, usize)> = (-reach..=reach)
        .flat_map(|dy| (-reach..=reach).map(move |dx| (dx, dy)))
        .filter(|&o| o != (0, 0))
        .filter_map(|(dx, dy)| {
            let d2 = ((dx * dx + dy * dy) as f64) * size * size;
            distances.iter().position(|&d| d2 <= d * d).map(|b| (dx, dy, b))
        })
        .collect();
    let (lookup, offsets) = (&lookup, &offsets);
    let neighbours = move |i: usize| {
        let c = cells[i];
        offsets
            .iter()
            .filter_map(move |&(dx, dy, b)| lookup.find(c.ix as i64 + dx, c.iy as i64 + dy).map(|j| (j as usize, b)))
    };
    let nf = n as f64;
    let mean = counts.iter().map(|&v| v as f64).sum::<f64>() / nf;
    let z: Vec<f64> = counts.iter().map(|&v| v as f64 - mean).collect();
    let sum_sq: f64 = z.iter().map(|v| v * v).sum();
    let b2 = nf * z.iter().map(|v| v.powi(4)).sum::<f64>() / (sum_sq * sum_sq);
    // pass 1: neighbours k_i(b) and lag Σ z_j per cell and band
    let mut k = vec![0_u32; n * bands];
    let mut lag = vec![0.0_f64; n * bands];
    k.par_chunks_mut(bands).zip(lag.par_chunks_mut(bands)).enumerate().with_min_len(256).for_each(|(i, (k, lag))| {
        for (j, b) in neighbours(i) {
            k[b] += 1;
            lag[b] += z[j];
        }
        for b in 1..bands {
            k[b] += k[b - 1];
            lag[b] += lag[b - 1];
        }
    });
    let inv: Vec<f64> = k.par_iter().map(|&k| if k > 0 { 1.0 / k as f64 } else { 0.0 }).collect();
    let w = |i: usize, b: usize| inv[i * bands + b];
    // pass 2: the sums per band
    let sums = (0..n)
        .into_par_iter()
        .with_min_len(256)
        .fold(
            || vec![MoranSums::default(); bands],
            |mut acc, i| {
                let mut col = vec![0.0; bands];
                let mut s1 = vec![0.0; bands];
                for (j, first) in neighbours(i) {
                    for b in first..bands {
                        let (wi, wj) = (w(i, b), w(j, b));
                        col[b] += wj;
                        s1[b] += (wi + wj) * (wi + wj);
                    }
                }
                for b in 0..bands {
                    let row = if k[i * bands + b] > 0 { 1.0 } else { 0.0 };
                    let a = &mut acc[b];
                    a.cross += w(i, b) * z[i] * lag[i * bands + b];
                    a.s0 += row;
                    a.s1 += 0.5 * s1[b];
                    a.s2 += (row + col[b]) * (row + col[b]);
                    a.links += k[i * bands + b] as f64;
                }
                acc
            },
        )
        .reduce(
            || vec![MoranSums::default(); bands],
            |mut a, b| {
                for (x, y) in a.iter_mut().zip(b) {
                    x.cross += y.cross;
                    x.s0 += y.s0;
                    x.s1 += y.s1;
                    x.s2 += y.s2;
                    x.links += y.links;
                }
                a
            },
        );
    Ok(distances
        .iter()
        .zip(&sums)
        .map(|(&d, m)| {
            let undefined = BandAutocorrelation {
                distance: d,
                moran_i: f64::NAN,
                z: f64::NAN,
                p: f64::NAN,
                mean_neighbours: m.links / nf,
            };
            let r = if n >= 4 { moran_from_sums(nf, sum_sq, b2, m) } else { None };
            r.map_or(undefined, |r| BandAutocorrelation { distance: d, ..r })
        })
        .collect())
}

/// The band from incremental spatial autocorrelation, else the k-nearest-neighbour fallback
/// (rule 5 of the module documentation).
pub fn choose_band(
    cells: &[Cell],
    size: f64,
    centres: &[(f64, f64)],
    counts: &[i64],
    increments: usize,
) -> Result<(Choice, Vec<BandAutocorrelation>), SpatialError> {
    let plan = autocorrelation_distances(centres, increments)?;
    let profile = incremental_spatial_autocorrelation(cells, size, counts, &plan.distances)?;
    let z: Vec<f64> = profile.iter().map(|b| if b.z.is_finite() { b.z } else { f64::NEG_INFINITY }).collect();
    let range = format!(
        "{} distances from {:.0} to {:.0} m{}",
        plan.distances.len(),
        plan.distances[0],
        plan.distances[plan.distances.len() - 1],
        plan.capped_at.map_or(String::new(), |c| format!(", spread up to the standard distance {c:.0} m"))
    );
    if let Some(c) = first_peak(&z, 1.65) {
        let b = profile[c];
        let reason = format!(
            "distance band {:.0} m: the first peak of spatial autocorrelation of the cell counts (global Moran's I \
             z = {:.2}) among {range}",
            b.distance, b.z
        );
        return Ok((Choice { value: b.distance, chosen_by: ChosenBy::Data, reason }, profile));
    }
    let n = centres.len();
    let k = (n / 20).clamp(3, 30).min(n.saturating_sub(1)).max(1);
    let kth = kth_neighbour_distances(centres, k)?;
    let mean = kth.iter().sum::<f64>() / kth.len() as f64;
    let cap = standard_distance(centres);
    let (value, how) = if mean > cap {
        (cap, format!("the standard distance of the cells ({cap:.0} m), as the mean distance to the {k}th nearest cell was larger"))
    } else {
        (mean, format!("the mean distance from each cell to its {k}th nearest cell"))
    };
    let reason = format!("distance band {value:.0} m: no peak of spatial autocorrelation among {range}, so {how}");
    Ok((Choice { value, chosen_by: ChosenBy::Fallback, reason }, profile))
}

/// Settings of an optimized hot spot analysis.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct OptimizedOptions {
    /// Cell size in metres; `None` chooses it from the data.
    pub cell_size: Option<f64>,
    /// Distance band in metres; `None` chooses it from the data.
    pub band: Option<f64>,
    /// False discovery rate for `significant` (the bins use 0.10, 0.05 and 0.01).
    pub alpha: f64,
    /// Distances tried by incremental spatial autocorrelation.
    pub increments: usize,
    pub cell_budget: usize,
}

impl Default for OptimizedOptions {
    fn default() -> Self {
        Self { cell_size: None, band: None, alpha: 0.05, increments: 10, cell_budget: super::DEFAULT_CELL_BUDGET }
    }
}

/// An optimized hot spot analysis: what was chosen, why, and the Gi* table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OptimizedHotSpots {
    pub incidents: usize,
    pub dropped_outside_area: usize,
    pub spacing: Spacing,
    pub cell_size: Choice,
    /// Moran's I at each distance tried (empty when the band was given).
    pub autocorrelation: Vec<BandAutocorrelation>,
    pub band: Choice,
    pub units: GridUnits,
    pub table: HotspotTable,
    /// The choices in sentences, in order, for the page.
    pub explanation: Vec<String>,
}

/// Optimized hot spot analysis of incident points over a study area (see the module
/// documentation).
pub fn optimized_hot_spots(
    points: &[(f64, f64)],
    area: &StudyArea,
    opts: &OptimizedOptions,
) -> Result<OptimizedHotSpots, SpatialError> {
    let inside = points_in_area(points, area)?;
    let kept = &inside.kept;
    if kept.len() < MIN_FEATURES {
        return Err(SpatialError::TooFew {
            statistic: "optimized hot spot analysis (incidents in the study area)",
            needed: MIN_FEATURES,
            got: kept.len(),
        });
    }
    let mut explanation = vec![if inside.dropped > 0 {
        format!("{} incidents; {} outside the study area were dropped", kept.len(), inside.dropped)
    } else {
        format!("{} incidents, all in the study area", kept.len())
    }];
    let spacing = spacing(kept)?;
    explanation.push(if spacing.outlier_locations > 0 {
        format!(
            "the incidents lie at {} distinct locations; {} of them ({} incidents) are locational outliers, their \
             nearest neighbour 3 or more standard deviations further than the mean of {:.0} m",
            spacing.distinct_locations, spacing.outlier_locations, spacing.outlier_incidents, spacing.mean
        )
    } else {
        format!("the incidents lie at {} distinct locations, none a locational outlier", spacing.distinct_locations)
    });
    let cell_size = match opts.cell_size {
        Some(v) if v.is_finite() && v > 0.0 => {
            Choice { value: v, chosen_by: ChosenBy::Given, reason: format!("cell size {v} m, as given") }
        }
        Some(v) => return Err(super::bad("cell size", format!("{v} is not a positive number of metres"))),
        None => cell_size_from_spacing(&spacing),
    };
    explanation.push(cell_size.reason.clone());
    let size = cell_size.value;
    let grid = area.grid(size, opts.cell_budget)?;
    let cells = grid.cells_intersecting(area.shape());
    check_cell_budget(cells.len(), opts.cell_budget)?;
    if cells.len() < MIN_FEATURES {
        return Err(SpatialError::TooFew {
            statistic: "optimized hot spot analysis (cells)",
            needed: MIN_FEATURES,
            got: cells.len(),
        });
    }
    let counted = count_points(&grid, &cells, kept).map_err(|e| super::bad("grid", e.to_string()))?;
    let units = GridUnits { grid, cells, counts: counted.counts, outside: counted.outside + inside.dropped };
    explanation.push(format!(
        "{} cells of {size:.0} m meet the study area; {} hold at least one incident",
        units.cells.len(),
        units.counts.iter().filter(|&&c| c > 0).count()
    ));
    let centres: Vec<(f64, f64)> = units.cells.iter().map(|&c| units.grid.centre(c)).collect();
    let (band, autocorrelation) = match opts.band {
        Some(v) if v.is_finite() && v >= 0.0 => {
            (Choice { value: v, chosen_by: ChosenBy::Given, reason: format!("distance band {v} m, as given") }, vec![])
        }
        Some(v) => return Err(super::bad("distance band", format!("{v} is not a non-negative number of metres"))),
        None => choose_band(&units.cells, size, &centres, &units.counts, opts.increments)?,
    };
    explanation.push(band.reason.clone());
    let weights = Weights::grid_distance_band(&units.cells, size, band.value)?;
    let settings = HotspotSettings {
        statistic: HotspotStatistic::GiStar,
        permutation: PermutationOptions { permutations: 0, seed: 0, alternative: Alternative::TwoSided },
        alpha: opts.alpha,
        standardisation: Standardisation::Row,
    };
    let table = local_hotspots_with(&units.counts, &weights, &settings, SignificanceFrom::Normal)?;
    let hot = table.rows.iter().filter(|r| r.bin > 0).count();
    let cold = table.rows.iter().filter(|r| r.bin < 0).count();
    explanation.push(format!(
        "Gi* with the false discovery rate correction: {hot} hot and {cold} cold cells at 90% confidence or more, {} \
         significant at a false discovery rate of {}",
        table.significant, opts.alpha
    ));
    Ok(OptimizedHotSpots {
        incidents: kept.len(),
        dropped_outside_area: inside.dropped,
        spacing,
        cell_size,
        autocorrelation,
        band,
        units,
        table,
        explanation,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::spatial::moran::global_moran;
    use geo::{polygon, MultiPolygon};

    #[test]
    fn spacing_collapses_coincident_incidents_and_finds_outliers() {
        // 20 locations on a line 10 m apart (nearest neighbour 10 m), three incidents at
        // the first, and one location 1 km away (nearest neighbour 810 m).
        let mut points: Vec<(f64, f64)> = (0..20).map(|i| (i as f64 * 10.0, 0.0)).collect();
        points.push((0.0, 0.0));
        points.push((-0.0, 0.0));
        points.push((1_000.0, 0.0));
        let s = spacing(&points).unwrap();
        assert_eq!((s.incidents, s.distinct_locations), (23, 21));
        // distances: 20 × 10 m and 810 m; mean = (200 + 810)/21 = 48.095…;
        // population sd = √((20·38.095² + 761.905²)/21) = 170.37…; (810 − 48.1)/170.4 = 4.47 ≥ 3
        assert!((s.mean - 1010.0 / 21.0).abs() < 1e-9);
        assert_eq!((s.outlier_locations, s.outlier_incidents), (1, 1));
        assert_eq!((s.mean_kept, s.median_kept), (10.0, 10.0));
        // cell size: both 10 m, ratio 1 → 10 × 2 = 20 m
        let c = cell_size_from_spacing(&s);
        assert_eq!(c.value, 20.0);
        assert!(c.reason.contains("1 locational outliers left out"), "{}", c.reason);
    }

    #[test]
    fn cell_size_uses_the_ratio_when_it_exceeds_two() {
        let s = Spacing {
            incidents: 100,
            distinct_locations: 100,
            mean: 0.0,
            std: 0.0,
            outlier_locations: 0,
            outlier_incidents: 0,
            mean_kept: 150.0,
            median_kept: 50.0,
        };
        // larger 150 (mean), ratio 3 > 2: 450 m
        assert_eq!(cell_size_from_spacing(&s).value, 450.0);
        // median larger, ratio 1.25 < 2: 2 × 100 = 200 m
        let s = Spacing { mean_kept: 80.0, median_kept: 100.0, ..s };
        assert_eq!(cell_size_from_spacing(&s).value, 200.0);
    }

    #[test]
    fn the_row_standardised_moran_matches_the_general_one() {
        // a 7 × 6 grid with a gradient and noise, bands 100 m (rook) and 150 m (queen)
        let cells: Vec<Cell> = (0..6).flat_map(|iy| (0..7).map(move |ix| Cell { ix, iy })).collect();
        let counts: Vec<i64> =
            cells.iter().map(|c| (c.ix * 2 + c.iy) as i64 + ((c.ix * 7 + c.iy * 3) % 5) as i64).collect();
        for band in [100.0, 150.0, 250.0] {
            let w = Weights::grid_distance_band(&cells, 100.0, band).unwrap();
            let fast = moran_row_standardised(&counts, &w).unwrap();
            let general = global_moran(
                &counts,
                &w,
                Standardisation::Row,
                &PermutationOptions { permutations: 0, ..Default::default() },
            )
            .unwrap();
            assert!((fast.moran_i - general.i).abs() < 1e-12, "band {band}");
            assert!((fast.z - general.z_rand).abs() < 1e-9, "band {band}: {} vs {}", fast.z, general.z_rand);
        }
        assert!(moran_row_standardised(
            &[1, 1, 1, 1],
            &Weights::from_neighbours(&[vec![1], vec![0], vec![3], vec![2]]).unwrap()
        )
        .is_none());
    }

    #[test]
    fn the_one_pass_profile_matches_moran_on_built_weights() {
        // a ragged selection of a 15 × 12 grid of 100 m cells with an isolated cell
        let mut cells: Vec<Cell> = (0..12)
            .flat_map(|iy| (0..15).map(move |ix| Cell { ix, iy }))
            .filter(|c| (c.ix * 5 + c.iy * 3) % 7 != 0)
            .collect();
        cells.push(Cell { ix: 40, iy: 40 });
        let counts: Vec<i64> =
            cells.iter().map(|c| ((c.ix * 3 + c.iy * c.iy) % 6) as i64 + (c.ix / 5) as i64).collect();
        let distances = [100.0, 141.0, 141.5, 250.0, 300.0, 450.0];
        let profile = incremental_spatial_autocorrelation(&cells, 100.0, &counts, &distances).unwrap();
        for (d, got) in distances.iter().zip(&profile) {
            let w = Weights::grid_distance_band(&cells, 100.0, *d).unwrap();
            let want = moran_row_standardised(&counts, &w).unwrap();
            assert_eq!(got.distance, *d);
            assert!((got.moran_i - want.moran_i).abs() < 1e-12, "{d}: {} vs {}", got.moran_i, want.moran_i);
            assert!((got.z - want.z).abs() < 1e-9, "{d}: {} vs {}", got.z, want.z);
            assert!((got.mean_neighbours - want.mean_neighbours).abs() < 1e-12);
        }
        assert!(incremental_spatial_autocorrelation(&cells, 100.0, &counts, &[200.0, 100.0]).is_err());
        assert!(incremental_spatial_autocorrelation(&cells, 100.0, &counts, &[]).unwrap().is_empty());
    }

    #[test]
    fn first_peak_by_the_rule() {
        // rises, peaks at index 2 (z = 3 > 1.65), falls
        assert_eq!(first_peak(&[1.0, 2.0, 3.0, 2.5, 4.0], 1.65), Some(2));
        // a peak below 1.65 is skipped; the next peak counts
        assert_eq!(first_peak(&[0.5, 1.0, 0.8, 2.0, 5.0, 4.0], 1.65), Some(4));
        // falling from the start: no rise before, no peak; rising throughout: no peak
        assert_eq!(first_peak(&[5.0, 4.0, 3.0], 1.65), None);
        assert_eq!(first_peak(&[1.0, 2.0, 3.0], 1.65), None);
        // a flat step does not count as a rise
        assert_eq!(first_peak(&[3.0, 3.0, 2.0], 1.65), None);
    }

    #[test]
    fn distances_start_where_every_unit_has_a_neighbour() {
        // a 20 × 20 lattice of 100 m cells: every nearest neighbour is 100 m (sd 0, no
        // outliers): start 100.01, steps of 100; the standard distance is
        // √(2·(20² − 1)/12)·100 = 815.5 m, so the 10 distances (up to 1,000 m) are spread
        // from 100.01 to the cap in steps of (815.5 − 100.01)/10
        let centres: Vec<(f64, f64)> = (0..20)
            .flat_map(|iy| (0..20).map(move |ix| (ix as f64 * 100.0 + 50.0, iy as f64 * 100.0 + 50.0)))
            .collect();
        let plan = autocorrelation_distances(&centres, 10).unwrap();
        let cap = (2.0 * (400.0 - 1.0) / 12.0_f64).sqrt() * 100.0;
        assert!((plan.start - 100.01).abs() < 1e-9);
        assert!((plan.capped_at.unwrap() - cap).abs() < 1e-9);
        assert!((plan.step - (cap - 100.01) / 10.0).abs() < 1e-9);
        assert_eq!(plan.distances.len(), 10);
        // a 5-step plan fits under the cap: steps of the mean nearest-neighbour distance
        let plan = autocorrelation_distances(&centres, 5).unwrap();
        assert_eq!(plan.capped_at, None);
        assert!((plan.distances[4] - 500.01).abs() < 1e-9);
    }

    /// 1 km × 1 km study area; background incidents on a 25 m lattice (one at each node
    /// not on the area's edge) and a dense cluster around (700, 300).
    fn incidents() -> Vec<(f64, f64)> {
        let mut points: Vec<(f64, f64)> =
            (1..40).flat_map(|iy| (1..40).map(move |ix| (ix as f64 * 25.0, iy as f64 * 25.0))).collect();
        // 20 × 20 points 3 m apart from (670.5, 270.5), never on the 25 m lattice
        for k in 0..400 {
            let (dx, dy) = ((k % 20) as f64 * 3.0, (k / 20) as f64 * 3.0);
            points.push((670.5 + dx, 270.5 + dy));
        }
        points.push((5_000.0, 5_000.0)); // outside the area
        points
    }

    fn square_area() -> StudyArea {
        StudyArea::new(MultiPolygon(vec![
            polygon![(x: 0.0, y: 0.0), (x: 1000.0, y: 0.0), (x: 1000.0, y: 1000.0), (x: 0.0, y: 1000.0)],
        ]))
        .unwrap()
    }

    #[test]
    fn optimized_hot_spots_finds_the_cluster_and_explains_itself() {
        let r = optimized_hot_spots(&incidents(), &square_area(), &OptimizedOptions::default()).unwrap();
        assert_eq!(r.dropped_outside_area, 1);
        assert_eq!(r.incidents, 39 * 39 + 400);
        // 1,921 distinct locations. The lattice's have 25 m nearest neighbours (a dozen near
        // the cluster less), the cluster's about 3 m: the median (the 961st of 1,921) is 25 m,
        // the mean about (1509·25 + 412·3)/1921 ≈ 20.3 m; median larger, ratio ≈ 1.23 < 2,
        // cell size 2 × 25 = 50 m. No outliers: the sd is about 9 m, and nothing lies 3 sd
        // above the mean (≈ 47 m).
        assert_eq!(r.spacing.distinct_locations, 1921);
        assert_eq!(r.spacing.median_kept, 25.0);
        assert_eq!(r.cell_size.value, 50.0);
        assert_eq!(r.cell_size.chosen_by, ChosenBy::Data);
        assert_eq!(r.units.cells.len(), 400);
        assert_eq!(r.autocorrelation.len(), 10);
        // the cluster's cells (650–700 and 700–750 m east, 250–300 and 300–350 m north) are
        // hot at 99 %
        let hot_cell = r.units.cells.iter().position(|c| (c.ix, c.iy) == (13, 5)).unwrap();
        assert_eq!(r.table.rows[hot_cell].bin, 3);
        assert!(r.table.significant > 0);
        assert_eq!(r.explanation.len(), 6);
        assert!(r.explanation[0].contains("1 outside the study area"), "{}", r.explanation[0]);
        // a given cell size and band are used as given
        let given = OptimizedOptions { cell_size: Some(100.0), band: Some(150.0), ..Default::default() };
        let r = optimized_hot_spots(&incidents(), &square_area(), &given).unwrap();
        assert_eq!((r.cell_size.chosen_by, r.band.chosen_by), (ChosenBy::Given, ChosenBy::Given));
        assert_eq!(r.units.cells.len(), 100);
        assert!(r.autocorrelation.is_empty());
    }

    #[test]
    fn too_few_incidents_or_too_many_cells_are_refused() {
        let few: Vec<(f64, f64)> = (0..29).map(|i| (i as f64 * 30.0 + 1.0, 500.0)).collect();
        assert!(matches!(
            optimized_hot_spots(&few, &square_area(), &OptimizedOptions::default()),
            Err(SpatialError::TooFew { needed: 30, got: 29, .. })
        ));
        let tight = OptimizedOptions { cell_size: Some(10.0), cell_budget: 5_000, ..Default::default() };
        assert!(matches!(
            optimized_hot_spots(&incidents(), &square_area(), &tight),
            Err(SpatialError::TooManyCells { budget: 5_000, .. })
        ));
    }
}
