//! The test OpenID provider (`oidc/provider.mjs`) against its contract: CI tokens issued by
//! oidc-provider with the requested claims, audience, lifetime and algorithm, and people's
//! sign-in by the authorization code flow with PKCE and by the device flow, driven by a plain
//! HTTP client that carries cookies by hand (`oidc::Browser`, which
//! `OidcProvider::approve_device` uses too).

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use andon_testkit::oidc::{Browser, OidcProvider, ProviderConfig, attribute};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

const REDIRECT: &str = "http://127.0.0.1:1234/auth/callback";

fn config() -> ProviderConfig {
    ProviderConfig {
        clients: vec![
            json!({
                "client_id": "andon-web",
                "client_secret": "s3cret",
                "redirect_uris": [REDIRECT],
                "post_logout_redirect_uris": ["http://127.0.0.1:1234/"],
            }),
            json!({"client_id": "andon-cli"}),
        ],
        users: vec![json!({
            "sub": "alice",
            "claims": {"email": "alice@example.com", "name": "Alice", "groups": ["approvers", "platform"]},
        })],
        ci_audiences: vec!["andon".into(), "other-service".into()],
    }
}

#[test]
fn ci_tokens_are_issued_by_the_provider_for_each_algorithm() {
    let provider = OidcProvider::start(&config());
    let jwks = provider.jwks();
    let keys = jwks["keys"].as_array().expect("keys");
    assert_eq!(keys.len(), 3, "one key per algorithm: {jwks}");
    assert!(
        keys.iter().all(|k| k.get("d").is_none()),
        "the JWKS publishes public keys only"
    );

    let claims = json!({
        "sub": "repo:acme/shop:ref:refs/heads/main",
        "repository": "acme/shop",
        "ref": "refs/heads/main",
        "workflow": "release",
        "run_id": "42",
    });
    let mut jtis = Vec::new();
    let mut kids = Vec::new();
    for alg in ["RS256", "ES256", "EdDSA"] {
        let token = provider.ci_token("andon", claims.clone(), alg, 300);
        let (header, payload) = decode_jwt(&token);

        assert_eq!(header["alg"], alg);
        let kid = header["kid"].as_str().expect("kid in the header");
        let key = keys
            .iter()
            .find(|k| k["kid"] == kid)
            .unwrap_or_else(|| panic!("kid {kid} is not in the JWKS {jwks}"));
        assert_eq!(key["alg"], alg, "the key {kid} is for {alg}");
        kids.push(kid.to_owned());

        assert_eq!(payload["iss"], provider.issuer.as_str());
        assert_eq!(payload["aud"], "andon");
        for (name, value) in claims.as_object().expect("claims") {
            assert_eq!(&payload[name], value, "claim {name}");
        }
        let jti = payload["jti"].as_str().expect("jti");
        assert!(!jti.is_empty());
        jtis.push(jti.to_owned());
        let (iat, nbf, exp) = (
            payload["iat"].as_u64().expect("iat"),
            payload["nbf"].as_u64().expect("nbf"),
            payload["exp"].as_u64().expect("exp"),
        );
        assert_eq!(exp - iat, 300, "exp = iat + ttl");
        assert!(nbf <= iat);
        assert!(now().abs_diff(iat) < 60, "iat {iat} is now");
    }
    kids.dedup();
    assert_eq!(kids.len(), 3, "a distinct key per algorithm");
    jtis.sort();
    jtis.dedup();
    assert_eq!(jtis.len(), 3, "a fresh jti per token");

    // Another audience, another lifetime.
    let (_, payload) = decode_jwt(&provider.ci_token(
        "other-service",
        json!({"sub": "project_path:acme/shop"}),
        "RS256",
        60,
    ));
    assert_eq!(payload["aud"], "other-service");
    assert_eq!(
        payload["exp"].as_u64().unwrap() - payload["iat"].as_u64().unwrap(),
        60
    );

    // Dropping the provider stops it.
    let health = format!("{}/test/health", provider.issuer);
    assert_eq!(agent().get(&health).call().expect("health").status(), 200);
    drop(provider);
    assert!(agent().get(&health).call().is_err(), "stopped on drop");
}

