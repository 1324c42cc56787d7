//! The intervention register and its stored evaluations.
//!
//! EMMIE ratings (College of Policing Crime Reduction Toolkit; Johnson, Tilley & Bowers
//! 2015) are entered by the user, as the toolkit presents them: the **effect** as its
//! direction ([`EmmieEffect`]) with the quality of its evidence, and the **mechanism**,
//! **moderators**, **implementation** and **economic cost** each as the quality of the
//! evidence about them ([`EvidenceQuality`]). Alliance stores them by key; it does not
//! derive them. The code lists are `alliance_core::domain::intervention`.

use alliance_core::domain::intervention::{EmmieEffect, EvidenceQuality, InterventionType};
use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::audit::Actor;
use crate::evaluations::{AreaSpec, EvaluationBasis, EvaluationReport};
use crate::params::AnyQuery;
use crate::submissions::{self, Claim};
use crate::versions::{self, Versioned};
use crate::{Db, DbError};

/// Audit actions of the register: each change is recorded in its own transaction.
pub const INTERVENTION_CREATED: &str = "intervention-create";
pub const INTERVENTION_UPDATED: &str = "intervention-update";
pub const INTERVENTION_SERVICE: &str = "intervention-service";
pub const EVALUATION_STORED: &str = "evaluation-store";
pub const EVALUATION_RERUN: &str = "evaluation-rerun";

/// An intervention as entered.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NewIntervention {
    pub name: String,
    pub description: String,
    pub intervention_type: InterventionType,
    pub strategy_priority: Option<String>,
    pub lead_organisation: Option<String>,
    pub funding_stream: Option<String>,
    pub funding_pence: Option<i64>,
    pub start_date: Option<String>,
    pub end_date: Option<String>,
    /// `geojson`, `lsoa`, `ward` or `place` (names of the place register in `place_codes`).
    pub place_kind: String,
    pub place_codes: Vec<String>,
    pub place_geometry: Option<serde_json::Value>,
    pub crime_types: Vec<String>,
    pub emmie_effect: Option<EmmieEffect>,
    pub emmie_effect_quality: Option<EvidenceQuality>,
    pub emmie_mechanism: Option<EvidenceQuality>,
    pub emmie_moderators: Option<EvidenceQuality>,
    pub emmie_implementation: Option<EvidenceQuality>,
    pub emmie_economic_cost: Option<EvidenceQuality>,
    /// The commissioned service (referral service id) that delivers it, if any (issue 17).
    #[serde(default)]
    pub referral_service: Option<String>,
}

/// A stored intervention.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Intervention {
    pub id: i64,
    #[serde(flatten)]
    pub fields: NewIntervention,
    pub strategy_priority_id: Option<i64>,
    pub organisation_id: Option<i64>,
    /// Who added it: `user:<email>` from the web, `cli:<login>` from the command line.
    pub created_by: String,
    pub created_at: String,
    /// Who last changed it, named as `created_by` is (the creator until someone edits it).
    pub updated_by: String,
    pub updated_at: String,
    /// Counts its changes: what its edit form names ([`crate::versions`]).
    pub version: i64,
}

impl std::ops::Deref for Intervention {
    type Target = NewIntervention;
    fn deref(&self) -> &NewIntervention {
        &self.fields
    }
}

impl NewIntervention {
    /// The place as an evaluation's target area.
    pub fn place(&self) -> Result<AreaSpec, DbError> {
        match self.place_kind.as_str() {
            "lsoa" => Ok(AreaSpec::Lsoa { codes: self.place_codes.clone() }),
            "ward" => Ok(AreaSpec::Ward { codes: self.place_codes.clone() }),
            "place" => Ok(AreaSpec::Place { names: self.place_codes.clone() }),
            "geojson" => Ok(AreaSpec::Geojson {
                geojson: self
                    .place_geometry
                    .clone()
                    .ok_or_else(|| DbError::invalid("place_geojson", "the place has no GeoJSON"))?,
            }),
            other => Err(DbError::invalid("place_kind", format!("unknown place kind {other:?}"))),
        }
    }
}

