//! The directory of support services and positive activities, stored one row per service
//! and exchanged in Open Referral UK JSON (`alliance_ingest::oruk`). Staff also add, change
//! and withdraw services on the web (migration 0032: a service's postcode, who last changed
//! it, its withdrawal); a withdrawn service stays stored for the record but is never shown to
//! the public, and every change is audited (`directory-change`) in its own transaction.

use alliance_ingest::oruk::{read_services, ServiceRecord};
use alliance_ingest::SourceFile;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::audit::Actor;
use crate::clock::now;
use crate::params::AnyQuery;
use crate::submissions::{self, Claim};
use crate::versions::{self, Versioned};
use crate::{Db, DbError};

/// The audit action of a change to the directory made on the web.
pub const DIRECTORY_CHANGE: &str = "directory-change";

/// A service as staff see it in the directory editor.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceEntry {
    pub record: ServiceRecord,
    /// Where the service is (normalised), or empty.
    pub postcode: String,
    pub updated_at: String,
    pub updated_by: String,
    /// When it was withdrawn (RFC 3339), if it was.
    pub withdrawn_at: Option<String>,
    pub withdrawn_by: Option<String>,
    /// Counts its edits: what its edit form names ([`crate::versions`]).
    pub version: i64,
}

/// The stored row of service `id`, read inside a change's transaction; `NotFound` when there
/// is none.
async fn service_row(tx: &mut sqlx::AnyConnection, id: &str) -> Result<AnyRow, DbError> {
    sqlx::query("SELECT * FROM support_services WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| DbError::not_found(format!("service {id}")))
}

fn entry_from_row(r: &AnyRow) -> Result<ServiceEntry, DbError> {
    Ok(ServiceEntry {
        record: from_row(r)?,
        postcode: r.try_get("postcode")?,
        updated_at: r.try_get("updated_at")?,
        updated_by: r.try_get("updated_by")?,
        withdrawn_at: r.try_get("withdrawn_at")?,
        withdrawn_by: r.try_get("withdrawn_by")?,
        version: r.try_get("version")?,
    })
}

/// `field changed from "a" to "b"` for each field that differs.
fn service_changes(old: &ServiceEntry, new: &ServiceRecord, postcode: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut field = |name: &str, a: String, b: String| {
        if a != b {
            out.push(format!("{name} changed from \"{a}\" to \"{b}\""));
        }
    };
    let o = &old.record;
    field("name", o.name.clone(), new.name.clone());
    field("description", o.description.clone(), new.description.clone());
    field("organisation", o.organisation_name.clone(), new.organisation_name.clone());
    field("organisation description", o.organisation_description.clone(), new.organisation_description.clone());
    field("website", o.url.clone(), new.url.clone());
    field("email", o.email.clone(), new.email.clone());
    field("phone", o.phone.clone(), new.phone.clone());
    field("ages", format!("{}-{}", o.min_age, o.max_age), format!("{}-{}", new.min_age, new.max_age));
    field("needs", o.needs.join(","), new.needs.join(","));
    field("areas", o.areas.join("|"), new.areas.join("|"));
    field("opening times", o.opening_times.clone(), new.opening_times.clone());
    field("kind", o.kind.clone(), new.kind.clone());
    field("postcode", old.postcode.clone(), postcode.to_string());
    out
}

/// The columns adding and changing a service write, in the order [`bind_edited`] binds them
/// (after the id; a new service's organisation id follows them). The first
/// [`SERVICE_FIELDS`] are the service's own, which a directory import writes too.
const EDITED_COLUMNS: [&str; 16] = [
    "name",
    "description",
    "organisation_name",
    "organisation_description",
    "url",
    "email",
    "phone",
    "min_age",
    "max_age",
    "needs",
    "areas",
    "opening_times",
    "kind",
    "updated_at",
    "postcode",
    "updated_by",
];

/// How many of [`EDITED_COLUMNS`] are the service's own fields, bound by [`bind_service`].
const SERVICE_FIELDS: usize = 13;

/// Binds a service's own fields (the first [`SERVICE_FIELDS`] of [`EDITED_COLUMNS`]) to
/// `query`, in their order: the one place a directory import, adding and changing a service
/// bind them (issue 12: they were lists in different orders).
fn bind_service<'q>(query: AnyQuery<'q>, s: &'q ServiceRecord) -> AnyQuery<'q> {
    query
        .bind(s.name.as_str())
        .bind(s.description.as_str())
        .bind(s.organisation_name.as_str())
        .bind(s.organisation_description.as_str())
        .bind(s.url.as_str())
        .bind(s.email.as_str())
        .bind(s.phone.as_str())
        .bind(s.min_age)
        .bind(s.max_age)
        .bind(s.needs.join(","))
        .bind(s.areas.join("|"))
        .bind(s.opening_times.as_str())
        .bind(s.kind.as_str())
}

/// Binds a service's [`EDITED_COLUMNS`] to `query`, in their order: its own fields, then
/// when, from which postcode and by whom it was edited.
fn bind_edited<'q>(query: AnyQuery<'q>, s: &'q ServiceRecord, postcode: &'q str, actor: &'q Actor) -> AnyQuery<'q> {
    bind_service(query, s).bind(now()).bind(postcode).bind(actor.name.as_str())
}

/// A search of the directory; empty fields match everything.
#[derive(Debug, Clone, Default)]
pub struct ServiceSearch {
    /// Words in the name, description or organisation.
    pub text: String,
    /// A need slug (`alliance_ingest::oruk::NEEDS`).
    pub need: String,
    /// An area name the service must cover (services covering the whole partnership area,
    /// with no areas listed, always match).
    pub area: String,
    /// The age of the person the help is for.
    pub age: Option<i64>,
    /// 'support' or 'activity'.
    pub kind: String,
}

fn from_row(r: &AnyRow) -> Result<ServiceRecord, DbError> {
    let split = |s: String, sep: char| s.split(sep).filter(|x| !x.is_empty()).map(str::to_string).collect();
    Ok(ServiceRecord {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        description: r.try_get("description")?,
        organisation_id: r.try_get("organisation_id")?,
        organisation_name: r.try_get("organisation_name")?,
        organisation_description: r.try_get("organisation_description")?,
        url: r.try_get("url")?,
        email: r.try_get("email")?,
        phone: r.try_get("phone")?,
        min_age: r.try_get("min_age")?,
        max_age: r.try_get("max_age")?,
        needs: split(r.try_get("needs")?, ','),
        areas: split(r.try_get("areas")?, '|'),
        opening_times: r.try_get("opening_times")?,
        kind: r.try_get("kind")?,
    })
}

/// The prefix of the id of a service added on the staff form.
const WEB_SERVICE_PREFIX: &str = "alliance-";

/// The id of a service added on the staff form: `alliance-` and the 16 hex digits of a random
/// number. A form's one-time key stores what it made as a number (`form_submissions.made_id`),
/// so the number is what is kept and the id is made from it again.
pub fn web_service_id(number: i64) -> String {
    // The bits as unsigned: every number has its own 16 digits, negative ones too.
    format!("{WEB_SERVICE_PREFIX}{:016x}", number as u64)
}

/// The number a [`web_service_id`] was made from; `None` for any other id (an imported one).
fn web_service_number(id: &str) -> Option<i64> {
    let digits = id
        .strip_prefix(WEB_SERVICE_PREFIX)
        .filter(|d| d.len() == 16 && d.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))?;
    u64::from_str_radix(digits, 16).ok().map(|n| n as i64)
}

