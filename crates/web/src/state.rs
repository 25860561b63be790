//! Shared server state: a small pool of store connections (synchronous, so used from blocking
//! threads), a snapshot of the register cached per revision, and the catalogs.

use crate::problem::Problem;
use airisk_catalog::Library;
use airisk_compliance::{EvidenceFact, EvidenceIndex};
use airisk_model::{Register, RiskView};
use airisk_store::evidence::EvidenceRecord;
use airisk_store::{Store, StoreOpener};
use chrono::NaiveDate;
use std::sync::{Arc, Mutex, OnceLock, RwLock};

#[derive(Debug, Clone)]
pub struct Config {
    /// Evaluate dates as of this day instead of the clock's (demos, tests).
    pub today: Option<NaiveDate>,
    /// Mark the session cookie `Secure` (set when served over HTTPS, directly or behind a proxy).
    pub secure_cookies: bool,
    /// How long a browser session lasts.
    pub session_hours: i64,
    /// At most this many store connections at once: requests beyond it wait for one. Several
    /// let a slow page (a register reload) and a write proceed together; writers still take
    /// the database's own locks.
    pub store_connections: usize,
}

/// Store connections the server opens at most, unless configured otherwise.
pub const DEFAULT_STORE_CONNECTIONS: u16 = 4;

impl Default for Config {
    fn default() -> Config {
        Config {
            today: None,
            secure_cookies: false,
            session_hours: 12,
            store_connections: usize::from(DEFAULT_STORE_CONNECTIONS),
        }
    }
}

/// The register as of one revision, with what pages derive from it computed once.
pub struct Snapshot {
    pub key: (i64, u64, NaiveDate),
    pub today: NaiveDate,
    pub register: Register,
    /// Every risk's view, in natural id order.
    pub views: Vec<RiskView>,
    pub evidence: Vec<EvidenceRecord>,
    /// The evidence as control assessments read it, built once per snapshot.
    pub evidence_index: EvidenceIndex,
    pub ledger_size: u64,
    pub dashboard: OnceLock<crate::ui::dashboard::DashboardData>,
    /// Open (not closed) risks per system id.
    pub open_risks: std::collections::HashMap<String, usize>,
}

impl Snapshot {
    pub fn view(&self, risk_id: &str) -> Option<&RiskView> {
        self.views.iter().find(|v| v.id == risk_id)
    }
}

/// Idle connections, and a permit per connection that may be open.
struct StorePool {
    opener: StoreOpener,
    idle: Mutex<Vec<Store>>,
    permits: Arc<tokio::sync::Semaphore>,
}

impl StorePool {
    fn take(&self) -> Result<Store, Problem> {
        let idle = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        match idle {
            Some(store) => Ok(store),
            None => Ok(self.opener.open()?),
        }
    }

    fn give_back(&self, store: Store) {
        if let Ok(mut idle) = self.idle.lock() {
            idle.push(store);
        }
    }
}

impl Drop for StorePool {
    /// The synchronous PostgreSQL client closes its connection by blocking on a runtime of its
    /// own, which panics on a thread that drives async tasks, as the server's do when the state
    /// is dropped at shutdown. So idle connections are closed on a plain thread.
    fn drop(&mut self) {
        let idle = std::mem::take(self.idle.get_mut().unwrap_or_else(|e| e.into_inner()));
        if idle.is_empty() {
            return;
        }
        if tokio::runtime::Handle::try_current().is_ok() {
            let _ = std::thread::spawn(move || drop(idle)).join();
        } else {
            drop(idle);
        }
    }
}

pub struct AppState {
    pool: Arc<StorePool>,
    cache: RwLock<Option<Arc<Snapshot>>>,
    pub library: Arc<Library>,
    pub config: Config,
}

impl AppState {
    pub fn new(store: Store, library: Library, config: Config) -> AppState {
        let permits = config.store_connections.max(1);
        AppState {
            pool: Arc::new(StorePool {
                opener: store.opener(),
                idle: Mutex::new(vec![store]),
                permits: Arc::new(tokio::sync::Semaphore::new(permits)),
            }),
            cache: RwLock::new(None),
            library: Arc::new(library),
            config,
        }
    }

    pub fn today(&self) -> NaiveDate {
        self.config
            .today
            .unwrap_or_else(|| chrono::Local::now().date_naive())
    }

