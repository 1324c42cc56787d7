//! Places: counts per LSOA on one census vintage, rates per 1,000 residents, breakdowns by
//! district and deprivation decile, and how concentrated violence is in a few LSOAs.
//!
//! **LSOA vintages.** data.police.uk files use 2011 LSOA codes up to 2022-12 and 2021 codes
//! from 2023-01. LSOA-level figures are put on the 2021 vintage: a 2011 code that is also a
//! 2021 code (unchanged) stays; a changed 2011 code is split over its 2021 successors by the
//! link weights (share of the 2011 area, from the boundaries), so such counts can be
//! fractional. District figures need no mapping: every code of either vintage knows its
//! district, and districts did not change between the censuses here.

use std::collections::HashMap;

use serde::Serialize;

use crate::analytics::poisson::{rate_ratio, ConfidenceLevel, PoissonCount, RateRatioMethod};

/// What is known of an LSOA of the target (2021) vintage.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LsoaRef {
    pub code: String,
    pub name: String,
    pub district: Option<String>,
    pub population: Option<i64>,
    /// IMD decile, 1 = most deprived 10 % of the nation.
    pub imd_decile: Option<i64>,
}

/// A 2011 → 2021 link: `weight` is the share of the 2011 LSOA in the 2021 one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VintageLink {
    pub lsoa11: String,
    pub lsoa21: String,
    pub weight: f64,
}

/// Counts keyed by LSOA code of either vintage, put on the 2021 vintage. Codes of neither
/// (outside the reference data) are returned separately with their total.
pub fn to_2021_vintage(
    counts: &[(String, i64)],
    codes_2021: &std::collections::HashSet<&str>,
    links: &[VintageLink],
) -> (HashMap<String, f64>, i64) {
    let mut by_old: HashMap<&str, Vec<(&str, f64)>> = HashMap::new();
    for l in links {
        by_old.entry(l.lsoa11.as_str()).or_default().push((l.lsoa21.as_str(), l.weight));
    }
    let mut out: HashMap<String, f64> = HashMap::new();
    let mut unplaced = 0;
    for (code, n) in counts {
        if codes_2021.contains(code.as_str()) {
            *out.entry(code.clone()).or_insert(0.0) += *n as f64;
        } else if let Some(children) = by_old.get(code.as_str()) {
            let total: f64 = children.iter().map(|(_, w)| w).sum();
            for (child, w) in children {
                *out.entry((*child).to_string()).or_insert(0.0) += *n as f64 * w / total;
            }
        } else {
            unplaced += n;
        }
    }
    (out, unplaced)
}

/// Annualised rate per 1,000 residents: `count / (months / 12) / population × 1000`.
/// `None` without a positive population or period.
pub fn rate_per_1000(count: f64, population: i64, months: i64) -> Option<f64> {
    (population > 0 && months > 0).then(|| count * 12.0 / months as f64 / population as f64 * 1000.0)
}

/// One row of a breakdown.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AreaRate {
    pub key: String,
    pub name: String,
    pub count: f64,
    /// Residents of the LSOAs with a known population in this group.
    pub population: i64,
    pub rate: Option<f64>,
}

/// Sums LSOA counts and populations by a key of the LSOA (district, decile …), sorted by key.
/// LSOAs with no key are left out; every LSOA of `lsoas` contributes its population even
/// with no crimes.
pub fn breakdown(
    lsoas: &[LsoaRef],
    counts: &HashMap<String, f64>,
    months: i64,
    key: impl Fn(&LsoaRef) -> Option<(String, String)>,
) -> Vec<AreaRate> {
    let mut groups: std::collections::BTreeMap<String, AreaRate> = std::collections::BTreeMap::new();
    for l in lsoas {
        let Some((k, name)) = key(l) else { continue };
        let row = groups.entry(k.clone()).or_insert(AreaRate { key: k, name, count: 0.0, population: 0, rate: None });
        row.count += counts.get(&l.code).copied().unwrap_or(0.0);
        row.population += l.population.unwrap_or(0);
    }
    groups
        .into_values()
        .map(|mut r| {
            r.rate = rate_per_1000(r.count, r.population, months);
            r
        })
        .collect()
}

/// The most deprived decile's rate against the least deprived decile's.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeprivationRatio {
    pub most_deprived_rate: f64,
    pub least_deprived_rate: f64,
    pub ratio: f64,
    pub interval_lower: f64,
    pub interval_upper: f64,
}

