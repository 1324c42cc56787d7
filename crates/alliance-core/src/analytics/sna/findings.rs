//! The key findings of a Strategic Needs Assessment in plain English, written from the
//! figures (never typed by hand), so each sentence can be tested against the numbers.

use serde::Serialize;

use super::places::{Concentration, DeprivationRatio};
use super::series::YearOnYear;
use crate::format::{count as thousands, percent, rate as one_place};

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
        // With no offence placed, every rate is 0: no district "had the highest".
        out.push(if *rate > 0.0 {
            format!(
                "{name} had the highest rate: {} per 1,000 residents a year, against {} across the area.",
                one_place(*rate),
                one_place(overall)
            )
        } else {
            format!(
                "No {} offence was recorded in the area's neighbourhoods in {}, so no district's rate is above another's: every rate is 0.0 per 1,000 residents a year.",
                f.headline_label, f.period
            )
        });
    }
    if let Some(d) = &f.deprivation {
        out.push(format!(
            "The rate in the most deprived tenth of neighbourhoods was {} times that in the least deprived ({} against {} per 1,000 residents a year).",
            one_place(d.ratio),
            one_place(d.most_deprived_rate),
            one_place(d.least_deprived_rate)
        ));
    }
    if let Some(c) = &f.concentration {
        out.push(if c.all_with_offences {
            // Fewer neighbourhoods than the top tenth recorded any: those are named, never
            // neighbourhoods with none as among "those with the most".
            let n = thousands(c.lsoas as i64);
            format!(
                "All of these offences happened in {} (LSOA{}), fewer than the top {}% of the area's neighbourhoods: no other neighbourhood recorded any.",
                if c.lsoas == 1 { "1 neighbourhood".to_string() } else { format!("{n} neighbourhoods") },
                if c.lsoas == 1 { "" } else { "s" },
                c.percent_of_lsoas
            )
        } else {
            format!(
                "{} of these offences happened in the {} neighbourhoods (LSOAs) with the most, the top {}% of the area's {}.",
                percent(c.share_percent),
                thousands(c.lsoas as i64),
                c.percent_of_lsoas,
                "neighbourhoods"
            )
        });
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
                all_with_offences: false,
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

    /// Figures with no offence at all (a partnership holding only another force's files):
    /// rates of 0 (the area's an empty sum, -0.0), no deprivation ratio, no concentration.
    fn no_offences() -> KeyFigures {
        KeyFigures {
            area: "Wiltshire, Swindon".into(),
            period: "2024-01 to 2025-12".into(),
            months: 24,
            headline_total: 0,
            headline_label: "serious violence (police proxy)".into(),
            year_on_year: None,
            top_district: Some(("Wiltshire".into(), 0.0)),
            overall_rate: Some(std::iter::empty::<f64>().sum()),
            deprivation: None,
            concentration: None,
            success_measures_with_data: 0,
            success_measures_total: 6,
        }
    }

    #[test]
    fn no_offences_names_no_highest_rate() {
        let f = no_offences();
        assert!(f.overall_rate.is_some_and(|r| r.is_sign_negative()), "the area's rate is -0.0");
        let s = key_findings(&f);
        assert_eq!(
            s[2],
            "No serious violence (police proxy) offence was recorded in the area's neighbourhoods in 2024-01 to 2025-12, so no district's rate is above another's: every rate is 0.0 per 1,000 residents a year."
        );
        assert!(s.iter().all(|x| !x.contains("highest rate") && !x.contains("-0.0")), "{s:?}");
        assert_eq!(s.len(), 4, "{s:?}");
    }

    #[test]
    fn a_rate_rounding_to_negative_zero_is_shown_as_zero() {
        let f = KeyFigures { top_district: Some(("Swindon".into(), 0.3)), overall_rate: Some(-0.01), ..no_offences() };
        assert_eq!(
            key_findings(&f)[2],
            "Swindon had the highest rate: 0.3 per 1,000 residents a year, against 0.0 across the area."
        );
    }

    #[test]
    fn only_neighbourhoods_with_offences_are_said_to_have_the_most() {
        let one = Concentration {
            percent_of_lsoas: 10.0,
            lsoas: 1,
            all_with_offences: true,
            count: 2.0,
            share_percent: 100.0,
        };
        let f = KeyFigures {
            headline_total: 2,
            top_district: Some(("Swindon".into(), 0.1)),
            concentration: Some(one.clone()),
            ..no_offences()
        };
        assert_eq!(
            key_findings(&f)[3],
            "All of these offences happened in 1 neighbourhood (LSOA), fewer than the top 10% of the area's neighbourhoods: no other neighbourhood recorded any."
        );
        let three = Concentration { lsoas: 3, count: 5.0, ..one };
        let f = KeyFigures { concentration: Some(three), ..f };
        assert_eq!(
            key_findings(&f)[3],
            "All of these offences happened in 3 neighbourhoods (LSOAs), fewer than the top 10% of the area's neighbourhoods: no other neighbourhood recorded any."
        );
    }
}
