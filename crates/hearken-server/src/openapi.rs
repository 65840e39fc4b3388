//! The OpenAPI document, generated from the handlers' `#[utoipa::path]` annotations (collected by
//! utoipa-axum's `routes!` as the routes are registered, so a route cannot be served without
//! being described), and the API reference page rendered from it on the server: plain HTML, no
//! script, nothing fetched from elsewhere.

use std::fmt::Write;

use serde_json::Value;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi as Spec, Ref, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use hearken_query::{By, DriverTarget, Metric, Period};

use crate::error::{ErrorBody, ErrorCode};

/// The name of the bearer security scheme in the document.
pub const BEARER: &str = "bearer";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Hearken API",
        description = "Customer signals management: status, tokens, signals, webhooks and every analytic of the `hearken` command. \
Every route but `/health` needs `Authorization: Bearer <token>` (tokens: `hearken tokens create`). \
Errors are JSON `{code, message, hint, request_id}` with the stable codes listed in docs/api-errors.md."
    ),
    // Request enums used by query parameters: utoipa collects the schemas of bodies and answers
    // by itself, not those of parameters.
    components(schemas(ErrorBody, By, Metric, Period, DriverTarget, hearken_query::FlowBy)),
    modifiers(&BearerScheme),
    tags(
        (name = "system", description = "Health, metrics and this description"),
        (name = "store", description = "The store's contents"),
        (name = "tokens", description = "API tokens (admin)"),
        (name = "analytics", description = "Every analytic of the `hearken` command, with the same options: the same JSON as `hearken <analytic> --json`"),
        (name = "signals", description = "Signals one by one: list, search, one by id"),
        (name = "ingest", description = "Live ingestion: rows sent as JSON, stored as `hearken import` stores them, answered once committed"),
        (name = "entities", description = "A customer's profile and timeline, a case with its events"),
        (name = "imports", description = "Past imports (files and live ingestion) with their counts"),
        (name = "webhooks", description = "Inbound webhooks: the registry (admin) and `POST /hooks/{name}`, authenticated by the delivery's signature"),
        (name = "actions", description = "Improvement actions: status moves with their history, links, and the measured effect (the same JSON as `hearken actions ... --json`)"),
    )
)]
pub struct ApiDoc;

struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut Spec) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                Http::builder()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("hk_ + 64 hex digits")
                    .description(Some(
                        "A token from `hearken tokens create` or POST /api/v1/tokens, in the Authorization header only (never in the URL).",
                    ))
                    .build(),
            ),
        );
    }
}

/// Adds the error answers every operation can give, so that clients (and Schemathesis) know
/// their shape: 400 (token in the URL, malformed request), 408/503 (time limit), 413 (body
/// limit), 500 (internal); 401/403 where a token is needed; 404 where the path has parameters;
/// 415/422 where there is a body.
pub fn finish(mut api: Spec) -> Spec {
    for item in api.paths.paths.values_mut() {
        let ops = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
            &mut item.head,
            &mut item.options,
            &mut item.trace,
        ];
        for op in ops.into_iter().flatten() {
            let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
            let has_path_params = op.parameters.as_ref().is_some_and(|ps| {
                ps.iter().any(|p| match p {
                    utoipa::openapi::RefOr::T(p) => {
                        matches!(p.parameter_in, utoipa::openapi::path::ParameterIn::Path)
                    }
                    utoipa::openapi::RefOr::Ref(_) => false,
                })
            });
            let has_body = op.request_body.is_some();
            let mut add = |status: u16, what: &str| {
                op.responses
                    .responses
                    .entry(status.to_string())
                    .or_insert_with(|| error_response(what).into());
            };
            add(
                400,
                "The request is malformed, or carries a token in its URL (`token_in_url`)",
            );
            add(408, "The body did not arrive in time (`request_timeout`)");
            add(413, "The body is over the limit (`body_too_large`)");
            add(
                500,
                "The server failed; the request id names the log lines (`internal`)",
            );
            add(
                503,
                "The answer took too long (`timeout`) or the store is unavailable (`unavailable`)",
            );
            if secured {
                add(
                    401,
                    "No token, or an invalid or revoked one (`missing_token`, `invalid_token`, `revoked_token`)",
                );
                add(403, "The token's role is too low (`forbidden`)");
            }
            if has_path_params {
                add(404, "No such thing (`not_found`)");
            }
            if has_body {
                add(
                    415,
                    "The body is not `application/json` (`unsupported_media_type`)",
                );
                add(
                    422,
                    "The body is not the expected shape, or a value is out of range (`invalid_body`, `invalid_value`)",
                );
            }
        }
    }
    api
}

