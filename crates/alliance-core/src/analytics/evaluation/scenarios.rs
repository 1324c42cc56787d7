//! Synthetic evaluation scenarios: a known injected effect is detected, no effect is not
//! flagged, displacement into the buffer is reported as displacement; plus the verdict's
//! wording and the input checks.

use super::*;

fn m(text: &str) -> Month {
    text.parse().expect("test month")
}

fn range(from: &str, to: &str) -> MonthRange {
    MonthRange::new(m(from), m(to)).expect("test range")
}

/// Spreads `total` over `months` months (a whole number of years) with a fixed wiggle
/// that sums to zero over each year, so the series look like real monthly counts but are
/// reproducible.
fn spread(total: u64, months: usize) -> Vec<u64> {
    const WIGGLE: [i64; 12] = [1, -1, 0, 2, -2, 0, 1, -1, 0, 2, -2, 0];
    let n = months as u64;
    (0..months)
        .map(|i| {
            // Evenly spread share (each month gets floor or ceil of total/n), plus the wiggle.
            let i = i as u64;
            let share = ((i + 1) * total / n - i * total / n) as i64;
            let wiggle = if total / n >= 2 { WIGGLE[(i % 12) as usize] } else { 0 };
            (share + wiggle) as u64
        })
        .collect()
}

/// 24 history months, a 12-month before period (2023) and a 12-month after period (2024).
fn monthly_input(target: (u64, u64, u64), buffer: (u64, u64, u64), comparison: (u64, u64, u64)) -> EvaluationInput {
    let months: Vec<Month> = range("2021-01", "2024-12").months().collect();
    let series = |(history, before, after): (u64, u64, u64)| -> Vec<u64> {
        let mut s = spread(history, 24);
        s.extend(spread(before, 12));
        s.extend(spread(after, 12));
        s
    };
    let (t, b, c) = (series(target), series(buffer), series(comparison));
    let monthly = months
        .iter()
        .enumerate()
        .map(|(i, &month)| MonthlyCounts {
            month,
            counts: Areas { target: t[i], buffer: Some(b[i]), comparison: Some(c[i]), comparison_buffer: None },
        })
        .collect();
    let mut input = EvaluationInput::from_monthly(range("2023-01", "2023-12"), range("2024-01", "2024-12"), monthly);
    input.labels.buffer_metres = Some(200.0);
    input
}

#[test]
fn injected_effect_is_detected() {
    // Target halves (120 → 60) while the comparison and the buffer hold steady.
    let input = monthly_input((240, 120, 60), (160, 80, 80), (400, 200, 196));
    let r = evaluate(&input).unwrap();
    assert_eq!(r.verdict.effect, EffectFinding::SignificantFall);
    assert_eq!(r.verdict.displacement, DisplacementFinding::NoSignOfDisplacement);
    assert!((r.areas.target.change.percent.unwrap() - (-50.0)).abs() < 1e-9);
    assert!(r.weighted_displacement_difference.interval.upper < 0.0);
    let did = r.difference_in_differences.value().expect("DiD");
    assert!((did.estimate - (-(60.0 - 4.0) / 12.0)).abs() < 1e-9); // (5 − 10) − (16.33 − 16.67)
    assert!(did.interval.upper < 0.0);
    assert!(!r.pre_trend.value().expect("pre-trend").diverging);
    assert!(!r.regression_to_the_mean.flagged);
    assert!(r.verdict.summary.contains("this difference is statistically significant"), "{}", r.verdict.summary);
    assert!(r.verdict.summary.contains("There is no sign of displacement to the surrounding 200 m."));
}

#[test]
fn no_effect_is_not_flagged() {
    // Target 100 → 98 and comparison 200 → 196: exactly the comparison's trend.
    let input = monthly_input((200, 100, 98), (160, 80, 79), (400, 200, 196));
    let r = evaluate(&input).unwrap();
    assert_eq!(r.verdict.effect, EffectFinding::NotSignificant);
    assert_eq!(r.verdict.displacement, DisplacementFinding::NoSignOfDisplacement);
    assert!(r.relative_effect.value().unwrap().interval.contains(1.0));
    assert!(r.weighted_displacement_difference.interval.contains(0.0));
    assert!(r.verdict.summary.contains("this difference is not statistically significant"), "{}", r.verdict.summary);
    // No success in the target, so no WDQ — and the verdict says why.
    assert!(matches!(
        r.weighted_displacement_quotient,
        Reported::NotDefined { reason: WdqUndefined::NoSuccessInTarget { .. } }
    ));
    assert!(r.verdict.caveats.iter().any(|c| c.kind == verdict::CaveatKind::WdqNotDefined
        && c.text.contains("did not improve relative to the comparison area (success measure ")));
}

