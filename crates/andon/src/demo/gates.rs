//! The demo's release gates: three payments releases gated to production (one allowed,
//! one denied for its review, one denied for a critical vulnerability and then allowed under
//! a waiver), then a decision replayed. `changes` goes on from the same releases.

use andon_client::Client;
use andon_domain::{JUNIT_PREDICATE_V1, ReportPredicate, Sha256Digest, Statement};

/// What the three gated releases show.
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Role {
    /// Everything holds.
    Clean,
    /// Approved only by its author.
    SelfApproved,
    /// A critical vulnerability, waived.
    Vulnerable,
}

/// The releases the demo gates, and the pipeline that asks.
pub(crate) struct Gated {
    /// The application (`payments-<suffix>`).
    pub app: String,
    /// Its pipeline's client.
    pub ci: Client,
    /// Its pipeline's signing key.
    pub key: andon_domain::PrivateKey,
    /// The repository's web address and `owner/name`.
    pub repo: (String, String),
    /// (what it shows, `image@digest`, source commit).
    pub releases: Vec<(Role, String, String)>,
}

impl Gated {
    /// Sends a whole run's evidence for a new image built from `commit` (with `sbom` as
    /// its SBOM, cyclonedx-py's of the release environment by default); its reference.
    pub(crate) fn rebuild(
        &self,
        name: &str,
        commit: &str,
        run: &str,
        sbom: Option<&[u8]>,
    ) -> anyhow::Result<String> {
        let image = "registry.example.com/payments".to_owned();
        let digest = Sha256Digest::of(format!("{}-{name}", self.app).as_bytes());
        let subject = (image.clone(), digest);
        let mut statements = match sbom {
            Some(bom) => crate::fixtures::sample_release::evidence_with_sbom(
                &subject,
                &self.repo.1,
                commit,
                run,
                false,
                bom,
            )?,
            None => crate::fixtures::sample_release::evidence(
                &subject,
                &self.repo.1,
                commit,
                run,
                false,
            )?,
        };
        statements.push((
            "provenance",
            Statement::new(
                vec![subject.clone()],
                "https://slsa.dev/provenance/v1".into(),
                crate::fixtures::build::provenance(&self.repo.0, commit, run),
            ),
        ));
        statements.push((
            "junit",
            Statement::new(
                vec![subject],
                JUNIT_PREDICATE_V1.into(),
                serde_json::to_value(ReportPredicate::new(
                    "application/xml",
                    Some("target/nextest/ci/junit.xml".into()),
                    crate::fixtures::build::junit_report("payments", 1).as_bytes(),
                ))?,
            ),
        ));
        for (kind, st) in statements {
            self.ci
                .submit_evidence(&self.app, Some(run), Some(kind), &st.sign(&self.key))?;
        }
        Ok(format!("{image}@{digest}"))
    }

    /// The release of `role`: (`image@digest`, source commit).
    pub(crate) fn find(&self, role: Role) -> Option<(String, String)> {
        self.releases
            .iter()
            .find(|(r, _, _)| *r == role)
            .map(|(_, a, c)| (a.clone(), c.clone()))
    }

    /// Asks the production gate for `artifact`.
    pub(crate) fn gate_production(
        &self,
        artifact: &str,
    ) -> anyhow::Result<andon_domain::api::DecisionView> {
        Ok(self.ci.gate(&andon_domain::api::GateRequest {
            application: self.app.clone(),
            artifact: artifact.to_owned(),
            environment: "production".into(),
            ..Default::default()
        })?)
    }

    /// Records `artifact` deployed to production by run `run`: its `D-…` id.
    pub(crate) fn deploy_production(&self, artifact: &str, run: &str) -> anyhow::Result<String> {
        let r = self
            .ci
            .record_deployment(&andon_domain::api::DeploymentRequest {
                application: self.app.clone(),
                artifact: artifact.to_owned(),
                environment: "production".into(),
                run: Some(run.to_owned()),
                ..Default::default()
            })?;
        Ok(r["deployment"]["id"]
            .as_str()
            .unwrap_or_default()
            .to_owned())
    }
}

/// One line: the verdict on a release and what the vulnerabilities control said.
fn vulnerabilities_line(artifact: &str, d: &andon_domain::api::DecisionView) {
    let reason = d
        .decision
        .controls
        .iter()
        .find(|c| c.id == "vulnerabilities")
        .map_or("", |c| c.reason.as_str());
    let verdict = if d.decision.allow { "ALLOW" } else { "DENY " };
    println!("    {verdict} {artifact}: vulnerabilities: {reason}");
}

/// Gates the three releases to production: one allowed, one denied for its review, one
/// denied for a critical vulnerability and then allowed under a waiver approved by someone
/// else; then replays a decision.
pub fn gates(admin: &Client, g: &Gated, suffix: &str) -> anyhow::Result<()> {
    let find = |role| {
        g.releases
            .iter()
            .find(|(r, _, _)| *r == role)
            .map(|(_, a, _)| a.clone())
    };
    let ask = |artifact: &str| {
        g.ci.gate(&andon_domain::api::GateRequest {
            application: g.app.clone(),
            artifact: artifact.to_owned(),
            environment: "production".into(),
            production: None,
            ..Default::default()
        })
    };
    println!("\n  Release gates (built-in control library, production):");
    let mut last = None;
    if let Some(a) = find(Role::Clean) {
        let d = ask(&a)?;
        println!(
            "    {} {a}: {} controls pass",
            if d.decision.allow { "ALLOW" } else { "DENY " },
            d.decision
                .controls
                .iter()
                .filter(|c| c.verdict.allows())
                .count()
        );
    }
    if let Some(a) = find(Role::SelfApproved) {
        let d = ask(&a)?;
        println!(
            "\n$ andon gate --app {} --artifact {a} --env production",
            g.app
        );
        crate::commands::gate::print_decision(&d);
    }
    if let Some(a) = find(Role::Vulnerable) {
        let d = ask(&a)?;
        println!();
        vulnerabilities_line(&a, &d);
        let w = g.ci.request_waiver(&andon_domain::api::WaiverRequest {
            application: g.app.clone(),
            control: "vulnerabilities".into(),
            vulnerability: Some("CVE-2018-7489".into()),
            reason: "setuptools is a build-time dependency, not shipped in the image".into(),
            ticket: "SEC-214".into(),
            hours: 72,
        })?;
        let id = w["id"].as_str().unwrap_or_default().to_owned();
        let approver = admin.create_identity(&format!("carol-{suffix}"), "approver", &[])?;
        Client::new(admin.base(), Some(approver.token)).approve_waiver(&id)?;
        println!(
            "    waiver {id} requested by the pipeline (ticket SEC-214), approved by carol-{suffix} for 72 hours"
        );
        let d = ask(&a)?;
        vulnerabilities_line(&a, &d);
        last = Some(d.id);
    }
    if let Some(id) = last {
        let (doc, same) = crate::commands::gate::replay(admin, &id)?;
        println!(
            "    decision {}… replayed from its signed input and policy {} {}…: {}",
            &id[..12],
            doc.policy.name,
            &doc.policy.version[..12],
            if same {
                "same verdict on every control"
            } else {
                "DIFFERENT VERDICT"
            }
        );
    }
    Ok(())
}
