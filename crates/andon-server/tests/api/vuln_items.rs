//! Vulnerability items through the real HTTP path, on both backends and on the server's
//! manual clock: OSV advisories imported against SBOMs written by real tools (npm,
//! cyclonedx-py) and what a snapshot says runs in production; each item's priority and
//! deadline; the overdue alert raised once; the fix built, deployed and the item closed at
//! exact times; closing by an approved waiver and by a VEX statement lib4vex wrote; every
//! step a ledger entry the verification re-derives.

use andon_domain::api::WaiverRequest;
use andon_domain::vuln_items::VulnItem;
use andon_domain::{ReportPredicate, Sha256Digest, Statement, VULNERABILITIES_PREDICATE_V1};
use andon_server::Clock;
use andon_testkit::{Backend, both_backends};
use serde_json::json;

use crate::common::{self, Harness, at_ms};
use crate::vulnerabilities::{
    CHECKOUT_10, CHECKOUT_11, CYCLONEDX_PY, REQUESTS_230, pipeline, running, sbom, vector,
};

/// lib4vex 0.2.3's OpenVEX for the cyclonedx-py SBOM: CVE-2022-40897 (setuptools 65.5.0)
/// `not_affected`, `vulnerable_code_not_in_execute_path`.
const STOREFRONT_VEX: &[u8] = include_bytes!(
    "../../../andon-evidence/tests/fixtures/vex/lib4vex-0.2.3/storefront.openvex.json"
);
/// CVE-2022-40897's record as the demo imports it.
const SETUPTOOLS: &[u8] =
    include_bytes!("../../../andon/src/demo/advisories/PYSEC-2022-43012.json");

/// A record with its severity set as GitHub's database words it.
fn with_severity(path: &str, severity: &str) -> serde_json::Value {
    let mut v = vector(path);
    v["database_specific"] = json!({ "severity": severity });
    v
}

fn items(h: &Harness, query: &[(&str, &str)]) -> Vec<VulnItem> {
    let q: Vec<(&str, String)> = query.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
    h.admin.vuln_items(&q).expect("items")
}

fn item_of(h: &Harness, application: &str, vulnerability: &str) -> VulnItem {
    let list = items(h, &[("application", application)]);
    let found = list
        .iter()
        .find(|i| i.vulnerability == vulnerability)
        .unwrap_or_else(|| panic!("no item for {vulnerability} in {list:?}"));
    h.admin.vuln_item(&found.id).expect("item")
}

/// (state, at) of each transition.
fn steps(i: &VulnItem) -> Vec<(String, i64)> {
    i.events.iter().map(|e| (e.state.clone(), e.at)).collect()
}

fn step(state: &str, at: &str) -> (String, i64) {
    (state.to_owned(), at_ms(at))
}