/// A stored evaluation with its report.
#[derive(Debug, Clone, Serialize)]
pub struct StoredEvaluation {
    pub id: i64,
    pub intervention_id: i64,
    pub run_by: String,
    pub created_at: String,
    pub run_at: String,
    pub report: EvaluationReport,
}

const COLUMNS: &str =
    "id, name, description, intervention_type, strategy_priority, lead_organisation, funding_stream, \
    funding_pence, start_date, end_date, place_kind, place_codes, place_geometry, crime_types, emmie_effect, \
    emmie_effect_quality, emmie_mechanism, emmie_moderators, emmie_implementation, emmie_economic_cost, \
    strategy_priority_id, organisation_id, created_by, created_at, updated_at, updated_by, referral_service_id, version";

fn split(text: &str, sep: char) -> Vec<String> {
    text.split(sep).map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
}

/// An intervention as stored, column by column (`COLUMNS`, by name).
#[derive(sqlx::FromRow)]
struct InterventionRow {
    id: i64,
    name: String,
    description: String,
    intervention_type: String,
    strategy_priority: Option<String>,
    lead_organisation: Option<String>,
    funding_stream: Option<String>,
    funding_pence: Option<i64>,
    start_date: Option<String>,
    end_date: Option<String>,
    place_kind: String,
    place_codes: String,
    place_geometry: Option<String>,
    crime_types: String,
    emmie_effect: Option<String>,
    emmie_effect_quality: Option<String>,
    emmie_mechanism: Option<String>,
    emmie_moderators: Option<String>,
    emmie_implementation: Option<String>,
    emmie_economic_cost: Option<String>,
    strategy_priority_id: Option<i64>,
    organisation_id: Option<i64>,
    created_by: String,
    created_at: String,
    updated_at: String,
    updated_by: String,
    referral_service_id: Option<String>,
    version: i64,
}

/// A stored code of a code list; a key Alliance did not write is a damaged record.
fn code<T: std::str::FromStr<Err = alliance_core::codes::CodeError>>(
    key: Option<String>,
) -> Result<Option<T>, DbError> {
    key.map(|k| k.parse::<T>().map_err(|e| DbError::corrupt(format!("intervention: {e}")))).transpose()
}

fn from_row(r: &sqlx::any::AnyRow) -> Result<Intervention, DbError> {
    use sqlx::FromRow;
    let r = InterventionRow::from_row(r)?;
    let geometry = r
        .place_geometry
        .map(|g| serde_json::from_str(&g).map_err(|e| DbError::corrupt(format!("place geometry: {e}"))))
        .transpose()?;
    Ok(Intervention {
        id: r.id,
        fields: NewIntervention {
            name: r.name,
            description: r.description,
            intervention_type: code(Some(r.intervention_type))?
                .ok_or_else(|| DbError::corrupt("intervention without a type"))?,
            strategy_priority: r.strategy_priority,
            lead_organisation: r.lead_organisation,
            funding_stream: r.funding_stream,
            funding_pence: r.funding_pence,
            start_date: r.start_date,
            end_date: r.end_date,
            place_kind: r.place_kind,
            place_codes: split(&r.place_codes, ','),
            place_geometry: geometry,
            crime_types: split(&r.crime_types, '\n'),
            emmie_effect: code(r.emmie_effect)?,
            emmie_effect_quality: code(r.emmie_effect_quality)?,
            emmie_mechanism: code(r.emmie_mechanism)?,
            emmie_moderators: code(r.emmie_moderators)?,
            emmie_implementation: code(r.emmie_implementation)?,
            emmie_economic_cost: code(r.emmie_economic_cost)?,
            referral_service: r.referral_service_id,
        },
        strategy_priority_id: r.strategy_priority_id,
        organisation_id: r.organisation_id,
        created_by: r.created_by,
        created_at: r.created_at,
        updated_at: r.updated_at,
        updated_by: r.updated_by,
        version: r.version,
    })
}

