//! The gateway configuration: routes, keys, logging and limits. Parsed and validated once;
//! every error names the file and the dotted path of the bad field. No IO here except
//! [`GatewayConfig::load`], which reads the file (and each route's policy file).

use crate::error::GatewayError;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// What the ledger keeps of request and response bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum LogContent {
    /// Metadata and decisions only.
    None,
    /// Metadata, decisions and the SHA-256 of the request and response bodies.
    #[default]
    Hashes,
    /// Also the bodies themselves, in a separate, erasable ledger entry.
    Full,
}

impl LogContent {
    pub fn parse(s: &str) -> Option<LogContent> {
        match s {
            "none" => Some(LogContent::None),
            "hashes" => Some(LogContent::Hashes),
            "full" => Some(LogContent::Full),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            LogContent::None => "none",
            LogContent::Hashes => "hashes",
            LogContent::Full => "full",
        }
    }
}

/// Fail open (let traffic through unchecked) or closed (refuse it) when something fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailMode {
    Open,
    Closed,
}

/// What happens to a tool call the policy refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ToolCallViolation {
    /// The call is removed; the rest of the response stays a valid completion.
    #[default]
    Remove,
    /// The whole response becomes an OpenAI-style error object.
    Error,
}

fn default_listen() -> String {
    "127.0.0.1:8787".into()
}
fn default_max_body() -> usize {
    4 * 1024 * 1024
}
fn default_queue() -> usize {
    65_536
}
fn default_timeout_ms() -> u64 {
    120_000
}
fn default_holdback() -> usize {
    64
}
fn default_context_roles() -> Vec<String> {
    vec!["tool".into(), "function".into()]
}
fn closed() -> FailMode {
    FailMode::Closed
}
fn yes() -> bool {
    true
}

/// The file format (YAML). Unknown fields are errors.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigSpec {
    #[serde(default = "default_listen")]
    pub listen: String,
    /// Threads serving requests, each with its own event loop and upstream connections
    /// (default: one per available core).
    #[serde(default)]
    pub workers: Option<usize>,
    /// Largest request body accepted, in bytes (413 above).
    #[serde(default = "default_max_body")]
    pub max_body_bytes: usize,
    #[serde(default)]
    pub log_content: LogContent,
    /// Payloads of content entries (`log_content: full`) older than this are erased.
    #[serde(default)]
    pub retention_days: Option<u32>,
    /// Capacity of the queue between request handlers and the ledger writer.
    #[serde(default = "default_queue")]
    pub ledger_queue: usize,
    /// When true, requests without a known gateway key are refused with 401.
    #[serde(default)]
    pub require_key: bool,
    #[serde(default)]
    pub keys: Vec<KeySpec>,
    pub routes: Vec<RouteSpec>,
}

/// A gateway key: identifies the calling application (header `x-airisk-key`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeySpec {
    /// The application this key belongs to (logged as the actor).
    pub app: String,
    /// The key itself, or …
    #[serde(default)]
    pub key: Option<String>,
    /// … its lower-case hex SHA-256, so the file holds no secret.
    #[serde(default)]
    pub key_sha256: Option<String>,
    /// Requests per second (sustained) and burst.
    #[serde(default)]
    pub requests_per_second: Option<f64>,
    #[serde(default)]
    pub burst: Option<f64>,
    /// Completion tokens per minute, charged from the usage the upstream reports.
    #[serde(default)]
    pub tokens_per_minute: Option<f64>,
    /// `max_tokens` of every request is capped at this.
    #[serde(default)]
    pub max_tokens: Option<u64>,
}

/// One route: which requests, which upstream, which policy.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteSpec {
    pub name: String,
    /// Path prefix: `/team-a` serves `/team-a/v1/chat/completions`.
    #[serde(default)]
    pub path: Option<String>,
    /// Model names this route serves; a trailing `*` matches a prefix.
    #[serde(default)]
    pub models: Vec<String>,
    /// Upstream base URL including the version, e.g. `https://api.openai.com/v1`.
    pub upstream: String,
    /// Policy file (relative to the config file), or `default` for the built-in policy.
    pub policy: String,
    /// The register's AI system id, recorded on every ledger entry.
    #[serde(default)]
    pub system: Option<String>,
    #[serde(default)]
    pub tool_call_violation: ToolCallViolation,
    /// Message roles whose content is checked at the context stage.
    #[serde(default = "default_context_roles")]
    pub context_roles: Vec<String>,
    /// A message whose text starts with this marker is checked at the context stage.
    #[serde(default)]
    pub context_marker: Option<String>,
    /// A plain answer must be complete within this; a stream must start within it and never
    /// pause longer.
    #[serde(default = "default_timeout_ms")]
    pub upstream_timeout_ms: u64,
    /// Caps `max_tokens` for every request on this route.
    #[serde(default)]
    pub max_tokens: Option<u64>,
    /// Bytes of streamed output held back so that a secret split across chunks is caught.
    #[serde(default = "default_holdback")]
    pub stream_holdback_bytes: usize,
    /// The request's system and developer messages also count as the system prompt the answer
    /// must not leak (for the policy's `leakage` detector at the output stage), so the policy
    /// need not repeat each application's prompt.
    #[serde(default = "yes")]
    pub system_prompt_from_request: bool,
    #[serde(default)]
    pub fail: FailSpec,
}

