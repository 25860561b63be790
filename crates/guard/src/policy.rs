//! The policy YAML format, its validation, and compilation into a [`CompiledPolicy`].

use serde::Deserialize;

use crate::decision::{Action, Stage};
use crate::detectors::{self, BuildContext, Detector};
use crate::error::{GuardError, Result};
use crate::normalize::NormalizeOptions;

/// Enforce or shadow.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Decisions are enforced.
    #[default]
    Enforce,
    /// Decisions are recorded but the returned action is always `allow`.
    Shadow,
}

/// Top level of a policy file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicySpec {
    pub id: String,
    pub version: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub mode: Mode,
    #[serde(default)]
    pub allowlists: AllowlistSpec,
    #[serde(default)]
    pub normalization: NormalizationSpec,
    /// The system prompt of the protected application (for leakage detection).
    #[serde(default)]
    pub system_prompt: Option<String>,
    /// Canary tokens planted in the system prompt.
    #[serde(default)]
    pub canaries: Vec<String>,
    /// Framework items added to every finding.
    #[serde(default)]
    pub maps_to: Vec<String>,
    pub stages: StagesSpec,
}

/// Allowlists.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowlistSpec {
    /// Domains that URLs may point to (`example.com` also allows subdomains; `*.x` likewise).
    #[serde(default)]
    pub domains: Vec<String>,
    /// Exact values (case-insensitive) that are never reported, e.g. a support e-mail address.
    #[serde(default)]
    pub values: Vec<String>,
}

/// Normalisation settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NormalizationSpec {
    #[serde(default = "two")]
    pub max_decode_depth: u8,
    #[serde(default = "sixteen")]
    pub min_encoded_len: usize,
    #[serde(default = "sixteen")]
    pub max_decoded_segments: usize,
}

fn two() -> u8 {
    2
}
fn sixteen() -> usize {
    16
}

impl Default for NormalizationSpec {
    fn default() -> Self {
        NormalizationSpec {
            max_decode_depth: 2,
            min_encoded_len: 16,
            max_decoded_segments: 16,
        }
    }
}

/// The four stages.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StagesSpec {
    #[serde(default)]
    pub input: Option<StageSpec>,
    #[serde(default)]
    pub context: Option<StageSpec>,
    #[serde(default)]
    pub output: Option<StageSpec>,
    #[serde(default)]
    pub tool_call: Option<StageSpec>,
}

/// One stage: its detectors.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StageSpec {
    #[serde(default)]
    pub detectors: Vec<DetectorSpec>,
}

/// One detector entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetectorSpec {
    /// Detector name (see `detectors::NAMES`).
    pub detector: String,
    /// Findings below this score are dropped.
    #[serde(default)]
    pub threshold: Option<f32>,
    /// What a finding does.
    pub action: Action,
    /// Framework items (e.g. `OWASP-LLM01`, `MITRE-ATLAS-AML.T0051`).
    #[serde(default)]
    pub maps_to: Vec<String>,
    /// Set to false to keep an entry but switch it off.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Detector-specific options.
    #[serde(default)]
    pub options: serde_json::Value,
}

fn yes() -> bool {
    true
}

/// A detector bound to its threshold, action and mappings.
#[derive(Debug)]
pub struct Slot {
    pub detector: Box<dyn Detector>,
    pub threshold: f32,
    pub action: Action,
    pub maps_to: Vec<String>,
}

/// A policy that has been parsed, validated and compiled. Immutable and `Send + Sync`.
#[derive(Debug)]
pub struct CompiledPolicy {
    pub id: String,
    pub version: String,
    pub mode: Mode,
    pub normalize: NormalizeOptions,
    pub allow_values: Vec<String>,
    pub stages: [Vec<Slot>; 4],
}

