//! Postcode files a deployment downloads under the Open Government Licence: the ONS Postcode
//! Directory (ONSPD, one CSV of every UK postcode with its latitude, longitude, local
//! authority district and LSOA) or Ordnance Survey's Code-Point Open (one CSV per postcode
//! area with British National Grid eastings and northings and the district; its files have no
//! header, or the header of its column list).
//!
//! The format is told by the header: ONSPD's names `pcds` (or `pcd`), `lat`, `long`,
//! `oslaua` (or `lad…`), `lsoa21`/`lsoa11`; Code-Point Open's `Postcode`, `Eastings`,
//! `Northings`, `Admin_district_code` (or its short codes `PC`, `EA`, `NO`, `DC`); a first row
//! that is already a postcode with two whole numbers is a Code-Point Open file without a
//! header, read in the published column order. Matching is case-insensitive.
//!
//! Postcodes without a grid reference (ONSPD latitude 99.999999; Code-Point Open quality
//! 90 or eastings and northings of 0) are passed over and counted, as are postcodes outside
//! the districts asked for. Terminated postcodes (ONSPD `doterm` filled) are kept: reports and
//! addresses still use them. Every other bad value stops the read naming the file, line,
//! column and reason, and nothing is stored.
//!
//! Bounds: at most [`MAX_POSTCODE_ROWS`] rows are read (the whole ONSPD is about 2.7 million)
//! and at most the file's [`Limits::max_held_rows`](crate::Limits) are kept, so a national
//! file is imported for the partnership's districts.

use std::collections::HashSet;

use alliance_core::geo::projection::BngProjector;

use crate::bounded::open_csv;
use crate::error::{excerpt, quoted};
use crate::{IngestError, SourceFile};

/// Rows read from one file (ONSPD holds about 2.7 million).
pub const MAX_POSTCODE_ROWS: u64 = 3_000_000;

/// The bounds for a postcode file read from disk by the command line: the whole ONSPD is
/// about 1.3 GB of CSV, streamed (never held), so the bytes read may be up to 2 GiB; the
/// postcodes kept stay bounded by `max_held_rows` (250,000 by default).
pub fn limits() -> crate::Limits {
    crate::Limits { max_decompressed_bytes: 2 << 30, ..crate::Limits::default() }
}

/// One postcode, located.
#[derive(Debug, Clone, PartialEq)]
pub struct PostcodeRecord {
    /// Normalised: upper case, one space before the inward code (`ST1 1AA`).
    pub postcode: String,
    pub latitude: f64,
    pub longitude: f64,
    /// The LSOA the file gives (2021 when it has both), if any.
    pub lsoa: Option<String>,
    /// The local authority district's GSS code, if any.
    pub district: Option<String>,
}

/// Which kind of file it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostcodeFormat {
    OnsPostcodeDirectory,
    CodePointOpen,
}

impl PostcodeFormat {
    pub fn label(self) -> &'static str {
        match self {
            PostcodeFormat::OnsPostcodeDirectory => "ONS Postcode Directory",
            PostcodeFormat::CodePointOpen => "Code-Point Open",
        }
    }
}

/// What a file held.
#[derive(Debug, Clone, PartialEq)]
pub struct PostcodeFile {
    pub format: PostcodeFormat,
    pub postcodes: Vec<PostcodeRecord>,
    /// Rows without a grid reference, passed over.
    pub unlocated: u64,
    /// Rows outside the districts asked for, passed over.
    pub outside: u64,
}

/// A postcode in its normal form (`ST1 1AA`), from any spacing or case; `None` when it is
/// not shaped like a UK postcode (outward code of two to four characters beginning with a
/// letter, inward code of a digit and two letters).
pub fn normalise_postcode(text: &str) -> Option<String> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_uppercase();
    if !(5..=7).contains(&compact.len()) || !compact.is_ascii() {
        return None;
    }
    let (outward, inward) = compact.split_at(compact.len() - 3);
    let i = inward.as_bytes();
    let o = outward.as_bytes();
    let inward_ok = i[0].is_ascii_digit() && i[1].is_ascii_alphabetic() && i[2].is_ascii_alphabetic();
    let outward_ok = o[0].is_ascii_alphabetic()
        && o.iter().all(u8::is_ascii_alphanumeric)
        && o.iter().any(u8::is_ascii_digit)
        && (2..=4).contains(&o.len());
    (inward_ok && outward_ok).then(|| format!("{outward} {inward}"))
}

