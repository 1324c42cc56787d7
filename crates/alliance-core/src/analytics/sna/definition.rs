//! The serious violence definition, as data: which categories of each source count towards
//! which serious violence group, how well each category fits, and what it cannot show.
//!
//! The groups follow the Serious Violence Duty statutory guidance (Home Office, 2022, chapter
//! 2) and the Serious Violence Strategy (2018): homicide, knife and sharp-object crime, gun
//! crime, serious assault, robbery, possession of weapons, public-place violence against women
//! and girls, and county-lines drug supply. A definition is versioned; every figure in the
//! Strategic Needs Assessment names the version it used.

use serde::{Deserialize, Serialize};

use crate::codes::code_list;

code_list! {
    /// A serious violence group.
    SvGroup ("serious violence group") {
        Homicide = "homicide", "Homicide";
        KnifeAndSharpObject = "knife_and_sharp_object", "Knife and sharp-object crime";
        Firearms = "firearms", "Firearms";
        SeriousAssault = "serious_assault", "Serious assault";
        Robbery = "robbery", "Robbery";
        PossessionOfWeapons = "possession_of_weapons", "Possession of weapons";
        PublicPlaceVawg = "public_place_vawg", "Public-place violence against women and girls";
        CountyLinesDrugSupply = "county_lines_drug_supply", "County-lines drug supply";
    }
}

code_list! {
    /// The kind of source a category belongs to.
    SourceKind ("source") {
        /// data.police.uk `Crime type` (14 coarse categories).
        PoliceCrimeType = "police_crime_type", "data.police.uk crime type";
        /// Home Office offence codes of a richer police extract.
        PoliceOffenceCode = "police_offence_code", "Home Office offence code";
        /// Emergency department assault method (ISTV `ASSAULT METHOD`).
        EdAssaultMethod = "ed_assault_method", "Emergency department assault method";
        /// ICD-10 external-cause codes of hospital admissions (e.g. X99).
        Icd10 = "icd10", "Hospital admission ICD-10 code";
    }
}

code_list! {
    /// How well a source category matches its group.
    Fit ("fit") {
        /// The category is the group (robbery is robbery).
        Exact = "exact", "Exact";
        /// The category contains the group and more (violence and sexual offences contains
        /// grievous bodily harm but also common assault): counts overstate the group.
        Broader = "broader", "Broader";
        /// The category is related but is not the group (drug offences are not drug supply):
        /// an indicator of context, never a count of the group.
        Proxy = "proxy", "Proxy";
    }
}

/// One category of one source, mapped to a group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mapping {
    pub source: SourceKind,
    /// The category exactly as the source writes it (matched case-insensitively).
    pub category: String,
    pub group: SvGroup,
    pub fit: Fit,
    /// Whether the category counts towards the headline serious violence total.
    pub in_headline: bool,
    /// What the category can and cannot show.
    pub note: String,
}

/// A group a source cannot show at all, with the reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Gap {
    pub source: SourceKind,
    pub group: SvGroup,
    pub note: String,
}

/// A versioned serious violence definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Definition {
    /// Assigned by storage (1, 2, …); ignored on import.
    #[serde(default)]
    pub version: i64,
    pub name: String,
    /// RFC 3339; assigned by storage.
    #[serde(default)]
    pub created: String,
    pub notes: String,
    pub mappings: Vec<Mapping>,
    #[serde(default)]
    pub gaps: Vec<Gap>,
}

/// Why a definition cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DefinitionError {
    #[error("mapping {index}: the category is empty")]
    EmptyCategory { index: usize },
    #[error("mapping {index}: {source_key} category \"{category}\" is mapped twice to {group}")]
    Duplicate { index: usize, source_key: &'static str, category: String, group: &'static str },
    #[error("the definition has no name")]
    NoName,
    #[error("the definition has no mappings")]
    NoMappings,
}

impl Definition {
    /// Checks a definition before it is stored: a name, at least one mapping, no empty or
    /// duplicate (source, category, group).
    pub fn validate(&self) -> Result<(), DefinitionError> {
        if self.name.trim().is_empty() {
            return Err(DefinitionError::NoName);
        }
        if self.mappings.is_empty() {
            return Err(DefinitionError::NoMappings);
        }
        let mut seen = std::collections::HashSet::new();
        for (index, m) in self.mappings.iter().enumerate() {
            if m.category.trim().is_empty() {
                return Err(DefinitionError::EmptyCategory { index });
            }
            if !seen.insert((m.source, m.category.to_lowercase(), m.group)) {
                return Err(DefinitionError::Duplicate {
                    index,
                    source_key: m.source.code(),
                    category: m.category.clone(),
                    group: m.group.code(),
                });
            }
        }
        Ok(())
    }

