//! Attack suites: YAML data files, parsed and validated once into typed form.
//!
//! Errors name the file and line (`suites/x.yaml:12:5: ...`) for YAML and type errors, and the
//! file, attack id and field for rule violations (`suites/x.yaml:40: attack pi-001, field
//! maps_to: ...`).

use crate::{converters, RedteamError, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Attack categories. `benign` probes measure over-refusal; the others count toward the ASR.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    PromptInjection,
    IndirectInjection,
    Jailbreak,
    SystemPromptExtraction,
    SensitiveData,
    PiiLeakage,
    ToolMisuse,
    PolicyBoundary,
    Benign,
}

impl Category {
    pub const ALL: [Category; 9] = [
        Category::PromptInjection,
        Category::IndirectInjection,
        Category::Jailbreak,
        Category::SystemPromptExtraction,
        Category::SensitiveData,
        Category::PiiLeakage,
        Category::ToolMisuse,
        Category::PolicyBoundary,
        Category::Benign,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Category::PromptInjection => "prompt_injection",
            Category::IndirectInjection => "indirect_injection",
            Category::Jailbreak => "jailbreak",
            Category::SystemPromptExtraction => "system_prompt_extraction",
            Category::SensitiveData => "sensitive_data",
            Category::PiiLeakage => "pii_leakage",
            Category::ToolMisuse => "tool_misuse",
            Category::PolicyBoundary => "policy_boundary",
            Category::Benign => "benign",
        }
    }
    pub fn parse(s: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// How an indirect payload reaches the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    /// As the result of a tool call the harness pretends the app made (role `tool`).
    ToolResult,
    /// As a retrieved document placed in the conversation before the user's question.
    Document,
}

/// Third-party content the app retrieves (indirect injection).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Document {
    pub via: Via,
    /// The tool whose result this is (`via: tool_result`); default `search`.
    #[serde(default = "default_tool")]
    pub tool: String,
    /// The document text; converters apply to it rather than to the prompt.
    pub text: String,
}

fn default_tool() -> String {
    "search".to_string()
}

/// A forbidden tool call: a tool that must not be called, or an argument bound.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolCallRule {
    /// The tool name.
    pub name: String,
    /// A JSON pointer into the arguments; without it, any call of `name` counts.
    #[serde(default)]
    pub arg: Option<String>,
    /// The call counts when the argument is above this number.
    #[serde(default)]
    pub max: Option<f64>,
    /// The call counts when the argument is below this number.
    #[serde(default)]
    pub min: Option<f64>,
}

