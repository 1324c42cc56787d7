//! Work a first visitor after an import would otherwise wait for, done by the server in the
//! background: the report form's street index and the default view of `/map` (the hot spot
//! analysis of the partnership's area, with its top places named).
//!
//! On the national archive the first `/map` after an import reads the area's 377,000 records
//! from a cold cache (2.5–3 s on PostgreSQL). The server looks every [`EVERY`] for a new
//! import generation or a changed partnership area, in this process or in another (the CLI,
//! a second instance), and computes both once no file has landed for one look. A visitor who
//! arrives while that runs waits for the same computation rather than starting a second (see
//! the hot spot cache).
//!
//! Only a partnership's area is warmed: without a profile naming held districts the default
//! view is every record stored, which on a regional or national database is work nobody may
//! ever ask for.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::views::map::MapPage;
use crate::AppState;

/// How often the server looks for a new import.
pub const EVERY: Duration = Duration::from_secs(5);

/// What the warm answers were made for: the import generation and the partnership's area.
pub type Warmed = Option<(Option<i64>, Vec<String>)>;

/// Looks for a change every [`EVERY`] for as long as the server runs, and warms after each
/// (and at start) once the imports have settled ([`due`]).
pub async fn keep_warm(state: AppState) {
    let mut warmed: Warmed = None;
    let mut seen = None;
    let mut tick = tokio::time::interval(EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let now = state.db.import_generation().await.ok();
        let look = due(warmed.is_none(), &seen, &now);
        seen = now;
        if look {
            step(&state, &mut warmed).await;
        }
    }
}

/// Whether to look now, given the import generation at the last look (`seen`) and now (`None`:
/// it could not be read, and [`step`] says why): at start, and then only once the generation
/// has stayed the same for one [`EVERY`]. While a run lands files (a national one commits
/// several a second, for minutes), every look found a new generation, and each instance
/// rebuilt its street index and default map again and again on the cores the import needed.
/// (That was not what slowed the national set into a served database: the same run with no
/// server took as long, the outcomes' index was the cause; `BENCHMARKS-import.md`, thirteenth
/// session.)
fn due(at_start: bool, seen: &Option<Option<i64>>, now: &Option<Option<i64>>) -> bool {
    at_start || now.is_none() || now == seen
}

/// One look: warms when the import generation or the partnership's area differs from what
/// `warmed` was made for, and says whether it did. A failure is logged and tried again at
/// the next change, never retried in a loop.
pub async fn step(state: &AppState, warmed: &mut Warmed) -> bool {
    let now = match (state.db.import_generation().await, state.db.partnership_area().await) {
        (Ok(generation), Ok(area)) => (generation, area),
        (Err(e), _) | (_, Err(e)) => {
            tracing::warn!("cannot look for a new import to warm the map and street index: {e}");
            return false;
        }
    };
    if warmed.as_ref() == Some(&now) {
        return false;
    }
    let started = Instant::now();
    if let Err(e) = state.db.street_gazetteer().await {
        tracing::warn!("the street index will be built on first use: {e}");
    }
    let streets = started.elapsed();
    if now.1.is_empty() {
        tracing::debug!("no partnership area: the default map is computed when first asked for");
    } else {
        match MapPage::build(state, HashMap::new()).await {
            Ok(_) => tracing::info!(
                streets_ms = streets.as_millis() as u64,
                map_ms = (started.elapsed() - streets).as_millis() as u64,
                generation = now.0,
                "the street index and the default map are ready"
            ),
            Err(e) => tracing::warn!("the default map will be computed on first use: {e:?}"),
        }
    }
    *warmed = Some(now);
    true
}

#[cfg(test)]
mod tests {
    use super::due;

    #[test]
    fn warms_at_start_and_once_the_generation_has_settled() {
        assert!(due(true, &None, &Some(Some(3))), "at start");
        assert!(!due(false, &Some(Some(3)), &Some(Some(4))), "a file landed since the last look");
        assert!(due(false, &Some(Some(4)), &Some(Some(4))), "no file since the last look");
        assert!(due(false, &Some(None), &Some(None)), "no import at all: the area may have changed");
        assert!(due(false, &Some(Some(4)), &None), "the generation unreadable: step reports it");
    }
}
