//! `alliance hotspots`, `alliance kde` and `alliance near-repeat`: spatial analysis of a
//! points file (`id,x,y,t`: National Grid metres and days) or of the stored police records
//! (filtered by crime type, months and area, projected from WGS84 to National Grid);
//! `alliance spatial optimized` and `alliance spatial emerging`: optimized and emerging hot
//! spot analysis. The use cases are `alliance_app::spatial`'s, with its bounds.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use alliance_app::spatial::{self as svc, json as out, Bounds, GridRequest, HotspotResult};
use alliance_core::analytics::spatial::hotspot_table::{
    grid_weights, hotspot_persistence, HotspotSettings, HotspotStatistic, NeighbourRule,
};
use alliance_core::analytics::spatial::{
    knox, Alternative, Contiguity, DistanceMetric, Event, Kernel, KnoxOptions, PermutationOptions, PersistenceOptions,
    SignificanceFrom, Standardisation, StudyArea,
};
use alliance_core::domain::Month;
use alliance_core::geo::grid::count_points;
use alliance_db::spatial::LocatedFilter;
use alliance_db::Db;
use alliance_ingest::points::{read_points, PointsFile};
use alliance_ingest::SourceFile;
use anyhow::{bail, Context};
use clap::{Args, ValueEnum};
use serde_json::json;

/// Where the points come from: a points file, or the stored police records with filters.
#[derive(Debug, Args)]
pub struct SourceArgs {
    /// Points CSV with the header id,x,y,t (National Grid metres; t in days, needed by near-repeat).
    #[arg(long)]
    pub points: Option<PathBuf>,
    /// Stored data: only this crime type (repeat for several), e.g. "Violence and sexual offences".
    #[arg(long = "crime-type")]
    pub crime_types: Vec<String>,
    /// Stored data: first month (YYYY-MM), inclusive.
    #[arg(long)]
    pub from: Option<Month>,
    /// Stored data: last month (YYYY-MM), inclusive.
    #[arg(long)]
    pub to: Option<Month>,
    /// Stored data: only records in this local authority district (e.g. E06000021); also
    /// limits the study area of --cells area and the areas of --areas.
    #[arg(long)]
    pub district: Option<String>,
    /// Stored data: only records in this LSOA (repeat for several).
    #[arg(long)]
    pub lsoa: Vec<String>,
    /// Stored data: a place of the register (`alliance places list`) as the study area of a
    /// grid analysis (hot spots or emerging hot spots); records outside it are dropped and
    /// counted.
    #[arg(long, conflicts_with = "points")]
    pub place: Option<String>,
    /// Stored data: every record held, not only the partnership's area. Without it (and
    /// without --district or --lsoa), the records and boundaries are those of the
    /// partnership's districts (`alliance partnership`), as on the map: a database holding
    /// other forces' data too (a region, the national archive) is not analysed whole.
    #[arg(long, conflicts_with_all = ["points", "district", "lsoa"])]
    pub all_areas: bool,
}

impl SourceArgs {
    /// The stored records to analyse. With no district, LSOA or `--all-areas`, the
    /// partnership's districts (none set: every record, as before a profile exists). On the
    /// national archive this read Staffordshire's 2025 violence by its districts' records
    /// instead of the whole country's (`BENCHMARKS-import.md`, fourteenth session).
    async fn filter(&self, db: &Db) -> anyhow::Result<LocatedFilter> {
        let area = if self.points.is_some() || self.all_areas {
            Vec::new()
        } else {
            alliance_app::spatial::default_area(db, self.district.as_deref(), &self.lsoa).await?
        };
        Ok(LocatedFilter {
            crime_types: self.crime_types.clone(),
            from: self.from,
            to: self.to,
            district: self.district.clone(),
            lsoas: self.lsoa.clone(),
            area,
        })
    }

    fn has_filters(&self) -> bool {
        !self.crime_types.is_empty() || self.from.is_some() || self.to.is_some() || !self.lsoa.is_empty()
    }

    fn points_file(&self) -> anyhow::Result<Option<PointsFile>> {
        let Some(path) = &self.points else { return Ok(None) };
        if self.has_filters() {
            bail!("--crime-type, --from, --to and --lsoa filter the stored police data; they cannot be used with --points");
        }
        Ok(Some(read_points(&SourceFile::from_path(path))?))
    }

