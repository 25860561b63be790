//! Evaluation of a policy on labelled JSONL data (formats in `shared/data/guard/README.md`).
//! Not on the hot path: callers read the file and pass its text.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::decision::Input;
use crate::error::{GuardError, Result};
use crate::Guard;

/// An injection/jailbreak row.
#[derive(Debug, Clone, Deserialize)]
pub struct InjectionRow {
    pub id: String,
    pub text: String,
    pub label: u8,
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub source: String,
}

/// A gold PII span (UTF-8 byte offsets).
#[derive(Debug, Clone, Deserialize)]
pub struct GoldSpan {
    pub start: usize,
    pub end: usize,
    #[serde(rename = "type")]
    pub kind: String,
}

/// A PII row.
#[derive(Debug, Clone, Deserialize)]
pub struct PiiRow {
    pub id: String,
    pub text: String,
    #[serde(default)]
    pub spans: Vec<GoldSpan>,
}

/// Parses JSON Lines, skipping blank lines.
pub fn parse_jsonl<T: serde::de::DeserializeOwned>(text: &str) -> Result<Vec<T>> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| GuardError::Dataset {
                line: i + 1,
                message: e.to_string(),
            })
        })
        .collect()
}

/// Which kind of dataset a JSONL text holds, from its first row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatasetKind {
    Injection,
    Pii,
}

/// Detects the dataset kind (`label` field: injection; `spans` field: PII).
pub fn detect_kind(text: &str) -> Result<DatasetKind> {
    let first = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .ok_or(GuardError::Dataset {
            line: 1,
            message: "empty dataset".into(),
        })?;
    let v: serde_json::Value = serde_json::from_str(first).map_err(|e| GuardError::Dataset {
        line: 1,
        message: e.to_string(),
    })?;
    if v.get("label").is_some() {
        Ok(DatasetKind::Injection)
    } else if v.get("spans").is_some() {
        Ok(DatasetKind::Pii)
    } else {
        Err(GuardError::Dataset {
            line: 1,
            message: "neither `label` nor `spans` present".into(),
        })
    }
}

/// Confusion counts and derived rates.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct Counts {
    pub tp: usize,
    pub fp: usize,
    pub tn: usize,
    pub fn_: usize,
}

impl Counts {
    fn add(&mut self, label: bool, pred: bool) {
        match (label, pred) {
            (true, true) => self.tp += 1,
            (false, true) => self.fp += 1,
            (false, false) => self.tn += 1,
            (true, false) => self.fn_ += 1,
        }
    }
    fn ratio(a: usize, b: usize) -> Option<f64> {
        (b > 0).then(|| a as f64 / b as f64)
    }
    /// tp / (tp + fp)
    pub fn precision(&self) -> Option<f64> {
        Self::ratio(self.tp, self.tp + self.fp)
    }
    /// tp / (tp + fn)
    pub fn recall(&self) -> Option<f64> {
        Self::ratio(self.tp, self.tp + self.fn_)
    }
    /// Harmonic mean of precision and recall.
    pub fn f1(&self) -> Option<f64> {
        match (self.precision(), self.recall()) {
            (Some(p), Some(r)) if p + r > 0.0 => Some(2.0 * p * r / (p + r)),
            (Some(_), Some(_)) => Some(0.0),
            _ => None,
        }
    }
    /// fp / (fp + tn)
    pub fn fpr(&self) -> Option<f64> {
        Self::ratio(self.fp, self.fp + self.tn)
    }
}

/// A table of counts by group.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Report {
    pub title: String,
    pub rows: Vec<(String, Counts)>,
}

/// The overall row of the injection tables and of the PII table.
pub const INJECTION_OVERALL: &str = "all";
pub const PII_OVERALL: &str = "structured (micro)";

/// The overall row of an evaluation's tables (the first [`INJECTION_OVERALL`] or
/// [`PII_OVERALL`] row).
pub fn headline(reports: &[Report]) -> Option<&(String, Counts)> {
    reports
        .iter()
        .flat_map(|r| &r.rows)
        .find(|(g, _)| g == INJECTION_OVERALL || g == PII_OVERALL)
}

/// A rate with three decimals, `-` when undefined.
pub fn fmt_rate(x: Option<f64>) -> String {
    x.map_or("-".to_string(), |v| format!("{v:.3}"))
}

