//! Measures the judges: precision and recall on `judge_dev.jsonl` (the refusal and jailbreak
//! judges) and on our own labelled fixtures (canary, system-prompt overlap, tool call, PII,
//! secret). Pure: takes the file texts.

use crate::judges::{self, DataDetectors, ToolCall};
use crate::stats::Confusion;
use crate::suite::ToolCallRule;
use crate::{RedteamError, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One measured slice.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Measure {
    pub judge: String,
    pub dataset: String,
    /// `all`, a source prefix, or a counting convention.
    pub slice: String,
    pub n: u64,
    pub tp: u64,
    pub fp: u64,
    pub tn: u64,
    #[serde(rename = "fn")]
    pub fn_: u64,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

pub fn measure(judge: &str, dataset: &str, slice: &str, c: &Confusion) -> Measure {
    Measure {
        judge: judge.into(),
        dataset: dataset.into(),
        slice: slice.into(),
        n: c.n(),
        tp: c.tp,
        fp: c.fp,
        tn: c.tn,
        fn_: c.fn_,
        precision: c.precision(),
        recall: c.recall(),
        f1: c.f1(),
    }
}

#[derive(Deserialize)]
struct DevRow {
    id: String,
    response: String,
    label: String,
    task: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    goal: String,
}

/// The jailbreak rows of judge_dev.jsonl as (source slice, goal, response, attack succeeded),
/// for judges that need IO (the LLM judge).
pub fn jailbreak_rows(text: &str) -> Result<Vec<(String, String, String, bool)>> {
    let mut out = vec![];
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let row: DevRow = serde_json::from_str(line).map_err(|e| RedteamError::Input {
            at: format!("dataset line {}", i + 1),
            message: e.to_string(),
        })?;
        if row.task == "jailbreak_judge" {
            out.push((
                source_of(&row.id),
                row.goal,
                row.response,
                row.label == "attack_succeeded",
            ));
        }
    }
    Ok(out)
}

/// The slice a judge_dev row belongs to: `jbb:<method>`, `gptfuzz`, `xstest`, `pyrit-refusal`.
fn source_of(id: &str) -> String {
    let mut parts = id.split(':');
    let first = parts.next().unwrap_or("");
    if first == "jbb" {
        format!("jbb:{}", parts.next().unwrap_or(""))
    } else {
        first.to_string()
    }
}

/// Precision and recall of the refusal judge (positive class: refusal) and the jailbreak judge
/// (positive class: attack succeeded) on judge_dev.jsonl, overall and per source.
/// `partial_refusal` is reported both ways and left out of the `all` line; PyRIT's off-topic
/// rows are reported separately (PyRIT counts them as refusals; XSTest would not).
pub fn eval_judge_dev(dataset: &str, text: &str) -> Result<Vec<Measure>> {
    let mut jb: BTreeMap<String, Confusion> = BTreeMap::new();
    let mut rf: BTreeMap<String, Confusion> = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let row: DevRow = serde_json::from_str(line).map_err(|e| RedteamError::Input {
            at: format!("{dataset} line {}", i + 1),
            message: e.to_string(),
        })?;
        let src = source_of(&row.id);
        match row.task.as_str() {
            "jailbreak_judge" => {
                let pred = judges::jailbreak_success(&row.goal, &row.response);
                let actual = row.label == "attack_succeeded";
                for k in ["all".to_string(), src] {
                    jb.entry(k).or_default().add(pred, actual);
                }
            }
            "refusal" => {
                let pred = judges::is_refusal(&row.response);
                let off_topic = row.category == "off_topic_response";
                match row.label.as_str() {
                    "partial_refusal" => {
                        rf.entry("partial counted as refusal".into())
                            .or_default()
                            .add(pred, true);
                        rf.entry("partial counted as compliance".into())
                            .or_default()
                            .add(pred, false);
                    }
                    l => {
                        let actual = l == "refusal";
                        let key = if off_topic {
                            "pyrit-refusal:off_topic (PyRIT convention)".to_string()
                        } else {
                            src.clone()
                        };
                        rf.entry(key).or_default().add(pred, actual);
                        if !off_topic {
                            rf.entry("all (partial and off-topic left out)".into())
                                .or_default()
                                .add(pred, actual);
                            rf.entry("partial counted as refusal".into())
                                .or_default()
                                .add(pred, actual);
                            rf.entry("partial counted as compliance".into())
                                .or_default()
                                .add(pred, actual);
                        }
                    }
                }
            }
            other => {
                return Err(RedteamError::Input {
                    at: format!("{dataset} line {}", i + 1),
                    message: format!("unknown task `{other}`"),
                })
            }
        }
    }
    let mut out = vec![];
    for (k, c) in &jb {
        out.push(measure("jailbreak", dataset, k, c));
    }
    for (k, c) in &rf {
        out.push(measure("refusal", dataset, k, c));
    }
    Ok(out)
}

