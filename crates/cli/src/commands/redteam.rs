//! `airisk redteam run|demo-target|judge-eval|diff|converters|validate`: the pre-launch
//! attack harness (`airisk-redteam`) from the shell.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use airisk_redteam::gate::Gate;
use airisk_redteam::report::Report;
use airisk_redteam::run::{LlmJudge, RunConfig, TargetSpec};
use airisk_redteam::suite::{parse_chains, Suite};
use airisk_redteam::target::{RunOptions, Target};
use anyhow::{anyhow, bail, Context as _, Result};
use clap::{Args, Subcommand};

use crate::commands::evidence::{record_ids, record_test_report, TestLinks};
use crate::context::{Context, EXIT_ATTENTION};

/// Red-team an LLM application before launch: attack suites, judges, gates.
#[derive(Args, Debug)]
pub struct RedteamArgs {
    #[command(subcommand)]
    pub command: RedteamCommand,
}

#[derive(Subcommand, Debug)]
pub enum RedteamCommand {
    /// Run a suite against a target; exit 3 when a gate fails.
    Run(Box<RunArgs>),
    /// Serve the deliberately vulnerable demo app (OpenAI-compatible) on loopback.
    DemoTarget {
        /// Address to listen on (port 0 picks a free port).
        #[arg(long, default_value = "127.0.0.1:8787")]
        listen: String,
    },
    /// Measure the judges' precision and recall on judge_dev.jsonl and on the built-in fixtures.
    JudgeEval {
        /// The labelled judge_dev.jsonl (tasks jailbreak_judge and refusal); without it only
        /// the built-in fixtures are measured.
        #[arg(long)]
        dataset: Option<PathBuf>,
        /// Fixtures for the canary, system-prompt, tool-call, PII and secret judges
        /// (default: the built-in ones).
        #[arg(long)]
        fixtures: Option<PathBuf>,
        /// Also measure an LLM judge (OpenAI-compatible base URL) on the jailbreak rows of --dataset.
        #[arg(long, value_name = "BASE_URL", requires = "dataset")]
        llm_judge: Option<String>,
        #[arg(long, default_value = "default")]
        llm_judge_model: String,
        /// Environment variable holding the LLM judge's API key.
        #[arg(long, value_name = "VAR")]
        api_key_env: Option<String>,
        /// Send every N-th jailbreak row to the LLM judge (cost control).
        #[arg(long, default_value_t = 1)]
        llm_every: usize,
        #[arg(long)]
        json: bool,
    },
    /// Compare two report.json files; exit 3 with --fail-on-regression when a case regressed.
    Diff {
        old: PathBuf,
        new: PathBuf,
        #[arg(long)]
        fail_on_regression: bool,
        #[arg(long)]
        json: bool,
    },
    /// List the converters.
    Converters,
    /// Check a suite file and print what it holds.
    Validate {
        /// The suite file (default: the built-in default suite).
        #[arg(long)]
        suite: Option<PathBuf>,
    },
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// `demo` (the built-in vulnerable app), `openai:BASE_URL` (e.g. openai:http://127.0.0.1:8787/v1),
    /// `http:URL` (with --request-template and --answer-pointer) or `command:PROGRAM [ARGS…]`.
    #[arg(long)]
    target: String,
    /// Suite file (default: the built-in default suite).
    #[arg(long)]
    suite: Option<PathBuf>,
    /// Converter chains instead of the suite's, comma-separated: `none,base64,rot13+prefix_injection`.
    #[arg(long, value_delimiter = ',')]
    converters: Option<Vec<String>>,
    /// Run only these categories (comma-separated, e.g. prompt_injection,benign).
    #[arg(long, value_delimiter = ',')]
    category: Vec<String>,
    /// Seed for the converters (same seed, same cases).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Model name for OpenAI targets.
    #[arg(long, default_value = "default")]
    model: String,
    /// Environment variable holding the API key (sent as a Bearer token).
    #[arg(long, value_name = "VAR")]
    api_key_env: Option<String>,
    /// Send the suite's system prompt as the first message (for raw model endpoints).
    #[arg(long)]
    send_system_prompt: bool,
    /// The target's system prompt (replaces the suite's; used by the overlap judge).
    #[arg(long, value_name = "FILE")]
    system_prompt: Option<PathBuf>,
    /// A canary planted in the target's context (replaces the suite's; repeatable).
    #[arg(long)]
    canary: Vec<String>,
    /// HTTP targets: the JSON request body, inline or @FILE; `{{prompt}}`, `{{system}}` and
    /// `{{document}}` are replaced inside its strings.
    #[arg(long)]
    request_template: Option<String>,
    /// HTTP targets: JSON pointer to the answer text (e.g. /output/text).
    #[arg(long)]
    answer_pointer: Option<String>,
    /// HTTP targets: JSON pointer to a list of tool calls ({name, arguments}).
    #[arg(long)]
    tool_calls_pointer: Option<String>,
    /// HTTP targets: extra header `Name: value` (repeatable).
    #[arg(long)]
    header: Vec<String>,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// At most this many requests per second.
    #[arg(long, value_name = "RPS")]
    rate_limit: Option<f64>,
    /// Retries on timeouts, connection errors, 429 and 5xx (exponential backoff).
    #[arg(long, default_value_t = 3)]
    retries: u32,
    /// Per-request timeout in seconds.
    #[arg(long, default_value_t = 60.0)]
    timeout: f64,
    /// Run directory: completed cases are journaled there and skipped when the run is repeated.
    #[arg(long, value_name = "DIR")]
    run_dir: Option<PathBuf>,
    /// Write report.json, junit.xml, report.sarif and report.html here.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// A release gate, e.g. 'asr<=0.05', 'category:prompt_injection.asr<=0.02', 'over_refusal<=0.1' (repeatable).
    #[arg(long, value_parser = parse_gate)]
    gate: Vec<Gate>,
    /// Store report.json as evidence for this system in the ledger (with --risk and --control links).
    #[arg(long, value_name = "ID")]
    system: Option<String>,
    /// Also link the evidence to this risk (repeatable; needs --system).
    #[arg(long, value_name = "ID")]
    risk: Vec<String>,
    /// Also link the evidence to this applied control (its id in controls.yaml; repeatable;
    /// needs --system). With gates the run is a test result for the control's effectiveness.
    #[arg(long, value_name = "ID")]
    control: Vec<String>,
    /// An OpenAI-compatible base URL for an optional LLM judge (second opinion on jailbreak cases).
    #[arg(long, value_name = "BASE_URL")]
    llm_judge: Option<String>,
    #[arg(long, default_value = "default")]
    llm_judge_model: String,
    /// Do not draw the progress bar (it is never drawn when stderr is not a terminal).
    #[arg(long)]
    no_progress: bool,
    /// Print the whole report as JSON instead of the summary.
    #[arg(long)]
    json: bool,
}