fn items_follow_a_vulnerability_from_detection_to_the_fix_in_production(b: Backend) {
    let clock = Clock::manual(at_ms("2026-12-07T10:00:00Z"));
    let h = Harness::start_configured(b, |c| {
        c.clock = clock.clone();
        // The test moves items itself; the server's own sweep stays out of the way.
        c.review_check_interval = std::time::Duration::from_secs(3600);
    });
    let (checkout, ck) = pipeline(&h, "checkout", "team-checkout");
    let (ledger, lk) = pipeline(&h, "ledger", "team-finance");
    let (store, sk) = pipeline(&h, "store", "storefront");
    let c10 = sbom(
        &checkout,
        &ck,
        "checkout",
        "checkout:1.0",
        CHECKOUT_10,
        false,
    );
    let l1 = sbom(&ledger, &lk, "ledger", "ledger:1", REQUESTS_230, false);
    let s1 = sbom(&store, &sk, "store", "store:1", CYCLONEDX_PY, false);
    let production = |checkout: &String| {
        running(
            &h,
            "production",
            &[
                ("checkout-1", "checkout", checkout),
                ("ledger-1", "ledger", &l1),
                ("store-1", "store", &s1),
            ],
        )
    };
    production(&c10);
    // Nothing is tracked before an advisory names something.
    assert!(items(&h, &[]).is_empty());

    // Monday 10:00: mixin-deep's advisory (critical here), jquery's (high) and requests'
    // (no severity given) are imported. checkout 1.0 runs both npm packages in production,
    // ledger runs requests 2.30.0.
    let body = json!({ "advisories": [
        with_severity("ghsa/equals_with_patch.osv.json", "CRITICAL"),
        with_severity("ghsa/npm_greater_than.osv.json", "HIGH"),
        vector("osv/PYSEC-2023-74.json"),
    ]});
    h.admin
        .import_advisories(&serde_json::to_vec(&body).expect("json"))
        .expect("imported");
    let mixin = item_of(&h, "checkout", "CVE-2019-10746");
    let jquery = item_of(&h, "checkout", "CVE-2016-10707");
    let requests = item_of(&h, "ledger", "CVE-2023-32681");
    let monday = at_ms("2026-12-07T10:00:00Z");
    // Critical: P1, a day. High: P2, the end of the week (Saturday 00:00 UTC). No severity:
    // medium's rule, P3 in 30 days.
    assert_eq!(
        (
            mixin.severity.as_str(),
            mixin.priority.as_str(),
            mixin.detected_at,
            mixin.due_at
        ),
        ("critical", "P1", monday, at_ms("2026-12-08T10:00:00Z"))
    );
    assert_eq!(
        (
            jquery.severity.as_str(),
            jquery.priority.as_str(),
            jquery.due_at
        ),
        ("high", "P2", at_ms("2026-12-12T00:00:00Z"))
    );
    assert_eq!(
        (
            requests.severity.as_str(),
            requests.priority.as_str(),
            requests.due_at
        ),
        ("unknown", "P3", at_ms("2027-01-06T10:00:00Z"))
    );
    assert_eq!(mixin.aliases, ["GHSA-fhjf-83wg-r2j9"]);
    assert_eq!(mixin.artifacts, std::slice::from_ref(&c10));
    assert_eq!(mixin.team, "team-checkout");
    assert_eq!(requests.aliases, ["GHSA-j8r2-6x86-q33q", "PYSEC-2023-74"]);
    assert_eq!(requests.advisories, ["PYSEC-2023-74"]);
    assert_eq!(steps(&mixin), [step("detected", "2026-12-07T10:00:00Z")]);
    assert!(!mixin.overdue);
    // store 1 carries setuptools 65.5.0, which nothing imported names yet.
    assert_eq!(items(&h, &[]).len(), 3);
    // Found by any of its names.
    let by_alias = items(&h, &[("vulnerability", "pysec-2023-74")]);
    assert_eq!(by_alias.len(), 1);
    assert_eq!(by_alias[0].id, requests.id);

    // Tuesday 11:00: the P1 is an hour late. One alert, and only one however often it is
    // checked; the P2 and P3 are not due.
    clock.set_ms(at_ms("2026-12-08T11:00:00Z"));
    let before = h.counts();
    let (status, _) = common::err(checkout.check_vulnerabilities());
    assert_eq!(status, 403);
    assert_eq!(h.counts(), before, "a refused check wrote something");
    let checked = h.admin.check_vulnerabilities().expect("check");
    assert_eq!(checked.overdue_alerts, 1);
    assert!(checked.transitions.is_empty(), "{checked:?}");
    assert_eq!(
        h.admin
            .check_vulnerabilities()
            .expect("again")
            .overdue_alerts,
        0
    );
    assert_eq!(h.admin.check_alerts().expect("alerts check"), 0);
    let overdue: Vec<_> = h
        .admin
        .alerts()
        .expect("alerts")
        .into_iter()
        .filter(|a| a.kind == "vulnerability_sla_overdue")
        .collect();
    assert_eq!(overdue.len(), 1);
    assert_eq!(overdue[0].subject, format!("vuln-item:{}", mixin.id));
    assert_eq!(overdue[0].severity, "high");
    assert!(
        overdue[0].message.contains(
            "CVE-2019-10746 (P1 critical) in checkout (team team-checkout) was due 2026-12-08T10:00:00Z and is detected (1 h late)"
        ),
        "{}",
        overdue[0].message
    );
    let listed = items(&h, &[("application", "checkout"), ("state", "open")]);
    let late: Vec<bool> = listed.iter().map(|i| i.overdue).collect();
    assert_eq!(late.iter().filter(|o| **o).count(), 1, "{listed:?}");

    // Tuesday 12:00: checkout 1.1 is built with mixin-deep 1.3.2 and jquery 3: both fixes
    // are built, from its SBOM's recording.
    clock.set_ms(at_ms("2026-12-08T12:00:00Z"));
    let c11 = sbom(
        &checkout,
        &ck,
        "checkout",
        "checkout:1.1",
        CHECKOUT_11,
        true,
    );
    let mixin = item_of(&h, "checkout", "CVE-2019-10746");
    assert_eq!(mixin.state, "fix_built");
    assert_eq!(mixin.fix_artifact.as_deref(), Some(c11.as_str()));
    assert_eq!(mixin.fix_built_at, Some(at_ms("2026-12-08T12:00:00Z")));
    assert_eq!(item_of(&h, "checkout", "CVE-2016-10707").state, "fix_built");

    // Tuesday 14:00: production runs checkout 1.1 alone. The fix is deployed and no
    // affected artifact runs: both items close, fixed.
    clock.set_ms(at_ms("2026-12-08T14:00:00Z"));
    production(&c11);
    for vulnerability in ["CVE-2019-10746", "CVE-2016-10707"] {
        let i = item_of(&h, "checkout", vulnerability);
        assert_eq!(
            steps(&i),
            [
                step("detected", "2026-12-07T10:00:00Z"),
                step("fix_built", "2026-12-08T12:00:00Z"),
                step("fix_deployed", "2026-12-08T14:00:00Z"),
                step("closed", "2026-12-08T14:00:00Z"),
            ],
            "{vulnerability}"
        );
        assert_eq!(i.close_reason.as_deref(), Some("fixed"));
        assert_eq!(i.fix_deployed_at, Some(at_ms("2026-12-08T14:00:00Z")));
        assert!(!i.overdue, "a closed item is never overdue");
    }

    // Tuesday 15:00: ledger's owners accept requests 2.30.0 for 30 days; once the waiver
    // is approved the item closes, naming it.
    clock.set_ms(at_ms("2026-12-08T15:00:00Z"));
    let waiver = ledger
        .request_waiver(&WaiverRequest {
            application: "ledger".into(),
            control: "vulnerabilities".into(),
            vulnerability: Some("CVE-2023-32681".into()),
            reason: "the proxy never forwards Proxy-Authorization".into(),
            ticket: "SEC-41".into(),
            hours: 720,
        })
        .expect("waiver requested");
    assert_eq!(item_of(&h, "ledger", "CVE-2023-32681").state, "detected");
    h.admin
        .approve_waiver(waiver["id"].as_str().expect("id"))
        .expect("approved");
    let requests = item_of(&h, "ledger", "CVE-2023-32681");
    assert_eq!(requests.close_reason.as_deref(), Some("waived"));
    assert_eq!(requests.closed_at, Some(at_ms("2026-12-08T15:00:00Z")));
    let detail = requests.close_detail.clone().unwrap_or_default();
    assert!(
        detail.contains("(SEC-41), approved by admin")
            && detail.contains("the proxy never forwards Proxy-Authorization"),
        "{detail}"
    );

    // Saturday 09:00: setuptools' advisory arrives (high here) and affects store 1 in
    // production. Detected on a Saturday, it is due at the end of the next week.
    clock.set_ms(at_ms("2026-12-12T09:00:00Z"));
    let mut setuptools: serde_json::Value = serde_json::from_slice(SETUPTOOLS).expect("json");
    setuptools["database_specific"]["severity"] = "HIGH".into();
    h.admin
        .import_advisories(&serde_json::to_vec(&setuptools).expect("json"))
        .expect("imported");
    let st = item_of(&h, "store", "CVE-2022-40897");
    assert_eq!(
        (st.priority.as_str(), st.due_at),
        ("P2", at_ms("2026-12-19T00:00:00Z"))
    );
    // ledger's virtual environment has setuptools too: its waiver of another CVE does not
    // cover this one. The items closed earlier stay closed.
    let open: Vec<(String, String)> = items(&h, &[("state", "open")])
        .into_iter()
        .map(|i| (i.application, i.vulnerability))
        .collect();
    assert_eq!(
        open,
        [
            ("store".to_owned(), "CVE-2022-40897".to_owned()),
            ("ledger".to_owned(), "CVE-2022-40897".to_owned()),
        ]
    );

    // Saturday 10:00: store's PSIRT attests lib4vex's VEX for store 1: not affected, the
    // vulnerable code is not in the execute path. The item closes with that reason.
    clock.set_ms(at_ms("2026-12-12T10:00:00Z"));
    let vex = Statement::new(
        vec![("store:1".into(), Sha256Digest::of(b"store:1"))],
        VULNERABILITIES_PREDICATE_V1.into(),
        serde_json::to_value(ReportPredicate::new(
            "application/json",
            None,
            STOREFRONT_VEX,
        ))
        .expect("predicate"),
    );
    store
        .submit_evidence("store", None, Some("vulnerabilities"), &vex.sign(&sk))
        .expect("vex recorded");
    let st = item_of(&h, "store", "CVE-2022-40897");
    assert_eq!(st.close_reason.as_deref(), Some("vex_not_affected"));
    assert_eq!(st.closed_at, Some(at_ms("2026-12-12T10:00:00Z")));
    let detail = st.close_detail.clone().unwrap_or_default();
    assert!(
        detail.contains(&format!(
            "by Storefront PSIRT for {s1}: not_affected (vulnerable_code_not_in_execute_path)"
        )),
        "{detail}"
    );
    // The VEX speaks for store 1 only: ledger's item stays open.
    let open = items(&h, &[("state", "open")]);
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].application, "ledger");

    // Nothing more to do: a sweep records nothing, and bad questions are refused.
    assert!(
        h.admin
            .check_vulnerabilities()
            .expect("check")
            .transitions
            .is_empty()
    );
    let (status, code, message) = common::refusal(h.admin.vuln_items(&[("state", "done".into())]));
    assert_eq!((status, code.as_str()), (400, "invalid_state"), "{message}");
    let (status, _) = common::err(h.admin.vuln_item("V-0000000000000000"));
    assert_eq!(status, 404);

    // Security lead time: checkout's two fixes reached production 28 h after detection,
    // 26 h to build and 2 h to ship; the P1 missed its day, the P2 made its week. ledger's
    // waiver is not a fix, and its setuptools item is open, due next Saturday.
    let m = h
        .admin
        .metrics(&[("application", "checkout".into())])
        .expect("metrics");
    let total = &m["security"]["total"];
    assert_eq!(total["fixed"], 2, "{m:#}");
    assert_eq!(total["within_deadline"], 1, "{m:#}");
    assert_eq!(total["lead_time_median_hours"], 28.0, "{m:#}");
    assert_eq!(total["lead_time_p90_hours"], 28.0, "{m:#}");
    assert_eq!(total["detect_to_built_median_hours"], 26.0, "{m:#}");
    assert_eq!(total["built_to_deployed_median_hours"], 2.0, "{m:#}");
    assert_eq!(m["security"]["open"], 0, "{m:#}");
    let week = m["security"]["periods"]
        .as_array()
        .expect("periods")
        .iter()
        .find(|p| p["start"] == "2026-12-07")
        .expect("the week of 7 December");
    assert_eq!(week["fixed"], 2, "{m:#}");
    let m = h
        .admin
        .metrics(&[("application", "ledger".into())])
        .expect("metrics");
    assert_eq!(m["security"]["total"]["fixed"], 0, "{m:#}");
    assert_eq!(
        (
            &m["security"]["open"],
            &m["security"]["overdue"],
            &m["security"]["open_by_priority"]["P2"],
            &m["security"]["open_by_age"]["under_1_day"]
        ),
        (&json!(1), &json!(0), &json!(1), &json!(1)),
        "{m:#}"
    );

    // The pages: the items, open first, with the overdue one marked; the blast radius
    // asked on the page; one item with every step and its ledger entry.
    let token = h.admin.token().expect("token").to_owned();
    let signed = crate::web::sign_in(&h.url, &token, "/ui/");
    let cookie = signed.cookie.split(';').next().expect("pair").to_owned();
    let page = |path: &str| {
        let a = crate::web::get(&format!("{}{path}", h.url), &cookie);
        assert_eq!(a.status, 200, "{path}: {}", a.body);
        a.body
    };
    let list = page("/ui/vulnerabilities");
    for id in [&mixin.id, &requests.id, &st.id] {
        assert!(list.contains(id.as_str()), "{id}: {list}");
    }
    assert!(
        list.find("CVE-2022-40897").expect("open") < list.find("CVE-2019-10746").expect("closed"),
        "open items first"
    );
    let asked = page("/ui/vulnerabilities?q=CVE-2022-40897");
    assert!(
        asked.contains("running artifacts contain it") && asked.contains("setuptools 65.5.0"),
        "{asked}"
    );
    let refused = page("/ui/vulnerabilities?q=CVE-1999-0001");
    assert!(
        refused.contains("no imported advisory is or names CVE-1999-0001"),
        "{refused}"
    );
    let charts = page("/ui/metrics?application=checkout");
    assert_eq!(charts.matches("<svg role=\"img\"").count(), 8, "{charts}");
    assert!(charts.contains("Security lead time (detected to fix in production)"));
    let one = page(&format!("/ui/vulnerabilities/{}", mixin.id));
    assert_eq!(one.matches("/ui/ledger?index=").count(), 4, "{one}");
    assert!(one.contains("was built without CVE-2019-10746"), "{one}");

    // Every step is a ledger entry the verification re-derives; a database administrator
    // who turns the waiver into a fix is named.
    let clean = h.admin.verify_ledger().expect("verify");
    assert_eq!(clean["verified"], true, "{clean:#}");
    crate::operator::execute(
        &h,
        &[format!(
            "UPDATE vuln_items SET close_reason = 'fixed' WHERE id = '{}'",
            requests.id
        )],
    );
    let found = h.admin.verify_ledger().expect("verify");
    assert_eq!(found["verified"], false, "{found:#}");
    assert!(found.to_string().contains("table vuln_items"), "{found:#}");
}

