//! Reports of places where someone felt unsafe: storage, moderation, and the approved
//! reports as a spatial layer (counts per 250 m cell) and as counts by ward and district.
//!
//! Privacy: nothing about the reporter's device or address is stored. A point is kept only
//! when the reporter clicked a map or typed a street (then it is a police snap point on that
//! street), and only staff see it; everything public is at most the 250 m cell, and counts
//! under the suppression threshold are never published.

use std::collections::BTreeMap;

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::{cell_of, parse_cell, Place};
use crate::audit::Actor;
use crate::clock::now;
use crate::submissions::{self, Claim};
use crate::{Db, DbError};

/// What made a place feel unsafe: (slug, label). The form offers these and nothing else.
pub const REASONS: &[(&str, &str)] = &[
    ("poor-lighting", "Poor lighting"),
    ("isolated", "Isolated or no one around"),
    ("groups", "Groups of people gathering"),
    ("verbal-harassment", "Verbal harassment, such as catcalling"),
    ("followed", "Being followed"),
    ("intimidating-behaviour", "Intimidating or threatening behaviour"),
    ("drugs-or-alcohol", "Drug or alcohol use"),
    ("no-cctv", "No CCTV or help nearby"),
    ("overgrown", "Overgrown or hidden areas"),
    ("other", "Something else"),
];

/// Rough times of day: (slug, label).
pub const TIMES_OF_DAY: &[(&str, &str)] = &[
    ("morning", "Morning (6am to midday)"),
    ("afternoon", "Afternoon (midday to 6pm)"),
    ("evening", "Evening (6pm to 10pm)"),
    ("night", "Night (10pm to 6am)"),
];

pub const AGE_BANDS: &[&str] = &["Under 16", "16 to 24", "25 to 34", "35 to 54", "55 or over"];
pub const GENDERS: &[&str] = &["Woman or girl", "Man or boy", "In another way"];

/// A report as it arrives (already validated by the web layer).
#[derive(Debug, Clone)]
pub struct NewUnsafeReport {
    /// The place as found ("Church Street, Etruria & Hanley, Stoke-on-Trent", a ward's name),
    /// or "Point on the map".
    pub place_text: String,
    /// The area the place name matched (a street's ward), if any.
    pub place: Option<Place>,
    /// The WGS84 point (lon, lat) the reporter clicked on a map, or else the typed street's.
    pub point: Option<(f64, f64)>,
    pub incident_date: String,
    pub time_of_day: String,
    pub reasons: Vec<String>,
    pub age_band: Option<String>,
    pub gender: Option<String>,
    /// The form's one-time key: the same report sent again is stored once
    /// ([`crate::submissions`]).
    pub submission: Option<String>,
}

/// A stored report, as staff see it in the moderation queue.
#[derive(Debug, Clone, Serialize)]
pub struct UnsafeReport {
    pub id: i64,
    pub submitted_at: String,
    pub status: String,
    pub place: String,
    pub area_name: Option<String>,
    pub ward_code: Option<String>,
    pub district_code: Option<String>,
    pub cell: Option<String>,
    /// Staff only.
    pub point: Option<String>,
    pub incident_date: String,
    pub time_of_day: String,
    pub reasons: Vec<String>,
    pub age_band: Option<String>,
    pub gender: Option<String>,
    /// When a moderator last decided on it (RFC 3339), if one has.
    pub moderated_at: Option<String>,
}

/// A moderator's decision on a report of an unsafe place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// A pending report is shown in the public figures.
    Approve,
    /// A pending report is not (spam, or it identifies a person).
    Reject,
    /// An approved report leaves the public figures (rejected after all).
    WithdrawApproval,
}

/// Approved reports in one 250 m cell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CellCount {
    /// South-west corner, BNG metres.
    pub easting: i64,
    pub northing: i64,
    pub count: i64,
}

/// Approved reports in one area (ward or district), as published.
#[derive(Debug, Clone, Serialize)]
pub struct AreaReportCount {
    pub code: String,
    pub name: String,
    pub count: i64,
}

/// Approved reports of one district, ward and 250 m cell (any may be unknown), as read by
/// [`Db::approved_report_counts`].
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ReportCount {
    pub district_code: Option<String>,
    pub ward_code: Option<String>,
    pub cell: Option<String>,
    pub n: i64,
}

impl ReportCount {
    /// The south-west corner of its cell (BNG metres), when it has one.
    pub fn corner(&self) -> Option<(i64, i64)> {
        self.cell.as_deref().and_then(parse_cell)
    }
}

/// A ward's code and name, by column name.
#[derive(sqlx::FromRow)]
struct WardName {
    code: String,
    name: String,
}

