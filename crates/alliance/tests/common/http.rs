//! A signed-in or anonymous visitor talking to the router in process: requests with cookies
//! and form bodies, and the cookies and CSRF tokens the replies carry.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use tower::ServiceExt;

pub struct Reply {
    pub status: StatusCode,
    pub location: Option<String>,
    pub set_cookies: Vec<String>,
    pub body: String,
}

/// A visitor: their cookies and the CSRF token their pages carry.
#[derive(Clone, Default)]
pub struct Visitor {
    pub cookie: String,
    pub csrf: String,
}

pub async fn send(app: &Router, method: &str, path: &str, who: &Visitor, form: Option<&str>) -> Reply {
    let mut request = Request::builder().method(method).uri(path);
    if !who.cookie.is_empty() {
        request = request.header("cookie", &who.cookie);
    }
    let body = match form {
        Some(form) => {
            request = request.header("content-type", "application/x-www-form-urlencoded");
            Body::from(form.to_string())
        }
        None => Body::empty(),
    };
    let response = app.clone().oneshot(request.body(body).unwrap()).await.unwrap();
    let status = response.status();
    let location = response.headers().get("location").map(|v| v.to_str().unwrap().to_string());
    let set_cookies =
        response.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_string()).collect();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    Reply { status, location, set_cookies, body: String::from_utf8_lossy(&bytes).into_owned() }
}

pub fn cookie_value(set_cookies: &[String], name: &str) -> Option<String> {
    set_cookies
        .iter()
        .find_map(|c| c.strip_prefix(&format!("{name}=")).map(|rest| rest.split(';').next().unwrap_or("").to_string()))
}

pub fn csrf_in(html: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html.find(marker).map(|i| i + marker.len()).expect("a form with a CSRF token");
    html[start..start + 64].to_string()
}
