//! A national police data set for scale tests, built from the real shared files:
//! `alliance generate police-national`. The output is SYNTHETIC (real patterns, invented
//! places and IDs) and says so in a `README.md` written beside the files.
//!
//! data.police.uk publishes about 6.5 million street-level records a year for the 43
//! territorial forces of England and Wales and British Transport Police. The shared data holds
//! two forces' real months: Staffordshire (street files of 2025) and Gwent (24 months of street
//! and outcomes files). This generator writes, for every force of [`FORCES`] and every target
//! month, one street file and (when the source has one) one outcomes file, named as
//! data.police.uk names them (`2025-01-avon-and-somerset-street.csv`):
//!
//! - **Source.** Staffordshire replays its own files; every other force replays Gwent's (the
//!   source with outcomes files), so the outcomes rows reference the generated Crime IDs.
//!   Target month `i` (from the first) replays the source's month `i mod n` of its longest run
//!   of consecutive months, so a crime's outcomes land in the same later months they did.
//! - **Volume.** `target_rows` street rows in all, shared among the forces by their resident
//!   population ([`Force::population_k`], 2021 census, rounded; British Transport Police and
//!   the City of London by their recorded crime instead). A force's weight is its monthly
//!   share over the source's mean rows a month; each source crime is written `⌊w⌋` times and
//!   once more when a seeded hash of its Crime ID (the line, for rows without one) falls under
//!   the fraction, so a crime and its outcomes get the same copies.
//! - **Places.** A copy of a row moves to one of the force's own LSOAs (2011 codes and names:
//!   `lsoa/PoliceforceLSOA.csv` for England, with its blank rows filled from their local
//!   authority's force, and the OA lookup's Welsh LSOAs by local authority for the four Welsh
//!   forces; British Transport Police uses all of them), chosen by a hash of the source LSOA
//!   and the copy, keeping the point's offset from its source LSOA's centre
//!   (`lsoa/lsoa_latlong.csv`): crimes still cluster on shared snap points, and each point
//!   lies near the LSOA it names, so area joins (districts, deprivation, boundaries) work.
//!   Staffordshire and Gwent keep their own LSOAs and points.
//! - **IDs.** Every Crime ID is fresh: 64 hex digits of SHA-256 over the seed, force, cycle,
//!   copy and source ID, the same in street and outcomes files. Rows without an ID
//!   (anti-social behaviour) stay without one, as data.police.uk publishes them.
//!
//! Memory is bounded by the reference tables (about 35,000 LSOAs), whatever the volume: each
//! file is streamed from its source to its output.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};

use alliance_core::domain::Month;
use sha2::{Digest, Sha256};

/// One force of England and Wales as data.police.uk names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Force {
    /// The force's id on data.police.uk, which its file names carry (`avon-and-somerset`).
    pub slug: &'static str,
    /// "Reported by" and "Falls within" of its rows (`Avon and Somerset Constabulary`).
    pub name: &'static str,
    /// Its name in `lsoa/PoliceforceLSOA.csv` (empty: not in that table).
    pub table_name: &'static str,
    /// Resident population in thousands (2021 census, rounded); for British Transport Police
    /// and the City of London, the population whose recorded crime matches theirs.
    pub population_k: u32,
}

const fn force(slug: &'static str, name: &'static str, table_name: &'static str, population_k: u32) -> Force {
    Force { slug, name, table_name, population_k }
}

