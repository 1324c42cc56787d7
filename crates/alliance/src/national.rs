//! A national data set for scale tests, built from real files: `alliance generate national`.
//!
//! data.police.uk publishes about 6.5 million street-level records a year for England and
//! Wales. The shared data holds one force's real months (Gwent, street and outcomes files);
//! this generator replays them for every English force of the LSOA → police force table
//! (`lsoa/PoliceforceLSOA.csv`), month after month, so that the result has the national
//! volume, each force's own LSOAs and names, and the real data's mix of crime types,
//! outcomes, missing locations and shared snap points.
//!
//! For each force and target month, one source month is replayed (cycling through the source
//! months in order, so a crime's outcomes land in the same later months they did). Each
//! source row is written `w` times (the force's weight: its LSOA count over the source
//! force's, scaled to the national volume; a fraction gives some rows, chosen by a seeded hash,
//! one copy more); each
//! copy moves to one of the force's LSOAs, chosen by a hash of the source LSOA and the copy,
//! keeping its offset from its source LSOA's centre, so crimes still cluster on shared
//! points. (The table's LSOAs are 2011's, written in every month: the SNA maps them to 2021's.) Crime IDs are rehashed per force, copy and cycle, consistently between street and
//! outcomes files. The source force itself is kept as it is, re-dated. Files are named as
//! data.police.uk names them (`2025-01-wiltshire-street.csv.gz`). The output is SYNTHETIC:
//! real patterns, invented places and IDs.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use alliance_core::domain::Month;
use anyhow::{bail, Context};
use sha2::{Digest, Sha256};

/// Street-level records a month across England and Wales at the national volume (about 6.5
/// million a year).
pub const NATIONAL_ROWS_PER_MONTH: f64 = 540_000.0;

/// What to generate.
#[derive(Debug, Clone)]
pub struct NationalSpec {
    /// The shared data folder (with `police/<force>/` and `lsoa/`).
    pub source: PathBuf,
    /// The source force's folder name under `police/` (its street and outcomes files).
    pub source_force: String,
    pub out: PathBuf,
    /// The last month written; `months` months end with it.
    pub end: Month,
    pub months: u32,
    /// At most this many forces (all when `None`), the largest first.
    pub forces: Option<usize>,
    /// Multiplies the national volume (1.0 = about 6.5 million street rows a year).
    pub scale: f64,
    /// Write `.csv.gz` (smaller and slower) rather than `.csv`.
    pub gzip: bool,
    /// Decides which rows get one copy more when a force's weight has a fraction: the same
    /// seed gives the same files.
    pub seed: u64,
}

/// What was written.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NationalSummary {
    pub forces: usize,
    pub files: usize,
    pub street_rows: u64,
    pub outcome_rows: u64,
    pub bytes: u64,
}

/// One target force: its data.police.uk slug and display name, and its LSOAs.
#[derive(Debug, Clone)]
struct Force {
    slug: String,
    name: String,
    lsoas: Vec<(String, String)>,
}

/// data.police.uk's slug of a force name: lower case, words joined by hyphens.
pub fn force_slug(name: &str) -> String {
    name.to_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

/// The forces of the LSOA → force table, largest first, with their LSOAs (code, name).
fn read_forces(path: &Path) -> anyhow::Result<Vec<Force>> {
    let mut reader = csv::Reader::from_path(path).with_context(|| format!("cannot read {}", path.display()))?;
    let header = reader.headers()?.clone();
    let col = |name: &str| {
        header.iter().position(|h| h == name).with_context(|| format!("{}: no column \"{name}\"", path.display()))
    };
    let (code, lsoa_name, force) = (col("LSOA Code")?, col("LSOA Name")?, col("Police_force")?);
    let mut by_force: HashMap<String, Vec<(String, String)>> = HashMap::new();
    for (i, record) in reader.records().enumerate() {
        let r = record.with_context(|| format!("{}: line {}", path.display(), i + 2))?;
        let name = r.get(force).unwrap_or("").trim();
        if name.is_empty() {
            continue;
        }
        by_force
            .entry(name.to_string())
            .or_default()
            .push((r.get(code).unwrap_or("").to_string(), r.get(lsoa_name).unwrap_or("").to_string()));
    }
    let mut forces: Vec<Force> = by_force
        .into_iter()
        .map(|(name, mut lsoas)| {
            lsoas.sort();
            Force { slug: force_slug(&name), name: format!("{name} Police"), lsoas }
        })
        .collect();
    forces.sort_by(|a, b| b.lsoas.len().cmp(&a.lsoas.len()).then_with(|| a.slug.cmp(&b.slug)));
    Ok(forces)
}

/// LSOA centres (latitude, longitude) by code, of both censuses.
fn read_centres(path: &Path) -> anyhow::Result<HashMap<String, (f64, f64)>> {
    let mut reader = csv::Reader::from_path(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut out = HashMap::new();
    for (i, record) in reader.records().enumerate() {
        let r = record.with_context(|| format!("{}: line {}", path.display(), i + 2))?;
        let (Some(code), Some(lat), Some(lon)) = (r.get(0), r.get(1), r.get(2)) else { continue };
        if let (Ok(lat), Ok(lon)) = (lat.parse::<f64>(), lon.parse::<f64>()) {
            out.insert(code.to_string(), (lat, lon));
        }
    }
    Ok(out)
}

/// The source force's months with a street file, sorted, each with its outcomes file if any.
fn source_months(dir: &Path, force: &str) -> anyhow::Result<Vec<(Month, PathBuf, Option<PathBuf>)>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let path = entry?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else { continue };
        let Some(month_text) = name.strip_suffix(&format!("-{force}-street.csv")) else { continue };
        let Ok(month) = month_text.parse::<Month>() else { continue };
        let outcomes = dir.join(format!("{month_text}-{force}-outcomes.csv"));
        out.push((month, path, outcomes.is_file().then_some(outcomes)));
    }
    out.sort_by_key(|m| m.0);
    if out.is_empty() {
        bail!("no {force} street files in {}", dir.display());
    }
    Ok(out)
}

