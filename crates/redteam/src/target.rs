//! The IO edge: sending cases to a target with concurrency, a rate limit, retries with
//! exponential backoff, timeouts, a progress bar and a resumable journal.
//!
//! Targets: an OpenAI-compatible chat endpoint, a generic HTTP JSON endpoint (request
//! template + JSON pointer to the answer), and a command (prompt on stdin, answer on stdout).

use crate::cases::{Case, Observed};
use crate::judges::ToolCall;
use crate::suite::Via;
use crate::{RedteamError, Result};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Where cases are sent.
#[derive(Debug, Clone)]
pub enum Target {
    /// `POST {base}/chat/completions`.
    OpenAi {
        base_url: String,
        model: String,
        api_key: Option<String>,
        /// Send the suite's system prompt as the first message.
        send_system_prompt: bool,
    },
    /// `POST url` with `template`, where every string containing `{{prompt}}`, `{{system}}` or
    /// `{{document}}` has them replaced; the answer is read at `answer_pointer`.
    Http {
        url: String,
        template: Value,
        answer_pointer: String,
        tool_calls_pointer: Option<String>,
        headers: Vec<(String, String)>,
    },
    /// A program run once per case: the prompt (after the document, if any) on stdin, the
    /// answer on stdout.
    Command { program: String, args: Vec<String> },
}

impl Target {
    /// A description without credentials, for reports and the journal fingerprint.
    pub fn describe(&self) -> String {
        match self {
            Target::OpenAi {
                base_url, model, ..
            } => format!("openai:{base_url} (model {model})"),
            Target::Http { url, .. } => format!("http:{url}"),
            Target::Command { program, args } => format!("command:{program} {}", args.join(" "))
                .trim_end()
                .to_string(),
        }
    }
}

/// How to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub concurrency: usize,
    /// Requests per second, at most (`None`: unlimited).
    pub rate_limit: Option<f64>,
    /// Retries after the first attempt, on timeouts, connection errors, 429 and 5xx.
    pub retries: u32,
    pub timeout: Duration,
    /// First backoff delay; doubled each retry.
    pub backoff: Duration,
    /// Draw a progress bar on standard error (only when it is a terminal).
    pub progress: bool,
    /// Run directory: `journal.jsonl` there makes the run resumable.
    pub run_dir: Option<PathBuf>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            concurrency: 8,
            rate_limit: None,
            retries: 3,
            timeout: Duration::from_secs(60),
            backoff: Duration::from_millis(250),
            progress: true,
            run_dir: None,
        }
    }
}

/// What the harness plants in every request.
#[derive(Debug, Clone, Default)]
pub struct Plant {
    pub system_prompt: Option<String>,
    pub tools: Vec<Value>,
}

/// One finished case, as journaled.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Outcome {
    pub case_id: String,
    /// `Err` holds the last error message.
    pub result: std::result::Result<Observed, String>,
    pub attempts: u32,
    pub latency_ms: u64,
}

enum SendError {
    /// Worth retrying (timeout, connection, 429, 5xx).
    Transient(String),
    Fatal(String),
}

