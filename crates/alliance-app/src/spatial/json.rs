//! The JSON and GeoJSON shapes of spatial results, the same for the API and the command
//! line (`--format json|geojson`).

use alliance_core::analytics::spatial::hotspot_table::{HotspotRow, HotspotSettings, HotspotStatistic, NeighbourRule};
use alliance_core::analytics::spatial::{Contiguity, KnoxResult};
use alliance_core::geo::projection::{BngProjector, ProjectionError};
use geo::MultiPolygon;
use serde_json::{json, Value};

use super::{Area, AreaHotspots, GridHotspots, HotspotResult, KdeSurface};

/// The statistic's own columns, after the common ones.
pub fn own_columns(statistic: HotspotStatistic) -> &'static [&'static str] {
    match statistic {
        HotspotStatistic::GiStar => &["gi_star", "gi_bin"],
        HotspotStatistic::Gi => &["gi", "gi_bin"],
        HotspotStatistic::LocalMoran => &["local_i", "quadrant"],
        HotspotStatistic::Moran => &[],
    }
}

/// The statistic's own values of one row, as text (for CSV) in [`own_columns`] order.
pub fn own_values(statistic: HotspotStatistic, row: &HotspotRow) -> Vec<String> {
    match statistic {
        HotspotStatistic::GiStar | HotspotStatistic::Gi => vec![row.value.to_string(), row.bin.to_string()],
        HotspotStatistic::LocalMoran => {
            vec![row.value.to_string(), row.quadrant.map(|q| format!("{q:?}")).unwrap_or_default()]
        }
        HotspotStatistic::Moran => vec![],
    }
}

fn row_json(statistic: HotspotStatistic, row: &HotspotRow) -> serde_json::Map<String, Value> {
    let mut m = serde_json::Map::new();
    m.insert("count".into(), json!(row.count));
    m.insert("z".into(), json!(row.z));
    m.insert("p_norm".into(), json!(row.p_norm));
    m.insert("p_sim".into(), json!(row.p_sim));
    m.insert("q_value".into(), json!(row.q_value));
    m.insert("significant".into(), json!(row.significant));
    match statistic {
        HotspotStatistic::GiStar => {
            m.insert("gi_star".into(), json!(row.value));
            m.insert("gi_bin".into(), json!(row.bin));
        }
        HotspotStatistic::Gi => {
            m.insert("gi".into(), json!(row.value));
            m.insert("gi_bin".into(), json!(row.bin));
        }
        HotspotStatistic::LocalMoran => {
            m.insert("local_i".into(), json!(row.value));
            m.insert("quadrant".into(), json!(row.quadrant));
        }
        HotspotStatistic::Moran => {}
    }
    m
}

fn neighbours_json(rule: NeighbourRule) -> Value {
    match rule {
        NeighbourRule::Contiguity(Contiguity::Queen) => json!({ "contiguity": "queen" }),
        NeighbourRule::Contiguity(Contiguity::Rook) => json!({ "contiguity": "rook" }),
        NeighbourRule::DistanceBand(d) => json!({ "distance_band_m": d }),
    }
}

fn header_json(result: &HotspotResult, settings: &HotspotSettings) -> serde_json::Map<String, Value> {
    let mut m = serde_json::Map::new();
    m.insert("statistic".into(), json!(settings.statistic.name()));
    m.insert("alternative".into(), json!(settings.permutation.alternative));
    m.insert("permutations".into(), json!(settings.permutation.permutations));
    m.insert("seed".into(), json!(settings.permutation.seed));
    match result {
        HotspotResult::Local(t) => {
            m.insert("alpha".into(), json!(t.alpha));
            m.insert("fdr".into(), json!("benjamini-hochberg"));
            m.insert("significance_from".into(), json!(t.significance_from));
            m.insert("inference".into(), json!(t.inference));
            m.insert("inference_note".into(), json!(t.inference.describe()));
            m.insert(
                "bins".into(),
                json!("±3, ±2, ±1: hot (+) or cold (−) spot at 99, 95, 90% confidence, Benjamini–Hochberg corrected"),
            );
            m.insert("critical_p".into(), json!(t.critical_p));
            if let Some(check) = &t.permutation_check {
                m.insert("permutation_check".into(), json!(check));
            }
            m.insert("significant".into(), json!(t.significant));
        }
        HotspotResult::Global(g) => {
            m.insert("moran".into(), json!(g));
        }
    }
    if matches!(settings.statistic, HotspotStatistic::LocalMoran | HotspotStatistic::Moran) {
        m.insert("standardisation".into(), json!(settings.standardisation));
    }
    m
}

