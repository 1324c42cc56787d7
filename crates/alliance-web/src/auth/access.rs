//! THE route table: every route of the app with who may use it. The middleware
//! (`middleware::guard`) applies it to every request; a route that is not listed here is
//! refused to everyone, so a route added without an entry fails closed (and the test
//! `every_registered_route_is_in_the_table` fails).
//!
//! And THE data check: [`dataset_access`] is the one place that decides how much of a
//! dataset a caller may see; and the record-level rules of governance
//! ([`require_governance_staff`], [`require_action_update`], [`require_indicator_entry`]):
//! which records a signed-in user may change, beyond the route their role admits them to.

use alliance_core::access::{access_level, AccessLevel, Grant, Role};

use alliance_db::access::User;
use alliance_db::governance::{Action, Indicator};

use super::Principal;
use crate::error::{forbidden, PageError};
use crate::AppState;

/// Who may use a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allow {
    /// Anyone, signed in or not.
    Public,
    /// Signed-in users with one of these roles.
    Roles(&'static [Role]),
}

/// Who may use one method of a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Access {
    pub allow: Allow,
    /// An API token with this scope may also use the method (only under `/api/`).
    pub token_scope: Option<&'static str>,
}

impl Access {
    const fn roles(roles: &'static [Role]) -> Access {
        Access { allow: Allow::Roles(roles), token_scope: None }
    }

    /// These roles, and also an API token with `scope`.
    const fn or_token(self, scope: &'static str) -> Access {
        Access { allow: self.allow, token_scope: Some(scope) }
    }
}

/// A row of the table: a route and who may use each of its methods, written the way the
/// router registers it (`.route("/x", get(..).post(..))` ~ `route("/x").get(ALL).post(STAFF)`).
/// A method without an entry is refused to everyone.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    /// The route pattern exactly as registered with axum, e.g. `/admin/users/{id}`.
    pub path: &'static str,
    /// `GET`, which also admits `HEAD`.
    pub get: Option<Access>,
    pub post: Option<Access>,
}

const fn route(path: &'static str) -> Route {
    Route { path, get: None, post: None }
}

impl Route {
    const fn get(self, access: Access) -> Route {
        Route { get: Some(access), ..self }
    }

    const fn post(self, access: Access) -> Route {
        Route { post: Some(access), ..self }
    }

    /// The route's entries, one for each method it lists.
    fn rules(&self) -> impl Iterator<Item = RouteRule> + '_ {
        [("GET", self.get), ("POST", self.post)].into_iter().filter_map(|(method, access)| {
            access.map(|a| RouteRule { method, path: self.path, allow: a.allow, token_scope: a.token_scope })
        })
    }
}

/// One entry of the table: a method of a route and who may use it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteRule {
    /// `GET` (which also admits `HEAD`) or `POST`.
    pub method: &'static str,
    /// The route pattern exactly as registered with axum, e.g. `/admin/users/{id}`.
    pub path: &'static str,
    pub allow: Allow,
    /// An API token with this scope may also use the route (only under `/api/`).
    pub token_scope: Option<&'static str>,
}

impl RouteRule {
    /// Whether a signed-in user with `role` may use the route.
    pub fn admits(&self, role: Role) -> bool {
        match self.allow {
            Allow::Public => true,
            Allow::Roles(roles) => roles.contains(&role),
        }
    }
}

const PUBLIC: Access = Access { allow: Allow::Public, token_scope: None };
const ALL: Access = Access::roles(Role::ALL);
const STAFF: Access = Access::roles(&[Role::Administrator, Role::Analyst]);
const ADMIN: Access = Access::roles(&[Role::Administrator]);
/// Who may post progress on actions and values of indicators: staff, and partner users (the
/// handler then admits a partner user only to their own organisation's, through
/// [`require_action_update`] and [`require_indicator_entry`]). Board members read.
const UPDATERS: Access = Access::roles(&[Role::Administrator, Role::Analyst, Role::PartnerUser]);
/// Everyone who may hold data or supply it; board members see figures on other pages.
const PARTNERS: Access = Access::roles(&[Role::Administrator, Role::Analyst, Role::PartnerUser]);

