//! The governance code lists: which body a meeting is of, what kind of item it records, what
//! kind of indicator and how often it is reported. Stored as their `as_str` text; parsed back
//! with `FromStr` (the error says what is expected, for a form or a file to show).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{ActionStatus, Direction, IndicatorSource};

/// Defines a code list: an enum with `ALL`, `as_str`, `label`, `Display`, `FromStr` (and
/// `TryFrom<String>`, for reading stored rows) over the given codes and labels.
macro_rules! code_list {
    ($(#[$meta:meta])* $name:ident, $what:literal, { $($variant:ident => ($code:literal, $label:literal)),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "kebab-case")]
        pub enum $name {
            $($variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stored code.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $code),+
                }
            }

            /// The words a page shows.
            pub fn label(self) -> &'static str {
                match self {
                    $($name::$variant => $label),+
                }
            }

            /// "a, b or c": the codes, for a message.
            pub fn expected() -> String {
                let codes: Vec<&str> = $name::ALL.iter().map(|c| c.as_str()).collect();
                match codes.split_last() {
                    Some((last, [])) => last.to_string(),
                    Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
                    None => String::new(),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<$name, String> {
                let key = s.trim().to_ascii_lowercase();
                $name::ALL
                    .iter()
                    .copied()
                    .find(|c| c.as_str() == key)
                    .ok_or_else(|| format!("\"{}\" is not {}: expected {}", s.trim(), $what, $name::expected()))
            }
        }

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(s: String) -> Result<$name, String> {
                s.parse()
            }
        }
    };
}

code_list!(
    /// The partnership body a meeting is of.
    MeetingBody, "a meeting body", {
        Board => ("board", "Executive Board"),
        DeliveryGroup => ("delivery-group", "Delivery Group"),
    }
);

code_list!(
    /// What a meeting item records: a decision, an escalation to the Board, or an action
    /// arising (which is also an action in the plan).
    MeetingItemKind, "a kind of meeting item", {
        Decision => ("decision", "Decision"),
        Escalation => ("escalation", "Escalation"),
        Action => ("action", "Action arising"),
    }
);

code_list!(
    /// Where an indicator sits in the logic model.
    IndicatorKind, "a kind of indicator", {
        Input => ("input", "Input"),
        Output => ("output", "Output"),
        Outcome => ("outcome", "Outcome"),
    }
);

code_list!(
    /// How often an indicator is reported.
    Frequency, "a reporting frequency", {
        Monthly => ("monthly", "Monthly"),
        Quarterly => ("quarterly", "Quarterly"),
        Annually => ("annually", "Annually"),
    }
);

impl TryFrom<String> for ActionStatus {
    type Error = String;
    fn try_from(s: String) -> Result<ActionStatus, String> {
        s.parse()
    }
}

impl TryFrom<String> for Direction {
    type Error = String;
    fn try_from(s: String) -> Result<Direction, String> {
        s.parse()
    }
}

impl TryFrom<String> for IndicatorSource {
    type Error = String;
    fn try_from(s: String) -> Result<IndicatorSource, String> {
        IndicatorSource::parse(&s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_read_back_and_say_what_is_expected() {
        for b in MeetingBody::ALL {
            assert_eq!(b.as_str().parse::<MeetingBody>(), Ok(*b));
        }
        assert_eq!(" Delivery-Group ".parse::<MeetingBody>(), Ok(MeetingBody::DeliveryGroup));
        assert_eq!(MeetingBody::DeliveryGroup.label(), "Delivery Group");
        assert_eq!(
            "council".parse::<MeetingBody>(),
            Err("\"council\" is not a meeting body: expected board or delivery-group".to_string())
        );
        assert_eq!(
            "note".parse::<MeetingItemKind>().unwrap_err(),
            "\"note\" is not a kind of meeting item: expected decision, escalation or action"
        );
        assert_eq!(IndicatorKind::try_from("outcome".to_string()), Ok(IndicatorKind::Outcome));
        assert_eq!("monthly".parse::<Frequency>(), Ok(Frequency::Monthly));
        assert!("weekly".parse::<Frequency>().is_err());
        assert_eq!(ActionStatus::try_from("at-risk".to_string()), Ok(ActionStatus::AtRisk));
        assert!(Direction::try_from("sideways".to_string()).is_err());
        assert_eq!(
            IndicatorSource::try_from("computed:quarter-count:Robbery".to_string()).map(|s| s.as_string()),
            Ok("computed:police;measure=count;select=crime-type:Robbery".to_string())
        );
    }
}