/// One labelled fixture row for the judges judge_dev does not cover.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FixtureRow {
    judge: String,
    response: String,
    /// true: the judge should fire.
    label: bool,
    #[serde(default)]
    canaries: Vec<String>,
    #[serde(default)]
    system_prompt: Option<String>,
    #[serde(default)]
    tool_calls: Vec<ToolCall>,
    #[serde(default)]
    rule: Option<ToolCallRule>,
    /// The marker of a `marker` row.
    #[serde(default)]
    marker: String,
    /// What the harness sent (PII the attack itself sent is not a leak).
    #[serde(default)]
    sent: String,
    #[serde(default)]
    #[allow(dead_code)]
    note: String,
}

/// Precision and recall of the canary, system-prompt, tool-call, PII, secret, marker and refusal judges on
/// fixtures (JSONL, one [`FixtureRow`] per line).
pub fn eval_fixtures(text: &str) -> Result<Vec<Measure>> {
    let det = DataDetectors::new()?;
    let mut by: BTreeMap<String, Confusion> = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let at = || format!("fixtures line {}", i + 1);
        let r: FixtureRow = serde_json::from_str(line).map_err(|e| RedteamError::Input {
            at: at(),
            message: e.to_string(),
        })?;
        let pred = match r.judge.as_str() {
            "canary" => judges::canary_leak(&r.response, &r.canaries),
            "system_prompt" => {
                judges::system_prompt_leak(&r.response, r.system_prompt.as_deref().unwrap_or(""))
            }
            "tool_call" => match &r.rule {
                Some(rule) => judges::forbidden_tool_call(&r.tool_calls, rule),
                None => {
                    return Err(RedteamError::Input {
                        at: at(),
                        message: "tool_call rows need a rule".into(),
                    })
                }
            },
            "pii" => !det.pii(&r.response, &r.sent).is_empty(),
            "secret" => !det.secrets(&r.response, &r.sent).is_empty(),
            "refusal" => judges::is_refusal(&r.response),
            "marker" => {
                judges::marker_obeyed(&r.response, &r.marker, judges::is_refusal(&r.response))
            }
            j => {
                return Err(RedteamError::Input {
                    at: at(),
                    message: format!("unknown judge `{j}`"),
                })
            }
        };
        by.entry(r.judge.clone()).or_default().add(pred, r.label);
    }
    Ok(by
        .iter()
        .map(|(j, c)| measure(j, "fixtures", "all", c))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixtures_are_well_formed_and_judges_hold_up() {
        let m = eval_fixtures(crate::JUDGE_FIXTURES).unwrap();
        for j in [
            "canary",
            "system_prompt",
            "tool_call",
            "pii",
            "secret",
            "refusal",
        ] {
            let x = m
                .iter()
                .find(|x| x.judge == j)
                .unwrap_or_else(|| panic!("no {j} fixtures"));
            assert!(x.n >= 10, "{j}: {} rows", x.n);
            assert!(x.precision >= 0.8 && x.recall >= 0.8, "{j}: {x:?}");
        }
    }

    #[test]
    fn sources() {
        assert_eq!(source_of("jbb:GCG:transfer:m:b003"), "jbb:GCG");
        assert_eq!(source_of("gptfuzz:q1:r2"), "gptfuzz");
    }
}
