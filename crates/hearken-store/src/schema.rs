//! Versioned migrations. `PRAGMA user_version` holds the schema version; each migration runs in
//! its own transaction, so a crash mid-migration leaves the previous version intact.
//!
//! Times are INTEGER seconds since the Unix epoch (UTC). Channel, kind, source and action status
//! are the model's stable one-byte codes. Every imported row remembers the import and the line it
//! came from; `row_hash` is a hash of its content, used to tell a re-import (same hash) from a
//! conflicting row (same id, other content). A customer, product, agent or case referenced before
//! it is imported is created as a stub (`row_hash IS NULL`) and filled in when its own row arrives.

pub const MIGRATIONS: &[&str] = &[
    // 1: the foundation.
    r#"
CREATE TABLE imports (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    file TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    finished_at INTEGER,
    read INTEGER NOT NULL DEFAULT 0,
    stored INTEGER NOT NULL DEFAULT 0,
    duplicates INTEGER NOT NULL DEFAULT 0,
    quarantined INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX imports_fingerprint ON imports(fingerprint);

CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    ext_id TEXT NOT NULL UNIQUE,
    name TEXT,
    segment TEXT,
    persona TEXT,
    since INTEGER,
    value_per_year REAL CHECK (value_per_year IS NULL OR value_per_year >= 0),
    white_glove INTEGER NOT NULL DEFAULT 0 CHECK (white_glove IN (0, 1)),
    churned_at INTEGER,
    row_hash INTEGER,
    import_id INTEGER REFERENCES imports(id),
    line INTEGER
);

CREATE TABLE products (
    id INTEGER PRIMARY KEY,
    ext_id TEXT NOT NULL UNIQUE,
    name TEXT,
    category TEXT,
    row_hash INTEGER,
    import_id INTEGER REFERENCES imports(id),
    line INTEGER
);

CREATE TABLE agents (
    id INTEGER PRIMARY KEY,
    ext_id TEXT NOT NULL UNIQUE,
    name TEXT,
    team TEXT,
    row_hash INTEGER,
    import_id INTEGER REFERENCES imports(id),
    line INTEGER
);

CREATE TABLE cases (
    id INTEGER PRIMARY KEY,
    ext_id TEXT NOT NULL UNIQUE
);

CREATE TABLE signals (
    id INTEGER PRIMARY KEY,
    ext_id TEXT NOT NULL UNIQUE,
    at INTEGER NOT NULL,
    channel INTEGER NOT NULL CHECK (channel BETWEEN 1 AND 9),
    kind INTEGER NOT NULL CHECK (kind BETWEEN 1 AND 7),
    source INTEGER NOT NULL CHECK (source IN (1, 2)),
    customer_id INTEGER REFERENCES customers(id),
    product_id INTEGER REFERENCES products(id),
    case_id INTEGER REFERENCES cases(id),
    agent_id INTEGER REFERENCES agents(id),
    stage TEXT,
    topic TEXT,
    text TEXT,
    row_hash INTEGER NOT NULL,
    import_id INTEGER NOT NULL REFERENCES imports(id),
    line INTEGER NOT NULL
);

CREATE TABLE surveys (
    id INTEGER PRIMARY KEY,
    ext_id TEXT NOT NULL UNIQUE,
    at INTEGER NOT NULL,
    customer_id INTEGER REFERENCES customers(id),
    product_id INTEGER REFERENCES products(id),
    case_id INTEGER REFERENCES cases(id),
    agent_id INTEGER REFERENCES agents(id),
    channel INTEGER CHECK (channel IS NULL OR channel BETWEEN 1 AND 9),
    nps INTEGER CHECK (nps IS NULL OR nps BETWEEN 0 AND 10),
    csat INTEGER CHECK (csat IS NULL OR csat BETWEEN 1 AND 5),
    ces INTEGER CHECK (ces IS NULL OR ces BETWEEN 1 AND 7),
    overall REAL CHECK (overall IS NULL OR overall BETWEEN 0 AND 10),
    comment TEXT,
    row_hash INTEGER NOT NULL,
    import_id INTEGER NOT NULL REFERENCES imports(id),
    line INTEGER NOT NULL
);

CREATE TABLE survey_aspects (
    survey_id INTEGER NOT NULL REFERENCES surveys(id),
    aspect TEXT NOT NULL,
    rating REAL NOT NULL CHECK (rating BETWEEN 0 AND 10),
    PRIMARY KEY (survey_id, aspect)
) WITHOUT ROWID;

CREATE TABLE case_events (
    id INTEGER PRIMARY KEY,
    ext_id TEXT NOT NULL UNIQUE,
    case_id INTEGER NOT NULL REFERENCES cases(id),
    at INTEGER NOT NULL,
    activity TEXT NOT NULL,
    agent_id INTEGER REFERENCES agents(id),
    team TEXT,
    text TEXT,
    row_hash INTEGER NOT NULL,
    import_id INTEGER NOT NULL REFERENCES imports(id),
    line INTEGER NOT NULL
);

CREATE TABLE quarantine (
    id INTEGER PRIMARY KEY,
    import_id INTEGER NOT NULL REFERENCES imports(id),
    kind TEXT NOT NULL,
    file TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    line INTEGER NOT NULL,
    field TEXT,
    value TEXT,
    reason TEXT NOT NULL,
    raw TEXT,
    UNIQUE (fingerprint, kind, line)
);

-- Closed loop: improvement actions, what motivated them, and who was told.
CREATE TABLE actions (
    id INTEGER PRIMARY KEY,
    ext_id TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    owner_department TEXT NOT NULL,
    status INTEGER NOT NULL CHECK (status BETWEEN 1 AND 5),
    created_at INTEGER NOT NULL,
    done_at INTEGER
);
CREATE TABLE action_topics (
    action_id INTEGER NOT NULL REFERENCES actions(id),
    topic TEXT NOT NULL,
    PRIMARY KEY (action_id, topic)
) WITHOUT ROWID;
-- Signals (complaints, employee suggestions, ...) that motivated an action.
CREATE TABLE action_signals (
    action_id INTEGER NOT NULL REFERENCES actions(id),
    signal_id INTEGER NOT NULL REFERENCES signals(id),
    PRIMARY KEY (action_id, signal_id)
) WITHOUT ROWID;
CREATE TABLE notifications (
    id INTEGER PRIMARY KEY,
    action_id INTEGER NOT NULL REFERENCES actions(id),
    customer_id INTEGER REFERENCES customers(id),
    agent_id INTEGER REFERENCES agents(id),
    at INTEGER NOT NULL,
    message TEXT NOT NULL
);
"#,
    // 2: text understanding at import. Sentiment is VADER's compound score (NULL: no text, or not
    // English); language an ISO 639-1 code; redactions the count of personal data replaced.
    r#"
ALTER TABLE signals ADD COLUMN sentiment REAL CHECK (sentiment IS NULL OR sentiment BETWEEN -1 AND 1);
ALTER TABLE signals ADD COLUMN language TEXT;
ALTER TABLE signals ADD COLUMN redactions INTEGER NOT NULL DEFAULT 0;
ALTER TABLE surveys ADD COLUMN comment_sentiment REAL CHECK (comment_sentiment IS NULL OR comment_sentiment BETWEEN -1 AND 1);
ALTER TABLE surveys ADD COLUMN comment_language TEXT;
ALTER TABLE surveys ADD COLUMN redactions INTEGER NOT NULL DEFAULT 0;
ALTER TABLE case_events ADD COLUMN sentiment REAL CHECK (sentiment IS NULL OR sentiment BETWEEN -1 AND 1);
ALTER TABLE case_events ADD COLUMN language TEXT;
ALTER TABLE case_events ADD COLUMN redactions INTEGER NOT NULL DEFAULT 0;
"#,
    // 3: topic models, versioned: every training adds a version; the newest of a name is used.
    r#"
CREATE TABLE topic_models (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    labels INTEGER NOT NULL,
    examples INTEGER NOT NULL,
    bytes BLOB NOT NULL,
    UNIQUE (name, version)
);
"#,
    // 4: topics predicted by the organisation's topic model, at import or by `topics classify`.
    r#"
ALTER TABLE signals ADD COLUMN predicted_topic TEXT;
ALTER TABLE signals ADD COLUMN topic_probability REAL;
"#,
    // 5: the columnar snapshot the engine reads (see snapshot.rs), and generation counters that
    // tell it when rows were rewritten in place (`topics classify`).
    r#"
CREATE TABLE snapshot_parts (
    part TEXT PRIMARY KEY,
    key TEXT NOT NULL,
    last_id INTEGER NOT NULL,
    rows INTEGER NOT NULL,
    format INTEGER NOT NULL
);
CREATE TABLE snapshot_chunks (
    part TEXT NOT NULL,
    col TEXT NOT NULL,
    chunk INTEGER NOT NULL,
    rows INTEGER NOT NULL,
    min_at INTEGER,
    max_at INTEGER,
    data BLOB NOT NULL,
    PRIMARY KEY (part, col, chunk)
);
CREATE TABLE store_generations (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
"#,
    // 6: the import's promises on real files. Rows a mapping rule skips are counted per import
    // and reason. Quarantine entries belong to the import that found them (one per row read,
    // keyed by the row's ordinal, so two rows can never share an entry) and are closed rather
    // than overwritten or deleted: when the row's id is later stored ('stored'), when the same
    // file is imported again ('superseded'), or by `hearken quarantine clear` ('cleared', the
    // clearing recorded with who, when and how many). An import records its process, so a
    // running import can be told from a killed one, and whether it came from `hearken demo`.
    r#"
ALTER TABLE imports ADD COLUMN skipped INTEGER NOT NULL DEFAULT 0;
ALTER TABLE imports ADD COLUMN pid INTEGER;
ALTER TABLE imports ADD COLUMN host TEXT;
ALTER TABLE imports ADD COLUMN heartbeat_at INTEGER;
ALTER TABLE imports ADD COLUMN source TEXT;
ALTER TABLE imports ADD COLUMN demo INTEGER NOT NULL DEFAULT 0 CHECK (demo IN (0, 1));

CREATE TABLE import_skips (
    import_id INTEGER NOT NULL REFERENCES imports(id),
    reason TEXT NOT NULL,
    rows INTEGER NOT NULL,
    PRIMARY KEY (import_id, reason)
) WITHOUT ROWID;

CREATE TABLE quarantine_clearings (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    by TEXT NOT NULL,
    import_id INTEGER REFERENCES imports(id),
    entries INTEGER NOT NULL
);

CREATE TABLE quarantine_v6 (
    id INTEGER PRIMARY KEY,
    import_id INTEGER NOT NULL REFERENCES imports(id),
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    file TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    line INTEGER NOT NULL,
    field TEXT,
    value TEXT,
    reason TEXT NOT NULL,
    raw TEXT,
    ext_key TEXT,
    resolved_at INTEGER,
    resolution TEXT CHECK (resolution IS NULL OR resolution IN ('stored', 'superseded', 'cleared')),
    resolved_by INTEGER,
    UNIQUE (import_id, seq)
);
INSERT INTO quarantine_v6 (id, import_id, seq, kind, file, fingerprint, line, field, value, reason, raw)
    SELECT id, import_id, id, kind, file, fingerprint, line, field, value, reason, raw FROM quarantine;
DROP TABLE quarantine;
ALTER TABLE quarantine_v6 RENAME TO quarantine;
CREATE INDEX quarantine_open ON quarantine(kind, fingerprint) WHERE resolved_at IS NULL;
CREATE INDEX quarantine_open_key ON quarantine(kind, ext_key) WHERE resolved_at IS NULL AND ext_key IS NOT NULL;

CREATE TABLE store_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"#,
    // 7: the customer and product of a case event, when the case-event file names them (flow
    // groups and filters cases by them; otherwise they come from the case's signals).
    r#"
ALTER TABLE case_events ADD COLUMN customer_id INTEGER REFERENCES customers(id);
ALTER TABLE case_events ADD COLUMN product_id INTEGER REFERENCES products(id);
"#,
    // 8: API tokens (tokens.rs): only the SHA-256 of each token and 8 hex digits to find its row; a
    // name is unique among active tokens; revoked rows stay for the record. Scope rows limit a
    // token to customer segments and agent teams.
    r#"
CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('viewer', 'analyst', 'admin')),
    lookup TEXT NOT NULL,
    hash BLOB NOT NULL CHECK (length(hash) = 32),
    created_at INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at INTEGER
);
CREATE INDEX api_tokens_lookup ON api_tokens(lookup);
CREATE UNIQUE INDEX api_tokens_active_name ON api_tokens(name) WHERE revoked_at IS NULL;
CREATE TABLE api_token_scopes (
    token_id INTEGER NOT NULL REFERENCES api_tokens(id),
    kind TEXT NOT NULL CHECK (kind IN ('segment', 'team')),
    value TEXT NOT NULL,
    PRIMARY KEY (token_id, kind, value)
) WITHOUT ROWID;
"#,
    // 9: lookups of one customer or one case (the query layer's `customer`, `customer_timeline`
    // and `case`, read_entities.rs): a customer's signals, survey responses and case events, and
    // a case's events, signals and survey responses, without a scan of the table. Partial where
    // most rows have no value.
    r#"
