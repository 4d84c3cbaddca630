//! `andon admission` as a platform engineer runs it: a cluster registered (its token printed
//! once), listed, moved to enforce keeping its token, and its refusals listed; a pipeline
//! may not register one.

use andon_testkit::{Backend, TestDb, both_backends};

use crate::binary::helpers::cli_pipeline;
use crate::common::*;

fn a_cluster_is_registered_and_its_refusals_listed(b: Backend) {
    let db = TestDb::new(b);
    let server = start(&db, true);
    let token = server.token.clone().expect("admin token");
    let (pipeline_token, _) = cli_pipeline(&db, &server.url, &token, "shop", "storefront");
    let run = |tok: &str, args: &[&str]| cli(&server.url, tok, args);

    let out = run(
        &token,
        &["admission", "cluster", "prod-eu", "--env", "production"],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("prod-eu: audit in production, decisions up to 30 days old"),
        "{text}"
    );
    let cluster_token = text
        .lines()
        .find_map(|l| {
            l.strip_prefix("token (shown once; the API server sends it as a bearer token): ")
        })
        .expect("the token")
        .to_owned();
    assert!(cluster_token.starts_with("andon_"), "{text}");

    // Enforce, keeping the token: none printed.
    let out = run(
        &token,
        &[
            "admission",
            "cluster",
            "prod-eu",
            "--env",
            "production",
            "--mode",
            "enforce",
        ],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("prod-eu: enforce in production"), "{text}");
    assert!(!text.contains("token"), "{text}");
    let out = run(&token, &["admission", "clusters"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("prod-eu: enforce in production"));

    // A pipeline may not register a cluster.
    let out = run(
        &pipeline_token,
        &["admission", "cluster", "ci-made", "--env", "production"],
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // A pod by tag, sent as the API server would: refused, then listed.
    let review = serde_json::json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
        "request": {"uid": "u-1", "kind": {"group": "", "version": "v1", "kind": "Pod"},
            "operation": "CREATE", "namespace": "shop", "name": "web",
            "userInfo": {"username": "dev@example.com"},
            "object": {"spec": {"containers": [{"name": "web", "image": "shop:latest"}]}}}});
    let answer = andon_client::Client::new(&server.url, Some(cluster_token))
        .admission_review("prod-eu", &serde_json::to_vec(&review).expect("json"))
        .expect("answered");
    assert_eq!(answer["response"]["allowed"], false, "{answer}");
    let out = run(&token, &["admission", "events", "--cluster", "prod-eu"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("prod-eu REFUSED Pod shop/web by dev@example.com")
            && text.contains("web shop:latest: is not pinned by digest (control image_pinned)"),
        "{text}"
    );
}

both_backends!(a_cluster_is_registered_and_its_refusals_listed);
