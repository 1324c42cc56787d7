use alliance_db::Db;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    /// The partnership's name, shown in the header.
    pub partnership: String,
    /// Whether cookies carry `Secure` (see `auth::session`); true unless serving on loopback
    /// or told `--insecure-cookies`.
    pub secure_cookies: bool,
}

impl AppState {
    pub fn new(db: Db) -> AppState {
        AppState {
            db,
            partnership: "Staffordshire and Stoke-on-Trent Violence Reduction Alliance".into(),
            secure_cookies: true,
        }
    }

    /// The same state with `Secure` cookies on or off.
    pub fn with_secure_cookies(mut self, secure: bool) -> AppState {
        self.secure_cookies = secure;
        self
    }
}