CREATE INDEX signals_customer ON signals(customer_id) WHERE customer_id IS NOT NULL;
CREATE INDEX surveys_customer ON surveys(customer_id) WHERE customer_id IS NOT NULL;
CREATE INDEX signals_case ON signals(case_id) WHERE case_id IS NOT NULL;
CREATE INDEX surveys_case ON surveys(case_id) WHERE case_id IS NOT NULL;
CREATE INDEX case_events_case ON case_events(case_id);
CREATE INDEX case_events_customer ON case_events(customer_id) WHERE customer_id IS NOT NULL;
"#,
    // 10: inbound webhooks (webhooks.rs): the hooks, with their signing secret (HMAC needs it in
    // clear; erased when the hook is removed) and mapping text; a name is unique among the hooks
    // not removed. The deliveries already stored, by the sender's id, until they expire.
    r#"
CREATE TABLE webhooks (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    format TEXT NOT NULL CHECK (format IN ('standard', 'zendesk')),
    kind TEXT NOT NULL CHECK (kind IN ('signals', 'case-events')),
    secret TEXT NOT NULL,
    mapping_name TEXT,
    mapping TEXT,
    created_at INTEGER NOT NULL,
    removed_at INTEGER
);
CREATE UNIQUE INDEX webhooks_active_name ON webhooks(name) WHERE removed_at IS NULL;
CREATE TABLE webhook_deliveries (
    webhook_id INTEGER NOT NULL REFERENCES webhooks(id),
    delivery_id TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (webhook_id, delivery_id)
) WITHOUT ROWID;
CREATE INDEX webhook_deliveries_expiry ON webhook_deliveries(expires_at);
"#,
    // 11: live ingestion (import/ingest.rs). Rows sent to the API are recorded as imports, one
    // per sender, kind and UTC day, with the sender (an API token's name) in `who`. An
    // idempotency key of a sender maps to the request it first came with (a hash of its kind and
    // body) and that request's result: a retry returns the result and stores nothing. Keys
    // expire after a number of days (`created_at`).
    r#"
