//! SBOM summaries of documents written by cyclonedx-py and npm, and hostile ones.

use andon_evidence::ParseError;
use andon_evidence::sbom::parse;

#[test]
fn cyclonedx_py_json_lists_the_environment_with_purls_and_licenses() {
    let s = parse(include_bytes!("fixtures/sbom/cyclonedx-py-7.5.0-1.6.json")).expect("parses");
    assert_eq!(
        (s.format.as_str(), s.spec_version.as_str()),
        ("cyclonedx", "1.6")
    );
    assert_eq!((s.components, s.with_purl, s.without_license), (4, 4, 0));
    assert_eq!(s.licenses.get("MIT"), Some(&3));
    assert_eq!(s.licenses.get("BSD-3-Clause"), Some(&1));
    let six = s.listed.iter().find(|c| c.name == "six").expect("six");
    assert_eq!(
        (six.version.as_deref(), six.purl.as_deref()),
        (Some("1.16.0"), Some("pkg:pypi/six@1.16.0"))
    );
}

#[test]
fn cyclonedx_py_xml_agrees_with_its_json() {
    let s = parse(include_bytes!("fixtures/sbom/cyclonedx-py-7.5.0-1.4.xml")).expect("parses");
    assert_eq!(
        (s.format.as_str(), s.spec_version.as_str()),
        ("cyclonedx", "1.4")
    );
    assert_eq!((s.components, s.with_purl, s.without_license), (4, 4, 0));
    assert_eq!(s.licenses.get("MIT"), Some(&3));
    let names: Vec<&str> = s.listed.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, vec!["idna", "pip", "setuptools", "six"]);
}

#[test]
fn npm_spdx_leaves_the_described_package_out_of_its_components() {
    let s = parse(include_bytes!("fixtures/sbom/npm-11.19.1-spdx-2.3.json")).expect("parses");
    assert_eq!(
        (s.format.as_str(), s.spec_version.as_str()),
        ("spdx", "SPDX-2.3")
    );
    assert_eq!(s.subject.as_deref(), Some("storefront-web"));
    assert_eq!(s.components, 1);
    assert_eq!(s.listed[0].purl.as_deref(), Some("pkg:npm/is-number@7.0.0"));
    assert_eq!(s.listed[0].licenses, vec!["MIT"]);
}

#[test]
fn npm_cyclonedx_names_its_subject() {
    let s = parse(include_bytes!("fixtures/sbom/npm-11.19.1-cyclonedx.json")).expect("parses");
    assert_eq!((s.spec_version.as_str(), s.components), ("1.5", 1));
    assert_eq!(s.subject.as_deref(), Some("npmproj"));
}

