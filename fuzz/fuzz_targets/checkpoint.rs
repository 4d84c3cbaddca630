//! Fuzz signed-note checkpoint parsing and verifier keys: what a witness or auditor reads.
#![no_main]
use andon_ledger::{LogSigner, NoteVerifier};
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let verifier = LogSigner::new("fuzz.example/log", [7; 32]).verifier();
        let _ = verifier.verify(text);
        let _ = NoteVerifier::parse(text);
    }
});
