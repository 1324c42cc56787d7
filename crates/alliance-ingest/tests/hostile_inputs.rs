//! Hostile and careless files against every parser: each is refused with a clear message
//! naming the file (and the line, field or cell where there is one), the message stays short
//! whatever the file holds, and the refusal costs little memory.
//!
//! Every input is generated here from a few bytes of recipe (a bomb is a long run of one
//! byte through gzip): nothing large is checked in. Memory is measured by a counting
//! allocator that records the peak of the bytes live on the calling thread, so tests running
//! in parallel do not disturb each other's figures.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::Write;

use alliance_ingest::{IngestError, Limits, SourceFile};

// ---------------------------------------------------------------------------------------
// Peak memory of the calling thread.

struct CountingAllocator;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn note(delta: isize) {
    let _ = LIVE.try_with(|live| {
        let now = live.get() + delta;
        live.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
}

// SAFETY: every call is passed on to the system allocator unchanged; only sizes are noted.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            note(layout.size() as isize);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            note(layout.size() as isize);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        note(-(layout.size() as isize));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            note(new_size as isize - layout.size() as isize);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// Runs `f` and returns its result with the most bytes it had allocated at once.
fn peak_bytes<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let start = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(start));
    let out = f();
    (out, (PEAK.with(Cell::get) - start).max(0) as usize)
}

const MIB: usize = 1 << 20;

// ---------------------------------------------------------------------------------------
// Inputs.

const STREET_HEADER: &str = "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,\
Crime type,Last outcome category,Context\n";
const STREET_ROW: &str = "abc,2025-03,Staffordshire Police,Staffordshire Police,-2.1,53.0,On or near Church Street,\
E01014210,Stoke-on-Trent 012A,Robbery,Under investigation,\n";
const STREET_NAME: &str = "2025-03-staffordshire-street.csv";

const ED_HEADER: &str = "site_code,reporting_period_start,reporting_period_end,arrival_datetime,assault_datetime,\
assault_method,assault_method_other,assault_location_type,assault_location_description,age_band,sex\n";
const ED_ROW: &str = "RJE01,2025-01-01,2025-01-31,2025-01-04T01:20,2025-01-04T00:45,01,,02,Piccadilly,18-24,1\n";
const ED_ASSAULT: &str = "<Assault><AssaultDateTime>2025-01-04T00:45</AssaultDateTime>\
<AssaultMethod>06</AssaultMethod><AssaultLocationType>02</AssaultLocationType></Assault>";

fn ed_xml(body: &str) -> String {
    format!(
        "<?xml version=\"1.0\"?>\n<IstvSubmission>\n<ReportingPeriodStartDate>2025-01-01</ReportingPeriodStartDate>\n\
         <ReportingPeriodEndDate>2025-01-31</ReportingPeriodEndDate>\n<SiteCode>RJE01</SiteCode>\n{body}\n</IstvSubmission>\n"
    )
}

/// `prefix`, then `filler` repeated to `len` bytes, gzip-compressed without holding the
/// inflated text: a decompression bomb of any size from a few kilobytes.
fn gzip_bomb(prefix: &str, filler: u8, len: usize) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(prefix.as_bytes()).unwrap();
    let chunk = vec![filler; MIB];
    let mut left = len;
    while left > 0 {
        let n = left.min(chunk.len());
        gz.write_all(&chunk[..n]).unwrap();
        left -= n;
    }
    gz.finish().unwrap()
}

fn file(name: &str, bytes: impl Into<Vec<u8>>) -> SourceFile {
    SourceFile::from_bytes(name, bytes.into())
}

fn read_street(f: &SourceFile) -> Result<usize, IngestError> {
    let mut n = 0;
    for crime in alliance_ingest::police::StreetReader::open(f)? {
        crime?;
        n += 1;
    }
    Ok(n)
}

