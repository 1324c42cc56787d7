//! The Board pack as a PDF (issue 16: "downloads as a PDF and as a Word or ODT document"),
//! read back by an independent reader (`lopdf`): it names the partnership and the quarter,
//! lists an overdue action, and gives the same figures as the HTML pack; a pack of many
//! actions runs to several numbered pages; a restricted (health) indicator's value is
//! suppressed exactly as in the OpenDocument file; the logo is on the cover; on the web a
//! Board member downloads it and an anonymous visitor is sent to sign in, as for `/odt`; and
//! `alliance board-pack --out pack.pdf` writes it.

use crate::common;
use common::TestDb;

use alliance_app::board_pack::BoardPack;
use alliance_core::access::{AccessLevel, OrgType, Role};
use alliance_core::governance::{ActionStatus, Direction, Quarter};
use alliance_db::governance::{ActionFields, NewIndicator};
use alliance_db::Db;
use axum::http::StatusCode;
use common::app::TestApp;

const PARTNERSHIP: &str = "Wiltshire and Swindon Violence Reduction Partnership";
/// An overdue action whose title has an en dash and curly quotes.
const OVERDUE: &str = "Knife bins – phase ‘two’";

/// The PDF parsed by an independent reader: its number of pages and its text, each run of
/// white space (line and cell breaks) as one space.
fn read_pdf(bytes: &[u8]) -> (usize, String) {
    assert!(bytes.starts_with(b"%PDF-"), "a PDF starts with %PDF-");
    let doc = lopdf::Document::load_mem(bytes).expect("an independent reader parses the PDF");
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    let text = doc.extract_text(&pages).expect("its text");
    (pages.len(), text.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// The text around each place `what` is found, for failure messages.
fn around(text: &str, what: &str) -> String {
    text.match_indices(what)
        .map(|(i, _)| text[i..].chars().take(120).collect::<String>())
        .collect::<Vec<_>>()
        .join(" | ")
}

/// The text of the OpenDocument file's `content.xml`.
fn odt_content(bytes: Vec<u8>) -> String {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("an OpenDocument file is a zip");
    let mut content = String::new();
    std::io::Read::read_to_string(&mut zip.by_name("content.xml").expect("content.xml"), &mut content).unwrap();
    content
}

/// A partnership with a logo, `actions` actions added in July 2025 (one overdue), a
/// health indicator with a small value, and a funding stream of £1,200.
async fn a_partnership(db: &Db, actions: usize) {
    alliance::governance::seed_strategy(db, "test").await.unwrap();
    let s = db.strategies().await.unwrap().remove(0);
    let commitments = db.commitments(s.id).await.unwrap();
    let actor = common::test_actor();
    let org = db.create_organisation("Wiltshire Police", OrgType::Police, &actor).await.unwrap();
    let logo = alliance_core::logo::Logo::from_png(alliance_core::logo::sample_png(120, 40)).unwrap();
    db.set_partnership_logo(&logo, &actor).await.unwrap();
    for i in 0..actions {
        let title =
            if i == 0 { OVERDUE.to_string() } else { format!("Action {i}: outreach in the night-time economy") };
        let f = ActionFields {
            commitment_id: commitments[i % commitments.len()].id,
            title: &title,
            description: "",
            owner_org_id: org,
            lead_person: "A. Lead",
            start_date: None,
            due_date: Some(if i == 0 { "2020-03-31" } else { "2027-03-31" }),
            status: ActionStatus::OnTrack,
            intervention_id: None,
        };
        db.create_action(&f, &actor, Some("2025-07-01")).await.unwrap();
    }
    db.create_indicator(
        &NewIndicator {
            kind: "outcome",
            definition: "Entered by the health partner",
            direction: Direction::Down,
            target: Some(10.0),
            priority_id: Some(commitments[0].priority_id),
            ..common::governance::entered_indicator("hospital-assaults", "Hospital admissions for assault")
        },
        &actor,
    )
    .await
    .unwrap();
    db.enter_indicator_values(&[("hospital-assaults".into(), "2025Q3".into(), 3.0, String::new())], &actor)
        .await
        .unwrap();
    let stream = db.create_funding_stream("Serious Violence Duty grant", "Home Office", &actor).await.unwrap();
    db.set_funding_amount(stream, "2025/26", 120_000, &actor).await.unwrap();
}

async fn the_pdf_holds_the_packs_figures(t: TestDb) {
    let db = &t.connect().await;
    let db = db.clone();
    a_partnership(&db, 150).await;
    let quarter: Quarter = "2025Q3".parse().unwrap();
    let pack = BoardPack::load(&db, quarter, PARTNERSHIP).await.unwrap();
    assert_eq!(pack.actions_total, 150);
    let html = alliance_reports::board_pack::render(&pack).unwrap();
    let pdf = alliance_reports::pdf::board_pack_pdf(&pack).unwrap();
    let (pages, text) = read_pdf(&pdf);
    assert!(text.contains(PARTNERSHIP), "the partnership's name");
    assert!(text.contains(&format!("Executive Board pack: {} ({quarter})", quarter.label())), "the quarter");
    assert!(text.contains(&format!("Action: {OVERDUE}")), "the overdue action, its dash and quotes intact");
    // Figures the HTML pack shows, the same numbers.
    assert!(html.contains("<strong>150</strong>actions in the plan") && text.contains("150 actions in the plan"));
    assert!(
        html.contains("<strong>£1,200.00</strong>available") && text.contains("£1,200.00 available"),
        "money as the HTML pack"
    );
    assert!(html.contains("<strong data-overdue=\"actions\">1</strong>") && text.contains("1 overdue actions"));
    // 150 actions run over several pages, each numbered, the action table's header repeated.
    assert!(pages >= 5, "{pages} pages");
    for n in 1..=pages {
        assert!(text.contains(&format!("Page {n} of {pages}")), "page {n} is numbered");
    }
    let doc = lopdf::Document::load_mem(&pdf).unwrap();
    let page_text = |n: u32| doc.extract_text(&[n]).unwrap().split_whitespace().collect::<Vec<_>>().join(" ");
    let headers =
        (1..=pages as u32).filter(|n| page_text(*n).contains("Action Owner Due Last quarter This quarter")).count();
    assert!(headers >= 3, "the action table's header row on each page it runs over ({headers})");
    for i in [1, 75, 149] {
        assert!(text.contains(&format!("Action {i}: outreach in the night-time economy")), "action {i}");
    }
    // Metadata: the title, the language; the logo on the cover.
    let info = doc.trailer.get(b"Info").and_then(|r| r.as_reference()).and_then(|r| doc.get_dictionary(r)).unwrap();
    let title = info.get(b"Title").and_then(|t| t.as_str()).unwrap();
    assert!(String::from_utf8_lossy(title).contains("2025Q3"));
    assert_eq!(doc.catalog().unwrap().get(b"Lang").and_then(|l| l.as_str()).unwrap(), b"en-GB");
    let images = doc
        .objects
        .values()
        .filter_map(|o| o.as_stream().ok())
        .filter(|s| s.dict.get(b"Subtype").and_then(|t| t.as_name()).ok() == Some(b"Image".as_slice()))
        .count();
    assert_eq!(images, 1, "the logo");
    // The OpenDocument file has the logo too.
    let odt = alliance_reports::odt::board_pack_odt(&pack).unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(odt)).unwrap();
    assert!(zip.by_name("Pictures/logo.png").is_ok());

    // The health indicator's value as a Board reader (aggregate) sees it: suppressed in the
    // PDF exactly as in the OpenDocument file; shown to a reader with the database's rights.
    assert!(text.contains("Hospital admissions for assault 3 2025Q3"), "unrestricted: the value");
    let mut restricted = BoardPack::load(&db, quarter, PARTNERSHIP).await.unwrap();
    restricted.restrict_indicators(&alliance_app::Disclosure::new(5).unwrap(), |_| AccessLevel::Aggregate);
    let shown = restricted.indicator("hospital-assaults").unwrap().latest_text();
    assert_eq!(shown, "fewer than 5");
    let (_, text) = read_pdf(&alliance_reports::pdf::board_pack_pdf(&restricted).unwrap());
    let odt = odt_content(alliance_reports::odt::board_pack_odt(&restricted).unwrap());
    assert!(
        text.contains("Hospital admissions for assault fewer than 5 2025Q3"),
        "suppressed in the PDF: {}",
        around(&text, "Hospital")
    );
    assert!(odt.contains("Hospital admissions for assault</text:p></table:table-cell><table:table-cell office:value-type=\"string\" table:style-name=\"Cell\"><text:p text:style-name=\"Table_20_Contents\">fewer than 5<"));
    assert!(!text.contains("Hospital admissions for assault 3 "));
    // The HTML pack too, in the priority's table as in the list of all indicators.
    let rows = |html: &str| -> Vec<String> {
        html.match_indices("data-indicator=\"hospital-assaults\"")
            .map(|(i, _)| html[i..].split("</tr>").next().unwrap_or_default().to_string())
            .collect()
    };
    let open = rows(&html);
    assert_eq!(open.len(), 2, "the priority's table and all indicators");
    assert!(open.iter().all(|r| r.contains("<td class=\"num\">3</td>")), "{open:?}");
    let hidden = rows(&alliance_reports::board_pack::render(&restricted).unwrap());
    assert_eq!(hidden.len(), 2);
    assert!(hidden.iter().all(|r| !r.contains(">3<") && r.contains("fewer than 5")), "{hidden:?}");
}

on_each_db!(the_pdf_holds_the_packs_figures);

/// On the web: the download beside the OpenDocument one, for a Board member; an anonymous
/// visitor is sent to sign in.
async fn the_pdf_download(app: TestApp) {
    a_partnership(&app.db, 3).await;
    let board = app.signed_in("chair@board.example", Role::BoardMember, "Wiltshire Council").await;
    let reply = app.get_bytes("/board-pack/2025Q3/pdf", &board).await;
    assert_eq!(reply.0, StatusCode::OK);
    assert_eq!(reply.1.get("content-type").and_then(|v| v.to_str().ok()), Some("application/pdf"));
    let disposition = reply.1.get("content-disposition").and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert_eq!(disposition, "attachment; filename=\"board-pack-2025Q3.pdf\"");
    let (_, text) = read_pdf(&reply.2);
    assert!(text.contains(&format!("Action: {OVERDUE}")));
    // The Board member's organisation has no health grant: the value is not shown, in the PDF
    // as in the OpenDocument file.
    let odt = odt_content(app.get_bytes("/board-pack/2025Q3/odt", &board).await.2);
    let not_shown = "Not shown: ";
    assert!(odt.contains(not_shown) && text.contains(not_shown), "{}", around(&text, "Hospital"));
    assert!(!text.contains("Hospital admissions for assault 3 "));
    let anonymous = app.visitor("/sign-in").await;
    let refused = app.get("/board-pack/2025Q3/pdf", &anonymous).await;
    let odt_refused = app.get("/board-pack/2025Q3/odt", &anonymous).await;
    assert_eq!(refused.status, odt_refused.status, "as for /odt");
    assert!(
        refused.status == StatusCode::SEE_OTHER
            && refused.header("location") == Some("/sign-in?next=%2Fboard-pack%2F2025Q3%2Fpdf"),
        "{} {:?}",
        refused.status,
        refused.header("location")
    );
    let dashboard = app.get("/governance", &board).await;
    assert_eq!(dashboard.status, StatusCode::OK);
}

on_each_app!(the_pdf_download);

/// `alliance board-pack --out pack.pdf` writes the PDF.
#[test]
fn the_board_pack_command_writes_pdf() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let db = format!("sqlite://{}", dir.path().join("a.db").display());
    let run = |args: &[&str]| crate::common::alliance(&db, args);
    let init = run(&["partnership", "init", "--example", "wiltshire-and-swindon"]);
    assert!(init.status.success(), "{}", String::from_utf8_lossy(&init.stderr));
    let out = dir.path().join("pack.PDF");
    let written = run(&["board-pack", "--quarter", "2025Q3", "--out", &out.display().to_string()]);
    assert!(written.status.success(), "{}", String::from_utf8_lossy(&written.stderr));
    let (pages, text) = read_pdf(&std::fs::read(&out).expect("the pack"));
    assert!(pages >= 2 && text.contains("Wiltshire and Swindon") && text.contains("Executive summary"), "{text}");
    assert!(text.contains(&format!("Page {pages} of {pages}")));
    assert!(!text.contains("Staffordshire"));
}

