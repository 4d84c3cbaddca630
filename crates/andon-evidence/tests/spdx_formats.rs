//! SPDX in each of its forms gives one summary: tag-value and JSON written of one document by
//! spdx-tools, by sbom4python and by the SPDX specification's own examples; SPDX 3.0 JSON-LD
//! written by spdx-python-model and sbom4python, and the SPDX examples' SPDX 3 twins of SPDX 2
//! documents. And CycloneDX 1.7: its `expression-detailed` license, and namespaces of
//! versions not read.

use andon_evidence::ParseError;
use andon_evidence::sbom::{SbomSummary, parse};

macro_rules! fixture {
    ($name:literal) => {
        include_bytes!(concat!("fixtures/sbom/", $name)).as_slice()
    };
}

fn read(name: &str, doc: &[u8]) -> SbomSummary {
    parse(doc).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The summary with the version and the order of the listed components set aside: an SPDX 3
/// graph is a set, its writers order elements as they please.
fn regardless_of_version_and_order(mut s: SbomSummary) -> SbomSummary {
    s.spec_version.clear();
    s.listed.sort_by(|a, b| a.name.cmp(&b.name));
    s
}

/// Components, with a purl, without a license.
fn counts(s: &SbomSummary) -> (u64, u64, u64) {
    (s.components, s.with_purl, s.without_license)
}

#[test]
fn tag_value_and_json_of_one_document_give_one_summary() {
    let pairs: [(&str, &[u8], &[u8]); 4] = [
        (
            "spdx-tools 0.8.5",
            fixture!("spdx-tv-spdx-tools-0.8.5-describes.spdx"),
            fixture!("spdx-tools-0.8.5-describes.spdx.json"),
        ),
        (
            "sbom4python 0.12.6",
            fixture!("spdx-tv-sbom4python-0.12.6-requests.spdx"),
            fixture!("spdx-tv-sbom4python-0.12.6-requests.spdx.json"),
        ),
        (
            "SPDX 2.3 specification example",
            fixture!("spdx-tv-spec-2.3-example.spdx"),
            fixture!("spdx-tv-spec-2.3-example.spdx.json"),
        ),
        (
            "SPDX 2.2 specification example",
            fixture!("spdx-tv-spec-2.2-example.spdx"),
            fixture!("spdx-tv-spec-2.2-example.spdx.json"),
        ),
    ];
    for (name, tv, json) in pairs {
        let t = read(name, tv);
        assert_eq!(t, read(name, json), "{name}: tag-value and JSON differ");
        assert_eq!(t.format, "spdx", "{name}");
    }
}

/// spdx-tools' document: one application described by `SPDXRef-DOCUMENT DESCRIBES` (the
/// subject), three dependencies with purls and licenses.
#[test]
fn spdx_tools_tag_value_names_the_subject_and_reads_each_package() {
    let s = read(
        "spdx-tools",
        fixture!("spdx-tv-spdx-tools-0.8.5-describes.spdx"),
    );
    assert_eq!(s.spec_version, "SPDX-2.3");
    assert_eq!(s.subject.as_deref(), Some("acme-webapp"));
    assert_eq!(counts(&s), (3, 3, 0));
    let lodash = &s.listed[2];
    assert_eq!(
        (
            lodash.name.as_str(),
            lodash.version.as_deref(),
            lodash.purl.as_deref()
        ),
        ("lodash", Some("4.17.21"), Some("pkg:npm/lodash@4.17.21"))
    );
    assert_eq!(lodash.licenses, vec!["MIT"]);
}

/// The specification's example: a `DocumentComment`, `CreatorComment` and file notices over
/// many lines in `<text>`, files with their own `SPDXID` and `LicenseConcluded` between the
/// packages, `NOASSERTION` licenses (Apache Commons Lang, Jena), `## ` comments. glibc is
/// described; Saxon's license is MPL-1.0; only Jena has a purl.
#[test]
fn the_specification_example_reads_past_files_text_and_comments() {
    let s = read("spec 2.3", fixture!("spdx-tv-spec-2.3-example.spdx"));
    assert_eq!(s.subject.as_deref(), Some("glibc"));
    assert_eq!(counts(&s), (3, 1, 2));
    let names: Vec<&str> = s.listed.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, vec!["Apache Commons Lang", "Jena", "Saxon"]);
    assert_eq!(s.licenses.get("MPL-1.0"), Some(&1));
    assert_eq!(s.licenses.len(), 1, "{:?}", s.licenses);
    assert_eq!(
        read("spec 2.2", fixture!("spdx-tv-spec-2.2-example.spdx")).spec_version,
        "SPDX-2.2"
    );
}

