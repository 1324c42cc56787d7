//! The map page: filters, legend, top hotspots.

use std::collections::HashMap;

use alliance_app::spatial::{Bounds, CellsMode, HotspotResult, HotspotUnits, Hotspots, StoredHotspotRequest};
use alliance_app::AppError;
use alliance_core::analytics::spatial::hotspot_table::{HotspotRow, HotspotSettings, HotspotStatistic, NeighbourRule};
use alliance_core::analytics::spatial::{
    Alternative, Contiguity, PermutationOptions, SignificanceFrom, Standardisation,
};
use alliance_db::spatial::LocatedFilter;
use askama::Template;

use super::Layout;
use crate::{AppState, PageError};

/// One row of the top hotspots table.
pub struct HotspotLine {
    pub place: String,
    pub count: i64,
    pub z: String,
    pub p: String,
    pub confidence: &'static str,
}

/// A choice in a select.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "map.html")]
pub struct MapPage {
    pub layout: Layout,
    pub crime_types: Vec<Choice>,
    pub districts: Vec<Choice>,
    pub units: Vec<Choice>,
    pub cells: Vec<Choice>,
    pub from: String,
    pub to: String,
    pub query: String,
    pub district: String,
    pub top: Vec<HotspotLine>,
    pub points: usize,
    pub significant: usize,
    pub message: Option<String>,
    pub unit_label: &'static str,
}

fn choices(values: &[(&str, &str)], current: &str) -> Vec<Choice> {
    values.iter().map(|(v, l)| Choice { value: v.to_string(), label: l.to_string(), selected: *v == current }).collect()
}

fn confidence(bin: i8) -> &'static str {
    match bin {
        3 => "Hot spot, 99% confidence",
        2 => "Hot spot, 95% confidence",
        1 => "Hot spot, 90% confidence",
        -1 => "Cold spot, 90% confidence",
        -2 => "Cold spot, 95% confidence",
        -3 => "Cold spot, 99% confidence",
        _ => "Not significant",
    }
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl MapPage {
    pub async fn build(state: &AppState, p: HashMap<String, String>) -> Result<MapPage, PageError> {
        let get = |k: &str| p.get(k).map(|s| s.trim().to_string()).unwrap_or_default();
        let crime_type = get("crime-type");
        let district = get("district");
        let unit = match get("units").as_str() {
            "lsoa21" => "lsoa21",
            _ => "grid",
        };
        let cell: f64 = match get("cell").parse::<f64>() {
            Ok(c) if [250.0, 500.0, 1000.0].contains(&c) => c,
            _ => 500.0,
        };
        let (from, to) = (get("from"), get("to"));
        let filter = LocatedFilter {
            crime_types: if crime_type.is_empty() { vec![] } else { vec![crime_type.clone()] },
            from: from.parse().ok(),
            to: to.parse().ok(),
            district: (!district.is_empty()).then(|| district.clone()),
            lsoas: vec![],
        };
        let settings = HotspotSettings {
            statistic: HotspotStatistic::GiStar,
            permutation: PermutationOptions { permutations: 0, seed: 12345, alternative: Alternative::TwoSided },
            alpha: 0.05,
            standardisation: Standardisation::Row,
        };
        let neighbours = NeighbourRule::Contiguity(Contiguity::Queen);
        let units = if unit == "lsoa21" {
            HotspotUnits::Areas("lsoa21".into())
        } else {
            HotspotUnits::Grid { cell, origin: None, cells: CellsMode::Auto }
        };
        // The same request as the map layer's `/api/v1/hotspots?{query}` below, so the layer
        // is served from the cache this fills.
        let request =
            StoredHotspotRequest { filter, units, neighbours, settings, significance: SignificanceFrom::Normal };
        let mut message = None;
        let mut top = Vec::new();
        let (mut points, mut significant) = (0, 0);
        let result: Result<(), AppError> = async {
            let h = state.hotspot_cache.stored_hotspots(&state.db, &request, &Bounds::default()).await?;
            let (rows, places): (&[HotspotRow], Vec<String>) = match &*h {
                Hotspots::Areas { hotspots: h, .. } => {
                    points = h.points;
                    let HotspotResult::Local(t) = &h.result else { return Ok(()) };
                    (&t.rows, h.codes.iter().zip(&h.names).map(|(c, n)| format!("{n} ({c})")).collect())
                }
                Hotspots::Grid(h) => {
                    points = h.points;
                    let HotspotResult::Local(t) = &h.result else { return Ok(()) };
                    let places = h
                        .units
                        .cells
                        .iter()
                        .map(|&c| {
                            let (x, y) = h.units.grid.min_corner(c);
                            format!("{} m cell at E {x:.0}, N {y:.0}", h.units.grid.size)
                        })
                        .collect();
                    (&t.rows, places)
                }
            };
            significant = rows.iter().filter(|r| r.significant).count();
            // Hot spots at 90% confidence or more (Gi_Bin 1 to 3), the strongest first.
            let mut order: Vec<usize> = (0..rows.len()).filter(|&i| rows[i].bin > 0).collect();
            order.sort_by(|&a, &b| rows[b].z.total_cmp(&rows[a].z));
            top = order
                .into_iter()
                .take(10)
                .map(|i| HotspotLine {
                    place: places[i].clone(),
                    count: rows[i].count,
                    z: format!("{:.2}", rows[i].z),
                    p: if rows[i].p_norm < 0.001 { "< 0.001".into() } else { format!("{:.3}", rows[i].p_norm) },
                    confidence: confidence(rows[i].bin),
                })
                .collect();
            Ok(())
        }
        .await;
        match result {
            Ok(()) => {}
            // Over a bound: a 422 page naming it; a fault: the error page with its id.
            Err(AppError::TooLarge { reason }) => return Err(PageError::Invalid { field: "cell", reason }),
            Err(e @ (AppError::Db(_) | AppError::Internal(_))) => return Err(e.into()),
            Err(AppError::Invalid { reason, .. }) => message = Some(reason),
            Err(other) => message = Some(other.to_string()),
        }
        let mut types =
            vec![Choice { value: String::new(), label: "All crime types".into(), selected: crime_type.is_empty() }];
        types.extend(state.db.crime_types().await?.into_iter().map(|t| Choice {
            selected: t == crime_type,
            label: t.clone(),
            value: t,
        }));
        let mut districts =
            vec![Choice { value: String::new(), label: "All districts".into(), selected: district.is_empty() }];
        districts.extend(state.db.districts().await?.into_iter().map(|d| Choice {
            selected: d.code == district,
            label: d.name,
            value: d.code,
        }));
        let mut query = vec![format!("cell={cell}")];
        for (k, v) in [("crime-type", &crime_type), ("district", &district), ("from", &from), ("to", &to)] {
            if !v.is_empty() {
                query.push(format!("{k}={}", encode(v)));
            }
        }
        if unit == "lsoa21" {
            query.push("areas=lsoa21".into());
        }
        Ok(MapPage {
            layout: Layout::new(state, "/map"),
            crime_types: types,
            districts,
            units: choices(&[("grid", "Grid cells"), ("lsoa21", "LSOAs (2021)")], unit),
            cells: choices(&[("250", "250 m"), ("500", "500 m"), ("1000", "1 km")], &format!("{cell}")),
            from,
            to,
            query: query.join("&"),
            district,
            top,
            points,
            significant,
            message,
            unit_label: if unit == "lsoa21" { "LSOA" } else { "Cell" },
        })
    }
}
