//! The application state: store, log signer, in-memory tree, caches, the sequencer handle.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use andon_domain::api::Receipt;
use andon_domain::{EntryKind, IdentityName, Role};
use andon_ledger::{Checkpoint, LogSigner, MerkleTree, SignedCheckpoint};
use andon_store::{Batch, Effect, Store};
use sha2::{Digest as _, Sha256};
use tokio::sync::mpsc;

use crate::AppError;
use crate::config::Config;
use crate::ledger::sequencer::{self, Fact, Job};

/// The running application, cheap to clone.
#[derive(Clone)]
pub struct App(#[doc(hidden)] pub Arc<Inner>);

#[doc(hidden)]
#[allow(missing_docs)]
pub struct Inner {
    pub store: Store,
    /// The log keys this server holds and the one the log says is in force.
    pub keys: crate::ledger::keyring::Keyring,
    pub origin: String,
    pub tree: RwLock<MerkleTree>,
    pub latest: RwLock<Arc<SignedCheckpoint>>,
    pub jobs: mpsc::Sender<Job>,
    /// Who may act, built from the ledger only (identities, tokens, keys, revocations).
    pub authority: RwLock<crate::authority::Authority>,
    /// Compiled policies by version: compiling is milliseconds, evaluating microseconds.
    pub policies: RwLock<HashMap<String, Arc<andon_policy::Policy>>>,
    /// How long appends took, from hand-over to the sequencer to a durable receipt.
    pub appends: crate::ledger::meter::AppendMeter,
    /// Held while telemetry rules evaluate and raise their alerts, so two batches do not
    /// raise the same alert twice.
    pub telemetry_lock: tokio::sync::Mutex<()>,
    /// Why this server writes nothing more, when a newer Andon's migration contracted the
    /// schema past what it knows (`jobs::schema`).
    pub schema_stopped: RwLock<Option<String>>,
    /// Held while the tree is extended (a batch, or entries other servers appended).
    pub sequencing: tokio::sync::Mutex<()>,
    /// The last self-check of the stored ledger (`POST /v1/ledger/verify` answer with
    /// `checked_at`), shown on the ledger page.
    pub last_check: RwLock<Option<serde_json::Value>>,
    /// OpenID issuers' signing keys, fetched on first use and again on an unknown key id.
    pub oidc_keys: crate::federation::KeyCache,
    /// The gate decisions the admission webhook read, for a few seconds.
    pub admission_cache: crate::admission::cache::DecisionCache,
    /// What gates gathered about artifacts, checked against the ledger before each use.
    pub gather_cache: crate::gates::kept::Kept<crate::gates::gathered::Gathered>,
    /// What gates read about applications and environments (policy, waivers, drills,
    /// hardening scans), checked against the ledger before each use.
    pub context_cache: crate::gates::kept::Kept<crate::gates::context::Context>,
    /// The open change records production gates found for artifacts, checked against the
    /// ledger before each use.
    pub change_cache: crate::gates::kept::Kept<crate::gates::change::OpenChange>,
    pub config: Config,
}

/// What `App::open` reports about a start.
pub struct Started {
    /// The application.
    pub app: App,
    /// On the very first start: the admin token, to be shown once.
    pub admin_token: Option<String>,
    /// Webhook secrets this start created (none was configured or stored): (provider,
    /// secret), to be shown with the token.
    pub new_webhook_secrets: Vec<(&'static str, String)>,
}

/// The webhook secret of `provider` kept in the database (`meta`), created on first need:
/// returns it, and whether this call created it. A configured secret is used instead.
async fn stored_secret(store: &Store, provider: &str) -> Result<(String, bool), String> {
    let mut raw = [0u8; 24];
    getrandom::fill(&mut raw).map_err(|e| format!("no randomness: {e}"))?;
    let fresh = format!("whsec_{}", hex::encode(raw));
    let kept = store
        .meta_init(&format!("{provider}_webhook_secret"), &fresh)
        .await
        .map_err(|e| e.to_string())?;
    let created = kept == fresh;
    Ok((kept, created))
}

/// A new random API token.
pub fn new_token() -> Result<String, AppError> {
    let mut raw = [0u8; 32];
    getrandom::fill(&mut raw).map_err(|e| AppError::unavailable(format!("no randomness: {e}")))?;
    Ok(format!("andon_{}", hex::encode(raw)))
}

/// How tokens are stored: SHA-256 hex. Tokens carry 256 random bits, so a fast hash is
/// enough; a leaked table does not reveal them.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

impl App {
    /// Connects, migrates, checks the stored ledger and rebuilds its tree (refusing a ledger
    /// that does not match what was signed: `ledger::start`), starts the sequencer,
    /// and on an empty database creates the first admin.
    pub async fn open(mut config: Config) -> Result<Started, String> {
        andon_store::check_writable(&config.database_url).map_err(|e| e.to_string())?;
        let store = Store::connect(&config.database_url)
            .await
            .map_err(|e| e.to_string())?;
        // Webhooks work out of the box: without a configured secret, the one the database
        // keeps (made on the first start, shown then and to admins: GET /v1/admin/webhooks).
        let mut new_webhook_secrets = Vec::new();
        for (provider, configured) in [
            ("github", &mut config.github_webhook_secret),
            ("gitlab", &mut config.gitlab_webhook_token),
        ] {
            if configured.is_none() {
                let (secret, created) = stored_secret(&store, provider).await?;
                if created {
                    new_webhook_secrets.push((provider, secret.clone()));
                }
                *configured = Some(secret);
            }
        }
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
        let held: Vec<[u8; 32]> = std::iter::once(config.log_seed)
            .chain(config.previous_log_seed)
            .chain(config.next_log_seed)
            .collect();
        let configured = LogSigner::new(origin.clone(), config.log_seed);
        let recorded = store
            .meta_init("log_verifier_key", &configured.verifier().to_string())
            .await
            .map_err(|e| e.to_string())?;
        let (signer, rotation) = choose_key(&origin, &config, &held, &recorded)?;
        let previous_keys: Vec<String> = store
            .meta("log_previous_verifier_keys")
            .await
            .map_err(|e| e.to_string())?
            .map(|v| v.lines().map(str::to_owned).collect())
            .unwrap_or_default();
        let highest = match &config.highest_checkpoint {
            Some(path) => Some((
                path.clone(),
                std::fs::read_to_string(path).map_err(|e| {
                    format!("reading the highest checkpoint {}: {e}", path.display())
                })?,
            )),
            None => None,
        };
        let verified = crate::ledger::start::verified_tree(
            &store,
            &origin,
            crate::ledger::start::StartKeys {
                signer: &signer,
                retiring: None,
                previous: &previous_keys,
            },
            config.checkpoint_file.as_deref(),
            highest.as_ref().map(|(p, n)| (p.as_path(), n.as_str())),
        )
        .await?;
        let tree = verified.tree;
        let size = tree.size();
        let authority = crate::authority::load(&store, &tree).await?;
        let cp = signer.sign(&Checkpoint {
            origin: origin.clone(),
            size,
            root: tree.root(),
        });
        // Signed checkpoints beyond this database (see `ledger::restored`): refused unless
        // acknowledged.
        let mut losses = verified.losses;
        losses.extend(crate::ledger::witness::losses(&config.witnesses, size, &cp.note).await);
        let losses = crate::ledger::restored::unacknowledged(&store, size, losses).await?;
        if !losses.is_empty() && config.acknowledge_loss.is_none() {
            return Err(crate::ledger::restored::refusal(size, &losses));
        }
        let restore_pending: Option<serde_json::Value> = store
            .meta("restore_pending")
            .await
            .map_err(|e| e.to_string())?
            .filter(|v| !v.is_empty())
            .map(|v| serde_json::from_str(&v).unwrap_or(serde_json::Value::String(v)));
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
            keys: crate::ledger::keyring::Keyring::new(
                &origin,
                held,
                signer.verifier(),
                previous_keys,
            ),
            origin,
            tree: RwLock::new(tree),
            latest: RwLock::new(Arc::new(cp)),
            jobs: tx,
            authority: RwLock::new(authority),
            last_check: RwLock::new(None),
            oidc_keys: crate::federation::KeyCache::default(),
            admission_cache: Default::default(),
            gather_cache: Default::default(),
            context_cache: Default::default(),
            change_cache: Default::default(),
            policies: RwLock::new(HashMap::new()),
            telemetry_lock: tokio::sync::Mutex::new(()),
            sequencing: tokio::sync::Mutex::new(()),
            schema_stopped: RwLock::new(None),
            appends: Default::default(),
            config,
        }));
        sequencer::spawn(app.clone(), rx, app.0.config.database_url.clone()).await?;
        if app.0.store.backend() == andon_store::Backend::Postgres {
            tokio::spawn(sequencer::refresh(
                app.clone(),
                std::time::Duration::from_millis(500),
            ));
        }
        if let Some(next) = rotation {
            let previous = signer.verifier().to_string();
            let mut retired = app.previous_keys();
            retired.push(previous.clone());
            let signature = signer.endorse(&next);
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
        if restore_pending.is_some() || !losses.is_empty() {
            crate::ledger::restored::record(
                &app,
                restore_pending,
                &losses,
                app.0.config.acknowledge_loss.as_deref(),
            )
            .await
            .map_err(|e| e.message)?;
        }
        let wal = app.0.store.clone();
        wal.set_wal_limit(app.0.config.wal_limit_bytes);
        tokio::spawn(async move {
            // Often, so that what is left for the sequencer to copy when it restarts the
            // log past its limit (`Store::restart_wal_past_limit`) is little.
            let mut tick = tokio::time::interval(std::time::Duration::from_millis(100));
            loop {
                tick.tick().await;
                if let Err(e) = wal.checkpoint_wal().await {
                    tracing::warn!(error = %e, "WAL checkpoint failed");
                }
            }
        });
        // Servers started together on an empty PostgreSQL: one creates the first admin and
        // the built-in policy, the others wait and find them.
        let first_start = app
            .0
            .store
            .lock_first_start()
            .await
            .map_err(|e| e.to_string())?;
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
            let issued = crate::admin::record_identity(
                &app,
                "andon".into(),
                &name,
                Role::Admin,
                vec![],
                vec![],
            )
            .await
            .map_err(|e| e.message)?;
            Some(issued.token)
        } else {
            None
        };
        crate::gates::policies::publish_builtin(&app)
            .await
            .map_err(|e| e.message)?;
        first_start.release().await.map_err(|e| e.to_string())?;
        crate::jobs::spawn(&app);
        Ok(Started {
            app,
            admin_token,
            new_webhook_secrets,
        })
    }

    /// The keys the log was signed with before the current one, oldest first.
    pub fn previous_keys(&self) -> Vec<String> {
        self.0.keys.previous()
    }

    /// Validates and publishes a policy bundle (as `andon serve --policies` does at start).
    pub async fn publish_policy(
        &self,
        actor: &str,
        bundle: andon_policy::Bundle,
    ) -> Result<andon_domain::api::PublishedPolicy, AppError> {
        crate::gates::policies::publish_bundle(self, actor, bundle).await
    }

    /// How the application is set up.
    pub fn config(&self) -> &Config {
        &self.0.config
    }

    /// Whether the sequencer has stopped (nothing can be appended).
    pub fn sequencer_stopped(&self) -> bool {
        self.0.jobs.is_closed()
    }

    /// Why this server writes nothing, if it does not: it does not hold the log key in force,
    /// or a newer Andon contracted the schema past what it knows.
    pub fn writes_stopped(&self) -> Option<String> {
        self.0
            .schema_stopped
            .read()
            .ok()
            .and_then(|s| s.clone())
            .or_else(|| self.0.keys.stopped())
    }

    /// Facts waiting for the sequencer, and the queue's bound.
    pub fn sequencer_queue(&self) -> (usize, usize) {
        let jobs = &self.0.jobs;
        (jobs.max_capacity() - jobs.capacity(), jobs.max_capacity())
    }

    /// How long appends took so far.
    pub fn append_latencies(&self) -> crate::ledger::meter::Histogram {
        self.0.appends.snapshot()
    }

    /// The last self-check of the stored ledger, if one ran.
    pub fn last_check(&self) -> Option<serde_json::Value> {
        self.0.last_check.read().ok().and_then(|l| l.clone())
    }

    /// The actor a token's SHA-256 belongs to, as the ledger says: an unknown, revoked or
    /// expired token, or one of a disabled identity, is `unauthorized`.
    pub async fn actor_by_token_hash(&self, hash: String) -> Result<crate::Actor, AppError> {
        let now = self.now();
        self.with_authority(|a| a.actor(&hash, now))
    }

    /// Reads the ledger-derived authority.
    pub fn with_authority<R>(&self, f: impl FnOnce(&crate::authority::Authority) -> R) -> R {
        match self.0.authority.read() {
            Ok(a) => f(&a),
            Err(p) => f(&p.into_inner()),
        }
    }

    /// Now, by the configured clock (Unix ms).
    pub fn now(&self) -> i64 {
        self.0.config.clock.now_ms()
    }

    /// The store (read access for handlers).
    pub fn store(&self) -> &Store {
        &self.0.store
    }

    /// The latest committed, signed checkpoint.
    pub fn latest(&self) -> Arc<SignedCheckpoint> {
        self.0
            .latest
            .read()
            .map(|c| c.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }

    /// Hands a fact to the sequencer and waits for its receipt.
    pub async fn append(&self, fact: Fact) -> Result<Receipt, AppError> {
        let mut receipts = self.append_all(vec![fact]).await?;
        receipts
            .pop()
            .ok_or_else(|| AppError::unavailable("the ledger sequencer gave no receipt"))
    }

    /// Hands several facts to the sequencer at once (so they can share a commit) and waits
    /// for all their receipts; the first failure is returned.
    pub async fn append_all(&self, facts: Vec<Fact>) -> Result<Vec<Receipt>, AppError> {
        let started = std::time::Instant::now();
        // A database that stops answering (a network partition, a frozen host) would hold
        // the request as long as TCP does: past the write deadline the caller is told to
        // retry. What was sent may still be recorded once the database answers; evidence
        // is identified by its bytes, so a retry finds it.
        let receipts = match tokio::time::timeout(
            self.0.config.write_deadline,
            self.append_all_untimed(facts),
        )
        .await
        {
            Ok(r) => r,
            Err(_) => Err(AppError::unavailable(format!(
                "the database did not answer within {} s; this write may or may not be recorded: retry it (evidence is recognized when sent again)",
                self.0.config.write_deadline.as_secs()
            ))),
        };
        self.0.appends.observe(started.elapsed());
        receipts
    }

    async fn append_all_untimed(&self, facts: Vec<Fact>) -> Result<Vec<Receipt>, AppError> {
        // A queue without room for the whole request is overload: refuse it now, before any
        // of its facts is queued (429, retry shortly), rather than wait without bound or
        // record half of it.
        if self.0.jobs.capacity() < facts.len() {
            return Err(AppError::busy(
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
                .map_err(|_| AppError::unavailable("the ledger sequencer has stopped"))?;
            waiting.push(rx);
        }
        let mut receipts = Vec::with_capacity(waiting.len());
        for rx in waiting {
            receipts.push(rx.await.map_err(|_| {
                AppError::unavailable("the ledger sequencer dropped the request")
            })??);
        }
        Ok(receipts)
    }
}

/// The key in force at start: the held key the database says is current (`recorded`), or,
/// rotating, the configured previous key; then the key a rotation hands over to.
fn choose_key(
    origin: &str,
    config: &Config,
    held: &[[u8; 32]],
    recorded: &str,
) -> Result<(LogSigner, Option<andon_ledger::NoteVerifier>), String> {
    let signer = |seed: [u8; 32]| LogSigner::new(origin.to_owned(), seed);
    if let Some(s) = held
        .iter()
        .map(|s| signer(*s))
        .find(|s| s.verifier().to_string() == recorded)
    {
        // Started with the key of the log (perhaps besides a staged next key, or after
        // another server already rotated to this one): nothing to rotate.
        let configured = signer(config.log_seed).verifier();
        let rotate = config.previous_log_seed.is_some()
            && s.verifier() != configured
            && config.next_log_seed.is_none();
        return Ok((s, rotate.then_some(configured)));
    }
    let verifier = signer(config.log_seed).verifier();
    if config.previous_log_seed.is_none() {
        return Err(format!(
            "the log key does not match this database: it was signed by {recorded}, the configured key is {verifier}; to rotate to the configured key, also give the current key as the previous log key"
        ));
    }
    Err(format!(
        "the previous log key is not the key this database is signed by ({recorded}): nothing was rotated"
    ))
}
