//! The application state: store, log signer, in-memory tree, caches, the sequencer handle.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use andon_domain::api::Receipt;
use andon_domain::{EntryKind, IdentityName, Role};
use andon_ledger::{Checkpoint, LogSigner, MerkleTree, SignedCheckpoint};
use andon_store::{Batch, Effect, IdentityRow, KeyRow, Store};
use sha2::{Digest as _, Sha256};
use tokio::sync::mpsc;

use crate::ApiError;
use crate::sequencer::{self, Fact, Job};

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
    /// The checkpoint origin used when the database has none yet.
    pub origin: String,
    /// The largest accepted request body, in bytes.
    pub max_body_bytes: usize,
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
    /// How often overdue emergency-change reviews are looked for (and alerted).
    pub review_check_interval: std::time::Duration,
    /// Where change events are POSTed (docs/changes.md); none: no notifications.
    pub notify_url: Option<String>,
    /// The secret signing notification bodies.
    pub notify_secret: Option<String>,
    /// How notification bodies are shaped.
    pub notify_format: crate::NotifyFormat,
    /// The first retry's delay; each further one doubles it (at most an hour).
    pub notify_retry_base: std::time::Duration,
    /// Attempts before a notification is given up (it stays in the log).
    pub notify_max_attempts: u32,
    /// The security telemetry rules (docs/telemetry.md).
    pub telemetry_rules: andon_telemetry::Rules,
    /// An external witness's submission prefix (C2SP tlog-witness): checkpoints are sent
    /// to `<prefix>/add-checkpoint` with consistency proofs.
    pub witness_url: Option<String>,
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
    /// The clock access grants and their expiry are judged by.
    pub clock: crate::Clock,
}

impl Config {
    /// Defaults for a database URL and a log key.
    pub fn new(database_url: impl Into<String>, log_seed: [u8; 32]) -> Self {
        Self {
            database_url: database_url.into(),
            log_seed,
            previous_log_seed: None,
            origin: String::new(),
            max_body_bytes: 4 << 20,
            max_batch: 1024,
            batch_linger: std::time::Duration::ZERO,
            github_webhook_secret: None,
            gitlab_webhook_token: None,
            ticket_patterns: Default::default(),
            review_check_interval: std::time::Duration::from_secs(60),
            notify_url: None,
            notify_secret: None,
            notify_format: crate::NotifyFormat::Json,
            notify_retry_base: std::time::Duration::from_secs(2),
            notify_max_attempts: 10,
            telemetry_rules: Default::default(),
            access_max_minutes: 240,
            ledger_check_interval: std::time::Duration::from_secs(3600),
            max_in_flight: 1024,
            auth_failure_limit: 20,
            auth_failure_window: std::time::Duration::from_secs(60),
            witness_url: None,
            witness_interval: std::time::Duration::from_secs(30),
            clock: crate::Clock::system(),
        }
    }
}

/// The running application, cheap to clone.
#[derive(Clone)]
pub struct App(pub(crate) Arc<Inner>);

pub(crate) struct Inner {
    pub store: Store,
    pub signer: LogSigner,
    pub origin: String,
    pub tree: RwLock<MerkleTree>,
    pub latest: RwLock<Arc<SignedCheckpoint>>,
    pub jobs: mpsc::Sender<Job>,
    pub tokens: RwLock<HashMap<String, IdentityRow>>,
    /// The verifier keys the log was signed with before the current one, oldest first
    /// (decisions and checkpoints from those times verify with them).
    pub previous_keys: RwLock<Vec<String>>,
    /// Registered, unrevoked keys with their owners, by key id.
    pub keys: RwLock<HashMap<String, (KeyRow, IdentityRow, andon_domain::VerifyingKey)>>,
    /// Compiled policies by version: compiling is milliseconds, evaluating microseconds.
    pub policies: RwLock<HashMap<String, Arc<andon_policy::Policy>>>,
    /// Signs gate decisions: the log key (decisions and checkpoints verify with one key).
    pub decision_key: andon_domain::SigningKey,
    /// Request and ledger meters (`GET /metrics`).
    pub meters: crate::observe::Meters,
    /// Failed authentications per address.
    pub auth_failures: crate::auth::AuthFailures,
    /// Permits for requests in flight (`max_in_flight`).
    pub in_flight: std::sync::Arc<tokio::sync::Semaphore>,
    /// Held while telemetry rules evaluate and raise their alerts, so two batches do not
    /// raise the same alert twice.
    pub telemetry_lock: tokio::sync::Mutex<()>,
    /// Held while the tree is extended (a batch, or entries other servers appended).
    pub sequencing: tokio::sync::Mutex<()>,
    /// The last self-check of the stored ledger (`POST /v1/ledger/verify` answer with
    /// `checked_at`), shown on the ledger page.
    pub last_check: RwLock<Option<serde_json::Value>>,
    pub config: Config,
}

