//! Detectors: one trait, one implementation per detector, all registered in [`build`].

use std::borrow::Cow;
use std::fmt::Debug;

use crate::decision::Action;
use crate::error::{GuardError, Result};
use crate::normalize::ScanText;

pub mod banned;
pub mod classifier;
pub mod exfil;
pub mod injection;
pub mod invisible;
pub mod leakage;
pub mod limits;
pub mod pii;
pub mod secrets;
pub mod tools;

/// What a detector looks at: the prepared text and, at the tool-call stage, the call itself.
#[derive(Debug)]
pub struct Subject<'a> {
    /// The original text (for tool calls: the compact JSON of the arguments).
    pub original: &'a str,
    /// Normalised and decoded segments of `original`.
    pub text: &'a ScanText,
    /// The tool call, at the tool-call stage.
    pub tool: Option<(&'a str, &'a serde_json::Value)>,
    /// A system prompt given with this check (see [`crate::Guard::check_with`]).
    pub reference: Option<&'a leakage::LeakReference>,
}

/// Where a hit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loc {
    /// The input as a whole.
    Whole,
    /// A byte range of segment `seg` of the scan text.
    Seg {
        seg: usize,
        start: usize,
        end: usize,
    },
    /// A byte range of the original text.
    Original { start: usize, end: usize },
}

/// A raw detection, before the policy's threshold and action are applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub category: Cow<'static, str>,
    pub rule_id: Cow<'static, str>,
    pub loc: Loc,
    pub score: f32,
    /// Overrides the slot's action for this hit (used by the tool detector).
    pub action: Option<Action>,
}

impl Hit {
    /// A hit on a segment range.
    pub fn seg(
        category: impl Into<Cow<'static, str>>,
        rule_id: impl Into<Cow<'static, str>>,
        seg: usize,
        start: usize,
        end: usize,
        score: f32,
    ) -> Hit {
        Hit {
            category: category.into(),
            rule_id: rule_id.into(),
            loc: Loc::Seg { seg, start, end },
            score,
            action: None,
        }
    }

    /// A hit about the input as a whole.
    pub fn whole(
        category: impl Into<Cow<'static, str>>,
        rule_id: impl Into<Cow<'static, str>>,
        score: f32,
    ) -> Hit {
        Hit {
            category: category.into(),
            rule_id: rule_id.into(),
            loc: Loc::Whole,
            score,
            action: None,
        }
    }
}

/// One detector. Implementations are pure: no IO, no global state, no panics on any input.
pub trait Detector: Send + Sync + Debug {
    /// The detector's name as written in policies.
    fn name(&self) -> &'static str;
    /// Appends hits for `subject` to `out`.
    fn scan(&self, subject: &Subject<'_>, out: &mut Vec<Hit>);
}

/// Policy-level facts that some detectors need when they are built.
#[derive(Debug, Clone, Default)]
pub struct BuildContext {
    /// Allowed domains (exfiltration).
    pub domains: Vec<String>,
    /// The configured system prompt (leakage).
    pub system_prompt: Option<String>,
    /// Canary tokens (leakage).
    pub canaries: Vec<String>,
}

/// Names of all registered detectors.
pub const NAMES: &[&str] = &[
    "injection_rules",
    "injection_classifier",
    "pii",
    "secrets",
    "invisible_text",
    "exfiltration",
    "leakage",
    "banned",
    "limits",
    "tools",
];

/// Default threshold when a policy entry gives none.
pub fn default_threshold(name: &str) -> f32 {
    match name {
        "injection_classifier" => classifier::builtin_threshold(),
        _ => 0.5,
    }
}

/// Deserialises detector options, reporting errors with their full path.
pub(crate) fn options<T: serde::de::DeserializeOwned + Default>(
    value: &serde_json::Value,
    path: &str,
) -> Result<T> {
    if value.is_null() {
        return Ok(T::default());
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        let inner = e.path().to_string();
        let full = if inner == "." || inner.is_empty() {
            path.to_string()
        } else {
            format!("{path}.{inner}")
        };
        GuardError::policy(full, e.into_inner().to_string())
    })
}

