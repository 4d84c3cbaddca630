//! `andon login`: a person signs in through the organisation's identity provider with the
//! OAuth 2.0 device authorization grant (RFC 8628): the CLI shows a code, the person enters
//! it at the provider in any browser, and the ID token the provider then hands the CLI is
//! exchanged at `POST /v1/auth/sso` for a session of eight hours, kept in the profile.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

use crate::cli::context::Context;
use crate::cli::output::{Output, emit};

/// `andon login`.
#[derive(clap::Args, Debug)]
pub struct LoginArgs {
    /// The identity provider: its issuer URL (as registered with `andon oidc issuer add`).
    #[arg(long, env = "ANDON_SSO_ISSUER_URL")]
    pub issuer: String,
    /// The CLI's client id at the provider: a public client allowed the device grant.
    #[arg(long, env = "ANDON_SSO_CLI_CLIENT_ID", default_value = "andon-cli")]
    pub client_id: String,
    /// The profile to keep the session in (`default` unless --profile says otherwise).
    #[arg(long = "save-as")]
    pub save_as: Option<String>,
    /// Link the identity you already have (the token of --token or the profile, one you
    /// issued for yourself by enrollment) to your sign-in at the provider, on your first
    /// sign-in there.
    #[arg(long)]
    pub link: bool,
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(30)))
        .http_status_as_error(false)
        .build()
        .into()
}

fn field<'v>(v: &'v serde_json::Value, name: &str, what: &str) -> anyhow::Result<&'v str> {
    v.get(name)
        .and_then(|x| x.as_str())
        .with_context(|| format!("{what} has no {name}"))
}

/// Runs `andon login`.
pub fn run(
    ctx: &Context,
    args: &LoginArgs,
    profile: Option<&str>,
    out: Output,
) -> anyhow::Result<ExitCode> {
    let agent = agent();
    let issuer = args.issuer.trim_end_matches('/');
    let discovery: serde_json::Value = agent
        .get(&format!("{issuer}/.well-known/openid-configuration"))
        .call()
        .with_context(|| format!("reaching the identity provider {issuer}"))?
        .body_mut()
        .read_json()
        .context("reading the provider's discovery document")?;
    let device_url = field(
        &discovery,
        "device_authorization_endpoint",
        "the provider's discovery document",
    )
    .context("the provider offers no device authorization grant")?;
    let token_url = field(
        &discovery,
        "token_endpoint",
        "the provider's discovery document",
    )?;
    let mut reply = agent
        .post(device_url)
        .send_form([
            ("client_id", args.client_id.as_str()),
            ("scope", "openid profile email groups"),
        ])
        .context("asking the provider for a device code")?;
    let status = reply.status().as_u16();
    let device: serde_json::Value = reply
        .body_mut()
        .read_json()
        .context("reading the device code")?;
    if status != 200 {
        bail!("the provider refused the device authorization ({status}): {device}");
    }
    let user_code = field(&device, "user_code", "the device answer")?;
    let device_code = field(&device, "device_code", "the device answer")?;
    let uri = device
        .get("verification_uri_complete")
        .or_else(|| device.get("verification_uri"))
        .and_then(|v| v.as_str())
        .context("the device answer has no verification_uri")?;
    eprintln!("To sign in, open {uri} and enter the code {user_code}");
    let mut interval = Duration::from_secs(device["interval"].as_u64().unwrap_or(5).max(1));
    let deadline =
        Instant::now() + Duration::from_secs(device["expires_in"].as_u64().unwrap_or(600));
    let id_token = loop {
        if Instant::now() >= deadline {
            bail!("the code expired before it was entered: run andon login again");
        }
        std::thread::sleep(interval);
        let mut reply = agent
            .post(token_url)
            .send_form([
                ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
                ("device_code", device_code),
                ("client_id", args.client_id.as_str()),
            ])
            .context("polling the provider")?;
        let answer: serde_json::Value = reply
            .body_mut()
            .read_json()
            .context("reading the provider's answer")?;
        match answer.get("error").and_then(|e| e.as_str()) {
            None => break field(&answer, "id_token", "the provider's answer")?.to_owned(),
            Some("authorization_pending") => {}
            Some("slow_down") => interval += Duration::from_secs(5),
            Some(e) => bail!(
                "the provider did not sign you in: {e} {}",
                answer
                    .get("error_description")
                    .and_then(|d| d.as_str())
                    .unwrap_or_default()
            ),
        }
    };
    let token = if args.link {
        Some(
            ctx.token
                .clone()
                .context("--link needs your own token (--token, ANDON_TOKEN or the profile)")?,
        )
    } else {
        None
    };
    let issued = andon_client::Client::new(&ctx.server, token)
        .sign_in_sso(&id_token)
        .context("signing in to Andon with the provider's ID token (POST /v1/auth/sso)")?;
    let name = args.save_as.as_deref().or(profile).unwrap_or("default");
    let expires = issued.expires_at.clone().unwrap_or_default();
    let file = crate::cli::profile::save_session(name, &ctx.server, &issued.token, &expires)?;
    let shown = serde_json::json!({
        "identity": issued.identity, "session": issued.token_id, "expires_at": expires,
        "profile": name, "file": file.display().to_string(),
        "ledger_index": issued.receipt.ledger_index,
    });
    emit(out, &shown, |_| {
        println!(
            "signed in as {} until {expires} (session {}, ledger entry {}); kept in profile [{name}] of {}",
            issued.identity,
            issued.token_id.as_deref().unwrap_or_default(),
            issued.receipt.ledger_index,
            file.display()
        )
    })?;
    Ok(ExitCode::SUCCESS)
}