/// The scopes an API token can carry.
pub const SCOPES: &[(&str, &str)] = &[
    ("upload:police", "Upload data.police.uk street and outcomes files"),
    ("read:counts", "Read counts of police recorded crime"),
    ("upload:ed", "Upload emergency department assault files (the organisation must supply the dataset)"),
    ("upload:indicators", "Upload partner indicator files (the organisation must supply the dataset)"),
    ("write:referrals", "Make referrals and update their status (the organisation's own referrals only)"),
    ("read:referrals", "Read aggregate referral figures (suppressed)"),
];

/// Every route, with who may use it.
pub const ROUTES: &[Route] = &[
    // Public: assets, the health check, signing in. Nothing else.
    route("/assets/{*path}").get(PUBLIC),
    route("/healthz").get(PUBLIC),
    route("/readyz").get(PUBLIC),
    // The API contract (routes/api/openapi.rs): no data, for partners' developers.
    route("/api/v1/openapi.json").get(PUBLIC),
    route("/developers").get(PUBLIC),
    route("/sign-in").get(PUBLIC).post(PUBLIC),
    // First run only: the handler answers 404 once anyone can sign in.
    route("/setup").get(PUBLIC).post(PUBLIC),
    // Every signed-in user.
    route("/sign-out").post(ALL),
    route("/account/password").get(ALL).post(ALL),
    route("/").get(ALL),
    // Partnership staff.
    route("/imports").get(STAFF),
    // Police and area uploads (routes/imports_upload.rs): area data by administrators; police
    // data by staff whom `Supplier::may_supply_police` then admits (administrators, users of the
    // organisation supplying the police dataset), asked before the body is read.
    route("/imports/upload").get(STAFF),
    route("/imports/police").post(STAFF),
    route("/imports/areas").post(ADMIN),
    // Partner data (routes/partner_data.rs, routes/partner_figures.rs). Reaching a page is
    // not seeing the data: each page then asks `require_dataset` for the organisation's level
    // (aggregate: suppressed figures; record: records too; none: 403). The geocoding queue
    // shows ED free text, so it also needs record-level access to ED data.
    route("/partner-data").get(ALL),
    route("/partner-data/ed-assaults").get(ALL),
    route("/partner-data/ed-assaults/{file}").get(ALL),
    route("/partner-data/indicators").get(ALL),
    route("/partner-data/indicators/{file}").get(ALL),
    route("/partner-data/upload").get(PARTNERS).post(PARTNERS),
    route("/partner-data/geocoding").get(STAFF).post(STAFF),
    // The Strategic Needs Assessment, for every signed-in role.
    route("/sna").get(ALL),
    route("/sna/definition").get(ALL),
    // The definition editor (routes/governance/definition.rs): staff preview and save a new
    // version; everyone reads the history of versions.
    route("/sna/definition/edit").get(STAFF).post(STAFF),
    route("/sna/definition/history").get(ALL),
    route("/sna/tables/{file}").get(ALL),
    route("/sna/report.html").get(ALL),
    // Interventions and their evaluations (routes/interventions.rs): everyone signed in reads,
    // partnership staff record and evaluate.
    route("/interventions").get(ALL).post(STAFF),
    route("/interventions/new").get(STAFF),
    route("/interventions/{id}").get(ALL),
    route("/interventions/{id}/edit").get(STAFF).post(STAFF),
    route("/interventions/{id}/evaluations").post(STAFF),
    route("/interventions/{id}/evaluations/{eid}/rerun").post(STAFF),
    route("/interventions/{id}/evaluations/{file}").get(ALL),
    route("/api/v1/interventions").get(ALL),
    route("/api/v1/interventions/{id}/evaluations/{eid}").get(ALL),
    route("/api/v1/evaluate").post(STAFF),
    // The place register (routes/places.rs): everyone signed in reads, partnership staff add
    // and remove places.
    route("/places").get(ALL).post(STAFF),
    route("/places/new").get(STAFF),
    route("/places/{id}").get(ALL),
    route("/places/{id}/geojson").get(ALL),
    route("/places/{id}/delete").post(STAFF),
    route("/api/v1/places").get(ALL.or_token("read:counts")),
    // Governance (routes/governance/): the quarterly Board pack and the pages behind it, read
    // by every signed-in role; partnership staff edit; partner users post progress on their
    // own organisation's actions and indicators.
    route("/board-pack").get(ALL),
    route("/board-pack/{quarter}").get(ALL),
    route("/board-pack/{quarter}/odt").get(ALL),
    route("/board-pack/{quarter}/pdf").get(ALL),
    route("/governance").get(ALL),
    route("/strategy").get(ALL),
    route("/strategy/priorities/{id}").get(STAFF).post(STAFF),
    route("/strategy/commitments").post(STAFF),
    route("/strategy/commitments/{id}").get(STAFF).post(STAFF),
    // Successive strategies (routes/governance/strategies.rs): everyone reads and downloads,
    // staff create, build up and import.
    route("/strategies").get(ALL).post(STAFF),
    route("/strategies/new").get(STAFF),
    route("/strategies/import").get(STAFF).post(STAFF),
    route("/strategies/{id}").get(ALL),
    route("/strategies/{id}/priorities").post(STAFF),
    route("/strategies/{id}/commitments").post(STAFF),
    route("/strategies/{id}/export").get(ALL),
    route("/strategies/{id}/priorities/{pid}").get(STAFF).post(STAFF),
    route("/strategies/{id}/priorities/{pid}/delete").get(STAFF).post(STAFF),
    route("/strategies/{id}/commitments/{cid}").get(STAFF).post(STAFF),
    route("/strategies/{id}/commitments/{cid}/delete").get(STAFF).post(STAFF),
    route("/actions").get(ALL).post(STAFF),
    route("/actions/new").get(STAFF),
    route("/our-actions").get(ALL),
    route("/actions/{id}").get(ALL),
    route("/actions/{id}/edit").get(STAFF).post(STAFF),
    route("/actions/{id}/updates").post(UPDATERS),
    route("/actions/{id}/milestones").post(STAFF),
    route("/actions/{id}/milestones/{mid}").post(STAFF),
    route("/actions/{id}/dependencies").post(STAFF),
    route("/actions/{id}/escalations").post(STAFF),
    route("/indicators").get(ALL).post(STAFF),
    route("/indicators/new").get(STAFF),
    route("/indicators/upload").post(STAFF),
    route("/indicators/{id}").get(ALL),
    route("/indicators/{id}/target").get(STAFF).post(STAFF),
    route("/indicators/{id}/values").post(UPDATERS),
    route("/funding").get(ALL),
    route("/funding/streams").post(STAFF),
    route("/funding/amounts").post(STAFF),
    route("/funding/allocations").post(STAFF),
    route("/funding/spend").post(STAFF),
    route("/funding/streams/{id}").get(STAFF).post(STAFF),
    route("/funding/allocations/{id}").get(STAFF).post(STAFF),
    route("/funding/allocations/{id}/delete").get(STAFF).post(STAFF),
    route("/meetings").get(ALL).post(STAFF),
    route("/meetings/{id}").get(ALL),
    route("/meetings/{id}/items").post(STAFF),
    // JSON API.
    route("/api/v1/counts").get(ALL.or_token("read:counts")),
    route("/api/v1/datasets").get(ALL),
    route("/api/v1/imports/police").post(STAFF.or_token("upload:police")),
    route("/api/v1/imports/ed").post(PARTNERS.or_token("upload:ed")),
    route("/api/v1/imports/indicators").post(PARTNERS.or_token("upload:indicators")),
    // Spatial analysis (routes/spatial.rs): the map and its JSON/GeoJSON endpoints.
    route("/map").get(ALL),
    route("/api/v1/hotspots").get(ALL.or_token("read:counts")).post(ALL.or_token("read:counts")),
    route("/api/v1/hotspots/optimized").get(ALL.or_token("read:counts")),
    route("/api/v1/hotspots/emerging").get(ALL.or_token("read:counts")),
    route("/api/v1/kde").get(ALL.or_token("read:counts")).post(ALL.or_token("read:counts")),
    route("/api/v1/near-repeat").get(ALL.or_token("read:counts")).post(ALL.or_token("read:counts")),
    route("/api/v1/boundaries").get(ALL.or_token("read:counts")),
    route("/api/v1/streets").get(ALL.or_token("read:counts")),
    // The public side (routes/public): public pages and forms, and the staff pages behind them.
    route("/public").get(PUBLIC),
    route("/accessibility").get(PUBLIC),
    route("/exit-this-page-help").get(PUBLIC),
    route("/report-unsafe-place").get(PUBLIC).post(PUBLIC),
    route("/report-unsafe-place/sent").get(PUBLIC),
    route("/report-unsafe-place/areas").get(PUBLIC),
    route("/find-help").get(PUBLIC),
    route("/api/v1/services").get(PUBLIC),
    route("/safer-places").get(PUBLIC),
    route("/safer-places/join").get(PUBLIC).post(PUBLIC),
    route("/safer-places/join/sent").get(PUBLIC),
    route("/you-said-we-did").get(PUBLIC),
    route("/public/figures").get(PUBLIC),
    route("/staff/unsafe-places").get(STAFF),
    route("/staff/unsafe-places/{id}").post(STAFF),
    route("/staff/safer-places").get(STAFF),
    route("/staff/safer-places/{id}").post(STAFF),
    route("/staff/you-said-we-did").get(STAFF).post(STAFF),
    // The directory of help for staff (routes/directory_admin.rs): what /find-help shows.
    route("/directory").get(STAFF).post(STAFF),
    route("/directory/new").get(STAFF),
    route("/directory/{id}").get(STAFF).post(STAFF),
    route("/directory/{id}/withdraw").get(STAFF).post(STAFF),
    route("/directory/{id}/reinstate").post(STAFF),
    // Referrals (routes/referrals.rs, routes/api/referrals.rs): partner organisations make and
    // receive referrals; the use cases then admit only a referral's two organisations to it
    // (404 for anyone else). Figures, suppressed, are for everyone signed in.
    route("/referrals").get(PARTNERS).post(PARTNERS),
    route("/referrals/new").get(PARTNERS),
    route("/referrals/figures").get(ALL),
    route("/referrals/{id}").get(PARTNERS),
    route("/referrals/{id}/events").post(PARTNERS),
    route("/referrals/{id}/erase").post(PARTNERS),
    route("/referrals/{id}/correct").post(PARTNERS),
    route("/api/v1/referrals").post(PARTNERS.or_token("write:referrals")),
    route("/api/v1/referrals/{id}/events").post(PARTNERS.or_token("write:referrals")),
    route("/api/v1/referrals/figures").get(ALL.or_token("read:referrals")),
    // Administration.
    route("/admin/partnership").get(ADMIN).post(ADMIN),
    route("/admin/organisations").get(ADMIN).post(ADMIN),
    route("/admin/users").get(ADMIN).post(ADMIN),
    route("/admin/users/{id}").post(ADMIN),
    route("/admin/data-sharing").get(ADMIN),
    route("/admin/agreements").post(ADMIN),
    route("/admin/agreements/{id}/edit").get(ADMIN),
    route("/admin/agreements/{id}").post(ADMIN),
    route("/admin/grants").post(ADMIN),
    route("/admin/grants/decide").post(ADMIN),
    route("/admin/datasets").post(ADMIN),
    route("/admin/dpias").post(ADMIN),
    route("/admin/tokens").get(ADMIN).post(ADMIN),
    route("/admin/tokens/{id}/revoke").post(ADMIN),
    route("/admin/audit").get(ADMIN),
    // Accounts by e-mail (routes/account.rs, alliance_app::accounts): an administrator invites;
    // anyone holding a single-use link uses it; anyone may ask for a reset link (the same
    // answer whatever the address). The partnership's logo and charter commitments
    // (routes/partnership.rs): administrators change them; the logo is shown to everyone.
    route("/admin/users/invite").post(ADMIN),
    route("/admin/users/invite/withdraw").post(ADMIN),
    route("/account/invitation").get(PUBLIC).post(PUBLIC),
    route("/account/forgot-password").get(PUBLIC).post(PUBLIC),
    route("/account/reset-password").get(PUBLIC).post(PUBLIC),
    route("/admin/partnership/charter").post(ADMIN),
    // Postcode files (routes/postcodes_upload.rs): refused before the body is read.
    route("/admin/postcodes").get(ADMIN).post(ADMIN),
    route("/admin/partnership/logo").post(ADMIN),
    route("/admin/partnership/logo/delete").post(ADMIN),
    route("/partnership/logo").get(PUBLIC),
];