fn error_response(description: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build()
}

/// The served description: the JSON document and the reference page, rendered once at start.
#[derive(Debug)]
pub struct ApiDocs {
    pub json: String,
    pub html: String,
}

impl ApiDocs {
    pub fn new(api: &Spec) -> ApiDocs {
        let json = api.to_json().unwrap_or_else(|_| "{}".into());
        let value: Value = serde_json::from_str(&json).unwrap_or(Value::Null);
        ApiDocs {
            html: render_html(&value),
            json,
        }
    }
}

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// A schema as a short type text: `TokenView`, `array of TokenView`, `string`.
fn type_text(schema: &Value) -> String {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.rsplit('/').next().unwrap_or(r);
        return format!("<a href=\"#schema-{0}\">{0}</a>", esc(name));
    }
    if let Some(items) = schema.get("items") {
        return format!("array of {}", type_text(items));
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(alts) = schema.get(key).and_then(Value::as_array) {
            return alts.iter().map(type_text).collect::<Vec<_>>().join(" or ");
        }
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        return values
            .iter()
            .map(|v| format!("<code>{}</code>", esc(&v.to_string())))
            .collect::<Vec<_>>()
            .join(" | ");
    }
    match schema.get("type") {
        Some(Value::String(t)) => esc(t),
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .map(esc)
            .collect::<Vec<_>>()
            .join(" or "),
        _ => "any".into(),
    }
}

const STYLE: &str = "body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}\
code,pre{font-family:ui-monospace,monospace;font-size:.9em}h2{border-bottom:1px solid #ccc;margin-top:2.5rem}\
.op{border:1px solid #ddd;border-radius:6px;padding:.5rem 1rem;margin:1rem 0}\
.m{display:inline-block;min-width:4.5rem;font-weight:700}.get{color:#0b6e4f}.post{color:#9a4a00}.delete{color:#a00}\
table{border-collapse:collapse;width:100%;margin:.5rem 0}td,th{border:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:top}";

