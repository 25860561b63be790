//! # airisk-redteam: pre-launch red teaming
//!
//! **What it is.** An offline, deterministic attack harness for LLM applications:
//! attack suites as YAML data files ([`suite`]), composable prompt converters ([`converters`]),
//! deterministic judges ([`judges`]) with an optional LLM judge, Wilson confidence intervals
//! ([`stats`]), reports as JSON, JUnit XML, SARIF 2.1.0 and HTML ([`report`]), release gates
//! ([`gate`]) and run-to-run diffs ([`diff`]). The IO edge lives in [`target`] (OpenAI-compatible,
//! generic HTTP JSON and command targets with concurrency, rate limit, retries, timeouts, a
//! progress bar and a resumable journal) and [`demo`] (a deliberately vulnerable mock app).
//!
//! **What it is not.** Not an attack generator driven by a model (every seed is written by hand
//! and every conversion is a pure function of a seed), not a harmful-content classifier.
//!
//! **Invariants.**
//! - The core modules (`suite`, `converters`, `judges`, `stats`, `report`, `gate`, `diff`,
//!   `judge_eval`, `cases`) do no IO and no async; only `target`, `llm_judge` and `demo` touch
//!   the network, files or processes, and `run` ties them together for the CLI.
//! - A run is a pure function of (suite, converter chains, seed, target answers): the same
//!   inputs give the same cases, byte for byte.
//! - Input from suite files, targets and users is reported as an error, never panicked on.

pub mod cases;
pub mod converters;
pub mod demo;
pub mod diff;
pub mod error;
pub mod gate;
pub mod judge_eval;
pub mod judges;
pub mod llm_judge;
pub mod report;
pub mod rng;
pub mod run;
pub mod stats;
pub mod suite;
pub mod target;

pub use error::{RedteamError, Result};

/// The default attack suite, compiled into the binary.
pub const DEFAULT_SUITE: &str = include_str!("../suites/default.yaml");
/// The file name used in diagnostics for the built-in suite.
pub const DEFAULT_SUITE_NAME: &str = "crates/redteam/suites/default.yaml";
/// Our own labelled fixtures for the judges that judge_dev.jsonl does not cover.
pub const JUDGE_FIXTURES: &str = include_str!("../fixtures/judges.jsonl");