/// The table's entry for a method and a matched route pattern: the one lookup.
pub fn rule(method: &str, pattern: &str) -> Option<RouteRule> {
    let method = if method == "HEAD" { "GET" } else { method };
    ROUTES.iter().find(|r| r.path == pattern)?.rules().find(|r| r.method == method)
}

/// The methods the table has for a matched route pattern (`GET` also answers `HEAD`): what a
/// 405's `Allow` header lists.
pub fn methods(pattern: &str) -> Vec<&'static str> {
    ROUTES.iter().filter(|r| r.path == pattern).flat_map(Route::rules).map(|r| r.method).collect()
}

/// Every entry of the table, one for each method of each route.
pub fn rules() -> impl Iterator<Item = RouteRule> {
    ROUTES.iter().flat_map(Route::rules)
}

/// Whether a signed-in user with `role`, or nobody signed in (`None`), may open the page at
/// `path` (`GET`): what the navigation offers.
pub fn may_open(path: &str, role: Option<Role>) -> bool {
    rule("GET", path).is_some_and(|r| r.allow == Allow::Public || role.is_some_and(|role| r.admits(role)))
}

/// What to do with a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// Nobody is signed in and the route needs someone: 401 (API) or a redirect to sign in.
    SignIn,
    /// Signed in (or a token), but not admitted: 403.
    Forbidden,
}

