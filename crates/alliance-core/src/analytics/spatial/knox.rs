//! Near-repeat analysis: the Knox test for space–time clustering (Knox 1964) with Monte
//! Carlo inference, following the conventions of the R package `NearRepeat` (Steenbeek),
//! the open counterpart of Ratcliffe's Near Repeat Calculator.
//!
//! Conventions:
//! - every unordered pair of events `{i, j}` is counted once, in the cell of the table given
//!   by its spatial distance and its time distance `|t_i − t_j|` (days);
//! - bands are given as breaks and are closed on the left, open on the right: `[a, b)`
//!   (`cut(..., right = FALSE)`); the last break may be `inf`; a pair below the first
//!   break or at or beyond the last finite break (when the last break is finite) is not
//!   counted;
//! - spatial distance is Manhattan `|dx| + |dy|` by default (as `NearRepeat`), or Euclidean;
//! - the null distribution permutes the times across events, locations fixed; for each
//!   cell, Knox ratio = observed / mean of the permuted counts (and observed / median), and
//!   `p = (#{permuted ≥ observed} + 1) / (R + 1)`;
//! - a ratio whose denominator is 0 is reported as `None` (R gives NaN or Inf).
//!
//! Speed: the pairs closer than the last finite spatial break are found once with an
//! R-tree and reused by every permutation; the other pairs are never enumerated. The row of
//! an `inf` spatial band is filled from the time-band totals over *all* pairs, which a
//! permutation of times cannot change: row_inf(τ) = total(τ) − Σ_{close pairs} [τ].
//! Permutations run in parallel, permutation `r` drawing from its own seeded stream, so
//! the result does not depend on the number of threads.

use super::inference::stream_rng;
use super::SpatialError;
use rand::seq::SliceRandom;
use rayon::prelude::*;
use rstar::primitives::GeomWithData;
use rstar::{RTree, AABB};
use serde::{Deserialize, Serialize};

/// One event: where (metres) and when (days).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub x: f64,
    pub y: f64,
    pub t: f64,
}

/// How spatial distance between two events is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DistanceMetric {
    /// `|dx| + |dy|` (the `NearRepeat` default, distance along a street grid).
    Manhattan,
    /// `√(dx² + dy²)`.
    Euclidean,
}

/// Settings for [`knox`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KnoxOptions {
    /// Spatial breaks in metres, e.g. `[0, 1, 100, 200, 300, inf]`.
    pub space_breaks: Vec<f64>,
    /// Time breaks in days, e.g. `[0, 7, 14, 21, inf]`.
    pub time_breaks: Vec<f64>,
    pub metric: DistanceMetric,
    /// Number of Monte Carlo permutations R (at least 1).
    pub permutations: usize,
    pub seed: u64,
}

impl Default for KnoxOptions {
    fn default() -> Self {
        Self {
            space_breaks: vec![0.0, 1.0, 100.0, 200.0, 300.0, f64::INFINITY],
            time_breaks: vec![0.0, 7.0, 14.0, 21.0, f64::INFINITY],
            metric: DistanceMetric::Manhattan,
            permutations: 999,
            seed: 12345,
        }
    }
}

/// The Knox tables: rows are spatial bands, columns time bands.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KnoxResult {
    /// Spatial band labels in interval notation, e.g. `[0,1)`, `[300,Inf)`.
    pub space_labels: Vec<String>,
    /// Time band labels, e.g. `[0,7)`.
    pub time_labels: Vec<String>,
    /// Observed pair counts.
    pub observed: Vec<Vec<u64>>,
    /// Mean of the permuted counts.
    pub mean_permuted: Vec<Vec<f64>>,
    /// Median of the permuted counts.
    pub median_permuted: Vec<Vec<f64>>,
    /// observed / mean permuted.
    pub knox_ratio: Vec<Vec<Option<f64>>>,
    /// observed / median permuted.
    pub knox_ratio_median: Vec<Vec<Option<f64>>>,
    /// (#{permuted ≥ observed} + 1) / (R + 1).
    pub p_value: Vec<Vec<f64>>,
    pub metric: DistanceMetric,
    pub permutations: usize,
    pub seed: u64,
    pub events: usize,
    /// Number of pairs found closer than the last finite spatial break.
    pub close_pairs: usize,
}

/// Band breaks: validated, with the band lookup.
struct Bands {
    breaks: Vec<f64>,
    /// whether the last break is +∞
    open_ended: bool,
}

