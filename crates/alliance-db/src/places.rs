//! The place register's storage: named outlines (parks, town centres, streets, zones) that
//! evaluations use as areas by name. The checks are `alliance_core::domain::place`'s, run by
//! the use case (`alliance_app::places`) before a place reaches here; the database keeps
//! names unique whatever their case.

use serde::Serialize;

use crate::access::conflict_if_unique;
use crate::audit::{append, Actor, AuditChain};
use crate::clock::now;
use crate::submissions::{self, Claim};
use crate::{Db, DbError};

/// The audit log's action for changes to the register.
pub const PLACE_CHANGE: &str = "place";

/// A registered place.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Place {
    pub id: i64,
    pub name: String,
    /// An `alliance_core::domain::place::PlaceKind` key.
    pub kind: String,
    pub description: String,
    /// A GeoJSON FeatureCollection (WGS84).
    pub geometry: String,
    pub shapes: i64,
    pub vertices: i64,
    pub square_metres: f64,
    pub created_by: String,
    pub created_at: String,
}

/// A place to register, already checked.
#[derive(Debug, Clone)]
pub struct NewPlace<'a> {
    pub name: &'a str,
    pub kind: &'a str,
    pub description: &'a str,
    pub geometry: &'a str,
    pub shapes: i64,
    pub vertices: i64,
    pub square_metres: f64,
}

const COLUMNS: &str = "id, name, kind, description, geometry, shapes, vertices, square_metres, created_by, created_at";