/// Decile 1 over decile 10 as a Poisson rate ratio with the exact conditional 95 % interval,
/// populations as exposures (counts rounded to whole crimes for the interval). `None` when
/// either decile is absent, has no population, or decile 10 has no crimes.
pub fn deprivation_ratio(deciles: &[AreaRate]) -> Option<DeprivationRatio> {
    let get = |k: &str| deciles.iter().find(|d| d.key == k);
    let (most, least) = (get("01")?, get("10")?);
    if least.count <= 0.0 {
        return None;
    }
    let first = PoissonCount::new(least.count.round() as u64, least.population as f64).ok()?;
    let second = PoissonCount::new(most.count.round() as u64, most.population as f64).ok()?;
    let rr = rate_ratio(first, second, ConfidenceLevel::default(), RateRatioMethod::ExactConditional).ok()?;
    Some(DeprivationRatio {
        most_deprived_rate: most.rate?,
        least_deprived_rate: least.rate?,
        ratio: most.rate? / least.rate?,
        interval_lower: rr.interval.lower,
        interval_upper: rr.interval.upper,
    })
}

/// The share of the total in the top `percent` of LSOAs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Concentration {
    pub percent_of_lsoas: f64,
    /// `ceil(percent × N / 100)` LSOAs, or fewer: only those with at least one offence (a
    /// neighbourhood with none is never among "those with the most").
    pub lsoas: usize,
    /// Fewer LSOAs than the top `percent` recorded any offence: `lsoas` are all that did,
    /// so they hold every offence.
    pub all_with_offences: bool,
    pub count: f64,
    pub share_percent: f64,
}

