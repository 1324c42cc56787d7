//! Emerging hot spot analysis, as ArcGIS Pro's "Emerging Hot Spot Analysis" (Space Time
//! Pattern Mining toolbox; help page "How Emerging Hot Spot Analysis works").
//!
//! **Space-time cube.** Counts per location (grid cell) and time slice (month or quarter),
//! stored location-major: `counts[location · slices + slice]`.
//!
//! **Space-time Gi\*.** Every bin `(i, t)` gets the Getis–Ord Gi\* z-score (Ord & Getis 1995,
//! binary weights, as [`super::getis_ord`]) with space-time neighbours: the bins of the
//! locations within the distance band of `i` *and `i` itself*, in slice `t` and in the
//! `k` preceding slices (ArcGIS's "neighborhood time step", default 1; near the start of
//! the series the window is shorter). The mean and variance are those of all
//! `locations × slices` bins (ArcGIS's default global window, "entire cube"). A bin whose
//! z is undefined (all counts equal) gets z = 0. The p-value is the two-sided normal one;
//! the false discovery rate correction and the bins −3…+3 are those of
//! [`super::significance`], over all the bins of the cube at once.
//!
//! **Trend.** Each location's series of Gi\* z-scores is tested with Mann–Kendall
//! ([`super::trend`]); a trend is significant at two-sided `p ≤ trend_alpha` (default
//! 0.05). The counts' own Mann–Kendall trend is reported too (as Create Space Time Cube does).
//!
//! **Categories.** A bin is a significant hot (cold) spot when its bin is at least
//! `+level` (at most `−level`) for the chosen confidence (default 90 %: any non-zero bin,
//! as the `Gi_Bin` map shows them). With `m` slices, `h` hot and `c` cold slices, "ninety
//! percent of the time-step intervals" means `h ≥ 0.9·m` (decided exactly as `10h ≥ 9m`).
//! The categories, after Esri's definitions (paraphrased; cold spots mirror hot spots):
//!
//! - **New** — hot in the final slice and never hot before.
//! - **Consecutive** — a single uninterrupted run of at least two hot slices ending in the
//!   final slice, never hot before that run, and hot in fewer than 90 % of the slices.
//! - **Intensifying** — hot in at least 90 % of the slices including the final one, and the
//!   z-scores rise with a significant Mann–Kendall trend.
//! - **Persistent** — hot in at least 90 % of the slices including the final one, with no
//!   significant trend.
//! - **Diminishing** — hot in at least 90 % of the slices including the final one, and the
//!   z-scores fall with a significant trend. (For cold spots "intensifying" means the
//!   z-scores fall, "diminishing" that they rise.)
//! - **Sporadic** — hot in the final slice, on and off before (not new or consecutive), hot
//!   in fewer than 90 % of the slices, and never a significant cold spot.
//! - **Oscillating** — hot in the final slice, a significant cold spot in some earlier
//!   slice, hot in fewer than 90 % of the slices.
//! - **Historical** — not hot in the final slice, but hot in at least 90 % of the slices.
//! - **No pattern** — none of these.
//!
//! Where the published wording lets two categories apply, the precedence is (our
//! decisions, stated so outputs are reproducible): the state of the final slice comes
//! first — a location hot (cold) in the final slice takes a hot (cold) category; among those,
//! the 90 % categories (intensifying, diminishing, persistent), then oscillating (a cold
//! history is what sets it apart, so it wins over new, consecutive and sporadic), then new,
//! consecutive and sporadic. Only a location significant in neither direction in the final
//! slice can be historical. "Persistent" requires the final slice to be hot (else it is
//! historical), as the intensifying and diminishing definitions do.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::getis_ord::standardised;
use super::significance::{confidence_bins, Confidence, ConfidenceBins, Correction, Inference};
use super::trend::{mann_kendall_counts, mann_kendall_test, MannKendall};
use super::{two_sided_normal_p, SpatialError, Weights};
use crate::domain::{Month, MonthRange};
use crate::geo::grid::{Cell, GridSpec};

/// Counts per location and time slice, location-major.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpaceTimeCube {
    locations: usize,
    slices: usize,
    counts: Vec<i64>,
}

impl SpaceTimeCube {
    /// A cube from location-major counts (`counts[location · slices + slice]`).
    pub fn new(locations: usize, slices: usize, counts: Vec<i64>) -> Result<Self, SpatialError> {
        if counts.len() != locations * slices {
            return Err(SpatialError::LengthMismatch { values: counts.len(), units: locations * slices });
        }
        Ok(Self { locations, slices, counts })
    }

