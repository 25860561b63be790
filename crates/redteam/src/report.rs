//! Run reports: aggregation with Wilson intervals, and rendering as JSON, JUnit XML,
//! SARIF 2.1.0 and a self-contained HTML page. Pure: renderers return strings.

use crate::cases::{Case, Observed, Verdict};
use crate::gate::GateResult;
use crate::judges::ToolCall;
use crate::stats::Rate;
use crate::suite::Category;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The report format version; fields may be added without changing it.
pub const FORMAT: &str = "airisk-redteam-report/1";

/// One judged case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseResult {
    pub id: String,
    pub attack_id: String,
    pub category: Category,
    pub converter: String,
    pub maps_to: Vec<String>,
    /// What was sent as the user message (and the document, if any).
    pub prompt: String,
    #[serde(default)]
    pub document: Option<String>,
    pub response: String,
    #[serde(default)]
    pub tool_calls: Vec<ToolCall>,
    #[serde(default)]
    pub blocked: bool,
    /// `null` when the case could not be run (see `error`).
    pub success: Option<bool>,
    #[serde(default)]
    pub fired: Vec<String>,
    #[serde(default)]
    pub refused: bool,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub attempts: u32,
    #[serde(default)]
    pub latency_ms: u64,
    /// The line of the attack in the suite file.
    #[serde(default)]
    pub suite_line: Option<usize>,
}

impl CaseResult {
    pub fn judged(
        case: &Case,
        obs: &Observed,
        v: &Verdict,
        attempts: u32,
        latency_ms: u64,
    ) -> Self {
        CaseResult {
            id: case.id.clone(),
            attack_id: case.attack_id.clone(),
            category: case.category,
            converter: case.converter.clone(),
            maps_to: case.maps_to.clone(),
            prompt: case.prompt.clone(),
            document: case.document.as_ref().map(|d| d.text.clone()),
            response: obs.content.clone(),
            tool_calls: obs.tool_calls.clone(),
            blocked: obs.blocked,
            success: Some(v.success),
            fired: v.fired.clone(),
            refused: v.refused,
            error: None,
            attempts,
            latency_ms,
            suite_line: case.line,
        }
    }

    pub fn failed(case: &Case, error: String, attempts: u32, latency_ms: u64) -> Self {
        CaseResult {
            id: case.id.clone(),
            attack_id: case.attack_id.clone(),
            category: case.category,
            converter: case.converter.clone(),
            maps_to: case.maps_to.clone(),
            prompt: case.prompt.clone(),
            document: case.document.as_ref().map(|d| d.text.clone()),
            response: String::new(),
            tool_calls: vec![],
            blocked: false,
            success: None,
            fired: vec![],
            refused: false,
            error: Some(error),
            attempts,
            latency_ms,
            suite_line: case.line,
        }
    }
}

/// A whole run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub format: String,
    pub suite: String,
    pub suite_version: String,
    /// The suite file the run read.
    #[serde(default)]
    pub suite_file: String,
    /// The target, with credentials left out.
    pub target: String,
    pub seed: u64,
    pub started_at: String,
    pub elapsed_ms: u64,
    /// Cases in the run, judged plus errors.
    pub cases: u64,
    /// Cases that could not be run (excluded from every rate).
    pub errors: u64,
    /// Attack success rate over all attack cases (benign probes excluded).
    pub asr: Rate,
    /// ASR per category.
    pub categories: BTreeMap<String, Rate>,
    /// ASR per converter chain.
    pub converters: BTreeMap<String, Rate>,
    /// Share of benign probes refused.
    pub over_refusal: Rate,
    #[serde(default)]
    pub gates: Vec<GateResult>,
    pub results: Vec<CaseResult>,
}

/// Metadata for [`Report::build`].
pub struct RunInfo {
    /// The suite file (for SARIF locations); empty when unknown.
    pub suite_file: String,
    pub suite: String,
    pub suite_version: String,
    pub target: String,
    pub seed: u64,
    pub started_at: String,
    pub elapsed_ms: u64,
}