/// Sends every case; cases already completed in the run directory's journal are not sent
/// again. Returns one outcome per case, in case order.
pub async fn run(
    target: &Target,
    plant: &Plant,
    cases: &[Case],
    fingerprint: &str,
    opts: &RunOptions,
) -> Result<Vec<Outcome>> {
    let mut done: HashMap<String, Outcome> = HashMap::new();
    let journal = match &opts.run_dir {
        Some(dir) => Some(Arc::new(Mutex::new(open_journal(
            dir,
            fingerprint,
            &mut done,
        )?))),
        None => None,
    };
    let client = reqwest::Client::builder()
        .timeout(opts.timeout)
        .build()
        .map_err(|e| RedteamError::Target(format!("building the HTTP client: {e}")))?;
    let todo: Vec<&Case> = cases.iter().filter(|c| !done.contains_key(&c.id)).collect();
    let bar = progress_bar(todo.len() as u64, opts.progress);
    let sem = Arc::new(tokio::sync::Semaphore::new(opts.concurrency.max(1)));
    let next_slot = Arc::new(tokio::sync::Mutex::new(Instant::now()));
    let target = Arc::new(target.clone());
    let plant = Arc::new(plant.clone());
    let mut set = tokio::task::JoinSet::new();
    for case in todo {
        let (sem, next_slot, target, plant, client, journal, bar) = (
            sem.clone(),
            next_slot.clone(),
            target.clone(),
            plant.clone(),
            client.clone(),
            journal.clone(),
            bar.clone(),
        );
        let case = case.clone();
        let opts = opts.clone();
        set.spawn(async move {
            let _permit = sem.acquire_owned().await.ok();
            let started = Instant::now();
            let mut attempts = 0u32;
            let result = loop {
                if let Some(rps) = opts.rate_limit.filter(|r| *r > 0.0) {
                    let wait = {
                        let mut slot = next_slot.lock().await;
                        let now = Instant::now();
                        let at = (*slot).max(now);
                        *slot = at + Duration::from_secs_f64(1.0 / rps);
                        at - now
                    };
                    tokio::time::sleep(wait).await;
                }
                attempts += 1;
                let sent =
                    tokio::time::timeout(opts.timeout, send(&target, &plant, &client, &case)).await;
                match sent {
                    Ok(Ok(obs)) => break Ok(obs),
                    Ok(Err(SendError::Fatal(m))) => break Err(m),
                    Ok(Err(SendError::Transient(m))) if attempts > opts.retries => break Err(m),
                    Err(_) if attempts > opts.retries => {
                        break Err(format!("timed out after {} s", opts.timeout.as_secs_f64()))
                    }
                    _ => {
                        let delay = opts.backoff.saturating_mul(1u32 << (attempts - 1).min(10));
                        tokio::time::sleep(delay).await;
                    }
                }
            };
            let out = Outcome {
                case_id: case.id.clone(),
                result,
                attempts,
                latency_ms: started.elapsed().as_millis() as u64,
            };
            // Only completed cases are journaled: errors are retried on the next run.
            if let (Some(j), Ok(_)) = (&journal, &out.result) {
                if let Ok(mut f) = j.lock() {
                    if let Ok(line) = serde_json::to_string(&out) {
                        let _ = writeln!(f, "{line}");
                        let _ = f.flush();
                    }
                }
            }
            bar.inc(1);
            out
        });
    }
    while let Some(r) = set.join_next().await {
        match r {
            Ok(o) => {
                done.insert(o.case_id.clone(), o);
            }
            Err(e) => return Err(RedteamError::Target(format!("a worker failed: {e}"))),
        }
    }
    bar.finish_and_clear();
    Ok(cases
        .iter()
        .map(|c| {
            done.remove(&c.id).unwrap_or_else(|| Outcome {
                case_id: c.id.clone(),
                result: Err("not run".into()),
                attempts: 0,
                latency_ms: 0,
            })
        })
        .collect())
}

fn progress_bar(n: u64, wanted: bool) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if !wanted || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(n);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} cases ({per_sec}, eta {eta})",
    ) {
        bar.set_style(style);
    }
    bar
}

const JOURNAL: &str = "journal.jsonl";

#[derive(Serialize, Deserialize)]
struct JournalHeader {
    journal: String,
    fingerprint: String,
}

