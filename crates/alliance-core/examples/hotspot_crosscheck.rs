//! Runs the hotspot analyses of issue 15 on real police data and writes every number as CSV,
//! for `tools/crosscheck/hotspots.py` to recompute independently (ArcGIS-convention Gi*,
//! false discovery rate bins, space-time Gi*, Mann–Kendall, emerging hot spot categories).
//!
//! ```sh
//! cargo run --release -p alliance-core --example hotspot_crosscheck -- \
//!   --police DATA/police/staffordshire/2025-*-street.csv \
//!   --boundaries DATA/lsoa/boundaries/lsoa/E0*.geojson \
//!   --crime-type "Violence and sexual offences" --from 2025-01 --to 2025-12 \
//!   --out /tmp/staffs [--cell 250] [--band 354] [--time-steps 1] [--quarters]
//! ```
//!
//! Without `--cell` and `--band` the optimized hot spot analysis chooses them. The study area
//! is the union of the boundary polygons (WGS84 GeoJSON, projected to the National Grid).
//! Files written to `--out`: `points.csv` (kept incidents: x, y, slice), `cells.csv` (each
//! cell with its count and Gi* z, p, bin), `optimized.txt` (the choices and the Moran's I
//! profile), `emerging_bins.csv` and `emerging.csv` (space-time Gi* per bin, category and
//! trends per cell), `meta.txt` (settings and timings).

use std::error::Error;
use std::fmt::Write as _;
use std::fs;
use std::path::PathBuf;
use std::time::Instant;

use alliance_core::analytics::spatial::{
    emerging_hot_spots, optimized_hot_spots, EmergingOptions, OptimizedOptions, SpaceTimeCube, StudyArea, Weights,
};
use alliance_core::geo::projection::BngProjector;
use geo::{LineString, MultiPolygon, Polygon};
use serde_json::Value;

#[derive(Default)]
struct Args {
    police: Vec<PathBuf>,
    boundaries: Vec<PathBuf>,
    crime_type: Option<String>,
    from: Option<String>,
    to: Option<String>,
    out: PathBuf,
    cell: Option<f64>,
    band: Option<f64>,
    time_steps: usize,
    quarters: bool,
}

fn parse_args() -> Result<Args, Box<dyn Error>> {
    let mut a = Args { time_steps: 1, ..Default::default() };
    let mut it = std::env::args().skip(1).peekable();
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--police" | "--boundaries" => {
                let mut files = vec![PathBuf::from(value()?)];
                while let Some(next) = it.peek().filter(|s| !s.starts_with("--")) {
                    files.push(PathBuf::from(next));
                    it.next();
                }
                if flag == "--police" {
                    a.police = files
                } else {
                    a.boundaries = files
                }
            }
            "--crime-type" => a.crime_type = Some(value()?),
            "--from" => a.from = Some(value()?),
            "--to" => a.to = Some(value()?),
            "--out" => a.out = PathBuf::from(value()?),
            "--cell" => a.cell = Some(value()?.parse()?),
            "--band" => a.band = Some(value()?.parse()?),
            "--time-steps" => a.time_steps = value()?.parse()?,
            "--quarters" => a.quarters = true,
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    if a.police.is_empty() || a.boundaries.is_empty() || a.out.as_os_str().is_empty() {
        return Err("--police, --boundaries and --out are required".into());
    }
    Ok(a)
}

/// The study area: every polygon of the GeoJSON files, projected.
fn study_area(files: &[PathBuf], bng: &BngProjector) -> Result<MultiPolygon<f64>, Box<dyn Error>> {
    let ring = |coords: &Value| -> Result<LineString<f64>, Box<dyn Error>> {
        let points = coords.as_array().ok_or("ring is not an array")?;
        let mut out = Vec::with_capacity(points.len());
        for p in points {
            let (lon, lat) = (p[0].as_f64().ok_or("bad longitude")?, p[1].as_f64().ok_or("bad latitude")?);
            out.push(bng.to_bng(lon, lat)?);
        }
        Ok(LineString::from(out))
    };
    let polygon = |rings: &Value| -> Result<Polygon<f64>, Box<dyn Error>> {
        let rings = rings.as_array().ok_or("polygon is not an array")?;
        let exterior = ring(rings.first().ok_or("polygon without rings")?)?;
        let interiors = rings[1..].iter().map(ring).collect::<Result<Vec<_>, _>>()?;
        Ok(Polygon::new(exterior, interiors))
    };
    let mut polygons = Vec::new();
    for file in files {
        let doc: Value = serde_json::from_str(&fs::read_to_string(file)?)?;
        for f in doc["features"].as_array().ok_or_else(|| format!("{}: no features", file.display()))? {
            let g = &f["geometry"];
            match g["type"].as_str() {
                Some("Polygon") => polygons.push(polygon(&g["coordinates"])?),
                Some("MultiPolygon") => {
                    for p in g["coordinates"].as_array().ok_or("bad multipolygon")? {
                        polygons.push(polygon(p)?);
                    }
                }
                other => return Err(format!("{}: geometry {other:?} is not a polygon", file.display()).into()),
            }
        }
    }
    Ok(MultiPolygon(polygons))
}

