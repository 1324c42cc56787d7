//! Refusing patient identifiers.
//!
//! ED data reaches the partnership anonymised (ISB 1594: "no patient identifiers"). Alliance
//! enforces it at the door: a file with a column or element whose name looks like an
//! identifier is refused before any row is read, and a free-text value holding something
//! that looks like an NHS number (ten digits whose tenth is a valid modulus 11 check digit,
//! NHS Data Model and Dictionary "NHS NUMBER") is refused too. The whole file is refused, not
//! the row: a sender that leaks one identifier has a broken extract.

/// What a column or element called `name` looks like, when it looks like a patient
/// identifier: `Some("an NHS number")`, …
pub fn identifier_kind(name: &str) -> Option<&'static str> {
    let n: String = name.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_ascii_lowercase();
    const CONTAINS: &[(&str, &str)] = &[
        ("nhsnumber", "an NHS number"),
        ("nhsno", "an NHS number"),
        ("chinumber", "a CHI number"),
        ("dateofbirth", "a date of birth"),
        ("birthdate", "a date of birth"),
        ("birth", "a date of birth"),
        ("surname", "a name"),
        ("forename", "a name"),
        ("firstname", "a name"),
        ("lastname", "a name"),
        ("givenname", "a name"),
        ("familyname", "a name"),
        ("fullname", "a name"),
        ("patientname", "a name"),
        ("postcode", "a postcode of residence"),
        ("address", "an address"),
        ("patientid", "a patient identifier"),
        ("hospitalnumber", "a patient identifier"),
        ("hospitalno", "a patient identifier"),
        ("casenotenumber", "a patient identifier"),
        ("localpatient", "a patient identifier"),
        ("telephone", "contact details"),
        ("phone", "contact details"),
        ("email", "contact details"),
    ];
    const EXACT: &[(&str, &str)] = &[
        ("nhs", "an NHS number"),
        ("dob", "a date of birth"),
        ("name", "a name"),
        ("patient", "a patient identifier"),
        ("mrn", "a patient identifier"),
        ("pas", "a patient identifier"),
        ("pasnumber", "a patient identifier"),
        ("age", "an exact age (send an age band)"),
    ];
    EXACT.iter().find(|(e, _)| n == *e).or_else(|| CONTAINS.iter().find(|(c, _)| n.contains(c))).map(|(_, kind)| *kind)
}

/// Whether ten digits form a valid NHS number: weights 10..2 on the first nine digits,
/// 11 − (sum mod 11) is the check digit (11 → 0; 10 means no valid number).
pub fn is_valid_nhs_number(digits: &[u8; 10]) -> bool {
    let sum: u32 = digits[..9].iter().zip((2..=10).rev()).map(|(d, w)| u32::from(*d) * w).sum();
    let check = match 11 - (sum % 11) {
        11 => 0,
        10 => return false,
        c => c,
    };
    check == u32::from(digits[9])
}

/// Whether `text` holds something that looks like an NHS number: ten digits in a row, or in
/// the printed 3-3-4 form with single spaces or hyphens, not part of a longer number, with a
/// valid check digit.
pub fn contains_nhs_number(text: &str) -> bool {
    // Runs of digits: (start byte, end byte).
    let bytes = text.as_bytes();
    let mut runs = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit() {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            runs.push((start, i));
        } else {
            i += 1;
        }
    }
    let digits_of = |parts: &[(usize, usize)]| -> Option<[u8; 10]> {
        let mut out = [0u8; 10];
        let mut k = 0;
        for &(s, e) in parts {
            for &b in &bytes[s..e] {
                *out.get_mut(k)? = b - b'0';
                k += 1;
            }
        }
        (k == 10).then_some(out)
    };
    let separated = |a: (usize, usize), b: (usize, usize)| b.0 == a.1 + 1 && matches!(bytes[a.1], b' ' | b'-');
    for (idx, run) in runs.iter().enumerate() {
        if run.1 - run.0 == 10 && digits_of(&[*run]).is_some_and(|d| is_valid_nhs_number(&d)) {
            return true;
        }
        if let (Some(b), Some(c)) = (runs.get(idx + 1), runs.get(idx + 2)) {
            let lens = (run.1 - run.0, b.1 - b.0, c.1 - c.0);
            let before_ok = idx == 0 || !separated(runs[idx - 1], *run);
            let after_ok = runs.get(idx + 3).is_none_or(|d| !separated(*c, *d));
            if lens == (3, 3, 4)
                && separated(*run, *b)
                && separated(*b, *c)
                && before_ok
                && after_ok
                && digits_of(&[*run, *b, *c]).is_some_and(|d| is_valid_nhs_number(&d))
            {
                return true;
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_look_like_identifiers() {
        assert_eq!(identifier_kind("NHS Number"), Some("an NHS number"));
        assert_eq!(identifier_kind("nhs_no"), Some("an NHS number"));
        assert_eq!(identifier_kind("Date of Birth"), Some("a date of birth"));
        assert_eq!(identifier_kind("DOB"), Some("a date of birth"));
        assert_eq!(identifier_kind("PatientSurname"), Some("a name"));
        assert_eq!(identifier_kind("Name"), Some("a name"));
        assert_eq!(identifier_kind("home_postcode"), Some("a postcode of residence"));
        assert_eq!(identifier_kind("AddressLine1"), Some("an address"));
        assert_eq!(identifier_kind("assault_location_description"), None);
        assert_eq!(identifier_kind("site_code"), None);
        assert_eq!(identifier_kind("age_band"), None);
        assert_eq!(identifier_kind("AssaultMethodOtherDescription"), None);
    }

    #[test]
    fn nhs_number_check_digit() {
        // 943 476 5919: 9*10+4*9+3*8+4*7+7*6+6*5+5*4+9*3+1*2 = 299; 299 mod 11 = 2; 11-2 = 9. Valid.
        assert!(is_valid_nhs_number(&[9, 4, 3, 4, 7, 6, 5, 9, 1, 9]));
        assert!(!is_valid_nhs_number(&[9, 4, 3, 4, 7, 6, 5, 9, 1, 8]));
    }

    #[test]
    fn nhs_numbers_in_free_text() {
        assert!(contains_nhs_number("outside pub 9434765919"));
        assert!(contains_nhs_number("pt 943 476 5919 said"));
        assert!(contains_nhs_number("943-476-5919"));
        // Wrong check digit, part of a longer number, or a phone number: not flagged.
        assert!(!contains_nhs_number("9434765918"));
        assert!(!contains_nhs_number("94347659190"));
        assert!(!contains_nhs_number("01782 765919"));
        assert!(!contains_nhs_number("12 Church Street"));
    }
}
