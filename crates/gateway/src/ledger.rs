//! The ledger writer: one std thread that owns the store and appends exchanges in batches.
//!
//! Request handlers call [`LedgerSink::try_send`], which never blocks: the record goes on a
//! bounded queue, or — when the queue is full — is counted as dropped and the caller learns
//! it (a route with `fail.ledger: closed` then refuses the request). The writer takes
//! whatever has queued up (at most `MAX_BATCH`) and appends it in one transaction, so the
//! store's durable write is shared by many requests and never sits on a response's path.
//!
//! Durability window: a response is sent before its record is durable. A crash loses the
//! records still queued (at most the queue's capacity) and the batch being collected or
//! written (the writer lingers up to [`LINGER`] to fill a batch).
//! Graceful shutdown drains the queue first.

use crate::config::LogContent;
use crate::metrics::Metrics;
use crate::record::{self, Exchange, CONTENT_KIND};
use airisk_store::ledger::PayloadState;
use airisk_store::Store;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Largest number of exchanges appended in one transaction.
pub const MAX_BATCH: usize = 1024;

/// How long the writer waits for more records before appending a batch (this adds to the
/// durability window).
pub const LINGER: Duration = Duration::from_millis(10);

enum Msg {
    Record(Box<Exchange>),
    Stop,
}

/// The handlers' side: cheap to clone.
#[derive(Clone)]
pub struct LedgerSink {
    tx: Option<SyncSender<Msg>>,
    capacity: usize,
    content: LogContent,
    metrics: Arc<Metrics>,
}

/// Owns the writer thread.
pub struct LedgerWriter {
    tx: Option<SyncSender<Msg>>,
    thread: Option<JoinHandle<()>>,
}

/// Starts the writer on `store`. Without a store, records are counted and discarded.
pub fn start(
    store: Option<Store>,
    capacity: usize,
    content: LogContent,
    retention_days: Option<u32>,
    metrics: Arc<Metrics>,
) -> (LedgerSink, LedgerWriter) {
    let Some(store) = store else {
        return (
            LedgerSink {
                tx: None,
                capacity,
                content,
                metrics,
            },
            LedgerWriter {
                tx: None,
                thread: None,
            },
        );
    };
    let (tx, rx) = mpsc::sync_channel::<Msg>(capacity);
    let m = metrics.clone();
    let thread = std::thread::Builder::new()
        .name("airisk-ledger-writer".into())
        .spawn(move || write_loop(store, rx, content, retention_days, m))
        .ok();
    (
        LedgerSink {
            tx: Some(tx.clone()),
            capacity,
            content,
            metrics,
        },
        LedgerWriter {
            tx: Some(tx),
            thread,
        },
    )
}

impl LedgerSink {
    /// Whether a record would be accepted now (for fail-closed routes, checked up front).
    pub fn has_room(&self) -> bool {
        self.tx.is_none()
            || (self.metrics.ledger_queue_depth.load(Ordering::Relaxed) as usize) < self.capacity
    }

    /// Whether a ledger is attached at all.
    pub fn enabled(&self) -> bool {
        self.tx.is_some()
    }

    pub fn content(&self) -> LogContent {
        self.content
    }

    /// Queues a record; `false` when it was dropped (queue full or writer gone).
    pub fn try_send(&self, x: Exchange) -> bool {
        let Some(tx) = &self.tx else {
            return true;
        };
        self.metrics
            .ledger_queue_depth
            .fetch_add(1, Ordering::Relaxed);
        match tx.try_send(Msg::Record(Box::new(x))) {
            Ok(()) => {
                self.metrics.inc(
                    "airisk_gateway_ledger_records_total",
                    &[("outcome", "queued")],
                    1,
                );
                true
            }
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                self.metrics
                    .ledger_queue_depth
                    .fetch_sub(1, Ordering::Relaxed);
                self.metrics.inc(
                    "airisk_gateway_ledger_records_total",
                    &[("outcome", "dropped")],
                    1,
                );
                false
            }
        }
    }
}