/// sbom4python writes `##### ` separator comments, files before the packages, and four
/// external references per package of which one is the purl.
#[test]
fn sbom4python_tag_value_lists_the_dependencies_of_requests() {
    let s = read(
        "sbom4python",
        fixture!("spdx-tv-sbom4python-0.12.6-requests.spdx"),
    );
    assert_eq!(s.subject.as_deref(), Some("requests"));
    assert_eq!(counts(&s), (4, 4, 0));
    assert_eq!(s.licenses.get("MIT"), Some(&2));
    let idna = s.listed.iter().find(|c| c.name == "idna").expect("idna");
    assert_eq!(idna.purl.as_deref(), Some("pkg:pypi/idna@3.21"));
    assert_eq!(idna.licenses, vec!["BSD-3-Clause"]);
}

/// Tag-value as Windows writes it: CRLF line ends, and UTF-16 with a byte-order mark
/// (PowerShell 5's `>`), read the same.
#[test]
fn tag_value_with_crlf_or_in_utf16_reads_the_same() {
    let doc = fixture!("spdx-tv-spdx-tools-0.8.5-describes.spdx");
    let plain = read("lf", doc);
    let text = std::str::from_utf8(doc).expect("utf-8");
    let crlf = text.replace('\n', "\r\n");
    assert_eq!(read("crlf", crlf.as_bytes()), plain);
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    assert_eq!(read("utf-16", &utf16), plain);
}

#[test]
fn broken_tag_value_is_refused_naming_the_line() {
    let e = parse(b"SPDXVersion: SPDX-2.3\nSPDXID: SPDXRef-DOCUMENT\nPackageName a\n")
        .expect_err("no colon");
    assert!(matches!(e, ParseError::Malformed { line: 3, .. }), "{e}");
    assert!(e.to_string().contains("Tag: value"), "{e}");
    let e = parse(b"SPDXVersion: SPDX-2.3\nPackageName: a\nPackageComment: <text>never closed\n")
        .expect_err("open text");
    assert!(matches!(e, ParseError::Malformed { line: 3, .. }), "{e}");
    let e = parse(b"SPDXVersion: SPDX-1.2\nPackageName: a\n").expect_err("SPDX 1");
    assert!(e.to_string().contains("not SPDX 2.x"), "{e}");
    let e = parse(b"PackageName: a\nSPDXVersion: SPDX-2.3\n").expect_err("version after");
    assert!(e.to_string().contains("no SPDXVersion"), "{e}");
    let e = parse(b"SPDXVersion: SPDX-2.3\nPackageName: a\nExternalRef: PACKAGE-MANAGER purl\n")
        .expect_err("short external ref");
    assert!(matches!(e, ParseError::Malformed { line: 3, .. }), "{e}");
    let e = parse(b"SPDXVersion: SPDX-2.3\n\xFF\n").expect_err("not utf-8");
    assert!(matches!(e, ParseError::Malformed { line: 2, .. }), "{e}");
}

/// SPDX 3 as the same tool writes it: sbom4python's SPDX 3.0.1 (a `software_Sbom` as the
/// document's root, whose root is requests; purls as `software_packageUrl`; licenses as
/// `simplelicensing_LicenseExpression`s) summarizes as its SPDX 2.3 tag-value and JSON do.
#[test]
fn sbom4python_spdx3_agrees_with_its_spdx2() {
    let s3 = read(
        "sbom4python spdx3",
        fixture!("spdx3-sbom4python-0.12.6-requests.spdx3.json"),
    );
    assert_eq!(
        (s3.format.as_str(), s3.spec_version.as_str()),
        ("spdx", "SPDX-3.0.1")
    );
    assert_eq!(s3.subject.as_deref(), Some("requests"));
    assert_eq!(counts(&s3), (4, 4, 0));
    let s2 = read(
        "sbom4python tv",
        fixture!("spdx-tv-sbom4python-0.12.6-requests.spdx"),
    );
    assert_eq!(
        regardless_of_version_and_order(s3),
        regardless_of_version_and_order(s2)
    );
}

