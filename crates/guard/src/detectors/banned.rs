//! Banned substrings and topics, matched with Aho-Corasick (case-insensitive, on word
//! boundaries unless disabled). A topic is a list of phrases; its score grows with the number of
//! distinct phrases seen (1 phrase: 0.6, 2: 0.85, 3 or more: 1.0).

use std::collections::BTreeMap;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use serde::Deserialize;

use super::{Detector, Hit, Subject};

/// Options of the `banned` detector.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BannedOptions {
    /// Substrings that are always reported (score 1.0).
    #[serde(default)]
    pub substrings: Vec<String>,
    /// Topics: name -> phrases.
    #[serde(default)]
    pub topics: BTreeMap<String, Vec<String>>,
    /// Match anywhere, not only on word boundaries.
    #[serde(default)]
    pub match_inside_words: bool,
}

/// The banned-substrings-and-topics detector.
#[derive(Debug)]
pub struct Banned {
    ac: Option<AhoCorasick>,
    /// Per pattern: None = substring, Some(topic index).
    owner: Vec<Option<usize>>,
    topics: Vec<String>,
    inside_words: bool,
}

impl Banned {
    /// Builds the automaton; empty phrases are rejected with their path.
    pub fn new(opts: BannedOptions, path: &str) -> crate::Result<Self> {
        let mut pats = Vec::new();
        let mut owner = Vec::new();
        for (i, s) in opts.substrings.iter().enumerate() {
            if s.trim().is_empty() {
                return Err(crate::GuardError::policy(
                    format!("{path}.substrings[{i}]"),
                    "empty substring",
                ));
            }
            pats.push(s.clone());
            owner.push(None);
        }
        let mut topics = Vec::new();
        for (name, phrases) in &opts.topics {
            for (i, p) in phrases.iter().enumerate() {
                if p.trim().is_empty() {
                    return Err(crate::GuardError::policy(
                        format!("{path}.topics.{name}[{i}]"),
                        "empty phrase",
                    ));
                }
                pats.push(p.clone());
                owner.push(Some(topics.len()));
            }
            topics.push(name.clone());
        }
        let ac = if pats.is_empty() {
            None
        } else {
            Some(
                AhoCorasickBuilder::new()
                    .ascii_case_insensitive(true)
                    .match_kind(MatchKind::LeftmostLongest)
                    .build(&pats)
                    .map_err(|e| crate::GuardError::policy(path.to_string(), e.to_string()))?,
            )
        };
        Ok(Banned {
            ac,
            owner,
            topics,
            inside_words: opts.match_inside_words,
        })
    }
}

fn is_word_byte(b: Option<&u8>) -> bool {
    b.is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
}

impl Detector for Banned {
    fn name(&self) -> &'static str {
        "banned"
    }

    fn scan(&self, subject: &Subject<'_>, out: &mut Vec<Hit>) {
        let Some(ac) = &self.ac else { return };
        for (si, seg) in subject.text.segments.iter().enumerate() {
            let bytes = seg.text.as_bytes();
            let mut topic_hits: Vec<(usize, usize, Vec<usize>)> =
                vec![(usize::MAX, 0, Vec::new()); self.topics.len()];
            for m in ac.find_iter(&seg.text) {
                if !self.inside_words
                    && (is_word_byte(m.start().checked_sub(1).and_then(|i| bytes.get(i)))
                        || is_word_byte(bytes.get(m.end())))
                {
                    continue;
                }
                let p = m.pattern().as_usize();
                match self.owner[p] {
                    None => out.push(Hit::seg(
                        "banned_substring",
                        "banned.substring",
                        si,
                        m.start(),
                        m.end(),
                        1.0,
                    )),
                    Some(t) => {
                        let e = &mut topic_hits[t];
                        e.0 = e.0.min(m.start());
                        e.1 = e.1.max(m.end());
                        if !e.2.contains(&p) {
                            e.2.push(p);
                        }
                    }
                }
            }
            for (t, (s, e, distinct)) in topic_hits.into_iter().enumerate() {
                if distinct.is_empty() {
                    continue;
                }
                let score = match distinct.len() {
                    1 => 0.6,
                    2 => 0.85,
                    _ => 1.0,
                };
                out.push(Hit::seg(
                    format!("topic:{}", self.topics[t]),
                    "banned.topic",
                    si,
                    s,
                    e,
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

    #[test]
    fn substrings_and_topics() {
        let mut topics = BTreeMap::new();
        topics.insert(
            "weapons".to_string(),
            vec![
                "rifle".to_string(),
                "ammunition".to_string(),
                "silencer".to_string(),
            ],
        );
        let d = Banned::new(
            BannedOptions {
                substrings: vec!["Project Falcon".into()],
                topics,
                match_inside_words: false,
            },
            "b",
        )
        .unwrap();
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
            out
        };
        let h = run("tell me about project falcon");
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].category, "banned_substring");
        let h = run("where to buy a rifle and ammunition");
        assert_eq!(h[0].category, "topic:weapons");
        assert!((h[0].score - 0.85).abs() < 1e-6);
        assert!(run("the rifleman's ammunitions").is_empty());
    }

    #[test]
    fn empty_phrase_rejected() {
        let e = Banned::new(
            BannedOptions {
                substrings: vec![" ".into()],
                ..Default::default()
            },
            "stages.input.detectors[0].options",
        )
        .unwrap_err();
        assert!(e
            .to_string()
            .contains("stages.input.detectors[0].options.substrings[0]"));
    }
}
