//! The police forces whose files are held, against the partnership's own: a database may hold
//! other forces' records (a neighbour's files, the national archive, a stand-in while the
//! partnership waits for its own force's), and a partnership whose own force's files are not
//! in must not read another force's crime as its own. Every front end asks here: the
//! dashboard, the SNA page and `alliance sna`/`alliance counts` show [`ForceCoverage::note`];
//! indicators counted from police records (the Board pack's among them) carry
//! [`ForceCoverage::indicator_note`]; the public figures publish no police figures at all
//! until the partnership's force is held.

use alliance_core::partnership::Profile;
use alliance_db::{Db, DbError};
use alliance_ingest::police::synthetic::force_name;

/// Whether the police records held are the partnership's force's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ForceCoverage {
    /// One of the partnership's forces has files in, or nothing is held, or no profile (or a
    /// profile naming no force) says whose records are the partnership's.
    Own,
    /// Files are held, but only of other forces (slugs as data.police.uk names them).
    OtherOnly { held: Vec<String>, own: Vec<String> },
}

impl ForceCoverage {
    /// Compares the forces whose files are in force (`held`) with the profile's.
    pub fn of(profile: Option<&Profile>, held: &[String]) -> ForceCoverage {
        let Some(profile) = profile else { return ForceCoverage::Own };
        let own: Vec<String> = profile.forces.iter().map(|f| f.as_str().to_string()).collect();
        if held.is_empty() || own.is_empty() || own.iter().any(|f| held.contains(f)) {
            return ForceCoverage::Own;
        }
        ForceCoverage::OtherOnly { held: held.to_vec(), own }
    }

    /// Reads the profile and the forces held.
    pub async fn load(db: &Db) -> Result<ForceCoverage, DbError> {
        Ok(ForceCoverage::of(db.partnership().await?.as_ref(), &db.police_forces_held().await?))
    }

    /// Whether the partnership's own force's records are held (or nothing says otherwise).
    pub fn own_held(&self) -> bool {
        matches!(self, ForceCoverage::Own)
    }

    /// The warning for staff pages and the command line (empty when there is nothing to say).
    /// Forces are named as their files name them ("West Midlands Police"), or by their slug
    /// when Alliance does not know them. The figures are not filtered by force (a force's
    /// records cross its borders, and the district filter already places them), so what is
    /// counted is only what another force recorded inside the area.
    pub fn note(&self) -> String {
        let ForceCoverage::OtherOnly { held, own } = self else { return String::new() };
        let held: Vec<String> = held.iter().map(|h| force_name(h)).collect();
        let own: Vec<String> = own.iter().map(|f| force_name(f)).collect();
        let (whose, has) = if own.len() == 1 {
            (format!("the partnership's force, {}, has", own[0]), "its")
        } else {
            (format!("the partnership's forces, {}, have", own.join(" and ")), "their")
        };
        format!(
            "These are not the partnership's police figures: police files are held only for {}, and {whose} \
             none. Any police record counted here is one of another force's that falls in the area. An \
             administrator can import {has} data.police.uk files on the imports page.",
            held.join(", ")
        )
    }

    /// The note of an indicator counted from police records (the Board pack's, the indicator
    /// page's) when only other forces' are held; empty otherwise.
    pub fn indicator_note(&self) -> String {
        let ForceCoverage::OtherOnly { own, .. } = self else { return String::new() };
        let own: Vec<String> = own.iter().map(|f| force_name(f)).collect();
        format!("Counted from other forces' records only: {}'s files are not loaded.", own.join(" and "))
    }

    /// What the public figures say instead of police figures when only other forces' records
    /// are held (empty otherwise): no staff instructions, no other force named.
    pub fn public_note(&self) -> String {
        let ForceCoverage::OtherOnly { own, .. } = self else { return String::new() };
        let own: Vec<String> = own.iter().map(|f| force_name(f)).collect();
        format!("Police recorded crime will be published here once {}'s data has been loaded.", own.join(" and "))
    }
}

#[cfg(test)]
mod tests {
    use super::ForceCoverage;

    fn west_midlands() -> alliance_core::partnership::Profile {
        alliance_core::partnership::example("west-midlands").expect("bundled").expect("a profile")
    }

    #[test]
    fn other_forces_files_are_named_against_the_partnerships_force() {
        let coverage = ForceCoverage::of(Some(&west_midlands()), &["staffordshire".to_string()]);
        assert!(!coverage.own_held());
        let note = coverage.note();
        assert!(note.contains("held only for Staffordshire Police"), "{note}");
        assert!(note.contains("the partnership's force, West Midlands Police, has none"), "{note}");
        assert!(note.contains("import its data.police.uk files"), "{note}");
        assert_eq!(
            coverage.indicator_note(),
            "Counted from other forces' records only: West Midlands Police's files are not loaded."
        );
        let public = coverage.public_note();
        assert_eq!(
            public,
            "Police recorded crime will be published here once West Midlands Police's data has been loaded."
        );
    }

    #[test]
    fn nothing_to_say_when_its_own_force_is_held_or_nothing_is_known() {
        let held_too = ["staffordshire".to_string(), "west-midlands".to_string()];
        for coverage in [
            ForceCoverage::of(Some(&west_midlands()), &held_too),
            ForceCoverage::of(Some(&west_midlands()), &[]),
            ForceCoverage::of(None, &["staffordshire".to_string()]),
        ] {
            assert!(coverage.own_held());
            assert_eq!(coverage.note(), "");
            assert_eq!(coverage.public_note(), "");
            assert_eq!(coverage.indicator_note(), "");
        }
    }
}