/// The 43 territorial forces of England and Wales and British Transport Police.
pub const FORCES: &[Force] = &[
    force("avon-and-somerset", "Avon and Somerset Constabulary", "Avon and Somerset", 1_760),
    force("bedfordshire", "Bedfordshire Police", "Bedfordshire", 700),
    force("btp", "British Transport Police", "", 700),
    force("cambridgeshire", "Cambridgeshire Constabulary", "Cambridgeshire", 900),
    force("cheshire", "Cheshire Constabulary", "Cheshire", 1_090),
    force("city-of-london", "City of London Police", "City of London", 80),
    force("cleveland", "Cleveland Police", "Cleveland", 570),
    force("cumbria", "Cumbria Constabulary", "Cumbria", 500),
    force("derbyshire", "Derbyshire Constabulary", "Derbyshire", 1_050),
    force("devon-and-cornwall", "Devon & Cornwall Police", "Devon and Cornwall", 1_800),
    force("dorset", "Dorset Police", "Dorset", 780),
    force("durham", "Durham Constabulary", "Durham", 640),
    force("dyfed-powys", "Dyfed-Powys Police", "", 520),
    force("essex", "Essex Police", "Essex", 1_860),
    force("gloucestershire", "Gloucestershire Constabulary", "Gloucestershire", 650),
    force("greater-manchester", "Greater Manchester Police", "Greater Manchester", 2_870),
    force("gwent", "Gwent Police", "", 600),
    force("hampshire", "Hampshire Constabulary", "Hampshire", 2_010),
    force("hertfordshire", "Hertfordshire Constabulary", "Hertfordshire", 1_200),
    force("humberside", "Humberside Police", "Humberside", 930),
    force("kent", "Kent Police", "Kent", 1_860),
    force("lancashire", "Lancashire Constabulary", "Lancashire", 1_530),
    force("leicestershire", "Leicestershire Police", "Leicestershire", 1_120),
    force("lincolnshire", "Lincolnshire Police", "Lincolnshire", 770),
    force("merseyside", "Merseyside Police", "Merseyside", 1_420),
    force("metropolitan", "Metropolitan Police Service", "Metropolitan Police", 8_800),
    force("norfolk", "Norfolk Constabulary", "Norfolk", 920),
    force("north-wales", "North Wales Police", "", 690),
    force("north-yorkshire", "North Yorkshire Police", "North Yorkshire", 820),
    force("northamptonshire", "Northamptonshire Police", "Northamptonshire", 790),
    force("northumbria", "Northumbria Police", "Northumbria", 1_480),
    force("nottinghamshire", "Nottinghamshire Police", "Nottinghamshire", 1_150),
    force("south-wales", "South Wales Police", "", 1_330),
    force("south-yorkshire", "South Yorkshire Police", "South Yorkshire", 1_420),
    force("staffordshire", "Staffordshire Police", "Staffordshire", 1_140),
    force("suffolk", "Suffolk Constabulary", "Suffolk", 760),
    force("surrey", "Surrey Police", "Surrey", 1_210),
    force("sussex", "Sussex Police", "Sussex", 1_710),
    force("thames-valley", "Thames Valley Police", "Thames Valley", 2_460),
    force("warwickshire", "Warwickshire Police", "Warwickshire", 600),
    force("west-mercia", "West Mercia Police", "West Mercia", 1_310),
    force("west-midlands", "West Midlands Police", "West Midlands", 2_920),
    force("west-yorkshire", "West Yorkshire Police", "West Yorkshire", 2_350),
    force("wiltshire", "Wiltshire Police", "Wiltshire", 730),
];

/// A force's name as its data.police.uk files give it ("Staffordshire Police"), or its slug
/// when Alliance does not know it: how pages and refusals name the forces whose files are held.
pub fn force_name(slug: &str) -> String {
    FORCES.iter().find(|f| f.slug == slug).map_or_else(|| slug.to_string(), |f| f.name.to_string())
}

/// The Welsh local authorities (2017 codes) of each Welsh force.
const WELSH_AUTHORITIES: &[(&str, &str)] = &[
    ("W06000001", "north-wales"),
    ("W06000002", "north-wales"),
    ("W06000003", "north-wales"),
    ("W06000004", "north-wales"),
    ("W06000005", "north-wales"),
    ("W06000006", "north-wales"),
    ("W06000008", "dyfed-powys"),
    ("W06000009", "dyfed-powys"),
    ("W06000010", "dyfed-powys"),
    ("W06000023", "dyfed-powys"),
    ("W06000011", "south-wales"),
    ("W06000012", "south-wales"),
    ("W06000013", "south-wales"),
    ("W06000014", "south-wales"),
    ("W06000015", "south-wales"),
    ("W06000016", "south-wales"),
    ("W06000024", "south-wales"),
    ("W06000018", "gwent"),
    ("W06000019", "gwent"),
    ("W06000020", "gwent"),
    ("W06000021", "gwent"),
    ("W06000022", "gwent"),
];

