//! Fuzz the validation of CycloneDX and SPDX JSON against their JSON schemas and of CycloneDX
//! XML against its XSD (libxml2): never a panic or a crash, and
//! a report's counts agree with the errors it lists (at most 20 of them).
#![no_main]
use andon_evidence::schema::validate;

/// Errors a report lists at most.
const MAX_LISTED: u64 = 20;
/// Errors a report counts at most.
const MAX_COUNTED: u64 = 1000;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some(report) = validate(data) else {
        return;
    };
    assert_eq!(
        report.errors.len() as u64,
        report.error_count.min(MAX_LISTED)
    );
    assert!(report.error_count <= MAX_COUNTED);
    assert_eq!(report.valid, report.error_count == 0);
});
