//! View models (askama template structs) and the SVG charts they embed.

pub mod access;
pub mod accessibility;
pub mod board_pack;

pub mod dashboard;
pub mod ed_assaults;
pub mod figures;
pub mod format;
pub mod governance;
pub mod imports;
pub mod interventions;
pub mod map;
pub mod partner_data;
pub mod partner_indicators;
pub mod places;
pub mod public;
pub mod referrals;
pub mod sna;

/// What every page's layout needs.
pub struct Layout {
    pub partnership: String,
    /// The charter's name from the profile, as written after "the" (a neutral name when unset).
    pub charter: String,
    /// The header's accent colour from the partnership's profile.
    pub accent: &'static str,
    /// The link of the partnership's logo (`/partnership/logo?v=…`), when it has one.
    pub logo: Option<String>,
    /// The path of the current page, to mark the navigation.
    pub path: &'static str,
    /// Who is signed in (name, whether an administrator), from the request's context.
    pub user: Option<LayoutUser>,
    /// The CSRF token for the page's forms (`auth::middleware`).
    pub csrf: String,
    /// The tile server the page's map draws under its layers (`serve --tiles`); `None`:
    /// the offline background.
    pub tiles: Option<std::sync::Arc<crate::tiles::TileLayer>>,
}

/// The signed-in user as the header shows them.
pub struct LayoutUser {
    pub name: String,
    pub role: alliance_core::access::Role,
}

impl Layout {
    /// The layout of the page being rendered (the partnership's name comes with the
    /// request's context, set by `auth::middleware`).
    pub fn new(state: &crate::AppState, path: &'static str) -> Layout {
        Layout { tiles: state.tiles.clone(), ..Layout::from_context(crate::auth::current(), path) }
    }

    /// The layout from what the request's context knows (for pages rendered without the
    /// app state, such as error pages).
    pub fn from_context(context: crate::auth::RequestContext, path: &'static str) -> Layout {
        let user = match context.principal {
            Some(crate::auth::Principal::User(u)) => Some(LayoutUser { name: u.name, role: u.role }),
            _ => None,
        };
        let logo = context.logo.map(|v| crate::routes::logo_link(&v));
        Layout {
            partnership: context.partnership,
            charter: context.charter,
            accent: context.accent,
            logo,
            path,
            user,
            csrf: context.csrf,
            tiles: None,
        }
    }

    /// Whether the signed-in user's role may open the page at `path` (a route of the route
    /// table, `auth/access.rs`): the header shows each role only what it may use.
    pub fn may(&self, path: &str) -> bool {
        crate::auth::access::may_open(path, self.user.as_ref().map(|u| u.role))
    }

    /// Whether the page is one of the governance area's (the "Governance" navigation item).
    pub fn in_governance(&self) -> bool {
        ["/governance", "/strategy", "/actions", "/indicators", "/funding", "/meetings"].contains(&self.path)
    }
}
