//! The canonical fields of each kind of file and the header names that map to them without a
//! mapping file. Matching ignores case and every character that is not a letter or digit, so
//! `Created At`, `created_at` and `createdAt` are one name.

use hearken_model::RecordKind;

#[derive(Debug)]
pub struct FieldSpec {
    pub name: &'static str,
    pub required: bool,
    pub synonyms: &'static [&'static str],
}

const fn f(name: &'static str, required: bool, synonyms: &'static [&'static str]) -> FieldSpec {
    FieldSpec {
        name,
        required,
        synonyms,
    }
}

const CUSTOMERS: &[FieldSpec] = &[
    f(
        "customer_id",
        true,
        &[
            "customer",
            "client_id",
            "account_id",
            "id",
            "customer_number",
        ],
    ),
    f(
        "name",
        false,
        &["customer_name", "full_name", "account_name"],
    ),
    f("segment", false, &["customer_segment", "tier"]),
    f("persona", false, &[]),
    f(
        "customer_since",
        false,
        &["since", "created_at", "signup_date", "start_date"],
    ),
    f(
        "value_per_year",
        false,
        &["annual_value", "arr", "revenue", "yearly_value"],
    ),
    f("white_glove", false, &["vip", "key_account"]),
    f(
        "churned_at",
        false,
        &["churn_date", "cancelled_at", "canceled_at", "end_date"],
    ),
];

const PRODUCTS: &[FieldSpec] = &[
    f(
        "product_id",
        true,
        &["product", "sku", "id", "product_code"],
    ),
    f("name", false, &["product_name"]),
    f(
        "category",
        false,
        &["product_category", "product_line", "family"],
    ),
];

const AGENTS: &[FieldSpec] = &[
    f(
        "agent_id",
        true,
        &["agent", "employee_id", "assignee_id", "id", "user_id"],
    ),
    f("name", false, &["agent_name", "employee_name"]),
    f("team", false, &["group", "department", "org:group"]),
];

const SIGNALS: &[FieldSpec] = &[
    f(
        "signal_id",
        false,
        &["id", "message_id", "interaction_id", "contact_id"],
    ),
    f(
        "at",
        true,
        &[
            "timestamp",
            "created_at",
            "date",
            "time",
            "datetime",
            "received_at",
            "time:timestamp",
        ],
    ),
    f("channel", true, &["via", "medium", "contact_channel"]),
    f("kind", true, &["type", "signal_type", "contact_type"]),
    f("source", false, &["origin", "author_type", "from"]),
    f(
        "customer_id",
        false,
        &[
            "customer",
            "requester_id",
            "requester",
            "client_id",
            "account_id",
        ],
    ),
    f("product_id", false, &["product", "sku", "product_code"]),
    f(
        "case_id",
        false,
        &["case", "ticket", "ticket_id", "case:concept:name"],
    ),
    f(
        "agent_id",
        false,
        &["agent", "assignee", "assignee_id", "owner", "handled_by"],
    ),
    f(
        "stage",
        false,
        &["lifecycle_stage", "lifecycle", "journey_stage"],
    ),
    f(
        "topic",
        false,
        &["category", "contact_reason", "reason", "subject_category"],
    ),
    f(
        "text",
        false,
        &[
            "body",
            "message",
            "comment",
            "description",
            "content",
            "verbatim",
        ],
    ),
];

const SURVEYS: &[FieldSpec] = &[
    f(
        "response_id",
        false,
        &["id", "responseid", "survey_response_id"],
    ),
    f(
        "at",
        true,
        &[
            "recorded_date",
            "end_date",
            "submitted_at",
            "completed_at",
            "date",
            "timestamp",
            "created_at",
        ],
    ),
    f(
        "customer_id",
        false,
        &[
            "customer",
            "client_id",
            "account_id",
            "external_reference",
            "externalreference",
        ],
    ),
    f("product_id", false, &["product", "sku"]),
    f("case_id", false, &["case", "ticket", "ticket_id"]),
    f("agent_id", false, &["agent", "assignee"]),
    f("channel", false, &["via", "contact_channel"]),
    f(
        "nps",
        false,
        &["likelihood_to_recommend", "recommend", "nps_score", "ltr"],
    ),
    f("csat", false, &["csat_score", "customer_satisfaction"]),
    f("ces", false, &["effort", "customer_effort", "ces_score"]),
    f(
        "overall",
        false,
        &["overall_satisfaction", "satisfaction", "osat"],
    ),
    f(
        "comment",
        false,
        &["feedback", "verbatim", "comments", "text", "open_text"],
    ),
];

const CASE_EVENTS: &[FieldSpec] = &[
    f("event_id", false, &["id", "event_index_id"]),
    f(
        "case_id",
        true,
        &["case", "case:concept:name", "ticket_id", "ticket", "caseid"],
    ),
    f(
        "at",
        true,
        &[
            "time:timestamp",
            "timestamp",
            "created_at",
            "date",
            "time",
            "datetime",
        ],
    ),
    f(
        "activity",
        true,
        &["concept:name", "stage", "status", "event", "action"],
    ),
    f(
        "agent_id",
        false,
        &[
            "org:resource",
            "resource",
            "assignee",
            "agent",
            "user",
            "owner",
        ],
    ),
    f("team", false, &["org:group", "group", "department"]),
    f("text", false, &["comment", "body", "note", "message"]),
    // Optional: the case's customer and product (PM4Py-style `case:` columns too).
    f(
        "customer_id",
        false,
        &[
            "customer",
            "case:customer",
            "case:customer_id",
            "requester_id",
            "client_id",
        ],
    ),
    f(
        "product_id",
        false,
        &["product", "case:product", "case:product_id"],
    ),
];

pub fn fields(kind: RecordKind) -> &'static [FieldSpec] {
    match kind {
        RecordKind::Customers => CUSTOMERS,
        RecordKind::Products => PRODUCTS,
        RecordKind::Agents => AGENTS,
        RecordKind::Signals => SIGNALS,
        RecordKind::Surveys => SURVEYS,
        RecordKind::CaseEvents => CASE_EVENTS,
    }
}