fn report_from_row(r: &AnyRow) -> Result<UnsafeReport, DbError> {
    let reasons: String = r.try_get("reasons")?;
    Ok(UnsafeReport {
        id: r.try_get("id")?,
        submitted_at: r.try_get("submitted_at")?,
        status: r.try_get("status")?,
        place: r.try_get("place")?,
        area_name: r.try_get("area_name")?,
        ward_code: r.try_get("ward_code")?,
        district_code: r.try_get("district_code")?,
        cell: r.try_get("cell")?,
        point: r.try_get("point")?,
        incident_date: r.try_get("incident_date")?,
        time_of_day: r.try_get("time_of_day")?,
        reasons: reasons.split(',').filter(|s| !s.is_empty()).map(str::to_string).collect(),
        age_band: r.try_get("age_band")?,
        gender: r.try_get("gender")?,
        moderated_at: r.try_get("moderated_at")?,
    })
}

const REPORT_COLUMNS: &str = "id, submitted_at, status, place, area_name, ward_code, district_code, cell, point, \
     incident_date, time_of_day, reasons, age_band, gender, moderated_at";

impl Db {
    /// Stores a report as pending moderation; returns its id only once the transaction has
    /// committed (an error from the commit, such as a full disk, is returned, so a report is
    /// never acknowledged unless stored). A point is placed in its 250 m cell and in the ward
    /// containing it; a matched ward gives its own code. The same submission sent again (its
    /// key) stores nothing and returns the first one's id.
    pub async fn submit_unsafe_report(&self, report: &NewUnsafeReport) -> Result<i64, DbError> {
        let key = submissions::key("unsafe-report", report.submission.as_deref())?;
        let mut ward = report.place.as_ref().filter(|p| p.kind == "ward").cloned();
        let (cell, point) = match report.point {
            Some((lon, lat)) => {
                if ward.is_none() {
                    ward = self.ward_at(lon, lat).await?;
                }
                (Some(cell_of(lon, lat)?), Some(format!("{lon:.6},{lat:.6}")))
            }
            None => (None, None),
        };
        let area = report.place.clone().or_else(|| ward.clone());
        let district = area.as_ref().and_then(|p| p.district_code.clone());
        let mut tx = self.begin_write().await?;
        if let Claim::Repeat(first) = submissions::claim(&mut tx, key.as_deref()).await? {
            return Ok(first);
        }
        let rows = sqlx::query(
            "INSERT INTO unsafe_reports (submitted_at, status, place, area_kind, area_code, area_name, ward_code, \
             district_code, cell, point, incident_date, time_of_day, reasons, age_band, gender) \
             VALUES ($1, 'pending', $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id",
        )
        .bind(now())
        .bind(report.place_text.as_str())
        .bind(area.as_ref().map(|p| p.kind.clone()))
        .bind(area.as_ref().map(|p| p.code.clone()))
        .bind(area.as_ref().map(|p| p.name.clone()))
        .bind(ward.as_ref().map(|p| p.code.clone()))
        .bind(district)
        .bind(cell)
        .bind(point)
        .bind(report.incident_date.as_str())
        .bind(report.time_of_day.as_str())
        .bind(report.reasons.join(","))
        .bind(report.age_band.clone())
        .bind(report.gender.clone())
        .fetch_all(&mut *tx)
        .await?;
        let id: i64 = match rows.first() {
            Some(row) => row.try_get(0)?,
            None => return Err(DbError::corrupt("unsafe_reports: the insert returned no id")),
        };
        submissions::record(&mut tx, key.as_deref(), id).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Reports with a status ('pending', 'approved', 'rejected'), oldest first.
    pub async fn unsafe_reports(&self, status: &str, limit: i64) -> Result<Vec<UnsafeReport>, DbError> {
        let rows =
            sqlx::query(&format!("SELECT {REPORT_COLUMNS} FROM unsafe_reports WHERE status = $1 ORDER BY id LIMIT $2"))
                .bind(status)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(report_from_row).collect()
    }

    /// The latest approved reports, the most recently approved first (where a moderator
    /// withdraws an approval given by mistake).
    pub async fn recently_approved_reports(&self, limit: i64) -> Result<Vec<UnsafeReport>, DbError> {
        let rows = sqlx::query(&format!(
            "SELECT {REPORT_COLUMNS} FROM unsafe_reports WHERE status = 'approved' \
             ORDER BY moderated_at DESC, id DESC LIMIT $1"
        ))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(report_from_row).collect()
    }

    /// How many reports have each status.
    pub async fn unsafe_report_status_counts(&self) -> Result<BTreeMap<String, i64>, DbError> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT status, COUNT(*) FROM unsafe_reports GROUP BY status").fetch_all(&self.pool).await?;
        Ok(rows.into_iter().collect())
    }

