//! The code lists of the intervention register: kinds of intervention and the EMMIE ratings
//! (College of Policing Crime Reduction Toolkit; Johnson, Tilley & Bowers 2015), entered by
//! the user as the toolkit presents them. Each code has a stable key (stored, sent in forms
//! and JSON) and a label (shown).

/// A key that is not one of a code list's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {list} \"{key}\"")]
pub struct UnknownCode {
    pub list: &'static str,
    pub key: String,
}

macro_rules! code_list {
    ($(#[$doc:meta])* $name:ident, $what:literal, { $($variant:ident => ($key:literal, $label:literal)),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, ::serde::Serialize, ::serde::Deserialize)]
        pub enum $name {
            $(#[serde(rename = $key)] $variant),+
        }

        impl $name {
            /// Every code, in the order forms list them.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stored key.
            pub fn key(self) -> &'static str {
                match self {
                    $($name::$variant => $key),+
                }
            }

            /// The label shown.
            pub fn label(self) -> &'static str {
                match self {
                    $($name::$variant => $label),+
                }
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::domain::intervention::UnknownCode;
            fn from_str(key: &str) -> Result<$name, $crate::domain::intervention::UnknownCode> {
                $name::ALL.iter().copied().find(|c| c.key() == key).ok_or_else(|| $crate::domain::intervention::UnknownCode { list: $what, key: key.to_string() })
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.key())
            }
        }
    };
}

/// Other code lists of the domain (`place.rs`) are declared the same way.
pub(crate) use code_list;

code_list!(
    /// Kinds of intervention.
    InterventionType, "kind of intervention", {
        Patrols => ("patrols", "Patrols"),
        LightingCctv => ("lighting_cctv", "Lighting or CCTV"),
        TargetHardening => ("target_hardening", "Target hardening"),
        Navigator => ("navigator", "Navigator"),
        Mentoring => ("mentoring", "Mentoring"),
        Education => ("education", "Education"),
        Other => ("other", "Other"),
    }
);

code_list!(
    /// The EMMIE effect: the direction of the effect on crime.
    EmmieEffect, "EMMIE effect", {
        Reduced => ("reduced", "Reduced crime"),
        Mixed => ("mixed", "Mixed"),
        NoEffect => ("no_effect", "No effect"),
        Increased => ("increased", "Increased crime"),
    }
);

code_list!(
    /// The quality of the evidence about an EMMIE dimension (the effect, the mechanism, the
    /// moderators, the implementation, the economic cost).
    EvidenceQuality, "quality of evidence", {
        Strong => ("strong", "Strong"),
        Moderate => ("moderate", "Moderate"),
        Limited => ("limited", "Limited"),
        NoEvidence => ("none", "No evidence"),
    }
);

// Written out: the enum is declared by `code_list!`, which has no `#[default]` variant.
#[allow(clippy::derivable_impls)]
impl Default for InterventionType {
    fn default() -> InterventionType {
        InterventionType::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_unknown_keys_are_refused() {
        for t in InterventionType::ALL {
            assert_eq!(t.key().parse::<InterventionType>(), Ok(*t));
        }
        assert_eq!("no_effect".parse::<EmmieEffect>(), Ok(EmmieEffect::NoEffect));
        assert_eq!(EvidenceQuality::NoEvidence.key(), "none");
        assert_eq!(EvidenceQuality::NoEvidence.label(), "No evidence");
        let e = "sometimes".parse::<EmmieEffect>().unwrap_err();
        assert_eq!(e.to_string(), "unknown EMMIE effect \"sometimes\"");
        assert_eq!(serde_json::to_string(&InterventionType::LightingCctv).unwrap(), "\"lighting_cctv\"");
        assert_eq!(serde_json::from_str::<EvidenceQuality>("\"none\"").unwrap(), EvidenceQuality::NoEvidence);
    }
}