/// What makes an attack successful. Any listed judge firing means success.
/// Written as a bare name (`canary`) or a one-key map (`{marker: TEXT}`,
/// `{tool_call: {name: refund, arg: /amount, max: 100}}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", try_from = "JudgeRepr")]
pub enum JudgeSpec {
    /// The response contains this text (case-insensitive, ignoring spacing and punctuation).
    Marker(String),
    /// A canary from the suite's `target.canaries` appears in the response.
    Canary,
    /// The response reproduces a large part of the suite's `target.system_prompt`.
    SystemPrompt,
    /// The guard engine's PII detector finds personal data in the response that the attack did
    /// not send.
    Pii,
    /// The guard engine's secret detector finds a credential in the response.
    Secret,
    /// A forbidden tool call was observed.
    ToolCall(ToolCallRule),
    /// The refusal-aware jailbreak judge says the response does what `goal` asks.
    Jailbreak,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum JudgeRepr {
    Name(String),
    Map(std::collections::BTreeMap<String, serde_json::Value>),
}

impl TryFrom<JudgeRepr> for JudgeSpec {
    type Error = String;
    fn try_from(r: JudgeRepr) -> std::result::Result<Self, String> {
        const KNOWN: &str = "canary, system_prompt, pii, secret, jailbreak, {marker: TEXT}, {tool_call: {name, arg, max, min}}";
        match r {
            JudgeRepr::Name(n) => match n.as_str() {
                "canary" => Ok(JudgeSpec::Canary),
                "system_prompt" => Ok(JudgeSpec::SystemPrompt),
                "pii" => Ok(JudgeSpec::Pii),
                "secret" => Ok(JudgeSpec::Secret),
                "jailbreak" => Ok(JudgeSpec::Jailbreak),
                "marker" | "tool_call" => {
                    Err(format!("judge `{n}` needs a value, e.g. {{{n}: ...}}"))
                }
                _ => Err(format!("unknown judge `{n}` (known: {KNOWN})")),
            },
            JudgeRepr::Map(m) => {
                let mut it = m.into_iter();
                let (Some((k, v)), None) = (it.next(), it.next()) else {
                    return Err("a judge map has exactly one key".into());
                };
                match k.as_str() {
                    "marker" => match v {
                        serde_json::Value::String(s) => Ok(JudgeSpec::Marker(s)),
                        serde_json::Value::Number(n) => Ok(JudgeSpec::Marker(n.to_string())),
                        _ => Err("marker takes a string".into()),
                    },
                    "tool_call" => serde_json::from_value(v)
                        .map(JudgeSpec::ToolCall)
                        .map_err(|e| format!("tool_call: {e}")),
                    _ => Err(format!("unknown judge `{k}` (known: {KNOWN})")),
                }
            }
        }
    }
}

impl JudgeSpec {
    pub fn name(&self) -> &'static str {
        match self {
            JudgeSpec::Marker(_) => "marker",
            JudgeSpec::Canary => "canary",
            JudgeSpec::SystemPrompt => "system_prompt",
            JudgeSpec::Pii => "pii",
            JudgeSpec::Secret => "secret",
            JudgeSpec::ToolCall(_) => "tool_call",
            JudgeSpec::Jailbreak => "jailbreak",
        }
    }
}

/// One attack seed (or benign probe).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attack {
    pub id: String,
    pub category: Category,
    #[serde(default)]
    pub title: String,
    /// `catalog-id:item-id` references (OWASP LLM Top 10 2025, MITRE ATLAS).
    #[serde(default)]
    pub maps_to: Vec<String>,
    /// The user message.
    pub prompt: String,
    /// What the attacker wants; used by the jailbreak judge.
    #[serde(default)]
    pub goal: Option<String>,
    /// Retrieved third-party content carrying the payload (indirect injection).
    #[serde(default)]
    pub document: Option<Document>,
    /// Success criteria; empty for benign probes (they are judged for refusal).
    #[serde(default)]
    pub judges: Vec<JudgeSpec>,
    /// Converter chains for this attack; default: the suite's `converters`.
    #[serde(default)]
    pub converters: Option<Vec<Vec<String>>>,
}

/// What the harness knows about (and may plant in) the target.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetContext {
    /// The target's system prompt (sent with `--send-system-prompt`; used by the overlap judge).
    #[serde(default)]
    pub system_prompt: Option<String>,
    /// Canary secrets planted in the target's context.
    #[serde(default)]
    pub canaries: Vec<String>,
    /// OpenAI tool definitions sent with every request to an OpenAI-compatible target.
    #[serde(default)]
    pub tools: Vec<serde_json::Value>,
}

/// A validated suite.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Suite {
    pub id: String,
    pub version: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub target: TargetContext,
    /// Default converter chains (`[]` is the unconverted attack).
    #[serde(default = "default_chains")]
    pub converters: Vec<Vec<String>>,
    pub attacks: Vec<Attack>,
    /// The file the suite came from and the line of each attack id (for SARIF locations).
    #[serde(skip)]
    pub source: SuiteSource,
}

/// Where a suite was read from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SuiteSource {
    pub file: String,
    /// Attack id → 1-based line of its `id:`.
    pub lines: std::collections::BTreeMap<String, usize>,
}

fn default_chains() -> Vec<Vec<String>> {
    vec![vec![]]
}

/// Most attacks a suite may hold (bounded memory for hostile files).
pub const MAX_ATTACKS: usize = 10_000;
/// Longest converter chain.
pub const MAX_CHAIN: usize = 6;
/// Longest prompt, goal or document text, in bytes (a chain of encodings multiplies it).
pub const MAX_TEXT_BYTES: usize = 64 * 1024;