/// The force that replays its own files; every other force replays [`OUTCOMES_SOURCE`].
pub const SELF_SOURCE: &str = "staffordshire";
/// The source force with outcomes files.
pub const OUTCOMES_SOURCE: &str = "gwent";

/// What to generate.
#[derive(Debug, Clone)]
pub struct NationalSpec {
    /// The shared data folder (with `police/staffordshire/`, `police/gwent/` and `lsoa/`).
    pub shared: PathBuf,
    /// The folder the files are written to (created when missing).
    pub out: PathBuf,
    /// The last month written; `months` months end with it.
    pub end: Month,
    pub months: u32,
    /// Street rows in all (about; the fractions of copies are drawn by a seeded hash).
    pub target_rows: u64,
    /// Only these forces (data.police.uk slugs); all of [`FORCES`] when empty.
    pub forces: Vec<String>,
    /// Write `.csv.gz` rather than `.csv`.
    pub gzip: bool,
    /// The same seed gives the same files.
    pub seed: u64,
}

/// What was written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NationalSummary {
    pub forces: usize,
    pub files: usize,
    pub street_rows: u64,
    pub outcome_rows: u64,
    pub bytes: u64,
}

/// Why the set could not be generated.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{}: line {line}: {source}", path.display())]
    Csv { path: PathBuf, line: u64, source: csv::Error },
    #[error("{0}")]
    Invalid(String),
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> GenerateError + '_ {
    move |source| GenerateError::Io { path: path.to_path_buf(), source }
}

fn csv_error(path: &Path, line: u64) -> impl FnOnce(csv::Error) -> GenerateError + '_ {
    move |source| GenerateError::Csv { path: path.to_path_buf(), line, source }
}

/// LSOAs (2011 code and name) by force slug: England from the LSOA → force table (blank rows
/// take their local authority's commonest force), Wales from the OA lookup by local authority.
/// LSOAs as (2011 code, name), by force slug.
type LsoasByForce = HashMap<&'static str, Vec<(String, String)>>;

fn force_lsoas(lsoa_dir: &Path) -> Result<LsoasByForce, GenerateError> {
    let by_table_name: HashMap<&str, &'static str> =
        FORCES.iter().filter(|f| !f.table_name.is_empty()).map(|f| (f.table_name, f.slug)).collect();
    let path = lsoa_dir.join("PoliceforceLSOA.csv");
    let mut reader = csv::Reader::from_path(&path).map_err(csv_error(&path, 1))?;
    let header = reader.headers().map_err(csv_error(&path, 1))?.clone();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| GenerateError::Invalid(format!("{}: no column \"{name}\"", path.display())))
    };
    let (la, code, name, force_col) =
        (col("Local authority code")?, col("LSOA Code")?, col("LSOA Name")?, col("Police_force")?);
    let mut out: HashMap<&'static str, Vec<(String, String)>> = HashMap::new();
    let mut by_authority: HashMap<String, BTreeMap<&'static str, usize>> = HashMap::new();
    let mut blank: Vec<(String, String, String)> = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let r = record.map_err(csv_error(&path, i as u64 + 2))?;
        let field = |k: usize| r.get(k).unwrap_or("").trim().to_string();
        let lsoa = (field(code), field(name));
        match by_table_name.get(field(force_col).as_str()) {
            Some(&slug) => {
                *by_authority.entry(field(la)).or_default().entry(slug).or_default() += 1;
                out.entry(slug).or_default().push(lsoa);
            }
            None => blank.push((field(la), lsoa.0, lsoa.1)),
        }
    }
    for (authority, code, name) in blank {
        let commonest = by_authority.get(&authority).and_then(|m| m.iter().max_by_key(|(_, n)| **n).map(|(s, _)| *s));
        if let Some(slug) = commonest {
            out.entry(slug).or_default().push((code, name));
        }
    }
    let welsh: HashMap<&str, &'static str> = WELSH_AUTHORITIES.iter().copied().collect();
    let path = lsoa_dir.join("OA11_LSOA11_MSOA11_LAD17_lookup_with_OAC.csv.gz");
    let file = std::fs::File::open(&path).map_err(io_error(&path))?;
    let mut reader = csv::Reader::from_reader(flate2::read::GzDecoder::new(std::io::BufReader::new(file)));
    let header = reader.headers().map_err(csv_error(&path, 1))?.clone();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h.trim_start_matches('\u{feff}') == name)
            .ok_or_else(|| GenerateError::Invalid(format!("{}: no column \"{name}\"", path.display())))
    };
    let (code, name, la) = (col("LSOA11CD")?, col("LSOA11NM")?, col("LAD17CD")?);
    let mut seen = std::collections::HashSet::new();
    for (i, record) in reader.records().enumerate() {
        let r = record.map_err(csv_error(&path, i as u64 + 2))?;
        let Some(&slug) = welsh.get(r.get(la).unwrap_or("")) else { continue };
        let lsoa_code = r.get(code).unwrap_or("");
        if seen.insert(lsoa_code.to_string()) {
            out.entry(slug).or_default().push((lsoa_code.to_string(), r.get(name).unwrap_or("").to_string()));
        }
    }
    for lsoas in out.values_mut() {
        lsoas.sort();
        lsoas.dedup();
    }
    Ok(out)
}

