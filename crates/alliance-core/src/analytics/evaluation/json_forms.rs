//! The serialized forms of an evaluation's input, pinned to the text: stored evaluation
//! runs and `alliance evaluate` files must keep parsing and printing exactly as they do.
//! The texts were printed by the code before the areas became one generic type.

use super::*;

fn m(text: &str) -> Month {
    text.parse().expect("test month")
}

fn range(from: &str, to: &str) -> MonthRange {
    MonthRange::new(m(from), m(to)).expect("test range")
}

/// Target, buffer, comparison and comparison buffer, with a monthly series and harm categories.
pub(super) fn all_areas() -> EvaluationInput {
    let row = |month: &str, t: u64, b: u64, c: u64, cb: u64| MonthlyCounts {
        month: m(month),
        counts: Areas { target: t, buffer: Some(b), comparison: Some(c), comparison_buffer: Some(cb) },
    };
    let monthly = vec![row("2024-01", 9, 4, 12, 6), row("2024-02", 11, 5, 10, 7), row("2024-03", 6, 7, 11, 6)];
    let mut input = EvaluationInput::from_monthly(range("2024-01", "2024-02"), range("2024-03", "2024-03"), monthly);
    input.harm = Some(HarmInput {
        weights: vec![HarmWeight { category: "robbery".into(), weight: 2.5 }],
        categories: vec![CategoryCounts {
            category: "robbery".into(),
            counts: Areas {
                target: BeforeAfter::new(20, 6),
                buffer: Some(BeforeAfter::new(9, 7)),
                comparison: Some(BeforeAfter::new(22, 11)),
                comparison_buffer: Some(BeforeAfter::new(13, 6)),
            },
        }],
    });
    input.labels.buffer_metres = Some(200.0);
    input.selected_for_high_crime = true;
    input
}

/// Only a target: the other areas are absent, not zero.
pub(super) fn target_only() -> EvaluationInput {
    let mut input =
        EvaluationInput::new(range("2023-01", "2023-12"), range("2024-01", "2024-12"), BeforeAfter::new(120, 60));
    input.harm = Some(HarmInput {
        weights: vec![HarmWeight { category: "burglary".into(), weight: 1.0 }],
        categories: vec![CategoryCounts {
            category: "burglary".into(),
            counts: Areas::target_only(BeforeAfter::new(120, 60)),
        }],
    });
    input
}

/// [`all_areas`] as stored.
const ALL_AREAS: &str = r#"{"before":{"from":"2024-01","to":"2024-02"},"after":{"from":"2024-03","to":"2024-03"},"target":{"before":20,"after":6},"buffer":{"before":9,"after":7},"comparison":{"before":22,"after":11},"comparison_buffer":{"before":13,"after":6},"monthly":[{"month":"2024-01","target":9,"buffer":4,"comparison":12,"comparison_buffer":6},{"month":"2024-02","target":11,"buffer":5,"comparison":10,"comparison_buffer":7},{"month":"2024-03","target":6,"buffer":7,"comparison":11,"comparison_buffer":6}],"harm":{"weights":[{"category":"robbery","weight":2.5}],"categories":[{"category":"robbery","target":{"before":20,"after":6},"buffer":{"before":9,"after":7},"comparison":{"before":22,"after":11},"comparison_buffer":{"before":13,"after":6}}]},"labels":{"measure":"Recorded crime","target":"target area","comparison":"comparison area","buffer_metres":200.0},"confidence_level":0.95,"selected_for_high_crime":true}"#;

/// [`target_only`] as stored: the other areas are `null`.
const TARGET_ONLY: &str = r#"{"before":{"from":"2023-01","to":"2023-12"},"after":{"from":"2024-01","to":"2024-12"},"target":{"before":120,"after":60},"buffer":null,"comparison":null,"comparison_buffer":null,"monthly":[],"harm":{"weights":[{"category":"burglary","weight":1.0}],"categories":[{"category":"burglary","target":{"before":120,"after":60},"buffer":null,"comparison":null,"comparison_buffer":null}]},"labels":{"measure":"Recorded crime","target":"target area","comparison":"comparison area","buffer_metres":null},"confidence_level":0.95,"selected_for_high_crime":false}"#;

/// [`target_only`] as a hand-written file might give it, without the absent areas.
const TARGET_ONLY_SHORT: &str = r#"{"before":{"from":"2023-01","to":"2023-12"},"after":{"from":"2024-01","to":"2024-12"},"target":{"before":120,"after":60},"harm":{"weights":[{"category":"burglary","weight":1.0}],"categories":[{"category":"burglary","target":{"before":120,"after":60}}]}}"#;

fn prints_and_parses_as(input: &EvaluationInput, text: &str) {
    assert_eq!(serde_json::to_string(input).expect("json"), text);
    let read: EvaluationInput = serde_json::from_str(text).expect("parses");
    assert_eq!(&read, input);
    assert_eq!(serde_json::to_string(&read).expect("json"), text);
}

#[test]
fn an_input_with_all_four_areas_keeps_its_text() {
    prints_and_parses_as(&all_areas(), ALL_AREAS);
}

#[test]
fn an_input_with_only_a_target_keeps_its_text() {
    prints_and_parses_as(&target_only(), TARGET_ONLY);
    let read: EvaluationInput = serde_json::from_str(TARGET_ONLY_SHORT).expect("parses");
    assert_eq!(read, target_only());
}

#[test]
fn the_wdd_writes_its_counts_in_the_formula_order() {
    let r = evaluate(&all_areas()).expect("evaluates");
    let text = serde_json::to_string(&r.weighted_displacement_difference).expect("json");
    let counts = r#"{"counts":{"target":{"before":20,"after":6},"comparison":{"before":22,"after":11},"buffer":{"before":9,"after":7},"comparison_buffer":{"before":13,"after":6}},"before_count_scale":0.5,"#;
    assert!(text.starts_with(counts), "{text}");
    let text = serde_json::to_string(&evaluate(&target_only()).expect("evaluates").weighted_displacement_difference)
        .expect("json");
    let counts = r#"{"counts":{"target":{"before":120,"after":60},"comparison":null,"buffer":null,"comparison_buffer":null},"before_count_scale":1.0,"#;
    assert!(text.starts_with(counts), "{text}");
}