    /// `(x, y)` in metres and, for stored data (selected by `filter`, [`SourceArgs::filter`]),
    /// the months.
    async fn load(&self, db: &Db, filter: &LocatedFilter) -> anyhow::Result<(Vec<(f64, f64)>, Option<Vec<Month>>)> {
        if let Some(file) = self.points_file()? {
            return Ok((file.coordinates(), None));
        }
        let stored = svc::stored_points(db, filter).await?;
        if stored.xy.is_empty() {
            bail!("no stored police records with coordinates match the filters");
        }
        Ok((stored.xy, Some(stored.months)))
    }

    /// The study area of a grid analysis: `--cells area` the stored LSOA 2021 boundaries (of
    /// `--district`, else of the partnership's area for stored data), `--cells bbox` none; by
    /// default the study area for stored data when boundaries are stored, and none for a
    /// points file.
    async fn study_area(
        &self,
        db: &Db,
        filter: &LocatedFilter,
        cells: Option<CellsArg>,
    ) -> anyhow::Result<Option<StudyArea>> {
        if let Some(name) = &self.place {
            if matches!(cells, Some(CellsArg::Bbox)) {
                bail!("--place is a study area: it cannot be used with --cells bbox");
            }
            let place = db.places_named("place", std::slice::from_ref(name)).await?.remove(0);
            return Ok(Some(svc::place_study_area(db, place.id).await?));
        }
        let region = svc::Region::of(filter);
        Ok(match cells {
            Some(CellsArg::Bbox) => None,
            Some(CellsArg::Area) => Some(StudyArea::new(svc::study_area(&svc::areas(db, "lsoa21", region).await?))?),
            None if self.points.is_some() => None,
            None => svc::default_study_area(db, region).await?,
        })
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum StatArg {
    GiStar,
    Gi,
    LocalMoran,
    Moran,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ContiguityArg {
    Queen,
    Rook,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CellsArg {
    Bbox,
    Area,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum AreasArg {
    Lsoa21,
    Lsoa11,
    Ward,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SignificanceArg {
    /// The z-score's two-sided normal p-value (the ArcGIS Hot Spot Analysis convention).
    Normal,
    /// The conditional permutation pseudo p-value (needs permutations).
    Permutation,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum AlternativeArg {
    TwoSided,
    Directed,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum StandardisationArg {
    Row,
    Binary,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum PeriodArg {
    Month,
    Quarter,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Csv,
    Geojson,
    Json,
}

#[derive(Debug, Args)]
pub struct HotspotsArgs {
    /// The statistic: Getis–Ord Gi* or Gi, local Moran's I, or global Moran's I.
    #[arg(long, value_enum, default_value_t = StatArg::GiStar)]
    pub stat: StatArg,
    /// Grid cell size in metres.
    #[arg(long, default_value_t = 250.0)]
    pub cell: f64,
    /// Grid origin "X,Y" in metres (default: the minimum x and y rounded down to the cell size).
    #[arg(long, value_parser = parse_origin)]
    pub origin: Option<(f64, f64)>,
    /// Contiguity neighbours (the default, queen).
    #[arg(long, value_enum, conflicts_with = "distance_band")]
    pub contiguity: Option<ContiguityArg>,
    /// Neighbours within this many metres (centre to centre) instead of contiguity.
    #[arg(long)]
    pub distance_band: Option<f64>,
    /// Grid cells: only cells meeting the study area (the union of the stored LSOA 2021
    /// boundaries, of --district when given; points outside are dropped and counted), or the
    /// whole bounding box of the points (zeros kept). Default: area for stored data when
    /// boundaries are stored, bbox for --points.
    #[arg(long, value_enum)]
    pub cells: Option<CellsArg>,
    /// Analyse counts per area (LSOA 2021, LSOA 2011 or ward) instead of grid cells.
    #[arg(long, value_enum)]
    pub areas: Option<AreasArg>,
    /// Which p-value decides significance and the confidence bins (gi_bin): the normal
    /// p-value of the z-score (ArcGIS's convention, the default) or the permutation p-value.
    #[arg(long, value_enum, default_value_t = SignificanceArg::Normal)]
    pub significance: SignificanceArg,
    /// Number of conditional permutations, at most 9999 (default: 0 with normal
    /// significance, 999 with permutation significance; with normal significance they are
    /// a robustness check reported as p_sim).
    #[arg(long)]
    pub permutations: Option<usize>,
    #[arg(long, default_value_t = 12345)]
    pub seed: u64,
    /// False discovery rate (Benjamini–Hochberg) for "significant".
    #[arg(long, default_value_t = 0.05)]
    pub alpha: f64,
    /// Tail convention of the permutation p-value.
    #[arg(long, value_enum, default_value_t = AlternativeArg::TwoSided)]
    pub alternative: AlternativeArg,
    /// Weights of Moran's I (local and global).
    #[arg(long, value_enum, default_value_t = StandardisationArg::Row)]
    pub standardisation: StandardisationArg,
    /// Classify grid cells over successive periods (new, persistent, intensifying, …), stored data only.
    #[arg(long)]
    pub persistence: bool,
    /// Period length of --persistence.
    #[arg(long, value_enum, default_value_t = PeriodArg::Quarter)]
    pub period: PeriodArg,
    #[command(flatten)]
    pub source: SourceArgs,
    #[arg(long, value_enum, default_value_t = Format::Csv)]
    pub format: Format,
}

fn parse_origin(text: &str) -> Result<(f64, f64), String> {
    let parts: Vec<&str> = text.split(',').map(str::trim).collect();
    let number = |s: &str| s.parse::<f64>().ok().filter(|v| v.is_finite());
    match parts.as_slice() {
        [x, y] => match (number(x), number(y)) {
            (Some(x), Some(y)) => Ok((x, y)),
            _ => Err(format!("\"{text}\": expected two numbers X,Y in metres")),
        },
        _ => Err(format!("\"{text}\": expected X,Y in metres")),
    }
}

/// Band breaks as given on the command line (`inf` allowed).
#[derive(Debug, Clone, PartialEq)]
pub struct Breaks(pub Vec<f64>);

fn parse_breaks(text: &str) -> Result<Breaks, String> {
    text.split(',')
        .map(str::trim)
        .map(|s| match s.to_ascii_lowercase().as_str() {
            "inf" | "infinity" => Ok(f64::INFINITY),
            _ => {
                s.parse::<f64>().ok().filter(|v| v.is_finite()).ok_or_else(|| format!("\"{s}\" is not a number or inf"))
            }
        })
        .collect::<Result<Vec<f64>, String>>()
        .map(Breaks)
}

impl HotspotsArgs {
    fn settings(&self) -> HotspotSettings {
        HotspotSettings {
            statistic: match self.stat {
                StatArg::GiStar => HotspotStatistic::GiStar,
                StatArg::Gi => HotspotStatistic::Gi,
                StatArg::LocalMoran => HotspotStatistic::LocalMoran,
                StatArg::Moran => HotspotStatistic::Moran,
            },
            permutation: PermutationOptions {
                permutations: self.permutations.unwrap_or(match self.significance {
                    SignificanceArg::Normal => 0,
                    SignificanceArg::Permutation => 999,
                }),
                seed: self.seed,
                alternative: match self.alternative {
                    AlternativeArg::TwoSided => Alternative::TwoSided,
                    AlternativeArg::Directed => Alternative::Directed,
                },
            },
            alpha: self.alpha,
            standardisation: match self.standardisation {
                StandardisationArg::Row => Standardisation::Row,
                StandardisationArg::Binary => Standardisation::Binary,
            },
        }
    }

    fn significance(&self) -> SignificanceFrom {
        match self.significance {
            SignificanceArg::Normal => SignificanceFrom::Normal,
            SignificanceArg::Permutation => SignificanceFrom::Permutation,
        }
    }

    fn neighbours(&self) -> NeighbourRule {
        match (self.distance_band, self.contiguity) {
            (Some(d), _) => NeighbourRule::DistanceBand(d),
            (None, Some(ContiguityArg::Rook)) => NeighbourRule::Contiguity(Contiguity::Rook),
            (None, _) => NeighbourRule::Contiguity(Contiguity::Queen),
        }
    }
}

fn stdout_json(value: &serde_json::Value) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

fn opt(v: Option<f64>) -> String {
    v.map(|p| p.to_string()).unwrap_or_default()
}

pub async fn hotspots(db: &Db, args: HotspotsArgs) -> anyhow::Result<ExitCode> {
    let settings = args.settings();
    if args.persistence {
        return persistence(db, &args, &settings).await;
    }
    let filter = args.source.filter(db).await?;
    let (points, _) = args.source.load(db, &filter).await?;
    if args.areas.is_some() && args.source.place.is_some() {
        bail!("--place is the study area of a grid analysis; it cannot be used with --areas");
    }
    if let Some(kind) = args.areas {
        let kind = match kind {
            AreasArg::Lsoa21 => "lsoa21",
            AreasArg::Lsoa11 => "lsoa11",
            AreasArg::Ward => "ward",
        };
        let areas = svc::areas(db, kind, svc::Region::of(&filter)).await?;
        let result = svc::area_hotspots(
            kind,
            &points,
            &areas,
            args.neighbours(),
            &settings,
            args.significance(),
            &Bounds::default(),
        )?;
        match args.format {
            Format::Json => stdout_json(&out::area_hotspots_json(&result, &settings))?,
            Format::Geojson => stdout_json(&out::area_hotspots_geojson(&result, &settings, &areas))?,
            Format::Csv => {
                let mut out = csv::Writer::from_writer(std::io::stdout().lock());
                match &result.result {
                    HotspotResult::Global(g) => write_moran_csv(&mut out, g)?,
                    HotspotResult::Local(t) => {
                        let labels = result.codes.iter().zip(&result.names).map(|(c, n)| vec![c.clone(), n.clone()]);
                        write_local_csv(&mut out, t, &["code", "name"], labels)?
                    }
                }
                out.flush()?;
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let area = args.source.study_area(db, &filter, args.cells).await?;
    let request = GridRequest {
        cell: args.cell,
        origin: args.origin,
        neighbours: args.neighbours(),
        settings,
        significance: args.significance(),
    };
    let result = svc::grid_hotspots(&points, area.as_ref(), request, &Bounds::default())?;
    match args.format {
        Format::Json => stdout_json(&out::grid_hotspots_json(&result))?,
        Format::Geojson => stdout_json(&out::grid_hotspots_geojson(&result)?)?,
        Format::Csv => {
            let mut out = csv::Writer::from_writer(std::io::stdout().lock());
            match &result.result {
                HotspotResult::Global(g) => write_moran_csv(&mut out, g)?,
                HotspotResult::Local(t) => {
                    let labels = result.units.cells.iter().map(|&cell| {
                        let (x_min, y_min) = result.units.grid.min_corner(cell);
                        vec![cell.ix.to_string(), cell.iy.to_string(), x_min.to_string(), y_min.to_string()]
                    });
                    write_local_csv(&mut out, t, &["ix", "iy", "x_min", "y_min"], labels)?
                }
            }
            out.flush()?;
            if let HotspotResult::Local(t) = &result.result {
                eprintln!(
                    "{} cells ({}), {} significant (Benjamini–Hochberg at {} on {}, {} permutations, {}); {} hot and {} \
                     cold at 90% confidence or more; {} points, {} outside the cells",
                    t.rows.len(),
                    result.cells_mode,
                    t.significant,
                    t.alpha,
                    t.inference.describe(),
                    t.permutations,
                    serde_json::to_value(t.alternative)?.as_str().unwrap_or(""),
                    t.rows.iter().filter(|r| r.bin > 0).count(),
                    t.rows.iter().filter(|r| r.bin < 0).count(),
                    result.points,
                    result.units.outside
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A local statistic's table as CSV: the columns naming each unit (`label_columns`, with the
/// values `labels` gives row by row), then the columns every statistic has, then its own.
fn write_local_csv<W: Write>(
    out: &mut csv::Writer<W>,
    t: &alliance_core::analytics::spatial::hotspot_table::HotspotTable,
    label_columns: &[&str],
    labels: impl Iterator<Item = Vec<String>>,
) -> anyhow::Result<()> {
    let mut header = label_columns.to_vec();
    header.extend(["count", "z", "p_norm", "p_sim", "significant"]);
    header.extend(out::own_columns(t.statistic));
    out.write_record(&header)?;
    for (row, mut rec) in t.rows.iter().zip(labels) {
        rec.extend([row.count.to_string(), row.z.to_string(), row.p_norm.to_string(), opt(row.p_sim)]);
        rec.push(row.significant.to_string());
        rec.extend(out::own_values(t.statistic, row));
        out.write_record(&rec)?;
    }
    Ok(())
}

fn write_moran_csv<W: Write>(
    out: &mut csv::Writer<W>,
    g: &alliance_core::analytics::spatial::GlobalMoran,
) -> anyhow::Result<()> {
    out.write_record([
        "statistic",
        "i",
        "expected",
        "z_norm",
        "p_norm",
        "z_rand",
        "p_rand",
        "p_sim",
        "permutations",
        "standardisation",
    ])?;
    out.write_record([
        "moran".to_string(),
        g.i.to_string(),
        g.expected.to_string(),
        g.z_norm.to_string(),
        g.p_norm.to_string(),
        g.z_rand.to_string(),
        g.p_rand.to_string(),
        opt(g.p_sim),
        g.permutations.to_string(),
        serde_json::to_value(g.standardisation)?.as_str().unwrap_or("").to_string(),
    ])?;
    Ok(())
}

/// `--persistence`: one grid over all the records, Gi* per period on it, then classes.
async fn persistence(db: &Db, args: &HotspotsArgs, settings: &HotspotSettings) -> anyhow::Result<ExitCode> {
    if args.source.points.is_some() {
        bail!("--persistence works on the stored police data (periods of months); it cannot be used with --points");
    }
    if args.areas.is_some() || settings.statistic != HotspotStatistic::GiStar {
        bail!("--persistence classifies grid cells from Gi* results: use --stat gi-star without --areas");
    }
    let filter = args.source.filter(db).await?;
    let (points, months) = args.source.load(db, &filter).await?;
    let months = months.context("stored records have months")?;
    let period_of = |m: Month| match args.period {
        PeriodArg::Month => m.to_string(),
        PeriodArg::Quarter => format!("{}-Q{}", m.year(), m.quarter()),
    };
    let mut periods: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
    for (p, &m) in points.iter().zip(&months) {
        periods.entry(period_of(m)).or_default().push(*p);
    }
    if periods.len() < 2 {
        bail!("--persistence needs records in at least 2 periods; the filters leave {}", periods.len());
    }
    let bounds = Bounds::default();
    bounds.check_permutations(settings.permutation.permutations)?;
    let area = args.source.study_area(db, &filter, args.cells).await?;
    let (units, _) = svc::units_for(&points, area.as_ref(), args.cell, args.origin, &bounds)?;
    bounds.check_work(units.cells.len() * periods.len(), settings.permutation.permutations)?;
    let weights = grid_weights(&units, args.neighbours())?;
    let period_counts = periods
        .values()
        .map(|pts| count_points(&units.grid, &units.cells, pts).map(|c| c.counts))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let (tables, classes) = hotspot_persistence(&period_counts, &weights, settings, &PersistenceOptions::default())?;
    let names: Vec<&String> = periods.keys().collect();
    match args.format {
        Format::Csv => {
            let mut out = csv::Writer::from_writer(std::io::stdout().lock());
            out.write_record(["ix", "iy", "x_min", "y_min", "count", "class", "hot_periods", "trend_z", "trend_p"])?;
            for (k, (&cell, class)) in units.cells.iter().zip(&classes).enumerate() {
                let (x_min, y_min) = units.grid.min_corner(cell);
                let class_name = serde_json::to_value(class.class)?;
                out.write_record([
                    cell.ix.to_string(),
                    cell.iy.to_string(),
                    x_min.to_string(),
                    y_min.to_string(),
                    units.counts[k].to_string(),
                    class_name.as_str().unwrap_or("").to_string(),
                    class.hot_periods.to_string(),
                    class.trend_z.to_string(),
                    class.trend_p.to_string(),
                ])?;
            }
            out.flush()?;
        }
        Format::Json | Format::Geojson => {
            let rows: Vec<serde_json::Value> = units
                .cells
                .iter()
                .zip(&classes)
                .enumerate()
                .map(|(k, (&cell, c))| {
                    let (x_min, y_min) = units.grid.min_corner(cell);
                    json!({
                        "ix": cell.ix, "iy": cell.iy, "x_min": x_min, "y_min": y_min, "count": units.counts[k],
                        "class": c.class, "hot_periods": c.hot_periods, "trend_z": c.trend_z, "trend_p": c.trend_p,
                        "z": tables.iter().map(|t| t.rows[k].z).collect::<Vec<_>>(),
                    })
                })
                .collect();
            if args.format == Format::Geojson {
                bail!("--persistence gives csv or json");
            }
            stdout_json(&json!({
                "statistic": "gi-star", "periods": names, "grid": units.grid, "crs": "EPSG:27700",
                "alpha": settings.alpha, "hot": "significant (Benjamini–Hochberg) with z > 0",
                "rows": rows,
            }))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum KernelArg {
    Quartic,
    Epanechnikov,
    Gaussian,
}

#[derive(Debug, Args)]
pub struct KdeArgs {
    /// Grid cell size in metres.
    #[arg(long, default_value_t = 50.0)]
    pub cell: f64,
    /// Grid origin "X,Y" in metres.
    #[arg(long, value_parser = parse_origin)]
    pub origin: Option<(f64, f64)>,
    #[arg(long, value_enum, default_value_t = KernelArg::Quartic)]
    pub kernel: KernelArg,
    /// Search radius in metres (Gaussian: the standard deviation), or "auto" for the ArcGIS default rule.
    #[arg(long, default_value = "auto")]
    pub radius: String,
    /// Gaussian only: ignore points beyond this many standard deviations.
    #[arg(long, default_value_t = 3.0)]
    pub truncate: f64,
    #[command(flatten)]
    pub source: SourceArgs,
    #[arg(long, value_enum, default_value_t = Format::Csv)]
    pub format: Format,
}

pub async fn kde(db: &Db, args: KdeArgs) -> anyhow::Result<ExitCode> {
    let radius = match args.radius.trim() {
        "auto" => None,
        r => Some(
            r.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && *v > 0.0)
                .with_context(|| format!("--radius \"{r}\": expected a positive number of metres or auto"))?,
        ),
    };
    let kernel = match args.kernel {
        KernelArg::Quartic => Kernel::Quartic,
        KernelArg::Epanechnikov => Kernel::Epanechnikov,
        KernelArg::Gaussian => Kernel::Gaussian { truncate: args.truncate },
    };
    // Stored records: those in the study area, as the API's density layer.
    let points = match args.source.points_file()? {
        Some(file) => file.coordinates(),
        None => svc::stored_points_in_area(db, &args.source.filter(db).await?).await?.0,
    };
    let surface = svc::kde_surface(&points, args.cell, args.origin, kernel, radius, &Bounds::default())?;
    match args.format {
        Format::Json => stdout_json(&out::kde_json(&surface))?,
        Format::Geojson => stdout_json(&out::kde_geojson(&surface)?)?,
        Format::Csv => {
            let mut out = csv::Writer::from_writer(std::io::stdout().lock());
            out.write_record(["ix", "iy", "x", "y", "density"])?;
            for (i, d) in surface.density.iter().enumerate() {
                let cell = surface.grid.cell_at(i);
                let (x, y) = surface.grid.centre(cell);
                out.write_record([
                    cell.ix.to_string(),
                    cell.iy.to_string(),
                    x.to_string(),
                    y.to_string(),
                    d.to_string(),
                ])?;
            }
            out.flush()?;
            eprintln!(
                "{} cells of {} m, radius {} m ({}), events per km² at cell centres",
                surface.density.len(),
                surface.grid.size,
                surface.radius,
                surface.radius_rule
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum DistanceArg {
    Manhattan,
    Euclidean,
}

#[derive(Debug, Args)]
pub struct NearRepeatArgs {
    /// Spatial band breaks in metres, e.g. 0,1,100,200,300,inf.
    #[arg(long, default_value = "0,1,100,200,300,inf", value_parser = parse_breaks)]
    pub space_breaks: Breaks,
    /// Time band breaks in days, e.g. 0,7,14,21,inf.
    #[arg(long, default_value = "0,7,14,21,inf", value_parser = parse_breaks)]
    pub time_breaks: Breaks,
    #[arg(long, value_enum, default_value_t = DistanceArg::Manhattan)]
    pub distance: DistanceArg,
    #[arg(long, default_value_t = 999)]
    pub permutations: usize,
    #[arg(long, default_value_t = 12345)]
    pub seed: u64,
    #[command(flatten)]
    pub source: SourceArgs,
    #[arg(long, value_enum, default_value_t = Format::Json)]
    pub format: Format,
}

pub async fn near_repeat(_db: &Db, args: NearRepeatArgs) -> anyhow::Result<ExitCode> {
    let Some(file) = args.source.points_file()? else {
        bail!("{}", svc::NEAR_REPEAT_NEEDS_DATES);
    };
    if let Some(p) = file.first_without_time() {
        bail!("{}:{}: column \"t\": near-repeat analysis needs a time in days for every point", file.name, p.line);
    }
    Bounds::default().check_knox(file.points.len(), args.permutations)?;
    let events: Vec<Event> = file.points.iter().map(|p| Event { x: p.x, y: p.y, t: p.t.unwrap_or(0.0) }).collect();
    let opts = KnoxOptions {
        space_breaks: args.space_breaks.0.clone(),
        time_breaks: args.time_breaks.0.clone(),
        metric: match args.distance {
            DistanceArg::Manhattan => DistanceMetric::Manhattan,
            DistanceArg::Euclidean => DistanceMetric::Euclidean,
        },
        permutations: args.permutations,
        seed: args.seed,
    };
    let result = knox(&events, &opts)?;
    match args.format {
        Format::Json => stdout_json(&out::knox_json(&result, &opts.space_breaks, &opts.time_breaks))?,
        Format::Geojson => bail!("near-repeat gives json or csv"),
        Format::Csv => {
            let mut out = csv::Writer::from_writer(std::io::stdout().lock());
            out.write_record([
                "space_band",
                "time_band",
                "observed",
                "mean_permuted",
                "median_permuted",
                "knox_ratio",
                "knox_ratio_median",
                "p_value",
            ])?;
            for (s, space) in result.space_labels.iter().enumerate() {
                for (t, time) in result.time_labels.iter().enumerate() {
                    out.write_record([
                        space.clone(),
                        time.clone(),
                        result.observed[s][t].to_string(),
                        result.mean_permuted[s][t].to_string(),
                        result.median_permuted[s][t].to_string(),
                        opt(result.knox_ratio[s][t]),
                        opt(result.knox_ratio_median[s][t]),
                        result.p_value[s][t].to_string(),
                    ])?;
                }
            }
            out.flush()?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, clap::Subcommand)]
pub enum SpatialCommand {
    /// Optimized hot spot analysis (as ArcGIS's tool): cell size and distance band chosen from
    /// the data, incidents outside the study area dropped, Gi* with confidence bins.
    Optimized(OptimizedArgs),
    /// Emerging hot spot analysis: a space-time cube of months (or quarters) × cells, Gi* per
    /// slice, Mann–Kendall trend per cell, and the categories (new, consecutive,
    /// intensifying, persistent, diminishing, sporadic, oscillating, historical).
    Emerging(EmergingArgs),
}

#[derive(Debug, Args)]
pub struct OptimizedArgs {
    /// Cell size in metres (default: chosen from the incidents' spacing).
    #[arg(long)]
    pub cell: Option<f64>,
    /// Distance band in metres (default: the first peak of spatial autocorrelation).
    #[arg(long)]
    pub band: Option<f64>,
    /// False discovery rate (Benjamini–Hochberg) for "significant".
    #[arg(long, default_value_t = 0.05)]
    pub alpha: f64,
    #[command(flatten)]
    pub source: SourceArgs,
    #[arg(long, value_enum, default_value_t = Format::Csv)]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ConfidenceArg {
    #[value(name = "90")]
    Ninety,
    #[value(name = "95")]
    NinetyFive,
    #[value(name = "99")]
    NinetyNine,
}

#[derive(Debug, Args)]
pub struct EmergingArgs {
    /// Grid cell size in metres.
    #[arg(long, default_value_t = 250.0)]
    pub cell: f64,
    /// Spatial neighbours within this many metres (default 1.5 cells: the eight queen neighbours).
    #[arg(long)]
    pub band: Option<f64>,
    /// Length of a time slice.
    #[arg(long, value_enum, default_value_t = PeriodArg::Month)]
    pub period: PeriodArg,
    /// Preceding slices in each bin's neighbourhood.
    #[arg(long, default_value_t = 1)]
    pub time_steps: usize,
    /// The confidence a slice must reach to count as a hot or cold spot.
    #[arg(long, value_enum, default_value_t = ConfidenceArg::Ninety)]
    pub confidence: ConfidenceArg,
    /// CSV and GeoJSON: every cell, not only those with a pattern.
    #[arg(long)]
    pub all: bool,
    #[command(flatten)]
    pub source: SourceArgs,
    #[arg(long, value_enum, default_value_t = Format::Csv)]
    pub format: Format,
}

pub async fn run(db: &Db, command: SpatialCommand) -> anyhow::Result<ExitCode> {
    match command {
        SpatialCommand::Optimized(args) => optimized(db, args).await,
        SpatialCommand::Emerging(args) => emerging(db, args).await,
    }
}

async fn optimized(db: &Db, args: OptimizedArgs) -> anyhow::Result<ExitCode> {
    use alliance_app::spatial::optimized::{optimized_on, optimized_stored, points_rectangle, OptimizedRequest};
    let request =
        OptimizedRequest { filter: args.source.filter(db).await?, cell: args.cell, band: args.band, alpha: args.alpha };
    let bounds = Bounds::default();
    let h = match args.source.points_file()? {
        Some(file) => {
            let points = file.coordinates();
            let area = points_rectangle(&points)?;
            optimized_on(&points, &area, &request, &bounds)?
        }
        None => optimized_stored(db, &request, &bounds).await?,
    };
    match args.format {
        Format::Json => stdout_json(&out::optimized_json(&h))?,
        Format::Geojson => stdout_json(&out::optimized_geojson(&h)?)?,
        Format::Csv => {
            let mut w = csv::Writer::from_writer(std::io::stdout().lock());
            w.write_record(["ix", "iy", "x_min", "y_min", "count", "z", "p_norm", "q_value", "significant", "gi_bin"])?;
            for (row, &cell) in h.table.rows.iter().zip(&h.units.cells) {
                let (x_min, y_min) = h.units.grid.min_corner(cell);
                w.write_record([
                    cell.ix.to_string(),
                    cell.iy.to_string(),
                    x_min.to_string(),
                    y_min.to_string(),
                    row.count.to_string(),
                    row.z.to_string(),
                    row.p_norm.to_string(),
                    row.q_value.to_string(),
                    row.significant.to_string(),
                    row.bin.to_string(),
                ])?;
            }
            w.flush()?;
            for line in &h.explanation {
                eprintln!("- {line}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn emerging(db: &Db, args: EmergingArgs) -> anyhow::Result<ExitCode> {
    use alliance_app::spatial::emerging::{emerging_stored, EmergingRequest};
    use alliance_core::analytics::spatial::{Confidence, SliceLength};
    if args.source.points.is_some() {
        bail!("emerging hot spot analysis works on the stored police data (months); it cannot be used with --points");
    }
    let place = match &args.source.place {
        Some(name) => Some(db.places_named("place", std::slice::from_ref(name)).await?.remove(0).id),
        None => None,
    };
    let request = EmergingRequest {
        filter: args.source.filter(db).await?,
        cell: args.cell,
        band: args.band,
        slice: match args.period {
            PeriodArg::Month => SliceLength::Month,
            PeriodArg::Quarter => SliceLength::Quarter,
        },
        time_steps: args.time_steps,
        confidence: match args.confidence {
            ConfidenceArg::Ninety => Confidence::Ninety,
            ConfidenceArg::NinetyFive => Confidence::NinetyFive,
            ConfidenceArg::NinetyNine => Confidence::NinetyNine,
        },
        place,
    };
    let e = emerging_stored(db, &request, &Bounds::default()).await?;
    match args.format {
        Format::Json => stdout_json(&out::emerging_json(&e))?,
        Format::Geojson => stdout_json(&out::emerging_geojson(&e, args.all)?)?,
        Format::Csv => {
            let mut w = csv::Writer::from_writer(std::io::stdout().lock());
            w.write_record([
                "ix",
                "iy",
                "x_min",
                "y_min",
                "count",
                "category",
                "hot_slices",
                "cold_slices",
                "trend_z",
                "trend_p",
                "count_trend_z",
                "count_trend_p",
            ])?;
            for (k, (r, &cell)) in e.analysis.results.iter().zip(&e.units.cells).enumerate() {
                if !args.all && r.category.name() == "no-pattern" {
                    continue;
                }
                let (x_min, y_min) = e.units.grid.min_corner(cell);
                w.write_record([
                    cell.ix.to_string(),
                    cell.iy.to_string(),
                    x_min.to_string(),
                    y_min.to_string(),
                    e.units.counts[k].to_string(),
                    r.category.name().to_string(),
                    r.hot_slices.to_string(),
                    r.cold_slices.to_string(),
                    r.trend.z.to_string(),
                    r.trend.p.to_string(),
                    r.count_trend.z.to_string(),
                    r.count_trend.p.to_string(),
                ])?;
            }
            w.flush()?;
            let tally: Vec<String> =
                e.analysis.tally().into_iter().map(|(c, n)| format!("{} {n}", c.label().to_lowercase())).collect();
            eprintln!(
                "{} cells × {} slices ({} to {}); {}",
                e.units.cells.len(),
                e.slices.slices,
                e.slices.label(0),
                e.slices.label(e.slices.slices - 1),
                tally.join(", ")
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
