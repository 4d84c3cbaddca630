//! How the application is set up: storage, keys, limits, jobs, the clock.

pub use andon_vuln::sla::Policy as VulnSla;

/// How the server is set up.
#[derive(Clone, Debug)]
pub struct Config {
    /// `sqlite://...` or `postgres://...`.
    pub database_url: String,
    /// The log signing key's Ed25519 seed.
    pub log_seed: [u8; 32],
    /// The seed of the key the log was signed with until now, to rotate to `log_seed`: at
    /// start the retiring key signs the hand-over into a `log.key_rotated` entry.
    pub previous_log_seed: Option<[u8; 32]>,
    /// The seed of a key staged for a rotation another server will make: this server signs
    /// with `log_seed` until the log is handed over to this key, then with this key.
    pub next_log_seed: Option<[u8; 32]>,
    /// How long a write waits for the ledger before it is answered 503 (the database not
    /// answering).
    pub write_deadline: std::time::Duration,
    /// Proxies whose `Forwarded` / `X-Forwarded-For` say who the client is (networks);
    /// from anyone else those headers are ignored.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// The share of successful requests the access log records (0 to 1; errors always).
    pub access_log_sample: f64,
    /// A signed checkpoint an operator keeps outside the database (the last one monitoring
    /// saw, an old checkpoint file): a start refuses a database that does not extend it.
    pub highest_checkpoint: Option<std::path::PathBuf>,
    /// The operator's reason for serving a database that lost signed entries (restored
    /// from an older backup): recorded in the ledger, with an alert.
    pub acknowledge_loss: Option<String>,
    /// How often a running server reads the database's schema (a newer Andon's contract
    /// migration stops its writes: `jobs::schema`).
    pub schema_check_interval: std::time::Duration,
    /// The checkpoint origin used when the database has none yet.
    pub origin: String,
    /// The largest accepted request body, in bytes.
    pub max_body_bytes: usize,
    /// The largest report uploaded on its own (`PUT /v1/reports/...`), in bytes.
    pub max_report_bytes: usize,
    /// The largest report of a kind (`sbom`, `junit`, ...), inline or uploaded, in bytes; a
    /// kind not named here is bounded by `max_report_bytes` (and, inline, the body limit).
    pub report_limits: std::collections::BTreeMap<String, u64>,
    /// SQLite: the write-ahead log's size past which a checkpoint empties it.
    pub wal_limit_bytes: u64,
    /// The most entries group-committed at once.
    pub max_batch: usize,
    /// How long the sequencer waits after the first queued fact for more to join its batch
    /// (like PostgreSQL's `commit_delay`). Zero by default: under load, facts queue up during
    /// each commit anyway.
    pub batch_linger: std::time::Duration,
    /// The secret GitHub signs webhook deliveries with (`X-Hub-Signature-256`); without
    /// one, `/webhooks/github` refuses every delivery.
    pub github_webhook_secret: Option<String>,
    /// The token GitLab sends with webhook deliveries (`X-Gitlab-Token`); without one,
    /// `/webhooks/gitlab` refuses every delivery.
    pub gitlab_webhook_token: Option<String>,
    /// How ticket ids are found in commit messages, branch names and titles.
    pub ticket_patterns: andon_evidence::tickets::TicketPatterns,
    /// How often overdue emergency-change reviews are looked for (and alerted); vulnerability
    /// items are swept and their deadlines checked on the same interval.
    pub review_check_interval: std::time::Duration,
    /// Each severity's priority and deadline for vulnerability items (`--vuln-sla`).
    pub vuln_sla: VulnSla,
    /// Where change events are POSTed (docs/changes.md); none: no notifications.
    pub notify_url: Option<String>,
    /// The secret signing notification bodies.
    pub notify_secret: Option<String>,
    /// How notification bodies are shaped.
    pub notify_format: crate::jobs::notify::NotifyFormat,
    /// The first retry's delay; each further one doubles it (at most an hour).
    pub notify_retry_base: std::time::Duration,
    /// Attempts before a notification is given up (it stays in the log).
    pub notify_max_attempts: u32,
    /// The security telemetry rules (docs/telemetry.md).
    pub telemetry_rules: andon_telemetry::Rules,
    /// External witnesses (C2SP tlog-witness): checkpoints are sent to each one's
    /// `<prefix>/add-checkpoint` with consistency proofs, and their cosignatures kept.
    pub witnesses: Vec<Witness>,
    /// How often the witness is brought up to date.
    pub witness_interval: std::time::Duration,
    /// Requests handled at once; more are refused with 429 and `Retry-After`.
    pub max_in_flight: usize,
    /// Failed authentications an address may make per window before it is refused (429).
    pub auth_failure_limit: u32,
    /// That window.
    pub auth_failure_window: std::time::Duration,
    /// How often the server re-verifies its stored ledger (and alerts if it does not).
    pub ledger_check_interval: std::time::Duration,
    /// The longest break-glass grant, in minutes.
    pub access_max_minutes: u32,
    /// How old a fact's own time (a deployment's, an incident's, an account use's, a
    /// snapshot's) may be when it is recorded; older facts need an admin's reason
    /// (docs/changes.md, "Time").
    pub late_window: std::time::Duration,
    /// The clock access grants, their expiry and the late window are judged by.
    pub clock: crate::Clock,
    /// Where this server keeps the latest checkpoint it made durable, outside the database
    /// (see `ledger::anchor`); a start refuses a database that does not extend it. Default:
    /// beside a SQLite database (`<file>.checkpoint`); none for PostgreSQL (`andon serve`
    /// puts it in its data directory).
    pub checkpoint_file: Option<std::path::PathBuf>,
    /// Single sign-on for the web interface, when configured.
    pub sso: Option<Sso>,
}

