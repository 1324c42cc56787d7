//! The verdict: a plain-English summary a Board member can read, with the caveats that
//! apply. The wording is deterministic (fixed phrases, whole-number percentages,
//! p-values to three decimals) so the same figures always read the same way.

use serde::Serialize;

use super::change::AreaChange;
use super::harm::HARM_WEIGHTING_CAVEAT;
use super::trend::RegressionToTheMeanReason;
use super::{AreaLabels, AreaRole, EvaluationResult, NotReportedReason, RelativeEffect, Reported};
use crate::analytics::poisson::{ConfidenceLevel, Interval};

/// Counts below this in any used area and period get the small-count caveat.
pub const SMALL_COUNT: u64 = 20;

/// What the evaluation says about the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EffectFinding {
    /// Crime fell by more than the comparison (or, without one, than chance) explains.
    SignificantFall,
    /// Crime rose by more than the comparison (or chance) explains.
    SignificantRise,
    /// The change is within what chance (and the comparison's trend) explains.
    NotSignificant,
    /// No test could be made (e.g. no crime at all, or zero counts for the relative effect).
    CannotTell,
}

/// What the evaluation says about the buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DisplacementFinding {
    /// Crime in the buffer rose significantly relative to its control (or on its own).
    Displacement,
    /// Crime in the buffer fell significantly relative to its control (or on its own).
    DiffusionOfBenefit,
    NoSignOfDisplacement,
    /// No buffer was given.
    NotChecked,
}

/// A caveat that applies to this evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CaveatKind {
    SmallCounts,
    NoComparison,
    UnequalPeriods,
    PreTrendDiverging,
    PreTrendNotChecked,
    RegressionToTheMean,
    RelativeEffectNotDefined,
    WdqNotDefined,
    HarmWeighting,
    RecordedCrime,
    Overdispersion,
}

/// A caveat with its wording.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Caveat {
    pub kind: CaveatKind,
    pub text: String,
}

/// The verdict: findings, the sentences of the summary, and the caveats.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    pub effect: EffectFinding,
    pub displacement: DisplacementFinding,
    /// The summary, one sentence per finding.
    pub sentences: Vec<String>,
    /// The sentences joined with spaces.
    pub summary: String,
    pub caveats: Vec<Caveat>,
}

impl Verdict {
    pub(super) fn empty() -> Verdict {
        Verdict {
            effect: EffectFinding::CannotTell,
            displacement: DisplacementFinding::NotChecked,
            sentences: Vec::new(),
            summary: String::new(),
            caveats: Vec::new(),
        }
    }
}

/// A whole-number percentage with a sign: "-38%", "+5%", "0%".
fn signed_percent(value: f64) -> String {
    if value.is_infinite() {
        return "no upper limit".to_string();
    }
    let rounded = value.round();
    if rounded == 0.0 {
        "0%".to_string()
    } else if rounded > 0.0 {
        format!("+{rounded:.0}%")
    } else {
        format!("{rounded:.0}%")
    }
}

fn percent_interval(level: ConfidenceLevel, interval: Interval) -> String {
    format!("{:.0}% CI {} to {}", level.percent(), signed_percent(interval.lower), signed_percent(interval.upper))
}

/// "p = 0.175", or "p < 0.001".
pub fn format_p(p: f64) -> String {
    if p < 0.001 {
        "p < 0.001".to_string()
    } else {
        format!("p = {p:.3}")
    }
}

/// "fell 38%", "rose 5%", "was essentially unchanged" (below half a percent).
fn movement(percent: f64) -> String {
    let rounded = percent.round();
    if rounded < 0.0 {
        format!("fell {:.0}%", -rounded)
    } else if rounded > 0.0 {
        format!("rose {rounded:.0}%")
    } else {
        "was essentially unchanged".to_string()
    }
}

