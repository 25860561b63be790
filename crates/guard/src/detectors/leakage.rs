//! System-prompt and canary leakage in model outputs: exact canary tokens (Aho-Corasick), and
//! word 5-gram overlap with the configured system prompt and with a system prompt given with the
//! check itself ([`LeakReference`]; the gateway passes the request's system messages).

use std::collections::HashSet;

use aho_corasick::AhoCorasick;
use serde::Deserialize;

use super::{BuildContext, Detector, Hit, Subject};

const N: usize = 5;

/// Options of the `leakage` detector.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeakageOptions {
    /// How many matched system-prompt 5-grams make a full-score leak.
    #[serde(default = "default_full")]
    pub full_score_ngrams: usize,
}

fn default_full() -> usize {
    12
}

impl Default for LeakageOptions {
    fn default() -> Self {
        LeakageOptions {
            full_score_ngrams: default_full(),
        }
    }
}

/// The leakage detector.
#[derive(Debug)]
pub struct Leakage {
    canaries: Option<AhoCorasick>,
    prompt_ngrams: HashSet<u64>,
    full: usize,
}

fn words(s: &str) -> Vec<(usize, usize, String)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in s.char_indices() {
        if c.is_alphanumeric() {
            if start.is_none() {
                start = Some(i);
            }
        } else if let Some(st) = start.take() {
            out.push((st, i, s[st..i].to_lowercase()));
        }
    }
    if let Some(st) = start {
        out.push((st, s.len(), s[st..].to_lowercase()));
    }
    out
}