/// The refusal as text, checking it is a limit refusal (`TooLarge`) and short.
fn too_large<T: std::fmt::Debug>(outcome: Result<T, IngestError>) -> String {
    match outcome {
        Err(e @ IngestError::TooLarge { .. }) => {
            let text = e.to_string();
            assert!(text.len() < 400, "a refusal of {} bytes: {text}", text.len());
            text
        }
        other => panic!("expected a limit refusal, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------
// Decompression and size caps.

#[test]
fn a_gzip_bomb_stops_at_the_default_cap_with_little_memory() {
    // 257 MiB of blank lines inflate from a few hundred kilobytes; blank lines are no rows,
    // so only the byte cap can stop it.
    let bomb = gzip_bomb(STREET_HEADER, b'\n', 257 * MIB);
    assert!(bomb.len() < 2 * MIB, "{} bytes compressed", bomb.len());
    let f = file(&format!("{STREET_NAME}.gz"), bomb);
    let (outcome, peak) = peak_bytes(|| read_street(&f));
    let text = too_large(outcome);
    assert_eq!(
        text,
        "2025-03-staffordshire-street.csv.gz: larger than 256 MiB once decompressed; nothing of it was imported"
    );
    assert!(peak < 4 * MIB, "peak {peak} bytes");
}

#[test]
fn every_file_kind_honours_the_byte_cap() {
    let limits = Limits { max_decompressed_bytes: 64 * 1024, ..Limits::default() };
    let bomb = |prefix: &str, name: &str| file(name, gzip_bomb(prefix, b'\n', MIB)).with_limits(limits.clone());
    let cases: Vec<(&str, Result<(), IngestError>)> = vec![
        ("ed.csv.gz", alliance_ingest::ed::read_ed_file(&bomb(ED_HEADER, "ed.csv.gz")).map(drop)),
        ("ed.xml.gz", alliance_ingest::ed::read_ed_file(&bomb("<IstvSubmission>", "ed.xml.gz")).map(drop)),
        (
            "i.csv.gz",
            alliance_ingest::indicators::read_indicator_file(&bomb("indicator,area_code,period,value\n", "i.csv.gz"))
                .map(drop),
        ),
        ("p.csv.gz", alliance_ingest::points::read_points(&bomb("id,x,y\n", "p.csv.gz")).map(drop)),
        ("t.csv.gz", alliance_ingest::areas::read_table(&bomb("LADCD,LADNM\n", "t.csv.gz")).map(drop)),
        ("s.json.gz", alliance_ingest::oruk::read_services(&bomb("[", "s.json.gz")).map(drop)),
        ("b.geojson.gz", alliance_ingest::areas::read_boundaries(&bomb("{", "b.geojson.gz")).map(drop)),
    ];
    for (name, outcome) in cases {
        let text = too_large(outcome);
        assert!(text.starts_with(&format!("{name}: larger than 64 KiB")), "{text}");
    }
}

#[test]
fn a_plain_file_over_the_cap_is_refused_before_it_is_read() {
    let limits = Limits { max_decompressed_bytes: 1000, ..Limits::default() };
    let f = file(STREET_NAME, format!("{STREET_HEADER}{}", STREET_ROW.repeat(10))).with_limits(limits);
    let text = too_large(alliance_ingest::police::StreetReader::open(&f).map(drop));
    assert_eq!(
        text,
        "2025-03-staffordshire-street.csv: larger than 1000 bytes once decompressed; nothing of it was imported"
    );
}

// ---------------------------------------------------------------------------------------
// Fields, records, rows.

#[test]
fn a_huge_field_is_refused_before_it_is_buffered_and_named_by_line_and_field() {
    // A 64 MiB location: the CSV reader would hold it whole; the guard stops at 64 KiB.
    let row = STREET_ROW.replace("On or near Church Street", &"x".repeat(64 * MIB));
    let f = file(STREET_NAME, format!("{STREET_HEADER}{STREET_ROW}{row}"));
    let (outcome, peak) = peak_bytes(|| read_street(&f));
    let text = too_large(outcome);
    assert_eq!(
        text,
        "2025-03-staffordshire-street.csv:3: column \"field 7\": a field longer than 64 KiB (the longest accepted)"
    );
    assert!(peak < 2 * MIB, "peak {peak} bytes");
}

#[test]
fn a_long_value_is_quoted_as_a_short_excerpt() {
    // With the field limit raised, a 1 MiB month reaches validation: the message quotes
    // sixty characters and the length, not the value.
    let limits = Limits { max_field_bytes: 4 * MIB as u64, max_record_bytes: 8 * MIB as u64, ..Limits::default() };
    let month = "2".repeat(MIB);
    let f = file(STREET_NAME, format!("{STREET_HEADER}{}", STREET_ROW.replace("2025-03", &month))).with_limits(limits);
    let text = read_street(&f).unwrap_err().to_string();
    assert_eq!(
        text,
        format!(
            "2025-03-staffordshire-street.csv:2: column \"Month\": expected YYYY-MM, found \"{}…\" (1048576 bytes)",
            "2".repeat(60)
        )
    );
}

#[test]
fn rows_over_the_limit_are_refused_at_the_first_one_too_many() {
    let limits = Limits { max_rows: 3, ..Limits::default() };
    let f = file(STREET_NAME, format!("{STREET_HEADER}{}", STREET_ROW.repeat(4))).with_limits(limits.clone());
    let text = too_large(read_street(&f));
    assert!(text.starts_with("2025-03-staffordshire-street.csv:5: more than 3 rows"), "{text}");
    let ok = file(STREET_NAME, format!("{STREET_HEADER}{}", STREET_ROW.repeat(3))).with_limits(limits);
    assert_eq!(read_street(&ok).unwrap(), 3);
}

#[test]
fn held_files_are_bounded_by_the_held_rows_limit() {
    let limits = Limits { max_held_rows: 2, ..Limits::default() };
    let ed = file("ed.csv", format!("{ED_HEADER}{}", ED_ROW.repeat(3))).with_limits(limits.clone());
    let text = too_large(alliance_ingest::ed::read_ed_file(&ed));
    assert!(text.starts_with("ed.csv:4: more than 2 rows"), "{text}");
    let xml = file("ed.xml", ed_xml(&ED_ASSAULT.repeat(3))).with_limits(limits.clone());
    let text = too_large(alliance_ingest::ed::read_ed_file(&xml));
    assert!(text.starts_with("ed.xml:6: more than 2 assaults"), "{text}");
    let points =
        file("p.csv", "id,x,y\n1,400000,300000\n2,400000,300000\n3,400000,300000\n").with_limits(limits.clone());
    let text = too_large(alliance_ingest::points::read_points(&points));
    assert!(text.starts_with("p.csv:4: more than 2 rows"), "{text}");
    let services = r#"[{"id":"a","name":"A","organization":{"name":"o"}},{"id":"b","name":"B","organization":{"name":"o"}},
        {"id":"c","name":"C","organization":{"name":"o"}}]"#;
    let text = too_large(alliance_ingest::oruk::read_services(&file("s.json", services).with_limits(limits.clone())));
    assert!(text.starts_with("s.json: more than 2 services"), "{text}");
    let values = "code,period,value\na,2025Q1,1\nb,2025Q1,2\nc,2025Q1,3\n";
    let text = too_large(alliance_ingest::governance_values::parse_numbered_indicator_values_with_limits(
        "v.csv", values, &limits,
    ));
    assert!(text.starts_with("v.csv:4: more than 2 rows"), "{text}");
}

#[test]
fn too_many_fields_in_a_record_are_refused() {
    let text =
        too_large(alliance_ingest::points::read_points(&file("p.csv", format!("id,x,y\n{}\n", "1,".repeat(2000)))));
    assert_eq!(text, "p.csv:2: more than 1000 fields (the most accepted)");
}

#[test]
fn refusals_of_every_csv_quote_short_excerpts() {
    let long = "9".repeat(50_000);
    let cases = [
        alliance_ingest::points::read_points(&file("p.csv", format!("id,x,y\n1,{long}x,300000\n"))).map(drop),
        alliance_ingest::ed::read_ed_file(&file("ed.csv", format!("{ED_HEADER}{}", ED_ROW.replace("RJE01", &long))))
            .map(drop),
        alliance_ingest::indicators::read_indicator_file(&file(
            "i.csv",
            format!("indicator,area_code,period,value\nx,{long},2025-01,1\n"),
        ))
        .map(drop),
        alliance_ingest::areas::read_table(&file("t.csv", format!("LADCD,LADNM\n{long},Stoke\n"))).map(drop),
        alliance_ingest::governance_values::parse_indicator_values(
            "v.csv",
            &format!("code,period,value\na,{long},1\n"),
        )
        .map(drop),
    ];
    for outcome in cases {
        let text = outcome.unwrap_err().to_string();
        assert!(text.len() < 300, "{} bytes: {text}", text.len());
        assert!(text.contains(&format!("{}…\" (5000", "9".repeat(60))), "{text}");
    }
}

// ---------------------------------------------------------------------------------------
// XML.

#[test]
fn a_doctype_is_refused_so_no_entity_is_ever_expanded() {
    // The "billion laughs": ten entities each ten times the one before.
    let mut dtd = String::from("<!DOCTYPE IstvSubmission [<!ENTITY lol0 \"lol\">");
    for i in 1..10 {
        dtd.push_str(&format!("<!ENTITY lol{i} \"{}\">", format!("&lol{};", i - 1).repeat(10)));
    }
    dtd.push_str("]>");
    let text = format!("<?xml version=\"1.0\"?>\n{dtd}\n<IstvSubmission>&lol9;</IstvSubmission>");
    let err = alliance_ingest::ed::read_ed_file(&file("ed.xml", text)).unwrap_err().to_string();
    assert!(err.starts_with("ed.xml:2: a DOCTYPE declaration is not accepted"), "{err}");
    // Without a DTD, an entity reference is refused by name, not looked up.
    let err = alliance_ingest::ed::read_ed_file(&file("ed.xml", ed_xml("<Assault>&lol9;</Assault>"))).unwrap_err();
    assert!(err.to_string().starts_with("ed.xml:6: malformed XML (unknown entity &lol9;)"), "{err}");
}

#[test]
fn xml_depth_elements_attributes_and_text_are_bounded() {
    let small = Limits { max_xml_depth: 2, ..Limits::default() };
    let text = too_large(alliance_ingest::ed::read_ed_file(&file("ed.xml", ed_xml(ED_ASSAULT)).with_limits(small)));
    assert_eq!(text, "ed.xml:6: elements nested deeper than 2 levels (the deepest accepted)");

    let small = Limits { max_xml_elements: 10, ..Limits::default() };
    let many = file("ed.xml", ed_xml(&ED_ASSAULT.repeat(3))).with_limits(small);
    let text = too_large(alliance_ingest::ed::read_ed_file(&many));
    assert!(text.starts_with("ed.xml:6: more than 10 elements"), "{text}");

    let attributes: String = (0..100).map(|i| format!(" a{i}=\"1\"")).collect();
    let tagged = file("ed.xml", ed_xml(&ED_ASSAULT.replace("<Assault>", &format!("<Assault{attributes}>"))));
    let text = too_large(alliance_ingest::ed::read_ed_file(&tagged));
    assert_eq!(text, "ed.xml:6: element /IstvSubmission/Assault[1]: more than 32 attributes (the most accepted)");

    let long = ED_ASSAULT.replace("<AssaultLocationType>", &format!("<AssaultLocationType>{}", "0".repeat(70_000)));
    let text = too_large(alliance_ingest::ed::read_ed_file(&file("ed.xml", ed_xml(&long))));
    assert_eq!(
        text,
        "ed.xml:6: element /IstvSubmission/Assault[1]/AssaultLocationType: text longer than 64 KiB (the longest accepted)"
    );
}

#[test]
fn an_endless_xml_tag_or_comment_is_refused_before_it_is_copied_whole() {
    let comment = format!("<!-- {} -->", "z".repeat(8 * MIB));
    let f = file("ed.xml", ed_xml(&comment));
    let (outcome, peak) = peak_bytes(|| alliance_ingest::ed::read_ed_file(&f));
    let text = too_large(outcome);
    assert_eq!(text, "ed.xml:6: an XML tag, text or comment longer than 1 MiB (the longest accepted)");
    assert!(peak < 4 * MIB, "peak {peak} bytes");
}

#[test]
fn malformed_xml_names_its_line_while_streaming() {
    let err = alliance_ingest::ed::read_ed_file(&file("ed.xml", ed_xml("<Assault></Sex>"))).unwrap_err().to_string();
    assert!(err.starts_with("ed.xml:6: malformed XML ("), "{err}");
}

// ---------------------------------------------------------------------------------------
// JSON.

#[test]
fn deep_json_is_refused_at_the_depth_limit() {
    let deep = format!("[{}", "[".repeat(100_000));
    let text = too_large(alliance_ingest::oruk::read_services(&file("s.json", deep.clone())));
    assert_eq!(text, "s.json:1: nested deeper than 64 levels (the deepest accepted)");
    let text = too_large(alliance_ingest::areas::read_boundaries(&file("b.geojson", deep)));
    assert_eq!(text, "b.geojson:1: nested deeper than 64 levels (the deepest accepted)");
}

#[test]
fn json_documents_and_their_fields_are_bounded() {
    let limits = Limits { max_document_bytes: 1000, max_geojson_bytes: 1000, ..Limits::default() };
    let big = format!("[{}]", "{\"id\":\"a\"},".repeat(200));
    let text = too_large(alliance_ingest::oruk::read_services(&file("s.json", big).with_limits(limits.clone())));
    assert_eq!(text, "s.json: larger than 1000 bytes for an ORUK file; nothing of it was imported");
    let features = "{\"type\":\"Feature\",\"properties\":{},\"geometry\":null},".repeat(50);
    let big = format!("{{\"type\":\"FeatureCollection\",\"features\":[{features}]}}");
    let text = too_large(alliance_ingest::areas::read_boundaries(&file("b.geojson", big).with_limits(limits)));
    assert_eq!(text, "b.geojson: larger than 1000 bytes for a GeoJSON file; nothing of it was imported");

    let long = "d".repeat(70_000);
    let service = format!(r#"[{{"id":"a","name":"A","description":"{long}","organization":{{"name":"o"}}}}]"#);
    let text = too_large(alliance_ingest::oruk::read_services(&file("s.json", service)));
    assert_eq!(text, "s.json: service 1 field \"description\": longer than 64 KiB (the longest accepted)");
}

#[test]
fn json_errors_quote_excerpts() {
    let long = "q".repeat(100_000);
    let service = format!(r#"[{{"id":"a","name":"A","eligibilitys":[{{"minimum_age":"{long}"}}]}}]"#);
    let text = alliance_ingest::oruk::read_services(&file("s.json", service)).unwrap_err().to_string();
    assert!(text.starts_with("s.json:1: not an ORUK service list or page (service 1: invalid type"), "{text}");
    assert!(text.len() < 400, "{} bytes: {text}", text.len());
}

// ---------------------------------------------------------------------------------------
// Workbooks.

fn workbook(cells: &[(u32, u16, &str)]) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (row, col, text) in cells {
        match text.parse::<f64>() {
            Ok(n) => sheet.write_number(*row, *col, n).unwrap(),
            Err(_) => sheet.write_string(*row, *col, *text).unwrap(),
        };
    }
    book.save_to_buffer().unwrap()
}

const INDICATOR_ROWS: [(u32, u16, &str); 8] = [
    (0, 0, "indicator"),
    (0, 1, "area_code"),
    (0, 2, "period"),
    (0, 3, "value"),
    (1, 0, "exclusions"),
    (1, 1, "E06000021"),
    (1, 2, "2025-03"),
    (1, 3, "12"),
];

/// The workbook with one part's text changed.
fn rewrite_part(xlsx: &[u8], part: &str, change: impl Fn(String) -> String) -> Vec<u8> {
    use std::io::Read;
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(xlsx)).unwrap();
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).unwrap();
        let name = entry.name().unwrap().to_string();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).unwrap();
        if name == part {
            bytes = change(String::from_utf8(bytes).unwrap()).into_bytes();
        }
        out.start_file(name, options).unwrap();
        out.write_all(&bytes).unwrap();
    }
    out.finish().unwrap().into_inner()
}

