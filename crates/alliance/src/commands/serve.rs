//! `alliance serve`: the web app. `--demo` first makes the database the demo partnership's
//! (data, profile, strategy and an administrator); without it an empty database opens the
//! set-up page, where a real deployment names its own partnership.

use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;

use alliance_db::Db;
use anyhow::Context;
use clap::Args;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The port to listen on; 0 lets the system choose a free one (printed at start).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: IpAddr,
    /// Load the demo partnership into an empty database: Staffordshire Police's 2025 data,
    /// the Staffordshire and Stoke-on-Trent profile and strategy, and a demo administrator
    /// whose password is printed once. Never use it for a real deployment.
    #[arg(long)]
    pub demo: bool,
    /// Send cookies without the `Secure` flag even on a non-loopback address (only behind
    /// a TLS-terminating proxy that talks plain HTTP to Alliance, or for testing). On a
    /// loopback address they never carry it, since browsers drop them over plain HTTP.
    #[arg(long)]
    pub insecure_cookies: bool,
    /// Overrides the partnership profile's suppression threshold for this server (logged at
    /// start). Normally leave it out: the threshold is a setting of the partnership
    /// (`alliance partnership set --suppression-threshold`, or /admin/partnership), so every
    /// server, command and export uses the same one.
    #[arg(long, value_parser = clap::value_parser!(u64).range(2..=alliance_app::disclosure::MAX_THRESHOLD))]
    pub suppression_threshold: Option<u64>,
    /// The address of a reverse proxy (e.g. the TLS proxy in front of Alliance) whose
    /// `X-Forwarded-For` header names the client; repeat for several. Sign-in and public-form
    /// limits then count each visitor, not the proxy. From any other address the header is
    /// ignored, so clients cannot choose their own address.
    #[arg(long = "trusted-proxy", value_name = "ADDR")]
    pub trusted_proxies: Vec<IpAddr>,
    /// The SMTP relay notifications are handed to, `smtp://HOST[:PORT]` (plain SMTP: a relay
    /// on this host or a trusted network). Without it, notifications are logged as not sent.
    #[arg(long, env = "ALLIANCE_SMTP_URL", value_name = "URL")]
    pub smtp_url: Option<String>,
    /// The sender of notifications.
    #[arg(long, env = "ALLIANCE_MAIL_FROM", default_value = "Alliance <alliance@localhost>")]
    pub mail_from: String,
    /// The address users reach Alliance at, for the links in notifications (default: the
    /// address served on).
    #[arg(long, env = "ALLIANCE_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,
    /// A tile server for the maps' background, as a URL template
    /// `https://HOST/{z}/{x}/{y}.png` (checked at start). Without it the maps work offline:
    /// the streets the police data names and the boundaries. Its origin is added to the
    /// Content-Security-Policy's `img-src`; needs --tiles-attribution.
    #[arg(long, env = "ALLIANCE_TILES_URL", value_name = "URL", requires = "tiles_attribution")]
    pub tiles: Option<String>,
    /// The attribution the tile service's licence requires (plain text, shown on every map),
    /// e.g. "© OpenStreetMap contributors".
    #[arg(long, env = "ALLIANCE_TILES_ATTRIBUTION", value_name = "TEXT", requires = "tiles")]
    pub tiles_attribution: Option<String>,
    /// The largest postcode file an administrator may upload at /admin/postcodes, in MB
    /// (default 2048: room for the national ONS Postcode Directory, about 1.3 GB).
    #[arg(long, env = "ALLIANCE_POSTCODE_UPLOAD_LIMIT_MB", value_name = "MB", value_parser = clap::value_parser!(u64).range(1..=65_536))]
    pub postcode_upload_limit_mb: Option<u64>,
}

pub async fn run(db: &Db, args: ServeArgs) -> anyhow::Result<ExitCode> {
    // A bad tile setting stops the server before it changes or serves anything.
    let tiles = match (&args.tiles, &args.tiles_attribution) {
        (Some(url), attribution) => Some(
            alliance_web::TileLayer::new(url, attribution.as_deref().unwrap_or_default())
                .context("--tiles / ALLIANCE_TILES_URL")?,
        ),
        (None, _) => None,
    };
    if args.demo {
        crate::demo::load_demo_partnership(db).await.context("cannot load the demo partnership")?;
    }
    let needs_setup = !db.has_users().await.context("cannot read the users")?;
    let addr = SocketAddr::new(args.bind, args.port);
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("cannot listen on {addr}"))?;
    // The bound address, not the asked one: with --port 0 the system picks a free port, and
    // this line is how a caller (the browser test) learns it.
    let bound = listener.local_addr().with_context(|| format!("cannot read the address bound for {addr}"))?;
    println!("Alliance is running at http://{bound}/ (Ctrl-C to stop)");
    if needs_setup {
        // Only this link opens set-up: whoever reaches a new deployment first cannot make
        // themselves its administrator without it (`Db::setup_token`).
        println!(
            "Nobody can sign in yet: set up your partnership at http://{bound}/setup?token={} (or run `alliance serve --demo` to try Alliance with the demo partnership).",
            db.setup_token()
        );
    }
    let disclosure = args.suppression_threshold.map(alliance_app::Disclosure::new).transpose()?;
    if let Some(d) = disclosure {
        println!(
            "Suppression threshold {} given on the command line: it overrides the partnership profile's.",
            d.threshold()
        );
    }
    let public_url = args.public_url.clone().unwrap_or_else(|| format!("http://{bound}"));
    let mailer = match &args.smtp_url {
        Some(url) => alliance_app::mail::Mailer::smtp(url, &args.mail_from, &public_url)
            .context("cannot configure the SMTP relay (--smtp-url / ALLIANCE_SMTP_URL)")?,
        None => {
            println!("No SMTP relay configured (--smtp-url): notifications are logged, not sent.");
            // Invitation links made without a relay are shown to the administrator: on this address.
            let mut mailer = alliance_app::mail::Mailer::none();
            mailer.base_url = public_url.trim_end_matches('/').to_string();
            mailer
        }
    };
    match &tiles {
        Some(t) => println!("The maps draw tiles from {} ({}).", t.origin(), t.attribution()),
        None => println!("No tile server (--tiles): the maps draw the police data's streets and the boundaries."),
    }
    let options = alliance_web::ServeOptions {
        insecure_cookies: args.insecure_cookies,
        disclosure,
        trusted_proxies: args.trusted_proxies,
        mailer,
        tiles,
        postcode_upload_limit: args.postcode_upload_limit_mb.map(|mb| mb << 20),
    };
    alliance_web::serve_on(db.clone(), listener, options).await.with_context(|| format!("cannot serve on {bound}"))?;
    Ok(ExitCode::SUCCESS)
}
