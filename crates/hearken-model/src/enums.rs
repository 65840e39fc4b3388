//! The closed sets of the model. Each has a canonical lowercase name (what exports and the
//! canonical CSV use), a stable one-byte code (what the store and the columnar engine use), and a
//! forgiving parser that accepts the spellings source systems actually write.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::FieldError;

/// Compares ignoring case and separators, so "E-Mail", "e_mail" and "email" are equal. Runs on
/// every imported row, so it allocates nothing.
fn folded_eq(value: &str, target: &str) -> bool {
    fold(value).eq(fold(target))
}

fn fold(s: &str) -> impl Iterator<Item = char> + '_ {
    s.chars()
        .filter(|c| !matches!(c, ' ' | '-' | '_' | '.' | '/'))
        .flat_map(char::to_lowercase)
}

macro_rules! closed_set {
    (
        $(#[$doc:meta])*
        $name:ident, $field:literal {
            $( $variant:ident = $code:literal, $canon:literal, [$($alias:literal),*] ),+ $(,)?
        }
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The canonical name, as written in canonical files and exports.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $canon),+ }
            }

            /// The stable code stored in the database. Never renumber.
            pub fn code(self) -> u8 {
                match self { $($name::$variant => $code),+ }
            }

            pub fn from_code(code: u8) -> Option<$name> {
                match code { $($code => Some($name::$variant),)+ _ => None }
            }

            pub fn parse(field: &str, value: &str) -> Result<$name, FieldError> {
                let v = value.trim();
                $(
                    if v == $canon {
                        return Ok($name::$variant);
                    }
                )+
                $(
                    if folded_eq(v, $canon) $(|| folded_eq(v, $alias))* {
                        return Ok($name::$variant);
                    }
                )+
                let names: Vec<&str> = $name::ALL.iter().map(|v| v.as_str()).collect();
                Err(FieldError::new(field, value, concat!("is not a known ", $field))
                    .with_hint(format!("use one of: {}", names.join(", "))))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = FieldError;
            fn from_str(s: &str) -> Result<$name, FieldError> {
                $name::parse($field, s)
            }
        }
    };
}

closed_set!(
    /// How a signal reached the organisation.
    Channel, "channel" {
        Phone = 1, "phone", ["call", "telephone", "voice", "tel"],
        Email = 2, "email", ["mail", "e-mail"],
        Chat = 3, "chat", ["livechat", "messaging", "whatsapp", "sms"],
        Social = 4, "social", ["socialmedia", "twitter", "facebook", "x", "instagram", "linkedin"],
        Survey = 5, "survey", ["questionnaire"],
        Review = 6, "review", ["appstore", "rating"],
        Web = 7, "web", ["webform", "website", "form", "portal", "app"],
        InPerson = 8, "in_person", ["inperson", "facetoface", "store", "shop", "branch", "visit"],
        Other = 9, "other", ["unknown"],
    }
);

closed_set!(
    /// What the customer or employee was doing when they sent the signal.
    SignalKind, "kind" {
        Question = 1, "question", ["query", "enquiry", "inquiry", "info"],
        Complaint = 2, "complaint", ["problem", "issue", "incident"],
        Compliment = 3, "compliment", ["praise", "kudos", "thanks"],
        Suggestion = 4, "suggestion", ["idea", "improvement"],
        Request = 5, "request", ["servicerequest", "order", "change"],
        SurveyResponse = 6, "survey_response", ["survey", "response", "feedback"],
        Other = 7, "other", ["unknown"],
    }
);

closed_set!(
    /// Who the signal came from.
    Source, "source" {
        Customer = 1, "customer", ["client", "external"],
        Employee = 2, "employee", ["staff", "agent", "internal", "colleague"],
    }
);

closed_set!(
    /// Where an improvement action stands.
    ActionStatus, "action status" {
        Proposed = 1, "proposed", ["new", "open"],
        Planned = 2, "planned", ["accepted", "approved"],
        InProgress = 3, "in_progress", ["doing", "started", "active"],
        Done = 4, "done", ["closed", "completed", "implemented"],
        Dropped = 5, "dropped", ["rejected", "cancelled", "canceled", "wontfix"],
        Verified = 6, "verified", ["confirmed", "measured"],
    }
);