impl Db {
    /// The last step of every change to the directory: its audit row (`directory-change`, at
    /// `/directory/{id}`), then the commit.
    async fn commit_directory_change(
        &self,
        tx: sqlx::Transaction<'static, sqlx::Any>,
        id: &str,
        actor: &Actor,
        detail: &str,
    ) -> Result<(), DbError> {
        self.commit_audited(tx, &actor.event(DIRECTORY_CHANGE, &format!("/directory/{id}"), detail)).await
    }

    /// Imports an ORUK JSON file in one transaction: every service is inserted or replaced
    /// (by id), or none is. Returns how many services the file held.
    pub async fn import_services_file(&self, file: &SourceFile) -> Result<usize, DbError> {
        let records = {
            let file = file.clone();
            tokio::task::spawn_blocking(move || read_services(&file)).await??
        };
        self.upsert_services(&records).await?;
        Ok(records.len())
    }

    /// Inserts or replaces services (by id) in one transaction, with its audit row (an import
    /// of a directory file: `directory-import`, how many services). The audit row also tells
    /// caches of public pages (`/find-help`) that the directory changed.
    pub async fn upsert_services(&self, records: &[ServiceRecord]) -> Result<(), DbError> {
        let mut tx = self.begin_write().await?;
        let at = now();
        let own = &EDITED_COLUMNS[..SERVICE_FIELDS];
        let sql = format!(
            "INSERT INTO support_services (id, {}, organisation_id, updated_at) VALUES ({}) ON CONFLICT (id) DO UPDATE SET {}",
            own.join(", "),
            (1..=own.len() + 3).map(|n| format!("${n}")).collect::<Vec<_>>().join(", "),
            own.iter()
                .chain(&["organisation_id", "updated_at"])
                .map(|c| format!("{c} = excluded.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        for s in records {
            bind_service(sqlx::query(&sql).bind(s.id.as_str()), s)
                .bind(s.organisation_id.as_str())
                .bind(at.as_str())
                .execute(&mut *tx)
                .await?;
        }
        let detail = format!("{} services inserted or replaced", records.len());
        let event = crate::audit::AuditEvent {
            actor: "cli",
            action: "directory-import",
            target: "support_services",
            detail: &detail,
            ip: "cli",
        };
        self.commit_audited(tx, &event).await?;
        Ok(())
    }

    /// Services matching a search, by name; withdrawn services are never among them.
    /// Filtering is done here in Rust over the whole directory (hundreds of rows), which
    /// keeps the matching rules identical on both backends.
    pub async fn services(&self, search: &ServiceSearch) -> Result<Vec<ServiceRecord>, DbError> {
        let rows =
            sqlx::query("SELECT * FROM support_services WHERE withdrawn_at IS NULL").fetch_all(&self.pool).await?;
        let text = search.text.trim().to_lowercase();
        let area = search.area.trim().to_lowercase();
        let mut out = Vec::new();
        for r in &rows {
            let s = from_row(r)?;
            let haystack = format!("{} {} {}", s.name, s.description, s.organisation_name).to_lowercase();
            let keep = (text.is_empty() || text.split_whitespace().all(|w| haystack.contains(w)))
                && (search.need.is_empty() || s.needs.contains(&search.need))
                && (area.is_empty() || s.areas.is_empty() || s.areas.iter().any(|a| a.trim().to_lowercase() == area))
                && search.age.is_none_or(|age| s.min_age <= age && age <= s.max_age)
                && (search.kind.is_empty() || s.kind == search.kind);
            if keep {
                out.push(s);
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
        Ok(out)
    }

    /// One service by id (not withdrawn).
    pub async fn service(&self, id: &str) -> Result<Option<ServiceRecord>, DbError> {
        let row = sqlx::query("SELECT * FROM support_services WHERE id = $1 AND withdrawn_at IS NULL")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// The area names the filter offers: the partnership's districts (by the names their area
    /// files give them; a district whose name is not held is left out) and every area a
    /// service names, each once whatever its case, in alphabetical order. A resident of a
    /// district no service names can still choose it, and finds the services that cover the
    /// whole partnership area (those that name no area).
    pub async fn service_areas(&self) -> Result<Vec<String>, DbError> {
        let mut areas: Vec<String> = match self.partnership().await? {
            Some(profile) => {
                let wanted: Vec<String> = profile.districts.iter().map(|d| d.to_string()).collect();
                self.districts().await?.into_iter().filter(|d| wanted.contains(&d.code)).map(|d| d.name).collect()
            }
            None => Vec::new(),
        };
        areas.extend(self.services(&ServiceSearch::default()).await?.into_iter().flat_map(|s| s.areas));
        Ok(one_of_each(areas))
    }

    /// Every service, withdrawn ones too, by name (the directory editor's list).
    pub async fn directory_entries(&self) -> Result<Vec<ServiceEntry>, DbError> {
        let rows = sqlx::query("SELECT * FROM support_services").fetch_all(&self.pool).await?;
        let mut out = rows.iter().map(entry_from_row).collect::<Result<Vec<_>, _>>()?;
        out.sort_by(|a, b| {
            a.withdrawn_at
                .is_some()
                .cmp(&b.withdrawn_at.is_some())
                .then_with(|| a.record.name.to_lowercase().cmp(&b.record.name.to_lowercase()))
                .then_with(|| a.record.id.cmp(&b.record.id))
        });
        Ok(out)
    }

    /// One service as the editor sees it, withdrawn or not.
    pub async fn directory_entry(&self, id: &str) -> Result<Option<ServiceEntry>, DbError> {
        let row =
            sqlx::query("SELECT * FROM support_services WHERE id = $1").bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(entry_from_row).transpose()
    }

    /// The location (latitude, longitude) of each service not withdrawn whose postcode is
    /// among the postcodes held.
    pub async fn service_locations(&self) -> Result<Vec<(String, f64, f64)>, DbError> {
        let rows = sqlx::query(
            "SELECT s.id, p.latitude, p.longitude FROM support_services s JOIN postcodes p ON p.postcode = s.postcode \
             WHERE s.withdrawn_at IS NULL",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?))).collect()
    }

    /// Adds a service checked by the caller (`alliance_app::directory`); an id already held
    /// is a [`DbError::Conflict`]. Audited in the same transaction. Returns the service's id;
    /// the same form sent again (its `submission` key, which needs an id made by
    /// [`web_service_id`]) adds nothing and returns the first one's.
    pub async fn add_service(
        &self,
        s: &ServiceRecord,
        postcode: &str,
        submission: Option<&str>,
        actor: &Actor,
    ) -> Result<String, DbError> {
        let key = submissions::key("service", submission)?;
        let made = match key {
            Some(_) => Some(web_service_number(s.id.as_str()).ok_or_else(|| {
                DbError::invalid("submission", format!("{} is not the id of a service added on the form", s.id))
            })?),
            None => None,
        };
        let mut tx = self.begin_write().await?;
        if let Claim::Repeat(first) = submissions::claim(&mut tx, key.as_deref()).await? {
            return Ok(web_service_id(first));
        }
        let held =
            sqlx::query("SELECT id FROM support_services WHERE id = $1").bind(s.id.as_str()).fetch_optional(&mut *tx);
        if held.await?.is_some() {
            return Err(DbError::conflict("name", format!("A service with the id {} is already held", s.id)));
        }
        let sql = format!(
            "INSERT INTO support_services (id, {}, organisation_id) VALUES ($1, {}, ${})",
            EDITED_COLUMNS.join(", "),
            (2..EDITED_COLUMNS.len() + 2).map(|n| format!("${n}")).collect::<Vec<_>>().join(", "),
            EDITED_COLUMNS.len() + 2
        );
        bind_edited(sqlx::query(&sql).bind(s.id.as_str()), s, postcode, actor)
            .bind(s.organisation_id.as_str())
            .execute(&mut *tx)
            .await?;
        if let Some(made) = made {
            submissions::record(&mut tx, key.as_deref(), made).await?;
        }
        let detail = format!("service added: {} ({})", s.name, s.organisation_name);
        self.commit_directory_change(tx, s.id.as_str(), actor, &detail).await?;
        Ok(s.id.clone())
    }

    /// Changes a service (checked by the caller); audited with each field before and after
    /// (nothing is written when nothing changed). A withdrawn service cannot be changed.
    /// `seen`: the version the form was opened on ([`crate::versions::claim`]).
    pub async fn update_service(
        &self,
        s: &ServiceRecord,
        postcode: &str,
        seen: Option<i64>,
        actor: &Actor,
    ) -> Result<(), DbError> {
        let mut tx = self.begin_write().await?;
        if !versions::claim(&mut tx, Versioned::Service, s.id.as_str(), seen).await? {
            return Err(DbError::not_found(format!("service {}", s.id.as_str())));
        }
        let row = service_row(&mut tx, s.id.as_str()).await?;
        let old = entry_from_row(&row)?;
        if old.withdrawn_at.is_some() {
            return Err(DbError::conflict(
                "name",
                format!(
                    "This service was withdrawn on {}, after you opened it: nothing was saved. Reinstate it from \
                     the directory first, then make your changes",
                    alliance_core::format::stamp_time(old.withdrawn_at.as_deref().unwrap_or_default())
                ),
            ));
        }
        let changes = service_changes(&old, s, postcode);
        if changes.is_empty() {
            return Ok(());
        }
        let sql = format!(
            "UPDATE support_services SET {} WHERE id = $1",
            EDITED_COLUMNS.iter().enumerate().map(|(i, c)| format!("{c} = ${}", i + 2)).collect::<Vec<_>>().join(", ")
        );
        bind_edited(sqlx::query(&sql).bind(s.id.as_str()), s, postcode, actor).execute(&mut *tx).await?;
        let detail: String =
            format!("service changed: {}: {}", old.record.name, changes.join("; ")).chars().take(4_000).collect();
        self.commit_directory_change(tx, s.id.as_str(), actor, &detail).await
    }

    /// Withdraws a service: kept for the record, no longer shown to the public. Withdrawing one
    /// already withdrawn is a [`DbError::Conflict`]. Audited with the reason.
    pub async fn withdraw_service(&self, id: &str, reason: &str, actor: &Actor) -> Result<(), DbError> {
        let mut tx = self.begin_write().await?;
        let row = service_row(&mut tx, id).await?;
        let old = entry_from_row(&row)?;
        if old.withdrawn_at.is_some() {
            return Err(DbError::conflict("reason", "This service is already withdrawn"));
        }
        sqlx::query("UPDATE support_services SET withdrawn_at = $2, withdrawn_by = $3 WHERE id = $1")
            .bind(id)
            .bind(now())
            .bind(actor.name.as_str())
            .execute(&mut *tx)
            .await?;
        let detail = format!("service withdrawn: {}: {reason}", old.record.name);
        self.commit_directory_change(tx, id, actor, &detail).await
    }

    /// Reinstates a withdrawn service: shown to the public again, as it was when withdrawn.
    /// The change is one conditional `UPDATE` (`… AND withdrawn_at IS NOT NULL`), so of two
    /// reinstatements racing only one is made and audited; reinstating a service that is not
    /// withdrawn is a [`DbError::Conflict`], an unknown one [`DbError::NotFound`].
    pub async fn reinstate_service(&self, id: &str, actor: &Actor) -> Result<(), DbError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE support_services SET withdrawn_at = NULL, withdrawn_by = NULL, updated_at = $2, updated_by = $3 \
             WHERE id = $1 AND withdrawn_at IS NOT NULL",
        )
        .bind(id)
        .bind(now())
        .bind(actor.name.as_str())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let row = service_row(&mut tx, id).await?;
        if done == 0 {
            return Err(DbError::conflict("id", "This service is not withdrawn: there is nothing to reinstate"));
        }
        let entry = entry_from_row(&row)?;
        let detail = format!("service reinstated: {}", entry.record.name);
        self.commit_directory_change(tx, id, actor, &detail).await
    }
}

/// Area names, trimmed, each once whatever its case (the first spelling met is kept), in
/// alphabetical order ignoring case.
fn one_of_each(areas: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(areas.len());
    for a in areas.into_iter().map(|a| a.trim().to_string()).filter(|a| !a.is_empty()) {
        if !out.iter().any(|o| o.to_lowercase() == a.to_lowercase()) {
            out.push(a);
        }
    }
    out.sort_by_key(|a| a.to_lowercase());
    out
}

#[cfg(test)]
mod tests {
    use super::{one_of_each, web_service_id, web_service_number};

    #[test]
    fn a_web_service_id_gives_back_its_number() {
        for n in [0, 1, 0x1234_5678_9abc_def0, i64::MAX, -1, i64::MIN] {
            let id = web_service_id(n);
            assert_eq!(id.len(), "alliance-".len() + 16, "{id}");
            assert_eq!(web_service_number(&id), Some(n), "{id}");
        }
        assert_eq!(web_service_id(-1), "alliance-ffffffffffffffff");
        for other in [
            "oruk-1",
            "alliance-12",
            "alliance-zzzzzzzzzzzzzzzz",
            "alliance-00000000000000000",
            "alliance-+123456789abcdef",
            "alliance-ABCDEF0123456789",
        ] {
            assert_eq!(web_service_number(other), None, "{other}");
        }
    }

    #[test]
    fn areas_are_listed_once_whatever_their_case() {
        let given = ["Stafford", " stafford ", "East Staffordshire", "", "cannock Chase", "Cannock Chase"];
        assert_eq!(
            one_of_each(given.iter().map(|s| s.to_string()).collect()),
            ["cannock Chase", "East Staffordshire", "Stafford"]
        );
    }
}