impl Bands {
    fn new(breaks: &[f64], which: &'static str) -> Result<Self, SpatialError> {
        let fail = |why: String| SpatialError::BadBreaks { which, why };
        if breaks.len() < 2 {
            return Err(fail("at least two breaks are needed".into()));
        }
        if breaks.len() > 64 {
            return Err(fail("at most 64 breaks".into()));
        }
        for (k, &b) in breaks.iter().enumerate() {
            let last = k + 1 == breaks.len();
            if b.is_nan() || (b.is_infinite() && !(last && b > 0.0)) {
                return Err(fail(format!("break {b} is not allowed: breaks are finite, except an `inf` last break")));
            }
            if b < 0.0 {
                return Err(fail(format!("break {b} is negative")));
            }
            if k > 0 && b <= breaks[k - 1] {
                return Err(fail("breaks must increase strictly".into()));
            }
        }
        let open_ended = breaks[breaks.len() - 1].is_infinite();
        if open_ended && breaks.len() < 2 {
            return Err(fail("an `inf` break needs a finite break before it".into()));
        }
        Ok(Self { breaks: breaks.to_vec(), open_ended })
    }

    fn count(&self) -> usize {
        self.breaks.len() - 1
    }

    /// Band of value `v` (`[a, b)`), or `count()` when outside every band.
    #[inline]
    fn band(&self, v: f64) -> usize {
        let b = &self.breaks;
        if v < b[0] {
            return self.count();
        }
        b[1..].iter().position(|&upper| v < upper).unwrap_or(self.count())
    }

    /// Pairs at or beyond this distance are not enumerated.
    fn enumeration_limit(&self) -> f64 {
        let b = &self.breaks;
        if self.open_ended {
            b[b.len() - 2]
        } else {
            b[b.len() - 1]
        }
    }

    fn labels(&self) -> Vec<String> {
        self.breaks.windows(2).map(|w| format!("[{},{})", label(w[0]), label(w[1]))).collect()
    }
}

fn label(b: f64) -> String {
    if b.is_infinite() {
        "Inf".into()
    } else {
        format!("{b}")
    }
}

/// A pair of events closer than the enumeration limit, with its spatial band (or the
/// "below the first break" slot).
#[derive(Clone, Copy)]
struct ClosePair {
    i: u32,
    j: u32,
    space: u8,
}

