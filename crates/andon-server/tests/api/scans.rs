//! Environment hardening scans, secrets scans and dynamic scans through the real HTTP path,
//! on both backends: a production release is denied once its environment gained an open port
//! since the previous scan (Nmap 7.93's own pair of scans), then allowed under an approved
//! waiver; a scan of another environment does not count; a committed secret found by
//! gitleaks 8.16.0 denies its release; a report that does not parse writes nothing.

use crate::common::code;
use crate::common::release::{Twist, fixture, report, verdict, world};
use andon_client::Client;
use andon_domain::api::WaiverRequest;
use andon_domain::gate::Verdict;
use andon_domain::{HARDENING_PREDICATE_V1, SECRETS_PREDICATE_V1, Sha256Digest, Statement};
use andon_testkit::{Backend, both_backends};

fn scan_of(environment: &str, doc: &[u8]) -> Statement {
    let mut st = report(Sha256Digest::of(doc), HARDENING_PREDICATE_V1, doc);
    st.subject[0].name = format!("environment:{environment}");
    st
}

fn a_production_release_is_denied_once_its_environment_gained_a_port(b: Backend) {
    let w = world(b);
    let (ops, ops_key) = w.h.pipeline("platform");
    let attest = |env: &str, file: &str| {
        ops.submit_evidence(
            "platform",
            None,
            Some("hardening"),
            &scan_of(env, &fixture(file)).sign(&ops_key),
        )
        .expect("scan accepted")
    };
    let release = w.release("pay-2.0.0", Twist::None);
    let d = w.gate(&release, "production");
    assert_eq!(verdict(&d, "hardening").0, Verdict::NotApplicable);

    // The first scan is the baseline.
    attest("production", "hardening/nmap-7.93-scan1.xml");
    let d = w.gate(&release, "production");
    assert_eq!(
        verdict(&d, "hardening"),
        (
            Verdict::Pass,
            "no exposure gained since the previous scan (nmap: 2 open ports, 0 failing rules)"
                .into()
        )
    );
    assert!(d.decision.allow);

    // A scan of staging with a new port says nothing about production.
    attest("staging", "hardening/nmap-7.93-scan1.xml");
    attest("staging", "hardening/nmap-7.93-scan2.xml");
    assert!(w.gate(&release, "production").decision.allow);
    let d = w.gate(&release, "staging");
    assert_eq!(verdict(&d, "hardening").0, Verdict::NotApplicable);

    // Production gains port 18025: denied, naming it, and the input carries the difference.
    attest("production", "hardening/nmap-7.93-scan2.xml");
    let d = w.gate(&release, "production");
    assert!(!d.decision.allow);
    assert_eq!(
        verdict(&d, "hardening"),
        (
            Verdict::Fail,
            "production gained exposure since its previous scan: nmap: new open port 127.0.0.1 tcp/18025 smtp-proxy"
                .into()
        )
    );
    let decided = w.ci.decision(&d.id).expect("decision");
    let scans = &decided.decision.input["hardening"]["scans"];
    assert_eq!(
        scans[0]["diff"]["new_open_ports"][0],
        "127.0.0.1 tcp/18025 smtp-proxy"
    );
    assert_eq!(scans[0]["previous"]["open_ports"], 2);

    // An approved waiver for the control lets the release through.
    let asked =
        w.ci.request_waiver(&WaiverRequest {
            application: "pay".into(),
            control: "hardening".into(),
            vulnerability: None,
            reason: "the mail relay's migration, closed by OPS-77".into(),
            ticket: "OPS-77".into(),
            hours: 24,
        })
        .expect("requested");
    let approver =
        w.h.admin
            .create_identity("carol", "approver", &[])
            .expect("approver");
    Client::new(&w.h.url, Some(approver.token))
        .approve_waiver(asked["id"].as_str().expect("id"))
        .expect("approved");
    let d = w.gate(&release, "production");
    assert!(d.decision.allow);
    assert_eq!(verdict(&d, "hardening").0, Verdict::Waived);

    // A scan that does not parse is refused and writes nothing.
    let before = w.h.counts();
    assert_eq!(
        code(ops.submit_evidence(
            "platform",
            None,
            Some("hardening"),
            &scan_of("production", b"<testsuite name='x'/>").sign(&ops_key),
        )),
        (422, "unparseable_report".into())
    );
    assert_eq!(w.h.counts(), before);
}

fn a_committed_secret_denies_its_release_and_a_clean_scan_passes(b: Backend) {
    let w = world(b);
    let leaky = w.release("pay-3.0.0", Twist::None);
    let clean = w.release("pay-3.0.1", Twist::None);
    for (artifact, file) in [
        (&leaky, "secrets/gitleaks-8.16.0-leaks.json"),
        (&clean, "secrets/gitleaks-8.16.0-clean.json"),
    ] {
        let digest: Sha256Digest = artifact
            .rsplit_once('@')
            .expect("image@digest")
            .1
            .parse()
            .expect("digest");
        w.ci.submit_evidence(
            "pay",
            None,
            Some("secrets"),
            &report(digest, SECRETS_PREDICATE_V1, &fixture(file)).sign(&w.key),
        )
        .expect("accepted");
    }
    let d = w.gate(&leaky, "production");
    assert!(!d.decision.allow);
    let (v, reason) = verdict(&d, "no-secrets");
    assert_eq!(v, Verdict::Fail, "{reason}");
    assert!(
        reason.starts_with("4 secrets found (aws-access-token 1, generic-api-key 1, github-pat 2)"),
        "{reason}"
    );
    // The summary keeps no secret: the stored record names rules and files only.
    let page = w.h.admin_get("/v1/evidence?app=pay&limit=50").1;
    assert!(
        !page.contains("AKIA"),
        "a secret reached the stored summary"
    );
    let d = w.gate(&clean, "production");
    assert_eq!(
        verdict(&d, "no-secrets"),
        (Verdict::Pass, "no secret found by 1 scan".into())
    );
    assert!(d.decision.allow);
}

both_backends!(
    a_production_release_is_denied_once_its_environment_gained_a_port,
    a_committed_secret_denies_its_release_and_a_clean_scan_passes,
);
