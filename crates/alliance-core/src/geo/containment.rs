//! Which polygon contains which point: used to link LSOAs of the 2011 and 2021 censuses
//! when no official lookup is at hand.

use geo::{BoundingRect, Contains, InteriorPoint, MultiPolygon, Point};

/// A named area outline in any one coordinate system.
#[derive(Debug, Clone)]
pub struct AreaShape {
    pub code: String,
    pub shape: MultiPolygon<f64>,
}

/// One link between an old-vintage and a new-vintage area, with the share of the old
/// area's population that goes to the new one.
#[derive(Debug, Clone, PartialEq)]
pub struct VintageLink {
    pub old_code: String,
    pub new_code: String,
    pub weight: f64,
}

/// Links areas of two vintages (e.g. LSOA 2011 → LSOA 2021).
///
/// Rules, in order:
/// 1. a code present in both vintages links to itself (the area was unchanged);
/// 2. a new area whose code is new takes as parent the old area containing its interior
///    point (a split, or a boundary change);
/// 3. an old area whose code disappeared and was not already a parent links to the new
///    area containing its interior point (a merge).
///
/// The weight of each link is the old area's share split equally among the new areas it
/// links to (so population apportioned this way always adds up). Areas with no match are
/// left unlinked.
pub fn link_vintages(old: &[AreaShape], new: &[AreaShape]) -> Vec<VintageLink> {
    use std::collections::{BTreeMap, HashSet};
    let old_codes: HashSet<&str> = old.iter().map(|a| a.code.as_str()).collect();
    let new_codes: HashSet<&str> = new.iter().map(|a| a.code.as_str()).collect();
    let mut pairs: BTreeMap<(String, String), ()> = BTreeMap::new();
    for area in new {
        if old_codes.contains(area.code.as_str()) {
            pairs.insert((area.code.clone(), area.code.clone()), ());
        } else if let Some(parent) = interior_point(&area.shape).and_then(|p| containing(old, p)) {
            pairs.insert((parent.code.clone(), area.code.clone()), ());
        }
    }
    let parents: HashSet<String> = pairs.keys().map(|(o, _)| o.clone()).collect();
    for area in old {
        if new_codes.contains(area.code.as_str()) || parents.contains(&area.code) {
            continue;
        }
        if let Some(child) = interior_point(&area.shape).and_then(|p| containing(new, p)) {
            pairs.insert((area.code.clone(), child.code.clone()), ());
        }
    }
    let mut children: BTreeMap<&str, usize> = BTreeMap::new();
    for (old_code, _) in pairs.keys() {
        *children.entry(old_code.as_str()).or_default() += 1;
    }
    pairs
        .keys()
        .map(|(o, n)| VintageLink {
            old_code: o.clone(),
            new_code: n.clone(),
            weight: 1.0 / children[o.as_str()] as f64,
        })
        .collect()
}

/// A new-vintage area's population apportioned from its old-vintage parents by
/// [`apportion_populations`], and the parent that gave it most.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Apportioned {
    /// `None` when a parent's population is not known (a partial sum would understate it),
    /// or when every parent kept its own code (see [`apportion_populations`]).
    pub population: Option<i64>,
    /// The parent whose share was largest (the first in code order on a tie).
    pub main_parent: Option<String>,
}

/// Apportions old-vintage populations to the new-vintage areas with a new code, in whole
/// residents, so that what each parent gives away adds up to its population exactly.
///
/// Conventions:
/// - a parent's population `p` is split equally among its new-code children, in code
///   order: each gets `p / k`, and the first `p % k` one more (largest remainder; splitting
///   by the rounded `p · weight` instead let two halves of 1,501 make 1,502);
/// - a parent whose code is also a new code kept its population in its unchanged area, so it
///   gives none to others (giving a share too would count those residents twice);
/// - a child with any parent of unknown population, or with no parent that gives, gets `None`.
///
/// Only children with a new code appear in the result; unchanged areas keep their row.
pub fn apportion_populations(
    links: &[VintageLink],
    population_of: impl Fn(&str) -> Option<i64>,
) -> std::collections::BTreeMap<String, Apportioned> {
    use std::collections::{BTreeMap, BTreeSet};
    let kept: BTreeSet<&str> = links.iter().filter(|l| l.old_code == l.new_code).map(|l| l.old_code.as_str()).collect();
    let mut children_of: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for l in links.iter().filter(|l| l.old_code != l.new_code) {
        children_of.entry(l.old_code.as_str()).or_default().insert(l.new_code.as_str());
    }
    // Per child: the shares so far, whether every parent's population is known, the
    // largest share and its parent.
    struct Sum<'a> {
        population: i64,
        complete: bool,
        gave: bool,
        best: Option<(i64, &'a str)>,
    }
    let mut sums: BTreeMap<&str, Sum> = BTreeMap::new();
    for (parent, children) in &children_of {
        let known = population_of(parent);
        let k = children.len() as i64;
        for (i, child) in children.iter().enumerate() {
            let sum = sums.entry(child).or_insert(Sum { population: 0, complete: true, gave: false, best: None });
            if kept.contains(parent) {
                continue;
            }
            let Some(p) = known else {
                sum.complete = false;
                continue;
            };
            let share = p / k + i64::from((i as i64) < p % k);
            sum.population += share;
            sum.gave = true;
            if sum.best.is_none_or(|(s, b)| share > s || (share == s && *parent < b)) {
                sum.best = Some((share, parent));
            }
        }
    }
    sums.into_iter()
        .map(|(child, s)| {
            let population = (s.complete && s.gave).then_some(s.population);
            (child.to_string(), Apportioned { population, main_parent: s.best.map(|(_, p)| p.to_string()) })
        })
        .collect()
}