/// Whether `who` may use the route of `rule` (`None`: not in the table, refused).
pub fn decide(rule: Option<RouteRule>, who: Option<&Principal>) -> Decision {
    let Some(rule) = rule else {
        return if who.is_some() { Decision::Forbidden } else { Decision::SignIn };
    };
    match (rule.allow, who) {
        (Allow::Public, _) => Decision::Allow,
        (Allow::Roles(_), None) => Decision::SignIn,
        (Allow::Roles(_), Some(Principal::User(u))) => {
            if rule.admits(u.role) {
                Decision::Allow
            } else {
                Decision::Forbidden
            }
        }
        (Allow::Roles(_), Some(Principal::Token(t))) => match rule.token_scope {
            Some(scope) if rule.path.starts_with("/api/") && t.scopes.iter().any(|s| s == scope) => Decision::Allow,
            _ => Decision::Forbidden,
        },
    }
}

/// How much of `dataset` the caller may see: the one data-access check of the app. Loads
/// the dataset's owner and the grants of the caller's organisation and asks
/// `alliance_core::access::access_level`. An API token acts for its organisation as a
/// partner user would. An unknown dataset gives `None`. Record-level access to restricted
/// (not open) data is written to the audit log as a read of restricted data.
pub async fn dataset_access(
    state: &AppState,
    who: &Principal,
    dataset: &str,
) -> Result<AccessLevel, alliance_db::DbError> {
    let Some(ds) = state.db.dataset(dataset).await? else { return Ok(AccessLevel::None) };
    let grants = state.db.grants_for(who.org_id(), dataset).await?;
    let grants: Vec<Grant<'_>> =
        grants.iter().map(|g| Grant { org: g.org_id, dataset: &g.dataset, level: g.level }).collect();
    let level = access_level(who.role().unwrap_or(Role::PartnerUser), who.org_id(), &ds.policy(), &grants);
    Ok(level)
}

