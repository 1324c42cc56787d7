//! Intervention evaluation: did crime fall in the target area beyond the trend and the
//! comparison area, and did it move next door?
//!
//! The caller does the spatial selection (which crimes fall in the target, the buffer
//! ring and the comparison area) and passes plain counts and monthly series in an
//! [`EvaluationInput`]; [`evaluate`] returns every statistic with its value, interval,
//! test and the counts it came from, plus a plain-English [`verdict::Verdict`].
//!
//! The statistics, each in its own module with its citation:
//! - [`change`]: counts and percentage change per area with rate-ratio intervals
//!   ([`crate::analytics::poisson`]), the E-test of the change, and the relative effect
//!   size (Farrington & Welsh) of target against comparison;
//! - [`wdd`]: the Weighted Displacement Difference test (Wheeler & Ratcliffe 2018);
//! - [`wdq`]: the Weighted Displacement Quotient and total net effect (Bowers & Johnson 2003);
//! - [`trend`]: difference in differences on monthly series, the pre-trend check and
//!   the regression-to-the-mean flag;
//! - [`dispersion`]: the overdispersion check of the before period's monthly counts, and
//!   the quasi-Poisson widening of the rate-ratio intervals when they vary more than
//!   Poisson counts;
//! - [`harm`]: harm-weighted counts;
//! - [`verdict`]: the wording for a Board.
//!
//! Conventions: periods are month ranges; when the before and after periods differ in
//! length every comparison is of monthly rates (the WDD puts before counts on the after
//! period's length). Percentage changes are `100·(after rate / before rate − 1)`.

pub mod areas;
pub mod change;
pub mod dispersion;
pub mod harm;
pub mod roles;
pub mod trend;
pub mod verdict;
pub mod wdd;
pub mod wdq;

use serde::{Deserialize, Serialize};

use crate::analytics::poisson::{ConfidenceLevel, PoissonError, RateRatioMethod};
use crate::domain::{Month, MonthRange};

pub use change::{AreaChange, BeforeAfter, PeriodLengths, RelativeEffect, RelativeEffectUndefined};
pub use dispersion::{Dispersion, DispersionUndefined, MeanModel};
pub use harm::{CategoryCounts, HarmWeight, HarmWeightedResult, HARM_WEIGHTING_CAVEAT};
pub use roles::{AreaRole, Areas};
pub use trend::{DifferenceInDifferences, PreTrendCheck, RegressionToTheMeanCheck, SeriesUndefined};
pub use verdict::{Caveat, DisplacementFinding, EffectFinding, Verdict};
pub use wdd::WeightedDisplacementDifference;
pub use wdq::{WdqUndefined, WdqValue};

/// Why an evaluation could not be run: the input is inconsistent.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EvaluationError {
    #[error("the {period} period ends ({to}) before it starts ({from})")]
    EmptyPeriod { period: Period, from: Month, to: Month },
    #[error("the after period must start after the before period ends (before ends {before_ends}, after starts {after_starts})")]
    PeriodsOverlap { before_ends: Month, after_starts: Month },
    #[error("the monthly series lists {month} more than once")]
    DuplicateMonth { month: Month },
    #[error("the monthly series has no row for {month}, which is in the {period} period")]
    MonthMissing { month: Month, period: Period },
    #[error("the {area} count for the {period} period is {count}, but its monthly series sums to {monthly}")]
    MonthlySeriesDisagrees { area: AreaRole, period: Period, count: u64, monthly: u64 },
    #[error("no harm weight is given for the crime category {category:?}")]
    MissingHarmWeight { category: String },
    #[error("the harm weight for {category:?} must be a non-negative number (got {weight})")]
    InvalidHarmWeight { category: String, weight: f64 },
    #[error(transparent)]
    Poisson(#[from] PoissonError),
}

/// The before or after period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    Before,
    After,
}

