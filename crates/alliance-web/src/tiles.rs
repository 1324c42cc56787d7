//! A background map from a tile server the deployment names (`alliance serve --tiles URL
//! --tiles-attribution TEXT`, or `ALLIANCE_TILES_URL` / `ALLIANCE_TILES_ATTRIBUTION`).
//!
//! Alliance works offline: without a tile server its maps draw the streets the police data
//! names (their snapped points) and the boundaries, and the Content-Security-Policy allows
//! images from Alliance only. With one, the maps (`/map`, `/places…`) put its tiles under
//! their layers, show its attribution (a condition of every tile service's licence), and the
//! policy's `img-src` gains that one origin and nothing else.
//!
//! The URL is checked when the server starts, so a typo stops it rather than giving blank
//! maps: an `https://` template of Leaflet's form with `{z}`, `{x}` and `{y}` each once, in
//! the path or query, a plain host name (no `{s}` subdomains, which would need a wildcard in
//! the policy; no user or password), and only characters that need no escaping in a URL.
//! The attribution is plain text (Leaflet shows it as HTML, so `<` and `>` are refused;
//! the map script escapes it as well).

use axum::http::HeaderValue;

/// The longest tile URL template accepted.
pub const MAX_URL_LEN: usize = 500;
/// The longest attribution accepted.
pub const MAX_ATTRIBUTION_LEN: usize = 300;

/// Why a tile server setting was refused, in words for whoever configures the server.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TileError {
    #[error("the tile URL \"{url}\" is not valid: {reason}")]
    Url { url: String, reason: String },
    #[error("the tile attribution is not valid: {0}")]
    Attribution(String),
}

/// A validated tile server: the URL template, its origin (for the policy) and attribution.
#[derive(Debug, Clone)]
pub struct TileLayer {
    url: String,
    origin: String,
    attribution: String,
    policy: HeaderValue,
}

