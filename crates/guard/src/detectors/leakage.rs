//! System-prompt and canary leakage in model outputs: exact canary tokens (Aho-Corasick), and
//! word 5-gram overlap with the configured system prompt and with a system prompt given with the
//! check itself ([`LeakReference`]; the gateway passes the request's system messages).

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};

use aho_corasick::AhoCorasick;
use serde::Deserialize;

use super::{BuildContext, Detector, Hit, Subject};
use crate::normalize::{prepare, NormalizeOptions};

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
    prompt_ngrams: NgramSet,
    full: usize,
}

/// The words of `s` (runs of alphanumerics): byte span and a hash of the lower-cased word.
/// Hashing as it goes, without a `String` per word, keeps building a per-request reference
/// from a long system prompt cheap.
fn words(s: &str) -> Vec<(usize, usize, u64)> {
    const SEED: u64 = 0xcbf2_9ce4_8422_2325;
    let mut out = Vec::new();
    let mut open: Option<(usize, u64)> = None;
    let mut utf8 = [0u8; 4];
    for (i, c) in s.char_indices() {
        if c.is_alphanumeric() {
            let (_, h) = open.get_or_insert((i, SEED));
            if c.is_ascii() {
                *h = fnv_byte(*h, c.to_ascii_lowercase() as u8);
            } else {
                for l in c.to_lowercase() {
                    for &b in l.encode_utf8(&mut utf8).as_bytes() {
                        *h = fnv_byte(*h, b);
                    }
                }
            }
        } else if let Some((st, h)) = open.take() {
            out.push((st, i, h));
        }
    }
    if let Some((st, h)) = open {
        out.push((st, s.len(), h));
    }
    out
}

fn fnv_byte(h: u64, b: u8) -> u64 {
    (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
}

/// 5-gram hashes. They are well mixed already, so the set uses them as they are instead of
/// hashing them again with SipHash (a third of the cost of building a reference).
type NgramSet = HashSet<u64, BuildHasherDefault<PassThrough>>;

#[derive(Default)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Only `u64` keys are hashed; fold anything else in case.
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// Adds the word 5-grams of `text`, normalised as a checked text's primary segment is.
fn insert_ngrams(into: &mut NgramSet, text: &str) {
    let mut add = |normalised: &str| {
        for w in words(normalised).windows(N) {
            into.insert(ngram_hash(w));
        }
    };
    // Normalisation leaves ASCII text as it is (`prepare`'s own fast path).
    if text.is_ascii() {
        return add(text);
    }
    let opts = NormalizeOptions {
        max_decode_depth: 0,
        ..Default::default()
    };
    if let Some(primary) = prepare(text, &opts).segments.first() {
        add(&primary.text);
    }
}

/// Hash of consecutive words, in order.
fn ngram_hash(ws: &[(usize, usize, u64)]) -> u64 {
    ws.iter().fold(0x9e37_79b9_7f4a_7c15u64, |h, (_, _, w)| {
        (h.rotate_left(23) ^ w).wrapping_mul(0xff51_afd7_ed55_8ccd)
    })
}

/// A system prompt given with one check, as the set of its word 5-grams: built once per
/// exchange and reused for every output check of it (a stream is checked many times).
#[derive(Debug, Clone, Default)]
pub struct LeakReference {
    ngrams: NgramSet,
}

impl LeakReference {
    /// The 5-grams of each text (n-grams do not span two texts), after the same normalisation
    /// as the checked text (NFKC, homoglyphs, invisible characters), so that they compare.
    pub fn from_texts<'a>(texts: impl IntoIterator<Item = &'a str>) -> LeakReference {
        let mut ngrams = NgramSet::default();
        for text in texts {
            insert_ngrams(&mut ngrams, text);
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
        let mut prompt_ngrams = NgramSet::default();
        if let Some(p) = &ctx.system_prompt {
            insert_ngrams(&mut prompt_ngrams, p);
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

    proptest::proptest! {
        /// An answer that repeats the given prompt word for word is a full-score leak, in any
        /// script, and in upper case for Latin letters. (Other scripts' case is not varied:
        /// homoglyph folding maps some capitals, such as Greek Υ, to Latin letters and not
        /// their small forms.)
        #[test]
        fn repeating_the_given_prompt_scores_one(
            words in proptest::collection::vec("[a-zA-Zà-ÿΑ-ωА-я0-9]{1,9}", 5..60),
            upper in proptest::bool::ANY,
        ) {
            let prompt = words.join(" ");
            let answer = if upper { prompt.to_ascii_uppercase() } else { prompt.clone() };
            let h = scan_with(None, &format!("Sure: {answer}."), Some(&prompt));
            proptest::prop_assert_eq!(h.len(), 1);
            proptest::prop_assert_eq!(&h[0].category, "system_prompt_leak");
            proptest::prop_assert_eq!(h[0].score, 1.0);
        }
    }

    #[test]
    fn unrelated_output_is_clean() {
        assert!(scan("Our branch opens at nine. Interest is a topic for your advisor.").is_empty());
    }
}