impl Db {
    /// Registers a place; a name already used (in any case) is a `Conflict` on `name`. The
    /// same form sent again (its `submission` key) registers nothing and returns the first
    /// one's id, rather than refusing the name the first one took.
    pub async fn add_place(
        &self,
        place: &NewPlace<'_>,
        submission: Option<&str>,
        actor: &Actor,
    ) -> Result<i64, DbError> {
        let key = submissions::key("place", submission)?;
        let mut tx = self.begin_write().await?;
        if let Claim::Repeat(first) = submissions::claim(&mut tx, key.as_deref()).await? {
            return Ok(first);
        }
        let id = insert_places(&mut tx, self.audit_chain(), std::slice::from_ref(place), actor).await?[0];
        submissions::record(&mut tx, key.as_deref(), id).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Registers places in one transaction: all of them or, on the first name already used,
    /// none. Returns their ids in order.
    pub async fn add_places(&self, places: &[NewPlace<'_>], actor: &Actor) -> Result<Vec<i64>, DbError> {
        let mut tx = self.begin_write().await?;
        let ids = insert_places(&mut tx, self.audit_chain(), places, actor).await?;
        tx.commit().await?;
        Ok(ids)
    }

    /// Every place, by name.
    pub async fn places(&self) -> Result<Vec<Place>, DbError> {
        Ok(sqlx::query_as(&format!("SELECT {COLUMNS} FROM places ORDER BY lower(name), id"))
            .fetch_all(&self.pool)
            .await?)
    }

    /// Every place's id and name, by name, without the outlines (for choices on a page).
    pub async fn place_choices(&self) -> Result<Vec<(i64, String)>, DbError> {
        Ok(sqlx::query_as("SELECT id, name FROM places ORDER BY lower(name), id").fetch_all(&self.pool).await?)
    }

    pub async fn place(&self, id: i64) -> Result<Place, DbError> {
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM places WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| DbError::not_found(format!("place {id}")))
    }

    /// The places with these names (matched whatever their case), in the order given; a name
    /// not registered is `Invalid` on `field`, naming it.
    pub async fn places_named(&self, field: &'static str, names: &[String]) -> Result<Vec<Place>, DbError> {
        let all = self.places().await?;
        let mut found = Vec::with_capacity(names.len());
        let mut missing = Vec::new();
        for name in names {
            match all.iter().find(|p| p.name.to_lowercase() == name.trim().to_lowercase()) {
                Some(p) => found.push(p.clone()),
                None => missing.push(format!("\"{}\"", name.trim())),
            }
        }
        if !missing.is_empty() {
            return Err(DbError::invalid(
                field,
                format!("no place called {} in the register (see /places)", missing.join(", ")),
            ));
        }
        Ok(found)
    }

    /// Removes a place, unless an intervention names it as its place (its evaluations keep the
    /// outline they used, but could no longer be re-run): that is a `Conflict` naming them.
    pub async fn remove_place(&self, id: i64, actor: &Actor) -> Result<(), DbError> {
        let mut tx = self.begin_write().await?;
        let name: String = sqlx::query_scalar("SELECT name FROM places WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| DbError::not_found(format!("place {id}")))?;
        let users: Vec<(i64, String, String)> =
            sqlx::query_as("SELECT id, name, place_codes FROM interventions WHERE place_kind = 'place' ORDER BY id")
                .fetch_all(&mut *tx)
                .await?;
        let named: Vec<String> = users
            .into_iter()
            .filter(|(_, _, codes)| codes.split(',').any(|c| c.trim().eq_ignore_ascii_case(&name)))
            .map(|(id, title, _)| format!("{title} (intervention {id})"))
            .collect();
        if !named.is_empty() {
            return Err(DbError::conflict(
                "place",
                format!("\"{name}\" is the place of {}: change those first", named.join(", ")),
            ));
        }
        // A stored evaluation that names the place (its target or its comparison) is re-run
        // from its design: without the place it could not be run again.
        let designs: Vec<(i64, i64, String)> =
            sqlx::query_as("SELECT id, intervention_id, design FROM intervention_evaluations ORDER BY id")
                .fetch_all(&mut *tx)
                .await?;
        let evaluations: Vec<String> = designs
            .into_iter()
            .filter(|(_, _, design)| {
                serde_json::from_str::<crate::evaluations::EvaluationDesign>(design).is_ok_and(|d| {
                    [Some(&d.target), d.comparison.as_ref()].into_iter().flatten().any(|spec| {
                        matches!(spec, crate::evaluations::AreaSpec::Place { names }
                            if names.iter().any(|n| n.trim().eq_ignore_ascii_case(&name)))
                    })
                })
            })
            .map(|(e, i, _)| format!("evaluation {e} of intervention {i}"))
            .collect();
        if !evaluations.is_empty() {
            return Err(DbError::conflict(
                "place",
                format!(
                    "\"{name}\" is an area of {}, which could not be run again without it: keep the place",
                    evaluations.join(", ")
                ),
            ));
        }
        sqlx::query("DELETE FROM places WHERE id = $1").bind(id).execute(&mut *tx).await?;
        let detail = format!("place removed: {name}");
        self.commit_audited(tx, &actor.event(PLACE_CHANGE, &format!("/places/{id}"), &detail)).await?;
        Ok(())
    }
}

/// Inserts places and their audit rows in the caller's write transaction; a name already
/// used (in any case) is a `Conflict` on `name`.
async fn insert_places(
    tx: &mut sqlx::AnyConnection,
    chain: &AuditChain,
    places: &[NewPlace<'_>],
    actor: &Actor,
) -> Result<Vec<i64>, DbError> {
    let mut ids = Vec::with_capacity(places.len());
    for place in places {
        let taken = || DbError::conflict("name", format!("There is already a place called \"{}\"", place.name));
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO places (name, kind, description, geometry, shapes, vertices, square_metres, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(place.name)
        .bind(place.kind)
        .bind(place.description)
        .bind(place.geometry)
        .bind(place.shapes)
        .bind(place.vertices)
        .bind(place.square_metres)
        .bind(&actor.name)
        .bind(now())
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| conflict_if_unique(e, taken))?;
        let detail = format!("place added: {} ({}, {} vertices)", place.name, place.kind, place.vertices);
        append(&mut *tx, chain, &actor.event(PLACE_CHANGE, &format!("/places/{id}"), &detail)).await?;
        ids.push(id);
    }
    Ok(ids)
}
