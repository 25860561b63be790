//! The IO edge: the HTTP server (axum), the upstream client (reqwest, pooled connections)
//! and the glue between them, the guard and the ledger writer.

use crate::check::{self, Checked};
use crate::config::{select_route, FailMode, GatewayConfig, RouteSpec, ToolCallViolation};
use crate::error::GatewayError;
use crate::ledger::{self, LedgerSink, LedgerWriter};
use crate::metrics::Metrics;
use crate::openai::{self, Item, ItemKind, Usage};
use crate::ratelimit::TokenBucket;
use crate::record::Exchange;
use crate::sse::SseParser;
use crate::stream::{Emit, StreamError, StreamFilter, StreamSettings};
use airisk_guard::{Action, Guard, Input, LeakReference, Stage};
use airisk_store::Store;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use bytes::{Bytes, BytesMut};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Header naming the gateway key of the calling application.
pub const KEY_HEADER: &str = "x-airisk-key";
/// Header naming the prompt/template version, kept in the log.
pub const PROMPT_VERSION_HEADER: &str = "x-airisk-prompt-version";
/// Response header with the gateway's request id (also in the ledger record).
pub const REQUEST_ID_HEADER: &str = "x-airisk-request-id";

/// Inputs with more text than this are checked on the blocking pool, not on a worker.
const BLOCKING_CHECK_BYTES: usize = 64 * 1024;

struct Route {
    spec: RouteSpec,
    guard: Arc<Guard>,
    upstream: String,
    /// Parsed once: parsing a URL per request (IDNA and all) shows in profiles.
    chat_url: reqwest::Url,
    embeddings_url: reqwest::Url,
    /// Whether the request's system messages become the output stage's leakage reference:
    /// the route asks for it and its policy runs `leakage` on outputs (decided once).
    leak_reference: bool,
}

struct KeyState {
    app: String,
    requests: Option<Mutex<TokenBucket>>,
    tokens: Option<Mutex<TokenBucket>>,
    max_tokens: Option<u64>,
}

/// Everything a request handler needs.
pub struct AppState {
    routes: Vec<Route>,
    route_specs: Vec<RouteSpec>,
    keys: HashMap<String, KeyState>,
    require_key: bool,
    max_body: usize,
    client: reqwest::Client,
    pub metrics: Arc<Metrics>,
    ledger: LedgerSink,
    ready: AtomicBool,
    counter: AtomicU64,
    epoch: Instant,
}

/// A gateway ready to serve: the compiled routes and the started ledger writer.
pub struct Gateway {
    state: Arc<AppState>,
    writer: LedgerWriter,
}

impl Gateway {
    /// Compiles every route's policy, builds the client and starts the ledger writer.
    pub fn new(config: &GatewayConfig, store: Option<Store>) -> Result<Gateway, GatewayError> {
        let mut compiled: HashMap<&str, Arc<Guard>> = HashMap::new();
        let mut routes = Vec::new();
        for (spec, policy) in config.spec.routes.iter().zip(&config.policies) {
            let guard = match compiled.get(policy.as_str()) {
                Some(g) => g.clone(),
                None => {
                    let g =
                        Arc::new(Guard::from_yaml(policy).map_err(|e| GatewayError::Policy {
                            route: spec.name.clone(),
                            message: e.to_string(),
                        })?);
                    compiled.insert(policy.as_str(), g.clone());
                    g
                }
            };
            let upstream = spec.upstream.trim_end_matches('/').to_string();
            let parse = |rest: &str| {
                reqwest::Url::parse(&upstream_url(&upstream, rest)).map_err(|e| {
                    GatewayError::Config {
                        source_name: config.source.clone(),
                        path: format!("routes[{}].upstream", routes.len()),
                        message: e.to_string(),
                    }
                })
            };
            let chat_url = parse("/v1/chat/completions")?;
            let embeddings_url = parse("/v1/embeddings")?;
            let leak_reference =
                spec.system_prompt_from_request && guard.runs(Stage::Output, "leakage");
            routes.push(Route {
                spec: spec.clone(),
                guard,
                upstream,
                chat_url,
                embeddings_url,
                leak_reference,
            });
        }
        let epoch = Instant::now();
        let mut keys = HashMap::new();
        for k in &config.spec.keys {
            let hash = match (&k.key, &k.key_sha256) {
                (Some(key), _) => hex::encode(Sha256::digest(key.as_bytes())),
                (None, Some(h)) => h.to_ascii_lowercase(),
                (None, None) => continue,
            };
            let requests = k
                .requests_per_second
                .map(|rps| Mutex::new(TokenBucket::new(k.burst.unwrap_or(rps.max(1.0)), rps, 0.0)));
            let tokens = k
                .tokens_per_minute
                .map(|tpm| Mutex::new(TokenBucket::new(tpm, tpm / 60.0, 0.0)));
            keys.insert(
                hash,
                KeyState {
                    app: k.app.clone(),
                    requests,
                    tokens,
                    max_tokens: k.max_tokens,
                },
            );
        }
        let client = http_client()?;
        let metrics = Arc::new(Metrics::default());
        let (sink, writer) = ledger::start(
            store,
            config.spec.ledger_queue,
            config.spec.log_content,
            config.spec.retention_days,
            metrics.clone(),
        );
        Ok(Gateway {
            state: Arc::new(AppState {
                route_specs: routes.iter().map(|r| r.spec.clone()).collect(),
                routes,
                keys,
                require_key: config.spec.require_key,
                max_body: config.spec.max_body_bytes,
                client,
                metrics,
                ledger: sink,
                ready: AtomicBool::new(true),
                counter: AtomicU64::new(0),
                epoch,
            }),
            writer,
        })
    }

    /// The metrics registry (for tests and the benchmark).
    pub fn metrics(&self) -> Arc<Metrics> {
        self.state.metrics.clone()
    }

