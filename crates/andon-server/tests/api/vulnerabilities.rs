//! The blast radius of a package through the real HTTP path, on both backends: SBOMs written
//! by real tools (cyclonedx-py, npm, sbom4python) recorded as evidence, what runs known from
//! a runtime snapshot and from deployments, and the exact set of affected artifacts with
//! their owners. A component row changed behind the ledger is found by the verification.

use andon_client::Client;
use andon_domain::access::Workload;
use andon_domain::api::{DeploymentRequest, SnapshotInput};
use andon_domain::vulns::{Affected, Impact};
use andon_domain::{ReportPredicate, SBOM_PREDICATE_V1, Sha256Digest, SigningKey, Statement};
use andon_testkit::{Backend, both_backends};

use crate::common::{self, Harness};

pub(crate) const CYCLONEDX_PY: &[u8] =
    include_bytes!("../../../andon-evidence/tests/fixtures/sbom/cyclonedx-py-7.5.0-1.6.json");
const NPM: &[u8] =
    include_bytes!("../../../andon-evidence/tests/fixtures/sbom/npm-11.19.1-cyclonedx.json");
const SBOM4PYTHON: &[u8] = include_bytes!(
    "../../../andon-evidence/tests/fixtures/sbom/spdx-tv-sbom4python-0.12.6-requests.spdx.json"
);

/// An application of `team`, and a pipeline identity with its key.
pub(crate) fn pipeline(h: &Harness, app: &str, team: &str) -> (Client, SigningKey) {
    h.admin.create_application(app, team).expect("app");
    let issued = h
        .admin
        .create_identity(&format!("ci-{app}"), "pipeline", &[app.to_owned()])
        .expect("identity");
    let key = SigningKey::from_seed(Sha256Digest::of(app.as_bytes()).as_bytes().to_owned());
    h.admin
        .register_key(&issued.identity, &key.public_key().to_ledger_text())
        .expect("key");
    (Client::new(&h.url, Some(issued.token)), key)
}

/// Records `sbom` for the artifact named `image`: as cosign attests a CycloneDX BOM (the
/// BOM as the predicate), or as an uploaded report. Returns the artifact's `sha256:<hex>`.
pub(crate) fn sbom(
    ci: &Client,
    key: &SigningKey,
    app: &str,
    image: &str,
    sbom: &[u8],
    cosign: bool,
) -> String {
    let digest = Sha256Digest::of(image.as_bytes());
    let st = if cosign {
        Statement::new(
            vec![(image.into(), digest)],
            "https://cyclonedx.org/bom".into(),
            serde_json::from_slice(sbom).expect("json"),
        )
    } else {
        Statement::new(
            vec![(image.into(), digest)],
            SBOM_PREDICATE_V1.into(),
            serde_json::to_value(ReportPredicate::new("application/json", None, sbom))
                .expect("predicate"),
        )
    };
    ci.submit_evidence(app, None, Some("sbom"), &st.sign(key))
        .expect("sbom recorded");
    format!("sha256:{}", digest.hex())
}

/// Reports what runs in the whole of `env`: (workload, image name, digest) each.
pub(crate) fn running(h: &Harness, env: &str, workloads: &[(&str, &str, &String)]) {
    h.admin
        .report_snapshot(
            env,
            &SnapshotInput {
                whole_environment: true,
                source: "kubernetes".into(),
                workloads: workloads
                    .iter()
                    .map(|(name, app, digest)| Workload {
                        name: (*name).into(),
                        image: image(app, digest),
                    })
                    .collect(),
                ..SnapshotInput::default()
            },
        )
        .expect("snapshot");
}

fn image(name: &str, digest: &str) -> String {
    format!("registry.example.com/{name}@{digest}")
}

/// (environment, application, artifact, workloads, components as `name version`).
type Row = (Option<String>, String, String, Vec<String>, Vec<String>);

fn rows(list: &[Affected]) -> Vec<Row> {
    list.iter()
        .map(|a| {
            (
                a.environment.clone(),
                a.application.clone(),
                a.artifact.clone(),
                a.workloads.clone(),
                a.components
                    .iter()
                    .map(|c| {
                        format!(
                            "{} {}",
                            c.component.name,
                            c.component.version.as_deref().unwrap_or("-")
                        )
                    })
                    .collect(),
            )
        })
        .collect()
}