#[test]
fn a_workbook_readable_in_the_usual_way_still_is() {
    let f = file("i.xlsx", workbook(&INDICATOR_ROWS));
    let values = alliance_ingest::indicators::read_indicator_file(&f).unwrap();
    assert_eq!(values.len(), 1);
    assert_eq!((values[0].area_code.as_str(), values[0].value), ("E06000021", 12.0));
    let mut twice = INDICATOR_ROWS.to_vec();
    twice.extend([(2, 0, "exclusions"), (2, 1, "E06000021"), (2, 2, "2025-03"), (2, 3, "13")]);
    let err = alliance_ingest::indicators::read_indicator_file(&file("i.xlsx", workbook(&twice))).unwrap_err();
    assert_eq!(
        err.to_string(),
        "i.xlsx [sheet \"Sheet1\"]:3: a second value for exclusions in E06000021 for 2025-03 (the first is at sheet \
         \"Sheet1\" row 2)"
    );
}

#[test]
fn the_xlsx_bomb_is_refused_without_building_the_sheet() {
    // Cells at A1 and XFD1048576: a dense range would be 1,048,576 × 16,384 cells.
    let mut cells = INDICATOR_ROWS.to_vec();
    cells.push((1_048_575, 16_383, "boom"));
    let bytes = workbook(&cells);
    assert!(bytes.len() < 16 * 1024, "{} bytes", bytes.len());
    let f = file("bomb.xlsx", bytes);
    let (outcome, peak) = peak_bytes(|| alliance_ingest::indicators::read_indicator_file(&f));
    let text = too_large(outcome);
    assert_eq!(
        text,
        "bomb.xlsx [sheet \"Sheet1\"]:1048576: cell XFD1048576 is outside the largest sheet accepted (1000 columns, \
         1000000 rows); nothing of it was imported"
    );
    assert!(peak < 4 * MIB, "peak {peak} bytes");
}

