//! Issue 18: the API contract. The OpenAPI 3.1 document at `/api/v1/openapi.json` names
//! every `/api/v1` route of the route table (which a unit test of `auth::access` ties to the
//! router) with the access the table gives it, and nothing else; real responses validate
//! against its JSON Schemas; `/developers` lists the endpoints and scopes.

use crate::common;
use common::app::{Caller, Reply, TestApp};

use alliance_core::access::Role;
use alliance_web::auth::access::{rule, rules, Allow, SCOPES};
use reqwest::StatusCode;
use serde_json::Value;

/// The schema of the response `status` of `method path` in `doc`, for its content type.
fn response_schema<'d>(doc: &'d Value, path: &str, method: &str, status: u16, content_type: &str) -> &'d Value {
    let schema = &doc["paths"][path][method.to_ascii_lowercase()]["responses"][status.to_string()]["content"]
        [content_type]["schema"];
    assert!(schema.is_object(), "the document has no {content_type} schema for {status} of {method} {path}");
    schema
}

/// Checks `reply` (its status and content type) against the document's schema for it: the
/// schema, rooted beside the document's components so its `$ref`s resolve, validated by the
/// `jsonschema` crate (JSON Schema 2020-12, OpenAPI 3.1's dialect).
fn conforms(doc: &Value, path: &str, method: &str, reply: &Reply) {
    if let Err(e) = check(doc, path, method, reply) {
        panic!("{e}");
    }
}

/// [`conforms`], as a result.
fn check(doc: &Value, path: &str, method: &str, reply: &Reply) -> Result<(), String> {
    let content_type = reply.header("content-type").unwrap_or_default().split(';').next().unwrap_or_default();
    let schema = response_schema(doc, path, method, reply.status.as_u16(), content_type);
    assert!(schema.get("$ref").is_some(), "{method} {path}: a named schema, not any object: {schema}");
    let mut rooted = schema.clone();
    rooted["components"] = doc["components"].clone();
    let validator = jsonschema::validator_for(&rooted).unwrap_or_else(|e| panic!("{method} {path}: schema: {e}"));
    let body: Value = serde_json::from_str(&reply.body).unwrap_or_else(|e| panic!("{method} {path}: not JSON ({e})"));
    let errors: Vec<String> = validator.iter_errors(&body).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!("{method} {path} {}: the reply does not match its schema: {errors:#?}\n{body}", reply.status))
    }
}

/// GETs `url` as `who`, expecting `status`, and checks the reply [`conforms`] to the document
/// for the URL's path.
async fn get_conforming(app: &TestApp, doc: &Value, url: &str, who: &Caller, status: StatusCode) -> Reply {
    let reply = app.get(url, who).await;
    assert_eq!(reply.status, status, "GET {url}: {}", reply.body);
    conforms(doc, url.split('?').next().unwrap_or(url), "GET", &reply);
    reply
}