/// Fail-open or fail-closed, separately per kind of failure.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FailSpec {
    /// An upstream answer that cannot be inspected (2xx that is not valid JSON, a broken
    /// stream): `open` forwards it unchecked, `closed` answers 502.
    #[serde(default = "closed")]
    pub upstream: FailMode,
    /// The guard failed (a panic inside a check): `open` forwards unchecked, `closed` refuses.
    #[serde(default = "closed")]
    pub guard: FailMode,
    /// The ledger queue is full: `open` serves and counts the lost record, `closed` answers 503.
    #[serde(default = "closed")]
    pub ledger: FailMode,
}

impl Default for FailSpec {
    fn default() -> Self {
        FailSpec {
            upstream: FailMode::Closed,
            guard: FailMode::Closed,
            ledger: FailMode::Closed,
        }
    }
}

/// A validated configuration. Routes keep their policy text; the server compiles it.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    pub spec: ConfigSpec,
    /// Policy YAML per route, in route order.
    pub policies: Vec<String>,
    /// Where the config came from (for messages).
    pub source: String,
}

impl GatewayConfig {
    /// Reads and validates a YAML config file; policy paths are relative to its folder.
    pub fn load(path: &Path) -> Result<GatewayConfig, GatewayError> {
        let text = std::fs::read_to_string(path).map_err(|e| GatewayError::Config {
            source_name: path.display().to_string(),
            path: "(file)".into(),
            message: e.to_string(),
        })?;
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let spec = parse_spec(&text, &path.display().to_string())?;
        GatewayConfig::from_spec(spec, &base, &path.display().to_string())
    }

    /// One route from command-line flags.
    pub fn single(
        listen: String,
        upstream: String,
        policy: String,
        system: Option<String>,
    ) -> Result<GatewayConfig, GatewayError> {
        let spec = ConfigSpec {
            listen,
            workers: None,
            max_body_bytes: default_max_body(),
            log_content: LogContent::default(),
            retention_days: None,
            ledger_queue: default_queue(),
            require_key: false,
            keys: vec![],
            routes: vec![RouteSpec {
                name: "default".into(),
                path: None,
                models: vec![],
                upstream,
                policy,
                system,
                tool_call_violation: ToolCallViolation::default(),
                context_roles: default_context_roles(),
                context_marker: None,
                upstream_timeout_ms: default_timeout_ms(),
                max_tokens: None,
                stream_holdback_bytes: default_holdback(),
                system_prompt_from_request: true,
                fail: FailSpec::default(),
            }],
        };
        GatewayConfig::from_spec(spec, Path::new(""), "command line")
    }

    /// Validates a parsed spec and reads each route's policy file.
    pub fn from_spec(
        spec: ConfigSpec,
        base: &Path,
        source: &str,
    ) -> Result<GatewayConfig, GatewayError> {
        validate(&spec, source)?;
        let mut policies = Vec::with_capacity(spec.routes.len());
        for (i, route) in spec.routes.iter().enumerate() {
            policies.push(read_policy(&route.policy, base).map_err(|message| {
                GatewayError::Config {
                    source_name: source.into(),
                    path: format!("routes[{i}].policy"),
                    message,
                }
            })?);
        }
        Ok(GatewayConfig {
            spec,
            policies,
            source: source.into(),
        })
    }
}

fn read_policy(policy: &str, base: &Path) -> Result<String, String> {
    if policy == "default" {
        return Ok(airisk_guard::DEFAULT_POLICY.to_string());
    }
    let path: PathBuf = if Path::new(policy).is_absolute() {
        PathBuf::from(policy)
    } else {
        base.join(policy)
    };
    std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// Parses config YAML (no file access); errors carry `source` and the field path.
pub fn parse_spec(text: &str, source: &str) -> Result<ConfigSpec, GatewayError> {
    let de = serde_yaml_ng::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        GatewayError::Config {
            source_name: source.into(),
            path: if path == "." || path.is_empty() {
                "(root)".into()
            } else {
                path
            },
            message: e.into_inner().to_string(),
        }
    })
}

