//! Coded lists: the one way Alliance declares a fixed list of values with a stable code
//! (stored, exported, sent in forms and JSON) and a plain-English label (shown on pages).
//! Codes never change once data exists; labels may be reworded. The referral, governance,
//! intervention, place, access (role, organisation type, access level) and serious violence
//! definition lists are all declared with [`code_list!`], so they read, print, parse and
//! serialise alike and refuse a text with the same [`CodeError`].

/// Why a text is not on a coded list.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {list} \"{given}\": expected one of {expected}")]
pub struct CodeError {
    /// The list's name in words, e.g. "source setting".
    pub list: &'static str,
    pub given: String,
    /// The list's codes, comma-separated.
    pub expected: String,
}

/// Whether `text` names the value with this code or label: the code ignoring case,
/// surrounding spaces, and spaces, underscores or hyphens written for one another (so
/// `lighting cctv` finds `lighting_cctv` and `school_exclusion` finds `school-exclusion`),
/// or the label ignoring case and surrounding spaces.
pub fn names(code: &str, label: &str, text: &str) -> bool {
    let text = text.trim();
    let fold = |c: char| if c == ' ' || c == '_' { '-' } else { c.to_ascii_lowercase() };
    code.chars().map(fold).eq(text.chars().map(fold)) || label.eq_ignore_ascii_case(text)
}

/// The error for a text that is on none of `codes`.
pub fn unknown<'a>(list: &'static str, text: &str, codes: impl Iterator<Item = &'a str>) -> CodeError {
    CodeError { list, given: text.to_string(), expected: codes.collect::<Vec<_>>().join(", ") }
}

/// Declares a coded list: the enum, `ALL` (in the order forms show them), `code()`, `label()`,
/// `choices()` (each `(code, label)`, for a form's options), `parse()` (see [`names`]),
/// `Display` (the code), `FromStr` and `TryFrom<String>` (both `parse`), `&'static str` from a
/// value (the code), and serde as the code.
///
/// ```text
/// code_list! {
///     /// Doc comment of the enum.
///     Name ("what it is, in words") {
///         Variant = "code", "Label";
///     }
/// }
/// ```
macro_rules! code_list {
    (
        $(#[$meta:meta])*
        $name:ident ($what:literal) {
            $( $(#[$vmeta:meta])* $variant:ident = $code:literal, $label:literal; )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, ::serde::Serialize, ::serde::Deserialize)]
        #[serde(into = "&'static str", try_from = "String")]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every value, in the order forms show them.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable code, stored and exchanged.
            pub fn code(self) -> &'static str {
                match self {
                    $( $name::$variant => $code, )+
                }
            }

            /// The words shown on pages.
            pub fn label(self) -> &'static str {
                match self {
                    $( $name::$variant => $label, )+
                }
            }

            /// Every value as `(code, label)`, in the order of `ALL`: a form's select or
            /// radio options.
            pub fn choices() -> Vec<(&'static str, &'static str)> {
                Self::ALL.iter().map(|v| (v.code(), v.label())).collect()
            }

            /// The value a code or a label names (see [`crate::codes::names`]).
            pub fn parse(text: &str) -> Result<$name, $crate::codes::CodeError> {
                Self::ALL
                    .iter()
                    .copied()
                    .find(|v| $crate::codes::names(v.code(), v.label(), text))
                    .ok_or_else(|| $crate::codes::unknown($what, text, Self::ALL.iter().map(|v| v.code())))
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.code())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::codes::CodeError;
            fn from_str(text: &str) -> Result<$name, $crate::codes::CodeError> {
                $name::parse(text)
            }
        }

        impl TryFrom<String> for $name {
            type Error = $crate::codes::CodeError;
            fn try_from(text: String) -> Result<$name, $crate::codes::CodeError> {
                $name::parse(&text)
            }
        }

        impl From<$name> for &'static str {
            fn from(value: $name) -> &'static str {
                value.code()
            }
        }
    };
}

pub(crate) use code_list;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_folds_case_spaces_and_separators_of_codes_and_the_case_of_labels() {
        assert!(names("school-exclusion", "Excluded", " School_Exclusion "));
        assert!(names("lighting_cctv", "Lighting or CCTV", "lighting cctv"));
        assert!(names("lighting_cctv", "Lighting or CCTV", "lighting or cctv"));
        assert!(!names("lighting_cctv", "Lighting or CCTV", "lighting"));
        assert!(!names("65+", "65 and over", "65"));
    }

    code_list! {
        /// A list to test the macro with.
        Fruit ("fruit") {
            Pear = "pear", "Pear";
            BloodOrange = "blood-orange", "Blood orange";
        }
    }

    #[test]
    fn choices_are_every_code_and_label_in_the_order_of_all() {
        assert_eq!(Fruit::choices(), vec![("pear", "Pear"), ("blood-orange", "Blood orange")]);
        assert_eq!(Fruit::choices().len(), Fruit::ALL.len());
        assert_eq!("Blood orange".parse::<Fruit>(), Ok(Fruit::BloodOrange));
    }
}
