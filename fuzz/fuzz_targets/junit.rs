//! Fuzz the junit parser: any bytes give a summary or an error, never a panic.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = andon_evidence::summarize("junit", data);
});