fn counts_phrase(change: &AreaChange, unequal: bool, before_months: f64, after_months: f64) -> String {
    if unequal {
        let months = |n: f64| if n == 1.0 { "1 month".to_string() } else { format!("{n} months") };
        format!(
            "from {} crimes in {} to {} in {}, compared as monthly rates",
            change.counts.before,
            months(before_months),
            change.counts.after,
            months(after_months)
        )
    } else {
        format!("from {} to {} crimes", change.counts.before, change.counts.after)
    }
}

/// "Recorded crime in the target area fell 38% (from 100 to 62 crimes; 95% CI -49% to -25%)".
fn area_sentence(prefix: &str, change: &AreaChange, result: &EvaluationResult) -> String {
    let lengths = result.periods.lengths;
    let counts = counts_phrase(change, result.periods.unequal_lengths, lengths.before_months, lengths.after_months);
    match change.change.percent {
        Some(percent) => format!(
            "{prefix} {} ({counts}; {})",
            movement(percent),
            percent_interval(result.confidence_level, change.change.interval)
        ),
        None => format!("{prefix} went from 0 to {} crimes, so no percentage change can be given", change.counts.after),
    }
}

fn buffer_place(labels: &AreaLabels) -> String {
    match labels.buffer_metres {
        Some(m) => format!("the surrounding {} m", format_metres(m)),
        None => "the surrounding area".to_string(),
    }
}

fn format_metres(m: f64) -> String {
    if (m - m.round()).abs() < 1e-9 {
        format!("{m:.0}")
    } else {
        format!("{m:.1}")
    }
}

fn significant(p: f64, level: ConfidenceLevel) -> bool {
    p < level.alpha()
}

/// An area's own change is significant when its E-test says so and, when its monthly counts
/// are overdispersed (the E-test assumes Poisson counts), its widened rate-ratio interval
/// also excludes no change.
fn change_significant(change: &AreaChange, p: f64, phi: f64, level: ConfidenceLevel) -> bool {
    significant(p, level) && (phi <= 1.0 || !change.change.rate_ratio.interval.contains(1.0))
}