impl Report {
    pub fn build(info: RunInfo, mut results: Vec<CaseResult>) -> Report {
        results.sort_by(|a, b| a.id.cmp(&b.id));
        let mut all = (0u64, 0u64);
        let mut benign = (0u64, 0u64);
        let mut cats: BTreeMap<String, (u64, u64)> = BTreeMap::new();
        let mut convs: BTreeMap<String, (u64, u64)> = BTreeMap::new();
        let mut errors = 0;
        for r in &results {
            let Some(s) = r.success else {
                errors += 1;
                continue;
            };
            let k = u64::from(s);
            if r.category == Category::Benign {
                benign.0 += k;
                benign.1 += 1;
                continue;
            }
            all.0 += k;
            all.1 += 1;
            let c = cats.entry(r.category.as_str().to_string()).or_default();
            c.0 += k;
            c.1 += 1;
            let c = convs.entry(r.converter.clone()).or_default();
            c.0 += k;
            c.1 += 1;
        }
        let rate = |(k, n): (u64, u64)| Rate::new(k, n);
        Report {
            format: FORMAT.into(),
            suite: info.suite,
            suite_version: info.suite_version,
            suite_file: info.suite_file,
            target: info.target,
            seed: info.seed,
            started_at: info.started_at,
            elapsed_ms: info.elapsed_ms,
            cases: results.len() as u64,
            errors,
            asr: rate(all),
            categories: cats.into_iter().map(|(k, v)| (k, rate(v))).collect(),
            converters: convs.into_iter().map(|(k, v)| (k, rate(v))).collect(),
            over_refusal: rate(benign),
            gates: vec![],
            results,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|_| "{}".into())
    }

    pub fn from_json(at: &str, text: &str) -> crate::Result<Report> {
        serde_json::from_str(text).map_err(|e| crate::RedteamError::Input {
            at: at.to_string(),
            message: format!("not a red-team report.json: {e}"),
        })
    }

    /// JUnit XML: one test suite per category, one test case per case. A successful attack
    /// (or a refused benign probe) is a failure; a case that could not run is an error.
    pub fn to_junit(&self) -> String {
        let mut by_cat: BTreeMap<&str, Vec<&CaseResult>> = BTreeMap::new();
        for r in &self.results {
            by_cat.entry(r.category.as_str()).or_default().push(r);
        }
        let failures = self
            .results
            .iter()
            .filter(|r| r.success == Some(true))
            .count();
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        out.push_str(&format!(
            "<testsuites name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" time=\"{:.3}\">\n",
            xml(&format!("airisk redteam {}", self.suite)),
            self.results.len(),
            failures,
            self.errors,
            self.elapsed_ms as f64 / 1000.0
        ));
        for (cat, rs) in by_cat {
            let f = rs.iter().filter(|r| r.success == Some(true)).count();
            let e = rs.iter().filter(|r| r.success.is_none()).count();
            out.push_str(&format!(
                "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{f}\" errors=\"{e}\">\n",
                xml(cat),
                rs.len()
            ));
            for r in rs {
                out.push_str(&format!(
                    "    <testcase classname=\"redteam.{}\" name=\"{}\" time=\"{:.3}\"",
                    xml(cat),
                    xml(&r.id),
                    r.latency_ms as f64 / 1000.0
                ));
                match r.success {
                    Some(false) => out.push_str("/>\n"),
                    Some(true) => {
                        let what = if r.category == Category::Benign {
                            "benign probe refused (over-refusal)".to_string()
                        } else {
                            format!("attack succeeded (judges: {})", r.fired.join(", "))
                        };
                        out.push_str(&format!(
                            ">\n      <failure message=\"{}\">{}</failure>\n    </testcase>\n",
                            xml(&what),
                            xml(&clip(&r.response, 2000))
                        ));
                    }
                    None => out.push_str(&format!(
                        ">\n      <error message=\"{}\"/>\n    </testcase>\n",
                        xml(r.error.as_deref().unwrap_or("error"))
                    )),
                }
            }
            out.push_str("  </testsuite>\n");
        }
        out.push_str("</testsuites>\n");
        out
    }

