//! # airisk-guard: the runtime guardrail engine
//!
//! **What it is.** A library that checks one interaction item at a time — a user or system
//! prompt, a retrieved context chunk, a model output, a tool call or a tool result — against a
//! policy, and returns a [`Decision`]: allow, redact, escalate or block, with findings (detector,
//! category, byte span, score, rule id, framework mappings), the redacted text, the policy id and
//! version, and the elapsed time.
//!
//! A policy is YAML (documented in `docs/guard.md`). [`Guard::from_yaml`] parses, validates and
//! compiles it once; [`Guard::check`] is then pure computation.
//!
//! **What it is not.** Not a proxy or a logger (the gateway and ledger crates do that), not a
//! harmful-content or toxicity classifier, not an NER system (names and addresses are out of
//! scope), and it does not call any model or network service.
//!
//! **Invariants.**
//! - No IO on the hot path: `check` reads no file, environment or network; the classifier weights
//!   are compiled into the binary.
//! - Every pattern is on the `regex` crate (linear time); keyword lists use Aho-Corasick.
//! - `check` never panics, for any input; every reported span lies on char boundaries of the
//!   checked text.
//! - Work is linear in the input and memory is bounded (decoding depth and the number of decoded
//!   segments are capped).
//! - Shadow mode never returns an action other than `allow`.

pub mod decision;
pub mod detectors;
pub mod error;
pub mod eval;
pub mod gate;
pub mod normalize;
pub mod policy;
pub mod schema;

use std::time::Instant;

pub use decision::{Action, Decision, Finding, Input, Span, Stage};
pub use detectors::leakage::LeakReference;
pub use error::{GuardError, Result};
pub use policy::{CompiledPolicy, Mode};

use detectors::{Hit, Loc, Subject};

/// At most this many findings are reported per detector and input; past it, one
/// `too_many_findings` finding with action `block` is added and the rest are dropped.
pub const MAX_FINDINGS_PER_DETECTOR: usize = 1000;

/// The default policy shipped in `policies/default.yaml`.
pub const DEFAULT_POLICY: &str = include_str!("../../../policies/default.yaml");

/// A compiled policy, ready to check inputs. Cheap to share across threads.
#[derive(Debug)]
pub struct Guard {
    policy: CompiledPolicy,
}

impl Guard {
    /// Parses, validates and compiles a policy.
    pub fn from_yaml(yaml: &str) -> Result<Guard> {
        Ok(Guard {
            policy: CompiledPolicy::from_yaml(yaml)?,
        })
    }

    /// The shipped default policy.
    pub fn default_policy() -> Result<Guard> {
        Guard::from_yaml(DEFAULT_POLICY)
    }

    /// The compiled policy.
    pub fn policy(&self) -> &CompiledPolicy {
        &self.policy
    }

    /// Whether the policy runs the detector named `name` at `stage`.
    pub fn runs(&self, stage: Stage, name: &str) -> bool {
        self.policy
            .stage(stage)
            .iter()
            .any(|slot| slot.detector.name() == name)
    }

    /// Checks one input against its stage of the policy.
    pub fn check(&self, input: Input<'_>) -> Decision {
        self.check_with(input, None)
    }

    /// [`Guard::check`], with a system prompt this one check must not leak in addition to the
    /// policy's own (the `leakage` detector; a gateway passes the request's system messages).
    pub fn check_with(&self, input: Input<'_>, reference: Option<&LeakReference>) -> Decision {
        let started = Instant::now();
        let stage = input.stage();
        let args_json;
        let (original, tool): (&str, Option<(&str, &serde_json::Value)>) = match input {
            Input::Prompt { text, .. }
            | Input::Context { text }
            | Input::Output { text }
            | Input::ToolResult { text, .. } => (text, None),
            Input::ToolCall { name, args } => {
                args_json = serde_json::to_string(args).unwrap_or_default();
                (args_json.as_str(), Some((name, args)))
            }
        };
        let slots = self.policy.stage(stage);
        let prepared = normalize::prepare(original, &self.policy.normalize);
        let subject = Subject {
            original,
            text: &prepared,
            tool,
            reference,
        };
        let mut findings = Vec::new();
        let mut hits: Vec<Hit> = Vec::new();
        for slot in slots {
            hits.clear();
            slot.detector.scan(&subject, &mut hits);
            let mut kept = 0usize;
            for h in hits.drain(..) {
                if kept >= MAX_FINDINGS_PER_DETECTOR {
                    // Memory stays bounded; a redaction that cannot list every span blocks instead.
                    findings.push(Finding {
                        detector: slot.detector.name().to_string(),
                        category: "too_many_findings".into(),
                        span: None,
                        score: 1.0,
                        rule_id: "engine.finding_cap".into(),
                        maps_to: slot.maps_to.clone(),
                        action: Action::Block,
                    });
                    break;
                }
                if h.score < slot.threshold || h.score.is_nan() {
                    continue;
                }
                let span = match h.loc {
                    Loc::Whole => None,
                    Loc::Original { start, end } => Some((start, end)),
                    Loc::Seg { seg, start, end } => prepared
                        .segments
                        .get(seg)
                        .map(|s| s.to_original(start, end)),
                }
                .filter(|(s, e)| {
                    s <= e
                        && *e <= original.len()
                        && original.is_char_boundary(*s)
                        && original.is_char_boundary(*e)
                });
                if let Some((s, e)) = span {
                    if !self.policy.allow_values.is_empty()
                        && self
                            .policy
                            .allow_values
                            .contains(&original[s..e].to_lowercase())
                    {
                        continue;
                    }
                }
                kept += 1;
                findings.push(Finding {
                    detector: slot.detector.name().to_string(),
                    category: h.category.into_owned(),
                    span: span.map(|(start, end)| Span { start, end }),
                    score: h.score.clamp(0.0, 1.0),
                    rule_id: h.rule_id.into_owned(),
                    maps_to: slot.maps_to.clone(),
                    action: h.action.unwrap_or(slot.action),
                });
            }
        }
        let enforced = findings
            .iter()
            .map(|f| f.action)
            .max()
            .unwrap_or(Action::Allow);
        let redacted =
            (enforced == Action::Redact && tool.is_none()).then(|| redact(original, &findings));
        let shadow = self.policy.mode == Mode::Shadow;
        Decision {
            action: if shadow { Action::Allow } else { enforced },
            enforced_action: enforced,
            shadow,
            stage,
            findings,
            redacted,
            policy_id: self.policy.id.clone(),
            policy_version: self.policy.version.clone(),
            elapsed_us: started.elapsed().as_micros() as u64,
        }
    }
}

/// Replaces the spans of redact findings with `[REDACTED:<category>]`, merging overlaps.
fn redact(original: &str, findings: &[Finding]) -> String {
    let mut spans: Vec<(usize, usize, &str)> = findings
        .iter()
        .filter(|f| f.action == Action::Redact)
        .filter_map(|f| f.span.map(|s| (s.start, s.end, f.category.as_str())))
        .collect();
    spans.sort_by_key(|s| (s.0, std::cmp::Reverse(s.1)));
    let mut out = String::with_capacity(original.len());
    let mut pos = 0;
    for (s, e, cat) in spans {
        if s < pos {
            pos = pos.max(e);
            continue;
        }
        out.push_str(&original[pos..s]);
        out.push_str("[REDACTED:");
        out.push_str(cat);
        out.push(']');
        pos = e;
    }
    out.push_str(&original[pos.min(original.len())..]);
    out
}