    /// Counts events per grid cell (of a selection of cells) and slice. `slice_of[e]` is the
    /// slice of event `e`; an event whose slice is `None` (outside the period) or whose point
    /// is in no selected cell is not counted. Returns the cube and the number not counted.
    pub fn count(
        grid: &GridSpec,
        cells: &[Cell],
        points: &[(f64, f64)],
        slice_of: &[Option<usize>],
        slices: usize,
    ) -> Result<(Self, usize), SpatialError> {
        if points.len() != slice_of.len() {
            return Err(SpatialError::LengthMismatch { values: slice_of.len(), units: points.len() });
        }
        let mut position = vec![u32::MAX; grid.len()];
        for (k, &cell) in cells.iter().enumerate() {
            position[grid.index(cell)] = k as u32;
        }
        let mut counts = vec![0_i64; cells.len() * slices];
        let mut skipped = 0;
        for (e, (&(x, y), &slice)) in points.iter().zip(slice_of).enumerate() {
            if !x.is_finite() || !y.is_finite() {
                return Err(SpatialError::NonFinite { index: e });
            }
            let location = grid.cell_of(x, y).map(|c| position[grid.index(c)]).filter(|&k| k != u32::MAX);
            match (location, slice) {
                (Some(k), Some(t)) if t < slices => counts[k as usize * slices + t] += 1,
                _ => skipped += 1,
            }
        }
        Ok((Self { locations: cells.len(), slices, counts }, skipped))
    }

    pub fn locations(&self) -> usize {
        self.locations
    }

    pub fn slices(&self) -> usize {
        self.slices
    }

    /// A location's counts over the slices.
    pub fn series(&self, location: usize) -> &[i64] {
        &self.counts[location * self.slices..(location + 1) * self.slices]
    }

    /// All counts, location-major.
    pub fn counts(&self) -> &[i64] {
        &self.counts
    }
}

/// How long a time slice of the cube is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SliceLength {
    Month,
    /// Three consecutive months.
    Quarter,
}

/// The time slices of a period. Slices are counted back from the period's last month, so
/// the final slice (the one the categories look at first) is always complete, as ArcGIS's
/// default "end time" alignment does; months before the first complete slice are left out
/// (their events are not counted, and [`TimeSlices::left_out`] says how many months).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TimeSlices {
    /// The first month of the first slice.
    pub first: Month,
    pub last: Month,
    pub months_per_slice: u32,
    pub slices: usize,
    /// Months of the period before the first slice.
    pub left_out: u32,
}

impl TimeSlices {
    /// Slices of a period.
    pub fn new(period: MonthRange, length: SliceLength) -> Result<Self, SpatialError> {
        let per = match length {
            SliceLength::Month => 1,
            SliceLength::Quarter => 3,
        };
        let months = period.len();
        let slices = months / per as i64;
        if slices < 1 {
            return Err(super::bad("period", format!("{months} months is shorter than one slice of {per} months")));
        }
        let left_out = (months - slices * per as i64) as u32;
        Ok(Self {
            first: period.from.plus(left_out as i64),
            last: period.to,
            months_per_slice: per,
            slices: slices as usize,
            left_out,
        })
    }

    /// The slice of a month, `None` outside the slices.
    pub fn slice_of(&self, month: Month) -> Option<usize> {
        let i = self.first.months_until(month);
        (i >= 0 && month <= self.last).then(|| (i / self.months_per_slice as i64) as usize)
    }

    /// A slice's label: `2025-03`, or `2025-01..2025-03` for longer slices.
    pub fn label(&self, slice: usize) -> String {
        let start = self.first.plus((slice * self.months_per_slice as usize) as i64);
        if self.months_per_slice == 1 {
            start.to_string()
        } else {
            format!("{start}..{}", start.plus(self.months_per_slice as i64 - 1))
        }
    }
}

/// Gi* z-scores, p-values and bins of every bin of a cube, location-major.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpaceTimeGi {
    /// Slices before the current one in each bin's neighbourhood (`k`).
    pub time_steps: usize,
    pub z: Vec<f64>,
    /// Two-sided normal p-values.
    pub p: Vec<f64>,
    pub bins: ConfidenceBins,
}