#[test]
fn workbook_cells_parts_and_shared_strings_are_bounded() {
    // Excel caps a cell at 32,767 characters; a hand-made workbook need not.
    let long = rewrite_part(&workbook(&INDICATOR_ROWS), "xl/sharedStrings.xml", |xml| {
        xml.replace(">exclusions<", &format!(">{}<", "L".repeat(70_000)))
    });
    let text = too_large(alliance_ingest::indicators::read_indicator_file(&file("i.xlsx", long)));
    assert_eq!(text, "i.xlsx [sheet \"Sheet1\"]:2: cell A2: text longer than 64 KiB (the longest accepted)");

    let limits = Limits { max_document_bytes: 20_000, ..Limits::default() };
    let padded = rewrite_part(&workbook(&INDICATOR_ROWS), "xl/worksheets/sheet1.xml", |xml| {
        xml.replace("<sheetData>", &format!("<!-- {} --><sheetData>", " ".repeat(50_000)))
    });
    assert!(padded.len() < 20_000, "the workbook itself is under the limit: {} bytes", padded.len());
    let text = too_large(alliance_ingest::indicators::read_indicator_file(&file("i.xlsx", padded).with_limits(limits)));
    assert_eq!(
        text,
        "i.xlsx: the workbook part \"xl/worksheets/sheet1.xml\" is larger than 20000 bytes (19.5 KiB) once unzipped \
         (the largest accepted)"
    );

    // calamine reserves room for the declared number of shared strings before reading any.
    let lying = rewrite_part(&workbook(&INDICATOR_ROWS), "xl/sharedStrings.xml", |xml| {
        let at = xml.find("uniqueCount=\"").unwrap() + "uniqueCount=\"".len();
        let end = at + xml[at..].find('"').unwrap();
        format!("{}100000000000{}", &xml[..at], &xml[end..])
    });
    let text = too_large(alliance_ingest::indicators::read_indicator_file(&file("i.xlsx", lying)));
    assert_eq!(
        text,
        "i.xlsx: the workbook declares 100000000000 shared strings, more than fit in 64 MiB (the largest accepted)"
    );
}

