//! `TestApp`: the one harness for black-box tests of the web app. It starts the real
//! router on a free port of 127.0.0.1 over a fresh database of either backend, makes users
//! of any role and signs them in, and talks HTTP to the server with one client, as a
//! browser or a partner's system would.

use std::net::SocketAddr;

use alliance_core::access::Role;
use alliance_db::Db;
use alliance_web::AppState;
use reqwest::StatusCode;

use super::TestDb;

/// The tests' HTTP client: it does not follow redirects, so a test sees each one. (Tests of
/// an `alliance serve` child process use it directly.)
pub fn client() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("an HTTP client")
}

/// The token of the anonymous CSRF cookie (`alliance_csrf`) that a reply's headers set.
pub fn csrf_cookie(headers: &reqwest::header::HeaderMap) -> String {
    headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix("alliance_csrf=").map(|r| r.split(';').next().unwrap_or("").to_string()))
        .expect("an anonymous CSRF cookie")
}

/// A running Alliance server for one test, stopped when dropped.
pub struct TestApp {
    pub db: Db,
    /// The database's URL (to look at it beside the app).
    pub db_url: String,
    pub base: String,
    client: reqwest::Client,
    server: tokio::task::JoinHandle<()>,
    /// Kept alive for the test (removes the database when dropped); `None` for a server
    /// started [`beside`](TestApp::beside) another, which keeps it.
    _test_db: Option<TestDb>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Who makes a request: nobody, an anonymous visitor with a CSRF cookie, a signed-in user,
/// or an API token.
#[derive(Debug, Clone, Default)]
pub struct Caller {
    pub cookie: String,
    pub csrf: String,
    pub bearer: Option<String>,
}

/// A reply, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// A form refused: 422, and the page says each of `marks` (an error link, words of the
    /// error).
    #[track_caller]
    pub fn assert_refused(&self, marks: &[&str]) {
        assert_eq!(self.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", self.body);
        for mark in marks {
            assert!(self.body.contains(mark), "{mark:?} is not on the page: {}", self.body);
        }
    }
}

impl TestApp {
    /// Starts the app over `test_db` with the settings `alliance serve` uses on loopback
    /// (cookies without `Secure`, as browsers drop those over plain HTTP).
    pub async fn start(test_db: TestDb) -> TestApp {
        let db = test_db.connect().await;
        TestApp::start_with(test_db, AppState::new(db.clone()).with_secure_cookies(false)).await
    }

    /// Starts the app over `test_db` with `state` (made from `test_db`'s database).
    pub async fn start_with(test_db: TestDb, state: AppState) -> TestApp {
        let db_url = test_db.url.clone();
        TestApp::serve(state, db_url, Some(test_db)).await
    }

    /// A second server over the same database, as a second instance of Alliance would be,
    /// with the settings `configure` makes of a fresh state (drop it before `self`).
    pub async fn beside(&self, configure: impl FnOnce(AppState) -> AppState) -> TestApp {
        let state = configure(AppState::new(self.db.clone()).with_secure_cookies(false));
        TestApp::serve(state, self.db_url.clone(), None).await
    }

    /// Serves the router over `state` on a free port of 127.0.0.1: the one way every
    /// in-process server of the tests starts.
    async fn serve(state: AppState, db_url: String, test_db: Option<TestDb>) -> TestApp {
        let db = state.db.clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind a free port");
        let addr = listener.local_addr().expect("the bound address");
        let app = alliance_web::router(state).into_make_service_with_connect_info::<SocketAddr>();
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        TestApp { db, db_url, base: format!("http://{addr}"), client: client(), server, _test_db: test_db }
    }

    /// A handle on a server this test did not start in process (an `alliance serve` child
    /// process) at `base`, over the same database as `self`, to talk to it with the same
    /// helpers (drop it before `self`).
    pub fn at(&self, base: &str) -> TestApp {
        TestApp {
            db: self.db.clone(),
            db_url: self.db_url.clone(),
            base: base.trim_end_matches('/').to_string(),
            client: client(),
            server: tokio::spawn(async {}),
            _test_db: None,
        }
    }

    /// A user of `role` at organisation `org` (a council, created when missing), signed in.
    pub async fn signed_in(&self, email: &str, role: Role, org: &str) -> Caller {
        let id = super::add_user(&self.db, email, role, org).await;
        let (cookie, csrf) = super::session_for(&self.db, id).await;
        Caller { cookie, csrf, bearer: None }
    }

