//! From points to a hotspot table: the steps the CLI, the API and the map share (grid
//! units and their counts, weights, the local statistic, false discovery rate control,
//! confidence bins, persistence over periods), as plain functions.
//!
//! Significance: Benjamini–Hochberg at `alpha` on the p-value chosen by
//! [`SignificanceFrom`]: with [`local_hotspots_with`] and [`SignificanceFrom::Normal`] (the
//! ArcGIS convention, and the one to use) the two-sided normal `p_norm`, with permutations
//! still run as a robustness check when asked; with [`SignificanceFrom::Permutation`] the
//! conditional-permutation pseudo p-value `p_sim`. [`local_hotspots`] keeps its historical
//! rule (`p_sim` whenever permutations are run, else `p_norm`). The table says which
//! (`inference`, and `significance_from`) and reports both p-values.
//!
//! Confidence bins (ArcGIS's `Gi_Bin` with its false-discovery-rate option, see
//! [`super::significance`]): ±3 when the unit is significant under Benjamini–Hochberg at
//! 0.01, ±2 at 0.05, ±1 at 0.10, the sign of z; 0 otherwise. The bins do not depend on
//! `alpha`.

use geo::{BoundingRect, MultiPolygon};
use serde::{Deserialize, Serialize};

use super::significance::{
    confidence_bins, permutation_adequacy, Correction, Inference, PermutationAdequacy, SignificanceFrom,
};
use super::{
    benjamini_hochberg, classify_persistence, gi, gi_star, local_moran, Contiguity, PeriodHotspots, PermutationOptions,
    PersistenceOptions, PersistenceResult, Quadrant, SpatialError, Standardisation, Weights,
};
use crate::geo::grid::{count_points, Cell, GridSpec};

/// Which statistic a hotspot analysis computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HotspotStatistic {
    GiStar,
    Gi,
    LocalMoran,
    /// Global Moran's I: one record for the whole study area.
    Moran,
}

impl HotspotStatistic {
    /// The command-line and API name (`gi-star`, `gi`, `local-moran`, `moran`).
    pub fn name(self) -> &'static str {
        match self {
            HotspotStatistic::GiStar => "gi-star",
            HotspotStatistic::Gi => "gi",
            HotspotStatistic::LocalMoran => "local-moran",
            HotspotStatistic::Moran => "moran",
        }
    }

    /// Parses a command-line or API name.
    pub fn parse(text: &str) -> Result<Self, String> {
        match text {
            "gi-star" | "gi_star" => Ok(HotspotStatistic::GiStar),
            "gi" => Ok(HotspotStatistic::Gi),
            "local-moran" | "local_moran" => Ok(HotspotStatistic::LocalMoran),
            "moran" => Ok(HotspotStatistic::Moran),
            other => Err(format!("unknown statistic \"{other}\": expected gi-star, gi, local-moran or moran")),
        }
    }
}

/// How neighbours are defined.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NeighbourRule {
    Contiguity(Contiguity),
    /// Unit centres within this many metres (`d ≤ band`).
    DistanceBand(f64),
}

/// Settings of a local hotspot analysis.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct HotspotSettings {
    pub statistic: HotspotStatistic,
    pub permutation: PermutationOptions,
    /// False discovery rate for `significant`.
    pub alpha: f64,
    /// Weights of Moran's I (local and global); Gi* and Gi always use binary weights.
    pub standardisation: Standardisation,
}

/// One unit's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HotspotRow {
    pub count: i64,
    pub z: f64,
    pub p_norm: f64,
    pub p_sim: Option<f64>,
    /// Benjamini–Hochberg adjusted p-value of the p used for significance.
    pub q_value: f64,
    pub significant: bool,
    /// ±3, ±2, ±1 (99 %, 95 %, 90 % with FDR control) or 0.
    pub bin: i8,
    /// G*_i or G_i (ratio form), or local Moran's I_i.
    pub value: f64,
    /// Local Moran only.
    pub quadrant: Option<Quadrant>,
}

impl HotspotRow {
    /// A unit's row from its statistic, before the false discovery rate control fills in
    /// `q_value`, `significant` and `bin` for the whole table.
    fn unadjusted(count: i64, z: f64, p_norm: f64, p_sim: Option<f64>, value: f64, quadrant: Option<Quadrant>) -> Self {
        HotspotRow { count, z, p_norm, p_sim, q_value: 1.0, significant: false, bin: 0, value, quadrant }
    }
}

