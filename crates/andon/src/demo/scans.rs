//! The demo's environment scans and the evidence types beyond build and test: a platform team
//! attests Nmap scans of a production environment, a release is denied once a port opened
//! there since the previous scan, then allowed under a waiver; the release also carries a
//! gitleaks scan, the staging site an OWASP ZAP report, and an SBOM that breaks its schema
//! (in JSON, and in XML against the XSD) is refused until the application is made lenient.
//! Every sample is a real tool's output kept in the evidence fixtures.

use andon_client::Client;
use andon_domain::api::{GateRequest, SchemaValidation, WaiverRequest};
use andon_domain::{
    DAST_PREDICATE_V1, HARDENING_PREDICATE_V1, ReportPredicate, SBOM_PREDICATE_V1,
    SECRETS_PREDICATE_V1, Sha256Digest, Statement,
};

use super::gates::{Gated, Role};

const SCAN1: &[u8] =
    include_bytes!("../../../andon-evidence/tests/fixtures/hardening/nmap-7.93-scan1.xml");
const SCAN2: &[u8] =
    include_bytes!("../../../andon-evidence/tests/fixtures/hardening/nmap-7.93-scan2.xml");
const GITLEAKS: &[u8] =
    include_bytes!("../../../andon-evidence/tests/fixtures/secrets/gitleaks-8.16.0-clean.json");
const ZAP: &[u8] = include_bytes!(
    "../../../andon-evidence/tests/fixtures/dast/zap-reports-basic-traditional-json.json"
);
const INVALID_SBOM: &[u8] = include_bytes!(
    "../../../andon-evidence/tests/fixtures/cyclonedx-spec/1.6/invalid-hash-sha256-1.6.json"
);
const INVALID_XML_SBOM: &[u8] = include_bytes!(
    "../../../andon-evidence/tests/fixtures/cyclonedx-spec/1.6/invalid-hash-sha256-1.6.xml"
);

fn report(
    subject: (String, Sha256Digest),
    predicate_type: &str,
    doc: &[u8],
) -> anyhow::Result<Statement> {
    let media = if doc.first() == Some(&b'<') {
        "application/xml"
    } else {
        "application/json"
    };
    Ok(Statement::new(
        vec![subject],
        predicate_type.into(),
        serde_json::to_value(ReportPredicate::new(media, None, doc))?,
    ))
}

/// Submits an SBOM that breaks its schema and prints the server's refusal after `what`.
fn refused(g: &Gated, st: &Statement, what: &str) -> anyhow::Result<()> {
    match g
        .ci
        .submit_evidence(&g.app, None, Some("sbom"), &st.sign(&g.key))
    {
        Err(andon_client::ClientError::Api { code, message, .. }) => {
            println!("    {what}: {code}: {message}");
            Ok(())
        }
        Ok(_) => anyhow::bail!("an SBOM breaking its schema was accepted"),
        Err(e) => Err(e.into()),
    }
}

/// The release the demo allowed, as `(image, digest)`.
fn clean_release(g: &Gated) -> Option<(String, Sha256Digest)> {
    let (_, artifact, _) = g.releases.iter().find(|(r, _, _)| *r == Role::Clean)?;
    let a: andon_domain::ArtifactRef = artifact.parse().ok()?;
    Some((a.name, a.digest))
}

