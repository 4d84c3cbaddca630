//! OSV range evaluation over real records (the OSV linter's test data and the GHSA
//! converter's expected output, vectors/README.md), each with versions listed by hand on
//! both sides of every event.

use andon_vuln::osv::{Advisory, Affected, Event, Range};
use andon_vuln::purl::ecosystem;
use andon_vuln::{Verdict, evaluate};

fn record(text: &str) -> Advisory {
    serde_json::from_str(text).expect("an OSV record")
}

fn verdict(a: &Affected, version: &str) -> Verdict {
    let eco = a.package.as_ref().and_then(|p| ecosystem(&p.ecosystem));
    evaluate(a, eco.as_ref(), version)
}

/// Asserts exactly which of the versions are affected, and the fixed version named for each.
fn check(a: &Affected, affected: &[(&str, Option<&str>)], not: &[&str]) {
    for (v, fixed) in affected {
        match verdict(a, v) {
            Verdict::Affected(hit) => assert_eq!(hit.fixed.as_deref(), *fixed, "{v}: {hit:?}"),
            other => panic!("{v} should be affected: {other:?}"),
        }
    }
    for v in not {
        assert_eq!(verdict(a, v), Verdict::NotAffected, "{v}");
    }
}

#[test]
fn semver_ranges_of_go_and_npm() {
    let go = record(include_str!("vectors/osv/GO-2020-0001.json"));
    check(
        &go.affected[0],
        &[
            ("v1.5.0", Some("1.6.0")),
            ("0.0.1", Some("1.6.0")),
            ("1.6.0-rc.1", Some("1.6.0")),
        ],
        &["1.6.0", "v1.6.1", "2.0.0"],
    );
    // Two introduced and two fixed events, out of order in the record.
    let mixin = record(include_str!("vectors/ghsa/equals_with_patch.osv.json"));
    check(
        &mixin.affected[0],
        &[
            ("1.3.1", Some("1.3.2")),
            ("0.1.0", Some("1.3.2")),
            ("2.0.0", Some("2.0.1")),
        ],
        &["1.3.2", "1.9.9", "2.0.1", "3.0.0"],
    );
    let jquery = record(include_str!("vectors/ghsa/npm_greater_than.osv.json"));
    check(
        &jquery.affected[0],
        // Numeric pre-release identifiers sort before alphanumeric ones: `-beta.0` is inside.
        &[
            ("2.1.1-0", Some("3.0.0")),
            ("2.1.1-beta.0", Some("3.0.0")),
            ("2.2.4", Some("3.0.0")),
        ],
        &["2.1.0", "2.1.0-rc.1", "3.0.0"],
    );
    // No fixed event: every version from the introduced one on.
    let shiba = record(include_str!(
        "vectors/ghsa/less_than_equals_no_patch.osv.json"
    ));
    check(
        &shiba.affected[0],
        &[("0.0.1", None), ("99.0.0", None)],
        &[],
    );
}

#[test]
fn pypi_ranges_and_listed_versions() {
    let requests = record(include_str!("vectors/osv/PYSEC-2023-74.json"));
    let a = &requests.affected[0];
    check(
        a,
        &[
            ("2.3.0", Some("2.31.0")),
            ("2.30.0", Some("2.31.0")),
            ("2.31.0rc1", Some("2.31.0")),
        ],
        &["2.2.1", "2.31.0", "2.31.0.post1", "2.32.3"],
    );
    // Listed versions match by PEP 440 equality, not by spelling.
    let gradio = record(include_str!("vectors/osv/GHSA-9v2f-6vcg-3hgv.json"));
    match verdict(&gradio.affected[0], "4.36.1.0") {
        Verdict::Affected(hit) => assert_eq!(hit.matched, "listed"),
        other => panic!("{other:?}"),
    }
    assert_eq!(verdict(&gradio.affected[0], "4.36.2"), Verdict::NotAffected);
    assert_eq!(gradio.severity_word(), "critical");
    // Records with a CVSS vector and no word are scored: OpenSSL's CVE-2018-5407 (3.1
    // AV:L/AC:H/PR:L/UI:N/S:U/C:H/I:N/A:N, NVD's 4.7) and CVE-2023-41045 (5.3) are medium.
    for (text, score) in [
        (include_str!("vectors/osv/CVE-2018-5407.json"), 4.7),
        (include_str!("vectors/osv/CVE-2023-41045.json"), 5.3),
    ] {
        let r = record(text);
        assert_eq!(r.cvss_score(), Some(score), "{}", r.id);
        assert_eq!(r.severity_word(), "medium", "{}", r.id);
    }
    assert_eq!(andon_vuln::osv::score_band(9.8), "critical");
    assert_eq!(andon_vuln::osv::score_band(7.0), "high");
    assert_eq!(andon_vuln::osv::score_band(0.1), "low");
    assert_eq!(andon_vuln::osv::score_band(0.0), "unknown");
    let pas = record(include_str!("vectors/ghsa/pypi_normalize.osv.json"));
    // A development release comes before its release; an epoch above zero after every
    // version without one.
    check(
        &pas.affected[0],
        &[("2.6.0", Some("2.6.1")), ("2.6.1.dev0", Some("2.6.1"))],
        &["2.6.1", "2.6.1.post1", "1!0.1"],
    );
}