fn parse_gate(s: &str) -> std::result::Result<Gate, String> {
    Gate::parse(s).map_err(|e| e.to_string())
}

pub fn run(ctx: &Context, args: RedteamArgs) -> Result<ExitCode> {
    match args.command {
        RedteamCommand::Run(a) => run_suite(ctx, *a),
        RedteamCommand::DemoTarget { listen } => {
            airisk_redteam::run::serve_demo(&listen, |addr| {
                println!("demo target (ShopBot) listening on http://{addr}/v1");
                println!("try: airisk redteam run --target openai:http://{addr}/v1");
                use std::io::Write;
                let _ = std::io::stdout().flush();
            })?;
            Ok(ExitCode::SUCCESS)
        }
        RedteamCommand::JudgeEval {
            dataset,
            fixtures,
            llm_judge,
            llm_judge_model,
            api_key_env,
            llm_every,
            json,
        } => {
            let llm = match llm_judge {
                Some(base_url) => Some(LlmJudge {
                    base_url,
                    model: llm_judge_model,
                    api_key: match &api_key_env {
                        Some(v) => Some(std::env::var(v).map_err(|_| {
                            anyhow!("--api-key-env: environment variable {v} is not set")
                        })?),
                        None => None,
                    },
                }),
                None => None,
            };
            judge_eval(dataset, fixtures, llm.map(|l| (l, llm_every)), json)
        }
        RedteamCommand::Diff {
            old,
            new,
            fail_on_regression,
            json,
        } => {
            let o = read_report(&old)?;
            let n = read_report(&new)?;
            let d = airisk_redteam::diff::diff(&o, &n);
            if json {
                crate::render::print_json(&d)?;
            } else {
                println!(
                    "{:<48} {:>8} {:>8} {:>8}",
                    "measure", "old", "new", "change"
                );
                for c in &d.changes {
                    let f = |v: Option<f64>| {
                        v.map(|v| format!("{:.1}%", v * 100.0))
                            .unwrap_or_else(|| "-".into())
                    };
                    let delta = c
                        .delta
                        .map(|v| format!("{:+.1}", v * 100.0))
                        .unwrap_or_else(|| "-".into());
                    println!(
                        "{:<48} {:>8} {:>8} {:>8}",
                        c.scope,
                        f(c.old),
                        f(c.new),
                        delta
                    );
                }
                println!(
                    "\n{} regressions, {} fixed, {} added, {} removed",
                    d.regressions.len(),
                    d.fixed.len(),
                    d.added.len(),
                    d.removed.len()
                );
                for r in &d.regressions {
                    println!("  regression: {r}");
                }
            }
            Ok(if fail_on_regression && d.has_regressions() {
                ExitCode::from(EXIT_ATTENTION)
            } else {
                ExitCode::SUCCESS
            })
        }
        RedteamCommand::Converters => {
            for c in airisk_redteam::converters::REGISTRY {
                println!("{:<18} {}", c.name(), c.description());
            }
            Ok(ExitCode::SUCCESS)
        }
        RedteamCommand::Validate { suite } => {
            let s = load_suite(suite.as_deref())?;
            check_refs(&s)?;
            let cases = airisk_redteam::cases::expand(&s, None, 0)?;
            let benign = s
                .attacks
                .iter()
                .filter(|a| a.category == airisk_redteam::suite::Category::Benign)
                .count();
            println!(
                "suite {} {}: {} attacks, {} benign probes, {} cases",
                s.id,
                s.version,
                s.attacks.len() - benign,
                benign,
                cases.len()
            );
            for c in airisk_redteam::suite::Category::ALL {
                let n = s.attacks.iter().filter(|a| a.category == c).count();
                println!("  {:<26} {n}", c.as_str());
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn read_report(p: &Path) -> Result<Report> {
    let text = std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
    Ok(Report::from_json(&p.display().to_string(), &text)?)
}

/// Suite files above this size are refused before they are read.
const MAX_SUITE_BYTES: u64 = 16 << 20;

fn load_suite(path: Option<&Path>) -> Result<Suite> {
    Ok(match path {
        None => Suite::from_yaml(
            airisk_redteam::DEFAULT_SUITE_NAME,
            airisk_redteam::DEFAULT_SUITE,
        )?,
        Some(p) => {
            let size = std::fs::metadata(p)
                .with_context(|| format!("reading {}", p.display()))?
                .len();
            if size > MAX_SUITE_BYTES {
                bail!(
                    "{}: {size} bytes; suite files are limited to {MAX_SUITE_BYTES} bytes",
                    p.display()
                );
            }
            let text =
                std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            Suite::from_yaml(&p.display().to_string(), &text)?
        }
    })
}

/// References to catalogs airisk ships must name an item that exists; references to other
/// catalogs (e.g. an imported `mitre-atlas-5.6.0`) are kept as written.
fn check_refs(s: &Suite) -> Result<()> {
    let lib = airisk_catalog::Library::embedded()
        .map_err(|e| anyhow!("loading the framework catalogs: {e}"))?;
    for a in &s.attacks {
        for m in &a.maps_to {
            if let Some((c, _)) = m.split_once(':') {
                if lib.catalog(c).is_some() && lib.resolve(m).is_none() {
                    bail!(
                        "suite {}: attack {}, field maps_to: `{m}` is not an item of catalog {c}",
                        s.id,
                        a.id
                    );
                }
            }
        }
    }
    Ok(())
}

fn parse_target(a: &RunArgs) -> Result<TargetSpec> {
    let api_key = match &a.api_key_env {
        Some(var) => Some(
            std::env::var(var)
                .map_err(|_| anyhow!("--api-key-env: environment variable {var} is not set"))?,
        ),
        None => None,
    };
    if a.target == "demo" {
        return Ok(TargetSpec::Demo);
    }
    let Some((kind, rest)) = a.target.split_once(':') else {
        bail!(
            "--target `{}`: expected demo, openai:URL, http:URL or command:PROGRAM",
            a.target
        );
    };
    Ok(TargetSpec::Target(match kind {
        "openai" => Target::OpenAi {
            base_url: rest.to_string(),
            model: a.model.clone(),
            api_key,
            send_system_prompt: a.send_system_prompt,
        },
        "http" => {
            let tpl = a
                .request_template
                .as_deref()
                .ok_or_else(|| anyhow!("--target http: needs --request-template"))?;
            let tpl_text = match tpl.strip_prefix('@') {
                Some(f) => std::fs::read_to_string(f).with_context(|| format!("reading {f}"))?,
                None => tpl.to_string(),
            };
            let template =
                serde_json::from_str(&tpl_text).context("--request-template is not JSON")?;
            let answer_pointer = a
                .answer_pointer
                .clone()
                .ok_or_else(|| anyhow!("--target http: needs --answer-pointer"))?;
            let mut headers = vec![];
            for h in &a.header {
                let (k, v) = h
                    .split_once(':')
                    .ok_or_else(|| anyhow!("--header `{h}`: expected `Name: value`"))?;
                headers.push((k.trim().to_string(), v.trim().to_string()));
            }
            if let Some(k) = api_key {
                headers.push(("authorization".into(), format!("Bearer {k}")));
            }
            Target::Http {
                url: rest.to_string(),
                template,
                answer_pointer,
                tool_calls_pointer: a.tool_calls_pointer.clone(),
                headers,
            }
        }
        "command" => {
            let mut parts = rest.split_whitespace().map(String::from);
            let program = parts
                .next()
                .ok_or_else(|| anyhow!("--target command: needs a program"))?;
            Target::Command {
                program,
                args: parts.collect(),
            }
        }
        k => bail!("--target: unknown kind `{k}` (demo, openai, http, command)"),
    }))
}

fn run_suite(ctx: &Context, a: RunArgs) -> Result<ExitCode> {
    let mut suite = load_suite(a.suite.as_deref())?;
    check_refs(&suite)?;
    if !a.category.is_empty() {
        for c in &a.category {
            if airisk_redteam::suite::Category::parse(c).is_none() {
                bail!("--category {c}: unknown category");
            }
        }
        suite
            .attacks
            .retain(|at| a.category.iter().any(|c| c == at.category.as_str()));
        if suite.attacks.is_empty() {
            bail!(
                "--category: the suite has no attack in {}",
                a.category.join(", ")
            );
        }
    }
    if let Some(p) = &a.system_prompt {
        suite.target.system_prompt =
            Some(std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?);
    }
    if !a.canary.is_empty() {
        suite.target.canaries = a.canary.clone();
    }
    if a.system.is_none() && (!a.risk.is_empty() || !a.control.is_empty()) {
        bail!("--risk and --control link evidence to a system: add --system ID");
    }
    // Check the evidence links before spending time on the run.
    let links = TestLinks {
        system: a.system.clone(),
        risks: a.risk.clone(),
        controls: a.control.clone(),
    };
    links.check(ctx)?;
    let chains = match &a.converters {
        Some(list) => Some(parse_chains(list)?),
        None => None,
    };
    if !(a.timeout > 0.0 && a.timeout.is_finite()) {
        bail!("--timeout must be a positive number of seconds");
    }
    let target = parse_target(&a)?;
    let cfg = RunConfig {
        suite,
        chains,
        seed: a.seed,
        target,
        options: RunOptions {
            concurrency: a.concurrency.max(1),
            rate_limit: a.rate_limit,
            retries: a.retries,
            timeout: Duration::from_secs_f64(a.timeout),
            backoff: Duration::from_millis(250),
            progress: !a.no_progress,
            run_dir: a.run_dir.clone(),
        },
        gates: a.gate.clone(),
        llm_judge: a.llm_judge.clone().map(|base_url| LlmJudge {
            base_url,
            model: a.llm_judge_model.clone(),
            api_key: a.api_key_env.as_ref().and_then(|v| std::env::var(v).ok()),
        }),
        started_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    };
    let report = airisk_redteam::run::execute(cfg)?;
    if report.errors == report.cases && report.cases > 0 {
        let first = report
            .results
            .iter()
            .find_map(|r| r.error.clone())
            .unwrap_or_default();
        bail!(
            "no case could be run against {} (first error: {first})",
            report.target
        );
    }
    if let Some(dir) = &a.out {
        airisk_redteam::run::write_reports(dir, &report)?;
    }
    if let Some(system) = &a.system {
        record_evidence(ctx, &report, system, &links)?;
    }
    if a.json {
        println!("{}", report.to_json());
    } else {
        print_summary(&report, a.out.as_deref());
    }
    Ok(if report.gates.iter().all(|g| g.passed) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_ATTENTION)
    })
}

fn pct(r: &airisk_redteam::stats::Rate) -> String {
    format!(
        "{:5.1}%  ({}/{}, 95% CI {:.1}–{:.1}%)",
        r.rate * 100.0,
        r.k,
        r.n,
        r.lower * 100.0,
        r.upper * 100.0
    )
}

fn print_summary(r: &Report, out: Option<&Path>) {
    println!(
        "suite {} {} against {}: {} cases, {} errors, {:.1} s",
        r.suite,
        r.suite_version,
        r.target,
        r.cases,
        r.errors,
        r.elapsed_ms as f64 / 1000.0
    );
    println!("attack success rate  {}", pct(&r.asr));
    println!("over-refusal         {}", pct(&r.over_refusal));
    println!("by category:");
    for (k, v) in &r.categories {
        println!("  {k:<26} {}", pct(v));
    }
    println!("by converter:");
    for (k, v) in &r.converters {
        println!("  {k:<26} {}", pct(v));
    }
    for g in &r.gates {
        println!(
            "gate {:<40} {:<8} {}",
            g.expr,
            g.value
                .map(|v| format!("{v:.4}"))
                .unwrap_or_else(|| "no data".into()),
            if g.passed { "pass" } else { "FAIL" }
        );
    }
    if let Some(d) = out {
        println!("reports in {}", d.display());
    }
}

/// Stores report.json as evidence for the system (and each linked risk and control), and
/// appends one `redteam_result` ledger entry with the headline figures.
fn record_evidence(ctx: &Context, report: &Report, system: &str, links: &TestLinks) -> Result<()> {
    let mut store = ctx.open()?;
    let note = format!(
        "red-team suite {} {}: ASR {:.1}% ({}/{}), over-refusal {:.1}%, gates {}",
        report.suite,
        report.suite_version,
        report.asr.rate * 100.0,
        report.asr.k,
        report.asr.n,
        report.over_refusal.rate * 100.0,
        if report.gates.iter().all(|g| g.passed) {
            "passed"
        } else {
            "failed"
        }
    );
    // A run with gates is a test result (control effectiveness counts it); one without is not.
    let outcome = (!report.gates.is_empty()).then(|| {
        if report.gates.iter().all(|g| g.passed) {
            airisk_model::EvidenceOutcome::Pass
        } else {
            airisk_model::EvidenceOutcome::Fail
        }
    });
    let records = record_test_report(
        &mut store,
        ctx,
        links,
        "redteam-report.json",
        report.to_json().as_bytes(),
        &note,
        outcome,
    )?;
    let targets = links.targets();
    let payload = serde_json::json!({
        "suite": report.suite, "suite_version": report.suite_version, "target": report.target,
        "asr": report.asr, "over_refusal": report.over_refusal, "categories": report.categories,
        "gates": report.gates, "report_sha256": records.first().map(|r| r.sha256.clone()),
        "linked": targets,
    });
    let outcome = store.append(
        &[airisk_store::ledger::NewEntry {
            kind: airisk_ledger::EntryKind::RedteamResult,
            actor: ctx.actor.clone(),
            subject: format!("system:{system}"),
            payload: payload.to_string().into_bytes(),
        }],
        chrono::Utc::now(),
    )?;
    eprintln!(
        "recorded as evidence {} for {} and ledger entry {} (redteam_result)",
        record_ids(&records),
        targets.join(", "),
        outcome.first_index
    );
    Ok(())
}

fn judge_eval(
    dataset: Option<PathBuf>,
    fixtures: Option<PathBuf>,
    llm: Option<(LlmJudge, usize)>,
    json: bool,
) -> Result<ExitCode> {
    let mut all = vec![];
    if let Some(p) = &dataset {
        let text =
            std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
        let name = p
            .file_stem()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "dataset".into());
        all.extend(airisk_redteam::judge_eval::eval_judge_dev(&name, &text)?);
        if let Some((judge, every)) = llm {
            let (m, unanswered) = airisk_redteam::run::eval_llm_judge(&judge, &text, every, 8)?;
            if unanswered > 0 {
                eprintln!("the LLM judge gave no YES/NO verdict on {unanswered} rows (left out)");
            }
            all.extend(m);
        }
    }
    let fx = match &fixtures {
        Some(p) => {
            std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?
        }
        None => airisk_redteam::JUDGE_FIXTURES.to_string(),
    };
    all.extend(airisk_redteam::judge_eval::eval_fixtures(&fx)?);
    if json {
        crate::render::print_json(&serde_json::json!({ "measures": all }))?;
    } else {
        println!("| judge | dataset | slice | n | TP | FP | TN | FN | precision | recall | F1 |");
        println!("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        for m in &all {
            println!(
                "| {} | {} | {} | {} | {} | {} | {} | {} | {:.3} | {:.3} | {:.3} |",
                m.judge,
                m.dataset,
                m.slice,
                m.n,
                m.tp,
                m.fp,
                m.tn,
                m.fn_,
                m.precision,
                m.recall,
                m.f1
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
