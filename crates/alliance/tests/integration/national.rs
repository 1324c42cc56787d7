//! `alliance generate police-national` (issue 18) on a tiny target: two forces, two months.
//! The files are data.police.uk's names and format, labelled SYNTHETIC, deterministic for a
//! seed, with fresh Crime IDs that the outcomes files reference, and `alliance import police`
//! takes them whole, on SQLite and PostgreSQL.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::common;
use common::{alliance, read_csv, TestDb};

fn generate(data: &Path, out: &Path) {
    let db = tempfile::tempdir().unwrap();
    let db_file = db.path().join("generate.db");
    let output = alliance(
        &format!("sqlite://{}", db_file.display()),
        &[
            "generate",
            "police-national",
            "--out",
            out.to_str().unwrap(),
            "--months",
            "2",
            "--target-rows",
            "6000",
            "--forces",
            "wiltshire,dyfed-powys",
            "--shared",
            data.to_str().unwrap(),
        ],
    );
    assert!(
        output.status.success(),
        "generate failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    // It reads and writes files only: the database `--db` names is neither created nor migrated.
    assert!(!db_file.exists(), "generating files created {}", db_file.display());
}

async fn tiny_national_set_imports_whole(t: TestDb, data: PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("national");
    generate(&data, &out);

    let mut names: Vec<String> =
        std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "2025-11-dyfed-powys-outcomes.csv",
            "2025-11-dyfed-powys-street.csv",
            "2025-11-wiltshire-outcomes.csv",
            "2025-11-wiltshire-street.csv",
            "2025-12-dyfed-powys-outcomes.csv",
            "2025-12-dyfed-powys-street.csv",
            "2025-12-wiltshire-outcomes.csv",
            "2025-12-wiltshire-street.csv",
            "README.md",
        ]
    );
    let readme = std::fs::read_to_string(out.join("README.md")).unwrap();
    assert!(readme.contains("SYNTHETIC"), "{readme}");

    // Street rows: the force's data.police.uk name, its own LSOAs (those of the local
    // authorities the LSOA → force table gives Wiltshire), fresh unique 64-hex IDs.
    let (_, table) = read_csv(&data.join("lsoa/PoliceforceLSOA.csv"));
    let authorities: HashSet<&str> = table.iter().filter(|r| r.get(9) == Some("Wiltshire")).map(|r| &r[3]).collect();
    let wiltshire_lsoas: HashSet<String> =
        table.iter().filter(|r| authorities.contains(&r[3])).map(|r| r[7].to_string()).collect();
    assert!(wiltshire_lsoas.len() > 300);
    let mut street_rows = 0usize;
    let mut ids = HashSet::new();
    for name in names.iter().filter(|n| n.ends_with("-street.csv")) {
        let (header, rows) = read_csv(&out.join(name));
        assert_eq!(&header[0], "Crime ID");
        assert!(!rows.is_empty(), "{name} has rows");
        street_rows += rows.len();
        for r in &rows {
            assert_eq!(&r[1], &name[..7], "{name}: month");
            if name.contains("wiltshire") {
                assert_eq!(&r[2], "Wiltshire Police");
                assert!(r[7].is_empty() || wiltshire_lsoas.contains(&r[7]), "{name}: LSOA {} not Wiltshire's", &r[7]);
            } else {
                assert_eq!(&r[2], "Dyfed-Powys Police");
                assert!(r[7].is_empty() || r[7].starts_with("W01"), "{name}: LSOA {}", &r[7]);
            }
            if !r[0].is_empty() {
                assert!(r[0].len() == 64 && r[0].bytes().all(|b| b.is_ascii_hexdigit()), "{name}: ID {}", &r[0]);
                assert!(ids.insert(r[0].to_string()), "{name}: ID {} twice", &r[0]);
            }
        }
    }
    // Outcomes of December name crimes of November's and December's street files.
    let (_, outcomes) = read_csv(&out.join("2025-12-wiltshire-outcomes.csv"));
    let known = outcomes.iter().filter(|r| ids.contains(&r[0])).count();
    assert!(known * 2 > outcomes.len(), "{known} of {} outcomes name generated crimes", outcomes.len());

    // Deterministic for a seed.
    let again = tmp.path().join("again");
    generate(&data, &again);
    for name in &names {
        assert_eq!(std::fs::read(out.join(name)).unwrap(), std::fs::read(again.join(name)).unwrap(), "{name}");
    }

    // `alliance import police` takes every file, and the counts are the files' rows.
    let output = alliance(&t.url, &["import", "police", out.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "import failed: {stdout}{}", String::from_utf8_lossy(&output.stderr));
    let summary = stdout.lines().last().unwrap_or_default();
    assert!(summary.starts_with("8 imported") && summary.contains("0 failed"), "{summary}");
    let db = t.connect().await;
    assert_eq!(db.police_record_count().await.unwrap(), street_rows as i64);
    let counted: i64 = db
        .counts(&[alliance_core::domain::CountField::Month], &alliance_core::domain::CountFilter::default())
        .await
        .unwrap()
        .iter()
        .map(|r| r.count)
        .sum();
    assert_eq!(counted, street_rows as i64);
    db.close().await;
}

on_each_backend!(tiny_national_set_imports_whole);