#[test]
fn displacement_into_the_buffer_is_reported() {
    // Target halves but the buffer rises from 80 to 130 while the comparison holds.
    let input = monthly_input((240, 120, 60), (160, 80, 130), (400, 200, 200));
    let r = evaluate(&input).unwrap();
    assert_eq!(r.verdict.effect, EffectFinding::SignificantFall);
    assert_eq!(r.verdict.displacement, DisplacementFinding::Displacement);
    let wdq = r.weighted_displacement_quotient.value().expect("WDQ defined");
    // (130/200 − 80/200) / (60/200 − 120/200) = 0.25 / −0.3
    assert!((wdq.wdq - (-0.25 / 0.3)).abs() < 1e-12);
    assert_eq!(wdq.reading, wdq::WdqReading::DisplacementLessThanDirectEffect);
    assert!(r.weighted_displacement_difference.displacement.unwrap().estimate > 0.0);
    assert!(
        r.verdict.summary.contains("There are signs of displacement to the surrounding 200 m: crime there rose 63%"),
        "{}",
        r.verdict.summary
    );
}

#[test]
fn diffusion_of_benefit_is_reported() {
    let input = monthly_input((240, 120, 60), (320, 160, 100), (400, 200, 200));
    let r = evaluate(&input).unwrap();
    assert_eq!(r.verdict.displacement, DisplacementFinding::DiffusionOfBenefit);
}

#[test]
fn regression_to_the_mean_is_flagged_after_a_spike() {
    // The target ran at 5 a month, spiked to 10 in the before year, then fell back.
    let input = monthly_input((120, 120, 60), (160, 80, 80), (400, 200, 200));
    let r = evaluate(&input).unwrap();
    assert!(r.regression_to_the_mean.flagged);
    assert!(r.verdict.caveats.iter().any(|c| c.kind == verdict::CaveatKind::RegressionToTheMean));
}

#[test]
fn the_parks_verdict_reads_the_same_every_time() {
    // The Stoke parks claim: 100 → 62 ("down 38%"), comparison parks 50 → 44, a 200 m buffer.
    let mut input =
        EvaluationInput::new(range("2021-07", "2022-06"), range("2022-07", "2023-06"), BeforeAfter::new(100, 62));
    input.counts.comparison = Some(BeforeAfter::new(50, 44));
    input.counts.buffer = Some(BeforeAfter::new(40, 41));
    input.labels = AreaLabels {
        measure: "Recorded crime".into(),
        target: "target parks".into(),
        comparison: "comparison parks".into(),
        buffer_metres: Some(200.0),
    };
    let r = evaluate(&input).unwrap();
    // RES = (100·44)/(62·50) = 1.4194; relative change 100·(1/1.4194 − 1) = −29.5%.
    let res = r.relative_effect.value().unwrap();
    assert!((res.relative_effect_size - 4400.0 / 3100.0).abs() < 1e-12);
    assert_eq!(
        r.verdict.sentences[0],
        "Recorded crime in the target parks fell 38% (from 100 to 62 crimes; 95% CI -56% to -14%)."
    );
    assert_eq!(
        r.verdict.sentences[1],
        "In the comparison parks it fell 12% (from 50 to 44 crimes; 95% CI -43% to +35%)."
    );
    // Relative change: ln RES = 0.3502, SE = √(1/100 + 1/62 + 1/50 + 1/44) = 0.2624, so
    // RES 95% CI 0.849 to 2.374, i.e. −58% to +18%; z = 1.335, p = 0.182.
    assert_eq!(
        r.verdict.sentences[2],
        "Allowing for the trend in the comparison parks, crime in the target parks ended 30% lower than expected \
         (95% CI -58% to +18%); this difference is not statistically significant (p = 0.182)."
    );
    assert_eq!(r.verdict.sentences[3], "There is no sign of displacement to the surrounding 200 m.");
    // WDQ = (41/44 − 40/50) / (62/44 − 100/50) = −0.223; net effect 26 − 5.8 = 20.2.
    assert_eq!(
        r.verdict.sentences[4],
        "The weighted displacement quotient is -0.22 (some displacement, smaller than the direct effect, though the \
         change in the buffer is within what chance explains); allowing for the comparison parks' trend, about 20 fewer \
         crimes were recorded in the target and buffer together than expected."
    );
    assert_eq!(r.verdict.sentences.len(), 5);
    assert_eq!(r.verdict.summary, r.verdict.sentences.join(" "));
    assert_eq!(r.verdict.effect, EffectFinding::NotSignificant);
    let kinds: Vec<_> = r.verdict.caveats.iter().map(|c| c.kind).collect();
    assert_eq!(kinds, vec![verdict::CaveatKind::PreTrendNotChecked, verdict::CaveatKind::RecordedCrime]);
}

