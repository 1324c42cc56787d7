//! Open Referral UK (ORUK) service directory JSON: the subset Alliance reads and writes.
//!
//! ORUK (the UK profile of the Human Services Data Specification, openreferraluk.org) nests
//! everything under a `service`: its `organization`, `service_areas`, `regular_schedules`,
//! `eligibilitys` (age limits), `contacts` with `phones`, `service_at_locations` with a
//! `location`, and `service_taxonomys` each holding a `taxonomy` term (`id`, `name`,
//! `vocabulary`). Alliance keeps one directory row per service: the needs it meets are
//! taxonomy terms of the vocabulary [`NEED_VOCABULARY`], whether it is a support service or a
//! positive activity is a term of [`KIND_VOCABULARY`]. A file is either a JSON array of
//! services or an ORUK page (`{"content": [...]}`, as `GET /services` returns). Fields Alliance
//! does not use are ignored on import.

use serde::{Deserialize, Serialize};

use crate::bounded::JsonDepth;
use crate::error::quoted;
use crate::{IngestError, SourceFile};

/// The taxonomy vocabulary of the needs a service meets.
pub const NEED_VOCABULARY: &str = "alliance-need";
/// The taxonomy vocabulary saying whether it is a support service or a positive activity.
pub const KIND_VOCABULARY: &str = "alliance-kind";

/// The needs a service can meet: (slug, label).
pub const NEEDS: &[(&str, &str)] = &[
    ("exploitation", "Exploitation (criminal or sexual)"),
    ("knife-crime", "Knife crime"),
    ("domestic-abuse", "Domestic abuse"),
    ("sexual-violence", "Sexual violence"),
    ("mental-health", "Mental health"),
    ("substance-misuse", "Drugs and alcohol"),
    ("victims", "Support for victims"),
    ("parenting", "Parents and carers"),
    ("positive-activities", "Positive activities"),
];

/// One directory entry, as Alliance stores it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceRecord {
    pub id: String,
    pub name: String,
    pub description: String,
    pub organisation_id: String,
    pub organisation_name: String,
    pub organisation_description: String,
    pub url: String,
    pub email: String,
    pub phone: String,
    /// 0 when open to any age.
    pub min_age: i64,
    /// [`NO_MAX_AGE`] when there is no upper limit.
    pub max_age: i64,
    pub needs: Vec<String>,
    /// Area names the service covers (ORUK `service_area`).
    pub areas: Vec<String>,
    pub opening_times: String,
    /// 'support' or 'activity'.
    pub kind: String,
}

