//! The demo's federated identity: a CI job that holds no Andon secret authenticates with its
//! platform's ID token and signs with a key it made for itself, and a person signs in through
//! the organisation's identity provider and gets an identity of their own.
//!
//! The demo plays both providers itself (it must run where no CI platform or company
//! identity provider is at hand): each is an issuer registered with its JWK set, as an
//! install that cannot reach its issuer registers it, and the demo signs their ID tokens
//! with the matching Ed25519 keys.

use andon_client::Client;
use andon_domain::Statement;
use andon_domain::oidc::{OidcIssuer, PersonRule, WorkloadRule};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};

/// An issuer the demo plays: its URL and signing key.
struct Issuer {
    url: String,
    kid: String,
    key: ed25519_dalek::SigningKey,
}

impl Issuer {
    fn new(url: &str, kid: &str) -> anyhow::Result<Self> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
        Ok(Self {
            url: url.into(),
            kid: kid.into(),
            key: ed25519_dalek::SigningKey::from_bytes(&seed),
        })
    }

    fn registration(&self, audience: &str) -> OidcIssuer {
        let x = URL_SAFE_NO_PAD.encode(self.key.verifying_key().as_bytes());
        OidcIssuer {
            issuer: self.url.clone(),
            audiences: vec![audience.into()],
            algorithms: vec!["EdDSA".into()],
            jwks: Some(serde_json::json!({"keys": [{
                "kty": "OKP", "crv": "Ed25519", "x": x, "kid": self.kid, "alg": "EdDSA", "use": "sig",
            }]})),
            clock_skew_seconds: None,
        }
    }

    /// An ID token for `audience` with `claims`, valid ten minutes.
    fn token(&self, audience: &str, claims: serde_json::Value) -> anyhow::Result<String> {
        use ed25519_dalek::pkcs8::EncodePrivateKey as _;
        let now = jiff::Timestamp::now().as_second();
        let mut jti = [0u8; 16];
        getrandom::fill(&mut jti).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
        let mut body = serde_json::json!({
            "iss": self.url, "aud": audience, "iat": now, "nbf": now, "exp": now + 600,
            "jti": hex::encode(jti),
        });
        if let (Some(b), Some(c)) = (body.as_object_mut(), claims.as_object()) {
            b.extend(c.clone());
        }
        let der = self.key.to_pkcs8_der()?;
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        Ok(jsonwebtoken::encode(
            &header,
            &body,
            &EncodingKey::from_ed_der(der.as_bytes()),
        )?)
    }
}

/// Runs the federated part of the demo in a new application named after `suffix`.
pub fn run(admin: &Client, suffix: &str) -> anyhow::Result<()> {
    println!(
        "\nFederated identity: a CI job with no Andon secret, and a person signed in through the identity provider"
    );
    let app = &format!("checkout-web-{suffix}");
    let pipeline = &format!("ci-{app}");
    admin.create_application(app, "storefront")?;
    admin.create_identity(pipeline, "pipeline", std::slice::from_ref(app))?;
    let ci = Issuer::new(&format!("https://ci-{suffix}.demo.invalid"), "ci-1")?;
    let reg = admin.set_oidc_issuer(&format!("ci-{suffix}"), &ci.registration("andon"))?;
    println!(
        "  $ andon oidc issuer add ci-{suffix} --issuer {} --audience andon --jwks-file jwks.json   ledger entry {}",
        ci.url, reg.ledger_index
    );
    let rule = admin.set_workload_rule(
        &format!("{app}-main"),
        &WorkloadRule {
            issuer: format!("ci-{suffix}"),
            claims: [
                ("repository".to_owned(), format!("acme/{app}")),
                ("ref".to_owned(), "refs/heads/main".to_owned()),
            ]
            .into(),
            identity: pipeline.into(),
        },
    )?;
    println!(
        "  $ andon oidc rule set {app}-main --issuer ci-{suffix} --claim repository=acme/{app} --claim ref=refs/heads/main --identity {pipeline}   ledger entry {}",
        rule.ledger_index
    );
    let claims = serde_json::json!({
        "sub": format!("repo:acme/{app}:ref:refs/heads/main"), "repository": format!("acme/{app}"),
        "ref": "refs/heads/main", "workflow_ref": format!("acme/{app}/.github/workflows/release.yml@refs/heads/main"),
        "run_id": "90210",
    });
    let id_token = ci.token("andon", claims)?;
    let job_key = crate::cli::keys::generate()?;
    let anonymous = Client::new(admin.base(), None);
    let session = anonymous
        .exchange_id_token_with_key(&id_token, Some(&job_key.public_key().to_ledger_text()))?;
    println!(
        "  the job's ID token (repo:acme/{app}:ref:refs/heads/main) exchanged once: {} acts until {} (entry {}), with a key the job made for itself",
        session.identity,
        session.expires_at.as_deref().unwrap_or_default(),
        session.receipt.ledger_index
    );
    let st = Statement::new(
        vec![(
            format!("{app}.tar"),
            andon_domain::Sha256Digest::of(b"federated demo build"),
        )],
        "https://andon.dev/demo/build/v1".into(),
        serde_json::json!({"built_by": "a job with no stored secret"}),
    );
    let job = Client::new(admin.base(), Some(session.token.clone()));
    let receipt = job.submit_evidence(app, Some("90210"), None, &st.sign(&job_key))?;
    println!(
        "  evidence signed by the job key accepted: entry {}, its via names the token's issuer, subject and jti",
        receipt.ledger_index
    );
    match anonymous.exchange_id_token(&id_token) {
        Err(andon_client::ClientError::Api { code, .. }) => {
            println!("  the same ID token again: refused ({code})")
        }
        other => anyhow::bail!("a replayed ID token was not refused: {other:?}"),
    }

    let idp = Issuer::new(&format!("https://login-{suffix}.demo.invalid"), "idp-1")?;
    let reg = admin.set_oidc_issuer(&format!("corp-{suffix}"), &idp.registration("andon-cli"))?;
    let person_rule = admin.set_person_rule(
        &format!("approvers-{suffix}"),
        &PersonRule {
            issuer: format!("corp-{suffix}"),
            claims: [("groups".to_owned(), "release-approvers".to_owned())].into(),
            role: "approver".into(),
            groups: vec!["cab".into()],
        },
    )?;
    println!(
        "  the company's identity provider: issuer corp-{suffix} (entry {}), release-approvers sign in as approvers of group cab (entry {})",
        reg.ledger_index, person_rule["ledger_index"]
    );
    let person = format!("sam-{suffix}");
    let id_token = idp.token(
        "andon-cli",
        serde_json::json!({"sub": format!("00u{suffix}"), "preferred_username": person,
            "email": format!("{person}@example.com"), "groups": ["release-approvers"]}),
    )?;
    let signed_in = anonymous.sign_in_sso(&id_token)?;
    let me = Client::new(admin.base(), Some(signed_in.token)).whoami()?;
    println!(
        "  $ andon login   {} signed in: role {}, a session of their own until {} (entry {}); their first sign-in created the identity",
        me.name,
        me.role,
        signed_in.expires_at.as_deref().unwrap_or_default(),
        signed_in.receipt.ledger_index
    );
    Ok(())
}