    /// The mappings of one source.
    pub fn for_source(&self, source: SourceKind) -> impl Iterator<Item = &Mapping> {
        self.mappings.iter().filter(move |m| m.source == source)
    }

    /// The groups a category of a source counts towards.
    pub fn groups_of<'a>(&'a self, source: SourceKind, category: &'a str) -> impl Iterator<Item = &'a Mapping> {
        self.for_source(source).filter(move |m| m.category.eq_ignore_ascii_case(category))
    }

    /// Whether a category of a source counts towards the headline total.
    pub fn in_headline(&self, source: SourceKind, category: &str) -> bool {
        self.groups_of(source, category).any(|m| m.in_headline)
    }
}

fn mapping(source: SourceKind, category: &str, group: SvGroup, fit: Fit, in_headline: bool, note: &str) -> Mapping {
    Mapping { source, category: category.into(), group, fit, in_headline, note: note.into() }
}

fn gap(source: SourceKind, group: SvGroup, note: &str) -> Gap {
    Gap { source, group, note: note.into() }
}

/// The default definition shipped with Alliance (stored as version 1 on first use).
///
/// For data.police.uk it can only be a proxy: the 14 published crime types are coarse, carry
/// no weapon flag, no victim age or sex and no domestic flag. The headline "serious violence
/// (police proxy)" is violence and sexual offences + robbery + possession of weapons.
pub fn default_definition() -> Definition {
    use Fit::*;
    use SourceKind::*;
    use SvGroup::*;
    let mappings = vec![
        mapping(PoliceCrimeType, "Violence and sexual offences", SeriousAssault, Broader, true,
            "Mixes serious assault (GBH, wounding) with common assault without injury, stalking, harassment and sexual \
             offences; it also contains homicide, knife-enabled and domestic violence, none of which can be told apart. \
             Counts overstate serious assault."),
        mapping(PoliceCrimeType, "Robbery", Robbery, Exact, true,
            "Robbery of personal and business property; maps directly. No weapon flag, so knife-point robbery cannot be \
             separated."),
        mapping(PoliceCrimeType, "Possession of weapons", PossessionOfWeapons, Exact, true,
            "Possession of an article with a blade or point, offensive weapons and firearms possession; maps directly, \
             but knives and firearms cannot be told apart. Largely reflects police activity (stop and search)."),
        mapping(PoliceCrimeType, "Drugs", CountyLinesDrugSupply, Proxy, false,
            "Drug offences are mostly possession, not supply, and none are flagged as county lines. Shown as context \
             only; never counted as serious violence."),
        mapping(Icd10, "X99", KnifeAndSharpObject, Exact, true, "Assault by sharp object (ICD-10 X99)."),
        mapping(Icd10, "X93", Firearms, Exact, true, "Assault by handgun discharge (ICD-10 X93)."),
        mapping(Icd10, "X94", Firearms, Exact, true, "Assault by rifle, shotgun and larger firearm discharge (X94)."),
        mapping(Icd10, "X95", Firearms, Exact, true, "Assault by other and unspecified firearm discharge (X95)."),
        mapping(Icd10, "Y00", SeriousAssault, Exact, true, "Assault by blunt object (ICD-10 Y00)."),
        mapping(Icd10, "Y04", SeriousAssault, Broader, true, "Assault by bodily force (ICD-10 Y04)."),
        mapping(Icd10, "Y09", SeriousAssault, Broader, true, "Assault by unspecified means (ICD-10 Y09)."),
        // ED method codes: Alliance's ISTV code list (alliance_ingest::ed::codes::ASSAULT_METHODS).
        mapping(EdAssaultMethod, "06", KnifeAndSharpObject, Exact, true, "06 Knife or other bladed or sharp object."),
        mapping(EdAssaultMethod, "07", KnifeAndSharpObject, Exact, true, "07 Glass or bottle (a sharp object)."),
        mapping(EdAssaultMethod, "09", Firearms, Exact, true, "09 Firearm, including air weapons."),
        mapping(EdAssaultMethod, "08", SeriousAssault, Exact, true, "08 Blunt object (bat, club, tool)."),
        mapping(EdAssaultMethod, "05", SeriousAssault, Exact, true, "05 Strangulation or suffocation."),
        mapping(EdAssaultMethod, "10", SeriousAssault, Exact, true, "10 Corrosive substance, burning or scalding."),
        mapping(EdAssaultMethod, "01", SeriousAssault, Broader, true,
            "01 Hit, punch or slap: an ED attendance, so an injury, but severity is unknown."),
        mapping(EdAssaultMethod, "02", SeriousAssault, Broader, true, "02 Kick: severity unknown."),
        mapping(EdAssaultMethod, "03", SeriousAssault, Broader, true, "03 Head-butt: severity unknown."),
        mapping(EdAssaultMethod, "04", SeriousAssault, Broader, true, "04 Bite: severity unknown."),
        mapping(EdAssaultMethod, "11", SeriousAssault, Broader, true, "11 Thrown object: severity unknown."),
        mapping(EdAssaultMethod, "12", SeriousAssault, Broader, true, "12 Pushed or knocked over: severity unknown."),
        mapping(EdAssaultMethod, "98", SeriousAssault, Broader, true, "98 Other method (described in free text)."),
        mapping(EdAssaultMethod, "99", SeriousAssault, Broader, true, "99 Method not known."),
    ];
    let gaps = vec![
        gap(PoliceCrimeType, Homicide, "Homicide is inside 'Violence and sexual offences' and cannot be counted."),
        gap(PoliceCrimeType, KnifeAndSharpObject, "data.police.uk has no weapon flag: knife crime cannot be counted."),
        gap(PoliceCrimeType, Firearms, "data.police.uk has no weapon flag: gun crime cannot be counted."),
        gap(
            PoliceCrimeType,
            PublicPlaceVawg,
            "No victim sex and no place type: public-place violence against women and girls cannot be counted.",
        ),
        gap(EdAssaultMethod, CountyLinesDrugSupply, "ED data records injuries, not drug markets."),
    ];
    Definition {
        version: 0,
        name: "Alliance default (data.police.uk proxy)".into(),
        created: String::new(),
        notes: "Serious violence as in the Serious Violence Duty statutory guidance (homicide, knife and gun crime, \
                serious assault, robbery, possession of weapons, public-place VAWG, county-lines drug supply). With \
                data.police.uk street-level data only a proxy is possible: the headline counts violence and sexual \
                offences, robbery and possession of weapons, and overstates serious violence because common assault \
                is included. ED assault method codes are Alliance's ISTV code list; edit this definition when the national \
                list replaces it."
            .into(),
        mappings,
        gaps,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid_and_maps_police_types() {
        let d = default_definition();
        d.validate().unwrap();
        assert!(d.in_headline(SourceKind::PoliceCrimeType, "robbery"));
        assert!(d.in_headline(SourceKind::PoliceCrimeType, "Violence and sexual offences"));
        assert!(!d.in_headline(SourceKind::PoliceCrimeType, "Drugs"), "drugs is context, not serious violence");
        assert!(!d.in_headline(SourceKind::PoliceCrimeType, "Shoplifting"));
        assert_eq!(d.groups_of(SourceKind::Icd10, "x99").next().map(|m| m.group), Some(SvGroup::KnifeAndSharpObject));
        assert!(d.gaps.iter().any(|g| g.group == SvGroup::KnifeAndSharpObject && g.note.contains("weapon flag")));
    }

    #[test]
    fn rejects_duplicates_and_empty() {
        let mut d = default_definition();
        d.mappings.push(d.mappings[1].clone());
        assert!(matches!(d.validate(), Err(DefinitionError::Duplicate { .. })));
        let mut d = default_definition();
        d.mappings[0].category = " ".into();
        assert_eq!(d.validate(), Err(DefinitionError::EmptyCategory { index: 0 }));
    }

    #[test]
    fn round_trips_as_json() {
        let d = default_definition();
        let text = serde_json::to_string(&d).unwrap();
        let back: Definition = serde_json::from_str(&text).unwrap();
        assert_eq!(back, d);
        assert!(text.contains("\"group\":\"knife_and_sharp_object\""), "{text}");
        assert!(text.contains("\"source\":\"police_crime_type\""), "{text}");
        assert_eq!(SvGroup::parse("public_place_vawg"), Ok(SvGroup::PublicPlaceVawg));
        assert_eq!(SourceKind::parse("icd10"), Ok(SourceKind::Icd10));
        assert_eq!(Fit::parse("proxy"), Ok(Fit::Proxy));
        assert_eq!(
            SvGroup::parse("knife crime").map_err(|e| e.to_string()),
            Err("unknown serious violence group \"knife crime\": expected one of homicide, knife_and_sharp_object, \
                 firearms, serious_assault, robbery, possession_of_weapons, public_place_vawg, county_lines_drug_supply"
                .to_string())
        );
    }
}
