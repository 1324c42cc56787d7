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
