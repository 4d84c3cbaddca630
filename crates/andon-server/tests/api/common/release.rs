//! A release history shared by the gate tests over HTTP and through the CLI: a pull-request
//! history from GitHub webhooks, and the evidence of a release with every built-in control
//! passing, or one of them failing or missing its evidence.

use andon_client::Client;
use andon_domain::api::{DecisionView, GateRequest};
use andon_domain::gate::Verdict;
use andon_domain::{ReportPredicate, Sha256Digest, SigningKey, Statement};
use andon_testkit::Backend;
use serde_json::{Value, json};

use super::{Harness, deployment_status, github, pull_request, review, sha};

pub const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../andon-evidence/tests/fixtures"
);

pub fn fixture(path: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}/{path}")).expect("fixture")
}

/// A JUnit report as cargo-nextest writes it, with `failed` failing cases.
pub fn junit(passed: u32, failed: u32) -> Vec<u8> {
    let mut cases = String::new();
    for i in 0..passed {
        cases.push_str(&format!(
            "<testcase name=\"t{i}\" classname=\"pay\" time=\"0.01\"/>"
        ));
    }
    for i in 0..failed {
        cases.push_str(&format!(
            "<testcase name=\"f{i}\" classname=\"pay\" time=\"0.01\"><failure message=\"boom\" type=\"panic\">boom</failure></testcase>"
        ));
    }
    format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><testsuites name=\"nextest-run\"><testsuite name=\"pay\">{cases}</testsuite></testsuites>").into_bytes()
}

/// LCOV with `hit` of 10 lines covered.
pub fn lcov(hit: u32) -> Vec<u8> {
    let mut s = String::from("TN:\nSF:src/lib.rs\n");
    for line in 1..=10 {
        s.push_str(&format!("DA:{line},{}\n", u32::from(line <= hit)));
    }
    s.push_str(&format!("LF:10\nLH:{hit}\nend_of_record\n"));
    s.into_bytes()
}

/// The real ruff log with its results removed: a clean run.
pub fn clean_sarif() -> Vec<u8> {
    let mut v: Value = serde_json::from_slice(&fixture("sarif/ruff-0.17.6.sarif")).expect("json");
    v["runs"][0]["results"] = json!([]);
    serde_json::to_vec(&v).expect("json")
}

/// The real CycloneDX SBOM with no components.
pub fn empty_sbom() -> Vec<u8> {
    let mut v: Value =
        serde_json::from_slice(&fixture("sbom/cyclonedx-py-7.5.0-1.6.json")).expect("json");
    v["components"] = json!([]);
    serde_json::to_vec(&v).expect("json")
}

pub fn provenance(artifact: Sha256Digest, commit: &str, builder: &str) -> Statement {
    let mut p: Value =
        serde_json::from_slice(&fixture("provenance/npmcli-provenance-cli-0.0.3.json"))
            .expect("json");
    p["predicate"]["buildDefinition"]["resolvedDependencies"][0]["digest"]["gitCommit"] =
        commit.into();
    p["predicate"]["runDetails"]["builder"]["id"] = builder.into();
    Statement::new(
        vec![("registry.example.com/pay".into(), artifact)],
        "https://slsa.dev/provenance/v1".into(),
        p["predicate"].clone(),
    )
}

pub fn report(artifact: Sha256Digest, predicate_type: &str, bytes: &[u8]) -> Statement {
    Statement::new(
        vec![("registry.example.com/pay".into(), artifact)],
        predicate_type.into(),
        serde_json::to_value(ReportPredicate::new(
            "application/octet-stream",
            None,
            bytes,
        ))
        .expect("json"),
    )
}

pub fn pipeline_definition(artifact: Sha256Digest, commit: &str) -> Statement {
    let mut p = serde_json::to_value(ReportPredicate::new(
        "application/yaml",
        Some(".github/workflows/release.yml".into()),
        b"on: push\n",
    ))
    .expect("json");
    p["repository"] = "Codertocat/Hello-World".into();
    p["commit"] = commit.into();
    Statement::new(
        vec![("registry.example.com/pay".into(), artifact)],
        andon_domain::scm::PIPELINE_DEFINITION_PREDICATE_V1.into(),
        p,
    )
}

