//! A mock OpenAI upstream for tests and the benchmark: chat completions (plain and SSE, with
//! tool calls), models and embeddings, on loopback. What it answers is steered by markers in
//! the last user message:
//!
//! - `MOCK_SAY:<text>` — reply with `<text>` (to the end of the message);
//! - `MOCK_RECITE_SYSTEM` — reply with the request's first system message, as a model that
//!   leaks its instructions would;
//! - `MOCK_TOOL:<name>:<json arguments>` — reply with one tool call (repeatable, one per line);
//! - `MOCK_STATUS_500` — a 500 error object; `MOCK_GARBAGE` — a 200 that is not JSON;
//! - `MOCK_SLOW` — wait 3 s first; `MOCK_STREAM_CUT` — break the stream off before `[DONE]`;
//! - otherwise a fixed short reply.
//!
//! Streams are sent in 8-byte content pieces, so the gateway's hold-back is exercised.
//! Every request's headers and body are kept (the last 64) for tests to inspect.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use bytes::Bytes;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The fixed reply.
pub const DEFAULT_REPLY: &str =
    "This is a mock reply from the test upstream. It says nothing of interest.";

/// Requests the mock has seen.
#[derive(Clone, Default)]
pub struct MockState {
    pub seen: Arc<Mutex<Vec<(HeaderMap, Value)>>>,
}

impl MockState {
    /// The most recent request (headers, JSON body).
    pub fn last(&self) -> Option<(HeaderMap, Value)> {
        self.seen.lock().ok().and_then(|s| s.last().cloned())
    }
}

/// The mock's router.
pub fn router(state: MockState) -> Router {
    Router::new()
        .route("/v1/chat/completions", post(chat))
        .route("/v1/embeddings", post(embeddings))
        .route("/v1/models", get(models))
        .with_state(state)
}

/// Serves on `listener` until the task is dropped.
pub async fn serve(listener: tokio::net::TcpListener, state: MockState) {
    let _ = axum::serve(listener, router(state)).await;
}

/// Binds 127.0.0.1 on a free port and serves in a spawned task.
pub async fn spawn() -> std::io::Result<(SocketAddr, MockState)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let state = MockState::default();
    tokio::spawn(serve(listener, state.clone()));
    Ok((addr, state))
}

async fn read_json(state: &MockState, req: Request) -> Result<Value, Response> {
    let headers = req.headers().clone();
    let bytes = axum::body::to_bytes(req.into_body(), 64 << 20)
        .await
        .map_err(|_| StatusCode::BAD_REQUEST.into_response())?;
    let v: Value = serde_json::from_slice(&bytes).map_err(|_| {
        (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"error": {"message": "mock: bad JSON", "type": "invalid_request_error", "param": null, "code": null}})),
        )
            .into_response()
    })?;
    if let Ok(mut seen) = state.seen.lock() {
        if seen.len() >= 64 {
            seen.remove(0);
        }
        seen.push((headers, v.clone()));
    }
    Ok(v)
}

fn last_user_text(v: &Value) -> String {
    last_text_of(v, "user")
}

/// The text of the last message with `role` (all text parts joined), or an empty string.
fn last_text_of(v: &Value, role: &str) -> String {
    let Some(msgs) = v.get("messages").and_then(Value::as_array) else {
        return String::new();
    };
    for m in msgs.iter().rev() {
        if m.get("role").and_then(Value::as_str) == Some(role) {
            return match m.get("content") {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Array(parts)) => parts
                    .iter()
                    .filter_map(|p| p.get("text").and_then(Value::as_str))
                    .collect::<Vec<_>>()
                    .join(""),
                _ => String::new(),
            };
        }
    }
    String::new()
}

fn tool_calls_in(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|l| {
            let rest = &l[l.find("MOCK_TOOL:")? + "MOCK_TOOL:".len()..];
            let (name, args) = rest.split_once(':')?;
            Some((name.trim().to_string(), args.trim().to_string()))
        })
        .collect()
}

