//! Package URLs: the purl specification's test suite (as packageurl-python ships it) read
//! into the keys Andon matches on, and the OSV ecosystems mapped to the same keys.

use andon_vuln::purl::{self, ecosystem};

#[test]
fn the_purl_test_suite() {
    let suite: serde_json::Value =
        serde_json::from_str(include_str!("vectors/purl-test-suite-data.json")).expect("json");
    let cases = suite.as_array().expect("list");
    let (mut valid, mut invalid) = (0, 0);
    for case in cases {
        let text = case["purl"].as_str().expect("purl");
        let got = purl::parse(text);
        if case["is_invalid"].as_bool() == Some(true) {
            assert!(
                got.is_err(),
                "{}: {text} was read: {got:?}",
                case["description"]
            );
            invalid += 1;
            continue;
        }
        let got = got.unwrap_or_else(|e| panic!("{}: {e}", case["description"]));
        let want_name = case["name"].as_str().expect("name");
        let want_name = if case["type"] == "pypi" {
            want_name.replace('_', "-")
        } else {
            want_name.to_owned()
        };
        assert_eq!(got.key.ty, case["type"].as_str().expect("type"), "{text}");
        assert_eq!(
            got.key.namespace,
            // The suite keeps a trailing `/` its canonical form drops.
            case["namespace"]
                .as_str()
                .unwrap_or("")
                .trim_end_matches('/'),
            "{text}"
        );
        assert_eq!(got.key.name, want_name, "{text}");
        assert_eq!(got.version.as_deref(), case["version"].as_str(), "{text}");
        valid += 1;
    }
    assert!(
        valid >= 28 && invalid >= 4,
        "{valid} valid, {invalid} invalid"
    );
}

#[test]
fn osv_packages_and_purls_meet_on_one_key() {
    let cases = [
        (
            "PyPI",
            "Django_REST.framework",
            "pkg:pypi/django-rest-framework@3.1",
        ),
        ("npm", "@Angular/Core", "pkg:npm/%40angular/core@1.0.0"),
        (
            "Go",
            "github.com/gin-gonic/gin",
            "pkg:golang/github.com/gin-gonic/gin@v1.5.0",
        ),
        ("crates.io", "time", "pkg:cargo/time@0.1.0"),
        (
            "Maven",
            "com.typesafe.akka:akka-actor_2.11",
            "pkg:maven/com.typesafe.akka/akka-actor_2.11@2.5.0",
        ),
        (
            "Debian:12",
            "openssl",
            "pkg:deb/debian/openssl@3.0.11-1~deb12u2?arch=amd64&distro=debian-12",
        ),
        (
            "Ubuntu:22.04:LTS",
            "openssl",
            "pkg:deb/ubuntu/openssl@3.0.2-0ubuntu1.10?distro=jammy",
        ),
        (
            "Alpine:v3.18",
            "openssl",
            "pkg:apk/alpine/openssl@3.1.4-r0?distro=alpine-3.18",
        ),
    ];
    for (eco, name, text) in cases {
        let e = ecosystem(eco).unwrap_or_else(|| panic!("{eco}"));
        let p = purl::parse(text).expect(text);
        assert_eq!(e.key(name), p.key, "{eco} {name} against {text}");
    }
    let deb = purl::parse("pkg:deb/debian/curl@7.88.1-10?distro=bookworm").expect("deb");
    assert_eq!(deb.release.as_deref(), Some("12"));
    assert_eq!(
        ecosystem("Debian:12").and_then(|e| e.release).as_deref(),
        Some("12")
    );
    assert_eq!(
        ecosystem("Ubuntu:Pro:18.04:LTS")
            .and_then(|e| e.release)
            .as_deref(),
        Some("18.04")
    );
    assert!(ecosystem("Nonesuch").is_none());
    let err = purl::parse("npm/left-pad").expect_err("no scheme");
    assert!(err.to_string().contains("is not a package URL"), "{err}");
    assert_eq!(
        p_key("pkg:npm/%40angular/core").purl(),
        "pkg:npm/%40angular/core"
    );
}

fn p_key(text: &str) -> andon_vuln::PackageKey {
    purl::parse(text).expect(text).key
}