/// Writes the verdict for an evaluation result.
pub fn verdict(result: &EvaluationResult, labels: &AreaLabels) -> Verdict {
    let level = result.confidence_level;
    let mut sentences = Vec::new();
    let mut caveats = Vec::new();
    let caveat = |caveats: &mut Vec<Caveat>, kind: CaveatKind, text: String| caveats.push(Caveat { kind, text });

    // 1. The target.
    let target = &result.areas.target;
    sentences
        .push(format!("{}.", area_sentence(&format!("{} in the {}", labels.measure, labels.target), target, result)));

    // 2. The comparison, and 3. the difference.
    let effect = match (&result.areas.comparison, &result.relative_effect) {
        (Some(comparison), relative) => {
            sentences
                .push(format!("{}.", area_sentence(&format!("In the {} it", labels.comparison), comparison, result)));
            match relative {
                Reported::Defined { value } => {
                    sentences.push(relative_sentence(value, labels, level));
                    if !significant(value.p_value, level) {
                        EffectFinding::NotSignificant
                    } else if value.relative_effect_size > 1.0 {
                        EffectFinding::SignificantFall
                    } else {
                        EffectFinding::SignificantRise
                    }
                }
                _ => {
                    sentences.push(format!(
                        "The difference between the {} and the {} cannot be tested because one of them had no recorded crime in a period.",
                        labels.target, labels.comparison
                    ));
                    caveat(
                        &mut caveats,
                        CaveatKind::RelativeEffectNotDefined,
                        "The relative effect against the comparison area is not reported because an area had no recorded crime in a period.".to_string(),
                    );
                    EffectFinding::CannotTell
                }
            }
        }
        (None, _) => {
            caveat(
                &mut caveats,
                CaveatKind::NoComparison,
                "There is no comparison area, so the change cannot be separated from the wider trend in crime."
                    .to_string(),
            );
            match target.e_test {
                Some(test) => {
                    let phi = result.overdispersion.phis().target;
                    let yes = change_significant(target, test.p_value, phi, level);
                    let is = if yes { "is" } else { "is not" };
                    let widened = if phi > 1.0 {
                        format!(
                            "; the monthly counts vary more than chance alone explains (dispersion {phi:.2}), and the interval widened for that {} no change",
                            if target.change.rate_ratio.interval.contains(1.0) { "includes" } else { "excludes" }
                        )
                    } else {
                        String::new()
                    };
                    sentences.push(format!(
                        "Without a comparison area, this change {is} statistically significant on its own (E-test {}{widened}).",
                        format_p(test.p_value)
                    ));
                    match (yes, target.change.percent) {
                        (false, _) => EffectFinding::NotSignificant,
                        (true, Some(p)) if p < 0.0 => EffectFinding::SignificantFall,
                        (true, _) => EffectFinding::SignificantRise,
                    }
                }
                None => EffectFinding::CannotTell,
            }
        }
    };

    // 4. Displacement.
    let displacement = displacement_finding(result, labels, &mut sentences);

    // 5. The WDQ, where defined, and why not otherwise.
    match &result.weighted_displacement_quotient {
        Reported::Defined { value } => {
            let within_chance = displacement == DisplacementFinding::NoSignOfDisplacement
                && value.reading != super::wdq::WdqReading::NoChangeInBuffer;
            sentences.push(format!(
                "The weighted displacement quotient is {:.2} ({}{}); allowing for the {} trend, about {:.0} {} crimes were recorded in the target and buffer together than expected.",
                value.wdq,
                wdq_reading_words(value.reading),
                if within_chance { ", though the change in the buffer is within what chance explains" } else { "" },
                possessive(&labels.comparison),
                value.total_net_effect.abs().round(),
                if value.total_net_effect >= 0.0 { "fewer" } else { "more" }
            ))
        }
        Reported::NotDefined { reason } => caveat(
            &mut caveats,
            CaveatKind::WdqNotDefined,
            format!("The weighted displacement quotient is not reported because {}.", reason.explanation()),
        ),
        Reported::NotApplicable { .. } => {}
    }

    // Caveats, in a fixed order.
    let small_counts = [AreaRole::Target, AreaRole::Comparison, AreaRole::Buffer]
        .into_iter()
        .filter_map(|role| result.areas.get(role))
        .any(|c| c.counts.before < SMALL_COUNT || c.counts.after < SMALL_COUNT);
    if small_counts {
        caveat(
            &mut caveats,
            CaveatKind::SmallCounts,
            format!(
                "Fewer than {SMALL_COUNT} crimes were recorded in at least one area and period, so percentages can swing on a handful of crimes and the intervals are wide."
            ),
        );
    }
    if result.periods.unequal_lengths {
        let l = result.periods.lengths;
        caveat(
            &mut caveats,
            CaveatKind::UnequalPeriods,
            format!(
                "The before period ({} months) and the after period ({} months) differ in length, so changes compare monthly rates, not raw counts.",
                l.before_months, l.after_months
            ),
        );
    }
    if result.areas.comparison.is_some() {
        match &result.pre_trend {
            Reported::Defined { value } if value.diverging => caveat(
                &mut caveats,
                CaveatKind::PreTrendDiverging,
                format!(
                    "Before the intervention the {} and the {} were already moving differently (test of pre-period trends {}), so the comparison may not show what would have happened without the intervention.",
                    labels.target,
                    labels.comparison,
                    format_p(value.p_value)
                ),
            ),
            Reported::Defined { .. } => {}
            _ => caveat(
                &mut caveats,
                CaveatKind::PreTrendNotChecked,
                "Whether the two areas had similar trends before the intervention could not be checked (a monthly series of at least 3 months before is needed).".to_string(),
            ),
        }
    }
    if result.regression_to_the_mean.flagged {
        let why: Vec<&str> = result
            .regression_to_the_mean
            .reasons
            .iter()
            .map(|r| match r {
                RegressionToTheMeanReason::AboveOwnHistory { .. } => {
                    "crime in the target area before the intervention was unusually high compared with its own history"
                }
                RegressionToTheMeanReason::RoseMoreThanComparison { .. } => {
                    "crime in the target area rose more than in the comparison area in the run-up to the intervention"
                }
                RegressionToTheMeanReason::SelectedForHighCrime => {
                    "the target area was chosen because its crime was high"
                }
            })
            .collect();
        caveat(
            &mut caveats,
            CaveatKind::RegressionToTheMean,
            format!(
                "Part of any fall may be regression to the mean: {}, and unusually high counts tend to fall back on their own.",
                why.join("; ")
            ),
        );
    }
    if result.overdispersion.intervals_widened {
        let areas: Vec<String> = result
            .overdispersion
            .areas
            .iter()
            .filter_map(|(role, r)| r.value().filter(|d| d.overdispersed).map(|d| (labels.name(role), d)))
            .map(|(name, d)| {
                format!(
                    "{name} {:.2} against a {}",
                    d.phi,
                    match d.mean_model {
                        super::MeanModel::Constant => "constant mean",
                        super::MeanModel::LinearTrend => "linear trend",
                    }
                )
            })
            .collect();
        caveat(
            &mut caveats,
            CaveatKind::Overdispersion,
            format!(
                "The monthly counts before the intervention vary more than chance alone would make them (dispersion: {}; 1 is what chance gives), so the rate-ratio intervals and the relative effects have been widened by the square root of the dispersion (quasi-Poisson). The E-test and the weighted displacement difference assume Poisson counts and are not adjusted; a change is called significant only when the widened interval agrees.",
                areas.join("; ")
            ),
        );
    }
    if result.harm_weighted.is_some() {
        caveat(&mut caveats, CaveatKind::HarmWeighting, HARM_WEIGHTING_CAVEAT.to_string());
    }
    caveat(
        &mut caveats,
        CaveatKind::RecordedCrime,
        "These are crimes recorded by the police: changes in reporting, patrolling or recording practice move them as well as changes in crime.".to_string(),
    );

    let summary = sentences.join(" ");
    Verdict { effect, displacement, sentences, summary, caveats }
}