/// Space-time Gi* for every bin (see the module documentation). `weights` are the spatial
/// neighbours of the locations (a unit is never its own neighbour there; it is added here).
pub fn space_time_gi_star(
    cube: &SpaceTimeCube,
    weights: &Weights,
    time_steps: usize,
    correction: Correction,
) -> Result<SpaceTimeGi, SpatialError> {
    let (locations, slices) = (cube.locations, cube.slices);
    if weights.len() != locations {
        return Err(SpatialError::LengthMismatch { values: locations, units: weights.len() });
    }
    let n = (locations * slices) as i128;
    if n < 2 {
        return Err(SpatialError::TooFew { statistic: "space-time Gi*", needed: 2, got: n as usize });
    }
    let sum: i128 = cube.counts.iter().map(|&v| v as i128).sum();
    let sum_sq: i128 = cube.counts.iter().map(|&v| v as i128 * v as i128).sum();
    let z: Vec<f64> = (0..locations)
        .into_par_iter()
        .with_min_len(256)
        .flat_map_iter(|i| {
            // spatial sums (the location and its neighbours) per slice
            let mut spatial: Vec<i128> = cube.series(i).iter().map(|&v| v as i128).collect();
            for &j in weights.neighbours(i) {
                for (acc, &v) in spatial.iter_mut().zip(cube.series(j as usize)) {
                    *acc += v as i128;
                }
            }
            let members = weights.cardinality(i) as i128 + 1;
            let mut window: i128 = 0;
            (0..slices)
                .map(|t| {
                    window += spatial[t];
                    if t > time_steps {
                        window -= spatial[t - time_steps - 1];
                    }
                    let span = (t.min(time_steps) + 1) as i128;
                    standardised(n, sum, sum_sq, window, members * span).unwrap_or(0.0)
                })
                .collect::<Vec<f64>>()
        })
        .collect();
    let p: Vec<f64> = z.par_iter().map(|&z| two_sided_normal_p(z)).collect();
    let bins = confidence_bins(&z, &p, correction)?;
    Ok(SpaceTimeGi { time_steps, z, p, bins })
}

/// A location's emerging hot or cold spot category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EmergingCategory {
    NewHotSpot,
    ConsecutiveHotSpot,
    IntensifyingHotSpot,
    PersistentHotSpot,
    DiminishingHotSpot,
    SporadicHotSpot,
    OscillatingHotSpot,
    HistoricalHotSpot,
    NewColdSpot,
    ConsecutiveColdSpot,
    IntensifyingColdSpot,
    PersistentColdSpot,
    DiminishingColdSpot,
    SporadicColdSpot,
    OscillatingColdSpot,
    HistoricalColdSpot,
    NoPattern,
}

impl EmergingCategory {
    /// Every category, hot spots first.
    pub const ALL: [EmergingCategory; 17] = [
        EmergingCategory::NewHotSpot,
        EmergingCategory::ConsecutiveHotSpot,
        EmergingCategory::IntensifyingHotSpot,
        EmergingCategory::PersistentHotSpot,
        EmergingCategory::DiminishingHotSpot,
        EmergingCategory::SporadicHotSpot,
        EmergingCategory::OscillatingHotSpot,
        EmergingCategory::HistoricalHotSpot,
        EmergingCategory::NewColdSpot,
        EmergingCategory::ConsecutiveColdSpot,
        EmergingCategory::IntensifyingColdSpot,
        EmergingCategory::PersistentColdSpot,
        EmergingCategory::DiminishingColdSpot,
        EmergingCategory::SporadicColdSpot,
        EmergingCategory::OscillatingColdSpot,
        EmergingCategory::HistoricalColdSpot,
        EmergingCategory::NoPattern,
    ];