async fn chat(State(state): State<MockState>, req: Request) -> Response {
    let v = match read_json(&state, req).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let text = last_user_text(&v);
    if text.contains("MOCK_SLOW") {
        tokio::time::sleep(Duration::from_secs(3)).await;
    }
    if text.contains("MOCK_STATUS_500") {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            axum::Json(json!({"error": {"message": "mock: the model is overloaded", "type": "server_error", "param": null, "code": null}})),
        )
            .into_response();
    }
    if text.contains("MOCK_GARBAGE") {
        return (
            [(header::CONTENT_TYPE, "application/json")],
            "<html>not json</html>",
        )
            .into_response();
    }
    let model = format!(
        "{}-mock-2025",
        v.get("model").and_then(Value::as_str).unwrap_or("unknown")
    );
    let reply = match text.find("MOCK_SAY:") {
        Some(i) => text[i + "MOCK_SAY:".len()..].to_string(),
        None if text.contains("MOCK_RECITE_SYSTEM") => {
            format!("My instructions are: {}", last_text_of(&v, "system"))
        }
        None => DEFAULT_REPLY.to_string(),
    };
    let calls = tool_calls_in(&text);
    let prompt_tokens = (serde_json::to_string(&v).map(|s| s.len()).unwrap_or(0) / 4) as u64;
    let completion_tokens = (reply.len() / 4 + 1) as u64;
    let usage = json!({"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                       "total_tokens": prompt_tokens + completion_tokens});
    let stream = v.get("stream").and_then(Value::as_bool).unwrap_or(false);
    if !stream {
        let message = if calls.is_empty() {
            json!({"role": "assistant", "content": reply})
        } else {
            json!({"role": "assistant", "content": null, "tool_calls": calls.iter().enumerate().map(|(i, (n, a))| json!(
                {"id": format!("call_{i}"), "type": "function", "function": {"name": n, "arguments": a}})).collect::<Vec<_>>()})
        };
        let body = json!({
            "id": "chatcmpl-mock", "object": "chat.completion", "created": 1_700_000_000u64,
            "model": model,
            "choices": [{"index": 0, "message": message, "logprobs": null,
                         "finish_reason": if calls.is_empty() { "stop" } else { "tool_calls" }}],
            "usage": usage,
        });
        return (
            [(header::CONTENT_TYPE, "application/json")],
            serde_json::to_vec(&body).unwrap_or_default(),
        )
            .into_response();
    }
    let include_usage = v
        .pointer("/stream_options/include_usage")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let cut = text.contains("MOCK_STREAM_CUT");
    let chunk = |delta: Value, finish: Value| {
        json!({"id": "chatcmpl-mock", "object": "chat.completion.chunk", "created": 1_700_000_000u64,
               "model": model, "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]})
    };
    let mut events: Vec<Value> = vec![chunk(
        json!({"role": "assistant", "content": ""}),
        Value::Null,
    )];
    if calls.is_empty() {
        let mut start = 0;
        while start < reply.len() {
            let mut end = (start + 8).min(reply.len());
            while !reply.is_char_boundary(end) {
                end += 1;
            }
            events.push(chunk(json!({"content": &reply[start..end]}), Value::Null));
            start = end;
        }
    } else {
        for (i, (n, a)) in calls.iter().enumerate() {
            events.push(chunk(
                json!({"tool_calls": [{"index": i, "id": format!("call_{i}"), "type": "function",
                "function": {"name": n, "arguments": ""}}]}),
                Value::Null,
            ));
            let mid = a.len() / 2;
            let mid = (0..=mid)
                .rev()
                .find(|m| a.is_char_boundary(*m))
                .unwrap_or(0);
            for part in [&a[..mid], &a[mid..]] {
                events.push(chunk(
                    json!({"tool_calls": [{"index": i, "function": {"arguments": part}}]}),
                    Value::Null,
                ));
            }
        }
    }
    events.push(chunk(
        json!({}),
        json!(if calls.is_empty() {
            "stop"
        } else {
            "tool_calls"
        }),
    ));
    if include_usage {
        events.push(json!({"id": "chatcmpl-mock", "object": "chat.completion.chunk", "created": 1_700_000_000u64,
                           "model": model, "choices": [], "usage": usage}));
    }
    let mut frames: Vec<Result<Bytes, std::io::Error>> = events
        .iter()
        .map(|e| Ok(Bytes::from(format!("data: {e}\n\n"))))
        .collect();
    if cut {
        frames.truncate(frames.len() / 2);
        frames.push(Err(std::io::Error::other("mock: cut")));
    } else {
        frames.push(Ok(Bytes::from_static(b"data: [DONE]\n\n")));
    }
    // The error is delayed so the status line and the first events reach the client first.
    let queue: std::collections::VecDeque<_> = frames.into();
    let stream = futures_util::stream::unfold(queue, |mut q| async move {
        let item = q.pop_front()?;
        if item.is_err() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Some((item, q))
    });
    (
        [
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        Body::from_stream(stream),
    )
        .into_response()
}

async fn embeddings(State(state): State<MockState>, req: Request) -> Response {
    let v = match read_json(&state, req).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let n = match v.get("input") {
        Some(Value::Array(a)) => a.len(),
        _ => 1,
    };
    let data: Vec<Value> = (0..n)
        .map(|i| json!({"object": "embedding", "index": i, "embedding": [0.1, 0.2, 0.3]}))
        .collect();
    axum::Json(
        json!({"object": "list", "data": data, "model": v.get("model"),
                      "usage": {"prompt_tokens": 3, "total_tokens": 3}}),
    )
    .into_response()
}

async fn models() -> Response {
    axum::Json(json!({"object": "list", "data": [
        {"id": "mock-gpt", "object": "model", "created": 1_700_000_000u64, "owned_by": "airisk-tests"}
    ]}))
    .into_response()
}
