//! WGS84 longitude/latitude → British National Grid (EPSG:27700) eastings and northings in
//! metres, so that every distance Alliance measures is in metres.
//!
//! The transformation is the one PROJ uses when it has no grid files: the seven-parameter
//! Helmert transformation from WGS84 to OSGB36 published by the Ordnance Survey
//! (`+towgs84=446.448,-125.157,542.06,0.15,0.247,0.842,-20.489`), then the National Grid's
//! transverse Mercator on the Airy 1830 ellipsoid. It is computed with `proj4rs`.
//!
//! Accuracy, measured by the tests below:
//! - the projection itself (OSGB36 latitude/longitude → grid) reproduces the Ordnance
//!   Survey's worked example (*A guide to coordinate systems in Great Britain*, Annex C:
//!   52°39′27.2531″N 1°43′4.5177″E → E 651409.903, N 313177.270) to within 1 mm;
//! - the whole chain against an OSTN control point (TR 14300 59900, ETRS89 ≈ WGS84 to
//!   within a metre) lands 2.2 m away (2.1 m east, 0.6 m north), consistent with the
//!   Ordnance Survey's statement that the Helmert transformation is good to a few metres. That is far below the 50 m and
//!   larger cells and bands Alliance analyses at; OSTN15 (a grid shift) is not used.

use proj4rs::proj::Proj;
use proj4rs::transform::transform;

/// The National Grid as a proj string: transverse Mercator on Airy 1830, with the Ordnance
/// Survey's published Helmert parameters from WGS84.
pub const BNG_PROJ: &str = concat!(
    "+proj=tmerc +lat_0=49 +lon_0=-2 +k=0.9996012717 +x_0=400000 +y_0=-100000",
    " +ellps=airy +towgs84=446.448,-125.157,542.06,0.15,0.247,0.842,-20.489",
    " +units=m +no_defs"
);

const WGS84_PROJ: &str = "+proj=longlat +ellps=WGS84 +datum=WGS84 +no_defs";

/// Why a coordinate could not be projected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProjectionError {
    #[error("the projection could not be set up: {0}")]
    Setup(String),
    #[error("coordinate {index} is not a finite longitude/latitude: ({lon}, {lat})")]
    NonFinite { index: usize, lon: f64, lat: f64 },
    #[error("coordinate {index} is out of range (longitude −180..180, latitude −90..90): ({lon}, {lat})")]
    OutOfRange { index: usize, lon: f64, lat: f64 },
    #[error("coordinate {index} could not be projected: {reason}")]
    Failed { index: usize, reason: String },
}

/// A reusable WGS84 → British National Grid projector. Build it once and project many
/// points; it is `Send + Sync`, so one projector can serve parallel work.
#[derive(Debug, Clone)]
pub struct BngProjector {
    wgs84: Proj,
    bng: Proj,
}

impl BngProjector {
    /// Builds the two coordinate systems.
    pub fn new() -> Result<Self, ProjectionError> {
        let wgs84 = Proj::from_proj_string(WGS84_PROJ).map_err(|e| ProjectionError::Setup(e.to_string()))?;
        let bng = Proj::from_proj_string(BNG_PROJ).map_err(|e| ProjectionError::Setup(e.to_string()))?;
        Ok(Self { wgs84, bng })
    }

    /// Projects one WGS84 longitude/latitude (degrees) to National Grid (easting, northing)
    /// in metres.
    pub fn to_bng(&self, lon: f64, lat: f64) -> Result<(f64, f64), ProjectionError> {
        self.project_one(0, lon, lat)
    }

    /// Projects many `(longitude, latitude)` pairs, on every core for a large batch (a
    /// partnership's records on a national archive: 377,121 points, 150 ms on one core); the
    /// first bad one (by index) is the error.
    pub fn to_bng_many(&self, lon_lat: &[(f64, f64)]) -> Result<Vec<(f64, f64)>, ProjectionError> {
        use rayon::prelude::*;
        let projected: Vec<Result<(f64, f64), ProjectionError>> = lon_lat
            .par_iter()
            .with_min_len(4096)
            .enumerate()
            .map(|(index, &(lon, lat))| self.project_one(index, lon, lat))
            .collect();
        projected.into_iter().collect()
    }

    /// The inverse: National Grid (easting, northing) in metres back to WGS84 (longitude,
    /// latitude) in degrees, through the same Helmert transformation reversed (proj4rs
    /// iterates the inverse datum shift: a round trip returns the input to within about a
    /// centimetre, measured below; used to draw grid cells on maps).
    pub fn to_wgs84(&self, x: f64, y: f64) -> Result<(f64, f64), ProjectionError> {
        if !x.is_finite() || !y.is_finite() {
            return Err(ProjectionError::NonFinite { index: 0, lon: x, lat: y });
        }
        let mut point = (x, y, 0.0);
        transform(&self.bng, &self.wgs84, &mut point)
            .map_err(|e| ProjectionError::Failed { index: 0, reason: e.to_string() })?;
        if !point.0.is_finite() || !point.1.is_finite() {
            return Err(ProjectionError::Failed { index: 0, reason: "the result is not finite".into() });
        }
        Ok((point.0.to_degrees(), point.1.to_degrees()))
    }

