//! Random sequences of real API operations, then the tables against the ledger: whatever a
//! sequence of requests does (identities created, enrolled, their tokens revoked, evidence
//! signed with registered keys or not, webhooks, gate decisions, change approvals, waivers,
//! deployments, incidents, access grants, alerts, snapshots, telemetry, policies, time
//! passing), the server's verification replays the ledger into a fresh database and finds
//! it equal to the tables, and the ledger verifies. A request the server refuses (4xx) writes
//! nothing; none fails with a 5xx. A second server built from the same ledger holds the same
//! identities and tokens. Both backends.
//!
//! The cases are few and fixed (each starts a server on a fresh database); a failure names
//! the shortest sequence proptest found that still fails, one operation a line.

use andon_client::{Client, ClientError};
use andon_domain::access::Workload;
use andon_domain::api::{
    AccessRequestInput, AccountInput, AccountUseInput, DeploymentRequest, DeploymentStateRequest,
    GateRequest, IncidentRequest, LateRequest, SnapshotInput, WaiverRequest,
};
use andon_domain::change::{ChangeFields, Script};
use andon_domain::{Sha256Digest, SigningKey, Statement};
use andon_server::Clock;
use andon_testkit::{Backend, both_backends};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestError, TestRunner};
use serde_json::{Value, json};

use crate::common::release::{
    CONTROLS, clean_sarif, empty_sbom, junit, lcov, pipeline_definition, provenance, report,
};
use crate::common::{self, Harness, deployment_status, pull_request, push_to, review, sha};

/// Cases per backend: each is a fresh server and up to [`MAX_OPS`] operations, some 4 s on a
/// busy 2-core machine. `ANDON_PROPERTY_CASES` asks for more (a longer hunt, by hand).
const CASES: u32 = 8;
/// The longest sequence.
const MAX_OPS: usize = 40;

/// Applications, the two that exist from the start most often.
const APPS: [&str; 8] = ["pay", "shop", "pay", "shop", "pay", "shop", "web", "nope"];
/// Identities: the first six exist from the start (see [`World::setup`]).
const NAMES: [&str; 8] = [
    "alice", "bob", "carol", "dave", "ci-pay", "ci-shop", "erin", "ci-web",
];
const ROLES: [&str; 4] = ["approver", "admin", "auditor", "pipeline"];
const GROUPS: [&[&str]; 3] = [&[], &["dba"], &["cab"]];
/// Environments, production most often; the last is no environment's name.
const ENVIRONMENTS: [&str; 5] = ["production", "staging", "production", "production", "Prod!"];
const LEVELS: [&str; 3] = ["read", "write", "root"];
const STATES: [&str; 4] = ["failed", "rolled_back", "restored", "exploded"];
const ACCESS_VERBS: [&str; 3] = ["approve", "reject", "revoke"];
const ALERT_VERBS: [&str; 2] = ["acknowledge", "resolve"];
const TELEMETRY: [&str; 7] = [
    "login.success",
    "login.failure",
    "http.requests",
    "iam.change",
    "config.change",
    "maintenance.on",
    "bogus kind",
];
/// The manual clock's start.
const START: &str = "2026-11-02T09:00:00Z";

