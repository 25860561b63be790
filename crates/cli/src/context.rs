//! What every command needs: where the database is, who acts, and what day it is.

use airisk_model::Register;
use airisk_store::{Location, Store};
use anyhow::{anyhow, Context as _, Result};
use chrono::NaiveDate;

/// A command failed or its input was invalid (also used for any error).
pub const EXIT_FAILURE: u8 = 1;
/// `due --check` found items that need attention.
pub const EXIT_ATTENTION: u8 = 3;

pub struct Context {
    pub location: Location,
    pub actor: String,
    pub today: NaiveDate,
}

impl Context {
    pub fn new(db: String, actor: Option<String>, today: Option<String>) -> Result<Context> {
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
        Ok(Context {
            location: Location::parse(&db),
            actor,
            today,
        })
    }

    pub fn open(&self) -> Result<Store> {
        Store::open(&self.location)
            .with_context(|| format!("opening database {}", self.location.redacted()))
    }

    pub fn load(&self) -> Result<(Store, Register)> {
        let mut store = self.open()?;
        let register = store.load_register().context("reading the register")?;
        Ok((store, register))
    }
}
