//! What every command needs: where the database is, who acts, and what day it is.

use airisk_ledger::SignerKey;
use airisk_model::Register;
use airisk_store::{Location, Store};
use anyhow::{anyhow, bail, Context as _, Result};
use chrono::NaiveDate;
use std::path::{Path, PathBuf};

/// A command failed or its input was invalid (also used for any error).
pub const EXIT_FAILURE: u8 = 1;
/// `due --check` found items that need attention.
pub const EXIT_ATTENTION: u8 = 3;

pub struct Context {
    pub location: Location,
    pub actor: String,
    pub today: NaiveDate,
    /// The private key that signs ledger checkpoints.
    pub ledger_key: PathBuf,
}

impl Context {
    pub fn new(
        db: String,
        actor: Option<String>,
        today: Option<String>,
        ledger_key: Option<PathBuf>,
    ) -> Result<Context> {
        let today = match today {
            Some(text) => NaiveDate::parse_from_str(&text, "%Y-%m-%d").map_err(|_| {
                anyhow!("--today / AIRISK_TODAY: `{text}` is not a date in the form YYYY-MM-DD")
            })?,
            None => chrono::Local::now().date_naive(),
        };
        let actor = actor
            .filter(|a| !a.trim().is_empty())
            .or_else(|| std::env::var("USER").ok().filter(|u| !u.is_empty()))
            .unwrap_or_else(|| "unknown".to_string());
        let location = Location::parse(&db);
        let ledger_key = ledger_key.unwrap_or_else(|| default_key_path(&location));
        Ok(Context {
            location,
            actor,
            today,
            ledger_key,
        })
    }

    /// Opens the database; loads the ledger key when its file exists, so writes are
    /// checkpointed and signed.
    pub fn open(&self) -> Result<Store> {
        let mut store = Store::open(&self.location)
            .with_context(|| format!("opening database {}", self.location.redacted()))?;
        if self.ledger_key.exists() {
            let key = read_key(&self.ledger_key)?;
            // Records the identity on a new database; refuses a key of another ledger.
            store
                .init_ledger(&key)
                .with_context(|| format!("using ledger key {}", self.ledger_key.display()))?;
            store.set_signer(Some(key));
        }
        store.set_checkpoint_policy(checkpoint_policy()?);
        Ok(store)
    }

    pub fn load(&self) -> Result<(Store, Register)> {
        let mut store = self.open()?;
        let register = store.load_register().context("reading the register")?;
        Ok((store, register))
    }
}

/// Beside a SQLite file (`airisk.db` → `airisk.db.ledger-key`); in the working folder
/// for PostgreSQL.
fn default_key_path(location: &Location) -> PathBuf {
    match location {
        Location::Sqlite(path) => {
            let mut name = path.as_os_str().to_owned();
            name.push(".ledger-key");
            PathBuf::from(name)
        }
        Location::Postgres(_) => PathBuf::from("airisk-ledger.key"),
    }
}

/// Reads the signing key, refusing a file that others can read (as ssh does).
pub fn read_key(path: &Path) -> Result<SignerKey> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .with_context(|| format!("reading ledger key {}", path.display()))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            bail!(
                "ledger key {} can be read by others (mode {:o}); run `chmod 600 {}`",
                path.display(),
                mode & 0o777,
                path.display()
            );
        }
    }
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading ledger key {}", path.display()))?;
    SignerKey::parse(text.trim())
        .map_err(|e| anyhow!("ledger key {} is not a signer key: {e}", path.display()))
}

/// Writes a new signing key, readable by its owner only; never overwrites a file.
pub fn write_key(path: &Path, key: &SignerKey) -> Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("creating ledger key {}", path.display()))?;
    writeln!(file, "{}", key.to_key_string())
        .with_context(|| format!("writing ledger key {}", path.display()))?;
    file.sync_all()?;
    Ok(())
}

/// `AIRISK_CHECKPOINT_ENTRIES` and `AIRISK_CHECKPOINT_SECONDS` tune when checkpoints are
/// signed automatically (defaults: 1,000 unsigned entries or 300 seconds).
fn checkpoint_policy() -> Result<airisk_store::ledger::CheckpointPolicy> {
    let mut policy = airisk_store::ledger::CheckpointPolicy::default();
    let read = |name: &str| -> Result<Option<u64>> {
        match std::env::var(name) {
            Ok(text) => text
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|n| *n > 0)
                .map(Some)
                .ok_or_else(|| anyhow!("{name}: `{text}` is not a whole number above 0")),
            Err(_) => Ok(None),
        }
    };
    if let Some(entries) = read("AIRISK_CHECKPOINT_ENTRIES")? {
        policy.every_entries = entries;
    }
    if let Some(seconds) = read("AIRISK_CHECKPOINT_SECONDS")? {
        policy.every = std::time::Duration::from_secs(seconds);
    }
    Ok(policy)
}
