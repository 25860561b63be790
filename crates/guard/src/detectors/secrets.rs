//! Secret detection: provider token formats, private key blocks, JWTs, connection strings with
//! passwords and high-entropy values assigned to secret-like keywords.
//!
//! An Aho-Corasick keyword prefilter runs first (case-insensitive); only the rules whose keyword
//! occurs are run, so text without any keyword costs one automaton pass.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use regex::Regex;
use serde::Deserialize;

use super::{Detector, Hit, Subject};

/// Options of the `secrets` detector.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretsOptions {
    /// Minimum Shannon entropy (bits per char) of a keyword-assigned value.
    #[serde(default = "default_entropy")]
    pub min_entropy: f32,
    /// Rule ids to switch off.
    #[serde(default)]
    pub disable: Vec<String>,
}

fn default_entropy() -> f32 {
    3.5
}

impl Default for SecretsOptions {
    fn default() -> Self {
        SecretsOptions {
            min_entropy: default_entropy(),
            disable: Vec::new(),
        }
    }
}

struct RuleDef {
    id: &'static str,
    keywords: &'static [&'static str],
    pattern: &'static str,
    score: f32,
    /// Capture group whose entropy must reach the minimum (0 = none).
    entropy_group: usize,
}

const RULES: &[RuleDef] = &[
    RuleDef {
        id: "secret.aws.access_key_id",
        keywords: &["akia", "asia", "abia", "acca"],
        pattern: r"\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b",
        score: 0.95,
        entropy_group: 0,
    },
    RuleDef {
        id: "secret.aws.secret_key",
        keywords: &["aws"],
        pattern: r"(?i)aws.{0,20}(?:secret|private).{0,20}[=:]\s*[\x22']?([A-Za-z0-9/+=]{40})\b",
        score: 0.9,
        entropy_group: 1,
    },
    RuleDef {
        id: "secret.gcp.api_key",
        keywords: &["aiza"],
        pattern: r"\bAIza[0-9A-Za-z_\-]{35}\b",
        score: 0.9,
        entropy_group: 0,
    },
    RuleDef {
        id: "secret.gcp.service_account",
        keywords: &["service_account"],
        pattern: r#""type"\s*:\s*"service_account""#,
        score: 0.8,
        entropy_group: 0,
    },
    RuleDef {
        id: "secret.azure.storage_key",
        keywords: &["accountkey="],
        pattern: r"AccountKey=[A-Za-z0-9+/=]{80,100}",
        score: 0.95,
        entropy_group: 0,
    },
    RuleDef {
        id: "secret.github.token",
        keywords: &["ghp_", "gho_", "ghu_", "ghs_", "ghr_"],
        pattern: r"\bgh[pousr]_[A-Za-z0-9]{36,255}\b",
        score: 0.95,
        entropy_group: 0,
    },
    RuleDef {
        id: "secret.github.fine_grained",
        keywords: &["github_pat_"],
        pattern: r"\bgithub_pat_[A-Za-z0-9_]{40,255}\b",
        score: 0.95,
        entropy_group: 0,
    },
    RuleDef {
        id: "secret.gitlab.token",
        keywords: &["glpat-"],
        pattern: r"\bglpat-[A-Za-z0-9_\-]{20,}\b",
        score: 0.95,
        entropy_group: 0,
    },
    RuleDef {
        id: "secret.slack.token",
        keywords: &["xox"],
        pattern: r"\bxox[baprse]-[A-Za-z0-9\-]{10,}\b",
        score: 0.9,
        entropy_group: 0,
    },
    RuleDef {
        id: "secret.slack.webhook",
        keywords: &["hooks.slack.com"],
        pattern: r"https://hooks\.slack\.com/services/T[A-Za-z0-9_]+/B[A-Za-z0-9_]+/[A-Za-z0-9_]+",
        score: 0.9,
        entropy_group: 0,
    },
    RuleDef {
        id: "secret.discord.webhook",
        keywords: &["discord"],
        pattern: r"https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/\d+/[A-Za-z0-9_\-]+",
        score: 0.9,
        entropy_group: 0,
    },
    RuleDef {
        id: "secret.telegram.bot_token",
        keywords: &[":aa"],
        pattern: r"\b\d{8,10}:AA[A-Za-z0-9_\-]{33}\b",
        score: 0.85,
        entropy_group: 0,
    },
    RuleDef {
        id: "secret.stripe.key",
        keywords: &["sk_live_", "rk_live_", "sk_test_", "rk_test_"],
        pattern: r"\b[sr]k_(?:live|test)_[A-Za-z0-9]{16,}\b",
        score: 0.95,
        entropy_group: 0,
    },
    RuleDef {
        id: "secret.anthropic.api_key",
        keywords: &["sk-ant-"],
        pattern: r"\bsk-ant-(?:api|admin)\d{2}-[A-Za-z0-9_\-]{20,}",
        score: 0.95,
        entropy_group: 0,
    },
    RuleDef {
        id: "secret.openai.api_key",
        keywords: &["sk-"],
        pattern: r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}",
        score: 0.85,
        entropy_group: 0,
    },
    RuleDef {
        id: "secret.huggingface.token",
        keywords: &["hf_"],
        pattern: r"\bhf_[A-Za-z0-9]{30,}\b",
        score: 0.9,
        entropy_group: 0,
    },
    RuleDef {
        id: "secret.groq.api_key",
        keywords: &["gsk_"],
        pattern: r"\bgsk_[A-Za-z0-9]{40,}\b",
        score: 0.9,
        entropy_group: 0,
    },
    RuleDef {
        id: "secret.sendgrid.api_key",
        keywords: &["sg."],
        pattern: r"\bSG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}\b",
        score: 0.95,
        entropy_group: 0,
    },
    RuleDef {
        id: "secret.npm.token",
        keywords: &["npm_"],
        pattern: r"\bnpm_[A-Za-z0-9]{36}\b",
        score: 0.9,
        entropy_group: 0,
    },
    RuleDef {
        id: "secret.pypi.token",
        keywords: &["pypi-"],
        pattern: r"\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_\-]{50,}",
        score: 0.95,
        entropy_group: 0,
    },
    RuleDef {
        id: "secret.private_key",
        keywords: &["private key"],
        pattern: r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----(?s:.*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----)?",
        score: 0.99,
        entropy_group: 0,
    },
    RuleDef {
        id: "secret.jwt",
        keywords: &["eyj"],
        pattern: r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}",
        score: 0.85,
        entropy_group: 0,
    },
    RuleDef {
        id: "secret.connection_string",
        keywords: &["://"],
        pattern: r"(?i)\b(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|rediss?|amqps?|mssql|sqlserver|ftp|smtp)://[^\s:/@]{1,64}:([^\s@/]{3,128})@[^\s/]+",
        score: 0.9,
        entropy_group: 0,
    },
    RuleDef {
        id: "secret.keyword_assignment",
        keywords: &[
            "password",
            "passwd",
            "pwd",
            "secret",
            "token",
            "api_key",
            "apikey",
            "api-key",
            "access_key",
            "credential",
            "auth",
        ],
        pattern: r#"(?i)\b(?:password|passwd|pwd|secret|client[_\-]?secret|token|access[_\-]?token|auth[_\-]?token|api[_\-]?key|access[_\-]?key|credentials?)\b["']?\s*(?::|=|=>|:=)\s*["']?([A-Za-z0-9_\-+/=.!@#$%^&*~]{12,256})"#,
        score: 0.8,
        entropy_group: 1,
    },
];

