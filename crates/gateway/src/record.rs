//! What the ledger keeps of one exchange. Pure: builds the entries, the writer appends them.
//!
//! Each exchange is one `guard_decision` entry (metadata, every decision with its findings,
//! latencies, usage, and — unless `log_content: none` — the SHA-256 of both bodies). With
//! `log_content: full` the bodies go into a second entry of kind `gateway_content`, so they
//! can be erased (retention, privacy request) while the decision entry stays whole.

use crate::check::Checked;
use crate::config::LogContent;
use crate::openai::Usage;
use airisk_ledger::EntryKind;
use airisk_store::ledger::NewEntry;
use bytes::Bytes;
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The ledger kind of content entries.
pub const CONTENT_KIND: &str = "gateway_content";

/// One request/response pair as the gateway saw it.
#[derive(Debug, Clone, Default)]
pub struct Exchange {
    pub request_id: String,
    /// RFC 3339 time the request arrived.
    pub started_at: String,
    pub route: String,
    pub system: Option<String>,
    /// The application, from its gateway key.
    pub app: Option<String>,
    pub endpoint: &'static str,
    pub stream: bool,
    pub model_requested: Option<String>,
    pub model_upstream: Option<String>,
    pub policy_id: String,
    pub policy_version: String,
    pub prompt_version: Option<String>,
    /// HTTP status sent to the client.
    pub status: u16,
    /// `allowed`, `redacted`, `blocked`, `escalated`, `tool_calls_removed`, `rejected`
    /// (refused before any check), `upstream_error`, `unchecked` (failed open), `error`.
    pub outcome: &'static str,
    pub error: Option<String>,
    pub total_us: u64,
    pub guard_us: u64,
    pub upstream_us: Option<u64>,
    pub usage: Option<Usage>,
    pub checks: Vec<Checked>,
    /// The body as the client sent it.
    pub request_body: Bytes,
    /// The body as the client received it (the event stream for streams).
    pub response_body: Bytes,
}

impl Exchange {
    /// Keeps of the bodies only what the ledger needs, before the exchange is queued: exact
    /// copies of their bytes (none for `log_content: none`). A body is a slice of the buffer
    /// it was received into, and a queued slice would keep that whole buffer alive (tens of
    /// KiB per record while a backlog waits for the writer). Copying is cheaper than hashing
    /// here, and leaves the digests to the writer, off the request's path.
    pub fn compact(&mut self, content: LogContent) {
        if content == LogContent::None {
            self.request_body = Bytes::new();
            self.response_body = Bytes::new();
        } else {
            self.request_body = Bytes::copy_from_slice(&self.request_body);
            self.response_body = Bytes::copy_from_slice(&self.response_body);
        }
    }
}

fn sha256_hex(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

// The record is serialised from borrowed structs, not built as a `serde_json::Value`: the
// writer thread turns every exchange into one, and the tree of maps and strings cost more
// than the SQLite append. Field order here is the order in the ledger entry.

#[derive(Serialize)]
struct FindingRecord<'a> {
    detector: &'a str,
    category: &'a str,
    rule_id: &'a str,
    score: f32,
    action: &'a str,
    span: Option<[usize; 2]>,
    maps_to: &'a [String],
}

/// The record of one decision.
#[derive(Serialize)]
pub struct DecisionRecord<'a> {
    stage: &'a str,
    param: &'a str,
    tool: Option<&'a str>,
    action: &'a str,
    enforced_action: &'a str,
    shadow: bool,
    elapsed_us: u64,
    findings: Vec<FindingRecord<'a>>,
}

impl<'a> DecisionRecord<'a> {
    pub fn of(c: &'a Checked) -> Self {
        let d = &c.decision;
        DecisionRecord {
            stage: d.stage.as_str(),
            param: &c.param,
            tool: c.tool.as_deref(),
            action: d.action.as_str(),
            enforced_action: d.enforced_action.as_str(),
            shadow: d.shadow,
            elapsed_us: d.elapsed_us,
            findings: d
                .findings
                .iter()
                .map(|f| FindingRecord {
                    detector: &f.detector,
                    category: &f.category,
                    rule_id: &f.rule_id,
                    score: f.score,
                    action: f.action.as_str(),
                    span: f.span.map(|s| [s.start, s.end]),
                    maps_to: &f.maps_to,
                })
                .collect(),
        }
    }
}

#[derive(Serialize)]
struct PolicyRef<'a> {
    id: &'a str,
    version: &'a str,
}

#[derive(Serialize)]
struct Latency {
    total: u64,
    guard: u64,
    upstream: Option<u64>,
}

/// The SHA-256 and length of both bodies.
#[derive(Serialize)]
struct ContentHashes {
    request_sha256: String,
    response_sha256: String,
    request_bytes: usize,
    response_bytes: usize,
}

impl ContentHashes {
    fn of(request: &[u8], response: &[u8]) -> ContentHashes {
        ContentHashes {
            request_sha256: sha256_hex(request),
            response_sha256: sha256_hex(response),
            request_bytes: request.len(),
            response_bytes: response.len(),
        }
    }
}