/// The reference page: every operation with its parameters, body, answers and required token,
/// every schema with its fields, and the error codes.
fn render_html(spec: &Value) -> String {
    let mut h = String::new();
    let title = spec
        .pointer("/info/title")
        .and_then(Value::as_str)
        .unwrap_or("API");
    let version = spec
        .pointer("/info/version")
        .and_then(Value::as_str)
        .unwrap_or("");
    let _ = write!(
        h,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title>\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><style>{STYLE}</style></head><body>\
         <h1>{t} <small>{v}</small></h1><p>{d}</p><p>Machine-readable: <a href=\"/api/openapi.json\">/api/openapi.json</a>.</p>",
        t = esc(title),
        v = esc(version),
        d = esc(spec
            .pointer("/info/description")
            .and_then(Value::as_str)
            .unwrap_or("")),
    );
    h.push_str("<h2>Routes</h2>");
    if let Some(paths) = spec.get("paths").and_then(Value::as_object) {
        for (path, item) in paths {
            for method in ["get", "post", "put", "patch", "delete"] {
                let Some(op) = item.get(method) else { continue };
                let secured = op
                    .get("security")
                    .and_then(Value::as_array)
                    .is_some_and(|s| !s.is_empty());
                let _ = write!(
                    h,
                    "<div class=\"op\" id=\"{id}\"><p><span class=\"m {method}\">{m}</span> <code>{p}</code> — {s}</p>",
                    id = esc(str_of(op, "operationId")),
                    m = method.to_uppercase(),
                    p = esc(path),
                    s = esc(str_of(op, "summary")),
                );
                let desc = str_of(op, "description");
                if !desc.is_empty() {
                    let _ = write!(h, "<p>{}</p>", esc(desc));
                }
                let _ = write!(
                    h,
                    "<p><b>Token:</b> {}</p>",
                    if secured {
                        "<code>Authorization: Bearer</code> (role in the description above)"
                    } else {
                        "none"
                    }
                );
                if let Some(params) = op.get("parameters").and_then(Value::as_array) {
                    h.push_str("<table><tr><th>parameter</th><th>in</th><th>type</th><th>required</th><th>meaning</th></tr>");
                    for p in params {
                        let _ = write!(
                            h,
                            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                            esc(str_of(p, "name")),
                            esc(str_of(p, "in")),
                            p.get("schema").map(type_text).unwrap_or_default(),
                            if p.get("required").and_then(Value::as_bool) == Some(true) {
                                "yes"
                            } else {
                                "no"
                            },
                            esc(str_of(p, "description")),
                        );
                    }
                    h.push_str("</table>");
                }
                if let Some(schema) = op.pointer("/requestBody/content/application~1json/schema") {
                    let _ = write!(h, "<p><b>Body</b> (JSON): {}</p>", type_text(schema));
                }
                if let Some(responses) = op.get("responses").and_then(Value::as_object) {
                    h.push_str("<table><tr><th>status</th><th>meaning</th><th>body</th></tr>");
                    for (status, r) in responses {
                        let body = r
                            .get("content")
                            .and_then(Value::as_object)
                            .and_then(|c| c.iter().next())
                            .map(|(ct, c)| {
                                let t = c.get("schema").map(type_text).unwrap_or_default();
                                format!("{t} <small>({})</small>", esc(ct))
                            })
                            .unwrap_or_default();
                        let _ = write!(
                            h,
                            "<tr><td>{}</td><td>{}</td><td>{body}</td></tr>",
                            esc(status),
                            esc(str_of(r, "description")),
                        );
                    }
                    h.push_str("</table>");
                }
                h.push_str("</div>");
            }
        }
    }
    h.push_str("<h2>Schemas</h2>");
    if let Some(schemas) = spec
        .pointer("/components/schemas")
        .and_then(Value::as_object)
    {
        for (name, s) in schemas {
            let _ = write!(h, "<h3 id=\"schema-{0}\">{0}</h3>", esc(name));
            let d = str_of(s, "description");
            if !d.is_empty() {
                let _ = write!(h, "<p>{}</p>", esc(d));
            }
            let required: Vec<&str> = s
                .get("required")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            match s.get("properties").and_then(Value::as_object) {
                Some(props) => {
                    h.push_str("<table><tr><th>field</th><th>type</th><th>required</th><th>meaning</th></tr>");
                    for (field, p) in props {
                        let _ = write!(
                            h,
                            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
                            esc(field),
                            type_text(p),
                            if required.contains(&field.as_str()) {
                                "yes"
                            } else {
                                "no"
                            },
                            esc(str_of(p, "description")),
                        );
                    }
                    h.push_str("</table>");
                }
                None => {
                    let _ = write!(h, "<p>{}</p>", type_text(s));
                }
            }
        }
    }
    h.push_str("<h2 id=\"errors\">Error codes</h2><table><tr><th>code</th><th>status</th><th>meaning</th><th>default hint</th></tr>");
    for c in ErrorCode::ALL {
        let _ = write!(
            h,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
            c.as_str(),
            c.status().as_u16(),
            esc(c.meaning()),
            esc(c.default_hint())
        );
    }
    h.push_str("</table></body></html>\n");
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The closed sets of the query layer are described by the names clients send and receive
    /// (`tenure-band`, not `TenureBand`).
    #[test]
    fn request_enums_are_described_by_their_wire_names() {
        let (_, api) = crate::routes::router().split_for_parts();
        let spec: Value =
            serde_json::from_str(&finish(api).to_json().expect("json")).expect("the document");
        let names = |schema: &str| -> Vec<String> {
            spec.pointer(&format!("/components/schemas/{schema}/enum"))
                .and_then(Value::as_array)
                .unwrap_or_else(|| panic!("{schema} is an enum in the document"))
                .iter()
                .map(|v| v.as_str().unwrap_or_default().to_string())
                .collect()
        };
        let all = |xs: Vec<&str>| xs.into_iter().map(String::from).collect::<Vec<_>>();
        assert_eq!(
            names("By"),
            all(By::ALL.iter().map(|b| b.as_str()).collect())
        );
        assert_eq!(
            names("Metric"),
            all(Metric::ALL.iter().map(|m| m.as_str()).collect())
        );
        assert_eq!(
            names("Period"),
            all(Period::ALL.iter().map(|p| p.as_str()).collect())
        );
        assert_eq!(
            names("DriverTarget"),
            all(DriverTarget::ALL.iter().map(|t| t.as_str()).collect())
        );
    }

    /// The ranges the document gives for numeric parameters are the ones the query layer enforces.
    #[test]
    fn parameter_ranges_are_the_query_layers() {
        let (_, api) = crate::routes::router().split_for_parts();
        let spec: Value =
            serde_json::from_str(&finish(api).to_json().expect("json")).expect("the document");
        let bound = |path: &str, param: &str, key: &str| -> Option<f64> {
            spec.pointer(&format!(
                "/paths/{}/get/parameters",
                path.replace('/', "~1")
            ))
            .and_then(Value::as_array)
            .and_then(|ps| ps.iter().find(|p| p["name"] == param))
            .unwrap_or_else(|| panic!("{path} has the parameter {param}"))
            .pointer(&format!("/schema/{key}"))
            .and_then(Value::as_f64)
        };
        let max = |path, param| bound(path, param, "maximum");
        assert_eq!(
            max("/api/v1/themes", "k"),
            Some(hearken_query::themes::MAX_K as f64)
        );
        assert_eq!(
            max("/api/v1/themes", "sample"),
            Some(hearken_query::themes::MAX_SAMPLE as f64)
        );
        assert_eq!(
            max("/api/v1/issues", "limit"),
            Some(hearken_query::issues::MAX_LIMIT as f64)
        );
        assert_eq!(
            max("/api/v1/issues", "evidence"),
            Some(hearken_query::issues::MAX_EVIDENCE as f64)
        );
        assert_eq!(
            max("/api/v1/repeats", "days"),
            Some(f64::from(hearken_query::repeats::MAX_DAYS))
        );
        assert_eq!(
            max("/api/v1/pareto", "top"),
            Some(hearken_query::pareto::MAX_TOP as f64)
        );
        assert_eq!(
            max("/api/v1/signals", "limit"),
            Some(hearken_query::signals::MAX_PAGE as f64)
        );
        assert_eq!(max("/api/v1/scores", "bootstrap"), Some(1_000_000.0));
        assert_eq!(
            bound("/api/v1/scores", "level", "exclusiveMaximum"),
            Some(1.0)
        );
    }

    #[test]
    fn html_escapes_and_links_schemas() {
        assert_eq!(
            esc("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        let t = type_text(
            &serde_json::json!({"type": "array", "items": {"$ref": "#/components/schemas/TokenView"}}),
        );
        assert_eq!(t, "array of <a href=\"#schema-TokenView\">TokenView</a>");
    }
}
