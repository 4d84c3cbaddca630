//! VEX documents as vulnerability evidence: OpenVEX (the OpenVEX project's own examples, and
//! lib4vex's output), CSAF 2.0 (OASIS's examples and validator test files, Red Hat's csaf-lib
//! and csaf-tool's output) and CycloneDX VEX (lib4vex), each read into findings and
//! normalized statements. Counts were checked with jq on the documents.

use andon_evidence::ParseError;
use andon_evidence::vulnerabilities::{VexStatement, VulnerabilitySummary, justification, parse};
use proptest::prelude::*;

const GO_VEX_V020: &[u8] = include_bytes!("fixtures/vex/openvex/go-vex-v0.2.0.json");
const GO_VEX_V001: &[u8] = include_bytes!("fixtures/vex/openvex/go-vex-v0.0.1.json");
const VEXCTL_2VULNS: &[u8] =
    include_bytes!("fixtures/vex/openvex/vexctl-sample-2vulns.openvex.json");
const VEXCTL_TRIVY: &[u8] = include_bytes!("fixtures/vex/openvex/vexctl-nginx-trivy.sarif.json");
const LIB4VEX_OPENVEX: &[u8] = include_bytes!("fixtures/vex/lib4vex-0.2.3/storefront.openvex.json");
const LIB4VEX_CSAF: &[u8] = include_bytes!("fixtures/vex/lib4vex-0.2.3/storefront.csaf.json");
const LIB4VEX_CDX: &[u8] = include_bytes!("fixtures/vex/lib4vex-0.2.3/storefront.cdx.json");
const CSAF_LIB: &[u8] = include_bytes!("fixtures/vex/csaf-lib-0.1.0b12/storefront.csaf.json");
const OASIS_MULTI: &[u8] = include_bytes!("fixtures/vex/csaf/oasis-2022-evd-uc-03-ms-001.json");
const OASIS_UC08: &[u8] = include_bytes!("fixtures/vex/csaf/oasis-2022-evd-uc-08-001.json");
const OASIS_SECVISOGRAM: &[u8] = include_bytes!("fixtures/vex/csaf/oasis-sec-vex-2022-0001.json");
const OASIS_BSI: &[u8] = include_bytes!("fixtures/vex/csaf/oasis-bsi-2022-0001.json");
const OASIS_RHSA: &[u8] = include_bytes!("fixtures/vex/csaf/oasis-rhsa-2021_5186.json");
const OASIS_CISCO: &[u8] = include_bytes!("fixtures/vex/csaf/oasis-cisco-sa-20180328-smi2.json");
const OASIS_FLAGS: &[u8] =
    include_bytes!("fixtures/vex/csaf/oasis_csaf_tc-csaf_2_0-2021-6-1-27-09-16.json");
const OASIS_NO_STATUS: &[u8] =
    include_bytes!("fixtures/vex/csaf/oasis_csaf_tc-csaf_2_0-2021-6-1-04-11.json");

fn statement<'a>(s: &'a VulnerabilitySummary, id: &str, status: &str) -> &'a VexStatement {
    s.statements
        .iter()
        .find(|st| st.id == id && st.status == status)
        .unwrap_or_else(|| panic!("no {status} statement of {id}: {:#?}", s.statements))
}

/// (status, justification) of every statement, in document order.
fn verdicts(s: &VulnerabilitySummary) -> Vec<(&str, &str, Option<&str>)> {
    s.statements
        .iter()
        .map(|st| {
            (
                st.id.as_str(),
                st.status.as_str(),
                st.justification.as_deref(),
            )
        })
        .collect()
}

