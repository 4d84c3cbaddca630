//! The demo's vulnerabilities: payments and storefront both run images whose cyclonedx-py
//! SBOM lists setuptools 65.5.0. CVE-2022-40897 (ReDoS in setuptools, fixed in 65.5.1) is
//! published: the admin imports its OSV record, Andon says which artifacts carry it, where
//! they run and whose they are, and opens an item per application with its deadline. The
//! storefront PSIRT attests a VEX statement (lib4vex's, written for that SBOM): the
//! vulnerable code is not in the execute path, and its item closes, naming it. Payments
//! ships the fix through the gates (a rebuild whose SBOM has setuptools 65.5.1): its item
//! goes fix built, fix deployed, closed, within its deadline; its security lead time then
//! stands beside the game day's time to production.

use andon_client::Client;
use andon_domain::api::DeploymentRequest;
use andon_domain::{
    ReportPredicate, SBOM_PREDICATE_V1, Sha256Digest, Statement, VULNERABILITIES_PREDICATE_V1,
};

use super::gates::{Gated, Role};
use crate::cli::output::duration;

/// The vulnerability the demo publishes.
const CVE: &str = "CVE-2022-40897";
const ADVISORY: &[u8] = include_bytes!("advisories/PYSEC-2022-43012.json");
const VEX: &[u8] = include_bytes!(
    "../../../andon-evidence/tests/fixtures/vex/lib4vex-0.2.3/storefront.openvex.json"
);
/// cyclonedx-py's SBOM of the release environment: setuptools 65.5.0.
const SBOM: &[u8] =
    include_bytes!("../../../andon-evidence/tests/fixtures/sbom/cyclonedx-py-7.5.0-1.6.json");
/// The same environment with setuptools 65.5.1, the fixed version.
const FIXED_SBOM: &[u8] = include_bytes!(
    "../../../andon-evidence/tests/fixtures/sbom/cyclonedx-py-7.5.0-setuptools-65.5.1.json"
);

/// Storefront's pipeline: (application, client, signing key).
pub(crate) type Storefront = (String, Client, andon_domain::PrivateKey);

/// A report statement about `artifact` (`image@digest`).
fn about(artifact: &str, predicate: &str, media: &str, bytes: &[u8]) -> anyhow::Result<Statement> {
    let a: andon_domain::ArtifactRef = artifact.parse()?;
    Ok(Statement::new(
        vec![(a.name, a.digest)],
        predicate.into(),
        serde_json::to_value(ReportPredicate::new(media, None, bytes))?,
    ))
}

/// Storefront's release runs in production with the same SBOM; its reference.
fn storefront_release(s: &Storefront) -> anyhow::Result<String> {
    let (app, ci, key) = s;
    let artifact = format!(
        "registry.example.com/storefront@{}",
        Sha256Digest::of(format!("{app}-release-7").as_bytes())
    );
    let st = about(&artifact, SBOM_PREDICATE_V1, "application/json", SBOM)?;
    ci.submit_evidence(app, Some("7100001"), Some("sbom"), &st.sign(key))?;
    ci.record_deployment(&DeploymentRequest {
        application: app.clone(),
        artifact: artifact.clone(),
        environment: "production".into(),
        run: Some("7100001".into()),
        ..Default::default()
    })?;
    println!(
        "\n$ andon deploy --app {app} --artifact {artifact} --env production    # storefront's release, SBOM attested, deployed by a pipeline that does not ask the gate yet (flagged as a bypass)"
    );
    Ok(artifact)
}

/// The item of `application`, read again.
fn item_of(
    admin: &Client,
    application: &str,
) -> anyhow::Result<Option<andon_domain::vuln_items::VulnItem>> {
    let items = admin.vuln_items(&[
        ("application", application.to_owned()),
        ("vulnerability", CVE.to_owned()),
    ])?;
    match items.first() {
        Some(i) => Ok(Some(admin.vuln_item(&i.id)?)),
        None => Ok(None),
    }
}

