use crate::context::{read_key, write_key, Context};
use airisk_ledger::SignerKey;
use airisk_store::{LedgerIdentity, Location};
use anyhow::{Context as _, Result};
use std::process::ExitCode;

pub fn run(ctx: &Context) -> Result<ExitCode> {
    let existed = match &ctx.location {
        Location::Sqlite(path) => path.exists(),
        Location::Postgres(_) => true,
    };
    let (identity, created_key) = ensure_ledger_key(ctx)?;
    let mut store = ctx.open()?;
    let what = match &ctx.location {
        Location::Sqlite(_) if existed => "SQLite database is up to date",
        Location::Sqlite(_) => "Created SQLite database",
        Location::Postgres(_) => "PostgreSQL database is ready",
    };
    println!(
        "{what}: {} (schema version {})",
        ctx.location.redacted(),
        store.schema_version()
    );
    println!(
        "Ledger signing key: {} ({})",
        ctx.ledger_key.display(),
        if created_key {
            "created, readable by you only"
        } else {
            "existing"
        }
    );
    println!("Ledger origin:      {}", identity.origin);
    println!("Verifier key:       {}", identity.verifier_key);
    match crate::commands::serve::bootstrap_admin(&mut store)? {
        Some((password, true)) => println!(
            "Web admin account:  admin, password {password} (shown once; `airisk serve` to sign in)"
        ),
        Some((_, false)) => {
            println!("Web admin account:  admin, password from AIRISK_ADMIN_PASSWORD")
        }
        None => {}
    }
    Ok(ExitCode::SUCCESS)
}

/// Creates the ledger key pair when its file is missing and records the ledger's
/// identity in the database; checks that an existing key belongs to this database.
pub fn ensure_ledger_key(ctx: &Context) -> Result<(LedgerIdentity, bool)> {
    let created = !ctx.ledger_key.exists();
    let key = if created {
        let key = SignerKey::generate(&new_origin(ctx))
            .map_err(|e| anyhow::anyhow!("generating the ledger key: {e}"))?;
        write_key(&ctx.ledger_key, &key)?;
        key
    } else {
        read_key(&ctx.ledger_key)?
    };
    let recorded = ctx.open().and_then(|mut store| {
        store
            .init_ledger(&key)
            .with_context(|| format!("checking ledger key {}", ctx.ledger_key.display()))
    });
    match recorded {
        Ok(identity) => Ok((identity, created)),
        Err(error) => {
            // A key that does not belong to this database must not be left behind.
            if created {
                let _ = std::fs::remove_file(&ctx.ledger_key);
            }
            Err(error)
        }
    }
}

/// A unique origin line for a new ledger (C2SP: a schema-less, URL-like name).
fn new_origin(ctx: &Context) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let seed = format!("{nanos}/{}/{}", std::process::id(), ctx.location.redacted());
    let digest = airisk_ledger::sha256(seed.as_bytes());
    let suffix: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("airisk.local/ledger/{suffix}")
}