/// One API operation, its choices as small numbers the runner draws and shrinks; each is
/// taken modulo what it picks from (a pool of names, the tokens issued so far, the change
/// records the server lists ...), so every sequence is valid input to the harness.
#[derive(Clone, Debug)]
enum Op {
    CreateApplication {
        app: u8,
    },
    CreateIdentity {
        name: u8,
        role: u8,
        app: u8,
        groups: u8,
    },
    Enroll {
        code: u8,
    },
    CreateEnrollment {
        actor: u8,
        name: u8,
    },
    IssueToken {
        actor: u8,
        name: u8,
    },
    RevokeToken {
        actor: u8,
        token: u8,
    },
    DisableIdentity {
        actor: u8,
        name: u8,
    },
    RegisterKey {
        name: u8,
        key: u8,
    },
    RevokeKey {
        key: u8,
    },
    Evidence {
        actor: u8,
        app: u8,
        /// A key of the caller's own when `None`.
        key: Option<u8>,
        artifact: u8,
        kind: u8,
        commit: u8,
    },
    Webhook {
        event: u8,
        pr: u8,
        who: u8,
        commit: u8,
        delivery: u8,
    },
    Gate {
        actor: u8,
        app: u8,
        artifact: u8,
        environment: u8,
        migration: bool,
        emergency: bool,
    },
    DecideChange {
        actor: u8,
        change: u8,
        approve: bool,
    },
    RequestWaiver {
        actor: u8,
        app: u8,
        control: u8,
    },
    ApproveWaiver {
        actor: u8,
        waiver: u8,
    },
    Deploy {
        actor: u8,
        app: u8,
        artifact: u8,
        environment: u8,
        hours_ago: u8,
        late: bool,
    },
    DeploymentState {
        actor: u8,
        deployment: u8,
        state: u8,
    },
    Incident {
        actor: u8,
        app: u8,
        deployment: Option<u8>,
        id: u8,
    },
    RequestAccess {
        actor: u8,
        app: u8,
        environment: u8,
        level: u8,
        minutes: u16,
    },
    DecideAccess {
        actor: u8,
        request: u8,
        verb: u8,
    },
    AlertAction {
        actor: u8,
        alert: u8,
        verb: u8,
    },
    CheckAlerts,
    CheckAccess,
    Snapshot {
        actor: u8,
        app: u8,
        environment: u8,
        artifact: u8,
    },
    Telemetry {
        actor: u8,
        app: u8,
        kinds: Vec<u8>,
    },
    PublishPolicy {
        variant: u8,
    },
    RegisterAccount {
        name: u8,
        app: u8,
    },
    AccountUsed {
        actor: u8,
        name: u8,
    },
    RetireAccount {
        name: u8,
    },
    /// The clock moves on, by minutes.
    Advance {
        minutes: u32,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let n = || 0u8..8;
    prop_oneof![
        2 => n().prop_map(|app| Op::CreateApplication { app }),
        5 => (n(), n(), n(), n()).prop_map(|(name, role, app, groups)| Op::CreateIdentity { name, role, app, groups }),
        2 => n().prop_map(|code| Op::Enroll { code }),
        1 => (n(), n()).prop_map(|(actor, name)| Op::CreateEnrollment { actor, name }),
        2 => (n(), n()).prop_map(|(actor, name)| Op::IssueToken { actor, name }),
        1 => (n(), n()).prop_map(|(actor, token)| Op::RevokeToken { actor, token }),
        1 => (n(), n()).prop_map(|(actor, name)| Op::DisableIdentity { actor, name }),
        2 => (n(), n()).prop_map(|(name, key)| Op::RegisterKey { name, key }),
        1 => n().prop_map(|key| Op::RevokeKey { key }),
        8 => (n(), n(), proptest::option::weighted(0.3, n()), n(), n(), n()).prop_map(
            |(actor, app, key, artifact, kind, commit)| Op::Evidence { actor, app, key, artifact, kind, commit }
        ),
        4 => (n(), n(), n(), n(), 0u8..24).prop_map(|(event, pr, who, commit, delivery)| Op::Webhook { event, pr, who, commit, delivery }),
        4 => (n(), n(), n(), n(), any::<bool>(), proptest::bool::weighted(0.2)).prop_map(
            |(actor, app, artifact, environment, migration, emergency)| Op::Gate { actor, app, artifact, environment, migration, emergency }
        ),
        3 => (n(), n(), any::<bool>()).prop_map(|(actor, change, approve)| Op::DecideChange { actor, change, approve }),
        1 => (n(), n(), n()).prop_map(|(actor, app, control)| Op::RequestWaiver { actor, app, control }),
        1 => (n(), n()).prop_map(|(actor, waiver)| Op::ApproveWaiver { actor, waiver }),
        3 => (n(), n(), n(), n(), prop_oneof![3 => Just(0u8), 1 => 0u8..48], proptest::bool::weighted(0.15)).prop_map(
            |(actor, app, artifact, environment, hours_ago, late)| Op::Deploy { actor, app, artifact, environment, hours_ago, late }
        ),
        1 => (n(), n(), n()).prop_map(|(actor, deployment, state)| Op::DeploymentState { actor, deployment, state }),
        1 => (n(), n(), proptest::option::of(n()), n()).prop_map(|(actor, app, deployment, id)| Op::Incident { actor, app, deployment, id }),
        2 => (n(), n(), n(), n(), 0u16..300).prop_map(|(actor, app, environment, level, minutes)| Op::RequestAccess { actor, app, environment, level, minutes }),
        2 => (n(), n(), n()).prop_map(|(actor, request, verb)| Op::DecideAccess { actor, request, verb }),
        1 => (n(), n(), n()).prop_map(|(actor, alert, verb)| Op::AlertAction { actor, alert, verb }),
        1 => Just(Op::CheckAlerts),
        1 => Just(Op::CheckAccess),
        1 => (n(), n(), n(), n()).prop_map(|(actor, app, environment, artifact)| Op::Snapshot { actor, app, environment, artifact }),
        2 => (n(), n(), proptest::collection::vec(n(), 1..4)).prop_map(|(actor, app, kinds)| Op::Telemetry { actor, app, kinds }),
        1 => (0u8..3).prop_map(|variant| Op::PublishPolicy { variant }),
        1 => (n(), n()).prop_map(|(name, app)| Op::RegisterAccount { name, app }),
        1 => (n(), n()).prop_map(|(actor, name)| Op::AccountUsed { actor, name }),
        1 => n().prop_map(|name| Op::RetireAccount { name }),
        2 => prop_oneof![1..120u32, 120..4_320u32].prop_map(|minutes| Op::Advance { minutes }),
    ]
}

/// `pool[i]`, taken modulo its length.
fn pick<T: Copy>(pool: &[T], i: u8) -> T {
    pool[usize::from(i) % pool.len()]
}

/// What a sequence has made so far, on the test's side: the clients of every token issued
/// (the first admin's first), enrollment codes handed out, and whose keys are whose.
struct World {
    h: Harness,
    clock: Clock,
    clients: Vec<(String, Client)>,
    codes: Vec<String>,
    keys: Vec<SigningKey>,
    /// (identity, key index) registered.
    owners: Vec<(String, usize)>,
}

fn key_seed(i: usize) -> [u8; 32] {
    Sha256Digest::of(format!("property-key-{i}").as_bytes())
        .as_bytes()
        .to_owned()
}

fn artifact_digest(app: &str, n: u8) -> Sha256Digest {
    Sha256Digest::of(format!("{app}-{}", n % 3).as_bytes())
}

impl World {
    fn new(h: Harness, clock: Clock) -> Self {
        let admin = Client::new(&h.url, h.admin.token().map(str::to_owned));
        Self {
            clients: vec![("admin".into(), admin)],
            h,
            clock,
            codes: Vec::new(),
            keys: (0..4).map(|i| SigningKey::from_seed(key_seed(i))).collect(),
            owners: Vec::new(),
        }
    }