ALTER TABLE imports ADD COLUMN who TEXT;
CREATE TABLE ingest_keys (
    who TEXT NOT NULL,
    key TEXT NOT NULL,
    request TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    import_id INTEGER NOT NULL REFERENCES imports(id),
    result TEXT NOT NULL,
    PRIMARY KEY (who, key)
) WITHOUT ROWID;
CREATE INDEX ingest_keys_created ON ingest_keys(created_at);
"#,
    // 12 (issue 13): risk models, versioned like topic models (every training adds a version;
    // the newest is used), with the horizon, the date the churn history ends and the held-out
    // quality; and customer-focus self-assessments, one row per unit and date (a later import of
    // the same unit and date replaces it), with the questionnaire they answered.
    r#"
CREATE TABLE risk_models (
    version INTEGER PRIMARY KEY,
    created_at INTEGER NOT NULL,
    horizon_days INTEGER NOT NULL,
    trained_until INTEGER NOT NULL,
    learner TEXT NOT NULL,
    examples INTEGER NOT NULL,
    churners INTEGER NOT NULL,
    held_out_auc REAL,
    bytes BLOB NOT NULL
);
CREATE TABLE assessments (
    id INTEGER PRIMARY KEY,
    unit TEXT NOT NULL,
    date TEXT NOT NULL,
    questionnaire TEXT NOT NULL,
    questionnaire_version INTEGER NOT NULL,
    answers TEXT NOT NULL,
    imported_at INTEGER NOT NULL,
    UNIQUE (unit, date)
);
"#,
    // 13 (issue 11): the closed loop (actions.rs, outbox.rs). The action tables of migration 1 were never
    // written by any command; they are rebuilt with what the loop needs, keeping any rows.
    // Actions: a status of the model's codes (6: verified), the date the current status was
    // reached, the metric it should move; links to topics, signals, customers, products,
    // segments, stages and suggestions (an employee's signal), each with who added it; every
    // change in `action_history` with who made it and the date it took effect. Suggestions: an
    // employee's signal, reviewed (`suggestion_reviews`, append-only; the newest row is the
    // state). Notifications: one per action and person (`recipient_key`), written in the
    // transaction that moves the action to done; `outbox` one delivery per notification and
    // channel, claimed with a lease, with every attempt in `outbox_attempts`. Endpoints that
    // answered 410 are disabled in `outbox_endpoints`; e-mail addresses of customers and
    // employees (by their ids as imported) in `recipient_addresses`.
    r#"