async fn the_api_keeps_its_contract(app: TestApp) {
    let nobody = Caller::default();
    let reply = app.get("/api/v1/openapi.json", &nobody).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let doc = reply.json();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"]["title"], "Alliance API");

    // Every /api/v1 route of the table is in the document, with the table's access.
    let api: Vec<_> = rules().filter(|r| r.path.starts_with("/api/v1/")).collect();
    assert!(api.len() >= 20, "{} API routes", api.len());
    for r in &api {
        let op = &doc["paths"][r.path][r.method.to_ascii_lowercase()];
        assert!(op.is_object(), "{} {} is a route but not in the OpenAPI document", r.method, r.path);
        assert!(op["summary"].as_str().is_some_and(|s| !s.is_empty()), "{} {} has a summary", r.method, r.path);
        assert!(op["responses"].as_object().is_some_and(|m| !m.is_empty()), "{} {} has responses", r.method, r.path);
        let security = op["security"].as_array().expect("security from the table");
        match (r.allow, r.token_scope) {
            (Allow::Public, _) => assert!(security.is_empty(), "{} {} is public", r.method, r.path),
            (Allow::Roles(_), Some(scope)) => {
                assert!(security.contains(&serde_json::json!({ "token": [scope] })), "{} {}", r.method, r.path);
                assert!(security.contains(&serde_json::json!({ "session": [] })), "{} {}", r.method, r.path);
            }
            (Allow::Roles(_), None) => {
                assert_eq!(
                    security,
                    &vec![serde_json::json!({ "session": [] })],
                    "{} {}: sessions only",
                    r.method,
                    r.path
                )
            }
        }
    }
    // ... and nothing else: every operation of the document is a route of the table.
    let paths = doc["paths"].as_object().expect("paths");
    let mut operations = 0;
    for (path, item) in paths {
        for method in item.as_object().expect("a path item").keys() {
            let method = method.to_ascii_uppercase();
            assert!(rule(&method, path).is_some(), "{method} {path} is in the document but is no route");
            operations += 1;
        }
    }
    assert_eq!(operations, api.len());
    // The security schemes the operations name, and every component a valid JSON Schema.
    for scheme in ["token", "session"] {
        assert!(doc["components"]["securitySchemes"][scheme].is_object(), "{scheme}");
    }
    for (name, schema) in doc["components"]["schemas"].as_object().expect("schemas") {
        let mut rooted = schema.clone();
        rooted["components"] = doc["components"].clone();
        assert!(jsonschema::validator_for(&rooted).is_ok(), "the schema {name} compiles");
    }

    // Responses match their schemas.
    let admin = app.signed_in("admin@example.org", Role::Administrator, "Office of the PCC").await;
    if let Some(data) = common::shared_data() {
        let files = common::street_only(&common::police_files(&data.join("police/staffordshire")));
        let name = files[0].file_name().and_then(|n| n.to_str()).expect("a file name").to_string();
        let bytes = std::fs::read(&files[0]).expect("read the file");
        let path = format!("/api/v1/imports/police?filename={name}");
        let uploaded = app.post_bytes(&path, &admin, "text/csv", bytes.clone()).await;
        assert_eq!(uploaded.status, StatusCode::OK, "{}", uploaded.body);
        assert_eq!(uploaded.json()["status"], "imported");
        conforms(&doc, "/api/v1/imports/police", "POST", &uploaded);
        let again = app.post_bytes(&path, &admin, "text/csv", bytes.clone()).await;
        assert_eq!(again.json()["status"], "unchanged");
        conforms(&doc, "/api/v1/imports/police", "POST", &again);
        // A corrected file replaces the first: `replaced` names the import it replaced.
        let text = String::from_utf8(bytes).expect("UTF-8");
        let shorter: String = text.lines().take(text.lines().count() - 1).map(|l| format!("{l}\n")).collect();
        let corrected = app.post_bytes(&path, &admin, "text/csv", shorter.into_bytes()).await;
        assert_eq!(corrected.status, StatusCode::OK, "{}", corrected.body);
        assert_eq!(corrected.json()["replaced"], uploaded.json()["import_id"], "{}", corrected.body);
        conforms(&doc, "/api/v1/imports/police", "POST", &corrected);
        let refused = app.post_bytes(&path, &admin, "text/csv", b"not,a,police,file\n1,2,3,4\n".to_vec()).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
        conforms(&doc, "/api/v1/imports/police", "POST", &refused);

        let streets = get_conforming(&app, &doc, "/api/v1/streets", &admin, StatusCode::OK).await;
        assert!(!streets.json()["features"].as_array().expect("features").is_empty());
    }
    let counts = get_conforming(&app, &doc, "/api/v1/counts?by=month,crime-type", &admin, StatusCode::OK).await;
    let datasets = get_conforming(&app, &doc, "/api/v1/datasets", &admin, StatusCode::OK).await;
    assert!(!datasets.json()["datasets"].as_array().expect("datasets").is_empty());
    let gets = [
        ("/api/v1/counts?by=district,outcome", &admin, StatusCode::OK),
        ("/api/v1/counts", &admin, StatusCode::BAD_REQUEST),
        ("/api/v1/counts?by=month&district=E06000054", &admin, StatusCode::UNPROCESSABLE_ENTITY),
        ("/api/v1/counts?by=month", &nobody, StatusCode::UNAUTHORIZED),
        ("/api/v1/interventions", &admin, StatusCode::OK),
        ("/api/v1/services", &nobody, StatusCode::OK),
        ("/api/v1/boundaries?kind=ward", &admin, StatusCode::OK),
        ("/api/v1/places", &admin, StatusCode::OK),
        ("/api/v1/boundaries?kind=county", &admin, StatusCode::BAD_REQUEST),
        // A repeated parameter is refused, not read as its last value; so is an unknown one,
        // and a district nothing is held of is not answered with no features.
        ("/api/v1/counts?by=month&district=E06000021&district=E07000198", &admin, StatusCode::BAD_REQUEST),
        ("/api/v1/counts?by=month&crime-type=Drugs&crime_type=Robbery", &admin, StatusCode::BAD_REQUEST),
        ("/api/v1/hotspots?cell=500&cell=1000", &admin, StatusCode::BAD_REQUEST),
        ("/api/v1/hotspots?distrcit=E06000021", &admin, StatusCode::BAD_REQUEST),
        ("/api/v1/boundaries?kind=ward&colour=red", &admin, StatusCode::BAD_REQUEST),
        ("/api/v1/boundaries?district=xx", &admin, StatusCode::UNPROCESSABLE_ENTITY),
        ("/api/v1/streets?district=E09000001", &admin, StatusCode::UNPROCESSABLE_ENTITY),
    ];
    for (url, who, status) in gets {
        get_conforming(&app, &doc, url, who, status).await;
    }

    // A schema that a wrong reply would break: the check is not vacuous.
    let mut broken = counts.json();
    broken["rows"] = serde_json::json!([{ "month": "2025-01", "count": "many" }]);
    let forged = Reply { status: counts.status, headers: counts.headers.clone(), body: broken.to_string() };
    let caught = check(&doc, "/api/v1/counts", "GET", &forged).expect_err("a count that is not a number fails");
    assert!(caught.contains("/rows/0/count"), "{caught}");

    // The page for partner developers: every endpoint and scope, in GOV.UK markup.
    let page = app.get("/developers", &nobody).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("<h1 class=\"govuk-heading-xl\">The Alliance API</h1>"), "{}", page.body);
    assert!(page.body.contains("href=\"/api/v1/openapi.json\""));
    for r in &api {
        let row = format!("<code>{} {}</code>", r.method, r.path);
        assert!(page.body.contains(&row), "the page lists {row}");
    }
    for (scope, _) in SCOPES {
        assert!(page.body.contains(&format!("<code>{scope}</code>")), "the page lists the scope {scope}");
    }
}

on_each_app!(the_api_keeps_its_contract);