    /// The world every case starts from, so that most operations find what they act on:
    /// two applications, each with its pipeline and the pipeline's registered key; two
    /// approvers (alice a DBA), an auditor and a second admin, each enrolled with the code an
    /// admin handed out.
    fn setup(&mut self) -> Result<(), ClientError> {
        for app in ["pay", "shop"] {
            self.admin().create_application(app, "team")?;
        }
        for (i, app) in ["pay", "shop"].into_iter().enumerate() {
            let name = format!("ci-{app}");
            let issued = self
                .admin()
                .create_identity(&name, "pipeline", &[app.to_owned()])?;
            self.admin()
                .register_key(&name, &self.keys[i].public_key().to_ledger_text())?;
            self.owners.push((name.clone(), i));
            self.add_client(&name, issued.token);
        }
        for (name, role, groups) in [
            ("alice", "approver", vec!["dba".to_owned()]),
            ("bob", "approver", vec!["cab".to_owned()]),
            ("carol", "auditor", Vec::new()),
            ("dave", "admin", Vec::new()),
        ] {
            let issued = self.admin().create_identity_in(name, role, &[], &groups)?;
            self.add_client(name, issued.token);
        }
        Ok(())
    }

    /// The pipeline of `app` (its latest token) for most choices of `actor`, else token
    /// `actor`: evidence, gates, deployments and reports come mostly from pipelines.
    fn for_app(&self, actor: u8, app: &str) -> (&str, &Client) {
        let pipeline = format!("ci-{app}");
        match self.clients.iter().rev().find(|(n, _)| *n == pipeline) {
            Some((n, c)) if actor % 4 != 3 => (n, c),
            _ => self.actor(actor),
        }
    }

