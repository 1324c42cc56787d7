//! Edits that race: optimistic concurrency for the records people edit through forms.
//!
//! Two officers open one indicator's target form; the first saves, then the second, whose
//! form still shows the old figures, would write them back over the first one's change. Each
//! edited record therefore counts its changes in a `version` column; an edit form carries the
//! version it was opened on, and [`claim`] refuses the edit when the record has moved on.
//!
//! The claim is one conditional `UPDATE … SET version = version + 1 WHERE id = $1 AND version
//! = $2`, run first in the edit's transaction. It takes the row's write lock on PostgreSQL
//! (a second edit of the same version waits, then finds the version moved and matches no
//! row) and the database's on SQLite (`BEGIN IMMEDIATE`), so two edits of one version cannot
//! both pass, whichever backend and however many instances. An edit that then fails (a
//! refused field) rolls the count back with the rest of its transaction.

use sqlx::AnyConnection;

use crate::DbError;

/// A kind of record edited through a form, with its table and the noun a refusal names it by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Versioned {
    Action,
    Indicator,
    FundingStream,
    Allocation,
    Intervention,
    Priority,
    Commitment,
    Agreement,
    Service,
    User,
    Partnership,
}

impl Versioned {
    fn table(self) -> &'static str {
        match self {
            Versioned::Action => "actions",
            Versioned::Indicator => "indicators",
            Versioned::FundingStream => "funding_streams",
            Versioned::Allocation => "funding_allocations",
            Versioned::Intervention => "interventions",
            Versioned::Priority => "priorities",
            Versioned::Commitment => "commitments",
            Versioned::Agreement => "agreements",
            Versioned::Service => "support_services",
            Versioned::User => "users",
            Versioned::Partnership => "partnership",
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Versioned::Action => "action",
            Versioned::Indicator => "indicator",
            Versioned::FundingStream => "funding stream",
            Versioned::Allocation => "allocation",
            Versioned::Intervention => "intervention",
            Versioned::Priority => "priority",
            Versioned::Commitment => "commitment",
            Versioned::Agreement => "agreement",
            Versioned::Service => "service",
            Versioned::User => "user's access",
            Versioned::Partnership => "partnership's profile",
        }
    }
}

/// The key of a versioned record: most tables are keyed by an integer, the directory's
/// services by their Open Referral id.
#[derive(Debug, Clone, Copy)]
pub enum Key<'a> {
    Id(i64),
    Text(&'a str),
}

impl From<i64> for Key<'_> {
    fn from(id: i64) -> Self {
        Key::Id(id)
    }
}

impl<'a> From<&'a str> for Key<'a> {
    fn from(id: &'a str) -> Self {
        Key::Text(id)
    }
}

/// Counts the record's version up for the edit running in `tx`, first in that transaction.
/// `seen` is the version the editor's form was opened on (`None`: a caller with no form, such
/// as the command line, edits whatever is current). `Ok(false)` when there is no such record;
/// a `Conflict` on the field `version` when the record changed after the form was opened.
pub(crate) async fn claim<'a>(
    tx: &mut AnyConnection,
    what: Versioned,
    key: impl Into<Key<'a>>,
    seen: Option<i64>,
) -> Result<bool, DbError> {
    let table = what.table();
    let key = key.into();
    let sql = match seen {
        None => format!("UPDATE {table} SET version = version + 1 WHERE id = $1"),
        Some(_) => format!("UPDATE {table} SET version = version + 1 WHERE id = $1 AND version = $2"),
    };
    let query = match key {
        Key::Id(id) => sqlx::query(&sql).bind(id),
        Key::Text(id) => sqlx::query(&sql).bind(id),
    };
    let query = match seen {
        Some(v) => query.bind(v),
        None => query,
    };
    if query.execute(&mut *tx).await?.rows_affected() == 1 {
        return Ok(true);
    }
    let exists_sql = format!("SELECT 1 FROM {table} WHERE id = $1");
    let exists = match key {
        Key::Id(id) => sqlx::query(&exists_sql).bind(id).fetch_optional(&mut *tx).await?,
        Key::Text(id) => sqlx::query(&exists_sql).bind(id).fetch_optional(&mut *tx).await?,
    };
    match exists {
        None => Ok(false),
        Some(_) => Err(stale(what)),
    }
}

/// The refusal of an edit whose form was opened on an older version of the record.
fn stale(what: Versioned) -> DbError {
    DbError::conflict(
        "version",
        format!(
            "This {} was changed by someone else after you opened it: nothing was saved. Open it again to \
             see their change, then make yours",
            what.noun()
        ),
    )
}
