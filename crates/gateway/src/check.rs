//! Running the guard on the pieces of an exchange and keeping what it decided. No IO.

use airisk_guard::{Action, Decision, Guard, Input, LeakReference, Stage};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// One decision and where it applied.
#[derive(Debug, Clone)]
pub struct Checked {
    pub stage: Stage,
    /// Where in the body (`messages[1].content`, `choices[0].message.tool_calls[0]`,
    /// `stream choices[0] bytes 0..812`).
    pub param: String,
    /// The tool name, for tool-call decisions.
    pub tool: Option<String>,
    pub decision: Decision,
}

/// The guard failed on an input (a panic inside `check`; the guard promises none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuardFailure(pub String);

/// `Guard::check`, with a panic turned into an error so one bad input cannot take a worker
/// thread down; the route's `fail.guard` decides what happens next.
pub fn run(guard: &Guard, input: Input<'_>) -> Result<Decision, GuardFailure> {
    run_with(guard, input, None)
}

/// [`run`] with the exchange's own system prompt as a leakage reference
/// ([`Guard::check_with`]).
pub fn run_with(
    guard: &Guard,
    input: Input<'_>,
    reference: Option<&LeakReference>,
) -> Result<Decision, GuardFailure> {
    catch_unwind(AssertUnwindSafe(|| guard.check_with(input, reference))).map_err(|p| {
        let msg = p
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic".into());
        GuardFailure(format!("the guard failed: {msg}"))
    })
}

/// The most severe action among the decisions (what the exchange as a whole got).
pub fn overall(checks: &[Checked]) -> Action {
    checks
        .iter()
        .map(|c| c.decision.action)
        .max()
        .unwrap_or(Action::Allow)
}

/// The message of a refusal: policy, stage, detectors and categories, never the text.
pub fn refusal_message(c: &Checked) -> String {
    let mut what: Vec<String> = c
        .decision
        .findings
        .iter()
        .filter(|f| f.action >= Action::Escalate)
        .map(|f| format!("{} ({})", f.detector, f.category))
        .collect();
    what.dedup();
    let tool = c
        .tool
        .as_deref()
        .map(|t| format!(" tool `{t}`"))
        .unwrap_or_default();
    format!(
        "{} by airisk policy `{}` {} at the {} stage ({}){}: {}",
        if c.decision.action == Action::Escalate {
            "needs approval"
        } else {
            "blocked"
        },
        c.decision.policy_id,
        c.decision.policy_version,
        c.decision.stage.as_str(),
        c.param,
        tool,
        if what.is_empty() {
            "policy violation".into()
        } else {
            what.join(", ")
        }
    )
}
