//! Evidence bundle parsing and verification must never panic.
#![no_main]

use airisk_ledger::{verify_bundle, Bundle, SignerKey};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = Bundle::parse(data);
    if let Ok(key) = SignerKey::from_seed("airisk.fuzz/ledger", [7; 32]) {
        let _ = verify_bundle(data, &key.verifier());
    }
});
