//! Secret scans: leaked credentials found in a repository's files or history, from
//!
//! - gitleaks 8 JSON reports (`gitleaks detect --report-format json`, also written by
//!   `gitleaks git` and `gitleaks dir`): an array of findings with `RuleID`, `File`,
//!   `StartLine`, `Commit` and `Fingerprint`; `[]` when nothing leaked;
//! - TruffleHog v3 JSON lines (`trufflehog ... --json`): one object per finding with
//!   `DetectorName`, `Verified` and the location under `SourceMetadata.Data.<source>`
//!   (`file`, `line`, `commit`). Log lines (`level`, `msg`) mixed in are skipped.
//!
//! The summary never carries a secret: the matched text (`Secret`, `Match`, `Raw`, `RawV2`,
//! `Redacted`, `ExtraData`) is never read into it, and a field that contains any finding's
//! secret text (a hostile or unlucky file name, a rule named after another finding's secret)
//! is replaced by `(redacted)`.

use std::collections::{BTreeMap, BTreeSet};

use aho_corasick::AhoCorasick;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ParseError;

const FORMAT: &str = "secrets report";
const ACCEPTS: &str =
    "a gitleaks JSON report (`--report-format json`) or TruffleHog JSON lines (`--json`)";
/// Findings listed in full at most; the counts always cover them all.
const MAX_LISTED: usize = 1000;
/// Findings read at most.
const MAX_FINDINGS: usize = 200_000;
/// Secret texts shorter than this are not searched for in location fields (a two-letter
/// secret would redact half the paths of a report).
const MIN_SECRET_LEN: usize = 6;
/// What stands in for a field that contained a finding's secret.
const REDACTED: &str = "(redacted)";

/// What a secret scan found, without any secret.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SecretsSummary {
    /// `gitleaks-json` or `trufflehog-json-lines`.
    pub format: String,
    /// `gitleaks` or `trufflehog`.
    pub tool: String,
    /// Findings, all of them.
    pub findings: u64,
    /// Findings per rule (gitleaks `RuleID`, TruffleHog `DetectorName`).
    pub by_rule: BTreeMap<String, u64>,
    /// Findings the scanner verified as live credentials (TruffleHog only; `None` for
    /// gitleaks, which does not verify).
    pub verified: Option<u64>,
    /// Distinct files with at least one finding.
    pub files: u64,
    /// The findings by file, line and rule (at most 1000; `findings` counts all).
    pub listed: Vec<SecretFinding>,
}

/// Where one secret was found: never the secret itself.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretFinding {
    /// The rule or detector that matched.
    pub rule: String,
    /// The file, as the report names it.
    pub file: Option<String>,
    /// The 1-based line of the match.
    pub line: Option<u64>,
    /// The commit that introduced it, for a scan of git history.
    pub commit: Option<String>,
    /// gitleaks' fingerprint (`commit:file:rule:line`), the key of its `.gitleaksignore`.
    pub fingerprint: Option<String>,
    /// Whether TruffleHog verified the credential as live (`None` for gitleaks).
    pub verified: Option<bool>,
}

fn malformed(line: u64, message: impl Into<String>) -> ParseError {
    ParseError::Malformed {
        format: FORMAT,
        line,
        message: message.into(),
    }
}

/// Parses a secret scanner's report: a gitleaks JSON array, or TruffleHog JSON lines.
pub fn parse(doc: &[u8]) -> Result<SecretsSummary, ParseError> {
    let doc = &*crate::encoding::utf8(doc, FORMAT)?;
    match doc.iter().find(|b| !b.is_ascii_whitespace()) {
        None => Err(malformed(
            1,
            format!(
                "the document is empty; reads {ACCEPTS} (gitleaks writes [] when it finds nothing)"
            ),
        )),
        Some(b'{') => parse_trufflehog(doc),
        // An array, XML or anything else: the JSON reader names what is wrong.
        Some(_) => parse_gitleaks(&crate::json_doc(doc, FORMAT, ACCEPTS)?),
    }
}