#[test]
fn cells_out_of_order_are_refused() {
    let swapped = rewrite_part(&workbook(&INDICATOR_ROWS), "xl/worksheets/sheet1.xml", |xml| {
        let first = xml.find("<row r=\"1\"").unwrap();
        let second = xml.find("<row r=\"2\"").unwrap();
        let end = xml.find("</sheetData>").unwrap();
        format!("{}{}{}{}", &xml[..first], &xml[second..end], &xml[first..second], &xml[end..])
    });
    let err = alliance_ingest::indicators::read_indicator_file(&file("i.xlsx", swapped)).unwrap_err().to_string();
    assert_eq!(err, "i.xlsx [sheet \"Sheet1\"]:1: cell A1 comes out of order: the sheet's rows are not sorted");
}

#[test]
fn a_workbook_of_too_many_parts_is_refused_before_its_directory_is_read() {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let stored = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for i in 0..10_001 {
        zip.start_file(format!("p{i}"), stored).unwrap();
    }
    let bytes = zip.finish().unwrap().into_inner();
    let text = too_large(alliance_ingest::indicators::read_indicator_file(&file("parts.xlsx", bytes)));
    assert_eq!(text, "parts.xlsx: a workbook of more than 10000 parts; nothing of it was imported");
}

#[test]
fn sheets_times_their_largest_part_are_bounded() {
    // Sheets may all name one large part: the reading they could ask for is bounded too.
    let mut book = rust_xlsxwriter::Workbook::new();
    for _ in 0..3 {
        book.add_worksheet().write_string(0, 0, "notes").unwrap();
    }
    let bytes = book.save_to_buffer().unwrap();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(&bytes)).unwrap();
    let sizes: Vec<u64> = (0..archive.len()).map(|i| archive.by_index(i).unwrap().size()).collect();
    let (total, largest) = (sizes.iter().sum::<u64>(), *sizes.iter().max().unwrap());
    assert!(3 * largest > total, "the test needs the largest part over a third of the whole");
    let limits = Limits { max_decompressed_bytes: total, ..Limits::default() };
    let text = too_large(alliance_ingest::indicators::read_indicator_file(&file("s.xlsx", bytes).with_limits(limits)));
    assert!(text.starts_with("s.xlsx: 3 sheets of up to "), "{text}");
}

