//! `alliance evaluate`: did an intervention work, and did crime move next door?

use std::path::PathBuf;
use std::process::ExitCode;

use alliance_app::evaluation::{self, AreaSpec, EvaluationDesign};
use alliance_core::analytics::evaluation::HarmWeight;
use alliance_core::domain::{Month, MonthRange};
use alliance_db::Db;
use anyhow::{bail, Context};
use clap::{Args, ValueEnum};

#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// Target area: a GeoJSON file (WGS84; Polygons, MultiPolygons, Points with "radius_metres").
    #[arg(long, conflicts_with_all = ["target_lsoa", "target_ward", "target_place"])]
    pub target: Option<PathBuf>,
    /// Target area: places of the register by name (comma-separated; see `alliance places list`).
    #[arg(long, value_delimiter = ',', conflicts_with_all = ["target_lsoa", "target_ward"])]
    pub target_place: Vec<String>,
    /// Target area: LSOA codes (comma-separated, all of one census).
    #[arg(long, value_delimiter = ',')]
    pub target_lsoa: Vec<String>,
    /// Target area: ward codes (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub target_ward: Vec<String>,
    /// Width of the buffer ring around the target, in metres.
    #[arg(long)]
    pub buffer: Option<f64>,
    /// Comparison area: a GeoJSON file.
    #[arg(long, conflicts_with_all = ["control_lsoa", "suggest_control", "control_place"])]
    pub control: Option<PathBuf>,
    /// Comparison area: places of the register by name (comma-separated).
    #[arg(long, value_delimiter = ',', conflicts_with_all = ["control_lsoa", "suggest_control"])]
    pub control_place: Vec<String>,
    /// Comparison area: LSOA codes (comma-separated).
    #[arg(long, value_delimiter = ',', conflicts_with = "suggest_control")]
    pub control_lsoa: Vec<String>,
    /// Suggest a comparison area: the N LSOAs nearby most alike the target before.
    #[arg(long)]
    pub suggest_control: Option<usize>,
    /// Before period, YYYY-MM..YYYY-MM.
    #[arg(long, value_parser = parse_range)]
    pub before: Option<MonthRange>,
    /// After period, YYYY-MM..YYYY-MM.
    #[arg(long, value_parser = parse_range)]
    pub after: Option<MonthRange>,
    /// Only this crime type (repeatable), e.g. "Violence and sexual offences".
    #[arg(long = "crime-type")]
    pub crime_types: Vec<String>,
    /// Harm weights: a CSV file with columns category,weight.
    #[arg(long)]
    pub harm_weights: Option<PathBuf>,
    /// The target was chosen because its crime was high (regression to the mean).
    #[arg(long)]
    pub selected_for_high_crime: bool,
    /// Evaluate a registered intervention instead (with --rerun: re-run its stored evaluations).
    #[arg(long)]
    pub intervention: Option<i64>,
    /// With --intervention: re-run every stored evaluation of the intervention on the current data.
    #[arg(long, requires = "intervention")]
    pub rerun: bool,
    #[arg(long, value_enum, default_value_t = Format::Json)]
    pub format: Format,
    /// Write to this file instead of standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    Json,
    Html,
}

/// `YYYY-MM..YYYY-MM` (or a single month).
pub fn parse_range(text: &str) -> Result<MonthRange, String> {
    let (from, to) = text.split_once("..").unwrap_or((text, text));
    let from: Month = from.trim().parse().map_err(|e| format!("{e}"))?;
    let to: Month = to.trim().parse().map_err(|e| format!("{e}"))?;
    MonthRange::new(from, to).ok_or_else(|| format!("the range {text} ends before it starts"))
}

fn geojson_file(path: &PathBuf) -> anyhow::Result<AreaSpec> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let geojson: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{}: not JSON", path.display()))?;
    evaluation::parse_area(&geojson).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    Ok(AreaSpec::Geojson { geojson })
}

fn harm_weights(path: &PathBuf) -> anyhow::Result<Vec<HarmWeight>> {
    let mut reader = csv::Reader::from_path(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut out = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        let record = record.with_context(|| format!("{}:{line}", path.display()))?;
        let category = record.get(0).unwrap_or("").trim().to_string();
        let weight: f64 = record
            .get(1)
            .unwrap_or("")
            .trim()
            .parse()
            .map_err(|_| anyhow::anyhow!("{}:{line}: column \"weight\": not a number", path.display()))?;
        out.push(HarmWeight { category, weight });
    }
    Ok(out)
}