/// LSOA centres (latitude, longitude) by code.
fn read_centres(path: &Path) -> Result<HashMap<String, (f64, f64)>, GenerateError> {
    let mut reader = csv::Reader::from_path(path).map_err(csv_error(path, 1))?;
    let mut out = HashMap::new();
    for (i, record) in reader.records().enumerate() {
        let r = record.map_err(csv_error(path, i as u64 + 2))?;
        let (Some(code), Some(lat), Some(lon)) = (r.get(0), r.get(1), r.get(2)) else { continue };
        if let (Ok(lat), Ok(lon)) = (lat.parse::<f64>(), lon.parse::<f64>()) {
            out.insert(code.to_string(), (lat, lon));
        }
    }
    Ok(out)
}

/// A source force's longest run of consecutive months with a street file (the latest of equal
/// runs): each month's street file and outcomes file, if any.
#[derive(Debug, Clone)]
struct Source {
    months: Vec<(Month, PathBuf, Option<PathBuf>)>,
    /// Street rows a month, on average over the run.
    rows_per_month: f64,
}

fn read_source(dir: &Path, force: &str) -> Result<Source, GenerateError> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io_error(dir))? {
        let path = entry.map_err(io_error(dir))?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else { continue };
        let Some(month_text) = name.strip_suffix(&format!("-{force}-street.csv")) else { continue };
        let Ok(month) = month_text.parse::<Month>() else { continue };
        let outcomes = dir.join(format!("{month_text}-{force}-outcomes.csv"));
        all.push((month, path, outcomes.is_file().then_some(outcomes)));
    }
    all.sort_by_key(|m| m.0);
    let mut best = 0..0;
    let mut start = 0;
    for i in 0..all.len() {
        if i > 0 && all[i].0 != all[i - 1].0.plus(1) {
            start = i;
        }
        if i + 1 - start >= best.len() {
            best = start..i + 1;
        }
    }
    let months: Vec<_> = all[best].to_vec();
    if months.is_empty() {
        return Err(GenerateError::Invalid(format!("no {force} street files in {}", dir.display())));
    }
    let mut rows = 0u64;
    for (_, path, _) in &months {
        let mut reader = csv::Reader::from_path(path).map_err(csv_error(path, 1))?;
        let mut record = csv::ByteRecord::new();
        while reader.read_byte_record(&mut record).map_err(csv_error(path, rows + 2))? {
            rows += 1;
        }
    }
    let rows_per_month = rows as f64 / months.len() as f64;
    Ok(Source { months, rows_per_month })
}

fn digest(parts: &[&str]) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0u8]);
    }
    h.finalize().into()
}

/// 64 hex digits of SHA-256 over `parts`.
fn hash_hex(parts: &[&str]) -> String {
    hex::encode(digest(parts))
}