fn hash_hex(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0u8]);
    }
    hex_string(&h.finalize())
}

fn hex_string(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hash_index(parts: &[&str], n: usize) -> usize {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0u8]);
    }
    let d = h.finalize();
    let v = u64::from_le_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]]);
    (v % n.max(1) as u64) as usize
}

/// One output file, plain or gzip; [`Output::finish`] reports what a drop would swallow.
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
    fn finish(self) -> std::io::Result<()> {
        match self {
            Output::Plain(mut w) => w.flush(),
            Output::Gzip(w) => w.finish()?.flush(),
        }
    }
}

/// A CSV writer of one output file, plain or gzip.
fn create(path: &Path, gzip: bool) -> anyhow::Result<csv::Writer<Output>> {
    let file = std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let buffered = std::io::BufWriter::with_capacity(1 << 20, file);
    let out = if gzip {
        Output::Gzip(flate2::write::GzEncoder::new(buffered, flate2::Compression::fast()))
    } else {
        Output::Plain(buffered)
    };
    Ok(csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(out))
}

/// How a source row is rewritten for one copy in one force.
struct Rewrite<'a> {
    force: &'a Force,
    source_is_target: bool,
    month: &'a str,
    cycle: String,
    copy: String,
    centres: &'a HashMap<String, (f64, f64)>,
}

impl Rewrite<'_> {
    fn crime_id(&self, id: &str) -> String {
        if id.is_empty() || self.source_is_target && self.copy == "0" && self.cycle == "0" {
            return id.to_string();
        }
        hash_hex(&[&self.force.slug, &self.cycle, &self.copy, id])
    }

    /// (longitude, latitude, LSOA code, LSOA name) for a row of `lsoa` at `lon`, `lat`.
    fn place(&self, lon: &str, lat: &str, lsoa: &str, lsoa_name: &str) -> (String, String, String, String) {
        if self.source_is_target || lsoa.is_empty() {
            return (lon.into(), lat.into(), lsoa.into(), lsoa_name.into());
        }
        let (code, name) = &self.force.lsoas[hash_index(&[lsoa, &self.copy], self.force.lsoas.len())];
        let (Ok(x), Ok(y)) = (lon.parse::<f64>(), lat.parse::<f64>()) else {
            return (String::new(), String::new(), code.clone(), name.clone());
        };
        let (Some(&(slat, slon)), Some(&(tlat, tlon))) = (self.centres.get(lsoa), self.centres.get(code)) else {
            return (lon.into(), lat.into(), code.clone(), name.clone());
        };
        (format!("{:.6}", tlon + (x - slon)), format!("{:.6}", tlat + (y - slat)), code.clone(), name.clone())
    }
}