fn row(env: Option<&str>, app: &str, artifact: &str, workloads: &[&str], comps: &[&str]) -> Row {
    (
        env.map(str::to_owned),
        app.to_owned(),
        artifact.to_owned(),
        workloads.iter().map(|w| (*w).to_owned()).collect(),
        comps.iter().map(|c| (*c).to_owned()).collect(),
    )
}

fn impact(h: &Harness, purl: &str, env: Option<&str>) -> Impact {
    h.admin
        .impact(purl, env)
        .unwrap_or_else(|e| panic!("{purl}: {e}"))
}

fn impact_by_purl_names_exactly_what_runs_and_what_was_built(b: Backend) {
    let h = common::start(b);
    let (shop, shop_key) = pipeline(&h, "shop", "storefront");
    let (pay, pay_key) = pipeline(&h, "pay", "payments");
    let (web, web_key) = pipeline(&h, "web", "storefront");
    // shop 1.0: cyclonedx-py's environment (idna 3.20, pip, setuptools, six 1.16.0);
    // shop 1.1: sbom4python's requests (charset-normalizer, idna 3.21, urllib3, certifi).
    let shop_10 = sbom(&shop, &shop_key, "shop", "shop:1.0", CYCLONEDX_PY, true);
    let shop_11 = sbom(&shop, &shop_key, "shop", "shop:1.1", SBOM4PYTHON, false);
    let pay_1 = sbom(&pay, &pay_key, "pay", "pay:1", CYCLONEDX_PY, false);
    let web_1 = sbom(&web, &web_key, "web", "web:1", NPM, false);
    // Something no SBOM describes runs in production too.
    let legacy = format!("sha256:{}", Sha256Digest::of(b"legacy:7").hex());

    // Production is known from a snapshot of the whole environment; staging only from a
    // deployment. pay 1 runs nowhere.
    running(
        &h,
        "production",
        &[
            ("shop-web-1", "shop", &shop_10),
            ("shop-web-2", "shop", &shop_10),
            ("web-1", "web", &web_1),
            ("legacy-1", "legacy", &legacy),
        ],
    );
    shop.record_deployment(&DeploymentRequest {
        application: "shop".into(),
        artifact: image("shop", &shop_11),
        environment: "staging".into(),
        ..Default::default()
    })
    .expect("deployed");

    // One version, spelled as PEP 440 normalizes it, and the name in another case.
    for q in [
        "pkg:pypi/six@1.16.0",
        "pkg:pypi/six@1.16",
        "pkg:pypi/Six@1.16.0",
    ] {
        let i = impact(&h, q, None);
        assert_eq!(i.packages, ["pkg:pypi/six"], "{q}");
        assert_eq!(
            rows(&i.affected),
            [row(
                Some("production"),
                "shop",
                &shop_10,
                &["shop-web-1", "shop-web-2"],
                &["six 1.16.0"]
            )],
            "{q}"
        );
        assert_eq!(
            rows(&i.built),
            [row(None, "pay", &pay_1, &[], &["six 1.16.0"])],
            "{q}"
        );
        assert_eq!(i.affected[0].team, "storefront");
    }
    // Any version: every artifact with idna, each where it runs.
    let i = impact(&h, "pkg:pypi/idna", None);
    assert_eq!(
        rows(&i.affected),
        [
            row(
                Some("production"),
                "shop",
                &shop_10,
                &["shop-web-1", "shop-web-2"],
                &["idna 3.20"]
            ),
            row(Some("staging"), "shop", &shop_11, &[], &["idna 3.21"]),
        ]
    );
    assert_eq!(
        rows(&i.built),
        [row(None, "pay", &pay_1, &[], &["idna 3.20"])]
    );
    assert_eq!(i.affected[0].components[0].matched, "any version");
    let sources: Vec<(&str, &str)> = i
        .environments
        .iter()
        .map(|e| (e.environment.as_str(), e.source.as_str()))
        .collect();
    assert_eq!(
        sources,
        [("production", "snapshot"), ("staging", "deployments")]
    );
    // A blind spot is named, never counted as unaffected.
    let blind: Vec<(&str, &str, Vec<String>)> = i
        .running_without_sbom
        .iter()
        .map(|r| {
            (
                r.environment.as_str(),
                r.artifact.as_str(),
                r.workloads.clone(),
            )
        })
        .collect();
    assert_eq!(
        blind,
        [("production", legacy.as_str(), vec!["legacy-1".to_owned()])]
    );
    // One environment only: staging's, and nothing built elsewhere.
    let i = impact(&h, "pkg:pypi/idna@3.21", Some("staging"));
    assert_eq!(
        rows(&i.affected),
        [row(Some("staging"), "shop", &shop_11, &[], &["idna 3.21"])]
    );
    assert!(i.built.is_empty());
    // Another ecosystem; a version nothing has; a package nothing has.
    let i = impact(&h, "pkg:npm/is-number@7.0.0", None);
    assert_eq!(
        rows(&i.affected),
        [row(
            Some("production"),
            "web",
            &web_1,
            &["web-1"],
            &["is-number 7.0.0"]
        )]
    );
    for q in [
        "pkg:pypi/six@1.15.0",
        "pkg:pypi/left-pad",
        "pkg:npm/six@1.16.0",
    ] {
        let i = impact(&h, q, None);
        assert!(i.affected.is_empty() && i.built.is_empty(), "{q}: {i:?}");
    }

    // Bad questions get a clear error and write nothing.
    let before = h.counts();
    for (query, code) in [
        ("?purl=npm/left-pad", "invalid_purl"),
        ("", "missing_query"),
        (
            "?purl=pkg:pypi/six&environment=no%20such%20env!",
            "invalid_environment",
        ),
    ] {
        let (status, body) = h.admin_get(&format!("/v1/vulnerabilities/impact{query}"));
        assert_eq!(status, 400, "{query}: {body}");
        assert!(body.contains(code), "{query}: {body}");
    }
    assert_eq!(h.counts(), before);

    let clean = h.admin.verify_ledger().expect("verify");
    assert_eq!(clean["verified"], true, "{clean:#}");

    // A hostile database administrator hides six from the blast radius: the entry binds the
    // SBOM's components, so the verification names the entry whose rows no longer match.
    crate::operator::execute(
        &h,
        &["DELETE FROM sbom_components WHERE name = 'six'".to_owned()],
    );
    assert!(impact(&h, "pkg:pypi/six@1.16.0", None).affected.is_empty());
    let found = h.admin.verify_ledger().expect("verify");
    assert_eq!(found["verified"], false, "{found:#}");
    let text = found.to_string();
    assert!(
        text.contains("stored components hash to")
            && text.contains("components were deleted, added or altered"),
        "{found:#}"
    );
}