impl std::fmt::Display for Period {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Period::Before => "before",
            Period::After => "after",
        })
    }
}

/// One month's recorded crimes in each area (areas the evaluation does not use are `None`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthlyCounts {
    pub month: Month,
    #[serde(flatten)]
    pub counts: Areas<u64>,
}

/// How the areas are named in the verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AreaLabels {
    /// What is counted, capitalised for the start of a sentence ("Recorded crime").
    pub measure: String,
    /// The target, as in "in the {target}" ("target area", "hotspot parks").
    pub target: String,
    /// The comparison, as in "in the {comparison}".
    pub comparison: String,
    /// The buffer ring's width in metres, for "the surrounding 200 m".
    pub buffer_metres: Option<f64>,
}

impl AreaLabels {
    /// An area as the verdict names it: the target's and the comparison's own labels, else its role.
    pub fn name(&self, role: AreaRole) -> String {
        match role {
            AreaRole::Target => self.target.clone(),
            AreaRole::Comparison => self.comparison.clone(),
            other => other.to_string(),
        }
    }
}

impl Default for AreaLabels {
    fn default() -> Self {
        AreaLabels {
            measure: "Recorded crime".to_string(),
            target: "target area".to_string(),
            comparison: "comparison area".to_string(),
            buffer_metres: None,
        }
    }
}

/// Harm weights and per-category counts for the harm-weighted figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HarmInput {
    pub weights: Vec<HarmWeight>,
    pub categories: Vec<CategoryCounts>,
}

/// Everything an evaluation needs, as plain numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvaluationInput {
    pub before: MonthRange,
    pub after: MonthRange,
    /// Each area's counts; the comparison buffer (the comparison area's own buffer ring) is
    /// the control for displacement.
    #[serde(flatten)]
    pub counts: Areas<BeforeAfter>,
    /// Monthly counts covering at least the before and after periods; months before the
    /// before period are the history used by the regression-to-the-mean check, months
    /// between the periods (an implementation gap) are ignored. Empty for none.
    #[serde(default)]
    pub monthly: Vec<MonthlyCounts>,
    #[serde(default)]
    pub harm: Option<HarmInput>,
    #[serde(default)]
    pub labels: AreaLabels,
    /// Two-sided confidence level (default 0.95).
    #[serde(default = "default_level")]
    pub confidence_level: f64,
    /// The analyst chose the target because its crime was high (adds the RTM caveat).
    #[serde(default)]
    pub selected_for_high_crime: bool,
}

fn default_level() -> f64 {
    0.95
}

impl EvaluationInput {
    /// An input with only the target's counts; set the other fields as needed.
    pub fn new(before: MonthRange, after: MonthRange, target: BeforeAfter) -> EvaluationInput {
        EvaluationInput {
            before,
            after,
            counts: Areas::target_only(target),
            monthly: Vec::new(),
            harm: None,
            labels: AreaLabels::default(),
            confidence_level: default_level(),
            selected_for_high_crime: false,
        }
    }

    /// An input whose before/after counts are the sums of a monthly series. An area is
    /// included when every month gives a count for it.
    pub fn from_monthly(before: MonthRange, after: MonthRange, monthly: Vec<MonthlyCounts>) -> EvaluationInput {
        let counts = if monthly.is_empty() {
            Areas::target_only(BeforeAfter::new(0, 0))
        } else {
            let by_month = Areas::columns(monthly.iter().map(|row| row.counts.map(|count| (row.month, count))));
            by_month.map(|column| {
                let sum = |range: MonthRange| column.iter().filter(|(m, _)| range.contains(*m)).map(|(_, c)| c).sum();
                BeforeAfter::new(sum(before), sum(after))
            })
        };
        EvaluationInput { counts, monthly, ..EvaluationInput::new(before, after, BeforeAfter::new(0, 0)) }
    }
}

