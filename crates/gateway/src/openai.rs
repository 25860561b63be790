//! The OpenAI wire format as far as the gateway needs it: which texts of a request or a
//! response to check, at which stage, and how to write a redaction back in place. Bodies
//! stay `serde_json::Value`s (with key order preserved), so fields the gateway does not know
//! pass through untouched. No IO.

use serde_json::{json, Map, Value};

/// A request the gateway refuses before calling the upstream (becomes a 400).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestError {
    pub message: String,
    pub param: Option<String>,
}

impl RequestError {
    fn new(message: impl Into<String>, param: Option<&str>) -> Self {
        RequestError {
            message: message.into(),
            param: param.map(str::to_string),
        }
    }
}

/// An OpenAI-style error body: `{"error":{"message","type","param","code"}}`.
pub fn error_body(message: &str, kind: &str, param: Option<&str>, code: Option<&str>) -> Value {
    json!({"error": {"message": message, "type": kind, "param": param, "code": code}})
}

/// Where a text to check sits, and which stage it goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemKind {
    /// A user (`system == false`) or system/developer message: the input stage.
    Prompt { system: bool },
    /// Retrieved content (a configured marker): the context stage.
    Context,
    /// A tool result (`role: tool`): the context stage.
    ToolResult { name: String },
}

/// One text inside a body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// JSON pointer of the string, for rewriting it.
    pub pointer: String,
    /// The same place as OpenAI names parameters (`messages[2].content`).
    pub param: String,
    pub kind: ItemKind,
}

/// A parsed chat completion request.
#[derive(Debug, Clone)]
pub struct ChatRequest {
    pub body: Value,
    pub model: Option<String>,
    pub stream: bool,
}

/// Parses and shape-checks a chat completion request body.
pub fn parse_chat(bytes: &[u8]) -> Result<ChatRequest, RequestError> {
    let body: Value = serde_json::from_slice(bytes)
        .map_err(|e| RequestError::new(format!("the request body is not valid JSON: {e}"), None))?;
    let obj = body
        .as_object()
        .ok_or_else(|| RequestError::new("the request body must be a JSON object", None))?;
    let model = optional_string(obj, "model")?;
    let stream = match obj.get("stream") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(RequestError::new(
                "`stream` must be a boolean",
                Some("stream"),
            ))
        }
    };
    let messages = obj
        .get("messages")
        .ok_or_else(|| RequestError::new("`messages` is required", Some("messages")))?
        .as_array()
        .ok_or_else(|| RequestError::new("`messages` must be an array", Some("messages")))?;
    for (i, m) in messages.iter().enumerate() {
        let param = format!("messages[{i}]");
        let m = m
            .as_object()
            .ok_or_else(|| RequestError::new("each message must be an object", Some(&param)))?;
        if !matches!(m.get("role"), Some(Value::String(_))) {
            return Err(RequestError::new(
                "each message needs a string `role`",
                Some(&format!("{param}.role")),
            ));
        }
        match m.get("content") {
            None | Some(Value::Null) | Some(Value::String(_)) => {}
            Some(Value::Array(parts)) => {
                for (j, p) in parts.iter().enumerate() {
                    let pp = format!("{param}.content[{j}]");
                    let p = p.as_object().ok_or_else(|| {
                        RequestError::new("each content part must be an object", Some(&pp))
                    })?;
                    if p.get("type").and_then(Value::as_str) == Some("text")
                        && !matches!(p.get("text"), Some(Value::String(_)))
                    {
                        return Err(RequestError::new(
                            "a text part needs a string `text`",
                            Some(&format!("{pp}.text")),
                        ));
                    }
                }
            }
            Some(_) => {
                return Err(RequestError::new(
                    "`content` must be a string, an array of parts or null",
                    Some(&format!("{param}.content")),
                ))
            }
        }
    }
    Ok(ChatRequest {
        body,
        model,
        stream,
    })
}

fn optional_string(obj: &Map<String, Value>, key: &str) -> Result<Option<String>, RequestError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(RequestError::new(
            format!("`{key}` must be a string"),
            Some(key),
        )),
    }
}

