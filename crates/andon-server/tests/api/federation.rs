//! Workload identity: a CI job authenticates with an ID token issued by a real OpenID
//! provider (oidc-provider, started by the test), exchanged once for a session of the
//! pipeline a workload rule maps it to. Every forged, stale, replayed or unmapped token is
//! refused with its reason, and nothing is written.

use andon_client::Client;
use andon_domain::api::DeploymentRequest;
use andon_domain::oidc::{OidcIssuer, WorkloadRule};
use andon_server::Clock;
use andon_testkit::oidc::{OidcProvider, ProviderConfig};
use andon_testkit::{Backend, both_backends};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde_json::{Value, json};

use crate::common::{Harness, refusal};

const ARTIFACT: &str =
    "shop@sha256:3e1f8a9c0b7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f";

fn provider() -> OidcProvider {
    OidcProvider::start(&ProviderConfig {
        clients: vec![],
        users: vec![],
        ci_audiences: vec!["andon".into(), "other-service".into()],
    })
}

fn job_claims(repository: &str, git_ref: &str) -> Value {
    json!({
        "sub": format!("repo:{repository}:ref:{git_ref}"),
        "repository": repository,
        "repository_owner": repository.split('/').next().unwrap_or_default(),
        "ref": git_ref,
        "workflow_ref": format!("{repository}/.github/workflows/release.yml@{git_ref}"),
        "run_id": "4242",
    })
}

/// Registers the provider as issuer `ci`, accepting audience `andon`.
fn register(h: &Harness, idp: &OidcProvider) {
    h.admin
        .set_oidc_issuer(
            "ci",
            &OidcIssuer {
                issuer: idp.issuer.clone(),
                audiences: vec!["andon".into()],
                algorithms: vec![],
                jwks: None,
                clock_skew_seconds: None,
            },
        )
        .expect("issuer");
}

struct World {
    h: Harness,
    clock: Clock,
    idp: OidcProvider,
}

/// A server on a manual clock (standing at the real time, as the provider's tokens do),
/// with the provider registered as issuer `ci`, application `shop`, its pipeline `shop-ci`
/// and a rule mapping acme/shop's branches to it.
fn world(backend: Backend) -> World {
    let clock = Clock::manual(jiff::Timestamp::now().as_millisecond());
    let c = clock.clone();
    let h = Harness::start_configured(backend, move |cfg| cfg.clock = c);
    let idp = provider();
    h.admin.create_application("shop", "payments").expect("app");
    h.admin
        .create_identity("shop-ci", "pipeline", &["shop".into()])
        .expect("pipeline");
    register(&h, &idp);
    h.admin
        .set_workload_rule(
            "shop-branches",
            &WorkloadRule {
                issuer: "ci".into(),
                claims: [
                    ("repository".to_owned(), "acme/shop".to_owned()),
                    ("ref".to_owned(), "refs/heads/*".to_owned()),
                ]
                .into(),
                identity: "shop-ci".into(),
            },
        )
        .expect("rule");
    World { h, clock, idp }
}

fn session(h: &Harness, token: &str) -> Client {
    Client::new(&h.url, Some(token.to_owned()))
}

/// The ledger entry at `index`, as JSON.
fn entry(h: &Harness, index: u64) -> Value {
    let page = h.admin.entries(index, 1).expect("entries");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(&page.entries[0].entry)
        .expect("base64");
    serde_json::from_slice(&bytes).expect("entry")
}