/// A new partnership's pack says there is nothing to report yet, in every format, instead of
/// a row of zeros a Board member would read as a quarter without problems; once there is a
/// plan, the counts are back.
async fn an_empty_pack_says_so(app: TestApp) {
    let board = app.signed_in("chair@board.example", Role::BoardMember, "Wiltshire Council").await;
    let nothing = "No action plan, indicators or decisions are held yet";
    // With nothing held, the pack is the current quarter's.
    let quarter = alliance_core::governance::Quarter::of_date(&alliance_db::clock::today()).expect("a quarter");
    let page = app.get(&format!("/board-pack/{quarter}"), &board).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("id=\"nothing-to-report\"") && page.body.contains(nothing), "{}", page.body);
    assert!(!page.body.contains("actions in the plan;"), "no sentence of zeros");
    let (_, pdf) = read_pdf(&app.get_bytes(&format!("/board-pack/{quarter}/pdf"), &board).await.2);
    assert!(pdf.contains(nothing), "{pdf}");
    assert!(odt_content(app.get_bytes(&format!("/board-pack/{quarter}/odt"), &board).await.2).contains(nothing));

    a_partnership(&app.db, 3).await;
    let page = app.get("/board-pack/2025Q3", &board).await.body;
    assert!(!page.contains(nothing) && page.contains("actions in the plan"), "{page}");
}

on_each_app!(an_empty_pack_says_so);
