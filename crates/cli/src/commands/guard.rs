//! `airisk guard check|eval`: the runtime guardrail engine (`airisk-guard`) from the shell.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use airisk_guard::eval::evaluate_dataset;
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
pub fn run(args: GuardArgs) -> Result<ExitCode> {
    match args.command {
        GuardCommand::Check(a) => check(a),
        GuardCommand::Eval(a) => eval(a),
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

fn eval(a: EvalArgs) -> Result<ExitCode> {
    let guard = load_guard(&a.policy)?;
    let data = std::fs::read_to_string(&a.dataset)
        .with_context(|| format!("reading dataset {}", a.dataset.display()))?;
    let reports = evaluate_dataset(&guard, &data)
        .with_context(|| format!("dataset {}", a.dataset.display()))?;
    if a.json {
        let rows: Vec<serde_json::Value> = reports
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
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        println!("policy {} {}\n", guard.policy().id, guard.policy().version);
        for r in &reports {
            println!("{}", r.to_markdown());
        }
    }
    Ok(ExitCode::SUCCESS)
}
