//! The ED geocoding resolution queue page.

use alliance_core::geo::gazetteer::{Gazetteer, Place};
use alliance_db::DbError;
use askama::Template;

use super::Layout;
use crate::AppState;

/// How many descriptions the page shows at a time, and candidates per description.
const SHOWN: usize = 25;
const CANDIDATES: usize = 6;

pub struct Candidate {
    /// The form value: `<gazetteer index>|<name>`.
    pub value: String,
    pub label: String,
    pub hint: String,
}

pub struct QueueItem {
    pub location_key: String,
    pub example: String,
    pub assaults: i64,
    /// An id for the fieldset's radios.
    pub id: String,
    pub candidates: Vec<Candidate>,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "partner_data_geocoding.html")]
pub struct GeocodingPage {
    pub layout: Layout,
    pub items: Vec<QueueItem>,
    pub resolved: Option<u64>,
    pub error: Option<(String, String)>,
    pub total_waiting: usize,
}

fn value_of(index: usize, place: &Place) -> String {
    format!("{index}|{}", place.name)
}

/// The place a form value names, when it is one of the candidates offered for the description.
pub fn chosen_place(gazetteer: &Gazetteer, location_key: &str, value: &str) -> Option<Place> {
    gazetteer
        .candidates(location_key, CANDIDATES)
        .into_iter()
        .map(|(i, _)| i)
        .find(|i| gazetteer.places().get(*i).is_some_and(|p| value_of(*i, p) == value))
        .and_then(|i| gazetteer.places().get(i).cloned())
}

impl GeocodingPage {
    pub async fn load(
        state: &AppState,
        resolved: Option<u64>,
        error: Option<(String, String)>,
    ) -> Result<GeocodingPage, DbError> {
        let queue = state.db.ed_geocode_queue(10_000).await?;
        let total_waiting = queue.len();
        let gazetteer = state.db.ed_gazetteer().await?;
        let items = queue
            .into_iter()
            .take(SHOWN)
            .enumerate()
            .map(|(n, q)| {
                let candidates = gazetteer
                    .candidates(&q.location_key, CANDIDATES)
                    .into_iter()
                    .filter_map(|(i, score)| {
                        let p = gazetteer.places().get(i)?;
                        Some(Candidate {
                            value: value_of(i, p),
                            label: p.name.clone(),
                            hint: format!(
                                "{} in {}, similarity {:.0}%",
                                p.kind.as_str(),
                                p.district.as_deref().unwrap_or("an unknown district"),
                                score * 100.0
                            ),
                        })
                    })
                    .collect();
                let item_error =
                    error.as_ref().filter(|(k, _)| *k == q.location_key).map(|(_, message)| message.clone());
                QueueItem {
                    id: format!("place-{n}"),
                    location_key: q.location_key,
                    example: q.example,
                    assaults: q.assaults,
                    candidates,
                    error: item_error,
                }
            })
            .collect();
        Ok(GeocodingPage {
            layout: Layout::new(state, "/partner-data/geocoding"),
            items,
            resolved,
            error,
            total_waiting,
        })
    }
}
