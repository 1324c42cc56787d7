//! The evaluation report as one self-contained HTML page (askama template
//! `evaluation.html`): inline CSS, a chart of the monthly series (the start of the after
//! period marked) with its data table, a static map of the areas, the verdict, caveats,
//! every statistic and the methodology. No scripts, no external requests: it can be emailed
//! or archived as it is. The same page for `alliance evaluate --format html` and the web.

use alliance_app::evaluation::{AreaDescription, AreaKind, EvaluationReport};
use alliance_app::referrals::InterventionReferrals;
use alliance_core::analytics::evaluation::verdict::format_p;
use alliance_core::analytics::evaluation::{MeanModel, NotReportedReason, Reported};
use alliance_core::analytics::poisson::Interval;
use alliance_core::domain::place::PlaceKind;
use askama::Template;

use crate::chart::{area_map, period_chart, MapOutline, PeriodLine};

const TARGET: &str = "#1d70b8";
const BUFFER: &str = "#f47738";
const COMPARISON: &str = "#00703c";
const COMPARISON_BUFFER: &str = "#4c2c92";

fn pct(v: f64) -> String {
    if v.is_infinite() {
        "no limit".into()
    } else {
        format!("{v:+.1}%")
    }
}

fn ci(i: Interval) -> String {
    format!("{} to {}", pct(i.lower), pct(i.upper))
}

/// A row of a table: a heading cell and the other cells, as text.
struct Row {
    name: String,
    cells: Vec<String>,
}

#[derive(Template)]
#[template(path = "evaluation.html")]
struct EvaluationDocument<'a> {
    title: &'a str,
    report: &'a EvaluationReport,
    /// The referrals of the commissioned service delivering the intervention, if it names one
    /// (suppressed: `alliance_app::referrals::for_intervention`).
    referrals: Option<&'a InterventionReferrals>,
}

/// The report as a self-contained HTML page headed `title`.
pub fn render(report: &EvaluationReport, title: &str) -> String {
    render_with_referrals(report, title, None)
}

/// The report with the referrals and outcomes of the service that delivers the intervention
/// beside the crime figures.
pub fn render_with_referrals(
    report: &EvaluationReport,
    title: &str,
    referrals: Option<&InterventionReferrals>,
) -> String {
    // Rendering into a String fails only on a value's `fmt::Error`, which none raise.
    EvaluationDocument { title, report, referrals }.render().unwrap_or_default()
}

/// The "not reported" row of a statistic, with why in a sentence (each reason's own
/// wording: `alliance_core::analytics::evaluation::NotReportedReason`).
fn row_not<T, R: NotReportedReason>(name: &str, reported: &Reported<T, R>) -> Row {
    Row { name: name.to_string(), cells: vec!["not reported".into(), reported.explanation().unwrap_or_default()] }
}