/// The texts of a (shape-checked) chat request to check, in message order.
/// `context_roles` are checked at the context stage; so is any message whose text starts
/// with `marker`. Assistant messages (earlier model turns) are not checked again.
pub fn chat_items(body: &Value, context_roles: &[String], marker: Option<&str>) -> Vec<Item> {
    let mut items = Vec::new();
    let Some(messages) = body.get("messages").and_then(Value::as_array) else {
        return items;
    };
    for (i, m) in messages.iter().enumerate() {
        let role = m.get("role").and_then(Value::as_str).unwrap_or("");
        let kind = if context_roles.iter().any(|r| r == role) {
            let name = m
                .get("name")
                .or_else(|| m.get("tool_call_id"))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            ItemKind::ToolResult { name }
        } else {
            match role {
                "user" => ItemKind::Prompt { system: false },
                "system" | "developer" => ItemKind::Prompt { system: true },
                _ => continue,
            }
        };
        let mut push = |pointer: String, param: String, text: &str| {
            let kind = match (&kind, marker) {
                (ItemKind::Prompt { .. }, Some(mk)) if text.starts_with(mk) => ItemKind::Context,
                _ => kind.clone(),
            };
            items.push(Item {
                pointer,
                param,
                kind,
            });
        };
        match m.get("content") {
            Some(Value::String(s)) => push(
                format!("/messages/{i}/content"),
                format!("messages[{i}].content"),
                s,
            ),
            Some(Value::Array(parts)) => {
                for (j, p) in parts.iter().enumerate() {
                    if let Some(Value::String(s)) = p.get("text") {
                        push(
                            format!("/messages/{i}/content/{j}/text"),
                            format!("messages[{i}].content[{j}].text"),
                            s,
                        );
                    }
                }
            }
            _ => {}
        }
    }
    items
}

/// A parsed embeddings request: its model and the texts of `input`.
pub fn parse_embeddings(bytes: &[u8]) -> Result<(Value, Option<String>, Vec<Item>), RequestError> {
    let body: Value = serde_json::from_slice(bytes)
        .map_err(|e| RequestError::new(format!("the request body is not valid JSON: {e}"), None))?;
    let obj = body
        .as_object()
        .ok_or_else(|| RequestError::new("the request body must be a JSON object", None))?;
    let model = optional_string(obj, "model")?;
    let mut items = Vec::new();
    match obj.get("input") {
        Some(Value::String(_)) => items.push(Item {
            pointer: "/input".into(),
            param: "input".into(),
            kind: ItemKind::Prompt { system: false },
        }),
        Some(Value::Array(list)) => {
            for (i, v) in list.iter().enumerate() {
                match v {
                    Value::String(_) => items.push(Item {
                        pointer: format!("/input/{i}"),
                        param: format!("input[{i}]"),
                        kind: ItemKind::Prompt { system: false },
                    }),
                    // Token ids (numbers or arrays of numbers) carry no text to check.
                    Value::Number(_) | Value::Array(_) => {}
                    _ => {
                        return Err(RequestError::new(
                            "`input` items must be strings or token arrays",
                            Some(&format!("input[{i}]")),
                        ))
                    }
                }
            }
        }
        Some(_) => {
            return Err(RequestError::new(
                "`input` must be a string or an array",
                Some("input"),
            ))
        }
        None => return Err(RequestError::new("`input` is required", Some("input"))),
    }
    Ok((body, model, items))
}

/// The string at `pointer`, if it is one.
pub fn text_at<'a>(body: &'a Value, pointer: &str) -> Option<&'a str> {
    body.pointer(pointer).and_then(Value::as_str)
}

/// Replaces the string at `pointer` (a redaction in place).
pub fn set_text(body: &mut Value, pointer: &str, text: String) -> bool {
    match body.pointer_mut(pointer) {
        Some(slot @ Value::String(_)) => {
            *slot = Value::String(text);
            true
        }
        _ => false,
    }
}

/// Caps `max_tokens` / `max_completion_tokens` at `cap`, setting `max_tokens` when neither
/// is given. Returns whether the body changed.
pub fn cap_max_tokens(body: &mut Value, cap: u64) -> bool {
    let Some(obj) = body.as_object_mut() else {
        return false;
    };
    let mut changed = false;
    let mut seen = false;
    for key in ["max_tokens", "max_completion_tokens"] {
        if let Some(v) = obj.get_mut(key) {
            if v.is_null() {
                continue;
            }
            seen = true;
            if v.as_u64().is_none_or(|n| n > cap) {
                *v = Value::from(cap);
                changed = true;
            }
        }
    }
    if !seen {
        obj.insert("max_tokens".into(), Value::from(cap));
        changed = true;
    }
    changed
}

/// Token usage as the upstream reports it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Usage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub total_tokens: u64,
}

