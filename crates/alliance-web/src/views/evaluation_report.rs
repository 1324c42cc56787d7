//! The evaluation report as one self-contained HTML page: inline CSS, an inline SVG chart
//! of the monthly series (intervention start marked) with its data table, a static SVG map
//! of the three areas, the verdict, caveats, every statistic and the methodology. No
//! scripts, no external requests: it can be emailed or archived as it is.

use std::fmt::Write;

use alliance_core::analytics::evaluation::verdict::format_p;
use alliance_core::analytics::evaluation::{AreaChange, Reported};
use alliance_core::analytics::poisson::Interval;
use alliance_db::evaluations::{AreaDescription, EvaluationReport};

pub(crate) fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

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

const CSS: &str = "body{font-family:Arial,sans-serif;color:#0b0c0c;max-width:960px;margin:0 auto;padding:20px;line-height:1.4}\
h1{font-size:2em}h2{margin-top:1.6em;border-bottom:1px solid #b1b4b6}table{border-collapse:collapse;margin:1em 0;width:100%}\
th,td{border-bottom:1px solid #b1b4b6;padding:6px 8px;text-align:left;vertical-align:top}td.num,th.num{text-align:right}\
.verdict{border-left:10px solid #1d70b8;padding:10px 15px;background:#f3f2f1;font-size:1.15em}\
.caveat{border-left:5px solid #d4351c;padding-left:10px}svg{max-width:100%;height:auto}\
.key span{display:inline-block;margin-right:1.5em}.swatch{display:inline-block;width:14px;height:14px;margin-right:4px;vertical-align:middle}\
small{color:#505a5f}";

const TARGET: &str = "#1d70b8";
const BUFFER: &str = "#f47738";
const COMPARISON: &str = "#00703c";
const COMPARISON_BUFFER: &str = "#4c2c92";

