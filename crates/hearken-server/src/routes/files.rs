//! Files in and out (analyst): `POST /api/v1/imports` takes a file's bytes and imports them as
//! `hearken import` does (the same reader, enrichment, dedupe and quarantine, recorded as an
//! import), and `GET /api/v1/export/{what}` streams rows or an analytic's table as CSV, JSON
//! Lines or Parquet (hearken-export), honouring the token's data scope.
//!
//! An export is prepared first (every refusal answered with its code before a byte is sent),
//! then written on a blocking thread of the read pool into a channel that the response body
//! drains: an export of any size holds about one chunk in memory, and a client that goes away
//! stops the writing.

use std::io::Write;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hearken_export::{AnalyticRequest, CsvOptions, Dataset, ExportError, ExportRequest, Format};
use hearken_model::RecordKind;
use hearken_query::Scope;
use hearken_store::{ImportReport, ImportSettings};
use serde::de::DeserializeOwned;
use tokio::sync::{mpsc, oneshot};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Analyst, Auth};
use crate::error::{AppError, ErrorBody, ErrorCode};
use crate::extract::{Json, Path};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(upload))
        .routes(routes!(export))
}

/// Bytes sent to the client at a time.
const CHUNK: usize = 64 * 1024;
/// Chunks waiting for a slow client, at most (the writer waits beyond).
const CHUNKS_QUEUED: usize = 16;
/// Longest upload file name.
const MAX_NAME: usize = 128;

/// The query string's pairs, `%`-decoded.
fn pairs(raw: Option<&str>) -> Result<Vec<(String, String)>, AppError> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(raw.unwrap_or_default())
        .map_err(|e| AppError::new(ErrorCode::InvalidQuery, format!("the query string: {e}")))
}

/// Deserialises `T` from the pairs not named in `skip` (as the analytics routes read theirs).
fn rest<T: DeserializeOwned>(pairs: &[(String, String)], skip: &[&str]) -> Result<T, AppError> {
    let kept: Vec<&(String, String)> = pairs
        .iter()
        .filter(|(k, _)| !skip.contains(&k.as_str()))
        .collect();
    let text = serde_urlencoded::to_string(&kept)
        .map_err(|e| AppError::new(ErrorCode::InvalidQuery, format!("the query string: {e}")))?;
    serde_urlencoded::from_str(&text).map_err(|e| {
        AppError::new(
            ErrorCode::InvalidQuery,
            format!("Failed to deserialize query string: {e}"),
        )
    })
}

fn one<'a>(pairs: &'a [(String, String)], name: &str) -> Result<Option<&'a str>, AppError> {
    let mut found = pairs.iter().filter(|(k, _)| k == name);
    let first = found.next().map(|(_, v)| v.as_str());
    if found.next().is_some() {
        return Err(AppError::new(
            ErrorCode::InvalidQuery,
            format!("`{name}` is given twice: give it once"),
        ));
    }
    Ok(first)
}

/// A name for an uploaded file: letters, digits, `.`, `_`, `-`, not starting with a dot, at most
/// 128 characters, with an extension the reader knows. No path survives it.
fn upload_name(given: Option<&str>) -> Result<String, AppError> {
    let name = given.unwrap_or("upload.csv");
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if !ok {
        return Err(AppError::new(
            ErrorCode::InvalidValue,
            "`filename` must be 1 to 128 letters, digits, '.', '_' or '-', not starting with '.' (no directories)",
        )
        .with_hint("give the file's own name, e.g. filename=tickets-2024-05.csv"));
    }
    let lower = name.to_ascii_lowercase();
    let known = [".csv", ".tsv", ".txt", ".jsonl", ".ndjson", ".json", ".xes"];
    let base = lower.strip_suffix(".gz").unwrap_or(&lower);
    if !known.iter().any(|e| base.ends_with(e)) {
        return Err(AppError::new(
            ErrorCode::InvalidValue,
            format!("`filename` '{name}' has no extension the importer reads"),
        )
        .with_hint("end it in .csv, .tsv, .jsonl, .json or .xes, optionally .gz"));
    }
    Ok(name.to_string())
}

fn record_kind(name: Option<&str>) -> Result<RecordKind, AppError> {
    let kinds = [
        ("customers", RecordKind::Customers),
        ("products", RecordKind::Products),
        ("agents", RecordKind::Agents),
        ("signals", RecordKind::Signals),
        ("surveys", RecordKind::Surveys),
        ("case-events", RecordKind::CaseEvents),
    ];
    let known = || kinds.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ");
    match name {
        None => Err(AppError::new(
            ErrorCode::InvalidQuery,
            format!("give `kind`: one of {}", known()),
        )),
        Some(n) => kinds
            .iter()
            .find(|(k, _)| *k == n)
            .map(|(_, k)| *k)
            .ok_or_else(|| {
                AppError::new(
                    ErrorCode::InvalidQuery,
                    format!("`kind` '{n}' is not one of {}", known()),
                )
            }),
    }
}