/// JSON of a grid analysis: settings, the grid, and one object per cell.
pub fn grid_hotspots_json(h: &GridHotspots) -> Value {
    let mut m = header_json(&h.result, &h.request.settings);
    m.insert("units".into(), json!("grid"));
    m.insert("crs".into(), json!("EPSG:27700"));
    m.insert("neighbours".into(), neighbours_json(h.request.neighbours));
    m.insert("grid".into(), json!(h.units.grid));
    m.insert("cells".into(), json!(h.cells_mode));
    m.insert("points".into(), json!(h.points));
    m.insert("outside".into(), json!(h.units.outside));
    m.insert("dropped_outside_area".into(), json!(h.dropped_outside_area));
    if let HotspotResult::Local(t) = &h.result {
        let rows: Vec<Value> = t
            .rows
            .iter()
            .zip(&h.units.cells)
            .map(|(row, &cell)| {
                let (x_min, y_min) = h.units.grid.min_corner(cell);
                let mut o = serde_json::Map::new();
                o.insert("ix".into(), json!(cell.ix));
                o.insert("iy".into(), json!(cell.iy));
                o.insert("x_min".into(), json!(x_min));
                o.insert("y_min".into(), json!(y_min));
                o.extend(row_json(t.statistic, row));
                Value::Object(o)
            })
            .collect();
        m.insert("rows".into(), Value::Array(rows));
    }
    Value::Object(m)
}

pub(crate) fn round7(v: f64) -> f64 {
    (v * 1e7).round() / 1e7
}

/// A square of National Grid metres as a WGS84 GeoJSON polygon ring (counter-clockwise).
pub fn square_ring(projector: &BngProjector, x0: f64, y0: f64, size: f64) -> Result<Value, ProjectionError> {
    let corners = [(x0, y0), (x0 + size, y0), (x0 + size, y0 + size), (x0, y0 + size), (x0, y0)];
    let ring = corners
        .iter()
        .map(|&(x, y)| projector.to_wgs84(x, y).map(|(lon, lat)| json!([round7(lon), round7(lat)])))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(json!([ring]))
}

/// GeoJSON (WGS84) of a grid analysis: one polygon per cell with the row's properties;
/// the analysis settings in a `properties` member of the collection.
pub fn grid_hotspots_geojson(h: &GridHotspots) -> Result<Value, ProjectionError> {
    let projector = BngProjector::new()?;
    let header = grid_hotspots_json(h);
    let mut features = Vec::new();
    if let Some(rows) = header.get("rows").and_then(Value::as_array) {
        for (row, &cell) in rows.iter().zip(&h.units.cells) {
            let (x0, y0) = h.units.grid.min_corner(cell);
            features.push(json!({
                "type": "Feature",
                "geometry": { "type": "Polygon", "coordinates": square_ring(&projector, x0, y0, h.units.grid.size)? },
                "properties": row,
            }));
        }
    }
    let mut props = header.as_object().cloned().unwrap_or_default();
    props.remove("rows");
    props.insert("crs".into(), json!("EPSG:4326"));
    Ok(json!({ "type": "FeatureCollection", "properties": props, "features": features }))
}