impl Report {
    /// Renders a Markdown table.
    pub fn to_markdown(&self) -> String {
        let mut s = format!("### {}\n\n| group | n | TP | FP | TN | FN | precision | recall | F1 | FPR |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n", self.title);
        for (g, c) in &self.rows {
            s.push_str(&format!(
                "| {g} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
                c.tp + c.fp + c.tn + c.fn_,
                c.tp,
                c.fp,
                c.tn,
                c.fn_,
                fmt_rate(c.precision()),
                fmt_rate(c.recall()),
                fmt_rate(c.f1()),
                fmt_rate(c.fpr())
            ));
        }
        s
    }
}

/// The source group of a row id: its first fields, as in the data README's prefix table.
pub fn source_group(id: &str) -> String {
    let parts: Vec<&str> = id.split(':').collect();
    if parts.first() == Some(&"pyrit-tpl") {
        let wild = parts.get(1).is_some_and(|p| p.starts_with("in_the_wild"));
        return if wild {
            "pyrit-tpl:in_the_wild"
        } else {
            "pyrit-tpl:root"
        }
        .to_string();
    }
    let n = match parts.first().copied() {
        Some("bipia") => 3,
        Some("cse") | Some("notinject") => 2,
        Some("jbb") => 3,
        Some("anthropic-evals") => 2,
        Some("pyrit-tpl") => 2,
        _ => 1,
    };
    parts[..n.min(parts.len())].join(":")
}

/// Builds overall / per-category / per-source reports from labels and predictions.
pub fn injection_reports(rows: &[InjectionRow], preds: &[bool], title: &str) -> Vec<Report> {
    let mut overall = Counts::default();
    let mut by_cat: BTreeMap<String, Counts> = BTreeMap::new();
    let mut by_src: BTreeMap<String, Counts> = BTreeMap::new();
    for (r, &p) in rows.iter().zip(preds) {
        let y = r.label == 1;
        overall.add(y, p);
        by_cat
            .entry(format!("{} ({})", r.category, r.label))
            .or_default()
            .add(y, p);
        by_src
            .entry(format!("{} ({})", source_group(&r.id), r.label))
            .or_default()
            .add(y, p);
    }
    vec![
        Report {
            title: format!("{title}: overall"),
            rows: vec![(INJECTION_OVERALL.into(), overall)],
        },
        Report {
            title: format!("{title}: by category (label)"),
            rows: by_cat.into_iter().collect(),
        },
        Report {
            title: format!("{title}: by source (label)"),
            rows: by_src.into_iter().collect(),
        },
    ]
}

/// Detectors whose findings count as an injection / jailbreak prediction.
pub const INJECTION_DETECTORS: &[&str] = &["injection_rules", "injection_classifier"];

/// Whether a row is checked as untrusted context (`true`) or as a prompt.
pub fn is_context_row(r: &InjectionRow) -> bool {
    matches!(r.category.as_str(), "indirect_injection" | "benign_context")
}

/// Runs the guard on each row; a row is predicted positive when an injection detector reports a
/// finding at or above its threshold. Context rows go through the context stage, the rest
/// through the input stage.
pub fn predict_injection(guard: &Guard, rows: &[InjectionRow]) -> Vec<bool> {
    rows.iter()
        .map(|r| {
            let input = if is_context_row(r) {
                Input::Context { text: &r.text }
            } else {
                Input::Prompt {
                    text: &r.text,
                    system: false,
                }
            };
            guard
                .check(input)
                .findings
                .iter()
                .any(|f| INJECTION_DETECTORS.contains(&f.detector.as_str()))
        })
        .collect()
}

/// PII category of this crate -> label in the shared data.
pub fn pii_label(category: &str) -> Option<&'static str> {
    Some(match category {
        "email" => "EMAIL_ADDRESS",
        "phone" => "PHONE_NUMBER",
        "credit_card" => "CREDIT_CARD",
        "iban" => "IBAN_CODE",
        "us_ssn" => "US_SSN",
        "ip_address" => "IP_ADDRESS",
        _ => return None,
    })
}

/// The structured PII types the target covers.
pub const STRUCTURED_PII: &[&str] = &[
    "CREDIT_CARD",
    "IBAN_CODE",
    "US_SSN",
    "PHONE_NUMBER",
    "EMAIL_ADDRESS",
    "IP_ADDRESS",
];