/// Single sign-on through an OpenID provider: the registered issuer (`oidc.issuer`, whose
/// audiences include `client_id`) and this server's client at it.
#[derive(Clone, Debug)]
pub struct Sso {
    /// The registered issuer's name.
    pub issuer: String,
    /// The client id the provider gave this server.
    pub client_id: String,
    /// The client secret, for a confidential client (never recorded in the ledger).
    pub client_secret: Option<String>,
    /// Where the provider sends the browser back: `<public URL>/ui/sso/callback`, exactly as
    /// registered at the provider.
    pub redirect_uri: String,
}

/// The default checkpoint file of a database: `<path>.checkpoint` beside a SQLite file.
pub fn default_checkpoint_file(database_url: &str) -> Option<std::path::PathBuf> {
    let path = database_url
        .strip_prefix("sqlite://")
        .or_else(|| database_url.strip_prefix("sqlite:"))?;
    let path = path.split('?').next().unwrap_or_default();
    if path.is_empty() || path.contains(":memory:") {
        return None;
    }
    Some(std::path::PathBuf::from(format!("{path}.checkpoint")))
}

/// Reads a per-kind report limit, `KIND=SIZE`: a report kind (`sbom`, `junit`, ...) and a
/// size in bytes, or with a `KiB`, `MiB` or `GiB` suffix (`sbom=512MiB`).
pub fn parse_report_limit(s: &str) -> Result<(String, u64), String> {
    let (kind, size) = s
        .split_once('=')
        .ok_or_else(|| format!("{s:?} is not KIND=SIZE (sbom=512MiB, say)"))?;
    let kinds: Vec<&str> = andon_domain::REPORT_PREDICATES
        .iter()
        .map(|(k, _)| *k)
        .collect();
    if !kinds.contains(&kind) {
        return Err(format!(
            "{kind:?} is not a report kind; the kinds are {}",
            kinds.join(", ")
        ));
    }
    let size = size.trim();
    let (digits, unit) = match size.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => size.split_at(i),
        None => (size, ""),
    };
    let shift = match unit.trim() {
        "" => 0,
        "KiB" => 10,
        "MiB" => 20,
        "GiB" => 30,
        other => {
            return Err(format!(
                "{other:?} is not a size unit: bytes, KiB, MiB or GiB"
            ));
        }
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("{size:?} is not a size (512MiB, say)"))?;
    let bytes = n
        .checked_mul(1 << shift)
        .filter(|b| *b > 0)
        .ok_or_else(|| format!("{size:?} is not a size above zero"))?;
    Ok((kind.to_owned(), bytes))
}

