//! The one SVG toolkit: line charts, horizontal bar charts and choropleth maps, drawn on the
//! server as inline SVG. Every chart is shown with a data table beside it, so the SVG is
//! marked as an image with a text alternative. Text inside is escaped here.

use std::collections::HashMap;
use std::fmt::Write;

use alliance_core::geo::projection::BngProjector;

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

/// One bar of a horizontal bar chart: its label, its value (`None` for a figure that is not
/// published, drawn as no bar), the words shown at its end and its colour.
pub struct Bar {
    pub label: String,
    pub value: Option<f64>,
    pub text: String,
    pub colour: &'static str,
}

impl Bar {
    /// A bar in the default blue.
    pub fn new(label: impl Into<String>, value: Option<f64>, text: impl Into<String>) -> Bar {
        Bar { label: label.into(), value, text: text.into(), colour: COLOURS[0] }
    }
}

/// The widths of a bar chart: the label column, the whole chart, and the room kept right of
/// the longest bar for its words.
#[derive(Debug, Clone, Copy)]
pub struct BarLayout {
    pub label_width: f64,
    pub width: f64,
    pub text_room: f64,
}

impl Default for BarLayout {
    fn default() -> BarLayout {
        BarLayout { label_width: 230.0, width: 720.0, text_room: 70.0 }
    }
}

/// A horizontal bar chart of non-negative values, scaled to the largest; a bar with no value
/// is drawn as words only, never as a zero.
pub fn bar_chart(id: &str, title: &str, description: &str, bars: &[Bar], layout: BarLayout) -> String {
    let max = bars.iter().filter_map(|b| b.value).fold(0.0, f64::max);
    let row = 26.0;
    let BarLayout { label_width, width, text_room } = layout;
    let height = row * bars.len() as f64 + 10.0;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="app-chart" id="{id}" viewBox="0 0 {width} {height}" role="img" aria-labelledby="{id}-title {id}-desc" xmlns="http://www.w3.org/2000/svg"><title id="{id}-title">{}</title><desc id="{id}-desc">{}</desc>"#,
        escape(title),
        escape(description)
    );
    for (i, bar) in bars.iter().enumerate() {
        let y = 5.0 + row * i as f64;
        let w = match bar.value {
            Some(v) if max > 0.0 && v > 0.0 => ((width - label_width - text_room) * v / max).max(1.0),
            _ => 0.0,
        };
        let _ = write!(
            svg,
            r#"<text x="{}" y="{}" text-anchor="end">{}</text><rect x="{label_width}" y="{}" width="{w:.1}" height="18" fill="{}"/><text x="{}" y="{}">{}</text>"#,
            label_width - 8.0,
            y + 14.0,
            escape(&bar.label),
            y + 1.0,
            bar.colour,
            label_width + w + 6.0,
            y + 14.0,
            escape(&bar.text)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// An area of a choropleth map: its code and name (the tooltip), its outline as GeoJSON
/// geometry text in WGS84, its value and the words for the value.
pub struct MapArea<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub geometry: &'a str,
    pub value: Option<f64>,
    pub text: String,
}

/// Light to dark blue (sequential, distinguishable in greyscale print); grey for no value.
const MAP_CLASSES: [&str; 5] = ["#deebf7", "#9ecae1", "#6baed6", "#2171b5", "#08306b"];
const MAP_NO_DATA: &str = "#f3f2f1";
const MAP_WIDTH: f64 = 720.0;
/// Points closer than this (metres) to the previous one are dropped when drawing.
const SIMPLIFY_M: f64 = 30.0;

/// The quintile upper bounds of the values (4 breaks), by nearest rank on the sorted values.
pub fn quintile_breaks(values: &[f64]) -> Vec<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|r| r.is_finite()).collect();
    if v.is_empty() {
        return Vec::new();
    }
    v.sort_by(f64::total_cmp);
    (1..5).map(|k| v[((k * v.len()).div_ceil(5)).saturating_sub(1).min(v.len() - 1)]).collect()
}

fn class_of(value: f64, breaks: &[f64]) -> usize {
    breaks.iter().position(|b| value <= *b).unwrap_or(breaks.len())
}