impl Db {
    /// Adds an intervention, with its audit row in the same transaction; returns its id. The
    /// same form sent again (its `submission` key) adds nothing and returns the first one's.
    pub async fn create_intervention(
        &self,
        i: &NewIntervention,
        submission: Option<&str>,
        actor: &Actor,
    ) -> Result<i64, DbError> {
        let now = crate::clock::now();
        let key = submissions::key("intervention", submission)?;
        let mut tx = self.begin_write().await?;
        if let Claim::Repeat(first) = submissions::claim(&mut tx, key.as_deref()).await? {
            return Ok(first);
        }
        let row = sqlx::query(
            "INSERT INTO interventions (name, description, intervention_type, strategy_priority, lead_organisation, \
             funding_stream, funding_pence, start_date, end_date, place_kind, place_codes, place_geometry, crime_types, \
             emmie_effect, emmie_effect_quality, emmie_mechanism, emmie_moderators, emmie_implementation, \
             emmie_economic_cost, referral_service_id, created_by, created_at, updated_at, updated_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $22, $21) \
             RETURNING id",
        );
        let row = bind_fields(row, i).bind(&actor.name).bind(&now).fetch_one(&mut *tx).await?;
        let id: i64 = row.try_get(0)?;
        submissions::record(&mut tx, key.as_deref(), id).await?;
        let target = format!("intervention {id}");
        self.commit_audited(tx, &actor.event(INTERVENTION_CREATED, &target, &i.name)).await?;
        Ok(id)
    }

    /// Replaces an intervention's fields, recording who changed them (and an audit row, in
    /// the same transaction); false when there is no such intervention. `seen`: the version
    /// the form was opened on ([`crate::versions::claim`]).
    pub async fn update_intervention(
        &self,
        id: i64,
        i: &NewIntervention,
        seen: Option<i64>,
        actor: &Actor,
    ) -> Result<bool, DbError> {
        let now = crate::clock::now();
        let mut tx = self.begin_write().await?;
        if !versions::claim(&mut tx, Versioned::Intervention, id, seen).await? {
            return Ok(false);
        }
        let q = sqlx::query(
            "UPDATE interventions SET name = $1, description = $2, intervention_type = $3, strategy_priority = $4, \
             lead_organisation = $5, funding_stream = $6, funding_pence = $7, start_date = $8, end_date = $9, \
             place_kind = $10, place_codes = $11, place_geometry = $12, crime_types = $13, emmie_effect = $14, \
             emmie_effect_quality = $15, emmie_mechanism = $16, emmie_moderators = $17, emmie_implementation = $18, \
             emmie_economic_cost = $19, referral_service_id = $20, updated_at = $21, updated_by = $22 WHERE id = $23",
        );
        let done = bind_fields(q, i).bind(&now).bind(&actor.name).bind(id).execute(&mut *tx).await?;
        let target = format!("intervention {id}");
        let event = actor.event(INTERVENTION_UPDATED, &target, &i.name);
        self.commit_audited_if_one_row(tx, done.rows_affected(), &event).await
    }

    /// Every intervention, newest first.
    pub async fn interventions(&self) -> Result<Vec<Intervention>, DbError> {
        let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM interventions")).fetch_all(&self.pool).await?;
        let mut out = rows.iter().map(from_row).collect::<Result<Vec<_>, _>>()?;
        out.sort_by_key(|i| std::cmp::Reverse(i.id));
        Ok(out)
    }

