//! `check` never panics on arbitrary text at any stage, and every span lies on char boundaries.
#![no_main]
use std::sync::OnceLock;

use airisk_guard::{Guard, Input};
use libfuzzer_sys::fuzz_target;

static GUARD: OnceLock<Guard> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let g = GUARD.get_or_init(|| Guard::default_policy().expect("default policy"));
    let text = String::from_utf8_lossy(data);
    for input in [
        Input::Prompt { text: &text, system: false },
        Input::Context { text: &text },
        Input::Output { text: &text },
        Input::ToolResult { name: "search", text: &text },
    ] {
        let d = g.check(input);
        for f in &d.findings {
            if let Some(s) = f.span {
                assert!(s.start <= s.end && s.end <= text.len());
                assert!(text.is_char_boundary(s.start) && text.is_char_boundary(s.end));
            }
        }
        if let Some(r) = &d.redacted {
            assert!(r.len() <= text.len() + 64 * (d.findings.len() + 1));
        }
    }
});