/// spdx-python-model's serialization of make_spdx.py's document in SPDX 3 forms: purls as
/// `externalIdentifier` of type `packageUrl` and as `software_packageUrl`; licenses as an
/// `expandedlicensing_ListedLicense` (Apache-2.0), a license expression, and a concluded
/// `NoAssertionLicense` that gives way to the declared MIT, as SPDX 2's NOASSERTION does.
#[test]
fn spdx_python_model_spdx3_agrees_with_the_spdx2_document() {
    let s3 = read(
        "spdx-python-model",
        fixture!("spdx3-spdx-python-model-0.0.6-describes.spdx3.json"),
    );
    assert_eq!(s3.spec_version, "SPDX-3.0.1");
    assert_eq!(s3.subject.as_deref(), Some("acme-webapp"));
    assert_eq!(counts(&s3), (3, 3, 0));
    let requests = s3
        .listed
        .iter()
        .find(|c| c.name == "requests")
        .expect("requests");
    assert_eq!(requests.licenses, vec!["Apache-2.0"]);
    let lodash = s3
        .listed
        .iter()
        .find(|c| c.name == "lodash")
        .expect("lodash");
    assert_eq!(lodash.licenses, vec!["MIT"]);
    let s2 = read(
        "spdx-tools",
        fixture!("spdx-tools-0.8.5-describes.spdx.json"),
    );
    assert_eq!(
        regardless_of_version_and_order(s3),
        regardless_of_version_and_order(s2)
    );
}

/// The SPDX examples' SPDX 3.0 documents converted from SPDX 2 ones read as their SPDX 2
/// twins: a Maven project (six packages, the root `examplemaven` described, JUnit's concluded
/// license a NOASSERTION expression so its declared CPL-1.0 counts) and a Go library (whose
/// SPDX 2.2 twin is tag-value).
#[test]
fn the_spdx_examples_spdx3_twins_agree_with_their_spdx2() {
    let maven = read(
        "example8",
        fixture!("spdx3-examples-example8-maven.spdx3.json"),
    );
    assert_eq!(maven.subject.as_deref(), Some("examplemaven"));
    assert_eq!(counts(&maven), (5, 0, 4));
    assert_eq!(maven.licenses.get("CPL-1.0"), Some(&1));
    let maven2 = read(
        "example8 2.3",
        fixture!("spdx3-examples-example8-maven-2.3.spdx.json"),
    );
    assert_eq!(
        regardless_of_version_and_order(maven),
        regardless_of_version_and_order(maven2)
    );
    let go = read("example6", fixture!("spdx3-examples-example6-lib.json"));
    assert_eq!(go.subject.as_deref(), Some("go-1.15"));
    assert_eq!(counts(&go), (4, 0, 4));
    let go2 = read(
        "example6 2.2",
        fixture!("spdx-tv-examples-example6-lib-2.2.spdx"),
    );
    assert_eq!(go2.spec_version, "SPDX-2.2");
    assert_eq!(
        regardless_of_version_and_order(go),
        regardless_of_version_and_order(go2)
    );
}

/// The specification's own SPDX 3 example: the document's root is an SBOM whose root is the
/// one package, so there is a subject and no component (its one file is not a package).
#[test]
fn the_specification_spdx3_example_has_a_subject_and_no_components() {
    let s = read("package_sbom", fixture!("spdx3-spec-package-sbom.json"));
    assert_eq!(s.spec_version, "SPDX-3.0.1");
    assert_eq!(s.subject.as_deref(), Some("my-package"));
    assert_eq!(s.components, 0);
}