/// Months as (year, month) → index from `from`.
fn month_index(month: &str, from: (i32, i32)) -> Option<i32> {
    let (y, m) = month.split_once('-')?;
    let (y, m): (i32, i32) = (y.parse().ok()?, m.parse().ok()?);
    Some((y - from.0) * 12 + (m - from.1))
}

fn main() -> Result<(), Box<dyn Error>> {
    let args = parse_args()?;
    fs::create_dir_all(&args.out)?;
    let bng = BngProjector::new()?;
    let mut timings = String::new();

    let t = Instant::now();
    let area = StudyArea::new(study_area(&args.boundaries, &bng)?)?;
    writeln!(timings, "study area read and indexed: {:.3} s", t.elapsed().as_secs_f64())?;

    // incidents: (x, y, month)
    let t = Instant::now();
    let mut points = Vec::new();
    let mut months = Vec::new();
    let mut no_location = 0;
    for file in &args.police {
        let mut reader = csv::Reader::from_path(file)?;
        let headers = reader.headers()?.clone();
        let col =
            |name: &str| headers.iter().position(|h| h == name).ok_or_else(|| format!("{}: no {name}", file.display()));
        let (c_month, c_lon, c_lat, c_type) = (col("Month")?, col("Longitude")?, col("Latitude")?, col("Crime type")?);
        for record in reader.records() {
            let r = record?;
            if args.crime_type.as_deref().is_some_and(|ct| &r[c_type] != ct) {
                continue;
            }
            let month = r[c_month].to_string();
            if args.from.as_deref().is_some_and(|f| month.as_str() < f)
                || args.to.as_deref().is_some_and(|to| month.as_str() > to)
            {
                continue;
            }
            match (r[c_lon].parse::<f64>(), r[c_lat].parse::<f64>()) {
                (Ok(lon), Ok(lat)) => {
                    points.push(bng.to_bng(lon, lat)?);
                    months.push(month);
                }
                _ => no_location += 1,
            }
        }
    }
    writeln!(timings, "police files read and projected: {:.3} s", t.elapsed().as_secs_f64())?;

    // optimized hot spot analysis (or the given cell size and band)
    let t = Instant::now();
    let opts = OptimizedOptions { cell_size: args.cell, band: args.band, ..Default::default() };
    let hs = optimized_hot_spots(&points, &area, &opts)?;
    writeln!(timings, "optimized hot spot analysis: {:.3} s", t.elapsed().as_secs_f64())?;
    let mut text = String::new();
    for line in &hs.explanation {
        writeln!(text, "- {line}")?;
    }
    writeln!(text, "\ndistance,moran_i,z,p,mean_neighbours")?;
    let mut profile = String::from("distance,moran_i,z,mean_neighbours\n");
    for b in &hs.autocorrelation {
        writeln!(text, "{:.3},{:.6},{:.4},{:.3e},{:.2}", b.distance, b.moran_i, b.z, b.p, b.mean_neighbours)?;
        writeln!(profile, "{:.17e},{:.17e},{:.17e},{:.17e}", b.distance, b.moran_i, b.z, b.mean_neighbours)?;
    }
    fs::write(args.out.join("optimized.txt"), &text)?;
    fs::write(args.out.join("autocorrelation.csv"), profile)?;
    print!("{text}");

    let (size, band) = (hs.cell_size.value, hs.band.value);
    let units = &hs.units;
    let mut cells_csv = String::from("location,ix,iy,cx,cy,count,z,p,bin\n");
    for (k, c) in units.cells.iter().enumerate() {
        let (cx, cy) = units.grid.centre(*c);
        let r = &hs.table.rows[k];
        writeln!(
            cells_csv,
            "{k},{},{},{cx},{cy},{},{:.17e},{:.17e},{}",
            c.ix, c.iy, units.counts[k], r.z, r.p_norm, r.bin
        )?;
    }
    fs::write(args.out.join("cells.csv"), cells_csv)?;

    // space-time cube: months (or quarters) from --from to --to
    let first = months.iter().min().cloned().unwrap_or_default();
    let last = months.iter().max().cloned().unwrap_or_default();
    let from = args.from.clone().unwrap_or(first);
    let to = args.to.clone().unwrap_or(last);
    let origin = {
        let (y, m) = from.split_once('-').ok_or("bad --from")?;
        (y.parse::<i32>()?, m.parse::<i32>()?)
    };
    let per = if args.quarters { 3 } else { 1 };
    let span = month_index(&to, origin).ok_or("bad --to")? + 1;
    let slices = ((span + per - 1) / per) as usize;
    let slice_of: Vec<Option<usize>> = months
        .iter()
        .map(|m| month_index(m, origin).filter(|&i| i >= 0 && i < span).map(|i| (i / per) as usize))
        .collect();
    let inside: Vec<bool> = points.iter().map(|&(x, y)| area.contains(x, y)).collect();
    let kept_slices: Vec<Option<usize>> =
        slice_of.iter().zip(&inside).map(|(&s, &i)| if i { s } else { None }).collect();
    let t = Instant::now();
    let (cube, not_counted) = SpaceTimeCube::count(&units.grid, &units.cells, &points, &kept_slices, slices)?;
    let weights = Weights::grid_distance_band(&units.cells, size, band)?;
    let eopts = EmergingOptions { time_steps: args.time_steps, ..Default::default() };
    let eh = emerging_hot_spots(&cube, &weights, &eopts)?;
    writeln!(
        timings,
        "emerging hot spot analysis ({} cells × {slices} slices, cube and weights included): {:.3} s",
        cube.locations(),
        t.elapsed().as_secs_f64()
    )?;

    let mut points_csv = String::from("x,y,slice\n");
    for ((p, s), &i) in points.iter().zip(&slice_of).zip(&inside) {
        if i {
            writeln!(points_csv, "{},{},{}", p.0, p.1, s.map_or(-1, |s| s as i64))?;
        }
    }
    fs::write(args.out.join("points.csv"), points_csv)?;
    let mut bins_csv = String::from("location,slice,count,z,p,bin\n");
    for i in 0..cube.locations() {
        for t in 0..slices {
            let k = i * slices + t;
            writeln!(
                bins_csv,
                "{i},{t},{},{:.17e},{:.17e},{}",
                cube.series(i)[t],
                eh.gi.z[k],
                eh.gi.p[k],
                eh.gi.bins.bins[k]
            )?;
        }
    }
    fs::write(args.out.join("emerging_bins.csv"), bins_csv)?;
    let mut em_csv = String::from(
        "location,category,hot_slices,cold_slices,trend_s,trend_z,trend_p,trend_tau,count_s,count_z,count_p\n",
    );
    for (i, r) in eh.results.iter().enumerate() {
        writeln!(
            em_csv,
            "{i},{},{},{},{},{:.17e},{:.17e},{:.17e},{},{:.17e},{:.17e}",
            r.category.name(),
            r.hot_slices,
            r.cold_slices,
            r.trend.s,
            r.trend.z,
            r.trend.p,
            r.trend.tau,
            r.count_trend.s,
            r.count_trend.z,
            r.count_trend.p
        )?;
    }
    fs::write(args.out.join("emerging.csv"), em_csv)?;

    let mut meta = String::new();
    writeln!(
        meta,
        "cell_size={size}\nband={band}\nx0={}\ny0={}\nslices={slices}\nquarters={}\ntime_steps={}",
        units.grid.x0, units.grid.y0, args.quarters, args.time_steps
    )?;
    writeln!(
        meta,
        "incidents_read={}\nno_location={no_location}\nincidents_in_area={}\ndropped_outside_area={}",
        points.len(),
        hs.incidents,
        hs.dropped_outside_area
    )?;
    writeln!(
        meta,
        "cells={}\nsignificant_fdr_0.05={}\nbins_nonzero={}",
        units.cells.len(),
        hs.table.significant,
        hs.table.rows.iter().filter(|r| r.bin != 0).count()
    )?;
    writeln!(meta, "cube_not_counted={not_counted}")?;
    writeln!(meta, "cell_size_chosen_by={:?}\nband_chosen_by={:?}", hs.cell_size.chosen_by, hs.band.chosen_by)?;
    let s = &hs.spacing;
    writeln!(meta, "spacing.distinct_locations={}\nspacing.outlier_locations={}\nspacing.mean_kept={:.17e}\nspacing.median_kept={:.17e}", s.distinct_locations, s.outlier_locations, s.mean_kept, s.median_kept)?;
    for (c, n) in eh.tally() {
        writeln!(meta, "category.{}={n}", c.name())?;
    }
    meta.push_str(&timings);
    fs::write(args.out.join("meta.txt"), &meta)?;
    print!("\n{meta}");
    Ok(())
}
