//! Length and token limits. Token counts are an estimate that needs no tokenizer: each run of
//! letters or digits counts one token per 4 bytes (rounded up), each other non-space char counts
//! one. For English this is close to BPE tokenizers and errs on the high side for code.

use serde::Deserialize;

use super::{Detector, Hit, Subject};

/// Options of the `limits` detector.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsOptions {
    /// Maximum input length in bytes.
    #[serde(default)]
    pub max_bytes: Option<usize>,
    /// Maximum estimated token count.
    #[serde(default)]
    pub max_tokens: Option<usize>,
}

/// The limits detector.
#[derive(Debug)]
pub struct Limits {
    opts: LimitsOptions,
}

impl Limits {
    /// Builds the detector.
    pub fn new(opts: LimitsOptions) -> Self {
        Limits { opts }
    }
}

/// Estimated token count of `s` (see module docs).
pub fn estimate_tokens(s: &str) -> usize {
    let mut tokens = 0;
    let mut run = 0usize;
    for c in s.chars() {
        if c.is_alphanumeric() {
            run += c.len_utf8();
        } else {
            tokens += run.div_ceil(4);
            run = 0;
            if !c.is_whitespace() {
                tokens += 1;
            }
        }
    }
    tokens + run.div_ceil(4)
}

impl Detector for Limits {
    fn name(&self) -> &'static str {
        "limits"
    }

    fn scan(&self, subject: &Subject<'_>, out: &mut Vec<Hit>) {
        if let Some(max) = self.opts.max_bytes {
            if subject.original.len() > max {
                out.push(Hit::whole("length_limit", "limits.max_bytes", 1.0));
            }
        }
        if let Some(max) = self.opts.max_tokens {
            // Cheap bound first: a token needs at least one byte.
            if subject.original.len() > max && estimate_tokens(subject.original) > max {
                out.push(Hit::whole("token_limit", "limits.max_tokens", 1.0));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::{prepare, NormalizeOptions};

    #[test]
    fn token_estimate() {
        assert_eq!(estimate_tokens("hello world"), 4);
        assert_eq!(estimate_tokens("a, b."), 4);
        assert_eq!(estimate_tokens(""), 0);
    }

    #[test]
    fn limits_fire_only_above_max() {
        let d = Limits::new(LimitsOptions {
            max_bytes: Some(10),
            max_tokens: Some(3),
        });
        let run = |s: &str| {
            let t = prepare(s, &NormalizeOptions::default());
            let mut out = Vec::new();
            d.scan(
                &Subject {
                    original: s,
                    text: &t,
                    tool: None,
                    reference: None,
                },
                &mut out,
            );
            out.into_iter()
                .map(|h| h.rule_id.into_owned())
                .collect::<Vec<_>>()
        };
        assert!(run("short").is_empty());
        assert_eq!(
            run("this is far too long"),
            vec!["limits.max_bytes", "limits.max_tokens"]
        );
    }
}