/// Checks the rules serde cannot express.
pub fn validate(spec: &ConfigSpec, source: &str) -> Result<(), GatewayError> {
    let err = |path: String, message: &str| GatewayError::Config {
        source_name: source.into(),
        path,
        message: message.into(),
    };
    if spec.routes.is_empty() {
        return Err(err("routes".into(), "at least one route is needed"));
    }
    if spec.max_body_bytes == 0 {
        return Err(err("max_body_bytes".into(), "must be above 0"));
    }
    if spec.ledger_queue == 0 {
        return Err(err("ledger_queue".into(), "must be above 0"));
    }
    if let Some(w) = spec.workers {
        if !(1..=1024).contains(&w) {
            return Err(err("workers".into(), "must be between 1 and 1024"));
        }
    }
    let mut names = std::collections::HashSet::new();
    for (i, r) in spec.routes.iter().enumerate() {
        let at = |f: &str| format!("routes[{i}].{f}");
        if r.name.trim().is_empty() {
            return Err(err(at("name"), "must not be empty"));
        }
        if !names.insert(r.name.as_str()) {
            return Err(err(at("name"), "another route has this name"));
        }
        if !(r.upstream.starts_with("http://") || r.upstream.starts_with("https://")) {
            return Err(err(at("upstream"), "must be an http:// or https:// URL"));
        }
        if reqwest::Url::parse(&r.upstream).is_err() {
            return Err(err(at("upstream"), "is not a valid URL"));
        }
        if let Some(p) = &r.path {
            if !p.starts_with('/') || p.len() < 2 || p.ends_with('/') || p.contains("/v1") {
                return Err(err(
                    at("path"),
                    "must look like `/name` (a leading slash, no trailing slash, not /v1)",
                ));
            }
        }
        for (j, m) in r.models.iter().enumerate() {
            if m.is_empty() || m[..m.len().saturating_sub(1)].contains('*') {
                return Err(err(
                    format!("routes[{i}].models[{j}]"),
                    "a model name, optionally ending in `*`",
                ));
            }
        }
        if r.upstream_timeout_ms == 0 {
            return Err(err(at("upstream_timeout_ms"), "must be above 0"));
        }
        if r.stream_holdback_bytes > 64 * 1024 {
            return Err(err(at("stream_holdback_bytes"), "at most 65536"));
        }
        if let Some(m) = &r.context_marker {
            if m.is_empty() {
                return Err(err(at("context_marker"), "must not be empty"));
            }
        }
        if r.system.as_deref().is_some_and(|s| s.trim().is_empty()) {
            return Err(err(at("system"), "must not be empty"));
        }
    }
    for (i, k) in spec.keys.iter().enumerate() {
        let at = |f: &str| format!("keys[{i}].{f}");
        if k.app.trim().is_empty() {
            return Err(err(at("app"), "must not be empty"));
        }
        match (&k.key, &k.key_sha256) {
            (Some(_), Some(_)) | (None, None) => {
                return Err(err(at("key"), "give exactly one of `key` and `key_sha256`"))
            }
            (Some(key), None) if key.len() < 8 => {
                return Err(err(at("key"), "at least 8 characters"))
            }
            (None, Some(h)) if h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit()) => {
                return Err(err(at("key_sha256"), "64 hex digits"))
            }
            _ => {}
        }
        for (f, v) in [
            ("requests_per_second", k.requests_per_second),
            ("burst", k.burst),
            ("tokens_per_minute", k.tokens_per_minute),
        ] {
            if v.is_some_and(|v| !(v.is_finite() && v > 0.0)) {
                return Err(err(at(f), "must be a number above 0"));
            }
        }
        if k.max_tokens == Some(0) {
            return Err(err(at("max_tokens"), "must be above 0"));
        }
    }
    Ok(())
}

/// Which route serves a request: a route whose `path` prefixes the request path first,
/// then the first route listing the model, then the first route with neither paths nor
/// models (the default). Returns the route index and the path with the prefix removed.
pub fn select_route<'p>(
    routes: &[RouteSpec],
    path: &'p str,
    model: Option<&str>,
) -> Option<(usize, &'p str)> {
    for (i, r) in routes.iter().enumerate() {
        if let Some(prefix) = &r.path {
            if let Some(rest) = path.strip_prefix(prefix.as_str()) {
                if rest.starts_with('/') {
                    return Some((i, rest));
                }
            }
        }
    }
    if let Some(model) = model {
        for (i, r) in routes.iter().enumerate() {
            if r.path.is_none() && r.models.iter().any(|m| model_matches(m, model)) {
                return Some((i, path));
            }
        }
    }
    routes
        .iter()
        .position(|r| r.path.is_none() && r.models.is_empty())
        .map(|i| (i, path))
}

