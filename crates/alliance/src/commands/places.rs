//! `alliance places add|list|export|remove`: the place register (parks, town centres,
//! streets, zones) from the command line, through the same use case as the web form.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use alliance_app::places::{self, PlaceInput};
use alliance_core::domain::place::{PlaceKind, MAX_GEOJSON_BYTES};
use alliance_db::Db;
use anyhow::{bail, Context};
use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum PlacesCommand {
    /// Register a place from a GeoJSON file (WGS84: Polygons, MultiPolygons, Points with
    /// "radius_metres"). With --each-feature, every feature of a FeatureCollection becomes a
    /// place named by its "name" property (all of them or none).
    Add {
        /// The place's name (not with --each-feature).
        #[arg(long, required_unless_present = "each_feature")]
        name: Option<String>,
        /// park, town_centre, night_time_economy, street, estate, transport or zone.
        #[arg(long)]
        kind: String,
        #[arg(long, default_value = "")]
        description: String,
        /// The GeoJSON file.
        file: PathBuf,
        /// Register each feature as its own place, named by its "name" property.
        #[arg(long, conflicts_with = "name")]
        each_feature: bool,
    },
    /// List the register.
    List,
    /// Print the register as one GeoJSON FeatureCollection.
    Export,
    /// Remove a place by name (refused while an intervention names it).
    Remove { name: String },
}

pub async fn run(db: &Db, command: PlacesCommand) -> anyhow::Result<ExitCode> {
    match command {
        PlacesCommand::Add { name, kind, description, file, each_feature } => {
            let size = std::fs::metadata(&file).with_context(|| format!("cannot read {}", file.display()))?.len();
            if size > MAX_GEOJSON_BYTES as u64 * 64 {
                bail!("{}: {size} bytes is too large for a place file", file.display());
            }
            let text = std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let inputs = if each_feature {
                features(&file, &text, &kind, &description)?
            } else {
                vec![PlaceInput { name: name.unwrap_or_default(), kind, description, geojson: text }]
            };
            add_all(db, &file, &inputs).await?;
        }
        PlacesCommand::List => {
            for p in db.places().await? {
                let kind = p.kind.parse::<PlaceKind>().map(PlaceKind::label).unwrap_or("Place");
                println!("{}\t{}\t{:.1} ha\t{} shapes", p.name, kind, p.square_metres / 10_000.0, p.shapes);
            }
        }
        PlacesCommand::Export => println!("{}", serde_json::to_string_pretty(&places::collection(db).await?)?),
        PlacesCommand::Remove { name } => {
            let place = db.places_named("name", &[name]).await?.remove(0);
            db.remove_place(place.id, &super::cli_actor()).await?;
            println!("removed {}", place.name);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Every feature of a collection as a place input, named by its `name` property.
fn features(file: &Path, text: &str, kind: &str, description: &str) -> anyhow::Result<Vec<PlaceInput>> {
    let value: serde_json::Value =
        serde_json::from_str(text).with_context(|| format!("{}: not JSON", file.display()))?;
    let Some(features) = value.get("features").and_then(|f| f.as_array()) else {
        bail!("{}: --each-feature needs a FeatureCollection", file.display());
    };
    features
        .iter()
        .enumerate()
        .map(|(n, f)| {
            let name = f
                .pointer("/properties/name")
                .and_then(|v| v.as_str())
                .with_context(|| format!("{}: feature {}: no \"name\" property", file.display(), n + 1))?;
            let kind = f.pointer("/properties/kind").and_then(|v| v.as_str()).unwrap_or(kind);
            Ok(PlaceInput {
                name: name.to_string(),
                kind: kind.to_string(),
                description: description.to_string(),
                geojson: f.to_string(),
            })
        })
        .collect()
}

/// Registers the places all together or not at all; an error names the place.
async fn add_all(db: &Db, file: &Path, inputs: &[PlaceInput]) -> anyhow::Result<()> {
    for input in inputs {
        places::check_only(input).map_err(|e| anyhow::anyhow!("{}: place \"{}\": {e}", file.display(), input.name))?;
    }
    let ids = places::add_all(db, inputs, &super::cli_actor())
        .await
        .map_err(|e| anyhow::anyhow!("{}: {e} (nothing was added)", file.display()))?;
    for (input, id) in inputs.iter().zip(ids) {
        println!("added {} (place {id})", input.name.trim());
    }
    Ok(())
}
