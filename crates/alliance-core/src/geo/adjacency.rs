//! Which areas (LSOAs, wards) touch, from their boundary polygons, and the outline of a
//! group of areas (a district drawn as the union of its LSOAs).
//!
//! Boundary files such as the ONS's are topologically consistent: neighbouring polygons
//! share their common vertices exactly. So adjacency is found by hashing vertices, not by
//! geometric intersection tests: every vertex is snapped to a square lattice of `tolerance`
//! (1 cm in British National Grid metres by default) and
//! - **queen**: two areas are neighbours when they have at least one snapped vertex in
//!   common (a shared edge or a single shared corner);
//! - **rook**: when they share at least one edge (two consecutive snapped vertices).
//!
//! Two vertices closer than the tolerance can still land on different lattice points when
//! they straddle a lattice line; with exactly shared coordinates (the case for the ONS
//! files, and preserved by projecting both the same way) that cannot happen. The cost is
//! linear in the number of vertices.

use std::collections::HashMap;

use geo::{Coord, MultiPolygon};

use crate::analytics::spatial::Contiguity;

/// Default snapping lattice, in the units of the coordinates (metres after projection).
pub const DEFAULT_TOLERANCE: f64 = 0.01;

type Key = (i64, i64);

/// A straight piece of an outline, from one vertex to the next.
type Segment = [Coord<f64>; 2];

fn key(c: Coord<f64>, tolerance: f64) -> Key {
    ((c.x / tolerance).round() as i64, (c.y / tolerance).round() as i64)
}

fn edges(area: &MultiPolygon<f64>, tolerance: f64) -> impl Iterator<Item = (Key, Key)> + '_ {
    area.0
        .iter()
        .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
        .flat_map(move |ring| ring.lines().map(move |l| (key(l.start, tolerance), key(l.end, tolerance))))
        .filter(|(a, b)| a != b)
}

fn ordered(a: Key, b: Key) -> (Key, Key) {
    if a <= b {
        (a, b)
    } else {
        (b, a)
    }
}

/// Neighbour lists (sorted, no self-neighbours) of areas by queen or rook contiguity.
pub fn polygon_neighbours(areas: &[MultiPolygon<f64>], kind: Contiguity, tolerance: f64) -> Vec<Vec<usize>> {
    let mut lists: Vec<Vec<usize>> = vec![Vec::new(); areas.len()];
    match kind {
        Contiguity::Queen => {
            let mut owners: HashMap<Key, Vec<usize>> = HashMap::new();
            for (i, a) in areas.iter().enumerate() {
                for (start, _) in edges(a, tolerance) {
                    let v = owners.entry(start).or_default();
                    if v.last() != Some(&i) {
                        v.push(i);
                    }
                }
            }
            link(&mut lists, owners.into_values());
        }
        Contiguity::Rook => {
            let mut owners: HashMap<(Key, Key), Vec<usize>> = HashMap::new();
            for (i, a) in areas.iter().enumerate() {
                for (s, e) in edges(a, tolerance) {
                    let v = owners.entry(ordered(s, e)).or_default();
                    if v.last() != Some(&i) {
                        v.push(i);
                    }
                }
            }
            link(&mut lists, owners.into_values());
        }
    }
    for l in &mut lists {
        l.sort_unstable();
        l.dedup();
    }
    lists
}

fn link(lists: &mut [Vec<usize>], groups: impl Iterator<Item = Vec<usize>>) {
    for mut g in groups {
        g.sort_unstable();
        g.dedup();
        for &a in &g {
            for &b in &g {
                if a != b {
                    lists[a].push(b);
                }
            }
        }
    }
}

/// The outline of the union of a group of areas that tile without overlapping: the edges
/// that belong to exactly one of them (shared inner edges cancel), as two-point segments
/// in the original coordinates.
pub fn outline_segments(areas: &[&MultiPolygon<f64>], tolerance: f64) -> Vec<[Coord<f64>; 2]> {
    let mut seen: HashMap<(Key, Key), (usize, Segment)> = HashMap::new();
    let mut order = Vec::new();
    for a in areas {
        for p in &a.0 {
            for ring in std::iter::once(p.exterior()).chain(p.interiors()) {
                for l in ring.lines() {
                    let (s, e) = (key(l.start, tolerance), key(l.end, tolerance));
                    if s == e {
                        continue;
                    }
                    let k = ordered(s, e);
                    let entry = seen.entry(k).or_insert_with(|| {
                        order.push(k);
                        (0, [l.start, l.end])
                    });
                    entry.0 += 1;
                }
            }
        }
    }
    order.into_iter().filter_map(|k| seen.get(&k).filter(|(n, _)| *n == 1).map(|(_, seg)| *seg)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::polygon;

    fn square(x: f64, y: f64) -> MultiPolygon<f64> {
        MultiPolygon(vec![polygon![(x: x, y: y), (x: x + 1.0, y: y), (x: x + 1.0, y: y + 1.0), (x: x, y: y + 1.0)]])
    }

    #[test]
    fn queen_and_rook_on_a_two_by_two_block_and_a_loner() {
        // 0 1     squares at (0,0) (1,0) (0,1) (1,1), and one far away
        let areas = [square(0.0, 0.0), square(1.0, 0.0), square(0.0, 1.0), square(1.0, 1.0), square(5.0, 5.0)];
        let q = polygon_neighbours(&areas, Contiguity::Queen, DEFAULT_TOLERANCE);
        assert_eq!(q, vec![vec![1, 2, 3], vec![0, 2, 3], vec![0, 1, 3], vec![0, 1, 2], vec![]]);
        let r = polygon_neighbours(&areas, Contiguity::Rook, DEFAULT_TOLERANCE);
        assert_eq!(r, vec![vec![1, 2], vec![0, 3], vec![0, 3], vec![1, 2], vec![]]);
    }

    #[test]
    fn outline_drops_shared_edges() {
        let a = square(0.0, 0.0);
        let b = square(1.0, 0.0);
        let segments = outline_segments(&[&a, &b], DEFAULT_TOLERANCE);
        // 2 × 4 edges, the shared one counted twice and dropped: 6 remain
        assert_eq!(segments.len(), 6);
        assert!(!segments.iter().any(|s| s[0].x == 1.0 && s[1].x == 1.0));
    }
}
