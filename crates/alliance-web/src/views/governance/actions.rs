//! The action plan: `/actions` (filtered by priority, owner organisation and status),
//! `/our-actions` (the signed-in user's organisation's), `/actions/{id}` with its progress
//! updates, milestones, dependencies, escalations and history, and the add/edit form.

use std::collections::HashMap;

use alliance_core::governance::{action_overdue, milestone_overdue, ActionStatus, OVERDUE_RULE, STATUS_RULE};
use alliance_db::governance::{Action, ActionEscalation, ActionUpdate, Milestone};
use alliance_db::{Db, DbError};
use askama::Template;

use super::{FieldError, Form};
use crate::views::board_pack::{change_row, ChangeRow};
use crate::views::Layout;

#[derive(Template)]
#[template(path = "governance/actions.html")]
pub struct ActionsPage {
    pub layout: Layout,
    /// "The action plan" or "Our actions".
    pub title: String,
    /// Where the filter form submits.
    pub action_url: &'static str,
    pub ours: bool,
    pub rows: Vec<Action>,
    pub form: Form,
    pub errors: Vec<FieldError>,
    pub priorities: Vec<(String, String)>,
    pub organisations: Vec<(String, String)>,
    pub statuses: Vec<(String, String)>,
    pub priority_names: HashMap<i64, String>,
    pub can_create: bool,
}

impl ActionsPage {
    /// Every action matching the form's `priority`, `owner` and `status` filters (`owner`
    /// fixed to `own_org` for "our actions").
    pub async fn load(
        db: &Db,
        layout: Layout,
        form: Form,
        own_org: Option<(i64, String)>,
        can_create: bool,
    ) -> Result<ActionsPage, DbError> {
        let strategy = db.strategies().await?.into_iter().next();
        let priorities = match &strategy {
            Some(s) => db.priorities(s.id).await?,
            None => Vec::new(),
        };
        let priority_names = priorities.iter().map(|p| (p.id, p.name.clone())).collect();
        let priority = form.get("priority").and_then(|v| v.parse::<i64>().ok());
        let owner = match &own_org {
            Some((id, _)) => Some(*id),
            None => form.get("owner").and_then(|v| v.parse::<i64>().ok()),
        };
        let status = form.get("status").and_then(|v| v.parse::<ActionStatus>().ok());
        let rows = db
            .actions()
            .await?
            .into_iter()
            .filter(|a| priority.is_none_or(|p| a.priority_id == p))
            .filter(|a| owner.is_none_or(|o| a.owner_org_id == o))
            .filter(|a| status.is_none_or(|s| a.status == s))
            .collect();
        let errors = form.errors.clone();
        let (title, action_url) = match &own_org {
            Some((_, name)) => (format!("Our actions: {name}"), "/our-actions"),
            None => ("The action plan".to_string(), "/actions"),
        };
        Ok(ActionsPage {
            layout,
            title,
            action_url,
            ours: own_org.is_some(),
            rows,
            form,
            errors,
            priorities: priorities.iter().map(|p| (p.id.to_string(), p.name.clone())).collect(),
            organisations: organisation_options(db).await?,
            statuses: super::status_options(),
            priority_names,
            can_create,
        })
    }
    pub fn priority_name(&self, id: &i64) -> String {
        self.priority_names.get(id).cloned().unwrap_or_default()
    }
    /// Whether the action is overdue today (`alliance_core::governance::OVERDUE_RULE`).
    pub fn overdue(&self, a: &Action) -> bool {
        action_overdue(a.due_date.as_deref(), a.status, &super::today())
    }
    pub fn overdue_count(&self) -> usize {
        self.rows.iter().filter(|a| self.overdue(a)).count()
    }
    pub fn overdue_rule(&self) -> &'static str {
        OVERDUE_RULE
    }
    /// A `YYYY-MM-DD` date in words.
    pub fn uk(&self, d: &str) -> String {
        alliance_core::format::date(d)
    }
}

/// `(id, name)` options of every organisation.
pub async fn organisation_options(db: &Db) -> Result<Vec<(String, String)>, DbError> {
    Ok(db.organisations().await?.into_iter().map(|o| (o.id.to_string(), o.name)).collect())
}

#[derive(Template)]
#[template(path = "governance/action.html")]
pub struct ActionPage {
    pub layout: Layout,
    pub action: Action,
    pub priority: String,
    pub updates: Vec<ActionUpdate>,
    pub milestones: Vec<Milestone>,
    pub depends_on: Vec<(i64, String)>,
    pub needed_by: Vec<(i64, String)>,
    pub escalations: Vec<ActionEscalation>,
    pub intervention: Option<(i64, String)>,
    pub history: Vec<ChangeRow>,
    /// May post progress updates (staff, or a partner user of the owning organisation).
    pub can_update: bool,
    /// May edit, add milestones and dependencies, and escalate (staff).
    pub can_edit: bool,
    pub form: Form,
    pub errors: Vec<FieldError>,
    pub statuses: Vec<(String, String)>,
    pub other_actions: Vec<(String, String)>,
}

