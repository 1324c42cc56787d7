//! The maps' background (issue 15): offline by default (the police data's streets and the
//! boundaries, and a Content-Security-Policy allowing images from Alliance only); with a tile
//! server named (`alliance serve --tiles URL --tiles-attribution TEXT`) the map pages carry
//! its URL and attribution as data attributes (no inline script), show the attribution, and
//! the policy's `img-src` gains that one origin. A bad setting stops `serve` at start.

use alliance_core::access::Role;
use reqwest::StatusCode;

use crate::common::app::TestApp;
use crate::common::TestDb;

const URL: &str = "https://tiles.example.org/osm/{z}/{x}/{y}.png";
const ATTRIBUTION: &str = "© OpenStreetMap contributors & friends";

/// The map pages: `/map` and the place register's (list, one place, the form).
const MAP_PAGES: [&str; 3] = ["/map", "/places", "/places/new"];

fn img_src(csp: &str) -> String {
    csp.split(';').map(str::trim).find(|d| d.starts_with("img-src")).expect("an img-src directive").to_string()
}

async fn tiles_in_the_maps_and_the_policy(offline: TestDb, online: TestDb) {
    // Offline (the default): images from Alliance only, no tile attributes on any map.
    let db = offline.connect().await;
    let app = TestApp::start_with(offline, alliance_web::AppState::new(db).with_secure_cookies(false)).await;
    let analyst = app.signed_in("analyst@example.org", Role::Analyst, "Office of the PFCC").await;
    for path in MAP_PAGES {
        let page = app.get(path, &analyst).await;
        assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.body);
        let csp = page.header("content-security-policy").expect("a policy");
        assert_eq!(img_src(csp), "img-src 'self' data:", "{path}");
        assert!(!page.body.contains("data-tiles"), "{path}: no tile server named");
        assert!(!page.body.contains("Background map:"), "{path}");
    }

    // With a tile server: its origin in img-src (and nowhere else in the policy), its URL
    // and attribution on every map, the attribution shown as text.
    let tiles = alliance_web::TileLayer::new(URL, ATTRIBUTION).expect("a valid tile server");
    let db = online.connect().await;
    let state = alliance_web::AppState::new(db).with_secure_cookies(false).with_tiles(tiles);
    let app = TestApp::start_with(online, state).await;
    let analyst = app.signed_in("analyst@example.org", Role::Analyst, "Office of the PFCC").await;
    for path in MAP_PAGES {
        let page = app.get(path, &analyst).await;
        assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.body);
        let csp = page.header("content-security-policy").expect("a policy");
        assert_eq!(img_src(csp), "img-src 'self' data: https://tiles.example.org", "{path}");
        assert_eq!(csp.matches("tiles.example.org").count(), 1, "{path}: only img-src gains it: {csp}");
        assert!(csp.contains("script-src 'self';") && csp.contains("default-src 'self';"), "{csp}");
        assert!(page.body.contains(&format!("data-tiles=\"{URL}\"")), "{path}: the URL template");
        assert!(
            page.body.contains("data-tiles-attribution=\"© OpenStreetMap contributors &#38; friends\""),
            "{path}: the attribution, escaped"
        );
        assert!(page.body.contains("Background map: © OpenStreetMap contributors &#38; friends."), "{path}");
        assert!(!page.body.contains("<script>"), "{path}: no inline script");
    }
    // The API and other pages carry the same policy (one header for every response).
    let api = app.get("/api/v1/places", &analyst).await;
    assert_eq!(
        img_src(api.header("content-security-policy").expect("a policy")),
        "img-src 'self' data: https://tiles.example.org"
    );
    // The maps' shared script reads the attributes (and keeps the streets as a layer to add),
    // and the map pages load it.
    let script = app.get("/assets/map-base.js", &analyst).await;
    assert!(script.body.contains("el.dataset.tiles") && script.body.contains("L.tileLayer"));
    assert!(app.get("/assets/map.js", &analyst).await.body.contains("allianceMap(el)"));
}

mod tiles_in_the_maps {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::tiles_in_the_maps_and_the_policy(crate::common::sqlite(), crate::common::sqlite()).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        let Some(offline) = crate::common::postgres().await else { return };
        let Some(online) = crate::common::postgres().await else { return };
        super::tiles_in_the_maps_and_the_policy(offline, online).await;
    }
}

/// `alliance serve` with a bad tile setting stops before listening, naming the setting and
/// why; given by flag or by environment variable. (The address to bind is one the machine
/// does not have, so a setting wrongly accepted fails at the bind instead of serving.)
#[test]
fn a_bad_tile_setting_stops_serve_at_start() {
    let t = crate::common::sqlite();
    let serve = |args: &[&str], env: &[(&str, &str)]| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_alliance"));
        command
            .arg("--db")
            .arg(&t.url)
            .args(["serve", "--bind", "192.0.2.1", "--port", "0"])
            .args(args)
            .env_remove("ALLIANCE_DB")
            .env_remove("ALLIANCE_TILES_URL")
            .env_remove("ALLIANCE_TILES_ATTRIBUTION")
            .env("ALLIANCE_LOG", "warn");
        for (k, v) in env {
            command.env(k, v);
        }
        let out = command.output().expect("run alliance serve");
        assert!(!out.status.success(), "{args:?} {env:?} was accepted");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let plain = serve(&["--tiles", "http://tiles.example.org/{z}/{x}/{y}.png", "--tiles-attribution", "OSM"], &[]);
    assert!(plain.contains("--tiles") && plain.contains("must start with https://"), "{plain}");
    assert!(!plain.contains("cannot listen"), "refused before binding: {plain}");
    let no_y = serve(&["--tiles", "https://tiles.example.org/{z}/{x}.png", "--tiles-attribution", "OSM"], &[]);
    assert!(no_y.contains("it has no {y}"), "{no_y}");
    let no_attribution = serve(&["--tiles", URL], &[]);
    assert!(no_attribution.contains("--tiles-attribution"), "{no_attribution}");
    let from_env = serve(
        &[],
        &[
            ("ALLIANCE_TILES_URL", "https://{s}.tiles.example.org/{z}/{x}/{y}.png"),
            ("ALLIANCE_TILES_ATTRIBUTION", "OSM"),
        ],
    );
    assert!(from_env.contains("{s} subdomains"), "{from_env}");
    let html = serve(&["--tiles", URL, "--tiles-attribution", "<b>OSM</b>"], &[]);
    assert!(html.contains("plain text"), "{html}");
    // A good setting passes the check and the server goes on to bind (here refused).
    let good = serve(&["--tiles", URL, "--tiles-attribution", "OSM"], &[]);
    assert!(good.contains("cannot listen"), "{good}");
}
