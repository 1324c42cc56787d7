//! How a receiving service first makes contact, and the detail each route needs.

use serde::Serialize;

use super::codes::ContactRoute;
use super::fields::{given, Field, FieldError};
use super::personal::{needed, PersonalFields};

/// How the service should first make contact. `detail` is the phone number (digits, leading
/// 0), the e-mail address or the postal address the route needs; none for "via the referrer".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Contact {
    pub route: ContactRoute,
    pub detail: Option<String>,
}

pub(crate) fn contact_field(
    fields: &PersonalFields,
    needs: bool,
    errors: &mut Vec<FieldError>,
) -> Result<Option<Contact>, FieldError> {
    let Some(route_text) = needed(Field::ContactRoute, &fields.contact_route, needs, "contact route")? else {
        // Not needed: a detail without a route is refused too.
        needed(Field::ContactDetail, &fields.contact_detail, false, "contact detail")?;
        return Ok(None);
    };
    let route = ContactRoute::parse(route_text).map_err(|e| FieldError::new(Field::ContactRoute, e.to_string()))?;
    let detail = given(&fields.contact_detail);
    let missing = |what: &str| FieldError::new(Field::ContactDetail, format!("enter {what} for this contact route"));
    let detail = match route {
        ContactRoute::ViaReferrer => {
            if detail.is_some() {
                errors.push(FieldError::new(
                    Field::ContactDetail,
                    "no contact detail is needed when the service contacts the referrer: leave it blank",
                ));
            }
            None
        }
        ContactRoute::Phone => Some(phone(detail.ok_or_else(|| missing("a phone number"))?)?),
        ContactRoute::Email => Some(email(detail.ok_or_else(|| missing("an e-mail address"))?)?),
        ContactRoute::Letter => {
            let t = detail.ok_or_else(|| missing("a postal address"))?;
            if t.chars().count() > 300 {
                return Err(FieldError::new(Field::ContactDetail, "the address must be 300 characters or fewer"));
            }
            Some(t.to_string())
        }
        ContactRoute::ViaParent => {
            let t = detail.ok_or_else(|| missing("the parent's or carer's phone number or e-mail address"))?;
            Some(if t.contains('@') { email(t)? } else { phone(t)? })
        }
    };
    Ok(Some(Contact { route, detail }))
}

/// A UK phone number: 10 or 11 digits starting with 0, or +44 for the 0. Spaces, hyphens and
/// brackets are ignored; the digits are kept.
fn phone(text: &str) -> Result<String, FieldError> {
    let compact: String = text.chars().filter(|c| !matches!(c, ' ' | '-' | '(' | ')')).collect();
    let national = match compact.strip_prefix("+44") {
        Some(rest) => format!("0{}", rest.strip_prefix('0').unwrap_or(rest)),
        None => compact,
    };
    if national.starts_with('0') && (10..=11).contains(&national.len()) && national.bytes().all(|b| b.is_ascii_digit())
    {
        Ok(national)
    } else {
        Err(FieldError::new(
            Field::ContactDetail,
            "enter a UK phone number with its area code, e.g. 01632 960123 or 07700 900123",
        ))
    }
}

/// An e-mail address: one @, something before it, a dotted domain after it, no spaces.
fn email(text: &str) -> Result<String, FieldError> {
    let bad = || FieldError::new(Field::ContactDetail, "enter an e-mail address, e.g. name@example.com");
    let (local, domain) = text.split_once('@').ok_or_else(bad)?;
    let ok = !local.is_empty()
        && local.len() <= 64
        && text.len() <= 254
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && !text.chars().any(char::is_whitespace);
    if ok {
        Ok(text.to_string())
    } else {
        Err(bad())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn submit(route: &str, detail: Option<&str>) -> (Result<Option<Contact>, FieldError>, Vec<FieldError>) {
        let fields = PersonalFields {
            contact_route: Some(route.into()),
            contact_detail: detail.map(Into::into),
            ..PersonalFields::default()
        };
        let mut errors = Vec::new();
        (contact_field(&fields, true, &mut errors), errors)
    }

    #[test]
    fn phone_numbers_are_kept_as_national_digits() {
        for (text, digits) in [
            ("01782 123456", "01782123456"),
            ("07700-900-123", "07700900123"),
            ("+44 7700 900123", "07700900123"),
            ("+44 (0)1782 123456", "01782123456"),
            ("(0121) 496 0000", "01214960000"),
        ] {
            assert_eq!(phone(text).ok().as_deref(), Some(digits), "{text}");
        }
        for bad in ["1782 123456", "0178212", "017821234567", "07700 9001x3", "+1 202 555 0100"] {
            assert!(phone(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn email_addresses_need_a_dotted_domain() {
        assert_eq!(email("a.person@example.org").ok().as_deref(), Some("a.person@example.org"));
        for bad in
            ["person", "@example.org", "person@example", "person@.org", "person@example.", "a b@c.org", "a@b@c.org"]
        {
            assert!(email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn each_route_takes_the_detail_it_needs_and_no_more() {
        let (phone, errors) = submit("phone", Some("07700 900123"));
        assert_eq!(phone, Ok(Some(Contact { route: ContactRoute::Phone, detail: Some("07700900123".into()) })));
        assert!(errors.is_empty());

        let (missing, _) = submit("email", None);
        assert_eq!(missing.unwrap_err().field, Field::ContactDetail);

        let (letter, _) = submit("letter", Some("1 High Street, Stoke-on-Trent ST4 1AA"));
        assert_eq!(letter.ok().flatten().map(|c| c.route), Some(ContactRoute::Letter));

        // Through a parent: the parent's phone or e-mail.
        let (parent, _) = submit("via-parent", Some("parent@example.org"));
        assert_eq!(parent.ok().flatten().and_then(|c| c.detail).as_deref(), Some("parent@example.org"));
        let (parent, _) = submit("Through a parent or carer", Some("not a number"));
        assert!(parent.unwrap_err().message.contains("UK phone number"));

        // Through the referrer: a detail is refused, the route is still read.
        let (referrer, errors) = submit("via-referrer", Some("07700 900123"));
        assert_eq!(referrer, Ok(Some(Contact { route: ContactRoute::ViaReferrer, detail: None })));
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, Field::ContactDetail);

        let (unknown, _) = submit("carrier pigeon", None);
        let err = unknown.unwrap_err();
        assert_eq!(err.field, Field::ContactRoute);
        assert!(err.message.contains("unknown contact route"));
    }

    #[test]
    fn a_service_that_needs_no_contact_refuses_route_and_detail() {
        let mut errors = Vec::new();
        let detail_only = PersonalFields { contact_detail: Some("07700 900123".into()), ..PersonalFields::default() };
        assert_eq!(contact_field(&detail_only, false, &mut errors).unwrap_err().field, Field::ContactDetail);
        let route = PersonalFields { contact_route: Some("phone".into()), ..PersonalFields::default() };
        assert_eq!(contact_field(&route, false, &mut errors).unwrap_err().field, Field::ContactRoute);
        assert_eq!(contact_field(&PersonalFields::default(), false, &mut errors), Ok(None));
    }
}