/// JSON of an area analysis: settings and one object per area.
pub fn area_hotspots_json(h: &AreaHotspots, settings: &HotspotSettings) -> Value {
    let mut m = header_json(&h.result, settings);
    m.insert("units".into(), json!(h.kind));
    m.insert("neighbours".into(), neighbours_json(h.neighbours));
    m.insert("points".into(), json!(h.points));
    m.insert("outside".into(), json!(h.outside));
    if let HotspotResult::Local(t) = &h.result {
        let rows: Vec<Value> = t
            .rows
            .iter()
            .enumerate()
            .map(|(i, row)| {
                let mut o = serde_json::Map::new();
                o.insert("code".into(), json!(h.codes[i]));
                o.insert("name".into(), json!(h.names[i]));
                o.extend(row_json(t.statistic, row));
                Value::Object(o)
            })
            .collect();
        m.insert("rows".into(), Value::Array(rows));
    }
    Value::Object(m)
}

/// GeoJSON (WGS84, the stored outlines) of an area analysis.
pub fn area_hotspots_geojson(h: &AreaHotspots, settings: &HotspotSettings, areas: &[Area]) -> Value {
    let mut header = area_hotspots_json(h, settings);
    let rows = header.as_object_mut().and_then(|m| m.remove("rows"));
    let features: Vec<Value> = match rows {
        Some(Value::Array(rows)) => rows
            .into_iter()
            .zip(areas)
            .map(|(row, a)| json!({ "type": "Feature", "geometry": multipolygon_json(&a.stored.shape), "properties": row }))
            .collect(),
        _ => Vec::new(),
    };
    json!({ "type": "FeatureCollection", "properties": header, "features": features })
}

/// A multipolygon as GeoJSON geometry (coordinates rounded to 1e-7 degree, about 1 cm).
pub fn multipolygon_json(shape: &MultiPolygon<f64>) -> Value {
    let ring = |r: &geo::LineString<f64>| -> Value { r.0.iter().map(|c| json!([round7(c.x), round7(c.y)])).collect() };
    let polygons: Vec<Value> = shape
        .0
        .iter()
        .map(|p| Value::Array(std::iter::once(ring(p.exterior())).chain(p.interiors().iter().map(ring)).collect()))
        .collect();
    json!({ "type": "MultiPolygon", "coordinates": polygons })
}

fn kde_header(k: &KdeSurface) -> serde_json::Map<String, Value> {
    let mut m = serde_json::Map::new();
    m.insert("kernel".into(), json!(k.kernel));
    m.insert("radius_m".into(), json!(k.radius));
    m.insert("radius_rule".into(), json!(k.radius_rule));
    m.insert("units".into(), json!("events per km² at cell centres"));
    m.insert("crs".into(), json!("EPSG:27700"));
    m.insert("grid".into(), json!(k.grid));
    m.insert("points".into(), json!(k.points));
    m
}

/// JSON of a density surface: every cell with its centre and density.
pub fn kde_json(k: &KdeSurface) -> Value {
    let mut m = kde_header(k);
    let cells: Vec<Value> = k
        .density
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let cell = k.grid.cell_at(i);
            let (x, y) = k.grid.centre(cell);
            json!({ "ix": cell.ix, "iy": cell.iy, "x": x, "y": y, "density": d })
        })
        .collect();
    m.insert("cells".into(), Value::Array(cells));
    Value::Object(m)
}

/// GeoJSON (WGS84) of a density surface: only the cells with a positive density.
pub fn kde_geojson(k: &KdeSurface) -> Result<Value, ProjectionError> {
    let projector = BngProjector::new()?;
    let mut features = Vec::new();
    for (i, &d) in k.density.iter().enumerate() {
        if d > 0.0 {
            let cell = k.grid.cell_at(i);
            let (x0, y0) = k.grid.min_corner(cell);
            features.push(json!({
                "type": "Feature",
                "geometry": { "type": "Polygon", "coordinates": square_ring(&projector, x0, y0, k.grid.size)? },
                "properties": { "ix": cell.ix, "iy": cell.iy, "density": d },
            }));
        }
    }
    let mut props = kde_header(k);
    props.insert("crs".into(), json!("EPSG:4326"));
    props.insert("cells_shown".into(), json!("density > 0"));
    Ok(json!({ "type": "FeatureCollection", "properties": props, "features": features }))
}

