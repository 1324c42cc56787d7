//! Extractors that answer bad input in the service's words: axum's own rejections
//! ("Cannot parse `abc` to a `i64`", "Failed to deserialize form body: …") never reach a
//! user. Handlers take these instead of axum's `Path`, `Query` and `Form`:
//!
//! - [`Path`]: a path parameter that does not parse (`/admin/users/abc`) is the "Page not
//!   found" page (404): such an address names nothing.
//! - [`Query`]: a query string that does not fit is a 400 page saying the link is wrong.
//! - [`Form`]: a form body that does not fit is a 400 page saying to reload the form (a
//!   field a handler needs is declared `#[serde(default)]` so that a missing one is a
//!   validation error on the page instead).
//! - [`ApiQuery`]: the API's query string; a bad one is a 400 problem document.
//!
//! What went wrong is logged at debug level for whoever runs the service.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use crate::error::{bad_request, not_found, ApiError, PageError};

/// A path parameter (or tuple of them); one that does not parse (`/interventions/abc`, or an
/// id beyond the range of one, `/interventions/99999999999999999999`) names nothing, so it is
/// Not Found: the 404 page, or under `/api/` a 404 problem document. The one rule for every
/// route: handlers take this, never axum's `Path` (a unit test reads the sources for it).
#[derive(Debug, Clone, Copy)]
pub struct Path<T>(pub T);

impl<T, S> FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Path(value)),
            Err(e) => {
                tracing::debug!(path = %parts.uri.path(), error = %e, "path parameter refused");
                Err(if parts.uri.path().starts_with("/api/") {
                    ApiError::NotFound.into_response()
                } else {
                    not_found().into_response()
                })
            }
        }
    }
}

/// The query string as `T`; one that does not fit is a 400 page.
#[derive(Debug, Clone, Default)]
pub struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, PageError> {
        query_of(parts, "query").map(Query).ok_or_else(|| {
            bad_request(
                "The link has something in it that Alliance cannot read. Check the address, or go back and try again.",
            )
        })
    }
}

/// A URL-encoded form body as `T`; one that does not fit is a 400 page.
#[derive(Debug, Clone, Default)]
pub struct Form<T>(pub T);

impl<T, S> FromRequest<S> for Form<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = PageError;

    async fn from_request(request: Request, state: &S) -> Result<Self, PageError> {
        match axum::Form::<T>::from_request(request, state).await {
            Ok(axum::Form(value)) => Ok(Form(value)),
            Err(e) => {
                tracing::debug!(error = %e, "form refused");
                Err(bad_request("The form could not be read. Reload the page and send it again."))
            }
        }
    }
}

/// The JSON API's query string as `T`; one that does not fit is a 400 problem document.
#[derive(Debug, Clone, Default)]
pub struct ApiQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        query_of(parts, "API query").map(ApiQuery).ok_or_else(|| {
            ApiError::BadRequest(
                "the query string could not be read: give parameters as name=value pairs, percent-encoded".into(),
            )
        })
    }
}

/// An API query's parameters by name, each given once. A repeated one (`district=A&district=B`)
/// is a 400 problem document naming it: read as its last value, it answered for one district
/// while the caller believed it had asked for two. `crime_type` is read as `crime-type` (both
/// spellings are accepted, and giving both is a repeat).
#[derive(Debug, Clone, Default)]
pub struct ApiParams(pub std::collections::HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for ApiParams {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let ApiQuery(pairs) = ApiQuery::<Vec<(String, String)>>::from_request_parts(parts, state).await?;
        let mut params = std::collections::HashMap::with_capacity(pairs.len());
        for (key, value) in pairs {
            let name = if key == "crime_type" { "crime-type".to_string() } else { key.clone() };
            if params.insert(name, value).is_some() {
                return Err(ApiError::BadRequest(format!(
                    "parameter \"{key}\" is given more than once: give each parameter once (a question covers one \
                     district and one crime type; ask again for another)"
                )));
            }
        }
        Ok(ApiParams(params))
    }
}

impl ApiParams {
    /// Refuses (400) a parameter not in `known`, naming it and those accepted: a misspelt
    /// filter (`distrcit=…`) must not be ignored and answered for everything.
    pub fn only(&self, known: &[&str]) -> Result<(), ApiError> {
        let mut unknown: Vec<&String> = self.0.keys().filter(|k| !known.contains(&k.as_str())).collect();
        unknown.sort();
        match unknown.first() {
            None => Ok(()),
            Some(key) => {
                Err(ApiError::BadRequest(format!("unknown parameter \"{key}\": expected {}", known.join(", "))))
            }
        }
    }
}