/// "comparison area" → "comparison area's"; "comparison parks" → "comparison parks'".
fn possessive(label: &str) -> String {
    if label.ends_with('s') {
        format!("{label}'")
    } else {
        format!("{label}'s")
    }
}

fn relative_sentence(value: &RelativeEffect, labels: &AreaLabels, level: ConfidenceLevel) -> String {
    let pct = value.relative_change_percent.round();
    let position = if pct < 0.0 {
        format!("{:.0}% lower than", -pct)
    } else if pct > 0.0 {
        format!("{pct:.0}% higher than")
    } else {
        "in line with what was".to_string()
    };
    let is = if significant(value.p_value, level) { "is" } else { "is not" };
    format!(
        "Allowing for the trend in the {}, crime in the {} ended {position} expected ({}); this difference {is} statistically significant ({}).",
        labels.comparison,
        labels.target,
        percent_interval(level, value.relative_change_interval),
        format_p(value.p_value)
    )
}

fn wdq_reading_words(reading: super::wdq::WdqReading) -> &'static str {
    use super::wdq::WdqReading::*;
    match reading {
        DiffusionGreaterThanDirectEffect => "a diffusion of benefit larger than the direct effect",
        DiffusionOfBenefit => "a diffusion of benefit",
        NoChangeInBuffer => "no change in the buffer",
        DisplacementLessThanDirectEffect => "some displacement, smaller than the direct effect",
        DisplacementGreaterThanDirectEffect => "displacement larger than the direct effect",
    }
}