#[test]
fn unknown_and_hostile_documents_are_refused() {
    assert!(matches!(
        parse(br#"{"hello":"world"}"#),
        Err(ParseError::Malformed { .. })
    ));
    assert!(matches!(
        parse(br#"{"spdxVersion":"SPDX-3.0"}"#),
        Err(ParseError::Malformed { .. })
    ));
    let xxe = br#"<?xml version="1.0"?><!DOCTYPE b [<!ENTITY x SYSTEM "file:///etc/passwd">]><bom xmlns="http://cyclonedx.org/schema/bom/1.5"/>"#;
    assert!(matches!(parse(xxe), Err(ParseError::Refused { .. })));
    let mut nested = String::from(r#"{"bomFormat":"CycloneDX","specVersion":"1.5","components":"#);
    for _ in 0..100 {
        nested.push_str(r#"[{"name":"a","components":"#);
    }
    nested.push_str("[]");
    for _ in 0..100 {
        nested.push_str("}]");
    }
    nested.push('}');
    assert!(parse(nested.as_bytes()).is_err(), "nesting is bounded");
}

/// SPDX tools say what a document describes with a relationship (`SPDXRef-DOCUMENT
/// DESCRIBES`), not the deprecated `documentDescribes`: the described package is the
/// subject, not one of its components (spdx-tools 0.8.5: one application, three
/// dependencies).
#[test]
fn spdx_describes_relationship_names_the_subject() {
    let s = parse(include_bytes!(
        "fixtures/sbom/spdx-tools-0.8.5-describes.spdx.json"
    ))
    .expect("parses");
    assert_eq!(s.format, "spdx");
    assert_eq!(s.subject.as_deref(), Some("acme-webapp"));
    assert_eq!((s.components, s.with_purl, s.without_license), (3, 3, 0));
}

/// The same document in UTF-16 with a byte-order mark (PowerShell 5's `>`) reads the same.
#[test]
fn spdx_in_utf16_reads_as_in_utf8() {
    let utf8 = parse(include_bytes!(
        "fixtures/sbom/spdx-tools-0.8.5-describes.spdx.json"
    ))
    .expect("utf-8");
    let doc = include_bytes!("fixtures/sbom/spdx-tools-0.8.5-describes-utf16le.spdx.json");
    assert_eq!(&doc[..2], b"\xFF\xFE");
    assert_eq!(parse(doc).expect("utf-16"), utf8);
}

/// The same BOM written as JSON and as XML by cyclonedx-python-lib gives one summary:
/// pedigree ancestors, descendants and variants, tools, the described component's children
/// and licenses found as evidence are not the BOM's components.
#[test]
fn cyclonedx_json_and_xml_of_one_bom_agree() {
    let pairs: [(&str, &[u8], &[u8], u64); 6] = [
        (
            "plain",
            include_bytes!("fixtures/sbom/cyclonedx-pairs/plain-1.6.json"),
            include_bytes!("fixtures/sbom/cyclonedx-pairs/plain-1.6.xml"),
            3,
        ),
        (
            "pedigree",
            include_bytes!("fixtures/sbom/cyclonedx-pairs/pedigree-1.6.json"),
            include_bytes!("fixtures/sbom/cyclonedx-pairs/pedigree-1.6.xml"),
            4,
        ),
        (
            "metadata-tools",
            include_bytes!("fixtures/sbom/cyclonedx-pairs/metadata-tools-1.6.json"),
            include_bytes!("fixtures/sbom/cyclonedx-pairs/metadata-tools-1.6.xml"),
            2,
        ),
        (
            "nested",
            include_bytes!("fixtures/sbom/cyclonedx-pairs/nested-1.6.json"),
            include_bytes!("fixtures/sbom/cyclonedx-pairs/nested-1.6.xml"),
            4,
        ),
        (
            "license-expression",
            include_bytes!("fixtures/sbom/cyclonedx-pairs/license-expression-1.6.json"),
            include_bytes!("fixtures/sbom/cyclonedx-pairs/license-expression-1.6.xml"),
            2,
        ),
        (
            "setuptools-complete",
            include_bytes!("fixtures/sbom/cyclonedx-pairs/setuptools-complete-1.6.json"),
            include_bytes!("fixtures/sbom/cyclonedx-pairs/setuptools-complete-1.6.xml"),
            3,
        ),
    ];
    for (name, json, xml, components) in pairs {
        let j = parse(json).unwrap_or_else(|e| panic!("{name} json: {e}"));
        let x = parse(xml).unwrap_or_else(|e| panic!("{name} xml: {e}"));
        assert_eq!(j.components, components, "{name}: {j:#?}");
        assert_eq!(x, j, "{name}: XML and JSON differ");
    }
}

/// SPDX RDF/XML is named as such, not mistaken for a broken CycloneDX; a `<bom>` outside
/// CycloneDX's namespace is refused, not given a made-up version.
#[test]
fn other_xml_is_named_for_what_it_is() {
    let rdf = br#"<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:spdx="http://spdx.org/rdf/terms#"><spdx:SpdxDocument/></rdf:RDF>"#;
    let e = parse(rdf).expect_err("rdf").to_string();
    assert!(e.contains("SPDX RDF/XML"), "{e}");
    let odd = br#"<bom xmlns="http://example.com/schema/bom/12"><components/></bom>"#;
    let e = parse(odd).expect_err("namespace").to_string();
    assert!(e.contains("not in a CycloneDX namespace"), "{e}");
}