CREATE TABLE actions_v13 (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    description TEXT,
    owner TEXT,
    status INTEGER NOT NULL CHECK (status BETWEEN 1 AND 6),
    status_at INTEGER NOT NULL,
    metric TEXT,
    planned_for INTEGER,
    done_at INTEGER,
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);
INSERT INTO actions_v13 (id, title, owner, status, status_at, done_at, created_at, created_by, updated_at)
    SELECT id, title, owner_department, status, coalesce(done_at, created_at), done_at, created_at,
        'unknown', created_at FROM actions;
CREATE TABLE action_links (
    action_id INTEGER NOT NULL REFERENCES actions_v13(id),
    kind TEXT NOT NULL CHECK (kind IN ('topic', 'signal', 'customer', 'product', 'segment', 'stage', 'suggestion')),
    value TEXT NOT NULL,
    ref_id INTEGER,
    added_at INTEGER NOT NULL,
    added_by TEXT NOT NULL,
    PRIMARY KEY (action_id, kind, value)
) WITHOUT ROWID;
INSERT INTO action_links (action_id, kind, value, ref_id, added_at, added_by)
    SELECT action_id, 'topic', topic, NULL, 0, 'unknown' FROM action_topics;
INSERT INTO action_links (action_id, kind, value, ref_id, added_at, added_by)
    SELECT a.action_id, 'signal', s.ext_id, s.id, 0, 'unknown'
    FROM action_signals a JOIN signals s ON s.id = a.signal_id;
