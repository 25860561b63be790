//! # airisk-gateway: an OpenAI-compatible proxy that enforces guard policies inline
//!
//! **What it is.** A reverse proxy for `POST /v1/chat/completions` (plain and streamed),
//! `POST /v1/embeddings` and `GET /v1/models` that checks every exchange with
//! [`airisk_guard`] at four stages (input, context, tool call, output), rewrites redactions
//! in place, removes or refuses disallowed tool calls, and records every exchange and
//! decision in the tamper-evident ledger of [`airisk_store`]. It adds operations around
//! that: Prometheus metrics, health and readiness, per-key rate limits and token caps,
//! timeouts, a body size limit, fail-open/closed per route, graceful shutdown.
//!
//! **What it is not.** Not a model router or load balancer (one upstream per route, no
//! retries, no fallbacks), not a cache, not a billing system. It holds no detectors of its
//! own: every judgement is the guard's.
//!
//! **Layout.** The pure parts have no IO and are tested alone: [`config`] (parsing and
//! validation, route selection), [`openai`] (what to check in a body, rewriting it),
//! [`sse`] (event-stream parsing), [`stream`] (the hold-back scanner and streamed tool
//! calls), [`check`] (running the guard), [`ratelimit`] (token buckets), [`metrics`]
//! (text rendering), [`record`] (the ledger record). The IO edge is [`server`] (axum +
//! reqwest; a worker thread per core, each with its own single-threaded runtime and upstream
//! connection pool, fed connections by one acceptor) and [`ledger`] (the writer threads).
//! [`mock`] is an OpenAI-speaking upstream for tests and the benchmark.
//!
//! **Invariants.**
//! - No panic on client, upstream or file input: every failure is an OpenAI-style error.
//! - The store is never called on a request-serving thread: records go over a bounded
//!   channel to the writer threads, which append in batches.
//! - Request texts are only logged in the form `log_content` allows.
//! - A block is never downgraded: a fail-open setting applies to failures (upstream,
//!   guard, ledger), never to a decision the guard made.

pub mod check;
pub mod config;
pub mod error;
pub mod ledger;
pub mod metrics;
pub mod mock;
pub mod openai;
pub mod ratelimit;
pub mod record;
pub mod server;
pub mod sse;
pub mod stream;

pub use config::{GatewayConfig, LogContent};
pub use error::GatewayError;
pub use server::{run_blocking, Gateway};
