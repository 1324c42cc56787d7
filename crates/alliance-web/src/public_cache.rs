//! Rendered public pages, kept until the stored data changes.
//!
//! The public pages (`/public/figures`, `/you-said-we-did`, the charter directory, the
//! directory of help) were recomputed from raw rows on every request: a local news story
//! linking to them would have taken the service down (issue 18 measured 6–7 requests a second
//! for `/public/figures`). They show the same bytes to every visitor (no session, no form
//! token: pages with a form are never kept here), so a rendered page is kept and served again
//! while nothing it could show has changed.
//!
//! **When a page is stale.** The key holds the data version ([`alliance_db::Db::data_version`]): the newest
//! audit row's id — every change of stored data appends an audit row in its own transaction —
//! and the newest import's id (imports made through the library without an audit row, such as
//! the demo's, still record an import). So any change (an import, a moderated report, a
//! published response, a charter decision, a new threshold) makes every kept page a miss, on
//! every instance sharing the database. The key also holds
//! the day (pages count what is current today), the partnership's name, charter name, colour and logo and
//! the disclosure threshold in force (both read through caches of their own that may lag the
//! audit row by a few seconds). As a safety net for a change that escaped the audit log, no
//! page is served older than [`MAX_AGE`].
//!
//! **Bounds.** At most [`MAX_ENTRIES`] pages and [`MAX_BYTES`] in all, least recently used
//! out first; a page over [`MAX_PAGE_BYTES`] or an address over [`MAX_KEY_BYTES`] is served
//! but not kept. Only `200 OK` answers are kept.
//!
//! **Stampedes.** When the data changes under load, many requests miss at once: requests for
//! one address wait on one of [`FILL_LOCKS`] locks (chosen by the address's hash), so one of
//! them renders the page and the rest take its result, while other addresses go on in
//! parallel.
//!
//! Each answer says `X-Alliance-Cache: hit` or `miss` (operators and tests can see it; it
//! reveals nothing the page does not).

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::AppState;

/// The public addresses whose answers are the same for every visitor.
pub const CACHED_PATHS: &[&str] = &[
    "/public",
    "/public/figures",
    "/you-said-we-did",
    "/safer-places",
    "/find-help",
    "/api/v1/services",
    "/accessibility",
    "/exit-this-page-help",
];

/// The longest any page is served after it was rendered.
pub const MAX_AGE: Duration = Duration::from_secs(60);
/// Pages kept at most.
pub const MAX_ENTRIES: usize = 512;
/// Bytes of pages kept at most.
pub const MAX_BYTES: usize = 32 * 1024 * 1024;
/// A page larger than this is served but not kept.
pub const MAX_PAGE_BYTES: usize = 4 * 1024 * 1024;
/// An address (path and query) longer than this is served but not kept.
pub const MAX_KEY_BYTES: usize = 512;
/// Locks that collapse simultaneous misses of one address.
pub const FILL_LOCKS: usize = 16;

/// The header that says whether an answer came from the cache.
pub const CACHE_HEADER: &str = "x-alliance-cache";

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    uri: String,
    data_version: (i64, i64),
    day: chrono::NaiveDate,
    partnership: String,
    charter: String,
    accent: &'static str,
    logo: Option<String>,
    threshold: u64,
}

struct Entry {
    content_type: Option<HeaderValue>,
    body: Bytes,
    made: Instant,
    last_used: u64,
}

#[derive(Default)]
struct Pages {
    entries: HashMap<Key, Entry>,
    bytes: usize,
    tick: u64,
}