CREATE INDEX action_links_ref ON action_links(kind, ref_id) WHERE ref_id IS NOT NULL;
CREATE TABLE action_history (
    id INTEGER PRIMARY KEY,
    action_id INTEGER NOT NULL REFERENCES actions_v13(id),
    recorded_at INTEGER NOT NULL,
    at INTEGER NOT NULL,
    who TEXT NOT NULL,
    change TEXT NOT NULL,
    from_value TEXT,
    to_value TEXT
);
CREATE INDEX action_history_action ON action_history(action_id, id);
CREATE TABLE suggestion_reviews (
    id INTEGER PRIMARY KEY,
    signal_id INTEGER NOT NULL REFERENCES signals(id),
    state TEXT NOT NULL CHECK (state IN ('received', 'under_review', 'declined')),
    reason TEXT,
    at INTEGER NOT NULL,
    who TEXT NOT NULL
);
CREATE INDEX suggestion_reviews_signal ON suggestion_reviews(signal_id, id);
DROP TABLE notifications;
DROP TABLE action_signals;
DROP TABLE action_topics;
DROP TABLE actions;
ALTER TABLE actions_v13 RENAME TO actions;
CREATE TABLE notifications (
    id INTEGER PRIMARY KEY,
    action_id INTEGER NOT NULL REFERENCES actions(id),
    recipient TEXT NOT NULL CHECK (recipient IN ('customer', 'employee')),
    recipient_key TEXT NOT NULL,
    customer_id INTEGER REFERENCES customers(id),
    agent_id INTEGER REFERENCES agents(id),
    signal_id INTEGER REFERENCES signals(id),
    message_id TEXT NOT NULL UNIQUE,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (action_id, recipient_key)
);
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    notification_id INTEGER NOT NULL REFERENCES notifications(id),
    channel TEXT NOT NULL CHECK (channel IN ('webhook', 'email')),
    target TEXT,
    state TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'no_address', 'disabled')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at INTEGER NOT NULL,
    lease_owner TEXT,
    lease_until INTEGER,
    last_code INTEGER,
    last_error TEXT,
    sent_at INTEGER,
    created_at INTEGER NOT NULL,
    UNIQUE (notification_id, channel)
);
CREATE INDEX outbox_due ON outbox(state, next_at);
CREATE TABLE outbox_attempts (
    id INTEGER PRIMARY KEY,
    outbox_id INTEGER NOT NULL REFERENCES outbox(id),
    started_at INTEGER NOT NULL,
    finished_at INTEGER,
    owner TEXT NOT NULL,
    outcome TEXT,
    code INTEGER,
    error TEXT
);
CREATE INDEX outbox_attempts_outbox ON outbox_attempts(outbox_id, id);
CREATE TABLE outbox_endpoints (
    url TEXT PRIMARY KEY,
    disabled_at INTEGER,
    reason TEXT
) WITHOUT ROWID;
CREATE TABLE recipient_addresses (
    kind TEXT NOT NULL CHECK (kind IN ('customer', 'employee')),
    ext_id TEXT NOT NULL,
    email TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (kind, ext_id)
) WITHOUT ROWID;
"#,
    // 14 (issue 12): scheduled delivery of the weekly report (outbox.rs, `enqueue_report`).
    // Notifications get a `kind` (`action.done`, or `report.weekly` with no action and the
    // recipient `report`) and an optional HTML body (the report page, sent as the e-mail's HTML
    // part). `report_sends` records each report handed to the outbox: one per configured
    // recipient (by name), week and round; round 0 is the scheduled (or first) send, so the
    // unique key makes a second enqueue of the same week impossible, whatever process or tick
    // tries; `hearken report send --again` adds round 1, 2, .... Rebuilt with foreign keys off
    // (the migration runner turns them off and checks them before committing), keeping every row
    // and id, so `outbox.notification_id` still points at the same notifications.
    r#"