/// The registry: builds a detector from its policy name and options. `path` locates the options.
pub fn build(
    name: &str,
    opts: &serde_json::Value,
    ctx: &BuildContext,
    path: &str,
) -> Result<Box<dyn Detector>> {
    Ok(match name {
        "injection_rules" => Box::new(injection::InjectionRules::new(options(opts, path)?)),
        "injection_classifier" => Box::new(classifier::InjectionClassifier::new(
            options(opts, path)?,
            path,
        )?),
        "pii" => Box::new(pii::Pii::new(options(opts, path)?, path)?),
        "secrets" => Box::new(secrets::Secrets::new(options(opts, path)?, path)?),
        "invisible_text" => Box::new(invisible::InvisibleText::new(options(opts, path)?)),
        "exfiltration" => Box::new(exfil::Exfiltration::new(options(opts, path)?, ctx)),
        "leakage" => Box::new(leakage::Leakage::new(options(opts, path)?, ctx, path)?),
        "banned" => Box::new(banned::Banned::new(options(opts, path)?, path)?),
        "limits" => Box::new(limits::Limits::new(options(opts, path)?)),
        "tools" => Box::new(tools::Tools::new(options(opts, path)?, path)?),
        other => {
            return Err(GuardError::policy(
                path.trim_end_matches(".options").to_string() + ".detector",
                format!("unknown detector `{other}` (known: {})", NAMES.join(", ")),
            ))
        }
    })
}

/// Lowercase ASCII view of `s` with identical byte offsets (non-ASCII bytes unchanged).
pub(crate) fn ascii_lower(s: &str) -> String {
    s.to_ascii_lowercase()
}

/// Moves `i` down to the nearest char boundary of `s`.
pub(crate) fn floor_boundary(s: &str, mut i: usize) -> usize {
    if i >= s.len() {
        return s.len();
    }
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Keeps, among overlapping hits of the same segment, the highest-scoring one (earlier wins on
/// ties). O(n log n), so adversarial inputs with many candidates stay fast.
pub(crate) fn keep_best_non_overlapping(hits: &mut Vec<Hit>) {
    use std::collections::BTreeMap;
    let mut order: Vec<usize> = (0..hits.len()).collect();
    order.sort_by(|a, b| hits[*b].score.total_cmp(&hits[*a].score).then(a.cmp(b)));
    // Per segment: kept intervals, start -> end (non-overlapping by construction).
    let mut kept: BTreeMap<(usize, usize), usize> = BTreeMap::new();
    let mut keep = vec![false; hits.len()];
    for i in order {
        let (seg, s, e) = match hits[i].loc {
            Loc::Seg { seg, start, end } => (seg, start, end),
            Loc::Original { start, end } => (usize::MAX, start, end),
            Loc::Whole => {
                keep[i] = true;
                continue;
            }
        };
        let before = kept.range(..(seg, e)).next_back();
        let overlaps = before.is_some_and(|(&(sg, ks), &ke)| sg == seg && ks < e && s < ke);
        if !overlaps {
            kept.insert((seg, s), e.max(s + 1));
            keep[i] = true;
        }
    }
    let mut k = 0;
    hits.retain(|_| {
        let r = keep[k];
        k += 1;
        r
    });
}

/// Runs one detector on a text as the engine would, for the detectors' unit tests.
#[cfg(test)]
pub(crate) fn scan_text(
    detector: &dyn Detector,
    text: &str,
    options: &crate::normalize::NormalizeOptions,
) -> Vec<Hit> {
    let prepared = crate::normalize::prepare(text, options);
    let mut out = Vec::new();
    detector.scan(
        &Subject {
            original: text,
            text: &prepared,
            tool: None,
            reference: None,
        },
        &mut out,
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlap_resolution_keeps_best_and_scales() {
        let mut h = vec![
            Hit::seg("a", "r1", 0, 0, 10, 0.5),
            Hit::seg("b", "r2", 0, 5, 15, 0.9),
            Hit::seg("c", "r3", 0, 15, 20, 0.4),
            Hit::seg("d", "r4", 1, 0, 10, 0.1),
        ];
        keep_best_non_overlapping(&mut h);
        let cats: Vec<&str> = h.iter().map(|x| x.category.as_ref()).collect();
        assert_eq!(cats, vec!["b", "c", "d"]);
        let mut many: Vec<Hit> = (0..200_000)
            .map(|i| Hit::seg("x", "r", 0, i, i + 2, 0.5))
            .collect();
        keep_best_non_overlapping(&mut many);
        assert_eq!(many.len(), 100_000);
    }
}
