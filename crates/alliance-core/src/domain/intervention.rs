//! The code lists of the intervention register: kinds of intervention and the EMMIE ratings
//! (College of Policing Crime Reduction Toolkit; Johnson, Tilley & Bowers 2015), entered by
//! the user as the toolkit presents them. Each is a coded list (`crate::codes`): a stable code
//! (stored, sent in forms and JSON) and a label (shown).

use crate::codes::code_list;

code_list! {
    /// Kinds of intervention.
    InterventionType ("kind of intervention") {
        Patrols = "patrols", "Patrols";
        LightingCctv = "lighting_cctv", "Lighting or CCTV";
        TargetHardening = "target_hardening", "Target hardening";
        Navigator = "navigator", "Navigator";
        Mentoring = "mentoring", "Mentoring";
        Education = "education", "Education";
        Other = "other", "Other";
    }
}

code_list! {
    /// The EMMIE effect: the direction of the effect on crime.
    EmmieEffect ("EMMIE effect") {
        Reduced = "reduced", "Reduced crime";
        Mixed = "mixed", "Mixed";
        NoEffect = "no_effect", "No effect";
        Increased = "increased", "Increased crime";
    }
}

code_list! {
    /// The quality of the evidence about an EMMIE dimension (the effect, the mechanism, the
    /// moderators, the implementation, the economic cost).
    EvidenceQuality ("quality of evidence") {
        Strong = "strong", "Strong";
        Moderate = "moderate", "Moderate";
        Limited = "limited", "Limited";
        NoEvidence = "none", "No evidence";
    }
}

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
    fn codes_round_trip_and_unknown_codes_are_refused() {
        for t in InterventionType::ALL {
            assert_eq!(t.code().parse::<InterventionType>(), Ok(*t));
            assert_eq!(t.label().parse::<InterventionType>(), Ok(*t));
        }
        assert_eq!("no_effect".parse::<EmmieEffect>(), Ok(EmmieEffect::NoEffect));
        assert_eq!(EvidenceQuality::NoEvidence.code(), "none");
        assert_eq!(EvidenceQuality::NoEvidence.label(), "No evidence");
        let e = "sometimes".parse::<EmmieEffect>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown EMMIE effect \"sometimes\": expected one of reduced, mixed, no_effect, increased"
        );
        assert_eq!(serde_json::to_string(&InterventionType::LightingCctv).unwrap(), "\"lighting_cctv\"");
        assert_eq!(serde_json::from_str::<EvidenceQuality>("\"none\"").unwrap(), EvidenceQuality::NoEvidence);
    }
}
