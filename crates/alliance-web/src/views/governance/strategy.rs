//! `/strategy`: the strategy's priorities and the commitments under each ("we will …"),
//! with forms for staff to add a commitment and to change one's words.

use std::collections::HashMap;

use alliance_db::governance::{Commitment, Priority, Strategy};
use alliance_db::{Db, DbError};
use askama::Template;

use super::{FieldError, Form};
use crate::views::Layout;

pub struct PriorityBlock {
    pub priority: Priority,
    /// Each commitment with the number of actions under it.
    pub commitments: Vec<(Commitment, usize)>,
}

#[derive(Template)]
#[template(path = "governance/strategy.html")]
pub struct StrategyPage {
    pub layout: Layout,
    pub strategy: Option<Strategy>,
    pub priorities: Vec<PriorityBlock>,
    pub can_edit: bool,
    pub form: Form,
    pub errors: Vec<FieldError>,
}

impl StrategyPage {
    pub async fn load(db: &Db, layout: Layout, can_edit: bool, mut form: Form) -> Result<StrategyPage, DbError> {
        crate::forms::ensure_submission_key(&mut form.values);
        let strategy = db.strategies().await?.into_iter().next();
        let mut priorities = Vec::new();
        if let Some(s) = &strategy {
            let mut actions: HashMap<i64, usize> = HashMap::new();
            for a in db.actions().await? {
                *actions.entry(a.commitment_id).or_default() += 1;
            }
            let commitments = db.commitments(s.id).await?;
            for p in db.priorities(s.id).await? {
                let mine = commitments
                    .iter()
                    .filter(|c| c.priority_id == p.id)
                    .map(|c| (c.clone(), actions.get(&c.id).copied().unwrap_or(0)))
                    .collect();
                priorities.push(PriorityBlock { priority: p, commitments: mine });
            }
        }
        let errors = form.errors.clone();
        Ok(StrategyPage { layout, strategy, priorities, can_edit, form, errors })
    }
}

#[derive(Template)]
#[template(path = "governance/commitment.html")]
pub struct CommitmentPage {
    pub layout: Layout,
    pub commitment: Commitment,
    pub priority: String,
    pub form: Form,
    pub errors: Vec<FieldError>,
}

impl CommitmentPage {
    pub fn new(layout: Layout, commitment: Commitment, priority: String, form: Form) -> CommitmentPage {
        let errors = form.errors.clone();
        CommitmentPage { layout, commitment, priority, form, errors }
    }
}

#[derive(Template)]
#[template(path = "governance/priority.html")]
pub struct PriorityPage {
    pub layout: Layout,
    pub priority: Priority,
    pub form: Form,
    pub errors: Vec<FieldError>,
}

impl PriorityPage {
    pub fn new(layout: Layout, priority: Priority, form: Form) -> PriorityPage {
        let errors = form.errors.clone();
        PriorityPage { layout, priority, form, errors }
    }
}

/// A priority of the current strategy (the one the pages show and edit).
pub async fn priority(db: &Db, id: i64) -> Result<Option<Priority>, DbError> {
    let Some(s) = db.strategies().await?.into_iter().next() else { return Ok(None) };
    Ok(db.priorities(s.id).await?.into_iter().find(|p| p.id == id))
}

/// A commitment of the current strategy and its priority's name.
pub async fn commitment(db: &Db, id: i64) -> Result<Option<(Commitment, String)>, DbError> {
    let Some(s) = db.strategies().await?.into_iter().next() else { return Ok(None) };
    let priorities = db.priorities(s.id).await?;
    Ok(db.commitments(s.id).await?.into_iter().find(|c| c.id == id).map(|c| {
        let name = priorities.iter().find(|p| p.id == c.priority_id).map(|p| p.name.clone()).unwrap_or_default();
        (c, name)
    }))
}

/// `(id, "Priority: we will …")` options of every commitment of the current strategy.
pub async fn commitment_options(db: &Db) -> Result<Vec<(String, String)>, DbError> {
    let Some(s) = db.strategies().await?.into_iter().next() else { return Ok(Vec::new()) };
    let priorities = db.priorities(s.id).await?;
    Ok(db
        .commitments(s.id)
        .await?
        .into_iter()
        .map(|c| {
            let p = priorities.iter().find(|p| p.id == c.priority_id);
            let label = format!(
                "{}.{} {}: {}",
                p.map(|p| p.position).unwrap_or(0),
                c.position,
                p.map(|p| p.name.as_str()).unwrap_or(""),
                shorten(&c.text, 90)
            );
            (c.id.to_string(), label)
        })
        .collect())
}

/// At most `n` characters, with an ellipsis when cut.
pub fn shorten(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n).collect::<String>() + "…"
    }
}