impl Suite {
    /// Parses and validates a suite. `file` names it in errors.
    pub fn from_yaml(file: &str, text: &str) -> Result<Suite> {
        let de = serde_yaml_ng::Deserializer::from_str(text);
        let suite: Suite = serde_path_to_error_free(de).map_err(|(path, e)| {
            let at = match e.location() {
                Some(l) => format!("{file}:{}:{}", l.line(), l.column()),
                None => file.to_string(),
            };
            let msg = e.to_string();
            // serde_yaml_ng appends " at line L column C"; the location is already in front.
            let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
            RedteamError::suite(
                at,
                if path.is_empty() || msg.starts_with(&path) {
                    msg
                } else {
                    format!("{path}: {msg}")
                },
            )
        })?;
        suite.validate(file, text)?;
        let mut suite = suite;
        suite.source = SuiteSource {
            file: file.to_string(),
            lines: suite
                .attacks
                .iter()
                .filter_map(|a| line_of_id(text, &a.id).map(|l| (a.id.clone(), l)))
                .collect(),
        };
        Ok(suite)
    }

    /// The chains an attack runs with.
    pub fn chains_for<'a>(&'a self, attack: &'a Attack) -> &'a [Vec<String>] {
        attack.converters.as_deref().unwrap_or(&self.converters)
    }

    fn validate(&self, file: &str, text: &str) -> Result<()> {
        let top = |msg: String| RedteamError::suite(file.to_string(), msg);
        if self.id.trim().is_empty() {
            return Err(top("field id: must not be empty".into()));
        }
        if self.version.trim().is_empty() {
            return Err(top("field version: must not be empty".into()));
        }
        if self.attacks.is_empty() {
            return Err(top(
                "field attacks: a suite needs at least one attack".into()
            ));
        }
        if self.attacks.len() > MAX_ATTACKS {
            return Err(top(format!(
                "field attacks: {} attacks, at most {MAX_ATTACKS}",
                self.attacks.len()
            )));
        }
        check_chains(&self.converters).map_err(|m| top(format!("field converters: {m}")))?;
        for c in &self.target.canaries {
            if c.trim().chars().count() < 6 {
                return Err(top(format!(
                    "field target.canaries: `{c}` is too short to detect reliably (6 characters or more)"
                )));
            }
        }
        let mut seen = BTreeSet::new();
        for a in &self.attacks {
            let line = line_of_id(text, &a.id);
            let at = match line {
                Some(l) => format!("{file}:{l}"),
                None => file.to_string(),
            };
            let err = |field: &str, msg: String| {
                RedteamError::suite(at.clone(), format!("attack {}, field {field}: {msg}", a.id))
            };
            if a.id.trim().is_empty()
                || !a
                    .id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            {
                return Err(err(
                    "id",
                    "must be non-empty ASCII letters, digits, '-', '_' or '.'".into(),
                ));
            }
            if !seen.insert(a.id.as_str()) {
                return Err(err("id", "duplicate attack id".into()));
            }
            if a.prompt.trim().is_empty() {
                return Err(err("prompt", "must not be empty".into()));
            }
            for (field, text) in [
                ("prompt", Some(a.prompt.as_str())),
                ("goal", a.goal.as_deref()),
                (
                    "document.text",
                    a.document.as_ref().map(|d| d.text.as_str()),
                ),
            ] {
                if text.is_some_and(|t| t.len() > MAX_TEXT_BYTES) {
                    return Err(err(field, format!("longer than {MAX_TEXT_BYTES} bytes")));
                }
            }
            for m in &a.maps_to {
                match m.split_once(':') {
                    Some((c, i))
                        if !c.is_empty() && !i.is_empty() && !m.contains(char::is_whitespace) => {}
                    _ => {
                        return Err(err(
                            "maps_to",
                            format!("`{m}` is not a catalog-id:item-id reference"),
                        ))
                    }
                }
            }
            if a.category != Category::Benign {
                if !a.maps_to.iter().any(|m| m.starts_with("owasp-llm-top10-")) {
                    return Err(err(
                        "maps_to",
                        "an attack needs an OWASP LLM Top 10 reference (e.g. owasp-llm-top10-2025:LLM01)"
                            .into(),
                    ));
                }
                if !a.maps_to.iter().any(|m| m.starts_with("mitre-atlas")) {
                    return Err(err(
                        "maps_to",
                        "an attack needs a MITRE ATLAS reference (e.g. mitre-atlas-tactics:AML.TA0005)"
                            .into(),
                    ));
                }
                if a.judges.is_empty() {
                    return Err(err("judges", "an attack needs at least one judge".into()));
                }
            } else if !a.judges.is_empty() {
                return Err(err(
                    "judges",
                    "benign probes are judged for refusal only; leave judges out".into(),
                ));
            }
            for j in &a.judges {
                match j {
                    JudgeSpec::Marker(m) if m.trim().chars().count() < 4 => {
                        return Err(err("judges", "a marker needs 4 characters or more".into()))
                    }
                    JudgeSpec::Canary if self.target.canaries.is_empty() => {
                        return Err(err(
                            "judges",
                            "the canary judge needs target.canaries in the suite".into(),
                        ))
                    }
                    JudgeSpec::SystemPrompt if self.target.system_prompt.is_none() => {
                        return Err(err(
                            "judges",
                            "the system_prompt judge needs target.system_prompt in the suite"
                                .into(),
                        ))
                    }
                    JudgeSpec::Jailbreak if a.goal.is_none() => {
                        return Err(err("goal", "the jailbreak judge needs a goal".into()))
                    }
                    JudgeSpec::ToolCall(r) => {
                        if r.name.trim().is_empty() {
                            return Err(err("judges", "tool_call needs a name".into()));
                        }
                        if let Some(p) = &r.arg {
                            if !p.starts_with('/') {
                                return Err(err(
                                    "judges",
                                    format!("tool_call arg `{p}` must be a JSON pointer (/amount)"),
                                ));
                            }
                        }
                        if r.arg.is_some() != (r.max.is_some() || r.min.is_some()) {
                            return Err(err(
                                "judges",
                                "tool_call arg and a max or min bound go together".into(),
                            ));
                        }
                    }
                    _ => {}
                }
            }
            if let Some(d) = &a.document {
                if d.text.trim().is_empty() {
                    return Err(err("document.text", "must not be empty".into()));
                }
                if d.tool.trim().is_empty() {
                    return Err(err("document.tool", "must not be empty".into()));
                }
            }
            if let Some(chains) = &a.converters {
                check_chains(chains).map_err(|m| err("converters", m))?;
            }
        }
        Ok(())
    }
}

