//! Checkpoint parsing (bare and signed) must never panic, and must round-trip.
#![no_main]

use airisk_ledger::{Checkpoint, SignerKey};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(c) = Checkpoint::parse(s) {
        // Strict parsing means the text is canonical.
        assert_eq!(c.to_text().ok().as_deref(), Some(s));
    }
    if let Ok(key) = SignerKey::from_seed("airisk.fuzz/ledger", [7; 32]) {
        let _ = Checkpoint::open(s, &key.verifier());
    }
});
