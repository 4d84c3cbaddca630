//! Hostile input, route by route: every operation of the OpenAPI description that takes a
//! body gets bodies that are not JSON, the wrong JSON, fields of the wrong type, unknown
//! fields only, and one byte over the size limit; every operation with integer query
//! parameters gets one that is not a number. Each must be refused with a 4xx carrying our
//! JSON error (a code and a message), and nothing may be written by any of them.

use crate::common;
use andon_testkit::{Backend, both_backends};
use serde_json::{Value, json};

const MAX_BODY: usize = 64 * 1024;

/// Follows a `$ref` into the document's schemas.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => {
            let name = r.rsplit('/').next().unwrap_or_default();
            &doc["components"]["schemas"][name]
        }
        None => schema,
    }
}

/// An object whose every property has a value of another type than the schema asks.
fn wrongly_typed(doc: &Value, schema: &Value) -> Option<Value> {
    let schema = resolve(doc, schema);
    let props = schema["properties"].as_object()?;
    let mut out = serde_json::Map::new();
    for (name, p) in props {
        let p = resolve(doc, p);
        let wrong = match p["type"].as_str() {
            Some("string") => json!(12345),
            Some("integer" | "number") => json!("not a number"),
            Some("boolean") => json!("yes"),
            Some("array") => json!("not a list"),
            _ => json!([1, 2, 3]),
        };
        out.insert(name.clone(), wrong);
    }
    Some(Value::Object(out))
}

fn hostile_bodies_are_refused_with_a_clear_error_and_write_nothing(b: Backend) {
    let h = common::Harness::start_configured(b, |c| {
        c.max_body_bytes = MAX_BODY;
        c.github_webhook_secret = Some("hostile-secret".into());
        c.gitlab_webhook_token = Some("hostile-token".into());
        c.auth_failure_limit = 1_000_000;
    });
    let (_, _) = h.pipeline("pay");
    let pipeline = h
        .admin
        .create_identity("ci-hostile", "pipeline", &["pay".to_owned()])
        .expect("identity")
        .token;
    let admin = h.admin.token().expect("admin token").to_owned();
    let doc = andon_server::openapi::document();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let before = h.counts();
    let mut wrong = Vec::new();
    let mut tried = 0;
    let mut check = |what: String, resp: Result<ureq::http::Response<ureq::Body>, ureq::Error>| {
        tried += 1;
        let mut resp = resp.expect("a response");
        let status = resp.status().as_u16();
        let media = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body: Value = resp.body_mut().read_json().unwrap_or(Value::Null);
        let clear = body["error"]["code"]
            .as_str()
            .is_some_and(|c| !c.is_empty())
            && body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty());
        if !(400..500).contains(&status) || !media.starts_with("application/json") || !clear {
            wrong.push(format!("{what}: {status} {media} {body}"));
        }
    };
    for (path, item) in doc["paths"].as_object().expect("paths") {
        let url = format!(
            "{}{}",
            h.url,
            path.replace("{name}", "nobody")
                .replace("{keyid}", "nokey")
                .replace("{id}", "X-none")
                .replace("{version}", "none")
                .replace("{env}", "staging")
        );
        for (method, op) in item.as_object().expect("item") {
            let roles = op["x-andon-roles"].as_str().unwrap_or("-");
            let token = if roles == "*" || roles.contains('A') {
                Some(admin.clone())
            } else if roles.contains('P') {
                Some(pipeline.clone())
            } else {
                None
            };
            let with_token = |r: ureq::RequestBuilder<ureq::typestate::WithBody>| match &token {
                Some(t) => r.header("Authorization", &format!("Bearer {t}")),
                None => r,
            };
            if method == "post"
                && let Some(content) = op["requestBody"]["content"].as_object()
            {
                let schema = &content.get("application/json").expect("a JSON body")["schema"];
                let mut bodies = vec![
                    ("not JSON", b"this is not JSON {".to_vec()),
                    ("the wrong JSON", b"[null, null]".to_vec()),
                    ("a number", b"42".to_vec()),
                    ("over the limit", vec![b' '; MAX_BODY + 1]),
                ];
                if let Some(w) = wrongly_typed(doc, schema) {
                    bodies.push(("wrongly typed fields", w.to_string().into_bytes()));
                    bodies.push(("unknown fields only", b"{\"unexpected\": 1}".to_vec()));
                }
                for (what, body) in bodies {
                    let r = with_token(
                        agent
                            .post(&url)
                            .header("Content-Type", "application/json")
                            .header("X-GitHub-Event", "pull_request")
                            .header("X-Hub-Signature-256", "sha256=00")
                            .header("X-Gitlab-Token", "wrong")
                            .header("X-Gitlab-Event", "Merge Request Hook"),
                    );
                    check(format!("POST {path} with {what}"), r.send(&body[..]));
                }
            }
            if method == "get" {
                for p in op["parameters"].as_array().into_iter().flatten() {
                    if p["in"] == "query" && p["schema"]["type"] == "integer" {
                        let mut r = agent
                            .get(&url)
                            .query(p["name"].as_str().expect("name"), "ten");
                        if let Some(t) = &token {
                            r = r.header("Authorization", &format!("Bearer {t}"));
                        }
                        check(format!("GET {path}?{}=ten", p["name"]), r.call());
                    }
                }
            }
        }
    }
    // Well-formed JSON whose values are hostile: too long, or with control characters.
    for team in [
        "x".repeat(10_000),
        "pay\r\nments".to_owned(),
        "   ".to_owned(),
    ] {
        let r = agent
            .post(&format!("{}/v1/applications", h.url))
            .header("Authorization", &format!("Bearer {admin}"))
            .header("Content-Type", "application/json")
            .send(json!({"name": "hostile", "team": team}).to_string());
        check(format!("an application owned by {:.20?}", team), r);
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert!(tried > 150, "only {tried} hostile requests were sent");
    assert_eq!(h.counts(), before, "a refused request wrote something");
}

both_backends!(hostile_bodies_are_refused_with_a_clear_error_and_write_nothing);
