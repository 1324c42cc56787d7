//! Static assets compiled into the binary, so Alliance works offline with no CDN.

use crate::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

/// (path under /assets/, content type, bytes)
const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "govuk/govuk-frontend.min.css",
        "text/css; charset=utf-8",
        include_bytes!("../assets/govuk/govuk-frontend.min.css"),
    ),
    (
        "govuk/govuk-frontend.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/govuk/govuk-frontend.min.js"),
    ),
    ("govuk/init.js", "text/javascript; charset=utf-8", include_bytes!("../assets/init.js")),
    ("js-enabled.js", "text/javascript; charset=utf-8", include_bytes!("../assets/js-enabled.js")),
    ("alliance.css", "text/css; charset=utf-8", include_bytes!("../assets/alliance.css")),
    ("alliance.svg", "image/svg+xml", include_bytes!("../assets/alliance.svg")),
    ("leaflet/leaflet.js", "text/javascript; charset=utf-8", include_bytes!("../assets/leaflet/leaflet.js")),
    ("leaflet/leaflet.css", "text/css; charset=utf-8", include_bytes!("../assets/leaflet/leaflet.css")),
    ("leaflet/images/layers.png", "image/png", include_bytes!("../assets/leaflet/images/layers.png")),
    ("leaflet/images/layers-2x.png", "image/png", include_bytes!("../assets/leaflet/images/layers-2x.png")),
    ("leaflet/images/marker-icon.png", "image/png", include_bytes!("../assets/leaflet/images/marker-icon.png")),
    (
        "leaflet-draw/leaflet.draw.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/leaflet-draw/leaflet.draw.js"),
    ),
    (
        "leaflet-draw/leaflet.draw.css",
        "text/css; charset=utf-8",
        include_bytes!("../assets/leaflet-draw/leaflet.draw.css"),
    ),
    (
        "leaflet-draw/images/spritesheet.png",
        "image/png",
        include_bytes!("../assets/leaflet-draw/images/spritesheet.png"),
    ),
    (
        "leaflet-draw/images/spritesheet-2x.png",
        "image/png",
        include_bytes!("../assets/leaflet-draw/images/spritesheet-2x.png"),
    ),
    (
        "leaflet-draw/images/spritesheet.svg",
        "image/svg+xml",
        include_bytes!("../assets/leaflet-draw/images/spritesheet.svg"),
    ),
    ("map-base.js", "text/javascript; charset=utf-8", include_bytes!("../assets/map-base.js")),
    ("places.js", "text/javascript; charset=utf-8", include_bytes!("../assets/places.js")),
    ("map.js", "text/javascript; charset=utf-8", include_bytes!("../assets/map.js")),
    ("report-map.js", "text/javascript; charset=utf-8", include_bytes!("../assets/report-map.js")),
];

pub(crate) async fn asset(Path(path): Path<String>) -> Response {
    match ASSETS.iter().find(|(p, _, _)| *p == path) {
        Some((_, content_type, bytes)) => {
            ([(header::CONTENT_TYPE, *content_type), (header::CACHE_CONTROL, "public, max-age=3600")], *bytes)
                .into_response()
        }
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}
