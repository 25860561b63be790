//! `airisk guard check|eval`: the runtime guardrail engine (`airisk-guard`) from the shell.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use airisk_guard::eval::{evaluate_dataset, fmt_rate, headline};
use airisk_guard::gate::EvalGate;
use airisk_store::evidence::EvidenceOutcome;
use sha2::{Digest, Sha256};

use crate::commands::evidence::{record_ids, record_test_report, TestLinks};
use crate::context::Context;
use airisk_guard::{Action, Guard, Input, Stage};
use anyhow::{anyhow, bail, Context as _, Result};
use clap::{Args, Subcommand, ValueEnum};

/// Check text or tool calls against a guardrail policy, or measure a policy on a dataset.
#[derive(Args, Debug)]
pub struct GuardArgs {
    #[command(subcommand)]
    pub command: GuardCommand,
}

#[derive(Subcommand, Debug)]
pub enum GuardCommand {
    /// Check one input and print the decision as JSON.
    Check(CheckArgs),
    /// Evaluate a policy on a labelled JSONL dataset (injection or PII rows).
    Eval(EvalArgs),
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum StageArg {
    Input,
    Context,
    Output,
    #[value(name = "tool_call", alias = "tool-call")]
    ToolCall,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ActionArg {
    Allow,
    Redact,
    Escalate,
    Block,
}

impl From<ActionArg> for Action {
    fn from(a: ActionArg) -> Action {
        match a {
            ActionArg::Allow => Action::Allow,
            ActionArg::Redact => Action::Redact,
            ActionArg::Escalate => Action::Escalate,
            ActionArg::Block => Action::Block,
        }
    }
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// The policy YAML file (default: the built-in copy of policies/default.yaml).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Which stage of the policy to apply.
    #[arg(long, value_enum, default_value = "input")]
    pub stage: StageArg,
    /// The tool name, for `--stage tool_call` (the text is then the JSON arguments).
    #[arg(long, value_name = "NAME")]
    pub tool: Option<String>,
    /// Exit with status 3 when the decision's action is one of these (comma-separated).
    #[arg(long, value_enum, value_delimiter = ',', value_name = "ACTIONS")]
    pub fail_on: Vec<ActionArg>,
    /// Print the decision on one line.
    #[arg(long)]
    pub compact: bool,
    /// The text to check; `-` or nothing reads standard input.
    pub text: Option<String>,
}

#[derive(Args, Debug)]
pub struct EvalArgs {
    /// The policy YAML file (default: the built-in copy of policies/default.yaml).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// The dataset, JSON Lines in the format of shared/data/guard/README.md.
    #[arg(long, value_name = "FILE")]
    pub dataset: PathBuf,
    /// Print the tables as JSON instead of Markdown.
    #[arg(long)]
    pub json: bool,
    /// A release gate on the evaluation, e.g. 'recall>=0.9', 'fpr<=0.02',
    /// 'CREDIT_CARD.recall>=0.95' (a group of the tables; default the overall row). Repeatable;
    /// exit 3 when one fails.
    #[arg(long, value_name = "GATE", value_parser = parse_gate)]
    pub gate: Vec<EvalGate>,
    /// Store the evaluation as evidence for this system (with gates it is a test result).
    #[arg(long, value_name = "ID")]
    pub system: Option<String>,
    /// … and for this risk (repeatable).
    #[arg(long, value_name = "ID")]
    pub risk: Vec<String>,
    /// … and for this applied control (repeatable): a gated evaluation then counts towards the
    /// control's effectiveness.
    #[arg(long, value_name = "ID")]
    pub control: Vec<String>,
}

fn parse_gate(s: &str) -> std::result::Result<EvalGate, String> {
    EvalGate::parse(s)
}

/// Exit status when `--fail-on` matched (same meaning as `due --check`: needs attention).
const EXIT_FLAGGED: u8 = 3;

fn load_guard(policy: &Option<PathBuf>) -> Result<Guard> {
    match policy {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading policy {}", path.display()))?;
            Guard::from_yaml(&text).with_context(|| format!("policy {}", path.display()))
        }
        None => Guard::default_policy().context("built-in default policy"),
    }
}

fn read_text(arg: &Option<String>) -> Result<String> {
    match arg.as_deref() {
        Some("-") | None => {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .context("reading standard input")?;
            Ok(s)
        }
        Some(t) => Ok(t.to_string()),
    }
}

/// Runs `airisk guard …`.
pub fn run(ctx: &Context, args: GuardArgs) -> Result<ExitCode> {
    match args.command {
        GuardCommand::Check(a) => check(a),
        GuardCommand::Eval(a) => eval(ctx, a),
    }
}

fn check(a: CheckArgs) -> Result<ExitCode> {
    let guard = load_guard(&a.policy)?;
    let text = read_text(&a.text)?;
    let stage = match a.stage {
        StageArg::Input => Stage::Input,
        StageArg::Context => Stage::Context,
        StageArg::Output => Stage::Output,
        StageArg::ToolCall => Stage::ToolCall,
    };
    if a.tool.is_some() && stage != Stage::ToolCall {
        bail!("--tool only applies to --stage tool_call");
    }
    let decision = match stage {
        Stage::Input => guard.check(Input::Prompt {
            text: &text,
            system: false,
        }),
        Stage::Context => guard.check(Input::Context { text: &text }),
        Stage::Output => guard.check(Input::Output { text: &text }),
        Stage::ToolCall => {
            let name = a
                .tool
                .as_deref()
                .ok_or_else(|| anyhow!("--stage tool_call needs --tool NAME"))?;
            let args: serde_json::Value =
                serde_json::from_str(&text).context("tool-call arguments must be JSON")?;
            guard.check(Input::ToolCall { name, args: &args })
        }
    };
    let json = if a.compact {
        serde_json::to_string(&decision)?
    } else {
        serde_json::to_string_pretty(&decision)?
    };
    println!("{json}");
    let flagged = a
        .fail_on
        .iter()
        .any(|f| Action::from(*f) == decision.action);
    Ok(if flagged {
        ExitCode::from(EXIT_FLAGGED)
    } else {
        ExitCode::SUCCESS
    })
}

fn eval(ctx: &Context, a: EvalArgs) -> Result<ExitCode> {
    let links = TestLinks {
        system: a.system.clone(),
        risks: a.risk.clone(),
        controls: a.control.clone(),
    };
    links.check(ctx)?;
    let guard = load_guard(&a.policy)?;
    let data = std::fs::read(&a.dataset)
        .with_context(|| format!("reading dataset {}", a.dataset.display()))?;
    let text = std::str::from_utf8(&data)
        .with_context(|| format!("dataset {}: not UTF-8 text", a.dataset.display()))?;
    let reports = evaluate_dataset(&guard, text)
        .with_context(|| format!("dataset {}", a.dataset.display()))?;
    let gates = a
        .gate
        .iter()
        .map(|g| g.check(&reports))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| anyhow!(e))?;
    let passed = gates.iter().all(|g| g.passed);
    let tables: Vec<serde_json::Value> = reports
        .iter()
        .map(|r| {
            let groups: Vec<serde_json::Value> = r
                .rows
                .iter()
                .map(|(g, c)| {
                    serde_json::json!({
                        "group": g, "tp": c.tp, "fp": c.fp, "tn": c.tn, "fn": c.fn_,
                        "precision": c.precision(), "recall": c.recall(),
                        "f1": c.f1(), "fpr": c.fpr(),
                    })
                })
                .collect();
            serde_json::json!({"title": r.title, "groups": groups})
        })
        .collect();
    if a.json {
        let out = if a.gate.is_empty() && links.is_empty() {
            // The shape this command has always printed without gates.
            serde_json::Value::Array(tables.clone())
        } else {
            serde_json::json!({"tables": tables, "gates": gates})
        };
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!("policy {} {}\n", guard.policy().id, guard.policy().version);
        for r in &reports {
            println!("{}", r.to_markdown());
        }
        for g in &gates {
            println!(
                "gate {:<36} {:<24} {:<8} {}",
                g.expr,
                g.group,
                g.value
                    .map(|v| format!("{v:.4}"))
                    .unwrap_or_else(|| "no data".into()),
                if g.passed { "pass" } else { "FAIL" }
            );
        }
    }
    if !links.is_empty() {
        let dataset_sha256 = hex::encode(Sha256::digest(&data));
        let report = serde_json::json!({
            "type": "guard_evaluation",
            "policy": {"id": guard.policy().id, "version": guard.policy().version},
            "dataset": {
                "file": a.dataset.file_name().map(|n| n.to_string_lossy().into_owned()),
                "sha256": dataset_sha256,
            },
            "tables": tables,
            "gates": gates,
        });
        // The overall row (for PII data the micro average, not the first type).
        let headline = headline(&reports)
            .map(|(g, c)| {
                format!(
                    "{g}: precision {}, recall {}, FPR {}",
                    fmt_rate(c.precision()),
                    fmt_rate(c.recall()),
                    fmt_rate(c.fpr())
                )
            })
            .unwrap_or_default();
        let note = format!(
            "guard policy {} {} on {}: {headline}{}",
            guard.policy().id,
            guard.policy().version,
            a.dataset.display(),
            match (gates.is_empty(), passed) {
                (true, _) => String::new(),
                (false, true) => ", gates passed".into(),
                (false, false) => ", gates failed".into(),
            }
        );
        // Gated, it is a test result for control effectiveness; ungated, a measurement.
        let outcome = (!gates.is_empty()).then_some(if passed {
            EvidenceOutcome::Pass
        } else {
            EvidenceOutcome::Fail
        });
        let mut store = ctx.open()?;
        let records = record_test_report(
            &mut store,
            ctx,
            &links,
            "guard-evaluation.json",
            serde_json::to_string_pretty(&report)?.as_bytes(),
            &note,
            outcome,
        )?;
        eprintln!(
            "recorded as evidence {} for {}",
            record_ids(&records),
            links.targets().join(", ")
        );
    }
    Ok(if passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_FLAGGED)
    })
}
