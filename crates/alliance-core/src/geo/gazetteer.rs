//! A gazetteer of named places (streets from police data, known venues) and the matching of
//! free-text location descriptions against it, with a confidence for each match.
//!
//! Conventions:
//! - Text is normalised before any comparison ([`normalise`]): lower case, punctuation to
//!   spaces, common abbreviations expanded (`st` → `street` unless first, `rd` → `road` …),
//!   filler words dropped (`on`, `or`, `near`, `outside`, `the` …), so police's
//!   "On or near Church Street" and a nurse's "outside the shop, church st" share "church street".
//! - **High**: the whole text equals one place's name, and only one place has that name.
//! - **Medium**: one place's name appears word for word inside the text, or the text is
//!   within Jaro–Winkler similarity 0.92 of one place's name (compared over the same number
//!   of words), with no other place as close.
//! - **Low**: the best match is shared by places in different districts (e.g. a "High Street"
//!   in several towns), or the similarity is between 0.85 and 0.92. Low matches are for a
//!   person to confirm.
//! - Below 0.85: no match.
//!
//! Jaro–Winkler: Winkler (1990), "String comparator metrics and enhanced decision rules in
//! the Fellegi–Sunter model of record linkage", as implemented by the `strsim` crate.

use std::collections::HashMap;

use serde::Serialize;

/// What kind of place an entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PlaceKind {
    Street,
    Venue,
}

impl PlaceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PlaceKind::Street => "street",
            PlaceKind::Venue => "venue",
        }
    }
}

/// A named place with a point (WGS84).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Place {
    pub kind: PlaceKind,
    pub name: String,
    pub district: Option<String>,
    pub longitude: f64,
    pub latitude: f64,
}

/// How sure a match is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

impl Confidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::High => "high",
            Confidence::Medium => "medium",
            Confidence::Low => "low",
        }
    }
}

/// The best place for a text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GeoMatch {
    /// Index into [`Gazetteer::places`].
    pub place: usize,
    pub confidence: Confidence,
    /// 1.0 for an exact match, 0.9 for a name found inside the text, else Jaro–Winkler.
    pub score: f64,
}

/// Threshold for a medium-confidence fuzzy match.
pub const MEDIUM_SIMILARITY: f64 = 0.92;
/// Threshold below which there is no match.
pub const LOW_SIMILARITY: f64 = 0.85;
const CONTAINED_SCORE: f64 = 0.9;

const FILLER: &[&str] = &["on", "or", "near", "nr", "outside", "opposite", "opp", "os", "at", "in", "by", "the"];
const ABBREVIATIONS: &[(&str, &str)] = &[
    ("st", "street"),
    ("rd", "road"),
    ("ave", "avenue"),
    ("ln", "lane"),
    ("sq", "square"),
    ("cres", "crescent"),
    ("dr", "drive"),
    ("pl", "place"),
    ("gdns", "gardens"),
    ("ct", "court"),
];
/// Words that say what kind of way a street is: not distinctive on their own.
const STREET_TYPES: &[&str] = &[
    "street", "road", "avenue", "lane", "square", "crescent", "drive", "place", "gardens", "court", "close", "way",
    "row", "walk", "grove", "hill", "terrace", "park", "green", "view",
];

/// Normalised words of a text (see the module documentation).
pub fn normalise_words(text: &str) -> Vec<String> {
    let lower = text.to_lowercase();
    let cleaned: String = lower.chars().map(|c| if c.is_alphanumeric() { c } else { ' ' }).collect();
    let mut words = Vec::new();
    for (i, w) in cleaned.split_whitespace().enumerate() {
        if FILLER.contains(&w) {
            continue;
        }
        let expanded = match ABBREVIATIONS.iter().find(|(a, _)| *a == w) {
            Some(("st", _)) if i == 0 => "saint",
            Some((_, full)) => full,
            None => w,
        };
        words.push(expanded.to_string());
    }
    words
}

/// The normalised text: its words joined by single spaces.
pub fn normalise(text: &str) -> String {
    normalise_words(text).join(" ")
}