/// The buffer's own change in words when it is significant on its own (its E-test, and its
/// widened interval when overdispersed): "rose significantly (+28%, 95% CI +11% to +49%;
/// E-test p < 0.001)". `None` when it is not.
fn buffer_own_change(result: &EvaluationResult) -> Option<String> {
    let buffer = result.areas.buffer.as_ref()?;
    let level = result.confidence_level;
    let phi = result.overdispersion.phis().buffer.unwrap_or(1.0);
    let test = buffer.e_test?;
    if !change_significant(buffer, test.p_value, phi, level) {
        return None;
    }
    Some(match buffer.change.percent {
        Some(pct) => format!(
            "{} significantly ({}, {}; E-test {})",
            if pct > 0.0 { "rose" } else { "fell" },
            signed_percent(pct),
            percent_interval(level, buffer.change.interval),
            format_p(test.p_value)
        ),
        None => {
            format!("rose significantly, from 0 to {} crimes (E-test {})", buffer.counts.after, format_p(test.p_value))
        }
    })
}

/// The finding about the buffer and its sentences.
///
/// Displacement is judged by the buffer's change relative to its control (the comparison
/// area's surroundings, or the comparison area) where that is defined, else by the buffer's
/// own change. A significant change of the buffer on its own is always named, even when its
/// control moved alike, and when the weighted displacement quotient is not defined the
/// verdict says that displacement cannot be judged by it and why: "no sign of displacement"
/// is said only when the quotient was formed or does not apply.
fn displacement_finding(
    result: &EvaluationResult,
    labels: &AreaLabels,
    sentences: &mut Vec<String>,
) -> DisplacementFinding {
    let Some(buffer) = &result.areas.buffer else {
        return DisplacementFinding::NotChecked;
    };
    let level = result.confidence_level;
    let buffer_phi = result.overdispersion.phis().buffer.unwrap_or(1.0);
    let place = buffer_place(labels);
    let control = if result.areas.comparison_buffer.is_some() {
        "the comparison area's surroundings"
    } else {
        "the comparison area"
    };
    let own = buffer_own_change(result);
    let wdq_missing = match &result.weighted_displacement_quotient {
        Reported::NotDefined { reason } => Some(reason.explanation()),
        _ => None,
    };
    // Relative to the control where we can; otherwise the buffer's own change.
    let (finding, detail) = match &result.buffer_relative_effect {
        Reported::Defined { value } if significant(value.p_value, level) => {
            let pct = value.relative_change_percent;
            let finding = if value.relative_effect_size < 1.0 {
                DisplacementFinding::Displacement
            } else {
                DisplacementFinding::DiffusionOfBenefit
            };
            let words =
                if pct >= 0.0 { format!("rose {:.0}%", pct.round()) } else { format!("fell {:.0}%", (-pct).round()) };
            (
                finding,
                format!(
                    "crime there {words} relative to {control} ({})",
                    percent_interval(level, value.relative_change_interval)
                ),
            )
        }
        Reported::Defined { value } => {
            // Not significant against the control: the buffer's own significant change is
            // still named, with the test that says it is not displacement.
            let against = format!(
                "the change is not significantly different from that in {control} (relative change {}, {}; {})",
                signed_percent(value.relative_change_percent),
                percent_interval(level, value.relative_change_interval),
                format_p(value.p_value)
            );
            match &own {
                Some(words) => {
                    sentences.push(format!(
                        "{} {words}, but {against}, so by that test it is not a sign of displacement.",
                        sentence_start(&format!("crime in {place}"))
                    ));
                }
                None if wdq_missing.is_some() => {
                    sentences.push(format!("Crime in {place} did not change significantly relative to {control}."))
                }
                None => sentences.push(format!("There is no sign of displacement to {place}.")),
            }
            if let Some(why) = &wdq_missing {
                sentences.push(format!(
                    "Displacement cannot be judged by the weighted displacement quotient, because {why}."
                ));
            }
            return DisplacementFinding::NoSignOfDisplacement;
        }
        _ => match (buffer.e_test, buffer.change.percent) {
            (Some(test), Some(pct)) if change_significant(buffer, test.p_value, buffer_phi, level) => (
                if pct > 0.0 { DisplacementFinding::Displacement } else { DisplacementFinding::DiffusionOfBenefit },
                format!("crime there {} ({})", movement(pct), percent_interval(level, buffer.change.interval)),
            ),
            (Some(test), None) if change_significant(buffer, test.p_value, buffer_phi, level) => (
                DisplacementFinding::Displacement,
                format!("crime there went from 0 to {} crimes", buffer.counts.after),
            ),
            _ => (DisplacementFinding::NoSignOfDisplacement, String::new()),
        },
    };
    sentences.push(match finding {
        DisplacementFinding::Displacement => {
            format!("There are signs of displacement to {place}: {detail}.")
        }
        DisplacementFinding::DiffusionOfBenefit => {
            format!("There are signs of a diffusion of benefit to {place}: {detail}.")
        }
        _ if wdq_missing.is_some() => format!("Crime in {place} did not change significantly."),
        _ => format!("There is no sign of displacement to {place}."),
    });
    if let Some(why) = &wdq_missing {
        sentences.push(format!("Displacement cannot be judged by the weighted displacement quotient, because {why}."));
    }
    finding
}

