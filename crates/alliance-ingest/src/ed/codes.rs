//! The code lists an ED assault file may use.
//!
//! The ISTV minimum data set (ISB 1594) codes ASSAULT METHOD and ASSAULT LOCATION TYPE, but
//! the national code lists were not available to us (they are published with the XML schema
//! on NHS TRUD, which we could not reach). These lists are therefore **Alliance's own**,
//! written from the categories Cardiff Model partnerships commonly report (weapon or body part
//! used; street, licensed premises, home …). They are data, not logic: when the national lists
//! are obtained, replace the tables below and the importer, the generator and the
//! documentation (`docs/formats/ed-assaults.md`) follow. Codes 98 ("other", with a
//! description) and 99 ("not known") follow the NHS habit for such lists.

/// ASSAULT METHOD: the weapon or body part used. `(code, label)`.
pub const ASSAULT_METHODS: &[(&str, &str)] = &[
    ("01", "Hit, punch or slap"),
    ("02", "Kick"),
    ("03", "Head-butt"),
    ("04", "Bite"),
    ("05", "Strangulation or suffocation"),
    ("06", "Knife or other bladed or sharp object"),
    ("07", "Glass or bottle"),
    ("08", "Blunt object (bat, club, tool)"),
    ("09", "Firearm"),
    ("10", "Corrosive substance, burning or scalding"),
    ("11", "Thrown object"),
    ("12", "Pushed or knocked over"),
    ("98", "Other (described in ASSAULT METHOD OTHER DESCRIPTION)"),
    ("99", "Not known"),
];

/// The method code that requires ASSAULT METHOD OTHER DESCRIPTION.
pub const METHOD_OTHER: &str = "98";

/// ASSAULT LOCATION TYPE: the kind of place the assault happened. `(code, label)`.
pub const LOCATION_TYPES: &[(&str, &str)] = &[
    ("01", "Street, road or pavement"),
    ("02", "Pub, bar or nightclub"),
    ("03", "Patient's own home"),
    ("04", "Other dwelling"),
    ("05", "Shop or shopping centre"),
    ("06", "Restaurant, takeaway or cafe"),
    ("07", "Park or open space"),
    ("08", "School, college or university"),
    ("09", "Workplace"),
    ("10", "Public transport, bus or railway station"),
    ("11", "Car park"),
    ("12", "Sports ground or leisure venue"),
    ("13", "Prison or police custody"),
    ("14", "Hospital or other health setting"),
    ("98", "Other"),
    ("99", "Not known"),
];

/// Optional AGE BAND (outside the minimum data set; regional hubs ask for it). Bands are
/// coarse on purpose: an exact age would help identify a patient.
pub const AGE_BANDS: &[(&str, &str)] = &[
    ("0-9", "0 to 9"),
    ("10-15", "10 to 15"),
    ("16-17", "16 to 17"),
    ("18-24", "18 to 24"),
    ("25-34", "25 to 34"),
    ("35-44", "35 to 44"),
    ("45-54", "45 to 54"),
    ("55-64", "55 to 64"),
    ("65+", "65 and over"),
];

/// Optional SEX, as the NHS "person stated gender" codes.
pub const SEXES: &[(&str, &str)] = &[("1", "Male"), ("2", "Female"), ("9", "Indeterminate"), ("X", "Not known")];

/// The label of `code` in `list`, if the code is on it.
pub fn label(list: &[(&'static str, &'static str)], code: &str) -> Option<&'static str> {
    list.iter().find(|(c, _)| *c == code).map(|(_, l)| *l)
}

/// The codes of a list, for messages: `01, 02, …`.
pub fn codes(list: &[(&str, &str)]) -> String {
    list.iter().map(|(c, _)| *c).collect::<Vec<_>>().join(", ")
}