    /// Takes a moderation `decision` on report `id`, recording it (`moderate-report`) in the
    /// same transaction. The change applies only from the status the decision is about (a
    /// pending report is approved or rejected; an approved one's approval withdrawn, as after
    /// a misclick on spam), so a moderator acting on a page older than another's decision
    /// changes nothing: `Conflict` on `decision` saying who decided what and when.
    /// `NotFound` for no such report.
    pub async fn moderate_unsafe_report(&self, id: i64, decision: Decision, actor: &Actor) -> Result<(), DbError> {
        let (from, to, detail) = match decision {
            Decision::Approve => ("pending", "approved", "approved"),
            Decision::Reject => ("pending", "rejected", "rejected"),
            Decision::WithdrawApproval => ("approved", "rejected", "approval withdrawn: rejected"),
        };
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE unsafe_reports SET status = $1, moderated_at = $2, moderated_by = $3 WHERE id = $4 AND status = $5",
        )
        .bind(to)
        .bind(now())
        .bind(actor.name.as_str())
        .bind(id)
        .bind(from)
        .execute(&mut *tx)
        .await?;
        let target = format!("unsafe-report:{id}");
        let event = actor.event("moderate-report", &target, detail);
        if self.commit_audited_if_one_row(tx, done.rows_affected(), &event).await? {
            return Ok(());
        }
        let now: Option<(String, Option<String>, Option<String>)> =
            sqlx::query_as("SELECT status, moderated_by, moderated_at FROM unsafe_reports WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        let Some((status, by, at)) = now else { return Err(DbError::not_found(format!("report {id}"))) };
        let when = at.as_deref().map(alliance_core::format::stamp_time).unwrap_or_default();
        let by = by.as_deref().map(|b| b.strip_prefix("user:").unwrap_or(b)).unwrap_or("someone");
        Err(DbError::conflict(
            "decision",
            format!("Report {id} is {status} (by {by}, {when}), not {from}: nothing was changed. Reload the page"),
        ))
    }

    /// The hotspot layer of approved reports: exact counts per 250 m BNG cell (reports
    /// without a point are not in it), for the disclosure point to publish. Sorted by
    /// easting, then northing.
    pub async fn unsafe_report_cells(&self) -> Result<Vec<CellCount>, DbError> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT cell, COUNT(*) FROM unsafe_reports WHERE status = 'approved' AND cell IS NOT NULL GROUP BY cell",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut cells = Vec::new();
        for (cell, count) in rows {
            let Some((easting, northing)) = parse_cell(&cell) else { continue };
            cells.push(CellCount { easting, northing, count });
        }
        cells.sort_by_key(|c| (c.easting, c.northing));
        Ok(cells)
    }

    /// Approved reports by district, ward and 250 m cell, from one statement, so that every
    /// public table of them (the total, districts, wards and the hotspot layer, suppressed
    /// together) is made from the same reports even while others are approved. Bounded by
    /// the number of approved reports. Sorted by district, ward, then cell.
    pub async fn approved_report_counts(&self) -> Result<Vec<ReportCount>, DbError> {
        let mut rows: Vec<ReportCount> = sqlx::query_as(
            "SELECT district_code, ward_code, cell, COUNT(*) AS n FROM unsafe_reports \
             WHERE status = 'approved' GROUP BY district_code, ward_code, cell",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.sort_by(|a, b| (&a.district_code, &a.ward_code, &a.cell).cmp(&(&b.district_code, &b.ward_code, &b.cell)));
        Ok(rows)
    }

    /// Approved reports by area (`"ward"` or `"district"`), every ward or district named in
    /// the stored areas (zero included), with exact counts for the disclosure point to publish.
    /// Sorted by count (largest first), then name.
    pub async fn unsafe_report_area_counts(&self, kind: &str) -> Result<Vec<AreaReportCount>, DbError> {
        let column = if kind == "ward" { "ward_code" } else { "district_code" };
        let rows: Vec<(String, i64)> = sqlx::query_as(&format!(
            "SELECT {column}, COUNT(*) FROM unsafe_reports WHERE status = 'approved' AND {column} IS NOT NULL GROUP BY {column}"
        ))
        .fetch_all(&self.pool)
        .await?;
        let counts: BTreeMap<String, i64> = rows.into_iter().collect();
        let names: Vec<(String, String)> = if kind == "ward" {
            let wards: Vec<WardName> =
                sqlx::query_as("SELECT DISTINCT code, name FROM area_boundaries WHERE kind = 'ward'")
                    .fetch_all(&self.pool)
                    .await?;
            wards.into_iter().map(|w| (w.code, w.name)).collect()
        } else {
            self.districts().await?.into_iter().map(|d| (d.code, d.name)).collect()
        };
        let mut out: Vec<AreaReportCount> = names
            .into_iter()
            .map(|(code, name)| {
                let count = counts.get(&code).copied().unwrap_or(0);
                AreaReportCount { code, name, count }
            })
            .collect();
        out.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.name.cmp(&b.name)));
        Ok(out)
    }
}
