//! Workload identity in CI: when no Andon token is given, a client verb authenticates with
//! the CI job's OpenID Connect ID token, exchanged once (`POST /v1/auth/oidc`) for a
//! session token of the pipeline a workload rule maps the job to.
//!
//! Where the ID token comes from, the first that applies:
//! 1. `--id-token-file` (`ANDON_ID_TOKEN_FILE`): a file holding it (Kubernetes projected
//!    service account tokens, Buildkite's `buildkite-agent oidc request-token > file`);
//! 2. `ANDON_ID_TOKEN`: the token itself (GitLab's `id_tokens:` keyword names the variable);
//! 3. GitHub Actions with `permissions: id-token: write`: requested from
//!    `ACTIONS_ID_TOKEN_REQUEST_URL` for the audience `--audience` (`andon` by default).
//!
//! The exchange registers a key the job makes for itself, so the job signs its evidence
//! without a stored key; the key signs no longer than the session lives.
//!
//! An ID token is exchanged once (the server refuses a replay), so the session is kept for
//! the job's next steps in a file only this user reads, under `RUNNER_TEMP` (GitHub's
//! per-job directory) or the temporary directory, named after the job's credential, and used
//! until half a minute before it expires.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use sha2::{Digest, Sha256};

/// Where a job's ID token comes from.
enum Source {
    /// A file.
    File(PathBuf),
    /// An environment variable's value.
    Value(String),
    /// GitHub's ID token request endpoint and its bearer token.
    GitHub { url: String, bearer: String },
}

impl Source {
    /// The source this job has, if any.
    fn find(file: Option<&Path>) -> Option<Self> {
        let var = |n: &str| std::env::var(n).ok().filter(|v| !v.trim().is_empty());
        if let Some(f) = file {
            return Some(Source::File(f.to_owned()));
        }
        if let Some(t) = var("ANDON_ID_TOKEN") {
            return Some(Source::Value(t));
        }
        match (
            var("ACTIONS_ID_TOKEN_REQUEST_URL"),
            var("ACTIONS_ID_TOKEN_REQUEST_TOKEN"),
        ) {
            (Some(url), Some(bearer)) => Some(Source::GitHub { url, bearer }),
            _ => None,
        }
    }

    /// What names this job's session: the ID token itself, or GitHub's per-job request
    /// token (a fresh ID token is issued on every request, the request token is the job's).
    fn job_key(&self) -> anyhow::Result<String> {
        let secret = match self {
            Source::File(p) => read_file(p)?,
            Source::Value(v) => v.trim().to_owned(),
            Source::GitHub { bearer, .. } => bearer.clone(),
        };
        Ok(hex::encode(Sha256::digest(secret.as_bytes())))
    }

    /// The ID token.
    fn id_token(&self, audience: &str) -> anyhow::Result<String> {
        match self {
            Source::File(p) => read_file(p),
            Source::Value(v) => Ok(v.trim().to_owned()),
            Source::GitHub { url, bearer } => {
                let agent: ureq::Agent = ureq::Agent::config_builder()
                    .timeout_global(Some(std::time::Duration::from_secs(30)))
                    .build()
                    .into();
                let answer: serde_json::Value = agent
                    .get(url)
                    .query("audience", audience)
                    .header("Authorization", &format!("bearer {bearer}"))
                    .call()
                    .context("requesting the job's ID token from ACTIONS_ID_TOKEN_REQUEST_URL")?
                    .body_mut()
                    .read_json()
                    .context("reading GitHub's ID token answer")?;
                answer["value"]
                    .as_str()
                    .map(str::to_owned)
                    .context("GitHub's ID token answer has no value")
            }
        }
    }
}

fn read_file(p: &Path) -> anyhow::Result<String> {
    Ok(std::fs::read_to_string(p)
        .with_context(|| format!("reading the ID token file {}", p.display()))?
        .trim()
        .to_owned())
}

/// The session file of this job on `server`.
fn session_file(server: &str, job_key: &str) -> PathBuf {
    let dir = std::env::var_os("RUNNER_TEMP")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let name = hex::encode(Sha256::digest(format!("{server}\n{job_key}").as_bytes()));
    dir.join(format!("andon-session-{}.json", &name[..24]))
}

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// A kept session still good for half a minute.
fn kept(file: &Path) -> Option<Session> {
    let kept: serde_json::Value = serde_json::from_slice(&std::fs::read(file).ok()?).ok()?;
    let expires: jiff::Timestamp = kept["expires_at"].as_str()?.parse().ok()?;
    if expires.as_millisecond() <= now_ms() + 30_000 {
        return None;
    }
    Some(Session {
        token: kept["token"].as_str()?.to_owned(),
        key: kept["key"].as_str()?.to_owned(),
    })
}

fn keep(file: &Path, session: &Session, expires_at: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options
        .open(file)
        .with_context(|| format!("keeping the session in {}", file.display()))?;
    f.write_all(
        serde_json::json!({"token": session.token, "key": session.key, "expires_at": expires_at})
            .to_string()
            .as_bytes(),
    )?;
    Ok(())
}

/// A CI job's session: its token, and the private key (PEM) the job made for itself and
/// registered with the exchange, which signs its evidence while the session lives.
pub struct Session {
    /// The session token.
    pub token: String,
    /// The job key's PKCS#8 PEM.
    pub key: String,
}

/// The session of this CI job on `server`, when the job has an ID token: kept from an
/// earlier step, or exchanged now with a key made now. `None` when the job has no ID token.
pub fn session(
    server: &str,
    id_token_file: Option<&Path>,
    audience: &str,
) -> anyhow::Result<Option<Session>> {
    let Some(source) = Source::find(id_token_file) else {
        return Ok(None);
    };
    let file = session_file(server, &source.job_key()?);
    if let Some(s) = kept(&file) {
        return Ok(Some(s));
    }
    let id_token = source.id_token(audience)?;
    let key = crate::cli::keys::generate()?;
    let issued = andon_client::Client::new(server, None)
        .exchange_id_token_with_key(&id_token, Some(&key.public_key().to_ledger_text()))
        .context("exchanging the CI job's ID token for an Andon session (POST /v1/auth/oidc)")?;
    let session = Session {
        token: issued.token,
        key: key.to_pem(),
    };
    keep(
        &file,
        &session,
        issued.expires_at.as_deref().unwrap_or_default(),
    )?;
    Ok(Some(session))
}