fn interior_point(shape: &MultiPolygon<f64>) -> Option<Point<f64>> {
    shape.interior_point()
}

/// The first area whose outline contains the point (a linear scan with a bounding-box
/// test first: LSOA sets are a few thousand areas per partnership).
fn containing(areas: &[AreaShape], point: Point<f64>) -> Option<&AreaShape> {
    areas.iter().find(|a| {
        a.shape.bounding_rect().is_some_and(|r| {
            let (x, y) = (point.x(), point.y());
            r.min().x <= x && x <= r.max().x && r.min().y <= y && y <= r.max().y
        }) && a.shape.contains(&point)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{polygon, MultiPolygon};

    fn square(code: &str, x0: f64, y0: f64, x1: f64, y1: f64) -> AreaShape {
        let p = polygon![(x: x0, y: y0), (x: x1, y: y0), (x: x1, y: y1), (x: x0, y: y1), (x: x0, y: y0)];
        AreaShape { code: code.into(), shape: MultiPolygon(vec![p]) }
    }

    fn link(old: &str, new: &str) -> VintageLink {
        VintageLink { old_code: old.into(), new_code: new.into(), weight: f64::NAN }
    }

    #[test]
    fn apportioned_children_add_up_to_their_parents_in_whole_residents() {
        // B (1,501) split in two; C (10) and D (7) merged; E (100) split in three.
        let links = [
            link("A", "A"),
            link("B", "B1"),
            link("B", "B2"),
            link("C", "CD"),
            link("D", "CD"),
            link("E", "E1"),
            link("E", "E2"),
            link("E", "E3"),
        ];
        let population = |c: &str| match c {
            "A" => Some(400),
            "B" => Some(1_501),
            "C" => Some(10),
            "D" => Some(7),
            "E" => Some(100),
            _ => None,
        };
        let got = apportion_populations(&links, population);
        let pop = |c: &str| got[c].population;
        // 1,501 = 751 + 750 (the first in code order takes the remainder), not 751 + 751.
        assert_eq!((pop("B1"), pop("B2")), (Some(751), Some(750)));
        assert_eq!(pop("CD"), Some(17));
        assert_eq!((pop("E1"), pop("E2"), pop("E3")), (Some(34), Some(33), Some(33)));
        assert!(!got.contains_key("A"), "an unchanged area keeps its own row");
        let total: i64 = got.values().filter_map(|a| a.population).sum();
        assert_eq!(total, 1_501 + 10 + 7 + 100);
        assert_eq!(got["CD"].main_parent.as_deref(), Some("C"));
        assert_eq!(got["B2"].main_parent.as_deref(), Some("B"));
    }

    #[test]
    fn unknown_parents_and_kept_codes_give_nothing_twice() {
        // F kept its code and also contains G's interior point: F's residents stay in F.
        // H's population is unknown, so HJ (H and J merged) is unknown, not J's alone.
        let links = [link("F", "F"), link("F", "G"), link("H", "HJ"), link("J", "HJ")];
        let population = |c: &str| match c {
            "F" => Some(900),
            "J" => Some(50),
            _ => None,
        };
        let got = apportion_populations(&links, population);
        assert_eq!(got["G"].population, None, "{got:?}");
        assert_eq!(got["HJ"].population, None, "{got:?}");
        assert_eq!(got["HJ"].main_parent.as_deref(), Some("J"));
    }

    #[test]
    fn links_unchanged_split_and_merged_areas() {
        let old = vec![
            square("A", 0.0, 0.0, 1.0, 1.0), // unchanged
            square("B", 1.0, 0.0, 3.0, 1.0), // split into B1, B2
            square("C", 3.0, 0.0, 4.0, 1.0), // merged with D into CD
            square("D", 4.0, 0.0, 5.0, 1.0),
        ];
        let new = vec![
            square("A", 0.0, 0.0, 1.0, 1.0),
            square("B1", 1.0, 0.0, 2.0, 1.0),
            square("B2", 2.0, 0.0, 3.0, 1.0),
            square("CD", 3.0, 0.0, 5.0, 1.0),
        ];
        let links = link_vintages(&old, &new);
        let find = |o: &str, n: &str| links.iter().find(|l| l.old_code == o && l.new_code == n).map(|l| l.weight);
        assert_eq!(find("A", "A"), Some(1.0));
        assert_eq!(find("B", "B1"), Some(0.5));
        assert_eq!(find("B", "B2"), Some(0.5));
        assert!(find("C", "CD").or(find("D", "CD")).is_some());
        assert!(find("C", "CD").is_some() && find("D", "CD").is_some(), "both merged areas link: {links:?}");
        let total_from_b: f64 = links.iter().filter(|l| l.old_code == "B").map(|l| l.weight).sum();
        assert!((total_from_b - 1.0).abs() < 1e-12);
    }
}