fn model_matches(pattern: &str, model: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => model.starts_with(prefix),
        None => pattern == model,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: &str = r#"
listen: 127.0.0.1:9000
routes:
  - name: a
    path: /team-a
    upstream: http://127.0.0.1:1/v1
    policy: default
  - name: gpt
    models: ["gpt-4o*"]
    upstream: https://api.openai.com/v1
    policy: default
    system: SYS-1
  - name: fallback
    upstream: http://127.0.0.1:2/v1
    policy: default
"#;

    #[test]
    fn parses_and_selects_routes() {
        let spec = parse_spec(OK, "g.yaml").unwrap();
        validate(&spec, "g.yaml").unwrap();
        let r = &spec.routes;
        assert_eq!(
            select_route(r, "/team-a/v1/chat/completions", Some("gpt-4o")),
            Some((0, "/v1/chat/completions"))
        );
        assert_eq!(
            select_route(r, "/v1/chat/completions", Some("gpt-4o-mini")),
            Some((1, "/v1/chat/completions"))
        );
        assert_eq!(
            select_route(r, "/v1/chat/completions", Some("llama")),
            Some((2, "/v1/chat/completions"))
        );
        assert_eq!(
            select_route(r, "/team-ab/v1/chat/completions", None),
            Some((2, "/team-ab/v1/chat/completions"))
        );
        assert_eq!(spec.routes[0].fail.upstream, FailMode::Closed);
        assert_eq!(spec.log_content, LogContent::Hashes);
    }

    #[test]
    fn errors_name_file_and_field() {
        let bad = OK.replace("upstream: https://api.openai.com/v1", "upstream: ftp://x");
        let spec = parse_spec(&bad, "g.yaml").unwrap();
        let e = validate(&spec, "g.yaml").unwrap_err().to_string();
        assert!(
            e.contains("g.yaml") && e.contains("routes[1].upstream"),
            "{e}"
        );

        let bad = OK.replace("    system: SYS-1", "    sytem: SYS-1");
        let e = parse_spec(&bad, "g.yaml").unwrap_err().to_string();
        assert!(e.contains("routes[1]") && e.contains("sytem"), "{e}");

        let bad = OK.replace("    system: SYS-1", "    fail: { upstream: maybe }");
        let e = parse_spec(&bad, "g.yaml").unwrap_err().to_string();
        assert!(e.contains("routes[1].fail.upstream"), "{e}");

        let e = parse_spec("routes: 3", "g.yaml").unwrap_err().to_string();
        assert!(e.contains("routes"), "{e}");
        let e = parse_spec(": : :", "g.yaml").unwrap_err().to_string();
        assert!(e.contains("g.yaml"), "{e}");

        for workers in ["0", "5000"] {
            let spec = parse_spec(&format!("workers: {workers}\n{OK}"), "g.yaml").unwrap();
            let e = validate(&spec, "g.yaml").unwrap_err().to_string();
            assert!(
                e.contains("workers") && e.contains("between 1 and 1024"),
                "{e}"
            );
        }
        let spec = parse_spec(&format!("workers: 4\n{OK}"), "g.yaml").unwrap();
        validate(&spec, "g.yaml").unwrap();
        assert_eq!(spec.workers, Some(4));
    }

    #[test]
    fn key_rules() {
        let text = format!("{OK}keys:\n  - app: bot\n");
        let spec = parse_spec(&text, "g.yaml").unwrap();
        let e = validate(&spec, "g.yaml").unwrap_err().to_string();
        assert!(e.contains("keys[0].key"), "{e}");
        let text = format!("{OK}keys:\n  - {{app: bot, key: abcdefgh, burst: -1}}\n");
        let spec = parse_spec(&text, "g.yaml").unwrap();
        let e = validate(&spec, "g.yaml").unwrap_err().to_string();
        assert!(e.contains("keys[0].burst"), "{e}");
    }

    #[test]
    fn missing_policy_file_names_the_field() {
        let spec = parse_spec(
            &OK.replacen("policy: default", "policy: nope.yaml", 1),
            "g.yaml",
        )
        .unwrap();
        let e = GatewayConfig::from_spec(spec, Path::new("/nonexistent"), "g.yaml")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("routes[0].policy") && e.contains("nope.yaml"),
            "{e}"
        );
    }
}