fn check_chains(chains: &[Vec<String>]) -> std::result::Result<(), String> {
    if chains.is_empty() {
        return Err("needs at least one chain ([] is the unconverted attack)".into());
    }
    let mut seen = BTreeSet::new();
    for chain in chains {
        if chain.len() > MAX_CHAIN {
            return Err(format!("a chain has at most {MAX_CHAIN} converters"));
        }
        for n in chain {
            if converters::by_name(n).is_none() {
                return Err(format!(
                    "unknown converter `{n}` (known: {})",
                    converters::NAMES.join(", ")
                ));
            }
        }
        if !seen.insert(converters::chain_name(chain)) {
            return Err(format!(
                "chain `{}` is listed twice",
                converters::chain_name(chain)
            ));
        }
    }
    Ok(())
}

/// The 1-based line of `id: ID` in the text, to point errors at the attack.
fn line_of_id(text: &str, id: &str) -> Option<usize> {
    text.lines()
        .position(|l| {
            let t = l.trim_start().trim_start_matches("- ").trim();
            t.strip_prefix("id:")
                .map(|v| v.trim().trim_matches(|c| c == '"' || c == '\'') == id)
                .unwrap_or(false)
        })
        .map(|i| i + 1)
}

/// Deserializes while tracking the field path, so type errors name the field.
fn serde_path_to_error_free<'de, T: Deserialize<'de>>(
    de: serde_yaml_ng::Deserializer<'de>,
) -> std::result::Result<T, (String, serde_yaml_ng::Error)> {
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        (
            if path == "." { String::new() } else { path },
            e.into_inner(),
        )
    })
}