/// The columns of the file.
struct Columns {
    format: PostcodeFormat,
    postcode: usize,
    /// ONSPD: latitude and longitude; Code-Point Open: eastings and northings.
    a: usize,
    b: usize,
    district: Option<usize>,
    lsoa: Option<usize>,
    /// Code-Point Open positional quality (90: no coordinates).
    quality: Option<usize>,
    /// Whether the first record is data (a Code-Point Open file without a header).
    headerless: bool,
}

/// Code-Point Open's published column order (its `Code-Point_Open_Column_Headers.csv`).
const CPO_ORDER: [&str; 10] = ["PC", "PQ", "EA", "NO", "CY", "RH", "LH", "CC", "DC", "WC"];

fn detect(name: &str, header: &csv::StringRecord) -> Result<Columns, IngestError> {
    let names: Vec<String> =
        header.iter().map(|h| h.trim().trim_start_matches('\u{feff}').to_ascii_lowercase()).collect();
    let find = |wanted: &[&str]| wanted.iter().find_map(|w| names.iter().position(|n| n == w));
    let find_prefix = |prefix: &str| names.iter().position(|n| n.starts_with(prefix));
    // ONSPD.
    if let (Some(postcode), Some(lat), Some(long)) =
        (find(&["pcds", "pcd", "pcd2", "pcd7", "pcd8"]), find(&["lat"]), find(&["long", "lon"]))
    {
        return Ok(Columns {
            format: PostcodeFormat::OnsPostcodeDirectory,
            postcode,
            a: lat,
            b: long,
            district: find(&["oslaua", "lad25cd", "lad24cd", "lad23cd", "lad22cd", "lad21cd", "ladcd"])
                .or_else(|| find_prefix("lad")),
            lsoa: find(&["lsoa21", "lsoa21cd", "lsoa11", "lsoa11cd"]),
            quality: None,
            headerless: false,
        });
    }
    // Code-Point Open with a header (long names or the short codes).
    if let (Some(postcode), Some(e), Some(n)) =
        (find(&["postcode", "pc"]), find(&["eastings", "easting", "ea"]), find(&["northings", "northing", "no"]))
    {
        return Ok(Columns {
            format: PostcodeFormat::CodePointOpen,
            postcode,
            a: e,
            b: n,
            district: find(&["admin_district_code", "dc"]),
            lsoa: None,
            quality: find(&["positional_quality_indicator", "pq"]),
            headerless: false,
        });
    }
    // Code-Point Open without a header: a postcode, a quality, two whole numbers.
    let field = |i: usize| header.get(i).unwrap_or("").trim();
    let whole = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
    if header.len() >= 4 && normalise_postcode(field(0)).is_some() && whole(field(2)) && whole(field(3)) {
        return Ok(Columns {
            format: PostcodeFormat::CodePointOpen,
            postcode: 0,
            a: 2,
            b: 3,
            district: (header.len() > 8).then_some(8),
            lsoa: None,
            quality: Some(1),
            headerless: true,
        });
    }
    Err(IngestError::line(
        name,
        1,
        format!(
            "not a postcode file: an ONS Postcode Directory has the columns pcds, lat, long (and oslaua, lsoa21); \
             a Code-Point Open file has Postcode, Eastings, Northings, Admin_district_code (or the codes {}), or no \
             header; found: {}",
            CPO_ORDER.join(","),
            excerpt(&header.iter().collect::<Vec<_>>().join(","))
        ),
    ))
}

