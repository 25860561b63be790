//! Tool-call checks never panic on arbitrary JSON arguments and tool names.
#![no_main]
use std::sync::OnceLock;

use airisk_guard::{Guard, Input};
use libfuzzer_sys::fuzz_target;

static GUARD: OnceLock<Guard> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let g = GUARD.get_or_init(|| Guard::default_policy().expect("default policy"));
    let split = data.iter().position(|b| *b == 0).unwrap_or(0);
    let name = String::from_utf8_lossy(&data[..split]);
    if let Ok(args) = serde_json::from_slice::<serde_json::Value>(&data[split.saturating_add(1).min(data.len())..]) {
        for tool in [name.as_ref(), "refund", "search", "send_email"] {
            let _ = g.check(Input::ToolCall { name: tool, args: &args });
        }
    }
});