pub const NO_MAX_AGE: i64 = 200;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Organization {
    pub id: String,
    pub name: String,
    pub description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ServiceArea {
    pub id: String,
    pub service_area: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct RegularSchedule {
    pub id: String,
    pub description: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Eligibility {
    pub id: String,
    pub eligibility: String,
    pub minimum_age: Option<i64>,
    pub maximum_age: Option<i64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Phone {
    pub id: String,
    pub number: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Contact {
    pub id: String,
    pub name: String,
    pub phones: Vec<Phone>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Taxonomy {
    pub id: String,
    pub name: String,
    pub vocabulary: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ServiceTaxonomy {
    pub id: String,
    pub taxonomy: Taxonomy,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Location {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ServiceAtLocation {
    pub id: String,
    pub location: Location,
}

/// An ORUK service with the parts Alliance uses.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Service {
    pub id: String,
    pub name: String,
    pub description: String,
    pub url: String,
    pub email: String,
    pub status: String,
    pub organization: Organization,
    pub service_areas: Vec<ServiceArea>,
    pub regular_schedules: Vec<RegularSchedule>,
    pub eligibilitys: Vec<Eligibility>,
    pub contacts: Vec<Contact>,
    pub service_at_locations: Vec<ServiceAtLocation>,
    pub service_taxonomys: Vec<ServiceTaxonomy>,
}

/// Deserializes a service list or page service by service, without a JSON tree: each
/// service is read straight into [`Service`] (fields Alliance does not use are skipped), an
/// error names the service, and at most `max_services` are read.
struct ServiceFile<'a> {
    max_services: u64,
    /// Set when the file holds more services than allowed.
    too_many: &'a std::cell::Cell<bool>,
}

/// One service of the list, its position given in any error.
struct NumberedService(usize);

impl<'de> serde::de::DeserializeSeed<'de> for NumberedService {
    type Value = Service;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Service, D::Error> {
        Service::deserialize(d).map_err(|e| {
            // Keep the parser's message, without the position the outer error adds again.
            let message = e.to_string();
            let message = match message.rfind(" at line ") {
                Some(at) if message[at..].contains(" column ") => message[..at].to_string(),
                _ => message,
            };
            serde::de::Error::custom(format!("service {}: {message}", self.0 + 1))
        })
    }
}

impl<'de> serde::de::Visitor<'de> for ServiceFile<'_> {
    type Value = Vec<Service>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON array of services or a page {\"content\": [...]}")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<Service>, A::Error> {
        let mut services = Vec::new();
        while let Some(service) = seq.next_element_seed(NumberedService(services.len()))? {
            if services.len() as u64 >= self.max_services {
                self.too_many.set(true);
                return Err(serde::de::Error::custom("too many services"));
            }
            services.push(service);
        }
        Ok(services)
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Vec<Service>, A::Error> {
        let mut content = None;
        while let Some(key) = map.next_key::<String>()? {
            if key == "content" && content.is_none() {
                let seed = ServiceFile { max_services: self.max_services, too_many: self.too_many };
                content = Some(map.next_value_seed(seed)?);
            } else {
                map.next_value::<serde::de::IgnoredAny>()?;
            }
        }
        content.ok_or_else(|| serde::de::Error::missing_field("content"))
    }
}

impl<'de> serde::de::DeserializeSeed<'de> for ServiceFile<'_> {
    type Value = Vec<Service>;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Vec<Service>, D::Error> {
        d.deserialize_any(self)
    }
}

/// The text fields of a record, by name, for the length check.
fn text_fields(r: &ServiceRecord) -> impl Iterator<Item = (&'static str, &str)> {
    [
        ("id", r.id.as_str()),
        ("name", &r.name),
        ("description", &r.description),
        ("organization.id", &r.organisation_id),
        ("organization.name", &r.organisation_name),
        ("organization.description", &r.organisation_description),
        ("url", &r.url),
        ("email", &r.email),
        ("contacts.phones", &r.phone),
        ("regular_schedules", &r.opening_times),
    ]
    .into_iter()
    .chain(r.areas.iter().map(|a| ("service_areas", a.as_str())))
}

/// Reads an ORUK JSON file into directory records; the first invalid service is an error
/// naming its position (`service N`) and field. The file is bounded by its
/// [`Limits`](crate::Limits): at most `max_document_bytes`, `max_json_depth` deep,
/// `max_held_rows` services, and `max_field_bytes` in any text field.
pub fn read_services(file: &SourceFile) -> Result<Vec<ServiceRecord>, IngestError> {
    let name = file.name.as_str();
    let limits = file.limits();
    let capped = file.reader_capped(limits.max_document_bytes, "for an ORUK file")?;
    let reader = std::io::BufReader::new(JsonDepth::new(capped, limits.max_json_depth));
    let too_many = std::cell::Cell::new(false);
    let mut de = serde_json::Deserializer::from_reader(reader);
    let seed = ServiceFile { max_services: limits.max_held_rows, too_many: &too_many };
    let parsed =
        serde::de::DeserializeSeed::deserialize(seed, &mut de).and_then(|services| de.end().map(|()| services));
    let services = match parsed {
        Ok(services) => services,
        Err(_) if too_many.get() => {
            return Err(IngestError::file_too_large(
                name,
                format!(
                    "more than {} services (the most accepted in one file); nothing of it was imported",
                    limits.max_held_rows
                ),
            ))
        }
        Err(e) => return Err(IngestError::from_json(name, e, "not an ORUK service list or page")),
    };
    services
        .iter()
        .enumerate()
        .map(|(i, service)| {
            let at = |field: &str| format!("service {} field \"{field}\"", i + 1);
            let record = from_oruk(service)
                .map_err(|(field, reason)| IngestError::file(name, format!("{}: {reason}", at(field))))?;
            if let Some((field, _)) = text_fields(&record).find(|(_, v)| v.len() as u64 > limits.max_field_bytes) {
                return Err(IngestError::file_too_large(
                    name,
                    format!(
                        "{}: longer than {} (the longest accepted)",
                        at(field),
                        crate::limits::bytes(limits.max_field_bytes)
                    ),
                ));
            }
            Ok(record)
        })
        .collect()
}

/// A directory record from an ORUK service; `Err((field, reason))` when a required field is
/// missing or a value is out of range.
pub fn from_oruk(s: &Service) -> Result<ServiceRecord, (&'static str, String)> {
    if s.id.trim().is_empty() {
        return Err(("id", "is empty".into()));
    }
    if s.name.trim().is_empty() {
        return Err(("name", "is empty".into()));
    }
    if s.organization.name.trim().is_empty() {
        return Err(("organization.name", "is empty".into()));
    }
    let min_age = s.eligibilitys.iter().filter_map(|e| e.minimum_age).min().unwrap_or(0);
    let max_age = s.eligibilitys.iter().filter_map(|e| e.maximum_age).max().unwrap_or(NO_MAX_AGE);
    if min_age < 0 || max_age < min_age {
        return Err(("eligibilitys", format!("age range {min_age} to {max_age} is not valid")));
    }
    let mut needs = Vec::new();
    let mut kind = "support".to_string();
    for t in &s.service_taxonomys {
        if t.taxonomy.vocabulary == KIND_VOCABULARY {
            kind = if t.taxonomy.id == "activity" { "activity".into() } else { "support".into() };
        } else if t.taxonomy.vocabulary == NEED_VOCABULARY {
            if !NEEDS.iter().any(|(slug, _)| *slug == t.taxonomy.id) {
                return Err(("service_taxonomys", format!("unknown need {}", quoted(&t.taxonomy.id))));
            }
            needs.push(t.taxonomy.id.clone());
        }
    }
    Ok(ServiceRecord {
        id: s.id.trim().to_string(),
        name: s.name.trim().to_string(),
        description: s.description.trim().to_string(),
        organisation_id: if s.organization.id.is_empty() { format!("{}-org", s.id) } else { s.organization.id.clone() },
        organisation_name: s.organization.name.trim().to_string(),
        organisation_description: s.organization.description.trim().to_string(),
        url: s.url.trim().to_string(),
        email: s.email.trim().to_string(),
        phone: s.contacts.iter().flat_map(|c| &c.phones).map(|p| p.number.clone()).next().unwrap_or_default(),
        min_age,
        max_age,
        needs,
        areas: s.service_areas.iter().map(|a| a.service_area.trim().to_string()).filter(|a| !a.is_empty()).collect(),
        opening_times: s.regular_schedules.iter().map(|r| r.description.trim()).collect::<Vec<_>>().join("; "),
        kind,
    })
}

/// The ORUK service of a directory record.
pub fn to_oruk(r: &ServiceRecord) -> Service {
    let need_label = |slug: &str| NEEDS.iter().find(|(s, _)| *s == slug).map_or(slug, |(_, l)| l).to_string();
    let mut taxonomys: Vec<ServiceTaxonomy> = r
        .needs
        .iter()
        .map(|n| ServiceTaxonomy {
            id: format!("{}-need-{n}", r.id),
            taxonomy: Taxonomy { id: n.clone(), name: need_label(n), vocabulary: NEED_VOCABULARY.into() },
        })
        .collect();
    taxonomys.push(ServiceTaxonomy {
        id: format!("{}-kind", r.id),
        taxonomy: Taxonomy {
            id: r.kind.clone(),
            name: if r.kind == "activity" { "Positive activity".into() } else { "Support service".into() },
            vocabulary: KIND_VOCABULARY.into(),
        },
    });
    Service {
        id: r.id.clone(),
        name: r.name.clone(),
        description: r.description.clone(),
        url: r.url.clone(),
        email: r.email.clone(),
        status: "active".into(),
        organization: Organization {
            id: r.organisation_id.clone(),
            name: r.organisation_name.clone(),
            description: r.organisation_description.clone(),
            url: None,
        },
        service_areas: r
            .areas
            .iter()
            .enumerate()
            .map(|(i, a)| ServiceArea { id: format!("{}-area-{}", r.id, i + 1), service_area: a.clone() })
            .collect(),
        regular_schedules: if r.opening_times.is_empty() {
            Vec::new()
        } else {
            vec![RegularSchedule { id: format!("{}-schedule", r.id), description: r.opening_times.clone() }]
        },
        eligibilitys: vec![Eligibility {
            id: format!("{}-age", r.id),
            eligibility: "age".into(),
            minimum_age: Some(r.min_age),
            maximum_age: (r.max_age < NO_MAX_AGE).then_some(r.max_age),
        }],
        contacts: if r.phone.is_empty() {
            Vec::new()
        } else {
            vec![Contact {
                id: format!("{}-contact", r.id),
                name: r.organisation_name.clone(),
                phones: vec![Phone { id: format!("{}-phone", r.id), number: r.phone.clone() }],
            }]
        },
        service_at_locations: Vec::new(),
        service_taxonomys: taxonomys,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> ServiceRecord {
        ServiceRecord {
            id: "s1".into(),
            name: "Example".into(),
            description: "Example service".into(),
            organisation_id: "o1".into(),
            organisation_name: "Example org".into(),
            organisation_description: String::new(),
            url: "https://example.org".into(),
            email: "help@example.org".into(),
            phone: "01234 567890".into(),
            min_age: 11,
            max_age: 18,
            needs: vec!["knife-crime".into(), "exploitation".into()],
            areas: vec!["Stoke-on-Trent".into()],
            opening_times: "Monday to Friday, 9am to 5pm".into(),
            kind: "activity".into(),
        }
    }

    #[test]
    fn a_record_survives_the_oruk_round_trip() {
        let r = record();
        let json = serde_json::to_string(&to_oruk(&r)).unwrap();
        let back: Service = serde_json::from_str(&json).unwrap();
        assert_eq!(from_oruk(&back).unwrap(), r);
    }

    #[test]
    fn an_unknown_need_names_the_field() {
        let mut s = to_oruk(&record());
        s.service_taxonomys[0].taxonomy.id = "astrology".into();
        let (field, reason) = from_oruk(&s).unwrap_err();
        assert_eq!(field, "service_taxonomys");
        assert!(reason.contains("astrology"));
    }

    #[test]
    fn a_file_error_names_the_service() {
        let file = SourceFile::from_bytes("x.json", br#"[{"id":"a","name":"","organization":{"name":"o"}}]"#.to_vec());
        let err = read_services(&file).unwrap_err().to_string();
        assert!(err.contains("x.json") && err.contains("service 1") && err.contains("\"name\""), "{err}");
    }
}