#[test]
fn openvex_v020_statements_with_subcomponents() {
    let s = parse(GO_VEX_V020).expect("parses");
    assert_eq!(s.format, "openvex");
    assert_eq!(
        s.issuer.as_deref(),
        Some("The OpenVEX Project <openvex@openssf.org>")
    );
    assert_eq!(s.statement_count, 5);
    // Three fixed, two not affected: each names one image with two subcomponents, a finding
    // each, none of them open.
    assert_eq!((s.findings, s.not_affected, s.ids), (0, 10, 0));
    let st = statement(&s, "CVE-2023-3446", "not_affected");
    assert_eq!(
        st.justification.as_deref(),
        Some("vulnerable_code_not_present")
    );
    assert_eq!(
        st.impact.as_deref(),
        Some("affected functions were removed before packaging")
    );
    assert_eq!(
        st.products,
        vec![
            "pkg:oci/alpine@sha256%3A124c7d2707904eea7431fffe91522a01e5a861a624ee31d03372cc1d138a3126"
        ]
    );
    assert_eq!(
        st.components,
        vec![
            "pkg:apk/alpine/libssl3@3.0.8-r3",
            "pkg:apk/alpine/libcrypto3@3.0.8-r3"
        ]
    );
    // The document's timestamp stands for statements without their own.
    assert_eq!(
        st.timestamp.as_deref(),
        Some("2023-07-17T18:28:47.696004345-06:00")
    );
    assert_eq!(statement(&s, "CVE-2023-1255", "fixed").justification, None);
}

#[test]
fn openvex_v001_vulnerability_and_products_are_strings() {
    let s = parse(GO_VEX_V001).expect("parses");
    assert_eq!(s.format, "openvex");
    assert_eq!(verdicts(&s), vec![("CVE-2023-12345", "fixed", None)]);
    let st = &s.statements[0];
    assert_eq!(st.product_count, 2);
    assert_eq!(st.products[1], "pkg:apk/wolfi/git@2.39.0-r1?arch=x86_64");
    assert_eq!((s.findings, s.not_affected), (0, 2));
}

#[test]
fn openvex_aliases_and_the_scan_it_filters() {
    let s = parse(VEXCTL_2VULNS).expect("parses");
    assert_eq!(
        verdicts(&s),
        vec![
            (
                "CVE-2023-27103",
                "not_affected",
                Some("component_not_present")
            ),
            ("CVE-2007-5686", "fixed", None),
        ]
    );
    assert_eq!(
        s.statements[0].aliases,
        vec!["SNYK-DEBIAN12-LIBDE265-3361563"]
    );
    // The nginx image's Trivy scan the VEX was written for: 99 results, the one at high
    // is CVE-2023-27103 in libde265-0, which the VEX says is not present.
    let scan = parse(VEXCTL_TRIVY).expect("parses");
    assert_eq!(
        (scan.format.as_str(), scan.findings, scan.ids),
        ("sarif", 99, 64)
    );
    assert!(scan.statements.is_empty());
    let f = scan
        .listed
        .iter()
        .find(|f| f.id == "CVE-2023-27103")
        .expect("listed");
    assert_eq!(
        (f.severity.as_str(), f.component.as_deref()),
        ("high", Some("libde265-0"))
    );
}

#[test]
fn lib4vex_writes_the_same_statements_in_three_forms() {
    let expected = vec![
        (
            "CVE-2022-40897",
            "not_affected",
            Some("vulnerable_code_not_in_execute_path"),
        ),
        ("CVE-2023-5752", "affected", None),
        ("CVE-2024-3651", "fixed", None),
        ("CVE-2021-3572", "not_affected", None),
        ("CVE-2099-0001", "under_investigation", None),
    ];
    let openvex = parse(LIB4VEX_OPENVEX).expect("openvex");
    assert_eq!(verdicts(&openvex), expected);
    assert_eq!((openvex.findings, openvex.not_affected), (2, 3));
    assert_eq!(
        statement(&openvex, "CVE-2023-5752", "affected")
            .action
            .as_deref(),
        Some("Upgrade pip to 23.3 or later.")
    );
    // CycloneDX 1.7 written by lib4vex: `code_not_reachable` is the same justification.
    let cdx = parse(LIB4VEX_CDX).expect("cyclonedx");
    assert_eq!(cdx.format, "cyclonedx");
    assert_eq!(verdicts(&cdx), expected);
    assert_eq!((cdx.findings, cdx.not_affected), (2, 3));
    let st = statement(&cdx, "CVE-2022-40897", "not_affected");
    assert_eq!(
        st.impact.as_deref(),
        Some("package_index is never called: setuptools is only used to build the wheel.")
    );
    // CSAF written by csaf-tool (lib4vex's CSAF writer), which flags CVE-2021-3572
    // `component_not_present` although none was given.
    let csaf = parse(LIB4VEX_CSAF).expect("csaf");
    assert_eq!(csaf.format, "csaf");
    assert_eq!(csaf.tools, vec!["csaf-tool".to_owned()]);
    let mut with_flag = expected.clone();
    with_flag[3].2 = Some("component_not_present");
    assert_eq!(verdicts(&csaf), with_flag);
    assert_eq!(
        statement(&csaf, "CVE-2023-5752", "affected").products,
        vec!["Storefront PSIRT storefront 1.0"]
    );
}

