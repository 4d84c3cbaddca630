//! One summary whatever the serialization, as a property: BOMs drawn at random from
//! cyclonedx-python-lib's model (`tests/support/random_boms.py`: every component type,
//! nesting, pedigrees, tools, services, licenses of every form, license evidence,
//! vulnerabilities, CycloneDX 1.4 to 1.7), each serialized by the library as JSON and as
//! XML, give the same SBOM and vulnerability summaries, and both forms pass their official
//! schema. A new seed each run (`ANDON_BOM_SEED` replays one); a failure names its seed.

use std::path::{Path, PathBuf};
use std::process::Command;

/// BOMs drawn per run.
const COUNT: u32 = 200;

/// The Python of the virtual environment `.ci/python.sh` keeps, installed if missing.
fn python() -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let install = Command::new("bash")
        .arg(root.join(".ci/python.sh"))
        .output()
        .expect("bash");
    assert!(
        install.status.success(),
        ".ci/python.sh: {}",
        String::from_utf8_lossy(&install.stderr)
    );
    let venv = std::env::var("ANDON_PY_VENV").unwrap_or_else(|_| "/var/tmp/andon-py".into());
    format!("{venv}/bin/python")
}

fn seed() -> u64 {
    match std::env::var("ANDON_BOM_SEED") {
        Ok(s) => s.parse().expect("ANDON_BOM_SEED is a number"),
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(1),
    }
}

/// What one serialization gives: the SBOM summary, the vulnerability summary (when the BOM
/// has vulnerabilities), and the schema errors.
fn read(path: &Path) -> (String, String, Vec<String>) {
    let doc = std::fs::read(path).expect("readable");
    let sbom = format!("{:?}", andon_evidence::sbom::parse(&doc));
    let vulnerabilities = match andon_evidence::vulnerabilities::parse(&doc) {
        Ok(v) => format!("{v:?}"),
        Err(_) => "no vulnerabilities".into(),
    };
    let schema = andon_evidence::schema::validate(&doc).expect("CycloneDX is validated");
    let errors = schema
        .errors
        .iter()
        .map(|e| format!("{} {}", e.path, e.message))
        .collect();
    (sbom, vulnerabilities, errors)
}

#[test]
fn random_boms_read_the_same_from_json_and_xml() {
    let python = python();
    let seed = seed();
    let dir = tempfile::tempdir().expect("dir");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/random_boms.py");
    let out = Command::new(&python)
        .arg(&script)
        .arg(seed.to_string())
        .arg(COUNT.to_string())
        .arg(dir.path())
        .output()
        .expect("python");
    assert!(
        out.status.success(),
        "random_boms.py (seed {seed}): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut pairs: Vec<PathBuf> = std::fs::read_dir(dir.path())
        .expect("written")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    pairs.sort();
    assert_eq!(pairs.len(), COUNT as usize, "seed {seed}");
    let mut failures = Vec::new();
    let mut with_vulnerabilities = 0;
    for json in &pairs {
        let xml = json.with_extension("xml");
        let name = json.file_stem().map(|n| n.to_string_lossy().into_owned());
        let (js, jv, je) = read(json);
        let (xs, xv, xe) = read(&xml);
        if !js.starts_with("Ok(") {
            failures.push(format!("{name:?}: the JSON does not read: {js}"));
        }
        if js != xs {
            failures.push(format!(
                "{name:?}: SBOM summaries differ\n  json {js}\n  xml  {xs}"
            ));
        }
        if jv != xv {
            failures.push(format!(
                "{name:?}: vulnerability summaries differ\n  json {jv}\n  xml  {xv}"
            ));
        }
        if jv != "no vulnerabilities" {
            with_vulnerabilities += 1;
        }
        if !je.is_empty() || !xe.is_empty() {
            failures.push(format!(
                "{name:?}: schema errors\n  json {je:?}\n  xml  {xe:?}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "seed {seed} (replay with ANDON_BOM_SEED={seed}): {} of {COUNT} BOMs:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        with_vulnerabilities > COUNT / 10,
        "seed {seed}: {with_vulnerabilities} with vulnerabilities"
    );
}
