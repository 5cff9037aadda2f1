//! `svcc import`'s fast YAML reader on arbitrary bytes: no panic, and
//! whenever it reads a document, serde-saphyr (which reads everything it
//! leaves) reads the same values (`import::yaml::fast::agrees`, the check
//! its unit tests use).
#![no_main]

use libfuzzer_sys::fuzz_target;
use svcc::import::yaml::fast;

fuzz_target!(|data: &[u8]| {
    // Import reads files as UTF-8 text; anything else never gets here.
    if let Ok(text) = std::str::from_utf8(data) {
        fast::agrees(text);
    }
});
