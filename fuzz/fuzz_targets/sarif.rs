//! Fuzz the sarif parser: any bytes give a summary or an error, never a panic.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = andon_evidence::summarize("sarif", data);
});
