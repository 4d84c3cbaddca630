//! The demo's vulnerabilities: the gated payments releases carry cyclonedx-py's SBOM, with
//! setuptools 65.5.0. The clean release ships to production; then CVE-2022-40897 (ReDoS in
//! setuptools, fixed in 65.5.1) is published. The admin imports its OSV record, Andon says
//! which artifacts carry it, where they run and whose they are, and opens an item with a
//! deadline. The payments PSIRT attests a VEX statement (lib4vex's, written for that SBOM):
//! setuptools' vulnerable code is not in the execute path. The item closes, naming it.

use andon_client::Client;
use andon_domain::api::DeploymentRequest;
use andon_domain::{ArtifactRef, ReportPredicate, Statement, VULNERABILITIES_PREDICATE_V1};

use super::gates::{Gated, Role};

const ADVISORY: &[u8] = include_bytes!("advisories/PYSEC-2022-43012.json");
const VEX: &[u8] = include_bytes!(
    "../../../andon-evidence/tests/fixtures/vex/lib4vex-0.2.3/storefront.openvex.json"
);

/// Ships the clean release, imports the advisory, shows where it runs and the item it
/// opens, and closes the item with a VEX statement.
pub(crate) fn run(admin: &Client, release: &Gated) -> anyhow::Result<()> {
    let clean = release
        .releases
        .iter()
        .find(|(r, _, _)| *r == Role::Clean)
        .map(|(_, a, _)| a.clone());
    if let Some(artifact) = &clean {
        release.ci.record_deployment(&DeploymentRequest {
            application: release.app.clone(),
            artifact: artifact.clone(),
            environment: "production".into(),
            run: Some("release-clean".into()),
            ..Default::default()
        })?;
        println!(
            "\n$ andon deploy --app {} --artifact {artifact} --env production    # the allowed release ships; its SBOM lists setuptools 65.5.0",
            release.app
        );
    }
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
        "\n$ andon vuln impact CVE-2022-40897    # which of {}'s artifacts carry it, and where they run",
        release.app
    );
    crate::commands::vuln::print(&impact);
    let Some(artifact) = clean else {
        return Ok(());
    };
    let items = admin.vuln_items(&[("application", release.app.clone())])?;
    println!(
        "\n$ andon vuln items --app {}    # one item, its priority and deadline from the severity",
        release.app
    );
    crate::commands::vuln_items::print_list(&items);
    let Some(item) = items.first() else {
        return Ok(());
    };
    let a: ArtifactRef = artifact.parse()?;
    let st = Statement::new(
        vec![(a.name, a.digest)],
        VULNERABILITIES_PREDICATE_V1.into(),
        serde_json::to_value(ReportPredicate::new("application/json", None, VEX))?,
    );
    release.ci.submit_evidence(
        &release.app,
        None,
        Some("vulnerabilities"),
        &st.sign(&release.key),
    )?;
    println!(
        "\n$ andon attest vulnerabilities --app {} --subject {artifact} --file storefront.openvex.json    # the PSIRT's VEX: not affected",
        release.app
    );
    println!("\n$ andon vuln item {}", item.id);
    crate::commands::vuln_items::print_one(&admin.vuln_item(&item.id)?);
    Ok(())
}
