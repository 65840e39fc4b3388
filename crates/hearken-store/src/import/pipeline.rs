//! The reading side of an import: a reading thread parses rows and takes their identity; when texts
//! are enriched, a pool of workers enriches chunks of rows in parallel; the calling (writing)
//! thread receives the chunks in file order.
//!
//! Why a pool: enrichment (sentiment, language, topic model) costs several times the parsing, and
//! on one thread it bounds the import. Chunks carry a sequence number and the writer puts them
//! back in file order, so row order, identity and counts are exactly those of a serial import.
//! Identity is taken on the reading thread, before any enrichment (redaction) touches the text.
//!
//! Memory stays flat: at most `in_flight` chunks exist between the reader and the writer (the
//! reader takes a token per chunk, the writer gives it back once the chunk is written).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::mpsc::{Sender, channel, sync_channel};

use hearken_ingest::{Enricher, IngestError, ParsedRow, RowReader};

use crate::StoreError;
use crate::identity::{Identity, identity};

/// Rows per chunk handed to an enrichment worker: small enough to spread the work evenly over the
/// workers, large enough that the hand-over costs nothing next to enriching it.
const ENRICH_CHUNK: usize = 1024;

/// A row and its identity, computed on the reading thread.
pub(crate) struct Prepared {
    pub row: ParsedRow,
    pub ident: Option<Identity>,
}

/// How the file's reading ended.
pub(crate) struct Finished {
    /// Ignored columns, recognised export formats, and so on.
    pub notes: Vec<String>,
    /// A problem part-way through the file; the rows before it were handed to the writer.
    pub error: Option<IngestError>,
}

type Msg = (u64, Result<Vec<Prepared>, IngestError>);

/// Enrichment workers: one per core (the reader and writer threads mostly wait on them when a
/// topic model is stored).
fn workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().clamp(1, 8))
}

/// Reads every row of `reader`, enriches them with `enrich` when given (on worker threads), and
/// calls `write` on this thread with chunks of rows in file order. Stops at the first error of
/// `write`, which is returned.
pub(crate) fn run(
    mut reader: RowReader,
    enrich: Option<Enricher>,
    batch: usize,
    write: &mut dyn FnMut(&[Prepared]) -> Result<(), StoreError>,
) -> Result<Finished, StoreError> {
    let workers = if enrich.is_some() { workers() } else { 0 };
    // Without enrichment the reader hands whole batches straight to the writer.
    let chunk = if workers > 0 {
        ENRICH_CHUNK.min(batch)
    } else {
        batch
    };
    let in_flight = (4 * batch).div_ceil(chunk).max(4);
    std::thread::scope(|s| -> Result<Finished, StoreError> {
        let (tokens_tx, tokens_rx) = sync_channel::<()>(in_flight);
        let (done_tx, done_rx) = channel::<Msg>();
        // Written chunks go back to the reading thread to be freed where they were allocated:
        // cross-thread frees contend on the allocator's locks.
        let (back_tx, back_rx) = channel::<Vec<Prepared>>();
        let out: Sender<Msg> = match &enrich {
            Some(enrich) if workers > 0 => {
                let (work_tx, work_rx) = channel::<Msg>();
                let work_rx = std::sync::Arc::new(Mutex::new(work_rx));
                for i in 0..workers {
                    let (work_rx, done_tx, enrich) =
                        (work_rx.clone(), done_tx.clone(), enrich.clone());
                    std::thread::Builder::new()
                        .name(format!("hearken-enrich-{i}"))
                        .spawn_scoped(s, move || {
                            loop {
                                let next = match work_rx.lock() {
                                    Ok(rx) => rx.recv(),
                                    Err(_) => break,
                                };
                                let Ok((seq, mut body)) = next else { break };
                                if let Ok(rows) = &mut body {
                                    for p in rows.iter_mut() {
                                        if let Ok(record) = p.row.record.as_mut() {
                                            p.row.enriched = (enrich.0)(record);
                                        }
                                    }
                                }
                                if done_tx.send((seq, body)).is_err() {
                                    break;
                                }
                            }
                        })?;
                }
                work_tx
            }
            _ => done_tx.clone(),
        };
        // Only the reader and the workers hold senders now: the writer's loop ends when they end.
        drop(done_tx);
        let handle = std::thread::Builder::new()
            .name("hearken-read".into())
            .spawn_scoped(s, move || {
                let mut seq = 0u64;
                let mut sent = 0usize;
                loop {
                    while let Ok(done) = back_rx.try_recv() {
                        drop(done);
                    }
                    // Blocks while `in_flight` chunks wait; fails once the writer has stopped.
                    if tokens_tx.send(()).is_err() {
                        break;
                    }
                    // Chunks never straddle a batch, so transactions hold whole batches.
                    let want = chunk.min(batch - sent % batch);
                    let mut rows = Vec::with_capacity(want);
                    let mut failure = None;
                    while rows.len() < want {
                        match reader.next_row() {
                            Ok(Some(row)) => {
                                // Identity is the source row's, taken before enrichment
                                // (redaction) rewrites its text.
                                let ident = row.record.as_ref().ok().map(identity);
                                rows.push(Prepared { row, ident });
                            }
                            Ok(None) => break,
                            Err(e) => {
                                failure = Some(e);
                                break;
                            }
                        }
                    }
                    let last = rows.len() < want;
                    sent += rows.len();
                    if !rows.is_empty() {
                        if out.send((seq, Ok(rows))).is_err() {
                            break;
                        }
                        seq += 1;
                    }
                    if let Some(e) = failure {
                        if tokens_tx.send(()).is_ok() {
                            let _ = out.send((seq, Err(e)));
                        }
                        break;
                    }
                    if last {
                        break;
                    }
                }
                reader.notes()
            })?;

        let mut result = Ok(());
        let mut error = None;
        let mut waiting: BTreeMap<u64, Result<Vec<Prepared>, IngestError>> = BTreeMap::new();
        let mut next = 0u64;
        'receive: for (seq, body) in &done_rx {
            waiting.insert(seq, body);
            while let Some(body) = waiting.remove(&next) {
                next += 1;
                // Its token was sent before the chunk was, so it is there to take back.
                let _ = tokens_rx.try_recv();
                match body {
                    Ok(rows) => {
                        if let Err(e) = write(&rows) {
                            result = Err(e);
                            break 'receive;
                        }
                        let _ = back_tx.send(rows);
                    }
                    Err(e) => {
                        error = Some(e);
                        break 'receive;
                    }
                }
            }
        }
        // Dropping the receivers stops the reader and the workers if we stopped early.
        drop(done_rx);
        drop(tokens_rx);
        drop(waiting);
        let notes = handle.join().map_err(|_| StoreError::ReaderGone)?;
        result.map(|()| Finished { notes, error })
    })
}

