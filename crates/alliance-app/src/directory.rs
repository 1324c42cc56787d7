//! The directory of help edited by partnership staff on the web (`/directory`), beside the
//! ORUK import (`alliance services import`): the bounds and checks a service must pass before
//! it is stored (every field bounded; the website `https://` or `http://` only; the postcode
//! shaped like one and, when postcodes are held, one of them; area names plain words, no
//! markup), and
//! the public search by postcode (nearest services first).

use alliance_db::audit::Actor;
use alliance_db::public::services::{ServiceEntry, ServiceSearch};
use alliance_db::Db;
use alliance_ingest::oruk::{ServiceRecord, NEEDS, NO_MAX_AGE};
use alliance_ingest::postcodes::normalise_postcode;

use crate::postcodes::distance_km;
use crate::AppError;

/// Characters of a service's or an organisation's name.
pub const MAX_NAME_CHARS: usize = 200;
/// Characters of a description.
pub const MAX_DESCRIPTION_CHARS: usize = 4_000;
/// Characters of a website address.
pub const MAX_URL_CHARS: usize = 500;
/// Characters of an e-mail address (RFC 5321's path limit).
pub const MAX_EMAIL_CHARS: usize = 254;
/// Characters of a phone number.
pub const MAX_PHONE_CHARS: usize = 30;
/// Characters of the opening times.
pub const MAX_OPENING_CHARS: usize = 500;
/// Areas one service may list, and characters of each.
pub const MAX_AREAS: usize = 20;
pub const MAX_AREA_CHARS: usize = 100;
/// Characters of a withdrawal's reason.
pub const MAX_REASON_CHARS: usize = 1_000;
/// The oldest age a form may give.
pub const MAX_AGE: i64 = 120;

/// A service as typed into the form.
#[derive(Debug, Clone, Default)]
pub struct ServiceForm {
    pub name: String,
    pub description: String,
    pub organisation_name: String,
    pub organisation_description: String,
    pub url: String,
    pub email: String,
    pub phone: String,
    pub min_age: String,
    pub max_age: String,
    pub needs: Vec<String>,
    /// Comma-separated area names.
    pub areas: String,
    pub opening_times: String,
    pub kind: String,
    pub postcode: String,
}

impl ServiceForm {
    /// The form of a stored service.
    pub fn of(entry: &ServiceEntry) -> ServiceForm {
        let r = &entry.record;
        ServiceForm {
            name: r.name.clone(),
            description: r.description.clone(),
            organisation_name: r.organisation_name.clone(),
            organisation_description: r.organisation_description.clone(),
            url: r.url.clone(),
            email: r.email.clone(),
            phone: r.phone.clone(),
            min_age: if r.min_age == 0 { String::new() } else { r.min_age.to_string() },
            max_age: if r.max_age >= NO_MAX_AGE { String::new() } else { r.max_age.to_string() },
            needs: r.needs.clone(),
            areas: r.areas.join(", "),
            opening_times: r.opening_times.clone(),
            kind: r.kind.clone(),
            postcode: entry.postcode.clone(),
        }
    }
}

fn text(field: &'static str, value: &str, max: usize, missing: Option<&str>) -> Result<String, AppError> {
    let value = value.trim();
    if value.is_empty() {
        if let Some(reason) = missing {
            return Err(AppError::invalid(field, reason));
        }
    }
    let n = value.chars().count();
    if n > max {
        return Err(AppError::invalid(field, format!("Use {max} characters or fewer (this has {n})")));
    }
    if value.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t') {
        return Err(AppError::invalid(field, "Remove the control characters"));
    }
    Ok(value.to_string())
}

/// A website address: `https://` or `http://`, a host of letters, digits, dots and hyphens
/// (with an optional port), no spaces, quotes or angle brackets; empty is allowed.
pub fn check_url(value: &str) -> Result<String, String> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(String::new());
    }
    if value.chars().count() > MAX_URL_CHARS {
        return Err(format!("Use {MAX_URL_CHARS} characters or fewer for the website"));
    }
    let lower = value.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
        .ok_or("Enter the website's full address, starting https:// (or http://)")?;
    if value.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, '"' | '<' | '>' | '\\' | '`')) {
        return Err("Enter the website's address without spaces, quotes or angle brackets".into());
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.contains('@') {
        return Err("Enter the website's address without a user name".into());
    }
    let host = authority.split(':').next().unwrap_or("");
    let port_ok = authority
        .split(':')
        .nth(1)
        .is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()));
    let host_ok = host.contains('.')
        && !host.starts_with('.')
        && !host.ends_with('.')
        && host.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
    if !host_ok || !port_ok || authority.split(':').count() > 2 {
        return Err("Enter a real website address, like https://www.example.org.uk".into());
    }
    Ok(value.to_string())
}