pub(crate) const CHECKOUT_10: &[u8] = include_bytes!(
    "../../../andon-evidence/tests/fixtures/sbom/npm-11.19.1-checkout-web-1.0.cdx.json"
);
pub(crate) const CHECKOUT_11: &[u8] = include_bytes!(
    "../../../andon-evidence/tests/fixtures/sbom/npm-11.19.1-checkout-web-1.1.cdx.json"
);
pub(crate) const REQUESTS_230: &[u8] = include_bytes!(
    "../../../andon-evidence/tests/fixtures/sbom/cyclonedx-py-7.5.0-requests-2.30.0.json"
);

pub(crate) fn vector(path: &str) -> serde_json::Value {
    let text = std::fs::read(format!(
        "{}/../andon-vuln/tests/vectors/{path}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect(path);
    serde_json::from_slice(&text).expect("json")
}

/// (environment, application, artifact, [(component, version, fixed, advisory)]).
fn by_advisory(list: &[Affected]) -> Vec<(Option<String>, String, String, Vec<String>)> {
    list.iter()
        .map(|a| {
            (
                a.environment.clone(),
                a.application.clone(),
                a.artifact.clone(),
                a.components
                    .iter()
                    .map(|c| {
                        format!(
                            "{} {} {} fixed {} ({})",
                            c.component.name,
                            c.component.version.as_deref().unwrap_or("-"),
                            c.matched,
                            c.fixed.as_deref().unwrap_or("-"),
                            c.advisory.as_deref().unwrap_or("-")
                        )
                    })
                    .collect(),
            )
        })
        .collect()
}

fn advisories_are_imported_once_and_their_ranges_find_what_runs(b: Backend) {
    let h = common::start(b);
    let (checkout, ck) = pipeline(&h, "checkout", "team-checkout");
    let (ledger, lk) = pipeline(&h, "ledger", "team-finance");
    let c10 = sbom(
        &checkout,
        &ck,
        "checkout",
        "checkout:1.0",
        CHECKOUT_10,
        false,
    );
    let c11 = sbom(
        &checkout,
        &ck,
        "checkout",
        "checkout:1.1",
        CHECKOUT_11,
        true,
    );
    let l1 = sbom(&ledger, &lk, "ledger", "ledger:1", REQUESTS_230, false);
    running(
        &h,
        "production",
        &[
            ("checkout-1", "checkout", &c10),
            ("ledger-1", "ledger", &l1),
        ],
    );
    running(&h, "staging", &[("checkout-1", "checkout", &c11)]);

    let records = vec![
        vector("ghsa/equals_with_patch.osv.json"),
        vector("ghsa/npm_greater_than.osv.json"),
        vector("ghsa/less_than_equals_with_patch.osv.json"),
        vector("osv/PYSEC-2023-74.json"),
        vector("osv/GO-2020-0001.json"),
        vector("ghsa/withdrawn.osv.json"),
    ];
    let body = serde_json::to_vec(&serde_json::json!({ "advisories": records })).expect("json");
    // Only admins import: a pipeline is refused and nothing is written.
    let before = h.counts();
    let (status, _) = common::err(checkout.import_advisories(&body));
    assert_eq!(status, 403);
    // A record that breaks the OSV schema refuses the whole request, naming it.
    let mut broken = records.clone();
    broken[2]
        .as_object_mut()
        .expect("object")
        .remove("modified");
    let (status, code, message) = common::refusal(
        h.admin
            .import_advisories(&serde_json::to_vec(&broken).expect("json")),
    );
    assert_eq!(
        (status, code.as_str()),
        (400, "invalid_advisory"),
        "{message}"
    );
    assert!(
        message.contains("record 2 (GHSA-f89g-whpf-6q9m) breaks the OSV schema"),
        "{message}"
    );
    assert_eq!(h.counts(), before, "a refused import wrote something");

    let answer = h.admin.import_advisories(&body).expect("imported");
    let ids: Vec<&str> = answer.imported.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "GHSA-fhjf-83wg-r2j9",
            "GHSA-mhpp-875w-9cpv",
            "GHSA-f89g-whpf-6q9m",
            "PYSEC-2023-74",
            "GO-2020-0001",
            "GHSA-35c4-f3rq-f9g3"
        ]
    );
    // One alert per application and advisory that affects what runs in production: three
    // npm advisories hit checkout 1.0, requests' hits ledger; staging's checkout 1.1 has the
    // fixed versions, and production runs nothing the others name.
    let mut raised: Vec<(String, Option<String>, String, String)> = answer
        .alerts
        .iter()
        .map(|a| {
            (
                a.kind.clone(),
                a.application.clone(),
                a.subject.clone(),
                a.severity.clone(),
            )
        })
        .collect();
    raised.sort();
    let alert = |app: &str, id: &str| {
        (
            "vulnerability_in_production".to_owned(),
            Some(app.to_owned()),
            format!("vuln:{id}:{app}"),
            "medium".to_owned(),
        )
    };
    assert_eq!(
        raised,
        [
            alert("checkout", "GHSA-f89g-whpf-6q9m"),
            alert("checkout", "GHSA-fhjf-83wg-r2j9"),
            alert("checkout", "GHSA-mhpp-875w-9cpv"),
            alert("ledger", "PYSEC-2023-74"),
        ]
    );
    let requests = answer
        .alerts
        .iter()
        .find(|a| a.subject == "vuln:PYSEC-2023-74:ledger")
        .expect("ledger's alert");
    assert!(
        requests.message.contains(&format!(
            "affects ledger (team team-finance): requests 2.30.0 in {l1} running in production (fixed in 2.31.0)"
        )),
        "{}",
        requests.message
    );
    assert!(
        requests
            .links
            .contains(&"/v1/vulnerabilities/impact?id=PYSEC-2023-74".to_owned())
    );
    // Listed newest import first, with aliases and the withdrawal.
    let listed = h.admin.advisories().expect("advisories");
    let ids: Vec<&str> = listed.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "GHSA-35c4-f3rq-f9g3",
            "GO-2020-0001",
            "PYSEC-2023-74",
            "GHSA-f89g-whpf-6q9m",
            "GHSA-mhpp-875w-9cpv",
            "GHSA-fhjf-83wg-r2j9"
        ]
    );
    assert_eq!(listed[2].aliases, ["CVE-2023-32681", "GHSA-j8r2-6x86-q33q"]);
    assert!(listed[0].withdrawn.is_some() && listed[1].withdrawn.is_none());
    // The same records again: nothing new.
    let after = h.counts();
    let again = h.admin.import_advisories(&body).expect("again");
    assert!(again.imported.is_empty() && again.alerts.is_empty());
    assert_eq!(again.unchanged.len(), 6);
    assert_eq!(h.counts(), after);

    // By GHSA id and by its CVE alias: checkout 1.0 in production has mixin-deep 1.3.1;
    // checkout 1.1 (1.3.2, in staging) does not.
    for q in ["GHSA-fhjf-83wg-r2j9", "CVE-2019-10746"] {
        let i = h.admin.impact_of(q, None).expect("impact");
        assert_eq!(i.advisories.len(), 1, "{q}");
        assert_eq!(i.packages, ["pkg:npm/mixin-deep"], "{q}");
        assert_eq!(
            by_advisory(&i.affected),
            [(
                Some("production".to_owned()),
                "checkout".to_owned(),
                c10.clone(),
                vec!["mixin-deep 1.3.1 >= 0, < 1.3.2 fixed 1.3.2 (GHSA-fhjf-83wg-r2j9)".to_owned()]
            )],
            "{q}"
        );
        assert!(i.built.is_empty(), "{q}");
    }
    // A prerelease lower bound (jquery >= 2.1.1-0, < 3.0.0) and requests by the CVE its
    // PYSEC record aliases.
    let i = h
        .admin
        .impact_of("GHSA-mhpp-875w-9cpv", None)
        .expect("impact");
    assert_eq!(
        by_advisory(&i.affected)[0].3,
        ["jquery 2.2.4 >= 2.1.1-0, < 3.0.0 fixed 3.0.0 (GHSA-mhpp-875w-9cpv)"]
    );
    assert_eq!(i.affected.len(), 1);
    let i = h.admin.impact_of("CVE-2023-32681", None).expect("impact");
    assert_eq!(
        by_advisory(&i.affected),
        [(
            Some("production".to_owned()),
            "ledger".to_owned(),
            l1.clone(),
            vec!["requests 2.30.0 >= 2.3.0, < 2.31.0 fixed 2.31.0 (PYSEC-2023-74)".to_owned()]
        )]
    );
    assert_eq!(i.affected[0].team, "team-finance");
    // A Go module nothing contains; a withdrawn advisory affects nothing.
    let i = h.admin.impact_of("GO-2020-0001", None).expect("impact");
    assert!(i.affected.is_empty() && i.built.is_empty());
    let i = h.admin.impact_of("CVE-2015-3227", None).expect("impact");
    assert_eq!(
        i.advisories[0].withdrawn.as_deref(),
        Some("2018-10-11T17:29:49Z")
    );
    assert!(i.affected.is_empty());
    let (status, _) = common::err(h.admin.impact_of("CVE-1999-0001", None));
    assert_eq!(status, 404);

    // A newer version of the record replaces the older: mixin-deep fixed from 1.3.1 now.
    let mut newer = vector("ghsa/equals_with_patch.osv.json");
    newer["modified"] = "2026-12-01T00:00:00Z".into();
    newer["affected"][0]["ranges"][0]["events"] = serde_json::json!([
        {"introduced": "0"}, {"fixed": "1.3.1"}, {"introduced": "2.0.0"}, {"fixed": "2.0.1"}
    ]);
    let r = h
        .admin
        .import_advisories(&serde_json::to_vec(&newer).expect("json"))
        .expect("newer");
    assert_eq!(r.imported.len(), 1);
    let i = h.admin.impact_of("CVE-2019-10746", None).expect("impact");
    assert!(i.affected.is_empty(), "{:?}", i.affected);
    assert_eq!(i.advisories[0].modified, "2026-12-01T00:00:00Z");
    // The older version sent again changes nothing.
    let r = h
        .admin
        .import_advisories(&serde_json::to_vec(&records[0]).expect("json"))
        .expect("older");
    assert_eq!(r.unchanged, ["GHSA-fhjf-83wg-r2j9"]);

    let clean = h.admin.verify_ledger().expect("verify");
    assert_eq!(clean["verified"], true, "{clean:#}");
    // A database administrator widens a range behind the ledger: the verification names it.
    crate::operator::execute(
        &h,
        &[
            "UPDATE advisory_packages SET affected = '{}' WHERE advisory_id = 'PYSEC-2023-74'"
                .to_owned(),
        ],
    );
    let found = h.admin.verify_ledger().expect("verify");
    assert_eq!(found["verified"], false, "{found:#}");
    assert!(
        found.to_string().contains("table advisory_packages"),
        "{found:#}"
    );
}

both_backends!(
    impact_by_purl_names_exactly_what_runs_and_what_was_built,
    advisories_are_imported_once_and_their_ranges_find_what_runs,
);
