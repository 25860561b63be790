//! Tool-call authorisation: a per-system allowlist (default deny), JSON-schema validation of the
//! arguments, argument constraints addressed by JSON pointer (e.g. `/amount` max 100), and tools
//! that need human approval (their hit carries the action `escalate`).
//!
//! Evaluation is a hash lookup plus a walk over the arguments: microseconds, no IO. The Cedar
//! language was considered; this small rule set covers the cases without its build cost.

use std::collections::HashMap;

use regex::Regex;
use serde::Deserialize;
use serde_json::Value;

use super::{Detector, Hit, Subject};
use crate::decision::Action;
use crate::schema::Schema;

/// Options of the `tools` detector.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolsOptions {
    /// What happens to a tool that is not listed: `deny` (default) or `allow`.
    #[serde(default)]
    pub default: DefaultRule,
    /// The tools this system may call.
    #[serde(default)]
    pub allow: Vec<ToolSpec>,
    /// Tools that are always refused, even when `default: allow`.
    #[serde(default)]
    pub deny: Vec<String>,
}

/// Default rule for unlisted tools.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DefaultRule {
    /// Unlisted tools are refused.
    #[default]
    Deny,
    /// Unlisted tools pass (only `deny` entries are refused).
    Allow,
}

/// One allowed tool.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolSpec {
    /// The tool name, exactly as the model calls it.
    pub name: String,
    /// A JSON schema for the arguments.
    #[serde(default)]
    pub schema: Option<Value>,
    /// Argument constraints.
    #[serde(default)]
    pub constraints: Vec<ConstraintSpec>,
    /// Calls need human approval (decision `escalate`).
    #[serde(default)]
    pub require_approval: bool,
}

/// A constraint on one argument, addressed by JSON pointer.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConstraintSpec {
    /// JSON pointer into the arguments, e.g. `/amount`.
    pub path: String,
    /// Numeric upper bound (inclusive).
    #[serde(default)]
    pub max: Option<f64>,
    /// Numeric lower bound (inclusive).
    #[serde(default)]
    pub min: Option<f64>,
    /// Allowed values.
    #[serde(default)]
    pub one_of: Option<Vec<Value>>,
    /// Forbidden values.
    #[serde(default)]
    pub not_one_of: Option<Vec<Value>>,
    /// The string value must match this regex.
    #[serde(default)]
    pub pattern: Option<String>,
    /// Maximum string length in chars.
    #[serde(default)]
    pub max_len: Option<usize>,
    /// Whether the argument must be present (default true when any bound is set).
    #[serde(default)]
    pub required: Option<bool>,
    /// What a violation does: `block` (default) or `escalate`.
    #[serde(default)]
    pub on_violation: Option<Action>,
}

#[derive(Debug)]
struct Constraint {
    spec: ConstraintSpec,
    pattern: Option<Regex>,
    id: String,
}

#[derive(Debug)]
struct Tool {
    schema: Option<Schema>,
    constraints: Vec<Constraint>,
    approval: bool,
}

/// The tool-call detector.
#[derive(Debug)]
pub struct Tools {
    default: DefaultRule,
    tools: HashMap<String, Tool>,
    deny: Vec<String>,
}

impl Tools {
    /// Compiles the tool rules; bad schemas, patterns or pointers are rejected with their path.
    pub fn new(opts: ToolsOptions, path: &str) -> crate::Result<Self> {
        let mut tools = HashMap::new();
        for (i, t) in opts.allow.iter().enumerate() {
            let tp = format!("{path}.allow[{i}]");
            if t.name.is_empty() {
                return Err(crate::GuardError::policy(
                    format!("{tp}.name"),
                    "empty tool name",
                ));
            }
            let schema = t
                .schema
                .as_ref()
                .map(|s| Schema::compile(s, &format!("{tp}.schema")))
                .transpose()?;
            let mut constraints = Vec::new();
            for (k, c) in t.constraints.iter().enumerate() {
                let cp = format!("{tp}.constraints[{k}]");
                if !(c.path.is_empty() || c.path.starts_with('/')) {
                    return Err(crate::GuardError::policy(
                        format!("{cp}.path"),
                        "must be a JSON pointer such as `/amount`",
                    ));
                }
                if let (Some(lo), Some(hi)) = (c.min, c.max) {
                    if lo > hi {
                        return Err(crate::GuardError::policy(
                            format!("{cp}.min"),
                            "min is greater than max",
                        ));
                    }
                }
                if matches!(c.on_violation, Some(Action::Allow) | Some(Action::Redact)) {
                    return Err(crate::GuardError::policy(
                        format!("{cp}.on_violation"),
                        "must be `block` or `escalate`",
                    ));
                }
                let pattern = c
                    .pattern
                    .as_ref()
                    .map(|p| {
                        Regex::new(p).map_err(|e| {
                            crate::GuardError::policy(format!("{cp}.pattern"), e.to_string())
                        })
                    })
                    .transpose()?;
                constraints.push(Constraint {
                    spec: c.clone(),
                    pattern,
                    id: format!("tool.{}.constraint{}", t.name, c.path.replace('/', ".")),
                });
            }
            if tools
                .insert(
                    t.name.clone(),
                    Tool {
                        schema,
                        constraints,
                        approval: t.require_approval,
                    },
                )
                .is_some()
            {
                return Err(crate::GuardError::policy(
                    format!("{tp}.name"),
                    format!("tool `{}` listed twice", t.name),
                ));
            }
        }
        Ok(Tools {
            default: opts.default,
            tools,
            deny: opts.deny,
        })
    }
}

