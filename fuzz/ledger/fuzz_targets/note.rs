//! Signed-note and key parsing and verification must never panic.
#![no_main]

use airisk_ledger::{Note, SignerKey, VerifierKey};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let _ = Note::parse(s);
    let _ = VerifierKey::parse(s);
    let _ = SignerKey::parse(s);
    if let Ok(key) = SignerKey::from_seed("airisk.fuzz/ledger", [7; 32]) {
        let _ = key.verifier().open(s);
    }
});
