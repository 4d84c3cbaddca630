//! Who may call what: every route the router has, called by each role and by nobody, with
//! the status expected. The table is checked against the router's source, so a new route
//! without a row fails this test. Allowed callers may still get a 4xx for the dummy ids
//! and empty bodies sent here; what matters is that they are not refused as unauthenticated
//! (401) or forbidden (403), and everyone else is.

use crate::common;
use andon_testkit::{Backend, both_backends};

/// Who may call a route: `-` anyone (no token), `*` any identity, else the roles' letters:
/// `A` admin, `P` pipeline, `R` approver, `U` auditor. `sig` routes authenticate by
/// webhook signature, not by token.
const TABLE: &[(&str, &str, &str)] = &[
    ("GET", "/healthz", "-"),
    ("GET", "/livez", "-"),
    ("GET", "/readyz", "-"),
    ("GET", "/metrics", "*"),
    ("GET", "/v1/openapi.json", "-"),
    ("GET", "/v1/whoami", "*"),
    ("GET", "/v1/admin/webhooks", "A"),
    ("POST", "/v1/applications", "A"),
    ("GET", "/v1/applications", "*"),
    ("PUT", "/v1/applications/{name}/signing-policy", "A"),
    ("PUT", "/v1/applications/{name}/evidence-policy", "A"),
    ("PUT", "/v1/applications/{name}/keyless-policy", "A"),
    ("GET", "/v1/sigstore/trusted-roots", "*"),
    ("PUT", "/v1/sigstore/trusted-roots/{name}", "A"),
    ("POST", "/v1/identities", "A"),
    ("GET", "/v1/identities", "AU"),
    ("GET", "/v1/identities/{name}", "*"),
    ("POST", "/v1/identities/{name}/disable", "A"),
    ("POST", "/v1/identities/{name}/enrollments", "A"),
    ("POST", "/v1/enroll", "-"),
    ("POST", "/v1/auth/oidc", "-"),
    ("POST", "/v1/auth/sso", "-"),
    ("GET", "/v1/oidc/person-rules", "AU"),
    ("PUT", "/v1/oidc/person-rules/{name}", "A"),
    ("POST", "/v1/oidc/person-rules/{name}/remove", "A"),
    ("GET", "/v1/oidc/issuers", "AU"),
    ("PUT", "/v1/oidc/issuers/{name}", "A"),
    ("GET", "/v1/oidc/workload-rules", "AU"),
    ("PUT", "/v1/oidc/workload-rules/{name}", "A"),
    ("POST", "/v1/oidc/workload-rules/{name}/remove", "A"),
    ("GET", "/v1/tokens", "*"),
    ("POST", "/v1/tokens/{id}/revoke", "*"),
    ("POST", "/v1/identities/{name}/tokens", "A"),
    ("POST", "/v1/identities/{name}/keys", "A"),
    ("POST", "/v1/keys/{keyid}/revoke", "A"),
    ("POST", "/v1/evidence", "P"),
    ("GET", "/v1/evidence", "*"),
    ("POST", "/v1/evidence/batch", "P"),
    ("GET", "/v1/evidence/{id}", "*"),
    ("GET", "/v1/evidence/{id}/document", "*"),
    ("PUT", "/v1/reports/{digest}", "P"),
    ("GET", "/v1/reports/{digest}", "*"),
    ("GET", "/v1/ledger", "*"),
    ("GET", "/v1/ledger/checkpoint", "*"),
    ("GET", "/v1/ledger/cosigned", "*"),
    ("POST", "/v1/ledger/verify", "AU"),
    ("GET", "/v1/ledger/entries", "*"),
    ("GET", "/v1/ledger/proof/inclusion", "*"),
    ("GET", "/v1/ledger/proof/consistency", "*"),
    ("GET", "/v1/trace", "*"),
    ("POST", "/v1/policies", "A"),
    ("GET", "/v1/policies", "*"),
    ("GET", "/v1/policies/{version}", "*"),
    ("POST", "/v1/gate", "APR"),
    ("GET", "/v1/controls", "*"),
    ("GET", "/v1/controls/oscal/component-definition", "*"),
    ("GET", "/v1/controls/oscal/assessment-results", "*"),
    ("GET", "/v1/decisions/{id}", "*"),
    ("POST", "/v1/waivers", "APR"),
    ("GET", "/v1/waivers", "*"),
    ("POST", "/v1/waivers/{id}/approve", "AR"),
    ("GET", "/v1/changes", "*"),
    ("GET", "/v1/changes/{id}", "*"),
    ("POST", "/v1/changes/{id}/approve", "AR"),
    ("POST", "/v1/changes/{id}/reject", "AR"),
    ("GET", "/v1/changes/{id}/rfc.json", "*"),
    ("GET", "/v1/changes/{id}/rfc.md", "*"),
    ("GET", "/v1/schemas/rfc.json", "-"),
    ("POST", "/v1/deployments", "AP"),
    ("GET", "/v1/deployments", "*"),
    ("GET", "/v1/deployments/{id}", "*"),
    ("POST", "/v1/deployments/{id}/state", "APR"),
    ("POST", "/v1/incidents", "AP"),
    ("GET", "/v1/alerts", "*"),
    ("GET", "/v1/alerts/{id}", "*"),
    ("POST", "/v1/alerts/{id}/acknowledge", "AR"),
    ("POST", "/v1/alerts/{id}/resolve", "AR"),
    ("GET", "/v1/metrics", "*"),
    ("GET", "/v1/vulnerabilities/impact", "*"),
    ("POST", "/v1/advisories", "A"),
    ("GET", "/v1/advisories", "*"),
    ("GET", "/v1/vulnerabilities/items", "*"),
    ("GET", "/v1/vulnerabilities/items/{id}", "*"),
    ("POST", "/v1/vulnerabilities/check", "A"),
    ("POST", "/v1/drills", "APR"),
    ("GET", "/v1/drills", "*"),
    ("GET", "/v1/drills/{id}", "*"),
    ("POST", "/v1/drills/{id}/finish", "APR"),
    ("POST", "/v1/drills/{id}/retrospective", "AR"),
    ("PUT", "/v1/applications/{name}/risk", "A"),
    ("GET", "/v1/admission/clusters", "*"),
    ("PUT", "/v1/admission/clusters/{name}", "A"),
    ("GET", "/v1/admission/events", "*"),
    ("POST", "/v1/telemetry", "AP"),
    ("GET", "/v1/telemetry", "*"),
    ("GET", "/v1/telemetry/rules", "*"),
    ("POST", "/v1/access/requests", "APR"),
    ("GET", "/v1/access/requests", "*"),
    ("GET", "/v1/access/requests/{id}", "*"),
    ("POST", "/v1/access/requests/{id}/approve", "AR"),
    ("POST", "/v1/access/requests/{id}/reject", "AR"),
    ("POST", "/v1/access/requests/{id}/revoke", "APR"),
    ("GET", "/v1/access/grants", "*"),
    ("POST", "/v1/access/check", "A"),
    ("POST", "/v1/access/accounts", "A"),
    ("GET", "/v1/access/accounts", "*"),
    ("POST", "/v1/access/accounts/{name}/uses", "AP"),
    ("POST", "/v1/access/accounts/{name}/retire", "A"),
    ("GET", "/v1/access/standing", "*"),
    ("GET", "/v1/access/debt", "*"),
    ("POST", "/v1/environments/{env}/snapshots", "AP"),
    ("GET", "/v1/environments/{env}/snapshots", "*"),
    ("POST", "/v1/alerts/check", "A"),
    ("GET", "/v1/notifications", "AU"),
    ("POST", "/webhooks/github", "sig"),
    ("POST", "/webhooks/gitlab", "sig"),
    ("POST", "/k8s/admission/v1/{cluster}", "cluster"),
    ("POST", "/k8s/admission/v1/{cluster}/{token}", "cluster"),
];