CREATE TABLE notifications_v14 (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL DEFAULT 'action.done' CHECK (kind IN ('action.done', 'report.weekly')),
    action_id INTEGER REFERENCES actions(id),
    recipient TEXT NOT NULL CHECK (recipient IN ('customer', 'employee', 'report')),
    recipient_key TEXT NOT NULL,
    customer_id INTEGER REFERENCES customers(id),
    agent_id INTEGER REFERENCES agents(id),
    signal_id INTEGER REFERENCES signals(id),
    message_id TEXT NOT NULL UNIQUE,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    html TEXT,
    payload TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (action_id, recipient_key),
    CHECK ((kind = 'action.done') = (action_id IS NOT NULL)),
    CHECK ((kind = 'report.weekly') = (recipient = 'report'))
);
INSERT INTO notifications_v14 (id, kind, action_id, recipient, recipient_key, customer_id, agent_id,
        signal_id, message_id, subject, body, payload, created_at)
    SELECT id, 'action.done', action_id, recipient, recipient_key, customer_id, agent_id,
        signal_id, message_id, subject, body, payload, created_at FROM notifications;
DROP TABLE notifications;
ALTER TABLE notifications_v14 RENAME TO notifications;
CREATE TABLE report_sends (
    id INTEGER PRIMARY KEY,
    recipient TEXT NOT NULL,
    week TEXT NOT NULL,
    round INTEGER NOT NULL CHECK (round >= 0),
    scope TEXT NOT NULL,
    empty INTEGER NOT NULL CHECK (empty IN (0, 1)),
    how TEXT NOT NULL CHECK (how IN ('schedule', 'send', 'again')),
    who TEXT NOT NULL,
    notification_id INTEGER NOT NULL UNIQUE REFERENCES notifications(id),
    created_at INTEGER NOT NULL,
    UNIQUE (recipient, week, round)
);
"#,
];

/// The schema version this build writes.
pub fn current_version() -> i64 {
    MIGRATIONS.len() as i64
}
