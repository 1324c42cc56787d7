//! The data-sharing fixture both sharing scenarios start from, written once.

use alliance_core::access::Role;

use super::app::{Caller, TestApp};

/// A hospital trust that owns the ED data and a council with no access yet, and the people
/// who act for them.
pub struct EdParties {
    pub health: i64,
    pub council: i64,
    pub health_admin: Caller,
    pub council_admin: Caller,
    pub council_analyst: Caller,
}

/// Signs in the trust's administrator and the council's administrator and analyst, and makes
/// the trust the owner of the `ed-assaults` dataset.
pub async fn ed_parties(app: &TestApp) -> EdParties {
    let health_admin = app.signed_in("admin@health.example", Role::Administrator, "Hospital trust").await;
    let council_admin = app.signed_in("admin@council.example", Role::Administrator, "Council").await;
    let council_analyst = app.signed_in("analyst@council.example", Role::Analyst, "Council").await;
    let health = app.db.organisation_by_name("Hospital trust").await.expect("read").expect("made").id;
    let council = app.db.organisation_by_name("Council").await.expect("read").expect("made").id;
    app.db.set_dataset_owner("ed-assaults", health, &super::test_actor()).await.expect("owner");
    EdParties { health, council, health_admin, council_admin, council_analyst }
}