/// Why a statistic is not reported, in words a reader of the report understands: every
/// reason type (a statistic's `…Undefined`, and [`Inapplicable`]) says it, so no report
/// shows a reason's field names or JSON.
pub trait NotReportedReason {
    /// The reason as a clause to follow "because" or "not reported:": lower case, no full
    /// stop ("the target area did not improve …").
    fn explanation(&self) -> String;

    /// The reason as a sentence: the explanation with a capital and a full stop.
    fn sentence(&self) -> String {
        sentence(&self.explanation())
    }
}

/// `clause` as a sentence: its first letter capitalised and a full stop added.
pub fn sentence(clause: &str) -> String {
    let mut chars = clause.chars();
    match chars.next() {
        Some(first) => format!("{}{}.", first.to_uppercase(), chars.as_str()),
        None => String::new(),
    }
}

/// Why a statistic does not apply to this design: an area or series it needs is not part
/// of the evaluation. Serialised as the short phrase it always had (`"no comparison area"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inapplicable {
    NoComparisonArea,
    NoBufferArea,
    NoMonthlySeries,
    /// The monthly series gives no comparison counts.
    SeriesWithoutComparison,
    /// The monthly series gives no counts for the area in question.
    SeriesWithoutArea,
}

impl Inapplicable {
    /// The short phrase of the JSON form (`because`).
    pub fn as_str(self) -> &'static str {
        match self {
            Inapplicable::NoComparisonArea => "no comparison area",
            Inapplicable::NoBufferArea => "no buffer area",
            Inapplicable::NoMonthlySeries => "no monthly series",
            Inapplicable::SeriesWithoutComparison => "the monthly series has no comparison counts",
            Inapplicable::SeriesWithoutArea => "the monthly series has no counts for this area",
        }
    }
}

impl std::fmt::Display for Inapplicable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Inapplicable {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl NotReportedReason for Inapplicable {
    fn explanation(&self) -> String {
        match self {
            Inapplicable::NoComparisonArea => "the evaluation has no comparison area to measure against",
            Inapplicable::NoBufferArea => "the evaluation has no buffer ring around the target",
            Inapplicable::NoMonthlySeries => "the evaluation has no monthly series of counts",
            Inapplicable::SeriesWithoutComparison => "the monthly series has no counts for the comparison area",
            Inapplicable::SeriesWithoutArea => "the monthly series has no counts for this area",
        }
        .to_string()
    }
}

/// A statistic that is reported, not defined for these counts, or not applicable to this
/// design (e.g. no comparison area).
///
/// Its JSON form is `{"status": "defined", "value": …}`, `{"status": "not_defined",
/// "reason": {"reason": "no_success_in_target", …its figures}, "explanation": "…"}` or
/// `{"status": "not_applicable", "because": "no comparison area", "explanation": "…"}`: the
/// reason as structured fields for a program and as a sentence for a person.
#[derive(Debug, Clone, PartialEq)]
pub enum Reported<T, R> {
    Defined { value: T },
    NotDefined { reason: R },
    NotApplicable { because: Inapplicable },
}

impl<T, R: NotReportedReason> Reported<T, R> {
    /// Why the statistic is not reported, as a sentence; `None` when it is.
    pub fn explanation(&self) -> Option<String> {
        match self {
            Reported::Defined { .. } => None,
            Reported::NotDefined { reason } => Some(reason.sentence()),
            Reported::NotApplicable { because } => Some(because.sentence()),
        }
    }
}

impl<T: Serialize, R: Serialize + NotReportedReason> Serialize for Reported<T, R> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(if matches!(self, Reported::Defined { .. }) { 2 } else { 3 }))?;
        match self {
            Reported::Defined { value } => {
                map.serialize_entry("status", "defined")?;
                map.serialize_entry("value", value)?;
            }
            Reported::NotDefined { reason } => {
                map.serialize_entry("status", "not_defined")?;
                map.serialize_entry("reason", reason)?;
                map.serialize_entry("explanation", &reason.sentence())?;
            }
            Reported::NotApplicable { because } => {
                map.serialize_entry("status", "not_applicable")?;
                map.serialize_entry("because", because)?;
                map.serialize_entry("explanation", &because.sentence())?;
            }
        }
        map.end()
    }
}

