//! One row's values, by canonical field, into a validated [`Record`].

use std::borrow::Cow;

use hearken_model::{
    Agent, AgentId, CaseEvent, CaseId, CesScore, Channel, CsatScore, Customer, CustomerId,
    DateOptions, EventId, FieldError, Label, Money, NpsScore, NumberFormat, Product, ProductId,
    Rating, Record, RecordKind, ResponseId, Signal, SignalId, SignalKind, Source, SurveyResponse,
    Text, Timestamp, canonical_number, parse_bool, parse_number,
};

use crate::RowError;
use crate::fields::fields;

/// The values of one row, one per canonical field of its kind (see [`crate::fields`]), plus any
/// survey aspects. `None` or an all-blank value means "not given".
#[derive(Debug, Default)]
pub struct RowValues<'a> {
    pub slots: Vec<Option<Cow<'a, str>>>,
    /// Survey aspects: name, value, and whether the value is a JSON number.
    pub aspects: Vec<(Label, Cow<'a, str>, bool)>,
    /// Bit `i` set: slot `i` holds a JSON number, which is read as written (it has no
    /// thousands separator and its decimal point is a point whatever the file's format).
    pub native: u64,
}

struct Row<'r, 'a> {
    kind: RecordKind,
    values: &'r RowValues<'a>,
    date: &'r DateOptions,
    numbers: &'r NumberFormat,
}

/// Reads a number by the file's format and hands its canonical form to a scale's parser; an
/// error shows the value as the file wrote it.
fn scaled<T>(
    field: &str,
    value: &str,
    native: bool,
    numbers: &NumberFormat,
    parse: impl Fn(&str, &str) -> Result<T, FieldError>,
) -> Result<T, FieldError> {
    let canonical = if native {
        value.trim().to_string()
    } else {
        canonical_number(parse_number(field, value, numbers)?)
    };
    parse(field, &canonical).map_err(|e| FieldError {
        value: FieldError::new(field, value, "").value,
        ..e
    })
}

/// A money amount: currency symbols around the number are dropped.
fn money(
    field: &str,
    value: &str,
    native: bool,
    numbers: &NumberFormat,
) -> Result<Money, FieldError> {
    let v = value
        .trim()
        .trim_start_matches(['$', '€', '£'])
        .trim_end_matches(['$', '€', '£'])
        .trim();
    let v = v
        .strip_prefix("EUR")
        .or_else(|| v.strip_prefix("USD"))
        .or_else(|| v.strip_prefix("GBP"))
        .or_else(|| v.strip_suffix("EUR"))
        .or_else(|| v.strip_suffix("USD"))
        .or_else(|| v.strip_suffix("GBP"))
        .unwrap_or(v);
    scaled(field, v, native, numbers, Money::parse).map_err(|e| FieldError {
        value: FieldError::new(field, value, "").value,
        ..e
    })
}

impl Row<'_, '_> {
    /// The value of a field, trimmed; None when absent or blank.
    fn opt(&self, i: usize) -> Option<&str> {
        self.values
            .slots
            .get(i)?
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
    }

    fn name(&self, i: usize) -> &'static str {
        fields(self.kind)[i].name
    }

    fn req(&self, i: usize) -> Result<&str, FieldError> {
        self.opt(i)
            .ok_or_else(|| FieldError::new(self.name(i), "", "is required but empty"))
    }

    fn time(&self, i: usize) -> Result<Timestamp, FieldError> {
        Timestamp::parse(self.name(i), self.req(i)?, self.date)
    }

    fn opt_time(&self, i: usize) -> Result<Option<Timestamp>, FieldError> {
        self.opt(i)
            .map(|v| Timestamp::parse(self.name(i), v, self.date))
            .transpose()
    }

    fn opt_with<T>(
        &self,
        i: usize,
        f: impl Fn(&str, &str) -> Result<T, FieldError>,
    ) -> Result<Option<T>, FieldError> {
        self.opt(i).map(|v| f(self.name(i), v)).transpose()
    }

    /// Free text keeps its inner whitespace, so it is read untrimmed.
    fn text(&self, i: usize) -> Result<Option<Text>, FieldError> {
        match self.values.slots.get(i).and_then(|v| v.as_deref()) {
            Some(v) => Text::parse(self.name(i), v),
            None => Ok(None),
        }
    }

    fn plain(&self, i: usize) -> Option<String> {
        self.opt(i).map(str::to_string)
    }

    /// A number on a scale (NPS, CSAT, CES, rating), read by the file's number format.
    fn score<T>(
        &self,
        i: usize,
        parse: impl Fn(&str, &str) -> Result<T, FieldError>,
    ) -> Result<Option<T>, FieldError> {
        let native = self.values.native & (1 << i) != 0;
        self.opt(i)
            .map(|v| scaled(self.name(i), v, native, self.numbers, &parse))
            .transpose()
    }

    fn money(&self, i: usize) -> Result<Option<Money>, FieldError> {
        let native = self.values.native & (1 << i) != 0;
        self.opt(i)
            .map(|v| money(self.name(i), v, native, self.numbers))
            .transpose()
    }
}

