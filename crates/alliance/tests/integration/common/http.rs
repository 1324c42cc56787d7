//! Small helpers for form bodies and the pages' CSRF tokens (requests go through `TestApp`).

/// The CSRF token of the first form on a page.
pub fn csrf_in(html: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html.find(marker).map(|i| i + marker.len()).expect("a form with a CSRF token");
    html[start..start + 64].to_string()
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

/// A `multipart/form-data` body of text fields and one file (fields first, as a browser sends
/// the form in document order), with its content type.
pub fn multipart(fields: &[(&str, &str)], file: (&str, &str, &[u8])) -> (String, Vec<u8>) {
    multipart_files(fields, &[file])
}

/// A `multipart/form-data` body of text fields and then files, each `(field, file name,
/// bytes)`, with its content type.
pub fn multipart_files(fields: &[(&str, &str)], files: &[(&str, &str, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "alliance-test-boundary-7d1f";
    let mut body: Vec<u8> = Vec::new();
    for (name, value) in fields {
        body.extend(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").bytes(),
        );
    }
    for (field, file_name, bytes) in files {
        body.extend(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{file_name}\"\r\n\
                 Content-Type: application/octet-stream\r\n\r\n"
            )
            .bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend(b"\r\n");
    }
    body.extend(format!("--{boundary}--\r\n").bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// A valid report of an unsafe place at a point on the map, dated today, with the CSRF token
/// `csrf` first as the form sends it (no place name, so no areas are needed).
pub fn unsafe_place_report(csrf: &str, longitude: &str, latitude: &str) -> Vec<(&'static str, String)> {
    let today = alliance_db::clock::today_date();
    vec![
        ("csrf_token", csrf.to_string()),
        ("website", String::new()),
        ("place", String::new()),
        ("longitude", longitude.to_string()),
        ("latitude", latitude.to_string()),
        ("date-day", today.format("%d").to_string()),
        ("date-month", today.format("%m").to_string()),
        ("date-year", today.format("%Y").to_string()),
        ("time-of-day", "night".into()),
        ("reasons", "poor-lighting".into()),
    ]
}