/// JSON of a near-repeat (Knox) analysis, tables with spatial bands as rows.
pub fn knox_json(k: &KnoxResult, space_breaks: &[f64], time_breaks: &[f64]) -> Value {
    let breaks =
        |b: &[f64]| -> Vec<Value> { b.iter().map(|v| if v.is_infinite() { json!("Inf") } else { json!(v) }).collect() };
    json!({
        "space_breaks_m": breaks(space_breaks),
        "time_breaks_days": breaks(time_breaks),
        "intervals": "closed on the left: [a,b)",
        "distance": k.metric,
        "permutations": k.permutations,
        "seed": k.seed,
        "events": k.events,
        "close_pairs": k.close_pairs,
        "space_labels": k.space_labels,
        "time_labels": k.time_labels,
        "observed": k.observed,
        "mean_permuted": k.mean_permuted,
        "median_permuted": k.median_permuted,
        "knox_ratio": k.knox_ratio,
        "knox_ratio_median": k.knox_ratio_median,
        "p_value": k.p_value,
    })
}

/// The per-cell columns of a Gi* table over grid cells (optimized analysis), as JSON rows.
fn grid_rows(units: &alliance_core::analytics::spatial::hotspot_table::GridUnits, rows: &[HotspotRow]) -> Vec<Value> {
    rows.iter()
        .zip(&units.cells)
        .map(|(row, &cell)| {
            let (x_min, y_min) = units.grid.min_corner(cell);
            let mut o = serde_json::Map::new();
            o.insert("ix".into(), json!(cell.ix));
            o.insert("iy".into(), json!(cell.iy));
            o.insert("x_min".into(), json!(x_min));
            o.insert("y_min".into(), json!(y_min));
            o.extend(row_json(HotspotStatistic::GiStar, row));
            Value::Object(o)
        })
        .collect()
}

/// Polygons (WGS84) of grid cells with their rows as properties.
fn cell_features(
    grid: &alliance_core::geo::grid::GridSpec,
    cells: &[alliance_core::geo::grid::Cell],
    rows: Vec<Value>,
) -> Result<Vec<Value>, ProjectionError> {
    let projector = BngProjector::new()?;
    rows.into_iter()
        .zip(cells)
        .map(|(row, &cell)| {
            let (x0, y0) = grid.min_corner(cell);
            Ok(json!({
                "type": "Feature",
                "geometry": { "type": "Polygon", "coordinates": square_ring(&projector, x0, y0, grid.size)? },
                "properties": row,
            }))
        })
        .collect()
}

/// JSON of an optimized hot spot analysis: the choices and why, the autocorrelation profile,
/// and one object per cell.
pub fn optimized_json(h: &alliance_core::analytics::spatial::OptimizedHotSpots) -> Value {
    let t = &h.table;
    json!({
        "analysis": "optimized-hot-spots",
        "statistic": "gi-star",
        "crs": "EPSG:27700",
        "incidents": h.incidents,
        "dropped_outside_area": h.dropped_outside_area,
        "spacing": h.spacing,
        "cell_size": h.cell_size,
        "band": h.band,
        "autocorrelation": h.autocorrelation,
        "explanation": h.explanation,
        "grid": h.units.grid,
        "alpha": t.alpha,
        "fdr": "benjamini-hochberg",
        "inference": t.inference,
        "inference_note": t.inference.describe(),
        "critical_p": t.critical_p,
        "significant": t.significant,
        "rows": grid_rows(&h.units, &t.rows),
    })
}