impl Config {
    /// The largest report of `kind` this server takes, in bytes.
    pub fn report_limit(&self, kind: &str) -> u64 {
        let all = self.max_report_bytes as u64;
        self.report_limits.get(kind).map_or(all, |l| (*l).min(all))
    }

    /// Defaults for a database URL and a log key.
    pub fn new(database_url: impl Into<String>, log_seed: [u8; 32]) -> Self {
        let database_url = database_url.into();
        Self {
            checkpoint_file: default_checkpoint_file(&database_url),
            database_url,
            log_seed,
            previous_log_seed: None,
            next_log_seed: None,
            schema_check_interval: std::time::Duration::from_secs(2),
            highest_checkpoint: None,
            trusted_proxies: Vec::new(),
            write_deadline: std::time::Duration::from_secs(5),
            access_log_sample: 1.0,
            acknowledge_loss: None,
            origin: String::new(),
            max_body_bytes: 4 << 20,
            max_report_bytes: 256 << 20,
            report_limits: Default::default(),
            wal_limit_bytes: andon_store::WAL_LIMIT_BYTES,
            max_batch: 1024,
            batch_linger: std::time::Duration::ZERO,
            github_webhook_secret: None,
            gitlab_webhook_token: None,
            ticket_patterns: Default::default(),
            review_check_interval: std::time::Duration::from_secs(60),
            vuln_sla: VulnSla::default(),
            notify_url: None,
            notify_secret: None,
            notify_format: crate::jobs::notify::NotifyFormat::Json,
            notify_retry_base: std::time::Duration::from_secs(2),
            notify_max_attempts: 10,
            telemetry_rules: Default::default(),
            access_max_minutes: 240,
            ledger_check_interval: std::time::Duration::from_secs(3600),
            max_in_flight: 1024,
            auth_failure_limit: 20,
            auth_failure_window: std::time::Duration::from_secs(60),
            witnesses: Vec::new(),
            witness_interval: std::time::Duration::from_secs(30),
            late_window: std::time::Duration::from_secs(24 * 3600),
            clock: crate::Clock::system(),
            sso: None,
        }
    }
}

/// An external witness: where to submit checkpoints, and the key its cosignatures verify
/// with (lines by any other key are ignored).
#[derive(Clone, Debug)]
pub struct Witness {
    /// The submission prefix: checkpoints go to `<url>/add-checkpoint`.
    pub url: String,
    /// The witness's cosignature verifier key.
    pub key: andon_ledger::WitnessVerifier,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_limits_read_a_kind_and_a_size() {
        assert_eq!(
            parse_report_limit("sbom=512MiB"),
            Ok(("sbom".into(), 512 << 20))
        );
        assert_eq!(parse_report_limit("junit=1000"), Ok(("junit".into(), 1000)));
        assert_eq!(
            parse_report_limit("sarif=2 GiB"),
            Ok(("sarif".into(), 2 << 30))
        );
        for bad in [
            "sbom",
            "nope=1",
            "sbom=",
            "sbom=0",
            "sbom=12MB",
            "sbom=-1",
            "sbom=99999999999GiB",
        ] {
            assert!(parse_report_limit(bad).is_err(), "{bad}");
        }
        assert!(parse_report_limit("nope=1").unwrap_err().contains("sbom"));
    }

    #[test]
    fn a_kinds_limit_never_exceeds_the_servers() {
        let mut c = Config::new("sqlite::memory:", [0; 32]);
        c.max_report_bytes = 1000;
        c.report_limits.insert("junit".into(), 10);
        c.report_limits.insert("sbom".into(), 5000);
        assert_eq!(c.report_limit("junit"), 10);
        assert_eq!(c.report_limit("sbom"), 1000);
        assert_eq!(c.report_limit("sarif"), 1000);
    }
}