/// What an import writes its rows with: the SQLite store's writer or PostgreSQL's. Both write
/// a batch's rows in one transaction when it is full and count what they wrote.
pub(crate) trait BatchWriter {
    /// Writes `rows`; the counts of the batch when it was committed by them.
    fn write_rows(&mut self, rows: &[Prepared]) -> Result<Option<crate::ImportCounts>, StoreError>;
    /// Commits the rows of the open batch; its counts, if it held any.
    fn commit(&mut self) -> Result<Option<crate::ImportCounts>, StoreError>;
    /// Drops the rows of the open batch.
    fn rollback(&mut self);
    /// Rows skipped per reason (committed batches), most first.
    fn skipped_reasons(&self) -> Vec<crate::SkipCount>;
}

/// Rows skipped per reason, most first (then by reason).
pub(crate) fn sorted_skips<'a>(
    skips: impl Iterator<Item = (&'a std::sync::Arc<str>, &'a u64)>,
) -> Vec<crate::SkipCount> {
    let mut out: Vec<crate::SkipCount> = skips
        .map(|(reason, rows)| crate::SkipCount {
            reason: reason.to_string(),
            rows: *rows,
        })
        .collect();
    out.sort_by(|a, b| b.rows.cmp(&a.rows).then(a.reason.cmp(&b.reason)));
    out
}

/// An import's reading and writing: every row of `reader` through [`run`] into `writer`, the
/// rows after the last full batch committed too (also when the file stopped part-way), the
/// open batch rolled back on a failure. `committed` is called with the running total after each
/// committed batch. Returns how the reading ended and the total counts.
pub(crate) fn import_rows(
    reader: RowReader,
    enrich: Option<Enricher>,
    batch: usize,
    writer: &mut dyn BatchWriter,
    committed: &mut dyn FnMut(&crate::ImportCounts),
) -> Result<(Finished, crate::ImportCounts), StoreError> {
    let mut total = crate::ImportCounts::default();
    let finished = run(reader, enrich, batch, &mut |rows| {
        if let Some(c) = writer.write_rows(rows)? {
            total.add(&c);
            committed(&total);
        }
        Ok(())
    })
    .and_then(|f| {
        if let Some(c) = writer.commit()? {
            total.add(&c);
        }
        Ok(f)
    });
    match finished {
        Ok(f) => Ok((f, total)),
        Err(e) => {
            writer.rollback();
            Err(e)
        }
    }
}
