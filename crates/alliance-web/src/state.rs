use alliance_db::Db;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    /// The partnership's name, shown in the header.
    pub partnership: String,
}

impl AppState {
    pub fn new(db: Db) -> AppState {
        AppState { db, partnership: "Staffordshire and Stoke-on-Trent Violence Reduction Alliance".into() }
    }
}