/// A local statistic for every unit, with how it was computed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HotspotTable {
    pub statistic: HotspotStatistic,
    pub alternative: super::Alternative,
    pub permutations: usize,
    pub seed: u64,
    pub alpha: f64,
    /// `"p_sim"` or `"p_norm"`: the p-value Benjamini–Hochberg was applied to.
    pub significance_from: &'static str,
    /// The same, with the number of permutations, for outputs to state.
    pub inference: Inference,
    /// When permutations were run: whether their floor `1/(R + 1)` can pass the correction
    /// at `alpha` over these units.
    pub permutation_check: Option<PermutationAdequacy>,
    /// Critical p-values of the 90 %, 95 % and 99 % bins.
    pub critical_p: [Option<f64>; 3],
    pub significant: usize,
    pub rows: Vec<HotspotRow>,
}

/// Runs Gi*, Gi or local Moran's I on unit counts and marks significance: on `p_sim` when
/// permutations are run, else on `p_norm` (the historical rule; prefer
/// [`local_hotspots_with`] and [`SignificanceFrom::Normal`]).
pub fn local_hotspots(values: &[i64], weights: &Weights, s: &HotspotSettings) -> Result<HotspotTable, SpatialError> {
    let from = if s.permutation.permutations > 0 { SignificanceFrom::Permutation } else { SignificanceFrom::Normal };
    local_hotspots_with(values, weights, s, from)
}

/// Runs Gi*, Gi or local Moran's I on unit counts and marks significance on the p-value
/// `from` says. With [`SignificanceFrom::Normal`] permutations (if any) are still run and
/// `p_sim` reported, as a robustness check. [`SignificanceFrom::Permutation`] needs
/// permutations.
pub fn local_hotspots_with(
    values: &[i64],
    weights: &Weights,
    s: &HotspotSettings,
    from: SignificanceFrom,
) -> Result<HotspotTable, SpatialError> {
    let opts = &s.permutation;
    if from == SignificanceFrom::Permutation && opts.permutations == 0 {
        return Err(super::bad("inference", "permutation inference needs at least one permutation"));
    }
    let mut rows: Vec<HotspotRow> = match s.statistic {
        HotspotStatistic::GiStar | HotspotStatistic::Gi => {
            let report = if s.statistic == HotspotStatistic::GiStar {
                gi_star(values, weights, opts)?
            } else {
                gi(values, weights, opts)?
            };
            report
                .results
                .into_iter()
                .map(|r| HotspotRow::unadjusted(r.value, r.z, r.p_norm, r.p_sim, r.g, None))
                .collect()
        }
        HotspotStatistic::LocalMoran => local_moran(values, weights, s.standardisation, opts)?
            .results
            .into_iter()
            .map(|r| HotspotRow::unadjusted(r.value, r.z, r.p_norm, r.p_sim, r.i, Some(r.quadrant)))
            .collect(),
        HotspotStatistic::Moran => {
            return Err(super::bad("statistic", "global Moran's I gives one record, not a table of units"))
        }
    };
    let use_sim = from == SignificanceFrom::Permutation;
    let p: Vec<f64> = rows.iter().map(|r| if use_sim { r.p_sim.unwrap_or(1.0) } else { r.p_norm }).collect();
    let z: Vec<f64> = rows.iter().map(|r| r.z).collect();
    let fdr = benjamini_hochberg(&p, s.alpha)?;
    let bins = confidence_bins(&z, &p, Correction::Fdr)?;
    for (i, row) in rows.iter_mut().enumerate() {
        row.significant = fdr.significant[i];
        row.q_value = fdr.q_values[i];
        row.bin = bins.bins[i];
    }
    let permutation_check =
        (opts.permutations > 0).then(|| permutation_adequacy(opts.permutations, rows.len(), s.alpha)).transpose()?;
    Ok(HotspotTable {
        statistic: s.statistic,
        alternative: opts.alternative,
        permutations: opts.permutations,
        seed: opts.seed,
        alpha: s.alpha,
        significance_from: if use_sim { "p_sim" } else { "p_norm" },
        inference: if use_sim { Inference::Permutation { permutations: opts.permutations } } else { Inference::Normal },
        permutation_check,
        critical_p: bins.critical_p,
        significant: rows.iter().filter(|r| r.significant).count(),
        rows,
    })
}

/// Grid cells as units of analysis: the grid, the cells analysed and their counts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GridUnits {
    pub grid: GridSpec,
    pub cells: Vec<Cell>,
    pub counts: Vec<i64>,
    /// Points in no analysed cell (outside the study area).
    pub outside: usize,
}

