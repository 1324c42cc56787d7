//! The map page: filters, legend, and beside the map the tables of what it shows: the top
//! hot spots (with the street and ward of each hot cell) or the emerging hot spot
//! categories and cells.

use std::collections::HashMap;

use alliance_app::spatial::emerging::EmergingRequest;
use alliance_app::spatial::{Bounds, CellsMode, HotspotResult, HotspotUnits, Hotspots, StoredHotspotRequest};
use alliance_app::AppError;
use alliance_core::analytics::spatial::hotspot_table::{HotspotSettings, HotspotStatistic, NeighbourRule};
use alliance_core::analytics::spatial::{
    Alternative, Confidence, Contiguity, PermutationOptions, SignificanceFrom, SliceLength, Standardisation,
};
use alliance_core::domain::Month;
use alliance_db::spatial::LocatedFilter;
use askama::Template;

use super::Layout;
use crate::{AppState, PageError};

/// One row of the top hotspots table.
pub struct HotspotLine {
    pub place: String,
    pub street: String,
    pub ward: String,
    pub count: i64,
    pub z: String,
    pub p: String,
    pub confidence: &'static str,
}

/// One emerging hot spot category found, with its cells.
pub struct CategoryLine {
    pub label: &'static str,
    pub definition: &'static str,
    pub cells: usize,
}

/// One cell of the emerging hot spot table.
pub struct EmergingLine {
    pub place: String,
    pub street: String,
    pub ward: String,
    pub category: &'static str,
    pub count: i64,
    pub hot_slices: usize,
}

/// The emerging hot spot tables.
pub struct EmergingView {
    pub period: String,
    pub slices: usize,
    pub categories: Vec<CategoryLine>,
    pub cells: Vec<EmergingLine>,
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
    /// The study area of a grid hot spot analysis: the partnership's area or a place.
    pub places: Vec<Choice>,
    pub analyses: Vec<Choice>,
    pub units: Vec<Choice>,
    pub cells: Vec<Choice>,
    pub from: String,
    pub to: String,
    pub query: String,
    /// The density layer's query: the same filters with its own 250 m cells.
    pub density_query: String,
    pub district: String,
    /// "hotspots" or "emerging".
    pub analysis: &'static str,
    pub top: Vec<HotspotLine>,
    pub emerging: Option<EmergingView>,
    pub points: usize,
    pub significant: usize,
    pub message: Option<String>,
    pub unit_label: &'static str,
}