/// Import a file, as `hearken import` does (analyst)
///
/// The body is the file's bytes (CSV, TSV, JSON Lines, JSON, XES; optionally gzip), at most
/// `[server] body_limit_bytes`. `kind` says what it holds, `filename` its name (its extension
/// tells the format). Rows are read, enriched, deduplicated and quarantined as the command does,
/// and recorded as an import (`GET /api/v1/imports`). The answer is the import's report, the
/// document `hearken import --json` prints. Mappings are not taken over HTTP: import such files
/// with the command.
#[utoipa::path(post, path = "/api/v1/imports", tag = "imports", operation_id = "upload_import",
    params(
        ("kind" = String, Query, description = "customers, products, agents, signals, surveys or case-events"),
        ("filename" = Option<String>, Query, description = "The file's name, e.g. tickets.csv (letters, digits, '.', '_', '-'; default upload.csv)"),
    ),
    request_body(content = String, description = "The file's bytes", content_type = "application/octet-stream"),
    responses(
        (status = 201, description = "Imported: the import's report", body = Object),
        (status = 400, description = "A bad `kind` (`invalid_query`)", body = ErrorBody),
        (status = 413, description = "Larger than `[server] body_limit_bytes` (`body_too_large`)", body = ErrorBody),
        (status = 422, description = "A bad `filename` (`invalid_value`), or a file the importer cannot read (`invalid_body`)", body = ErrorBody),
    ),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
async fn upload(
    auth: Auth<Analyst>,
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Result<(StatusCode, Json<ImportReport>), AppError> {
    let q = pairs(query.as_deref())?;
    if let Some((k, _)) = q
        .iter()
        .find(|(k, _)| !["kind", "filename"].contains(&k.as_str()))
    {
        return Err(AppError::new(
            ErrorCode::InvalidQuery,
            format!("unknown parameter `{k}`: this route takes `kind` and `filename`"),
        ));
    }
    let kind = record_kind(one(&q, "kind")?)?;
    let name = upload_name(one(&q, "filename")?)?;
    let text = state.ingestor().text();
    let report = auth
        .db()
        .write
        .run(move |store| {
            // The file is written where only this request sees it, imported by its path as
            // the command imports it, and removed.
            let dir = std::env::temp_dir()
                .join(format!("hearken-upload-{}", crate::request_id::generate()));
            std::fs::create_dir(&dir)
                .map_err(|e| AppError::internal(format!("cannot make {}: {e}", dir.display())))?;
            let path = dir.join(&name);
            let out = std::fs::write(&path, &body)
                .map_err(|e| AppError::internal(format!("cannot write {}: {e}", path.display())))
                .and_then(|()| {
                    let opts = hearken_enrich::read_options(store, kind, None, text).map_err(
                        |e| match e {
                            hearken_enrich::EnrichError::Store(s) => AppError::from(s),
                            other => AppError::failed(
                                ErrorCode::TopicModelError,
                                "the store's topic model cannot be read",
                                other,
                            ),
                        },
                    )?;
                    store
                        .import_file_with(&path, &opts, &ImportSettings::default(), &mut |_| {})
                        .map_err(|e| match e {
                            hearken_store::StoreError::Ingest(e) => AppError::new(
                                ErrorCode::InvalidBody,
                                e.to_string().replace(&dir.display().to_string(), ""),
                            ),
                            other => AppError::from(other),
                        })
                });
            let _ = std::fs::remove_dir_all(&dir);
            out
        })
        .await?;
    tracing::info!(
        by = %auth.principal.name,
        import = report.import_id,
        read = report.counts.read,
        stored = report.counts.stored,
        "file imported over HTTP"
    );
    Ok((StatusCode::CREATED, Json(report)))
}

/// What `{what}` of an export names.
fn export_request(what: &str, q: &[(String, String)]) -> Result<ExportRequest, AppError> {
    let skip = ["format"];
    if let Ok(dataset) = what.parse::<Dataset>() {
        return Ok(ExportRequest::Rows {
            dataset,
            filters: rest(q, &skip)?,
        });
    }
    let a = match what {
        "scores" => AnalyticRequest::Scores(rest(q, &skip)?),
        "pareto" => AnalyticRequest::Pareto(rest(q, &skip)?),
        "drivers" => AnalyticRequest::Drivers(rest(q, &skip)?),
        "trends" => AnalyticRequest::Trends(rest(q, &skip)?),
        "repeats" => AnalyticRequest::Repeats(rest(q, &skip)?),
        "issues" => AnalyticRequest::Issues(rest(q, &skip)?),
        "themes" => AnalyticRequest::Themes(rest(q, &skip)?),
        other => {
            return Err(AppError::not_found(format!(
                "'{other}' cannot be exported: export signals, surveys, case-events, customers or {}",
                AnalyticRequest::NAMES.join(", ")
            )));
        }
    };
    Ok(ExportRequest::Analytic(a))
}

fn export_error(e: ExportError) -> AppError {
    match e {
        ExportError::Query(q) => q.into(),
        ExportError::OutOfScope { .. } => AppError::new(ErrorCode::OutOfScope, e.to_string())
            .with_hint(e.hint().unwrap_or_default()),
        ExportError::FormatUnavailable(_) => AppError::new(ErrorCode::InvalidQuery, e.to_string())
            .with_hint(e.hint().unwrap_or_default()),
        other => AppError::internal(other),
    }
}

/// A `Write` that sends what is written, in chunks, to the response body.
struct ChannelWriter {
    tx: mpsc::Sender<Result<Bytes, std::io::Error>>,
    buf: Vec<u8>,
}

impl ChannelWriter {
    fn send(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.tx.blocking_send(Ok(chunk)).map_err(|_| {
            std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client went away")
        })
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}

/// Stream an export: rows or an analytic's table, as CSV, JSON Lines or Parquet (analyst)
///
/// `{what}`: `signals`, `surveys`, `case-events`, `customers` (filters `from`, `to`, `segment`,
/// `product`, `channel`, `agent`, `team`, and for signals `kind`, `topic`; a filter an export
/// cannot honour is refused), or an analytic (`scores`, `pareto`, `drivers`, `trends`,
/// `repeats`, `issues`, `themes`, with the analytic route's parameters). `format`: `csv`
/// (default), `jsonl` or `parquet`. A scoped token exports only its slice. The same file as
/// `hearken export WHAT --format F ...`.
#[utoipa::path(get, path = "/api/v1/export/{what}", tag = "imports", operation_id = "export",
    params(
        ("what" = String, Path, description = "signals, surveys, case-events, customers, scores, pareto, drivers, trends, repeats, issues or themes"),
        ("format" = Option<String>, Query, description = "csv (default), jsonl or parquet"),
    ),
    responses(
        (status = 200, description = "The file, streamed", content(
            (String = "text/csv"),
            (String = "application/x-ndjson"),
            (Vec<u8> = "application/vnd.apache.parquet"),
        )),
        (status = 400, description = "A filter or option the export cannot honour", body = ErrorBody),
        (status = 403, description = "A filter outside the token's scope (`out_of_scope`)", body = ErrorBody),
        (status = 404, description = "Nothing of that name exports (`not_found`)", body = ErrorBody),
    ),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all, fields(what = %what))]
