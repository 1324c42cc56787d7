//! A cap on the analyses one caller runs at once.
//!
//! A hot spot analysis with permutations takes a core for seconds. Every request is bounded
//! (cells, points, permutations: `alliance_app::bounds`), but nothing stopped one signed-in
//! user, or one token, from sending a dozen at once: a board member's eight parallel
//! requests raised an analyst's map from 0.08 s to 5.3 s. Each caller may now run
//! [`PER_CALLER`] analyses at a time (enough for a map page and its layers); more are
//! refused at once with 429 and `Retry-After`, before any work, rather than queued behind
//! everyone else's. The count is per server process: behind several instances a caller may
//! run that many on each.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::auth::Principal;
use crate::AppState;

/// Analyses one caller may run at once: the map page asks for up to three layers together.
pub const PER_CALLER: usize = 4;

/// The analyses running, by caller.
#[derive(Debug, Default)]
pub struct HeavyWork {
    running: Mutex<HashMap<String, usize>>,
}

/// One analysis running for a caller; its place is given back when dropped (when the
/// request's handler has ended, answered or not: see [`limit`]).
pub struct Permit {
    work: Arc<HeavyWork>,
    caller: String,
}

impl HeavyWork {
    /// A place for one more analysis of `caller`'s, or `None` when they already run
    /// [`PER_CALLER`].
    pub fn try_start(self: &Arc<Self>, caller: &str) -> Option<Permit> {
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        let n = running.entry(caller.to_string()).or_insert(0);
        if *n >= PER_CALLER {
            return None;
        }
        *n += 1;
        Some(Permit { work: Arc::clone(self), caller: caller.to_string() })
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut running = self.work.running.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = running.get_mut(&self.caller) {
            *n -= 1;
            if *n == 0 {
                running.remove(&self.caller);
            }
        }
    }
}

/// Middleware of the analysis endpoints: admits a request while its caller (the signed-in
/// user or the token; the client address otherwise) runs fewer than [`PER_CALLER`].
pub async fn limit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let caller = match request.extensions().get::<Principal>() {
        Some(p) => p.actor(),
        None => request.extensions().get::<crate::auth::ClientIp>().map_or_else(String::new, |ip| ip.0.clone()),
    };
    let Some(permit) = state.heavy.try_start(&caller) else {
        let mut refused = crate::error::problem(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many analyses at once",
            &format!("you already have {PER_CALLER} analyses running: wait for one to finish, then ask again"),
            None,
        );
        refused.headers_mut().insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from(5));
        return refused.into_response();
    };
    // The handler runs as a task of its own, holding the place until it ends: an analysis
    // runs on a blocking thread that carries on when its request is abandoned, so a place
    // given back on the client's disconnect would let a caller send, cancel and send again
    // past the cap.
    let handler = tokio::spawn(async move {
        let response = next.run(request).await;
        drop(permit);
        response
    });
    match handler.await {
        Ok(response) => response,
        Err(e) => {
            tracing::error!("an analysis request failed: {e}");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_caller_runs_at_most_the_cap_and_a_finished_one_frees_its_place() {
        let work = Arc::new(HeavyWork::default());
        let permits: Vec<Permit> = (0..PER_CALLER).map(|_| work.try_start("user:a").expect("under the cap")).collect();
        assert!(work.try_start("user:a").is_none(), "one over the cap is refused");
        assert!(work.try_start("user:b").is_some(), "another caller is not held up");
        drop(permits.into_iter().next());
        assert!(work.try_start("user:a").is_some(), "a finished analysis gives its place back");
    }

    #[test]
    fn nothing_is_left_counted_once_every_analysis_ends() {
        let work = Arc::new(HeavyWork::default());
        drop(work.try_start("user:a"));
        assert!(work.running.lock().expect("lock").is_empty());
    }
}
