//! The import history page.

use alliance_db::imports::ImportRecord;
use askama::Template;

use super::Layout;
use crate::AppState;

#[derive(Template)]
#[template(path = "imports.html")]
pub struct ImportsPage {
    pub layout: Layout,
    pub imports: Vec<ImportRecord>,
}

impl ImportsPage {
    pub fn new(state: &AppState, imports: Vec<ImportRecord>) -> ImportsPage {
        ImportsPage { layout: Layout::new(state, "/imports"), imports }
    }
}
