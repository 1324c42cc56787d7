//! Timing for the intervention evaluation: `evaluate` on a realistic input, and the
//! E-test on small and large counts. Run with
//! `cargo bench -p alliance-core --bench evaluation`; figures go in
//! `BENCHMARKS-evaluation.md`.

use std::hint::black_box;
use std::time::Duration;

use alliance_core::analytics::evaluation::{
    evaluate, AreaLabels, Areas, BeforeAfter, CategoryCounts, EvaluationInput, HarmInput, HarmWeight, MonthlyCounts,
};
use alliance_core::analytics::poisson::{e_test, Alternative, PoissonCount};
use alliance_core::domain::{Month, MonthRange};

#[path = "support/timing.rs"]
mod timing;
use timing::time;

fn month(text: &str) -> Month {
    text.parse().expect("bench month")
}

/// A realistic evaluation: 60 months (36 of history, a 12-month before period, a
/// 12-month after period) for target, 200 m buffer, comparison and comparison buffer,
/// with 14 data.police.uk categories harm-weighted.
fn realistic_input() -> EvaluationInput {
    let all = MonthRange::new(month("2020-01"), month("2024-12")).expect("range");
    let monthly: Vec<MonthlyCounts> = all
        .months()
        .enumerate()
        .map(|(i, m)| {
            let season = [0, 1, 2, 3, 4, 5, 5, 4, 3, 2, 1, 0][i % 12];
            let after = i >= 48;
            MonthlyCounts {
                month: m,
                counts: Areas {
                    target: if after { 14 + season } else { 22 + season },
                    buffer: Some(30 + season + if after { 2 } else { 0 }),
                    comparison: Some(40 + season),
                    comparison_buffer: Some(55 + season),
                },
            }
        })
        .collect();
    let mut input = EvaluationInput::from_monthly(
        MonthRange::new(month("2023-01"), month("2023-12")).expect("before"),
        MonthRange::new(month("2024-01"), month("2024-12")).expect("after"),
        monthly,
    );
    input.labels = AreaLabels {
        measure: "Recorded crime".into(),
        target: "hotspot parks".into(),
        comparison: "comparison parks".into(),
        buffer_metres: Some(200.0),
    };
    let categories = [
        "anti-social-behaviour",
        "bicycle-theft",
        "burglary",
        "criminal-damage-arson",
        "drugs",
        "other-crime",
        "other-theft",
        "possession-of-weapons",
        "public-order",
        "robbery",
        "shoplifting",
        "theft-from-the-person",
        "vehicle-crime",
        "violent-crime",
    ];
    input.harm = Some(HarmInput {
        weights: categories
            .iter()
            .enumerate()
            .map(|(i, c)| HarmWeight { category: c.to_string(), weight: 1.0 + i as f64 })
            .collect(),
        categories: categories
            .iter()
            .enumerate()
            .map(|(i, c)| CategoryCounts {
                category: c.to_string(),
                counts: Areas {
                    target: BeforeAfter::new(20 + i as u64, 12 + i as u64),
                    buffer: Some(BeforeAfter::new(30 + i as u64, 31 + i as u64)),
                    comparison: Some(BeforeAfter::new(40 + i as u64, 40 + i as u64)),
                    comparison_buffer: Some(BeforeAfter::new(55, 54)),
                },
            })
            .collect(),
    });
    input
}

fn report(name: &str, (runs, median, min): (usize, Duration, Duration)) {
    println!("{name:<48} runs {runs:>7}   median {median:>12.3?}   min {min:>12.3?}");
}

fn main() {
    let budget = Duration::from_secs(2);
    let input = realistic_input();
    report("evaluate (60 months, 4 areas, 14 harm categories)", time(budget, || evaluate(black_box(&input))));
    let summary = summary_length(&input);
    println!("  (verdict summary: {summary} characters)");

    let cases: [(u64, u64); 4] = [(6, 2), (120, 60), (5_000, 4_800), (50_000, 49_000)];
    for (a, b) in cases {
        let first = PoissonCount::new(a, 12.0).expect("count");
        let second = PoissonCount::new(b, 12.0).expect("count");
        let p = e_test(first, second, Alternative::TwoSided).expect("e-test").p_value;
        report(
            &format!("e_test {a} vs {b} (p = {p:.4})"),
            time(budget, || e_test(black_box(first), black_box(second), Alternative::TwoSided)),
        );
    }
}

fn summary_length(input: &EvaluationInput) -> usize {
    evaluate(input).map(|r| r.verdict.summary.len()).unwrap_or(0)
}