/// Opens (or creates) the journal, loading completed cases. A journal of another run
/// (different suite, converters, seed or target) is refused rather than mixed in.
fn open_journal(
    dir: &Path,
    fingerprint: &str,
    done: &mut HashMap<String, Outcome>,
) -> Result<std::fs::File> {
    std::fs::create_dir_all(dir)
        .map_err(|e| RedteamError::io(format!("creating {}", dir.display()), e))?;
    let path = dir.join(JOURNAL);
    let existing = match std::fs::read_to_string(&path) {
        Ok(t) => Some(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(RedteamError::io(format!("reading {}", path.display()), e)),
    };
    let fresh = existing.as_deref().is_none_or(|t| t.trim().is_empty());
    if let Some(text) = existing.filter(|t| !t.trim().is_empty()) {
        let mut lines = text.lines();
        let header: Option<JournalHeader> = lines.next().and_then(|l| serde_json::from_str(l).ok());
        match header {
            Some(h) if h.fingerprint == fingerprint => {}
            _ => {
                return Err(RedteamError::Input {
                    at: path.display().to_string(),
                    message: "this run directory holds another run (suite, converters, seed or target differ); use another --run-dir or delete it".into(),
                })
            }
        }
        // A torn last line (crash mid-write) is skipped; that case simply runs again.
        for l in lines {
            if let Ok(o) = serde_json::from_str::<Outcome>(l) {
                if o.result.is_ok() {
                    done.insert(o.case_id.clone(), o);
                }
            }
        }
    }
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|e| RedteamError::io(format!("opening {}", path.display()), e))?;
    if fresh {
        let h = JournalHeader {
            journal: "airisk-redteam-journal/1".into(),
            fingerprint: fingerprint.into(),
        };
        let line = serde_json::to_string(&h).unwrap_or_default();
        writeln!(f, "{line}")
            .map_err(|e| RedteamError::io(format!("writing {}", path.display()), e))?;
    } else {
        // Make sure a torn last line does not swallow the next entry.
        writeln!(f).map_err(|e| RedteamError::io(format!("writing {}", path.display()), e))?;
    }
    Ok(f)
}

/// The OpenAI chat messages for a case.
pub fn openai_messages(case: &Case, plant: &Plant, send_system_prompt: bool) -> Vec<Value> {
    let mut m = vec![];
    if send_system_prompt {
        if let Some(sp) = &plant.system_prompt {
            m.push(json!({"role": "system", "content": sp}));
        }
    }
    match &case.document {
        None => m.push(json!({"role": "user", "content": case.prompt})),
        Some(d) if d.via == Via::Document => {
            m.push(json!({"role": "user", "content": format!("Retrieved document (untrusted):\n{}", d.text)}));
            m.push(json!({"role": "user", "content": case.prompt}));
        }
        Some(d) => {
            let args = json!({"query": case.prompt}).to_string();
            m.push(json!({"role": "user", "content": case.prompt}));
            m.push(json!({"role": "assistant", "content": Value::Null, "tool_calls": [{"id": "call_redteam_1", "type": "function", "function": {"name": d.tool, "arguments": args}}]}));
            m.push(json!({"role": "tool", "tool_call_id": "call_redteam_1", "content": d.text}));
        }
    }
    m
}

/// Reads content and tool calls from an OpenAI chat-completion body (or an SSE stream of
/// chunks, for servers that stream regardless).
pub fn parse_openai(body: &str) -> std::result::Result<Observed, String> {
    if body.trim_start().starts_with("data:") {
        let mut content = String::new();
        let mut calls: Vec<(String, String)> = vec![];
        for line in body.lines() {
            let Some(data) = line.strip_prefix("data:").map(str::trim) else {
                continue;
            };
            if data == "[DONE]" {
                break;
            }
            let Ok(v) = serde_json::from_str::<Value>(data) else {
                continue;
            };
            let Some(delta) = v.pointer("/choices/0/delta") else {
                continue;
            };
            if let Some(c) = delta.get("content").and_then(Value::as_str) {
                content.push_str(c);
            }
            for tc in delta
                .get("tool_calls")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let idx = tc
                    .get("index")
                    .and_then(Value::as_u64)
                    .unwrap_or(calls.len() as u64) as usize;
                while calls.len() <= idx.min(64) {
                    calls.push((String::new(), String::new()));
                }
                if let Some(slot) = calls.get_mut(idx.min(64)) {
                    if let Some(n) = tc.pointer("/function/name").and_then(Value::as_str) {
                        slot.0.push_str(n);
                    }
                    if let Some(a) = tc.pointer("/function/arguments").and_then(Value::as_str) {
                        slot.1.push_str(a);
                    }
                }
            }
        }
        return Ok(Observed {
            content,
            tool_calls: calls
                .into_iter()
                .filter(|c| !c.0.is_empty())
                .map(|(n, a)| tool_call(n, &a))
                .collect(),
            blocked: false,
            status: Some(200),
        });
    }
    let v: Value =
        serde_json::from_str(body).map_err(|e| format!("the answer is not JSON: {e}"))?;
    let msg = v
        .pointer("/choices/0/message")
        .ok_or("the answer has no choices[0].message")?;
    let content = msg
        .get("content")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let tool_calls = msg
        .get("tool_calls")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|tc| {
            let name = tc.pointer("/function/name")?.as_str()?.to_string();
            let args = tc
                .pointer("/function/arguments")
                .and_then(Value::as_str)
                .unwrap_or("{}");
            Some(tool_call(name, args))
        })
        .collect();
    Ok(Observed {
        content,
        tool_calls,
        blocked: false,
        status: Some(200),
    })
}