/// Span-level PII counts per type (exact byte-span and type match). `tn` is unused.
pub fn evaluate_pii(guard: &Guard, rows: &[PiiRow]) -> Report {
    let mut per: BTreeMap<String, Counts> = STRUCTURED_PII
        .iter()
        .map(|t| (t.to_string(), Counts::default()))
        .collect();
    for r in rows {
        let d = guard.check(Input::Prompt {
            text: &r.text,
            system: false,
        });
        let mut pred: Vec<(usize, usize, &str)> = d
            .findings
            .iter()
            .filter(|f| f.detector == "pii")
            .filter_map(|f| Some((f.span?.start, f.span?.end, pii_label(&f.category)?)))
            .collect();
        pred.sort_unstable();
        pred.dedup();
        let gold: Vec<(usize, usize, &str)> = r
            .spans
            .iter()
            .filter(|s| STRUCTURED_PII.contains(&s.kind.as_str()))
            .map(|s| (s.start, s.end, s.kind.as_str()))
            .collect();
        for g in &gold {
            let c = per.entry(g.2.to_string()).or_default();
            if pred.contains(g) {
                c.tp += 1
            } else {
                c.fn_ += 1
            }
        }
        for p in &pred {
            if !gold.contains(p) {
                per.entry(p.2.to_string()).or_default().fp += 1;
            }
        }
    }
    let mut total = Counts::default();
    for c in per.values() {
        total.tp += c.tp;
        total.fp += c.fp;
        total.fn_ += c.fn_;
    }
    let mut rows: Vec<(String, Counts)> = per.into_iter().collect();
    rows.push((PII_OVERALL.into(), total));
    Report {
        title: "PII span-level (exact span and type)".into(),
        rows,
    }
}

/// Evaluates a dataset (injection or PII, detected from its first row) and returns the tables.
pub fn evaluate_dataset(guard: &Guard, jsonl: &str) -> Result<Vec<Report>> {
    Ok(match detect_kind(jsonl)? {
        DatasetKind::Injection => {
            let rows: Vec<InjectionRow> = parse_jsonl(jsonl)?;
            let preds = predict_injection(guard, &rows);
            injection_reports(&rows, &preds, "injection/jailbreak detection")
        }
        DatasetKind::Pii => {
            let rows: Vec<PiiRow> = parse_jsonl(jsonl)?;
            vec![evaluate_pii(guard, &rows)]
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_headline_is_the_overall_row_of_either_kind() {
        let c = |tp| Counts {
            tp,
            ..Default::default()
        };
        let pii = vec![Report {
            title: "pii".into(),
            rows: vec![("CREDIT_CARD".into(), c(1)), (PII_OVERALL.into(), c(7))],
        }];
        assert_eq!(
            headline(&pii).map(|(g, c)| (g.as_str(), c.tp)),
            Some((PII_OVERALL, 7))
        );
        let inj = injection_reports(&[], &[], "t");
        assert_eq!(
            headline(&inj).map(|(g, _)| g.as_str()),
            Some(INJECTION_OVERALL)
        );
        assert!(headline(&[]).is_none());
    }

    #[test]
    fn counts_rates() {
        let c = Counts {
            tp: 9,
            fp: 1,
            tn: 99,
            fn_: 1,
        };
        assert!((c.precision().unwrap() - 0.9).abs() < 1e-9);
        assert!((c.recall().unwrap() - 0.9).abs() < 1e-9);
        assert!((c.fpr().unwrap() - 0.01).abs() < 1e-9);
        assert_eq!(Counts::default().precision(), None);
    }

    #[test]
    fn kinds_and_groups() {
        assert_eq!(
            detect_kind("{\"id\":\"a\",\"text\":\"x\",\"label\":0}\n").unwrap(),
            DatasetKind::Injection
        );
        assert_eq!(
            detect_kind("{\"id\":\"a\",\"text\":\"x\",\"spans\":[]}").unwrap(),
            DatasetKind::Pii
        );
        assert!(detect_kind("").is_err());
        assert_eq!(
            source_group("bipia:train:table:ctx-1:x"),
            "bipia:train:table"
        );
        assert_eq!(source_group("gsm8k-train:0001"), "gsm8k-train");
        assert_eq!(
            source_group("pyrit-tpl:in_the_wild/x:1"),
            "pyrit-tpl:in_the_wild"
        );
        assert_eq!(source_group("pyrit-tpl:dan_9:1"), "pyrit-tpl:root");
    }
}
