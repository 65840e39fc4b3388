use std::fmt;

use crate::FieldError;

/// Longest identifier accepted. Source systems use UUIDs, ticket numbers and e-mail-like keys;
/// anything longer is almost certainly a mis-mapped text column.
pub const MAX_ID_LEN: usize = 256;

/// An identifier from a source system: trimmed, non-empty, at most [`MAX_ID_LEN`] bytes and free
/// of control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ExtId(Box<str>);

impl ExtId {
    pub fn parse(field: &str, value: &str) -> Result<ExtId, FieldError> {
        let v = value.trim();
        if v.is_empty() {
            return Err(
                FieldError::new(field, value, "is empty").with_hint("every row needs an id")
            );
        }
        if v.len() > MAX_ID_LEN {
            return Err(FieldError::new(
                field,
                value,
                format!(
                    "is {} bytes long, more than the {MAX_ID_LEN} an id may have",
                    v.len()
                ),
            )
            .with_hint("check the column mapping: this looks like a text column"));
        }
        if v.chars().any(char::is_control) {
            return Err(FieldError::new(field, value, "contains control characters"));
        }
        Ok(ExtId(v.into()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ExtId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub ExtId);

        impl $name {
            pub fn parse(field: &str, value: &str) -> Result<$name, FieldError> {
                ExtId::parse(field, value).map($name)
            }
            pub fn as_str(&self) -> &str {
                self.0.as_str()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// A customer's id in the organisation's CRM.
    CustomerId
);
id_type!(
    /// A product or service's id.
    ProductId
);
id_type!(
    /// An agent's (employee's) id.
    AgentId
);
id_type!(
    /// A case (ticket) id in the helpdesk.
    CaseId
);
id_type!(
    /// A signal's id in its source system.
    SignalId
);
id_type!(
    /// A survey response's id in the survey tool.
    ResponseId
);
id_type!(
    /// A case event's id in the helpdesk.
    EventId
);
id_type!(
    /// An improvement action's id.
    ActionId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_trimmed_and_validated() {
        assert_eq!(
            CustomerId::parse("customer_id", "  C-1 ").unwrap().as_str(),
            "C-1"
        );
        let e = CustomerId::parse("customer_id", "   ").unwrap_err();
        assert_eq!(e.field, "customer_id");
        assert!(e.reason.contains("empty"));
        let long = "x".repeat(MAX_ID_LEN + 1);
        let e = CaseId::parse("case_id", &long).unwrap_err();
        assert!(e.reason.contains("257 bytes"), "{e}");
        assert!(e.value.len() < 200, "long values are shortened in messages");
        assert!(AgentId::parse("agent_id", "a\u{0}b").is_err());
    }
}