#[derive(Serialize)]
struct ExchangeRecord<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    request_id: &'a str,
    started_at: &'a str,
    route: &'a str,
    system: Option<&'a str>,
    app: Option<&'a str>,
    endpoint: &'a str,
    stream: bool,
    model_requested: Option<&'a str>,
    model_upstream: Option<&'a str>,
    policy: PolicyRef<'a>,
    prompt_version: Option<&'a str>,
    status: u16,
    outcome: &'a str,
    error: Option<&'a str>,
    latency_us: Latency,
    usage: Option<Usage>,
    log_content: &'static str,
    content: Option<ContentHashes>,
    decisions: Vec<DecisionRecord<'a>>,
}

#[derive(Serialize)]
struct ContentRecord<'a> {
    request_id: &'a str,
    request: Value,
    response: Value,
}

/// The ledger entries of one exchange (one or two).
pub fn entries(x: &Exchange, content: LogContent) -> Vec<NewEntry> {
    let subject = match &x.system {
        Some(s) => format!("system:{s}"),
        None => format!("route:{}", x.route),
    };
    let actor = match &x.app {
        Some(a) => format!("gateway:{a}"),
        None => "gateway".to_string(),
    };
    let hashes = match content {
        LogContent::None => None,
        _ => Some(ContentHashes::of(&x.request_body, &x.response_body)),
    };
    let record = ExchangeRecord {
        kind: "gateway_exchange",
        request_id: &x.request_id,
        started_at: &x.started_at,
        route: &x.route,
        system: x.system.as_deref(),
        app: x.app.as_deref(),
        endpoint: x.endpoint,
        stream: x.stream,
        model_requested: x.model_requested.as_deref(),
        model_upstream: x.model_upstream.as_deref(),
        policy: PolicyRef {
            id: &x.policy_id,
            version: &x.policy_version,
        },
        prompt_version: x.prompt_version.as_deref(),
        status: x.status,
        outcome: x.outcome,
        error: x.error.as_deref(),
        latency_us: Latency {
            total: x.total_us,
            guard: x.guard_us,
            upstream: x.upstream_us,
        },
        usage: x.usage,
        log_content: content.as_str(),
        content: hashes,
        decisions: x.checks.iter().map(DecisionRecord::of).collect(),
    };
    let mut out = Vec::with_capacity(2);
    out.push(NewEntry {
        kind: EntryKind::GuardDecision,
        actor: actor.clone(),
        subject: subject.clone(),
        // Serialising plain structs of strings and numbers cannot fail.
        payload: serde_json::to_vec(&record).unwrap_or_default(),
    });
    if content == LogContent::Full {
        let body = |b: &Bytes| match serde_json::from_slice::<Value>(b) {
            Ok(v) => v,
            Err(_) => Value::String(String::from_utf8_lossy(b).into_owned()),
        };
        let payload = ContentRecord {
            request_id: &x.request_id,
            request: body(&x.request_body),
            response: body(&x.response_body),
        };
        if let Ok(kind) = EntryKind::parse(CONTENT_KIND) {
            out.push(NewEntry {
                kind,
                actor,
                subject,
                payload: serde_json::to_vec(&payload).unwrap_or_default(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_modes() {
        let x = Exchange {
            request_id: "r1".into(),
            route: "default".into(),
            system: Some("SYS-1".into()),
            endpoint: "chat.completions",
            outcome: "allowed",
            request_body: Bytes::from_static(b"{\"a\":1}"),
            response_body: Bytes::from_static(b"not json"),
            ..Default::default()
        };
        let e = entries(&x, LogContent::None);
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].subject, "system:SYS-1");
        let v: Value = serde_json::from_slice(&e[0].payload).unwrap();
        assert!(v["content"].is_null());
        let e = entries(&x, LogContent::Hashes);
        let v: Value = serde_json::from_slice(&e[0].payload).unwrap();
        assert_eq!(v["content"]["request_sha256"].as_str().unwrap().len(), 64);
        assert!(!String::from_utf8_lossy(&e[0].payload).contains("\"a\":1"));
        let e = entries(&x, LogContent::Full);
        assert_eq!(e.len(), 2);
        // Compacted before queuing, an exchange gives the same entries.
        for mode in [LogContent::None, LogContent::Hashes, LogContent::Full] {
            let mut c = x.clone();
            c.compact(mode);
            let (a, b) = (entries(&x, mode), entries(&c, mode));
            assert_eq!(a.len(), b.len());
            for (a, b) in a.iter().zip(&b) {
                assert_eq!(a.payload, b.payload, "{mode:?}");
            }
            if mode == LogContent::None {
                assert!(c.request_body.is_empty() && c.response_body.is_empty());
            }
        }
        let v: Value = serde_json::from_slice(&e[1].payload).unwrap();
        assert_eq!(v["request"]["a"], 1);
        assert_eq!(v["response"], "not json");
    }
}