fn tool_call(name: String, args: &str) -> ToolCall {
    let arguments = serde_json::from_str(args).unwrap_or_else(|_| Value::String(args.to_string()));
    ToolCall { name, arguments }
}

/// Replaces `{{prompt}}`, `{{system}}` and `{{document}}` in every string of the template.
pub fn fill_template(template: &Value, prompt: &str, system: &str, document: &str) -> Value {
    match template {
        Value::String(s) => Value::String(
            s.replace("{{prompt}}", prompt)
                .replace("{{system}}", system)
                .replace("{{document}}", document),
        ),
        Value::Array(a) => Value::Array(
            a.iter()
                .map(|v| fill_template(v, prompt, system, document))
                .collect(),
        ),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| (k.clone(), fill_template(v, prompt, system, document)))
                .collect(),
        ),
        v => v.clone(),
    }
}

/// Answers longer than this are cut (memory stays bounded whatever the target sends).
pub const MAX_ANSWER_BYTES: usize = 8 << 20;

async fn read_capped(mut resp: reqwest::Response) -> std::result::Result<String, String> {
    let mut buf: Vec<u8> = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| e.to_string())? {
        let room = MAX_ANSWER_BYTES.saturating_sub(buf.len());
        buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if buf.len() >= MAX_ANSWER_BYTES {
            break;
        }
    }
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

/// A status that means "the app (or its gateway) refused this request".
fn is_block_status(s: u16) -> bool {
    (400..500).contains(&s) && !matches!(s, 401 | 404 | 405 | 407 | 408 | 429)
}

async fn post_json(
    client: &reqwest::Client,
    url: &str,
    body: &Value,
    headers: &[(String, String)],
) -> std::result::Result<(u16, String), SendError> {
    let mut req = client.post(url).json(body);
    for (k, v) in headers {
        req = req.header(k, v);
    }
    let resp = req
        .send()
        .await
        .map_err(|e| SendError::Transient(format!("{url}: {e}")))?;
    let status = resp.status().as_u16();
    let text = read_capped(resp)
        .await
        .map_err(|e| SendError::Transient(format!("{url}: reading the answer: {e}")))?;
    if status == 429 || status >= 500 || status == 408 {
        return Err(SendError::Transient(format!("{url}: HTTP {status}")));
    }
    if !(200..300).contains(&status) && !is_block_status(status) {
        return Err(SendError::Fatal(format!(
            "{url}: HTTP {status}: {}",
            crate::report::clip(&text, 200)
        )));
    }
    Ok((status, text))
}