/// Runs the Knox test. Needs at least 2 events with finite coordinates and times.
pub fn knox(events: &[Event], opts: &KnoxOptions) -> Result<KnoxResult, SpatialError> {
    let space = Bands::new(&opts.space_breaks, "space")?;
    let time = Bands::new(&opts.time_breaks, "time")?;
    if events.len() < 2 {
        return Err(SpatialError::TooFew { statistic: "the Knox test", needed: 2, got: events.len() });
    }
    if events.len() > u32::MAX as usize {
        return Err(super::bad("events", "more than 4 billion events"));
    }
    if let Some(index) = events.iter().position(|e| !e.x.is_finite() || !e.y.is_finite() || !e.t.is_finite()) {
        return Err(SpatialError::NonFinite { index });
    }
    if opts.permutations == 0 {
        return Err(super::bad("permutations", "at least one permutation is needed"));
    }
    let limit = space.enumeration_limit();
    // Work in a spatially sorted order (strips of the enumeration limit, then x) so that
    // the two events of a pair sit close together in memory. The order is a deterministic
    // function of the input.
    let strip = if limit > 0.0 { 4.0 * limit } else { 1.0 };
    let mut order: Vec<usize> = (0..events.len()).collect();
    order.sort_by(|&a, &b| {
        let (ea, eb) = (&events[a], &events[b]);
        (ea.y / strip).floor().total_cmp(&(eb.y / strip).floor()).then(ea.x.total_cmp(&eb.x)).then(a.cmp(&b))
    });
    let sorted: Vec<Event> = order.iter().map(|&k| events[k]).collect();
    let times: Vec<f64> = sorted.iter().map(|e| e.t).collect();
    let pairs = close_pairs(&sorted, &space, opts.metric, limit);

    let n_space = space.count();
    let n_time = time.count();
    let width = n_time + 1; // last column: outside every time band
                            // Whole-day times (the usual case) take a fast path: i32 times and a lookup table from
                            // the day difference to the band, which gives the same bands as `time.band`.
    let last_finite = time.enumeration_limit().max(time.breaks[0]);
    let whole_days = last_finite <= 1.0e6 && times.iter().all(|&t| t.fract() == 0.0 && t.abs() < 1.0e9);
    let lut: Vec<u8> = if whole_days {
        (0..=last_finite.ceil() as usize + 1).map(|d| time.band(d as f64) as u8).collect()
    } else {
        Vec::new()
    };
    let tally = |t: &[f64]| -> Vec<u64> {
        let mut table = vec![0_u64; (n_space + 1) * width];
        if whole_days {
            let days: Vec<i32> = t.iter().map(|&v| v as i32).collect();
            let top = lut.len() - 1;
            for p in &pairs {
                let dt = (days[p.i as usize] - days[p.j as usize]).unsigned_abs() as usize;
                table[p.space as usize * width + lut[dt.min(top)] as usize] += 1;
            }
        } else {
            for p in &pairs {
                let dt = (t[p.i as usize] - t[p.j as usize]).abs();
                table[p.space as usize * width + time.band(dt)] += 1;
            }
        }
        table
    };
    // time-band totals over all pairs, invariant under permutation of times
    let totals = time_band_totals(&times, &time);
    let finish = |table: Vec<u64>| -> Vec<u64> {
        let mut out = vec![0_u64; n_space * n_time];
        for s in 0..n_space {
            for t in 0..n_time {
                out[s * n_time + t] = table[s * width + t];
            }
        }
        if space.open_ended {
            let s_inf = n_space - 1;
            for t in 0..n_time {
                let close: u64 = (0..=n_space).map(|s| table[s * width + t]).sum();
                out[s_inf * n_time + t] = totals[t] - close;
            }
        }
        out
    };
    let observed = finish(tally(&times));
    let permuted: Vec<Vec<u64>> = (0..opts.permutations)
        .into_par_iter()
        .map(|r| {
            let mut rng = stream_rng(opts.seed, r as u64);
            let mut t = times.clone();
            t.shuffle(&mut rng);
            finish(tally(&t))
        })
        .collect();

    let cells = n_space * n_time;
    let r = opts.permutations as f64;
    let mut mean = vec![0.0; cells];
    let mut median = vec![0.0; cells];
    let mut p_value = vec![0.0; cells];
    let mut column: Vec<u64> = Vec::with_capacity(opts.permutations);
    for c in 0..cells {
        column.clear();
        column.extend(permuted.iter().map(|table| table[c]));
        mean[c] = column.iter().map(|&v| v as f64).sum::<f64>() / r;
        let at_least = column.iter().filter(|&&v| v >= observed[c]).count();
        p_value[c] = (at_least as f64 + 1.0) / (r + 1.0);
        column.sort_unstable();
        let m = column.len();
        median[c] =
            if m % 2 == 1 { column[m / 2] as f64 } else { 0.5 * (column[m / 2 - 1] as f64 + column[m / 2] as f64) };
    }
    let ratio = |den: &[f64]| -> Vec<Vec<Option<f64>>> {
        rows(&(0..cells).map(|c| (den[c] > 0.0).then(|| observed[c] as f64 / den[c])).collect::<Vec<_>>(), n_time)
    };
    Ok(KnoxResult {
        space_labels: space.labels(),
        time_labels: time.labels(),
        observed: rows(&observed, n_time),
        knox_ratio: ratio(&mean),
        knox_ratio_median: ratio(&median),
        mean_permuted: rows(&mean, n_time),
        median_permuted: rows(&median, n_time),
        p_value: rows(&p_value, n_time),
        metric: opts.metric,
        permutations: opts.permutations,
        seed: opts.seed,
        events: events.len(),
        close_pairs: pairs.len(),
    })
}

fn rows<T: Clone>(flat: &[T], width: usize) -> Vec<Vec<T>> {
    flat.chunks(width).map(|c| c.to_vec()).collect()
}