/// A number in `0..1` from SHA-256 over `parts`.
fn hash_unit(parts: &[&str]) -> f64 {
    let d = digest(parts);
    let v = u64::from_le_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]]);
    (v >> 11) as f64 / (1u64 << 53) as f64
}

fn hash_index(parts: &[&str], n: usize) -> usize {
    ((hash_unit(parts) * n as f64) as usize).min(n.saturating_sub(1))
}

/// One output file, plain or gzip (a few open at once: their size does not matter).
#[allow(clippy::large_enum_variant)]
enum Output {
    Plain(std::io::BufWriter<std::fs::File>),
    Gzip(flate2::write::GzEncoder<std::io::BufWriter<std::fs::File>>),
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Output::Plain(w) => w.write(buf),
            Output::Gzip(w) => w.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Output::Plain(w) => w.flush(),
            Output::Gzip(w) => w.flush(),
        }
    }
}

impl Output {
    fn create(path: &Path, gzip: bool) -> Result<Output, GenerateError> {
        let file = std::fs::File::create(path).map_err(io_error(path))?;
        let buffered = std::io::BufWriter::with_capacity(1 << 20, file);
        Ok(if gzip {
            Output::Gzip(flate2::write::GzEncoder::new(buffered, flate2::Compression::fast()))
        } else {
            Output::Plain(buffered)
        })
    }

    /// Flushes everything (a drop would swallow the error).
    fn finish(self) -> std::io::Result<()> {
        match self {
            Output::Plain(mut w) => w.flush(),
            Output::Gzip(w) => w.finish()?.flush(),
        }
    }
}

/// One target force, ready to write.
struct Target<'a> {
    force: &'a Force,
    source: &'a Source,
    /// Replays its own files: keeps its LSOAs and points.
    own: bool,
    lsoas: &'a [(String, String)],
    weight: f64,
}

/// Where a copy of a row lies: (longitude, latitude, LSOA code, LSOA name).
fn place(
    target: &Target<'_>,
    centres: &HashMap<String, (f64, f64)>,
    seed: &str,
    copy: &str,
    row: &csv::StringRecord,
) -> (String, String, String, String) {
    let field = |k: usize| row.get(k).unwrap_or("");
    let (lon, lat, lsoa, lsoa_name) = (field(4), field(5), field(7), field(8));
    if target.own || lsoa.is_empty() || target.lsoas.is_empty() {
        return (lon.into(), lat.into(), lsoa.into(), lsoa_name.into());
    }
    let (code, name) = &target.lsoas[hash_index(&[seed, target.force.slug, lsoa, copy], target.lsoas.len())];
    let point = match (lon.parse::<f64>(), lat.parse::<f64>(), centres.get(lsoa), centres.get(code)) {
        (Ok(x), Ok(y), Some(&(slat, slon)), Some(&(tlat, tlon))) => {
            (format!("{:.6}", tlon + (x - slon)), format!("{:.6}", tlat + (y - slat)))
        }
        (_, _, _, Some(&(tlat, tlon))) => (format!("{tlon:.6}"), format!("{tlat:.6}")),
        _ => (String::new(), String::new()),
    };
    (point.0, point.1, code.clone(), name.clone())
}