impl TileLayer {
    /// Checks a URL template and its attribution (both required together).
    pub fn new(url: &str, attribution: &str) -> Result<TileLayer, TileError> {
        let url = url.trim();
        let bad = |reason: &str| TileError::Url { url: url.chars().take(80).collect(), reason: reason.to_string() };
        if url.len() > MAX_URL_LEN {
            return Err(bad(&format!("it is longer than {MAX_URL_LEN} characters")));
        }
        let Some(rest) = url.strip_prefix("https://") else {
            return Err(bad("it must start with https:// (tiles over plain HTTP would be mixed content)"));
        };
        let (authority, path) = match rest.find(['/', '?']) {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        if authority.contains('@') {
            return Err(bad("it must not carry a user name or password"));
        }
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        };
        if host.contains('{') {
            return Err(bad("its host must be a plain name: {s} subdomains are not supported, name one server"));
        }
        let label_ok = |l: &str| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        };
        if host.is_empty() || host.len() > 253 || !host.split('.').all(label_ok) {
            return Err(bad("its host is not a valid host name"));
        }
        if let Some(p) = port {
            if p.parse::<u16>().ok().filter(|p| *p > 0).is_none() {
                return Err(bad("its port is not a number from 1 to 65535"));
            }
        }
        for placeholder in ["{z}", "{x}", "{y}"] {
            match path.matches(placeholder).count() {
                1 => {}
                0 => {
                    return Err(bad(&format!(
                        "it has no {placeholder} (Leaflet's form: https://host/{{z}}/{{x}}/{{y}}.png)"
                    )))
                }
                _ => return Err(bad(&format!("it has {placeholder} more than once"))),
            }
        }
        let without = path.replace("{z}", "").replace("{x}", "").replace("{y}", "");
        if let Some(c) = without.chars().find(|c| !(c.is_ascii_alphanumeric() || "-._~/?&=%:@+!$()*".contains(*c))) {
            return Err(bad(&format!(
                "it has the character {c:?}: only {{z}}, {{x}} and {{y}} may be placeholders, and other characters must be percent-encoded"
            )));
        }
        let attribution = attribution.trim();
        if attribution.is_empty() {
            return Err(TileError::Attribution(
                "give one with the tiles (--tiles-attribution): the tile service's licence requires it to be shown"
                    .into(),
            ));
        }
        if attribution.chars().count() > MAX_ATTRIBUTION_LEN {
            return Err(TileError::Attribution(format!("it is longer than {MAX_ATTRIBUTION_LEN} characters")));
        }
        if attribution.chars().any(|c| c.is_control() || c == '<' || c == '>') {
            return Err(TileError::Attribution(
                "it must be plain text on one line, without < or > (e.g. © OpenStreetMap contributors)".into(),
            ));
        }
        let origin = format!("https://{}", authority.to_ascii_lowercase());
        let policy = HeaderValue::from_str(&crate::security_headers::policy(Some(&origin)))
            .map_err(|e| bad(&format!("its origin cannot go in a header: {e}")))?;
        Ok(TileLayer { url: url.to_string(), origin, attribution: attribution.to_string(), policy })
    }

    /// The URL template, as Leaflet takes it.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// `https://host[:port]`: what the policy's `img-src` allows.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    pub fn attribution(&self) -> &str {
        &self.attribution
    }

    /// The Content-Security-Policy with this server's origin in `img-src`.
    pub fn content_security_policy(&self) -> &HeaderValue {
        &self.policy
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OSM: &str = "© OpenStreetMap contributors";

    #[test]
    fn a_template_of_one_https_server_is_accepted_with_its_origin() {
        let t = TileLayer::new(" https://Tile.OpenStreetMap.org/{z}/{x}/{y}.png ", OSM).expect("valid");
        assert_eq!(t.url(), "https://Tile.OpenStreetMap.org/{z}/{x}/{y}.png");
        assert_eq!(t.origin(), "https://tile.openstreetmap.org");
        let csp = t.content_security_policy().to_str().expect("ascii");
        assert!(csp.contains("img-src 'self' data: https://tile.openstreetmap.org;"), "{csp}");
        let t =
            TileLayer::new("https://tiles.example.org:8443/styles/{z}/{y}/{x}@2x.png?key=abc%20d", "Example").unwrap();
        assert_eq!(t.origin(), "https://tiles.example.org:8443");
    }

    #[test]
    fn bad_templates_and_attributions_are_refused_saying_why() {
        let cases = [
            ("http://tile.example.org/{z}/{x}/{y}.png", "https://"),
            ("https://tile.example.org/{z}/{x}.png", "no {y}"),
            ("https://tile.example.org/{z}/{x}/{y}/{y}.png", "{y} more than once"),
            ("https://{s}.tile.example.org/{z}/{x}/{y}.png", "{s} subdomains"),
            ("https://user:pw@tile.example.org/{z}/{x}/{y}.png", "user name"),
            ("https://tile.example.org;script-src:*/{z}/{x}/{y}", "host"),
            ("https://tile.example.org:0/{z}/{x}/{y}", "port"),
            ("https://tile.example.org/{z}/{x}/{y}.png?a=\"b\"", "character '\"'"),
            ("https://tile.example.org/{z}/{x}/{y} .png", "character ' '"),
            ("https://tile.example.org/{r}/{z}/{x}/{y}.png", "character '{'"),
            ("https:///{z}/{x}/{y}.png", "host"),
        ];
        for (url, why) in cases {
            let e = TileLayer::new(url, OSM).expect_err(url).to_string();
            assert!(e.contains(why), "{url}: {e}");
        }
        let long = format!("https://tile.example.org/{}/{{z}}/{{x}}/{{y}}", "a".repeat(MAX_URL_LEN));
        assert!(TileLayer::new(&long, OSM).is_err());
        let url = "https://tile.example.org/{z}/{x}/{y}.png";
        for (attribution, why) in [
            ("  ", "give one"),
            ("<a href=x>OSM</a>", "plain text"),
            ("line\nbreak", "plain text"),
            (&"a".repeat(MAX_ATTRIBUTION_LEN + 1), "longer"),
        ] {
            let e = TileLayer::new(url, attribution).expect_err(attribution).to_string();
            assert!(e.contains(why), "{attribution:?}: {e}");
        }
    }
}