#[test]
fn debian_ranges_with_tilde_and_epochs() {
    let a = Affected {
        package: Some(
            serde_json::from_value(serde_json::json!({
                "ecosystem": "Debian:12", "name": "openssl"
            }))
            .expect("package"),
        ),
        ranges: vec![Range {
            kind: "ECOSYSTEM".into(),
            repo: None,
            events: vec![
                Event {
                    introduced: Some("0".into()),
                    ..Event::default()
                },
                Event {
                    fixed: Some("3.0.11-1~deb12u2".into()),
                    ..Event::default()
                },
            ],
        }],
        ..Affected::default()
    };
    check(
        &a,
        &[
            ("3.0.11-1~deb12u1", Some("3.0.11-1~deb12u2")),
            ("3.0.9-1", Some("3.0.11-1~deb12u2")),
        ],
        &["3.0.11-1~deb12u2", "3.0.11-1", "1:1.0-1"],
    );
}

#[test]
fn last_affected_and_limit() {
    let range = |events: serde_json::Value| Affected {
        package: Some(
            serde_json::from_value(serde_json::json!({
                "ecosystem": "npm", "name": "x"
            }))
            .expect("package"),
        ),
        ranges: vec![Range {
            kind: "SEMVER".into(),
            repo: None,
            events: serde_json::from_value(events).expect("events"),
        }],
        ..Affected::default()
    };
    let a = range(serde_json::json!([{"introduced": "1.0.0"}, {"last_affected": "1.4.0"}]));
    check(&a, &[("1.0.0", None), ("1.4.0", None)], &["0.9.0", "1.4.1"]);
    let a = range(serde_json::json!([{"introduced": "0"}, {"limit": "2.0.0"}]));
    check(&a, &[("1.9.9", None)], &["2.0.0", "3.0.0"]);
    let a = range(serde_json::json!([{"introduced": "0"}, {"limit": "*"}]));
    check(&a, &[("3.0.0", None)], &[]);
}

#[test]
fn what_cannot_be_evaluated_says_so() {
    // Maven and RubyGems have no ordering here yet; GIT needs the commit graph.
    let akka = record(include_str!("vectors/ghsa/full_ranges.osv.json"));
    let Verdict::Unevaluated(why) = verdict(&akka.affected[0], "2.5.3") else {
        panic!("Maven is not evaluated");
    };
    assert!(
        why.contains("no version ordering for ECOSYSTEM ranges of maven"),
        "{why}"
    );
    let git = record(include_str!("vectors/osv/CVE-2023-41045.json"));
    let Verdict::Unevaluated(why) = verdict(&git.affected[0], "1.2.3") else {
        panic!("GIT is not evaluated");
    };
    assert!(why.contains("commit graph"), "{why}");
    // A commit an event names is affected by that event.
    let alpine = record(include_str!("vectors/osv/CVE-2018-5407.json"));
    let git = alpine.affected.last().expect("GIT");
    assert!(matches!(
        verdict(git, "cf41627411886000429bde058a6594fb7f6d6d47"),
        Verdict::Affected(_)
    ));
    // A version the ordering cannot read is unevaluated, never "not affected".
    let go = record(include_str!("vectors/osv/GO-2020-0001.json"));
    assert!(matches!(
        verdict(&go.affected[0], "master"),
        Verdict::Unevaluated(_)
    ));
    // The withdrawn record reads, and says so.
    let withdrawn = record(include_str!("vectors/ghsa/withdrawn.osv.json"));
    assert_eq!(withdrawn.withdrawn.as_deref(), Some("2018-10-11T17:29:49Z"));
    assert!(withdrawn.ids().any(|i| i == "CVE-2015-3227"));
}
