//! The police forces whose files are held, against the partnership's: a database may hold
//! other forces' records (a neighbour's files, the national archive), and a partnership
//! whose own force's files are not in must not read another force's crime as its own.

use alliance_core::partnership::Profile;
use alliance_ingest::police::synthetic::force_name;

/// The warning when police files are held but none is of a force the profile names (empty
/// otherwise, and with no profile). `held` is the forces whose files are in force
/// ([`alliance_db::Db::police_forces_held`]); forces are named as data.police.uk's files
/// name them ("West Midlands Police"), or by their slug when Alliance does not know them.
/// The figures are not filtered by force: a force's records cross its borders, and the
/// district filter already places them.
pub fn force_note(profile: Option<&Profile>, held: &[String]) -> String {
    let Some(profile) = profile else { return String::new() };
    if held.is_empty() || profile.forces.iter().any(|f| held.iter().any(|h| h == f.as_str())) {
        return String::new();
    }
    let held: Vec<String> = held.iter().map(|h| force_name(h)).collect();
    let own: Vec<String> = profile.forces.iter().map(|f| force_name(f.as_str())).collect();
    let (whose, has) = if own.len() == 1 {
        (format!("the partnership's force, {}, has", own[0]), "its")
    } else {
        (format!("the partnership's forces, {}, have", own.join(" and ")), "their")
    };
    format!(
        "These figures count other forces' records: police files are held only for {}; {whose} none. \
         An administrator can import {has} data.police.uk files on the imports page.",
        held.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::force_note;

    #[test]
    fn other_forces_files_are_named_against_the_partnerships_force() {
        let west_midlands = alliance_core::partnership::example("west-midlands").unwrap().unwrap();
        let held = ["staffordshire".to_string()];
        let note = force_note(Some(&west_midlands), &held);
        assert!(note.contains("held only for Staffordshire Police"), "{note}");
        assert!(note.contains("the partnership's force, West Midlands Police, has none"), "{note}");
        // One of its own force's files held, or nothing held, or no profile: nothing to say.
        assert_eq!(force_note(Some(&west_midlands), &["staffordshire".into(), "west-midlands".into()]), "");
        assert_eq!(force_note(Some(&west_midlands), &[]), "");
        assert_eq!(force_note(None, &held), "");
    }
}