#[test]
fn authorization_code_flow_with_pkce_gives_the_users_claims() {
    let provider = OidcProvider::start(&config());
    let discovery = provider.discovery();
    for endpoint in ["end_session_endpoint", "device_authorization_endpoint"] {
        assert!(discovery[endpoint].is_string(), "{endpoint} in {discovery}");
    }
    let mut browser = Browser::new(&provider.issuer);

    let mut random = [0u8; 32];
    getrandom::fill(&mut random).expect("randomness");
    let verifier = URL_SAFE_NO_PAD.encode(random);
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let authorize = format!(
        "{}?{}",
        discovery["authorization_endpoint"].as_str().unwrap(),
        form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("client_id", "andon-web"),
                ("response_type", "code"),
                ("scope", "openid profile email groups"),
                ("redirect_uri", REDIRECT),
                ("state", "st4te"),
                ("nonce", "n0nce"),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ])
            .finish(),
    );
    // The provider sends the browser to its sign-in page...
    let (status, login_page, _) = browser.get(&authorize);
    assert_eq!(status, 303);
    let (status, _, html) = browser.get(&login_page);
    assert_eq!(status, 200);
    assert!(html.contains(r#"name="login""#) && html.contains(r#"name="password""#));
    let action = browser.url(&attribute(&html, r#"<form id="login-form""#, "action"));
    // ...where a wrong user is turned away and a configured one signs in...
    let (status, _, _) = browser.post_form(&action, &[("login", "mallory"), ("password", "x")]);
    assert_eq!(status, 401);
    let (status, resume, _) = browser.post_form(&action, &[("login", "alice"), ("password", "x")]);
    assert_eq!(status, 303);
    // ...and back to the client with a code.
    let (status, callback, _) = browser.get(&resume);
    assert_eq!(status, 303);
    assert!(callback.starts_with(REDIRECT), "{callback}");
    let query = query_params(&callback);
    assert_eq!(query["state"], "st4te");
    assert_eq!(query["iss"], provider.issuer);

    let mut reply = agent()
        .post(discovery["token_endpoint"].as_str().unwrap())
        .header(
            "authorization",
            format!("Basic {}", STANDARD.encode("andon-web:s3cret")),
        )
        .send_form([
            ("grant_type", "authorization_code"),
            ("code", query["code"].as_str()),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier.as_str()),
        ])
        .expect("token request");
    let tokens: Value = reply.body_mut().read_json().expect("token reply");
    let (header, payload) = decode_jwt(tokens["id_token"].as_str().expect("id_token"));
    assert_eq!(header["alg"], "RS256");
    assert_eq!(payload["iss"], provider.issuer.as_str());
    assert_eq!(payload["aud"], "andon-web");
    assert_eq!(payload["sub"], "alice");
    assert_eq!(payload["nonce"], "n0nce");
    assert_eq!(payload["email"], "alice@example.com");
    assert_eq!(payload["name"], "Alice");
    assert_eq!(payload["groups"], json!(["approvers", "platform"]));

    // Without PKCE the provider refuses.
    let without_pkce = authorize
        .split("&code_challenge")
        .next()
        .unwrap()
        .to_owned();
    let (status, refused, _) = browser.get(&without_pkce);
    assert_eq!(status, 303);
    assert_eq!(query_params(&refused)["error"], "invalid_request");
}

#[test]
fn device_flow_for_a_public_client() {
    let provider = OidcProvider::start(&config());
    let discovery = provider.discovery();
    let mut reply = agent()
        .post(discovery["device_authorization_endpoint"].as_str().unwrap())
        .send_form([("client_id", "andon-cli"), ("scope", "openid groups")])
        .expect("device authorization");
    let device: Value = reply.body_mut().read_json().expect("device reply");
    let user_code = device["user_code"].as_str().expect("user_code");

    // The person enters the code, confirms it and signs in; the device flow says it is done.
    provider.approve_device(
        device["verification_uri"]
            .as_str()
            .expect("verification_uri"),
        user_code,
        "alice",
    );

    // The device's poll now gets the tokens.
    let mut reply = agent()
        .post(discovery["token_endpoint"].as_str().unwrap())
        .send_form([
            ("client_id", "andon-cli"),
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("device_code", device["device_code"].as_str().unwrap()),
        ])
        .expect("device token request");
    let tokens: Value = reply.body_mut().read_json().expect("token reply");
    let (_, payload) = decode_jwt(tokens["id_token"].as_str().expect("id_token"));
    assert_eq!(payload["aud"], "andon-cli");
    assert_eq!(payload["sub"], "alice");
    assert_eq!(payload["groups"], json!(["approvers", "platform"]));
}

// --- A plain HTTP client that follows no redirects (`Browser` also carries cookies). ----------

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

/// The query parameters of a URL (values percent-decoded).
fn query_params(url: &str) -> BTreeMap<String, String> {
    let query = url.split_once('?').map_or("", |(_, q)| q);
    form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

// --- JWTs, read without verification (the test needs nothing more). ------------------------

fn decode_jwt(token: &str) -> (Value, Value) {
    let mut parts = token.split('.');
    let mut part = || {
        let bytes = URL_SAFE_NO_PAD
            .decode(parts.next().expect("a JWT part"))
            .expect("a base64url JWT part");
        serde_json::from_slice::<Value>(&bytes).expect("a JSON JWT part")
    };
    let (header, payload) = (part(), part());
    assert_eq!(token.split('.').count(), 3, "a compact JWS");
    (header, payload)
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}
