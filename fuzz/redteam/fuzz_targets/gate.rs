//! Gate expressions come from the command line: parsing any text must not panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = airisk_redteam::gate::Gate::parse(text);
    }
});