/// The query string as `T`, or `None` with axum's reason logged (`what` names the extractor
/// in the log): the pages and the API each answer a bad one in their own words.
fn query_of<T: DeserializeOwned>(parts: &Parts, what: &str) -> Option<T> {
    match axum::extract::Query::<T>::try_from_uri(&parts.uri) {
        Ok(axum::extract::Query(value)) => Some(value),
        Err(e) => {
            tracing::debug!(uri = %parts.uri, error = %e, "{what} refused");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::StatusCode;
    use axum::routing::{get, post};
    use axum::Router;
    use tower::ServiceExt;

    async fn status_and_body(app: Router, request: axum::http::Request<Body>) -> (StatusCode, String) {
        let response = app.oneshot(request).await.expect("response");
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.expect("body");
        (status, String::from_utf8_lossy(&bytes).into_owned())
    }

    #[tokio::test]
    async fn a_path_id_that_is_not_a_number_is_page_not_found_in_plain_words() {
        let app = Router::new().route("/things/{id}", get(|Path(id): Path<i64>| async move { id.to_string() }));
        let get = |uri: &str| axum::http::Request::get(uri).body(Body::empty()).expect("request");
        assert_eq!(status_and_body(app.clone(), get("/things/12")).await, (StatusCode::OK, "12".to_string()));
        let (status, body) = status_and_body(app, get("/things/abc")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(body.contains("Page not found"), "{body}");
        assert!(!body.contains("Cannot parse") && !body.contains("i64"), "{body}");
    }

    #[tokio::test]
    async fn an_id_beyond_the_range_of_one_is_not_found_and_the_api_says_so_as_a_problem() {
        let app = Router::new()
            .route("/things/{id}", get(|Path(id): Path<i64>| async move { id.to_string() }))
            .route("/api/v1/things/{id}", get(|Path(id): Path<i64>| async move { id.to_string() }));
        let get = |uri: &str| axum::http::Request::get(uri).body(Body::empty()).expect("request");
        let (status, body) = status_and_body(app.clone(), get("/things/99999999999999999999")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(body.contains("Page not found"), "{body}");
        let response = app.oneshot(get("/api/v1/things/99999999999999999999")).await.expect("response");
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert_eq!(response.headers()["content-type"], "application/problem+json");
    }

    /// One rule for every path parameter: no module takes axum's `Path`, whose rejection is
    /// a 400 "cannot parse" for an id out of range.
    #[test]
    fn no_handler_takes_axums_own_path_extractor() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut stack = vec![root];
        let mut offenders = Vec::new();
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).expect("read src") {
                let path = entry.expect("entry").path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("extract.rs") {
                    let text = std::fs::read_to_string(&path).expect("read a source file");
                    let uses_axums = text.lines().any(|l| {
                        let l = l.trim();
                        l.starts_with("use axum::extract::")
                            && (l.contains("::Path;")
                                || l.contains("{Path")
                                || l.contains(" Path,")
                                || l.contains(" Path}"))
                    }) || text.contains("axum::extract::Path<");
                    if uses_axums {
                        offenders.push(path.display().to_string());
                    }
                }
            }
        }
        assert!(offenders.is_empty(), "use crate::extract::Path instead of axum's in {offenders:?}");
    }

    #[tokio::test]
    async fn a_query_or_form_that_does_not_fit_is_a_400_in_the_services_words() {
        #[derive(serde::Deserialize)]
        struct Page {
            page: u32,
        }
        let app = Router::new()
            .route("/list", get(|Query(q): Query<Page>| async move { q.page.to_string() }))
            .route("/send", post(|Form(f): Form<Page>| async move { f.page.to_string() }))
            .route("/api", get(|ApiQuery(q): ApiQuery<Page>| async move { q.page.to_string() }));
        let get = |uri: &str| axum::http::Request::get(uri).body(Body::empty()).expect("request");
        assert_eq!(status_and_body(app.clone(), get("/list?page=2")).await, (StatusCode::OK, "2".to_string()));
        let (status, body) = status_and_body(app.clone(), get("/list?page=two")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(body.contains("cannot read") && !body.contains("deserialize"), "{body}");
        let post = axum::http::Request::post("/send")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from("page=-1"))
            .expect("request");
        let (status, body) = status_and_body(app.clone(), post).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(body.contains("Reload the page") && !body.contains("deserialize"), "{body}");
        let (status, body) = status_and_body(app, get("/api?page=x")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(body.contains("\"status\":400") && !body.contains("deserialize"), "{body}");
    }
}