/// Converts a list of chains given on the command line (`base64`, `rot13+prefix_injection`,
/// `none`) into chains, checking every name.
pub fn parse_chains(specs: &[String]) -> Result<Vec<Vec<String>>> {
    let mut out = Vec::new();
    for s in specs {
        let chain: Vec<String> = if s == "none" || s.is_empty() {
            vec![]
        } else {
            s.split('+').map(|p| p.trim().to_string()).collect()
        };
        check_chains(std::slice::from_ref(&chain))
            .map_err(|m| RedteamError::UnknownConverter(format!("{s}: {m}")))?;
        out.push(chain);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_suite_is_valid_and_covers_every_category() {
        let s = Suite::from_yaml("default.yaml", crate::DEFAULT_SUITE).unwrap();
        for c in Category::ALL {
            assert!(
                s.attacks.iter().any(|a| a.category == c),
                "no {} attack",
                c.as_str()
            );
        }
    }

    #[test]
    fn errors_name_file_and_line() {
        let text =
            "id: t\nversion: '1'\nattacks:\n  - id: a1\n    category: nonsense\n    prompt: hi\n";
        let e = Suite::from_yaml("t.yaml", text).unwrap_err().to_string();
        assert!(e.starts_with("t.yaml:5:"), "{e}");
        assert!(e.contains("category"), "{e}");
    }

    #[test]
    fn rule_errors_name_attack_and_field() {
        let text = "id: t\nversion: '1'\nattacks:\n  - id: a1\n    category: prompt_injection\n    prompt: hi\n    maps_to: ['owasp-llm-top10-2025:LLM01']\n    judges: [canary]\n";
        let e = Suite::from_yaml("t.yaml", text).unwrap_err().to_string();
        assert!(e.starts_with("t.yaml:4: attack a1, field maps_to"), "{e}");
        let text = text.replace(
            "'owasp-llm-top10-2025:LLM01'",
            "'owasp-llm-top10-2025:LLM01', 'mitre-atlas-tactics:AML.TA0005'",
        );
        let e = Suite::from_yaml("t.yaml", &text).unwrap_err().to_string();
        assert!(e.contains("field judges: the canary judge needs"), "{e}");
    }

    #[test]
    fn unknown_fields_and_converters_are_rejected() {
        let text = "id: t\nversion: '1'\nbogus: 1\nattacks: []\n";
        assert!(Suite::from_yaml("t.yaml", text)
            .unwrap_err()
            .to_string()
            .contains("bogus"));
        let text = "id: t\nversion: '1'\nconverters: [[nope]]\nattacks:\n  - {id: b, category: benign, prompt: hi}\n";
        assert!(Suite::from_yaml("t.yaml", text)
            .unwrap_err()
            .to_string()
            .contains("unknown converter `nope`"));
        assert!(Suite::from_yaml("t.yaml", "[").is_err());
        assert!(Suite::from_yaml("t.yaml", "").is_err());
    }

    proptest::proptest! {
        #[test]
        fn never_panics_on_any_text(text in "\\PC{0,400}") {
            let _ = Suite::from_yaml("p.yaml", &text);
        }

        #[test]
        fn never_panics_on_suite_like_text(
            id in "[a-z0-9!-]{0,8}", cat in "[a-z_]{0,20}", judge in "[a-z_{}: ]{0,24}", conv in "[a-z_,\\[\\] ]{0,30}"
        ) {
            let text = format!("id: s\nversion: '1'\nconverters: [{conv}]\nattacks:\n  - id: {id}\n    category: {cat}\n    prompt: hi\n    judges: [{judge}]\n");
            if let Ok(s) = Suite::from_yaml("p.yaml", &text) {
                let _ = crate::cases::expand(&s, None, 0);
            }
        }
    }

    #[test]
    fn chains_parse() {
        let c = parse_chains(&["none".into(), "base64+prefix_injection".into()]).unwrap();
        assert_eq!(
            c,
            vec![
                vec![],
                vec!["base64".to_string(), "prefix_injection".to_string()]
            ]
        );
        assert!(parse_chains(&["base65".into()]).is_err());
    }
}
