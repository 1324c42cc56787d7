//! A static choropleth map of rates by LSOA: boundaries (GeoJSON, WGS84) projected to the
//! British National Grid with `BngProjector`, drawn as SVG paths shaded in five classes
//! (quintiles of the LSOA rates), with a legend. The same figures are in the LSOA table.

use std::collections::HashMap;
use std::fmt::Write;

use alliance_core::geo::projection::BngProjector;
use alliance_db::areas::StoredBoundary;

use super::table::escape;
use super::LsoaFigure;

/// Light to dark blue (sequential, distinguishable in greyscale print); grey for no rate.
const CLASSES: [&str; 5] = ["#deebf7", "#9ecae1", "#6baed6", "#2171b5", "#08306b"];
const NO_DATA: &str = "#f3f2f1";
const WIDTH: f64 = 720.0;
/// Points closer than this (metres) to the previous one are dropped when drawing.
const SIMPLIFY_M: f64 = 30.0;

/// The quintile upper bounds of the rates (4 breaks), by nearest rank on the sorted rates.
pub fn quintile_breaks(rates: &[f64]) -> Vec<f64> {
    let mut v: Vec<f64> = rates.iter().copied().filter(|r| r.is_finite()).collect();
    if v.is_empty() {
        return Vec::new();
    }
    v.sort_by(f64::total_cmp);
    (1..5).map(|k| v[((k * v.len()).div_ceil(5)).saturating_sub(1).min(v.len() - 1)]).collect()
}

fn class_of(rate: f64, breaks: &[f64]) -> usize {
    breaks.iter().position(|b| rate <= *b).unwrap_or(breaks.len())
}

fn rings(value: &serde_json::Value) -> Vec<Vec<(f64, f64)>> {
    let ring = |r: &serde_json::Value| -> Vec<(f64, f64)> {
        r.as_array()
            .map(|pts| pts.iter().filter_map(|p| Some((p.get(0)?.as_f64()?, p.get(1)?.as_f64()?))).collect())
            .unwrap_or_default()
    };
    let coords = value.get("coordinates");
    match value.get("type").and_then(|t| t.as_str()) {
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

/// The map as inline SVG; an explanatory paragraph instead when no boundary matches.
pub fn choropleth(boundaries: &[StoredBoundary], lsoas: &[LsoaFigure]) -> String {
    let by_code: HashMap<&str, &LsoaFigure> = lsoas.iter().map(|l| (l.code.as_str(), l)).collect();
    let Ok(projector) = BngProjector::new() else {
        return "<p class=\"govuk-body\">The map could not be drawn (projection unavailable).</p>".into();
    };
    // Each LSOA's figure with its outline's rings, projected.
    type Rings = Vec<Vec<(f64, f64)>>;
    let mut shapes: Vec<(&LsoaFigure, Rings)> = Vec::new();
    let (mut min_x, mut min_y, mut max_x, mut max_y) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for b in boundaries {
        let Some(figure) = by_code.get(b.code.as_str()) else { continue };
        let Ok(geometry) = serde_json::from_str::<serde_json::Value>(&b.geometry) else { continue };
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
            shapes.push((figure, projected));
        }
    }
    if shapes.is_empty() {
        return "<p class=\"govuk-body\">No LSOA 2021 boundaries are loaded for this area, so the map cannot be drawn; \
                the LSOA table below has the same figures.</p>"
            .into();
    }
    let span_x = (max_x - min_x).max(1.0);
    let span_y = (max_y - min_y).max(1.0);
    let scale = WIDTH / span_x;
    let height = (span_y * scale).ceil();
    let legend_h = 30.0 + 22.0 * 6.0;
    let rates: Vec<f64> = shapes.iter().filter_map(|(f, _)| f.rate).collect();
    let breaks = quintile_breaks(&rates);
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="app-map" viewBox="0 0 {WIDTH} {}" role="img" aria-labelledby="sna-map-title sna-map-desc" xmlns="http://www.w3.org/2000/svg"><title id="sna-map-title">Serious violence (police proxy) per 1,000 residents a year, by LSOA</title><desc id="sna-map-desc">{} LSOAs shaded in five classes of rate, lightest lowest; the LSOA table has every figure.</desc>"#,
        height + legend_h,
        shapes.len()
    );
    for (figure, rings) in &shapes {
        let fill = figure.rate.map_or(NO_DATA, |r| CLASSES[class_of(r, &breaks).min(4)]);
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
            escape(&figure.code),
            escape(&figure.name),
            figure.rate.map_or("no population".into(), |r| format!("{r:.1} per 1,000"))
        );
    }
    // Legend.
    let top = height + 20.0;
    let _ =
        write!(svg, r#"<text x="0" y="{top}" class="app-map__legend-title">Rate per 1,000 residents a year</text>"#);
    let mut lower = 0.0;
    for (i, colour) in CLASSES.iter().enumerate() {
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
        r##"<rect x="0" y="{y}" width="30" height="16" fill="{NO_DATA}" stroke="#505a5f"/><text x="40" y="{}">no population figure</text></svg>"##,
        y + 13.0
    );
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quintiles_by_nearest_rank() {
        let rates: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(quintile_breaks(&rates), vec![2.0, 4.0, 6.0, 8.0]);
        assert_eq!(class_of(2.0, &[2.0, 4.0, 6.0, 8.0]), 0);
        assert_eq!(class_of(9.0, &[2.0, 4.0, 6.0, 8.0]), 4);
    }

    #[test]
    fn draws_a_polygon_with_legend() {
        let b = StoredBoundary {
            kind: "lsoa21".into(),
            code: "E01".into(),
            name: "Somewhere".into(),
            district_code: None,
            geometry: r#"{"type":"Polygon","coordinates":[[[-2.0,52.8],[-1.99,52.8],[-1.99,52.81],[-2.0,52.8]]]}"#
                .into(),
        };
        let f = LsoaFigure {
            code: "E01".into(),
            name: "Somewhere".into(),
            district: "D".into(),
            count: 3.0,
            population: Some(1000),
            rate: Some(3.0),
            decile: Some(1),
        };
        let svg = choropleth(&[b], &[f]);
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(svg.contains("E01 Somewhere: 3.0 per 1,000"));
        assert!(svg.contains("no population figure"));
    }
}