/// `n` with the singular or plural noun: "1 LSOA", "2 LSOAs".
fn count_of(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// An area by what it is, as it was chosen: "2 LSOAs (2021 census): E01…, E01…", "2 wards:
/// …", "2 places from the place register: Hanley Park (park or open space), …", "an outline
/// drawn on the map or given as GeoJSON: 1 polygon and 1 circle".
pub fn describe_area(a: &AreaDescription) -> String {
    let list = a.codes.join(", ");
    let census = a.lsoa_census.map(|y| format!(" ({y} census)")).unwrap_or_default();
    let n = a.codes.len();
    match a.kind {
        AreaKind::Lsoa => format!("{}{census}: {list}", count_of(n, "LSOA", "LSOAs")),
        AreaKind::Suggested => format!(
            "{}{census} suggested as most alike the target before the intervention: {list}",
            count_of(n, "LSOA", "LSOAs")
        ),
        AreaKind::Ward => format!("{}: {list}", count_of(n, "ward", "wards")),
        AreaKind::Place => {
            let named: Vec<String> = a
                .codes
                .iter()
                .enumerate()
                .map(|(i, name)| match a.place_kinds.get(i).and_then(|k| k.parse::<PlaceKind>().ok()) {
                    Some(kind) => format!("{name} ({})", kind.label().to_lowercase()),
                    None => name.clone(),
                })
                .collect();
            format!("{} from the place register: {}", count_of(n, "place", "places"), named.join(", "))
        }
        AreaKind::Geojson => {
            let features = a.geometry["features"].as_array().map(Vec::as_slice).unwrap_or_default();
            let circles = features.iter().filter(|f| f["geometry"]["type"] == "Point").count();
            let polygons = features.len() - circles;
            let parts: Vec<String> = [(polygons, "polygon", "polygons"), (circles, "circle", "circles")]
                .into_iter()
                .filter(|(k, _, _)| *k > 0)
                .map(|(k, one, many)| count_of(k, one, many))
                .collect();
            format!("an outline drawn on the map or given as GeoJSON: {}", parts.join(" and "))
        }
    }
}

impl EvaluationDocument<'_> {
    /// A date in words (`30 June 2025`).
    fn day(&self, d: impl std::fmt::Display) -> String {
        alliance_core::format::date(&d.to_string())
    }

    /// The service's referrals closed by outcome: one row per outcome, a cell per period.
    fn referral_outcomes(&self) -> Vec<Row> {
        let Some(r) = self.referrals else { return Vec::new() };
        let Some(first) = r.periods.first() else { return Vec::new() };
        (0..first.3.outcomes.len())
            .map(|k| Row {
                name: first.3.outcomes[k].0.clone(),
                cells: r.periods.iter().map(|p| p.3.outcomes.get(k).map(|o| o.1.clone()).unwrap_or_default()).collect(),
            })
            .collect()
    }

    fn unequal_lengths(&self) -> bool {
        self.report.result.periods.unequal_lengths
    }

    /// Counts and change in each area present.
    fn areas(&self) -> Vec<Row> {
        self.report
            .result
            .areas
            .iter()
            .map(|(role, c)| {
                let name = role.to_string();
                Row {
                    name: name[..1].to_uppercase() + &name[1..],
                    cells: vec![
                        c.counts.before.to_string(),
                        c.counts.after.to_string(),
                        c.change.percent.map(pct).unwrap_or_else(|| "not defined".into()),
                        ci(c.change.interval),
                        c.e_test.as_ref().map(|e| format_p(e.p_value)).unwrap_or_else(|| "not run".into()),
                    ],
                }
            })
            .collect()
    }

    /// Every statistic: name, value, interval and test.
    fn statistics(&self) -> Vec<Row> {
        let r = &self.report.result;
        let row = |name: &str, value: String, detail: String| Row { name: name.into(), cells: vec![value, detail] };
        let mut rows = Vec::new();
        rows.push(match &r.relative_effect {
            Reported::Defined { value } => row(
                "Relative effect size, target against comparison (Farrington & Welsh)",
                format!("{:.3} (relative change {})", value.relative_effect_size, pct(value.relative_change_percent)),
                format!(
                    "{:.3}–{:.3} (RES above 1 means the target did better); {}",
                    value.interval.lower,
                    value.interval.upper,
                    format_p(value.p_value)
                ),
            ),
            other => row_not("Relative effect size", other),
        });
        // The buffer's own change against the comparison, which the verdict weighs when it
        // speaks of displacement or a diffusion of benefits: shown so a reader can check it.
        if self.report.basis.areas.buffer_metres.is_some() {
            rows.push(match &r.buffer_relative_effect {
                Reported::Defined { value } => row(
                    "Relative effect size, buffer against comparison",
                    format!(
                        "{:.3} (relative change {})",
                        value.relative_effect_size,
                        pct(value.relative_change_percent)
                    ),
                    format!(
                        "{:.3}–{:.3} (above 1: crime in the buffer fell against the comparison, a diffusion of \
                         benefits; below 1: it rose, as displacement would); {}",
                        value.interval.lower,
                        value.interval.upper,
                        format_p(value.p_value)
                    ),
                ),
                other => row_not("Relative effect size, buffer against comparison", other),
            });
        }
        let w = &r.weighted_displacement_difference;
        rows.push(row(
            "Weighted displacement difference (Wheeler & Ratcliffe 2018)",
            format!("{:.1} crimes (SE {:.1})", w.total.estimate, w.total.standard_error),
            format!("{:.1} to {:.1}; z = {:.2}, {}", w.interval.lower, w.interval.upper, w.z, format_p(w.p_value)),
        ));
        rows.push(match &r.weighted_displacement_quotient {
            Reported::Defined { value } => row(
                "Weighted displacement quotient (Bowers & Johnson 2003)",
                format!("{:.2}", value.wdq),
                format!("total net effect {:.1} crimes", value.total_net_effect),
            ),
            other => row_not("Weighted displacement quotient", other),
        });
        rows.push(match &r.difference_in_differences {
            Reported::Defined { value } => row(
                "Difference in differences (crimes per month)",
                format!("{:.2}", value.estimate),
                format!(
                    "{:.2} to {:.2}; t = {:.2}, {}",
                    value.interval.lower,
                    value.interval.upper,
                    value.t,
                    format_p(value.p_value)
                ),
            ),
            other => row_not("Difference in differences", other),
        });
        rows.push(match &r.pre_trend {
            Reported::Defined { value } => row(
                "Pre-trend check (slope difference, crimes per month per month)",
                format!("{:.3}", value.slope_difference),
                format!(
                    "t = {:.2}, {}; {}",
                    value.t,
                    format_p(value.p_value),
                    if value.diverging { "diverging" } else { "not diverging" }
                ),
            ),
            other => row_not("Pre-trend check", other),
        });
        rows.push(row(
            "Regression to the mean",
            if r.regression_to_the_mean.flagged { "flagged" } else { "not flagged" }.into(),
            format!("{} months of history", r.regression_to_the_mean.history_months),
        ));
        for (area, reported) in r.overdispersion.areas.iter() {
            let name = format!("Overdispersion of the {area}'s before-period monthly counts (Pearson χ² / df)");
            match reported {
                Reported::Defined { value: d } => rows.push(row(
                    &name,
                    format!("{:.2}", d.phi),
                    format!(
                        "χ² = {:.2} on {} df against a {}; {}",
                        d.pearson_chi_square,
                        d.degrees_of_freedom,
                        match d.mean_model {
                            MeanModel::Constant => "constant mean",
                            MeanModel::LinearTrend => "linear trend",
                        },
                        if d.overdispersed {
                            format!("above 1: intervals widened by √φ = {:.2} (quasi-Poisson)", d.scale)
                        } else {
                            "not above 1: intervals as Poisson".to_string()
                        }
                    ),
                )),
                other => rows.push(row_not(&name, other)),
            }
        }
        if let Some(harm) = &r.harm_weighted {
            rows.push(row(
                "Harm-weighted change in the target",
                harm.target.percent_change.map(pct).unwrap_or_else(|| "not defined".into()),
                harm.target.interval.map(ci).unwrap_or_default(),
            ));
        }
        rows
    }

    /// The series drawn: name, colour and a value per month, for areas with any value.
    fn lines(&self) -> Vec<PeriodLine> {
        let monthly = &self.report.basis.input.monthly;
        [
            PeriodLine {
                name: "Target",
                colour: TARGET,
                values: monthly.iter().map(|m| Some(m.counts.target)).collect(),
            },
            PeriodLine { name: "Buffer", colour: BUFFER, values: monthly.iter().map(|m| m.counts.buffer).collect() },
            PeriodLine {
                name: "Comparison",
                colour: COMPARISON,
                values: monthly.iter().map(|m| m.counts.comparison).collect(),
            },
        ]
        .into_iter()
        .filter(|l| l.values.iter().any(Option::is_some))
        .collect()
    }

    fn has_series(&self) -> bool {
        !self.report.basis.input.monthly.is_empty()
    }

    fn series_chart(&self) -> String {
        let monthly = &self.report.basis.input.monthly;
        let labels: Vec<String> = monthly.iter().map(|m| m.month.to_string()).collect();
        let after_from = self.report.result.periods.after.from;
        let words = format!("after period starts {after_from}");
        let marker = monthly.iter().position(|m| m.month >= after_from).map(|i| (i, words.as_str()));
        period_chart(
            "series",
            "Recorded crimes per month in the target, buffer and comparison areas; the dashed line marks the start of the after period. The same figures are in the table below.",
            &labels,
            &self.lines(),
            marker,
        )
    }

    /// The monthly table: month, period and a value per line.
    fn series_rows(&self) -> Vec<Row> {
        let p = &self.report.result.periods;
        let lines = self.lines();
        self.report
            .basis
            .input
            .monthly
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let period = if p.before.contains(m.month) {
                    "before"
                } else if p.after.contains(m.month) {
                    "after"
                } else if m.month < p.before.from {
                    "history"
                } else {
                    "gap"
                };
                let mut cells = vec![period.to_string()];
                cells.extend(lines.iter().map(|l| l.values[i].map(|v| v.to_string()).unwrap_or_default()));
                Row { name: m.month.to_string(), cells }
            })
            .collect()
    }

    fn buffer(&self) -> f64 {
        self.report.basis.areas.buffer_metres.unwrap_or(0.0)
    }

    fn has_comparison(&self) -> bool {
        self.report.basis.areas.comparison.is_some()
    }

    fn map(&self) -> Option<String> {
        let areas = &self.report.basis.areas;
        let mut outlines = vec![MapOutline { geometry: &areas.target.geometry, colour: TARGET, ring_colour: BUFFER }];
        if let Some(c) = &areas.comparison {
            outlines.push(MapOutline { geometry: &c.geometry, colour: COMPARISON, ring_colour: COMPARISON_BUFFER });
        }
        let buffer = self.buffer();
        let title = format!(
            "Outline of the target area{}{}.",
            if buffer > 0.0 { format!(" with its {buffer} m buffer ring") } else { String::new() },
            if areas.comparison.is_some() { " and of the comparison area" } else { "" }
        );
        area_map("map", &title, &outlines, buffer)
    }

    fn target_text(&self) -> String {
        describe_area(&self.report.basis.areas.target)
    }

    fn comparison_text(&self) -> Option<String> {
        self.report.basis.areas.comparison.as_ref().map(describe_area)
    }

    fn crime_types(&self) -> String {
        let types = &self.report.basis.design.crime_types;
        if types.is_empty() {
            "all crime types".to_string()
        } else {
            types.join(", ")
        }
    }

    fn buffer_text(&self) -> String {
        self.report.basis.areas.buffer_metres.map(|w| format!("{w} m")).unwrap_or_else(|| "none".into())
    }

    /// The buffer ring in words, for the list of areas.
    fn buffer_area_text(&self) -> Option<String> {
        let areas = &self.report.basis.areas;
        areas.buffer_metres.map(|w| {
            format!(
                "the ring up to {w} m around the target, outside it{}",
                if areas.comparison.is_some() { " (and a ring as wide around the comparison)" } else { "" }
            )
        })
    }

    fn months_text(&self) -> String {
        let months = &self.report.basis.data.months;
        match (months.first(), months.last()) {
            (Some(f), Some(l)) => format!("{f} to {l}"),
            _ => "none".into(),
        }
    }

    fn imports_text(&self) -> String {
        self.report.basis.data.import_ids.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(", ")
    }

    /// The suggested comparison's candidates: LSOA, mean per month, relative trend, score.
    fn suggestion(&self) -> Option<Vec<Row>> {
        self.report.basis.areas.suggestion.as_ref().map(|s| {
            s.iter()
                .map(|c| Row {
                    name: format!("{} {}", c.code, c.name),
                    cells: vec![
                        format!("{:.1}", c.level),
                        format!("{:+.3}", c.relative_trend),
                        format!("{:.3}", c.score),
                    ],
                })
                .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn area(kind: AreaKind, codes: &[&str], place_kinds: &[&str], geometry: serde_json::Value) -> AreaDescription {
        AreaDescription {
            kind,
            codes: codes.iter().map(|c| c.to_string()).collect(),
            place_kinds: place_kinds.iter().map(|c| c.to_string()).collect(),
            lsoa_census: (kind == AreaKind::Lsoa).then_some(2021),
            geometry,
        }
    }

    #[test]
    fn each_kind_of_area_is_described_as_what_it_is() {
        let empty = serde_json::json!({"type": "FeatureCollection", "features": []});
        let parks = area(AreaKind::Place, &["Hanley Park", "Burslem Park"], &["park", "park"], empty.clone());
        assert_eq!(
            describe_area(&parks),
            "2 places from the place register: Hanley Park (park or open space), Burslem Park (park or open space)"
        );
        // Stored before the places' kinds were kept: named, and still not called LSOAs.
        let old = area(AreaKind::Place, &["Hanley Park"], &[], empty.clone());
        assert_eq!(describe_area(&old), "1 place from the place register: Hanley Park");
        let lsoas = area(AreaKind::Lsoa, &["E01014200", "E01014201"], &[], empty.clone());
        assert_eq!(describe_area(&lsoas), "2 LSOAs (2021 census): E01014200, E01014201");
        assert_eq!(describe_area(&area(AreaKind::Ward, &["E05008000"], &[], empty)), "1 ward: E05008000");
        let drawn = serde_json::json!({"type": "FeatureCollection", "features": [
            {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": []}},
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [-2.2, 53.0]}}]});
        assert_eq!(
            describe_area(&area(AreaKind::Geojson, &[], &[], drawn)),
            "an outline drawn on the map or given as GeoJSON: 1 polygon and 1 circle"
        );
    }
}