/// Index of a field by canonical name.
pub fn slot(kind: RecordKind, name: &str) -> Option<usize> {
    fields(kind).iter().position(|f| f.name == name)
}

/// Folds a header name for matching: lowercase letters and digits only.
pub fn normalise(name: &str) -> String {
    // The usual header or key is ASCII: the same result without Unicode case tables (this runs
    // for every key of every live-ingested row).
    if name.is_ascii() {
        return name
            .bytes()
            .filter(u8::is_ascii_alphanumeric)
            .map(|b| char::from(b.to_ascii_lowercase()))
            .collect();
    }
    normalise_chars(name)
}

fn normalise_chars(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The prefix that marks a survey aspect column (`aspect_service`).
pub const ASPECT_PREFIX: &str = "aspect";

/// The aspect a survey column or key names (`aspect_service` → `service`), if it names one: the
/// header as written after the prefix, or its folded form where the prefix is not a clean cut of
/// it (`Aspect-€Price`). Never slices inside a character: headers are arbitrary text.
pub fn aspect_name(header: &str) -> Option<std::borrow::Cow<'_, str>> {
    let n = normalise(header);
    let rest = n
        .strip_prefix(ASPECT_PREFIX)
        .filter(|r| !r.is_empty())?
        .to_string();
    let written = header
        .trim()
        .get(ASPECT_PREFIX.len()..)
        .map(|s| s.trim_start_matches(['_', '-', ' ', ':']))
        .filter(|s| !s.is_empty());
    Some(written.map_or(std::borrow::Cow::Owned(rest), std::borrow::Cow::Borrowed))
}

/// Which canonical field a header names, if any: the canonical name first, then synonyms (of
/// the fields in order). Looked up in a table folded once per kind: it runs for every column of
/// every file and every key of every JSON request.
pub fn match_header(kind: RecordKind, header: &str) -> Option<usize> {
    static TABLES: std::sync::OnceLock<Vec<std::collections::HashMap<String, usize>>> =
        std::sync::OnceLock::new();
    let h = normalise(header);
    if h.is_empty() {
        return None;
    }
    let tables = TABLES.get_or_init(|| {
        RecordKind::ALL
            .iter()
            .map(|&k| {
                let specs = fields(k);
                let mut table = std::collections::HashMap::new();
                for (i, f) in specs.iter().enumerate() {
                    table.entry(normalise(f.name)).or_insert(i);
                }
                for (i, f) in specs.iter().enumerate() {
                    for s in f.synonyms {
                        table.entry(normalise(s)).or_insert(i);
                    }
                }
                table
            })
            .collect()
    });
    let k = RecordKind::ALL.iter().position(|&k| k == kind)?;
    tables[k].get(&h).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The ASCII shortcut folds as the Unicode rules do.
        #[test]
        fn ascii_headers_fold_as_unicode_ones(name in "[\\x00-\\x7f]{0,40}") {
            proptest::prop_assert_eq!(normalise(&name), normalise_chars(&name));
        }
    }

    /// Found by the `jsonl_rows` fuzz target: a key whose prefix folds to `aspect` but holds a
    /// multi-byte character where the cut would fall (`aspe€ct_price`) panicked on a slice.
    #[test]
    fn an_aspect_header_is_never_cut_inside_a_character() {
        assert_eq!(aspect_name("aspect_price").as_deref(), Some("price"));
        assert_eq!(aspect_name(" Aspect: Service").as_deref(), Some("Service"));
        assert_eq!(aspect_name("aspe€ct_price").as_deref(), Some("price"));
        assert_eq!(aspect_name("aspect"), None);
        assert_eq!(aspect_name("aspect__"), None);
        assert_eq!(aspect_name("price"), None);
        assert_eq!(aspect_name("éaspect_x"), None);
    }

    /// The table answers as the plain search it replaces: the canonical name first, then the
    /// synonyms of the fields in order.
    #[test]
    fn the_table_agrees_with_a_plain_search() {
        let plain = |kind: RecordKind, header: &str| -> Option<usize> {
            let h = normalise(header);
            if h.is_empty() {
                return None;
            }
            let specs = fields(kind);
            specs
                .iter()
                .position(|f| normalise(f.name) == h)
                .or_else(|| {
                    specs
                        .iter()
                        .position(|f| f.synonyms.iter().any(|s| normalise(s) == h))
                })
        };
        for &kind in RecordKind::ALL.iter() {
            for other in RecordKind::ALL.iter() {
                for f in fields(*other) {
                    for name in std::iter::once(&f.name).chain(f.synonyms) {
                        for spelled in [
                            name.to_string(),
                            name.to_uppercase(),
                            name.replace('_', " "),
                        ] {
                            assert_eq!(
                                match_header(kind, &spelled),
                                plain(kind, &spelled),
                                "{kind} {spelled}"
                            );
                        }
                    }
                }
            }
            assert_eq!(match_header(kind, "nothing like it"), None);
            assert_eq!(match_header(kind, " - "), None);
        }
    }
}