    /// The machine name (`new-hot-spot`, …, `no-pattern`).
    pub fn name(self) -> &'static str {
        use EmergingCategory::*;
        match self {
            NewHotSpot => "new-hot-spot",
            ConsecutiveHotSpot => "consecutive-hot-spot",
            IntensifyingHotSpot => "intensifying-hot-spot",
            PersistentHotSpot => "persistent-hot-spot",
            DiminishingHotSpot => "diminishing-hot-spot",
            SporadicHotSpot => "sporadic-hot-spot",
            OscillatingHotSpot => "oscillating-hot-spot",
            HistoricalHotSpot => "historical-hot-spot",
            NewColdSpot => "new-cold-spot",
            ConsecutiveColdSpot => "consecutive-cold-spot",
            IntensifyingColdSpot => "intensifying-cold-spot",
            PersistentColdSpot => "persistent-cold-spot",
            DiminishingColdSpot => "diminishing-cold-spot",
            SporadicColdSpot => "sporadic-cold-spot",
            OscillatingColdSpot => "oscillating-cold-spot",
            HistoricalColdSpot => "historical-cold-spot",
            NoPattern => "no-pattern",
        }
    }

    /// The label analysts know ("New Hot Spot", …, "No Pattern Detected").
    pub fn label(self) -> &'static str {
        use EmergingCategory::*;
        match self {
            NewHotSpot => "New Hot Spot",
            ConsecutiveHotSpot => "Consecutive Hot Spot",
            IntensifyingHotSpot => "Intensifying Hot Spot",
            PersistentHotSpot => "Persistent Hot Spot",
            DiminishingHotSpot => "Diminishing Hot Spot",
            SporadicHotSpot => "Sporadic Hot Spot",
            OscillatingHotSpot => "Oscillating Hot Spot",
            HistoricalHotSpot => "Historical Hot Spot",
            NewColdSpot => "New Cold Spot",
            ConsecutiveColdSpot => "Consecutive Cold Spot",
            IntensifyingColdSpot => "Intensifying Cold Spot",
            PersistentColdSpot => "Persistent Cold Spot",
            DiminishingColdSpot => "Diminishing Cold Spot",
            SporadicColdSpot => "Sporadic Cold Spot",
            OscillatingColdSpot => "Oscillating Cold Spot",
            HistoricalColdSpot => "Historical Cold Spot",
            NoPattern => "No Pattern Detected",
        }
    }

    /// Parses a machine name.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.name() == text)
    }

    /// What the category means, in a sentence for the page (the definitions of the module
    /// documentation).
    pub fn definition(self) -> &'static str {
        use EmergingCategory::*;
        match self {
            NewHotSpot => "a significant hot spot in the final period, never one before",
            ConsecutiveHotSpot => {
                "a single unbroken run of at least two significant hot spot periods up to the final one, never hot \
                 before the run, and hot in under 90% of periods"
            }
            IntensifyingHotSpot => {
                "a significant hot spot in at least 90% of periods including the final one, with clustering getting \
                 significantly stronger over time"
            }
            PersistentHotSpot => {
                "a significant hot spot in at least 90% of periods including the final one, with no significant trend \
                 in the strength of clustering"
            }
            DiminishingHotSpot => {
                "a significant hot spot in at least 90% of periods including the final one, with clustering getting \
                 significantly weaker over time"
            }
            SporadicHotSpot => {
                "a significant hot spot in the final period that has been one on and off before, in under 90% of \
                 periods, and never a significant cold spot"
            }
            OscillatingHotSpot => {
                "a significant hot spot in the final period that was a significant cold spot in an earlier period, hot \
                 in under 90% of periods"
            }
            HistoricalHotSpot => {
                "not a hot spot in the final period, but a significant hot spot in at least 90% of periods"
            }
            NewColdSpot => "a significant cold spot in the final period, never one before",
            ConsecutiveColdSpot => {
                "a single unbroken run of at least two significant cold spot periods up to the final one, never cold \
                 before the run, and cold in under 90% of periods"
            }
            IntensifyingColdSpot => {
                "a significant cold spot in at least 90% of periods including the final one, with the clustering of \
                 low counts getting significantly stronger over time"
            }
            PersistentColdSpot => {
                "a significant cold spot in at least 90% of periods including the final one, with no significant \
                 trend"
            }
            DiminishingColdSpot => {
                "a significant cold spot in at least 90% of periods including the final one, with the clustering of \
                 low counts getting significantly weaker over time"
            }
            SporadicColdSpot => {
                "a significant cold spot in the final period that has been one on and off before, in under 90% of \
                 periods, and never a significant hot spot"
            }
            OscillatingColdSpot => {
                "a significant cold spot in the final period that was a significant hot spot in an earlier period, \
                 cold in under 90% of periods"
            }
            HistoricalColdSpot => {
                "not a cold spot in the final period, but a significant cold spot in at least 90% of periods"
            }
            NoPattern => "none of the hot or cold spot patterns",
        }
    }
}

/// Settings of an emerging hot spot analysis.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EmergingOptions {
    /// Preceding slices in each bin's neighbourhood (ArcGIS "neighborhood time step").
    pub time_steps: usize,
    /// The confidence at which a bin counts as a significant hot or cold spot.
    pub confidence: Confidence,
    /// Two-sided level of the Mann–Kendall trend test.
    pub trend_alpha: f64,
    pub correction: Correction,
}

impl Default for EmergingOptions {
    fn default() -> Self {
        Self { time_steps: 1, confidence: Confidence::Ninety, trend_alpha: 0.05, correction: Correction::Fdr }
    }
}

/// Which of the three pattern families a series shows, seen from one side (hot or cold).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pattern {
    New,
    Consecutive,
    Intensifying,
    Persistent,
    Diminishing,
    Sporadic,
    Oscillating,
    Historical,
}

/// The pattern of one side when the final slice is significant on that side. `this[t]`:
/// significant on this side; `other[t]`: on the other side; `rising`: the trend of the
/// z-scores in this side's direction (+1 stronger, −1 weaker, 0 none).
fn final_pattern(this: &[bool], other: &[bool], rising: i8) -> Pattern {
    let m = this.len();
    let count = this.iter().filter(|&&b| b).count();
    if 10 * count >= 9 * m {
        return match rising {
            1 => Pattern::Intensifying,
            -1 => Pattern::Diminishing,
            _ => Pattern::Persistent,
        };
    }
    if other.iter().any(|&b| b) {
        return Pattern::Oscillating;
    }
    if count == 1 {
        return Pattern::New;
    }
    let run = this.iter().rev().take_while(|&&b| b).count();
    if run == count {
        Pattern::Consecutive
    } else {
        Pattern::Sporadic
    }
}