/// Trivy 0.x's SARIF of an Alpine 3.10 image: CVE-2019-1549, -1551, -1563 (warning) and
/// CVE-2019-1547 (note), each in libcrypto1.1 and libssl1.1.
const TRIVY: &[u8] =
    include_bytes!("../../../andon-evidence/tests/fixtures/vulnerabilities/trivy-alpine-310.sarif");

/// Attests a vulnerability scan of `image`: its digest as `sha256:<hex>`.
fn scanned(
    ci: &andon_client::Client,
    key: &andon_domain::SigningKey,
    app: &str,
    image: &str,
    report: &[u8],
) -> String {
    let digest = Sha256Digest::of(image.as_bytes());
    let st = Statement::new(
        vec![(image.into(), digest)],
        VULNERABILITIES_PREDICATE_V1.into(),
        serde_json::to_value(ReportPredicate::new("application/sarif+json", None, report))
            .expect("predicate"),
    );
    ci.submit_evidence(app, None, Some("vulnerabilities"), &st.sign(key))
        .expect("scan recorded");
    format!("sha256:{}", digest.hex())
}

fn a_scan_of_what_runs_opens_items_and_a_clean_rescan_closes_them(b: Backend) {
    let clock = Clock::manual(at_ms("2026-12-07T10:00:00Z"));
    let h = Harness::start_configured(b, |c| {
        c.clock = clock.clone();
        c.review_check_interval = std::time::Duration::from_secs(3600);
    });
    let (edge, ek) = pipeline(&h, "edge", "team-edge");
    // No advisory is imported: the scanner's report alone finds what runs.
    let e1 = scanned(&edge, &ek, "edge", "edge:1", TRIVY);
    assert!(
        items(&h, &[]).is_empty(),
        "a scan of nothing running opens nothing"
    );
    running(&h, "production", &[("edge-1", "edge", &e1)]);
    let open = items(&h, &[("application", "edge"), ("state", "open")]);
    let mut ids: Vec<(&str, &str, &str)> = open
        .iter()
        .map(|i| {
            (
                i.vulnerability.as_str(),
                i.severity.as_str(),
                i.priority.as_str(),
            )
        })
        .collect();
    ids.sort();
    assert_eq!(
        ids,
        [
            ("CVE-2019-1547", "low", "P4"),
            ("CVE-2019-1549", "medium", "P3"),
            ("CVE-2019-1551", "medium", "P3"),
            ("CVE-2019-1563", "medium", "P3"),
        ],
        "{open:?}"
    );
    let item = item_of(&h, "edge", "CVE-2019-1549");
    assert_eq!(item.artifacts, std::slice::from_ref(&e1));
    assert!(item.advisories.is_empty());
    // The blast radius of a CVE no advisory was imported for: what the scans of what runs
    // report, in libcrypto1.1 and libssl1.1 of edge 1.
    let impact = h.admin.impact_of("cve-2019-1549", None).expect("impact");
    assert!(impact.advisories.is_empty() && impact.affected.is_empty());
    let rows: Vec<(&str, &str, &str, &str)> = impact
        .reported
        .iter()
        .map(|r| {
            (
                r.environment.as_str(),
                r.application.as_str(),
                r.artifact.as_str(),
                r.severity.as_str(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("production", "edge", e1.as_str(), "medium"),
            ("production", "edge", e1.as_str(), "medium"),
        ],
        "{impact:?}"
    );
    let mut components: Vec<&str> = impact
        .reported
        .iter()
        .filter_map(|r| r.component.as_deref())
        .collect();
    components.sort();
    assert_eq!(components.len(), 2, "{impact:?}");
    assert!(
        components[0].contains("libcrypto") && components[1].contains("libssl"),
        "{components:?}"
    );
    assert_eq!(item.due_at, at_ms("2027-01-06T10:00:00Z"));

    // Tuesday: edge 2 is built with OpenSSL upgraded; its scan no longer reports
    // CVE-2019-1549 (the same report without that rule's results). Its fix is built.
    clock.set_ms(at_ms("2026-12-08T09:00:00Z"));
    let mut rescan: serde_json::Value = serde_json::from_slice(TRIVY).expect("sarif");
    rescan["runs"][0]["results"]
        .as_array_mut()
        .expect("results")
        .retain(|r| r["ruleId"] != "CVE-2019-1549");
    let e2 = scanned(
        &edge,
        &ek,
        "edge",
        "edge:2",
        &serde_json::to_vec(&rescan).expect("json"),
    );
    h.admin.check_vulnerabilities().expect("check");
    let item = item_of(&h, "edge", "CVE-2019-1549");
    assert_eq!(item.state, "fix_built");
    assert_eq!(item.fix_artifact.as_deref(), Some(e2.as_str()));
    assert_eq!(item.fix_built_at, Some(at_ms("2026-12-08T09:00:00Z")));
    assert_eq!(item_of(&h, "edge", "CVE-2019-1551").state, "detected");

    // 11:00: edge 2 replaces edge 1. CVE-2019-1549 is fixed; the rest still run.
    clock.set_ms(at_ms("2026-12-08T11:00:00Z"));
    running(&h, "production", &[("edge-1", "edge", &e2)]);
    let item = item_of(&h, "edge", "CVE-2019-1549");
    assert_eq!(
        steps(&item),
        [
            step("detected", "2026-12-07T10:00:00Z"),
            step("fix_built", "2026-12-08T09:00:00Z"),
            step("fix_deployed", "2026-12-08T11:00:00Z"),
            step("closed", "2026-12-08T11:00:00Z"),
        ]
    );
    assert_eq!(item.close_reason.as_deref(), Some("fixed"));
    let open = items(&h, &[("application", "edge"), ("state", "open")]);
    assert_eq!(open.len(), 3, "{open:?}");
    assert!(open.iter().all(|i| i.artifacts == [e1.clone()]));
    // Nothing running reports CVE-2019-1549 now, and no advisory names it.
    assert_eq!(
        common::err(h.admin.impact_of("CVE-2019-1549", None)),
        (404, "not_found".into())
    );
    let still = h.admin.impact_of("CVE-2019-1551", None).expect("impact");
    assert!(still.reported.iter().all(|r| r.artifact == e2), "{still:?}");
    assert_eq!(still.reported.len(), 2);
    // The replay re-derives every step.
    assert_eq!(h.admin.verify_ledger().expect("verify")["verified"], true);
}

both_backends!(
    items_follow_a_vulnerability_from_detection_to_the_fix_in_production,
    a_scan_of_what_runs_opens_items_and_a_clean_rescan_closes_them,
);
