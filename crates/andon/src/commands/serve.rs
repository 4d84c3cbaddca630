//! `andon serve`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;

/// Flags of `andon serve`.
#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// Where the SQLite database and the log key live.
    #[arg(long, env = "ANDON_DATA_DIR", default_value = "andon-data")]
    pub data_dir: PathBuf,
    /// Database URL; default sqlite://<data-dir>/andon.db. postgres://... for PostgreSQL.
    #[arg(long, env = "ANDON_DATABASE_URL")]
    pub database: Option<String>,
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "ANDON_LISTEN", default_value = "127.0.0.1:8420")]
    pub listen: String,
    /// The log signing key (PKCS#8 PEM); default <data-dir>/log.key, created on first start.
    #[arg(long, env = "ANDON_LOG_KEY_FILE")]
    pub log_key: Option<PathBuf>,
    /// Rotate the log key: the key the log has been signed with until now (PKCS#8 PEM). At
    /// start it signs the hand-over to --log-key into a `log.key_rotated` entry; from then on
    /// checkpoints and decisions are signed with the new key. Keep the old file: it is not
    /// needed again, but `andon verify` pinned to the old public key follows the hand-over.
    #[arg(long, env = "ANDON_PREVIOUS_LOG_KEY_FILE")]
    pub previous_log_key: Option<PathBuf>,
    /// Stage a rotation made by another server of the cluster: the key the log will be
    /// handed over to (PKCS#8 PEM). This server goes on signing with --log-key until it meets
    /// the hand-over in the shared log, then signs with this key; a server that does not
    /// hold the new key stops signing until restarted with it (docs/operations.md).
    #[arg(
        long,
        env = "ANDON_NEXT_LOG_KEY_FILE",
        conflicts_with = "previous_log_key"
    )]
    pub next_log_key: Option<PathBuf>,
    /// Where this server keeps the latest checkpoint it made durable, outside the database:
    /// a start refuses a database that does not extend it (rolled back, truncated or
    /// rewritten together with its checkpoints). Default: beside a SQLite database
    /// (<file>.checkpoint); for PostgreSQL, <data-dir>/checkpoint.
    #[arg(long, env = "ANDON_CHECKPOINT_FILE")]
    pub checkpoint_file: Option<PathBuf>,
    /// A signed checkpoint of this log kept outside the database (the last one monitoring
    /// saw, a receipt's, an old checkpoint file): a start refuses a database that does not
    /// extend it, as it does for its own checkpoint file.
    #[arg(long, env = "ANDON_HIGHEST_CHECKPOINT_FILE")]
    pub highest_checkpoint: Option<PathBuf>,
    /// Serve a database that lost signed entries anyway (restored from an older backup),
    /// for this reason: the start records the loss and the reason in the ledger and raises
    /// an alert. A flag only, never a setting: each loss is acknowledged by a person.
    #[arg(long, value_name = "REASON")]
    pub acknowledge_loss: Option<String>,
    /// The log's name in its checkpoints, fixed when the log begins (a new database);
    /// default andon.local/<log key hash>.
    #[arg(long, env = "ANDON_LOG_ORIGIN")]
    pub origin: Option<String>,
    /// Largest accepted request body, in bytes.
    #[arg(long, env = "ANDON_MAX_BODY_BYTES", default_value_t = 4 << 20)]
    pub max_body_bytes: usize,
    /// Largest report uploaded on its own (`PUT /v1/reports/...`, what `andon attest` does
    /// for reports over 1 MiB), in bytes.
    #[arg(long, env = "ANDON_MAX_REPORT_BYTES", default_value_t = 256 << 20)]
    pub max_report_bytes: usize,
    /// The largest report of one kind, inline or uploaded: KIND=SIZE, repeatable (sbom=512MiB,
    /// junit=16MiB; sizes in bytes, KiB, MiB or GiB). A kind not named is bounded by
    /// --max-report-bytes.
    #[arg(
        long = "report-limit",
        env = "ANDON_REPORT_LIMITS",
        value_delimiter = ',',
        value_parser = andon_app::parse_report_limit
    )]
    pub report_limits: Vec<(String, u64)>,
    /// SQLite: the write-ahead log's size (bytes) past which a checkpoint empties it.
    #[arg(long, env = "ANDON_WAL_LIMIT_BYTES", default_value_t = 64 << 20)]
    pub wal_limit_bytes: u64,
    /// The secret of the GitHub webhook (enables POST /webhooks/github).
    #[arg(long, env = "ANDON_GITHUB_WEBHOOK_SECRET", hide_env_values = true)]
    pub github_webhook_secret: Option<String>,
    /// The secret token of the GitLab webhook (enables POST /webhooks/gitlab).
    #[arg(long, env = "ANDON_GITLAB_WEBHOOK_TOKEN", hide_env_values = true)]
    pub gitlab_webhook_token: Option<String>,
    /// Ticket id patterns (regular expressions, repeatable; the first capture group is the
    /// id if there is one). Default: Jira-style keys (PAY-123) and #123.
    #[arg(
        long = "ticket-pattern",
        env = "ANDON_TICKET_PATTERNS",
        value_delimiter = ','
    )]
    pub ticket_patterns: Vec<String>,
    /// Policy directories to publish at start (each: *.rego files and an optional
    /// policy.json; a directory of such directories works too). Publishing an unchanged
    /// bundle again is a no-op; a bundle that fails validation stops the start.
    #[arg(long = "policies", env = "ANDON_POLICIES", value_delimiter = ',')]
    pub policies: Vec<PathBuf>,
    /// Where to POST change events (created, approved, rejected, deployed, emergency review
    /// overdue) for an ITSM tool; retried with backoff, logged at GET /v1/notifications.
    #[arg(long, env = "ANDON_NOTIFY_URL")]
    pub notify_url: Option<String>,
    /// The secret that signs notification bodies (X-Andon-Signature-256: sha256=HMAC).
    #[arg(long, env = "ANDON_NOTIFY_SECRET", hide_env_values = true)]
    pub notify_secret: Option<String>,
    /// The security telemetry rules, a JSON file (docs/telemetry.md); rules and parameters
    /// it leaves out keep their defaults.
    #[arg(long, env = "ANDON_TELEMETRY_RULES")]
    pub telemetry_rules: Option<PathBuf>,
    /// Log lines: `text` for a person, `json` for a log pipeline, `auto` (the default):
    /// text when standard error is a terminal, JSON otherwise.
    #[arg(long, env = "ANDON_LOG_FORMAT", value_enum, default_value_t = LogFormat::Auto)]
    pub log_format: LogFormat,
    /// Notification bodies: `json` (Andon's documents) or `slack` (a Slack incoming
    /// webhook's `{"text": ...}`).
    #[arg(long, env = "ANDON_NOTIFY_FORMAT", default_value = "json", value_parser = ["json", "slack"])]
    pub notify_format: String,
    /// An external witness (C2SP tlog-witness submission prefix): the log's checkpoints are
    /// sent to <URL>/add-checkpoint with consistency proofs, so a rewritten history is
    /// caught outside this server. Repeat for several witnesses; each needs its
    /// --witness-key, in the same order.
    #[arg(long, env = "ANDON_WITNESS_URL", value_delimiter = ',')]
    pub witness_url: Vec<String>,
    /// The cosignature verifier key of the witness at the same position in --witness-url
    /// (`<name>+<key ID>+<base64 key>`, signature type 0x04): its cosignatures are kept
    /// and served with the checkpoints; lines by other keys are ignored.
    #[arg(long, env = "ANDON_WITNESS_KEY", value_delimiter = ',')]
    pub witness_key: Vec<String>,
    /// How often each witness is brought up to date while the log grows: `30s`, `5m`.
    #[arg(long, env = "ANDON_WITNESS_INTERVAL", default_value = "30s", value_parser = window)]
    pub witness_interval: std::time::Duration,
    /// Also serve /metrics without a token, and the probes, on this address (for a scraper
    /// on a network of its own; nothing else is served there): 0.0.0.0:9420.
    #[arg(long, env = "ANDON_METRICS_LISTEN")]
    pub metrics_listen: Option<String>,
    /// Serve HTTPS with this certificate chain (PEM; needs --tls-key). Sending the server
    /// SIGHUP reads the certificate and key again (a renewed certificate, no restart).
    #[arg(long, env = "ANDON_TLS_CERT_FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM).
    #[arg(long, env = "ANDON_TLS_KEY_FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// A proxy (address or network: 10.0.0.0/8) whose Forwarded / X-Forwarded-For headers
    /// name the client; repeatable. Other peers' forwarding headers are ignored. The
    /// failed-authentication limit and the access log use the client's address.
    #[arg(
        long = "trusted-proxy",
        env = "ANDON_TRUSTED_PROXIES",
        value_delimiter = ',',
        value_parser = proxy_net
    )]
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// The share of successful requests the access log records, 0 to 1 (0.1: one in ten);
    /// failed requests are always recorded. RUST_LOG sets the level.
    #[arg(long, env = "ANDON_ACCESS_LOG_SAMPLE", default_value_t = 1.0)]
    pub access_log_sample: f64,
    /// Requests served at once; past it the server answers 429 with Retry-After.
    #[arg(long, env = "ANDON_MAX_IN_FLIGHT", default_value_t = 1024)]
    pub max_in_flight: usize,
    /// Failed authentications an address may make in a minute before it is refused (429)
    /// until the minute ends.
    #[arg(long, env = "ANDON_AUTH_FAILURE_LIMIT", default_value_t = 20)]
    pub auth_failure_limit: u32,
    /// Each vulnerability severity's priority and deadline (docs/vulnerabilities.md):
    /// `severity=Pn:deadline`, a deadline being hours (`24h`), days (`30d`) or `end_of_week`
    /// (Saturday 00:00 UTC). Severities not named take medium's rule.
    #[arg(long, env = "ANDON_VULN_SLA", default_value = "critical=P1:24h,high=P2:end_of_week,medium=P3:30d,low=P4:90d",
          value_parser = |s: &str| s.parse::<andon_server::VulnSla>())]
    pub vuln_sla: andon_server::VulnSla,
    /// The longest break-glass grant, in minutes.
    #[arg(long, env = "ANDON_ACCESS_MAX_MINUTES", default_value_t = 240)]
    pub access_max_minutes: u32,
    /// How old a fact's own time may be when it is recorded (a deployment, a failure or
    /// restoration, an incident, a standing account's use, a snapshot): `24h`, `90m`, `7d`.
    /// Older facts are refused unless an admin records them with `--late "reason"`, which
    /// marks them late (docs/changes.md, "Time").
    #[arg(long, env = "ANDON_LATE_WINDOW", default_value = "24h", value_parser = window)]
    pub late_window: std::time::Duration,
    /// Single sign-on for the web interface: the registered OpenID issuer people sign in at
    /// (`andon oidc issuer add`, its audiences including --sso-client-id).
    #[arg(long, env = "ANDON_SSO_ISSUER", requires_all = ["sso_client_id", "public_url"])]
    pub sso_issuer: Option<String>,
    /// This server's client id at the identity provider.
    #[arg(long, env = "ANDON_SSO_CLIENT_ID")]
    pub sso_client_id: Option<String>,
    /// The client secret, for a confidential client (an environment variable, never a flag
    /// on a shared machine).
    #[arg(long, env = "ANDON_SSO_CLIENT_SECRET", hide_env_values = true)]
    pub sso_client_secret: Option<String>,
    /// The URL people reach this server at (behind a proxy, the proxy's): the provider sends
    /// them back to <public-url>/ui/sso/callback, which must be registered there exactly.
    #[arg(long, env = "ANDON_PUBLIC_URL")]
    pub public_url: Option<String>,
}