    pub async fn intervention(&self, id: i64) -> Result<Option<Intervention>, DbError> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM interventions WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// Names (or, with `None`, removes) the commissioned service that delivers intervention
    /// `id`, recording who changed it; false when there is no such intervention. The service
    /// must be one of the referral services (foreign key; checked first for a clear error).
    pub async fn set_intervention_service(
        &self,
        id: i64,
        service: Option<&str>,
        actor: &Actor,
    ) -> Result<bool, DbError> {
        if let Some(s) = service {
            let known = sqlx::query("SELECT service_id FROM referral_services WHERE service_id = $1")
                .bind(s)
                .fetch_optional(&self.pool)
                .await?;
            if known.is_none() {
                return Err(DbError::invalid(
                    "referral_service",
                    format!("no commissioned service \"{s}\" takes referrals"),
                ));
            }
        }
        let now = crate::clock::now();
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE interventions SET referral_service_id = $1, updated_at = $2, updated_by = $3, \
             version = version + 1 WHERE id = $4",
        )
        .bind(service.map(str::to_string))
        .bind(&now)
        .bind(&actor.name)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let (target, detail) = (format!("intervention {id}"), service.map_or("none".to_string(), |s| s.to_string()));
        let event = actor.event(INTERVENTION_SERVICE, &target, &detail);
        self.commit_audited_if_one_row(tx, done.rows_affected(), &event).await
    }

    /// Stores an evaluation's report (run by `alliance_app::evaluation`) with the intervention.
    pub async fn store_evaluation(
        &self,
        intervention_id: i64,
        report: EvaluationReport,
        actor: &Actor,
    ) -> Result<StoredEvaluation, DbError> {
        let who = actor.name.as_str();
        let now = crate::clock::now();
        let run = serialise(&report)?;
        let mut tx = self.begin_write().await?;
        let query = sqlx::query(
            "INSERT INTO intervention_evaluations (intervention_id, design, basis, result, import_ids, data_from, data_to, \
             run_by, created_at, run_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id",
        );
        let row =
            run.bind_run(query.bind(intervention_id).bind(run.design.as_str()), who, &now).fetch_one(&mut *tx).await?;
        let id: i64 = row.try_get(0)?;
        let target = format!("intervention {intervention_id}");
        self.commit_audited(tx, &actor.event(EVALUATION_STORED, &target, &format!("evaluation {id}"))).await?;
        Ok(StoredEvaluation {
            id,
            intervention_id,
            run_by: who.to_string(),
            created_at: now.clone(),
            run_at: now,
            report,
        })
    }

    /// Replaces a stored evaluation's figures with `report` (its design re-run on the
    /// current data by `alliance_app::evaluation::rerun`).
    pub async fn update_evaluation(
        &self,
        stored: StoredEvaluation,
        report: EvaluationReport,
        actor: &Actor,
    ) -> Result<StoredEvaluation, DbError> {
        let who = actor.name.as_str();
        let (intervention_id, evaluation_id) = (stored.intervention_id, stored.id);
        let now = crate::clock::now();
        let run = serialise(&report)?;
        let mut tx = self.begin_write().await?;
        let query = sqlx::query(
            "UPDATE intervention_evaluations SET basis = $1, result = $2, import_ids = $3, data_from = $4, data_to = $5, \
             run_by = $6, run_at = $7 WHERE id = $8",
        );
        run.bind_run(query, who, &now).bind(evaluation_id).execute(&mut *tx).await?;
        let (target, detail) = (format!("intervention {intervention_id}"), format!("evaluation {evaluation_id}"));
        self.commit_audited(tx, &actor.event(EVALUATION_RERUN, &target, &detail)).await?;
        Ok(StoredEvaluation {
            id: evaluation_id,
            intervention_id,
            run_by: who.into(),
            created_at: stored.created_at,
            run_at: now,
            report,
        })
    }

    /// The stored evaluations of an intervention, newest first. The figures are recomputed
    /// from the stored input (the statistics are pure and deterministic).
    pub async fn evaluations_of(&self, intervention_id: i64) -> Result<Vec<StoredEvaluation>, DbError> {
        let rows: Vec<EvaluationRow> = sqlx::query_as(
            "SELECT id, intervention_id, basis, run_by, created_at, run_at FROM intervention_evaluations WHERE intervention_id = $1",
        )
        .bind(intervention_id)
        .fetch_all(&self.pool)
        .await?;
        let mut out = rows.into_iter().map(evaluation_from_row).collect::<Result<Vec<_>, _>>()?;
        out.sort_by_key(|i| std::cmp::Reverse(i.id));
        Ok(out)
    }

    pub async fn evaluation(
        &self,
        intervention_id: i64,
        evaluation_id: i64,
    ) -> Result<Option<StoredEvaluation>, DbError> {
        let row: Option<EvaluationRow> = sqlx::query_as(
            "SELECT id, intervention_id, basis, run_by, created_at, run_at FROM intervention_evaluations \
             WHERE intervention_id = $1 AND id = $2",
        )
        .bind(intervention_id)
        .bind(evaluation_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(evaluation_from_row).transpose()
    }
}

