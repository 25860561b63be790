//! Policy parsing and compilation never panic; errors always name a path.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Err(airisk_guard::GuardError::Policy { path, .. }) = airisk_guard::Guard::from_yaml(text) {
            assert!(!path.is_empty());
        }
    }
});
