//! The records a store holds, one struct per kind of row.

use crate::{
    ActionId, ActionStatus, AgentId, CaseId, CesScore, Channel, CsatScore, CustomerId, EventId,
    FieldError, Money, NpsScore, ProductId, Rating, RecordKind, ResponseId, SignalId, SignalKind,
    Source, Timestamp,
};

/// A short name from the organisation's own vocabulary: a segment, persona, team, category,
/// lifecycle stage, topic or activity. Trimmed, non-empty, at most 200 bytes, one line.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Label(Box<str>);

impl Label {
    pub const MAX_LEN: usize = 200;

    pub fn parse(field: &str, value: &str) -> Result<Label, FieldError> {
        let v = value.trim();
        if v.is_empty() {
            return Err(FieldError::new(field, value, "is empty"));
        }
        if v.len() > Self::MAX_LEN {
            return Err(FieldError::new(
                field,
                value,
                format!("is longer than {} bytes", Self::MAX_LEN),
            )
            .with_hint("labels are short names; check the column mapping"));
        }
        if v.chars().any(char::is_control) {
            return Err(FieldError::new(
                field,
                value,
                "contains control characters or line breaks",
            ));
        }
        Ok(Label(v.into()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Free text written by a customer or employee. At most [`Text::MAX_LEN`] bytes; longer text is
/// almost always a broken export, and is quarantined rather than cut.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Text(String);

impl Text {
    /// 1 MiB.
    pub const MAX_LEN: usize = 1 << 20;

    /// Empty (or all-whitespace) text is "no text", not an error.
    pub fn parse(field: &str, value: &str) -> Result<Option<Text>, FieldError> {
        if value.trim().is_empty() {
            return Ok(None);
        }
        if value.len() > Self::MAX_LEN {
            return Err(FieldError::new(
                field,
                value,
                format!(
                    "is {} bytes, more than the {} a text may have",
                    value.len(),
                    Self::MAX_LEN
                ),
            ));
        }
        if value.contains('\0') {
            return Err(FieldError::new(field, value, "contains a NUL byte")
                .with_hint("is this a binary file?"));
        }
        Ok(Some(Text(value.to_string())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The text with personal data replaced by placeholders. Placeholders may be a few bytes
    /// longer than what they replace, so this may pass [`Text::MAX_LEN`] slightly; that is allowed.
    pub fn redacted(replacement: String) -> Text {
        Text(replacement)
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Customer {
    pub id: CustomerId,
    pub name: Option<String>,
    pub segment: Option<Label>,
    pub persona: Option<Label>,
    pub since: Option<Timestamp>,
    pub value_per_year: Option<Money>,
    pub white_glove: bool,
    pub churned_at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Product {
    pub id: ProductId,
    pub name: Option<String>,
    pub category: Option<Label>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Agent {
    pub id: AgentId,
    pub name: Option<String>,
    pub team: Option<Label>,
}

/// One thing a customer or employee told the organisation.
#[derive(Debug, Clone, PartialEq)]
pub struct Signal {
    pub id: Option<SignalId>,
    pub at: Timestamp,
    pub channel: Channel,
    pub kind: SignalKind,
    pub source: Source,
    pub customer: Option<CustomerId>,
    pub product: Option<ProductId>,
    pub case: Option<CaseId>,
    pub agent: Option<AgentId>,
    /// The customer's lifecycle stage when the signal was sent (organisation-defined names).
    pub stage: Option<Label>,
    /// A topic label given by the source (e.g. a helpdesk category).
    pub topic: Option<Label>,
    pub text: Option<Text>,
}

/// One answer to a survey. At least one score is present.
#[derive(Debug, Clone, PartialEq)]
pub struct SurveyResponse {
    pub id: Option<ResponseId>,
    pub at: Timestamp,
    pub customer: Option<CustomerId>,
    pub product: Option<ProductId>,
    pub case: Option<CaseId>,
    pub agent: Option<AgentId>,
    pub channel: Option<Channel>,
    pub nps: Option<NpsScore>,
    pub csat: Option<CsatScore>,
    pub ces: Option<CesScore>,
    pub overall: Option<Rating>,
    /// Satisfaction with named aspects (service, product, price, …), in column order.
    pub aspects: Vec<(Label, Rating)>,
    pub comment: Option<Text>,
}

impl SurveyResponse {
    pub fn has_score(&self) -> bool {
        self.nps.is_some()
            || self.csat.is_some()
            || self.ces.is_some()
            || self.overall.is_some()
            || !self.aspects.is_empty()
    }
}

/// One step in a case's history: a stage entered, an activity done, a comment written.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseEvent {
    pub id: Option<EventId>,
    pub case: CaseId,
    pub at: Timestamp,
    /// The activity or lifecycle stage (the process-mining "concept:name").
    pub activity: Label,
    /// Who did it (the process-mining "org:resource").
    pub agent: Option<AgentId>,
    pub team: Option<Label>,
    pub text: Option<Text>,
    /// The customer the case is for, when the case-event file says so.
    pub customer: Option<CustomerId>,
    /// The product the case is about, when the case-event file says so.
    pub product: Option<ProductId>,
}

/// An improvement action, motivated by topics and signals, owned by a department.
#[derive(Debug, Clone, PartialEq)]
pub struct Action {
    pub id: ActionId,
    pub title: String,
    pub owner_department: Label,
    pub status: ActionStatus,
    pub created_at: Timestamp,
    pub done_at: Option<Timestamp>,
    pub topics: Vec<Label>,
    pub signals: Vec<SignalId>,
}

/// A message telling a customer or employee that their signal led to a change.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    pub action: ActionId,
    pub customer: Option<CustomerId>,
    pub agent: Option<AgentId>,
    pub at: Timestamp,
    pub message: String,
}

/// Any importable row.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    Customer(Customer),
    Product(Product),
    Agent(Agent),
    Signal(Signal),
    Survey(SurveyResponse),
    CaseEvent(CaseEvent),
}

impl Record {
    pub fn kind(&self) -> RecordKind {
        match self {
            Record::Customer(_) => RecordKind::Customers,
            Record::Product(_) => RecordKind::Products,
            Record::Agent(_) => RecordKind::Agents,
            Record::Signal(_) => RecordKind::Signals,
            Record::Survey(_) => RecordKind::Surveys,
            Record::CaseEvent(_) => RecordKind::CaseEvents,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_texts() {
        assert_eq!(Label::parse("segment", " SMB ").unwrap().as_str(), "SMB");
        assert!(Label::parse("segment", "a\nb").is_err());
        assert!(Label::parse("segment", "").is_err());
        assert_eq!(Text::parse("text", "  ").unwrap(), None);
        assert_eq!(
            Text::parse("text", "hi\nthere").unwrap().unwrap().as_str(),
            "hi\nthere"
        );
        let big = "a".repeat(Text::MAX_LEN + 1);
        let e = Text::parse("text", &big).unwrap_err();
        assert!(e.reason.contains("1048577 bytes"), "{e}");
        assert!(e.value.len() < 200);
    }
}
