//! Fuzz the secret-scan reader: any bytes give a summary or an error, never a panic, and the
//! summary of a gitleaks JSON array never holds any finding's `Secret` (the texts of six
//! bytes or more, which the reader keeps out; shorter ones are not searched for).
#![no_main]
use std::collections::BTreeSet;

use andon_evidence::secrets::{SecretsSummary, parse};

/// Secret texts shorter than this are left in place by the reader, by design.
const MIN_SECRET_LEN: usize = 6;
/// What the reader puts in place of a field that held a secret.
const REDACTED: &str = "(redacted)";

/// The distinct `Secret` texts of a gitleaks findings array, trimmed as the reader trims
/// them.
fn gitleaks_secrets(data: &[u8]) -> BTreeSet<String> {
    let data = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    let Ok(serde_json::Value::Array(items)) = serde_json::from_slice(data) else {
        return BTreeSet::new();
    };
    items
        .iter()
        .filter_map(|item| item.get("Secret")?.as_str())
        .map(str::trim)
        .filter(|s| s.len() >= MIN_SECRET_LEN)
        .map(str::to_owned)
        .collect()
}

/// Every text of the summary that comes from the report: rule names, files, commits,
/// fingerprints.
fn report_texts(s: &SecretsSummary) -> impl Iterator<Item = &str> {
    s.by_rule
        .keys()
        .map(String::as_str)
        .chain(s.listed.iter().flat_map(|f| {
            [
                Some(&f.rule),
                f.file.as_ref(),
                f.commit.as_ref(),
                f.fingerprint.as_ref(),
            ]
            .into_iter()
            .flatten()
            .map(String::as_str)
        }))
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(summary) = parse(data) else {
        return;
    };
    let secrets = gitleaks_secrets(data);
    for text in report_texts(&summary).filter(|t| *t != REDACTED) {
        for secret in &secrets {
            assert!(
                !text.contains(secret.as_str()),
                "the summary holds a secret: {text:?} contains {secret:?}"
            );
        }
    }
    assert!(serde_json::to_vec(&summary).is_ok());
});