/// The design the arguments describe.
pub fn design(args: &EvaluateArgs) -> anyhow::Result<EvaluationDesign> {
    let target = match (&args.target, args.target_lsoa.is_empty(), args.target_ward.is_empty()) {
        (Some(path), _, _) => geojson_file(path)?,
        (None, true, true) if !args.target_place.is_empty() => AreaSpec::Place { names: args.target_place.clone() },
        (None, false, _) => AreaSpec::Lsoa { codes: args.target_lsoa.clone() },
        (None, true, false) => AreaSpec::Ward { codes: args.target_ward.clone() },
        _ => bail!(
            "give a target: --target FILE.geojson, --target-lsoa CODES, --target-ward CODES or --target-place NAMES"
        ),
    };
    let comparison = match (&args.control, args.control_lsoa.is_empty(), args.suggest_control) {
        (Some(path), _, _) => Some(geojson_file(path)?),
        (None, false, _) => Some(AreaSpec::Lsoa { codes: args.control_lsoa.clone() }),
        (None, true, Some(count)) => Some(AreaSpec::Suggested { count }),
        (None, true, None) if !args.control_place.is_empty() => {
            Some(AreaSpec::Place { names: args.control_place.clone() })
        }
        _ => None,
    };
    let (Some(before), Some(after)) = (args.before, args.after) else {
        bail!("give the periods: --before YYYY-MM..YYYY-MM --after YYYY-MM..YYYY-MM");
    };
    Ok(EvaluationDesign {
        target,
        buffer_metres: args.buffer,
        comparison,
        before,
        after,
        crime_types: args.crime_types.clone(),
        harm_weights: args.harm_weights.as_ref().map(harm_weights).transpose()?,
        selected_for_high_crime: args.selected_for_high_crime,
        history_months: 24,
        labels: None,
    })
}

fn write_out(args: &EvaluateArgs, text: &str) -> anyhow::Result<()> {
    match &args.out {
        Some(path) => std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display())),
        None => {
            println!("{text}");
            Ok(())
        }
    }
}

pub async fn run(db: &Db, args: EvaluateArgs) -> anyhow::Result<ExitCode> {
    if let Some(id) = args.intervention {
        return run_intervention(db, id, &args).await;
    }
    let design = design(&args)?;
    let report = evaluation::run(db, &design).await?;
    let text = match args.format {
        Format::Json => serde_json::to_string_pretty(&report)?,
        Format::Html => alliance_reports::evaluation::render(&report, "Intervention evaluation"),
    };
    write_out(&args, &text)?;
    Ok(ExitCode::SUCCESS)
}

async fn run_intervention(db: &Db, id: i64, args: &EvaluateArgs) -> anyhow::Result<ExitCode> {
    let intervention = db.intervention(id).await?.with_context(|| format!("no intervention {id}"))?;
    let mut reports = Vec::new();
    if args.rerun {
        for stored in db.evaluations_of(id).await? {
            let updated = evaluation::rerun(db, id, stored.id, &super::cli_actor()).await?;
            eprintln!("re-ran evaluation {} of intervention {id}", updated.id);
            reports.push(updated);
        }
        if reports.is_empty() {
            bail!("intervention {id} has no stored evaluations to re-run");
        }
    } else {
        let design = design(args)?;
        let stored = evaluation::store(db, id, &design, &super::cli_actor()).await?;
        eprintln!("stored evaluation {} of intervention {id}", stored.id);
        reports.push(stored);
    }
    let text = match args.format {
        Format::Json => serde_json::to_string_pretty(&reports.iter().map(|r| &r.report).collect::<Vec<_>>())?,
        Format::Html => {
            let last = reports.last().context("no evaluation")?;
            // The service delivering it (if named): its referrals beside the crime figures,
            // suppressed under the partnership profile's threshold.
            let threshold = db.partnership().await?.map(|p| p.threshold());
            let disclosure = threshold.and_then(|t| alliance_app::Disclosure::new(t).ok()).unwrap_or_default();
            let design = &last.report.basis.design;
            let referrals =
                alliance_app::referrals::for_intervention(db, id, design.before, design.after, &disclosure).await?;
            alliance_reports::evaluation::render_with_referrals(&last.report, &intervention.name, referrals.as_ref())
        }
    };
    write_out(args, &text)?;
    Ok(ExitCode::SUCCESS)
}