/// The secrets detector.
#[derive(Debug)]
pub struct Secrets {
    prefilter: AhoCorasick,
    /// For each prefilter pattern, the rule index.
    keyword_rule: Vec<usize>,
    rules: Vec<(&'static str, Regex, f32, usize)>,
    min_entropy: f32,
}

impl Secrets {
    /// Builds the rule table and the keyword automaton.
    pub fn new(opts: SecretsOptions, path: &str) -> crate::Result<Self> {
        if !(0.0..=8.0).contains(&opts.min_entropy) {
            return Err(crate::GuardError::policy(
                format!("{path}.min_entropy"),
                "must be between 0 and 8",
            ));
        }
        let mut rules = Vec::new();
        let mut keywords = Vec::new();
        let mut keyword_rule = Vec::new();
        for r in RULES
            .iter()
            .filter(|r| !opts.disable.iter().any(|d| d == r.id))
        {
            let idx = rules.len();
            rules.push((
                r.id,
                Regex::new(r.pattern).expect("built-in secret rule compiles"),
                r.score,
                r.entropy_group,
            ));
            for k in r.keywords {
                keywords.push(*k);
                keyword_rule.push(idx);
            }
        }
        let prefilter = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .kind(Some(AhoCorasickKind::DFA))
            .build(&keywords)
            .expect("keyword automaton builds");
        Ok(Secrets {
            prefilter,
            keyword_rule,
            rules,
            min_entropy: opts.min_entropy,
        })
    }
}

/// Shannon entropy in bits per char.
pub fn shannon_entropy(s: &str) -> f32 {
    let mut counts = [0u32; 256];
    let mut n = 0u32;
    for b in s.bytes() {
        counts[b as usize] += 1;
        n += 1;
    }
    if n == 0 {
        return 0.0;
    }
    let n = n as f32;
    counts
        .iter()
        .filter(|c| **c > 0)
        .map(|c| {
            let p = *c as f32 / n;
            -p * p.log2()
        })
        .sum()
}

fn placeholder(v: &str) -> bool {
    let l = v.to_ascii_lowercase();
    l.contains("xxxx")
        || l.contains("your")
        || l.contains("example")
        || l.contains("placeholder")
        || l.contains("changeme")
        || l.contains("****")
        || l.starts_with('$')
        || l.starts_with("env")
        || l.contains("redacted")
}

impl Detector for Secrets {
    fn name(&self) -> &'static str {
        "secrets"
    }

