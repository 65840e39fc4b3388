//! Columnar frames: what the store hands the engine.
//!
//! One `Vec` per column, all of a frame's columns the same length. Repeated strings (customers,
//! products, topics, …) are dictionary-coded into dense `u32` codes; [`NONE`] marks a missing
//! value. Codes index the frame's [`Dict`]s, so a group-by is an array index, not a hash lookup.

/// The code of a missing dictionary value.
pub const NONE: u32 = u32::MAX;

/// Code -> name for one dictionary-coded column.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dict {
    pub names: Vec<String>,
}

impl Dict {
    pub fn len(&self) -> usize {
        self.names.len()
    }
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
    pub fn name(&self, code: u32) -> Option<&str> {
        self.names.get(code as usize).map(String::as_str)
    }
}

/// Signals in a window. `channel`, `kind` and `source` hold the model's stable codes
/// (`Channel::code()` …). `sentiment` is the VADER compound score, NaN when not scored.
#[derive(Debug, Clone, Default)]
pub struct SignalFrame {
    /// The store's id of each signal, to look the signal up again (evidence); often not loaded.
    pub id: Vec<i64>,
    pub at: Vec<i64>,
    pub channel: Vec<u8>,
    pub kind: Vec<u8>,
    pub source: Vec<u8>,
    /// Codes into [`SignalFrame::customers`].
    pub customer: Vec<u32>,
    pub product: Vec<u32>,
    pub agent: Vec<u32>,
    pub case: Vec<u32>,
    pub stage: Vec<u32>,
    pub topic: Vec<u32>,
    pub sentiment: Vec<f32>,
    pub customers: Dict,
    pub products: Dict,
    pub agents: Dict,
    pub cases: Dict,
    pub stages: Dict,
    pub topics: Dict,
}

impl SignalFrame {
    /// Rows in the frame. A frame may be loaded with only the columns a computation needs (the
    /// others empty), so this is the length of its longest column.
    pub fn len(&self) -> usize {
        [
            self.id.len(),
            self.at.len(),
            self.channel.len(),
            self.kind.len(),
            self.source.len(),
            self.customer.len(),
            self.product.len(),
            self.agent.len(),
            self.case.len(),
            self.stage.len(),
            self.topic.len(),
            self.sentiment.len(),
        ]
        .into_iter()
        .max()
        .unwrap_or(0)
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Survey responses in a window. Missing scores: `u8::MAX` for the integer scales, NaN for
/// ratings.
#[derive(Debug, Clone, Default)]
pub struct SurveyFrame {
    pub at: Vec<i64>,
    pub customer: Vec<u32>,
    pub product: Vec<u32>,
    pub agent: Vec<u32>,
    /// The case the response is about (codes are the store's `cases` row ids - 1); often not
    /// loaded.
    pub case: Vec<u32>,
    /// Channel code, 0 when not given.
    pub channel: Vec<u8>,
    pub nps: Vec<u8>,
    pub csat: Vec<u8>,
    pub ces: Vec<u8>,
    pub overall: Vec<f32>,
    /// One column per aspect, by name, in a stable order.
    pub aspects: Vec<(String, Vec<f32>)>,
    pub customers: Dict,
    pub products: Dict,
    pub agents: Dict,
}

impl SurveyFrame {
    /// Rows in the frame: the length of its longest column (see [`SignalFrame::len`]).
    pub fn len(&self) -> usize {
        [
            self.at.len(),
            self.customer.len(),
            self.product.len(),
            self.agent.len(),
            self.case.len(),
            self.channel.len(),
            self.nps.len(),
            self.csat.len(),
            self.ces.len(),
            self.overall.len(),
        ]
        .into_iter()
        .chain(self.aspects.iter().map(|(_, v)| v.len()))
        .max()
        .unwrap_or(0)
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Customer attributes, indexed by the same codes as a frame's `customers` dictionary.
/// `since` and `churned_at` are `i64::MIN` when unknown; `value_per_year` NaN when unknown.
#[derive(Debug, Clone, Default)]
pub struct CustomerFrame {
    pub segment: Vec<u32>,
    pub persona: Vec<u32>,
    pub since: Vec<i64>,
    pub value_per_year: Vec<f64>,
    pub white_glove: Vec<bool>,
    pub churned_at: Vec<i64>,
    pub segments: Dict,
    pub personas: Dict,
}

/// Agent attributes, indexed by the same codes as a frame's `agents` dictionary: the team of
/// each agent ([`NONE`] when unknown), so a per-team view is `keys::via(&f.agent, &a.team,
/// &a.teams)`.
#[derive(Debug, Clone, Default)]
pub struct AgentFrame {
    pub team: Vec<u32>,
    pub teams: Dict,
}

fn pick<T: Copy>(v: &[T], rows: &[usize]) -> Vec<T> {
    rows.iter().filter_map(|&r| v.get(r).copied()).collect()
}

impl SignalFrame {
    /// The frame restricted to `rows` (indices into this frame), dictionaries shared.
    pub fn select(&self, rows: &[usize]) -> SignalFrame {
        SignalFrame {
            id: pick(&self.id, rows),
            at: pick(&self.at, rows),
            channel: pick(&self.channel, rows),
            kind: pick(&self.kind, rows),
            source: pick(&self.source, rows),
            customer: pick(&self.customer, rows),
            product: pick(&self.product, rows),
            agent: pick(&self.agent, rows),
            case: pick(&self.case, rows),
            stage: pick(&self.stage, rows),
            topic: pick(&self.topic, rows),
            sentiment: pick(&self.sentiment, rows),
            ..self.clone_dicts()
        }
    }

    fn clone_dicts(&self) -> SignalFrame {
        SignalFrame {
            customers: self.customers.clone(),
            products: self.products.clone(),
            agents: self.agents.clone(),
            cases: self.cases.clone(),
            stages: self.stages.clone(),
            topics: self.topics.clone(),
            ..SignalFrame::default()
        }
    }
}

impl SurveyFrame {
    /// The frame restricted to `rows` (indices into this frame), dictionaries shared.
    pub fn select(&self, rows: &[usize]) -> SurveyFrame {
        SurveyFrame {
            at: pick(&self.at, rows),
            customer: pick(&self.customer, rows),
            product: pick(&self.product, rows),
            agent: pick(&self.agent, rows),
            case: pick(&self.case, rows),
            channel: pick(&self.channel, rows),
            nps: pick(&self.nps, rows),
            csat: pick(&self.csat, rows),
            ces: pick(&self.ces, rows),
            overall: pick(&self.overall, rows),
            aspects: self
                .aspects
                .iter()
                .map(|(n, v)| (n.clone(), pick(v, rows)))
                .collect(),
            customers: self.customers.clone(),
            products: self.products.clone(),
            agents: self.agents.clone(),
        }
    }
}