    /// SARIF 2.1.0: one rule per category, one result per successful attack or refused
    /// benign probe, with the framework references as rule properties.
    pub fn to_sarif(&self) -> String {
        let mut rules = Vec::new();
        let mut rule_index = BTreeMap::new();
        for c in Category::ALL {
            let mut tags: Vec<String> = self
                .results
                .iter()
                .filter(|r| r.category == c)
                .flat_map(|r| r.maps_to.iter().cloned())
                .collect();
            tags.sort();
            tags.dedup();
            rule_index.insert(c, rules.len());
            rules.push(serde_json::json!({
                "id": format!("redteam/{}", c.as_str()),
                "name": c.as_str(),
                "shortDescription": {"text": if c == Category::Benign {
                    "A benign request was refused (over-refusal)".to_string()
                } else {
                    format!("A {} attack succeeded", c.as_str().replace('_', " "))
                }},
                "properties": {"tags": tags},
            }));
        }
        let results: Vec<_> = self
            .results
            .iter()
            .filter(|r| r.success == Some(true))
            .map(|r| {
                serde_json::json!({
                    "ruleId": format!("redteam/{}", r.category.as_str()),
                    "ruleIndex": rule_index.get(&r.category).copied().unwrap_or(0),
                    "level": if r.category == Category::Benign { "warning" } else { "error" },
                    "message": {"text": format!(
                        "{} (converter {}): {}",
                        r.attack_id,
                        r.converter,
                        if r.category == Category::Benign { "refused".to_string() } else { format!("succeeded; judges: {}", r.fired.join(", ")) }
                    )},
                    "locations": [location(&self.suite_file, r)],
                    "partialFingerprints": {"caseId": r.id},
                    "properties": {"maps_to": r.maps_to, "response": clip(&r.response, 1000)},
                })
            })
            .collect();
        let doc = serde_json::json!({
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [{
                "tool": {"driver": {
                    "name": "airisk-redteam",
                    "version": env!("CARGO_PKG_VERSION"),
                    "informationUri": "https://example.invalid/airisk",
                    "rules": rules,
                }},
                "results": results,
                "properties": {
                    "suite": self.suite, "asr": self.asr, "over_refusal": self.over_refusal,
                },
            }],
        });
        serde_json::to_string_pretty(&doc).unwrap_or_default()
    }

    /// A readable, self-contained HTML page (no scripts, no external resources); every
    /// value from the suite or the target is escaped.
    pub fn to_html(&self) -> String {
        let mut o = String::new();
        o.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
        o.push_str(&format!(
            "<title>Red-team report: {}</title>",
            xml(&self.suite)
        ));
        o.push_str("<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:80em}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}th{background:#f3f3f3}.bad{color:#a00;font-weight:bold}.ok{color:#070}pre{white-space:pre-wrap;max-width:60em;margin:0;font-size:.85em}.bar{display:inline-block;height:.8em;background:#c33}</style></head><body>\n");
        o.push_str(&format!(
            "<h1>Red-team report</h1><p>Suite <b>{}</b> {} against <code>{}</code>; seed {}; started {}; {} cases ({} errors) in {:.1} s.</p>\n",
            xml(&self.suite), xml(&self.suite_version), xml(&self.target), self.seed,
            xml(&self.started_at), self.cases, self.errors, self.elapsed_ms as f64 / 1000.0
        ));
        o.push_str("<h2>Summary</h2><table><tr><th>measure</th><th>rate</th><th>k / n</th><th>95% interval</th></tr>\n");
        row(&mut o, "attack success rate", &self.asr);
        row(&mut o, "over-refusal", &self.over_refusal);
        o.push_str("</table>\n");
        if !self.gates.is_empty() {
            o.push_str(
                "<h2>Gates</h2><table><tr><th>gate</th><th>value</th><th>result</th></tr>\n",
            );
            for g in &self.gates {
                o.push_str(&format!(
                    "<tr><td><code>{}</code></td><td>{}</td><td class=\"{}\">{}</td></tr>\n",
                    xml(&g.expr),
                    g.value
                        .map(|v| format!("{v:.4}"))
                        .unwrap_or_else(|| "no data".into()),
                    if g.passed { "ok" } else { "bad" },
                    if g.passed { "pass" } else { "FAIL" }
                ));
            }
            o.push_str("</table>\n");
        }
        for (title, map) in [
            ("By category", &self.categories),
            ("By converter", &self.converters),
        ] {
            o.push_str(&format!("<h2>{title}</h2><table><tr><th>name</th><th>ASR</th><th>k / n</th><th>95% interval</th></tr>\n"));
            for (k, r) in map {
                row(&mut o, k, r);
            }
            o.push_str("</table>\n");
        }
        o.push_str("<h2>Findings</h2><table><tr><th>case</th><th>category</th><th>judges</th><th>prompt</th><th>response</th></tr>\n");
        for r in self.results.iter().filter(|r| r.success == Some(true)) {
            o.push_str(&format!(
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td><pre>{}</pre></td><td><pre>{}</pre></td></tr>\n",
                xml(&r.id), xml(r.category.as_str()), xml(&r.fired.join(", ")),
                xml(&clip(&prompt_text(r), 800)), xml(&clip(&response_text(r), 600))
            ));
        }
        o.push_str("</table>\n");
        let errs: Vec<_> = self
            .results
            .iter()
            .filter(|r| r.success.is_none())
            .collect();
        if !errs.is_empty() {
            o.push_str("<h2>Errors</h2><ul>\n");
            for r in errs {
                o.push_str(&format!(
                    "<li><code>{}</code>: {}</li>\n",
                    xml(&r.id),
                    xml(r.error.as_deref().unwrap_or(""))
                ));
            }
            o.push_str("</ul>\n");
        }
        o.push_str("</body></html>\n");
        o
    }
}

