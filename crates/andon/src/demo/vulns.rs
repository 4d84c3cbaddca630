//! The demo's vulnerabilities: the gated payments releases carry cyclonedx-py's SBOM, with
//! setuptools 65.5.0. CVE-2022-40897 (ReDoS in setuptools, fixed in 65.5.1) is published:
//! the admin imports its OSV record, and Andon says which artifacts carry it, where they run
//! and whose they are.

use andon_client::Client;

use super::gates::Gated;

const ADVISORY: &[u8] = include_bytes!("advisories/PYSEC-2022-43012.json");

/// Imports the advisory, then asks where it runs, as `andon vuln impact` prints it.
pub(crate) fn run(admin: &Client, release: &Gated) -> anyhow::Result<()> {
    let imported = admin.import_advisories(ADVISORY)?;
    println!("\n$ andon vuln import PYSEC-2022-43012.json    # CVE-2022-40897 is published");
    for i in &imported.imported {
        println!("    imported {} at entry {}", i.id, i.ledger_index);
    }
    let impact = admin.impact_of("CVE-2022-40897", None)?;
    println!(
        "\n$ andon vuln impact CVE-2022-40897    # which of {}'s artifacts carry it, and where they run",
        release.app
    );
    crate::commands::vuln::print(&impact);
    Ok(())
}