/// GeoJSON (WGS84) of an optimized hot spot analysis: one polygon per cell.
pub fn optimized_geojson(h: &alliance_core::analytics::spatial::OptimizedHotSpots) -> Result<Value, ProjectionError> {
    let mut props = optimized_json(h);
    let rows = match props.as_object_mut().and_then(|m| m.remove("rows")) {
        Some(Value::Array(rows)) => rows,
        _ => Vec::new(),
    };
    props["crs"] = json!("EPSG:4326");
    let features = cell_features(&h.units.grid, &h.units.cells, rows)?;
    Ok(json!({ "type": "FeatureCollection", "properties": props, "features": features }))
}

/// The categories found, with their counts, labels and definitions.
pub fn emerging_tally(e: &super::emerging::Emerging) -> Vec<Value> {
    e.analysis
        .tally()
        .into_iter()
        .map(|(c, n)| json!({ "category": c.name(), "label": c.label(), "definition": c.definition(), "cells": n }))
        .collect()
}

fn emerging_rows(e: &super::emerging::Emerging) -> Vec<Value> {
    let m = e.analysis.slices;
    e.analysis
        .results
        .iter()
        .zip(&e.units.cells)
        .enumerate()
        .map(|(k, (r, &cell))| {
            let (x_min, y_min) = e.units.grid.min_corner(cell);
            json!({
                "ix": cell.ix, "iy": cell.iy, "x_min": x_min, "y_min": y_min,
                "count": e.units.counts[k],
                "category": r.category.name(),
                "hot_slices": r.hot_slices, "cold_slices": r.cold_slices,
                "trend_z": r.trend.z, "trend_p": r.trend.p,
                "count_trend_z": r.count_trend.z, "count_trend_p": r.count_trend.p,
                "bins": &e.analysis.gi.bins.bins[k * m..(k + 1) * m],
            })
        })
        .collect()
}

/// JSON of an emerging hot spot analysis: the period and its slices, the options, the
/// categories found, and one object per cell.
pub fn emerging_json(e: &super::emerging::Emerging) -> Value {
    let labels: Vec<String> = (0..e.slices.slices).map(|s| e.slices.label(s)).collect();
    json!({
        "analysis": "emerging-hot-spots",
        "crs": "EPSG:27700",
        "grid": e.units.grid,
        "cell": e.request.cell,
        "band_m": e.request.band(),
        "place": e.request.place,
        "slices": labels,
        "months_left_out": e.slices.left_out,
        "options": e.analysis.options,
        "inference": e.analysis.inference,
        "inference_note": e.analysis.inference.describe(),
        "notes": e.analysis.notes,
        "points": e.points,
        "dropped_outside_area": e.dropped_outside_area,
        "outside_slices": e.outside_slices,
        "categories": emerging_tally(e),
        "rows": emerging_rows(e),
    })
}

/// GeoJSON (WGS84) of an emerging hot spot analysis: the cells with a pattern (every cell
/// with `all`).
pub fn emerging_geojson(e: &super::emerging::Emerging, all: bool) -> Result<Value, ProjectionError> {
    let mut props = emerging_json(e);
    let rows = match props.as_object_mut().and_then(|m| m.remove("rows")) {
        Some(Value::Array(rows)) => rows,
        _ => Vec::new(),
    };
    props["crs"] = json!("EPSG:4326");
    props["cells_shown"] = json!(if all { "all" } else { "with a pattern" });
    let keep: Vec<usize> =
        (0..rows.len()).filter(|&k| all || e.analysis.results[k].category.name() != "no-pattern").collect();
    let cells: Vec<_> = keep.iter().map(|&k| e.units.cells[k]).collect();
    let rows: Vec<Value> = keep.iter().map(|&k| rows[k].clone()).collect();
    let features = cell_features(&e.units.grid, &cells, rows)?;
    Ok(json!({ "type": "FeatureCollection", "properties": props, "features": features }))
}
