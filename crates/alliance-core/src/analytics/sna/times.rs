//! Time of day and day of week, for sources that record times (emergency department assault
//! data; data.police.uk street-level data has months only).

use serde::Serialize;

/// Counts by day of week (Monday first) and hour (0–23).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimeProfile {
    pub total: i64,
    /// `[day][hour]`, Monday = 0.
    pub grid: [[i64; 24]; 7],
}

impl TimeProfile {
    pub fn by_day(&self) -> [i64; 7] {
        self.grid.map(|d| d.iter().sum())
    }

    pub fn by_hour(&self) -> [i64; 24] {
        let mut out = [0; 24];
        for d in &self.grid {
            for (h, n) in d.iter().enumerate() {
                out[h] += n;
            }
        }
        out
    }

    /// The busiest (day, hour) cell, first in week order when tied; `None` when empty.
    pub fn peak(&self) -> Option<(usize, usize, i64)> {
        let mut best: Option<(usize, usize, i64)> = None;
        for (d, hours) in self.grid.iter().enumerate() {
            for (h, n) in hours.iter().enumerate() {
                if *n > 0 && best.is_none_or(|b| *n > b.2) {
                    best = Some((d, h, *n));
                }
            }
        }
        best
    }
}

pub const DAYS: [&str; 7] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

/// Builds the profile from `(day of week with Monday = 0, hour, count)` rows; rows out of
/// range are ignored.
pub fn time_profile(rows: &[(u32, u32, i64)]) -> TimeProfile {
    let mut grid = [[0i64; 24]; 7];
    for (d, h, n) in rows {
        if *d < 7 && *h < 24 {
            grid[*d as usize][*h as usize] += n;
        }
    }
    TimeProfile { total: grid.iter().flatten().sum(), grid }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_by_day_and_hour() {
        let p = time_profile(&[(5, 23, 4), (5, 0, 1), (6, 23, 2), (9, 1, 100)]);
        assert_eq!(p.total, 7);
        assert_eq!(p.by_day()[5], 5);
        assert_eq!(p.by_hour()[23], 6);
        assert_eq!(p.peak(), Some((5, 23, 4)));
    }
}