fn grid_error(e: crate::geo::grid::GridError) -> SpatialError {
    super::bad("grid", e.to_string())
}

/// Builds the grid of cell size `size` (origin given, or the minimum x and y of the points
/// and the study area rounded down to a multiple of `size`), and counts points per cell:
/// every cell of the bounding box when `area` is `None`, else the cells whose interior meets
/// the study area.
pub fn grid_units(
    points: &[(f64, f64)],
    size: f64,
    origin: Option<(f64, f64)>,
    area: Option<&MultiPolygon<f64>>,
) -> Result<GridUnits, SpatialError> {
    let mut extent: Vec<(f64, f64)> = points.to_vec();
    if let Some(rect) = area.and_then(|a| a.bounding_rect()) {
        extent.push((rect.min().x, rect.min().y));
        extent.push((rect.max().x, rect.max().y));
    }
    let grid = GridSpec::covering(&extent, size, origin).map_err(grid_error)?;
    let cells = match area {
        Some(a) => grid.cells_intersecting(a),
        None => grid.all_cells(),
    };
    let counted = count_points(&grid, &cells, points).map_err(grid_error)?;
    Ok(GridUnits { grid, cells, counts: counted.counts, outside: counted.outside })
}

/// Weights between grid cells: contiguity of cells, or a distance band between centres.
pub fn grid_weights(units: &GridUnits, rule: NeighbourRule) -> Result<Weights, SpatialError> {
    match rule {
        NeighbourRule::Contiguity(kind) => Weights::contiguity(&units.cells, kind),
        NeighbourRule::DistanceBand(band) => {
            let centres: Vec<(f64, f64)> = units.cells.iter().map(|&c| units.grid.centre(c)).collect();
            Weights::distance_band(&centres, band)
        }
    }
}

