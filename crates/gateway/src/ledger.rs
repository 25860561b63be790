//! The ledger writer: threads that own the store and append exchanges in batches.
//!
//! Request handlers call [`LedgerSink::try_send`], which never blocks: the record goes on a
//! bounded queue, or — when the queue is full — is counted as dropped and the caller learns
//! it (a route with `fail.ledger: closed` then refuses the request). Every [`LINGER`] the
//! writer takes whatever has queued up (at most `MAX_BATCH` per transaction) and appends it,
//! so the store's durable write is shared by many requests and never sits on a response's
//! path.
//!
//! Two threads share the store behind one lock, so batches are appended in the order they
//! were taken off the queue:
//! - the **background** writer does all the work while it keeps up. It runs at the lowest
//!   priority (nice 19): its bursts (a batch of records, every 10 ms) then never delay a
//!   request thread on the same core, which set the gateway's p99 before;
//! - the **catch-up** writer runs at normal priority and only steps in when the queue holds
//!   more than [`CATCH_UP_AT`] records, i.e. when a busy machine starves the background
//!   writer; it drains until the backlog is gone. So the log keeps up under full load.
//!
//! Durability window: a response is sent before its record is durable. A crash loses the
//! records still queued (at most the queue's capacity) and the batch being written.
//! Graceful shutdown drains the queue first.

use crate::config::LogContent;
use crate::metrics::Metrics;
use crate::record::{self, Exchange, CONTENT_KIND};
use airisk_store::ledger::PayloadState;
use airisk_store::Store;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Largest number of exchanges appended in one transaction.
pub const MAX_BATCH: usize = 1024;

/// How often the writer takes what has queued up (this adds to the durability window).
pub const LINGER: Duration = Duration::from_millis(10);

/// Queue depth at which the normal-priority catch-up writer steps in.
pub const CATCH_UP_AT: i64 = 2 * MAX_BATCH as i64;

/// How long without a write before a due retention sweep runs anyway.
const IDLE_SWEEP: Duration = Duration::from_secs(60);

/// Niceness of the background writer (the lowest priority a thread can give itself).
const BACKGROUND_NICENESS: i32 = 19;

/// Largest batch the background writer appends at once. It holds the store's lock while it
/// writes, and a starved low-priority thread holding a lock would stall the catch-up writer
/// (priority inversion): small batches keep that window short.
const BACKGROUND_BATCH: usize = 64;

/// The handlers' side: cheap to clone.
#[derive(Clone)]
pub struct LedgerSink {
    tx: Option<SyncSender<Box<Exchange>>>,
    capacity: usize,
    content: LogContent,
    metrics: Arc<Metrics>,
}

