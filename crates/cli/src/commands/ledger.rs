use crate::context::Context;
use crate::render;
use airisk_ledger::{verify_bundle, PayloadStatus, VerifierKey};
use airisk_store::ledger::{NewEntry, PayloadState};
use airisk_store::{Location, Store};
use anyhow::{anyhow, bail, Context as _, Result};
use clap::{Args, Subcommand};
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

#[derive(Subcommand)]
pub enum LedgerCommand {
    /// Recompute the tree from every entry and check every checkpoint and payload.
    Verify {
        /// The verifier key to trust (default: the one recorded in the database).
        #[arg(long, value_name = "VERIFIER_KEY")]
        key: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Sign a checkpoint of the whole log now.
    Checkpoint,
    /// Print the verifier key (C2SP signed-note form) auditors use to check checkpoints.
    Pubkey,
    /// Inclusion proof of one entry, as JSON.
    Proof {
        index: u64,
        /// Prove against this tree size (default: the latest checkpoint covering the entry).
        #[arg(long)]
        size: Option<u64>,
    },
    /// Consistency proof between two tree sizes, as JSON.
    Consistency { old: u64, new: u64 },
    /// Write an offline-verifiable bundle: entry, payload, inclusion proof, signed checkpoint.
    Bundle {
        index: u64,
        #[arg(short = 'o', long = "out", value_name = "FILE")]
        out: PathBuf,
        /// Leave the payload out (the entry is still proven by its hash).
        #[arg(long)]
        no_payload: bool,
    },
    /// Verify a bundle with only the verifier key; needs no database.
    VerifyBundle {
        file: PathBuf,
        #[arg(long, value_name = "VERIFIER_KEY")]
        key: String,
        #[arg(long)]
        json: bool,
    },
    /// The latest entries.
    Tail {
        #[arg(short = 'n', long, default_value_t = 20)]
        count: u64,
        #[arg(long)]
        json: bool,
    },
    /// Erase an entry's payload (privacy request, retention); its proofs still hold.
    Erase {
        index: u64,
        #[arg(long)]
        reason: String,
    },
    /// Measure append, verify and proof speed on a fresh database.
    Bench(BenchArgs),
}

#[derive(Args)]
pub struct BenchArgs {
    /// Entries to append.
    #[arg(long, default_value_t = 200_000)]
    entries: u64,
    /// Entries per durable write (group commit).
    #[arg(long, default_value_t = 1000)]
    batch: u64,
    /// Run on this (fresh) database instead of a temporary SQLite file; the benchmark
    /// records its own throwaway signing key there.
    #[arg(long, value_name = "DB")]
    on: Option<String>,
    /// Inclusion proofs to generate from the in-memory tree (and up to 5,000 from stored hashes).
    #[arg(long, default_value_t = 1_000_000)]
    proofs: u64,
    /// Print the tree size after every acknowledged (committed) batch.
    #[arg(long)]
    print_acks: bool,
    /// Instead of batches, append single entries from this many threads through the group
    /// committer (at most --batch entries per durable write).
    #[arg(long, value_name = "N")]
    producers: Option<u64>,
}

pub fn run(ctx: &Context, command: LedgerCommand) -> Result<ExitCode> {
    match command {
        LedgerCommand::VerifyBundle { file, key, json } => {
            return verify_bundle_file(&file, &key, json)
        }
        LedgerCommand::Bench(args) => return bench(ctx, args),
        _ => {}
    }
    let mut store = ctx.open()?;
    match command {
        LedgerCommand::Verify { key, json } => return verify(&mut store, key, json),
        LedgerCommand::Checkpoint => match store.checkpoint(chrono::Utc::now())? {
            Some(size) => println!("Signed a checkpoint of {size} entries."),
            None => println!(
                "Nothing new to sign: the latest checkpoint covers all {} entries.",
                store.ledger_size()?
            ),
        },
        LedgerCommand::Pubkey => match store.ledger_identity()? {
            Some(identity) => println!("{}", identity.verifier_key),
            None => bail!("this ledger has no signing key yet; run `airisk init`"),
        },
        LedgerCommand::Proof { index, size } => {
            let size = match size {
                Some(size) => size,
                None => covering_checkpoint(&mut store, index)?.unwrap_or(store.ledger_size()?),
            };
            let proof = store.inclusion_proof(index, size)?;
            let entry = store.ledger_entry(index)?;
            let checkpoint = store
                .checkpoints()?
                .into_iter()
                .find(|c| c.0 == size)
                .map(|c| c.1);
            render::print_json(&json!({
                "leaf_index": index,
                "tree_size": size,
                "leaf_hash": entry.leaf_hash,
                "root": airisk_ledger::hash::to_hex(&store.root(size)?),
                "proof": proof,
                "checkpoint": checkpoint,
            }))?;
        }
        LedgerCommand::Consistency { old, new } => {
            let proof = store.consistency_proof(old, new)?;
            render::print_json(&json!({
                "old_size": old,
                "new_size": new,
                "old_root": airisk_ledger::hash::to_hex(&store.root(old)?),
                "new_root": airisk_ledger::hash::to_hex(&store.root(new)?),
                "proof": proof,
            }))?;
        }
        LedgerCommand::Bundle {
            index,
            out,
            no_payload,
        } => {
            let bundle = store.bundle(index, !no_payload)?;
            let bytes = bundle.to_json()?;
            std::fs::write(&out, bytes).with_context(|| format!("writing {}", out.display()))?;
            println!(
                "Wrote bundle for entry {index} ({}) to {}; verify with: airisk ledger verify-bundle {} --key '{}'",
                if bundle.payload.is_some() { "with payload" } else { "without payload" },
                out.display(),
                out.display(),
                store
                    .ledger_identity()?
                    .map(|i| i.verifier_key)
                    .unwrap_or_default()
            );
        }
        LedgerCommand::Tail { count, json } => {
            let size = store.ledger_size()?;
            let entries = store.ledger_entries(size.saturating_sub(count), size)?;
            if json {
                render::print_json(&json!({ "tree_size": size, "entries": entries }))?;
            } else {
                for e in &entries {
                    let at = chrono::DateTime::from_timestamp_millis(e.timestamp_ms as i64)
                        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
                        .unwrap_or_default();
                    let payload = match &e.payload {
                        PayloadState::Present { size, .. } => format!("{size} bytes"),
                        PayloadState::Erased { reason, .. } => format!("erased ({reason})"),
                        PayloadState::Missing => "MISSING".to_string(),
                    };
                    println!(
                        "{:>8}  {at}  {:<16} {:<14} {:<28} payload {payload}",
                        e.index, e.kind, e.actor, e.subject
                    );
                }
                println!("{size} entries in the ledger.");
            }
        }
        LedgerCommand::Erase { index, reason } => {
            store.erase_payload(index, &ctx.actor, &reason, chrono::Utc::now())?;
            println!("Erased the payload of entry {index}; its hash and every proof remain.");
        }
        LedgerCommand::VerifyBundle { .. } | LedgerCommand::Bench(_) => {
            unreachable!("handled above")
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn covering_checkpoint(store: &mut Store, index: u64) -> Result<Option<u64>> {
    Ok(store
        .checkpoints()?
        .into_iter()
        .map(|c| c.0)
        .find(|size| *size > index))
}

fn parse_key(text: &str) -> Result<VerifierKey> {
    VerifierKey::parse(text.trim()).map_err(|e| anyhow!("--key: not a verifier key: {e}"))
}

fn verify(store: &mut Store, key: Option<String>, json: bool) -> Result<ExitCode> {
    let key = match key {
        Some(text) => parse_key(&text)?,
        None => {
            let identity = store.ledger_identity()?.ok_or_else(|| {
                anyhow!("this ledger has no signing key yet; run `airisk init` (or pass --key)")
            })?;
            parse_key(&identity.verifier_key)?
        }
    };
    let started = Instant::now();
    let report = store.verify_ledger(&key)?;
    let elapsed = started.elapsed();
    if json {
        render::print_json(&report)?;
    } else if report.is_ok() {
        println!(
            "Ledger verified: {} entries, {} checkpoints signed by {}, root {}, {} erased payloads, {} entries after the latest checkpoint ({:.2?}).",
            report.entries,
            report.checkpoints_verified,
            key.name(),
            report.root,
            report.erased_payloads,
            report.unsigned_tail,
            elapsed
        );
    } else {
        let first = &report.problems[0];
        eprintln!(
            "error: ledger verification failed at index {}: {}: {}",
            first.index, first.diagnosis, first.detail
        );
        for p in report.problems.iter().skip(1).take(9) {
            eprintln!("  also index {}: {}: {}", p.index, p.diagnosis, p.detail);
        }
        if report.problems.len() > 10 {
            eprintln!("  … {} problems in all", report.problems.len());
        }
    }
    Ok(if report.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(crate::context::EXIT_FAILURE)
    })
}

fn verify_bundle_file(file: &PathBuf, key: &str, json: bool) -> Result<ExitCode> {
    let key = parse_key(key)?;
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let verified = verify_bundle(&bytes, &key)
        .map_err(|e| anyhow!("bundle {} does not verify: {e}", file.display()))?;
    let payload = match &verified.payload {
        PayloadStatus::Present(bytes) => {
            format!("payload of {} bytes matches its hash", bytes.len())
        }
        PayloadStatus::Absent => "payload not included (erased or left out)".to_string(),
    };
    if json {
        render::print_json(&json!({
            "verified": true,
            "entry": verified.entry,
            "checkpoint_size": verified.checkpoint.checkpoint.size,
            "origin": verified.checkpoint.checkpoint.origin,
            "payload_included": matches!(verified.payload, PayloadStatus::Present(_)),
        }))?;
    } else {
        println!(
            "Bundle verified: entry {} ({} by {} on {}) is in the tree of {} entries signed by {}; {payload}.",
            verified.entry.index,
            verified.entry.kind.as_str(),
            verified.entry.actor,
            verified.entry.subject,
            verified.checkpoint.checkpoint.size,
            key.name()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Median and spread of a sample, in the sample's unit.
fn stats(mut samples: Vec<f64>) -> (f64, f64, f64) {
    samples.sort_by(|a, b| a.total_cmp(b));
    let n = samples.len();
    if n == 0 {
        return (0.0, 0.0, 0.0);
    }
    (samples[n / 2], samples[0], samples[n - 1])
}

fn bench(ctx: &Context, args: BenchArgs) -> Result<ExitCode> {
    if args.batch == 0 || args.entries == 0 {
        bail!("--entries and --batch must be at least 1");
    }
    let temp = tempfile::tempdir()?;
    let location = match &args.on {
        Some(db) => Location::parse(db),
        None => Location::Sqlite(temp.path().join("bench.db")),
    };
    let key_path = temp.path().join("bench.ledger-key");
    let bench_ctx = Context {
        location: location.clone(),
        actor: ctx.actor.clone(),
        today: ctx.today,
        ledger_key: key_path,
    };
    crate::commands::init::ensure_ledger_key(&bench_ctx)?;
    let payload = vec![b'x'; 256];
    let entry = |n: u64| NewEntry {
        kind: airisk_ledger::EntryKind::GuardDecision,
        actor: "bench".into(),
        subject: format!("system:bench-{}", n % 7),
        payload: payload.clone(),
    };
    if let Some(producers) = args.producers.filter(|p| *p > 0) {
        let committer =
            airisk_store::group::GroupCommitter::start(bench_ctx.open()?, args.batch as usize);
        let per_producer = args.entries.div_ceil(producers);
        let started = Instant::now();
        let threads: Vec<_> = (0..producers)
            .map(|p| {
                let appender = committer.appender();
                let entries: Vec<NewEntry> = (0..per_producer)
                    .map(|i| entry(p * per_producer + i))
                    .collect();
                std::thread::spawn(move || {
                    entries
                        .into_iter()
                        .try_for_each(|e| appender.append(e).map(|_| ()))
                })
            })
            .collect();
        for thread in threads {
            thread
                .join()
                .map_err(|_| anyhow!("a producer thread panicked"))??;
        }
        let stats = committer.finish();
        let elapsed = started.elapsed();
        println!(
            "group commit: {producers} producers appending single entries on {}: {} entries in {} durable writes (mean {:.0} per write), {:.0} entries/s",
            location.redacted(),
            stats.entries,
            stats.batches,
            stats.entries as f64 / stats.batches.max(1) as f64,
            stats.entries as f64 / elapsed.as_secs_f64()
        );
        return verify_and_prove(&bench_ctx, &args);
    }
    let mut store = bench_ctx.open()?;
    let batches = args.entries.div_ceil(args.batch);
    let mut rates = Vec::with_capacity(batches as usize);
    let started = Instant::now();
    let mut appended = 0;
    for _ in 0..batches {
        let n = args.batch.min(args.entries - appended);
        let entries: Vec<NewEntry> = (0..n).map(|i| entry(appended + i)).collect();
        let t = Instant::now();
        let outcome = store.append(&entries, chrono::Utc::now())?;
        rates.push(n as f64 / t.elapsed().as_secs_f64());
        appended += n;
        if args.print_acks {
            println!("ack {}", outcome.tree_size);
        }
    }
    let total = started.elapsed();
    store.checkpoint(chrono::Utc::now())?;
    let (median, low, high) = stats(rates);
    println!(
        "append: {appended} entries in {batches} durable batches of {} on {}: {:.0} entries/s overall; per batch median {median:.0}/s (min {low:.0}, max {high:.0})",
        args.batch,
        location.redacted(),
        appended as f64 / total.as_secs_f64()
    );
    drop(store);
    verify_and_prove(&bench_ctx, &args)
}

/// The read half of the benchmark: full verify and proof generation.
fn verify_and_prove(ctx: &Context, args: &BenchArgs) -> Result<ExitCode> {
    let mut store = ctx.open()?;
    let key = parse_key(
        &store
            .ledger_identity()?
            .map(|i| i.verifier_key)
            .unwrap_or_default(),
    )?;
    let t = Instant::now();
    let report = store.verify_ledger(&key)?;
    if !report.is_ok() {
        bail!(
            "the benchmark ledger does not verify: {:?}",
            report.problems.first()
        );
    }
    println!(
        "verify: {} entries, {} checkpoints in {:.3} s",
        report.entries,
        report.checkpoints_verified,
        t.elapsed().as_secs_f64()
    );
    let size = store.ledger_size()?;
    let pick = |i: u64| (i.wrapping_mul(7_919) + 13) % size;
    // One proof at a time from stored hashes, as `airisk ledger proof` does.
    let single = args.proofs.min(5_000);
    let t = Instant::now();
    for i in 0..single {
        store.inclusion_proof(pick(i), size)?;
    }
    println!(
        "proofs from stored hashes: {single} in {:.3} s: {:.0} proofs/s",
        t.elapsed().as_secs_f64(),
        single as f64 / t.elapsed().as_secs_f64()
    );
    // Many proofs from the tree loaded into memory, as a long-running server would.
    let t = Instant::now();
    let tree = store.memory_tree()?;
    let loaded = t.elapsed();
    let t = Instant::now();
    for i in 0..args.proofs {
        tree.inclusion_proof(pick(i), size)?;
    }
    println!(
        "proofs from the in-memory tree: loaded in {:.3} s, then {} in {:.3} s: {:.0} proofs/s",
        loaded.as_secs_f64(),
        args.proofs,
        t.elapsed().as_secs_f64(),
        args.proofs as f64 / t.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}