#[test]
fn a_file_at_the_held_rows_limit_stays_under_about_a_hundred_megabytes() {
    let limits = Limits::default();
    let mut text = String::from("indicator,area_code,period,value,age_band,sex\n");
    for i in 0..limits.max_held_rows {
        text.push_str(&format!("exclusions of pupils,E01{i:06},2025-03,12,10-15,female\n"));
    }
    let f = file("i.csv", text);
    let (outcome, peak) = peak_bytes(|| alliance_ingest::indicators::read_indicator_file(&f));
    assert_eq!(outcome.unwrap().len() as u64, limits.max_held_rows);
    eprintln!("indicators: peak {} MB", peak / 1_000_000);
    assert!(peak < 120_000_000, "indicators: peak {peak} bytes");
    let ed_row = ED_ROW.trim_end();
    let mut ed = String::from(ED_HEADER);
    for _ in 0..limits.max_held_rows {
        ed.push_str(ed_row);
        ed.push('\n');
    }
    let f = file("ed.csv", ed);
    let (outcome, peak) = peak_bytes(|| alliance_ingest::ed::read_ed_file(&f));
    assert_eq!(outcome.unwrap().assaults.len() as u64, limits.max_held_rows);
    eprintln!("ED assaults: peak {} MB", peak / 1_000_000);
    assert!(peak < 80_000_000, "ED assaults: peak {peak} bytes");
}