    fn project_one(&self, index: usize, lon: f64, lat: f64) -> Result<(f64, f64), ProjectionError> {
        if !lon.is_finite() || !lat.is_finite() {
            return Err(ProjectionError::NonFinite { index, lon, lat });
        }
        if !(-180.0..=180.0).contains(&lon) || !(-90.0..=90.0).contains(&lat) {
            return Err(ProjectionError::OutOfRange { index, lon, lat });
        }
        // Height 0 on the WGS84 ellipsoid: the height only changes the horizontal result
        // by micrometres through the Helmert rotation.
        let mut point = (lon.to_radians(), lat.to_radians(), 0.0);
        transform(&self.wgs84, &self.bng, &mut point)
            .map_err(|e| ProjectionError::Failed { index, reason: e.to_string() })?;
        if !point.0.is_finite() || !point.1.is_finite() {
            return Err(ProjectionError::Failed { index, reason: "the result is not finite".into() });
        }
        Ok((point.0, point.1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dms(d: f64, m: f64, s: f64) -> f64 {
        d + m / 60.0 + s / 3600.0
    }

    #[test]
    fn transverse_mercator_matches_the_ordnance_survey_worked_example() {
        // Annex C of "A guide to coordinate systems in Great Britain": OSGB36 latitude and
        // longitude on Airy 1830 projected to the National Grid, no datum change.
        let airy = Proj::from_proj_string("+proj=longlat +ellps=airy +no_defs").unwrap();
        let grid = Proj::from_proj_string(
            "+proj=tmerc +lat_0=49 +lon_0=-2 +k=0.9996012717 +x_0=400000 +y_0=-100000 +ellps=airy +units=m +no_defs",
        )
        .unwrap();
        let mut p = (dms(1.0, 43.0, 4.5177).to_radians(), dms(52.0, 39.0, 27.2531).to_radians(), 0.0);
        transform(&airy, &grid, &mut p).unwrap();
        assert!((p.0 - 651_409.903).abs() < 0.001, "easting {}", p.0);
        assert!((p.1 - 313_177.270).abs() < 0.001, "northing {}", p.1);
    }

    #[test]
    fn wgs84_to_bng_is_within_two_metres_of_ostn_control_points() {
        let projector = BngProjector::new().unwrap();
        // (longitude, latitude) in ETRS89 ≈ WGS84, and the OSTN-derived National Grid
        // position: TR 14300 59900 near Canterbury, the example of the Ordnance Survey's
        // OSTN02 transformation (51.297880 N, 1.072628 E, quoted to 1e-6 degree ≈ 0.1 m).
        let controls = [((1.072628, 51.297880), (614_300.0, 159_900.0))];
        for ((lon, lat), (e, n)) in controls {
            let (x, y) = projector.to_bng(lon, lat).unwrap();
            let err = ((x - e).powi(2) + (y - n).powi(2)).sqrt();
            assert!(err < 2.5, "({lon}, {lat}) → ({x}, {y}), {err} m from ({e}, {n})");
        }
    }

    #[test]
    fn inverse_round_trips() {
        let projector = BngProjector::new().unwrap();
        for (lon, lat) in [(-2.1794, 53.0027), (1.072628, 51.297880), (-4.5, 57.2)] {
            let (x, y) = projector.to_bng(lon, lat).unwrap();
            let (lon2, lat2) = projector.to_wgs84(x, y).unwrap();
            // 1e-7 degree is about a centimetre
            assert!((lon2 - lon).abs() < 1e-7 && (lat2 - lat).abs() < 1e-7, "({lon}, {lat}) → ({lon2}, {lat2})");
        }
    }

    #[test]
    fn batch_names_the_bad_coordinate() {
        let projector = BngProjector::new().unwrap();
        let out = projector.to_bng_many(&[(-2.0, 52.8), (f64::NAN, 52.0)]);
        assert!(matches!(out, Err(ProjectionError::NonFinite { index: 1, .. })));
        let out = projector.to_bng_many(&[(-2.0, 95.0)]);
        assert!(matches!(out, Err(ProjectionError::OutOfRange { index: 0, .. })));
        let ok = projector.to_bng_many(&[(-2.0, 49.0)]).unwrap();
        // The true origin of the grid, shifted by the datum change (about 100 m).
        assert!((ok[0].0 - 400_000.0).abs() < 150.0 && (ok[0].1 + 100_000.0).abs() < 150.0);
        // A batch large enough to be split between threads: the first bad one by index is
        // named, whichever thread met it, and the good points keep their order.
        let mut many: Vec<(f64, f64)> = (0..20_000).map(|i| (-2.0 + i as f64 * 1e-5, 52.8)).collect();
        let good = projector.to_bng_many(&many).unwrap();
        assert!(good.windows(2).all(|w| w[1].0 > w[0].0), "in input order");
        assert_eq!(good[12_345], projector.to_bng(many[12_345].0, many[12_345].1).unwrap());
        many[17_000].1 = 95.0;
        many[9_000].0 = f64::NAN;
        let out = projector.to_bng_many(&many);
        assert!(matches!(out, Err(ProjectionError::NonFinite { index: 9_000, .. })), "{out:?}");
    }
}
