//! An evidence record's summary in words, per kind, with rounded numbers: what an auditor
//! reads on a trace or a record page ("12 tests: 11 passed, 1 failed, in 0.55 s"), not the
//! summary's JSON fields.

use serde_json::Value;

fn n(v: &Value, k: &str) -> u64 {
    v[k].as_u64().unwrap_or(0)
}

/// `count noun`, the noun in the plural unless the count is one.
pub(crate) fn count(c: u64, one: &str, many: &str) -> String {
    format!("{c} {}", if c == 1 { one } else { many })
}

/// A rate (0 to 1) as a percentage with one decimal.
fn percent(v: &Value, k: &str) -> String {
    v[k].as_f64()
        .map(|r| format!("{:.1}%", r * 100.0))
        .unwrap_or_else(|| "-".into())
}

/// Seconds, rounded for a person.
fn seconds(s: f64) -> String {
    if s < 10.0 {
        format!("{s:.2} s")
    } else if s < 120.0 {
        format!("{s:.0} s")
    } else {
        format!("{:.1} min", s / 60.0)
    }
}

/// A map of counts (`{"high": 2, "low": 1}`) as "2 high, 1 low", highest first by name.
fn counts_of(v: &Value) -> String {
    v.as_object()
        .map(|o| {
            o.iter()
                .filter(|(_, c)| c.as_u64().unwrap_or(0) > 0)
                .map(|(k, c)| format!("{c} {k}"))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

/// The summary of one evidence record in words; empty for an untyped record.
pub(crate) fn in_words(s: &Value) -> String {
    match s["kind"].as_str().unwrap_or("") {
        "junit" => {
            let mut parts = vec![format!("{} passed", n(s, "passed"))];
            for (k, word) in [
                ("failures", "failed"),
                ("errors", "in error"),
                ("skipped", "skipped"),
            ] {
                if n(s, k) > 0 {
                    parts.push(format!("{} {word}", n(s, k)));
                }
            }
            format!(
                "{}: {}, in {}",
                count(n(s, "tests"), "test", "tests"),
                parts.join(", "),
                seconds(s["duration_seconds"].as_f64().unwrap_or(0.0))
            )
        }
        "coverage" => format!(
            "lines {} covered ({} of {}){}",
            percent(s, "line_rate"),
            n(s, "lines_covered"),
            n(s, "lines_total"),
            if n(s, "branches_total") > 0 {
                format!(", branches {}", percent(s, "branch_rate"))
            } else {
                String::new()
            }
        ),
        "sarif" => {
            let levels = counts_of(&s["by_level"]);
            format!(
                "{}{}{}",
                count(n(s, "findings"), "finding", "findings"),
                if levels.is_empty() {
                    String::new()
                } else {
                    format!(" ({levels})")
                },
                if n(s, "suppressed") > 0 {
                    format!(", {} suppressed", n(s, "suppressed"))
                } else {
                    String::new()
                }
            )
        }
        "sbom" => format!(
            "{} ({} {}), {} with a package URL, {} without a license",
            count(n(s, "components"), "component", "components"),
            s["format"].as_str().unwrap_or("?"),
            s["spec_version"].as_str().unwrap_or(""),
            n(s, "with_purl"),
            n(s, "without_license")
        ),
        "vulnerabilities" => {
            let severities = counts_of(&s["by_severity"]);
            format!(
                "{}{}, {} fixable{}",
                count(n(s, "findings"), "finding", "findings"),
                if severities.is_empty() {
                    String::new()
                } else {
                    format!(" ({severities})")
                },
                n(s, "fixable"),
                if n(s, "not_affected") > 0 {
                    format!(", {} not affected (VEX)", n(s, "not_affected"))
                } else {
                    String::new()
                }
            )
        }
        "provenance" => format!(
            "built by {} from {}{}",
            s["builder_id"].as_str().unwrap_or("?"),
            s["source_repository"]
                .as_str()
                .unwrap_or("an unnamed repository"),
            s["source_commit"]
                .as_str()
                .map(|c| format!(" at {}", &c[..12.min(c.len())]))
                .unwrap_or_default()
        ),
        _ => generic(s),
    }
}

/// Any other summary: its short text and number fields, numbers rounded.
fn generic(s: &Value) -> String {
    let Some(o) = s.as_object() else {
        return String::new();
    };
    o.iter()
        .filter(|(k, _)| *k != "kind")
        .filter_map(|(k, v)| match v {
            Value::String(t) if t.len() <= 80 => Some(format!("{k}: {t}")),
            Value::Number(x) => Some(match x.as_u64() {
                Some(i) => format!("{k}: {i}"),
                None => format!("{k}: {}", round(x.as_f64().unwrap_or(0.0))),
            }),
            Value::Bool(b) => Some(format!("{k}: {b}")),
            _ => None,
        })
        .take(6)
        .collect::<Vec<_>>()
        .join(" · ")
}

/// A float with at most three significant decimals, trailing zeros dropped.
fn round(x: f64) -> String {
    let t = format!("{x:.3}");
    t.trim_end_matches('0').trim_end_matches('.').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn each_kind_reads_as_words_with_rounded_numbers() {
        let junit = json!({"kind": "junit", "tests": 12, "passed": 11, "failures": 1, "errors": 0,
                           "skipped": 0, "duration_seconds": 0.5500000000000002});
        assert_eq!(in_words(&junit), "12 tests: 11 passed, 1 failed, in 0.55 s");
        let one = json!({"kind": "junit", "tests": 1, "passed": 1, "duration_seconds": 130.0});
        assert_eq!(in_words(&one), "1 test: 1 passed, in 2.2 min");
        let cov = json!({"kind": "coverage", "line_rate": 0.8333333, "lines_covered": 10,
                         "lines_total": 12, "branches_total": 0});
        assert_eq!(in_words(&cov), "lines 83.3% covered (10 of 12)");
        let vulns = json!({"kind": "vulnerabilities", "findings": 3,
                           "by_severity": {"critical": 0, "high": 2, "low": 1}, "fixable": 2});
        assert_eq!(in_words(&vulns), "3 findings (2 high, 1 low), 2 fixable");
        assert_eq!(
            in_words(&json!({"kind": "x", "ratio": 0.30000000000000004, "name": "n"})),
            "name: n · ratio: 0.3"
        );
    }
}
