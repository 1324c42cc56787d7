//! Kernel density of points on a grid, in events per km², evaluated at cell centres.
//!
//! For a cell centre `c`, density `f(c) = Σ_p K(‖c − p‖)` with distances in metres and the
//! kernel in per-m², then × 10⁶ for per km². Kernels, with `h` the bandwidth in metres:
//!
//! - **Quartic** (ArcGIS "Kernel Density", Silverman 1986 eq. 4.5):
//!   `K(d) = 3/(π h²) · (1 − (d/h)²)²` for `d < h`, else 0; `h` is the search radius.
//! - **Epanechnikov** (bivariate, Silverman 1986 eq. 4.4):
//!   `K(d) = 2/(π h²) · (1 − (d/h)²)` for `d < h`, else 0.
//! - **Gaussian**: `K(d) = 1/(2π h²) · exp(−d²/(2h²))` with `h` the standard deviation,
//!   truncated at `d ≤ m·h` for a stated multiple `m` and *not* renormalised (the mass
//!   beyond `m·h`, `exp(−m²/2)`, is 1.1 % at m = 3, 0.03 % at m = 4).
//!
//! Every kernel integrates to 1 over the plane (the Gaussian up to its truncation), so the
//! density integrates to the number of points (those near the edge of the grid lose
//! the mass falling outside it).
//!
//! The computation is parallel over grid rows and each row adds its points in one fixed
//! order, so the values do not depend on the number of threads.

use super::SpatialError;
use crate::geo::grid::GridSpec;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::f64::consts::PI;

/// A kernel shape; see the module documentation for the formulas.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", tag = "kernel")]
pub enum Kernel {
    Quartic,
    Epanechnikov,
    /// `radius` passed to [`kde`] is the standard deviation; `truncate` is the multiple of
    /// it beyond which points are ignored.
    Gaussian {
        truncate: f64,
    },
}

impl Kernel {
    /// Distance beyond which the kernel is zero (or truncated), for bandwidth `h`.
    fn reach(&self, h: f64) -> f64 {
        match self {
            Kernel::Quartic | Kernel::Epanechnikov => h,
            Kernel::Gaussian { truncate } => truncate * h,
        }
    }

    /// Kernel value per m² at squared distance `d2` (assumed within reach).
    #[inline]
    fn value(&self, d2: f64, h: f64) -> f64 {
        let h2 = h * h;
        match self {
            Kernel::Quartic => {
                let u = 1.0 - d2 / h2;
                if u > 0.0 {
                    3.0 / (PI * h2) * u * u
                } else {
                    0.0
                }
            }
            Kernel::Epanechnikov => {
                let u = 1.0 - d2 / h2;
                if u > 0.0 {
                    2.0 / (PI * h2) * u
                } else {
                    0.0
                }
            }
            Kernel::Gaussian { .. } => (-d2 / (2.0 * h2)).exp() / (2.0 * PI * h2),
        }
    }
}

/// Kernel density at every cell centre of `grid` (row-major, `iy·nx + ix`), in events per
/// km². `radius` is the search radius `h` in metres (quartic, Epanechnikov) or the Gaussian
/// standard deviation. A point at distance exactly `h` contributes 0 to the compact
/// kernels; the Gaussian counts points at `d ≤ truncate·h`.
pub fn kde(points: &[(f64, f64)], grid: &GridSpec, kernel: Kernel, radius: f64) -> Result<Vec<f64>, SpatialError> {
    if !(radius.is_finite() && radius > 0.0) {
        return Err(super::bad("radius", format!("{radius} is not a positive number of metres")));
    }
    if let Kernel::Gaussian { truncate } = kernel {
        if !(truncate.is_finite() && truncate > 0.0) {
            return Err(super::bad("truncation", format!("{truncate} is not a positive multiple of the bandwidth")));
        }
    }
    if let Some(index) = points.iter().position(|&(x, y)| !x.is_finite() || !y.is_finite()) {
        return Err(SpatialError::NonFinite { index });
    }
    let reach = kernel.reach(radius);
    let reach2 = reach * reach;
    // points sorted by y (ties by input order) so a row finds its band by binary search
    let mut sorted: Vec<(f64, f64)> = points.to_vec();
    sorted.sort_by(|a, b| a.1.total_cmp(&b.1));
    let ys: Vec<f64> = sorted.iter().map(|p| p.1).collect();
    let size = grid.size;
    let mut out = vec![0.0; grid.len()];
    out.par_chunks_mut(grid.nx.max(1)).enumerate().for_each(|(iy, row)| {
        let yc = grid.y0 + (iy as f64 + 0.5) * size;
        let lo = ys.partition_point(|&y| y < yc - reach);
        let hi = ys.partition_point(|&y| y <= yc + reach);
        for &(px, py) in &sorted[lo..hi] {
            let dy = yc - py;
            let dy2 = dy * dy;
            if dy2 > reach2 {
                continue;
            }
            let half = (reach2 - dy2).sqrt();
            // columns whose centre x0 + (ix + ½)·size lies within [px − half, px + half]
            let first = ((px - half - grid.x0) / size - 0.5).ceil().max(0.0);
            let last = ((px + half - grid.x0) / size - 0.5).floor().min(grid.nx as f64 - 1.0);
            if first > last {
                continue;
            }
            #[allow(clippy::needless_range_loop)]
            for ix in first as usize..=last as usize {
                let dx = grid.x0 + (ix as f64 + 0.5) * size - px;
                let d2 = dx * dx + dy2;
                if d2 <= reach2 {
                    row[ix] += kernel.value(d2, radius);
                }
            }
        }
        for v in row.iter_mut() {
            *v *= 1.0e6;
        }
    });
    Ok(out)
}