/// Writes the national data set; `progress(files_done, files_total)` after each file.
pub fn generate(spec: &NationalSpec, progress: &dyn Fn(u64, u64)) -> anyhow::Result<NationalSummary> {
    if spec.months == 0 || spec.months > 120 {
        bail!("--months must be between 1 and 120, not {}", spec.months);
    }
    if !(spec.scale > 0.0 && spec.scale <= 10.0) {
        bail!("--scale must be above 0 and at most 10, not {}", spec.scale);
    }
    let lsoa_dir = spec.source.join("lsoa");
    let mut forces = read_forces(&lsoa_dir.join("PoliceforceLSOA.csv"))?;
    let centres = read_centres(&lsoa_dir.join("lsoa_latlong.csv"))?;
    let sources = source_months(&spec.source.join("police").join(&spec.source_force), &spec.source_force)?;
    // The source force's LSOAs: those its files name (it may be missing from the English table).
    let (_, first_street, _) = &sources[0];
    let mut source_lsoas = std::collections::HashSet::new();
    let mut reader = csv::Reader::from_path(first_street)?;
    for r in reader.records() {
        let r = r?;
        if let Some(code) = r.get(7).filter(|c| !c.is_empty()) {
            source_lsoas.insert(code.to_string());
        }
    }
    let source_lsoa_count = source_lsoas.len().max(1) as f64;
    let source_rows_per_month = {
        let mut n = 0u64;
        for r in csv::Reader::from_path(first_street)?.records() {
            r?;
            n += 1;
        }
        n as f64
    };
    let total_lsoas: usize = forces.iter().map(|f| f.lsoas.len()).sum::<usize>() + source_lsoas.len();
    // Rows a month per LSOA at the national volume, against the source's own rate.
    let national_rate = NATIONAL_ROWS_PER_MONTH * spec.scale / total_lsoas.max(1) as f64;
    let per_copy_rate = source_rows_per_month / source_lsoa_count;
    if let Some(n) = spec.forces {
        forces.truncate(n);
    }
    let source_name = sources
        .first()
        .and_then(|(_, p, _)| csv::Reader::from_path(p).ok()?.records().next()?.ok()?.get(3).map(str::to_string))
        .unwrap_or_else(|| format!("{} Police", spec.source_force));
    forces.retain(|f| f.slug != force_slug(&spec.source_force));
    let mut all = forces.clone();
    all.push(Force {
        slug: spec.source_force.clone(),
        name: source_name,
        lsoas: source_lsoas.iter().map(|c| (c.clone(), String::new())).collect(),
    });
    std::fs::create_dir_all(&spec.out).with_context(|| format!("cannot create {}", spec.out.display()))?;
    let first_month = spec.end.plus(-(i64::from(spec.months) - 1));
    let total_files = (all.len() as u64) * u64::from(spec.months) * 2;
    let mut summary = NationalSummary { forces: all.len(), ..NationalSummary::default() };
    let mut done = 0u64;
    let seed = spec.seed.to_string();
    for force in &all {
        let source_is_target = force.slug == spec.source_force;
        let weight = if source_is_target {
            1.0
        } else {
            force.lsoas.len() as f64 * national_rate / (per_copy_rate * source_lsoa_count)
        };
        let whole = weight.floor() as u64;
        let fraction = weight - weight.floor();
        for i in 0..spec.months {
            let month = first_month.plus(i64::from(i));
            let (_, street, outcomes) = &sources[i as usize % sources.len()];
            let cycle = (i as usize / sources.len()).to_string();
            let month_text = month.to_string();
            for (kind, source) in [("street", Some(street)), ("outcomes", outcomes.as_ref())] {
                let ext = if spec.gzip { "csv.gz" } else { "csv" };
                let path = spec.out.join(format!("{month_text}-{}-{kind}.{ext}", force.slug));
                let Some(source) = source else {
                    done += 1;
                    continue;
                };
                let mut reader =
                    csv::Reader::from_path(source).with_context(|| format!("cannot read {}", source.display()))?;
                let header = reader.headers()?.clone();
                let mut writer = create(&path, spec.gzip)?;
                writer.write_record(&header)?;
                let outcome_file = kind == "outcomes";
                for (line, record) in reader.records().enumerate() {
                    let r = record.with_context(|| format!("{}: line {}", source.display(), line + 2))?;
                    let field = |k: usize| r.get(k).unwrap_or("");
                    let copies = whole
                        + u64::from(
                            fraction > 0.0
                                && (hash_index(&[&seed, &force.slug, &month_text, &line.to_string(), kind], 1_000_000)
                                    as f64)
                                    < fraction * 1_000_000.0,
                        );
                    for copy in 0..copies {
                        let rewrite = Rewrite {
                            force,
                            source_is_target,
                            month: &month_text,
                            cycle: cycle.clone(),
                            copy: copy.to_string(),
                            centres: &centres,
                        };
                        let (lon, lat, lsoa, lsoa_name) = rewrite.place(field(4), field(5), field(7), field(8));
                        let id = rewrite.crime_id(field(0));
                        let mut row: Vec<String> = vec![
                            id,
                            rewrite.month.to_string(),
                            force.name.clone(),
                            force.name.clone(),
                            lon,
                            lat,
                            field(6).to_string(),
                            lsoa,
                            lsoa_name,
                        ];
                        row.extend((9..r.len()).map(|k| field(k).to_string()));
                        writer.write_record(&row)?;
                        if outcome_file {
                            summary.outcome_rows += 1;
                        } else {
                            summary.street_rows += 1;
                        }
                    }
                }
                writer
                    .into_inner()
                    .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?
                    .finish()
                    .with_context(|| format!("cannot write {}", path.display()))?;
                summary.bytes += std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
                summary.files += 1;
                done += 1;
                progress(done, total_files);
            }
        }
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_data_police_uk_file_names() {
        assert_eq!(force_slug("Avon and Somerset"), "avon-and-somerset");
        assert_eq!(force_slug("Metropolitan Police"), "metropolitan-police");
        assert_eq!(force_slug("City of London"), "city-of-london");
    }

    #[test]
    fn hashes_are_stable_and_spread() {
        assert_eq!(hash_hex(&["a", "b"]), hash_hex(&["a", "b"]));
        assert_ne!(hash_hex(&["a", "b"]), hash_hex(&["ab", ""]));
        let counts = (0..1000).fold([0usize; 4], |mut c, i| {
            c[hash_index(&[&i.to_string()], 4)] += 1;
            c
        });
        assert!(counts.iter().all(|&n| n > 200), "{counts:?}");
    }
}