    /// Serves on `workers` threads, each running its own single-threaded runtime with its own
    /// upstream connections; one acceptor thread deals the accepted connections out in turn.
    /// Blocks until `shutdown` completes, then stops accepting, lets in-flight requests finish
    /// and drains the ledger queue.
    ///
    /// Why not one multi-threaded runtime: on a small machine its work
    /// stealing and cross-thread wake-ups cost more than the proxying itself; with a thread
    /// per core a request's client and upstream IO, guard check and response all stay on one
    /// thread.
    pub fn serve(
        self,
        listener: std::net::TcpListener,
        workers: usize,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), GatewayError> {
        let io = |what: &str, e: std::io::Error| GatewayError::Io(format!("{what}: {e}"));
        listener
            .set_nonblocking(true)
            .map_err(|e| io("configuring the listener", e))?;
        let router = self.router();
        let mut senders = Vec::new();
        let mut threads = Vec::new();
        for i in 0..workers.max(1) {
            let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
            let client = http_client()?;
            let router = router.clone();
            let thread = std::thread::Builder::new()
                .name(format!("airisk-gw-{i}"))
                .spawn(move || worker_loop(rx, client, router))
                .map_err(|e| io("starting a worker thread", e))?;
            senders.push(tx);
            threads.push(thread);
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| io("starting the runtime", e))?;
        let state = self.state.clone();
        let accepted = runtime.block_on(async {
            let listener = tokio::net::TcpListener::from_std(listener)
                .map_err(|e| io("registering the listener", e))?;
            tokio::pin!(shutdown);
            let mut next = 0usize;
            loop {
                tokio::select! {
                    _ = &mut shutdown => break,
                    accepted = listener.accept() => match accepted {
                        Ok((stream, _)) => {
                            let _ = stream.set_nodelay(true);
                            let Ok(stream) = stream.into_std() else { continue };
                            // A worker that died is skipped; the connection goes to the next.
                            for _ in 0..senders.len() {
                                let worker = &senders[next % senders.len()];
                                next = next.wrapping_add(1);
                                if !worker.is_closed() {
                                    let _ = worker.send(stream);
                                    break;
                                }
                            }
                        }
                        // Out of file descriptors and the like: back off instead of spinning.
                        Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
                    },
                }
            }
            state.ready.store(false, Ordering::SeqCst);
            Ok::<(), GatewayError>(())
        });
        drop(senders);
        for thread in threads {
            let _ = thread.join();
        }
        self.writer.finish();
        accepted
    }

    /// The router (without a listener), e.g. for embedding.
    pub fn router(&self) -> Router {
        Router::new()
            .fallback(handle)
            .with_state(self.state.clone())
    }
}

/// Binds `config.spec.listen` and serves until Ctrl-C or SIGTERM, on a runtime of its own.
pub fn run_blocking(config: &GatewayConfig, store: Option<Store>) -> Result<(), GatewayError> {
    let gateway = Gateway::new(config, store)?;
    let listener = std::net::TcpListener::bind(&config.spec.listen)
        .map_err(|e| GatewayError::Io(format!("binding {}: {e}", config.spec.listen)))?;
    let addr = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let workers = config.spec.workers.unwrap_or_else(available_cores);
    eprintln!(
        "airisk gateway listening on http://{addr} ({} route{}, {workers} worker{})",
        config.spec.routes.len(),
        if config.spec.routes.len() == 1 {
            ""
        } else {
            "s"
        },
        if workers == 1 { "" } else { "s" }
    );
    gateway.serve(listener, workers, shutdown_signal())
}

/// Cores this process may run on (its CPU affinity), at least 1.
pub fn available_cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The upstream client: keep-alive pool, no Nagle delay.
fn http_client() -> Result<reqwest::Client, GatewayError> {
    reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .pool_idle_timeout(Duration::from_secs(90))
        .tcp_nodelay(true)
        .build()
        .map_err(|e| GatewayError::Io(format!("building the HTTP client: {e}")))
}

thread_local! {
    /// The upstream client of a worker thread of [`Gateway::serve`]. A pooled
    /// connection's task runs on the runtime that opened it; a client per worker keeps each
    /// request's upstream IO on its own thread.
    static WORKER_CLIENT: std::cell::RefCell<Option<reqwest::Client>> =
        const { std::cell::RefCell::new(None) };
}

impl AppState {
    fn client(&self) -> reqwest::Client {
        WORKER_CLIENT
            .with(|c| c.borrow().clone())
            .unwrap_or_else(|| self.client.clone())
    }
}

/// One worker of [`Gateway::serve`]: a single-threaded runtime serving the
/// connections the acceptor hands it, until the acceptor hangs up; then it lets in-flight
/// requests finish (30 s at most) and returns.
fn worker_loop(
    mut connections: tokio::sync::mpsc::UnboundedReceiver<std::net::TcpStream>,
    client: reqwest::Client,
    router: Router,
) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("airisk gateway: a worker could not start its runtime: {e}");
            return;
        }
    };
    WORKER_CLIENT.with(|c| *c.borrow_mut() = Some(client));
    runtime.block_on(async move {
        let graceful = hyper_util::server::graceful::GracefulShutdown::new();
        while let Some(stream) = connections.recv().await {
            let Ok(stream) = tokio::net::TcpStream::from_std(stream) else {
                continue;
            };
            let service = hyper_util::service::TowerToHyperService::new(router.clone());
            let conn = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
            let conn = graceful.watch(conn);
            tokio::spawn(async move {
                let _ = conn.await;
            });
        }
        tokio::select! {
            _ = graceful.shutdown() => {}
            _ = tokio::time::sleep(Duration::from_secs(30)) => {}
        }
    });
}

/// Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    eprintln!("airisk gateway: shutting down, finishing in-flight requests");
}