/// The whole page.
pub fn render(report: &EvaluationReport, title: &str) -> String {
    let r = &report.result;
    let b = &report.basis;
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{t}</title><style>{CSS}</style></head><body><main><h1>{t}</h1>",
        t = escape(title)
    );
    let _ = write!(
        h,
        "<p>Before: <strong>{}</strong> ({} months). After: <strong>{}</strong> ({} months).{}</p>",
        r.periods.before,
        r.periods.lengths.before_months,
        r.periods.after,
        r.periods.lengths.after_months,
        if r.periods.unequal_lengths {
            " The periods differ in length, so every comparison is of monthly rates."
        } else {
            ""
        }
    );
    let _ = write!(h, "<h2>Verdict</h2><p class=\"verdict\">{}</p>", escape(&r.verdict.summary));
    if !r.verdict.caveats.is_empty() {
        h.push_str("<h2>Caveats</h2><ul>");
        for c in &r.verdict.caveats {
            let _ = write!(h, "<li class=\"caveat\">{}</li>", escape(&c.text));
        }
        h.push_str("</ul>");
    }

    h.push_str("<h2>Counts and change in each area</h2><table><caption>Recorded crimes in each area, with the change in the monthly rate, its confidence interval and the E-test of the change</caption><thead><tr><th>Area</th><th class=\"num\">Before</th><th class=\"num\">After</th><th class=\"num\">Change</th><th>95% interval</th><th>E-test</th></tr></thead><tbody>");
    let rows: [(&str, Option<&AreaChange>); 4] = [
        ("Target", Some(&r.areas.target)),
        ("Buffer", r.areas.buffer.as_ref()),
        ("Comparison", r.areas.comparison.as_ref()),
        ("Comparison buffer", r.areas.comparison_buffer.as_ref()),
    ];
    for (name, change) in rows {
        let Some(c) = change else { continue };
        let _ = write!(
            h,
            "<tr><th scope=\"row\">{name}</th><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td></tr>",
            c.counts.before,
            c.counts.after,
            c.change.percent.map(pct).unwrap_or_else(|| "not defined".into()),
            ci(c.change.interval),
            c.e_test.as_ref().map(|e| format_p(e.p_value)).unwrap_or_else(|| "not run".into())
        );
    }
    h.push_str("</tbody></table>");

    h.push_str("<h2>Statistics</h2><table><thead><tr><th>Statistic</th><th>Value</th><th>Interval and test</th></tr></thead><tbody>");
    match &r.relative_effect {
        Reported::Defined { value } => {
            let _ = write!(
                h,
                "<tr><th scope=\"row\">Relative effect size, target against comparison (Farrington &amp; Welsh)</th><td>{:.3} (relative change {})</td><td>{} (RES above 1 means the target did better); {}</td></tr>",
                value.relative_effect_size,
                pct(value.relative_change_percent),
                escape(&format!("{:.3}–{:.3}", value.interval.lower, value.interval.upper)),
                format_p(value.p_value)
            );
        }
        other => row_not(&mut h, "Relative effect size", other),
    }
    let w = &r.weighted_displacement_difference;
    let _ = write!(
        h,
        "<tr><th scope=\"row\">Weighted displacement difference (Wheeler &amp; Ratcliffe 2018)</th><td>{:.1} crimes (SE {:.1})</td><td>{:.1} to {:.1}; z = {:.2}, {}</td></tr>",
        w.total.estimate,
        w.total.standard_error,
        w.interval.lower,
        w.interval.upper,
        w.z,
        format_p(w.p_value)
    );
    match &r.weighted_displacement_quotient {
        Reported::Defined { value } => {
            let _ = write!(
                h,
                "<tr><th scope=\"row\">Weighted displacement quotient (Bowers &amp; Johnson 2003)</th><td>{:.2}</td><td>total net effect {:.1} crimes</td></tr>",
                value.wdq, value.total_net_effect
            );
        }
        other => row_not(&mut h, "Weighted displacement quotient", other),
    }
    match &r.difference_in_differences {
        Reported::Defined { value } => {
            let _ = write!(
                h,
                "<tr><th scope=\"row\">Difference in differences (crimes per month)</th><td>{:.2}</td><td>{:.2} to {:.2}; t = {:.2}, {}</td></tr>",
                value.estimate,
                value.interval.lower,
                value.interval.upper,
                value.t,
                format_p(value.p_value)
            );
        }
        other => row_not(&mut h, "Difference in differences", other),
    }
    match &r.pre_trend {
        Reported::Defined { value } => {
            let _ = write!(
                h,
                "<tr><th scope=\"row\">Pre-trend check (slope difference, crimes per month per month)</th><td>{:.3}</td><td>t = {:.2}, {}; {}</td></tr>",
                value.slope_difference,
                value.t,
                format_p(value.p_value),
                if value.diverging { "diverging" } else { "not diverging" }
            );
        }
        other => row_not(&mut h, "Pre-trend check", other),
    }
    let _ = write!(
        h,
        "<tr><th scope=\"row\">Regression to the mean</th><td>{}</td><td>{} months of history</td></tr>",
        if r.regression_to_the_mean.flagged { "flagged" } else { "not flagged" },
        r.regression_to_the_mean.history_months
    );
    let od = &r.overdispersion;
    let dispersion_rows = [
        ("target", Some(&od.target)),
        ("buffer", od.buffer.as_ref()),
        ("comparison", od.comparison.as_ref()),
        ("comparison buffer", od.comparison_buffer.as_ref()),
    ];
    for (area, reported) in dispersion_rows {
        let name = format!("Overdispersion of the {area}'s before-period monthly counts (Pearson χ² / df)");
        match reported {
            Some(Reported::Defined { value: d }) => {
                let _ = write!(
                    h,
                    "<tr><th scope=\"row\">{}</th><td>{:.2}</td><td>χ² = {:.2} on {} df against a {}; {}</td></tr>",
                    escape(&name),
                    d.phi,
                    d.pearson_chi_square,
                    d.degrees_of_freedom,
                    match d.mean_model {
                        alliance_core::analytics::evaluation::MeanModel::Constant => "constant mean",
                        alliance_core::analytics::evaluation::MeanModel::LinearTrend => "linear trend",
                    },
                    if d.overdispersed {
                        format!("above 1: intervals widened by √φ = {:.2} (quasi-Poisson)", d.scale)
                    } else {
                        "not above 1: intervals as Poisson".to_string()
                    }
                );
            }
            Some(other) => row_not(&mut h, &name, other),
            None => {}
        }
    }
    if let Some(harm) = &r.harm_weighted {
        let _ = write!(
            h,
            "<tr><th scope=\"row\">Harm-weighted change in the target</th><td>{}</td><td>{}</td></tr>",
            harm.target.percent_change.map(pct).unwrap_or_else(|| "not defined".into()),
            harm.target.interval.map(ci).unwrap_or_default()
        );
    }
    h.push_str("</tbody></table>");

    h.push_str(&series_section(report));
    h.push_str(&map_section(report));

    h.push_str("<h2>Method</h2>");
    let _ = write!(
        h,
        "<p>{}</p><p>Percentage changes compare monthly rates, <code>100 × (after rate ÷ before rate − 1)</code>, with \
         Poisson rate-ratio intervals; the change in each area is tested with the Poisson E-test (Krishnamoorthy &amp; \
         Thomson 2004). The relative effect size is the ratio of the comparison's rate ratio to the target's (Farrington \
         &amp; Welsh). The weighted displacement difference and its standard error follow Wheeler &amp; Ratcliffe (2018); \
         the weighted displacement quotient and total net effect follow Bowers &amp; Johnson (2003), reported only where \
         defined. Difference in differences uses the monthly series with a check that the pre-period trends are parallel. \
         The dispersion of each area's before-period monthly counts (Pearson χ² over its degrees of freedom, against a \
         linear trend, or a constant mean when a trend cannot be fitted) checks the Poisson assumption; above 1, that \
         area's rate-ratio interval and the relative effects it enters are widened by its square root (quasi-Poisson).</p>",
        escape(&b.areas.conventions)
    );
    let types =
        if b.design.crime_types.is_empty() { "all crime types".to_string() } else { b.design.crime_types.join(", ") };
    let _ = write!(
        h,
        "<p>Crime types: {}. Buffer: {}. Data: data.police.uk street-level crime, {} months imported ({}), imports {}; \
         {} located crimes considered, {} placed in an area. Coordinates are anonymised snap points, so crimes near an \
         edge may be placed on either side.</p>",
        escape(&types),
        b.areas.buffer_metres.map(|w| format!("{w} m")).unwrap_or_else(|| "none".into()),
        b.data.months.len(),
        match (b.data.months.first(), b.data.months.last()) {
            (Some(f), Some(l)) => format!("{f} to {l}"),
            _ => "none".into(),
        },
        b.data.import_ids.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(", "),
        b.data.crimes_considered,
        b.data.crimes_placed
    );
    if let Some(s) = &b.areas.suggestion {
        h.push_str("<p>The comparison area was suggested: the LSOAs nearby (not in the target or its buffer) whose before-period level and trend were most alike the target's (score = |ln((level + 0.5) / (target level ÷ k + 0.5))| + months × |relative trend difference|; lower is more alike).</p><table><thead><tr><th>LSOA</th><th class=\"num\">Mean per month</th><th class=\"num\">Relative trend per month</th><th class=\"num\">Score</th></tr></thead><tbody>");
        for c in s {
            let _ = write!(
                h,
                "<tr><td>{} {}</td><td class=\"num\">{:.1}</td><td class=\"num\">{:+.3}</td><td class=\"num\">{:.3}</td></tr>",
                escape(&c.code),
                escape(&c.name),
                c.level,
                c.relative_trend,
                c.score
            );
        }
        h.push_str("</tbody></table>");
    }
    h.push_str("<p><small>Contains public sector information licensed under the Open Government Licence v3.0. Produced by Alliance.</small></p></main></body></html>");
    h
}