#[test]
fn csaf_lib_products_resolve_through_relationships_to_purls() {
    let s = parse(CSAF_LIB).expect("parses");
    assert_eq!(s.format, "csaf");
    assert_eq!(s.tools, vec!["csaf-lib".to_owned()]);
    assert_eq!(s.issuer.as_deref(), Some("Storefront PSIRT"));
    // Eight product statuses: 3 affected and 1 under investigation open, 2 fixed and 2 not
    // affected apart; CVE-2022-40897 affects 0.9 and not 1.0, so two statements.
    assert_eq!((s.findings, s.not_affected, s.ids), (4, 4, 3));
    assert_eq!(s.statement_count, 6);
    assert_eq!(s.by_severity.get("medium"), Some(&3));
    assert_eq!(s.by_severity.get("unknown"), Some(&1));
    let na = statement(&s, "CVE-2022-40897", "not_affected");
    assert_eq!(
        na.justification.as_deref(),
        Some("vulnerable_code_not_in_execute_path")
    );
    assert_eq!(na.products, vec!["pkg:pypi/setuptools@65.5.0"]);
    let affected = statement(&s, "CVE-2022-40897", "affected");
    assert_eq!(
        affected.action.as_deref(),
        Some("vendor_fix: Upgrade to storefront 1.0.")
    );
    let pip = statement(&s, "CVE-2023-5752", "affected");
    assert_eq!(pip.aliases, vec!["GHSA-mq26-g339-26xf"]);
    // Two products (pip in 0.9 and in 1.0), one purl.
    assert_eq!((pip.product_count, pip.products.len()), (2, 1));
    // Not affected with an impact statement and no flag: no justification.
    let st = statement(&s, "CVE-2021-3572", "not_affected");
    assert_eq!(
        (st.justification.as_deref(), st.impact.as_deref()),
        (None, Some("The fix shipped in pip 21.1."))
    );
    let f = s
        .listed
        .iter()
        .find(|f| f.id == "CVE-2023-5752")
        .expect("listed");
    assert_eq!(
        (f.component.as_deref(), f.version.as_deref(), f.score),
        (Some("pkg:pypi/pip@23.2.1"), Some("23.2.1"), Some(5.5))
    );
}

#[test]
fn oasis_vex_examples() {
    let s = parse(OASIS_MULTI).expect("multiple statuses");
    assert_eq!(s.statement_count, 19);
    assert_eq!((s.findings, s.not_affected), (10, 9));
    // Impact statements only, no flags: no justification.
    let st = statement(&s, "CVE-2020-11897", "not_affected");
    assert_eq!(st.justification, None);
    assert_eq!(
        st.impact.as_deref(),
        Some("IPv6 is not supported and code is not present.")
    );
    assert_eq!(st.products, vec!["Example Company GHI 17.4"]);

    let s = parse(OASIS_SECVISOGRAM).expect("Secvisogram not affected by Log4Shell");
    assert_eq!(s.statement_count, 3);
    assert!(
        s.statements
            .iter()
            .all(|st| st.justification.as_deref() == Some("component_not_present"))
    );

    // Per product: a flag for A and B, an impact threat for C, so two statements a CVE.
    let s = parse(OASIS_FLAGS).expect("flags and threats");
    assert_eq!(s.statement_count, 6);
    let with: Vec<u64> = s
        .statements
        .iter()
        .filter(|st| st.justification.is_some())
        .map(|st| st.product_count)
        .collect();
    assert_eq!(with.iter().sum::<u64>(), 5);
    assert_eq!(s.not_affected, 9);

    let s = parse(OASIS_UC08).expect("uc 8");
    assert_eq!((s.findings, s.not_affected), (8, 13));
    assert_eq!(s.by_severity.get("critical"), Some(&4));
    assert_eq!(s.by_severity.get("medium"), Some(&4));
    assert_eq!(s.max_severity.as_deref(), Some("critical"));
}

