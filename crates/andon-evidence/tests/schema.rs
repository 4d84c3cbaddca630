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

const XML_VERSIONS: [&str; 8] = ["1.0", "1.1", "1.2", "1.3", "1.4", "1.5", "1.6", "1.7"];

/// Every valid XML document of CycloneDX's own test suite, 1.0 to 1.7, passes its version's
/// XSD.
#[test]
fn the_cyclonedx_suites_valid_xml_documents_pass() {
    let mut checked = 0;
    for v in XML_VERSIONS {
        for (name, doc) in suite(v, "valid-", ".xml") {
            let r = report(&name, &doc);
            assert!(r.valid, "{name}: {:?}", r.errors);
            assert_eq!(r.schema, format!("CycloneDX {v} XML"), "{name}");
            checked += 1;
        }
    }
    assert_eq!(checked, 246, "the suite's valid XML documents");
}

/// Every invalid XML document of the suite fails its XSD, naming where.
#[test]
fn the_cyclonedx_suites_invalid_xml_documents_fail_naming_the_path() {
    let mut checked = 0;
    for v in XML_VERSIONS {
        for (name, doc) in suite(v, "invalid-", ".xml") {
            let r = report(&name, &doc);
            assert!(!r.valid, "{name} passed its schema");
            assert!(r.error_count >= 1, "{name}");
            assert!(
                r.errors.iter().all(|e| e.path.starts_with("/bom")),
                "{name}: {:?}",
                r.errors
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 167, "the suite's invalid XML documents");
}

#[test]
fn xml_failures_name_the_element_path_and_the_rule() {
    let doc = std::fs::read(spec_dir("1.6").join("invalid-hash-sha256-1.6.xml")).expect("file");
    let r = report("invalid-hash-sha256", &doc);
    assert_eq!(r.schema, "CycloneDX 1.6 XML");
    assert_eq!(r.error_count, 1, "{:?}", r.errors);
    assert_eq!(
        r.errors[0].path,
        "/bom/components[1]/component[1]/hashes[1]/hash[3]"
    );
    assert!(
        r.errors[0]
            .message
            .starts_with("Element 'hash': [facet 'pattern'] The value 'foo'")
            && r.errors[0].message.ends_with("(line 11)"),
        "{:?}",
        r.errors
    );
    let doc = std::fs::read(spec_dir("1.6").join("invalid-hash-alg-1.6.xml")).expect("file");
    let r = report("invalid-hash-alg", &doc);
    assert_eq!(
        r.errors[0].path,
        "/bom/components[1]/component[1]/hashes[1]/hash[1]/@alg"
    );
    assert!(r.errors[0].message.contains("'FOO'"), "{:?}", r.errors);
    let doc = std::fs::read(spec_dir("1.6").join("invalid-license-id-1.6.xml")).expect("file");
    let r = report("invalid-license-id", &doc);
    assert!(
        r.errors[0].path.ends_with("/license[1]/id[1]")
            && r.errors[0].message.contains("'Apache-2'"),
        "{:?}",
        r.errors
    );
    assert!(
        r.errors[0].message.chars().count() < 400,
        "an enumeration of every license is cut"
    );
}

/// What real tools wrote in XML validates: cyclonedx-py, and cyclonedx-python-lib's own
/// serializations of every BOM its test suite builds.
#[test]
fn real_tools_xml_is_valid() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sbom");
    let mut files = vec![fixtures.join("cyclonedx-py-7.5.0-1.4.xml")];
    for dir in ["cyclonedx-python-lib-snapshots", "cyclonedx-pairs"] {
        files.extend(
            std::fs::read_dir(fixtures.join(dir))
                .expect("fixtures")
                .map(|e| e.expect("entry").path())
                .filter(|p| p.extension().is_some_and(|e| e == "xml")),
        );
    }
    assert!(files.len() > 70);
    for f in files {
        let doc = std::fs::read(&f).expect("readable");
        let r = report(&f.display().to_string(), &doc);
        assert!(r.valid, "{}: {:?}", f.display(), r.errors);
    }
}

/// A DOCTYPE naming an external DTD is read past and never loaded: a DTD that would break
/// the document if it were read changes nothing.
#[test]
fn an_external_dtd_is_never_loaded() {
    let doc = std::fs::read(spec_dir("1.6").join("valid-component-hashes-1.6.xml")).expect("file");
    let text = String::from_utf8(doc).expect("utf-8");
    let with_doctype = text.replacen(
        "<bom ",
        "<!DOCTYPE bom SYSTEM \"file:///etc/passwd\">\n<bom ",
        1,
    );
    assert_ne!(with_doctype, text);
    let r = report("with a DOCTYPE", with_doctype.as_bytes());
    assert!(r.valid, "{:?}", r.errors);
}

/// A document in UTF-16 with its byte-order mark is validated as libxml2 reads it, with paths
/// found in its UTF-8 text.
#[test]
fn utf16_xml_is_validated() {
    let doc = std::fs::read(spec_dir("1.6").join("invalid-hash-sha256-1.6.xml")).expect("file");
    let text = String::from_utf8(doc).expect("utf-8").replacen(
        "<?xml version=\"1.0\"?>",
        "<?xml version=\"1.0\" encoding=\"UTF-16\"?>",
        1,
    );
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    let r = report("utf-16", &utf16);
    assert_eq!(
        r.errors[0].path, "/bom/components[1]/component[1]/hashes[1]/hash[3]",
        "{:?}",
        r.errors
    );
}