impl<T, R> Reported<T, R> {
    pub fn value(&self) -> Option<&T> {
        match self {
            Reported::Defined { value } => Some(value),
            _ => None,
        }
    }

    fn from_result(result: Result<T, R>) -> Reported<T, R> {
        match result {
            Ok(value) => Reported::Defined { value },
            Err(reason) => Reported::NotDefined { reason },
        }
    }

    fn not_applicable(because: Inapplicable) -> Reported<T, R> {
        Reported::NotApplicable { because }
    }
}

/// The periods compared.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct EvaluationPeriods {
    pub before: MonthRange,
    pub after: MonthRange,
    pub lengths: PeriodLengths,
    pub unequal_lengths: bool,
}

/// The overdispersion check of each area used: its before period's monthly counts against
/// a trend or constant mean (`None`: the area is not part of the evaluation).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OverdispersionCheck {
    #[serde(flatten)]
    pub areas: Areas<Reported<Dispersion, DispersionUndefined>>,
    /// Whether any interval was widened (some area's `φ > 1`).
    pub intervals_widened: bool,
}

impl OverdispersionCheck {
    /// Each area's `φ` for scaling variances (1 when not estimated or not above 1).
    pub fn phis(&self) -> Areas<f64> {
        self.areas.as_ref().map(|area| area.value().map_or(1.0, |d| d.phi.max(1.0)))
    }
}

/// Every statistic of an evaluation, named, with its value, interval, test and counts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvaluationResult {
    pub periods: EvaluationPeriods,
    pub confidence_level: ConfidenceLevel,
    /// The rate-ratio interval method used for every percentage change.
    pub rate_ratio_method: RateRatioMethod,
    /// The overdispersion check; when an area's `φ > 1` its rate-ratio interval and the
    /// relative effects it enters are widened (quasi-Poisson), and the verdict says so.
    pub overdispersion: OverdispersionCheck,
    /// The change in each area.
    pub areas: Areas<AreaChange>,
    /// Target against comparison (Farrington & Welsh relative effect size).
    pub relative_effect: Reported<RelativeEffect, RelativeEffectUndefined>,
    /// Buffer against the comparison buffer (or, without one, the comparison area):
    /// RES below 1 means the buffer fared worse than its control, i.e. displacement.
    pub buffer_relative_effect: Reported<RelativeEffect, RelativeEffectUndefined>,
    pub weighted_displacement_difference: WeightedDisplacementDifference,
    pub weighted_displacement_quotient: Reported<WdqValue, WdqUndefined>,
    pub difference_in_differences: Reported<DifferenceInDifferences, SeriesUndefined>,
    pub pre_trend: Reported<PreTrendCheck, SeriesUndefined>,
    pub regression_to_the_mean: RegressionToTheMeanCheck,
    pub harm_weighted: Option<HarmWeightedResult>,
    pub verdict: Verdict,
}