/// All pairs `i < j` with spatial distance below `limit`, each with its spatial band
/// (`space.count()` for "below the first break").
fn close_pairs(events: &[Event], space: &Bands, metric: DistanceMetric, limit: f64) -> Vec<ClosePair> {
    if limit <= 0.0 {
        return Vec::new();
    }
    let tree =
        RTree::bulk_load(events.iter().enumerate().map(|(i, e)| GeomWithData::new([e.x, e.y], i as u32)).collect());
    (0..events.len())
        .into_par_iter()
        .with_min_len(256)
        .flat_map_iter(|i| {
            let e = events[i];
            let envelope = AABB::from_corners([e.x - limit, e.y - limit], [e.x + limit, e.y + limit]);
            let mut found: Vec<ClosePair> = tree
                .locate_in_envelope(&envelope)
                .filter(|g| g.data as usize > i)
                .filter_map(|g| {
                    let o = events[g.data as usize];
                    let (dx, dy) = ((o.x - e.x).abs(), (o.y - e.y).abs());
                    let d = match metric {
                        DistanceMetric::Manhattan => dx + dy,
                        DistanceMetric::Euclidean => (dx * dx + dy * dy).sqrt(),
                    };
                    (d < limit).then(|| ClosePair { i: i as u32, j: g.data, space: space.band(d) as u8 })
                })
                .collect();
            found.sort_unstable_by_key(|p| p.j);
            found.into_iter()
        })
        .collect()
}