/// An evaluation report as stored: its design (written once) and what each run of it writes.
struct Serialised {
    design: String,
    basis: String,
    result: String,
    /// The import ids the run read, comma-separated.
    imports: String,
    /// The first and last month of the data.
    from: Option<String>,
    to: Option<String>,
}

impl Serialised {
    /// Binds what a run writes, in the order storing and re-running an evaluation list the
    /// columns: basis, result, import_ids, data_from, data_to, run_by, run_at.
    fn bind_run<'q>(&'q self, query: AnyQuery<'q>, who: &'q str, at: &'q str) -> AnyQuery<'q> {
        query
            .bind(self.basis.as_str())
            .bind(self.result.as_str())
            .bind(self.imports.as_str())
            .bind(self.from.as_deref())
            .bind(self.to.as_deref())
            .bind(who)
            .bind(at)
    }
}

fn serialise(report: &EvaluationReport) -> Result<Serialised, DbError> {
    let json = |v: &dyn erased::Json| v.json().map_err(|e| DbError::Task(format!("cannot serialise: {e}")));
    let b = &report.basis;
    Ok(Serialised {
        design: json(&b.design)?,
        basis: json(b)?,
        result: json(&report.result)?,
        imports: b.data.import_ids.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(","),
        from: b.data.months.first().map(|m| m.to_string()),
        to: b.data.months.last().map(|m| m.to_string()),
    })
}

mod erased {
    pub trait Json {
        fn json(&self) -> Result<String, serde_json::Error>;
    }
    impl<T: serde::Serialize> Json for T {
        fn json(&self) -> Result<String, serde_json::Error> {
            serde_json::to_string(self)
        }
    }
}

/// A stored evaluation, by column name (its ids are both integers, and who ran it and the two
/// times are all text).
#[derive(sqlx::FromRow)]
struct EvaluationRow {
    id: i64,
    intervention_id: i64,
    basis: String,
    run_by: String,
    created_at: String,
    run_at: String,
}

fn evaluation_from_row(r: EvaluationRow) -> Result<StoredEvaluation, DbError> {
    let basis: EvaluationBasis =
        serde_json::from_str(&r.basis).map_err(|e| DbError::corrupt(format!("stored evaluation: {e}")))?;
    Ok(StoredEvaluation {
        id: r.id,
        intervention_id: r.intervention_id,
        run_by: r.run_by,
        created_at: r.created_at,
        run_at: r.run_at,
        report: basis.report()?,
    })
}

fn bind_fields<'q>(q: AnyQuery<'q>, i: &NewIntervention) -> AnyQuery<'q> {
    q.bind(i.name.clone())
        .bind(i.description.clone())
        .bind(i.intervention_type.code())
        .bind(i.strategy_priority.clone())
        .bind(i.lead_organisation.clone())
        .bind(i.funding_stream.clone())
        .bind(i.funding_pence)
        .bind(i.start_date.clone())
        .bind(i.end_date.clone())
        .bind(i.place_kind.clone())
        .bind(i.place_codes.join(","))
        .bind(i.place_geometry.as_ref().map(|g| g.to_string()))
        .bind(i.crime_types.join("\n"))
        .bind(i.emmie_effect.map(EmmieEffect::code))
        .bind(i.emmie_effect_quality.map(EvidenceQuality::code))
        .bind(i.emmie_mechanism.map(EvidenceQuality::code))
        .bind(i.emmie_moderators.map(EvidenceQuality::code))
        .bind(i.emmie_implementation.map(EvidenceQuality::code))
        .bind(i.emmie_economic_cost.map(EvidenceQuality::code))
        .bind(i.referral_service.clone())
}