impl CompiledPolicy {
    /// Parses and compiles policy YAML. Errors carry the path of the bad field.
    pub fn from_yaml(text: &str) -> Result<CompiledPolicy> {
        let de = serde_yaml_ng::Deserializer::from_str(text);
        let spec: PolicySpec = serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            GuardError::policy(
                if path == "." || path.is_empty() {
                    "(root)".into()
                } else {
                    path
                },
                e.into_inner().to_string(),
            )
        })?;
        CompiledPolicy::compile(&spec)
    }

    /// Validates and compiles a parsed spec.
    pub fn compile(spec: &PolicySpec) -> Result<CompiledPolicy> {
        if spec.id.trim().is_empty() {
            return Err(GuardError::policy("id", "must not be empty"));
        }
        if spec.version.trim().is_empty() {
            return Err(GuardError::policy("version", "must not be empty"));
        }
        for (i, d) in spec.allowlists.domains.iter().enumerate() {
            let bare = d.strip_prefix("*.").unwrap_or(d);
            if bare.is_empty() || bare.contains('/') || bare.contains(' ') || bare.contains("://") {
                return Err(GuardError::policy(
                    format!("allowlists.domains[{i}]"),
                    "must be a bare domain such as `example.com` or `*.example.com`",
                ));
            }
        }
        if spec.normalization.max_decode_depth > 4 {
            return Err(GuardError::policy(
                "normalization.max_decode_depth",
                "at most 4",
            ));
        }
        if spec.normalization.min_encoded_len < 8 {
            return Err(GuardError::policy(
                "normalization.min_encoded_len",
                "at least 8",
            ));
        }
        let ctx = BuildContext {
            domains: spec.allowlists.domains.clone(),
            system_prompt: spec.system_prompt.clone(),
            canaries: spec.canaries.clone(),
        };
        let stage_specs = [
            &spec.stages.input,
            &spec.stages.context,
            &spec.stages.output,
            &spec.stages.tool_call,
        ];
        let mut stages: [Vec<Slot>; 4] = Default::default();
        for (si, st) in Stage::ALL.iter().enumerate() {
            let Some(stage) = stage_specs[si] else {
                continue;
            };
            for (di, d) in stage.detectors.iter().enumerate() {
                let path = format!("stages.{}.detectors[{di}]", st.as_str());
                if !d.enabled {
                    continue;
                }
                if d.detector == "tools" && *st != Stage::ToolCall {
                    return Err(GuardError::policy(
                        format!("{path}.detector"),
                        "the `tools` detector belongs to the tool_call stage",
                    ));
                }
                if let Some(t) = d.threshold {
                    if !(0.0..=1.0).contains(&t) || t.is_nan() {
                        return Err(GuardError::policy(
                            format!("{path}.threshold"),
                            "must be between 0 and 1",
                        ));
                    }
                }
                for (mi, m) in d.maps_to.iter().enumerate() {
                    if m.trim().is_empty() {
                        return Err(GuardError::policy(
                            format!("{path}.maps_to[{mi}]"),
                            "empty framework reference",
                        ));
                    }
                }
                let detector =
                    detectors::build(&d.detector, &d.options, &ctx, &format!("{path}.options"))?;
                let mut maps_to = spec.maps_to.clone();
                maps_to.extend(d.maps_to.iter().cloned());
                stages[si].push(Slot {
                    threshold: d
                        .threshold
                        .unwrap_or_else(|| detectors::default_threshold(&d.detector)),
                    action: d.action,
                    maps_to,
                    detector,
                });
            }
        }
        Ok(CompiledPolicy {
            id: spec.id.clone(),
            version: spec.version.clone(),
            mode: spec.mode,
            normalize: NormalizeOptions {
                max_decode_depth: spec.normalization.max_decode_depth,
                min_encoded_len: spec.normalization.min_encoded_len,
                max_decoded_segments: spec.normalization.max_decoded_segments,
            },
            allow_values: spec
                .allowlists
                .values
                .iter()
                .map(|v| v.to_lowercase())
                .collect(),
            stages,
        })
    }

    /// The slots of a stage.
    pub fn stage(&self, stage: Stage) -> &[Slot] {
        &self.stages[Stage::ALL.iter().position(|s| *s == stage).unwrap_or(0)]
    }
}
