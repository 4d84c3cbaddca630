//! Fuzz the dynamic-scan (OWASP ZAP JSON and XML) reader: any bytes give a summary or an
//! error, never a panic.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = andon_evidence::summarize("dast", data);
});
