//! `alliance board-pack --quarter 2025Q3 --out pack.html`: the quarterly Board pack as one
//! self-contained HTML file, or, by the extension of `--out`, as a PDF (`.pdf`) or an
//! OpenDocument text file a Board secretary can edit (`.odt`). Without `--quarter`, the
//! latest quarter with data.

use std::path::PathBuf;
use std::process::ExitCode;

use alliance_app::board_pack::BoardPack;
use alliance_core::governance::{ActionStatus, Quarter};
use alliance_db::Db;
use anyhow::Context;
use clap::Args;

#[derive(Debug, Args)]
pub struct BoardPackArgs {
    /// The calendar quarter, e.g. 2025Q3 (July to September 2025), or 2025/26 Q2 (the same);
    /// the latest quarter with data when not given.
    #[arg(long, value_parser = parse_quarter)]
    pub quarter: Option<Quarter>,
    /// Where to write the pack: HTML, or PDF when the name ends in `.pdf`, or OpenDocument
    /// text when it ends in `.odt`.
    #[arg(long)]
    pub out: PathBuf,
    /// The partnership's name on the cover (default: the name in the partnership's profile).
    #[arg(long)]
    pub partnership: Option<String>,
}

fn parse_quarter(s: &str) -> Result<Quarter, String> {
    s.parse()
}

pub async fn run(db: &Db, args: BoardPackArgs) -> anyhow::Result<ExitCode> {
    let partnership = match args.partnership {
        Some(name) => name,
        None => match db.partnership().await? {
            Some(profile) => profile.name,
            None => anyhow::bail!(
                "no partnership is set up yet: run `alliance partnership init`, or give the cover's name with --partnership"
            ),
        },
    };
    let quarter = match args.quarter {
        Some(q) => q,
        None => {
            let today = alliance_db::clock::today();
            let current = Quarter::of_date(&today).context("today's date has no quarter")?;
            // The command runs with the database's own rights: every source counts.
            let all = |_: &str| alliance_core::access::AccessLevel::Record;
            alliance_app::board_pack::latest_quarter_seen_by(db, current, false, all).await?
        }
    };
    let mut pack = BoardPack::load(db, quarter, &partnership).await?;
    // The file goes to the Board, which sees no more than aggregate figures: values of
    // restricted indicators (health) are suppressed under the profile's threshold.
    let threshold = db.partnership().await?.map_or(alliance_app::disclosure::DEFAULT_THRESHOLD, |p| p.threshold());
    pack.restrict_indicators(&alliance_app::Disclosure::new(threshold)?, |_| {
        alliance_core::access::AccessLevel::Aggregate
    });
    let extension = args.out.extension().map(|e| e.to_string_lossy().to_ascii_lowercase());
    let bytes = match extension.as_deref() {
        Some("odt") => {
            alliance_reports::odt::board_pack_odt(&pack).context("cannot write the Board pack as OpenDocument text")?
        }
        Some("pdf") => alliance_reports::pdf::board_pack_pdf(&pack).context("cannot write the Board pack as PDF")?,
        _ => alliance_reports::board_pack::render(&pack).context("cannot render the Board pack")?.into_bytes(),
    };
    std::fs::write(&args.out, bytes).with_context(|| format!("cannot write {}", args.out.display()))?;
    println!(
        "{}: Board pack for {} ({}): {} actions ({} on track, {} at risk, {} off track, {} complete, {} not started), \
         {} indicators off target, {} escalations",
        args.out.display(),
        quarter,
        quarter.label(),
        pack.actions_total,
        pack.rag_count(ActionStatus::OnTrack),
        pack.rag_count(ActionStatus::AtRisk),
        pack.rag_count(ActionStatus::OffTrack),
        pack.rag_count(ActionStatus::Complete),
        pack.rag_count(ActionStatus::NotStarted),
        pack.off_target().len(),
        pack.escalations.len()
    );
    Ok(ExitCode::SUCCESS)
}