fn violates(c: &Constraint, v: Option<&Value>) -> bool {
    let s = &c.spec;
    let Some(v) = v else {
        let bounded =
            s.max.is_some() || s.min.is_some() || s.one_of.is_some() || s.pattern.is_some();
        return s.required.unwrap_or(bounded);
    };
    if s.max.is_some() || s.min.is_some() {
        // A number given as a string ("150") is still bounded.
        let n = v
            .as_f64()
            .or_else(|| v.as_str().and_then(|x| x.trim().parse::<f64>().ok()));
        match n {
            Some(n) => {
                if s.max.is_some_and(|m| n > m) || s.min.is_some_and(|m| n < m) || !n.is_finite() {
                    return true;
                }
            }
            None => return true,
        }
    }
    if s.one_of.as_ref().is_some_and(|l| !l.contains(v))
        || s.not_one_of.as_ref().is_some_and(|l| l.contains(v))
    {
        return true;
    }
    if let Some(p) = &c.pattern {
        if !v.as_str().is_some_and(|x| p.is_match(x)) {
            return true;
        }
    }
    if let Some(m) = s.max_len {
        if v.as_str().is_some_and(|x| x.chars().count() > m) {
            return true;
        }
    }
    false
}

impl Detector for Tools {
    fn name(&self) -> &'static str {
        "tools"
    }

    fn scan(&self, subject: &Subject<'_>, out: &mut Vec<Hit>) {
        let Some((name, args)) = subject.tool else {
            return;
        };
        let hit = |cat: &'static str, rule: String, action: Action| Hit {
            category: cat.into(),
            rule_id: rule.into(),
            loc: super::Loc::Whole,
            score: 1.0,
            action: Some(action),
        };
        if self.deny.iter().any(|d| d == name) {
            out.push(hit(
                "tool_denied",
                format!("tool.{name}.denied"),
                Action::Block,
            ));
            return;
        }
        let Some(tool) = self.tools.get(name) else {
            if self.default == DefaultRule::Deny {
                out.push(hit(
                    "tool_not_allowed",
                    "tool.default_deny".to_string(),
                    Action::Block,
                ));
            }
            return;
        };
        if let Some(schema) = &tool.schema {
            let mut errors = Vec::new();
            schema.validate(args, "", &mut errors);
            for (ptr, _msg) in errors {
                out.push(hit(
                    "tool_schema_violation",
                    format!("tool.{name}.schema:{ptr}"),
                    Action::Block,
                ));
            }
        }
        for c in &tool.constraints {
            if violates(c, args.pointer(&c.spec.path)) {
                out.push(hit(
                    "tool_constraint_violation",
                    c.id.clone(),
                    c.spec.on_violation.unwrap_or(Action::Block),
                ));
            }
        }
        if tool.approval {
            out.push(hit(
                "tool_approval_required",
                format!("tool.{name}.approval"),
                Action::Escalate,
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::{prepare, NormalizeOptions};
    use serde_json::json;

    fn tools() -> Tools {
        let opts: ToolsOptions = serde_json::from_value(json!({
            "allow": [
                {"name": "search", "schema": {"type": "object", "required": ["q"], "properties": {"q": {"type": "string", "maxLength": 200}}}},
                {"name": "refund", "constraints": [{"path": "/amount", "max": 100, "min": 0}]},
                {"name": "delete_account", "require_approval": true}
            ]
        }))
        .unwrap();
        Tools::new(opts, "t").unwrap()
    }

    fn run(name: &str, args: Value) -> Vec<(String, Action)> {
        let t = prepare("", &NormalizeOptions::default());
        let mut out = Vec::new();
        tools().scan(
            &Subject {
                original: "",
                text: &t,
                tool: Some((name, &args)),
                reference: None,
            },
            &mut out,
        );
        out.into_iter()
            .map(|h| (h.category.into_owned(), h.action.unwrap()))
            .collect()
    }

    #[test]
    fn allowlist_schema_constraints_and_approval() {
        assert!(run("search", json!({"q": "rust"})).is_empty());
        assert_eq!(
            run("shell", json!({})),
            vec![("tool_not_allowed".into(), Action::Block)]
        );
        assert_eq!(
            run("search", json!({"query": 1})),
            vec![("tool_schema_violation".into(), Action::Block)]
        );
        assert!(run("refund", json!({"amount": 100})).is_empty());
        assert_eq!(
            run("refund", json!({"amount": 100.5})),
            vec![("tool_constraint_violation".into(), Action::Block)]
        );
        assert_eq!(
            run("refund", json!({"amount": "250"})),
            vec![("tool_constraint_violation".into(), Action::Block)]
        );
        assert_eq!(
            run("refund", json!({})),
            vec![("tool_constraint_violation".into(), Action::Block)]
        );
        assert_eq!(
            run("delete_account", json!({"id": 1})),
            vec![("tool_approval_required".into(), Action::Escalate)]
        );
    }

    #[test]
    fn bad_pointer_is_rejected_with_path() {
        let opts: ToolsOptions = serde_json::from_value(
            json!({"allow": [{"name": "x", "constraints": [{"path": "amount", "max": 1}]}]}),
        )
        .unwrap();
        let e = Tools::new(opts, "stages.tool_call.detectors[0].options").unwrap_err();
        assert!(
            e.to_string()
                .contains("stages.tool_call.detectors[0].options.allow[0].constraints[0].path"),
            "{e}"
        );
    }
}