/// A trusted proxy: a network, or one address.
fn proxy_net(s: &str) -> Result<ipnet::IpNet, String> {
    let s = s.trim();
    s.parse::<ipnet::IpNet>()
        .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("{s:?} is not an address or a network such as 10.0.0.0/8"))
}

/// A late window: a whole number of seconds, minutes, hours or days (`24h`).
fn window(s: &str) -> Result<std::time::Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (n, unit) = s.split_at(split);
    let n: u64 = n
        .parse()
        .map_err(|_| format!("{s:?} is not a duration such as 24h, 90m or 7d"))?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        _ => return Err(format!("{s:?}: give a unit, s, m, h or d (24h)")),
    };
    n.checked_mul(seconds)
        .filter(|s| *s <= 3_650 * 86_400)
        .map(std::time::Duration::from_secs)
        .ok_or_else(|| format!("{s:?} is longer than ten years"))
}

/// How the server writes its log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Text on a terminal, JSON otherwise.
    Auto,
    /// Text for a person.
    Text,
    /// JSON lines for a log pipeline.
    Json,
}

/// Runs `andon serve` until stopped.
pub fn run(a: &ServeArgs) -> anyhow::Result<ExitCode> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,sqlx=warn".into());
    let json = match a.log_format {
        LogFormat::Json => true,
        LogFormat::Text => false,
        LogFormat::Auto => !std::io::IsTerminal::is_terminal(&std::io::stderr()),
    };
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        logs.json().with_span_list(false).init();
    } else {
        logs.compact().init();
    }
    std::fs::create_dir_all(&a.data_dir)
        .with_context(|| format!("creating {}", a.data_dir.display()))?;
    let url = a
        .database
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", a.data_dir.join("andon.db").display()));
    // Held until the process ends: one server per SQLite file. A directory that cannot be
    // written is said as such first (the lock is a file beside the database).
    andon_store::check_writable(&url)?;
    let _lock = lock_sqlite(&url)?;
    let seed = crate::cli::keys::log_seed(
        &a.log_key
            .clone()
            .unwrap_or_else(|| a.data_dir.join("log.key")),
    )?;
    let mut config = andon_server::Config::new(url, seed);
    config.checkpoint_file = a
        .checkpoint_file
        .clone()
        .or(config.checkpoint_file)
        .or_else(|| Some(a.data_dir.join("checkpoint")));
    config.origin = a.origin.clone().unwrap_or_default();
    config.highest_checkpoint = a.highest_checkpoint.clone();
    config.acknowledge_loss = a.acknowledge_loss.clone();
    if a.acknowledge_loss
        .as_deref()
        .is_some_and(|r| r.trim().is_empty())
    {
        anyhow::bail!("--acknowledge-loss needs a reason");
    }
    if let Some(path) = &a.previous_log_key {
        config.previous_log_seed = Some(crate::cli::keys::load(path)?.seed());
    }
    if let Some(path) = &a.next_log_key {
        config.next_log_seed = Some(crate::cli::keys::load(path)?.seed());
    }
    config.max_body_bytes = a.max_body_bytes;
    config.max_report_bytes = a.max_report_bytes;
    config.report_limits = a.report_limits.iter().cloned().collect();
    config.wal_limit_bytes = a.wal_limit_bytes;
    config.github_webhook_secret = a.github_webhook_secret.clone();
    config.gitlab_webhook_token = a.gitlab_webhook_token.clone();
    config.notify_url = a.notify_url.clone();
    config.notify_secret = a.notify_secret.clone();
    config.notify_format = if a.notify_format == "slack" {
        andon_server::NotifyFormat::Slack
    } else {
        andon_server::NotifyFormat::Json
    };
    config.access_max_minutes = a.access_max_minutes;
    config.vuln_sla = a.vuln_sla.clone();
    config.late_window = a.late_window;
    if let (Some(issuer), Some(client_id), Some(url)) =
        (&a.sso_issuer, &a.sso_client_id, &a.public_url)
    {
        config.sso = Some(andon_server::Sso {
            issuer: issuer.clone(),
            client_id: client_id.clone(),
            client_secret: a.sso_client_secret.clone(),
            redirect_uri: format!("{}/ui/sso/callback", url.trim_end_matches('/')),
        });
    }
    config.trusted_proxies = a.trusted_proxies.clone();
    if !(0.0..=1.0).contains(&a.access_log_sample) {
        anyhow::bail!("--access-log-sample is a share between 0 and 1");
    }
    config.access_log_sample = a.access_log_sample;
    config.max_in_flight = a.max_in_flight;
    config.auth_failure_limit = a.auth_failure_limit;
    if a.witness_url.len() != a.witness_key.len() {
        anyhow::bail!(
            "{} --witness-url and {} --witness-key: each witness needs its URL and its cosignature key, in the same order",
            a.witness_url.len(),
            a.witness_key.len()
        );
    }
    if a.witness_interval.is_zero() {
        anyhow::bail!("--witness-interval must be at least 1s");
    }
    config.witness_interval = a.witness_interval;
    for (url, key) in a.witness_url.iter().zip(&a.witness_key) {
        let key = andon_ledger::WitnessVerifier::parse(key)
            .with_context(|| format!("--witness-key for {url}"))?;
        config.witnesses.push(andon_server::Witness {
            url: url.clone(),
            key,
        });
    }
    if let Some(path) = &a.telemetry_rules {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        config.telemetry_rules = andon_telemetry::Rules::from_json(&text)
            .with_context(|| format!("in {}", path.display()))?;
    }
    if !a.ticket_patterns.is_empty() {
        config.ticket_patterns = andon_evidence::tickets::TicketPatterns::new(&a.ticket_patterns)
            .map_err(|e| anyhow::anyhow!(e))?;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        // A certificate that cannot be served stops the start before anything is opened.
        let tls = match (&a.tls_cert, &a.tls_key) {
            (Some(cert), Some(key)) => {
                let tls = andon_server::Tls {
                    cert: cert.clone(),
                    key: key.clone(),
                };
                let config = tls.load().await?;
                Some((tls, config))
            }
            _ => None,
        };
        let started = andon_server::App::open(config)
            .await
            .map_err(|e| anyhow::anyhow!(e))?;
        for root in &a.policies {
            for dir in crate::commands::policy::bundle_dirs(root)? {
                let bundle = crate::commands::policy::load_dir(&dir)?;
                let p = started
                    .app
                    .publish_policy("andon", bundle)
                    .await
                    .map_err(|e| anyhow::anyhow!("policy {}: {}", dir.display(), e.message))?;
                eprintln!(
                    "policy {} version {} {}",
                    p.name,
                    p.version,
                    if p.existing {
                        "(already published)"
                    } else {
                        "published"
                    }
                );
            }
        }
        let scheme = if tls.is_some() { "https" } else { "http" };
        let listener = tokio::net::TcpListener::bind(&a.listen)
            .await
            .with_context(|| format!("binding {}", a.listen))?;
        let addr = listener.local_addr()?;
        let metrics = match &a.metrics_listen {
            Some(at) => Some(
                tokio::net::TcpListener::bind(at)
                    .await
                    .with_context(|| format!("binding {at} (--metrics-listen)"))?,
            ),
            None => None,
        };
        println!("andon listening on {scheme}://{addr}");
        if let Some(token) = &started.admin_token {
            println!("first start: admin token (shown once, keep it safe):");
            println!("ANDON_TOKEN={token}");
        }
        for (provider, secret) in &started.new_webhook_secrets {
            let what = if *provider == "github" {
                "GitHub webhook secret"
            } else {
                "GitLab webhook token"
            };
            println!(
                "{what} (made now, kept in the database; admins: GET /v1/admin/webhooks): POST {scheme}://{addr}/webhooks/{provider} with {secret}"
            );
        }
        println!("web interface: {scheme}://{addr}/ui/ (sign in with a token)");
        if let Some(m) = &metrics {
            println!("metrics (no token): http://{}/metrics", m.local_addr()?);
        }
        use std::io::Write as _;
        std::io::stdout().flush()?;
        // Ctrl-C on a terminal, SIGTERM from systemd, Kubernetes or docker stop: finish
        // the requests under way, then close the database (a SQLite log is folded back).
        let shutdown = async {
            #[cfg(unix)]
            {
                let mut term =
                    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                        .expect("a SIGTERM handler");
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            #[cfg(not(unix))]
            let _ = tokio::signal::ctrl_c().await;
        };
        let app = started.app.clone();
        andon_server::serve_all(
            andon_server::Listeners {
                main: listener,
                metrics,
                tls,
            },
            started.app,
            shutdown,
        )
        .await?;
        app.store().close().await;
        tracing::info!("stopped");
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Locks a SQLite database for this process (`<file>.lock`, holding its process id): two
/// servers on one file would be two sequencers of one ledger. The lock goes with the
/// process, however it ends. PostgreSQL is shared by design (servers take turns appending),
/// so nothing is locked there.
fn lock_sqlite(url: &str) -> anyhow::Result<Option<std::fs::File>> {
    let Some(rest) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    else {
        return Ok(None);
    };
    let file = rest.split('?').next().unwrap_or(rest);
    if file.is_empty() || file.starts_with(":memory:") {
        return Ok(None);
    }
    let path = PathBuf::from(format!("{file}.lock"));
    let mut lock = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .with_context(|| format!("opening {}", path.display()))?;
    match lock.try_lock() {
        Ok(()) => {
            use std::io::{Seek as _, Write as _};
            lock.set_len(0)?;
            lock.rewind()?;
            writeln!(lock, "{}", std::process::id())?;
            Ok(Some(lock))
        }
        Err(std::fs::TryLockError::WouldBlock) => {
            let holder = std::fs::read_to_string(&path).unwrap_or_default();
            anyhow::bail!(
                "another andon serve (process {}) is using {file}: stop it first, or give this one its own --data-dir or --database",
                holder.trim()
            )
        }
        Err(std::fs::TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("locking {}", path.display()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_late_window_is_a_number_and_a_unit() {
        let secs = |s| window(s).map(|d| d.as_secs());
        assert_eq!(secs("24h"), Ok(86_400));
        assert_eq!(secs("90m"), Ok(5_400));
        assert_eq!(secs("7d"), Ok(604_800));
        assert_eq!(secs("30s"), Ok(30));
        for bad in ["24", "h", "1.5h", "-1h", "2w", "99999d"] {
            assert!(window(bad).is_err(), "{bad}");
        }
    }
}