impl LedgerWriter {
    /// Drains the queue, writes what is left and stops the thread (blocking).
    pub fn finish(mut self) {
        if let Some(tx) = self.tx.take() {
            let _ = tx.send(Msg::Stop);
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    /// Whether the writer thread is running.
    pub fn alive(&self) -> bool {
        self.thread.as_ref().is_some_and(|t| !t.is_finished())
    }
}

fn write_loop(
    mut store: Store,
    rx: Receiver<Msg>,
    content: LogContent,
    retention_days: Option<u32>,
    metrics: Arc<Metrics>,
) {
    let mut sweep = retention_days.map(|d| Sweeper {
        days: d,
        cursor: 0,
        next: Instant::now(),
    });
    let mut stop = false;
    while !stop {
        let first = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(m) => m,
            Err(RecvTimeoutError::Timeout) => {
                if let Some(s) = sweep.as_mut() {
                    s.run(&mut store);
                }
                continue;
            }
            Err(RecvTimeoutError::Disconnected) => break,
        };
        let mut batch = Vec::new();
        // Returns true for the stop message.
        let push = |m: Msg, batch: &mut Vec<Box<Exchange>>| match m {
            Msg::Record(x) => {
                batch.push(x);
                false
            }
            Msg::Stop => true,
        };
        stop |= push(first, &mut batch);
        // Linger so a transaction carries many records, not one: per-transaction work
        // (frontier, commit, fsync) dominates the cost of small appends. The writer sleeps
        // through the linger and then drains the queue, rather than waiting on it record by
        // record: a waiting receiver is woken by every send, which cost both sides a futex
        // call per request.
        let linger_until = Instant::now() + LINGER;
        loop {
            while batch.len() < MAX_BATCH && !stop {
                match rx.try_recv() {
                    Ok(m) => stop |= push(m, &mut batch),
                    Err(_) => break,
                }
            }
            let left = linger_until.saturating_duration_since(Instant::now());
            if batch.len() >= MAX_BATCH || stop || left.is_zero() {
                break;
            }
            std::thread::sleep(left);
        }
        if !batch.is_empty() {
            let n = batch.len() as i64;
            let entries: Vec<_> = batch
                .iter()
                .flat_map(|x| record::entries(x, content))
                .collect();
            match store.append(&entries, chrono::Utc::now()) {
                Ok(_) => metrics.inc(
                    "airisk_gateway_ledger_records_total",
                    &[("outcome", "written")],
                    n as u64,
                ),
                Err(e) => {
                    eprintln!("airisk gateway: ledger append failed, {n} records lost: {e}");
                    metrics.inc(
                        "airisk_gateway_ledger_records_total",
                        &[("outcome", "failed")],
                        n as u64,
                    );
                }
            }
            metrics.ledger_queue_depth.fetch_sub(n, Ordering::Relaxed);
        }
        if let Some(s) = sweep.as_mut() {
            if Instant::now() >= s.next {
                s.run(&mut store);
            }
        }
    }
    // Sign what was written, so a verifier sees it covered by a checkpoint.
    let _ = store.checkpoint(chrono::Utc::now());
}

/// Erases the payloads of content entries older than the retention period. Entries are in
/// time order, so it keeps a cursor and never rereads what it has passed.
struct Sweeper {
    days: u32,
    cursor: u64,
    next: Instant,
}

impl Sweeper {
    fn run(&mut self, store: &mut Store) {
        self.next = Instant::now() + Duration::from_secs(600);
        let cutoff = chrono::Utc::now().timestamp_millis() - i64::from(self.days) * 86_400_000;
        let Ok(size) = store.ledger_size() else {
            return;
        };
        'pages: while self.cursor < size {
            let to = (self.cursor + 1000).min(size);
            let Ok(page) = store.ledger_entries(self.cursor, to) else {
                return;
            };
            for e in page {
                if e.timestamp_ms as i64 > cutoff {
                    break 'pages;
                }
                if e.kind == CONTENT_KIND && matches!(e.payload, PayloadState::Present { .. }) {
                    let _ = store.erase_payload(
                        e.index,
                        "gateway",
                        &format!("retention: older than {} days", self.days),
                        chrono::Utc::now(),
                    );
                }
                self.cursor = e.index + 1;
            }
        }
    }
}
