//! `/governance`: the partnership dashboard for the Board. Every figure is the Board pack's
//! own ([`BoardPack::load`]) for the chosen quarter, shown as a page of the service with links
//! into the action plan, indicators and funding.

use alliance_core::governance::{ActionStatus, Quarter};
use askama::Template;

use super::{FieldError, Form};
use crate::views::board_pack::{BoardPack, PrioritySection};
use crate::views::Layout;

#[derive(Template)]
#[template(path = "governance/dashboard.html")]
pub struct DashboardPage {
    pub layout: Layout,
    pub pack: BoardPack,
    pub form: Form,
    pub errors: Vec<FieldError>,
}

impl DashboardPage {
    pub fn new(layout: Layout, pack: BoardPack, form: Form) -> DashboardPage {
        let errors = form.errors.clone();
        DashboardPage { layout, pack, form, errors }
    }
    pub fn quarter(&self) -> Quarter {
        self.pack.quarter
    }
    pub fn pence(&self, p: impl std::borrow::Borrow<i64>) -> String {
        alliance_core::format::money(*p.borrow())
    }
    pub fn off_track(&self, p: &PrioritySection) -> usize {
        p.actions.iter().filter(|a| a.status == ActionStatus::OffTrack).count()
    }
    pub fn escalated(&self, p: &PrioritySection) -> usize {
        p.actions.iter().filter(|a| a.escalated).count()
    }
}