fn a_ci_job_acts_with_its_id_token(backend: Backend) {
    let w = world(backend);
    let anonymous = Client::new(&w.h.url, None);
    for alg in ["RS256", "ES256", "EdDSA"] {
        let id_token = w.idp.ci_token(
            "andon",
            job_claims("acme/shop", "refs/heads/main"),
            alg,
            300,
        );
        let issued = anonymous.exchange_id_token(&id_token).expect(alg);
        assert_eq!(issued.identity, "shop-ci");
        assert_eq!(issued.issued_by.as_deref(), Some("oidc:ci"));
        let me = session(&w.h, &issued.token).whoami().expect("whoami");
        assert_eq!(me.name, "shop-ci", "{alg}");

        // The exchange is an entry naming the token's issuer, subject, jti, key and claims.
        let e = entry(&w.h, issued.receipt.ledger_index);
        let body = &e["body"];
        assert_eq!(e["kind"], "token.issued");
        assert_eq!(body["federated"]["issuer"], w.idp.issuer);
        assert_eq!(
            body["federated"]["subject"],
            "repo:acme/shop:ref:refs/heads/main"
        );
        assert_eq!(body["rule"], "shop-branches");
        assert_eq!(body["alg"], alg);
        assert_eq!(
            body["claims"]["workflow_ref"],
            "acme/shop/.github/workflows/release.yml@refs/heads/main"
        );
        let jti = body["federated"]["jti"].as_str().expect("jti").to_owned();
        assert!(
            !jti.is_empty() && !jti.starts_with("sha256:"),
            "the provider's jti"
        );

        // What the session does carries the token's issuer, subject and jti.
        let deployed = session(&w.h, &issued.token)
            .record_deployment(&DeploymentRequest {
                application: "shop".into(),
                artifact: ARTIFACT.into(),
                environment: "staging".into(),
                ..Default::default()
            })
            .expect("deployment");
        let index = deployed["receipt"]["ledger_index"].as_u64().expect("index");
        let via = &entry(&w.h, index)["via"];
        assert_eq!(via["issued_by"], "oidc:ci");
        assert_eq!(via["federated"]["jti"], jti.as_str());
        assert_eq!(via["federated"]["issuer"], w.idp.issuer);

        // The same ID token again is a replay: refused, nothing written.
        let before = w.h.counts();
        let (status, code, message) = refusal(anonymous.exchange_id_token(&id_token));
        assert_eq!(
            (status, code.as_str()),
            (401, "id_token_replayed"),
            "{message}"
        );
        assert_eq!(w.h.counts(), before);
    }
    // The session lives no longer than the ID token: five minutes on, it is refused.
    let id_token = w.idp.ci_token(
        "andon",
        job_claims("acme/shop", "refs/heads/main"),
        "RS256",
        120,
    );
    let issued = anonymous.exchange_id_token(&id_token).expect("exchange");
    w.clock.advance(std::time::Duration::from_secs(300));
    let (status, _, message) = refusal(session(&w.h, &issued.token).whoami());
    assert_eq!(status, 401, "{message}");
    assert!(message.contains("expired"), "{message}");
    // The ledger replays clean: every exchange admitted as of its index.
    let report = w.h.admin.verify_ledger().expect("verify");
    assert_eq!(report["verified"], true, "{report}");
}

/// A token whose header or claims were rewritten, keeping the provider's signature.
fn rewritten(
    token: &str,
    header: impl FnOnce(&mut Value),
    claims: impl FnOnce(&mut Value),
) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    let mut h: Value = serde_json::from_slice(&B64.decode(parts[0]).expect("b64")).expect("json");
    let mut c: Value = serde_json::from_slice(&B64.decode(parts[1]).expect("b64")).expect("json");
    header(&mut h);
    claims(&mut c);
    format!(
        "{}.{}.{}",
        B64.encode(h.to_string()),
        B64.encode(c.to_string()),
        parts[2]
    )
}

/// An HS256 token keyed with the provider's RSA public key (the old algorithm-confusion
/// attack: a verifier that lets the token choose HMAC takes the public key as the secret).
fn hs256_with_public_key(idp: &OidcProvider, claims: &Value) -> String {
    use hmac::{Hmac, KeyInit, Mac};
    let jwks = idp.jwks();
    let rsa = jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .find(|k| k["kty"] == "RSA")
        .expect("an RSA key");
    let header = json!({"alg": "HS256", "typ": "JWT", "kid": rsa["kid"]});
    let input = format!(
        "{}.{}",
        B64.encode(header.to_string()),
        B64.encode(claims.to_string())
    );
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(rsa.to_string().as_bytes()).expect("key");
    mac.update(input.as_bytes());
    format!("{input}.{}", B64.encode(mac.finalize().into_bytes()))
}