/// Persistence of Gi* hotspots over periods: each period's counts (same units, same order,
/// periods in time order) analysed with the same weights and settings; a unit is hot in a
/// period when it is significant (as [`local_hotspots`]) with z > 0.
pub fn hotspot_persistence(
    period_counts: &[Vec<i64>],
    weights: &Weights,
    settings: &HotspotSettings,
    opts: &PersistenceOptions,
) -> Result<(Vec<HotspotTable>, Vec<PersistenceResult>), SpatialError> {
    let tables =
        period_counts.iter().map(|counts| local_hotspots(counts, weights, settings)).collect::<Result<Vec<_>, _>>()?;
    let periods: Vec<PeriodHotspots> = tables
        .iter()
        .map(|t| PeriodHotspots {
            z: t.rows.iter().map(|r| r.z).collect(),
            hot: t.rows.iter().map(|r| r.significant && r.z > 0.0).collect(),
        })
        .collect();
    let classes = classify_persistence(&periods, opts)?;
    Ok((tables, classes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::spatial::Alternative;

    fn settings(statistic: HotspotStatistic, permutations: usize) -> HotspotSettings {
        HotspotSettings {
            statistic,
            permutation: PermutationOptions { permutations, seed: 7, alternative: Alternative::TwoSided },
            alpha: 0.05,
            standardisation: Standardisation::Row,
        }
    }

    #[test]
    fn a_cluster_of_points_is_a_significant_hot_cell_and_matches_gi_star() {
        // 10 × 10 cells of 100 m; 30 points in cell (4, 4), one point in every other cell.
        let mut points = Vec::new();
        for iy in 0..10 {
            for ix in 0..10 {
                let n = if (ix, iy) == (4, 4) { 30 } else { 1 };
                for k in 0..n {
                    points.push((ix as f64 * 100.0 + 10.0 + k as f64, iy as f64 * 100.0 + 50.0));
                }
            }
        }
        let units = grid_units(&points, 100.0, Some((0.0, 0.0)), None).unwrap();
        assert_eq!((units.grid.nx, units.grid.ny, units.outside), (10, 10, 0));
        let w = grid_weights(&units, NeighbourRule::Contiguity(Contiguity::Queen)).unwrap();
        let table = local_hotspots(&units.counts, &w, &settings(HotspotStatistic::GiStar, 0)).unwrap();
        let direct = gi_star(&units.counts, &w, &PermutationOptions { permutations: 0, ..Default::default() }).unwrap();
        for (row, d) in table.rows.iter().zip(&direct.results) {
            assert_eq!(row.z, d.z);
        }
        let hot: Vec<usize> = (0..100).filter(|&i| table.rows[i].significant).collect();
        // the cluster cell and its 8 queen neighbours have the cluster in their Gi* sum
        assert_eq!(hot, vec![33, 34, 35, 43, 44, 45, 53, 54, 55]);
        assert!(table.rows[44].bin >= 2, "bin {}", table.rows[44].bin);
        assert_eq!(table.rows[0].bin, 0);
        assert_eq!(table.significance_from, "p_norm");
    }

    #[test]
    fn persistence_over_two_periods() {
        let counts = vec![1, 1, 1, 1, 20, 1, 1, 1, 1];
        let cells: Vec<Cell> = (0..9).map(|i| Cell { ix: i % 3, iy: i / 3 }).collect();
        let w = Weights::contiguity(&cells, Contiguity::Rook).unwrap();
        let s = HotspotSettings { alpha: 0.2, ..settings(HotspotStatistic::GiStar, 0) };
        let (tables, classes) =
            hotspot_persistence(&[counts.clone(), counts], &w, &s, &PersistenceOptions::default()).unwrap();
        assert_eq!(tables.len(), 2);
        assert_eq!(classes.len(), 9);
        assert!(classes[4].hot_periods == 2 || classes[4].hot_periods == 0);
    }

    /// 60 × 60 cells of 100 m with one count each, and a cluster of 40 in cell (30, 30):
    /// the cluster cell and its 8 queen neighbours have Gi* sum 48 over W = 9 cells
    /// (Σx = 3639, Σx² = 5199, z = (3600·48 − 3639·9)/√((3600·5199 − 3639²)·9·3591/3599)
    /// ≈ 20).
    fn big_grid_with_a_cluster() -> (Vec<i64>, Weights) {
        let grid = GridSpec::new(0.0, 0.0, 100.0, 60, 60).unwrap();
        let mut counts = vec![1_i64; grid.len()];
        counts[grid.index(Cell { ix: 30, iy: 30 })] = 40;
        (counts, Weights::contiguity(&grid.all_cells(), Contiguity::Queen).unwrap())
    }

    #[test]
    fn normal_inference_finds_what_the_permutation_floor_cannot() {
        // 3,600 tests at q = 0.05: the first Benjamini–Hochberg step needs p ≤ 0.05/3600 =
        // 1.4e-5; 99 permutations give p_sim ≥ 0.01, so even the 9 cluster cells tied at
        // the floor need 0.01 ≤ 9·0.05/3600 = 1.25e-4, which fails: nothing is significant.
        let (counts, w) = big_grid_with_a_cluster();
        let s = settings(HotspotStatistic::GiStar, 99);
        let by_sim = local_hotspots(&counts, &w, &s).unwrap();
        assert_eq!(by_sim.inference, Inference::Permutation { permutations: 99 });
        assert_eq!(by_sim.significant, 0);
        let check = by_sim.permutation_check.unwrap();
        assert!(!check.can_pass);
        assert_eq!(check.needed, 71_999);
        // the same data, significance from the normal p: the 9 cells, at 99 %; p_sim still
        // reported as the robustness check
        let by_norm = local_hotspots_with(&counts, &w, &s, SignificanceFrom::Normal).unwrap();
        assert_eq!(by_norm.inference, Inference::Normal);
        assert_eq!(by_norm.significance_from, "p_norm");
        assert_eq!(by_norm.significant, 9);
        let centre = 30 * 60 + 30;
        assert_eq!(by_norm.rows[centre].bin, 3);
        assert!((by_norm.rows[centre].z - 19.97).abs() < 0.01, "{}", by_norm.rows[centre].z);
        // a neighbour's 8 other neighbours hold the 40 (drawn with chance 8/3599 per
        // permutation): p_sim is near its floor; the cluster cell's own neighbours are all
        // 1, like every other value, so conditional permutation (own value held fixed) sees
        // nothing there: p_sim = 1
        assert!(by_norm.rows[centre + 1].p_sim.unwrap() <= 0.05);
        assert_eq!(by_norm.rows[centre].p_sim, Some(1.0));
        assert!(by_norm.critical_p[2].is_some());
    }

    #[test]
    fn permutation_inference_needs_permutations() {
        let (counts, w) = big_grid_with_a_cluster();
        let s = settings(HotspotStatistic::GiStar, 0);
        assert!(local_hotspots_with(&counts, &w, &s, SignificanceFrom::Permutation).is_err());
        let t = local_hotspots_with(&counts, &w, &s, SignificanceFrom::Normal).unwrap();
        assert_eq!(t.permutation_check, None);
        assert_eq!(t, local_hotspots(&counts, &w, &s).unwrap());
    }
}