/// Names in police data that are kinds of place, not places ("On or near Supermarket").
const GENERIC_POLICE_NAMES: &[&str] = &[
    "supermarket",
    "parking area",
    "petrol station",
    "nightclub",
    "sports recreation area",
    "shopping area",
    "police station",
    "hospital",
    "further higher educational building",
    "conference exhibition centre",
    "theatre concert hall",
    "bus coach station",
    "pedestrian subway",
    "park open space",
    "airport airfield",
    "prison",
    "train station",
    "hotel motel",
    "church",
];

/// Whether a police location name is a kind of place rather than a named place.
pub fn is_generic_police_name(name: &str) -> bool {
    GENERIC_POLICE_NAMES.contains(&normalise(name).as_str())
}

/// The places, indexed for matching.
#[derive(Debug, Clone, Default)]
pub struct Gazetteer {
    places: Vec<Place>,
    /// Normalised name of each place.
    names: Vec<String>,
    /// Word count of each place's normalised name.
    word_counts: Vec<usize>,
    exact: HashMap<String, Vec<usize>>,
    /// First two letters of each distinctive word → places.
    by_prefix: HashMap<String, Vec<usize>>,
}

fn prefix(word: &str) -> String {
    word.chars().take(2).collect()
}

impl Gazetteer {
    pub fn new(places: Vec<Place>) -> Gazetteer {
        let mut g = Gazetteer { places: Vec::new(), ..Gazetteer::default() };
        for place in places {
            let words = normalise_words(&place.name);
            if words.is_empty() {
                continue;
            }
            let i = g.places.len();
            let name = words.join(" ");
            g.exact.entry(name.clone()).or_default().push(i);
            for w in words.iter().filter(|w| !STREET_TYPES.contains(&w.as_str())) {
                let list = g.by_prefix.entry(prefix(w)).or_default();
                if list.last() != Some(&i) {
                    list.push(i);
                }
            }
            g.word_counts.push(words.len());
            g.names.push(name);
            g.places.push(place);
        }
        g
    }

    pub fn places(&self) -> &[Place] {
        &self.places
    }

    pub fn is_empty(&self) -> bool {
        self.places.is_empty()
    }

    /// Confidence when `ids` all share the best score: one place, or several in one district
    /// with the same name (the same street split by police points) is unambiguous.
    fn ambiguous(&self, ids: &[usize]) -> bool {
        let first = &self.places[ids[0]];
        ids.iter().any(|&i| self.places[i].district != first.district || self.names[i] != self.names[ids[0]])
    }

    /// The best place for a free-text description, or `None` when nothing is close enough.
    pub fn locate(&self, text: &str) -> Option<GeoMatch> {
        let words = normalise_words(text);
        if words.is_empty() {
            return None;
        }
        let whole = words.join(" ");
        if let Some(ids) = self.exact.get(&whole) {
            let confidence = if self.ambiguous(ids) { Confidence::Low } else { Confidence::High };
            return Some(GeoMatch { place: ids[0], confidence, score: 1.0 });
        }
        // The longest span of words that is a place's name.
        for len in (1..words.len()).rev() {
            for start in 0..=words.len() - len {
                let span = &words[start..start + len];
                if len == 1 && STREET_TYPES.contains(&span[0].as_str()) {
                    continue;
                }
                if let Some(ids) = self.exact.get(&span.join(" ")) {
                    let confidence = if self.ambiguous(ids) { Confidence::Low } else { Confidence::Medium };
                    return Some(GeoMatch { place: ids[0], confidence, score: CONTAINED_SCORE });
                }
            }
        }
        let ranked = self.fuzzy(&words);
        let (best, score) = *ranked.first()?;
        if score < LOW_SIMILARITY {
            return None;
        }
        let tied: Vec<usize> = ranked.iter().take_while(|(_, s)| *s > score - 0.02).map(|(i, _)| *i).collect();
        let confidence =
            if score >= MEDIUM_SIMILARITY && !self.ambiguous(&tied) { Confidence::Medium } else { Confidence::Low };
        Some(GeoMatch { place: best, confidence, score })
    }