async fn export(
    auth: Auth<Analyst>,
    Path(what): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let q = pairs(query.as_deref())?;
    let format = match one(&q, "format")? {
        None => Format::Csv,
        Some(f) => f.parse::<Format>().map_err(|_| {
            AppError::new(
                ErrorCode::InvalidQuery,
                format!("`format` '{f}' is not one of csv, jsonl, parquet"),
            )
        })?,
    };
    let req = export_request(&what, &q)?;
    let scope = Scope::from(&auth.principal.scope);
    let (tx, rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(CHUNKS_QUEUED);
    let (ready_tx, ready_rx) = oneshot::channel::<Result<Vec<String>, AppError>>();
    let pool = Arc::clone(&auth.db().read);
    let span = tracing::Span::current();
    let task = async move {
        let result = pool
            .run(move |store| {
                let prepared = match hearken_export::prepare(store, &scope, &req) {
                    Ok(p) => p,
                    Err(e) => {
                        let _ = ready_tx.send(Err(export_error(e)));
                        return Ok(());
                    }
                };
                if !format.is_available() {
                    let _ =
                        ready_tx.send(Err(export_error(ExportError::FormatUnavailable(format))));
                    return Ok(());
                }
                if ready_tx.send(Ok(prepared.notes().to_vec())).is_err() {
                    return Ok(());
                }
                let mut out = ChannelWriter {
                    tx: tx.clone(),
                    buf: Vec::with_capacity(CHUNK),
                };
                match prepared.write(store, format, &mut out, CsvOptions::default()) {
                    Ok(summary) => {
                        tracing::info!(rows = summary.rows, "export streamed");
                    }
                    Err(ExportError::Io(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                        tracing::info!("export stopped: the client went away");
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "export failed while streaming");
                        // Ends the body with an error: the client sees a cut-off transfer.
                        let _ = tx.blocking_send(Err(std::io::Error::other(e.to_string())));
                    }
                }
                Ok(())
            })
            .await;
        if let Err(e) = result {
            tracing::error!(error = %e, "export task failed");
        }
    };
    tokio::spawn(tracing::Instrument::instrument(task, span));
    let notes = ready_rx.await.unwrap_or_else(|_| {
        Err(AppError::internal(
            "the export task stopped before starting",
        ))
    })?;
    let stream = futures_stream(rx);
    let mut res = Body::from_stream(stream).into_response();
    let headers: &mut HeaderMap = res.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"{}.{}\"",
        what,
        format.extension()
    )) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    if !notes.is_empty() {
        let text: String = notes
            .join(" | ")
            .chars()
            .map(|c| {
                if c.is_ascii() && !c.is_ascii_control() {
                    c
                } else {
                    '?'
                }
            })
            .collect();
        if let Ok(v) = HeaderValue::from_str(&text) {
            headers.insert("x-hearken-notes", v);
        }
    }
    Ok(res)
}

/// The receiver as a stream of body chunks.
fn futures_stream(
    mut rx: mpsc::Receiver<Result<Bytes, std::io::Error>>,
) -> impl futures_core::Stream<Item = Result<Bytes, std::io::Error>> + Send {
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}