/// Owns the writer threads.
pub struct LedgerWriter {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

/// What the writer threads share: the queue's receiving end and the store, under one lock.
struct Writing {
    rx: Receiver<Box<Exchange>>,
    store: Store,
    sweep: Option<Sweeper>,
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
                stop: Arc::new(AtomicBool::new(false)),
                threads: vec![],
            },
        );
    };
    let (tx, rx) = mpsc::sync_channel::<Box<Exchange>>(capacity);
    let shared = Arc::new(Mutex::new(Writing {
        rx,
        store,
        sweep: retention_days.map(|d| Sweeper {
            days: d,
            cursor: 0,
            next: Instant::now(),
        }),
    }));
    let stop = Arc::new(AtomicBool::new(false));
    let mut threads = vec![];
    for role in [Role::Background, Role::CatchUp] {
        let (shared, stop, m) = (shared.clone(), stop.clone(), metrics.clone());
        let name = match role {
            Role::Background => "airisk-ledger-writer",
            Role::CatchUp => "airisk-ledger-catch-up",
        };
        if let Ok(t) = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || write_loop(role, &shared, &stop, content, &m))
        {
            threads.push(t);
        }
    }
    (
        LedgerSink {
            tx: Some(tx),
            capacity,
            content,
            metrics,
        },
        LedgerWriter { stop, threads },
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
    pub fn try_send(&self, mut x: Exchange) -> bool {
        let Some(tx) = &self.tx else {
            return true;
        };
        x.compact(self.content);
        self.metrics
            .ledger_queue_depth
            .fetch_add(1, Ordering::Relaxed);
        match tx.try_send(Box::new(x)) {
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
    /// Writes what is queued, signs a checkpoint and stops the threads (blocking).
    pub fn finish(self) {
        self.stop.store(true, Ordering::SeqCst);
        for t in self.threads {
            let _ = t.join();
        }
    }

    /// Whether the writer threads are running.
    pub fn alive(&self) -> bool {
        !self.threads.is_empty() && self.threads.iter().all(|t| !t.is_finished())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Background,
    CatchUp,
}

/// Lowers the calling thread's priority; on Linux `PRIO_PROCESS` with id 0 is this thread
/// alone. A failure leaves the priority as it was.
fn lower_priority(by: i32) {
    #[cfg(target_os = "linux")]
    // SAFETY: two syscalls on the calling thread, no memory involved.
    unsafe {
        let current = libc::getpriority(libc::PRIO_PROCESS, 0);
        libc::setpriority(libc::PRIO_PROCESS, 0, current + by);
    }
    #[cfg(not(target_os = "linux"))]
    let _ = by;
}

fn write_loop(
    role: Role,
    shared: &Mutex<Writing>,
    stop: &AtomicBool,
    content: LogContent,
    metrics: &Metrics,
) {
    if role == Role::Background {
        lower_priority(BACKGROUND_NICENESS);
    }
    // Retention sweeps follow a write (so a new record past its retention goes at the next
    // due sweep), or a minute without any.
    let mut last_write = Instant::now();
    loop {
        std::thread::sleep(LINGER);
        let stopping = stop.load(Ordering::SeqCst);
        if stopping && role == Role::CatchUp {
            // The final drain, sweep and checkpoint are the background writer's.
            return;
        }
        let depth = metrics.ledger_queue_depth.load(Ordering::Relaxed);
        // Above the mark the backlog is the catch-up writer's alone.
        let due = match role {
            Role::Background => depth <= CATCH_UP_AT,
            Role::CatchUp => depth > CATCH_UP_AT,
        };
        if !due && !stopping {
            continue;
        }
        let Ok(mut w) = shared.lock() else {
            return; // the other writer panicked mid-append; nothing sound is left to do
        };
        // The background writer takes what is queued, in small batches, and leaves it to the
        // catch-up writer once a backlog builds; the catch-up writer drains until the backlog
        // is half gone (it may be back within one linger).
        let mut wrote = 0;
        loop {
            let limit = match role {
                Role::Background => BACKGROUND_BATCH,
                Role::CatchUp => MAX_BATCH,
            };
            let written = write_batch(&mut w, content, metrics, limit);
            wrote += written;
            let left = metrics.ledger_queue_depth.load(Ordering::Relaxed);
            let done = match role {
                Role::Background => left == 0 || left > CATCH_UP_AT,
                Role::CatchUp => left <= CATCH_UP_AT / 2,
            };
            if written == 0 || (!stopping && done) {
                break;
            }
        }
        if wrote > 0 {
            last_write = Instant::now();
        }
        if role == Role::Background && (wrote > 0 || last_write.elapsed() >= IDLE_SWEEP) {
            let Writing { store, sweep, .. } = &mut *w;
            if let Some(s) = sweep.as_mut() {
                if Instant::now() >= s.next {
                    s.run(store);
                }
            }
        }
        if stopping {
            while write_batch(&mut w, content, metrics, MAX_BATCH) > 0 {}
            // Sign what was written, so a verifier sees it covered by a checkpoint.
            let _ = w.store.checkpoint(chrono::Utc::now());
            return;
        }
    }
}

/// Appends up to `limit` queued records in one transaction; returns how many it took.
fn write_batch(w: &mut Writing, content: LogContent, metrics: &Metrics, limit: usize) -> usize {
    let mut batch = Vec::new();
    while batch.len() < limit {
        match w.rx.try_recv() {
            Ok(x) => batch.push(x),
            Err(_) => break,
        }
    }
    if batch.is_empty() {
        return 0;
    }
    let n = batch.len();
    let entries: Vec<_> = batch
        .iter()
        .flat_map(|x| record::entries(x, content))
        .collect();
    match w.store.append(&entries, chrono::Utc::now()) {
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
    metrics
        .ledger_queue_depth
        .fetch_sub(n as i64, Ordering::Relaxed);
    n
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

#[cfg(test)]
mod tests {
    use super::*;
    use airisk_store::ledger::PayloadState;
    use airisk_store::Location;

    /// A backlog far above the catch-up mark is written whole and in queue order (the
    /// background writer leaves it to the catch-up writer, which drains it).
    #[test]
    fn a_backlog_is_written_whole_and_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("l.db");
        let store = Store::open(&Location::Sqlite(path.clone())).unwrap();
        let metrics = Arc::new(Metrics::default());
        let (sink, writer) = start(
            Some(store),
            100_000,
            LogContent::None,
            None,
            metrics.clone(),
        );
        let n = 3 * CATCH_UP_AT as usize + 17;
        for i in 0..n {
            let x = Exchange {
                request_id: format!("r{i:06}"),
                route: "main".into(),
                endpoint: "chat.completions",
                outcome: "allowed",
                ..Default::default()
            };
            assert!(sink.try_send(x), "queue has room for record {i}");
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        while metrics.ledger_queue_depth.load(Ordering::Relaxed) > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(metrics.ledger_queue_depth.load(Ordering::Relaxed), 0);
        assert!(writer.alive());
        writer.finish();
        let mut store = Store::open(&Location::Sqlite(path)).unwrap();
        let size = store.ledger_size().unwrap();
        let entries = store.ledger_entries(0, size).unwrap();
        assert_eq!(entries.len(), n);
        let ids: Vec<String> = entries
            .iter()
            .map(|e| match &e.payload {
                PayloadState::Present { bytes, .. } => {
                    let v: serde_json::Value = serde_json::from_slice(bytes).unwrap();
                    v["request_id"].as_str().unwrap().to_string()
                }
                other => panic!("payload {other:?}"),
            })
            .collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted, "records are appended in queue order");
        assert_eq!(
            metrics.counter(
                "airisk_gateway_ledger_records_total",
                &[("outcome", "written")]
            ),
            n as u64
        );
    }
}
