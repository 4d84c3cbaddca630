//! Fuzz the SLSA provenance reader on any JSON the bytes make.
#![no_main]
use andon_evidence::provenance::{SLSA_V02, SLSA_V1, parse};
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) {
        let _ = parse(SLSA_V1, &v);
        let _ = parse(SLSA_V02, &v);
    }
});