/// Number of pairs (over all n(n−1)/2) in each time band, from the sorted times.
fn time_band_totals(times: &[f64], time: &Bands) -> Vec<u64> {
    let mut sorted = times.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len() as u64;
    // pairs with |t_j − t_i| < v
    let below = |v: f64| -> u64 {
        if v.is_infinite() {
            return n * (n - 1) / 2;
        }
        (0..sorted.len())
            .into_par_iter()
            .map(|i| {
                let rest = &sorted[i + 1..];
                rest.partition_point(|&tj| (tj - sorted[i]).abs() < v) as u64
            })
            .sum()
    };
    let cumulative: Vec<u64> = time.breaks.iter().map(|&b| below(b)).collect();
    cumulative.windows(2).map(|w| w[1] - w[0]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(x: f64, y: f64, t: f64) -> Event {
        Event { x, y, t }
    }

    /// Four events:
    /// ```text
    /// A (0, 0)   day 0
    /// B (60, 40) day 3     A–B: Manhattan 100 (Euclidean 72.1), 3 days
    /// C (0, 250) day 10    A–C: 250, 10 days;  B–C: 60 + 210 = 270, 7 days
    /// D (1000,0) day 2     A–D: 1000, 2 days;  B–D: 940 + 40 = 980, 1 day; C–D: 1250, 8 days
    /// ```
    /// Space breaks 0, 100, 300, inf; time breaks 0, 7, inf ([a, b) bands):
    /// - A–B: Manhattan 100 → [100,300), 3 days → [0,7)
    /// - A–C: [100,300), [7,Inf);  B–C: [100,300), 7 days → [7,Inf)
    /// - A–D, B–D: [300,Inf), [0,7);  C–D: [300,Inf), [7,Inf)
    ///
    /// observed = [[0, 0], [1, 2], [2, 1]]. With Euclidean distance A–B (72.1) moves to
    /// [0,100).
    fn example() -> Vec<Event> {
        vec![ev(0.0, 0.0, 0.0), ev(60.0, 40.0, 3.0), ev(0.0, 250.0, 10.0), ev(1000.0, 0.0, 2.0)]
    }

    fn opts(metric: DistanceMetric) -> KnoxOptions {
        KnoxOptions {
            space_breaks: vec![0.0, 100.0, 300.0, f64::INFINITY],
            time_breaks: vec![0.0, 7.0, f64::INFINITY],
            metric,
            permutations: 99,
            seed: 5,
        }
    }

    #[test]
    fn observed_table_follows_left_closed_bands() {
        let r = knox(&example(), &opts(DistanceMetric::Manhattan)).unwrap();
        assert_eq!(r.observed, vec![vec![0, 0], vec![1, 2], vec![2, 1]]);
        assert_eq!(r.space_labels, vec!["[0,100)", "[100,300)", "[300,Inf)"]);
        assert_eq!(r.time_labels, vec!["[0,7)", "[7,Inf)"]);
        let e = knox(&example(), &opts(DistanceMetric::Euclidean)).unwrap();
        assert_eq!(e.observed, vec![vec![1, 0], vec![0, 2], vec![2, 1]]);
    }

    #[test]
    fn pairs_beyond_a_finite_last_break_are_not_counted() {
        let mut o = opts(DistanceMetric::Manhattan);
        o.space_breaks = vec![0.0, 100.0, 300.0];
        o.time_breaks = vec![0.0, 7.0, 14.0];
        let r = knox(&example(), &o).unwrap();
        // only A–B ([100,300), [0,7)), A–C and B–C ([100,300), [7,14)) remain
        assert_eq!(r.observed, vec![vec![0, 0], vec![1, 2]]);
    }

    #[test]
    fn the_inf_band_equals_brute_force_under_permutation() {
        // Brute force over all pairs for a permuted table must match the invariant-totals
        // shortcut: compare every permutation's inf row implicitly through the mean.
        let mut events = Vec::new();
        let mut s: u64 = 17;
        for _ in 0..300 {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let x = (s >> 33) as f64 % 2000.0;
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let y = (s >> 33) as f64 % 2000.0;
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let t = ((s >> 33) % 60) as f64;
            events.push(ev(x, y, t));
        }
        let o = KnoxOptions {
            space_breaks: vec![0.0, 100.0, 200.0, f64::INFINITY],
            time_breaks: vec![0.0, 7.0, 14.0, f64::INFINITY],
            metric: DistanceMetric::Manhattan,
            permutations: 19,
            seed: 3,
        };
        let r = knox(&events, &o).unwrap();
        // brute-force observed table
        let sb = Bands::new(&o.space_breaks, "space").unwrap();
        let tb = Bands::new(&o.time_breaks, "time").unwrap();
        let mut brute = vec![vec![0_u64; 3]; 3];
        for i in 0..events.len() {
            for j in i + 1..events.len() {
                let d = (events[i].x - events[j].x).abs() + (events[i].y - events[j].y).abs();
                let (s, t) = (sb.band(d), tb.band((events[i].t - events[j].t).abs()));
                if s < 3 && t < 3 {
                    brute[s][t] += 1;
                }
            }
        }
        assert_eq!(r.observed, brute);
        // every permuted table keeps the column totals over all pairs
        let total: f64 = r.mean_permuted.iter().flatten().sum();
        assert!((total - (300.0 * 299.0 / 2.0)).abs() < 1e-6);
        // fractional times take the general path: shifting every time by half a day keeps
        // every time difference, so the whole result must be identical
        let shifted: Vec<Event> = events.iter().map(|e| ev(e.x, e.y, e.t + 0.5)).collect();
        assert_eq!(knox(&shifted, &o).unwrap(), r);
    }

    #[test]
    fn p_values_and_ratios_are_consistent() {
        let r = knox(&example(), &opts(DistanceMetric::Manhattan)).unwrap();
        for s in 0..3 {
            for t in 0..2 {
                let p = r.p_value[s][t];
                assert!((1.0 / 100.0..=1.0).contains(&p));
                if let Some(k) = r.knox_ratio[s][t] {
                    assert!((k * r.mean_permuted[s][t] - r.observed[s][t] as f64).abs() < 1e-9);
                }
            }
        }
        // nothing can be closer than 0 m in [0,100): every permutation gives 0 ≥ 0 → p = 1
        assert_eq!(r.p_value[0][0], 1.0);
        assert_eq!(r.knox_ratio[0][0], None);
        let again = knox(&example(), &opts(DistanceMetric::Manhattan)).unwrap();
        assert_eq!(r, again);
    }

    #[test]
    fn thread_count_does_not_change_the_result() {
        let events: Vec<Event> =
            (0..200).map(|k| ev((k * 37 % 500) as f64, (k * 91 % 500) as f64, (k % 30) as f64)).collect();
        let o = opts(DistanceMetric::Manhattan);
        let one =
            rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap().install(|| knox(&events, &o).unwrap());
        let three =
            rayon::ThreadPoolBuilder::new().num_threads(3).build().unwrap().install(|| knox(&events, &o).unwrap());
        assert_eq!(one, three);
    }

    #[test]
    fn bad_breaks_are_rejected() {
        let mut o = opts(DistanceMetric::Manhattan);
        o.space_breaks = vec![0.0, 100.0, 50.0];
        assert!(matches!(knox(&example(), &o), Err(SpatialError::BadBreaks { which: "space", .. })));
        o.space_breaks = vec![0.0, f64::INFINITY, 500.0];
        assert!(knox(&example(), &o).is_err());
        o.space_breaks = vec![0.0];
        assert!(knox(&example(), &o).is_err());
        o.space_breaks = vec![0.0, 100.0];
        o.time_breaks = vec![f64::NAN, 1.0];
        assert!(matches!(knox(&example(), &o), Err(SpatialError::BadBreaks { which: "time", .. })));
        assert!(knox(&example()[..1], &opts(DistanceMetric::Manhattan)).is_err());
    }
}