fn check_email(value: &str) -> Result<String, AppError> {
    let value = text("email", value, MAX_EMAIL_CHARS, None)?;
    if value.is_empty() {
        return Ok(value);
    }
    let ok = match value.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !value.chars().any(|c| c.is_whitespace() || matches!(c, '<' | '>' | '"' | ',' | ';'))
                && !domain.contains('@')
        }
        None => false,
    };
    if ok {
        Ok(value)
    } else {
        Err(AppError::invalid("email", "Enter an email address in the correct format, like name@example.org"))
    }
}

fn check_phone(value: &str) -> Result<String, AppError> {
    let value = text("phone", value, MAX_PHONE_CHARS, None)?;
    if value.is_empty() {
        return Ok(value);
    }
    let digits = value.chars().filter(char::is_ascii_digit).count();
    if !value.chars().all(|c| c.is_ascii_digit() || matches!(c, ' ' | '+' | '(' | ')' | '-'))
        || !(3..=15).contains(&digits)
    {
        return Err(AppError::invalid(
            "phone",
            "Enter a phone number with its area code, like 01632 960123, or a short number such as 111",
        ));
    }
    Ok(value)
}

fn age(field: &'static str, value: &str, default: i64) -> Result<i64, AppError> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(default);
    }
    match value.parse::<i64>() {
        Ok(a) if (0..=MAX_AGE).contains(&a) => Ok(a),
        _ => Err(AppError::invalid(field, format!("Enter the age as a whole number from 0 to {MAX_AGE}"))),
    }
}

/// Area names: comma-separated, each plain words (letters, digits, spaces, hyphens,
/// apostrophes, full stops, ampersands, brackets, slashes), at most [`MAX_AREAS`].
fn check_areas(value: &str) -> Result<Vec<String>, AppError> {
    let areas: Vec<String> = value
        .split(',')
        .map(|a| a.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|a| !a.is_empty())
        .collect();
    if areas.len() > MAX_AREAS {
        return Err(AppError::invalid("areas", format!("List at most {MAX_AREAS} areas")));
    }
    for a in &areas {
        if a.chars().count() > MAX_AREA_CHARS
            || !a
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '\'' | '.' | '&' | '’' | '(' | ')' | '/'))
        {
            return Err(AppError::invalid(
                "areas",
                format!(
                    "\"{}\" is not an area name: use the names of towns, wards or districts, separated by commas",
                    a.chars().take(40).collect::<String>()
                ),
            ));
        }
    }
    Ok(areas)
}

/// Checks a typed service; returns the record (with `id`) and the normalised postcode.
pub async fn check(db: &Db, id: &str, f: &ServiceForm) -> Result<(ServiceRecord, String), AppError> {
    let name = text("name", &f.name, MAX_NAME_CHARS, Some("Enter the name of the service"))?;
    let description = text("description", &f.description, MAX_DESCRIPTION_CHARS, Some("Enter what the service does"))?;
    let organisation_name =
        text("organisation_name", &f.organisation_name, MAX_NAME_CHARS, Some("Enter the organisation that runs it"))?;
    let organisation_description =
        text("organisation_description", &f.organisation_description, MAX_DESCRIPTION_CHARS, None)?;
    let url = check_url(&f.url).map_err(|reason| AppError::invalid("url", reason))?;
    let email = check_email(&f.email)?;
    let phone = check_phone(&f.phone)?;
    let min_age = age("min_age", &f.min_age, 0)?;
    let max_age = age("max_age", &f.max_age, NO_MAX_AGE)?;
    if min_age > max_age {
        return Err(AppError::invalid("max_age", format!("The oldest age must not be below the youngest ({min_age})")));
    }
    let mut needs = Vec::new();
    for n in &f.needs {
        if !NEEDS.iter().any(|(slug, _)| slug == n) {
            return Err(AppError::invalid("needs", "Select the needs from the list"));
        }
        if !needs.contains(n) {
            needs.push(n.clone());
        }
    }
    if needs.is_empty() {
        return Err(AppError::invalid("needs", "Select at least one need the service meets"));
    }
    let areas = check_areas(&f.areas)?;
    let opening_times = text("opening_times", &f.opening_times, MAX_OPENING_CHARS, None)?;
    let kind = match f.kind.as_str() {
        "support" | "activity" => f.kind.clone(),
        _ => return Err(AppError::invalid("kind", "Select whether it is a support service or a positive activity")),
    };
    let postcode = match f.postcode.trim() {
        "" => String::new(),
        typed => {
            let Some(p) = normalise_postcode(typed) else {
                return Err(AppError::invalid(
                    "postcode",
                    "Enter a real postcode, with its space, like SN1 1AA or B12 9QA",
                ));
            };
            if db.postcodes_held().await? && db.postcode(&p).await?.is_none() {
                return Err(AppError::invalid(
                    "postcode",
                    format!("{p} is not among the postcodes Alliance holds: check it"),
                ));
            }
            p
        }
    };
    Ok((
        ServiceRecord {
            id: id.to_string(),
            name,
            description,
            organisation_id: String::new(),
            organisation_name,
            organisation_description,
            url,
            email,
            phone,
            min_age,
            max_age,
            needs,
            areas,
            opening_times,
            kind,
        },
        postcode,
    ))
}