/// Runs every statistic the input supports and writes the verdict.
pub fn evaluate(input: &EvaluationInput) -> Result<EvaluationResult, EvaluationError> {
    let level = ConfidenceLevel::new(input.confidence_level)?;
    let method = RateRatioMethod::default();
    check_periods(input)?;
    let lengths = PeriodLengths { before_months: input.before.len() as f64, after_months: input.after.len() as f64 };
    let series = MonthlyView::new(input)?;

    let overdispersion = overdispersion_check(input, series.as_ref());
    // Each area's counts with its φ.
    let scaled = input.counts.zip(overdispersion.phis());
    let change = |counts: BeforeAfter, phi: f64| -> Result<AreaChange, EvaluationError> {
        let mut c = change::area_change(counts, lengths, level, method)?;
        if phi > 1.0 {
            c.change.rate_ratio = dispersion::widen_rate_ratio(&c.change.rate_ratio, phi.sqrt());
            c.change.interval = c.change.rate_ratio.interval.map(crate::analytics::poisson::ratio_to_percent);
        }
        Ok(c)
    };
    let areas = scaled.try_map(|(counts, phi)| change(counts, phi))?;

    // Scaled relative effect of one area (with its φ) against its control.
    let relative = |(area, phi_area): (BeforeAfter, f64), (control, phi_control): (BeforeAfter, f64)| {
        Reported::from_result(change::relative_effect_scaled(area, control, level, phi_area, phi_control))
    };
    let relative_effect = match scaled.comparison {
        Some(comparison) => relative(scaled.target, comparison),
        None => Reported::not_applicable(Inapplicable::NoComparisonArea),
    };
    let buffer_relative_effect = match (scaled.buffer, scaled.comparison_buffer.or(scaled.comparison)) {
        (Some(buffer), Some(control)) => relative(buffer, control),
        (None, _) => Reported::not_applicable(Inapplicable::NoBufferArea),
        (Some(_), None) => Reported::not_applicable(Inapplicable::NoComparisonArea),
    };
    let weighted_displacement_difference = wdd::weighted_displacement_difference(input.counts, lengths, level);
    let weighted_displacement_quotient = match (input.counts.buffer, input.counts.comparison) {
        (Some(buffer), Some(comparison)) => {
            Reported::from_result(wdq::weighted_displacement_quotient(input.counts.target, buffer, comparison))
        }
        (None, _) => Reported::not_applicable(Inapplicable::NoBufferArea),
        (_, None) => Reported::not_applicable(Inapplicable::NoComparisonArea),
    };

    let (difference_in_differences, pre_trend) = match (&series, input.counts.comparison) {
        (Some(series), Some(_)) => match (&series.before.comparison, &series.after.comparison) {
            (Some(cb), Some(ca)) => (
                Reported::from_result(trend::difference_in_differences(
                    &series.before.target,
                    &series.after.target,
                    cb,
                    ca,
                    level,
                )),
                Reported::from_result(trend::pre_trend_check(&series.before.target, cb)),
            ),
            _ => (
                Reported::not_applicable(Inapplicable::SeriesWithoutComparison),
                Reported::not_applicable(Inapplicable::SeriesWithoutComparison),
            ),
        },
        (None, _) => (
            Reported::not_applicable(Inapplicable::NoMonthlySeries),
            Reported::not_applicable(Inapplicable::NoMonthlySeries),
        ),
        (_, None) => (
            Reported::not_applicable(Inapplicable::NoComparisonArea),
            Reported::not_applicable(Inapplicable::NoComparisonArea),
        ),
    };
    let regression_to_the_mean = match &series {
        Some(series) => {
            trend::regression_to_the_mean(&series.history, &series.before_pairs, input.selected_for_high_crime)
        }
        None => trend::regression_to_the_mean(&[], &[], input.selected_for_high_crime),
    };
    let harm_weighted = input
        .harm
        .as_ref()
        .map(|harm| harm::harm_weighted(&harm.weights, &harm.categories, lengths, level))
        .transpose()?;

    let mut result = EvaluationResult {
        periods: EvaluationPeriods {
            before: input.before,
            after: input.after,
            lengths,
            unequal_lengths: lengths.unequal(),
        },
        confidence_level: level,
        rate_ratio_method: method,
        overdispersion,
        areas,
        relative_effect,
        buffer_relative_effect,
        weighted_displacement_difference,
        weighted_displacement_quotient,
        difference_in_differences,
        pre_trend,
        regression_to_the_mean,
        harm_weighted,
        verdict: Verdict::empty(),
    };
    result.verdict = verdict::verdict(&result, &input.labels);
    Ok(result)
}

