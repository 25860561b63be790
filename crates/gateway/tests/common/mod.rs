//! A mock upstream plus a gateway on loopback, with a SQLite ledger in a temporary folder.
#![allow(dead_code)]

use airisk_gateway::config::{parse_spec, GatewayConfig};
use airisk_gateway::mock::{self, MockState};
use airisk_gateway::Gateway;
use airisk_store::ledger::{PayloadState, StoredEntry};
use airisk_store::{Location, Store};
use serde_json::Value;
use std::net::SocketAddr;
use std::path::PathBuf;

pub struct Harness {
    pub addr: SocketAddr,
    pub upstream: SocketAddr,
    pub mock: MockState,
    pub metrics: std::sync::Arc<airisk_gateway::metrics::Metrics>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<std::thread::JoinHandle<Result<(), airisk_gateway::GatewayError>>>,
    pub db: PathBuf,
    _dir: tempfile::TempDir,
}

/// The default config: one route to the mock, default policy, system SYS-1.
pub const BASIC: &str = r#"
log_content: hashes
routes:
  - name: main
    upstream: http://{UPSTREAM}/v1
    policy: default
    system: SYS-1
"#;

impl Harness {
    /// Starts a mock upstream and a gateway configured by `yaml` (`{UPSTREAM}` is replaced
    /// by the mock's address).
    pub async fn start(yaml: &str) -> Harness {
        let (upstream, mock) = mock::spawn().await.unwrap();
        Harness::start_with(yaml, upstream, mock).await
    }

    pub async fn start_with(yaml: &str, upstream: SocketAddr, mock: MockState) -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("gw.db");
        let text = yaml.replace("{UPSTREAM}", &upstream.to_string());
        let spec = parse_spec(&text, "test.yaml").unwrap();
        let config = GatewayConfig::from_spec(spec, dir.path(), "test.yaml").unwrap();
        let store = Store::open(&Location::Sqlite(db.clone())).unwrap();
        let gateway = Gateway::new(&config, Some(store)).unwrap();
        let metrics = gateway.metrics();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        // Two workers, as `airisk gateway` runs on a two-core machine: connections are dealt
        // to both, so the tests cover requests served on different threads.
        let task = std::thread::spawn(move || {
            gateway.serve(listener, 2, async move {
                let _ = rx.await;
            })
        });
        Harness {
            addr,
            upstream,
            mock,
            metrics,
            shutdown: Some(tx),
            task: Some(task),
            db,
            _dir: dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Asks the gateway to shut down (returns at once).
    pub fn begin_shutdown(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }

    /// Shuts the gateway down, waits for it, and returns the ledger entries with payloads.
    pub async fn stop(mut self) -> Vec<(StoredEntry, Value)> {
        self.begin_shutdown();
        if let Some(t) = self.task.take() {
            tokio::task::spawn_blocking(move || t.join())
                .await
                .unwrap()
                .unwrap()
                .unwrap();
        }
        let db = self.db.clone();
        let entries = tokio::task::spawn_blocking(move || {
            let mut store = Store::open(&Location::Sqlite(db)).unwrap();
            let n = store.ledger_size().unwrap();
            store.ledger_entries(0, n).unwrap()
        })
        .await
        .unwrap();
        let out = entries
            .into_iter()
            .map(|e| {
                let v = match &e.payload {
                    PayloadState::Present { bytes, .. } => {
                        serde_json::from_slice(bytes).unwrap_or(Value::Null)
                    }
                    _ => Value::Null,
                };
                (e, v)
            })
            .collect();
        drop(self._dir);
        out
    }
}

pub fn chat(content: &str) -> Value {
    serde_json::json!({"model": "mock-gpt", "messages": [{"role": "user", "content": content}]})
}

pub fn client() -> reqwest::Client {
    reqwest::Client::new()
}
