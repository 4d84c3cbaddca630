//! `andon vuln impact` as an on-call engineer runs it: an SBOM attested with the CLI, what
//! runs reported with the CLI, and the blast radius printed, with exit code 1 while
//! something running contains the package; then an advisory imported with the CLI and the
//! item it opens listed and shown.

use andon_domain::Sha256Digest;
use andon_testkit::{Backend, TestDb, both_backends};

use crate::binary::helpers::cli_pipeline;
use crate::common::*;

fn the_blast_radius_is_printed_and_sets_the_exit_code(b: Backend) {
    let db = TestDb::new(b);
    let server = start(&db, true);
    let token = server.token.clone().expect("admin token");
    let (pipeline_token, key) = cli_pipeline(&db, &server.url, &token, "shop", "storefront");
    let key = key.as_str();
    let run = |tok: &str, args: &[&str]| cli(&server.url, tok, args);
    let image = format!(
        "registry.example.com/shop@{}",
        Sha256Digest::of(b"shop 1.0")
    );
    let sbom = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../andon-evidence/tests/fixtures/sbom/cyclonedx-py-7.5.0-1.6.json"
    );
    let attested = run(
        &pipeline_token,
        &[
            "attest",
            "sbom",
            "--app",
            "shop",
            "--subject",
            &image,
            "--key",
            key,
            "--file",
            sbom,
        ],
    );
    assert!(
        attested.status.success(),
        "{}",
        String::from_utf8_lossy(&attested.stderr)
    );

    // Built, running nowhere yet: exit 0, and the artifact named.
    let out = run(&token, &["vuln", "impact", "pkg:pypi/six@1.16.0"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("running nowhere Andon knows of"), "{text}");
    assert!(
        text.contains("built into 1 artifact running nowhere"),
        "{text}"
    );

    let list = db.dir().join("running.txt");
    std::fs::write(&list, format!("shop-web-1 {image}\n")).expect("list");
    let reported = run(
        &pipeline_token,
        &[
            "env",
            "report",
            "--env",
            "production",
            "--app",
            "shop",
            "--list",
            list.to_str().expect("path"),
        ],
    );
    // Nothing deployed it there: the report is drift too (exit 1), and recorded all the same.
    assert_eq!(
        reported.status.code(),
        Some(1),
        "{}{}",
        String::from_utf8_lossy(&reported.stdout),
        String::from_utf8_lossy(&reported.stderr)
    );

    // Running in production: exit 1, the environment, owner, workload and component.
    let out = run(&token, &["vuln", "impact", "pkg:pypi/six@1.16"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("  production:"), "{text}");
    assert!(
        text.contains("shop (team storefront)") && text.contains("as shop-web-1: six 1.16.0"),
        "{text}"
    );
    assert!(
        text.contains("environments checked: production (snapshot)"),
        "{text}"
    );
    // Another version: nothing.
    let out = run(&token, &["vuln", "impact", "pkg:pypi/six@1.15.0"]);
    assert_eq!(out.status.code(), Some(0));
    // A malformed purl: the server's error, and a failing exit code.
    let out = run(&token, &["vuln", "impact", "pkg:six"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("is not a package URL"), "{stderr}");

    // CVE-2022-40897 is published: imported, it opens an item for shop, whose production
    // artifact carries setuptools 65.5.0.
    let advisory = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src/demo/advisories/PYSEC-2022-43012.json"
    );
    let out = run(&token, &["vuln", "import", advisory]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&token, &["vuln", "advisories"]);
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("PYSEC-2022-43012 medium CVE-2022-40897, GHSA-r9hx-vwmv-q579: Regular expression denial of service"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = run(&token, &["vuln", "items", "--state", "open"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("detected     P3 medium   shop           CVE-2022-40897 (storefront), due "),
        "{text}"
    );
    let id = text
        .split_whitespace()
        .next()
        .expect("an item id")
        .to_owned();
    assert!(id.starts_with("V-"), "{text}");
    let out = run(&token, &["vuln", "item", &id]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!(
            "{id} CVE-2022-40897 in shop (team storefront): P3 medium, detected"
        )) && text.contains("also known as GHSA-r9hx-vwmv-q579, PYSEC-2022-43012")
            && text.contains(&format!(
                "detected     CVE-2022-40897 medium severity, P3 due; running in production as {}",
                image.rsplit('@').next().expect("digest")
            )),
        "{text}"
    );
    // Only admins sweep; an admin's sweep finds nothing more to record.
    let out = run(&pipeline_token, &["vuln", "check"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = run(&token, &["vuln", "check"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("0 transitions, 0 overdue alerts"), "{text}");
}

both_backends!(the_blast_radius_is_printed_and_sets_the_exit_code);