fn forged_stale_and_unmapped_tokens_are_refused(backend: Backend) {
    let w = world(backend);
    let anonymous = Client::new(&w.h.url, None);
    let good = || {
        w.idp.ci_token(
            "andon",
            job_claims("acme/shop", "refs/heads/main"),
            "RS256",
            300,
        )
    };
    let claims_of = |t: &str| -> Value {
        serde_json::from_slice(
            &B64.decode(t.split('.').nth(1).expect("claims"))
                .expect("b64"),
        )
        .expect("json")
    };
    let other_issuer = provider();
    let none = {
        let t = good();
        let parts: Vec<&str> = t.split('.').collect();
        format!(
            "{}.{}.",
            B64.encode(r#"{"alg":"none","typ":"JWT"}"#),
            parts[1]
        )
    };
    w.h.admin
        .create_identity("retired-ci", "pipeline", &["shop".into()])
        .expect("pipeline");
    w.h.admin
        .set_workload_rule(
            "retired",
            &WorkloadRule {
                issuer: "ci".into(),
                claims: [("repository".to_owned(), "acme/legacy".to_owned())].into(),
                identity: "retired-ci".into(),
            },
        )
        .expect("rule");
    w.h.admin
        .disable_identity("retired-ci", "the legacy repository was archived")
        .expect("disabled");

    let cases: Vec<(&str, String, u16, &str)> = vec![
        ("alg none", none, 401, "id_token_algorithm"),
        (
            "HS256 keyed with the public key",
            hs256_with_public_key(&w.idp, &claims_of(&good())),
            401,
            "id_token_algorithm",
        ),
        (
            "tampered payload",
            rewritten(
                &good(),
                |_| {},
                |c| c["ref"] = "refs/heads/main-but-tampered".into(),
            ),
            401,
            "id_token_signature",
        ),
        (
            "unknown kid",
            rewritten(&good(), |h| h["kid"] = "not-a-key".into(), |_| {}),
            401,
            "unknown_key_id",
        ),
        (
            "wrong audience",
            w.idp.ci_token(
                "other-service",
                job_claims("acme/shop", "refs/heads/main"),
                "RS256",
                300,
            ),
            401,
            "wrong_audience",
        ),
        (
            "unregistered issuer",
            other_issuer.ci_token(
                "andon",
                job_claims("acme/shop", "refs/heads/main"),
                "RS256",
                300,
            ),
            401,
            "unknown_issuer",
        ),
        (
            "repository no rule maps",
            w.idp.ci_token(
                "andon",
                job_claims("acme/other", "refs/heads/main"),
                "RS256",
                300,
            ),
            403,
            "no_workload_rule",
        ),
        (
            "ref no rule maps",
            w.idp.ci_token(
                "andon",
                job_claims("acme/shop", "refs/tags/v1"),
                "RS256",
                300,
            ),
            403,
            "no_workload_rule",
        ),
        (
            "disabled identity",
            w.idp.ci_token(
                "andon",
                job_claims("acme/legacy", "refs/heads/main"),
                "RS256",
                300,
            ),
            403,
            "identity_disabled",
        ),
        (
            "not a JWT",
            "andon_notajwt".into(),
            401,
            "malformed_id_token",
        ),
    ];
    let before = w.h.counts();
    for (what, token, status, code) in cases {
        let (s, c, m) = refusal(anonymous.exchange_id_token(&token));
        assert_eq!((s, c.as_str()), (status, code), "{what}: {m}");
    }
    // Expired, and not yet valid, by the server's clock (beyond the minute of skew).
    let token = good();
    w.clock.advance(std::time::Duration::from_secs(600));
    let (s, c, m) = refusal(anonymous.exchange_id_token(&token));
    assert_eq!((s, c.as_str()), (401, "id_token_expired"), "{m}");
    let later = jiff::Timestamp::now().as_millisecond();
    w.clock.set_ms(later - 10 * 60 * 1000);
    let (s, c, m) = refusal(anonymous.exchange_id_token(&good()));
    assert_eq!((s, c.as_str()), (401, "id_token_not_yet_valid"), "{m}");
    assert_eq!(w.h.counts(), before, "a refused exchange wrote something");
}

fn issuers_and_rules_are_checked_before_they_are_recorded(backend: Backend) {
    let w = world(backend);
    let before = w.h.counts();
    let issuer = |url: &str| OidcIssuer {
        issuer: url.into(),
        audiences: vec!["andon".into()],
        algorithms: vec![],
        jwks: None,
        clock_skew_seconds: None,
    };
    let (s, c, m) = refusal(
        w.h.admin
            .set_oidc_issuer("plain", &issuer("http://idp.example.com")),
    );
    assert_eq!((s, c.as_str()), (400, "malformed_policy"), "{m}");
    let (s, c, m) = refusal(
        w.h.admin
            .set_oidc_issuer("gone", &issuer("http://127.0.0.1:9")),
    );
    assert_eq!((s, c.as_str()), (503, "issuer_unreachable"), "{m}");
    let (s, c, m) = refusal(w.h.admin.set_oidc_issuer("twin", &issuer(&w.idp.issuer)));
    assert_eq!((s, c.as_str()), (409, "conflict"), "{m}");
    let rule = |issuer: &str, identity: &str, claims: &[(&str, &str)]| WorkloadRule {
        issuer: issuer.into(),
        claims: claims
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        identity: identity.into(),
    };
    let (s, c, m) = refusal(
        w.h.admin
            .set_workload_rule("open", &rule("ci", "shop-ci", &[])),
    );
    assert_eq!((s, c.as_str()), (400, "malformed_policy"), "{m}");
    let (s, c, m) = refusal(
        w.h.admin
            .set_workload_rule("star", &rule("ci", "shop-ci", &[("repository", "*")])),
    );
    assert_eq!((s, c.as_str()), (400, "malformed_policy"), "{m}");
    let (s, c, m) = refusal(w.h.admin.set_workload_rule(
        "nowhere",
        &rule("gitlab", "shop-ci", &[("project_path", "acme/shop")]),
    ));
    assert_eq!((s, c.as_str()), (400, "unknown_issuer"), "{m}");
    w.h.admin
        .create_identity_in("ann", "approver", &[], &["cab".into()])
        .expect("approver");
    let before_person = w.h.counts();
    let (s, c, m) = refusal(
        w.h.admin
            .set_workload_rule("person", &rule("ci", "ann", &[("repository", "acme/shop")])),
    );
    assert_eq!((s, c.as_str()), (400, "not_a_pipeline"), "{m}");
    assert_eq!(
        w.h.counts(),
        before_person,
        "a refused rule wrote something"
    );
    let _ = before;

    // A rule removed maps nothing from then on; the issuers and rules list what is left.
    w.h.admin
        .remove_workload_rule("shop-branches", "moved to tags only")
        .expect("removed");
    let (s, c, _) = refusal(
        Client::new(&w.h.url, None).exchange_id_token(&w.idp.ci_token(
            "andon",
            job_claims("acme/shop", "refs/heads/main"),
            "ES256",
            300,
        )),
    );
    assert_eq!((s, c.as_str()), (403, "no_workload_rule"));
    assert!(w.h.admin.workload_rules().expect("rules").is_empty());
    assert_eq!(w.h.admin.oidc_issuers().expect("issuers").len(), 1);
    // A pipeline may not change rules.
    let pipeline = Client::new(
        &w.h.url,
        Some(w.h.admin.issue_token("shop-ci").expect("token").token),
    );
    let (s, _, _) = refusal(
        pipeline.set_workload_rule("mine", &rule("ci", "shop-ci", &[("repository", "acme/*")])),
    );
    assert_eq!(s, 403);
}

fn a_job_signs_with_a_key_it_made_for_itself(backend: Backend) {
    use andon_domain::{Sha256Digest, SigningKey};
    let w = world(backend);
    let anonymous = Client::new(&w.h.url, None);
    let job_key =
        |seed: &str| SigningKey::from_seed(Sha256Digest::of(seed.as_bytes()).as_bytes().to_owned());
    let key = job_key("job 4242");
    let token = w.idp.ci_token(
        "andon",
        job_claims("acme/shop", "refs/heads/main"),
        "ES256",
        600,
    );
    let issued = anonymous
        .exchange_id_token_with_key(&token, Some(&key.public_key().to_ledger_text()))
        .expect("exchange with a job key");
    let ci = session(&w.h, &issued.token);
    let accepted = ci
        .submit_evidence("shop", None, None, &crate::common::envelope(&key, 1))
        .expect("evidence signed by the job key");
    let e = entry(&w.h, accepted.ledger_index);
    assert_eq!(e["body"]["keyid"], key.public_key().key_id().to_string());
    assert_eq!(e["via"]["federated"]["issuer"], w.idp.issuer);
    // The key is the pipeline's, shown with its identity.
    let keys = w.h.admin.show_identity("shop-ci").expect("identity").keys;
    assert_eq!(keys.len(), 1);

    // A key already registered cannot be registered again by another job.
    let again = w.idp.ci_token(
        "andon",
        job_claims("acme/shop", "refs/heads/main"),
        "ES256",
        600,
    );
    let before = w.h.counts();
    let (s, c, m) = refusal(
        anonymous.exchange_id_token_with_key(&again, Some(&key.public_key().to_ledger_text())),
    );
    assert_eq!((s, c.as_str()), (409, "conflict"), "{m}");
    assert_eq!(w.h.counts(), before);

    // Revoking the session ends its key, even for a holder of another session.
    let other = job_key("job 4243");
    let second = anonymous
        .exchange_id_token_with_key(&again, Some(&other.public_key().to_ledger_text()))
        .expect("second job");
    w.h.admin
        .revoke_token(
            issued.token_id.as_deref().expect("id"),
            "the runner was compromised",
        )
        .expect("revoked");
    let before = w.h.counts();
    let (s, c, m) = refusal(session(&w.h, &second.token).submit_evidence(
        "shop",
        None,
        None,
        &crate::common::envelope(&key, 2),
    ));
    assert_eq!((s, c.as_str()), (403, "key_revoked"), "{m}");
    assert_eq!(w.h.counts(), before);

    // A job key signs no longer than its session lives (ten minutes here).
    session(&w.h, &second.token)
        .submit_evidence("shop", None, None, &crate::common::envelope(&other, 3))
        .expect("within the session");
    w.clock.advance(std::time::Duration::from_secs(11 * 60));
    let admin_ci = Client::new(
        &w.h.url,
        Some(w.h.admin.issue_token("shop-ci").expect("token").token),
    );
    let before = w.h.counts();
    let (s, c, m) =
        refusal(admin_ci.submit_evidence("shop", None, None, &crate::common::envelope(&other, 4)));
    assert_eq!((s, c.as_str()), (403, "key_expired"), "{m}");
    assert_eq!(w.h.counts(), before);
    let report = w.h.admin.verify_ledger().expect("verify");
    assert_eq!(report["verified"], true, "{report}");
}

fn failed_exchanges_count_against_the_address(backend: Backend) {
    let idp = provider();
    let h = Harness::start_configured(backend, |c| c.auth_failure_limit = 3);
    h.admin.create_application("shop", "payments").expect("app");
    register(&h, &idp);
    let anonymous = Client::new(&h.url, None);
    let forged = rewritten(
        &idp.ci_token(
            "andon",
            job_claims("acme/shop", "refs/heads/main"),
            "RS256",
            300,
        ),
        |_| {},
        |c| c["repository"] = "acme/other".into(),
    );
    for _ in 0..3 {
        assert_eq!(refusal(anonymous.exchange_id_token(&forged)).0, 401);
    }
    // Over the limit, the address is turned away before its token is even read.
    let (s, c, _) = refusal(anonymous.sign_in_sso(&forged));
    assert_eq!((s, c.as_str()), (429, "too_many_auth_failures"));
}

both_backends!(
    a_ci_job_acts_with_its_id_token,
    failed_exchanges_count_against_the_address,
    a_job_signs_with_a_key_it_made_for_itself,
    forged_stale_and_unmapped_tokens_are_refused,
    issuers_and_rules_are_checked_before_they_are_recorded,
);
