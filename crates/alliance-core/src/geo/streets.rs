//! Streets named in police data as places a person can type ("Church Street", "church st",
//! "Church Street, Hanley"), each told apart from other streets of the same name.
//!
//! Every data.police.uk record carries "On or near <street>" and the anonymised snap point it
//! was moved to. The points of one street name are grouped into **places** by single linkage:
//! two points belong to the same place when a chain of points, each within
//! [`SAME_STREET_METRES`] of the next, joins them, so a long road stays one place while the
//! Church Streets of two towns stay two. A place is named by the area (ward, else district)
//! holding most of its crimes; stretches of one name more than 1 km apart inside one ward are
//! taken as one place, since their ward is all a reporter could add to tell them apart.
//!
//! A place's point is the snap point nearest the crime-weighted centre of its points in that
//! area: a snap point lies on the street, where a mean of a curved street's points may not.
//!
//! Text is compared after [`normalise_words`] (the ED gazetteer's rules: case, punctuation and
//! spacing ignored, filler words such as "on", "near", "in" and "the" dropped, and the common
//! abbreviations expanded: `st` → `street` (but `saint` as the first word), `rd` → `road`,
//! `ave` → `avenue`, `ln` → `lane`, and a few more listed there). Words after a street's name
//! say where it is: every one of them must appear in the name of an area the place touches
//! or of that area's district.
//!
//! Why not the ED [`Gazetteer`](super::gazetteer::Gazetteer): it keeps one point per street
//! and district (the mean of all its points), which merges the streets of different towns of
//! one district into a point between them; a public report must not be put there.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::gazetteer::{is_generic_police_name, normalise_words};

/// Points of one street name closer than this (in metres, chained) are one place.
pub const SAME_STREET_METRES: f64 = 1_000.0;

/// One snap point of a named street with its crimes and the area holding it.
#[derive(Debug, Clone, PartialEq)]
pub struct StreetPoint {
    /// The street as police name it, without "On or near ".
    pub name: String,
    pub longitude: f64,
    pub latitude: f64,
    /// British National Grid metres.
    pub easting: f64,
    pub northing: f64,
    pub crimes: i64,
    /// Index into the areas given alongside the points; `None` outside them all.
    pub area: Option<usize>,
}

/// An area streets lie in, named as people name places (a ward, or a district).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreetArea {
    pub name: String,
    /// The name of the area's district, when the area is smaller than one.
    pub district_name: Option<String>,
}

/// A street of one name in one place.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StreetPlace {
    /// The street as police name it.
    pub name: String,
    /// The area holding most of its crimes (index into the areas the index was built with).
    pub area: usize,
    /// "Church Street, Etruria & Hanley, Stoke-on-Trent": what staff see and a reporter types
    /// to choose this one.
    pub label: String,
    /// A snap point of the street (WGS84).
    pub longitude: f64,
    pub latitude: f64,
    /// Crimes recorded at its points.
    pub crimes: i64,
    /// Normalised words of the names of every area it touches and of their districts.
    #[serde(skip)]
    where_words: Vec<String>,
}