/// The outer and inner rings of a GeoJSON Polygon or MultiPolygon, as (lon, lat) points.
pub fn rings(geometry: &serde_json::Value) -> Vec<Vec<(f64, f64)>> {
    let ring = |r: &serde_json::Value| -> Vec<(f64, f64)> {
        r.as_array()
            .map(|pts| pts.iter().filter_map(|p| Some((p.get(0)?.as_f64()?, p.get(1)?.as_f64()?))).collect())
            .unwrap_or_default()
    };
    let coords = geometry.get("coordinates");
    match geometry.get("type").and_then(|t| t.as_str()) {
        Some("Polygon") => {
            coords.and_then(|c| c.as_array()).map(|rs| rs.iter().map(ring).collect()).unwrap_or_default()
        }
        Some("MultiPolygon") => coords
            .and_then(|c| c.as_array())
            .map(|ps| ps.iter().filter_map(|p| p.as_array()).flat_map(|rs| rs.iter().map(ring)).collect())
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// The words of a map: its accessible title and description, the legend's heading and the
/// legend's entry for areas with no value.
pub struct MapText<'a> {
    pub title: &'a str,
    pub description: &'a str,
    pub legend: &'a str,
    pub no_value: &'a str,
}

/// A static choropleth map: the areas projected to the British National Grid and shaded in
/// five classes (quintiles of the values), with a legend. `None` when no area has a drawable
/// outline (the page says so instead).
pub fn choropleth(id: &str, text: &MapText, areas: &[MapArea]) -> Option<String> {
    let projector = BngProjector::new().ok()?;
    type Rings = Vec<Vec<(f64, f64)>>;
    let mut shapes: Vec<(&MapArea, Rings)> = Vec::new();
    let (mut min_x, mut min_y, mut max_x, mut max_y) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    let mut seen: HashMap<&str, ()> = HashMap::new();
    for area in areas {
        if seen.insert(area.code, ()).is_some() {
            continue;
        }
        let Ok(geometry) = serde_json::from_str::<serde_json::Value>(area.geometry) else { continue };
        let mut projected = Vec::new();
        for ring in rings(&geometry) {
            let mut out: Vec<(f64, f64)> = Vec::with_capacity(ring.len());
            for (lon, lat) in ring {
                let Ok((x, y)) = projector.to_bng(lon, lat) else { continue };
                if out.last().is_some_and(|(px, py)| (px - x).abs() < SIMPLIFY_M && (py - y).abs() < SIMPLIFY_M) {
                    continue;
                }
                min_x = min_x.min(x);
                max_x = max_x.max(x);
                min_y = min_y.min(y);
                max_y = max_y.max(y);
                out.push((x, y));
            }
            if out.len() >= 3 {
                projected.push(out);
            }
        }
        if !projected.is_empty() {
            shapes.push((area, projected));
        }
    }
    if shapes.is_empty() {
        return None;
    }
    let span_x = (max_x - min_x).max(1.0);
    let span_y = (max_y - min_y).max(1.0);
    let scale = MAP_WIDTH / span_x;
    let height = (span_y * scale).ceil();
    let legend_h = 30.0 + 22.0 * 6.0;
    let values: Vec<f64> = shapes.iter().filter_map(|(a, _)| a.value).collect();
    let breaks = quintile_breaks(&values);
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="app-map" viewBox="0 0 {MAP_WIDTH} {}" role="img" aria-labelledby="{id}-title {id}-desc" xmlns="http://www.w3.org/2000/svg"><title id="{id}-title">{}</title><desc id="{id}-desc">{}</desc>"#,
        height + legend_h,
        escape(text.title),
        escape(&text.description.replace("{n}", &shapes.len().to_string()))
    );
    for (area, rings) in &shapes {
        let fill = area.value.map_or(MAP_NO_DATA, |r| MAP_CLASSES[class_of(r, &breaks).min(4)]);
        let mut d = String::new();
        for ring in rings {
            for (i, (x, y)) in ring.iter().enumerate() {
                let px = (x - min_x) * scale;
                let py = (max_y - y) * scale;
                let _ = write!(d, "{}{px:.1} {py:.1}", if i == 0 { "M" } else { "L" });
            }
            d.push('Z');
        }
        let _ = write!(
            svg,
            r##"<path d="{d}" fill="{fill}" stroke="#505a5f" stroke-width="0.3"><title>{} {}: {}</title></path>"##,
            escape(area.code),
            escape(area.name),
            escape(&area.text)
        );
    }
    let top = height + 20.0;
    let _ = write!(svg, r#"<text x="0" y="{top}" class="app-map__legend-title">{}</text>"#, escape(text.legend));
    let mut lower = 0.0;
    for (i, colour) in MAP_CLASSES.iter().enumerate() {
        let y = top + 10.0 + 22.0 * i as f64;
        let label = match breaks.get(i) {
            Some(b) if i == 0 => format!("up to {b:.1}"),
            Some(b) => format!("{lower:.1} to {b:.1}"),
            None => format!("above {lower:.1}"),
        };
        if let Some(b) = breaks.get(i) {
            lower = *b;
        }
        let _ = write!(
            svg,
            r##"<rect x="0" y="{y}" width="30" height="16" fill="{colour}" stroke="#505a5f"/><text x="40" y="{}">{}</text>"##,
            y + 13.0,
            label
        );
    }
    let y = top + 10.0 + 22.0 * 5.0;
    let _ = write!(
        svg,
        r##"<rect x="0" y="{y}" width="30" height="16" fill="{MAP_NO_DATA}" stroke="#505a5f"/><text x="40" y="{}">{}</text></svg>"##,
        y + 13.0,
        escape(text.no_value)
    );
    Some(svg)
}

/// One line of a [`period_chart`]: its name, colour and a value per month (`None`: no value).
pub struct PeriodLine {
    pub name: &'static str,
    pub colour: &'static str,
    pub values: Vec<Option<u64>>,
}

/// A line chart of monthly counts with a dashed marker where a period starts (`marker`: the
/// index of the first month after it, and its words).
pub fn period_chart(
    id: &str,
    title: &str,
    labels: &[String],
    lines: &[PeriodLine],
    marker: Option<(usize, &str)>,
) -> String {
    let mut h = String::new();
    let max = lines.iter().flat_map(|l| l.values.iter().flatten()).copied().max().unwrap_or(0).max(1) as f64;
    let (w, hh, left, bottom, top) = (900.0, 320.0, 50.0, 50.0, 15.0);
    let n = labels.len();
    let x = |i: usize| left + if n > 1 { (w - left - 20.0) * i as f64 / (n - 1) as f64 } else { (w - left) / 2.0 };
    let y = |v: f64| top + (hh - top - bottom) * (1.0 - v / max);
    let _ = write!(
        h,
        "<svg class=\"app-chart\" viewBox=\"0 0 {w} {hh}\" role=\"img\" aria-labelledby=\"{id}-title\" xmlns=\"http://www.w3.org/2000/svg\"><title id=\"{id}-title\">{}</title>",
        escape(title)
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
    if let Some((i, words)) = marker {
        let xs = if i > 0 { (x(i) + x(i - 1)) / 2.0 } else { x(i) };
        let _ = write!(
            h,
            "<line x1=\"{xs}\" y1=\"{top}\" x2=\"{xs}\" y2=\"{}\" stroke=\"#d4351c\" stroke-dasharray=\"6 4\" stroke-width=\"2\"/><text x=\"{}\" y=\"{}\" font-size=\"12\" fill=\"#d4351c\">{}</text>",
            y(0.0),
            xs + 4.0,
            top + 10.0,
            escape(words)
        );
    }
    for (i, label) in labels.iter().enumerate() {
        if n <= 24 || i % (n / 12).max(1) == 0 {
            let _ = write!(
                h,
                "<text x=\"{}\" y=\"{}\" font-size=\"11\" text-anchor=\"middle\">{}</text>",
                x(i),
                y(0.0) + 18.0,
                escape(label)
            );
        }
    }
    for line in lines {
        let colour = line.colour;
        let mut path = String::new();
        let mut pen_up = true;
        for (i, v) in line.values.iter().enumerate() {
            match v {
                Some(v) => {
                    let _ = write!(path, "{}{:.1},{:.1} ", if pen_up { "M" } else { "L" }, x(i), y(*v as f64));
                    pen_up = false;
                }
                None => pen_up = true,
            }
        }
        let _ = write!(h, "<path d=\"{}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2.5\"/>", path.trim_end());
        for (i, v) in line.values.iter().enumerate() {
            if let Some(v) = v {
                let _ = write!(h, "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{colour}\"/>", x(i), y(*v as f64));
            }
        }
    }
    h.push_str("</svg>");
    h
}

/// An area of an [`area_map`]: its outline as a GeoJSON FeatureCollection in WGS84 (circles
/// as Points with `radius_metres`), its colour and the colour of its buffer ring.
pub struct MapOutline<'a> {
    pub geometry: &'a serde_json::Value,
    pub colour: &'static str,
    pub ring_colour: &'static str,
}

/// A ring of (longitude, latitude) points.
type Ring = Vec<(f64, f64)>;

/// Rings of a GeoJSON FeatureCollection (polygons) and circles (lon, lat, radius).
fn outline_shapes(geometry: &serde_json::Value) -> (Vec<Ring>, Vec<(f64, f64, f64)>) {
    let (mut all_rings, mut circles) = (Vec::new(), Vec::new());
    let features = geometry.get("features").and_then(|f| f.as_array()).cloned().unwrap_or_default();
    for f in &features {
        let g = &f["geometry"];
        match g["type"].as_str() {
            Some("Polygon") | Some("MultiPolygon") => all_rings.extend(rings(g)),
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
    (all_rings, circles)
}

/// A map of outlined areas on a plain background (equirectangular about the mean latitude,
/// in metres), each with a buffer ring of `buffer` metres when given, and a scale bar.
/// `None` when no area has a point.
pub fn area_map(id: &str, title: &str, areas: &[MapOutline], buffer: f64) -> Option<String> {
    let parsed: Vec<_> = areas.iter().map(|a| (outline_shapes(a.geometry), a.colour, a.ring_colour)).collect();
    let mut pts: Vec<(f64, f64)> = Vec::new();
    for ((rings, circles), _, _) in &parsed {
        pts.extend(rings.iter().flatten().copied());
        pts.extend(circles.iter().map(|c| (c.0, c.1)));
    }
    if pts.is_empty() {
        return None;
    }
    let lat0 = pts.iter().map(|p| p.1).sum::<f64>() / pts.len() as f64;
    let kx = 111_320.0 * lat0.to_radians().cos();
    let ky = 110_574.0;
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
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg class=\"app-map\" viewBox=\"0 0 {w:.0} {h:.0}\" width=\"800\" role=\"img\" aria-labelledby=\"{id}-title\" xmlns=\"http://www.w3.org/2000/svg\" style=\"background:#f3f2f1\"><title id=\"{id}-title\">{}</title>",
        escape(title)
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
    for ((rings, circles), colour, ring_colour) in &parsed {
        let d = path_of(rings);
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
    s.push_str("</svg>");
    Some(s)
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

    #[test]
    fn bars_scale_to_the_largest_and_hidden_figures_get_words_not_bars() {
        let svg = bar_chart(
            "b",
            "T",
            "D",
            &[
                Bar::new("A", Some(10.0), "10"),
                Bar::new("B", Some(5.0), "5"),
                Bar::new("C", None, "fewer than 5"),
                Bar::new("D", Some(0.0), "0"),
            ],
            BarLayout::default(),
        );
        assert!(svg.contains(r#"width="420.0""#), "{svg}");
        assert!(svg.contains(r#"width="210.0""#));
        assert_eq!(svg.matches(r#"width="0.0""#).count(), 2);
        assert!(svg.contains(">fewer than 5<"));
    }

    #[test]
    fn quintiles_by_nearest_rank() {
        let rates: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(quintile_breaks(&rates), vec![2.0, 4.0, 6.0, 8.0]);
        assert_eq!(class_of(2.0, &[2.0, 4.0, 6.0, 8.0]), 0);
        assert_eq!(class_of(9.0, &[2.0, 4.0, 6.0, 8.0]), 4);
    }

    #[test]
    fn draws_a_polygon_with_legend_or_nothing() {
        let area = MapArea {
            code: "E01",
            name: "Some<where>",
            geometry: r#"{"type":"Polygon","coordinates":[[[-2.0,52.8],[-1.99,52.8],[-1.99,52.81],[-2.0,52.8]]]}"#,
            value: Some(3.0),
            text: "3.0 per 1,000".into(),
        };
        let text = MapText { title: "Map", description: "{n} areas", legend: "Rate", no_value: "no population figure" };
        let svg = choropleth("m", &text, &[area]).expect("drawn");
        assert!(svg.contains(">1 areas<"));
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(svg.contains("E01 Some&#60;where&#62;: 3.0 per 1,000"));
        assert!(svg.contains("no population figure"));
        assert!(choropleth("m", &text, &[]).is_none());
    }
}
