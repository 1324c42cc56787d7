//! Line charts as inline SVG, drawn on the server. Every chart is shown with a data table
//! beside it, so the SVG is marked as an image with a text alternative.

use std::fmt::Write;

use crate::html::escape;

/// One line: a name, a colour and a value per label (`None` where there is no data, which
/// leaves a gap rather than drawing zero).
pub struct Series {
    pub name: String,
    pub colour: &'static str,
    pub values: Vec<Option<i64>>,
}

/// Colours from the GOV.UK palette with enough contrast against white.
pub const COLOURS: [&str; 4] = ["#1d70b8", "#d4351c", "#00703c", "#4c2c92"];

const WIDTH: f64 = 960.0;
const HEIGHT: f64 = 360.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 20.0;
const BOTTOM: f64 = 60.0;

/// A "nice" axis maximum and step for values up to `max`: 1, 2 or 5 times a power of ten.
pub fn nice_scale(max: i64) -> (i64, i64) {
    if max <= 0 {
        return (1, 1);
    }
    let rough = max as f64 / 5.0;
    let power = 10f64.powf(rough.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * power).find(|s| *s >= rough).unwrap_or(10.0 * power);
    let step = step.max(1.0) as i64;
    let top = ((max + step - 1) / step) * step;
    (top, step)
}

/// Draws the series over the labels. `id` must be unique in the page; `title` and
/// `description` become the chart's accessible name and description.
pub fn line_chart(id: &str, title: &str, description: &str, labels: &[String], series: &[Series]) -> String {
    let max = series.iter().flat_map(|s| s.values.iter().flatten()).copied().max().unwrap_or(0);
    let (top, step) = nice_scale(max);
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let x =
        |i: usize| LEFT + if labels.len() > 1 { plot_w * i as f64 / (labels.len() - 1) as f64 } else { plot_w / 2.0 };
    let y = |v: i64| TOP + plot_h * (1.0 - v as f64 / top as f64);
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="app-chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="{id}-title {id}-desc" xmlns="http://www.w3.org/2000/svg"><title id="{id}-title">{}</title><desc id="{id}-desc">{}</desc>"#,
        escape(title),
        escape(description)
    );
    let mut tick = 0;
    while tick <= top {
        let ty = y(tick);
        let _ = write!(
            svg,
            r#"<line class="app-chart__grid" x1="{LEFT}" x2="{}" y1="{ty:.1}" y2="{ty:.1}"/><text x="{}" y="{:.1}" text-anchor="end">{}</text>"#,
            WIDTH - RIGHT,
            LEFT - 8.0,
            ty + 5.0,
            alliance_core::format::count(tick)
        );
        tick += step;
    }
    let _ = write!(
        svg,
        r#"<line class="app-chart__axis" x1="{LEFT}" x2="{}" y1="{}" y2="{}"/>"#,
        WIDTH - RIGHT,
        TOP + plot_h,
        TOP + plot_h
    );
    let every = labels.len().div_ceil(12).max(1);
    for (i, label) in labels.iter().enumerate() {
        if i % every == 0 || i + 1 == labels.len() {
            let _ = write!(
                svg,
                r#"<text x="{:.1}" y="{}" text-anchor="end" transform="rotate(-35 {:.1} {})">{}</text>"#,
                x(i),
                TOP + plot_h + 20.0,
                x(i),
                TOP + plot_h + 20.0,
                escape(label)
            );
        }
    }
    for s in series {
        let mut path = String::new();
        let mut pen_down = false;
        for (i, v) in s.values.iter().enumerate() {
            match v {
                Some(v) => {
                    let _ = write!(path, "{}{:.1},{:.1} ", if pen_down { "L" } else { "M" }, x(i), y(*v));
                    pen_down = true;
                }
                None => pen_down = false,
            }
        }
        if !path.is_empty() {
            let _ = write!(svg, r#"<path class="app-chart__line" stroke="{}" d="{}"/>"#, s.colour, path.trim_end());
        }
        for (i, v) in s.values.iter().enumerate() {
            let isolated = v.is_some()
                && (i == 0 || s.values[i - 1].is_none())
                && (i + 1 == s.values.len() || s.values[i + 1].is_none());
            if let (true, Some(v)) = (isolated, v) {
                let _ = write!(svg, r#"<circle cx="{:.1}" cy="{:.1}" r="4" fill="{}"/>"#, x(i), y(*v), s.colour);
            }
        }
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_to_round_numbers() {
        assert_eq!(nice_scale(0), (1, 1));
        assert_eq!(nice_scale(7), (8, 2));
        assert_eq!(nice_scale(9395), (10000, 2000));
        assert_eq!(nice_scale(101), (150, 50));
    }

    #[test]
    fn gaps_are_not_drawn_as_zero() {
        let svg = line_chart(
            "t",
            "Title & more",
            "Desc",
            &["a".into(), "b".into(), "c".into()],
            &[Series { name: "s".into(), colour: COLOURS[0], values: vec![Some(5), None, Some(7)] }],
        );
        assert!(svg.contains("Title &#38; more"));
        assert_eq!(svg.matches("<circle").count(), 2, "two isolated points, no line through the gap");
        assert!(!svg.contains(" L"), "no segment joins across the missing month");
    }
}