/// The (method, path) pairs the router declares, read from its source.
fn routes_in_router() -> Vec<(String, String)> {
    let src = include_str!("../../src/routes/mod.rs");
    let mut out = Vec::new();
    let mut rest = src;
    while let Some(at) = rest.find(".route(") {
        rest = &rest[at + ".route(".len()..];
        // The call's text, up to its closing parenthesis.
        let mut depth = 1;
        let mut end = 0;
        for (i, c) in rest.char_indices() {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                _ => {}
            }
            if depth == 0 {
                end = i;
                break;
            }
        }
        let call = &rest[..end];
        let path = call.split('"').nth(1).expect("a quoted path").to_owned();
        for (token, method) in [
            ("get(", "GET"),
            ("post(", "POST"),
            ("put(", "PUT"),
            ("delete(", "DELETE"),
        ] {
            if call.contains(token) {
                out.push((method.to_owned(), path.clone()));
            }
        }
    }
    out
}

fn every_route_has_a_row() {
    let mut missing = Vec::new();
    for (m, p) in routes_in_router() {
        if !TABLE.iter().any(|(tm, tp, _)| *tm == m && *tp == p) {
            missing.push(format!("{m} {p}"));
        }
    }
    assert!(
        missing.is_empty(),
        "routes without a row in TABLE: {missing:?}"
    );
    for (m, p, _) in TABLE {
        assert!(
            routes_in_router().iter().any(|(rm, rp)| rm == m && rp == p),
            "{m} {p} is in TABLE but not in the router"
        );
    }
}