/// Publishes the CVE, shows its blast radius and items, closes storefront's with a VEX and
/// ships payments' fix; then the security lead time beside the game day (`drill`).
pub(crate) fn run(
    admin: &Client,
    release: &Gated,
    storefront: Option<&Storefront>,
    drill: Option<&str>,
) -> anyhow::Result<()> {
    let Some((clean, commit)) = release.find(Role::Clean) else {
        return Ok(());
    };
    release.deploy_production(&clean, "release-clean")?;
    println!(
        "\n$ andon deploy --app {} --artifact {clean} --env production    # the allowed release ships; its SBOM lists setuptools 65.5.0",
        release.app
    );
    let storefront_artifact = storefront.map(storefront_release).transpose()?;

    let imported = admin.import_advisories(ADVISORY)?;
    println!("\n$ andon vuln import PYSEC-2022-43012.json    # CVE-2022-40897 is published");
    for i in &imported.imported {
        println!("    imported {} at entry {}", i.id, i.ledger_index);
    }
    for a in &imported.alerts {
        println!("    alert {} ({}): {}", a.kind, a.severity, a.message);
    }
    let impact = admin.impact_of("CVE-2022-40897", None)?;
    println!(
        "\n$ andon vuln impact CVE-2022-40897    # which artifacts carry it, where they run, whose they are"
    );
    crate::commands::vuln::print(&impact);
    let items = admin.vuln_items(&[
        ("state", "open".to_owned()),
        ("vulnerability", CVE.to_owned()),
    ])?;
    println!(
        "\n$ andon vuln items --state open --vulnerability {CVE}    # one item per application, its priority and deadline from the severity"
    );
    crate::commands::vuln_items::print_list(&items);

    // Storefront: the PSIRT's VEX says the vulnerable code is never executed.
    if let (Some((app, ci, key)), Some(artifact)) = (storefront, &storefront_artifact) {
        let st = about(
            artifact,
            VULNERABILITIES_PREDICATE_V1,
            "application/json",
            VEX,
        )?;
        ci.submit_evidence(app, None, Some("vulnerabilities"), &st.sign(key))?;
        println!(
            "\n$ andon attest vulnerabilities --app {app} --subject {artifact} --file storefront.openvex.json    # the PSIRT's VEX: not affected"
        );
        if let Some(i) = item_of(admin, app)? {
            println!("\n$ andon vuln item {}", i.id);
            crate::commands::vuln_items::print_one(&i);
        }
    }

    // Payments: the fix is built, allowed by the gate and shipped.
    let fixed = release.rebuild("setuptools-65.5.1", &commit, "9300001", Some(FIXED_SBOM))?;
    println!(
        "\n    payments rebuilds with setuptools 65.5.1 (run 9300001): {fixed}, its SBOM attested"
    );
    let d = release.gate_production(&fixed)?;
    let drilled = d
        .decision
        .controls
        .iter()
        .find(|c| c.id == "drill-recent")
        .map(|c| c.reason.clone())
        .unwrap_or_default();
    println!(
        "\n$ andon gate --app {} --artifact {fixed} --env production    # {}; drill-recent: {drilled}",
        release.app,
        if d.decision.allow { "ALLOW" } else { "DENY" }
    );
    let deployed = release.deploy_production(&fixed, "9300001")?;
    println!("    deployed as {deployed}");
    if let Some(i) = item_of(admin, &release.app)? {
        println!("\n$ andon vuln item {}", i.id);
        crate::commands::vuln_items::print_one(&i);
    }

    // What the pipeline's own scan of the running image reports opens items too.
    let scanned = admin.vuln_items(&[
        ("application", release.app.clone()),
        ("state", "open".to_owned()),
    ])?;
    println!(
        "\n$ andon vuln items --app {} --state open    # what Trivy's scan of the image running in production still reports, each with its deadline",
        release.app
    );
    crate::commands::vuln_items::print_list(&scanned);

    let m = admin.metrics(&[
        ("application", release.app.clone()),
        ("period", "month".to_owned()),
    ])?;
    let s = &m["security"];
    let hours = |v: &serde_json::Value| v.as_f64().map(|h| (h * 3_600_000.0) as i64);
    println!(
        "\n$ andon metrics --app {} --period month    # the real fix beside the rehearsal",
        release.app
    );
    println!(
        "    security lead time (detected → fix in production): {} fixed, {} within the deadline, p50 {}",
        s["total"]["fixed"],
        s["total"]["within_deadline"],
        duration(hours(&s["total"]["lead_time_median_hours"]))
    );
    println!(
        "    game day{}: {} finished, time to production p50 {}",
        drill.map(|d| format!(" {d}")).unwrap_or_default(),
        s["drills"]["finished"],
        duration(hours(&s["drills"]["time_to_production_median_hours"]))
    );
    Ok(())
}
