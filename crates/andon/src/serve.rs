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
    /// Checkpoint origin for a new log.
    #[arg(long, env = "ANDON_LOG_ORIGIN", default_value = "")]
    pub origin: String,
    /// Largest accepted request body, in bytes.
    #[arg(long, env = "ANDON_MAX_BODY_BYTES", default_value_t = 4 << 20)]
    pub max_body_bytes: usize,
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
}

pub fn run(a: &ServeArgs) -> anyhow::Result<ExitCode> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .json()
        .with_writer(std::io::stderr)
        .init();
    std::fs::create_dir_all(&a.data_dir)
        .with_context(|| format!("creating {}", a.data_dir.display()))?;
    let url = a
        .database
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", a.data_dir.join("andon.db").display()));
    let seed = crate::keys::log_seed(
        &a.log_key
            .clone()
            .unwrap_or_else(|| a.data_dir.join("log.key")),
    )?;
    let mut config = andon_server::Config::new(url, seed);
    config.origin = a.origin.clone();
    config.max_body_bytes = a.max_body_bytes;
    config.github_webhook_secret = a.github_webhook_secret.clone();
    config.gitlab_webhook_token = a.gitlab_webhook_token.clone();
    if !a.ticket_patterns.is_empty() {
        config.ticket_patterns = andon_evidence::tickets::TicketPatterns::new(&a.ticket_patterns)
            .map_err(|e| anyhow::anyhow!(e))?;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let started = andon_server::App::open(config)
            .await
            .map_err(|e| anyhow::anyhow!(e))?;
        let listener = tokio::net::TcpListener::bind(&a.listen)
            .await
            .with_context(|| format!("binding {}", a.listen))?;
        let addr = listener.local_addr()?;
        println!("andon listening on http://{addr}");
        if let Some(token) = &started.admin_token {
            println!("first start: admin token (shown once, keep it safe):");
            println!("ANDON_TOKEN={token}");
        }
        use std::io::Write as _;
        std::io::stdout().flush()?;
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        andon_server::serve(listener, started.app, shutdown).await?;
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(ExitCode::SUCCESS)
}
