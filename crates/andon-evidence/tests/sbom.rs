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
