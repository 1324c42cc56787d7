//! `alliance indicators define|list|show`: the performance framework's indicators from the
//! command line. `define` adds a computed indicator by one definition (police, ED, a
//! partner series or referrals: `alliance_core::governance::computed`), checked as the web
//! form checks it (`alliance_app::indicators::check`); `show` prints its figures by period.
//! The command line runs with the database's own rights, so `show` prints exact figures:
//! what a reader without record-level access sees is on the web pages and in the Board pack.

use std::process::ExitCode;

use alliance_core::governance::{ComputedIndicator, Direction, Frequency, IndicatorKind, IndicatorSource, Quarter};
use alliance_db::governance::NewIndicator;
use alliance_db::Db;
use anyhow::Context;
use clap::{Args, Subcommand};

#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once per run
pub enum IndicatorsCommand {
    /// Add a computed indicator: its values come from stored data and are never typed.
    Define(DefineArgs),
    /// List the indicators with their sources.
    List,
    /// Print a computed indicator's definition and its figures for the periods up to a quarter.
    Show {
        /// The indicator's code.
        code: String,
        /// The quarter, like 2025Q3 (default: the latest quarter with data).
        #[arg(long)]
        quarter: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct DefineArgs {
    /// Short unique code, like sv-quarter (lower-case letters, digits and hyphens).
    #[arg(long)]
    code: String,
    /// The indicator's name.
    #[arg(long)]
    name: String,
    /// input, output or outcome.
    #[arg(long, default_value = "outcome")]
    kind: String,
    /// The unit, like crimes, attendances, referrals or per 1,000 residents.
    #[arg(long)]
    unit: String,
    /// monthly or quarterly (ED and referral indicators are quarterly).
    #[arg(long, default_value = "quarterly")]
    frequency: String,
    /// up (higher is better) or down (lower is better).
    #[arg(long)]
    direction: String,
    /// What is counted, in words (default: the definition in words).
    #[arg(long)]
    definition: Option<String>,
    /// police, ed, partner-series or referrals.
    #[arg(long)]
    source: String,
    /// count, count-12m, rate-12m (police); sum or mean (a partner series); count (ED, referrals).
    #[arg(long)]
    measure: Option<String>,
    /// Police: crime-type:<type>, serious-violence or sv-group:<group>; ED: all, method:<code> or serious-violence.
    #[arg(long)]
    select: Option<String>,
    /// A partner series: its name.
    #[arg(long)]
    series: Option<String>,
    /// A partner series: only the values this organisation (its id) supplied.
    #[arg(long)]
    org: Option<i64>,
    /// Referrals: made, accepted or closed-with-outcome.
    #[arg(long)]
    event: Option<String>,
    /// Referrals: to this service only (its id).
    #[arg(long)]
    service: Option<String>,
    /// Police: a district code; a partner series: one area code.
    #[arg(long)]
    area: Option<String>,
    /// The target, in the indicator's unit.
    #[arg(long)]
    target: Option<f64>,
}

/// The definition the flags give, read as a stored definition line is.
fn definition_of(a: &DefineArgs) -> anyhow::Result<ComputedIndicator> {
    let default_measure = if a.source == "partner-series" { "sum" } else { "count" };
    let mut line = format!("{};measure={}", a.source.trim(), a.measure.as_deref().unwrap_or(default_measure));
    for (key, value) in [
        ("select", a.select.clone()),
        ("series", a.series.clone()),
        ("org", a.org.map(|o| o.to_string())),
        ("event", a.event.clone()),
        ("service", a.service.clone()),
        ("area", a.area.clone()),
    ] {
        if let Some(v) = value {
            anyhow::ensure!(!v.contains(';'), "--{key}: \"{v}\" contains a semicolon, which a definition cannot hold");
            line.push_str(&format!(";{key}={v}"));
        }
    }
    ComputedIndicator::parse(&line).map_err(|e| anyhow::anyhow!("the definition: {e}"))
}

pub async fn run(db: &Db, command: IndicatorsCommand) -> anyhow::Result<ExitCode> {
    match command {
        IndicatorsCommand::Define(a) => {
            let def = definition_of(&a)?;
            let frequency: Frequency = a.frequency.parse().map_err(|e| anyhow::anyhow!("--frequency: {e}"))?;
            let kind: IndicatorKind = a.kind.parse().map_err(|e| anyhow::anyhow!("--kind: {e}"))?;
            let direction: Direction = a.direction.parse().map_err(|e: String| anyhow::anyhow!("--direction: {e}"))?;
            let source = IndicatorSource::Computed(def);
            if let Err(e) = alliance_app::indicators::check(db, &source, frequency).await {
                anyhow::bail!("{e}");
            }
            let described = alliance_app::indicators::describe(db, &source).await?;
            let definition = a.definition.clone().unwrap_or_else(|| described.clone());
            let id = db
                .create_indicator(
                    &NewIndicator {
                        code: &a.code,
                        name: &a.name,
                        kind: kind.code(),
                        definition: &definition,
                        unit: &a.unit,
                        frequency: frequency.code(),
                        direction,
                        baseline: None,
                        baseline_period: None,
                        target: a.target,
                        tolerance: None,
                        owner_org_id: None,
                        priority_id: None,
                        source: source.clone(),
                    },
                    &super::cli_actor(),
                )
                .await?;
            println!("indicator {id} added: {} ({})", a.code.trim(), source.as_string());
            println!("{described}");
        }
        IndicatorsCommand::List => {
            let all = db.indicators().await?;
            if all.is_empty() {
                println!("no indicators: add one with `alliance indicators define` or on the /indicators/new page");
            }
            for i in all {
                println!("{:>4}  {:<28} {:<10} {}", i.id, i.code, i.frequency, i.source.as_string());
            }
        }
        IndicatorsCommand::Show { code, quarter } => {
            let ind =
                db.indicator_by_code(&code).await?.with_context(|| format!("no indicator has the code \"{code}\""))?;
            println!("{} ({}): {}", ind.name, ind.code, alliance_app::indicators::describe(db, &ind.source).await?);
            let Some(def) = ind.source.computed() else {
                println!("entered indicator: its values are on its page, /indicators/{}", ind.id);
                return Ok(ExitCode::SUCCESS);
            };
            let current = Quarter::of_date(&alliance_db::clock::today()).context("today's quarter")?;
            let quarter = match quarter {
                Some(q) => q.parse::<Quarter>().map_err(|e| anyhow::anyhow!("--quarter: {e}"))?,
                // The command runs with the database's own rights: every source counts.
                None => {
                    let all = |_: &str| alliance_core::access::AccessLevel::Record;
                    alliance_app::board_pack::latest_quarter_seen_by(db, current, true, all).await?
                }
            };
            let frequency = ind.frequency.parse::<Frequency>().unwrap_or(Frequency::Quarterly);
            let coverage = alliance_app::forces::ForceCoverage::load(db).await?;
            let s = alliance_app::indicators::series(db, def, frequency, quarter, &coverage).await?;
            for (period, value) in &s.series {
                let shown = value.map(alliance_app::board_pack::fmt_value).unwrap_or_else(|| "not computed".into());
                println!("{period:>8}  {shown}");
            }
            println!("{}", s.note);
        }
    }
    Ok(ExitCode::SUCCESS)
}
