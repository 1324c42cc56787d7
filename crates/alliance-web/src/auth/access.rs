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

/// One entry of the table.
#[derive(Debug, Clone, Copy)]
pub struct RouteRule {
    /// `GET` (which also admits `HEAD`) or `POST`.
    pub method: &'static str,
    /// The route pattern exactly as registered with axum, e.g. `/admin/users/{id}`.
    pub path: &'static str,
    pub allow: Allow,
    /// An API token with this scope may also use the route (only under `/api/`).
    pub token_scope: Option<&'static str>,
}

const ALL: &[Role] = Role::ALL;
const STAFF: &[Role] = &[Role::Administrator, Role::Analyst];
const ADMIN: &[Role] = &[Role::Administrator];
/// Who may post progress on actions and values of indicators: staff, and partner users (the
/// handler then admits a partner user only to their own organisation's, through
/// [`require_action_update`] and [`require_indicator_entry`]). Board members read.
const UPDATERS: &[Role] = &[Role::Administrator, Role::Analyst, Role::PartnerUser];
/// Everyone who may hold data or supply it; board members see figures on other pages.
const PARTNERS: &[Role] = &[Role::Administrator, Role::Analyst, Role::PartnerUser];

const fn public(method: &'static str, path: &'static str) -> RouteRule {
    RouteRule { method, path, allow: Allow::Public, token_scope: None }
}

const fn roles(method: &'static str, path: &'static str, roles: &'static [Role]) -> RouteRule {
    RouteRule { method, path, allow: Allow::Roles(roles), token_scope: None }
}

