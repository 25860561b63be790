//! Group commit for many concurrent appenders in one process: callers hand single entries
//! to a writer thread, which appends whatever has queued up in one transaction (one
//! durable write) and only then acknowledges each caller with its index.

use crate::ledger::NewEntry;
use crate::{Store, StoreError};
use std::sync::mpsc;
use std::thread::JoinHandle;

struct Request {
    entry: NewEntry,
    reply: mpsc::SyncSender<Result<u64, String>>,
}

/// Owns the writer thread; dropping it drains the queue and stops the thread.
pub struct GroupCommitter {
    sender: Option<mpsc::Sender<Request>>,
    thread: Option<JoinHandle<GroupStats>>,
}

/// What the writer did, returned by [`GroupCommitter::finish`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GroupStats {
    pub entries: u64,
    /// Durable writes (transactions) used for them.
    pub batches: u64,
}

/// A cheap, cloneable handle for appending through the committer.
#[derive(Clone)]
pub struct Appender {
    sender: mpsc::Sender<Request>,
}

impl GroupCommitter {
    /// Starts the writer thread on `store`; a batch holds at most `max_batch` entries.
    pub fn start(mut store: Store, max_batch: usize) -> GroupCommitter {
        let max_batch = max_batch.max(1);
        let (sender, receiver) = mpsc::channel::<Request>();
        let thread = std::thread::spawn(move || {
            let mut stats = GroupStats::default();
            while let Ok(first) = receiver.recv() {
                let mut batch = vec![first];
                while batch.len() < max_batch {
                    match receiver.try_recv() {
                        Ok(request) => batch.push(request),
                        Err(_) => break,
                    }
                }
                let entries: Vec<NewEntry> = batch.iter().map(|r| r.entry.clone()).collect();
                match store.append(&entries, chrono::Utc::now()) {
                    Ok(outcome) => {
                        stats.entries += entries.len() as u64;
                        stats.batches += 1;
                        for (offset, request) in batch.into_iter().enumerate() {
                            let _ = request.reply.send(Ok(outcome.first_index + offset as u64));
                        }
                    }
                    Err(error) => {
                        let message = error.to_string();
                        for request in batch {
                            let _ = request.reply.send(Err(message.clone()));
                        }
                    }
                }
            }
            stats
        });
        GroupCommitter {
            sender: Some(sender),
            thread: Some(thread),
        }
    }

    pub fn appender(&self) -> Appender {
        Appender {
            sender: self
                .sender
                .clone()
                .expect("the sender lives until finish or drop"),
        }
    }

    /// Waits for queued entries to be written and stops the writer. Appenders still held
    /// elsewhere keep it alive until they are dropped.
    pub fn finish(mut self) -> GroupStats {
        self.stop()
    }

    fn stop(&mut self) -> GroupStats {
        self.sender.take();
        self.thread
            .take()
            .and_then(|t| t.join().ok())
            .unwrap_or_default()
    }
}

impl Drop for GroupCommitter {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Appender {
    /// Appends one entry; returns its index once the batch holding it is durable.
    pub fn append(&self, entry: NewEntry) -> Result<u64, StoreError> {
        let (reply, answer) = mpsc::sync_channel(1);
        self.sender
            .send(Request { entry, reply })
            .map_err(|_| StoreError::Ledger("the ledger writer has stopped".into()))?;
        answer
            .recv()
            .map_err(|_| StoreError::Ledger("the ledger writer stopped before committing".into()))?
            .map_err(StoreError::Ledger)
    }
}
