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

/// A JSON request as the visitor, with their CSRF token in the `X-CSRF-Token` header (as
/// a script in the signed-in browser would send it).
pub async fn send_json(app: &Router, method: &str, path: &str, who: &Visitor, json: &serde_json::Value) -> Reply {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("cookie", &who.cookie)
        .header("x-csrf-token", &who.csrf)
        .header("content-type", "application/json")
        .body(Body::from(json.to_string()))
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let location = response.headers().get("location").map(|v| v.to_str().unwrap().to_string());
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    Reply { status, location, set_cookies: Vec::new(), body: String::from_utf8_lossy(&bytes).into_owned() }
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

/// An anonymous visitor who has loaded the sign-in page.
pub async fn anonymous(app: &Router) -> Visitor {
    let page = send(app, "GET", "/sign-in", &Visitor::default(), None).await;
    assert_eq!(page.status, StatusCode::OK);
    let token = cookie_value(&page.set_cookies, "alliance_csrf").expect("an anonymous CSRF cookie");
    assert_eq!(csrf_in(&page.body), token);
    Visitor { cookie: format!("alliance_csrf={token}"), csrf: token }
}

/// Signs in through the sign-in form, as a browser would.
pub async fn sign_in(app: &Router, email: &str, password: &str) -> Result<Visitor, Reply> {
    let anon = anonymous(app).await;
    let form = format!("email={}&password={}&csrf_token={}", enc(email), enc(password), anon.csrf);
    let reply = send(app, "POST", "/sign-in", &anon, Some(&form)).await;
    let Some(token) = cookie_value(&reply.set_cookies, "alliance_session") else { return Err(reply) };
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    let session_cookie = reply.set_cookies.iter().find(|c| c.starts_with("alliance_session=")).unwrap();
    assert!(
        session_cookie.contains("HttpOnly")
            && session_cookie.contains("SameSite=Lax")
            && session_cookie.contains("Path=/")
    );
    let mut visitor = Visitor { cookie: format!("alliance_session={token}"), csrf: String::new() };
    let page = send(app, "GET", "/account/password", &visitor, None).await;
    visitor.csrf = csrf_in(&page.body);
    Ok(visitor)
}

/// Percent-encodes a form value (unreserved characters kept).
pub fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Sends a `multipart/form-data` body of text fields and one file (fields first, as a
/// browser sends the form in document order).
pub async fn send_multipart(
    app: &Router,
    path: &str,
    who: &Visitor,
    fields: &[(&str, &str)],
    file: (&str, &str, &[u8]),
) -> Reply {
    let boundary = "alliance-test-boundary-7d1f";
    let mut body: Vec<u8> = Vec::new();
    for (name, value) in fields {
        body.extend(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").bytes(),
        );
    }
    let (field, file_name, bytes) = file;
    body.extend(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{file_name}\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend(format!("\r\n--{boundary}--\r\n").bytes());
    let mut request = Request::builder()
        .method("POST")
        .uri(path)
        .header("content-type", format!("multipart/form-data; boundary={boundary}"));
    if !who.cookie.is_empty() {
        request = request.header("cookie", &who.cookie);
    }
    let response = app.clone().oneshot(request.body(Body::from(body)).unwrap()).await.unwrap();
    let status = response.status();
    let location = response.headers().get("location").map(|v| v.to_str().unwrap().to_string());
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    Reply { status, location, set_cookies: Vec::new(), body: String::from_utf8_lossy(&bytes).into_owned() }
}