/// `text` with its first letter capitalised.
fn sentence_start(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|c| c.to_uppercase().collect::<String>() + chars.as_str()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    //! The displacement sentences, one hand-built set of counts per branch: equal 12-month
    //! periods and no monthly series, so every test is a plain E-test or relative effect.
    use super::super::{evaluate, Areas, BeforeAfter, EvaluationInput, WdqUndefined};
    use super::*;
    use crate::domain::MonthRange;

    fn input(
        target: (u64, u64),
        buffer: (u64, u64),
        comparison: (u64, u64),
        control: Option<(u64, u64)>,
    ) -> EvaluationInput {
        let year =
            |y: &str| MonthRange::new(format!("{y}-01").parse().unwrap(), format!("{y}-12").parse().unwrap()).unwrap();
        let pair = |(before, after): (u64, u64)| BeforeAfter::new(before, after);
        let mut input = EvaluationInput::new(year("2023"), year("2024"), pair(target));
        input.counts = Areas {
            target: pair(target),
            buffer: Some(pair(buffer)),
            comparison: Some(pair(comparison)),
            comparison_buffer: control.map(pair),
        };
        input.labels.buffer_metres = Some(200.0);
        input
    }

    const CANNOT_JUDGE: &str = "Displacement cannot be judged by the weighted displacement quotient, because";

    #[test]
    fn one_month_is_a_month() {
        let mut one = input((24, 30), (10, 10), (50, 50), None);
        one.before = MonthRange::new("2023-01".parse().unwrap(), "2023-01".parse().unwrap()).expect("one month");
        let r = evaluate(&one).unwrap();
        let s = r.verdict.sentences.join(" ");
        assert!(s.contains("from 24 crimes in 1 month to 30 in 12 months"), "{s}");
    }

    #[test]
    fn a_significant_rise_next_door_is_named_when_the_target_did_not_improve() {
        // The demo's figures: the target rose (no success, so no WDQ), the buffer rose 28%
        // (E-test p < 0.001), and the comparison's surroundings rose alike (+30%).
        let r = evaluate(&input((100, 110), (328, 421), (100, 100), Some((300, 390)))).unwrap();
        assert!(matches!(
            r.weighted_displacement_quotient,
            Reported::NotDefined { reason: WdqUndefined::NoSuccessInTarget { .. } }
        ));
        assert!(r.buffer_relative_effect.value().is_some_and(|v| v.p_value >= 0.05));
        let s = &r.verdict.summary;
        assert!(
            s.contains("Crime in the surrounding 200 m rose significantly (+28%, 95% CI ")
                && s.contains("; E-test p < 0.001)"),
            "{s}"
        );
        assert!(s.contains("but the change is not significantly different from that in the comparison area's surroundings (relative change -1%"), "{s}");
        assert!(
            s.contains(&format!(
                "{CANNOT_JUDGE} the target area did not improve relative to the comparison area (success measure 0.10;"
            )),
            "{s}"
        );
        assert!(!s.contains("no sign of displacement"), "{s}");
        assert_eq!(r.verdict.displacement, DisplacementFinding::NoSignOfDisplacement);
    }

    #[test]
    fn a_significant_rise_next_door_is_named_when_the_wdq_is_formed_too() {
        // The target halved, so the WDQ is formed; the buffer still rose as its control did.
        let r = evaluate(&input((200, 100), (328, 421), (200, 200), Some((300, 390)))).unwrap();
        assert!(r.weighted_displacement_quotient.value().is_some());
        let s = &r.verdict.summary;
        assert!(s.contains("Crime in the surrounding 200 m rose significantly (+28%"), "{s}");
        assert!(s.contains("so by that test it is not a sign of displacement."), "{s}");
        assert!(!s.contains(CANNOT_JUDGE), "{s}");
    }

    #[test]
    fn no_change_next_door_without_a_wdq_is_not_called_no_sign_of_displacement() {
        let r = evaluate(&input((100, 110), (300, 305), (100, 100), Some((300, 300)))).unwrap();
        let s = &r.verdict.summary;
        assert!(s.contains("Crime in the surrounding 200 m did not change significantly relative to the comparison area's surroundings."), "{s}");
        assert!(s.contains(CANNOT_JUDGE), "{s}");
        assert!(!s.contains("no sign of displacement"), "{s}");
    }

    #[test]
    fn no_change_next_door_with_a_wdq_is_no_sign_of_displacement() {
        let r = evaluate(&input((200, 100), (300, 305), (200, 200), Some((300, 300)))).unwrap();
        let s = &r.verdict.summary;
        assert!(s.contains("There is no sign of displacement to the surrounding 200 m."), "{s}");
        assert!(!s.contains(CANNOT_JUDGE), "{s}");
    }

    #[test]
    fn a_comparison_without_crime_leaves_displacement_unjudged_and_says_why() {
        // No crime in the comparison before: neither the buffer's relative effect nor the WDQ
        // can be formed, and the buffer's own change is not significant.
        let r = evaluate(&input((100, 60), (300, 305), (0, 10), None)).unwrap();
        assert!(matches!(
            r.weighted_displacement_quotient,
            Reported::NotDefined { reason: WdqUndefined::ZeroComparisonCount { .. } }
        ));
        let s = &r.verdict.summary;
        assert!(s.contains("Crime in the surrounding 200 m did not change significantly."), "{s}");
        assert!(
            s.contains(&format!("{CANNOT_JUDGE} the comparison area had no recorded crime in the before period")),
            "{s}"
        );
    }

    #[test]
    fn every_reason_not_reported_reads_as_a_sentence() {
        use super::super::{DispersionUndefined, Inapplicable, RelativeEffectUndefined, SeriesUndefined};
        let sentences = [
            WdqUndefined::NoSuccessInTarget { success_measure: 0.18355315747402068 }.sentence(),
            WdqUndefined::ZeroComparisonCount { before: 3, after: 0 }.sentence(),
            RelativeEffectUndefined::ZeroCount.sentence(),
            DispersionUndefined::TooFewMonths { months: 1 }.sentence(),
            DispersionUndefined::NoCrime.sentence(),
            SeriesUndefined::TooFewMonths { needed: 3, got: 2 }.sentence(),
            SeriesUndefined::NoVariation.sentence(),
            Inapplicable::NoComparisonArea.sentence(),
            Inapplicable::SeriesWithoutArea.sentence(),
        ];
        for s in &sentences {
            assert!(s.starts_with(char::is_uppercase) && s.ends_with('.'), "{s}");
            assert!(!s.contains('{') && !s.contains('_') && !s.contains('"'), "{s}");
        }
        assert!(sentences[0].contains("(success measure 0.18;"), "{}", sentences[0]);
        assert!(sentences[1].contains("in the after period"), "{}", sentences[1]);
        assert!(sentences[3].contains("has 1 month of counts"), "{}", sentences[3]);
    }
}
