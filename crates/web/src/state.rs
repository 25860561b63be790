//! Shared server state: the store (synchronous, so used from blocking threads), a snapshot
//! of the register cached per revision, and the catalogs.

use crate::problem::Problem;
use airisk_catalog::Library;
use airisk_compliance::{EvidenceFact, EvidenceIndex};
use airisk_model::{Register, RiskView};
use airisk_store::evidence::EvidenceRecord;
use airisk_store::Store;
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
}

impl Default for Config {
    fn default() -> Config {
        Config {
            today: None,
            secure_cookies: false,
            session_hours: 12,
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

pub struct AppState {
    store: Arc<Mutex<Store>>,
    cache: RwLock<Option<Arc<Snapshot>>>,
    pub library: Arc<Library>,
    pub config: Config,
}

impl AppState {
    pub fn new(store: Store, library: Library, config: Config) -> AppState {
        AppState {
            store: Arc::new(Mutex::new(store)),
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

    /// Runs `f` with the store on a blocking thread (the store's clients are synchronous).
    pub async fn with_store<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Store) -> Result<R, Problem> + Send + 'static,
    ) -> Result<R, Problem> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = store
                .lock()
                .map_err(|_| Problem::internal("the database handle is poisoned"))?;
            f(&mut guard)
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