const fn api(method: &'static str, path: &'static str, roles: &'static [Role], scope: &'static str) -> RouteRule {
    RouteRule { method, path, allow: Allow::Roles(roles), token_scope: Some(scope) }
}

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
pub const ROUTES: &[RouteRule] = &[
    // Public: assets, the health check, signing in. Nothing else.
    public("GET", "/assets/{*path}"),
    public("GET", "/healthz"),
    public("GET", "/readyz"),
    // The API contract (routes/api/openapi.rs): no data, for partners' developers.
    public("GET", "/api/v1/openapi.json"),
    public("GET", "/developers"),
    public("GET", "/sign-in"),
    public("POST", "/sign-in"),
    // First run only: the handler answers 404 once anyone can sign in.
    public("GET", "/setup"),
    public("POST", "/setup"),
    // Every signed-in user.
    roles("POST", "/sign-out", ALL),
    roles("GET", "/account/password", ALL),
    roles("POST", "/account/password", ALL),
    roles("GET", "/", ALL),
    // Partnership staff.
    roles("GET", "/imports", STAFF),
    // Police and area uploads (routes/imports_upload.rs): area data by administrators; police
    // data by staff whom `Supplier::may_supply_police` then admits (administrators, users of the
    // organisation supplying the police dataset), asked before the body is read.
    roles("GET", "/imports/upload", STAFF),
    roles("POST", "/imports/police", STAFF),
    roles("POST", "/imports/areas", ADMIN),
    // Partner data (routes/partner_data.rs, routes/partner_figures.rs). Reaching a page is
    // not seeing the data: each page then asks `require_dataset` for the organisation's level
    // (aggregate: suppressed figures; record: records too; none: 403). The geocoding queue
    // shows ED free text, so it also needs record-level access to ED data.
    roles("GET", "/partner-data", ALL),
    roles("GET", "/partner-data/ed-assaults", ALL),
    roles("GET", "/partner-data/ed-assaults/{file}", ALL),
    roles("GET", "/partner-data/indicators", ALL),
    roles("GET", "/partner-data/indicators/{file}", ALL),
    roles("GET", "/partner-data/upload", PARTNERS),
    roles("POST", "/partner-data/upload", PARTNERS),
    roles("GET", "/partner-data/geocoding", STAFF),
    roles("POST", "/partner-data/geocoding", STAFF),
    // The Strategic Needs Assessment, for every signed-in role.
    roles("GET", "/sna", ALL),
    roles("GET", "/sna/definition", ALL),
    // The definition editor (routes/governance/definition.rs): staff preview and save a new
    // version; everyone reads the history of versions.
    roles("GET", "/sna/definition/edit", STAFF),
    roles("POST", "/sna/definition/edit", STAFF),
    roles("GET", "/sna/definition/history", ALL),
    roles("GET", "/sna/tables/{file}", ALL),
    roles("GET", "/sna/report.html", ALL),
    // Interventions and their evaluations (routes/interventions.rs): everyone signed in reads,
    // partnership staff record and evaluate.
    roles("GET", "/interventions", ALL),
    roles("POST", "/interventions", STAFF),
    roles("GET", "/interventions/new", STAFF),
    roles("GET", "/interventions/{id}", ALL),
    roles("GET", "/interventions/{id}/edit", STAFF),
    roles("POST", "/interventions/{id}/edit", STAFF),
    roles("POST", "/interventions/{id}/evaluations", STAFF),
    roles("POST", "/interventions/{id}/evaluations/{eid}/rerun", STAFF),
    roles("GET", "/interventions/{id}/evaluations/{file}", ALL),
    roles("GET", "/api/v1/interventions", ALL),
    roles("GET", "/api/v1/interventions/{id}/evaluations/{eid}", ALL),
    roles("POST", "/api/v1/evaluate", STAFF),
    // The place register (routes/places.rs): everyone signed in reads, partnership staff add
    // and remove places.
    roles("GET", "/places", ALL),
    roles("POST", "/places", STAFF),
    roles("GET", "/places/new", STAFF),
    roles("GET", "/places/{id}", ALL),
    roles("GET", "/places/{id}/geojson", ALL),
    roles("POST", "/places/{id}/delete", STAFF),
    api("GET", "/api/v1/places", ALL, "read:counts"),
    // Governance (routes/governance/): the quarterly Board pack and the pages behind it, read
    // by every signed-in role; partnership staff edit; partner users post progress on their
    // own organisation's actions and indicators.
    roles("GET", "/board-pack", ALL),
    roles("GET", "/board-pack/{quarter}", ALL),
    roles("GET", "/board-pack/{quarter}/odt", ALL),
    roles("GET", "/board-pack/{quarter}/pdf", ALL),
    roles("GET", "/governance", ALL),
    roles("GET", "/strategy", ALL),
    roles("GET", "/strategy/priorities/{id}", STAFF),
    roles("POST", "/strategy/priorities/{id}", STAFF),
    roles("POST", "/strategy/commitments", STAFF),
    roles("GET", "/strategy/commitments/{id}", STAFF),
    roles("POST", "/strategy/commitments/{id}", STAFF),
    // Successive strategies (routes/governance/strategies.rs): everyone reads and downloads,
    // staff create, build up and import.
    roles("GET", "/strategies", ALL),
    roles("POST", "/strategies", STAFF),
    roles("GET", "/strategies/new", STAFF),
    roles("GET", "/strategies/import", STAFF),
    roles("POST", "/strategies/import", STAFF),
    roles("GET", "/strategies/{id}", ALL),
    roles("POST", "/strategies/{id}/priorities", STAFF),
    roles("POST", "/strategies/{id}/commitments", STAFF),
    roles("GET", "/strategies/{id}/export", ALL),
    roles("GET", "/strategies/{id}/priorities/{pid}", STAFF),
    roles("POST", "/strategies/{id}/priorities/{pid}", STAFF),
    roles("GET", "/strategies/{id}/priorities/{pid}/delete", STAFF),
    roles("POST", "/strategies/{id}/priorities/{pid}/delete", STAFF),
    roles("GET", "/strategies/{id}/commitments/{cid}", STAFF),
    roles("POST", "/strategies/{id}/commitments/{cid}", STAFF),
    roles("GET", "/strategies/{id}/commitments/{cid}/delete", STAFF),
    roles("POST", "/strategies/{id}/commitments/{cid}/delete", STAFF),
    roles("GET", "/actions", ALL),
    roles("POST", "/actions", STAFF),
    roles("GET", "/actions/new", STAFF),
    roles("GET", "/our-actions", ALL),
    roles("GET", "/actions/{id}", ALL),
    roles("GET", "/actions/{id}/edit", STAFF),
    roles("POST", "/actions/{id}/edit", STAFF),
    roles("POST", "/actions/{id}/updates", UPDATERS),
    roles("POST", "/actions/{id}/milestones", STAFF),
    roles("POST", "/actions/{id}/milestones/{mid}", STAFF),
    roles("POST", "/actions/{id}/dependencies", STAFF),
    roles("POST", "/actions/{id}/escalations", STAFF),
    roles("GET", "/indicators", ALL),
    roles("POST", "/indicators", STAFF),
    roles("GET", "/indicators/new", STAFF),
    roles("POST", "/indicators/upload", STAFF),
    roles("GET", "/indicators/{id}", ALL),
    roles("GET", "/indicators/{id}/target", STAFF),
    roles("POST", "/indicators/{id}/target", STAFF),
    roles("POST", "/indicators/{id}/values", UPDATERS),
    roles("GET", "/funding", ALL),
    roles("POST", "/funding/streams", STAFF),
    roles("POST", "/funding/amounts", STAFF),
    roles("POST", "/funding/allocations", STAFF),
    roles("POST", "/funding/spend", STAFF),
    roles("GET", "/funding/streams/{id}", STAFF),
    roles("POST", "/funding/streams/{id}", STAFF),
    roles("GET", "/funding/allocations/{id}", STAFF),
    roles("POST", "/funding/allocations/{id}", STAFF),
    roles("GET", "/funding/allocations/{id}/delete", STAFF),
    roles("POST", "/funding/allocations/{id}/delete", STAFF),
    roles("GET", "/meetings", ALL),
    roles("POST", "/meetings", STAFF),
    roles("GET", "/meetings/{id}", ALL),
    roles("POST", "/meetings/{id}/items", STAFF),
    // JSON API.
    api("GET", "/api/v1/counts", ALL, "read:counts"),
    roles("GET", "/api/v1/datasets", ALL),
    api("POST", "/api/v1/imports/police", STAFF, "upload:police"),
    api("POST", "/api/v1/imports/ed", PARTNERS, "upload:ed"),
    api("POST", "/api/v1/imports/indicators", PARTNERS, "upload:indicators"),
    // Spatial analysis (routes/spatial.rs): the map and its JSON/GeoJSON endpoints.
    roles("GET", "/map", ALL),
    api("GET", "/api/v1/hotspots", ALL, "read:counts"),
    api("POST", "/api/v1/hotspots", ALL, "read:counts"),
    api("GET", "/api/v1/hotspots/optimized", ALL, "read:counts"),
    api("GET", "/api/v1/hotspots/emerging", ALL, "read:counts"),
    api("GET", "/api/v1/kde", ALL, "read:counts"),
    api("POST", "/api/v1/kde", ALL, "read:counts"),
    api("GET", "/api/v1/near-repeat", ALL, "read:counts"),
    api("POST", "/api/v1/near-repeat", ALL, "read:counts"),
    api("GET", "/api/v1/boundaries", ALL, "read:counts"),
    api("GET", "/api/v1/streets", ALL, "read:counts"),
    // The public side (routes/public): public pages and forms, and the staff pages behind them.
    public("GET", "/public"),
    public("GET", "/accessibility"),
    public("GET", "/exit-this-page-help"),
    public("GET", "/report-unsafe-place"),
    public("POST", "/report-unsafe-place"),
    public("GET", "/report-unsafe-place/sent"),
    public("GET", "/report-unsafe-place/areas"),
    public("GET", "/find-help"),
    public("GET", "/api/v1/services"),
    public("GET", "/safer-places"),
    public("GET", "/safer-places/join"),
    public("POST", "/safer-places/join"),
    public("GET", "/safer-places/join/sent"),
    public("GET", "/you-said-we-did"),
    public("GET", "/public/figures"),
    roles("GET", "/staff/unsafe-places", STAFF),
    roles("POST", "/staff/unsafe-places/{id}", STAFF),
    roles("GET", "/staff/safer-places", STAFF),
    roles("POST", "/staff/safer-places/{id}", STAFF),
    roles("GET", "/staff/you-said-we-did", STAFF),
    roles("POST", "/staff/you-said-we-did", STAFF),
    // The directory of help for staff (routes/directory_admin.rs): what /find-help shows.
    roles("GET", "/directory", STAFF),
    roles("POST", "/directory", STAFF),
    roles("GET", "/directory/new", STAFF),
    roles("GET", "/directory/{id}", STAFF),
    roles("POST", "/directory/{id}", STAFF),
    roles("GET", "/directory/{id}/withdraw", STAFF),
    roles("POST", "/directory/{id}/withdraw", STAFF),
    roles("POST", "/directory/{id}/reinstate", STAFF),
    // Referrals (routes/referrals.rs, routes/api/referrals.rs): partner organisations make and
    // receive referrals; the use cases then admit only a referral's two organisations to it
    // (404 for anyone else). Figures, suppressed, are for everyone signed in.
    roles("GET", "/referrals", PARTNERS),
    roles("POST", "/referrals", PARTNERS),
    roles("GET", "/referrals/new", PARTNERS),
    roles("GET", "/referrals/figures", ALL),
    roles("GET", "/referrals/{id}", PARTNERS),
    roles("POST", "/referrals/{id}/events", PARTNERS),
    roles("POST", "/referrals/{id}/erase", PARTNERS),
    roles("POST", "/referrals/{id}/correct", PARTNERS),
    api("POST", "/api/v1/referrals", PARTNERS, "write:referrals"),
    api("POST", "/api/v1/referrals/{id}/events", PARTNERS, "write:referrals"),
    api("GET", "/api/v1/referrals/figures", ALL, "read:referrals"),
    // Administration.
    roles("GET", "/admin/partnership", ADMIN),
    roles("POST", "/admin/partnership", ADMIN),
    roles("GET", "/admin/organisations", ADMIN),
    roles("POST", "/admin/organisations", ADMIN),
    roles("GET", "/admin/users", ADMIN),
    roles("POST", "/admin/users", ADMIN),
    roles("POST", "/admin/users/{id}", ADMIN),
    roles("GET", "/admin/data-sharing", ADMIN),
    roles("POST", "/admin/agreements", ADMIN),
    roles("GET", "/admin/agreements/{id}/edit", ADMIN),
    roles("POST", "/admin/agreements/{id}", ADMIN),
    roles("POST", "/admin/grants", ADMIN),
    roles("POST", "/admin/grants/decide", ADMIN),
    roles("POST", "/admin/datasets", ADMIN),
    roles("POST", "/admin/dpias", ADMIN),
    roles("GET", "/admin/tokens", ADMIN),
    roles("POST", "/admin/tokens", ADMIN),
    roles("POST", "/admin/tokens/{id}/revoke", ADMIN),
    roles("GET", "/admin/audit", ADMIN),
    // Accounts by e-mail (routes/account.rs, alliance_app::accounts): an administrator invites;
    // anyone holding a single-use link uses it; anyone may ask for a reset link (the same
    // answer whatever the address). The partnership's logo and charter commitments
    // (routes/partnership.rs): administrators change them; the logo is shown to everyone.
    roles("POST", "/admin/users/invite", ADMIN),
    public("GET", "/account/invitation"),
    public("POST", "/account/invitation"),
    public("GET", "/account/forgot-password"),
    public("POST", "/account/forgot-password"),
    public("GET", "/account/reset-password"),
    public("POST", "/account/reset-password"),
    roles("POST", "/admin/partnership/charter", ADMIN),
    // Postcode files (routes/postcodes_upload.rs): refused before the body is read.
    roles("GET", "/admin/postcodes", ADMIN),
    roles("POST", "/admin/postcodes", ADMIN),
    roles("POST", "/admin/partnership/logo", ADMIN),
    roles("POST", "/admin/partnership/logo/delete", ADMIN),
    public("GET", "/partnership/logo"),
];