fn each_role_against_each_route(b: Backend) {
    let h = common::start(b);
    let (_, _) = h.pipeline("pay");
    let token = |name: &str, role: &str, apps: &[String]| {
        h.admin
            .create_identity(name, role, apps)
            .expect("identity")
            .token
    };
    let callers: Vec<(char, Option<String>)> = vec![
        ('A', h.admin.token().map(str::to_owned)),
        (
            'P',
            Some(token("ci-table", "pipeline", &["pay".to_owned()])),
        ),
        ('R', Some(token("approver-table", "approver", &[]))),
        ('U', Some(token("auditor-table", "auditor", &[]))),
        ('-', None),
    ];
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut wrong = Vec::new();
    for (method, path, who) in TABLE {
        let url = format!(
            "{}{}",
            h.url,
            path.replace("{name}", "nobody")
                .replace("{keyid}", "nokey")
                .replace("{id}", "X-none")
                .replace("{version}", "none")
                .replace("{env}", "staging")
                .replace("{digest}", &format!("sha256:{}", "0".repeat(64)))
        );
        for (role, tok) in &callers {
            let status = {
                let resp = if *method == "GET" {
                    let mut r = agent.get(&url);
                    if let Some(t) = tok {
                        r = r.header("Authorization", &format!("Bearer {t}"));
                    }
                    r.call()
                } else if *method == "PUT" {
                    let mut r = agent.put(&url).header("Content-Type", "application/json");
                    if let Some(t) = tok {
                        r = r.header("Authorization", &format!("Bearer {t}"));
                    }
                    r.send("{}")
                } else {
                    let mut r = agent.post(&url).header("Content-Type", "application/json");
                    if let Some(t) = tok {
                        r = r.header("Authorization", &format!("Bearer {t}"));
                    }
                    r.send("{}")
                };
                resp.expect("a response").status().as_u16()
            };
            let allowed = match *who {
                "-" => true,
                "sig" | "cluster" => false,
                "*" => *role != '-',
                letters => letters.contains(*role),
            };
            let refused = status == 401 || status == 403;
            let expected_refusal = match (*who, *role) {
                ("sig" | "cluster", _) => status == 401,
                (_, '-') => status == 401,
                _ => status == 403,
            };
            if allowed == refused || (!allowed && !expected_refusal) {
                wrong.push(format!(
                    "{method} {path} as {role}: {status} ({})",
                    if allowed {
                        "should pass authorization"
                    } else {
                        "should be refused"
                    }
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_table_covers_the_router() {
    every_route_has_a_row();
}

/// docs/api.md lists every row, with the same callers.
#[test]
fn the_api_page_lists_every_route() {
    let page = include_str!("../../../../docs/api.md");
    for (method, path, _) in TABLE {
        let row = format!("| {method} | `{path}` |");
        assert!(page.contains(&row), "docs/api.md lacks {method} {path}");
    }
}

/// The OpenAPI description has exactly the table's operations, with the same callers.
#[test]
fn the_openapi_description_matches_the_table() {
    let doc = andon_server::openapi::document();
    let mut described = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            described.push((
                method.to_uppercase(),
                path.clone(),
                op["x-andon-roles"].as_str().expect("roles").to_owned(),
            ));
            let public = matches!(op["x-andon-roles"].as_str(), Some("-" | "sig"));
            assert_eq!(
                op.get("security") == Some(&serde_json::json!([])),
                public,
                "{method} {path}: security does not say who may call it"
            );
        }
    }
    let mut table: Vec<_> = TABLE
        .iter()
        .map(|(m, p, r)| ((*m).to_owned(), (*p).to_owned(), (*r).to_owned()))
        .collect();
    table.sort();
    described.sort();
    assert_eq!(described, table);
    // Request bodies come from the handlers' types: a required field of a gate request.
    let gate = &doc["components"]["schemas"]["GateRequest"];
    let required: Vec<&str> = gate["required"]
        .as_array()
        .expect("required")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert!(
        required.contains(&"application") && required.contains(&"artifact"),
        "{gate}"
    );
}

both_backends!(each_role_against_each_route);