#[test]
fn without_a_comparison_the_verdict_says_so() {
    let input = EvaluationInput::new(range("2023-01", "2023-12"), range("2024-01", "2024-12"), BeforeAfter::new(6, 2));
    let r = evaluate(&input).unwrap();
    assert_eq!(r.verdict.effect, EffectFinding::NotSignificant);
    assert!(
        r.verdict.summary.contains(
            "Without a comparison area, this change is not statistically significant on its own (E-test p = 0.175)."
        ),
        "{}",
        r.verdict.summary
    );
    let kinds: Vec<_> = r.verdict.caveats.iter().map(|c| c.kind).collect();
    assert!(kinds.contains(&verdict::CaveatKind::NoComparison));
    assert!(kinds.contains(&verdict::CaveatKind::SmallCounts));
}

#[test]
fn unequal_periods_compare_rates_and_say_so() {
    // 24 months at 10 a month, then 12 months at 6 a month: a 40% fall in rate.
    let mut input =
        EvaluationInput::new(range("2022-01", "2023-12"), range("2024-01", "2024-12"), BeforeAfter::new(240, 72));
    input.counts.comparison = Some(BeforeAfter::new(480, 240));
    let r = evaluate(&input).unwrap();
    assert!((r.areas.target.change.percent.unwrap() - (-40.0)).abs() < 1e-9);
    assert!((r.areas.comparison.as_ref().unwrap().change.percent.unwrap()).abs() < 1e-9);
    // The WDD puts before counts on the after length: (72 − 120) − (240 − 240) = −48.
    assert!((r.weighted_displacement_difference.total.estimate - (-48.0)).abs() < 1e-9);
    assert!(
        r.verdict.sentences[0].contains("from 240 crimes in 24 months to 72 in 12 months, compared as monthly rates")
    );
    assert!(r.verdict.caveats.iter().any(|c| c.kind == verdict::CaveatKind::UnequalPeriods));
    assert_eq!(r.verdict.effect, EffectFinding::SignificantFall);
}

#[test]
fn harm_weighting_adds_its_caveat() {
    let mut input =
        EvaluationInput::new(range("2023-01", "2023-12"), range("2024-01", "2024-12"), BeforeAfter::new(70, 80));
    input.harm = Some(HarmInput {
        weights: vec![
            HarmWeight { category: "violence-and-sexual-offences".into(), weight: 10.0 },
            HarmWeight { category: "shoplifting".into(), weight: 1.0 },
        ],
        categories: vec![
            CategoryCounts {
                category: "violence-and-sexual-offences".into(),
                counts: Areas::target_only(BeforeAfter::new(20, 10)),
            },
            CategoryCounts { category: "shoplifting".into(), counts: Areas::target_only(BeforeAfter::new(50, 70)) },
        ],
    });
    let r = evaluate(&input).unwrap();
    assert!((r.harm_weighted.as_ref().unwrap().target.percent_change.unwrap() - (-32.0)).abs() < 1e-9);
    assert!(r.verdict.caveats.iter().any(|c| c.text == HARM_WEIGHTING_CAVEAT));
}

#[test]
fn inconsistent_inputs_are_typed_errors() {
    let overlapping =
        EvaluationInput::new(range("2023-01", "2023-12"), range("2023-12", "2024-06"), BeforeAfter::new(1, 1));
    assert_eq!(
        evaluate(&overlapping),
        Err(EvaluationError::PeriodsOverlap { before_ends: m("2023-12"), after_starts: m("2023-12") })
    );
    let mut input = monthly_input((240, 120, 60), (160, 80, 80), (400, 200, 196));
    input.counts.target.after = 61;
    assert_eq!(
        evaluate(&input),
        Err(EvaluationError::MonthlySeriesDisagrees {
            area: AreaRole::Target,
            period: Period::After,
            count: 61,
            monthly: 60
        })
    );
    let mut input = monthly_input((240, 120, 60), (160, 80, 80), (400, 200, 196));
    input.monthly.retain(|r| r.month != m("2023-05"));
    assert_eq!(evaluate(&input), Err(EvaluationError::MonthMissing { month: m("2023-05"), period: Period::Before }));
    let mut input =
        EvaluationInput::new(range("2023-01", "2023-12"), range("2024-01", "2024-12"), BeforeAfter::new(1, 1));
    input.confidence_level = 95.0;
    assert!(matches!(evaluate(&input), Err(EvaluationError::Poisson(PoissonError::InvalidConfidenceLevel(_)))));
}

