//! One summary whatever the serialization: every BOM cyclonedx-python-lib keeps as a
//! snapshot in both JSON and XML (CycloneDX 1.6; its test suite's many model variants:
//! pedigrees, tools, services, licenses, nested components, vulnerabilities, dependencies)
//! gives the same summary from either.

use std::path::Path;

#[test]
fn every_snapshot_bom_reads_the_same_from_json_and_xml() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/sbom/cyclonedx-python-lib-snapshots");
    let mut pairs = 0;
    let mut differ = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .expect("the snapshots")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    entries.sort();
    for json in entries {
        let xml = json.with_extension("xml");
        let name = json
            .file_stem()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let j = andon_evidence::sbom::parse(&std::fs::read(&json).expect("json"));
        let x = andon_evidence::sbom::parse(&std::fs::read(&xml).expect("xml"));
        pairs += 1;
        match (j, x) {
            (Ok(j), Ok(x)) if j == x => {}
            (j, x) => differ.push(format!("{name}:\n  json {j:?}\n  xml  {x:?}")),
        }
    }
    assert!(pairs >= 70, "{pairs} pairs");
    assert!(
        differ.is_empty(),
        "{} of {pairs} differ:\n{}",
        differ.len(),
        differ.join("\n")
    );
}

/// The same for vulnerabilities: each snapshot BOM that carries a `vulnerabilities` section
/// gives the same findings from its XML as from its JSON (CycloneDX XML VEX and scans are
/// read, not refused).
#[test]
fn every_snapshot_with_vulnerabilities_reads_the_same_from_json_and_xml() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/sbom/cyclonedx-python-lib-snapshots");
    let mut pairs = 0;
    for entry in std::fs::read_dir(&dir).expect("the snapshots") {
        let json = entry.expect("entry").path();
        if json.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let bytes = std::fs::read(&json).expect("json");
        let doc: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
        if doc.get("vulnerabilities").is_none() {
            continue;
        }
        let name = json.display().to_string();
        let j = andon_evidence::vulnerabilities::parse(&bytes).expect(&name);
        let x = andon_evidence::vulnerabilities::parse(
            &std::fs::read(json.with_extension("xml")).expect("xml"),
        )
        .expect(&name);
        assert!(j.findings + j.not_affected > 0, "{name}: {j:#?}");
        assert_eq!(x, j, "{name}");
        pairs += 1;
    }
    assert!(pairs >= 3, "{pairs} snapshots with vulnerabilities");
}