/// Adds the secret texts of a finding to `into`, to keep out of the summary.
fn secret_texts(v: &Value, keys: &[&str], into: &mut BTreeSet<String>) {
    let texts = keys
        .iter()
        .filter_map(|k| v.get(*k).and_then(Value::as_str));
    add_secrets(texts, into);
}

fn add_secrets<'a>(texts: impl Iterator<Item = &'a str>, into: &mut BTreeSet<String>) {
    into.extend(
        texts
            .map(str::trim)
            .filter(|s| s.len() >= MIN_SECRET_LEN)
            .map(str::to_owned),
    );
}

/// Replaces every field of every finding that contains any of the report's secret texts.
/// A finding's own secret is not enough: another finding's secret may sit in its file
/// name or rule.
fn scrub_all(all: &mut [SecretFinding], secrets: &BTreeSet<String>) {
    if secrets.is_empty() {
        return;
    }
    // Built from at most MAX_FINDINGS short texts: a matcher, not a search per pair.
    let Ok(matcher) = AhoCorasick::new(secrets) else {
        // Too large to build a matcher over: keep no location at all rather than risk one.
        for f in all.iter_mut() {
            *f = SecretFinding {
                rule: REDACTED.to_owned(),
                line: f.line,
                verified: f.verified,
                ..Default::default()
            };
        }
        return;
    };
    let scrub = |field: &mut String| {
        if matcher.is_match(field.as_str()) {
            REDACTED.clone_into(field);
        }
    };
    for f in all.iter_mut() {
        scrub(&mut f.rule);
        for field in [&mut f.file, &mut f.commit, &mut f.fingerprint]
            .into_iter()
            .flatten()
        {
            scrub(field);
        }
    }
}

/// A finding, its empty fields absent.
fn finding(
    rule: String,
    file: Option<String>,
    line: Option<u64>,
    commit: Option<String>,
    fingerprint: Option<String>,
    verified: Option<bool>,
) -> SecretFinding {
    SecretFinding {
        rule,
        file: file.filter(|f| !f.is_empty()),
        line,
        commit: commit.filter(|c| !c.is_empty()),
        fingerprint: fingerprint.filter(|f| !f.is_empty()),
        verified,
    }
}

