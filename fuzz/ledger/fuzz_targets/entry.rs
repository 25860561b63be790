//! Entry decoding must never panic, and decoding is canonical.
#![no_main]

use airisk_ledger::Entry;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(e) = Entry::decode(data) {
        assert_eq!(e.encode().ok().as_deref(), Some(data));
    }
});