    /// Places ranked by Jaro–Winkler similarity to the text (best first), among the places
    /// sharing the first two letters of a distinctive word with it.
    fn fuzzy(&self, words: &[String]) -> Vec<(usize, f64)> {
        let mut candidates: Vec<usize> = words
            .iter()
            .filter(|w| !STREET_TYPES.contains(&w.as_str()))
            .filter_map(|w| self.by_prefix.get(&prefix(w)))
            .flatten()
            .copied()
            .collect();
        candidates.sort_unstable();
        candidates.dedup();
        let mut ranked: Vec<(usize, f64)> = candidates
            .into_iter()
            .map(|i| {
                let n = self.word_counts[i];
                let best_span = if words.len() > n {
                    words
                        .windows(n)
                        .map(|span| strsim::jaro_winkler(&span.join(" "), &self.names[i]))
                        .fold(0.0, f64::max)
                } else {
                    0.0
                };
                (i, best_span.max(strsim::jaro_winkler(&words.join(" "), &self.names[i])))
            })
            .collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        ranked
    }

    /// Up to `n` candidate places for a text, best first, for a person to choose from: exact
    /// and contained names first, then the closest by similarity.
    pub fn candidates(&self, text: &str, n: usize) -> Vec<(usize, f64)> {
        let words = normalise_words(text);
        let mut out: Vec<(usize, f64)> = Vec::new();
        let push = |i: usize, s: f64, out: &mut Vec<(usize, f64)>| {
            if !out.iter().any(|(j, _)| *j == i) {
                out.push((i, s));
            }
        };
        for len in (1..=words.len()).rev() {
            for start in 0..=words.len() - len {
                let span = &words[start..start + len];
                if len == 1 && STREET_TYPES.contains(&span[0].as_str()) {
                    continue;
                }
                if let Some(ids) = self.exact.get(&span.join(" ")) {
                    for &i in ids {
                        push(i, if len == words.len() { 1.0 } else { CONTAINED_SCORE }, &mut out);
                    }
                }
            }
        }
        for (i, s) in self.fuzzy(&words) {
            if out.len() >= n || s < 0.75 {
                break;
            }
            push(i, s, &mut out);
        }
        out.truncate(n);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn street(name: &str, district: &str) -> Place {
        Place {
            kind: PlaceKind::Street,
            name: name.into(),
            district: Some(district.into()),
            longitude: -2.18,
            latitude: 53.02,
        }
    }

    fn gazetteer() -> Gazetteer {
        Gazetteer::new(vec![
            street("Piccadilly", "E06000021"),
            street("Marsh Street", "E06000021"),
            street("Church Street", "E06000021"),
            street("Church Street", "E07000195"),
            street("Greengate Street", "E07000197"),
            Place {
                kind: PlaceKind::Venue,
                name: "The Red Lion".into(),
                district: Some("E07000197".into()),
                longitude: -2.1,
                latitude: 52.8,
            },
        ])
    }

    #[test]
    fn normalising() {
        assert_eq!(normalise("On or near Church Street"), "church street");
        assert_eq!(normalise("outside the shop, Church St."), "shop church street");
        assert_eq!(normalise("St Johns Rd"), "saint johns road");
    }

    #[test]
    fn exact_unique_name_is_high() {
        let g = gazetteer();
        let m = g.locate("MARSH ST").unwrap();
        assert_eq!(g.places()[m.place].name, "Marsh Street");
        assert_eq!((m.confidence, m.score), (Confidence::High, 1.0));
    }

    #[test]
    fn exact_name_in_two_districts_is_low() {
        let g = gazetteer();
        let m = g.locate("church street").unwrap();
        assert_eq!(m.confidence, Confidence::Low);
        assert_eq!(g.candidates("church street", 5).len(), 2);
    }

    #[test]
    fn contained_name_is_medium() {
        let g = gazetteer();
        let m = g.locate("Red Lion pub, Greengate St").unwrap();
        // Two names of two words are inside the text; the first in reading order is taken.
        assert_eq!(g.places()[m.place].name, "The Red Lion");
        assert_eq!((m.confidence, m.score), (Confidence::Medium, 0.9));
    }

    #[test]
    fn misspelling_is_fuzzy() {
        let g = gazetteer();
        // "Grenegate" vs "greengate": Jaro–Winkler of the two-word spans is above 0.92.
        let m = g.locate("outside Grenegate Street").unwrap();
        assert_eq!(g.places()[m.place].name, "Greengate Street");
        assert_eq!(m.confidence, Confidence::Medium);
        assert!(m.score >= MEDIUM_SIMILARITY && m.score < 1.0, "{}", m.score);
        // Nothing like any place: no match.
        assert_eq!(g.locate("Own home"), None);
    }
}