fn error_response(
    status: StatusCode,
    message: &str,
    kind: &str,
    param: Option<&str>,
    code: Option<&str>,
) -> Response {
    let body = openai::error_body(message, kind, param, code).to_string();
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

/// Decrements the in-flight gauge however the request ends.
struct InFlight(Arc<Metrics>);

impl InFlight {
    fn new(m: Arc<Metrics>) -> InFlight {
        m.in_flight.fetch_add(1, Ordering::SeqCst);
        InFlight(m)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Chat,
    Embeddings,
    Models,
}

impl Endpoint {
    fn name(self) -> &'static str {
        match self {
            Endpoint::Chat => "chat.completions",
            Endpoint::Embeddings => "embeddings",
            Endpoint::Models => "models",
        }
    }
}

async fn handle(State(st): State<Arc<AppState>>, req: Request) -> Response {
    let path = req.uri().path();
    match (req.method(), path) {
        (&Method::GET, "/healthz") => return (StatusCode::OK, "ok\n").into_response(),
        (&Method::GET, "/readyz") => {
            return if st.ready.load(Ordering::SeqCst) && st.ledger.has_room() {
                (StatusCode::OK, "ready\n").into_response()
            } else {
                (StatusCode::SERVICE_UNAVAILABLE, "not ready\n").into_response()
            }
        }
        (&Method::GET, "/metrics") => {
            return (
                [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
                st.metrics.render(),
            )
                .into_response()
        }
        _ => {}
    }
    let _in_flight = InFlight::new(st.metrics.clone());
    proxy(st, req).await
}

/// Everything known about a request while it is served.
struct Ctx {
    st: Arc<AppState>,
    started: Instant,
    x: Exchange,
    route: Option<usize>,
    /// The request's system messages, for the output stage's leakage check.
    leak_reference: Option<Arc<LeakReference>>,
}

impl Ctx {
    /// Finishes a request: metrics, the ledger record, the response headers.
    fn finish(mut self, mut resp: Response) -> Response {
        let status = resp.status().as_u16();
        self.x.status = status;
        self.x.total_us = self.started.elapsed().as_micros() as u64;
        let route = self.x.route.clone();
        let m = &self.st.metrics;
        let code = status.to_string();
        m.inc(
            "airisk_gateway_requests_total",
            &[
                ("route", &route),
                ("endpoint", self.x.endpoint),
                ("code", &code),
            ],
            1,
        );
        m.observe(
            "airisk_gateway_request_seconds",
            &[("route", &route)],
            self.x.total_us as f64 / 1e6,
        );
        if let Ok(v) = HeaderValue::from_str(&self.x.request_id) {
            resp.headers_mut().insert(REQUEST_ID_HEADER, v);
        }
        record_decisions(m, &self.x);
        if self.x.endpoint != "models" && !self.st.ledger.try_send(self.x) {
            let closed = self
                .route
                .and_then(|r| self.st.routes.get(r))
                .is_some_and(|r| r.spec.fail.ledger == FailMode::Closed);
            m.inc(
                "airisk_gateway_errors_total",
                &[("route", &route), ("kind", "ledger_full")],
                1,
            );
            if closed && status < 400 {
                return error_response(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the gateway's audit log is full; this route does not serve unlogged requests",
                    "server_error",
                    None,
                    Some("ledger_unavailable"),
                );
            }
        }
        resp
    }

    fn fail(
        mut self,
        status: StatusCode,
        kind: &'static str,
        message: &str,
        param: Option<&str>,
        code: &str,
    ) -> Response {
        let error_type = if status.is_server_error() {
            "server_error"
        } else if status == StatusCode::TOO_MANY_REQUESTS {
            "rate_limit_error"
        } else if status == StatusCode::UNAUTHORIZED {
            "authentication_error"
        } else {
            "invalid_request_error"
        };
        self.st.metrics.inc(
            "airisk_gateway_errors_total",
            &[("route", &self.x.route), ("kind", kind)],
            1,
        );
        if self.x.outcome.is_empty() {
            self.x.outcome = "error";
        }
        self.x.error = Some(message.to_string());
        let resp = error_response(status, message, error_type, param, Some(code));
        self.finish(resp)
    }
}

fn record_decisions(m: &Metrics, x: &Exchange) {
    let system = x.system.as_deref().unwrap_or("");
    for c in &x.checks {
        let stage = c.stage.as_str();
        m.inc(
            "airisk_gateway_decisions_total",
            &[
                ("system", system),
                ("stage", stage),
                ("action", c.decision.action.as_str()),
            ],
            1,
        );
        for f in &c.decision.findings {
            m.inc(
                "airisk_gateway_findings_total",
                &[
                    ("system", system),
                    ("detector", &f.detector),
                    ("action", f.action.as_str()),
                ],
                1,
            );
        }
    }
}

fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

async fn proxy(st: Arc<AppState>, req: Request) -> Response {
    let started = Instant::now();
    let n = st.counter.fetch_add(1, Ordering::Relaxed);
    let mut ctx = Ctx {
        st: st.clone(),
        started,
        x: Exchange {
            request_id: format!("gw-{:x}-{n}", chrono::Utc::now().timestamp_millis()),
            started_at: now_rfc3339(),
            route: "-".into(),
            ..Default::default()
        },
        route: None,
        leak_reference: None,
    };
    let path = req.uri().path().to_string();
    let endpoint = if path.ends_with("/v1/chat/completions") {
        Endpoint::Chat
    } else if path.ends_with("/v1/embeddings") {
        Endpoint::Embeddings
    } else if path.ends_with("/v1/models") || path.contains("/v1/models/") {
        Endpoint::Models
    } else {
        ctx.x.endpoint = "unknown";
        return ctx.fail(
            StatusCode::NOT_FOUND,
            "not_found",
            &format!("the gateway does not serve {path}"),
            None,
            "unknown_url",
        );
    };
    ctx.x.endpoint = endpoint.name();
    let wanted = if endpoint == Endpoint::Models {
        Method::GET
    } else {
        Method::POST
    };
    if req.method() != wanted {
        return ctx.fail(
            StatusCode::METHOD_NOT_ALLOWED,
            "bad_request",
            &format!("{path} accepts {wanted} only"),
            None,
            "method_not_allowed",
        );
    }

    // The calling application, from its gateway key; rate limits.
    let key = req
        .headers()
        .get(KEY_HEADER)
        .map(|v| hex::encode(Sha256::digest(v.as_bytes())));
    let key_state = match &key {
        Some(h) => match st.keys.get(h) {
            Some(k) => Some(k),
            None => {
                return ctx.fail(
                    StatusCode::UNAUTHORIZED,
                    "unauthorized",
                    "unknown gateway key (x-airisk-key)",
                    None,
                    "invalid_gateway_key",
                )
            }
        },
        None if st.require_key => {
            return ctx.fail(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "this gateway needs a gateway key in the x-airisk-key header",
                None,
                "missing_gateway_key",
            )
        }
        None => None,
    };
    if let Some(k) = key_state {
        ctx.x.app = Some(k.app.clone());
        let now = st.epoch.elapsed().as_secs_f64();
        let mut wait = None;
        if let Some(b) = &k.requests {
            if let Ok(mut b) = b.lock() {
                if let Err(w) = b.try_take(1.0, now) {
                    wait = Some(w);
                }
            }
        }
        if wait.is_none() {
            if let Some(b) = &k.tokens {
                if let Ok(mut b) = b.lock() {
                    if let Err(w) = b.check_positive(now) {
                        wait = Some(w);
                    }
                }
            }
        }
        if let Some(w) = wait {
            let secs = w.ceil().clamp(1.0, 3600.0) as u64;
            let mut resp = ctx.fail(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                &format!(
                    "rate limit of application `{}` reached; retry in {secs} s",
                    k.app
                ),
                None,
                "rate_limit_exceeded",
            );
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
            return resp;
        }
    }
    ctx.x.prompt_version = req
        .headers()
        .get(PROMPT_VERSION_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);

    // The body, within the size limit.
    let (parts, body) = req.into_parts();
    if let Some(len) = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
    {
        if len > st.max_body as u64 {
            return too_large(ctx);
        }
    }
    let bytes = match axum::body::to_bytes(body, st.max_body).await {
        Ok(b) => b,
        Err(e) => {
            let too_big = std::error::Error::source(&e)
                .is_some_and(|s| s.to_string().contains("length limit"))
                || e.to_string().contains("length limit");
            if too_big {
                return too_large(ctx);
            }
            return ctx.fail(
                StatusCode::BAD_REQUEST,
                "bad_request",
                &format!("reading the request body: {e}"),
                None,
                "bad_body",
            );
        }
    };
    ctx.x.request_body = bytes.clone();

    if endpoint == Endpoint::Models {
        let Some((r, rest)) = select_route(&st.route_specs, &path, None) else {
            return ctx.fail(
                StatusCode::NOT_FOUND,
                "no_route",
                "no route serves this path",
                None,
                "no_route",
            );
        };
        let rest = rest.to_string();
        return forward_plain(ctx, r, &rest, &parts.headers, Method::GET, Bytes::new()).await;
    }

    // Parse and route.
    let parsed = match endpoint {
        Endpoint::Chat => openai::parse_chat(&bytes).map(|r| (r.body, r.model, r.stream)),
        _ => openai::parse_embeddings(&bytes).map(|(b, m, _)| (b, m, false)),
    };
    let (mut body, model, stream) = match parsed {
        Ok(p) => p,
        Err(e) => {
            ctx.x.outcome = "rejected";
            return ctx.fail(
                StatusCode::BAD_REQUEST,
                "bad_request",
                &e.message,
                e.param.as_deref(),
                "invalid_request",
            );
        }
    };
    ctx.x.model_requested = model.clone();
    ctx.x.stream = stream;
    if ctx.x.prompt_version.is_none() {
        ctx.x.prompt_version = body
            .pointer("/metadata/prompt_version")
            .and_then(Value::as_str)
            .map(str::to_string);
    }
    let Some((ri, _)) = select_route(&st.route_specs, &path, model.as_deref()) else {
        return ctx.fail(
            StatusCode::NOT_FOUND,
            "no_route",
            &format!("no route serves model `{}`", model.as_deref().unwrap_or("")),
            Some("model"),
            "model_not_found",
        );
    };
    let route = &st.routes[ri];
    ctx.route = Some(ri);
    ctx.x.route = route.spec.name.clone();
    ctx.x.system = route.spec.system.clone();
    ctx.x.policy_id = route.guard.policy().id.clone();
    ctx.x.policy_version = route.guard.policy().version.clone();
    if route.spec.fail.ledger == FailMode::Closed && !st.ledger.has_room() {
        return ctx.fail(
            StatusCode::SERVICE_UNAVAILABLE,
            "ledger_full",
            "the gateway's audit log is full; try again shortly",
            None,
            "ledger_unavailable",
        );
    }

    // Input and context stages.
    let items = match endpoint {
        Endpoint::Chat => openai::chat_items(
            &body,
            &route.spec.context_roles,
            route.spec.context_marker.as_deref(),
        ),
        _ => openai::parse_embeddings(&bytes)
            .map(|(_, _, i)| i)
            .unwrap_or_default(),
    };
    // Where the system messages are, to read them back (redacted) after the input stage.
    let system_pointers: Vec<String> = if endpoint == Endpoint::Chat && route.leak_reference {
        items
            .iter()
            .filter(|i| matches!(i.kind, openai::ItemKind::Prompt { system: true }))
            .map(|i| i.pointer.clone())
            .collect()
    } else {
        Vec::new()
    };
    let guard_started = Instant::now();
    let checked = if bytes.len() > BLOCKING_CHECK_BYTES {
        let guard = route.guard.clone();
        let moved = body;
        match tokio::task::spawn_blocking(move || {
            let mut b = moved;
            let r = check_items(&guard, &mut b, &items);
            (b, r)
        })
        .await
        {
            Ok((b, r)) => {
                body = b;
                r
            }
            Err(_) => {
                return ctx.fail(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "guard_failure",
                    "the guard failed",
                    None,
                    "guard_failure",
                )
            }
        }
    } else {
        check_items(&route.guard, &mut body, &items)
    };
    let guard_s = guard_started.elapsed().as_secs_f64();
    st.metrics.observe(
        "airisk_gateway_guard_seconds",
        &[("stage", "input")],
        guard_s,
    );
    ctx.x.guard_us += (guard_s * 1e6) as u64;
    let (checks, mut modified, failure) = checked;
    ctx.x.checks = checks;
    if !system_pointers.is_empty() {
        let reference = LeakReference::from_texts(
            system_pointers
                .iter()
                .filter_map(|p| openai::text_at(&body, p)),
        );
        ctx.leak_reference = (!reference.is_empty()).then(|| Arc::new(reference));
    }
    if let Some(f) = failure {
        if route.spec.fail.guard == FailMode::Closed {
            return ctx.fail(
                StatusCode::SERVICE_UNAVAILABLE,
                "guard_failure",
                &f.0,
                None,
                "guard_unavailable",
            );
        }
        st.metrics.inc(
            "airisk_gateway_errors_total",
            &[("route", &route.spec.name), ("kind", "guard_failure")],
            1,
        );
        ctx.x.outcome = "unchecked";
    }
    if let Some(c) = ctx
        .x
        .checks
        .iter()
        .find(|c| c.decision.action >= Action::Escalate)
    {
        let escalate = !ctx
            .x
            .checks
            .iter()
            .any(|c| c.decision.action == Action::Block);
        let c = if escalate {
            c.clone()
        } else {
            ctx.x
                .checks
                .iter()
                .find(|c| c.decision.action == Action::Block)
                .cloned()
                .unwrap_or_else(|| c.clone())
        };
        ctx.x.outcome = if escalate { "escalated" } else { "blocked" };
        return refuse(ctx, &c);
    }
    if ctx
        .x
        .checks
        .iter()
        .any(|c| c.decision.action == Action::Redact)
    {
        ctx.x.outcome = "redacted";
    }

    // Token caps.
    let cap = [route.spec.max_tokens, key_state.and_then(|k| k.max_tokens)]
        .into_iter()
        .flatten()
        .min();
    if let (Some(cap), Endpoint::Chat) = (cap, endpoint) {
        modified |= openai::cap_max_tokens(&mut body, cap);
    }
    let upstream_body = if modified {
        Bytes::from(serde_json::to_vec(&body).unwrap_or_default())
    } else {
        bytes
    };

    // The upstream call.
    let url = if endpoint == Endpoint::Chat {
        route.chat_url.clone()
    } else {
        route.embeddings_url.clone()
    };
    let timeout = Duration::from_millis(route.spec.upstream_timeout_ms);
    let up_started = Instant::now();
    let builder = st
        .client()
        .post(url)
        .headers(forward_headers(&parts.headers))
        .header(header::CONTENT_TYPE, "application/json")
        .body(upstream_body);
    // A plain answer must be complete within the timeout. A stream only has to start within
    // it and then never pause longer (a long generation may take minutes), so reqwest's
    // whole-request timeout is not used for streams.
    let resp = if stream {
        match tokio::time::timeout(timeout, builder.send()).await {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => return upstream_failed(ctx, &route.upstream, e),
            Err(_) => return upstream_timed_out(ctx, &route.upstream),
        }
    } else {
        match builder.timeout(timeout).send().await {
            Ok(r) => r,
            Err(e) => return upstream_failed(ctx, &route.upstream, e),
        }
    };
    let status = resp.status();
    let is_sse = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"));
    let resp_headers = resp.headers().clone();
    if stream && status.is_success() && is_sse && endpoint == Endpoint::Chat {
        return stream_response(ctx, ri, resp, resp_headers, up_started, timeout);
    }
    let body_bytes = match read_limited(resp, MAX_UPSTREAM_BODY).await {
        Ok(b) => b,
        Err(ReadError::Http(e)) => return upstream_failed(ctx, &route.upstream, e),
        Err(ReadError::TooLarge) => {
            return ctx.fail(
                StatusCode::BAD_GATEWAY,
                "upstream_invalid",
                &format!(
                    "the upstream {} answered with more than {MAX_UPSTREAM_BODY} bytes",
                    route.upstream
                ),
                None,
                "upstream_response_too_large",
            )
        }
    };
    let up_s = up_started.elapsed().as_secs_f64();
    ctx.x.upstream_us = Some((up_s * 1e6) as u64);
    st.metrics.observe(
        "airisk_gateway_upstream_seconds",
        &[("route", &route.spec.name)],
        up_s,
    );
    if !status.is_success() {
        if ctx.x.outcome.is_empty() {
            ctx.x.outcome = "upstream_error";
        }
        st.metrics.inc(
            "airisk_gateway_errors_total",
            &[("route", &route.spec.name), ("kind", "upstream_status")],
            1,
        );
        return ctx.finish(passthrough(status, &resp_headers, body_bytes));
    }
    if endpoint == Endpoint::Embeddings {
        if let Ok(v) = serde_json::from_slice::<Value>(&body_bytes) {
            ctx.x.model_upstream = openai::response_model(&v);
            ctx.x.usage = Usage::from_value(&v);
        }
        if ctx.x.outcome.is_empty() {
            ctx.x.outcome = "allowed";
        }
        ctx.x.response_body = body_bytes.clone();
        return ctx.finish(passthrough(status, &resp_headers, body_bytes));
    }
    respond_chat(ctx, ri, status, resp_headers, body_bytes)
}

fn too_large(ctx: Ctx) -> Response {
    let max = ctx.st.max_body;
    ctx.fail(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
        &format!("the request body is larger than the gateway's limit of {max} bytes"),
        None,
        "request_too_large",
    )
}

fn refuse(ctx: Ctx, c: &Checked) -> Response {
    let escalate = c.decision.action == Action::Escalate;
    let msg = check::refusal_message(c);
    let (status, code) = if escalate {
        (StatusCode::FORBIDDEN, "approval_required")
    } else {
        (StatusCode::BAD_REQUEST, "blocked_by_policy")
    };
    let resp = error_response(
        status,
        &msg,
        "guardrail_violation",
        Some(&c.param),
        Some(code),
    );
    let mut ctx = ctx;
    ctx.x.error = Some(msg);
    ctx.finish(resp)
}

/// Largest upstream answer (not streamed) the gateway reads.
const MAX_UPSTREAM_BODY: usize = 64 * 1024 * 1024;

enum ReadError {
    Http(reqwest::Error),
    TooLarge,
}

async fn read_limited(mut resp: reqwest::Response, max: usize) -> Result<Bytes, ReadError> {
    if resp.content_length().is_some_and(|n| n > max as u64) {
        return Err(ReadError::TooLarge);
    }
    let mut first: Option<Bytes> = None;
    let mut buf = BytesMut::new();
    while let Some(chunk) = resp.chunk().await.map_err(ReadError::Http)? {
        if first.is_none() && buf.is_empty() {
            first = Some(chunk);
            continue;
        }
        if let Some(f) = first.take() {
            buf.extend_from_slice(&f);
        }
        if buf.len() + chunk.len() > max {
            return Err(ReadError::TooLarge);
        }
        buf.extend_from_slice(&chunk);
    }
    // One chunk (the usual case) is returned without a copy.
    Ok(match first {
        Some(f) if f.len() <= max => f,
        Some(_) => return Err(ReadError::TooLarge),
        None => buf.freeze(),
    })
}

fn upstream_timed_out(ctx: Ctx, upstream: &str) -> Response {
    let ms = ctx
        .route
        .and_then(|r| ctx.st.routes.get(r))
        .map(|r| r.spec.upstream_timeout_ms)
        .unwrap_or(0);
    ctx.fail(
        StatusCode::GATEWAY_TIMEOUT,
        "upstream_timeout",
        &format!("the upstream {upstream} did not answer within {ms} ms"),
        None,
        "upstream_timeout",
    )
}

fn upstream_failed(ctx: Ctx, upstream: &str, e: reqwest::Error) -> Response {
    if e.is_timeout() {
        return upstream_timed_out(ctx, upstream);
    }
    let what = if e.is_connect() {
        "is unreachable"
    } else {
        "failed"
    };
    let mut detail = e.to_string();
    let mut src = std::error::Error::source(&e);
    while let Some(s) = src {
        detail.push_str(": ");
        detail.push_str(&s.to_string());
        src = s.source();
    }
    ctx.fail(
        StatusCode::BAD_GATEWAY,
        "upstream_unreachable",
        &format!("the upstream {upstream} {what}: {detail}"),
        None,
        "upstream_unavailable",
    )
}

fn upstream_url(base: &str, rest: &str) -> String {
    // The route's base includes the version (…/v1); the request path starts with /v1.
    let tail = rest.strip_prefix("/v1").unwrap_or(rest);
    format!("{base}{tail}")
}

const HOP_BY_HOP: [&str; 10] = [
    "host",
    "content-length",
    "connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "upgrade",
    "proxy-authorization",
    "proxy-connection",
    "accept-encoding",
];

fn forward_headers(h: &HeaderMap) -> HeaderMap {
    let mut out = HeaderMap::with_capacity(h.len());
    for (k, v) in h {
        let name = k.as_str();
        if HOP_BY_HOP.contains(&name) || name.starts_with("x-airisk-") || name == "content-type" {
            continue;
        }
        out.append(k.clone(), v.clone());
    }
    out
}

fn passthrough(status: reqwest::StatusCode, headers: &HeaderMap, body: Bytes) -> Response {
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = StatusCode::from_u16(status.as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    copy_response_headers(headers, resp.headers_mut());
    resp
}

fn copy_response_headers(from: &HeaderMap, to: &mut HeaderMap) {
    for (k, v) in from {
        let name = k.as_str();
        if HOP_BY_HOP.contains(&name) || name == "content-encoding" {
            continue;
        }
        to.append(k.clone(), v.clone());
    }
}

/// Checks the items of a request, rewriting redactions in place. Returns the decisions,
/// whether the body changed, and a guard failure if one happened.
fn check_items(
    guard: &Guard,
    body: &mut Value,
    items: &[Item],
) -> (Vec<Checked>, bool, Option<check::GuardFailure>) {
    let mut checks = Vec::with_capacity(items.len());
    let mut modified = false;
    for item in items {
        let Some(text) = openai::text_at(body, &item.pointer) else {
            continue;
        };
        let input = match &item.kind {
            ItemKind::Prompt { system } => Input::Prompt {
                text,
                system: *system,
            },
            ItemKind::Context => Input::Context { text },
            ItemKind::ToolResult { name } => Input::ToolResult { name, text },
        };
        let decision = match check::run(guard, input) {
            Ok(d) => d,
            Err(f) => return (checks, modified, Some(f)),
        };
        if decision.action == Action::Redact {
            if let Some(r) = &decision.redacted {
                modified |= openai::set_text(body, &item.pointer, r.clone());
            }
        }
        checks.push(Checked {
            stage: decision.stage,
            param: item.param.clone(),
            tool: None,
            decision,
        });
    }
    (checks, modified, None)
}

/// A non-streaming chat completion: output and tool-call stages, then the answer.
fn respond_chat(
    mut ctx: Ctx,
    ri: usize,
    status: reqwest::StatusCode,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let st = ctx.st.clone();
    let route = &st.routes[ri];
    let mut v: Value = match serde_json::from_slice::<Value>(&body) {
        Ok(v) if v.is_object() => v,
        _ => {
            st.metrics.inc(
                "airisk_gateway_errors_total",
                &[("route", &route.spec.name), ("kind", "upstream_invalid")],
                1,
            );
            if route.spec.fail.upstream == FailMode::Open {
                ctx.x.outcome = "unchecked";
                ctx.x.response_body = body.clone();
                return ctx.finish(passthrough(status, &headers, body));
            }
            return ctx.fail(
                StatusCode::BAD_GATEWAY,
                "upstream_invalid",
                &format!(
                    "the upstream {} answered with something that is not a chat completion",
                    route.upstream
                ),
                None,
                "upstream_invalid_response",
            );
        }
    };
    ctx.x.model_upstream = openai::response_model(&v);
    ctx.x.usage = Usage::from_value(&v);
    charge_tokens(&st, &ctx.x);
    let guard_started = Instant::now();
    let mut modified = false;
    let mut failure = None;
    // Output stage.
    for item in openai::response_outputs(&v) {
        let Some(text) = openai::text_at(&v, &item.pointer) else {
            continue;
        };
        match check::run_with(
            &route.guard,
            Input::Output { text },
            ctx.leak_reference.as_deref(),
        ) {
            Ok(d) => {
                if d.action == Action::Redact {
                    if let Some(r) = d.redacted.clone() {
                        modified |= openai::set_text(&mut v, &item.pointer, r);
                    }
                }
                ctx.x.checks.push(Checked {
                    stage: Stage::Output,
                    param: item.param,
                    tool: None,
                    decision: d,
                });
            }
            Err(f) => {
                failure = Some(f);
                break;
            }
        }
    }
    // Tool-call stage.
    let mut remove = Vec::new();
    let mut notes = Vec::new();
    if failure.is_none() {
        for call in openai::response_tool_calls(&v) {
            let args = call.arguments_json();
            match check::run(
                &route.guard,
                Input::ToolCall {
                    name: &call.name,
                    args: &args,
                },
            ) {
                Ok(d) => {
                    if d.action >= Action::Escalate {
                        remove.push((call.choice, call.index));
                        notes.push((call.choice, call.name.clone()));
                    }
                    ctx.x.checks.push(Checked {
                        stage: Stage::ToolCall,
                        param: format!(
                            "choices[{}].message.tool_calls[{}]",
                            call.choice, call.index
                        ),
                        tool: Some(call.name.clone()),
                        decision: d,
                    });
                }
                Err(f) => {
                    failure = Some(f);
                    break;
                }
            }
        }
    }
    let guard_s = guard_started.elapsed().as_secs_f64();
    st.metrics.observe(
        "airisk_gateway_guard_seconds",
        &[("stage", "output")],
        guard_s,
    );
    ctx.x.guard_us += (guard_s * 1e6) as u64;
    if let Some(f) = failure {
        if route.spec.fail.guard == FailMode::Closed {
            return ctx.fail(
                StatusCode::SERVICE_UNAVAILABLE,
                "guard_failure",
                &f.0,
                None,
                "guard_unavailable",
            );
        }
        st.metrics.inc(
            "airisk_gateway_errors_total",
            &[("route", &route.spec.name), ("kind", "guard_failure")],
            1,
        );
        ctx.x.outcome = "unchecked";
        ctx.x.response_body = body.clone();
        return ctx.finish(passthrough(status, &headers, body));
    }
    // Output blocks refuse the whole answer.
    if let Some(c) = ctx
        .x
        .checks
        .iter()
        .find(|c| c.stage == Stage::Output && c.decision.action >= Action::Escalate)
        .cloned()
    {
        ctx.x.outcome = if c.decision.action == Action::Block {
            "blocked"
        } else {
            "escalated"
        };
        return refuse(ctx, &c);
    }
    if !remove.is_empty() {
        if route.spec.tool_call_violation == ToolCallViolation::Error {
            let c = ctx
                .x
                .checks
                .iter()
                .filter(|c| c.stage == Stage::ToolCall && c.decision.action >= Action::Escalate)
                .max_by_key(|c| c.decision.action)
                .cloned();
            if let Some(c) = c {
                ctx.x.outcome = if c.decision.action == Action::Block {
                    "blocked"
                } else {
                    "escalated"
                };
                return refuse(ctx, &c);
            }
        }
        openai::remove_tool_calls(&mut v, &remove, &notes);
        modified = true;
        ctx.x.outcome = "tool_calls_removed";
    }
    if ctx.x.outcome.is_empty() {
        ctx.x.outcome = if ctx
            .x
            .checks
            .iter()
            .any(|c| c.decision.action == Action::Redact)
        {
            "redacted"
        } else {
            "allowed"
        };
    }
    let out = if modified {
        Bytes::from(serde_json::to_vec(&v).unwrap_or_default())
    } else {
        body
    };
    ctx.x.response_body = out.clone();
    let mut resp = passthrough(status, &headers, out);
    if !remove.is_empty() {
        resp.headers_mut().insert(
            HeaderName::from_static("x-airisk-tool-calls-removed"),
            HeaderValue::from(remove.len() as u64),
        );
    }
    ctx.finish(resp)
}

fn charge_tokens(st: &AppState, x: &Exchange) {
    let (Some(app_usage), Some(_)) = (x.usage, &x.app) else {
        return;
    };
    st.metrics.inc(
        "airisk_gateway_tokens_total",
        &[("route", &x.route), ("kind", "prompt")],
        app_usage.prompt_tokens,
    );
    st.metrics.inc(
        "airisk_gateway_tokens_total",
        &[("route", &x.route), ("kind", "completion")],
        app_usage.completion_tokens,
    );
    let now = st.epoch.elapsed().as_secs_f64();
    for k in st.keys.values() {
        if Some(&k.app) == x.app.as_ref() {
            if let Some(b) = &k.tokens {
                if let Ok(mut b) = b.lock() {
                    b.charge(app_usage.total_tokens as f64, now);
                }
            }
        }
    }
}

/// Streams a guarded SSE response: a task reads the upstream, runs the filter and feeds a
/// channel that is the response body.
fn stream_response(
    mut ctx: Ctx,
    ri: usize,
    mut upstream: reqwest::Response,
    headers: HeaderMap,
    up_started: Instant,
    timeout: Duration,
) -> Response {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(32);
    let st = ctx.st.clone();
    let request_id = HeaderValue::from_str(&ctx.x.request_id).ok();
    let in_flight = InFlight::new(st.metrics.clone());
    let log_body = st.ledger.content() != crate::config::LogContent::None;
    tokio::spawn(async move {
        let _in_flight = in_flight;
        let route = &st.routes[ri];
        let mut filter = StreamFilter::new(
            &route.guard,
            StreamSettings {
                holdback: route.spec.stream_holdback_bytes,
                context: 128,
                tool_violation: route.spec.tool_call_violation,
            },
        )
        .with_leak_reference(ctx.leak_reference.clone());
        let mut parser = SseParser::new(8 << 20);
        let mut events = Vec::new();
        let mut emits = Vec::new();
        let mut sent = BytesMut::new();
        let mut raw = false;
        let mut client_gone = false;
        let mut upstream_error: Option<String> = None;
        let mut guard_time = Duration::ZERO;
        loop {
            // The timeout bounds each pause of the stream, not its whole length.
            let next = tokio::time::timeout(timeout, upstream.chunk()).await;
            let chunk = match next {
                Ok(Ok(Some(c))) => c,
                Ok(Ok(None)) => break,
                Ok(Err(e)) => {
                    upstream_error = Some(format!("the upstream stream broke off: {e}"));
                    break;
                }
                Err(_) => {
                    upstream_error = Some(format!(
                        "the upstream stream paused for more than {} ms",
                        timeout.as_millis()
                    ));
                    break;
                }
            };
            if raw {
                if log_body {
                    sent.extend_from_slice(&chunk);
                }
                if tx.send(Ok(chunk)).await.is_err() {
                    client_gone = true;
                    break;
                }
                continue;
            }
            events.clear();
            let t = Instant::now();
            let mut failed: Option<(StreamError, String)> = None;
            if let Err(e) = parser.push(&chunk, &mut events) {
                failed = Some((StreamError::Upstream(e.0), String::new()));
            }
            for ev in events.drain(..) {
                if failed.is_some() {
                    break;
                }
                if let Err(e) = filter.on_data(&ev.data, &mut emits) {
                    failed = Some((e, ev.data));
                }
            }
            guard_time += t.elapsed();
            if let Some((e, data)) = failed {
                let (open, kind, msg) = match &e {
                    StreamError::Upstream(m) => (
                        route.spec.fail.upstream == FailMode::Open,
                        "upstream_invalid",
                        m.clone(),
                    ),
                    StreamError::Guard(g) => (
                        route.spec.fail.guard == FailMode::Open,
                        "guard_failure",
                        g.0.clone(),
                    ),
                };
                st.metrics.inc(
                    "airisk_gateway_errors_total",
                    &[("route", &route.spec.name), ("kind", kind)],
                    1,
                );
                if open {
                    // Fail open: the rest of the stream goes through unchecked.
                    raw = true;
                    ctx.x.outcome = "unchecked";
                    if !data.is_empty() {
                        emits.push(Emit::Data(data));
                    }
                } else {
                    emits.push(Emit::Error(openai::error_body(
                        &msg,
                        "server_error",
                        None,
                        Some(if kind == "guard_failure" {
                            "guard_unavailable"
                        } else {
                            "upstream_invalid_response"
                        }),
                    )));
                    ctx.x.outcome = "error";
                    ctx.x.error = Some(msg);
                    filter.ended = true;
                }
            }
            if !send_emits(&tx, &mut emits, &mut sent, log_body).await {
                client_gone = true;
                break;
            }
            if filter.ended && !raw {
                break;
            }
        }
        if !client_gone && !raw && !filter.ended {
            let t = Instant::now();
            if let Some(msg) = &upstream_error {
                st.metrics.inc(
                    "airisk_gateway_errors_total",
                    &[("route", &route.spec.name), ("kind", "upstream_broken")],
                    1,
                );
                ctx.x.error = Some(msg.clone());
                if route.spec.fail.upstream == FailMode::Closed {
                    emits.push(Emit::Error(openai::error_body(
                        msg,
                        "server_error",
                        None,
                        Some("upstream_stream_broken"),
                    )));
                    filter.ended = true;
                    ctx.x.outcome = "error";
                } else {
                    let _ = filter.on_end(&mut emits);
                }
            } else if let Err(e) = filter.on_end(&mut emits) {
                let msg = match e {
                    StreamError::Upstream(m) => m,
                    StreamError::Guard(g) => g.0,
                };
                emits.push(Emit::Error(openai::error_body(
                    &msg,
                    "server_error",
                    None,
                    Some("guard_unavailable"),
                )));
            }
            guard_time += t.elapsed();
            let _ = send_emits(&tx, &mut emits, &mut sent, log_body).await;
        }
        drop(tx);
        let up_s = up_started.elapsed().as_secs_f64();
        ctx.x.upstream_us = Some((up_s * 1e6) as u64);
        st.metrics.observe(
            "airisk_gateway_upstream_seconds",
            &[("route", &route.spec.name)],
            up_s,
        );
        st.metrics.observe(
            "airisk_gateway_guard_seconds",
            &[("stage", "output")],
            guard_time.as_secs_f64(),
        );
        ctx.x.guard_us += guard_time.as_micros() as u64;
        ctx.x.model_upstream = filter.model.clone();
        ctx.x.usage = filter.usage;
        let mut checks = std::mem::take(&mut filter.checks);
        for (idx, us) in filter.clean_choices() {
            // One decision per choice even when no window found anything.
            if !checks.iter().any(|c| {
                c.stage == Stage::Output && c.param.starts_with(&format!("choices[{idx}]"))
            }) {
                checks.push(Checked {
                    stage: Stage::Output,
                    param: format!("choices[{idx}].delta.content"),
                    tool: None,
                    decision: airisk_guard::Decision {
                        action: Action::Allow,
                        enforced_action: Action::Allow,
                        shadow: route.guard.policy().mode == airisk_guard::Mode::Shadow,
                        stage: Stage::Output,
                        findings: vec![],
                        redacted: None,
                        policy_id: route.guard.policy().id.clone(),
                        policy_version: route.guard.policy().version.clone(),
                        elapsed_us: us,
                    },
                });
            }
        }
        ctx.x.checks.append(&mut checks);
        charge_tokens(&st, &ctx.x);
        if ctx.x.outcome.is_empty() || ctx.x.outcome == "redacted" {
            ctx.x.outcome = if filter.blocked {
                if ctx
                    .x
                    .checks
                    .iter()
                    .any(|c| c.decision.action == Action::Block)
                {
                    "blocked"
                } else {
                    "escalated"
                }
            } else if client_gone {
                "client_closed"
            } else if ctx
                .x
                .checks
                .iter()
                .any(|c| c.decision.action == Action::Redact)
            {
                "redacted"
            } else if ctx
                .x
                .checks
                .iter()
                .any(|c| c.stage == Stage::ToolCall && c.decision.action >= Action::Escalate)
            {
                "tool_calls_removed"
            } else {
                "allowed"
            };
        }
        ctx.x.response_body = sent.freeze();
        let _ = ctx.finish(Response::new(Body::empty()));
    });
    let stream = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx));
    let mut resp = Response::new(Body::from_stream(stream));
    copy_response_headers(&headers, resp.headers_mut());
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Some(id) = request_id {
        resp.headers_mut().insert(REQUEST_ID_HEADER, id);
    }
    resp
}

async fn send_emits(
    tx: &tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>,
    emits: &mut Vec<Emit>,
    sent: &mut BytesMut,
    log_body: bool,
) -> bool {
    if emits.is_empty() {
        return true;
    }
    let mut buf = BytesMut::new();
    for e in emits.drain(..) {
        match e {
            Emit::Data(d) => {
                buf.extend_from_slice(b"data: ");
                buf.extend_from_slice(d.as_bytes());
                buf.extend_from_slice(b"\n\n");
            }
            Emit::Done => buf.extend_from_slice(b"data: [DONE]\n\n"),
            Emit::Error(v) => {
                buf.extend_from_slice(b"data: ");
                buf.extend_from_slice(v.to_string().as_bytes());
                buf.extend_from_slice(b"\n\n");
            }
        }
    }
    if log_body {
        sent.extend_from_slice(&buf);
    }
    tx.send(Ok(buf.freeze())).await.is_ok()
}

/// GET /v1/models (and /v1/models/{id}): passed through unchanged, not logged.
async fn forward_plain(
    mut ctx: Ctx,
    ri: usize,
    rest: &str,
    headers: &HeaderMap,
    method: Method,
    body: Bytes,
) -> Response {
    let st = ctx.st.clone();
    let route = &st.routes[ri];
    ctx.route = Some(ri);
    ctx.x.route = route.spec.name.clone();
    let url = upstream_url(&route.upstream, rest);
    let sent = st
        .client()
        .request(method, &url)
        .headers(forward_headers(headers))
        .body(body)
        .timeout(Duration::from_millis(route.spec.upstream_timeout_ms))
        .send()
        .await;
    match sent {
        Ok(r) => {
            let status = r.status();
            let h = r.headers().clone();
            match r.bytes().await {
                Ok(b) => ctx.finish(passthrough(status, &h, b)),
                Err(e) => upstream_failed(ctx, &route.upstream, e),
            }
        }
        Err(e) => upstream_failed(ctx, &route.upstream, e),
    }
}