fn string(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn parse_gitleaks(v: &Value) -> Result<SecretsSummary, ParseError> {
    let items = match v {
        Value::Array(a) => a,
        Value::Object(o) if o.contains_key("runs") => {
            return Err(malformed(
                0,
                "this is SARIF, which is not read here: run gitleaks with --report-format json",
            ));
        }
        _ => {
            return Err(malformed(
                0,
                format!(
                    "neither a gitleaks findings array nor TruffleHog JSON lines; reads {ACCEPTS}"
                ),
            ));
        }
    };
    if items.len() > MAX_FINDINGS {
        return Err(ParseError::Refused {
            format: FORMAT,
            message: format!("more than {MAX_FINDINGS} findings"),
        });
    }
    let mut out = Vec::with_capacity(items.len());
    let mut secrets = BTreeSet::new();
    for (i, item) in items.iter().enumerate() {
        let rule = item.get("RuleID").and_then(Value::as_str).ok_or_else(|| {
            malformed(
                0,
                format!("finding {i} has no RuleID: not a gitleaks 8 finding; reads {ACCEPTS}"),
            )
        })?;
        secret_texts(item, &["Secret", "Match"], &mut secrets);
        out.push(finding(
            rule.to_owned(),
            string(item, "File"),
            item.get("StartLine").and_then(Value::as_u64),
            string(item, "Commit"),
            string(item, "Fingerprint"),
            None,
        ));
    }
    Ok(finish("gitleaks-json", "gitleaks", out, &secrets))
}

/// TruffleHog's location of a finding: the one source object under `SourceMetadata.Data`
/// (`Git`, `Github`, `Filesystem`, ...), whatever the source.
fn trufflehog_location(v: &Value) -> Option<&serde_json::Map<String, Value>> {
    v.pointer("/SourceMetadata/Data")?
        .as_object()?
        .values()
        .find_map(Value::as_object)
}

fn parse_trufflehog(doc: &[u8]) -> Result<SecretsSummary, ParseError> {
    let mut out = Vec::new();
    let mut secrets = BTreeSet::new();
    let mut stream = serde_json::Deserializer::from_slice(doc).into_iter::<Value>();
    let mut first = true;
    loop {
        let offset = stream.byte_offset();
        let Some(next) = stream.next() else { break };
        let v = next.map_err(|e| {
            malformed(
                (e.line() as u64).max(1),
                format!("not valid JSON ({e}); reads {ACCEPTS}"),
            )
        })?;
        // The line where this value starts (past the blank lines before it).
        let start = doc[offset..]
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .map_or(offset, |p| offset + p);
        let line = crate::line_of(doc, start as u64);
        if first && (v.get("runs").is_some() || v.get("$schema").is_some()) {
            return Err(malformed(
                0,
                "this is SARIF, which is not read here: run gitleaks with --report-format json, or TruffleHog with --json",
            ));
        }
        first = false;
        let Some(detector) = v.get("DetectorName").and_then(Value::as_str) else {
            if v.get("level").is_some() && v.get("msg").is_some() {
                continue; // a TruffleHog log line, written to the same stream
            }
            return Err(malformed(
                line,
                format!(
                    "an object without DetectorName: not a TruffleHog finding; reads {ACCEPTS}"
                ),
            ));
        };
        if out.len() >= MAX_FINDINGS {
            return Err(ParseError::Refused {
                format: FORMAT,
                message: format!("more than {MAX_FINDINGS} findings"),
            });
        }
        let loc = trufflehog_location(&v);
        let field = |k: &str| loc.and_then(|l| l.get(k));
        secret_texts(&v, &["Raw", "RawV2", "Redacted"], &mut secrets);
        if let Some(Value::Object(extra)) = v.get("ExtraData") {
            add_secrets(extra.values().filter_map(Value::as_str), &mut secrets);
        }
        out.push(finding(
            detector.to_owned(),
            field("file").and_then(Value::as_str).map(str::to_owned),
            field("line").and_then(Value::as_u64),
            field("commit").and_then(Value::as_str).map(str::to_owned),
            None,
            Some(v.get("Verified").and_then(Value::as_bool).unwrap_or(false)),
        ));
    }
    Ok(finish("trufflehog-json-lines", "trufflehog", out, &secrets))
}

fn finish(
    format: &str,
    tool: &str,
    mut all: Vec<SecretFinding>,
    secrets: &BTreeSet<String>,
) -> SecretsSummary {
    scrub_all(&mut all, secrets);
    let mut s = SecretsSummary {
        format: format.into(),
        tool: tool.into(),
        findings: all.len() as u64,
        ..Default::default()
    };
    let mut files = BTreeSet::new();
    let mut verified = None;
    for f in &all {
        *s.by_rule.entry(f.rule.clone()).or_default() += 1;
        if let Some(file) = &f.file {
            files.insert(file.as_str());
        }
        if let Some(v) = f.verified {
            *verified.get_or_insert(0) += u64::from(v);
        }
    }
    s.files = files.len() as u64;
    // TruffleHog verifies (none verified is a count); gitleaks does not.
    s.verified = (tool == "trufflehog").then(|| verified.unwrap_or(0));
    all.sort_by(|a, b| {
        a.file
            .cmp(&b.file)
            .then_with(|| a.line.cmp(&b.line))
            .then_with(|| a.rule.cmp(&b.rule))
            .then_with(|| a.commit.cmp(&b.commit))
    });
    all.truncate(MAX_LISTED);
    s.listed = all;
    s
}