/// Writes the national data set; `progress(files_done, files_total)` after each file. Files
/// are written as `YYYY-MM-<slug>-street.csv` (and `-outcomes.csv`), then `README.md`.
pub fn generate(spec: &NationalSpec, progress: &dyn Fn(u64, u64)) -> Result<NationalSummary, GenerateError> {
    if spec.months == 0 || spec.months > 120 {
        return Err(GenerateError::Invalid(format!("--months must be between 1 and 120, not {}", spec.months)));
    }
    if spec.target_rows == 0 || spec.target_rows > 200_000_000 {
        return Err(GenerateError::Invalid(format!(
            "--target-rows must be between 1 and 200000000, not {}",
            spec.target_rows
        )));
    }
    let forces: Vec<&Force> = if spec.forces.is_empty() {
        FORCES.iter().collect()
    } else {
        let mut chosen = Vec::new();
        for slug in &spec.forces {
            match FORCES.iter().find(|f| f.slug == slug) {
                Some(f) => chosen.push(f),
                None => {
                    return Err(GenerateError::Invalid(format!(
                        "--forces: no force \"{slug}\" (data.police.uk ids, e.g. avon-and-somerset)"
                    )))
                }
            }
        }
        chosen
    };
    let lsoa_dir = spec.shared.join("lsoa");
    let by_force = force_lsoas(&lsoa_dir)?;
    let everywhere: Vec<(String, String)> = {
        let mut all: Vec<_> = by_force.values().flatten().cloned().collect();
        all.sort();
        all
    };
    let centres = read_centres(&lsoa_dir.join("lsoa_latlong.csv"))?;
    let police = spec.shared.join("police");
    let own_source = read_source(&police.join(SELF_SOURCE), SELF_SOURCE)?;
    let outcomes_source = read_source(&police.join(OUTCOMES_SOURCE), OUTCOMES_SOURCE)?;
    let population: u64 = forces.iter().map(|f| u64::from(f.population_k)).sum();
    let rows_per_month = spec.target_rows as f64 / f64::from(spec.months);
    let targets: Vec<Target<'_>> = forces
        .iter()
        .map(|&force| {
            let own = force.slug == SELF_SOURCE;
            let source = if own { &own_source } else { &outcomes_source };
            let lsoas: &[(String, String)] =
                if force.slug == "btp" { &everywhere } else { by_force.get(force.slug).map_or(&[], Vec::as_slice) };
            let share = f64::from(force.population_k) / population.max(1) as f64;
            Target {
                force,
                source,
                own: own || force.slug == OUTCOMES_SOURCE,
                lsoas,
                weight: rows_per_month * share / source.rows_per_month.max(1.0),
            }
        })
        .collect();
    std::fs::create_dir_all(&spec.out).map_err(io_error(&spec.out))?;
    let first_month = spec.end.plus(-(i64::from(spec.months) - 1));
    let total_files = targets.len() as u64 * u64::from(spec.months) * 2;
    let mut summary = NationalSummary { forces: targets.len(), ..NationalSummary::default() };
    let mut done = 0u64;
    let seed = spec.seed.to_string();
    let ext = if spec.gzip { "csv.gz" } else { "csv" };
    for target in &targets {
        let whole = target.weight.floor() as u64;
        let fraction = target.weight - target.weight.floor();
        let slug = target.force.slug;
        for i in 0..spec.months as usize {
            let month = first_month.plus(i as i64).to_string();
            let n = target.source.months.len();
            let (source_month, street, outcomes) = &target.source.months[i % n];
            let cycle = (i / n).to_string();
            let source_month = source_month.to_string();
            for (kind, source) in [("street", Some(street)), ("outcomes", outcomes.as_ref())] {
                let Some(source) = source else {
                    done += 1;
                    continue;
                };
                let path = spec.out.join(format!("{month}-{slug}-{kind}.{ext}"));
                let mut reader = csv::Reader::from_path(source).map_err(csv_error(source, 1))?;
                let header = reader.headers().map_err(csv_error(source, 1))?.clone();
                let mut writer = csv::WriterBuilder::new()
                    .terminator(csv::Terminator::CRLF)
                    .from_writer(Output::create(&path, spec.gzip)?);
                writer.write_record(&header).map_err(csv_error(&path, 1))?;
                let mut record = csv::StringRecord::new();
                let mut line = 1u64;
                let mut written = 0u64;
                let mut row: Vec<String> = Vec::with_capacity(header.len());
                while reader.read_record(&mut record).map_err(csv_error(source, line + 1))? {
                    line += 1;
                    let id = record.get(0).unwrap_or("");
                    let line_key = format!("{source_month}:{line}");
                    let key = if id.is_empty() { line_key.as_str() } else { id };
                    let copies = whole + u64::from(hash_unit(&[&seed, slug, &cycle, key]) < fraction);
                    for copy in 0..copies {
                        let copy = copy.to_string();
                        let (lon, lat, lsoa, lsoa_name) = place(target, &centres, &seed, &copy, &record);
                        row.clear();
                        row.push(if id.is_empty() {
                            String::new()
                        } else {
                            hash_hex(&[&seed, slug, &cycle, &copy, id])
                        });
                        row.push(month.clone());
                        row.push(target.force.name.to_string());
                        row.push(target.force.name.to_string());
                        row.extend([lon, lat, record.get(6).unwrap_or("").to_string(), lsoa, lsoa_name]);
                        row.extend(record.iter().skip(9).map(str::to_string));
                        writer.write_record(&row).map_err(csv_error(&path, written + 2))?;
                        written += 1;
                    }
                }
                writer
                    .into_inner()
                    .map_err(|e| GenerateError::Io { path: path.clone(), source: e.into_error() })?
                    .finish()
                    .map_err(io_error(&path))?;
                if kind == "street" {
                    summary.street_rows += written;
                } else {
                    summary.outcome_rows += written;
                }
                summary.bytes += std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
                summary.files += 1;
                done += 1;
                progress(done, total_files);
            }
        }
    }
    let readme = spec.out.join("README.md");
    std::fs::write(&readme, readme_text(spec, &summary, first_month, &own_source, &outcomes_source))
        .map_err(io_error(&readme))?;
    Ok(summary)
}