/// Runs the scans part of the demo.
pub fn run(admin: &Client, g: &Gated, suffix: &str) -> anyhow::Result<()> {
    let Some((image, digest)) = clean_release(g) else {
        return Ok(());
    };
    let artifact = format!("{image}@{digest}");
    let env = format!("prod-eu-{suffix}");
    println!("\n  Environment scans ({env}), secrets and dynamic scans:");
    let platform = format!("platform-{suffix}");
    let (ops, ops_key) = crate::fixtures::application::pipeline_with(
        admin,
        &platform,
        "team-platform",
        andon_domain::KeyAlgorithm::Ed25519,
    )?;
    let scan = |doc: &[u8]| -> anyhow::Result<()> {
        let subject = (format!("environment:{env}"), Sha256Digest::of(doc));
        let st = report(subject, HARDENING_PREDICATE_V1, doc)?;
        let r = ops.submit_evidence(&platform, None, Some("hardening"), &st.sign(&ops_key))?;
        let shown = admin.show_evidence(r.id.as_deref().unwrap_or_default())?;
        let s = shown.summary.unwrap_or_default();
        println!(
            "    {platform} attests an Nmap scan of {env}: {} open ports ({})",
            s["open_ports_total"],
            s["open_ports"]
                .as_array()
                .map(|p| p
                    .iter()
                    .filter_map(|v| v.as_str())
                    .collect::<Vec<_>>()
                    .join(", "))
                .unwrap_or_default()
        );
        Ok(())
    };
    // The release's own secrets scan, and a dynamic scan of the platform's staging site.
    let st = report((image.clone(), digest), SECRETS_PREDICATE_V1, GITLEAKS)?;
    let r =
        g.ci.submit_evidence(&g.app, None, Some("secrets"), &st.sign(&g.key))?;
    let s = admin
        .show_evidence(r.id.as_deref().unwrap_or_default())?
        .summary
        .unwrap_or_default();
    println!(
        "    gitleaks 8.16.0 on the release's repository: {} findings",
        s["findings"]
    );
    let st = report(
        ("https://staging.example.com".into(), Sha256Digest::of(ZAP)),
        DAST_PREDICATE_V1,
        ZAP,
    )?;
    let r = ops.submit_evidence(&platform, None, Some("dast"), &st.sign(&ops_key))?;
    let s = admin
        .show_evidence(r.id.as_deref().unwrap_or_default())?
        .summary
        .unwrap_or_default();
    println!(
        "    OWASP ZAP on the staging site: {} alert type(s), {} instance(s), worst risk {}: the dynamic-scan control blocks a release that carries it",
        s["alerts"],
        s["instances"],
        s["max_risk"].as_str().unwrap_or("none")
    );
    let ask = || {
        g.ci.gate(&GateRequest {
            application: g.app.clone(),
            artifact: artifact.clone(),
            environment: env.clone(),
            production: None,
            ..Default::default()
        })
    };
    let show = |d: &andon_domain::api::DecisionView| {
        for c in d
            .decision
            .controls
            .iter()
            .filter(|c| matches!(c.id.as_str(), "hardening" | "no-secrets" | "dynamic-scan"))
        {
            println!("      {:<13} {}: {}", c.id, c.verdict.as_str(), c.reason);
        }
    };
    scan(SCAN1)?;
    let d = ask()?;
    println!(
        "    {} {artifact} to {env} (the first scan is the baseline):",
        if d.decision.allow { "ALLOW" } else { "DENY " }
    );
    show(&d);
    scan(SCAN2)?;
    let d = ask()?;
    println!(
        "    {} the same release once the environment gained a port:",
        if d.decision.allow { "ALLOW" } else { "DENY " }
    );
    show(&d);
    let w = g.ci.request_waiver(&WaiverRequest {
        application: g.app.clone(),
        control: "hardening".into(),
        vulnerability: None,
        reason: "port 18025 is the mail relay's planned migration, closed by OPS-77".into(),
        ticket: "OPS-77".into(),
        hours: 24,
    })?;
    let id = w["id"].as_str().unwrap_or_default().to_owned();
    let approver = admin.create_identity(&format!("farid-{suffix}"), "approver", &[])?;
    Client::new(admin.base(), Some(approver.token)).approve_waiver(&id)?;
    let d = ask()?;
    println!(
        "    {} under waiver {id} (ticket OPS-77, approved by farid-{suffix} for 24 hours)",
        if d.decision.allow { "ALLOW" } else { "DENY " }
    );
    show(&d);
    // CycloneDX's own invalid test document: refused, then recorded once lenient.
    let st = report((image.clone(), digest), SBOM_PREDICATE_V1, INVALID_SBOM)?;
    refused(g, &st, "an SBOM with a SHA-256 of \"foo\" is refused")?;
    // The same fault in CycloneDX XML, against the XSD.
    let xml = report((image.clone(), digest), SBOM_PREDICATE_V1, INVALID_XML_SBOM)?;
    refused(g, &xml, "the same BOM in XML is refused by its XSD")?;
    admin.set_evidence_policy(&g.app, SchemaValidation::Lenient)?;
    let r =
        g.ci.submit_evidence(&g.app, None, Some("sbom"), &st.sign(&g.key))?;
    let s = admin
        .show_evidence(r.id.as_deref().unwrap_or_default())?
        .summary
        .unwrap_or_default();
    println!(
        "    made lenient by the admin, it is recorded with {} schema error(s) at {}",
        s["schema"]["error_count"],
        s["schema"]["errors"][0]["path"].as_str().unwrap_or("?")
    );
    admin.set_evidence_policy(&g.app, SchemaValidation::Strict)?;
    // The image's full SBOM, too large to travel inline: uploaded once, named by digest.
    let (sbom, _) = crate::fixtures::large_sbom::cyclonedx(3_000_000);
    let stored = andon_domain::StoredReport {
        digest: Sha256Digest::of(&sbom),
        size: sbom.len() as u64,
    };
    let receipt =
        g.ci.upload_report(&stored.digest, stored.size, &mut &sbom[..])?;
    let st = Statement::new(
        vec![(image.clone(), digest)],
        SBOM_PREDICATE_V1.into(),
        serde_json::to_value(ReportPredicate::reference(
            "application/json",
            Some("image.cdx.json".into()),
            stored,
        ))?,
    );
    let r =
        g.ci.submit_evidence(&g.app, None, Some("sbom"), &st.sign(&g.key))?;
    let s = admin
        .show_evidence(r.id.as_deref().unwrap_or_default())?
        .summary
        .unwrap_or_default();
    println!(
        "    the image's full SBOM ({:.1} MB) is uploaded once as {}, then named by digest in the signed statement: {} components, schema valid: {}",
        stored.size as f64 / 1e6,
        receipt.digest,
        s["components"],
        s["schema"]["valid"]
    );
    Ok(())
}