impl ActionStatus {
    /// The statuses an action in this status may move to: forward along `proposed` ->
    /// `planned` -> `in_progress` -> `done` -> `verified`, or `dropped` from any status before
    /// `verified`. `verified` and `dropped` are final.
    pub fn allowed_next(self) -> &'static [ActionStatus] {
        use ActionStatus::*;
        match self {
            Proposed => &[Planned, Dropped],
            Planned => &[InProgress, Dropped],
            InProgress => &[Done, Dropped],
            Done => &[Verified, Dropped],
            Verified | Dropped => &[],
        }
    }

    /// Whether an action may move from this status to `to`.
    pub fn can_move_to(self, to: ActionStatus) -> bool {
        self.allowed_next().contains(&to)
    }

    /// Whether no move leaves this status.
    pub fn is_final(self) -> bool {
        self.allowed_next().is_empty()
    }
}

closed_set!(
    /// The kinds of file `hearken import --kind` takes, one per canonical file.
    RecordKind, "record kind" {
        Customers = 1, "customers", ["customer"],
        Products = 2, "products", ["product"],
        Agents = 3, "agents", ["agent", "employees"],
        Signals = 4, "signals", ["signal"],
        Surveys = 5, "surveys", ["survey", "responses"],
        CaseEvents = 6, "case-events", ["case-event", "events", "caseevents"],
    }
);

impl RecordKind {
    /// The canonical file name the generator writes for this kind.
    pub fn file_name(self) -> &'static str {
        match self {
            RecordKind::Customers => "customers.csv",
            RecordKind::Products => "products.csv",
            RecordKind::Agents => "agents.csv",
            RecordKind::Signals => "signals.csv",
            RecordKind::Surveys => "surveys.csv",
            RecordKind::CaseEvents => "case_events.csv",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_and_codes_round_trip() {
        assert_eq!(
            Channel::parse("channel", " E-Mail ").unwrap(),
            Channel::Email
        );
        assert_eq!(
            Channel::parse("channel", "In Person").unwrap(),
            Channel::InPerson
        );
        assert_eq!(
            SignalKind::parse("kind", "Survey Response").unwrap(),
            SignalKind::SurveyResponse
        );
        for c in Channel::ALL {
            assert_eq!(Channel::from_code(c.code()), Some(*c));
            assert_eq!(Channel::parse("channel", c.as_str()).unwrap(), *c);
        }
        for k in SignalKind::ALL {
            assert_eq!(SignalKind::from_code(k.code()), Some(*k));
        }
        assert_eq!(
            RecordKind::parse("kind", "case-events").unwrap(),
            RecordKind::CaseEvents
        );
    }

    #[test]
    fn action_statuses_move_forward_or_drop_before_verified() {
        use ActionStatus::*;
        let legal = [
            (Proposed, Planned),
            (Planned, InProgress),
            (InProgress, Done),
            (Done, Verified),
            (Proposed, Dropped),
            (Planned, Dropped),
            (InProgress, Dropped),
            (Done, Dropped),
        ];
        for from in ActionStatus::ALL {
            for to in ActionStatus::ALL {
                assert_eq!(
                    from.can_move_to(*to),
                    legal.contains(&(*from, *to)),
                    "{from} -> {to}"
                );
            }
        }
        assert!(Verified.is_final() && Dropped.is_final() && !Done.is_final());
        assert_eq!(
            ActionStatus::parse("status", "In Progress").unwrap(),
            InProgress
        );
        assert_eq!(ActionStatus::from_code(6), Some(Verified));
    }

    #[test]
    fn unknown_values_name_the_choices() {
        let e = Channel::parse("channel", "pigeon").unwrap_err();
        assert_eq!(e.field, "channel");
        assert_eq!(e.value, "pigeon");
        let hint = e.hint.unwrap();
        assert!(
            hint.contains("phone") && hint.contains("in_person"),
            "{hint}"
        );
    }
}