fn hot(p: Pattern) -> EmergingCategory {
    use EmergingCategory::*;
    match p {
        Pattern::New => NewHotSpot,
        Pattern::Consecutive => ConsecutiveHotSpot,
        Pattern::Intensifying => IntensifyingHotSpot,
        Pattern::Persistent => PersistentHotSpot,
        Pattern::Diminishing => DiminishingHotSpot,
        Pattern::Sporadic => SporadicHotSpot,
        Pattern::Oscillating => OscillatingHotSpot,
        Pattern::Historical => HistoricalHotSpot,
    }
}

fn cold(p: Pattern) -> EmergingCategory {
    use EmergingCategory::*;
    match p {
        Pattern::New => NewColdSpot,
        Pattern::Consecutive => ConsecutiveColdSpot,
        Pattern::Intensifying => IntensifyingColdSpot,
        Pattern::Persistent => PersistentColdSpot,
        Pattern::Diminishing => DiminishingColdSpot,
        Pattern::Sporadic => SporadicColdSpot,
        Pattern::Oscillating => OscillatingColdSpot,
        Pattern::Historical => HistoricalColdSpot,
    }
}

/// The category of one location from its bins over the slices (in time order) and the
/// Mann–Kendall trend of its Gi* z-scores (see the module documentation for the rules).
pub fn classify_emerging(bins: &[i8], trend: &MannKendall, opts: &EmergingOptions) -> EmergingCategory {
    let level = opts.confidence.bin();
    let is_hot: Vec<bool> = bins.iter().map(|&b| b >= level).collect();
    let is_cold: Vec<bool> = bins.iter().map(|&b| b <= -level).collect();
    let m = bins.len();
    if m == 0 {
        return EmergingCategory::NoPattern;
    }
    let direction = trend.direction(opts.trend_alpha);
    if is_hot[m - 1] {
        return hot(final_pattern(&is_hot, &is_cold, direction));
    }
    if is_cold[m - 1] {
        // for a cold spot, clustering of low counts strengthens as z falls
        return cold(final_pattern(&is_cold, &is_hot, -direction));
    }
    let ninety = |flags: &[bool]| 10 * flags.iter().filter(|&&b| b).count() >= 9 * m;
    if ninety(&is_hot) {
        return hot(Pattern::Historical);
    }
    if ninety(&is_cold) {
        return cold(Pattern::Historical);
    }
    EmergingCategory::NoPattern
}

/// One location's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EmergingLocation {
    pub category: EmergingCategory,
    /// Slices in which the location is a significant hot (cold) spot.
    pub hot_slices: usize,
    pub cold_slices: usize,
    /// Mann–Kendall trend of the Gi* z-scores.
    pub trend: MannKendall,
    /// Mann–Kendall trend of the counts.
    pub count_trend: MannKendall,
}

/// An emerging hot spot analysis of a cube.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EmergingHotSpots {
    pub options: EmergingOptions,
    pub locations: usize,
    pub slices: usize,
    /// Always [`Inference::Normal`]: the ArcGIS convention.
    pub inference: Inference,
    pub gi: SpaceTimeGi,
    /// One per location, in the cube's order.
    pub results: Vec<EmergingLocation>,
    /// Notes for the page (e.g. a short series).
    pub notes: Vec<String>,
}

impl EmergingHotSpots {
    /// How many locations fall in each category (categories with none left out), in the
    /// order of [`EmergingCategory::ALL`].
    pub fn tally(&self) -> Vec<(EmergingCategory, usize)> {
        EmergingCategory::ALL
            .into_iter()
            .map(|c| (c, self.results.iter().filter(|r| r.category == c).count()))
            .filter(|&(_, n)| n > 0)
            .collect()
    }
}

