//! `airisk serve` and `airisk user`: the web application and its accounts.

use crate::context::Context;
use airisk_store::accounts::Account;
use airisk_store::Store;
use airisk_web::access::Role;
use airisk_web::{AppState, Config};
use anyhow::{anyhow, bail, Context as _, Result};
use clap::{Args, Subcommand};
use std::io::BufRead;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Mark session cookies Secure (serve over HTTPS, directly or behind a proxy).
    #[arg(long)]
    pub secure_cookies: bool,
    /// Also load the catalog and crosswalk files in this folder.
    #[arg(long, value_name = "DIR")]
    pub with: Option<std::path::PathBuf>,
    /// At most this many database connections at once (1 to 64; a request beyond waits).
    #[arg(long, value_name = "N", default_value_t = airisk_web::state::DEFAULT_STORE_CONNECTIONS,
          value_parser = clap::value_parser!(u16).range(1..=64))]
    pub store_connections: u16,
}

pub fn run_serve(ctx: &Context, args: ServeArgs) -> Result<ExitCode> {
    let store = ctx.open()?;
    let library = crate::commands::catalog::library(args.with.as_ref())?;
    serve_store(
        store,
        library,
        ctx,
        ServeOptions {
            listen: args.listen,
            secure_cookies: args.secure_cookies,
            store_connections: usize::from(args.store_connections),
        },
        |url| {
            println!("airisk is serving {url} (Ctrl-C stops it; in-flight requests finish first)");
        },
    )
}

/// How `serve_store` serves.
pub struct ServeOptions {
    pub listen: SocketAddr,
    pub secure_cookies: bool,
    pub store_connections: usize,
}

/// Serves `store` until interrupted; `announce` runs once the port is bound.
pub fn serve_store(
    store: Store,
    library: airisk_catalog::Library,
    ctx: &Context,
    options: ServeOptions,
    announce: impl FnOnce(&str),
) -> Result<ExitCode> {
    let ServeOptions {
        listen,
        secure_cookies,
        store_connections,
    } = options;
    let today_fixed = std::env::var("AIRISK_TODAY").is_ok();
    let config = Config {
        today: today_fixed.then_some(ctx.today),
        secure_cookies,
        store_connections,
        ..Config::default()
    };
    let state = Arc::new(AppState::new(store, library, config));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        let bound = listener.local_addr()?;
        announce(&format!("http://{bound}/"));
        airisk_web::serve(state, listener)
            .await
            .context("serving HTTP")
    })?;
    Ok(ExitCode::SUCCESS)
}

#[derive(Subcommand)]
pub enum UserCommand {
    /// Create or update an account. The password is read from standard input (one line).
    Add {
        username: String,
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// The register person this account acts as (owners edit what this person owns).
        #[arg(long)]
        person: Option<String>,
        #[arg(long)]
        name: Option<String>,
    },
    /// Every account with its role.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Create an API token for an account (printed once).
    Token {
        username: String,
        #[arg(long, default_value = "cli")]
        name: String,
    },
    /// Disable an account and revoke its sessions and tokens.
    Disable { username: String },
}

fn parse_role(text: &str) -> Result<Role, String> {
    Role::parse(text).ok_or_else(|| {
        format!(
            "`{text}`: expected one of {}",
            Role::ALL.map(|r| r.as_str()).join(", ")
        )
    })
}

pub fn run_user(ctx: &Context, command: UserCommand) -> Result<ExitCode> {
    let (mut store, register) = ctx.load()?;
    match command {
        UserCommand::Add {
            username,
            role,
            person,
            name,
        } => {
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .context("reading the password from standard input")?;
            let password = line.trim_end_matches(['\n', '\r']);
            let request = airisk_web::api::NewAccount {
                username: username.clone(),
                display_name: name.clone().unwrap_or_else(|| username.clone()),
                role,
                person_id: person.clone(),
                password: password.to_string(),
            };
            airisk_web::api::check_new_account(&request).map_err(|p| anyhow!(p.detail))?;
            if let Some(p) = &person {
                if !register.people.contains_key(p) {
                    bail!("--person {p}: no such person in the register");
                }
            }
            let existing = store.account(&username)?;
            put_account(&mut store, &request, existing.map(|a| a.created_at))?;
            println!("Account {username} ({role}) saved.");
        }
        UserCommand::List { json } => {
            let accounts = store.accounts()?;
            if json {
                crate::render::print_json(&serde_json::json!({ "accounts": accounts }))?;
            } else {
                for a in &accounts {
                    println!(
                        "{:<20} {:<13} {:<16} {}",
                        a.username,
                        a.role,
                        a.person_id.as_deref().unwrap_or("-"),
                        if a.disabled { "disabled" } else { "" }
                    );
                }
            }
        }
        UserCommand::Token { username, name } => {
            if store.account(&username)?.is_none_or(|a| a.disabled) {
                bail!("no active account `{username}` (see `airisk user list`)");
            }
            let (secret, credential) = airisk_web::auth::new_token(&username, &name);
            store.put_credential(&credential)?;
            println!("{secret}");
            eprintln!("API token `{name}` for {username}; shown once. Send it as: Authorization: Bearer TOKEN");
        }
        UserCommand::Disable { username } => {
            let Some(mut account) = store.account(&username)? else {
                bail!("no account `{username}`");
            };
            account.disabled = true;
            store.put_account(&account)?;
            let mut revoked = 0;
            for c in store.credentials_of(&username)? {
                revoked += usize::from(store.delete_credential(&c.secret_sha256)?);
            }
            println!("Account {username} disabled; {revoked} sessions and tokens revoked.");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Hashes the password and stores the account (keeping its creation time on update).
pub fn put_account(
    store: &mut Store,
    request: &airisk_web::api::NewAccount,
    created_at: Option<String>,
) -> Result<()> {
    let hash = airisk_web::auth::hash_password(&request.password).map_err(|p| anyhow!(p.detail))?;
    store.put_account(&Account {
        username: request.username.clone(),
        display_name: request.display_name.clone(),
        role: request.role.as_str().to_string(),
        person_id: request.person_id.clone(),
        password_hash: Some(hash),
        disabled: false,
        created_at: created_at.unwrap_or_else(|| chrono::Utc::now().to_rfc3339()),
    })?;
    Ok(())
}

/// The first admin of a new database: `admin` with AIRISK_ADMIN_PASSWORD or a random password
/// printed once. Does nothing when any account exists.
pub fn bootstrap_admin(store: &mut Store) -> Result<Option<(String, bool)>> {
    if !store.accounts()?.is_empty() {
        return Ok(None);
    }
    let (password, generated) = match std::env::var("AIRISK_ADMIN_PASSWORD") {
        Ok(p) if !p.is_empty() => (p, false),
        _ => (airisk_web::auth::new_secret()[..20].to_string(), true),
    };
    let request = airisk_web::api::NewAccount {
        username: "admin".into(),
        display_name: "Administrator".into(),
        role: Role::Admin,
        person_id: None,
        password: password.clone(),
    };
    airisk_web::api::check_new_account(&request)
        .map_err(|p| anyhow!("AIRISK_ADMIN_PASSWORD: {}", p.detail))?;
    put_account(store, &request, None)?;
    Ok(Some((password, generated)))
}