#[test]
fn result_serialises_with_named_statistics() {
    let input = monthly_input((240, 120, 60), (160, 80, 130), (400, 200, 200));
    let r = evaluate(&input).unwrap();
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["areas"]["target"]["counts"], serde_json::json!({"before": 120, "after": 60}));
    assert_eq!(json["relative_effect"]["status"], "defined");
    assert!(json["weighted_displacement_difference"]["total"]["estimate"].is_number());
    assert_eq!(json["weighted_displacement_quotient"]["status"], "defined");
    assert_eq!(json["rate_ratio_method"], "exact_conditional");
    assert_eq!(json["verdict"]["displacement"], "displacement");
    // An input with no comparison says why the relative effect is missing.
    let bare = EvaluationInput::new(range("2023-01", "2023-12"), range("2024-01", "2024-12"), BeforeAfter::new(0, 5));
    let json = serde_json::to_value(evaluate(&bare).unwrap()).unwrap();
    assert_eq!(
        json["relative_effect"],
        serde_json::json!({"status": "not_applicable", "because": "no comparison area",
            "explanation": "The evaluation has no comparison area to measure against."})
    );
    // An unbounded upper end is written as null.
    assert!(json["areas"]["target"]["change"]["interval"]["upper"].is_null());
}

#[test]
fn input_round_trips_from_json() {
    let text = r#"{"before":{"from":"2023-01","to":"2023-12"},"after":{"from":"2024-01","to":"2024-12"},
        "target":{"before":120,"after":60},"comparison":{"before":200,"after":196}}"#;
    let input: EvaluationInput = serde_json::from_str(text).unwrap();
    assert_eq!(input.confidence_level, 0.95);
    assert_eq!(input.labels, AreaLabels::default());
    assert_eq!(evaluate(&input).unwrap().verdict.effect, EffectFinding::SignificantFall);
}

/// The overdispersion check end to end: a target whose before months alternate 2, 18, 2,
/// 18, … (mean 10, far more variable than Poisson) and fall to 6 a month after, with no
/// comparison. The E-test alone calls the fall (120 → 72) significant; the before
/// period's dispersion against its trend is far above 1, so the interval is widened, the
/// verdict does not call the change significant, and the caveat says why.
#[test]
fn overdispersed_counts_widen_the_intervals() {
    let months: Vec<Month> = range("2023-01", "2024-12").months().collect();
    let monthly: Vec<MonthlyCounts> = months
        .iter()
        .enumerate()
        .map(|(i, &month)| MonthlyCounts {
            month,
            counts: Areas::target_only(if i >= 12 {
                6
            } else if i % 2 == 0 {
                2
            } else {
                18
            }),
        })
        .collect();
    let input = EvaluationInput::from_monthly(range("2023-01", "2023-12"), range("2024-01", "2024-12"), monthly);
    let r = evaluate(&input).unwrap();
    let d = r.overdispersion.areas.target.value().expect("dispersion of 12 months");
    assert_eq!(d.mean_model, MeanModel::LinearTrend);
    assert_eq!(d.degrees_of_freedom, 10);
    // Against the constant mean 10 it would be 12·64/10/11 = 6.98; the trend barely moves it.
    assert!(d.phi > 6.0 && d.phi < 8.0, "phi {}", d.phi);
    assert!(r.overdispersion.intervals_widened);
    let plain = change::area_change(
        BeforeAfter::new(120, 72),
        r.periods.lengths,
        r.confidence_level,
        RateRatioMethod::ExactConditional,
    )
    .unwrap();
    assert!(plain.e_test.unwrap().p_value < 0.01, "Poisson alone calls it significant");
    assert!(plain.change.rate_ratio.interval.upper < 1.0);
    let widened = r.areas.target.change.rate_ratio.interval;
    assert!(widened.lower < plain.change.rate_ratio.interval.lower);
    assert!(widened.upper > 1.0, "widened interval {widened:?} includes no change");
    let rr = plain.change.rate_ratio.estimate.unwrap();
    let expected_upper = rr * (plain.change.rate_ratio.interval.upper / rr).powf(d.phi.sqrt());
    assert!((widened.upper - expected_upper).abs() < 1e-12);
    assert!((r.areas.target.change.interval.upper - 100.0 * (widened.upper - 1.0)).abs() < 1e-9);
    assert_eq!(r.verdict.effect, EffectFinding::NotSignificant);
    assert!(r.verdict.summary.contains("is not statistically significant on its own"), "{}", r.verdict.summary);
    let caveat = r.verdict.caveats.iter().find(|c| c.kind == verdict::CaveatKind::Overdispersion).expect("caveat");
    assert!(caveat.text.contains("target area") && caveat.text.contains("quasi-Poisson"), "{}", caveat.text);

    // Steady Poisson-like months: no widening, no caveat.
    let input = monthly_input((240, 120, 60), (160, 80, 80), (400, 200, 196));
    let r = evaluate(&input).unwrap();
    assert!(!r.overdispersion.intervals_widened, "{:?}", r.overdispersion);
    assert!(r.verdict.caveats.iter().all(|c| c.kind != verdict::CaveatKind::Overdispersion));
}
