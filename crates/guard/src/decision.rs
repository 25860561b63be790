//! Inputs, actions, findings and decisions: the data that crosses the crate boundary.

use serde::{Deserialize, Serialize};

/// The stage of an interaction that a policy section applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// A user or system prompt.
    Input,
    /// Untrusted retrieved content or a tool result.
    Context,
    /// A model output.
    Output,
    /// A tool call proposed by the model (name plus JSON arguments).
    ToolCall,
}

impl Stage {
    /// All stages, in policy order.
    pub const ALL: [Stage; 4] = [Stage::Input, Stage::Context, Stage::Output, Stage::ToolCall];

    /// The key used for this stage in the policy YAML.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Input => "input",
            Stage::Context => "context",
            Stage::Output => "output",
            Stage::ToolCall => "tool_call",
        }
    }

    /// Parses a stage name as written in the policy (`input`, `context`, `output`, `tool_call`).
    pub fn parse(s: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|st| st.as_str() == s)
    }
}

/// One thing to check.
#[derive(Debug, Clone, Copy)]
pub enum Input<'a> {
    /// A user prompt (`system == false`) or a system prompt.
    Prompt { text: &'a str, system: bool },
    /// A retrieved context chunk (untrusted third-party content).
    Context { text: &'a str },
    /// A model output.
    Output { text: &'a str },
    /// A tool call: the tool name and its JSON arguments.
    ToolCall {
        name: &'a str,
        args: &'a serde_json::Value,
    },
    /// The result returned by a tool (treated like untrusted context).
    ToolResult { name: &'a str, text: &'a str },
}

impl<'a> Input<'a> {
    /// The policy stage this input is checked against.
    pub fn stage(&self) -> Stage {
        match self {
            Input::Prompt { .. } => Stage::Input,
            Input::Context { .. } | Input::ToolResult { .. } => Stage::Context,
            Input::Output { .. } => Stage::Output,
            Input::ToolCall { .. } => Stage::ToolCall,
        }
    }
}

/// What to do with an input. Ordered by severity: `Allow < Redact < Escalate < Block`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Let it through unchanged.
    Allow,
    /// Let it through with the offending spans replaced.
    Redact,
    /// Hold it for a human decision.
    Escalate,
    /// Refuse it.
    Block,
}

impl Action {
    /// The lowercase name used in policies and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Allow => "allow",
            Action::Redact => "redact",
            Action::Escalate => "escalate",
            Action::Block => "block",
        }
    }

    /// Parses `allow`, `redact`, `escalate` or `block`.
    pub fn parse(s: &str) -> Option<Action> {
        [
            Action::Allow,
            Action::Redact,
            Action::Escalate,
            Action::Block,
        ]
        .into_iter()
        .find(|a| a.as_str() == s)
    }
}

/// A half-open byte range `[start, end)` into the checked text. Both ends lie on char boundaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

/// One thing a detector found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// The detector that produced it (e.g. `pii`).
    pub detector: String,
    /// What was found (e.g. `credit_card`, `instruction_override`).
    pub category: String,
    /// Where, in bytes of the checked text (for tool calls: of the compact JSON of the arguments).
    /// `None` when the finding is about the input as a whole.
    pub span: Option<Span>,
    /// Confidence in `[0, 1]`.
    pub score: f32,
    /// The rule that fired (stable id, e.g. `pii.card.luhn`).
    pub rule_id: String,
    /// Framework items this finding enforces (from the policy's `maps_to`).
    pub maps_to: Vec<String>,
    /// The action the policy attaches to this finding.
    pub action: Action,
}

/// The result of checking one input.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    /// The action to take. In shadow mode this is always `allow`.
    pub action: Action,
    /// The action the policy would have taken; differs from `action` only in shadow mode.
    pub enforced_action: Action,
    /// Whether the policy runs in shadow mode (records, never blocks).
    pub shadow: bool,
    /// The stage the input was checked against.
    pub stage: Stage,
    /// Everything found at or above its detector's threshold.
    pub findings: Vec<Finding>,
    /// The text with redactable spans replaced, when the enforced action is `redact`.
    pub redacted: Option<String>,
    /// The policy id.
    pub policy_id: String,
    /// The policy version.
    pub policy_version: String,
    /// Time spent in `check`, in microseconds.
    pub elapsed_us: u64,
}
