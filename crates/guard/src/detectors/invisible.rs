//! Invisible and obfuscated text: Unicode tag characters (ASCII smuggling), zero-width characters
//! and bidirectional controls. The normaliser has already removed them from the text the other
//! detectors see (and decoded tag-smuggled text into its own segment); this detector reports them.

use serde::Deserialize;

use super::{Detector, Hit, Loc, Subject};
use crate::normalize::InvisibleKind;

/// Options of the `invisible_text` detector.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InvisibleOptions {
    /// Report a lone zero-width joiner (common inside emoji sequences). Default false.
    #[serde(default)]
    pub report_lone_zwj: bool,
}

/// The invisible-text detector.
#[derive(Debug)]
pub struct InvisibleText {
    opts: InvisibleOptions,
}

impl InvisibleText {
    /// Builds the detector.
    pub fn new(opts: InvisibleOptions) -> Self {
        InvisibleText { opts }
    }
}

impl Detector for InvisibleText {
    fn name(&self) -> &'static str {
        "invisible_text"
    }

    fn scan(&self, subject: &Subject<'_>, out: &mut Vec<Hit>) {
        let mut zero_width = 0usize;
        for run in &subject.text.invisible {
            let chars = subject
                .original
                .get(run.start..run.end)
                .map_or(0, |s| s.chars().count());
            let (cat, rule, score) = match run.kind {
                InvisibleKind::Tag => ("ascii_smuggling", "invisible.tag_chars", 1.0),
                InvisibleKind::Bidi => ("bidi_control", "invisible.bidi", 0.8),
                InvisibleKind::ZeroWidth => {
                    let only_zwj = subject.original.get(run.start..run.end) == Some("\u{200D}");
                    if only_zwj && !self.opts.report_lone_zwj {
                        continue;
                    }
                    zero_width += chars;
                    (
                        "zero_width",
                        "invisible.zero_width",
                        (0.3 + 0.1 * chars as f32).min(0.9),
                    )
                }
            };
            out.push(Hit {
                category: cat.into(),
                rule_id: rule.into(),
                loc: Loc::Original {
                    start: run.start,
                    end: run.end,
                },
                score,
                action: None,
            });
        }
        if zero_width >= 3 {
            out.push(Hit::whole(
                "zero_width",
                "invisible.zero_width.many",
                (0.5 + 0.05 * zero_width as f32).min(1.0),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::{prepare, NormalizeOptions};

    fn scan(text: &str) -> Vec<Hit> {
        let t = prepare(text, &NormalizeOptions::default());
        let mut out = Vec::new();
        InvisibleText::new(InvisibleOptions::default()).scan(
            &Subject {
                original: text,
                text: &t,
                tool: None,
                reference: None,
            },
            &mut out,
        );
        out
    }

    #[test]
    fn reports_tags_bidi_and_zero_width() {
        let tag: String = "hi"
            .chars()
            .map(|c| char::from_u32(0xE0000 + c as u32).unwrap())
            .collect();
        let h = scan(&format!("ok{tag}"));
        assert_eq!(h[0].category, "ascii_smuggling");
        assert_eq!(h[0].loc, Loc::Original { start: 2, end: 10 });
        assert_eq!(scan("abc\u{202E}fed")[0].category, "bidi_control");
        assert!(scan("i\u{200B}g\u{200B}n\u{200B}o")
            .iter()
            .any(|h| h.rule_id == "invisible.zero_width.many"));
    }

    #[test]
    fn emoji_joiner_is_not_reported() {
        assert!(scan("family: 👨\u{200D}👩\u{200D}👧").is_empty());
        assert!(scan("plain text").is_empty());
    }
}
