//! Writes a small fixed dataset and Alliance's Gi*, Gi, local Moran and global Moran
//! results as CSV on standard output, for `tools/crosscheck/crosscheck.py` to compare with
//! PySAL's esda: the analytic values, and the conditional-permutation pseudo p-values of Gi*
//! and local Moran (row) with R = 9,999, both alternatives (`directed` is esda's folded
//! tail; `two-sided` is Alliance's default). Run:
//! `cargo run -p alliance-core --example spatial_crosscheck > out.csv`.

use alliance_core::analytics::spatial::{
    gi, gi_star, global_moran, local_moran, Alternative, Contiguity, PermutationOptions, Standardisation, Weights,
};

/// Permutations for the p_sim cross-check: Monte Carlo error of a p-value is at most
/// `0.5/√R` = 0.005.
const PERMUTATIONS: usize = 9_999;
use alliance_core::geo::grid::GridSpec;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (nx, ny) = (12, 10);
    let grid = GridSpec::new(0.0, 0.0, 100.0, nx, ny)?;
    // deterministic counts with a hotspot near (8, 6)
    let values: Vec<i64> = (0..nx * ny)
        .map(|k| {
            let (ix, iy) = ((k % nx) as i64, (k / nx) as i64);
            let d2 = (ix - 8).pow(2) + (iy - 6).pow(2);
            (k as i64 * 7919 % 5) + (12 - d2).max(0)
        })
        .collect();
    let w = Weights::contiguity(&grid.all_cells(), Contiguity::Queen)?;
    let none = PermutationOptions { permutations: 0, ..Default::default() };
    let gs = gi_star(&values, &w, &none)?;
    let g = gi(&values, &w, &none)?;
    let lm_row = local_moran(&values, &w, Standardisation::Row, &none)?;
    let lm_bin = local_moran(&values, &w, Standardisation::Binary, &none)?;
    let gm_row = global_moran(&values, &w, Standardisation::Row, &none)?;
    let gm_bin = global_moran(&values, &w, Standardisation::Binary, &none)?;
    let sim = |alternative| PermutationOptions { permutations: PERMUTATIONS, seed: 20_251_121, alternative };
    let p_sim = |p: Option<f64>| p.unwrap_or(f64::NAN);
    let gs_dir = gi_star(&values, &w, &sim(Alternative::Directed))?;
    let gs_two = gi_star(&values, &w, &sim(Alternative::TwoSided))?;
    let lm_dir = local_moran(&values, &w, Standardisation::Row, &sim(Alternative::Directed))?;
    let lm_two = local_moran(&values, &w, Standardisation::Row, &sim(Alternative::TwoSided))?;
    println!(
        "# nx={nx} ny={ny} queen permutations={PERMUTATIONS}; global row: I={:.17e} z_norm={:.17e} z_rand={:.17e}; global binary: I={:.17e} z_norm={:.17e} z_rand={:.17e}",
        gm_row.i, gm_row.z_norm, gm_row.z_rand, gm_bin.i, gm_bin.z_norm, gm_bin.z_rand
    );
    println!(
        "id,ix,iy,value,gi_star_z,gi_z,lm_row_i,lm_row_q,lm_bin_i,gi_star_psim_dir,gi_star_psim_two,lm_row_psim_dir,lm_row_psim_two"
    );
    #[allow(clippy::needless_range_loop)]
    for k in 0..values.len() {
        let q = match lm_row.results[k].quadrant {
            alliance_core::analytics::spatial::Quadrant::HH => 1,
            alliance_core::analytics::spatial::Quadrant::LH => 2,
            alliance_core::analytics::spatial::Quadrant::LL => 3,
            alliance_core::analytics::spatial::Quadrant::HL => 4,
        };
        println!(
            "{k},{},{},{},{:.17e},{:.17e},{:.17e},{q},{:.17e},{},{},{},{}",
            k % nx,
            k / nx,
            values[k],
            gs.results[k].z,
            g.results[k].z,
            lm_row.results[k].i,
            lm_bin.results[k].i,
            p_sim(gs_dir.results[k].p_sim),
            p_sim(gs_two.results[k].p_sim),
            p_sim(lm_dir.results[k].p_sim),
            p_sim(lm_two.results[k].p_sim)
        );
    }
    Ok(())
}