fn row_not<T, R: serde::Serialize>(h: &mut String, name: &str, reported: &Reported<T, R>) {
    let why = match reported {
        Reported::NotApplicable { because } => because.clone(),
        Reported::NotDefined { reason } => serde_json::to_value(reason)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string).or_else(|| Some(v.to_string())))
            .unwrap_or_default()
            .replace('_', " "),
        Reported::Defined { .. } => String::new(),
    };
    let _ = write!(h, "<tr><th scope=\"row\">{}</th><td>not reported</td><td>{}</td></tr>", escape(name), escape(&why));
}

fn series_section(report: &EvaluationReport) -> String {
    let monthly = &report.basis.input.monthly;
    let mut h = String::from("<h2>Monthly series</h2>");
    if monthly.is_empty() {
        return h;
    }
    let lines: Vec<(&str, &str, Vec<Option<u64>>)> = vec![
        ("Target", TARGET, monthly.iter().map(|m| Some(m.target)).collect()),
        ("Buffer", BUFFER, monthly.iter().map(|m| m.buffer).collect()),
        ("Comparison", COMPARISON, monthly.iter().map(|m| m.comparison).collect()),
    ];
    let lines: Vec<_> = lines.into_iter().filter(|l| l.2.iter().any(Option::is_some)).collect();
    let max = lines.iter().flat_map(|l| l.2.iter().flatten()).copied().max().unwrap_or(0).max(1) as f64;
    let (w, hh, left, bottom, top) = (900.0, 320.0, 50.0, 50.0, 15.0);
    let n = monthly.len();
    let x = |i: usize| left + if n > 1 { (w - left - 20.0) * i as f64 / (n - 1) as f64 } else { (w - left) / 2.0 };
    let y = |v: f64| top + (hh - top - bottom) * (1.0 - v / max);
    let _ = write!(
        h,
        "<svg viewBox=\"0 0 {w} {hh}\" role=\"img\" aria-labelledby=\"series-title\" xmlns=\"http://www.w3.org/2000/svg\"><title id=\"series-title\">Recorded crimes per month in the target, buffer and comparison areas; the dashed line marks the start of the after period. The same figures are in the table below.</title>"
    );
    let _ =
        write!(h, "<line x1=\"{left}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#0b0c0c\"/>", y(0.0), w - 20.0, y(0.0));
    for tick in [0.0, max / 2.0, max] {
        let _ = write!(
            h,
            "<text x=\"{}\" y=\"{}\" font-size=\"12\" text-anchor=\"end\">{:.0}</text>",
            left - 6.0,
            y(tick) + 4.0,
            tick
        );
    }
    let after_from = report.result.periods.after.from;
    if let Some(i) = monthly.iter().position(|m| m.month >= after_from) {
        let xs = if i > 0 { (x(i) + x(i - 1)) / 2.0 } else { x(i) };
        let _ = write!(
            h,
            "<line x1=\"{xs}\" y1=\"{top}\" x2=\"{xs}\" y2=\"{}\" stroke=\"#d4351c\" stroke-dasharray=\"6 4\" stroke-width=\"2\"/><text x=\"{}\" y=\"{}\" font-size=\"12\" fill=\"#d4351c\">after period starts {}</text>",
            y(0.0),
            xs + 4.0,
            top + 10.0,
            after_from
        );
    }
    for (i, m) in monthly.iter().enumerate() {
        if n <= 24 || i % (n / 12).max(1) == 0 {
            let _ = write!(
                h,
                "<text x=\"{}\" y=\"{}\" font-size=\"11\" text-anchor=\"middle\">{}</text>",
                x(i),
                y(0.0) + 18.0,
                m.month
            );
        }
    }
    for (_, colour, values) in &lines {
        let mut path = String::new();
        let mut pen_up = true;
        for (i, v) in values.iter().enumerate() {
            match v {
                Some(v) => {
                    let _ = write!(path, "{}{:.1},{:.1} ", if pen_up { "M" } else { "L" }, x(i), y(*v as f64));
                    pen_up = false;
                }
                None => pen_up = true,
            }
        }
        let _ = write!(h, "<path d=\"{path}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2.5\"/>");
        for (i, v) in values.iter().enumerate() {
            if let Some(v) = v {
                let _ = write!(h, "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{colour}\"/>", x(i), y(*v as f64));
            }
        }
    }
    h.push_str("</svg><p class=\"key\">");
    for (name, colour, _) in &lines {
        let _ = write!(h, "<span><span class=\"swatch\" style=\"background:{colour}\"></span>{name}</span>");
    }
    h.push_str("</p><table><caption>Recorded crimes per month</caption><thead><tr><th>Month</th><th>Period</th>");
    for (name, _, _) in &lines {
        let _ = write!(h, "<th class=\"num\">{name}</th>");
    }
    h.push_str("</tr></thead><tbody>");
    let p = &report.result.periods;
    for (i, m) in monthly.iter().enumerate() {
        let period = if p.before.contains(m.month) {
            "before"
        } else if p.after.contains(m.month) {
            "after"
        } else if m.month < p.before.from {
            "history"
        } else {
            "gap"
        };
        let _ = write!(h, "<tr><td>{}</td><td>{period}</td>", m.month);
        for (_, _, values) in &lines {
            let _ = write!(h, "<td class=\"num\">{}</td>", values[i].map(|v| v.to_string()).unwrap_or_default());
        }
        h.push_str("</tr>");
    }
    h.push_str("</tbody></table>");
    h
}