/// ArcGIS's default search radius for Kernel Density (ArcGIS Pro, "How Kernel Density
/// works"), unweighted points:
/// `h = 0.9 · min(SD, √(1/ln 2) · D_m) · n^(−0.2)`, where SD is the standard distance
/// `√(Σ(x − x̄)²/n + Σ(y − ȳ)²/n)` and `D_m` the median distance of the points from their
/// mean centre (for even n, the mean of the two middle distances).
pub fn arcgis_default_radius(points: &[(f64, f64)]) -> Result<f64, SpatialError> {
    if points.is_empty() {
        return Err(SpatialError::Empty);
    }
    if let Some(index) = points.iter().position(|&(x, y)| !x.is_finite() || !y.is_finite()) {
        return Err(SpatialError::NonFinite { index });
    }
    let n = points.len() as f64;
    let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sd = (points.iter().map(|p| (p.0 - mx).powi(2) + (p.1 - my).powi(2)).sum::<f64>() / n).sqrt();
    let mut d: Vec<f64> = points.iter().map(|p| ((p.0 - mx).powi(2) + (p.1 - my).powi(2)).sqrt()).collect();
    d.sort_by(f64::total_cmp);
    let m = d.len();
    let median = if m % 2 == 1 { d[m / 2] } else { 0.5 * (d[m / 2 - 1] + d[m / 2]) };
    let h = 0.9 * sd.min((1.0 / 2.0_f64.ln()).sqrt() * median) * n.powf(-0.2);
    if h.is_nan() || h <= 0.0 {
        return Err(super::bad("points", "all points coincide: the default radius would be 0"));
    }
    Ok(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quartic_matches_the_arcgis_formula_at_cell_centres() {
        // 3×1 grid of 100 m cells from (0,0); centres (50,50), (150,50), (250,50).
        // One point at (50, 50), radius 200 m:
        //   centre 0: d = 0   → 3/(π·200²)·1             = 2.3873241463784e-5 per m²
        //   centre 1: d = 100 → 3/(π·200²)·(1 − 1/4)²     = 1.3428698323379e-5
        //   centre 2: d = 200 → on the radius               = 0
        // ×10⁶ for per km²: 23.873241463784, 13.428698323379, 0.
        let grid = GridSpec::new(0.0, 0.0, 100.0, 3, 1).unwrap();
        let v = kde(&[(50.0, 50.0)], &grid, Kernel::Quartic, 200.0).unwrap();
        let k0 = 3.0 / (PI * 200.0 * 200.0) * 1e6;
        assert!((v[0] - k0).abs() < 1e-12 * k0);
        assert!((v[1] - k0 * 0.5625).abs() < 1e-12 * k0);
        assert_eq!(v[2], 0.0);
        assert!((v[0] - 23.873_241_463_784).abs() < 1e-9);
    }

    #[test]
    fn epanechnikov_and_gaussian() {
        let grid = GridSpec::new(0.0, 0.0, 100.0, 3, 1).unwrap();
        let e = kde(&[(50.0, 50.0)], &grid, Kernel::Epanechnikov, 200.0).unwrap();
        let k0 = 2.0 / (PI * 40_000.0) * 1e6;
        assert!((e[1] - k0 * 0.75).abs() < 1e-12 * k0);
        // Gaussian σ = 100, truncated at 1.5σ = 150: centre 1 (d = 100) counts with
        // exp(−½)/(2π·100²), centre 2 (d = 200) is beyond the truncation.
        let g = kde(&[(50.0, 50.0)], &grid, Kernel::Gaussian { truncate: 1.5 }, 100.0).unwrap();
        let expected = (-0.5_f64).exp() / (2.0 * PI * 10_000.0) * 1e6;
        assert!((g[1] - expected).abs() < 1e-12 * expected);
        assert_eq!(g[2], 0.0);
    }

    #[test]
    fn density_integrates_to_the_number_of_points() {
        // 10 m cells over a 2 km square; 3 points well inside: Σ density × cell area ≈ 3
        let grid = GridSpec::new(0.0, 0.0, 10.0, 200, 200).unwrap();
        let pts = [(1000.0, 1000.0), (700.0, 1200.0), (1303.0, 871.0)];
        let v = kde(&pts, &grid, Kernel::Quartic, 250.0).unwrap();
        let mass: f64 = v.iter().sum::<f64>() * (10.0 * 10.0) / 1e6;
        assert!((mass - 3.0).abs() < 0.01, "{mass}");
    }

    #[test]
    fn default_radius_follows_the_arcgis_rule() {
        // Four points on a square of side 2 around (0,0): SD = √2, every distance √2, so
        // D_m = √2 and √(1/ln 2)·√2 > SD; h = 0.9·√2·4^(−0.2).
        let pts = [(1.0, 1.0), (-1.0, 1.0), (-1.0, -1.0), (1.0, -1.0)];
        let h = arcgis_default_radius(&pts).unwrap();
        let expected = 0.9 * 2.0_f64.sqrt() * 4.0_f64.powf(-0.2);
        assert!((h - expected).abs() < 1e-12);
        assert!(arcgis_default_radius(&[]).is_err());
        assert!(arcgis_default_radius(&[(1.0, 1.0), (1.0, 1.0)]).is_err());
    }

    #[test]
    fn bad_parameters_are_rejected() {
        let grid = GridSpec::new(0.0, 0.0, 10.0, 2, 2).unwrap();
        assert!(kde(&[(0.0, 0.0)], &grid, Kernel::Quartic, 0.0).is_err());
        assert!(kde(&[(f64::NAN, 0.0)], &grid, Kernel::Quartic, 10.0).is_err());
        assert!(kde(&[], &grid, Kernel::Gaussian { truncate: -1.0 }, 10.0).is_err());
    }
}