/// The dispersion of each used area's before-period monthly counts.
fn overdispersion_check(input: &EvaluationInput, series: Option<&MonthlyView>) -> OverdispersionCheck {
    let areas = input.counts.map_roles(|role, _| match series.map(|s| s.before.get(role)) {
        None => Reported::not_applicable(Inapplicable::NoMonthlySeries),
        Some(None) => Reported::not_applicable(Inapplicable::SeriesWithoutArea),
        Some(Some(counts)) => Reported::from_result(dispersion::dispersion(counts)),
    });
    let widened = areas.iter().any(|(_, r)| r.value().is_some_and(|d| d.overdispersed));
    OverdispersionCheck { areas, intervals_widened: widened }
}

fn check_periods(input: &EvaluationInput) -> Result<(), EvaluationError> {
    for (period, range) in [(Period::Before, input.before), (Period::After, input.after)] {
        if range.to < range.from {
            return Err(EvaluationError::EmptyPeriod { period, from: range.from, to: range.to });
        }
    }
    if input.after.from <= input.before.to {
        return Err(EvaluationError::PeriodsOverlap { before_ends: input.before.to, after_starts: input.after.from });
    }
    Ok(())
}

/// The monthly series split into history, before and after, checked against the counts.
struct MonthlyView {
    /// Each area's monthly counts over the before period, for the areas the series gives
    /// in every month of it; likewise `after`.
    before: Areas<Vec<f64>>,
    after: Areas<Vec<f64>>,
    history: Vec<(u64, Option<u64>)>,
    before_pairs: Vec<(u64, Option<u64>)>,
}

impl MonthlyView {
    fn new(input: &EvaluationInput) -> Result<Option<MonthlyView>, EvaluationError> {
        if input.monthly.is_empty() {
            return Ok(None);
        }
        let mut rows: Vec<MonthlyCounts> = input.monthly.clone();
        rows.sort_by_key(|r| r.month);
        if let Some(pair) = rows.windows(2).find(|w| w[0].month == w[1].month) {
            return Err(EvaluationError::DuplicateMonth { month: pair[0].month });
        }
        let in_period = |range: MonthRange, period: Period| -> Result<Vec<MonthlyCounts>, EvaluationError> {
            range
                .months()
                .map(|month| {
                    rows.iter()
                        .find(|r| r.month == month)
                        .copied()
                        .ok_or(EvaluationError::MonthMissing { month, period })
                })
                .collect()
        };
        let before = in_period(input.before, Period::Before)?;
        let after = in_period(input.after, Period::After)?;
        let columns = |rows: &[MonthlyCounts]| Areas::columns(rows.iter().map(|r| r.counts));
        let (before_columns, after_columns) = (columns(&before), columns(&after));
        for (area, counts) in input.counts.iter() {
            for (period, columns, count) in
                [(Period::Before, &before_columns, counts.before), (Period::After, &after_columns, counts.after)]
            {
                // Only areas with a count in every month of the period are checked.
                if let Some(monthly) = columns.get(area).map(|c| c.iter().sum::<u64>()) {
                    if monthly != count {
                        return Err(EvaluationError::MonthlySeriesDisagrees { area, period, count, monthly });
                    }
                }
            }
        }
        let pairs = |r: &MonthlyCounts| (r.counts.target, r.counts.comparison);
        let as_f64 = |column: Vec<u64>| -> Vec<f64> { column.into_iter().map(|v| v as f64).collect() };
        Ok(Some(MonthlyView {
            before: before_columns.map(as_f64),
            after: after_columns.map(as_f64),
            history: rows.iter().filter(|r| r.month < input.before.from).map(pairs).collect(),
            before_pairs: before.iter().map(pairs).collect(),
        }))
    }
}

#[cfg(test)]
mod json_forms;
#[cfg(test)]
mod scenarios;