/// A month of the map's filters: empty is none; anything else must be a month (`2025-01`),
/// refused on its field otherwise.
fn month_filter(field: &'static str, text: &str) -> Result<Option<Month>, PageError> {
    if text.is_empty() {
        return Ok(None);
    }
    text.parse().map(Some).map_err(|_| PageError::Invalid {
        field,
        reason: format!("\"{text}\" is not a month: give it as year and month, like 2025-01"),
    })
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

/// What the analysis gave for the page's tables.
#[derive(Default)]
struct Tables {
    top: Vec<HotspotLine>,
    emerging: Option<EmergingView>,
    points: usize,
    significant: usize,
}

async fn hotspot_tables(state: &AppState, request: &StoredHotspotRequest) -> Result<Tables, AppError> {
    let (h, top) = state.hotspot_cache.stored_hotspots_named(&state.db, request, &Bounds::default()).await?;
    let (points, significant) = match &*h {
        Hotspots::Areas { hotspots, .. } => match &hotspots.result {
            HotspotResult::Local(t) => (hotspots.points, t.significant),
            HotspotResult::Global(_) => (hotspots.points, 0),
        },
        Hotspots::Grid(g) => match &g.result {
            HotspotResult::Local(t) => (g.points, t.significant),
            HotspotResult::Global(_) => (g.points, 0),
        },
    };
    let top = top
        .iter()
        .map(|t| HotspotLine {
            place: t.place.clone(),
            street: t.street.clone().unwrap_or_default(),
            ward: t.ward.clone().unwrap_or_default(),
            count: t.count,
            z: format!("{:.2}", t.z),
            p: if t.p_norm < 0.001 { "< 0.001".into() } else { format!("{:.3}", t.p_norm) },
            confidence: confidence(t.bin),
        })
        .collect();
    Ok(Tables { top, emerging: None, points, significant })
}

async fn emerging_tables(state: &AppState, request: &EmergingRequest) -> Result<Tables, AppError> {
    let (e, top) = state.hotspot_cache.stored_emerging_named(&state.db, request, &Bounds::default()).await?;
    let categories = e
        .analysis
        .tally()
        .into_iter()
        .map(|(c, n)| CategoryLine { label: c.label(), definition: c.definition(), cells: n })
        .collect();
    let cells = top
        .iter()
        .map(|t| EmergingLine {
            place: t.place.clone(),
            street: t.street.clone().unwrap_or_default(),
            ward: t.ward.clone().unwrap_or_default(),
            category: t.category.label(),
            count: t.count,
            hot_slices: t.hot_slices,
        })
        .collect();
    let period = format!("{} to {}", e.slices.label(0), e.slices.label(e.slices.slices - 1));
    Ok(Tables {
        top: Vec::new(),
        emerging: Some(EmergingView { period, slices: e.slices.slices, categories, cells }),
        points: e.points,
        significant: 0,
    })
}

impl MapPage {
    pub async fn build(state: &AppState, p: HashMap<String, String>) -> Result<MapPage, PageError> {
        let get = |k: &str| p.get(k).map(|s| s.trim().to_string()).unwrap_or_default();
        let crime_type = get("crime-type");
        let district = get("district");
        let analysis = match get("analysis").as_str() {
            "emerging" => "emerging",
            _ => "hotspots",
        };
        let unit = match get("units").as_str() {
            "lsoa21" if analysis == "hotspots" => "lsoa21",
            _ => "grid",
        };
        let cell: f64 = match get("cell").parse::<f64>() {
            Ok(c) if [250.0, 500.0, 1000.0].contains(&c) => c,
            _ => 500.0,
        };
        let (from, to) = (get("from"), get("to"));
        // A filter that cannot be read is said, not dropped: a month dropped silently mapped
        // other months than those asked for, under the heading of the ones asked for.
        let (from_month, to_month) = (month_filter("from", &from)?, month_filter("to", &to)?);
        if let (Some(f), Some(t)) = (from_month, to_month) {
            if f == t && analysis == "emerging" {
                return Err(PageError::Invalid {
                    field: "to",
                    reason: "Emerging hot spots compare months with each other: choose at least two months".into(),
                });
            }
            if f > t {
                return Err(PageError::Invalid {
                    field: "from",
                    reason: format!("The first month ({f}) is after the last ({t}): give them the other way round"),
                });
            }
        }
        // A place of the register as the study area (grid cells: hot spots or emerging).
        let place_choices = state.db.place_choices().await?;
        let place: Option<i64> = match get("place").as_str() {
            "" => None,
            text => match text.parse::<i64>() {
                Ok(id) if place_choices.iter().any(|(p, _)| *p == id) => Some(id),
                _ => {
                    return Err(PageError::Invalid {
                        field: "place",
                        reason: "There is no such place in the register: choose one from the list".into(),
                    })
                }
            },
        }
        .filter(|_| unit == "grid");
        // Without a district chosen, the partnership's own districts (a database may hold
        // other forces' records too); the layer's request below says the same.
        let partnership_area = state.db.partnership_area().await?;
        let area = alliance_app::spatial::default_area_of(
            &partnership_area,
            Some(district.as_str()).filter(|d| !d.is_empty()),
            &[],
        );
        let known_districts: Vec<_> = state
            .db
            .districts()
            .await?
            .into_iter()
            .filter(|d| partnership_area.is_empty() || partnership_area.contains(&d.code))
            .collect();
        if !district.is_empty() && !known_districts.iter().any(|d| d.code == district) {
            return Err(PageError::Invalid {
                field: "district",
                reason: format!("No district {district} is held: choose one from the list"),
            });
        }
        let filter = LocatedFilter {
            crime_types: if crime_type.is_empty() { vec![] } else { vec![crime_type.clone()] },
            from: from_month,
            to: to_month,
            district: (!district.is_empty()).then(|| district.clone()),
            lsoas: vec![],
            area: area.clone(),
        };
        let result = if analysis == "emerging" {
            // The same request as the layer's `/api/v1/hotspots/emerging?{query}` below.
            let request = EmergingRequest {
                filter,
                cell,
                band: None,
                slice: SliceLength::Month,
                time_steps: 1,
                confidence: Confidence::Ninety,
                place,
            };
            emerging_tables(state, &request).await
        } else {
            let settings = HotspotSettings {
                statistic: HotspotStatistic::GiStar,
                permutation: PermutationOptions { permutations: 0, seed: 12345, alternative: Alternative::TwoSided },
                alpha: 0.05,
                standardisation: Standardisation::Row,
            };
            let units = if unit == "lsoa21" {
                HotspotUnits::Areas("lsoa21".into())
            } else {
                let cells = place.map_or(CellsMode::Auto, CellsMode::Place);
                HotspotUnits::Grid { cell, origin: None, cells }
            };
            // The same request as the map layer's `/api/v1/hotspots?{query}` below, so the
            // layer is served from the cache this fills.
            let request = StoredHotspotRequest {
                filter,
                units,
                neighbours: NeighbourRule::Contiguity(Contiguity::Queen),
                settings,
                significance: SignificanceFrom::Normal,
            };
            hotspot_tables(state, &request).await
        };
        let mut message = None;
        let tables = match result {
            Ok(tables) => tables,
            // Over a bound: a 422 page naming it; a fault: the error page with its id.
            Err(AppError::TooLarge { reason }) => return Err(PageError::Invalid { field: "cell", reason }),
            Err(e @ (AppError::Db(_) | AppError::Internal(_))) => return Err(e.into()),
            Err(AppError::Invalid { reason, .. }) => {
                message = Some(reason);
                Tables::default()
            }
            Err(other) => {
                message = Some(other.to_string());
                Tables::default()
            }
        };
        let mut types =
            vec![Choice { value: String::new(), label: "All crime types".into(), selected: crime_type.is_empty() }];
        let stored_types = state.crime_types.get(&state.db, || state.db.crime_types()).await?;
        types.extend(stored_types.iter().map(|t| Choice {
            selected: *t == crime_type,
            label: t.clone(),
            value: t.clone(),
        }));
        let mut districts =
            vec![Choice { value: String::new(), label: "All districts".into(), selected: district.is_empty() }];
        districts.extend(known_districts.into_iter().map(|d| Choice {
            selected: d.code == district,
            label: d.name,
            value: d.code,
        }));
        let mut places =
            vec![Choice { value: String::new(), label: "The partnership's area".into(), selected: place.is_none() }];
        places.extend(place_choices.into_iter().map(|(id, name)| Choice {
            selected: Some(id) == place,
            label: name,
            value: id.to_string(),
        }));
        // The filters the layers share; each layer adds its own cell size (a parameter given
        // twice is refused by the API).
        let mut query: Vec<String> = Vec::new();
        if let Some(id) = place {
            query.push(format!("place={id}"));
        }
        for (k, v) in [("crime-type", &crime_type), ("district", &district), ("from", &from), ("to", &to)] {
            if !v.is_empty() {
                query.push(format!("{k}={}", encode(v)));
            }
        }
        if !area.is_empty() {
            query.push(format!("area={}", encode(&area.join(","))));
        }
        if unit == "lsoa21" {
            query.push("areas=lsoa21".into());
        }
        Ok(MapPage {
            layout: Layout::new(state, "/map"),
            crime_types: types,
            districts,
            places,
            analyses: choices(
                &[("hotspots", "Hot spots (Gi*)"), ("emerging", "Emerging hot spots (by month)")],
                analysis,
            ),
            units: choices(&[("grid", "Grid cells"), ("lsoa21", "LSOAs (2021)")], unit),
            cells: choices(&[("250", "250 m"), ("500", "500 m"), ("1000", "1 km")], &format!("{cell}")),
            from,
            to,
            density_query: ["cell=250".to_string()].iter().chain(&query).cloned().collect::<Vec<_>>().join("&"),
            query: [format!("cell={cell}")].iter().chain(&query).cloned().collect::<Vec<_>>().join("&"),
            district,
            analysis,
            top: tables.top,
            emerging: tables.emerging,
            points: tables.points,
            significant: tables.significant,
            message,
            unit_label: if unit == "lsoa21" { "LSOA" } else { "Cell" },
        })
    }
}