/// The share of crimes in the top 1 %, 5 % and 10 % of the `all_lsoas` LSOAs by count (all
/// LSOAs of the area, including those with none). The top `k = ceil(p·N)` are taken after
/// sorting by count, descending, then by code: LSOAs tied at the cut-off are broken by code,
/// so the share is exactly that of `k` areas. Only LSOAs with at least one offence are
/// ranked: when fewer than `k` have any, the row names those (`all_with_offences`), whose
/// share is 100 %. Empty when there is no LSOA or no crime in them: a share of nothing is
/// not 0 %, and a report must not say "0 % in 0 neighbourhoods".
pub fn concentration(all_lsoas: &[&str], counts: &HashMap<String, f64>) -> Vec<Concentration> {
    let mut values: Vec<(f64, &str)> = all_lsoas.iter().map(|c| (counts.get(*c).copied().unwrap_or(0.0), *c)).collect();
    values.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
    let total: f64 = values.iter().map(|v| v.0).sum();
    if total <= 0.0 {
        return Vec::new();
    }
    [1.0, 5.0, 10.0]
        .into_iter()
        .map(|p| {
            let k = ((p * values.len() as f64 / 100.0).ceil() as usize).min(values.len());
            let ranked = values[..k].iter().take_while(|v| v.0 > 0.0).count();
            let count: f64 = values[..ranked].iter().map(|v| v.0).sum();
            Concentration {
                percent_of_lsoas: p,
                lsoas: ranked,
                all_with_offences: ranked < k,
                count,
                share_percent: if total > 0.0 { 100.0 * count / total } else { 0.0 },
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lsoa(code: &str, district: &str, population: i64, decile: i64) -> LsoaRef {
        LsoaRef {
            code: code.into(),
            name: code.into(),
            district: Some(district.into()),
            population: Some(population),
            imd_decile: Some(decile),
        }
    }

    #[test]
    fn changed_2011_codes_are_split_by_weight() {
        let codes: std::collections::HashSet<&str> = ["A", "B1", "B2"].into_iter().collect();
        let links = vec![
            VintageLink { lsoa11: "B".into(), lsoa21: "B1".into(), weight: 0.75 },
            VintageLink { lsoa11: "B".into(), lsoa21: "B2".into(), weight: 0.25 },
        ];
        let (out, unplaced) =
            to_2021_vintage(&[("A".into(), 3), ("B".into(), 8), ("B1".into(), 1), ("Z".into(), 2)], &codes, &links);
        assert_eq!(out["A"], 3.0);
        assert_eq!(out["B1"], 7.0); // 1 + 8 × 0.75
        assert_eq!(out["B2"], 2.0);
        assert_eq!(unplaced, 2);
    }

    #[test]
    fn rates_and_breakdowns() {
        // District X: 2 LSOAs, 1,000 + 3,000 residents, 20 + 0 crimes in 6 months: 40 a year
        // over 4,000 people = 10 per 1,000.
        let lsoas = vec![lsoa("a", "X", 1000, 1), lsoa("b", "X", 3000, 10), lsoa("c", "Y", 500, 1)];
        let counts: HashMap<String, f64> = [("a".to_string(), 20.0), ("c".to_string(), 5.0)].into_iter().collect();
        let by_district = breakdown(&lsoas, &counts, 6, |l| l.district.clone().map(|d| (d.clone(), d)));
        assert_eq!(by_district[0].count, 20.0);
        assert_eq!(by_district[0].population, 4000);
        assert!((by_district[0].rate.unwrap() - 10.0).abs() < 1e-12);
        let by_decile = breakdown(&lsoas, &counts, 6, |l| l.imd_decile.map(|d| (format!("{d:02}"), d.to_string())));
        // Decile 1: 25 crimes, 1,500 people, 6 months: 25·2/1500·1000 = 33.33.
        assert!((by_decile[0].rate.unwrap() - 33.333_333).abs() < 1e-3);
        // Decile 10 has no crimes: no ratio.
        assert!(deprivation_ratio(&by_decile).is_none());
    }

    #[test]
    fn deprivation_ratio_of_deciles() {
        let rows = vec![
            AreaRate { key: "01".into(), name: "1".into(), count: 40.0, population: 2000, rate: Some(20.0) },
            AreaRate { key: "10".into(), name: "10".into(), count: 10.0, population: 2000, rate: Some(5.0) },
        ];
        let r = deprivation_ratio(&rows).unwrap();
        assert_eq!(r.ratio, 4.0);
        assert!(r.interval_lower > 1.9 && r.interval_upper < 9.0, "{r:?}");
    }

    #[test]
    fn concentration_breaks_ties_by_code() {
        // 20 LSOAs: top 1% and 5% = ceil(0.2)=1 and ceil(1.0)=1 LSOA, 10% = 2 LSOAs.
        let codes: Vec<String> = (0..20).map(|i| format!("L{i:02}")).collect();
        let refs: Vec<&str> = codes.iter().map(String::as_str).collect();
        let counts: HashMap<String, f64> =
            [("L05".to_string(), 10.0), ("L03".to_string(), 5.0), ("L07".to_string(), 5.0), ("L09".to_string(), 5.0)]
                .into_iter()
                .collect();
        let c = concentration(&refs, &counts);
        assert_eq!((c[0].lsoas, c[0].count), (1, 10.0));
        assert!((c[0].share_percent - 40.0).abs() < 1e-12);
        assert_eq!((c[2].lsoas, c[2].count), (2, 15.0));
        assert!((c[2].share_percent - 60.0).abs() < 1e-12);
    }

    #[test]
    fn concentration_of_nothing_is_not_given() {
        let codes = ["L01", "L02"];
        assert!(concentration(&codes, &HashMap::new()).is_empty());
        assert!(concentration(&[], &[("L01".to_string(), 3.0)].into_iter().collect()).is_empty());
        assert_eq!(concentration(&codes, &[("L02".to_string(), 3.0)].into_iter().collect()).len(), 3);
    }

    #[test]
    fn concentration_ranks_only_neighbourhoods_with_offences() {
        // 100 LSOAs, 3 with offences: the top 5% and 10% (5 and 10 LSOAs) are the 3 alone.
        let codes: Vec<String> = (0..100).map(|i| format!("L{i:03}")).collect();
        let refs: Vec<&str> = codes.iter().map(String::as_str).collect();
        let counts: HashMap<String, f64> =
            [("L050".to_string(), 4.0), ("L020".to_string(), 1.0), ("L099".to_string(), 1.0)].into_iter().collect();
        let c = concentration(&refs, &counts);
        assert_eq!((c[0].lsoas, c[0].count, c[0].all_with_offences), (1, 4.0, false), "top 1%: one LSOA, with 4");
        for row in &c[1..] {
            assert_eq!((row.lsoas, row.count, row.all_with_offences), (3, 6.0, true), "{row:?}");
            assert!((row.share_percent - 100.0).abs() < 1e-12);
        }
    }
}
