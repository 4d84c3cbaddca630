//! Debian version ordering: univers's Debian vectors, and a property against
//! `dpkg --compare-versions` on this machine.

use std::cmp::Ordering;
use std::process::Command;

use andon_vuln::Scheme;
use proptest::prelude::*;

fn cmp(a: &str, b: &str) -> Ordering {
    Scheme::Debian.compare(a, b).expect("readable")
}

#[test]
fn univers_vectors_sort() {
    let cases: serde_json::Value =
        serde_json::from_str(include_str!("vectors/deb_version_cmp.json")).expect("json");
    let cases = cases.as_array().expect("list");
    assert_eq!(cases.len(), 16);
    for case in cases {
        if case["test_type"] == "equality" {
            let v = &case["input"]["versions"];
            let (a, b) = (v[0].as_str().expect("a"), v[1].as_str().expect("b"));
            let equal = case["expected_output"].as_bool().expect("bool");
            assert_eq!(cmp(a, b) == Ordering::Equal, equal, "{case}");
            continue;
        }
        let mut got: Vec<&str> = case["input"]["versions"]
            .as_array()
            .expect("versions")
            .iter()
            .map(|v| v.as_str().expect("text"))
            .collect();
        got.sort_by(|a, b| cmp(a, b));
        let want: Vec<&str> = case["expected_output"]
            .as_array()
            .expect("output")
            .iter()
            .map(|v| v.as_str().expect("text"))
            .collect();
        assert_eq!(got, want, "{case}");
    }
}

#[test]
fn tilde_epoch_and_revision() {
    assert_eq!(cmp("1:2.0~rc1-1", "2.0-1"), Ordering::Greater);
    assert_eq!(cmp("2.0~rc1-1", "2.0-1"), Ordering::Less);
    assert_eq!(cmp("2.0-1", "2.0-1+deb12u1"), Ordering::Less);
    assert_eq!(cmp("1.0", "1.0-0"), Ordering::Equal);
    assert_eq!(cmp("1.00", "1.0"), Ordering::Equal);
    assert_eq!(cmp("1.0a", "1.0+"), Ordering::Less);
    let bad = Scheme::Debian
        .compare("x:1.0", "1.0")
        .expect_err("bad epoch");
    assert!(bad.to_string().contains("epoch"), "{bad}");
    assert!(Scheme::Debian.compare("", "1.0").is_err());
}

/// Two versions that share a prefix, so the comparison reaches the interesting characters
/// (`~` against the end, letters against `+`, leading zeros) instead of stopping at the first.
fn pair() -> impl Strategy<Value = (String, String)> {
    let tail = "[0-9a-z.+~]{0,3}";
    (
        prop::option::of(0u8..2),
        prop::option::of(0u8..2),
        "[0-9]{1,2}([.+~][0-9a-z]{1,2}){0,2}",
        tail,
        tail,
        prop::option::of("[0-9a-z]{1,2}([.+~][0-9a-z]{1,2}){0,1}"),
        prop::option::of("[0-9a-z]{1,2}([.+~][0-9a-z]{1,2}){0,1}"),
    )
        .prop_map(|(e1, e2, base, t1, t2, r1, r2)| {
            let make = |e: Option<u8>, t: &str, r: Option<String>| {
                let mut v = e.map(|e| format!("{e}:")).unwrap_or_default();
                v.push_str(&base);
                v.push_str(t);
                if let Some(r) = r {
                    v.push('-');
                    v.push_str(&r);
                }
                v
            };
            (make(e1, &t1, r1), make(e2, &t2, r2))
        })
}

fn dpkg_says(a: &str, op: &str, b: &str) -> bool {
    let s = Command::new("dpkg")
        .args(["--compare-versions", a, op, b])
        .status()
        .expect("dpkg on this machine");
    s.success()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    #[test]
    fn the_order_agrees_with_dpkg((a, b) in pair()) {
        let want = if dpkg_says(&a, "lt", &b) {
            Ordering::Less
        } else if dpkg_says(&a, "eq", &b) {
            Ordering::Equal
        } else {
            Ordering::Greater
        };
        prop_assert_eq!(cmp(&a, &b), want, "{} vs {}", a, b);
    }
}