/// What `App::open` reports about a start.
pub struct Started {
    /// The application.
    pub app: App,
    /// On the very first start: the admin token, to be shown once.
    pub admin_token: Option<String>,
}

/// A new random API token.
pub(crate) fn new_token() -> Result<String, ApiError> {
    let mut raw = [0u8; 32];
    getrandom::fill(&mut raw).map_err(|e| ApiError::unavailable(format!("no randomness: {e}")))?;
    Ok(format!("andon_{}", hex::encode(raw)))
}

/// How tokens are stored: SHA-256 hex. Tokens carry 256 random bits, so a fast hash is
/// enough; a leaked table does not reveal them.
pub(crate) fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

impl App {
    /// Connects, migrates, rebuilds the tree from the stored leaves, starts the sequencer,
    /// and on an empty database creates the first admin.
    pub async fn open(config: Config) -> Result<Started, String> {
        andon_store::check_writable(&config.database_url).map_err(|e| e.to_string())?;
        let store = Store::connect(&config.database_url)
            .await
            .map_err(|e| e.to_string())?;
        let default_origin = if config.origin.is_empty() {
            let probe = LogSigner::new("x", config.log_seed).verifier().to_string();
            format!("andon.local/{}", &probe.split('+').nth(1).unwrap_or("log"))
        } else {
            config.origin.clone()
        };
        let origin = store
            .meta_init("log_origin", &default_origin)
            .await
            .map_err(|e| e.to_string())?;
        let signer = LogSigner::new(origin.clone(), config.log_seed);
        let verifier = signer.verifier().to_string();
        let recorded = store
            .meta_init("log_verifier_key", &verifier)
            .await
            .map_err(|e| e.to_string())?;
        let rotation = if recorded == verifier {
            None
        } else {
            let Some(previous) = config.previous_log_seed else {
                return Err(format!(
                    "the log key does not match this database: it was signed by {recorded}, the configured key is {verifier}; to rotate to the configured key, also give the current key as the previous log key"
                ));
            };
            let retiring = LogSigner::new(origin.clone(), previous);
            if retiring.verifier().to_string() != recorded {
                return Err(format!(
                    "the previous log key is not the key this database is signed by ({recorded}): nothing was rotated"
                ));
            }
            Some((retiring, recorded))
        };
        let previous_keys: Vec<String> = store
            .meta("log_previous_verifier_keys")
            .await
            .map_err(|e| e.to_string())?
            .map(|v| v.lines().map(str::to_owned).collect())
            .unwrap_or_default();
        let size = store.ledger_size().await.map_err(|e| e.to_string())?;
        let leaves = store
            .leaf_hashes(0, size)
            .await
            .map_err(|e| e.to_string())?;
        let tree = MerkleTree::from_leaf_hashes(leaves);
        let cp = signer.sign(&Checkpoint {
            origin: origin.clone(),
            size,
            root: tree.root(),
        });
        let stored = store.latest_checkpoint().await.map_err(|e| e.to_string())?;
        if stored.as_ref().map(|c| c.size) != Some(size) {
            store
                .commit_batch(&Batch {
                    appends: vec![],
                    checkpoint: Some((size, cp.checkpoint.root, cp.note.clone())),
                })
                .await
                .map_err(|e| e.to_string())?;
        }
        let (tx, rx) = mpsc::channel(config.max_batch * 8);
        let app = App(Arc::new(Inner {
            store,
            signer,
            origin,
            tree: RwLock::new(tree),
            latest: RwLock::new(Arc::new(cp)),
            jobs: tx,
            tokens: RwLock::new(HashMap::new()),
            last_check: RwLock::new(None),
            previous_keys: RwLock::new(previous_keys),
            keys: RwLock::new(HashMap::new()),
            policies: RwLock::new(HashMap::new()),
            decision_key: andon_domain::SigningKey::from_seed(config.log_seed),
            telemetry_lock: tokio::sync::Mutex::new(()),
            sequencing: tokio::sync::Mutex::new(()),
            meters: Default::default(),
            auth_failures: crate::auth::AuthFailures::new(
                config.auth_failure_limit,
                config.auth_failure_window,
            ),
            in_flight: std::sync::Arc::new(tokio::sync::Semaphore::new(
                config.max_in_flight.max(1),
            )),
            config,
        }));
        sequencer::spawn(app.clone(), rx, app.0.config.database_url.clone()).await?;
        if app.0.store.backend() == andon_store::Backend::Postgres {
            tokio::spawn(sequencer::refresh(
                app.clone(),
                std::time::Duration::from_millis(500),
            ));
        }
        if let Some((retiring, previous)) = rotation {
            let next = app.0.signer.verifier();
            let retired = app.previous_keys_with(&previous);
            let signature = retiring.endorse(&next);
            let receipt = app
                .append(Fact::admin(
                    EntryKind::LogKeyRotated,
                    "andon",
                    serde_json::json!({
                        "previous": previous,
                        "next": next.to_string(),
                        "signature": signature,
                    }),
                    Effect::Settings(vec![
                        ("log_verifier_key".into(), next.to_string()),
                        ("log_previous_verifier_keys".into(), retired.join("\n")),
                    ]),
                ))
                .await
                .map_err(|e| e.message)?;
            tracing::info!(index = receipt.ledger_index, previous = %previous, next = %next, "log key rotated");
        }
        let wal = app.0.store.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_millis(500));
            loop {
                tick.tick().await;
                if let Err(e) = wal.checkpoint_wal().await {
                    tracing::warn!(error = %e, "WAL checkpoint failed");
                }
            }
        });
        let admin_token = if app
            .0
            .store
            .identities()
            .await
            .map_err(|e| e.to_string())?
            .is_empty()
        {
            let name: IdentityName = "admin"
                .parse()
                .map_err(|e: andon_domain::DomainError| e.to_string())?;
            let issued = app
                .create_identity("andon", &name, Role::Admin, vec![], vec![])
                .await
                .map_err(|e| e.message)?;
            Some(issued.0)
        } else {
            None
        };
        crate::routes::gates::publish_builtin(&app)
            .await
            .map_err(|e| e.message)?;
        let watcher = app.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(watcher.0.config.review_check_interval);
            loop {
                tick.tick().await;
                if let Err(e) = crate::routes::changes::raise_overdue_reviews(&watcher).await {
                    tracing::warn!(error = %e.message, "checking emergency reviews failed");
                }
                if let Err(e) = crate::routes::access::record_expiries(&watcher).await {
                    tracing::warn!(error = %e.message, "recording grant expiries failed");
                }
            }
        });
        let checker = app.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(checker.0.config.ledger_check_interval);
            loop {
                tick.tick().await;
                match crate::routes::ledger::self_check(&checker).await {
                    Ok(r) if r["verified"] == false => {
                        tracing::error!(result = %r, "the stored ledger does not verify")
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e.message, "verifying the ledger failed"),
                }
            }
        });
        if let Some(url) = app.0.config.witness_url.clone() {
            tokio::spawn(crate::witness::run(app.clone(), url));
        }
        if let Some(url) = app.0.config.notify_url.clone() {
            tokio::spawn(crate::notify::run(app.clone(), url));
        }
        Ok(Started { app, admin_token })
    }

    /// The keys the log was signed with before the current one, oldest first.
    pub(crate) fn previous_keys(&self) -> Vec<String> {
        self.0
            .previous_keys
            .read()
            .map(|k| k.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }

    /// The previous keys with `retiring` added (it becomes one of them), remembered here.
    fn previous_keys_with(&self, retiring: &str) -> Vec<String> {
        let mut keys = self.previous_keys();
        if !keys.iter().any(|k| k == retiring) {
            keys.push(retiring.to_owned());
        }
        if let Ok(mut k) = self.0.previous_keys.write() {
            *k = keys.clone();
        }
        keys
    }

    /// Validates and publishes a policy bundle (as `andon serve --policies` does at start).
    pub async fn publish_policy(
        &self,
        actor: &str,
        bundle: andon_policy::Bundle,
    ) -> Result<andon_domain::api::PublishedPolicy, ApiError> {
        crate::routes::gates::publish_bundle(self, actor, bundle).await
    }

    /// Now, by the configured clock (Unix ms).
    pub(crate) fn now(&self) -> i64 {
        self.0.config.clock.now_ms()
    }

    /// The store (read access for handlers).
    pub(crate) fn store(&self) -> &Store {
        &self.0.store
    }

    /// The latest committed, signed checkpoint.
    pub(crate) fn latest(&self) -> Arc<SignedCheckpoint> {
        self.0
            .latest
            .read()
            .map(|c| c.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }

    /// Hands a fact to the sequencer and waits for its receipt.
    pub(crate) async fn append(&self, fact: Fact) -> Result<Receipt, ApiError> {
        let mut receipts = self.append_all(vec![fact]).await?;
        receipts
            .pop()
            .ok_or_else(|| ApiError::unavailable("the ledger sequencer gave no receipt"))
    }

    /// Hands several facts to the sequencer at once (so they can share a commit) and waits
    /// for all their receipts; the first failure is returned.
    pub(crate) async fn append_all(&self, facts: Vec<Fact>) -> Result<Vec<Receipt>, ApiError> {
        let started = std::time::Instant::now();
        let receipts = self.append_all_untimed(facts).await;
        self.0.meters.append_took(started.elapsed());
        receipts
    }

    async fn append_all_untimed(&self, facts: Vec<Fact>) -> Result<Vec<Receipt>, ApiError> {
        // A queue without room for the whole request is overload: refuse it now, before any
        // of its facts is queued (429, retry shortly), rather than wait without bound or
        // record half of it.
        if self.0.jobs.capacity() < facts.len() {
            return Err(ApiError::busy(
                "the ledger sequencer's queue is full; retry in a second",
            ));
        }
        let mut waiting = Vec::with_capacity(facts.len());
        for fact in facts {
            let (reply, rx) = tokio::sync::oneshot::channel();
            self.0
                .jobs
                .send(Job { fact, reply })
                .await
                .map_err(|_| ApiError::unavailable("the ledger sequencer has stopped"))?;
            waiting.push(rx);
        }
        let mut receipts = Vec::with_capacity(waiting.len());
        for rx in waiting {
            receipts.push(rx.await.map_err(|_| {
                ApiError::unavailable("the ledger sequencer dropped the request")
            })??);
        }
        Ok(receipts)
    }

    /// Creates an identity and its first token; returns (token, receipt of the token).
    pub(crate) async fn create_identity(
        &self,
        actor: &str,
        name: &IdentityName,
        role: Role,
        applications: Vec<String>,
        groups: Vec<String>,
    ) -> Result<(String, Receipt), ApiError> {
        let apps_json = serde_json::to_string(&applications).unwrap_or_else(|_| "[]".into());
        let groups_json = serde_json::to_string(&groups).unwrap_or_else(|_| "[]".into());
        let mut body =
            serde_json::json!({ "name": name, "role": role, "applications": applications });
        if !groups.is_empty() {
            body["groups"] = groups.into();
        }
        self.append(Fact::admin(
            EntryKind::IdentityCreated,
            actor,
            body,
            Effect::Identity {
                name: name.to_string(),
                role: role.as_str().into(),
                applications: apps_json,
                groups: groups_json,
            },
        ))
        .await?;
        self.issue_token(actor, name).await
    }

    /// Issues a new token to an existing identity.
    pub(crate) async fn issue_token(
        &self,
        actor: &str,
        name: &IdentityName,
    ) -> Result<(String, Receipt), ApiError> {
        let token = new_token()?;
        let hash = token_hash(&token);
        let receipt = self
            .append(Fact::admin(
                EntryKind::TokenIssued,
                actor,
                serde_json::json!({ "identity": name, "token_sha256": hash }),
                Effect::Token {
                    hash,
                    identity: name.to_string(),
                },
            ))
            .await?;
        Ok((token, receipt))
    }
}