/// Converts one row. The first invalid field is reported.
pub fn convert(
    kind: RecordKind,
    values: &RowValues<'_>,
    date: &DateOptions,
    numbers: &NumberFormat,
    line: u64,
) -> Result<Record, RowError> {
    let row = Row {
        kind,
        values,
        date,
        numbers,
    };
    let record = match kind {
        RecordKind::Customers => customer(&row),
        RecordKind::Products => product(&row),
        RecordKind::Agents => agent(&row),
        RecordKind::Signals => signal(&row),
        RecordKind::Surveys => survey(&row),
        RecordKind::CaseEvents => case_event(&row),
    };
    record.map_err(|e| RowError::from_field(line, e))
}

fn customer(r: &Row<'_, '_>) -> Result<Record, FieldError> {
    Ok(Record::Customer(Customer {
        id: CustomerId::parse(r.name(0), r.req(0)?)?,
        name: r.plain(1),
        segment: r.opt_with(2, Label::parse)?,
        persona: r.opt_with(3, Label::parse)?,
        since: r.opt_time(4)?,
        value_per_year: r.money(5)?,
        white_glove: r.opt_with(6, parse_bool)?.unwrap_or(false),
        churned_at: r.opt_time(7)?,
    }))
}

fn product(r: &Row<'_, '_>) -> Result<Record, FieldError> {
    Ok(Record::Product(Product {
        id: ProductId::parse(r.name(0), r.req(0)?)?,
        name: r.plain(1),
        category: r.opt_with(2, Label::parse)?,
    }))
}

fn agent(r: &Row<'_, '_>) -> Result<Record, FieldError> {
    Ok(Record::Agent(Agent {
        id: AgentId::parse(r.name(0), r.req(0)?)?,
        name: r.plain(1),
        team: r.opt_with(2, Label::parse)?,
    }))
}

fn signal(r: &Row<'_, '_>) -> Result<Record, FieldError> {
    Ok(Record::Signal(Signal {
        id: r.opt_with(0, SignalId::parse)?,
        at: r.time(1)?,
        channel: Channel::parse(r.name(2), r.req(2)?)?,
        kind: SignalKind::parse(r.name(3), r.req(3)?)?,
        source: r.opt_with(4, Source::parse)?.unwrap_or(Source::Customer),
        customer: r.opt_with(5, CustomerId::parse)?,
        product: r.opt_with(6, ProductId::parse)?,
        case: r.opt_with(7, CaseId::parse)?,
        agent: r.opt_with(8, AgentId::parse)?,
        stage: r.opt_with(9, Label::parse)?,
        topic: r.opt_with(10, Label::parse)?,
        text: r.text(11)?,
    }))
}

fn survey(r: &Row<'_, '_>) -> Result<Record, FieldError> {
    let mut aspects = Vec::with_capacity(r.values.aspects.len());
    for (name, value, native) in &r.values.aspects {
        let v = value.trim();
        if !v.is_empty() {
            let field = format!("aspect_{}", name.as_str());
            aspects.push((
                name.clone(),
                scaled(&field, v, *native, r.numbers, Rating::parse)?,
            ));
        }
    }
    let s = SurveyResponse {
        id: r.opt_with(0, ResponseId::parse)?,
        at: r.time(1)?,
        customer: r.opt_with(2, CustomerId::parse)?,
        product: r.opt_with(3, ProductId::parse)?,
        case: r.opt_with(4, CaseId::parse)?,
        agent: r.opt_with(5, AgentId::parse)?,
        channel: r.opt_with(6, Channel::parse)?,
        nps: r.score(7, NpsScore::parse)?,
        csat: r.score(8, CsatScore::parse)?,
        ces: r.score(9, CesScore::parse)?,
        overall: r.score(10, Rating::parse)?,
        aspects,
        comment: r.text(11)?,
    };
    if !s.has_score() {
        return Err(FieldError::new(
            "nps",
            "",
            "is empty, as are csat, ces, overall and every aspect",
        )
        .with_hint("a survey response needs at least one score"));
    }
    Ok(Record::Survey(s))
}

fn case_event(r: &Row<'_, '_>) -> Result<Record, FieldError> {
    Ok(Record::CaseEvent(CaseEvent {
        id: r.opt_with(0, EventId::parse)?,
        case: CaseId::parse(r.name(1), r.req(1)?)?,
        at: r.time(2)?,
        activity: Label::parse(r.name(3), r.req(3)?)?,
        agent: r.opt_with(4, AgentId::parse)?,
        team: r.opt_with(5, Label::parse)?,
        text: r.text(6)?,
        customer: r.opt_with(7, CustomerId::parse)?,
        product: r.opt_with(8, ProductId::parse)?,
    }))
}