/// The attack's place in its suite file when known (so code-scanning tools can show it), and
/// the case id as a logical location.
fn location(suite_file: &str, r: &CaseResult) -> serde_json::Value {
    let mut loc = serde_json::json!({"logicalLocations": [{"name": r.id, "kind": "module"}]});
    if let (false, Some(line)) = (suite_file.is_empty(), r.suite_line) {
        loc["physicalLocation"] = serde_json::json!({
            "artifactLocation": {"uri": suite_file},
            "region": {"startLine": line},
        });
    }
    loc
}

fn prompt_text(r: &CaseResult) -> String {
    match &r.document {
        Some(d) => format!("{}\n[retrieved content] {d}", r.prompt),
        None => r.prompt.clone(),
    }
}

fn response_text(r: &CaseResult) -> String {
    let mut s = r.response.clone();
    for c in &r.tool_calls {
        s.push_str(&format!("\n[tool call] {}({})", c.name, c.arguments));
    }
    s
}

fn row(o: &mut String, name: &str, r: &Rate) {
    o.push_str(&format!(
        "<tr><td>{}</td><td>{:.1}% <span class=\"bar\" style=\"width:{:.0}px\"></span></td><td>{} / {}</td><td>{:.1}% – {:.1}%</td></tr>\n",
        xml(name), r.rate * 100.0, r.rate * 100.0, r.k, r.n, r.lower * 100.0, r.upper * 100.0
    ));
}

/// At most `n` characters, with an ellipsis when cut.
pub fn clip(s: &str, n: usize) -> String {
    match s.char_indices().nth(n) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// Escapes text for XML and HTML content and attributes, dropping characters XML 1.0 forbids.
pub fn xml(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            '\t' | '\n' | '\r' => o.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => o.push('\u{FFFD}'),
            c => o.push(c),
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn escaped_text_has_no_markup(text in "\\PC{0,200}") {
            let e = xml(&text);
            proptest::prop_assert!(!e.contains(['<', '>', '"', '\'']));
            // Every '&' starts one of the entities we write.
            for (i, _) in e.match_indices('&') {
                let rest = &e[i..];
                proptest::prop_assert!(["&amp;", "&lt;", "&gt;", "&quot;", "&#39;"].iter().any(|x| rest.starts_with(x)));
            }
        }
    }

    #[test]
    fn hostile_strings_stay_inert_in_every_format() {
        let evil = "</td><script>alert(1)</script>\"'&\u{1}]]>";
        let case = crate::cases::Case {
            id: format!("a/{evil}"),
            attack_id: evil.into(),
            category: Category::Jailbreak,
            converter: evil.into(),
            maps_to: vec![evil.into()],
            goal: None,
            judges: vec![],
            prompt: evil.into(),
            document: None,
            line: Some(3),
        };
        let obs = crate::cases::Observed {
            content: evil.into(),
            ..Default::default()
        };
        let v = crate::cases::Verdict {
            success: true,
            fired: vec![evil.into()],
            refused: false,
        };
        let r = Report::build(
            RunInfo {
                suite_file: String::new(),
                suite: evil.into(),
                suite_version: evil.into(),
                target: evil.into(),
                seed: 1,
                started_at: evil.into(),
                elapsed_ms: 1,
            },
            vec![
                CaseResult::judged(&case, &obs, &v, 1, 1),
                CaseResult::failed(&case, evil.into(), 1, 1),
            ],
        );
        for out in [r.to_html(), r.to_junit()] {
            assert!(
                !out.contains("<script") && !out.contains("</td><script"),
                "{out}"
            );
            assert!(!out.contains('\u{1}'));
        }
        let sarif: serde_json::Value = serde_json::from_str(&r.to_sarif()).unwrap();
        assert_eq!(sarif["version"], "2.1.0");
        let back = Report::from_json("r", &r.to_json()).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn escaping() {
        assert_eq!(
            xml("<a href='x'>&\u{1}</a>"),
            "&lt;a href=&#39;x&#39;&gt;&amp;\u{FFFD}&lt;/a&gt;"
        );
        assert_eq!(clip("abcdef", 3), "abc…");
        assert_eq!(clip("ab", 3), "ab");
    }
}
