//! `alliance counts --by FIELDS`: police records grouped and counted, those of the
//! partnership's districts unless `--district` or `--everywhere` says otherwise.

use std::io::Write;
use std::process::ExitCode;

use alliance_app::counts::{self, Scope};
use alliance_core::domain::{CountField, CountFilter, CountRow, DistrictCode, Month};
use alliance_db::Db;
use alliance_reports::csv::CsvWriter;
use clap::{Args, ValueEnum};

#[derive(Debug, Args)]
pub struct CountsArgs {
    /// Comma list of fields: month, crime-type, district, lsoa, outcome.
    #[arg(long, value_parser = CountField::parse_list)]
    pub by: std::vec::Vec<CountField>,
    /// First month (YYYY-MM), inclusive.
    #[arg(long)]
    pub from: Option<Month>,
    /// Last month (YYYY-MM), inclusive.
    #[arg(long)]
    pub to: Option<Month>,
    /// Only this crime type, e.g. "Robbery".
    #[arg(long)]
    pub crime_type: Option<String>,
    /// Only this local authority district, e.g. E06000021 (repeat for several). Without it
    /// the counts cover the partnership's districts.
    #[arg(long)]
    pub district: Vec<DistrictCode>,
    /// Count every record held: other areas' (a region's or the national archive's) and
    /// those with no location too, not only the partnership's.
    #[arg(long, conflicts_with = "district")]
    pub everywhere: bool,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    Csv,
    Json,
    Table,
}

pub async fn run(db: &Db, args: CountsArgs) -> anyhow::Result<ExitCode> {
    let named = !args.district.is_empty();
    let filter = CountFilter { from: args.from, to: args.to, crime_type: args.crime_type, districts: args.district };
    let scope = if args.everywhere { Scope::Everywhere } else { Scope::Partnership };
    let (filter, rows) = counts::count(db, &args.by, filter, scope).await.map_err(super::option_error)?;
    // What was counted goes beside the figures, not into them: standard output stays data.
    let codes: Vec<String> = filter.districts.iter().map(|d| d.to_string()).collect();
    match (codes.is_empty(), named) {
        (true, _) => eprintln!("Counting every record held."),
        (false, true) => eprintln!("Counting the records in districts {}.", codes.join(", ")),
        (false, false) => eprintln!(
            "Counting the records in the partnership's districts ({}); --everywhere counts every record held.",
            codes.join(", ")
        ),
    }
    if !args.everywhere {
        super::sna::warn_of_other_forces(db).await?;
    }
    match args.format {
        Format::Csv => write_csv(&args.by, &rows)?,
        Format::Json => println!("{}", counts::counts_json(&args.by, &filter, &rows)),
        Format::Table => write_table(&args.by, &rows),
    }
    Ok(ExitCode::SUCCESS)
}

/// The counts as CSV on standard output, through the one CSV writer (CRLF line ends,
/// formula cells neutralised).
fn write_csv(fields: &[CountField], rows: &[CountRow]) -> anyhow::Result<()> {
    let mut header: Vec<&str> = fields.iter().map(|f| f.column_name()).collect();
    header.push("count");
    let mut out = CsvWriter::new(std::io::stdout().lock(), &header)?;
    for row in rows {
        let mut record: Vec<String> = row.values.iter().map(|v| v.clone().unwrap_or_default()).collect();
        record.push(row.count.to_string());
        out.row(&record)?;
    }
    out.finish()?.flush()?;
    Ok(())
}

fn write_table(fields: &[CountField], rows: &[CountRow]) {
    let mut header: Vec<String> = fields.iter().map(|f| f.column_name().to_string()).collect();
    header.push("count".into());
    let body: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let mut cells: Vec<String> =
                r.values.iter().map(|v| v.clone().unwrap_or_else(|| "(none)".into())).collect();
            cells.push(r.count.to_string());
            cells
        })
        .collect();
    let widths: Vec<usize> = (0..header.len())
        .map(|i| body.iter().map(|r| r[i].chars().count()).chain([header[i].len()]).max().unwrap_or(0))
        .collect();
    let line = |cells: &[String]| {
        cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if i + 1 == cells.len() {
                    format!("{c:>w$}", w = widths[i])
                } else {
                    format!("{c:<w$}", w = widths[i])
                }
            })
            .collect::<Vec<_>>()
            .join("  ")
    };
    println!("{}", line(&header));
    for r in &body {
        println!("{}", line(r));
    }
    let total: i64 = rows.iter().map(|r| r.count).sum();
    println!("{} groups, {total} records", rows.len());
}
