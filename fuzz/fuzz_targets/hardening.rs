//! Fuzz the hardening-scan reader and the difference between two scans. The bytes are one
//! scan, or two split at the first NUL byte; when both parse, the difference must agree with
//! itself both ways, and a scan compared with itself gains no exposure.
#![no_main]
use std::collections::BTreeSet;

use andon_evidence::hardening::{HardeningDiff, HardeningSummary, diff, parse};

/// `"<host> <protocol>/<port>"` of an open-port entry: up to its second space, the service
/// name left out (as the reader keys ports).
fn port_key(entry: &str) -> &str {
    match entry.match_indices(' ').nth(1) {
        Some((end, _)) => &entry[..end],
        None => entry,
    }
}

/// A scan compared with itself: nothing opened, closed, newly failing or newly passing.
fn check_same(a: &HardeningSummary) {
    let d = diff(a, a);
    assert_eq!(d, HardeningDiff::default(), "a scan differs from itself");
    assert!(!d.exposure_gained());
}

/// Two scans compared both ways.
fn check_pair(a: &HardeningSummary, b: &HardeningSummary) {
    let (ab, ba) = (diff(a, b), diff(b, a));
    // What opened one way closed the other way, as the same scan lists it.
    assert_eq!(ab.new_open_ports, ba.closed_ports);
    assert_eq!(ab.closed_ports, ba.new_open_ports);
    // A rule newly passing going back failed going forward (no rule both passes and fails).
    let failing: BTreeSet<&String> = ab.newly_failing.iter().collect();
    assert!(ba.newly_passing.iter().all(|r| failing.contains(r)));
    // No exposure gained either way: the same open ports and the same failing rules.
    if !ab.exposure_gained() && !ba.exposure_gained() {
        let ports = |s: &HardeningSummary| -> BTreeSet<String> {
            s.open_ports
                .iter()
                .map(|p| port_key(p).to_owned())
                .collect()
        };
        assert_eq!(ports(a), ports(b));
        let fails =
            |s: &HardeningSummary| -> BTreeSet<String> { s.failing.iter().cloned().collect() };
        assert_eq!(fails(a), fails(b));
    }
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some(split) = data.iter().position(|&b| b == 0) else {
        if let Ok(a) = parse(data) {
            check_same(&a);
        }
        return;
    };
    let (a, b) = (parse(&data[..split]), parse(&data[split + 1..]));
    for scan in [&a, &b].into_iter().flatten() {
        check_same(scan);
    }
    if let (Ok(a), Ok(b)) = (&a, &b) {
        check_pair(a, b);
    }
});