#[test]
fn csaf_security_advisories_with_product_status() {
    let s = parse(OASIS_BSI).expect("BSI advisory");
    // first_fixed and fixed name the same product once.
    assert_eq!((s.findings, s.not_affected), (5, 1));
    assert_eq!(s.by_severity.get("medium"), Some(&5));
    assert_eq!(
        statement(&s, "CVE-2022-27193", "affected").aliases,
        vec!["csaf-tools/CVRF-CSAF-Converter#78"]
    );
    let s = parse(OASIS_RHSA).expect("Red Hat advisory");
    assert_eq!((s.findings, s.not_affected), (0, 6));
    assert_eq!(s.issuer.as_deref(), Some("Red Hat Product Security"));
    let s = parse(OASIS_CISCO).expect("Cisco advisory");
    assert_eq!((s.findings, s.ids), (259, 1));
    assert_eq!(s.by_severity.get("critical"), Some(&259));
    assert_eq!(s.statements[0].product_count, 259);
    assert_eq!(s.statements[0].products.len(), 100);
}

#[test]
fn cyclonedx_analysis_is_a_statement_alike_in_json_and_xml() {
    // cyclonedx-python-lib's own snapshot of one BOM in both serializations.
    let json = parse(include_bytes!(
        "fixtures/sbom/cyclonedx-python-lib-snapshots/get_bom_with_component_setuptools_with_vulnerability-1.6.json"
    ))
    .expect("json");
    let xml = parse(include_bytes!(
        "fixtures/sbom/cyclonedx-python-lib-snapshots/get_bom_with_component_setuptools_with_vulnerability-1.6.xml"
    ))
    .expect("xml");
    assert_eq!(json.statements, xml.statements);
    let st = statement(&json, "CVE-2018-7489", "affected");
    assert_eq!(st.aliases, vec!["SOME-OTHER-ID"]);
    // Exploitable: the `requires_environment` given is no reason it is not affected.
    assert_eq!(st.justification, None);
    assert_eq!(st.impact.as_deref(), Some("Some extra detail"));
    assert_eq!(
        st.products,
        vec!["pkg:pypi/setuptools@50.3.2?extension=tar.gz"]
    );
    assert_eq!(
        st.timestamp.as_deref(),
        Some("2018-09-01T10:50:42.051979+00:00")
    );
}

#[test]
fn justifications_of_every_form_map_to_the_five_words() {
    for (word, to) in [
        ("component_not_present", "component_not_present"),
        ("requires_dependency", "component_not_present"),
        ("code_not_present", "vulnerable_code_not_present"),
        ("code_not_reachable", "vulnerable_code_not_in_execute_path"),
        (
            "requires_configuration",
            "vulnerable_code_cannot_be_controlled_by_adversary",
        ),
        (
            "requires_environment",
            "vulnerable_code_cannot_be_controlled_by_adversary",
        ),
        ("protected_by_compiler", "inline_mitigations_already_exist"),
        ("protected_at_runtime", "inline_mitigations_already_exist"),
        ("protected_at_perimeter", "inline_mitigations_already_exist"),
        (
            "protected_by_mitigating_control",
            "inline_mitigations_already_exist",
        ),
        (
            "INLINE_MITIGATIONS_ALREADY_EXIST",
            "inline_mitigations_already_exist",
        ),
    ] {
        assert_eq!(justification(word), Some(to), "{word}");
    }
    assert_eq!(justification("it is fine"), None);
    // An unknown justification is no justification.
    let mut v: serde_json::Value = serde_json::from_slice(VEXCTL_2VULNS).expect("json");
    v["statements"][0]["justification"] = "trust me".into();
    let s = parse(&serde_json::to_vec(&v).expect("json")).expect("parses");
    assert_eq!(s.statements[0].justification, None);
}

