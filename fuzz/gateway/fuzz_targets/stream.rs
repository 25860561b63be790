//! The upstream side: arbitrary bytes as an event stream, split at an arbitrary point, through
//! the SSE parser and the guarded stream filter of the default policy. Never panics; every
//! event the filter emits is JSON.
#![no_main]
use std::sync::OnceLock;

use airisk_gateway::config::ToolCallViolation;
use airisk_gateway::sse::SseParser;
use airisk_gateway::stream::{Emit, StreamFilter, StreamSettings};
use airisk_guard::Guard;
use libfuzzer_sys::fuzz_target;

static GUARD: OnceLock<Guard> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let g = GUARD.get_or_init(|| Guard::default_policy().expect("default policy"));
    let cut = data.first().map(|b| *b as usize % (data.len().max(1))).unwrap_or(0);
    let mut parser = SseParser::new(1 << 16);
    let mut filter = StreamFilter::new(
        g,
        StreamSettings { holdback: 16, context: 32, tool_violation: ToolCallViolation::Remove },
    );
    let mut events = Vec::new();
    let mut out = Vec::new();
    for part in [&data[..cut], &data[cut..]] {
        if parser.push(part, &mut events).is_err() {
            return;
        }
        for e in events.drain(..) {
            if filter.on_data(&e.data, &mut out).is_err() {
                return;
            }
        }
    }
    let _ = filter.on_end(&mut out);
    for e in &out {
        if let Emit::Data(d) = e {
            assert!(serde_json::from_str::<serde_json::Value>(d).is_ok(), "{d}");
        }
    }
});