/// Reads a postcode file, keeping only postcodes in `districts` (every postcode when empty).
pub fn read_postcodes(file: &SourceFile, districts: &HashSet<String>) -> Result<PostcodeFile, IngestError> {
    let name = file.name.as_str();
    let limits = file.limits();
    let mut builder = csv::ReaderBuilder::new();
    // The header is read as a record, so a headerless file's first row is data.
    builder.has_headers(false).flexible(true);
    let mut reader = open_csv(file.reader()?, limits, builder, None, MAX_POSTCODE_ROWS);
    let mut record = csv::StringRecord::new();
    let first = match reader.read_record(&mut record) {
        Ok(true) => record.clone(),
        Ok(false) => return Err(IngestError::file(name, "the file is empty")),
        Err(e) => return Err(IngestError::from_csv(name, e)),
    };
    let columns = detect(name, &first)?;
    let projector = match columns.format {
        PostcodeFormat::CodePointOpen => {
            Some(BngProjector::new().map_err(|e| IngestError::file(name, format!("the grid projection failed: {e}")))?)
        }
        PostcodeFormat::OnsPostcodeDirectory => None,
    };
    let mut out = PostcodeFile { format: columns.format, postcodes: Vec::new(), unlocated: 0, outside: 0 };
    let mut seen = HashSet::new();
    let mut pending = if columns.headerless { Some(first.clone()) } else { None };
    loop {
        let row = match pending.take() {
            Some(r) => r,
            None => match reader.read_record(&mut record) {
                Ok(false) => break,
                Ok(true) => record.clone(),
                Err(e) => return Err(IngestError::from_csv(name, e)),
            },
        };
        let line = row.position().map(|p| p.line()).unwrap_or(1);
        if row.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let get = |i: usize| row.get(i).unwrap_or("").trim();
        let column = |i: usize, fallback: &str| -> String {
            if columns.headerless {
                CPO_ORDER.get(i).map_or_else(|| fallback.to_string(), |c| c.to_string())
            } else {
                first.get(i).map_or_else(|| fallback.to_string(), |c| c.trim().to_string())
            }
        };
        let raw = get(columns.postcode);
        let postcode = normalise_postcode(raw).ok_or_else(|| {
            IngestError::cell(
                name,
                line,
                &column(columns.postcode, "postcode"),
                format!("{} is not a UK postcode", quoted(raw)),
            )
        })?;
        let district = columns.district.map(get).filter(|d| !d.is_empty()).map(str::to_string);
        if !districts.is_empty() && !district.as_ref().is_some_and(|d| districts.contains(d)) {
            out.outside += 1;
            continue;
        }
        let number = |i: usize| -> Result<f64, IngestError> {
            let text = get(i);
            match text.parse::<f64>() {
                Ok(v) if v.is_finite() => Ok(v),
                _ => Err(IngestError::cell(
                    name,
                    line,
                    &column(i, "coordinate"),
                    format!("expected a number, found {}", quoted(text)),
                )),
            }
        };
        let (latitude, longitude) = match columns.format {
            PostcodeFormat::OnsPostcodeDirectory => {
                let (lat, lon) = (number(columns.a)?, number(columns.b)?);
                // ONSPD gives 99.999999 / 0.000000 to postcodes without a grid reference.
                if lat > 90.0 {
                    out.unlocated += 1;
                    continue;
                }
                if !(49.0..=61.5).contains(&lat) || !(-9.0..=2.5).contains(&lon) {
                    return Err(IngestError::cell(
                        name,
                        line,
                        &column(columns.a, "lat"),
                        format!("{lat}, {lon} is not in the United Kingdom"),
                    ));
                }
                (lat, lon)
            }
            PostcodeFormat::CodePointOpen => {
                let quality = columns.quality.map(get).unwrap_or("");
                let (e, n) = (number(columns.a)?, number(columns.b)?);
                if quality == "90" || (e == 0.0 && n == 0.0) {
                    out.unlocated += 1;
                    continue;
                }
                if !(0.0..=700_000.0).contains(&e) || !(0.0..=1_300_000.0).contains(&n) {
                    return Err(IngestError::cell(
                        name,
                        line,
                        &column(columns.a, "Eastings"),
                        format!("{e}, {n} is not a British National Grid reference in metres"),
                    ));
                }
                let (lon, lat) = projector
                    .as_ref()
                    .map(|p| p.to_wgs84(e, n))
                    .transpose()
                    .map_err(|err| IngestError::cell(name, line, &column(columns.a, "Eastings"), err.to_string()))?
                    .unwrap_or_default();
                (lat, lon)
            }
        };
        if !seen.insert(postcode.clone()) {
            return Err(IngestError::cell(
                name,
                line,
                &column(columns.postcode, "postcode"),
                format!("the postcode {postcode} is given twice"),
            ));
        }
        if out.postcodes.len() as u64 >= limits.max_held_rows {
            return Err(IngestError::too_large(
                crate::Location::new(name, Some(line), None),
                format!(
                    "more than {} postcodes to keep (the most held at once): import the partnership's districts only",
                    limits.max_held_rows
                ),
            ));
        }
        let lsoa = columns.lsoa.map(get).filter(|l| !l.is_empty()).map(str::to_string);
        out.postcodes.push(PostcodeRecord { postcode, latitude, longitude, lsoa, district });
    }
    if out.postcodes.is_empty() {
        return Err(IngestError::file(
            name,
            format!(
                "no postcodes to import ({} without a grid reference, {} outside the districts asked for)",
                out.unlocated, out.outside
            ),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str, districts: &[&str]) -> Result<PostcodeFile, IngestError> {
        let set = districts.iter().map(|d| d.to_string()).collect();
        read_postcodes(&SourceFile::from_bytes("pc.csv", text.as_bytes().to_vec()), &set)
    }

    #[test]
    fn postcodes_are_normalised_or_refused() {
        assert_eq!(normalise_postcode("st11aa").as_deref(), Some("ST1 1AA"));
        assert_eq!(normalise_postcode(" SN1  2JH ").as_deref(), Some("SN1 2JH"));
        assert_eq!(normalise_postcode("EC1A1BB").as_deref(), Some("EC1A 1BB"));
        assert_eq!(normalise_postcode("ST1"), None);
        assert_eq!(normalise_postcode("12345"), None);
        assert_eq!(normalise_postcode("ST1 1A1"), None);
    }

    #[test]
    fn an_ons_postcode_directory_is_told_by_its_header() {
        let text = "pcd,pcds,doterm,oslaua,lsoa11,lsoa21,lat,long\n\
                    SN1 2JH,SN1 2JH,,E06000030,E01015500,E01015501,51.5600,-1.7800\n\
                    SN991ZZ,SN99 1ZZ,,E06000030,,,99.999999,0.000000\n\
                    ST1 1AA,ST1 1AA,,E06000021,E01014200,E01014201,53.0250,-2.1770\n";
        let f = read(text, &[]).unwrap();
        assert_eq!(f.format, PostcodeFormat::OnsPostcodeDirectory);
        assert_eq!(f.postcodes.len(), 2);
        assert_eq!(f.unlocated, 1);
        assert_eq!(f.postcodes[0].lsoa.as_deref(), Some("E01015501"), "2021 LSOA preferred");
        assert_eq!(f.postcodes[0].district.as_deref(), Some("E06000030"));
        let only = read(text, &["E06000021"]).unwrap();
        assert_eq!(only.postcodes.len(), 1);
        assert_eq!(only.outside, 2);
    }

    #[test]
    fn code_point_open_with_or_without_a_header_is_projected_to_wgs84() {
        // Stoke-on-Trent: about 388,000 E, 347,000 N is 53.02 N, 2.18 W.
        let rows =
            "\"ST1 1AA\",10,388000,347000,\"E92000001\",\"E19000001\",\"E18000005\",\"\",\"E06000021\",\"E05008000\"\n";
        let headerless = read(rows, &[]).unwrap();
        assert_eq!(headerless.format, PostcodeFormat::CodePointOpen);
        let p = &headerless.postcodes[0];
        assert!((p.latitude - 53.02).abs() < 0.02 && (p.longitude + 2.18).abs() < 0.02, "{p:?}");
        assert_eq!(p.district.as_deref(), Some("E06000021"));
        let with_header = format!("PC,PQ,EA,NO,CY,RH,LH,CC,DC,WC\n{rows}");
        assert_eq!(read(&with_header, &[]).unwrap().postcodes, headerless.postcodes);
    }

    #[test]
    fn bad_values_name_the_line_and_column() {
        let e = read("pcds,lat,long\nST1 1AA,53.0,-2.1\nNOT A CODE,53.0,-2.1\n", &[]).unwrap_err().to_string();
        assert!(
            e.contains("pc.csv") && e.contains('3') && e.contains("pcds") && e.contains("not a UK postcode"),
            "{e}"
        );
        let e = read("pcds,lat,long\nST1 1AA,53.0,west\n", &[]).unwrap_err().to_string();
        assert!(e.contains("long") && e.contains("expected a number"), "{e}");
        let e = read("pcds,lat,long\nST1 1AA,53.0,-2.1\nst11aa,53.0,-2.1\n", &[]).unwrap_err().to_string();
        assert!(e.contains("given twice"), "{e}");
        let e = read("name,x,y\na,1,2\n", &[]).unwrap_err().to_string();
        assert!(e.contains("not a postcode file"), "{e}");
    }

    #[test]
    fn the_rows_kept_are_bounded() {
        let mut text = String::from("pcds,lat,long\n");
        for i in 0..5 {
            text.push_str(&format!("ST{} 1AA,53.0,-2.1\n", i + 1));
        }
        let file = SourceFile::from_bytes("pc.csv", text.into_bytes())
            .with_limits(crate::Limits { max_held_rows: 3, ..crate::Limits::default() });
        let e = read_postcodes(&file, &HashSet::new()).unwrap_err().to_string();
        assert!(e.contains("more than 3 postcodes"), "{e}");
    }
}