async fn send(
    target: &Target,
    plant: &Plant,
    client: &reqwest::Client,
    case: &Case,
) -> std::result::Result<Observed, SendError> {
    match target {
        Target::OpenAi {
            base_url,
            model,
            api_key,
            send_system_prompt,
        } => {
            let mut body = json!({
                "model": model,
                "messages": openai_messages(case, plant, *send_system_prompt),
                "temperature": 0,
            });
            if !plant.tools.is_empty() {
                body["tools"] = Value::Array(plant.tools.clone());
            }
            let headers: Vec<(String, String)> = api_key
                .iter()
                .map(|k| ("authorization".to_string(), format!("Bearer {k}")))
                .collect();
            let url = format!("{}/chat/completions", base_url.trim_end_matches('/'));
            let (status, text) = post_json(client, &url, &body, &headers).await?;
            if is_block_status(status) {
                return Ok(Observed {
                    content: String::new(),
                    tool_calls: vec![],
                    blocked: true,
                    status: Some(status),
                });
            }
            parse_openai(&text).map_err(SendError::Fatal)
        }
        Target::Http {
            url,
            template,
            answer_pointer,
            tool_calls_pointer,
            headers,
        } => {
            let doc = case
                .document
                .as_ref()
                .map(|d| d.text.as_str())
                .unwrap_or("");
            let body = fill_template(
                template,
                &case.prompt,
                plant.system_prompt.as_deref().unwrap_or(""),
                doc,
            );
            let (status, text) = post_json(client, url, &body, headers).await?;
            if is_block_status(status) {
                return Ok(Observed {
                    content: String::new(),
                    tool_calls: vec![],
                    blocked: true,
                    status: Some(status),
                });
            }
            let v: Value = serde_json::from_str(&text)
                .map_err(|e| SendError::Fatal(format!("{url}: the answer is not JSON: {e}")))?;
            let content = match v.pointer(answer_pointer) {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Null) => String::new(),
                Some(other) => other.to_string(),
                None => {
                    return Err(SendError::Fatal(format!(
                        "{url}: the answer has nothing at {answer_pointer}"
                    )))
                }
            };
            let tool_calls = tool_calls_pointer
                .as_deref()
                .and_then(|p| v.pointer(p))
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|tc| {
                    let name = tc
                        .get("name")
                        .or_else(|| tc.pointer("/function/name"))?
                        .as_str()?
                        .to_string();
                    let args = tc
                        .get("arguments")
                        .or_else(|| tc.pointer("/function/arguments"))
                        .cloned()
                        .unwrap_or(Value::Null);
                    let arguments = match args {
                        Value::String(s) => serde_json::from_str(&s).unwrap_or(Value::String(s)),
                        v => v,
                    };
                    Some(ToolCall { name, arguments })
                })
                .collect();
            Ok(Observed {
                content,
                tool_calls,
                blocked: false,
                status: Some(status),
            })
        }
        Target::Command { program, args } => {
            use tokio::io::AsyncWriteExt;
            let input = match &case.document {
                Some(d) => format!(
                    "Retrieved document (untrusted):\n{}\n\n{}",
                    d.text, case.prompt
                ),
                None => case.prompt.clone(),
            };
            let mut child = tokio::process::Command::new(program)
                .args(args)
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::null())
                .kill_on_drop(true)
                .spawn()
                .map_err(|e| SendError::Fatal(format!("starting {program}: {e}")))?;
            if let Some(mut stdin) = child.stdin.take() {
                let _ = stdin.write_all(input.as_bytes()).await;
            }
            let mut stdout = Vec::new();
            if let Some(out) = child.stdout.take() {
                use tokio::io::AsyncReadExt;
                let _ = out
                    .take(MAX_ANSWER_BYTES as u64)
                    .read_to_end(&mut stdout)
                    .await;
            }
            let status = child
                .wait()
                .await
                .map_err(|e| SendError::Transient(format!("{program}: {e}")))?;
            if !status.success() {
                return Err(SendError::Transient(format!(
                    "{program} exited with {status}"
                )));
            }
            Ok(Observed {
                content: String::from_utf8_lossy(&stdout).into_owned(),
                tool_calls: vec![],
                blocked: false,
                status: None,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_openai_bodies() {
        let b = r#"{"choices":[{"message":{"role":"assistant","content":null,"tool_calls":[{"id":"c","type":"function","function":{"name":"refund","arguments":"{\"amount\":5}"}}]}}]}"#;
        let o = parse_openai(b).unwrap();
        assert_eq!(o.tool_calls[0].name, "refund");
        assert_eq!(o.tool_calls[0].arguments["amount"], 5);
        let sse = "data: {\"choices\":[{\"delta\":{\"content\":\"he\"}}]}\n\ndata: {\"choices\":[{\"delta\":{\"content\":\"llo\"}}]}\n\ndata: [DONE]\n";
        assert_eq!(parse_openai(sse).unwrap().content, "hello");
        assert!(parse_openai("nope").is_err());
        assert!(parse_openai("{}").is_err());
    }

    #[test]
    fn templates_fill() {
        let t = json!({"input": {"text": "{{system}} / {{prompt}}"}, "n": 1});
        let v = fill_template(&t, "hi \"there\"", "sys", "");
        assert_eq!(v["input"]["text"], "sys / hi \"there\"");
        assert_eq!(v["n"], 1);
    }
}
