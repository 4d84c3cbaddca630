//! SemVer precedence and OSV's coercion, against the vectors of OSV's own index
//! (vectors/README.md).

use std::cmp::Ordering;

use andon_vuln::Scheme;
use andon_vuln::versions::coerce;

fn lines(text: &str) -> Vec<&str> {
    text.lines().filter(|l| !l.is_empty()).collect()
}

#[test]
fn coercion_matches_osvs_index() {
    let cases = include_str!("vectors/semver_coerce.txt");
    let mut n = 0;
    for line in cases.lines() {
        let (input, want) = line.split_once('\t').expect("tab");
        assert_eq!(coerce(input), want, "coerce({input:?})");
        n += 1;
    }
    assert_eq!(n, 14);
}

#[test]
fn precedence_sorts_as_osvs_index() {
    let want = lines(include_str!("vectors/semver_order.txt"));
    assert_eq!(want.len(), 17);
    let mut shuffled = want.clone();
    shuffled.reverse();
    shuffled.rotate_left(5);
    shuffled.sort_by(|a, b| Scheme::SemVer.compare(a, b).expect("readable"));
    assert_eq!(shuffled, want);
    for pair in want.windows(2) {
        assert_eq!(
            Scheme::SemVer.compare(pair[0], pair[1]),
            Ok(Ordering::Less),
            "{pair:?}"
        );
    }
}

#[test]
fn build_metadata_and_coercion_do_not_change_precedence() {
    let eq = |a, b| Scheme::SemVer.compare(a, b);
    assert_eq!(eq("1.0.0+build.1", "1.0.0+build.2"), Ok(Ordering::Equal));
    assert_eq!(eq("v1.5", "1.5.0"), Ok(Ordering::Equal));
    assert_eq!(eq("1.05.0", "1.5.0"), Ok(Ordering::Equal));
    assert_eq!(eq("1.0.0-rc.01", "1.0.0-rc.1"), Ok(Ordering::Equal));
    assert_eq!(eq("2.0.0-rc.1", "2.0.0"), Ok(Ordering::Less));
    let bad = Scheme::SemVer
        .compare("rubbish", "1.0.0")
        .expect_err("not SemVer");
    assert_eq!(bad.version, "rubbish");
    assert!(
        bad.to_string().contains("SemVer version \"rubbish\""),
        "{bad}"
    );
}