/// [`dataset_access`], requiring at least `needed`: `Ok(level)` or `Err(None)` when refused.
/// A granted record-level read of restricted data is audited (`read-restricted`).
pub async fn require_dataset(
    state: &AppState,
    who: &Principal,
    dataset: &str,
    needed: AccessLevel,
    what: &str,
) -> Result<Result<AccessLevel, ()>, alliance_db::DbError> {
    let level = dataset_access(state, who, dataset).await?;
    if level < needed || level == AccessLevel::None {
        audit_read(state, who, "read-refused", dataset, &format!("{what}: needs {needed}, has {level}")).await?;
        return Ok(Err(()));
    }
    let open = state.db.dataset(dataset).await?.is_some_and(|d| d.open_data);
    if needed == AccessLevel::Record && !open {
        audit_read(state, who, "read-restricted", dataset, what).await?;
    }
    Ok(Ok(level))
}

/// Appends the audit row of a read of `dataset` by `who` (`read-refused`, `read-restricted`).
async fn audit_read(
    state: &AppState,
    who: &Principal,
    action: &str,
    dataset: &str,
    detail: &str,
) -> Result<i64, alliance_db::DbError> {
    let event = alliance_db::audit::AuditEvent {
        actor: &who.actor(),
        action,
        target: dataset,
        detail,
        ip: &super::current().ip,
    };
    state.db.audit(&event).await
}

