//! PEP 440 ordering: the sorted list of PyPA's `packaging` test suite, and a property
//! against `packaging.version` itself, run from the virtual environment `.ci/python.sh`
//! makes (the test fails, never skips, without it).

use std::cmp::Ordering;
use std::io::Write;
use std::process::{Command, Stdio};

use andon_vuln::Scheme;
use proptest::prelude::*;
use proptest::strategy::ValueTree;

fn cmp(a: &str, b: &str) -> Ordering {
    Scheme::Pep440.compare(a, b).expect("readable")
}

#[test]
fn packagings_sorted_versions_stay_sorted() {
    let want: Vec<&str> = include_str!("vectors/pep440_versions.txt")
        .lines()
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(want.len(), 92);
    for pair in want.windows(2) {
        assert_eq!(cmp(pair[0], pair[1]), Ordering::Less, "{pair:?}");
    }
    let mut shuffled = want.clone();
    shuffled.reverse();
    shuffled.sort_by(|a, b| cmp(a, b));
    assert_eq!(shuffled, want);
}

#[test]
fn normalized_spellings_are_equal() {
    for (a, b) in [
        ("1.0", "1.0.0"),
        ("1.0.post1", "1.0-1"),
        ("1.0.post1", "1.0.POST1"),
        ("2.0rc1", "2.0-rc.1"),
        ("2.0rc1", "2.0c1"),
        ("0!1.0", "1.0"),
        ("v1.0", "1.0"),
    ] {
        assert_eq!(cmp(a, b), Ordering::Equal, "{a} = {b}");
    }
    assert_eq!(cmp("1!0.1", "2.0"), Ordering::Greater);
    assert_eq!(cmp("2.0rc1", "2.0"), Ordering::Less);
    assert!(Scheme::Pep440.compare("not a version", "1.0").is_err());
}

fn version() -> impl Strategy<Value = String> {
    (
        prop::option::of(0u8..3),
        prop::collection::vec(0u16..12, 1..4),
        prop::option::of((prop::sample::select(vec!["a", "b", "rc"]), 0u8..3)),
        prop::option::of(0u8..3),
        prop::option::of(0u8..3),
        prop::option::of("[a-z0-9]{1,3}"),
    )
        .prop_map(|(epoch, release, pre, post, dev, local)| {
            let mut v = String::new();
            if let Some(e) = epoch {
                v.push_str(&format!("{e}!"));
            }
            let release: Vec<String> = release.iter().map(u16::to_string).collect();
            v.push_str(&release.join("."));
            if let Some((kind, n)) = pre {
                v.push_str(&format!("{kind}{n}"));
            }
            if let Some(n) = post {
                v.push_str(&format!(".post{n}"));
            }
            if let Some(n) = dev {
                v.push_str(&format!(".dev{n}"));
            }
            if let Some(l) = local {
                v.push_str(&format!("+{l}"));
            }
            v
        })
}

/// Sorts the versions with `packaging.version.Version` and answers each neighbour's order.
fn packaging_order(versions: &[String]) -> Vec<String> {
    let venv = std::env::var("ANDON_PY_VENV").unwrap_or_else(|_| "/var/tmp/andon-py".into());
    let python = format!("{venv}/bin/python");
    let script = "import sys\nfrom packaging.version import Version\n\
                  vs = sys.stdin.read().split()\n\
                  print('\\n'.join(sorted(vs, key=Version)))\n";
    let mut child = Command::new(&python)
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{python} (run .ci/python.sh): {e}"));
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(versions.join("\n").as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_order_agrees_with_packaging() {
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(1));
    let list = prop::collection::vec(version(), 400);
    let versions = list.new_tree(&mut runner).expect("generated").current();
    let theirs = packaging_order(&versions);
    assert_eq!(theirs.len(), versions.len());
    // Equal versions may come in either order: compare the sequence's ranks, not strings.
    for pair in theirs.windows(2) {
        assert_ne!(
            cmp(&pair[0], &pair[1]),
            Ordering::Greater,
            "packaging puts {} before {}",
            pair[0],
            pair[1]
        );
    }
}