    fn scan(&self, subject: &Subject<'_>, out: &mut Vec<Hit>) {
        for (si, seg) in subject.text.segments.iter().enumerate() {
            let mut wanted = vec![false; self.rules.len()];
            let mut any = false;
            for m in self.prefilter.find_overlapping_iter(&seg.text) {
                wanted[self.keyword_rule[m.pattern().as_usize()]] = true;
                any = true;
            }
            if !any {
                continue;
            }
            for (ri, (id, re, score, group)) in self.rules.iter().enumerate() {
                if !wanted[ri] {
                    continue;
                }
                for c in re.captures_iter(&seg.text) {
                    let Some(m) = c.get(0) else { continue };
                    if *group > 0 {
                        let Some(v) = c.get(*group) else { continue };
                        if placeholder(v.as_str()) || shannon_entropy(v.as_str()) < self.min_entropy
                        {
                            continue;
                        }
                    }
                    if *id == "secret.connection_string" {
                        if let Some(pw) = c.get(1) {
                            if placeholder(pw.as_str())
                                || pw.as_str().starts_with('{')
                                || pw.as_str().starts_with('<')
                            {
                                continue;
                            }
                        }
                    }
                    out.push(Hit::seg("secret", *id, si, m.start(), m.end(), *score));
                }
            }
        }
        // Keep the most specific hit where rules overlap (e.g. anthropic vs openai `sk-`).
        dedupe(out);
    }
}

fn dedupe(out: &mut Vec<Hit>) {
    super::keep_best_non_overlapping(out);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::NormalizeOptions;

    fn ids(text: &str) -> Vec<String> {
        let d = Secrets::new(SecretsOptions::default(), "s").unwrap();
        let no_decoding = NormalizeOptions {
            max_decode_depth: 0,
            ..Default::default()
        };
        crate::detectors::scan_text(&d, text, &no_decoding)
            .into_iter()
            .map(|h| h.rule_id.into_owned())
            .collect()
    }

    #[test]
    fn finds_provider_tokens() {
        assert_eq!(
            ids("key AKIAIOSFODNN7EXAMPLE here"),
            vec!["secret.aws.access_key_id"]
        );
        assert_eq!(
            ids("token ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789"),
            vec!["secret.github.token"]
        );
        assert_eq!(
            ids("sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123"),
            vec!["secret.anthropic.api_key"]
        );
        assert_eq!(
            ids("OPENAI_KEY=sk-proj-AbCdEfGhIjKlMnOpQrStUvWx12"),
            vec!["secret.openai.api_key"]
        );
        assert_eq!(
            ids("stripe sk_live_4eC39HqLyjWDarjtT1zdp7dc"),
            vec!["secret.stripe.key"]
        );
        assert!(
            ids("-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----")
                .contains(&"secret.private_key".to_string())
        );
        assert_eq!(ids("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"), vec!["secret.jwt"]);
        assert_eq!(
            ids("postgres://admin:s3cr3tP4ss@db.internal:5432/app"),
            vec!["secret.connection_string"]
        );
    }

    #[test]
    fn entropy_gate_on_keyword_assignments() {
        assert_eq!(
            ids("password = 'Xk9#mQ2$vL7@pR4z'"),
            vec!["secret.keyword_assignment"]
        );
        assert!(ids("password = 'aaaaaaaaaaaaaaaa'").is_empty());
        assert!(ids("api_key: YOUR_API_KEY_HERE_PLEASE").is_empty());
        assert!(ids("I forgot my password again, how do I reset it?").is_empty());
    }

    #[test]
    fn no_keyword_no_work() {
        assert!(ids("The quick brown fox jumps over the lazy dog.").is_empty());
    }

    #[test]
    fn entropy_values() {
        assert_eq!(shannon_entropy("aaaa"), 0.0);
        assert!((shannon_entropy("abcd") - 2.0).abs() < 1e-6);
    }
}
