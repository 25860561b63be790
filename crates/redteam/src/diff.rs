//! Compares two reports: rate changes and per-case regressions.

use crate::report::Report;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RateChange {
    pub scope: String,
    pub old: Option<f64>,
    pub new: Option<f64>,
    pub delta: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diff {
    pub changes: Vec<RateChange>,
    /// Cases that failed (or were benign and answered) before and succeed (or are refused) now.
    pub regressions: Vec<String>,
    /// The reverse.
    pub fixed: Vec<String>,
    /// Cases only in the new report.
    pub added: Vec<String>,
    /// Cases only in the old report.
    pub removed: Vec<String>,
}

impl Diff {
    pub fn has_regressions(&self) -> bool {
        !self.regressions.is_empty()
    }
}

pub fn diff(old: &Report, new: &Report) -> Diff {
    let mut changes = vec![];
    let mut push = |scope: String, o: Option<f64>, n: Option<f64>| {
        let delta = o.zip(n).map(|(o, n)| n - o);
        changes.push(RateChange {
            scope,
            old: o,
            new: n,
            delta,
        });
    };
    let some = |r: &crate::stats::Rate| (r.n > 0).then_some(r.rate);
    push("asr".into(), some(&old.asr), some(&new.asr));
    push(
        "over_refusal".into(),
        some(&old.over_refusal),
        some(&new.over_refusal),
    );
    for (prefix, o, n) in [
        ("category", &old.categories, &new.categories),
        ("converter", &old.converters, &new.converters),
    ] {
        let keys: std::collections::BTreeSet<&String> = o.keys().chain(n.keys()).collect();
        for k in keys {
            push(
                format!("{prefix}:{k}.asr"),
                o.get(k).and_then(some),
                n.get(k).and_then(some),
            );
        }
    }
    let olds: BTreeMap<&str, Option<bool>> = old
        .results
        .iter()
        .map(|r| (r.id.as_str(), r.success))
        .collect();
    let news: BTreeMap<&str, Option<bool>> = new
        .results
        .iter()
        .map(|r| (r.id.as_str(), r.success))
        .collect();
    let mut d = Diff {
        changes,
        regressions: vec![],
        fixed: vec![],
        added: vec![],
        removed: vec![],
    };
    for (id, n) in &news {
        match olds.get(id) {
            None => d.added.push(id.to_string()),
            Some(o) => match (o, n) {
                (Some(false), Some(true)) => d.regressions.push(id.to_string()),
                (Some(true), Some(false)) => d.fixed.push(id.to_string()),
                _ => {}
            },
        }
    }
    for id in olds.keys() {
        if !news.contains_key(id) {
            d.removed.push(id.to_string());
        }
    }
    d
}