    /// Runs `f` with a store connection on a blocking thread (the store's clients are
    /// synchronous). A connection whose work failed with a server error is closed rather than
    /// reused, so a broken one (a restarted PostgreSQL server) does not stay in the pool; a
    /// client error (a missing record, a bad field) keeps it.
    pub async fn with_store<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Store) -> Result<R, Problem> + Send + 'static,
    ) -> Result<R, Problem> {
        let permit = self
            .pool
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| Problem::internal("the database pool is closed"))?;
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let mut store = pool.take()?;
            let result = f(&mut store);
            if result.as_ref().err().is_none_or(|p| p.status < 500) {
                pool.give_back(store);
            }
            result
        })
        .await
        .map_err(|e| Problem::internal(format!("database task failed: {e}")))?
    }

    /// The register as it is now: cached until the history or the ledger grows (another
    /// process, e.g. `airisk apply`, may write to the same database).
    pub async fn snapshot(&self) -> Result<Arc<Snapshot>, Problem> {
        let today = self.today();
        let cached = self.cache.read().ok().and_then(|c| c.clone());
        let cached_key = cached.as_ref().map(|s| s.key);
        let snapshot = self
            .with_store(move |store| {
                let key = (store.revision()?, store.ledger_size()?, today);
                if cached_key == Some(key) {
                    return Ok(None);
                }
                let register = store.load_register()?;
                let evidence = store.evidence(None)?;
                // A record whose timestamp cannot be read is left out of assessments.
                let evidence_index = EvidenceIndex::new(evidence.iter().filter_map(|r| {
                    EvidenceFact::from_stored(
                        r.id,
                        &r.target,
                        r.ledger_index,
                        &r.created_at,
                        r.outcome,
                        &r.file_name,
                    )
                }));
                let views = register.risk_views(today);
                let mut open_risks = std::collections::HashMap::new();
                for v in views
                    .iter()
                    .filter(|v| v.status != airisk_model::RiskStatus::Closed)
                {
                    for s in &v.systems {
                        *open_risks.entry(s.clone()).or_insert(0) += 1;
                    }
                }
                Ok(Some(Snapshot {
                    open_risks,
                    key,
                    today,
                    views,
                    register,
                    evidence,
                    evidence_index,
                    ledger_size: key.1,
                    dashboard: OnceLock::new(),
                }))
            })
            .await?;
        match snapshot {
            None => cached.ok_or_else(|| Problem::internal("register cache is empty")),
            Some(fresh) => {
                let fresh = Arc::new(fresh);
                if let Ok(mut slot) = self.cache.write() {
                    *slot = Some(fresh.clone());
                }
                Ok(fresh)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use airisk_store::Location;
    use std::time::Duration;

    fn state(dir: &std::path::Path, connections: usize) -> Arc<AppState> {
        let store = Store::open(&Location::Sqlite(dir.join("pool.db"))).unwrap();
        let config = Config {
            store_connections: connections,
            ..Config::default()
        };
        Arc::new(AppState::new(store, Library::embedded().unwrap(), config))
    }

    /// Runs a request that holds its connection until a second request has run, and returns
    /// whether the second one got through meanwhile.
    async fn second_request_runs_while_first_holds(state: Arc<AppState>) -> bool {
        let (entered_tx, entered_rx) = tokio::sync::oneshot::channel::<()>();
        let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
        let first = {
            let state = state.clone();
            tokio::spawn(async move {
                state
                    .with_store(move |store| {
                        store.revision()?;
                        let _ = entered_tx.send(());
                        Ok(done_rx.recv_timeout(Duration::from_secs(2)).is_ok())
                    })
                    .await
            })
        };
        entered_rx.await.unwrap();
        let second = tokio::time::timeout(
            Duration::from_secs(5),
            state.with_store(move |store| {
                store.revision()?;
                let _ = done_tx.send(());
                Ok(())
            }),
        )
        .await;
        let first_saw_second = first.await.unwrap().unwrap();
        second.is_ok_and(|r| r.is_ok()) && first_saw_second
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn requests_use_the_store_at_the_same_time() {
        let dir = tempfile::tempdir().unwrap();
        assert!(second_request_runs_while_first_holds(state(dir.path(), 4)).await);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn connections_are_capped() {
        // With one connection the second request waits for the first: the first gives up
        // after its 2 s, then the second runs.
        let dir = tempfile::tempdir().unwrap();
        assert!(!second_request_runs_while_first_holds(state(dir.path(), 1)).await);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_server_error_closes_the_connection_and_a_client_error_keeps_it() {
        let dir = tempfile::tempdir().unwrap();
        let state = state(dir.path(), 4);
        let idle = |state: &AppState| state.pool.idle.lock().unwrap().len();
        let _ = state
            .with_store(|_| Err::<(), _>(Problem::not_found("no such risk")))
            .await;
        assert_eq!(idle(&state), 1);
        let _ = state
            .with_store(|_| Err::<(), _>(Problem::internal("the connection broke")))
            .await;
        assert_eq!(idle(&state), 0);
        // The next request opens a fresh connection.
        state
            .with_store(|store| Ok(store.revision()?))
            .await
            .unwrap();
        assert_eq!(idle(&state), 1);
    }
}
