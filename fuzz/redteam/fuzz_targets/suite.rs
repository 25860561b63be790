//! Suite files are untrusted input: parsing and validating any text must not panic, and a
//! suite that loads must expand into cases without panicking.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(suite) = airisk_redteam::suite::Suite::from_yaml("fuzz.yaml", text) {
            if suite.attacks.len() <= 64 {
                let _ = airisk_redteam::cases::expand(&suite, None, 1);
            }
        }
    }
});