impl Usage {
    pub fn from_value(v: &Value) -> Option<Usage> {
        let u = v.get("usage")?;
        if !u.is_object() {
            return None;
        }
        let n = |k: &str| u.get(k).and_then(Value::as_u64).unwrap_or(0);
        Some(Usage {
            prompt_tokens: n("prompt_tokens"),
            completion_tokens: n("completion_tokens"),
            total_tokens: n("total_tokens"),
        })
    }
}

/// The model the upstream reports in a response or chunk.
pub fn response_model(v: &Value) -> Option<String> {
    v.get("model").and_then(Value::as_str).map(str::to_string)
}

/// A tool call in a response.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolCall {
    /// Index of the choice and of the call within `message.tool_calls`.
    pub choice: usize,
    pub index: usize,
    pub id: String,
    pub name: String,
    /// The arguments string as sent (JSON text, by the API's contract).
    pub arguments: String,
}

impl ToolCall {
    /// The arguments as JSON; text that is not JSON is kept as a string, which a tool schema
    /// then rejects.
    pub fn arguments_json(&self) -> Value {
        if self.arguments.trim().is_empty() {
            return Value::Object(Map::new());
        }
        serde_json::from_str(&self.arguments)
            .unwrap_or_else(|_| Value::String(self.arguments.clone()))
    }
}

/// Output texts (`choices[i].message.content`) of a non-streaming response, as pointers.
pub fn response_outputs(resp: &Value) -> Vec<Item> {
    let mut items = Vec::new();
    if let Some(choices) = resp.get("choices").and_then(Value::as_array) {
        for (i, c) in choices.iter().enumerate() {
            if let Some(Value::String(_)) = c.pointer("/message/content") {
                items.push(Item {
                    pointer: format!("/choices/{i}/message/content"),
                    param: format!("choices[{i}].message.content"),
                    kind: ItemKind::Prompt { system: false },
                });
            }
        }
    }
    items
}

/// Tool calls (`choices[i].message.tool_calls`) of a non-streaming response.
pub fn response_tool_calls(resp: &Value) -> Vec<ToolCall> {
    let mut calls = Vec::new();
    if let Some(choices) = resp.get("choices").and_then(Value::as_array) {
        for (i, c) in choices.iter().enumerate() {
            if let Some(list) = c.pointer("/message/tool_calls").and_then(Value::as_array) {
                for (j, t) in list.iter().enumerate() {
                    let s = |p: &str| {
                        t.pointer(p)
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_string()
                    };
                    calls.push(ToolCall {
                        choice: i,
                        index: j,
                        id: s("/id"),
                        name: s("/function/name"),
                        arguments: s("/function/arguments"),
                    });
                }
            }
        }
    }
    calls
}

/// Removes the given tool calls `(choice, index)` from a response. A choice left without
/// calls loses its `tool_calls` field, gets `finish_reason: "stop"`, and — when it had no
/// text — a short note naming the removed tools, so the result is still a valid completion.
pub fn remove_tool_calls(resp: &mut Value, remove: &[(usize, usize)], notes: &[(usize, String)]) {
    let Some(choices) = resp.get_mut("choices").and_then(Value::as_array_mut) else {
        return;
    };
    for (i, c) in choices.iter_mut().enumerate() {
        let mut drop: Vec<usize> = remove.iter().filter(|r| r.0 == i).map(|r| r.1).collect();
        if drop.is_empty() {
            continue;
        }
        drop.sort_unstable();
        let Some(msg) = c.get_mut("message").and_then(Value::as_object_mut) else {
            continue;
        };
        let left = match msg.get_mut("tool_calls").and_then(Value::as_array_mut) {
            Some(list) => {
                for j in drop.iter().rev() {
                    if *j < list.len() {
                        list.remove(*j);
                    }
                }
                list.len()
            }
            None => continue,
        };
        if left == 0 {
            msg.remove("tool_calls");
            if msg.get("content").is_none_or(Value::is_null) {
                let names: Vec<&str> = notes
                    .iter()
                    .filter(|n| n.0 == i)
                    .map(|n| n.1.as_str())
                    .collect();
                msg.insert("content".into(), Value::String(removed_note(&names)));
            }
            if let Some(obj) = c.as_object_mut() {
                obj.insert("finish_reason".into(), Value::String("stop".into()));
            }
        }
    }
}

