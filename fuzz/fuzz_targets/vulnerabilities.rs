//! Fuzz the vulnerability-scan parser (CycloneDX and SARIF): a summary or an error, never a
//! panic.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = andon_evidence::summarize("vulnerabilities", data);
});