fn readme_text(spec: &NationalSpec, s: &NationalSummary, first: Month, own: &Source, other: &Source) -> String {
    let span = |src: &Source| format!("{} to {}", src.months[0].0, src.months[src.months.len() - 1].0);
    format!(
        "# SYNTHETIC police data: not real crimes\n\n\
         Every file in this folder is SYNTHETIC, written by `alliance generate police-national` \
         for scale tests and benchmarks. The rows replay real data.police.uk files (Staffordshire \
         Police, {own_span}, for Staffordshire; Gwent Police, {other_span}, street and outcomes, for \
         every other force) with invented Crime IDs, months shifted to {first} to {end}, and places \
         moved into each force's own LSOAs. Do not publish or analyse them as crime figures.\n\n\
         - forces: {forces}\n- months: {months} ({first} to {end})\n- street rows: {street}\n\
         - outcomes rows: {outcomes}\n- files: {files}\n- seed: {seed}\n- target rows: {target}\n\n\
         Source data: data.police.uk, Open Government Licence v3.0. How it is generated: the doc \
         comment of `alliance_ingest::police::synthetic`.\n",
        own_span = span(own),
        other_span = span(other),
        end = spec.end,
        forces = s.forces,
        months = spec.months,
        street = s.street_rows,
        outcomes = s.outcome_rows,
        files = s.files,
        seed = spec.seed,
        target = spec.target_rows,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_force_of_england_and_wales_once() {
        assert_eq!(FORCES.len(), 44);
        let slugs: std::collections::HashSet<&str> = FORCES.iter().map(|f| f.slug).collect();
        assert_eq!(slugs.len(), 44);
        for f in FORCES {
            assert!(alliance_core::domain::ForceSlug::parse(f.slug).is_some(), "{}", f.slug);
        }
        assert!(FORCES.iter().any(|f| f.slug == "avon-and-somerset" && f.name == "Avon and Somerset Constabulary"));
        let welsh: std::collections::HashSet<&str> = WELSH_AUTHORITIES.iter().map(|(_, s)| *s).collect();
        assert_eq!(welsh.len(), 4);
        assert!(welsh.iter().all(|s| FORCES.iter().any(|f| f.slug == *s && f.table_name.is_empty())));
    }

    #[test]
    fn hashes_are_stable_hex_and_spread() {
        let id = hash_hex(&["7", "kent", "0", "1", "abc"]);
        assert_eq!(id.len(), 64);
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(id, hash_hex(&["7", "kent", "0", "1", "abc"]));
        assert_ne!(id, hash_hex(&["7", "kent", "0", "2", "abc"]));
        assert_ne!(hash_hex(&["a", "b"]), hash_hex(&["ab", ""]));
        let counts = (0..1000).fold([0usize; 4], |mut c, i| {
            c[hash_index(&[&i.to_string()], 4)] += 1;
            c
        });
        assert!(counts.iter().all(|&n| n > 200), "{counts:?}");
    }
}
