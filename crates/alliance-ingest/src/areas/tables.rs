//! CSV reference tables: deprivation (IMD 2019, WIMD 2019), population (IoD 2019
//! denominators, Census 2011) and local authority district names.

use std::collections::HashMap;

use alliance_core::domain::{DistrictCode, LsoaCode};

use crate::bounded::open_csv;
use crate::error::{quoted, requote};
use crate::{IngestError, SourceFile};

/// Deprivation of a 2011 LSOA. Decile 1 is the most deprived tenth (of England, or of Wales
/// for WIMD: the two indices are not comparable with each other).
#[derive(Debug, Clone, PartialEq)]
pub struct Deprivation {
    pub lsoa: LsoaCode,
    pub name: Option<String>,
    pub district: Option<DistrictCode>,
    pub rank: i64,
    pub decile: i64,
    /// "IMD 2019" or "WIMD 2019".
    pub index: &'static str,
}

/// Resident population of a 2011 LSOA.
#[derive(Debug, Clone, PartialEq)]
pub struct Population {
    pub lsoa: LsoaCode,
    pub name: Option<String>,
    pub district: Option<DistrictCode>,
    pub population: i64,
    /// Which estimate: "mid-2015 (IoD 2019 denominators)" or "Census 2011".
    pub source: &'static str,
}

#[derive(Debug, Clone, PartialEq)]
pub struct District {
    pub code: DistrictCode,
    pub name: String,
}

/// One recognised CSV reference table.
#[derive(Debug)]
pub enum AreaTable {
    Deprivation(Vec<Deprivation>, Vec<District>),
    Population(Vec<Population>, Vec<District>),
    Districts(Vec<District>),
}