    /// An anonymous visitor who has loaded `path` and holds its CSRF cookie.
    pub async fn visitor(&self, path: &str) -> Caller {
        let reply = self.get(path, &Caller::default()).await;
        assert_eq!(reply.status, StatusCode::OK, "GET {path}: {}", reply.body);
        let token = csrf_cookie(&reply.headers);
        Caller { cookie: format!("alliance_csrf={token}"), csrf: token, bearer: None }
    }

    /// Signs in through the sign-in form, as a browser would: the session (its cookie
    /// `HttpOnly`, `SameSite=Lax`, `Path=/`) with the CSRF token its pages carry, or the
    /// reply that refused it.
    pub async fn sign_in(&self, email: &str, password: &str) -> Result<Caller, Reply> {
        let anon = self.visitor("/sign-in").await;
        let reply = self.post_form("/sign-in", &anon, &[("email", email), ("password", password)]).await;
        let session = reply
            .headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with("alliance_session="))
            .map(str::to_string);
        let Some(session) = session else { return Err(reply) };
        assert_eq!(reply.status, StatusCode::SEE_OTHER);
        assert!(
            session.contains("HttpOnly") && session.contains("SameSite=Lax") && session.contains("Path=/"),
            "{session}"
        );
        let token = session["alliance_session=".len()..].split(';').next().unwrap_or("");
        let mut caller = Caller { cookie: format!("alliance_session={token}"), csrf: String::new(), bearer: None };
        let page = self.get("/account/password", &caller).await;
        caller.csrf = super::http::csrf_in(&page.body);
        Ok(caller)
    }

    /// A request as `who` (cookies, token), for a test to add headers or a body to and send
    /// with [`TestApp::read`].
    pub fn request(&self, method: reqwest::Method, path: &str, who: &Caller) -> reqwest::RequestBuilder {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if !who.cookie.is_empty() {
            request = request.header("cookie", &who.cookie);
        }
        if let Some(token) = &who.bearer {
            request = request.bearer_auth(token);
        }
        request
    }

    /// Sends a request and reads the reply whole.
    pub async fn read(request: reqwest::RequestBuilder) -> Reply {
        let response = request.send().await.expect("the server answers");
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.text().await.expect("a readable body");
        Reply { status, headers, body }
    }

    pub async fn get(&self, path: &str, who: &Caller) -> Reply {
        TestApp::read(self.request(reqwest::Method::GET, path, who)).await
    }

    /// A GET whose body is kept as bytes (a PDF or a zip): status, headers, body.
    pub async fn get_bytes(&self, path: &str, who: &Caller) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
        let response = self.request(reqwest::Method::GET, path, who).send().await.expect("the server answers");
        let (status, headers) = (response.status(), response.headers().clone());
        (status, headers, response.bytes().await.expect("a readable body").to_vec())
    }

    /// Posts a URL-encoded form with the caller's CSRF token added.
    pub async fn post_form(&self, path: &str, who: &Caller, fields: &[(&str, &str)]) -> Reply {
        let mut all: Vec<(&str, &str)> = vec![("csrf_token", who.csrf.as_str())];
        all.extend_from_slice(fields);
        TestApp::read(self.request(reqwest::Method::POST, path, who).form(&all)).await
    }

    /// [`post_form`](TestApp::post_form) of fields whose values the test built as strings.
    pub async fn post_owned(&self, path: &str, who: &Caller, fields: &[(&str, String)]) -> Reply {
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        self.post_form(path, who, &fields).await
    }

    /// Posts raw bytes (an API upload), with the CSRF header for a session caller.
    pub async fn post_bytes(&self, path: &str, who: &Caller, content_type: &str, body: Vec<u8>) -> Reply {
        self.post_bytes_with(path, who, content_type, &[], body).await
    }

    /// [`TestApp::post_bytes`] with `headers` added (an API client's `Idempotency-Key`).
    pub async fn post_bytes_with(
        &self,
        path: &str,
        who: &Caller,
        content_type: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Reply {
        let mut request = self.request(reqwest::Method::POST, path, who).header("content-type", content_type);
        if who.bearer.is_none() && !who.csrf.is_empty() {
            request = request.header("x-csrf-token", &who.csrf);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        TestApp::read(request.body(body)).await
    }
}

/// Runs `scenario(app)` as two tests, `<scenario>::sqlite` and `<scenario>::postgres` (the
/// latter skipped, saying so, when PostgreSQL is not reachable).
#[macro_export]
macro_rules! on_each_app {
    ($scenario:ident) => {
        mod $scenario {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = $crate::common::app::TestApp::start($crate::common::sqlite()).await;
                super::$scenario(app).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(db) = $crate::common::postgres().await else { return };
                let app = $crate::common::app::TestApp::start(db).await;
                super::$scenario(app).await;
            }
        }
    };
}
