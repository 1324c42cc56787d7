//! Points files for spatial analysis: a CSV with the header `id,x,y,t` (any column order;
//! other columns are ignored), where `x` and `y` are British National Grid eastings and
//! northings in metres and `t` is a time in days (any origin, fractions allowed). `t` may be
//! absent from the header or empty on a row: hotspots and density need no time, near-repeat
//! analysis refuses points without one.
//!
//! Every bad value stops the read with `file:line: column "x": reason`.

use std::collections::HashSet;

use crate::bounded::open_csv;
use crate::error::{excerpt, quoted};
use crate::{IngestError, SourceFile};

/// One point of a points file.
#[derive(Debug, Clone, PartialEq)]
pub struct PointRecord {
    pub id: String,
    /// Easting, metres (EPSG:27700).
    pub x: f64,
    /// Northing, metres (EPSG:27700).
    pub y: f64,
    /// Time in days, when given.
    pub t: Option<f64>,
    /// Line of the file the point came from (the header is line 1).
    pub line: u64,
}

/// The points of a file, in file order.
#[derive(Debug, Clone, PartialEq)]
pub struct PointsFile {
    pub name: String,
    pub points: Vec<PointRecord>,
}

impl PointsFile {
    /// `(x, y)` of every point.
    pub fn coordinates(&self) -> Vec<(f64, f64)> {
        self.points.iter().map(|p| (p.x, p.y)).collect()
    }

    /// The first point without a time, if any (near-repeat analysis needs every time).
    pub fn first_without_time(&self) -> Option<&PointRecord> {
        self.points.iter().find(|p| p.t.is_none())
    }
}

/// National Grid coordinates are within roughly −100 km..800 km east and −100 km..1 300 km
/// north; a generous box catches longitude/latitude given by mistake and typing errors.
const X_RANGE: (f64, f64) = (-1_000_000.0, 2_000_000.0);
const Y_RANGE: (f64, f64) = (-1_000_000.0, 2_000_000.0);

/// Reads and validates a points file.
pub fn read_points(file: &SourceFile) -> Result<PointsFile, IngestError> {
    let name = file.name.as_str();
    let mut builder = csv::ReaderBuilder::new();
    builder.has_headers(true).flexible(false);
    let mut reader = open_csv(file.reader()?, file.limits(), builder, None, file.limits().max_held_rows);
    let header = reader.headers().map_err(|e| IngestError::from_csv(name, e))?.clone();
    let find =
        |wanted: &str| header.iter().position(|h| h.trim().trim_start_matches('\u{feff}').eq_ignore_ascii_case(wanted));
    let missing: Vec<&str> = ["id", "x", "y"].into_iter().filter(|c| find(c).is_none()).collect();
    if !missing.is_empty() {
        return Err(IngestError::line(
            name,
            1,
            format!(
                "the header needs the columns id,x,y (and t for near-repeat); missing: {}; found: {}",
                missing.join(", "),
                excerpt(&header.iter().collect::<Vec<_>>().join(","))
            ),
        ));
    }
    let (id_col, x_col, y_col, t_col) =
        (find("id").unwrap_or(0), find("x").unwrap_or(0), find("y").unwrap_or(0), find("t"));
    let mut points = Vec::new();
    let mut seen = HashSet::new();
    let mut record = csv::StringRecord::new();
    while reader.read_record(&mut record).map_err(|e| IngestError::from_csv(name, e))? {
        let line = record.position().map_or(0, |p| p.line());
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let id = record.get(id_col).unwrap_or("").trim();
        if id.is_empty() {
            return Err(IngestError::cell(name, line, "id", "the id is empty"));
        }
        if !seen.insert(id.to_string()) {
            return Err(IngestError::cell(name, line, "id", format!("the id {} is given twice", quoted(id))));
        }
        let number = |col: usize, column: &str| -> Result<Option<f64>, IngestError> {
            let text = record.get(col).unwrap_or("").trim();
            if text.is_empty() {
                return Ok(None);
            }
            match text.parse::<f64>() {
                Ok(v) if v.is_finite() => Ok(Some(v)),
                _ => Err(IngestError::cell(name, line, column, format!("expected a number, found {}", quoted(text)))),
            }
        };
        let coordinate = |col: usize, column: &str, range: (f64, f64)| -> Result<f64, IngestError> {
            let v =
                number(col, column)?.ok_or_else(|| IngestError::cell(name, line, column, "the coordinate is empty"))?;
            if v < range.0 || v > range.1 {
                return Err(IngestError::cell(
                    name,
                    line,
                    column,
                    format!("{v} is not a British National Grid coordinate in metres ({} to {})", range.0, range.1),
                ));
            }
            Ok(v)
        };
        let x = coordinate(x_col, "x", X_RANGE)?;
        let y = coordinate(y_col, "y", Y_RANGE)?;
        let t = match t_col {
            Some(col) => number(col, "t")?,
            None => None,
        };
        points.push(PointRecord { id: id.to_string(), x, y, t, line });
    }
    if points.is_empty() {
        return Err(IngestError::file(name, "the file has no points"));
    }
    if points.iter().all(|p| p.x.abs() <= 180.0 && p.y.abs() <= 90.0) {
        return Err(IngestError::file(
            name,
            "every x and y looks like a longitude and latitude; points files need National Grid metres",
        ));
    }
    Ok(PointsFile { name: name.to_string(), points })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<PointsFile, IngestError> {
        read_points(&SourceFile::from_bytes("p.csv", text.as_bytes().to_vec()))
    }

    #[test]
    fn reads_points_in_any_column_order_with_optional_times() {
        let f = read("y,x,id,t\n300100,400050.5,a,3\n300200,400060,b,\n").unwrap();
        assert_eq!(f.points.len(), 2);
        assert_eq!((f.points[0].x, f.points[0].y, f.points[0].t), (400050.5, 300100.0, Some(3.0)));
        assert_eq!(f.points[1].t, None);
        assert_eq!(f.first_without_time().map(|p| p.line), Some(3));
        let f = read("id,x,y\n1,400000,300000\n").unwrap();
        assert_eq!(f.points[0].t, None);
    }

    #[test]
    fn bad_values_name_the_file_line_and_column() {
        let e = read("id,x,y,t\n1,400000,300000,0\n2,4e5x,300000,1\n").unwrap_err();
        assert_eq!(e.to_string(), "p.csv:3: column \"x\": expected a number, found \"4e5x\"");
        let e = read("id,x,y,t\n1,400000,300000,0\n1,400001,300000,1\n").unwrap_err();
        assert_eq!(e.to_string(), "p.csv:3: column \"id\": the id \"1\" is given twice");
        let e = read("id,x,t\n1,400000,0\n").unwrap_err();
        assert!(e.to_string().starts_with("p.csv:1: the header needs the columns id,x,y"), "{e}");
        let e = read("id,x,y,t\n1,400000,,0\n").unwrap_err();
        assert_eq!(e.to_string(), "p.csv:2: column \"y\": the coordinate is empty");
        let e = read("id,x,y,t\n1,400000,300000,inf\n").unwrap_err();
        assert_eq!(e.to_string(), "p.csv:2: column \"t\": expected a number, found \"inf\"");
        let e = read("id,x,y\n1,-2.1,52.8\n").unwrap_err();
        assert!(e.to_string().contains("longitude and latitude"), "{e}");
        let e = read("id,x,y\n1,400000,300000,9\n").unwrap_err();
        assert_eq!(e.to_string(), "p.csv:2: expected 3 fields, found 4");
    }
}
