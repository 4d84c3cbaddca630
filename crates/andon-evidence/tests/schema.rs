//! SBOMs validated against their official schemas: CycloneDX's own test suite (every valid
//! document passes, every invalid one fails naming where), and real tools' output.

use std::path::{Path, PathBuf};

use andon_evidence::schema::{SchemaReport, validate};

fn spec_dir(version: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/cyclonedx-spec/{version}"))
}

/// The suite's files of one version whose name starts with `prefix` and ends with `ext`.
fn suite(version: &str, prefix: &str, ext: &str) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<_> = std::fs::read_dir(spec_dir(version))
        .expect("the CycloneDX test suite is in the fixtures")
        .map(|e| e.expect("entry").path())
        .filter(|p| {
            let n = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            n.starts_with(prefix) && n.ends_with(ext)
        })
        .map(|p| {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            (name, std::fs::read(&p).expect("readable"))
        })
        .collect();
    out.sort();
    out
}

fn report(name: &str, doc: &[u8]) -> SchemaReport {
    validate(doc).unwrap_or_else(|| panic!("{name}: CycloneDX is validated"))
}

const VERSIONS: [&str; 6] = ["1.2", "1.3", "1.4", "1.5", "1.6", "1.7"];

/// Every valid JSON document of CycloneDX's own test suite, 1.2 to 1.7, passes its
/// version's schema.
#[test]
fn the_cyclonedx_suites_valid_documents_pass() {
    let mut checked = 0;
    for v in VERSIONS {
        for (name, doc) in suite(v, "valid-", ".json") {
            let r = report(&name, &doc);
            assert!(r.valid, "{name}: {:?}", r.errors);
            assert_eq!(r.schema, format!("CycloneDX {v}"), "{name}");
            checked += 1;
        }
    }
    assert_eq!(checked, 218, "the suite's valid JSON documents");
}

/// Every invalid JSON document of the suite is refused: by the schema, naming where, or
/// (a `bomFormat` that is not CycloneDX) by the SBOM reader itself.
#[test]
fn the_cyclonedx_suites_invalid_documents_fail_naming_the_path() {
    let mut by_schema = 0;
    for v in VERSIONS {
        for (name, doc) in suite(v, "invalid-", ".json") {
            if name.starts_with("invalid-bomformat") {
                assert_eq!(validate(&doc), None, "{name}: not CycloneDX");
                assert!(andon_evidence::sbom::parse(&doc).is_err(), "{name}");
                continue;
            }
            let r = report(&name, &doc);
            assert!(!r.valid, "{name} passed its schema");
            assert!(r.error_count >= 1 && !r.errors.is_empty(), "{name}");
            by_schema += 1;
        }
    }
    assert_eq!(
        by_schema, 133,
        "the suite's invalid JSON documents, bomFormat aside"
    );
}

#[test]
fn failures_name_the_json_path_and_the_rule() {
    let doc = std::fs::read(spec_dir("1.6").join("invalid-hash-sha256-1.6.json")).expect("file");
    let r = report("invalid-hash-sha256", &doc);
    assert_eq!(r.schema, "CycloneDX 1.6");
    assert!(
        r.errors
            .iter()
            .any(|e| e.path == "/components/0/hashes/2/content"
                && e.message.contains("\"foo\" does not match")),
        "{:?}",
        r.errors
    );
    let doc = std::fs::read(spec_dir("1.6").join("invalid-license-id-1.6.json")).expect("file");
    let r = report("invalid-license-id", &doc);
    assert!(
        r.errors.iter().any(|e| e.path.starts_with("/components/0/licenses") && e.message.contains("Apache-2")),
        "{:?}",
        r.errors
    );
    let doc = std::fs::read(spec_dir("1.6").join("invalid-serialnumber-1.6.json")).expect("file");
    let r = report("invalid-serialnumber", &doc);
    assert_eq!(r.errors[0].path, "/serialNumber", "{:?}", r.errors);
}

/// What real tools wrote validates: npm, cyclonedx-py, cyclonedx-python-lib's own
/// snapshots, spdx-tools.
#[test]
fn real_tools_output_is_valid() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sbom");
    let mut files: Vec<PathBuf> = [
        "npm-11.19.1-cyclonedx.json",
        "cyclonedx-py-7.5.0-1.6.json",
        "npm-11.19.1-spdx-2.3.json",
        "spdx-tools-0.8.5-describes.spdx.json",
        "spdx-tools-0.8.5-describes-utf16le.spdx.json",
    ]
    .iter()
    .map(|f| fixtures.join(f))
    .collect();
    let snapshots = fixtures.join("cyclonedx-python-lib-snapshots");
    files.extend(
        std::fs::read_dir(snapshots)
            .expect("snapshots")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "json")),
    );
    assert!(files.len() > 70);
    for f in files {
        let doc = std::fs::read(&f).expect("readable");
        let r = report(&f.display().to_string(), &doc);
        assert!(r.valid, "{}: {:?}", f.display(), r.errors);
    }
}

#[test]
fn xml_is_not_validated_and_says_so_by_having_no_report() {
    let doc = include_bytes!("fixtures/sbom/cyclonedx-py-7.5.0-1.4.xml");
    assert_eq!(validate(doc), None);
}