/// The text put in place of removed tool calls.
pub fn removed_note(names: &[&str]) -> String {
    format!(
        "[airisk: the tool call{} {} {} removed by policy]",
        if names.len() == 1 { "" } else { "s" },
        names
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", "),
        if names.len() == 1 { "was" } else { "were" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_items_by_stage() {
        let body = json!({"model": "m", "messages": [
            {"role": "system", "content": "be nice"},
            {"role": "user", "content": [{"type": "text", "text": "hi"}, {"type": "image_url", "image_url": {"url": "x"}}]},
            {"role": "assistant", "content": "earlier"},
            {"role": "tool", "tool_call_id": "c1", "content": "result"},
            {"role": "user", "content": "<<doc>> retrieved text"},
        ]});
        let bytes = serde_json::to_vec(&body).unwrap();
        let req = parse_chat(&bytes).unwrap();
        assert_eq!(req.model.as_deref(), Some("m"));
        let items = chat_items(&req.body, &["tool".into()], Some("<<doc>>"));
        let kinds: Vec<_> = items.iter().map(|i| (i.param.as_str(), &i.kind)).collect();
        assert_eq!(
            kinds,
            vec![
                ("messages[0].content", &ItemKind::Prompt { system: true }),
                (
                    "messages[1].content[0].text",
                    &ItemKind::Prompt { system: false }
                ),
                (
                    "messages[3].content",
                    &ItemKind::ToolResult { name: "c1".into() }
                ),
                ("messages[4].content", &ItemKind::Context),
            ]
        );
        let mut b = req.body.clone();
        assert!(set_text(&mut b, &items[1].pointer, "HI".into()));
        assert_eq!(text_at(&b, "/messages/1/content/0/text"), Some("HI"));
    }

    #[test]
    fn shape_errors_name_the_param() {
        let e = parse_chat(b"{not json").unwrap_err();
        assert!(e.message.contains("not valid JSON"));
        let e = parse_chat(br#"{"messages": 3}"#).unwrap_err();
        assert_eq!(e.param.as_deref(), Some("messages"));
        let e = parse_chat(br#"{"messages": [{"role": "user", "content": 5}]}"#).unwrap_err();
        assert_eq!(e.param.as_deref(), Some("messages[0].content"));
        let e = parse_chat(br#"{"messages": [], "stream": "yes"}"#).unwrap_err();
        assert_eq!(e.param.as_deref(), Some("stream"));
        let e = parse_chat(br#"[1]"#).unwrap_err();
        assert!(e.message.contains("object"));
        let e = parse_embeddings(br#"{"input": {"a": 1}}"#).unwrap_err();
        assert_eq!(e.param.as_deref(), Some("input"));
    }

    #[test]
    fn caps_max_tokens() {
        let mut b = json!({"max_tokens": 5000});
        assert!(cap_max_tokens(&mut b, 100));
        assert_eq!(b["max_tokens"], 100);
        let mut b = json!({"max_tokens": 50});
        assert!(!cap_max_tokens(&mut b, 100));
        let mut b = json!({});
        assert!(cap_max_tokens(&mut b, 100));
        assert_eq!(b["max_tokens"], 100);
        let mut b = json!({"max_completion_tokens": 500});
        assert!(cap_max_tokens(&mut b, 100));
        assert_eq!(b["max_completion_tokens"], 100);
        assert!(b.get("max_tokens").is_none());
    }

    #[test]
    fn removes_tool_calls_keeping_a_valid_response() {
        let mut r = json!({"choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
        "role": "assistant", "content": null, "tool_calls": [
            {"id": "a", "type": "function", "function": {"name": "shell", "arguments": "{}"}},
            {"id": "b", "type": "function", "function": {"name": "search", "arguments": "{\"query\":\"x\"}"}}
        ]}}]});
        let calls = response_tool_calls(&r);
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[1].arguments_json(), json!({"query": "x"}));
        remove_tool_calls(&mut r, &[(0, 0)], &[(0, "shell".into())]);
        assert_eq!(
            r["choices"][0]["message"]["tool_calls"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
        assert_eq!(r["choices"][0]["finish_reason"], "tool_calls");
        remove_tool_calls(&mut r, &[(0, 0)], &[(0, "search".into())]);
        assert!(r["choices"][0]["message"].get("tool_calls").is_none());
        assert_eq!(r["choices"][0]["finish_reason"], "stop");
        assert!(r["choices"][0]["message"]["content"]
            .as_str()
            .unwrap()
            .contains("`search`"));
    }
}