/// A closed ring of (lon, lat) vertices.
type Ring = Vec<(f64, f64)>;
/// A circle: centre lon, lat and radius in metres.
type Circle = (f64, f64, f64);

/// Rings of a GeoJSON FeatureCollection (polygons) and circles (lon, lat, radius).
fn shapes(area: &AreaDescription) -> (Vec<Ring>, Vec<Circle>) {
    let (mut rings, mut circles) = (Vec::new(), Vec::new());
    let features = area.geometry.get("features").and_then(|f| f.as_array()).cloned().unwrap_or_default();
    let ring = |r: &serde_json::Value| -> Vec<(f64, f64)> {
        r.as_array()
            .map(|pts| pts.iter().filter_map(|p| Some((p.get(0)?.as_f64()?, p.get(1)?.as_f64()?))).collect())
            .unwrap_or_default()
    };
    for f in &features {
        let g = &f["geometry"];
        match g["type"].as_str() {
            Some("Polygon") => rings.extend(g["coordinates"].as_array().into_iter().flatten().map(ring)),
            Some("MultiPolygon") => rings.extend(
                g["coordinates"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .flat_map(|p| p.as_array().cloned().unwrap_or_default())
                    .map(|r| ring(&r)),
            ),
            Some("Point") => {
                if let (Some(lon), Some(lat), Some(r)) = (
                    g["coordinates"][0].as_f64(),
                    g["coordinates"][1].as_f64(),
                    f["properties"]["radius_metres"].as_f64(),
                ) {
                    circles.push((lon, lat, r));
                }
            }
            _ => {}
        }
    }
    (rings, circles)
}

fn map_section(report: &EvaluationReport) -> String {
    let areas = &report.basis.areas;
    let mut all: Vec<(&AreaDescription, &str, &str)> = vec![(&areas.target, TARGET, "Target")];
    if let Some(c) = &areas.comparison {
        all.push((c, COMPARISON, "Comparison"));
    }
    let parsed: Vec<_> = all.iter().map(|(a, colour, name)| (shapes(a), *colour, *name)).collect();
    // Equirectangular projection about the mean latitude: metres east and north.
    let mut pts: Vec<(f64, f64)> = Vec::new();
    for ((rings, circles), _, _) in &parsed {
        pts.extend(rings.iter().flatten().copied());
        pts.extend(circles.iter().map(|c| (c.0, c.1)));
    }
    if pts.is_empty() {
        return String::new();
    }
    let lat0 = pts.iter().map(|p| p.1).sum::<f64>() / pts.len() as f64;
    let kx = 111_320.0 * lat0.to_radians().cos();
    let ky = 110_574.0;
    let buffer = areas.buffer_metres.unwrap_or(0.0);
    let pad = buffer * 1.2 + 100.0;
    let max_r = parsed.iter().flat_map(|((_, c), _, _)| c.iter().map(|c| c.2)).fold(0.0, f64::max);
    let (mut x0, mut y0, mut x1, mut y1) = (f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY);
    for (lon, lat) in &pts {
        let (x, y) = (lon * kx, lat * ky);
        x0 = x0.min(x - max_r);
        x1 = x1.max(x + max_r);
        y0 = y0.min(y - max_r);
        y1 = y1.max(y + max_r);
    }
    let (x0, y0, x1, y1) = (x0 - pad, y0 - pad, x1 + pad, y1 + pad);
    let (w, h) = (x1 - x0, y1 - y0);
    let mut s = String::from("<h2>Map of the areas</h2>");
    let _ = write!(
        s,
        "<svg viewBox=\"0 0 {w:.0} {h:.0}\" width=\"800\" role=\"img\" aria-labelledby=\"map-title\" xmlns=\"http://www.w3.org/2000/svg\" style=\"background:#f3f2f1\"><title id=\"map-title\">Outline of the target area{}{}.</title>",
        if buffer > 0.0 { format!(" with its {buffer} m buffer ring") } else { String::new() },
        if areas.comparison.is_some() { " and of the comparison area" } else { "" }
    );
    let px = |lon: f64, lat: f64| (lon * kx - x0, y1 - lat * ky);
    let path_of = |rings: &[Vec<(f64, f64)>]| -> String {
        let mut d = String::new();
        for r in rings {
            for (i, (lon, lat)) in r.iter().enumerate() {
                let (x, y) = px(*lon, *lat);
                let _ = write!(d, "{}{x:.1},{y:.1} ", if i == 0 { "M" } else { "L" });
            }
            d.push('Z');
        }
        d
    };
    // The buffer ring drawn exactly as a round-joined stroke of twice its width around the
    // outline (the outline's Minkowski sum with a disc), under the fill.
    for ((rings, circles), colour, name) in &parsed {
        let d = path_of(rings);
        let ring_colour = if *name == "Target" { BUFFER } else { COMPARISON_BUFFER };
        if buffer > 0.0 {
            let _ = write!(s, "<path d=\"{d}\" fill=\"{ring_colour}\" fill-opacity=\"0.35\" stroke=\"{ring_colour}\" stroke-opacity=\"0.35\" stroke-width=\"{:.1}\" stroke-linejoin=\"round\"/>", 2.0 * buffer);
            for (lon, lat, r) in circles {
                let (x, y) = px(*lon, *lat);
                let _ = write!(
                    s,
                    "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"{:.1}\" fill=\"{ring_colour}\" fill-opacity=\"0.35\"/>",
                    r + buffer
                );
            }
        }
        let _ = write!(s, "<path d=\"{d}\" fill=\"{colour}\" fill-opacity=\"0.55\" stroke=\"{colour}\" stroke-width=\"{:.1}\" fill-rule=\"evenodd\"/>", w / 400.0);
        for (lon, lat, r) in circles {
            let (x, y) = px(*lon, *lat);
            let _ =
                write!(s, "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"{r:.1}\" fill=\"{colour}\" fill-opacity=\"0.55\"/>");
        }
    }
    // A scale bar.
    let bar =
        [100.0, 200.0, 500.0, 1000.0, 2000.0, 5000.0, 10_000.0].into_iter().find(|b| *b >= w / 8.0).unwrap_or(10_000.0);
    let _ = write!(
        s,
        "<line x1=\"{:.0}\" y1=\"{:.0}\" x2=\"{:.0}\" y2=\"{:.0}\" stroke=\"#0b0c0c\" stroke-width=\"{:.1}\"/><text x=\"{:.0}\" y=\"{:.0}\" font-size=\"{:.0}\">{} m</text>",
        w * 0.04,
        h * 0.95,
        w * 0.04 + bar,
        h * 0.95,
        w / 200.0,
        w * 0.04,
        h * 0.95 - w / 100.0,
        w / 40.0,
        bar
    );
    s.push_str("</svg><p class=\"key\">");
    let _ = write!(s, "<span><span class=\"swatch\" style=\"background:{TARGET}\"></span>Target</span>");
    if buffer > 0.0 {
        let _ =
            write!(s, "<span><span class=\"swatch\" style=\"background:{BUFFER}\"></span>Buffer ({buffer} m)</span>");
    }
    if areas.comparison.is_some() {
        let _ = write!(s, "<span><span class=\"swatch\" style=\"background:{COMPARISON}\"></span>Comparison</span>");
        if buffer > 0.0 {
            let _ = write!(
                s,
                "<span><span class=\"swatch\" style=\"background:{COMPARISON_BUFFER}\"></span>Comparison buffer</span>"
            );
        }
    }
    s.push_str("</p>");
    let describe = |a: &AreaDescription| -> String {
        if a.codes.is_empty() {
            format!("{} drawn shape(s)", a.geometry["features"].as_array().map_or(0, Vec::len))
        } else {
            format!("{} {}: {}", a.codes.len(), if a.kind == "ward" { "wards" } else { "LSOAs" }, a.codes.join(", "))
        }
    };
    let _ = write!(s, "<p>Target: {}.", escape(&describe(&areas.target)));
    if let Some(c) = &areas.comparison {
        let _ = write!(s, " Comparison: {}.", escape(&describe(c)));
    }
    s.push_str("</p>");
    s
}