#[test]
fn broken_spdx3_is_refused_with_a_reason() {
    let ctx = r#""@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld""#;
    let e = parse(format!("{{{ctx}}}").as_bytes()).expect_err("no graph");
    assert!(e.to_string().contains("no @graph"), "{e}");
    let nameless =
        format!(r#"{{{ctx}, "@graph": [{{"type": "software_Package", "spdxId": "urn:p"}}]}}"#);
    let e = parse(nameless.as_bytes()).expect_err("no name");
    assert!(e.to_string().contains("without a name"), "{e}");
    let two = format!(
        r#"{{{ctx}, "@graph": [{{"type": "CreationInfo", "@id": "_:c", "specVersion": "2.3"}}]}}"#
    );
    let e = parse(two.as_bytes()).expect_err("version 2 in an SPDX 3 context");
    assert!(e.to_string().contains("specVersion \"2.3\""), "{e}");
    // Another JSON-LD document (spdx-tools 0.8's pre-release SPDX 3 prototype has its own
    // inline context) is not taken for SPDX 3.0.
    let e = parse(br#"{"@context": {"core": "https://spdx.org/rdf/Core/"}, "@graph": []}"#)
        .expect_err("not SPDX 3.0");
    assert!(e.to_string().contains("SPDX 3"), "{e}");
    let mut graph = format!(r#"{{{ctx}, "@graph": ["#);
    for i in 0..3 {
        graph.push_str(&format!(
            r#"{{"type": "software_Package", "spdxId": "urn:{i}", "name": "p{i}"}},"#
        ));
    }
    graph.push_str(r#"{"type": "Relationship", "relationshipType": "hasConcludedLicense", "from": "urn:0", "to": ["urn:0"]}]}"#);
    let s = parse(graph.as_bytes()).expect("a package that is its own license");
    assert_eq!((s.components, s.without_license), (3, 3));
}

/// CycloneDX 1.7's `expression-detailed` (XML) and `expression` with `expressionDetails`
/// (JSON) are read as the expression, and the two serializations agree: the specification's
/// own test BOM, and cyclonedx-python-lib's 1.7 snapshot of a BOM with every license kind.
#[test]
fn cyclonedx_17_expression_detailed_is_read_as_its_expression() {
    let pairs: [(&str, &[u8], &[u8]); 2] = [
        (
            "specification",
            fixture!("cdx17-spec-license-expression-with-text.json"),
            fixture!("cdx17-spec-license-expression-with-text.xml"),
        ),
        (
            "cyclonedx-python-lib",
            fixture!("cdx17-python-lib-11.12.0-licenses.json"),
            fixture!("cdx17-python-lib-11.12.0-licenses.xml"),
        ),
    ];
    for (name, json, xml) in pairs {
        let j = read(name, json);
        assert_eq!(j.spec_version, "1.7", "{name}");
        assert_eq!(read(name, xml), j, "{name}: XML and JSON differ");
        assert_eq!(j.without_license, 0, "{name}");
    }
    let spec = read(
        "spec",
        fixture!("cdx17-spec-license-expression-with-text.xml"),
    );
    assert_eq!(
        spec.listed[0].licenses,
        vec![
            "LicenseRef-my-custom-license AND (EPL-2.0 OR GPL-2.0 WITH Classpath-exception-2.0) AND MIT"
        ]
    );
    let lib = read("lib", fixture!("cdx17-python-lib-11.12.0-licenses.xml"));
    let detailed = lib
        .listed
        .iter()
        .find(|c| c.name == "c-with-expression-details")
        .expect("the component with expression details");
    assert_eq!(detailed.licenses, vec!["GPL-3.0-or-later OR GPL-2.0"]);
    assert_eq!(counts(&lib), (5, 0, 0));
}

/// A `<bom>` in CycloneDX's namespace of a version not read (none yet, or a typo) is refused
/// naming the namespace and the versions read, not recorded under a made-up version.
#[test]
fn cyclonedx_namespaces_of_unknown_versions_are_refused() {
    for ns in ["12", "1.8", "2.0", "1.6.1", ""] {
        let doc =
            format!(r#"<bom xmlns="http://cyclonedx.org/schema/bom/{ns}"><components/></bom>"#);
        let e = parse(doc.as_bytes()).expect_err(ns).to_string();
        assert!(
            e.contains(&format!("http://cyclonedx.org/schema/bom/{ns}"))
                && e.contains("1.0 to 1.7"),
            "{ns}: {e}"
        );
    }
    for ns in ["1.0", "1.1", "1.7"] {
        let doc = format!(
            r#"<bom xmlns="http://cyclonedx.org/schema/bom/{ns}"><components><component type="library"><name>a</name></component></components></bom>"#
        );
        let s = parse(doc.as_bytes()).unwrap_or_else(|e| panic!("{ns}: {e}"));
        assert_eq!((s.spec_version.as_str(), s.components), (ns, 1));
    }
}