/// What a typed text is, as a street.
#[derive(Debug, Clone, PartialEq)]
pub enum StreetLookup<'a> {
    /// No street has that name.
    NotAStreet,
    /// One place.
    Found(&'a StreetPlace),
    /// Several places fit: the reporter must say which (sorted by label).
    Several(Vec<&'a StreetPlace>),
    /// The street exists, but not in the place named after it: these are where it is.
    NotIn { qualifier: String, choices: Vec<&'a StreetPlace> },
}

/// Street places by normalised name.
#[derive(Debug, Clone, Default)]
pub struct StreetIndex {
    places: Vec<StreetPlace>,
    by_name: HashMap<String, Vec<usize>>,
}

/// Groups of point indices joined by chains of points within [`SAME_STREET_METRES`].
fn link(points: &[&StreetPoint]) -> Vec<Vec<usize>> {
    let mut parent: Vec<usize> = (0..points.len()).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    let mut order: Vec<usize> = (0..points.len()).collect();
    order.sort_by(|&a, &b| points[a].easting.total_cmp(&points[b].easting));
    for (k, &i) in order.iter().enumerate() {
        for &j in &order[k + 1..] {
            let dx = points[j].easting - points[i].easting;
            if dx > SAME_STREET_METRES {
                break;
            }
            let dy = points[j].northing - points[i].northing;
            if dx.hypot(dy) <= SAME_STREET_METRES {
                let (a, b) = (root(&mut parent, i), root(&mut parent, j));
                parent[a.max(b)] = a.min(b);
            }
        }
    }
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for i in 0..points.len() {
        let r = root(&mut parent, i);
        groups.entry(r).or_default().push(i);
    }
    groups.into_values().collect()
}

fn label(name: &str, area: &StreetArea) -> String {
    match &area.district_name {
        Some(d) if !d.eq_ignore_ascii_case(&area.name) => format!("{name}, {}, {d}", area.name),
        _ => format!("{name}, {}", area.name),
    }
}

impl StreetIndex {
    /// Builds the places from snap points (one per street name and point; repeats are added
    /// up) and the areas the points' `area` indices refer to. Points in no area are left out
    /// (they lie outside the partnership's areas, with nothing to name them by), and so are
    /// police names of kinds of place ("Supermarket", "Parking Area").
    pub fn new(points: &[StreetPoint], areas: &[StreetArea]) -> StreetIndex {
        let mut by_key: BTreeMap<String, Vec<&StreetPoint>> = BTreeMap::new();
        for p in points {
            let Some(area) = p.area else { continue };
            if area >= areas.len() || p.crimes <= 0 || is_generic_police_name(&p.name) {
                continue;
            }
            let key = normalise_words(&p.name).join(" ");
            if !key.is_empty() {
                by_key.entry(key).or_default().push(p);
            }
        }
        let mut index = StreetIndex::default();
        for (key, points) in by_key {
            // The police spelling with the most crimes names the street.
            let mut spellings: BTreeMap<&str, i64> = BTreeMap::new();
            for p in &points {
                *spellings.entry(p.name.as_str()).or_default() += p.crimes;
            }
            let name = spellings.iter().max_by_key(|(_, n)| **n).map_or("", |(s, _)| *s).to_string();
            // Each linked group's main area; groups sharing it become one place.
            let mut by_area: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
            for group in link(&points) {
                let mut crimes: BTreeMap<usize, i64> = BTreeMap::new();
                for &i in &group {
                    if let Some(a) = points[i].area {
                        *crimes.entry(a).or_default() += points[i].crimes;
                    }
                }
                // Most crimes; on a tie, the lowest area index.
                let Some((&main, _)) = crimes.iter().max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0))) else { continue };
                by_area.entry(main).or_default().extend(group);
            }
            let mut ids = Vec::new();
            for (area, members) in by_area {
                let inside: Vec<&StreetPoint> =
                    members.iter().map(|&i| points[i]).filter(|p| p.area == Some(area)).collect();
                let crimes: i64 = members.iter().map(|&i| points[i].crimes).sum();
                let weight: f64 = inside.iter().map(|p| p.crimes as f64).sum();
                let cx = inside.iter().map(|p| p.easting * p.crimes as f64).sum::<f64>() / weight;
                let cy = inside.iter().map(|p| p.northing * p.crimes as f64).sum::<f64>() / weight;
                let Some(at) = inside.iter().min_by(|a, b| {
                    (a.easting - cx).hypot(a.northing - cy).total_cmp(&(b.easting - cx).hypot(b.northing - cy))
                }) else {
                    continue;
                };
                let mut where_words: Vec<String> = members
                    .iter()
                    .filter_map(|&i| points[i].area)
                    .flat_map(|a| {
                        let a = &areas[a];
                        let mut words = normalise_words(&a.name);
                        words.extend(a.district_name.as_deref().map(normalise_words).unwrap_or_default());
                        words
                    })
                    .collect();
                where_words.sort();
                where_words.dedup();
                ids.push(index.places.len());
                index.places.push(StreetPlace {
                    label: label(&name, &areas[area]),
                    name: name.clone(),
                    area,
                    longitude: at.longitude,
                    latitude: at.latitude,
                    crimes,
                    where_words,
                });
            }
            if !ids.is_empty() {
                ids.sort_by(|&a, &b| index.places[a].label.cmp(&index.places[b].label));
                index.by_name.insert(key, ids);
            }
        }
        index
    }

    pub fn places(&self) -> &[StreetPlace] {
        &self.places
    }

    pub fn is_empty(&self) -> bool {
        self.places.is_empty()
    }

    /// Looks a typed text up: the longest run of its first words that is a street's name,
    /// then the words after it, if any, as the place it is in.
    pub fn lookup(&self, text: &str) -> StreetLookup<'_> {
        let words = normalise_words(text);
        for len in (1..=words.len()).rev() {
            let Some(ids) = self.by_name.get(&words[..len].join(" ")) else { continue };
            let all: Vec<&StreetPlace> = ids.iter().map(|&i| &self.places[i]).collect();
            let qualifier = &words[len..];
            let fitting: Vec<&StreetPlace> = all
                .iter()
                .copied()
                .filter(|p| qualifier.iter().all(|w| p.where_words.binary_search(w).is_ok()))
                .collect();
            return match fitting.len() {
                1 => StreetLookup::Found(fitting[0]),
                0 => StreetLookup::NotIn { qualifier: qualifier.join(" "), choices: all },
                _ => StreetLookup::Several(fitting),
            };
        }
        StreetLookup::NotAStreet
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A point `km` kilometres east of a common origin.
    fn point(name: &str, km_east: f64, crimes: i64, area: usize) -> StreetPoint {
        StreetPoint {
            name: name.into(),
            longitude: -2.18 + km_east / 67.0,
            latitude: 53.02,
            easting: 388_000.0 + km_east * 1000.0,
            northing: 346_000.0,
            crimes,
            area: Some(area),
        }
    }

    fn areas() -> Vec<StreetArea> {
        vec![
            StreetArea { name: "Etruria & Hanley".into(), district_name: Some("Stoke-on-Trent".into()) },
            StreetArea { name: "Leek North".into(), district_name: Some("Staffordshire Moorlands".into()) },
            StreetArea { name: "Cannock Chase".into(), district_name: None },
        ]
    }

    fn index() -> StreetIndex {
        StreetIndex::new(
            &[
                // One long Marsh Street: points 0.8 km apart chain together across 2.4 km.
                point("Marsh Street", 0.0, 3, 0),
                point("Marsh Street", 0.8, 1, 0),
                point("Marsh Street", 1.6, 1, 0),
                point("Marsh Street", 2.4, 5, 0),
                // Church Street in three towns.
                point("Church Street", 0.0, 4, 0),
                point("Church Street", 20.0, 2, 1),
                point("Church Street", 40.0, 1, 2),
                // A kind of place, and a point in no area.
                point("Supermarket", 5.0, 9, 0),
                StreetPoint { area: None, ..point("Nowhere Lane", 5.0, 1, 0) },
                point("St Johns Road", 3.0, 1, 1),
                point("Park Avenue", 3.0, 1, 1),
                point("Mill Lane", 4.0, 1, 1),
            ],
            &areas(),
        )
    }

    #[test]
    fn typed_names_are_normalised_and_abbreviations_expanded() {
        let g = index();
        for typed in ["Marsh Street", "  MARSH   street ", "marsh st", "Marsh St.", "on marsh street"] {
            match g.lookup(typed) {
                StreetLookup::Found(p) => assert_eq!(p.name, "Marsh Street", "{typed}"),
                other => panic!("{typed}: {other:?}"),
            }
        }
        for (typed, street) in [("park ave", "Park Avenue"), ("mill ln", "Mill Lane"), ("st johns rd", "St Johns Road")]
        {
            assert!(matches!(g.lookup(typed), StreetLookup::Found(p) if p.name == street), "{typed}");
        }
        assert_eq!(g.lookup("Atlantis"), StreetLookup::NotAStreet);
        assert_eq!(g.lookup(""), StreetLookup::NotAStreet);
        // Kinds of place and points in no area are not streets a reporter can name.
        assert_eq!(g.lookup("supermarket"), StreetLookup::NotAStreet);
        assert_eq!(g.lookup("Nowhere Lane"), StreetLookup::NotAStreet);
    }

    #[test]
    fn a_long_street_is_one_place_at_one_of_its_points() {
        let g = index();
        let StreetLookup::Found(p) = g.lookup("marsh street") else { panic!("Marsh Street") };
        assert_eq!(p.crimes, 10);
        // Weighted centre: (0×3 + 0.8 + 1.6 + 2.4×5) / 10 = 1.44 km east; the nearest point is 1.6.
        assert!((p.longitude - (-2.18 + 1.6 / 67.0)).abs() < 1e-9, "{}", p.longitude);
        assert_eq!(p.label, "Marsh Street, Etruria & Hanley, Stoke-on-Trent");
    }

    #[test]
    fn one_name_in_several_places_needs_a_place_to_choose() {
        let g = index();
        let StreetLookup::Several(choices) = g.lookup("Church St") else { panic!("several Church Streets") };
        let labels: Vec<&str> = choices.iter().map(|p| p.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "Church Street, Cannock Chase",
                "Church Street, Etruria & Hanley, Stoke-on-Trent",
                "Church Street, Leek North, Staffordshire Moorlands"
            ]
        );
        // The place after the name, with or without a comma, by ward or district words.
        for (typed, area) in [
            ("Church Street, Hanley", 0),
            ("church st hanley", 0),
            ("Church Street in Stoke-on-Trent", 0),
            ("Church Street, Leek North, Staffordshire Moorlands", 1),
            ("CHURCH STREET, cannock", 2),
        ] {
            assert!(matches!(g.lookup(typed), StreetLookup::Found(p) if p.area == area), "{typed}");
        }
        match g.lookup("Church Street, Atlantis") {
            StreetLookup::NotIn { qualifier, choices } => {
                assert_eq!(qualifier, "atlantis");
                assert_eq!(choices.len(), 3);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn far_stretches_in_one_ward_are_one_place() {
        let g = StreetIndex::new(
            &[point("Mill Lane", 0.0, 1, 1), point("Mill Lane", 3.0, 2, 1), point("Mill Lane", 30.0, 1, 0)],
            &areas(),
        );
        let StreetLookup::Several(choices) = g.lookup("mill lane") else { panic!("two places") };
        assert_eq!(choices.len(), 2);
        let leek = choices.iter().find(|p| p.area == 1).expect("Leek North");
        assert_eq!(leek.crimes, 3);
    }
}
