//! The key findings of a Strategic Needs Assessment in plain English, written from the
//! figures (never typed by hand), so each sentence can be tested against the numbers.

use serde::Serialize;

use super::places::{Concentration, DeprivationRatio};
use super::series::YearOnYear;
use crate::format::count as thousands;

/// The figures the summary speaks about.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeyFigures {
    pub area: String,
    pub period: String,
    pub months: i64,
    pub headline_total: i64,
    pub headline_label: String,
    pub year_on_year: Option<YearOnYear>,
    /// `(district name, rate)` of the highest-rate district.
    pub top_district: Option<(String, f64)>,
    pub overall_rate: Option<f64>,
    pub deprivation: Option<DeprivationRatio>,
    pub concentration: Option<Concentration>,
    pub success_measures_with_data: usize,
    pub success_measures_total: usize,
}

/// The key findings, one sentence each.
pub fn key_findings(f: &KeyFigures) -> Vec<String> {
    let mut out = Vec::new();
    out.push(format!(
        "In {} ({} with data), {} {} offences were recorded in {}.",
        f.period,
        if f.months == 1 { "1 month".to_string() } else { format!("{} months", f.months) },
        thousands(f.headline_total),
        f.headline_label,
        f.area
    ));
    match &f.year_on_year {
        Some(y) => {
            let direction = match y.percent {
                Some(p) if p.abs() < 0.05 => "unchanged".to_string(),
                Some(p) if p > 0.0 => format!("up {:.1}%", p),
                Some(p) => format!("down {:.1}%", -p),
                None => "up from none".to_string(),
            };
            out.push(format!(
                "The 12 months to {} had {}, {} on the 12 months before ({}); {} (rate ratio {}, 95% confidence interval {:.2} to {:.2}).",
                y.current_period.to,
                thousands(y.current),
                direction,
                thousands(y.previous),
                if y.significant {
                    "the change is statistically significant"
                } else {
                    "the change is within what chance alone could produce"
                },
                y.rate_ratio.map_or("not defined".to_string(), |r| format!("{r:.2}")),
                y.interval_lower,
                y.interval_upper
            ));
        }
        None => {
            out.push("There are not 24 consecutive months of data, so no year-on-year change can be given.".to_string())
        }
    }
    if let (Some((name, rate)), Some(overall)) = (&f.top_district, f.overall_rate) {
        out.push(format!(
            "{name} had the highest rate: {rate:.1} per 1,000 residents a year, against {overall:.1} across the area."
        ));
    }
    if let Some(d) = &f.deprivation {
        out.push(format!(
            "The rate in the most deprived tenth of neighbourhoods was {:.1} times that in the least deprived ({:.1} against {:.1} per 1,000 residents a year).",
            d.ratio, d.most_deprived_rate, d.least_deprived_rate
        ));
    }
    if let Some(c) = &f.concentration {
        out.push(format!(
            "{:.1}% of these offences happened in the {} neighbourhoods (LSOAs) with the most, the top {}% of the area's {}.",
            c.share_percent,
            thousands(c.lsoas as i64),
            c.percent_of_lsoas,
            "neighbourhoods"
        ));
    }
    out.push(if f.success_measures_with_data == 0 {
        format!(
            "None of the {} Home Office success measures can be computed from the data loaded: they need hospital admissions, police weapon flags or homicide records.",
            f.success_measures_total
        )
    } else {
        format!(
            "{} of the {} Home Office success measures can be computed from the data loaded.",
            f.success_measures_with_data, f.success_measures_total
        )
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Month, MonthRange};

    #[test]
    fn sentences_carry_the_figures() {
        let to: Month = "2025-12".parse().unwrap();
        let f = KeyFigures {
            area: "Staffordshire".into(),
            period: "2025-01 to 2025-12".into(),
            months: 12,
            headline_total: 36021,
            headline_label: "serious violence (police proxy)".into(),
            year_on_year: Some(YearOnYear {
                current_period: MonthRange::ending(to, 12),
                previous_period: MonthRange::ending(to.plus(-12), 12),
                current: 1100,
                previous: 1000,
                change: 100,
                percent: Some(10.0),
                rate_ratio: Some(1.1),
                interval_lower: 1.01,
                interval_upper: 1.2,
                significant: true,
            }),
            top_district: Some(("Stoke-on-Trent".into(), 45.04)),
            overall_rate: Some(30.0),
            deprivation: Some(DeprivationRatio {
                most_deprived_rate: 60.0,
                least_deprived_rate: 15.0,
                ratio: 4.0,
                interval_lower: 3.5,
                interval_upper: 4.5,
            }),
            concentration: Some(Concentration {
                percent_of_lsoas: 10.0,
                lsoas: 70,
                count: 9000.0,
                share_percent: 25.04,
            }),
            success_measures_with_data: 0,
            success_measures_total: 6,
        };
        let s = key_findings(&f);
        assert!(s[0].contains("36,021 serious violence (police proxy) offences"), "{}", s[0]);
        assert!(s[1].contains("1,100, up 10.0% on the 12 months before (1,000)"), "{}", s[1]);
        assert!(s[1].contains("statistically significant") && s[1].contains("1.01 to 1.20"));
        assert!(s[2].starts_with("Stoke-on-Trent had the highest rate: 45.0 per 1,000"), "{}", s[2]);
        assert!(s[3].contains("4.0 times") && s[3].contains("60.0 against 15.0"), "{}", s[3]);
        assert!(s[4].starts_with("25.0% of these offences happened in the 70 neighbourhoods"), "{}", s[4]);
        assert!(s[5].contains("None of the 6"));
        assert!(s[0].starts_with("In 2025-01 to 2025-12 (12 months with data)"), "{}", s[0]);
        let mut g = f.clone();
        g.year_on_year = None;
        assert!(key_findings(&g)[1].contains("no year-on-year change"));
        let one = KeyFigures { period: "2025-01 to 2025-01".into(), months: 1, ..f.clone() };
        assert!(
            key_findings(&one)[0].starts_with("In 2025-01 to 2025-01 (1 month with data)"),
            "one month, not 1 months"
        );
    }
}
