//! Hotspot persistence over a series of periods, from per-period Gi* results, in the spirit
//! of ArcGIS's "Emerging Hot Spot Analysis" (which classifies with the same two
//! ingredients: per-period significant hot spots, and a Mann–Kendall trend test on the
//! Gi* z-scores). Superseded by [`super::emerging`], which implements that tool's published
//! categories with space-time neighbours; kept until the command line and the web app move
//! over.
//!
//! A unit is *hot* in a period when the caller says so (typically: significant after FDR
//! with a positive z). With `m` periods and `h` hot periods, rules applied in order:
//!
//! 1. **NotHotspot** — never hot.
//! 2. **Historical** — hot in some period but not in the final one (ArcGIS "historical"
//!    and the hot-then-gone part of "diminishing"; kept separate so that "diminishing"
//!    keeps ArcGIS's meaning).
//! 3. hot in the final period and in at least 90 % of the periods (`h ≥ ⌈0.9·m⌉`):
//!    the Mann–Kendall test of the z-scores over time (two-sided, at the trend alpha)
//!    decides **Intensifying** (significant upward trend), **Diminishing** (significant
//!    downward trend) or **Persistent** (no significant trend) — ArcGIS's definitions.
//! 4. **New** — hot in the final period, and the hot periods form a single uninterrupted run
//!    ending in it (ArcGIS "new", hot only in the final period, and "consecutive", a final
//!    run, merged).
//! 5. **Sporadic** — hot in the final period after an on-and-off history.
//!
//! Mann–Kendall (Mann 1945; Kendall 1975): `S = Σ_{k<l} sign(z_l − z_k)`,
//! `Var S = (m(m−1)(2m+5) − Σ_g t_g(t_g−1)(2t_g+5))/18` over groups of tied values,
//! `Z = (S − 1)/√Var S` for `S > 0`, `(S + 1)/√Var S` for `S < 0`, 0 otherwise, two-sided
//! normal p-value.

use super::SpatialError;
use serde::{Deserialize, Serialize};

/// The Gi* z-scores of every unit in one period, and which units are hot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeriodHotspots {
    pub z: Vec<f64>,
    pub hot: Vec<bool>,
}

/// Settings for [`classify_persistence`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PersistenceOptions {
    /// Share of periods a unit must be hot in to be persistent, intensifying or
    /// diminishing (ArcGIS: 0.9).
    pub share: f64,
    /// Significance level of the Mann–Kendall trend test (two-sided).
    pub trend_alpha: f64,
}

impl Default for PersistenceOptions {
    fn default() -> Self {
        Self { share: 0.9, trend_alpha: 0.05 }
    }
}

/// A unit's hotspot history in one word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PersistenceClass {
    NotHotspot,
    Historical,
    New,
    Persistent,
    Intensifying,
    Diminishing,
    Sporadic,
}

/// The class of one unit, with the evidence behind it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PersistenceResult {
    pub class: PersistenceClass,
    pub hot_periods: usize,
    /// Mann–Kendall Z of the unit's z-scores over the periods.
    pub trend_z: f64,
    pub trend_p: f64,
}

/// Classifies each unit from per-period Gi* results (periods in time order, at least 2,
/// every period over the same units in the same order).
pub fn classify_persistence(
    periods: &[PeriodHotspots],
    opts: &PersistenceOptions,
) -> Result<Vec<PersistenceResult>, SpatialError> {
    if periods.len() < 2 {
        return Err(SpatialError::TooFew { statistic: "hotspot persistence (periods)", needed: 2, got: periods.len() });
    }
    if !(opts.share > 0.0 && opts.share <= 1.0) {
        return Err(super::bad("share", format!("{} is not in (0, 1]", opts.share)));
    }
    if !(opts.trend_alpha > 0.0 && opts.trend_alpha < 1.0) {
        return Err(super::bad("trend alpha", format!("{} is not in (0, 1)", opts.trend_alpha)));
    }
    let units = periods[0].z.len();
    for p in periods {
        if p.z.len() != units || p.hot.len() != units {
            return Err(SpatialError::LengthMismatch { values: p.z.len().max(p.hot.len()), units });
        }
    }
    let m = periods.len();
    let needed = (opts.share * m as f64 - 1e-9).ceil() as usize;
    Ok((0..units)
        .map(|u| {
            let hot: Vec<bool> = periods.iter().map(|p| p.hot[u]).collect();
            let z: Vec<f64> = periods.iter().map(|p| p.z[u]).collect();
            let (trend_z, trend_p) = mann_kendall(&z);
            let h = hot.iter().filter(|&&b| b).count();
            let class = if h == 0 {
                PersistenceClass::NotHotspot
            } else if !hot[m - 1] {
                PersistenceClass::Historical
            } else if h >= needed {
                if trend_p < opts.trend_alpha && trend_z > 0.0 {
                    PersistenceClass::Intensifying
                } else if trend_p < opts.trend_alpha && trend_z < 0.0 {
                    PersistenceClass::Diminishing
                } else {
                    PersistenceClass::Persistent
                }
            } else if hot[m - h..].iter().all(|&b| b) {
                PersistenceClass::New
            } else {
                PersistenceClass::Sporadic
            };
            PersistenceResult { class, hot_periods: h, trend_z, trend_p }
        })
        .collect())
}