#[test]
fn summaries_without_statements_keep_their_json() {
    let scan = andon_evidence::summarize("vulnerabilities", VEXCTL_TRIVY)
        .expect("kind")
        .expect("parses");
    for absent in ["statements", "statement_count", "issuer"] {
        assert!(scan.get(absent).is_none(), "{absent}");
    }
    let vex = andon_evidence::summarize("vulnerabilities", VEXCTL_2VULNS)
        .expect("kind")
        .expect("parses");
    assert_eq!(vex["statement_count"], 2);
    assert_eq!(vex["statements"][0]["status"], "not_affected");
    assert_eq!(
        vex["statements"][1]["justification"],
        serde_json::Value::Null
    );
}

#[test]
fn bad_vex_documents_are_refused_clearly() {
    let e = parse(OASIS_NO_STATUS).expect_err("no product_status");
    assert!(
        e.to_string()
            .contains("no vulnerability has a product_status"),
        "{e}"
    );
    let e = parse(br#"{"document": {"csaf_version": "1.2"}}"#).expect_err("version");
    assert!(e.to_string().contains("csaf_version"), "{e}");
    let e = parse(br#"{"@context": "https://openvex.dev/ns/v0.2.0"}"#).expect_err("empty");
    assert!(e.to_string().contains("no \"statements\""), "{e}");
    let e = parse(br#"{"@context": "https://openvex.dev/ns/v0.2.0", "statements": [{"vulnerability": {"name": "CVE-1"}, "status": "maybe"}]}"#)
        .expect_err("status");
    assert!(e.to_string().contains("unknown status \"maybe\""), "{e}");
    let e =
        parse(br#"{"@context": "https://openvex.dev/ns", "statements": [{"status": "fixed"}]}"#)
            .expect_err("no vulnerability");
    assert!(
        e.to_string().contains("statement 0 names no vulnerability"),
        "{e}"
    );
    let e = parse(br#"{"@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld"}"#)
        .expect_err("other JSON-LD");
    assert!(e.to_string().contains("not OpenVEX's"), "{e}");
    let e = parse(br#"{"document": {"csaf_version": "2.0"}, "vulnerabilities": [{"product_status": {"fixed": ["A"]}}]}"#)
        .expect_err("no id");
    assert!(matches!(e, ParseError::Malformed { .. }), "{e:?}");
    assert!(e.to_string().contains("neither cve nor ids"), "{e}");
    // Branches nested past any real product tree are refused, not followed.
    let mut tree = serde_json::json!({"product": {"product_id": "P", "name": "p"}});
    for _ in 0..40 {
        tree = serde_json::json!({"category": "vendor", "name": "v", "branches": [tree]});
    }
    let doc = serde_json::json!({"document": {"csaf_version": "2.0"}, "product_tree": {"branches": [tree]}, "vulnerabilities": []});
    let e = parse(&serde_json::to_vec(&doc).expect("json")).expect_err("deep");
    assert!(matches!(e, ParseError::Refused { .. }), "{e:?}");
    assert!(e.to_string().contains("nest too deep"), "{e}");
    // A group of many products named by many flags is not expanded past a bound.
    let group: Vec<String> = (0..100_000).map(|i| format!("P{i}")).collect();
    let flags: Vec<_> = (0..30)
        .map(|_| serde_json::json!({"label": "component_not_present", "group_ids": ["G"]}))
        .collect();
    let doc = serde_json::json!({"document": {"csaf_version": "2.0"},
        "product_tree": {"product_groups": [{"group_id": "G", "product_ids": group}]},
        "vulnerabilities": [{"cve": "CVE-1", "product_status": {"known_not_affected": ["P1"]}, "flags": flags}]});
    let e = parse(&serde_json::to_vec(&doc).expect("json")).expect_err("references");
    assert!(e.to_string().contains("product references"), "{e}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Real VEX documents with bytes flipped or cut: a summary or an error, never a panic.
    #[test]
    fn damaged_vex_documents_never_panic(
        which in 0usize..4,
        at in any::<prop::sample::Index>(),
        byte in any::<u8>(),
        cut in any::<bool>(),
    ) {
        let doc = [GO_VEX_V020, CSAF_LIB, OASIS_UC08, LIB4VEX_CDX][which];
        let i = at.index(doc.len());
        let mut bytes = doc.to_vec();
        if cut {
            bytes.truncate(i);
        } else {
            bytes[i] = byte;
        }
        let _ = parse(&bytes);
    }
}
