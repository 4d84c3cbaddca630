//! The hardening control reads the gate input's `hardening` section (the newest scan of the
//! environment per format, and its difference from the previous one, as Andon gathers them):
//! a production release fails when the environment gained exposure, and names it.

use andon_policy::{Bundle, ControlResult, Policy, Verdict};
use serde_json::{Value, json};

fn scan(format: &str, id: &str, open: u64, failing: u64) -> Value {
    json!({"id": id, "accepted_at": "2026-12-05T10:00:00Z", "tool": format, "targets": 1,
           "open_ports": open, "rules_fail": failing})
}

/// Nmap 7.93's two scans of the fixtures: port 18025 newly open.
fn nmap_pair() -> Value {
    json!({"format": "nmap", "current": scan("nmap", "scan2", 3, 0),
           "previous": scan("nmap", "scan1", 2, 0), "exposure_gained": true,
           "diff": {"new_open_ports": ["127.0.0.1 tcp/18025 smtp-proxy"], "closed_ports": [],
                    "newly_failing": [], "newly_passing": []}})
}

fn xccdf_unchanged() -> Value {
    json!({"format": "xccdf", "current": scan("openscap", "res2", 0, 1),
           "previous": scan("openscap", "res1", 0, 1), "exposure_gained": false,
           "diff": {"new_open_ports": [], "closed_ports": [], "newly_failing": [], "newly_passing": []}})
}

fn control(env: &str, production: bool, scans: Vec<Value>, params: Option<Value>) -> ControlResult {
    let mut bundle = Bundle::builtin_default();
    if let Some(p) = params {
        bundle.params.insert("hardening".into(), p);
    }
    let p = Policy::compile(bundle).expect("compiles");
    let input = json!({"version": andon_policy::INPUT_VERSION, "evidence": [], "commits": [],
        "deployments": [], "waivers": [],
        "artifact": {"digest": "sha256:13d22ec63300e16014d4a42aed735207a8b33c223cff19627dd3042e5a10a3a0"},
        "environment": {"name": env, "production": production},
        "hardening": {"environment": env, "scans": scans}});
    p.evaluate(&input)
        .controls
        .into_iter()
        .find(|c| c.id == "hardening")
        .expect("the control")
}

#[test]
fn a_newly_opened_port_fails_a_production_release_naming_it() {
    let c = control(
        "production",
        true,
        vec![xccdf_unchanged(), nmap_pair()],
        None,
    );
    assert_eq!(c.verdict, Verdict::Fail, "{}", c.reason);
    assert_eq!(
        c.reason,
        "production gained exposure since its previous scan: nmap: new open port 127.0.0.1 tcp/18025 smtp-proxy"
    );
}

#[test]
fn no_exposure_gained_passes_with_the_counts() {
    let c = control("production", true, vec![xccdf_unchanged()], None);
    assert_eq!(c.verdict, Verdict::Pass, "{}", c.reason);
    assert_eq!(
        c.reason,
        "no exposure gained since the previous scan (xccdf: 0 open ports, 1 failing rules)"
    );
}

#[test]
fn outside_production_or_without_a_scan_it_does_not_apply_unless_required() {
    let c = control("staging", false, vec![nmap_pair()], None);
    assert_eq!(c.verdict, Verdict::NotApplicable, "{}", c.reason);
    let c = control("production", true, vec![], None);
    assert_eq!(c.verdict, Verdict::NotApplicable, "{}", c.reason);
    let c = control(
        "production",
        true,
        vec![],
        Some(json!({"require_scan": true})),
    );
    assert_eq!(c.verdict, Verdict::Missing, "{}", c.reason);
}

#[test]
fn an_input_from_before_hardening_scans_reads_as_no_scan() {
    let p = Policy::compile(Bundle::builtin_default()).expect("compiles");
    let input = json!({"version": andon_policy::INPUT_VERSION, "evidence": [], "commits": [],
        "deployments": [], "waivers": [], "artifact": {"digest": "sha256:00"},
        "environment": {"name": "production", "production": true}});
    let c = p
        .evaluate(&input)
        .controls
        .into_iter()
        .find(|c| c.id == "hardening")
        .expect("the control");
    assert_eq!(c.verdict, Verdict::NotApplicable, "{}", c.reason);
}