/// Mann–Kendall trend test: (Z, two-sided p), from [`super::trend::mann_kendall_test`].
/// Non-finite values make the trend undefined: (0, 1).
pub fn mann_kendall(series: &[f64]) -> (f64, f64) {
    let r = super::trend::mann_kendall_test(series);
    (r.z, r.p)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds periods from one row per unit: (hot flags, z-scores).
    fn periods(units: &[(&[bool], &[f64])]) -> Vec<PeriodHotspots> {
        let m = units[0].0.len();
        (0..m)
            .map(|t| PeriodHotspots {
                z: units.iter().map(|u| u.1[t]).collect(),
                hot: units.iter().map(|u| u.0[t]).collect(),
            })
            .collect()
    }

    #[test]
    fn mann_kendall_by_hand() {
        // 1, 2, 3, 4, 5: S = 10, Var = 5·4·15/18 = 50/3, Z = 9/√(50/3) = 2.2045…
        let (z, p) = mann_kendall(&[1.0, 2.0, 3.0, 4.0, 5.0]);
        assert!((z - 9.0 / (50.0_f64 / 3.0).sqrt()).abs() < 1e-12);
        assert!(p < 0.05 && p > 0.02, "{p}");
        // ties: 1, 1, 2: S = 0 + 1 + 1 = 2; Var = (3·2·11 − 2·1·9)/18 = 48/18; Z = 1/√(8/3)
        let (z, _) = mann_kendall(&[1.0, 1.0, 2.0]);
        assert!((z - 1.0 / (8.0_f64 / 3.0).sqrt()).abs() < 1e-12);
        assert_eq!(mann_kendall(&[2.0, 2.0]), (0.0, 1.0));
    }

    #[test]
    fn each_class_from_a_made_up_history() {
        let t = true;
        let f = false;
        let flat = [3.0, 3.1, 2.9, 3.0, 3.05, 2.95, 3.0, 3.02, 2.98, 3.0];
        let rising = [2.0, 2.2, 2.4, 2.6, 2.8, 3.0, 3.2, 3.4, 3.6, 3.8];
        let falling = [3.8, 3.6, 3.4, 3.2, 3.0, 2.8, 2.6, 2.4, 2.2, 2.0];
        let low = [0.0; 10];
        let all_hot = [t; 10];
        let p = periods(&[
            (&[f; 10], &low),                         // never hot
            (&[t, t, t, t, t, t, t, t, t, f], &flat), // hot, not at the end
            (&[f, f, f, f, f, f, f, f, t, t], &flat), // a final run
            (&all_hot, &flat),                        // hot throughout, no trend
            (&all_hot, &rising),                      // hot throughout, rising
            (&all_hot, &falling),                     // hot throughout, falling
            (&[t, f, t, f, f, t, f, f, f, t], &flat), // on and off
            (&[f, t, t, t, t, t, t, t, t, t], &flat), // 9 of 10 (90 %): persistent
        ]);
        let c: Vec<PersistenceClass> =
            classify_persistence(&p, &PersistenceOptions::default()).unwrap().into_iter().map(|r| r.class).collect();
        use PersistenceClass::*;
        assert_eq!(c, vec![NotHotspot, Historical, New, Persistent, Intensifying, Diminishing, Sporadic, Persistent]);
    }

    #[test]
    fn input_is_checked() {
        let one = vec![PeriodHotspots { z: vec![1.0], hot: vec![true] }];
        assert!(classify_persistence(&one, &PersistenceOptions::default()).is_err());
        let uneven = vec![
            PeriodHotspots { z: vec![1.0], hot: vec![true] },
            PeriodHotspots { z: vec![1.0, 2.0], hot: vec![true, false] },
        ];
        assert!(classify_persistence(&uneven, &PersistenceOptions::default()).is_err());
    }
}