    fn admin(&self) -> &Client {
        &self.h.admin
    }

    /// The client of token `i`, and the identity it acts as.
    fn actor(&self, i: u8) -> (&str, &Client) {
        let (name, c) = &self.clients[usize::from(i) % self.clients.len()];
        (name, c)
    }

    fn add_client(&mut self, identity: &str, token: String) {
        self.clients
            .push((identity.to_owned(), Client::new(&self.h.url, Some(token))));
    }

    /// An RFC 3339 time `minutes` before now.
    fn ago(&self, minutes: i64) -> String {
        jiff::Timestamp::from_millisecond(self.clock.now_ms() - minutes * 60_000)
            .expect("time")
            .to_string()
    }

    /// The id at position `i` of a listing's ids, or one nothing has.
    fn nth(ids: Vec<String>, i: u8, none: &str) -> String {
        if ids.is_empty() {
            none.to_owned()
        } else {
            ids[usize::from(i) % ids.len()].clone()
        }
    }

    fn ids(values: &[Value]) -> Vec<String> {
        values
            .iter()
            .filter_map(|v| v["id"].as_str().map(str::to_owned))
            .collect()
    }

    /// Performs `op`; an error is the server's answer (or a transport failure).
    fn apply(&mut self, op: &Op) -> Result<(), ClientError> {
        match *op {
            Op::CreateApplication { app } => {
                self.admin().create_application(pick(&APPS, app), "team")?;
            }
            Op::CreateIdentity {
                name,
                role,
                app,
                groups,
            } => {
                let name = pick(&NAMES, name);
                let role = pick(&ROLES, role);
                let apps: Vec<String> = if role == "pipeline" {
                    vec![pick(&APPS, app).to_owned()]
                } else {
                    Vec::new()
                };
                // Approver groups belong to approvers; now and then another role asks for one.
                let groups: Vec<String> = if role == "approver" || groups == 7 {
                    pick(&GROUPS, groups)
                        .iter()
                        .map(|g| (*g).to_owned())
                        .collect()
                } else {
                    Vec::new()
                };
                let issued = self
                    .admin()
                    .create_identity_only(name, role, &apps, &groups)?;
                match issued.enrollment {
                    Some(e) => self.codes.push(e.code),
                    None => self.add_client(name, issued.token),
                }
            }
            Op::Enroll { code } => {
                let code = if self.codes.is_empty() {
                    "enroll_nothing".to_owned()
                } else {
                    self.codes[usize::from(code) % self.codes.len()].clone()
                };
                let issued = Client::new(&self.h.url, None).enroll(&code)?;
                self.add_client(&issued.identity.clone(), issued.token);
            }
            Op::CreateEnrollment { actor, name } => {
                let issued = self.actor(actor).1.create_enrollment(pick(&NAMES, name))?;
                if let Some(e) = issued.enrollment {
                    self.codes.push(e.code);
                }
            }
            Op::IssueToken { actor, name } => {
                let name = pick(&NAMES, name);
                let issued = self.actor(actor).1.issue_token(name)?;
                self.add_client(name, issued.token);
            }
            Op::RevokeToken { actor, token } => {
                // The first admin's token stays: the test reads the ledger with it.
                let ids: Vec<String> = self
                    .admin()
                    .list_tokens(None)?
                    .into_iter()
                    .skip(1)
                    .map(|t| t.id)
                    .collect();
                let id = Self::nth(ids, token, "tok_nothing");
                self.actor(actor).1.revoke_token(&id, "rotated")?;
            }
            Op::DisableIdentity { actor, name } => {
                self.actor(actor)
                    .1
                    .disable_identity(pick(&NAMES, name), "left the team")?;
            }
            Op::RegisterKey { name, key } => {
                let name = pick(&NAMES, name);
                let k = usize::from(key) % self.keys.len();
                self.admin()
                    .register_key(name, &self.keys[k].public_key().to_ledger_text())?;
                self.owners.push((name.to_owned(), k));
            }
            Op::RevokeKey { key } => {
                let k = &self.keys[usize::from(key) % self.keys.len()];
                self.admin().revoke_key(&k.key_id().to_string())?;
            }
            Op::Evidence {
                actor,
                app,
                key,
                artifact,
                kind,
                commit,
            } => {
                let app = pick(&APPS, app);
                let (who, c) = self.for_app(actor, app);
                let key = match key {
                    Some(k) => usize::from(k) % self.keys.len(),
                    None => self
                        .owners
                        .iter()
                        .rev()
                        .find(|(o, _)| o == who)
                        .map_or(0, |(_, k)| *k),
                };
                let digest = artifact_digest(app, artifact);
                let source = sha(pick(&['a', 'b', 'c'], commit));
                let (kind, st) = match kind % 8 {
                    0 => (
                        Some("provenance"),
                        provenance(
                            digest,
                            &source,
                            "https://github.com/actions/runner/github-hosted",
                        ),
                    ),
                    1 => (
                        Some("pipeline-definition"),
                        pipeline_definition(digest, &source),
                    ),
                    2 => (
                        Some("junit"),
                        report(
                            digest,
                            andon_domain::JUNIT_PREDICATE_V1,
                            &junit(12, u32::from(commit % 2)),
                        ),
                    ),
                    3 => (
                        Some("coverage"),
                        report(
                            digest,
                            andon_domain::COVERAGE_PREDICATE_V1,
                            &lcov(u32::from(commit % 10)),
                        ),
                    ),
                    4 => (
                        Some("sarif"),
                        report(digest, andon_domain::SARIF_PREDICATE_V1, &clean_sarif()),
                    ),
                    5 => (
                        Some("sbom"),
                        report(digest, andon_domain::SBOM_PREDICATE_V1, &empty_sbom()),
                    ),
                    6 => (
                        Some("vulnerabilities"),
                        report(
                            digest,
                            andon_domain::VULNERABILITIES_PREDICATE_V1,
                            &crate::common::release::fixture(
                                "vulnerabilities/trivy-alpine-310.sarif",
                            ),
                        ),
                    ),
                    _ => (
                        None,
                        Statement::new(
                            vec![("app.tar".into(), digest)],
                            "https://example.com/test/v1".into(),
                            json!({ "n": artifact }),
                        ),
                    ),
                };
                c.submit_evidence(app, Some("run-1"), kind, &st.sign(&self.keys[key]))?;
            }
            Op::Webhook {
                event,
                pr,
                who,
                commit,
                delivery,
            } => {
                let number = u64::from(pr % 3) + 1;
                let author = (pick(&NAMES, who), 100 + u64::from(who % 6));
                let head = sha(char::from(b'1' + (pr % 3)));
                let merge = sha(pick(&['a', 'b', 'c'], commit));
                let title = format!("PAY-{number} change");
                let (name, payload) = match event % 5 {
                    0 => (
                        "pull_request",
                        pull_request("opened", number, &title, author, &head, None),
                    ),
                    1 => (
                        "pull_request_review",
                        review(number, author, "approved", &head),
                    ),
                    2 => (
                        "pull_request",
                        pull_request("closed", number, &title, author, &head, Some(&merge)),
                    ),
                    3 => (
                        "push",
                        push_to("refs/heads/main", &[(&merge, &format!("Merge {title}"))]),
                    ),
                    _ => (
                        "deployment_status",
                        deployment_status(&merge, "staging", "success"),
                    ),
                };
                common::github(&self.h, name, &format!("delivery-{delivery}"), &payload)?;
            }
            Op::Gate {
                actor,
                app,
                artifact,
                environment,
                migration,
                emergency,
            } => {
                let app = pick(&APPS, app);
                let change = migration.then(|| ChangeFields {
                    paths: vec!["db/migrations/0042_fees.sql".into()],
                    risk: Some("fees table rewritten".into()),
                    rollback_plan: Some("run 0042 down".into()),
                    scripts: vec![Script {
                        name: "db/migrations/0042_fees.sql".into(),
                        dry_run: None,
                    }],
                    ..Default::default()
                });
                self.for_app(actor, app).1.gate(&GateRequest {
                    application: app.into(),
                    artifact: format!(
                        "registry.example.com/{app}@{}",
                        artifact_digest(app, artifact)
                    ),
                    environment: pick(&ENVIRONMENTS, environment).into(),
                    emergency: emergency.then(|| "INC-9 payments down".to_owned()),
                    change,
                    ..Default::default()
                })?;
            }
            Op::DecideChange {
                actor,
                change,
                approve,
            } => {
                let ids = self
                    .admin()
                    .changes(None)?
                    .into_iter()
                    .map(|c| c.id)
                    .collect();
                let id = Self::nth(ids, change, "CHG-000000000000");
                let comment = if approve || change % 3 != 0 {
                    "looked at it"
                } else {
                    ""
                };
                self.actor(actor).1.decide_change(&id, approve, comment)?;
            }
            Op::RequestWaiver {
                actor,
                app,
                control,
            } => {
                self.actor(actor).1.request_waiver(&WaiverRequest {
                    application: pick(&APPS, app).into(),
                    control: pick(&CONTROLS, control).into(),
                    vulnerability: None,
                    reason: "flaky suite quarantined".into(),
                    ticket: "PAY-9".into(),
                    hours: 24,
                })?;
            }
            Op::ApproveWaiver { actor, waiver } => {
                let ids = Self::ids(&self.admin().list_waivers(None)?);
                let id = Self::nth(ids, waiver, "WVR-000000000000");
                self.actor(actor).1.approve_waiver(&id)?;
            }
            Op::Deploy {
                actor,
                app,
                artifact,
                environment,
                hours_ago,
                late,
            } => {
                let app = pick(&APPS, app);
                self.for_app(actor, app)
                    .1
                    .record_deployment(&DeploymentRequest {
                        application: app.into(),
                        artifact: format!(
                            "registry.example.com/{app}@{}",
                            artifact_digest(app, artifact)
                        ),
                        environment: pick(&ENVIRONMENTS, environment).into(),
                        run: Some("run-1".into()),
                        deployed_at: (hours_ago > 0).then(|| self.ago(i64::from(hours_ago) * 60)),
                        late: late.then(|| LateRequest {
                            reason: "the pipeline's report was lost".into(),
                        }),
                        ..Default::default()
                    })?;
            }
            Op::DeploymentState {
                actor,
                deployment,
                state,
            } => {
                let ids = self
                    .admin()
                    .deployments(None, None)?
                    .into_iter()
                    .map(|d| d.id)
                    .collect();
                let id = Self::nth(ids, deployment, "DEP-000000000000");
                self.actor(actor).1.deployment_state(
                    &id,
                    &DeploymentStateRequest {
                        state: pick(&STATES, state).into(),
                        ..Default::default()
                    },
                )?;
            }
            Op::Incident {
                actor,
                app,
                deployment,
                id,
            } => {
                let deployment = match deployment {
                    Some(i) => {
                        let ids = self
                            .admin()
                            .deployments(None, None)?
                            .into_iter()
                            .map(|d| d.id)
                            .collect();
                        Some(Self::nth(ids, i, "DEP-000000000000"))
                    }
                    None => None,
                };
                let app = pick(&APPS, app);
                self.for_app(actor, app)
                    .1
                    .report_incident(&IncidentRequest {
                        application: app.into(),
                        id: format!("INC-{}", id % 4),
                        title: "refunds stuck".into(),
                        started_at: self.ago(30),
                        resolved_at: (id % 2 == 0).then(|| self.ago(5)),
                        deployment,
                        late: None,
                    })?;
            }
            Op::RequestAccess {
                actor,
                app,
                environment,
                level,
                minutes,
            } => {
                self.actor(actor).1.request_access(&AccessRequestInput {
                    application: pick(&APPS, app).into(),
                    environment: pick(&ENVIRONMENTS, environment).into(),
                    level: pick(&LEVELS, level).into(),
                    reason: "INC-311 refunds stuck".into(),
                    ticket: "INC-311".into(),
                    minutes: u32::from(minutes),
                })?;
            }
            Op::DecideAccess {
                actor,
                request,
                verb,
            } => {
                let ids = Self::ids(&self.admin().access_requests(&[])?);
                let id = Self::nth(ids, request, "AR-000000000000");
                self.actor(actor).1.decide_access(
                    &id,
                    pick(&ACCESS_VERBS, verb),
                    Some("on call"),
                )?;
            }
            Op::AlertAction { actor, alert, verb } => {
                let ids = self.admin().alerts()?.into_iter().map(|a| a.id).collect();
                let id = Self::nth(ids, alert, "ALR-000000000000");
                self.actor(actor)
                    .1
                    .alert_action(&id, pick(&ALERT_VERBS, verb), Some("looking"))?;
            }
            Op::CheckAlerts => {
                self.admin().check_alerts()?;
            }
            Op::CheckAccess => {
                self.admin().check_access()?;
            }
            Op::Snapshot {
                actor,
                app,
                environment,
                artifact,
            } => {
                let app = pick(&APPS, app);
                self.for_app(actor, app).1.report_snapshot(
                    pick(&ENVIRONMENTS, environment),
                    &SnapshotInput {
                        application: Some(app.into()),
                        whole_environment: false,
                        taken_at: None,
                        late: None,
                        source: "kubernetes".into(),
                        workloads: vec![Workload {
                            name: format!("{app}-0"),
                            image: format!(
                                "registry.example.com/{app}@{}",
                                artifact_digest(app, artifact)
                            ),
                        }],
                    },
                )?;
            }
            Op::Telemetry {
                actor,
                app,
                ref kinds,
            } => {
                let app = pick(&APPS, app);
                let events: Vec<Value> = kinds
                    .iter()
                    .enumerate()
                    .map(|(i, k)| {
                        let kind = pick(&TELEMETRY, *k);
                        let at = self.ago(i as i64 + 1);
                        match kind {
                            "login.success" | "login.failure" => json!({
                                "kind": kind, "at": at, "source": "okta", "application": app,
                                "count": 1 + u32::from(*k) * 5,
                            }),
                            "http.requests" => json!({
                                "kind": kind, "at": at, "source": "lb", "application": app,
                                "environment": "production", "count": 100,
                                "status_4xx": 3, "status_5xx": u32::from(*k) * 10,
                            }),
                            "iam.change" | "config.change" => json!({
                                "kind": kind, "at": at, "source": "cloudtrail",
                                "application": app, "environment": "production",
                                "actor": pick(&NAMES, *k), "detail": "AttachRolePolicy",
                            }),
                            "maintenance.on" => json!({
                                "kind": kind, "at": at, "source": "ops-console",
                                "application": app, "environment": "production",
                            }),
                            other => json!({"kind": other, "at": at, "source": "x"}),
                        }
                    })
                    .collect();
                self.for_app(actor, app)
                    .1
                    .send_telemetry(&serde_json::to_vec(&events).expect("json"))?;
            }
            Op::PublishPolicy { variant } => {
                let bundle = match variant % 3 {
                    0 => json!({
                        "name": "pay-production", "applications": ["pay"],
                        "environments": ["production"],
                        "params": {"coverage": {"min_line_coverage": 95}},
                    }),
                    1 => json!({
                        "name": "pay-production", "applications": ["pay"],
                        "environments": ["production"],
                        "params": {"coverage": {"min_line_coverage": 50}},
                    }),
                    _ => json!({"name": "x", "params": {"nope": {}}}),
                };
                self.admin().publish_policy(&bundle)?;
            }
            Op::RegisterAccount { name, app } => {
                let app = pick(&APPS, app);
                self.admin().register_account(&AccountInput {
                    name: format!("deploy-{}", name % 3),
                    environment: "production".into(),
                    application: (app != "nope").then(|| app.to_owned()),
                    owners: vec![pick(&NAMES, name).into()],
                })?;
            }
            Op::AccountUsed { actor, name } => {
                self.actor(actor).1.account_used(
                    &format!("deploy-{}", name % 3),
                    &AccountUseInput {
                        at: Some(self.ago(i64::from(name % 4))),
                        actor: Some(pick(&NAMES, name).into()),
                        source: Some("teleport".into()),
                        late: None,
                    },
                )?;
            }
            Op::RetireAccount { name } => {
                self.admin()
                    .retire_account(&format!("deploy-{}", name % 3))?;
            }
            Op::Advance { minutes } => {
                self.clock
                    .advance(std::time::Duration::from_secs(u64::from(minutes) * 60));
            }
        }
        Ok(())
    }