/// The table's entry for a method and a matched route pattern.
pub fn rule(method: &str, pattern: &str) -> Option<&'static RouteRule> {
    let method = if method == "HEAD" { "GET" } else { method };
    ROUTES.iter().find(|r| r.method == method && r.path == pattern)
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
pub fn decide(rule: Option<&RouteRule>, who: Option<&Principal>) -> Decision {
    let Some(rule) = rule else {
        return if who.is_some() { Decision::Forbidden } else { Decision::SignIn };
    };
    match (rule.allow, who) {
        (Allow::Public, _) => Decision::Allow,
        (Allow::Roles(_), None) => Decision::SignIn,
        (Allow::Roles(roles), Some(Principal::User(u))) => {
            if roles.contains(&u.role) {
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
        state
            .db
            .audit(&alliance_db::audit::AuditEvent {
                actor: &who.actor(),
                action: "read-refused",
                target: dataset,
                detail: &format!("{what}: needs {needed}, has {level}"),
                ip: &super::current().ip,
            })
            .await?;
        return Ok(Err(()));
    }
    let open = state.db.dataset(dataset).await?.is_some_and(|d| d.open_data);
    if needed == AccessLevel::Record && !open {
        state
            .db
            .audit(&alliance_db::audit::AuditEvent {
                actor: &who.actor(),
                action: "read-restricted",
                target: dataset,
                detail: what,
                ip: &super::current().ip,
            })
            .await?;
    }
    Ok(Ok(level))
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
        for r in ROUTES {
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
        for r in ROUTES {
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

    #[test]
    fn unknown_routes_fail_closed() {
        assert_eq!(decide(None, None), Decision::SignIn);
        assert_eq!(decide(rule("GET", "/healthz"), None), Decision::Allow);
        assert_eq!(decide(rule("DELETE", "/healthz"), None), Decision::SignIn);
        assert_eq!(decide(rule("GET", "/"), None), Decision::SignIn);
    }
}