// ---- Record-level rules of governance. A handler asks the `require_` function before it
// changes a record (and refuses with its 403); a page asks the `may_` function whether to
// offer the form. The rules themselves are pure, in `alliance_core::governance`.

/// Whether `user` may edit the strategy, the action plan, indicators, funding and meetings:
/// partnership staff.
pub fn may_edit_governance(user: &User) -> bool {
    alliance_core::governance::can_edit_governance(user.role)
}

/// [`may_edit_governance`], or the 403 page.
pub fn require_governance_staff(user: &User) -> Result<(), PageError> {
    if may_edit_governance(user) {
        Ok(())
    } else {
        Err(forbidden(
            "Only partnership staff can change the strategy, the action plan, indicators, funding and meetings.",
        ))
    }
}

/// Whether `user` may post progress on `action` (and so change its status): staff on any
/// action, a partner user on their own organisation's only, board members on none.
pub fn may_update_action(user: &User, action: &Action) -> bool {
    alliance_core::governance::can_update_action(user.role, user.org_id, action.owner_org_id)
}

/// [`may_update_action`], or the 403 page; a refusal is written to the audit log.
pub async fn require_action_update(state: &AppState, user: &User, action: &Action) -> Result<(), PageError> {
    if may_update_action(user, action) {
        return Ok(());
    }
    let actor = super::actor(user);
    let target = format!("/actions/{}/updates", action.id);
    state
        .db
        .audit(&actor.event(
            alliance_db::governance::GOVERNANCE_CHANGE,
            &target,
            "refused: another organisation's action",
        ))
        .await?;
    Err(forbidden("Only the organisation that owns this action, or partnership staff, can update it."))
}

/// Whether `user` may enter values of `indicator`: never a computed one; staff any other,
/// a partner user their own organisation's.
pub fn may_enter_indicator(user: &User, indicator: &Indicator) -> bool {
    !indicator.source.is_computed()
        && (may_edit_governance(user)
            || indicator
                .owner_org_id
                .is_some_and(|o| alliance_core::governance::can_update_action(user.role, user.org_id, o)))
}