/// The organisation id a web-added service is filed under (ORUK needs one): its name,
/// lower case, words joined by hyphens.
fn organisation_id(name: &str) -> String {
    let slug: String = name
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect::<String>()
        .split('-')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    slug.chars().take(80).collect()
}

/// Adds a service; returns its id (a new ORUK-style id, `alliance-` and 16 hex digits). The
/// same form sent again (its `submission` key) adds nothing and returns the first one's id.
pub async fn add(db: &Db, form: &ServiceForm, submission: Option<&str>, actor: &Actor) -> Result<String, AppError> {
    let id = alliance_db::public::services::web_service_id(rand::random::<i64>());
    let (mut record, postcode) = check(db, &id, form).await?;
    record.organisation_id = organisation_id(&record.organisation_name);
    Ok(db.add_service(&record, &postcode, submission, actor).await?)
}

/// Changes a service (its organisation id is kept). `seen`: the version its form was opened
/// on, refused when the service has changed since (`alliance_db::versions`).
pub async fn update(db: &Db, id: &str, form: &ServiceForm, seen: Option<i64>, actor: &Actor) -> Result<(), AppError> {
    let Some(old) = db.directory_entry(id).await? else { return Err(AppError::not_found(format!("service {id}"))) };
    let (mut record, postcode) = check(db, id, form).await?;
    record.organisation_id = old.record.organisation_id.clone();
    Ok(db.update_service(&record, &postcode, seen, actor).await?)
}

/// Withdraws a service, with the reason (required, bounded).
pub async fn withdraw(db: &Db, id: &str, reason: &str, actor: &Actor) -> Result<(), AppError> {
    let reason = text("reason", reason, MAX_REASON_CHARS, Some("Enter why the service is withdrawn"))?;
    Ok(db.withdraw_service(id, &reason, actor).await?)
}

/// Reinstates a withdrawn service (shown to the public again); a service that is not
/// withdrawn is a conflict.
pub async fn reinstate(db: &Db, id: &str, actor: &Actor) -> Result<(), AppError> {
    Ok(db.reinstate_service(id, actor).await?)
}

/// A service found near a postcode, with its distance.
#[derive(Debug, Clone)]
pub struct Near {
    pub service: ServiceRecord,
    /// Kilometres from the postcode searched, when the service has a known postcode.
    pub km: Option<f64>,
}

/// The public search, nearest first when a postcode is given: services with a known place
/// by distance, then the others (services covering the whole area) by name. `Err` with the
/// message when the postcode cannot be placed.
pub async fn search(
    db: &Db,
    search: &ServiceSearch,
    postcode: &str,
) -> Result<Result<Vec<Near>, crate::postcodes::Unplaced>, AppError> {
    let services = db.services(search).await?;
    if postcode.trim().is_empty() {
        return Ok(Ok(services.into_iter().map(|service| Near { service, km: None }).collect()));
    }
    let place = match crate::postcodes::locate(db, postcode).await? {
        Ok(p) => p,
        Err(e) => return Ok(Err(e)),
    };
    let located: std::collections::HashMap<String, (f64, f64)> =
        db.service_locations().await?.into_iter().map(|(id, lat, lon)| (id, (lat, lon))).collect();
    let mut out: Vec<Near> = services
        .into_iter()
        .map(|service| {
            let km = located.get(&service.id).map(|&at| distance_km((place.latitude, place.longitude), at));
            Near { service, km }
        })
        .collect();
    out.sort_by(|a, b| match (a.km, b.km) {
        (Some(x), Some(y)) => x.total_cmp(&y).then_with(|| a.service.name.cmp(&b.service.name)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.service.name.cmp(&b.service.name),
    });
    Ok(Ok(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn websites_are_http_or_https_only() {
        assert_eq!(check_url("https://www.example.org.uk/help?x=1").unwrap(), "https://www.example.org.uk/help?x=1");
        assert!(check_url("http://example.org").is_ok());
        assert!(check_url("").unwrap().is_empty());
        for bad in [
            "javascript:alert(1)",
            "ftp://example.org",
            "www.example.org",
            "https://exa mple.org",
            "https://user@example.org",
            "https://localhost",
            "https://example.org\"onmouseover=x",
            "data:text/html,hi",
        ] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn areas_are_plain_names() {
        assert_eq!(check_areas("Hanley,  Stoke-on-Trent , ").unwrap(), vec!["Hanley", "Stoke-on-Trent"]);
        assert_eq!(check_areas("Ward 3 (North)").unwrap(), vec!["Ward 3 (North)"]);
        assert!(check_areas("<script>").is_err());
        assert!(check_areas(&vec!["Town"; MAX_AREAS + 1].join(",")).is_err());
    }

    #[test]
    fn organisation_ids_are_slugs() {
        assert_eq!(organisation_id("St Giles Trust (Midlands)"), "st-giles-trust-midlands");
    }
}