/// Emerging hot spot analysis: space-time Gi*, Mann–Kendall per location, categories. Needs
/// at least 2 slices (ArcGIS asks for 10; fewer are allowed here with a note).
pub fn emerging_hot_spots(
    cube: &SpaceTimeCube,
    weights: &Weights,
    opts: &EmergingOptions,
) -> Result<EmergingHotSpots, SpatialError> {
    if cube.slices < 2 {
        return Err(SpatialError::TooFew {
            statistic: "emerging hot spot analysis (slices)",
            needed: 2,
            got: cube.slices,
        });
    }
    if !(opts.trend_alpha > 0.0 && opts.trend_alpha < 1.0) {
        return Err(super::bad("trend alpha", format!("{} is not strictly between 0 and 1", opts.trend_alpha)));
    }
    let gi = space_time_gi_star(cube, weights, opts.time_steps, opts.correction)?;
    let m = cube.slices;
    let level = opts.confidence.bin();
    let results: Vec<EmergingLocation> = (0..cube.locations)
        .into_par_iter()
        .with_min_len(256)
        .map(|i| {
            let bins = &gi.bins.bins[i * m..(i + 1) * m];
            let trend = mann_kendall_test(&gi.z[i * m..(i + 1) * m]);
            EmergingLocation {
                category: classify_emerging(bins, &trend, opts),
                hot_slices: bins.iter().filter(|&&b| b >= level).count(),
                cold_slices: bins.iter().filter(|&&b| b <= -level).count(),
                trend,
                count_trend: mann_kendall_counts(cube.series(i)),
            }
        })
        .collect();
    let mut notes = Vec::new();
    if m < 10 {
        notes.push(format!(
            "only {m} time slices: trends over fewer than 10 slices are weak evidence (ArcGIS asks for at least 10)"
        ));
    }
    Ok(EmergingHotSpots {
        options: *opts,
        locations: cube.locations,
        slices: m,
        inference: Inference::Normal,
        gi,
        results,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use EmergingCategory::*;

    fn no_trend() -> MannKendall {
        MannKendall::NONE
    }

    fn trend(z: f64) -> MannKendall {
        MannKendall { s: 0, variance: 1.0, z, p: two_sided_normal_p(z), tau: 0.0 }
    }

    /// Bins from a pattern string: `H` hot (+2), `h` hot at 90 % (+1), `C` cold (−2), `.` not significant.
    fn bins(pattern: &str) -> Vec<i8> {
        pattern
            .chars()
            .map(|c| match c {
                'H' => 2,
                'h' => 1,
                'C' => -2,
                'c' => -1,
                _ => 0,
            })
            .collect()
    }

    fn class(pattern: &str, t: MannKendall) -> EmergingCategory {
        classify_emerging(&bins(pattern), &t, &EmergingOptions::default())
    }

    // Each category from a hand-made series of 10 slices (90 % of 10 = 9 slices).

    #[test]
    fn new_hot_and_cold_spots() {
        assert_eq!(class(".........H", no_trend()), NewHotSpot);
        assert_eq!(class(".........C", no_trend()), NewColdSpot);
    }

    #[test]
    fn consecutive_needs_one_final_run_of_at_least_two() {
        assert_eq!(class(".......HHH", no_trend()), ConsecutiveHotSpot);
        assert_eq!(class("........CC", no_trend()), ConsecutiveColdSpot);
        // a hot slice before the run: sporadic, not consecutive
        assert_eq!(class("H......HHH", no_trend()), SporadicHotSpot);
        // eight final hot slices are 80 %: still consecutive
        assert_eq!(class("..HHHHHHHH", no_trend()), ConsecutiveHotSpot);
    }

    #[test]
    fn ninety_percent_with_and_without_a_trend() {
        // 9 of 10 hot including the final: 10·9 ≥ 9·10
        assert_eq!(class(".HHHHHHHHH", no_trend()), PersistentHotSpot);
        assert_eq!(class(".HHHHHHHHH", trend(2.5)), IntensifyingHotSpot);
        assert_eq!(class(".HHHHHHHHH", trend(-2.5)), DiminishingHotSpot);
        // a trend that is not significant (p = 0.11 > 0.05) is no trend
        assert_eq!(class("HHHHHHHHHH", trend(1.6)), PersistentHotSpot);
        // cold spots: falling z strengthens the clustering of low counts
        assert_eq!(class("CCCCCCCCCC", trend(-2.5)), IntensifyingColdSpot);
        assert_eq!(class("CCCCCCCCCC", trend(2.5)), DiminishingColdSpot);
        assert_eq!(class("CCCCCCCCC.", no_trend()), HistoricalColdSpot);
    }

    #[test]
    fn historical_when_the_final_slice_is_not_hot() {
        assert_eq!(class("HHHHHHHHH.", no_trend()), HistoricalHotSpot);
        // 8 of 10 hot and not hot at the end: no pattern
        assert_eq!(class("HHHHHHHH..", no_trend()), NoPattern);
    }

    #[test]
    fn sporadic_and_oscillating() {
        assert_eq!(class("H..H.H...H", no_trend()), SporadicHotSpot);
        assert_eq!(class("C..C.C...C", no_trend()), SporadicColdSpot);
        // a cold spot earlier makes a final hot spot oscillating, even a first-time one
        assert_eq!(class("C.H......H", no_trend()), OscillatingHotSpot);
        assert_eq!(class("C........H", no_trend()), OscillatingHotSpot);
        assert_eq!(class("..H......C", no_trend()), OscillatingColdSpot);
    }

    #[test]
    fn precedence_favours_the_final_slice() {
        // hot in 9 of 10 slices, cold in the final one: an oscillating cold spot, not a
        // historical hot spot
        assert_eq!(class("HHHHHHHHHC", no_trend()), OscillatingColdSpot);
        assert_eq!(class("..........", no_trend()), NoPattern);
        assert_eq!(classify_emerging(&[], &no_trend(), &EmergingOptions::default()), NoPattern);
    }

    #[test]
    fn the_confidence_level_decides_what_counts_as_hot() {
        // 'h' bins are 90 % only: hot at the default level, not at 95 %
        let at_95 = EmergingOptions { confidence: Confidence::NinetyFive, ..Default::default() };
        assert_eq!(class(".........h", no_trend()), NewHotSpot);
        assert_eq!(classify_emerging(&bins(".........h"), &no_trend(), &at_95), NoPattern);
        assert_eq!(classify_emerging(&bins(".......hHH"), &no_trend(), &at_95), ConsecutiveHotSpot);
    }

    #[test]
    fn names_round_trip() {
        for c in EmergingCategory::ALL {
            assert_eq!(EmergingCategory::parse(c.name()), Some(c));
            assert_eq!(serde_json::to_value(c).unwrap(), serde_json::Value::String(c.name().into()));
            assert!(!c.definition().is_empty());
        }
        assert_eq!(EmergingCategory::parse("hot"), None);
    }

    /// Three locations in a row (0 – 1 – 2, rook neighbours) over three slices, counts
    /// ```text
    ///            t=0 t=1 t=2
    /// location 0:  1   0   2
    /// location 1:  3   1   0
    /// location 2:  0   4   1
    /// ```
    /// n = 9, Σx = 12, Σx² = 1+0+4+9+1+0+0+16+1 = 32. With k = 1, bin (1, 1) has the three
    /// locations in slices 0 and 1: sum 1+3+0+0+1+4 = 9, W = 6;
    /// z = (9·9 − 12·6) / (√(9·32 − 144) · √(6·3/8)) = 9 / (12 · 1.5) = 0.5.
    /// Bin (0, 0): locations 0 and 1 in slice 0: sum 4, W = 2;
    /// z = (36 − 24) / (12 · √(2·7/8)) = 12 / (12·√1.75) = 0.755928946…
    /// Bin (2, 2): locations 1 and 2 in slices 1 and 2: sum 1+4+0+1 = 6, W = 4;
    /// z = (54 − 48) / (12 · √(4·5/8)) = 6 / (12·√2.5) = 0.316227766…
    #[test]
    fn space_time_gi_star_by_hand() {
        let cube = SpaceTimeCube::new(3, 3, vec![1, 0, 2, 3, 1, 0, 0, 4, 1]).unwrap();
        let w = Weights::from_neighbours(&[vec![1], vec![0, 2], vec![1]]).unwrap();
        let gi = space_time_gi_star(&cube, &w, 1, Correction::Fdr).unwrap();
        assert!((gi.z[3 + 1] - 0.5).abs() < 1e-12, "{}", gi.z[4]);
        assert!((gi.z[0] - 12.0 / (12.0 * 1.75_f64.sqrt())).abs() < 1e-12);
        assert!((gi.z[2 * 3 + 2] - 6.0 / (12.0 * 2.5_f64.sqrt())).abs() < 1e-12);
        assert!(gi.bins.bins.iter().all(|&b| b == 0));
        // k = 0 is Gi* within each slice over the whole cube's mean and variance: bin (1, 1)
        // has locations 0, 1, 2 in slice 1: sum 5, W = 3; z = (45 − 36)/(12·√(3·6/8)) = 0.5
        let gi0 = space_time_gi_star(&cube, &w, 0, Correction::Fdr).unwrap();
        assert!((gi0.z[4] - 0.5).abs() < 1e-12);
        // a large k covers the whole history: bin (1, 2) has all 9 bins, W = n: z undefined → 0
        let gi9 = space_time_gi_star(&cube, &w, 9, Correction::Fdr).unwrap();
        assert_eq!(gi9.z[5], 0.0);
        assert!(space_time_gi_star(&cube, &Weights::from_neighbours(&[vec![]]).unwrap(), 1, Correction::Fdr).is_err());
    }

    #[test]
    fn slices_are_counted_back_from_the_last_month() {
        let m = |t: &str| t.parse::<Month>().unwrap();
        let period = MonthRange::new(m("2022-07"), m("2024-06")).unwrap();
        let months = TimeSlices::new(period, SliceLength::Month).unwrap();
        assert_eq!((months.slices, months.left_out), (24, 0));
        assert_eq!(months.slice_of(m("2022-07")), Some(0));
        assert_eq!(months.slice_of(m("2024-06")), Some(23));
        assert_eq!(months.slice_of(m("2024-07")), None);
        assert_eq!(months.label(23), "2024-06");
        // 14 months in quarters: 4 quarters ending 2025-12, the first two months left out
        let period = MonthRange::new(m("2024-11"), m("2025-12")).unwrap();
        let q = TimeSlices::new(period, SliceLength::Quarter).unwrap();
        assert_eq!((q.slices, q.left_out, q.first), (4, 2, m("2025-01")));
        assert_eq!(q.slice_of(m("2024-12")), None);
        assert_eq!(q.slice_of(m("2025-03")), Some(0));
        assert_eq!(q.slice_of(m("2025-10")), Some(3));
        assert_eq!(q.label(3), "2025-10..2025-12");
        let short = MonthRange::new(m("2025-01"), m("2025-02")).unwrap();
        assert!(TimeSlices::new(short, SliceLength::Quarter).is_err());
    }

    #[test]
    fn events_are_counted_into_the_cube() {
        let grid = GridSpec::new(0.0, 0.0, 10.0, 2, 1).unwrap();
        let cells = grid.all_cells();
        let points = [(1.0, 1.0), (15.0, 1.0), (15.0, 2.0), (25.0, 1.0), (5.0, 5.0)];
        let slices = [Some(0), Some(1), Some(1), Some(0), None];
        let (cube, skipped) = SpaceTimeCube::count(&grid, &cells, &points, &slices, 2).unwrap();
        assert_eq!(cube.series(0), &[1, 0]);
        assert_eq!(cube.series(1), &[0, 2]);
        assert_eq!(skipped, 2);
        assert!(SpaceTimeCube::count(&grid, &cells, &points, &slices[..2], 2).is_err());
        assert!(SpaceTimeCube::new(2, 2, vec![1, 2, 3]).is_err());
    }

    /// A 9 × 9 grid (queen contiguity) over 12 months, one event per cell and month, plus
    /// two 3 × 3 blocks: around (6, 6) a busy block with 4 + t events per cell in month t
    /// (rising), around (2, 2) a block with 8 events per cell from month 9 on (emerging).
    /// An independent numpy computation of the same definitions (space-time Gi*, k = 1,
    /// Benjamini–Hochberg over the 972 bins) gives the centre of the rising block
    /// z = 1.83, 3.29, 4.69, … 17.24 (hot from month 1: 11 of 12 slices, z rising every
    /// month, so S = 66 and p ≈ 1e-5), and the centre of the emerging block z ≈ −1.6 until
    /// month 8, then 3.29, 8.18, 8.18 (hot in the last 3 slices only); a far corner stays
    /// at z ≈ −1.
    #[test]
    fn a_synthetic_cube_shows_the_patterns_it_was_built_with() {
        let grid = GridSpec::new(0.0, 0.0, 100.0, 9, 9).unwrap();
        let cells = grid.all_cells();
        let w = Weights::contiguity(&cells, super::super::Contiguity::Queen).unwrap();
        let m = 12;
        let mut counts = vec![1_i64; cells.len() * m];
        let block = |cx: usize, cy: usize| {
            (0..3).flat_map(move |dy| (0..3).map(move |dx| grid.index(Cell { ix: cx + dx - 1, iy: cy + dy - 1 })))
        };
        for t in 0..m {
            for c in block(6, 6) {
                counts[c * m + t] = 4 + t as i64;
            }
            if t >= 9 {
                for c in block(2, 2) {
                    counts[c * m + t] = 8;
                }
            }
        }
        let emerging = grid.index(Cell { ix: 2, iy: 2 });
        let rising = grid.index(Cell { ix: 6, iy: 6 });
        let cube = SpaceTimeCube::new(cells.len(), m, counts).unwrap();
        let r = emerging_hot_spots(&cube, &w, &EmergingOptions::default()).unwrap();
        assert_eq!(r.results[rising].category, IntensifyingHotSpot, "{:?}", r.results[rising]);
        assert_eq!(r.results[rising].hot_slices, 11);
        assert_eq!(r.results[rising].trend.s, 66);
        assert!((r.gi.z[rising * m + 1] - 3.29).abs() < 0.01, "{}", r.gi.z[rising * m + 1]);
        // counts 4..15 rise every month: S = 66 for the counts too
        assert_eq!(r.results[rising].count_trend.s, 66);
        assert_eq!(r.results[emerging].category, ConsecutiveHotSpot, "{:?}", r.results[emerging]);
        assert_eq!(r.results[emerging].hot_slices, 3);
        // a far corner stays unremarkable
        assert_eq!(r.results[grid.index(Cell { ix: 0, iy: 8 })].category, NoPattern);
        let tally = r.tally();
        assert_eq!(tally.iter().map(|&(_, n)| n).sum::<usize>(), 81);
        assert!(r.notes.is_empty());
        let short = SpaceTimeCube::new(1, 1, vec![1]).unwrap();
        assert!(emerging_hot_spots(&short, &Weights::from_neighbours(&[vec![]]).unwrap(), &EmergingOptions::default())
            .is_err());
    }
}