    fn size(&self) -> Result<u64, String> {
        self.admin()
            .ledger_info()
            .map(|i| i.size)
            .map_err(|e| format!("reading the ledger's size: {e}"))
    }
}

/// The servers' configuration: the webhook secret, the test's clock, and no job running
/// between an operation and the test's look at the ledger (an operation runs them: check
/// alerts, check access).
fn configure(c: &mut andon_server::Config, clock: Clock) {
    c.github_webhook_secret = Some(common::SECRET.into());
    c.clock = clock;
    // Refused tokens are part of the mix: they must not lock the test out.
    c.auth_failure_limit = u32::MAX;
    let never = std::time::Duration::from_secs(365 * 86_400);
    c.review_check_interval = never;
    c.ledger_check_interval = never;
}

/// Runs `ops` on a fresh server, then checks what the property says.
fn run(b: Backend, ops: &[Op]) -> Result<(), String> {
    let clock = Clock::manual(common::at_ms(START));
    let on = clock.clone();
    let h = Harness::start_configured(b, |c| configure(c, on.clone()));
    let mut w = World::new(h, clock);
    w.setup().map_err(|e| format!("the starting world: {e}"))?;
    for (step, op) in ops.iter().enumerate() {
        let before = w.size()?;
        match w.apply(op) {
            Ok(()) => {}
            Err(ClientError::Api {
                status,
                code,
                message,
            }) if status < 500 => {
                let after = w.size()?;
                if after != before {
                    return Err(format!(
                        "step {step} ({op:?}) was refused ({status} {code}: {message}) yet the ledger grew from {before} to {after} entries"
                    ));
                }
            }
            Err(e) => return Err(format!("step {step} ({op:?}) failed: {e}")),
        }
    }
    let size = w.size()?;
    let verdict = w
        .admin()
        .verify_ledger()
        .map_err(|e| format!("verify: {e}"))?;
    if verdict["verified"] != true
        || verdict["problems"]
            .as_array()
            .is_some_and(|p| !p.is_empty())
    {
        return Err(format!(
            "after {} operations ({size} entries) the ledger does not verify or its replay differs from the tables:\n{verdict:#}",
            ops.len()
        ));
    }
    // A server that builds its authority from the ledger at start holds the same identities
    // and tokens as the one that applied each entry as it was appended.
    let on = w.clock.clone();
    let other = Client::new(
        &w.h.another_server_with(|c| configure(c, on)),
        w.admin().token().map(str::to_owned),
    );
    same(
        "identities",
        w.admin().list_identities(),
        other.list_identities(),
    )?;
    same(
        "tokens",
        w.admin().list_tokens(None),
        other.list_tokens(None),
    )?;
    Ok(())
}

/// Whether the server that appended (`a`) and the one started from the ledger (`b`) answer
/// `what` alike.
fn same<T: serde::Serialize>(
    what: &str,
    a: Result<T, ClientError>,
    b: Result<T, ClientError>,
) -> Result<(), String> {
    let a = serde_json::to_value(a.map_err(|e| format!("{what}: {e}"))?).expect("json");
    let b = serde_json::to_value(b.map_err(|e| format!("{what} on the second server: {e}"))?)
        .expect("json");
    if a == b {
        Ok(())
    } else {
        Err(format!(
            "{what} differ between the server that appended and one started from the ledger:\n{a:#}\n{b:#}"
        ))
    }
}

fn random_operations_leave_the_tables_equal_to_the_replayed_ledger(b: Backend) {
    let cases = std::env::var("ANDON_PROPERTY_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(CASES);
    let mut runner = TestRunner::new(Config {
        cases,
        max_shrink_iters: 200,
        failure_persistence: None,
        ..Config::default()
    });
    let started = std::time::Instant::now();
    let result = runner.run(&proptest::collection::vec(op(), 1..=MAX_OPS), |ops| {
        run(b, &ops).map_err(TestCaseError::fail)
    });
    match result {
        Ok(()) => eprintln!(
            "{cases} random sequences on {b:?} in {:.1?}",
            started.elapsed()
        ),
        Err(TestError::Fail(why, ops)) => {
            let listed: Vec<String> = ops
                .iter()
                .enumerate()
                .map(|(i, o)| format!("  {i}: {o:?}"))
                .collect();
            panic!(
                "{why}\nthe shortest failing sequence found ({} operations):\n{}",
                ops.len(),
                listed.join("\n")
            );
        }
        Err(TestError::Abort(why)) => panic!("aborted: {why}"),
    }
}

both_backends!(random_operations_leave_the_tables_equal_to_the_replayed_ledger);