/// [`may_enter_indicator`], or the 403 page saying why.
pub fn require_indicator_entry(user: &User, indicator: &Indicator) -> Result<(), PageError> {
    if may_enter_indicator(user, indicator) {
        return Ok(());
    }
    use alliance_core::governance::ComputedData;
    Err(forbidden(match indicator.source.computed().map(|c| &c.data) {
        Some(ComputedData::PartnerSeries { series, .. }) => format!(
            "This indicator takes its values from the partner series \"{series}\": upload the series on the partner \
             data page and the indicator follows, so the figures are never typed twice."
        ),
        Some(_) => "This indicator is computed from imported data; its values cannot be typed.".to_string(),
        None => {
            "Only partnership staff, or the organisation that owns this indicator, can enter its values.".to_string()
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The role new users get ([`Role::LEAST`]) is admitted to no route that another role is
    /// refused: every other role may use everything it may.
    #[test]
    fn the_least_role_has_the_fewest_routes() {
        for r in rules() {
            if let Allow::Roles(roles) = r.allow {
                if roles.contains(&Role::LEAST) {
                    for &other in Role::ALL {
                        assert!(
                            roles.contains(&other),
                            "{} {}: {:?} may, {:?} may not",
                            r.method,
                            r.path,
                            Role::LEAST,
                            other
                        );
                    }
                }
            }
        }
    }

    /// Every `.route("PATH", …)` registered under `src/routes/` (and the router file) has
    /// an entry in the table for each method it registers, and the table lists nothing
    /// that is not registered. Found by reading the source, so a route added anywhere
    /// without a table entry fails here, not only at run time.
    #[test]
    fn every_registered_route_is_in_the_table() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/routes");
        let mut registered: Vec<(String, String)> = Vec::new();
        let mut stack = vec![root];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).expect("read src/routes") {
                let path = entry.expect("entry").path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&path).expect("read a routes file");
                    registered.extend(routes_in(&text));
                }
            }
        }
        assert!(registered.len() >= 10, "found too few routes: {registered:?}");
        for (method, path) in &registered {
            assert!(rule(method, path).is_some(), "{method} {path} is registered but not in auth::access::ROUTES");
        }
        for r in rules() {
            assert!(
                registered.iter().any(|(m, p)| m == r.method && p == r.path),
                "{} {} is in the table but no route registers it",
                r.method,
                r.path
            );
        }
    }

    /// (method, path) of each `.route("path", get(..).post(..))` in a source text.
    fn routes_in(text: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (i, _) in text.match_indices(".route(") {
            let rest = &text[i + 7..];
            let Some(start) = rest.find('"') else { continue };
            let Some(len) = rest[start + 1..].find('"') else { continue };
            let path = &rest[start + 1..start + 1 + len];
            // The method router runs to the matching close parenthesis of `.route(`.
            let mut depth = 1;
            let mut end = rest.len();
            for (j, c) in rest.char_indices() {
                match c {
                    '(' => depth += 1,
                    ')' => {
                        depth -= 1;
                        if depth == 0 {
                            end = j;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            let body = &rest[start + 1 + len..end];
            for (name, method) in
                [("get(", "GET"), ("post(", "POST"), ("put(", "PUT"), ("delete(", "DELETE"), ("patch(", "PATCH")]
            {
                let found = body.match_indices(name).any(|(k, _)| {
                    let before = body[..k].chars().last();
                    !before.is_some_and(|c| c.is_alphanumeric() || c == '_')
                });
                if found {
                    out.push((method.to_string(), path.to_string()));
                }
            }
        }
        out
    }

    #[test]
    fn the_route_parser_reads_chained_methods() {
        let text = r#".route("/a", get(x).post(y)) .route("/b/{id}", axum::routing::post(z)) .route("/c", get(|| async { "ok" }))"#;
        assert_eq!(
            routes_in(text),
            vec![
                ("GET".into(), "/a".into()),
                ("POST".into(), "/a".into()),
                ("POST".into(), "/b/{id}".into()),
                ("GET".into(), "/c".into())
            ]
        );
    }

    /// A scope in the table is one a token can be given (a misspelt one would admit no token),
    /// and only API routes admit tokens.
    #[test]
    fn token_scopes_are_known_and_on_api_routes() {
        for r in rules() {
            if let Some(scope) = r.token_scope {
                assert!(SCOPES.iter().any(|(s, _)| *s == scope), "{} {}: unknown scope {scope}", r.method, r.path);
                assert!(r.path.starts_with("/api/"), "{} {}: a token scope off the API", r.method, r.path);
            }
        }
    }

    #[test]
    fn the_table_is_looked_up_by_method() {
        let hotspots = rule("POST", "/api/v1/hotspots").expect("listed");
        assert_eq!((hotspots.method, hotspots.token_scope), ("POST", Some("read:counts")));
        assert_eq!(rule("HEAD", "/interventions").map(|r| r.allow), Some(ALL.allow));
        assert_eq!(rule("POST", "/interventions").map(|r| r.allow), Some(STAFF.allow));
        assert!(rule("POST", "/referrals/figures").is_none(), "a method the row does not list");
        assert!(may_open("/referrals", Some(Role::PartnerUser)) && !may_open("/referrals", Some(Role::BoardMember)));
        assert!(
            may_open("/public", None) && !may_open("/", None) && !may_open("/no-such-page", Some(Role::Administrator))
        );
    }

    #[test]
    fn unknown_routes_fail_closed() {
        assert_eq!(decide(None, None), Decision::SignIn);
        assert_eq!(decide(rule("GET", "/healthz"), None), Decision::Allow);
        assert_eq!(decide(rule("DELETE", "/healthz"), None), Decision::SignIn);
        assert_eq!(decide(rule("GET", "/"), None), Decision::SignIn);
    }
}