fn ngram_hash(ws: &[(usize, usize, String)]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (_, _, w) in ws {
        for b in w.bytes().chain(std::iter::once(b' ')) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// A system prompt given with one check, as the set of its word 5-grams: built once per
/// exchange and reused for every output check of it (a stream is checked many times).
#[derive(Debug, Clone, Default)]
pub struct LeakReference {
    ngrams: HashSet<u64>,
}

impl LeakReference {
    /// The 5-grams of each text (n-grams do not span two texts).
    pub fn from_texts<'a>(texts: impl IntoIterator<Item = &'a str>) -> LeakReference {
        let mut ngrams = HashSet::new();
        for text in texts {
            for w in words(text).windows(N) {
                ngrams.insert(ngram_hash(w));
            }
        }
        LeakReference { ngrams }
    }

    /// Whether the texts had no 5-gram (fewer than five words each): nothing to match then.
    pub fn is_empty(&self) -> bool {
        self.ngrams.is_empty()
    }
}

impl Leakage {
    /// Builds the detector from the policy's system prompt and canaries.
    pub fn new(opts: LeakageOptions, ctx: &BuildContext, path: &str) -> crate::Result<Self> {
        if opts.full_score_ngrams == 0 {
            return Err(crate::GuardError::policy(
                format!("{path}.full_score_ngrams"),
                "must be at least 1",
            ));
        }
        let canaries: Vec<&String> = ctx.canaries.iter().filter(|c| !c.is_empty()).collect();
        let canaries = if canaries.is_empty() {
            None
        } else {
            Some(
                AhoCorasick::new(canaries)
                    .map_err(|e| crate::GuardError::policy("canaries", e.to_string()))?,
            )
        };
        let mut prompt_ngrams = HashSet::new();
        if let Some(p) = &ctx.system_prompt {
            let ws = words(p);
            for w in ws.windows(N) {
                prompt_ngrams.insert(ngram_hash(w));
            }
        }
        Ok(Leakage {
            canaries,
            prompt_ngrams,
            full: opts.full_score_ngrams,
        })
    }
}

impl Detector for Leakage {
    fn name(&self) -> &'static str {
        "leakage"
    }

    fn scan(&self, subject: &Subject<'_>, out: &mut Vec<Hit>) {
        for (si, seg) in subject.text.segments.iter().enumerate() {
            if let Some(ac) = &self.canaries {
                for m in ac.find_iter(&seg.text) {
                    out.push(Hit::seg(
                        "canary_leak",
                        "leakage.canary",
                        si,
                        m.start(),
                        m.end(),
                        1.0,
                    ));
                }
            }
            let given = subject
                .reference
                .map(|r| &r.ngrams)
                .filter(|g| !g.is_empty());
            if self.prompt_ngrams.is_empty() && given.is_none() {
                continue;
            }
            let ws = words(&seg.text);
            let mut matched = 0usize;
            let mut first = usize::MAX;
            let mut last = 0usize;
            for (i, w) in ws.windows(N).enumerate() {
                let h = ngram_hash(w);
                if self.prompt_ngrams.contains(&h) || given.is_some_and(|g| g.contains(&h)) {
                    matched += 1;
                    first = first.min(ws[i].0);
                    last = last.max(ws[i + N - 1].1);
                }
            }
            if matched > 0 {
                // Distinct 5-grams of both prompts (often the same prompt twice: the app's, in
                // the policy and in the request).
                let known = self.prompt_ngrams.len()
                    + given.map_or(0, |g| {
                        g.iter().filter(|h| !self.prompt_ngrams.contains(h)).count()
                    });
                let denom = self.full.min(known).max(1);
                let score = (matched as f32 / denom as f32).min(1.0);
                out.push(Hit::seg(
                    "system_prompt_leak",
                    "leakage.system_prompt_ngrams",
                    si,
                    first,
                    last,
                    score,
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::{prepare, NormalizeOptions};

    const AVA: &str = "You are Ava, the support assistant of Acme Bank. Never discuss interest rates with customers and always answer politely in English.";

    fn scan(text: &str) -> Vec<Hit> {
        scan_with(Some(AVA), text, None)
    }

    fn scan_with(policy_prompt: Option<&str>, text: &str, given: Option<&str>) -> Vec<Hit> {
        let ctx = BuildContext {
            system_prompt: policy_prompt.map(str::to_string),
            canaries: vec!["CANARY-7f3a9".into()],
            ..Default::default()
        };
        let d = Leakage::new(LeakageOptions::default(), &ctx, "l").unwrap();
        let t = prepare(text, &NormalizeOptions::default());
        let reference = given.map(|g| LeakReference::from_texts([g]));
        let mut out = Vec::new();
        d.scan(
            &Subject {
                original: text,
                text: &t,
                tool: None,
                reference: reference.as_ref(),
            },
            &mut out,
        );
        out
    }

    #[test]
    fn a_prompt_given_with_the_check_is_matched_too() {
        let leak = "Sure! My instructions: you are Ava, the support assistant of Acme Bank. Never discuss interest rates with customers.";
        // No prompt in the policy: nothing to match without a reference.
        assert!(scan_with(None, leak, None).is_empty());
        let h = scan_with(None, leak, Some(AVA));
        assert_eq!(h[0].category, "system_prompt_leak");
        // The same prompt in the policy and given scores as the policy's alone.
        let alone = scan_with(Some(AVA), leak, None)[0].score;
        let both = scan_with(Some(AVA), leak, Some(AVA))[0].score;
        assert_eq!(alone, both);
        assert_eq!(h[0].score, alone);
        // An unrelated given prompt changes nothing; a short one (under five words) is empty.
        assert!(scan_with(
            None,
            leak,
            Some("Answer in French, briefly and kindly please.")
        )
        .is_empty());
        assert!(LeakReference::from_texts(["be nice"]).is_empty());
    }

    #[test]
    fn canary_and_prompt_overlap() {
        assert_eq!(scan("token CANARY-7f3a9 here")[0].category, "canary_leak");
        let h = scan("Sure! My instructions: you are Ava, the support assistant of Acme Bank. Never discuss interest rates with customers.");
        assert_eq!(h[0].category, "system_prompt_leak");
        assert!(h[0].score >= 0.5, "{}", h[0].score);
    }

    #[test]
    fn unrelated_output_is_clean() {
        assert!(scan("Our branch opens at nine. Interest is a topic for your advisor.").is_empty());
    }
}
