//! Background checkpoints during an import and live ingestion: committed WAL frames are copied
//! into the database file on a second connection and thread while the writer goes on, so the
//! checkpoint at the end of an import only copies the last batches instead of the whole file, and
//! a live ingestion group's commit does not wait for a checkpoint.
//!
//! Passive checkpoints never block the writer and are as crash-safe as any checkpoint: a killed
//! process leaves a WAL that is replayed on the next open.

use std::path::Path;
use std::sync::mpsc::{Sender, channel};
use std::thread::JoinHandle;

use rusqlite::{Connection, OpenFlags};

/// Commits between two checkpoints: each copies about this many batches of pages, and a page the
/// next batches rewrite (the right edge of a b-tree) is copied again, so not after every commit.
const EVERY: u32 = 3;

pub(crate) struct Checkpointer {
    tx: Option<Sender<()>>,
    handle: Option<JoinHandle<()>>,
    commits: u32,
}

impl Checkpointer {
    /// Starts the checkpointing thread on its own connection to `path`. When that connection
    /// cannot be opened, the import runs without it (the final checkpoint copies everything).
    pub(crate) fn start(path: &Path) -> Checkpointer {
        let idle = Checkpointer {
            tx: None,
            handle: None,
            commits: 0,
        };
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = match Connection::open_with_flags(path, flags) {
            Ok(c) => c,
            Err(e) => {
                tracing::debug!(error = %e, "no background checkpoints");
                return idle;
            }
        };
        let (tx, rx) = channel::<()>();
        let handle = std::thread::Builder::new()
            .name("hearken-checkpoint".into())
            .spawn(move || {
                while rx.recv().is_ok() {
                    // Requests that came in meanwhile are served by this one checkpoint.
                    while rx.try_recv().is_ok() {}
                    if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
                    {
                        tracing::debug!(error = %e, "background checkpoint failed");
                    }
                }
            });
        match handle {
            Ok(h) => Checkpointer {
                tx: Some(tx),
                handle: Some(h),
                commits: 0,
            },
            Err(_) => idle,
        }
    }

    /// Called after every commit of the import (or of a live ingestion group).
    pub(crate) fn committed(&mut self) {
        self.commits += 1;
        if self.commits.is_multiple_of(EVERY)
            && let Some(tx) = &self.tx
        {
            let _ = tx.send(());
        }
    }

    /// Stops the thread, waiting for a checkpoint under way, and closes its connection.
    pub(crate) fn finish(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        self.tx = None;
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.stop();
    }
}