impl ActionPage {
    pub async fn load(
        db: &Db,
        layout: Layout,
        action: Action,
        can_update: bool,
        can_edit: bool,
        form: Form,
    ) -> Result<ActionPage, DbError> {
        let all = db.actions().await?;
        let titles: HashMap<i64, String> = all.iter().map(|a| (a.id, a.title.clone())).collect();
        let title = |id: i64| (id, titles.get(&id).cloned().unwrap_or_default());
        let deps = db.dependencies().await?;
        let priority = match db.strategies().await?.into_iter().next() {
            Some(s) => db
                .priorities(s.id)
                .await?
                .into_iter()
                .find(|p| p.id == action.priority_id)
                .map(|p| p.name)
                .unwrap_or_default(),
            None => String::new(),
        };
        let intervention = match action.intervention_id {
            Some(i) => Some((
                i,
                db.intervention(i).await?.map(|x| x.name.clone()).unwrap_or_else(|| format!("Intervention {i}")),
            )),
            None => None,
        };
        let mut form = form;
        // One key for the page's creating forms (update, milestone, escalation): each store
        // namespaces it, so they never find each other's.
        crate::forms::ensure_submission_key(&mut form.values);
        if form.get("update_on_date").is_none() {
            form.values.insert("update_on_date".into(), super::today());
        }
        if form.get("update_status").is_none() {
            form.values.insert("update_status".into(), action.status.as_str().into());
        }
        let errors = form.errors.clone();
        Ok(ActionPage {
            priority,
            updates: db.action_updates(action.id).await?,
            milestones: db.milestones(action.id).await?,
            depends_on: deps.iter().filter(|d| d.0 == action.id).map(|d| title(d.1)).collect(),
            needed_by: deps.iter().filter(|d| d.1 == action.id).map(|d| title(d.0)).collect(),
            escalations: db.action_escalations().await?.into_iter().filter(|e| e.action_id == action.id).collect(),
            intervention,
            history: db.action_history(Some(action.id)).await?.iter().map(|h| change_row(h, &titles)).collect(),
            other_actions: all
                .iter()
                .filter(|a| a.id != action.id)
                .map(|a| (a.id.to_string(), format!("{}: {}", a.id, a.title)))
                .collect(),
            layout,
            action,
            can_update,
            can_edit,
            form,
            errors,
            statuses: super::status_options(),
        })
    }
}

impl ActionPage {
    /// Whether the action is overdue today.
    pub fn overdue(&self) -> bool {
        action_overdue(self.action.due_date.as_deref(), self.action.status, &super::today())
    }
    /// Whether a milestone is overdue today.
    pub fn milestone_overdue(&self, m: &Milestone) -> bool {
        milestone_overdue(m.due_date.as_deref(), m.done_on.as_deref(), &super::today())
    }
    pub fn overdue_rule(&self) -> &'static str {
        OVERDUE_RULE
    }
    pub fn status_rule(&self) -> &'static str {
        STATUS_RULE
    }
    /// A `YYYY-MM-DD` date in words.
    pub fn uk(&self, d: &str) -> String {
        alliance_core::format::date(d)
    }
}

#[derive(Template)]
#[template(path = "governance/action_form.html")]
pub struct ActionFormPage {
    pub layout: Layout,
    /// `None` for a new action.
    pub id: Option<i64>,
    pub form: Form,
    pub errors: Vec<FieldError>,
    pub commitments: Vec<(String, String)>,
    pub organisations: Vec<(String, String)>,
    pub statuses: Vec<(String, String)>,
    pub interventions: Vec<(String, String)>,
}

impl ActionFormPage {
    pub async fn load(db: &Db, layout: Layout, id: Option<i64>, mut form: Form) -> Result<ActionFormPage, DbError> {
        if id.is_none() {
            crate::forms::ensure_submission_key(&mut form.values);
        }
        let errors = form.errors.clone();
        Ok(ActionFormPage {
            layout,
            id,
            form,
            errors,
            commitments: super::strategy::commitment_options(db).await?,
            organisations: organisation_options(db).await?,
            statuses: super::status_options(),
            interventions: db.interventions().await?.into_iter().map(|i| (i.id.to_string(), i.name.clone())).collect(),
        })
    }
}

/// The form's values for an existing action.
pub fn values_of(a: &Action) -> super::FormValues {
    let mut v = super::FormValues::new();
    v.insert("commitment".into(), a.commitment_id.to_string());
    v.insert("title".into(), a.title.clone());
    v.insert("description".into(), a.description.clone());
    v.insert("owner".into(), a.owner_org_id.to_string());
    v.insert("lead_person".into(), a.lead_person.clone());
    v.insert("start_date".into(), a.start_date.clone().unwrap_or_default());
    v.insert("due_date".into(), a.due_date.clone().unwrap_or_default());
    v.insert("status".into(), a.status.as_str().into());
    v.insert("intervention".into(), a.intervention_id.map(|i| i.to_string()).unwrap_or_default());
    // The version the form was opened on: an edit sent after someone else's change (a
    // partner's progress update, another officer's edit) is refused, not saved over it.
    v.extend([crate::forms::version_value(a.version)]);
    v
}