impl AreaTable {
    pub fn kind_name(&self) -> &'static str {
        match self {
            AreaTable::Deprivation(rows, _) if rows.first().is_some_and(|d| d.index == "WIMD 2019") => "wimd-2019",
            AreaTable::Deprivation(..) => "imd-2019",
            AreaTable::Population(rows, _) if rows.first().is_some_and(|p| p.source == CENSUS_2011) => {
                "population-census-2011"
            }
            AreaTable::Population(..) => "population-mid-2015",
            AreaTable::Districts(_) => "districts",
        }
    }

    pub fn len(&self) -> usize {
        match self {
            AreaTable::Deprivation(r, _) => r.len(),
            AreaTable::Population(r, _) => r.len(),
            AreaTable::Districts(r) => r.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

const MID_2015: &str = "mid-2015 (IoD 2019 denominators)";
const CENSUS_2011: &str = "Census 2011";

/// Which known table a header is, and the positions of the columns Alliance reads.
enum Layout {
    /// MHCLG IoD 2019 File 1 or File 2.
    EnglishImd { code: usize, name: usize, lad: usize, lad_name: usize, rank: usize, decile: usize },
    /// MHCLG IoD 2019 File 6.
    Denominators { code: usize, name: usize, lad: usize, lad_name: usize, total: usize },
    /// Census 2011 usual residents (England and Wales); the first `Persons` column.
    Census2011 { code: usize, name: usize, lad: usize, lad_name: usize, total: usize },
    /// Welsh Government WIMD 2019.
    Wimd { code: usize, rank: usize, decile: usize },
    /// Local authority district codes and names.
    Districts { code: usize, name: usize },
}

fn detect(header: &[String]) -> Option<Layout> {
    let find = |pred: &dyn Fn(&str) -> bool| header.iter().position(|h| pred(h));
    let exact = |name: &str| header.iter().position(|h| h == name);
    if exact("LSOA code (2011)").is_some() {
        let code = exact("LSOA code (2011)")?;
        let name = exact("LSOA name (2011)")?;
        let lad = exact("Local Authority District code (2019)")?;
        let lad_name = exact("Local Authority District name (2019)")?;
        if let Some(total) = find(&|h| h.starts_with("Total population")) {
            return Some(Layout::Denominators { code, name, lad, lad_name, total });
        }
        let rank = find(&|h| h.starts_with("Index of Multiple Deprivation (IMD) Rank"))?;
        let decile = find(&|h| h.starts_with("Index of Multiple Deprivation (IMD) Decile"))?;
        return Some(Layout::EnglishImd { code, name, lad, lad_name, rank, decile });
    }
    if let (Some(code), Some(rank), Some(decile)) = (exact("lsoa11_code"), exact("IMD_rank"), exact("IMD_decile")) {
        return Some(Layout::Wimd { code, rank, decile });
    }
    if let (Some(code), Some(name), Some(lad), Some(lad_name), Some(total)) = (
        exact("LSOA Code"),
        exact("LSOA Name"),
        exact("Local authority code"),
        exact("Local authority name"),
        exact("Persons"),
    ) {
        if exact("Households").is_some() {
            return Some(Layout::Census2011 { code, name, lad, lad_name, total });
        }
    }
    if let (Some(code), Some(name)) = (exact("LADCD"), exact("LADNM")) {
        return Some(Layout::Districts { code, name });
    }
    None
}

/// Reads a CSV reference table; `Ok(Err(_))` when the header is not one Alliance knows.
pub fn read_table(file: &SourceFile) -> Result<Result<AreaTable, super::Unrecognised>, IngestError> {
    let mut builder = csv::ReaderBuilder::new();
    builder.has_headers(false);
    let mut csv = open_csv(file.reader()?, file.limits(), builder, None, file.limits().max_held_rows);
    let mut record = csv::StringRecord::new();
    if !csv.read_record(&mut record).map_err(|e| IngestError::from_csv(&file.name, e))? {
        return Ok(Err(super::Unrecognised { file: file.name.clone(), found: "no header (the file is empty)".into() }));
    }
    let header: Vec<String> = record.iter().map(|h| h.trim_start_matches('\u{feff}').trim().to_string()).collect();
    let Some(layout) = detect(&header) else {
        return Ok(Err(super::Unrecognised::found(&file.name, "the header", &header)));
    };
    let mut deprivation = Vec::new();
    let mut population = Vec::new();
    let mut districts: HashMap<String, District> = HashMap::new();
    while csv.read_record(&mut record).map_err(|e| IngestError::from_csv(&file.name, e))? {
        let line = record.position().map_or(0, |p| p.line());
        let cell = |i: usize| record.get(i).unwrap_or("").trim();
        let lsoa = |i: usize| -> Result<LsoaCode, IngestError> {
            cell(i).parse().map_err(|e: alliance_core::domain::area::AreaCodeError| {
                IngestError::cell(&file.name, line, &header[i], requote(e, cell(i)))
            })
        };
        let district = |i: usize| -> Result<DistrictCode, IngestError> {
            cell(i).parse().map_err(|e: alliance_core::domain::area::AreaCodeError| {
                IngestError::cell(&file.name, line, &header[i], requote(e, cell(i)))
            })
        };
        let number = |i: usize| -> Result<i64, IngestError> {
            parse_count(cell(i)).map_err(|r| IngestError::cell(&file.name, line, &header[i], r))
        };
        let mut note_district = |code: DistrictCode, name: &str| {
            if !name.is_empty() {
                districts.entry(code.to_string()).or_insert(District { code, name: name.to_string() });
            }
        };
        match layout {
            Layout::EnglishImd { code, name, lad, lad_name, rank, decile } => {
                let d = district(lad)?;
                note_district(d.clone(), cell(lad_name));
                deprivation.push(Deprivation {
                    lsoa: lsoa(code)?,
                    name: Some(cell(name).to_string()),
                    district: Some(d),
                    rank: number(rank)?,
                    decile: decile_in_range(number(decile)?, &file.name, line, &header[decile])?,
                    index: "IMD 2019",
                });
            }
            Layout::Wimd { code, rank, decile } => deprivation.push(Deprivation {
                lsoa: lsoa(code)?,
                name: None,
                district: None,
                rank: number(rank)?,
                decile: decile_in_range(number(decile)?, &file.name, line, &header[decile])?,
                index: "WIMD 2019",
            }),
            Layout::Denominators { code, name, lad, lad_name, total }
            | Layout::Census2011 { code, name, lad, lad_name, total } => {
                let d = district(lad)?;
                note_district(d.clone(), cell(lad_name));
                let source = if matches!(layout, Layout::Denominators { .. }) { MID_2015 } else { CENSUS_2011 };
                population.push(Population {
                    lsoa: lsoa(code)?,
                    name: Some(cell(name).to_string()),
                    district: Some(d),
                    population: number(total)?,
                    source,
                });
            }
            Layout::Districts { code, name } => {
                let d = district(code)?;
                note_district(d, cell(name));
            }
        }
    }
    let mut districts: Vec<District> = districts.into_values().collect();
    districts.sort_by(|a, b| a.code.cmp(&b.code));
    Ok(Ok(match layout {
        Layout::EnglishImd { .. } | Layout::Wimd { .. } => AreaTable::Deprivation(deprivation, districts),
        Layout::Denominators { .. } | Layout::Census2011 { .. } => AreaTable::Population(population, districts),
        Layout::Districts { .. } => AreaTable::Districts(districts),
    }))
}

/// Whole numbers, allowing the thousands separators these files use (`"1,296"`).
fn parse_count(text: &str) -> Result<i64, String> {
    let digits: String = text.chars().filter(|c| *c != ',').collect();
    match digits.parse::<i64>() {
        Ok(v) if v >= 0 => Ok(v),
        _ => Err(format!("expected a whole number, found {}", quoted(text))),
    }
}

fn decile_in_range(decile: i64, file: &str, line: u64, column: &str) -> Result<i64, IngestError> {
    if (1..=10).contains(&decile) {
        Ok(decile)
    } else {
        Err(IngestError::cell(file, line, column, format!("expected a decile from 1 to 10, found {decile}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(name: &str, text: &str) -> Result<Option<AreaTable>, IngestError> {
        read_table(&SourceFile::from_bytes(name, text.as_bytes().to_vec())).map(Result::ok)
    }

    #[test]
    fn reads_english_imd_with_bom_and_thousands() {
        let t = table(
            "imd.csv",
            "\u{feff}LSOA code (2011),LSOA name (2011),Local Authority District code (2019),Local Authority District name (2019),Index of Multiple Deprivation (IMD) Rank,Index of Multiple Deprivation (IMD) Decile\n\
             E01014210,Stoke-on-Trent 012A,E06000021,Stoke-on-Trent,\"1,234\",1\n",
        )
        .unwrap()
        .unwrap();
        let AreaTable::Deprivation(rows, districts) = t else { panic!("wrong kind") };
        assert_eq!(rows[0].rank, 1234);
        assert_eq!(rows[0].decile, 1);
        assert_eq!(districts[0].name, "Stoke-on-Trent");
    }

    #[test]
    fn reads_population_denominators() {
        let t = table(
            "pop.csv",
            "LSOA code (2011),LSOA name (2011),Local Authority District code (2019),Local Authority District name (2019),Total population: mid 2015 (excluding prisoners),Dependent Children aged 0-15: mid 2015 (excluding prisoners)\n\
             E01014210,Stoke-on-Trent 012A,E06000021,Stoke-on-Trent,\"1,296\",175\n",
        )
        .unwrap()
        .unwrap();
        let AreaTable::Population(rows, _) = t else { panic!("wrong kind") };
        assert_eq!(rows[0].population, 1296);
        assert_eq!(rows[0].source, MID_2015);
    }

    #[test]
    fn bad_values_name_line_and_column() {
        let err = table("wimd.csv", "lsoa11_code,IMD_decile,IMD_rank\nW01000001,5,885\nW01000002,11,3\n")
            .unwrap_err()
            .to_string();
        assert_eq!(err, "wimd.csv:3: column \"IMD_decile\": expected a decile from 1 to 10, found 11");
    }

    #[test]
    fn unknown_tables_are_not_claimed() {
        assert!(table("x.csv", "a,b\n1,2\n").unwrap().is_none());
        let unknown = read_table(&SourceFile::from_bytes("x.csv", b"a,b\n1,2\n".to_vec())).unwrap().unwrap_err();
        assert_eq!(unknown.found, "the header \"a\", \"b\"");
    }
}