/// How a scenario departs from a release where everything holds.
#[derive(Clone, Copy, PartialEq)]
pub enum Twist {
    None,
    Missing(&'static str),
    Failing(&'static str),
}

pub struct World {
    pub h: Harness,
    pub ci: Client,
    pub key: SigningKey,
    /// Merge commits: reviewed and deployed to staging; reviewed, never deployed;
    /// approved only by its author.
    pub reviewed: String,
    pub undeployed: String,
    pub self_approved: String,
    /// Reviewed, merged, and its only staging deployment failed.
    pub failed_in_staging: String,
}

pub fn world(b: Backend) -> World {
    world_with(b, |_| {})
}

/// The release world on a server configured by `configure` (webhook secrets set first).
pub fn world_with(b: Backend, configure: impl FnOnce(&mut andon_server::Config)) -> World {
    let h = Harness::start_configured(b, |c| {
        c.github_webhook_secret = Some(super::SECRET.into());
        c.gitlab_webhook_token = Some(super::GITLAB_TOKEN.into());
        configure(c);
    });
    let (ci, key) = h.pipeline("pay");
    let alice = ("alice", 101);
    let bob = ("bob", 102);
    let (reviewed, undeployed, self_approved) = (sha('a'), sha('b'), sha('c'));
    let failed_in_staging = sha('d');
    let history: Vec<(&str, Vec<u8>)> = vec![
        (
            "pull_request",
            pull_request("opened", 1, "PAY-1 limits", alice, &sha('1'), None),
        ),
        ("pull_request_review", review(1, bob, "approved", &sha('1'))),
        (
            "pull_request",
            pull_request(
                "closed",
                1,
                "PAY-1 limits",
                alice,
                &sha('1'),
                Some(&reviewed),
            ),
        ),
        (
            "deployment_status",
            deployment_status(&reviewed, "staging", "success"),
        ),
        (
            "pull_request",
            pull_request("opened", 2, "PAY-2 fees", alice, &sha('2'), None),
        ),
        ("pull_request_review", review(2, bob, "approved", &sha('2'))),
        (
            "pull_request",
            pull_request(
                "closed",
                2,
                "PAY-2 fees",
                alice,
                &sha('2'),
                Some(&undeployed),
            ),
        ),
        (
            "pull_request",
            pull_request("opened", 3, "PAY-3 hotfix", alice, &sha('3'), None),
        ),
        (
            "pull_request_review",
            review(3, alice, "approved", &sha('3')),
        ),
        (
            "pull_request",
            pull_request(
                "closed",
                3,
                "PAY-3 hotfix",
                alice,
                &sha('3'),
                Some(&self_approved),
            ),
        ),
        (
            "pull_request",
            pull_request("opened", 4, "PAY-4 retries", alice, &sha('4'), None),
        ),
        ("pull_request_review", review(4, bob, "approved", &sha('4'))),
        (
            "pull_request",
            pull_request(
                "closed",
                4,
                "PAY-4 retries",
                alice,
                &sha('4'),
                Some(&failed_in_staging),
            ),
        ),
        (
            "deployment_status",
            deployment_status(&failed_in_staging, "staging", "failure"),
        ),
    ];
    for (i, (event, payload)) in history.iter().enumerate() {
        github(&h, event, &format!("gate-{i}"), payload).expect("delivered");
    }
    World {
        h,
        ci,
        key,
        reviewed,
        undeployed,
        self_approved,
        failed_in_staging,
    }
}

impl World {
    /// Sends the evidence of a release of `artifact`, twisted as asked; returns the artifact
    /// reference to gate.
    pub fn release(&self, artifact: &str, twist: Twist) -> String {
        self.release_with(artifact, twist, None)
    }

    /// A release built from `source` (its provenance's commit), everything else holding.
    pub fn release_from(&self, artifact: &str, source: &str) -> String {
        self.release_with(artifact, Twist::None, Some(source))
    }

    fn release_with(&self, artifact: &str, twist: Twist, built_from: Option<&str>) -> String {
        let digest = Sha256Digest::of(artifact.as_bytes());
        let missing = |c| twist == Twist::Missing(c);
        let failing = |c| twist == Twist::Failing(c);
        let source = if failing("peer-review") {
            self.self_approved.clone()
        } else if missing("peer-review") {
            sha('9')
        } else if missing("tested-before-production") {
            self.undeployed.clone()
        } else if failing("tested-before-production") {
            self.failed_in_staging.clone()
        } else {
            self.reviewed.clone()
        };
        let source = built_from.map_or(source, str::to_owned);
        let builder = if failing("provenance") {
            "https://ci.example.com/laptop"
        } else {
            "https://github.com/actions/runner/github-hosted"
        };
        let mut statements = Vec::new();
        if !missing("provenance") {
            statements.push(("provenance", provenance(digest, &source, builder)));
        }
        if !missing("pipeline-reviewed") {
            let commit = if failing("pipeline-reviewed") {
                &self.self_approved
            } else {
                &self.reviewed
            };
            statements.push(("pipeline-definition", pipeline_definition(digest, commit)));
        }
        if !missing("tests-pass") {
            let failed = u32::from(failing("tests-pass"));
            statements.push((
                "junit",
                report(digest, andon_domain::JUNIT_PREDICATE_V1, &junit(12, failed)),
            ));
        }
        if !missing("coverage") {
            let hit = if failing("coverage") { 6 } else { 9 };
            statements.push((
                "coverage",
                report(digest, andon_domain::COVERAGE_PREDICATE_V1, &lcov(hit)),
            ));
        }
        if !missing("static-analysis") {
            let log = if failing("static-analysis") {
                fixture("sarif/ruff-0.17.6.sarif")
            } else {
                clean_sarif()
            };
            statements.push((
                "sarif",
                report(digest, andon_domain::SARIF_PREDICATE_V1, &log),
            ));
        }
        if !missing("sbom") {
            let bom = if failing("sbom") {
                empty_sbom()
            } else {
                fixture("sbom/cyclonedx-py-7.5.0-1.6.json")
            };
            statements.push((
                "sbom",
                report(digest, andon_domain::SBOM_PREDICATE_V1, &bom),
            ));
        }
        if !missing("vulnerabilities") {
            let scan = if failing("vulnerabilities") {
                fixture("vulnerabilities/cyclonedx-python-lib-11.12.0-vulnerability-1.6.json")
            } else {
                fixture("vulnerabilities/trivy-alpine-310.sarif")
            };
            statements.push((
                "vulnerabilities",
                report(digest, andon_domain::VULNERABILITIES_PREDICATE_V1, &scan),
            ));
        }
        for (kind, st) in statements {
            self.ci
                .submit_evidence("pay", Some("run-1"), Some(kind), &st.sign(&self.key))
                .expect("accepted");
        }
        format!("registry.example.com/pay@{digest}")
    }

    /// A passing coverage report for the release of `artifact`, sent through `ci` (this
    /// world's pipeline token, on any server of the cluster).
    pub fn coverage_for(&self, artifact: &str, ci: &Client) {
        let digest = Sha256Digest::of(artifact.as_bytes());
        let st = report(digest, andon_domain::COVERAGE_PREDICATE_V1, &lcov(9));
        ci.submit_evidence("pay", Some("run-2"), Some("coverage"), &st.sign(&self.key))
            .expect("accepted");
    }

    pub fn gate(&self, artifact: &str, environment: &str) -> DecisionView {
        self.ci
            .gate(&GateRequest {
                application: "pay".into(),
                artifact: artifact.into(),
                environment: environment.into(),
                production: None,
                ..Default::default()
            })
            .expect("decided")
    }
}

pub fn verdict(d: &DecisionView, control: &str) -> (Verdict, String) {
    let c = d
        .decision
        .controls
        .iter()
        .find(|c| c.id == control)
        .unwrap_or_else(|| panic!("no control {control}"));
    (c.verdict, c.reason.clone())
}

pub const CONTROLS: [&str; 9] = [
    "coverage",
    "peer-review",
    "pipeline-reviewed",
    "provenance",
    "sbom",
    "static-analysis",
    "tested-before-production",
    "tests-pass",
    "vulnerabilities",
];