/// The kept pages of one process (see the module's documentation).
pub struct PublicCache {
    pages: Mutex<Pages>,
    fill: Vec<tokio::sync::Mutex<()>>,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl Default for PublicCache {
    fn default() -> Self {
        PublicCache {
            pages: Mutex::new(Pages::default()),
            fill: (0..FILL_LOCKS).map(|_| tokio::sync::Mutex::new(())).collect(),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }
}

impl PublicCache {
    /// Answers served from the cache and rendered afresh since the process started.
    pub fn counts(&self) -> (u64, u64) {
        (self.hits.load(Ordering::Relaxed), self.misses.load(Ordering::Relaxed))
    }

    fn get(&self, key: &Key) -> Option<(Option<HeaderValue>, Bytes)> {
        let mut pages = self.pages.lock().unwrap_or_else(|e| e.into_inner());
        pages.tick += 1;
        let tick = pages.tick;
        match pages.entries.get_mut(key) {
            Some(entry) if entry.made.elapsed() <= MAX_AGE => {
                entry.last_used = tick;
                return Some((entry.content_type.clone(), entry.body.clone()));
            }
            Some(_) => {}
            None => return None,
        }
        // Kept longer than MAX_AGE: dropped, and rendered afresh by the caller.
        if let Some(old) = pages.entries.remove(key) {
            pages.bytes -= old.body.len();
        }
        None
    }

    fn put(&self, key: Key, content_type: Option<HeaderValue>, body: Bytes) {
        if body.len() > MAX_PAGE_BYTES {
            return;
        }
        let mut pages = self.pages.lock().unwrap_or_else(|e| e.into_inner());
        // Pages of an older data version or day will never be asked for again.
        let (version, day) = (key.data_version, key.day);
        let before = pages.entries.len();
        pages.entries.retain(|k, _| k.data_version.0 >= version.0 && k.data_version.1 >= version.1 && k.day >= day);
        if pages.entries.len() != before {
            pages.bytes = pages.entries.values().map(|e| e.body.len()).sum();
        }
        if let Some(old) = pages.entries.remove(&key) {
            pages.bytes -= old.body.len();
        }
        while !pages.entries.is_empty() && (pages.entries.len() >= MAX_ENTRIES || pages.bytes + body.len() > MAX_BYTES)
        {
            let Some(oldest) = pages.entries.iter().min_by_key(|(_, e)| e.last_used).map(|(k, _)| k.clone()) else {
                break;
            };
            if let Some(old) = pages.entries.remove(&oldest) {
                pages.bytes -= old.body.len();
            }
        }
        pages.tick += 1;
        let last_used = pages.tick;
        pages.bytes += body.len();
        pages.entries.insert(key, Entry { content_type, body, made: Instant::now(), last_used });
    }

    fn fill_lock(&self, uri: &str) -> &tokio::sync::Mutex<()> {
        let mut hasher = DefaultHasher::new();
        uri.hash(&mut hasher);
        &self.fill[(hasher.finish() % FILL_LOCKS as u64) as usize]
    }
}

fn answer(content_type: Option<HeaderValue>, body: Bytes, how: &'static str) -> Response {
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    match content_type {
        Some(value) => headers.insert(header::CONTENT_TYPE, value),
        None => headers.remove(header::CONTENT_TYPE),
    };
    headers.insert(CACHE_HEADER, HeaderValue::from_static(how));
    response
}

/// The middleware over the public routes: serves a kept page when one is fresh, else renders
/// it and keeps it. Anything other than a GET or HEAD of [`CACHED_PATHS`] passes untouched.
pub async fn serve(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let cacheable = matches!(*request.method(), Method::GET | Method::HEAD)
        && CACHED_PATHS.contains(&request.uri().path())
        && request.uri().to_string().len() <= MAX_KEY_BYTES;
    if !cacheable {
        return next.run(request).await;
    }
    let data_version = match state.db.data_version().await {
        Ok(version) => version,
        Err(e) => {
            // The page itself will meet the same database: let it answer (or fail) as usual.
            tracing::warn!(error = %e, "public cache: cannot read the data version");
            return next.run(request).await;
        }
    };
    let context = crate::auth::current();
    let key = Key {
        uri: request.uri().to_string(),
        data_version,
        day: alliance_db::clock::today_date(),
        partnership: context.partnership,
        charter: context.charter,
        accent: context.accent,
        logo: context.logo,
        threshold: state.disclosure().await.threshold(),
    };
    let cache = &state.public_cache;
    let hit = |key: &Key| {
        let (content_type, body) = cache.get(key)?;
        cache.hits.fetch_add(1, Ordering::Relaxed);
        Some(answer(content_type, body, "hit"))
    };
    if let Some(response) = hit(&key) {
        return response;
    }
    // Another request for this address may be rendering it: wait for it, then look again.
    let _filling = cache.fill_lock(&key.uri).lock().await;
    if let Some(response) = hit(&key) {
        return response;
    }
    cache.misses.fetch_add(1, Ordering::Relaxed);
    let is_get = request.method() == Method::GET;
    let response = next.run(request).await;
    if response.status() != StatusCode::OK || !is_get {
        return response;
    }
    let (parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_PAGE_BYTES).await {
        Ok(bytes) => bytes,
        Err(e) => {
            // Over the page bound (or the body failed): answer afresh without keeping it.
            tracing::warn!(error = %e, path = %key.uri, "public cache: page not kept");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let content_type = parts.headers.get(header::CONTENT_TYPE).cloned();
    cache.put(key, content_type, bytes.clone());
    let mut response = Response::from_parts(parts, Body::from(bytes));
    response.headers_mut().insert(CACHE_HEADER, HeaderValue::from_static("miss"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(uri: &str, version: i64) -> Key {
        Key {
            uri: uri.into(),
            data_version: (version, 0),
            day: chrono::NaiveDate::from_ymd_opt(2026, 12, 2).expect("a date"),
            partnership: "P".into(),
            charter: "C".into(),
            accent: "#1d70b8",
            logo: None,
            threshold: 5,
        }
    }

    #[test]
    fn a_kept_page_is_served_until_the_data_version_moves() {
        let cache = PublicCache::default();
        cache.put(key("/public/figures", 7), None, Bytes::from_static(b"seven"));
        assert_eq!(cache.get(&key("/public/figures", 7)).map(|(_, b)| b), Some(Bytes::from_static(b"seven")));
        assert!(cache.get(&key("/public/figures", 8)).is_none());
        // A page of the newer version drops every page of the older one.
        cache.put(key("/you-said-we-did", 8), None, Bytes::from_static(b"eight"));
        assert!(cache.get(&key("/public/figures", 7)).is_none());
        assert_eq!(cache.pages.lock().map(|p| p.bytes).unwrap_or(0), 5);
    }

    #[test]
    fn the_cache_stays_within_its_entry_and_byte_bounds() {
        let cache = PublicCache::default();
        for i in 0..(MAX_ENTRIES + 10) {
            cache.put(key(&format!("/find-help?q={i}"), 1), None, Bytes::from(vec![b'x'; 10]));
        }
        let pages = cache.pages.lock().unwrap_or_else(|e| e.into_inner());
        assert!(pages.entries.len() <= MAX_ENTRIES);
        assert_eq!(pages.bytes, pages.entries.len() * 10);
        // The most recent survive: least recently used go first.
        assert!(pages.entries.contains_key(&key(&format!("/find-help?q={}", MAX_ENTRIES + 9), 1)));
        assert!(!pages.entries.contains_key(&key("/find-help?q=0", 1)));
        drop(pages);
        let big = Bytes::from(vec![b'x'; MAX_PAGE_BYTES + 1]);
        cache.put(key("/public", 1), None, big);
        assert!(cache.get(&key("/public", 1)).is_none());
    }
}
