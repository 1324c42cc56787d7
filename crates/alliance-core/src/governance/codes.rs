//! The governance code lists: which body a meeting is of, what kind of item it records, what
//! kind of indicator and how often it is reported. Stored as their `code()`; parsed back with
//! `FromStr` (the error says what is expected, for a form or a file to show).

use super::{ActionStatus, Direction, IndicatorSource};
use crate::codes::code_list;

code_list! {
    /// The partnership body a meeting is of.
    MeetingBody ("meeting body") {
        Board = "board", "Executive Board";
        DeliveryGroup = "delivery-group", "Delivery Group";
    }
}

code_list! {
    /// What a meeting item records: a decision, an escalation to the Board, or an action
    /// arising (which is also an action in the plan).
    MeetingItemKind ("kind of meeting item") {
        Decision = "decision", "Decision";
        Escalation = "escalation", "Escalation";
        Action = "action", "Action arising";
    }
}

code_list! {
    /// Where an indicator sits in the logic model.
    IndicatorKind ("kind of indicator") {
        Input = "input", "Input";
        Output = "output", "Output";
        Outcome = "outcome", "Outcome";
    }
}

code_list! {
    /// How often an indicator is reported.
    Frequency ("reporting frequency") {
        Monthly = "monthly", "Monthly";
        Quarterly = "quarterly", "Quarterly";
        Annually = "annually", "Annually";
    }
}

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
            assert_eq!(b.code().parse::<MeetingBody>(), Ok(*b));
            assert_eq!(b.label().parse::<MeetingBody>(), Ok(*b));
        }
        assert_eq!(" Delivery-Group ".parse::<MeetingBody>(), Ok(MeetingBody::DeliveryGroup));
        assert_eq!(MeetingBody::DeliveryGroup.label(), "Delivery Group");
        assert_eq!(
            "council".parse::<MeetingBody>().map_err(|e| e.to_string()),
            Err("unknown meeting body \"council\": expected one of board, delivery-group".to_string())
        );
        assert_eq!(
            "note".parse::<MeetingItemKind>().map_err(|e| e.to_string()),
            Err("unknown kind of meeting item \"note\": expected one of decision, escalation, action".to_string())
        );
        assert_eq!(serde_json::to_string(&MeetingBody::DeliveryGroup).ok(), Some("\"delivery-group\"".to_string()));
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
