//! Group commit: a batch of ledger appends, the rows they imply, and the checkpoint that
//! covers them, written in one transaction.

use andon_domain::scm::SourceFacts;
use sqlx::any::AnyArguments;
use sqlx::{Any, Arguments, Transaction};

use crate::error::Op;
use crate::{Backend, Store, StoreError};

/// One ledger append and the rows it implies.
#[derive(Clone, Debug)]
pub struct Append {
    /// The leaf index assigned by the sequencer.
    pub index: u64,
    /// The entry kind's wire name.
    pub kind: &'static str,
    /// The leaf bytes.
    pub entry: Vec<u8>,
    /// RFC 6962 leaf hash of `entry`.
    pub leaf_hash: [u8; 32],
    /// Acceptance time, Unix milliseconds.
    pub time_ms: i64,
    /// The rows this fact adds to the indexes.
    pub effect: Effect,
}

/// Index rows implied by an append.
#[derive(Clone, Debug)]
pub enum Effect {
    /// Evidence: its index row, its subjects and its raw document.
    Evidence {
        /// The evidence id (sha256 hex of the document).
        id: String,
        /// Application.
        application: String,
        /// Pipeline run.
        run: Option<String>,
        /// Predicate type.
        predicate_type: String,
        /// Identity whose key signed it.
        signer: String,
        /// The signing key.
        keyid: String,
        /// (name, sha256 hex) per subject.
        subjects: Vec<(String, String)>,
        /// The raw envelope.
        document: Vec<u8>,
        /// For typed evidence: the derived summary, JSON.
        summary: Option<String>,
        /// Commits the evidence names (a provenance's source commit).
        commits: Vec<String>,
        /// Source-control facts it carries (a review attestation).
        scm: Option<SourceFacts>,
    },
    /// A policy bundle published.
    Policy {
        /// SHA-256 of the bundle.
        version: String,
        /// Its name.
        name: String,
        /// Applications it applies to, JSON array.
        applications: String,
        /// Environments it applies to, JSON array.
        environments: String,
        /// The resolved bundle's bytes.
        bundle: Vec<u8>,
    },
    /// A gate decision.
    Decision {
        /// SHA-256 of the signed envelope.
        id: String,
        /// Application.
        application: String,
        /// Target environment.
        environment: String,
        /// `sha256:<hex>` of the artifact.
        artifact_digest: String,
        /// Allowed.
        allow: bool,
        /// The policy version used.
        policy_version: String,
        /// The signed decision (DSSE envelope JSON).
        envelope: Vec<u8>,
    },
    /// A waiver requested.
    WaiverRequested {
        /// Waiver id.
        id: String,
        /// Application.
        application: String,
        /// Control id.
        control: String,
        /// A vulnerability id, for a waiver of one finding.
        vulnerability: Option<String>,
        /// Why.
        reason: String,
        /// The ticket tracking it.
        ticket: String,
        /// Who asked.
        requested_by: String,
        /// How long it lasts once approved.
        duration_ms: i64,
    },
    /// A waiver approved.
    WaiverApproved {
        /// Waiver id.
        id: String,
        /// Who approved.
        approved_by: String,
        /// When it expires (Unix ms).
        expires_at: i64,
    },
    /// A source-control webhook delivery and its facts.
    SourceEvent {
        /// `github` or `gitlab`.
        provider: String,
        /// The delivery id.
        delivery: String,
        /// The event name.
        event: String,
        /// The payload as received.
        payload: Vec<u8>,
        /// The facts read from it.
        facts: SourceFacts,
    },
    /// A new application.
    Application {
        /// Its name.
        name: String,
        /// Its owning team.
        team: String,
    },
    /// A new identity.
    Identity {
        /// Its name.
        name: String,
        /// Its role's wire name.
        role: String,
        /// The applications it is scoped to, as a JSON array.
        applications: String,
        /// The approver groups it belongs to, as a JSON array.
        groups: String,
    },
    /// A token issued to an identity (its SHA-256, never the token).
    Token {
        /// sha256 hex of the token.
        hash: String,
        /// The identity.
        identity: String,
    },
    /// A public key registered to an identity.
    Key {
        /// Its key id.
        keyid: String,
        /// The identity.
        identity: String,
        /// The 32 raw bytes.
        public_key: Vec<u8>,
    },
    /// A key revoked.
    KeyRevoked {
        /// Its key id.
        keyid: String,
    },
    /// Deployments, change records, approvals, alerts.
    Change(crate::changes::ChangeEffect),
    /// Break-glass access, standing accounts, runtime snapshots.
    Access(crate::access::AccessEffect),
    /// A batch of telemetry events, stored in order (`seq` from 0).
    Telemetry(std::sync::Arc<Vec<andon_telemetry::Event>>),
    /// Settings (name, value) written with the entry that records why (the log keys after a
    /// rotation).
    Settings(Vec<(String, String)>),
}

/// What the sequencer commits at once.
#[derive(Clone, Debug, Default)]
pub struct Batch {
    /// The appends, in index order, contiguous from the current ledger size.
    pub appends: Vec<Append>,
    /// The checkpoint after the batch: (size, root, signed note).
    pub checkpoint: Option<(u64, [u8; 32], String)>,
}

/// A value bound into a multi-row insert.
enum Val {
    I(i64),
    T(String),
    OptT(Option<String>),
    B(Vec<u8>),
}

/// Rows for one table, inserted with as few statements as the parameter limits allow.
struct Rows {
    head: &'static str,
    width: usize,
    vals: Vec<Val>,
    tail: &'static str,
}

impl Rows {
    fn new(head: &'static str, width: usize, tail: &'static str) -> Self {
        Self {
            head,
            width,
            vals: Vec::new(),
            tail,
        }
    }

    fn row(&mut self, vals: impl IntoIterator<Item = Val>) {
        self.vals.extend(vals);
    }

    /// Inserts the rows. SQLite gets anonymous `?` placeholders: with `$n` names sqlx looks
    /// each one up by name, which is quadratic in the number of parameters (measured: 40% of
    /// the time of a 200-row batch). PostgreSQL needs `$n`.
    async fn insert(
        self,
        tx: &mut Transaction<'_, Any>,
        backend: Backend,
        op: &'static str,
    ) -> Result<(), StoreError> {
        const MAX_PARAMS: usize = 30_000;
        let rows_per_stmt = (MAX_PARAMS / self.width).max(1);
        let mut vals = self.vals.into_iter().peekable();
        while vals.peek().is_some() {
            let mut sql = String::from(self.head);
            sql.push_str(" VALUES ");
            let mut args = AnyArguments::default();
            let mut n = 0;
            for r in 0..rows_per_stmt {
                if vals.peek().is_none() {
                    break;
                }
                if r > 0 {
                    sql.push(',');
                }
                sql.push('(');
                for c in 0..self.width {
                    let v = vals.next().ok_or_else(|| StoreError::Corrupt {
                        what: op.into(),
                        detail: "row width mismatch".into(),
                    })?;
                    n += 1;
                    if c > 0 {
                        sql.push(',');
                    }
                    if backend == Backend::Sqlite {
                        sql.push('?');
                    } else {
                        sql.push('$');
                        sql.push_str(&n.to_string());
                    }
                    let bound = match v {
                        Val::I(i) => args.add(i),
                        Val::T(t) => args.add(t),
                        Val::OptT(t) => args.add(t),
                        Val::B(b) => args.add(b),
                    };
                    bound.map_err(|e| StoreError::Query {
                        op,
                        source: sqlx::Error::Encode(e),
                    })?;
                }
                sql.push(')');
            }
            sql.push(' ');
            sql.push_str(self.tail);
            sqlx::query_with(sqlx::AssertSqlSafe(sql), args)
                .execute(&mut **tx)
                .await
                .op(op)?;
        }
        Ok(())
    }
}

/// The advisory lock that makes one server at a time the ledger's sequencer on PostgreSQL
/// (`b"andon-ld"` as an integer).
const LEDGER_LOCK: i64 = 0x616e_646f_6e2d_6c64;

/// A transaction that may append to the ledger. On PostgreSQL it holds the ledger's
/// transaction-level advisory lock from its start until it commits or is dropped (also when
/// the process holding it dies: the lock goes with the connection), so several servers on
/// one database append one at a time and `size` stays the ledger's size while it is held.
pub struct Sequencing {
    tx: Transaction<'static, Any>,
    /// The ledger's size, read under the lock (PostgreSQL). SQLite is one process's file:
    /// `None`, the caller's own count is the truth.
    pub size: Option<u64>,
}

impl Sequencing {
    /// The leaf hashes of `[start, end)` and the newest checkpoint, read under the lock: what
    /// other servers appended since this one last looked.
    pub async fn appended_since(
        &mut self,
        start: u64,
        end: u64,
    ) -> Result<(Vec<[u8; 32]>, Option<crate::StoredCheckpoint>), StoreError> {
        crate::read::appended_since(&mut self.tx, start, end).await
    }
}

impl Store {
    /// Begins appending: on PostgreSQL, waits for the ledger lock and reads the size.
    pub async fn begin_sequencing(&self) -> Result<Sequencing, StoreError> {
        let mut tx = self.pool.begin().await.op("beginning a ledger batch")?;
        let size = if self.backend() == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(LEDGER_LOCK)
                .execute(&mut *tx)
                .await
                .op("taking the ledger lock")?;
            let next: i64 =
                sqlx::query_scalar("SELECT COALESCE(MAX(idx) + 1, 0) FROM ledger_entries")
                    .fetch_one(&mut *tx)
                    .await
                    .op("reading the ledger size")?;
            Some(next as u64)
        } else {
            None
        };
        Ok(Sequencing { tx, size })
    }

    /// Commits a batch in one transaction: the ledger rows, their index rows, and the
    /// checkpoint. Either all of it is durable when this returns `Ok`, or none of it is.
    pub async fn commit_batch(&self, batch: &Batch) -> Result<(), StoreError> {
        self.commit_sequenced(self.begin_sequencing().await?, batch)
            .await
    }

    /// Commits a batch in the sequencing transaction it was built under.
    pub async fn commit_sequenced(
        &self,
        sequencing: Sequencing,
        batch: &Batch,
    ) -> Result<(), StoreError> {
        let mut tx = sequencing.tx;
        let mut ledger = Rows::new(
            "INSERT INTO ledger_entries (idx, kind, leaf_hash, entry, created_at)",
            5,
            "",
        );
        let mut evidence = Rows::new(
            "INSERT INTO evidence (id, ledger_idx, application, run, predicate_type, signer, keyid, created_at, document, summary)",
            10,
            "",
        );
        let mut subjects = Rows::new(
            "INSERT INTO evidence_subjects (evidence_idx, name, digest)",
            3,
            "",
        );
        let mut apps = Rows::new(
            "INSERT INTO applications (name, team, ledger_idx, created_at)",
            4,
            "",
        );
        let mut identities = Rows::new(
            "INSERT INTO identities (name, role, applications, approver_groups, ledger_idx, created_at)",
            6,
            "",
        );
        let mut tokens = Rows::new(
            "INSERT INTO tokens (hash, identity, ledger_idx, created_at)",
            4,
            "",
        );
        let mut keys = Rows::new(
            "INSERT INTO signing_keys (keyid, identity, public_key, ledger_idx, created_at)",
            5,
            "",
        );
        let mut revoked = Vec::new();
        let mut scm = ScmRows::new();
        let mut evidence_commits =
            Rows::new("INSERT INTO evidence_commits (evidence_idx, sha)", 2, "");
        let mut policies = Rows::new(
            "INSERT INTO policies (version, name, applications, environments, bundle, ledger_idx, created_at)",
            7,
            "",
        );
        let mut decisions = Rows::new(
            "INSERT INTO decisions (id, ledger_idx, application, environment, artifact_digest, allow, policy_version, created_at, envelope)",
            9,
            "",
        );
        let mut waivers = Rows::new(
            "INSERT INTO waivers (id, application, control, vulnerability, reason, ticket, requested_by, duration_ms, requested_idx, requested_at)",
            10,
            "",
        );
        let mut approvals = Vec::new();
        let mut change_effects = Vec::new();
        let mut access_effects = Vec::new();
        let mut settings = Vec::new();
        let mut telemetry = Rows::new(
            "INSERT INTO telemetry_events (ledger_idx, seq, kind, at, source, application, environment, actor, count, status_4xx, status_5xx, deployment, detail)",
            13,
            "",
        );
        // (kind, application, environment, source, minute) -> (count, 4xx, 5xx), summed over
        // the whole commit: one upsert row per key (PostgreSQL refuses to update a row twice
        // in one statement).
        let mut minutes: std::collections::BTreeMap<(&str, &str, &str, &str, i64), [i64; 3]> =
            std::collections::BTreeMap::new();
        let mut deliveries = Rows::new(
            "INSERT INTO scm_deliveries (provider, delivery, event, ledger_idx, payload)",
            5,
            "",
        );

        for a in &batch.appends {
            let idx = a.index as i64;
            ledger.row([
                Val::I(idx),
                Val::T(a.kind.to_owned()),
                Val::B(a.leaf_hash.to_vec()),
                Val::B(a.entry.clone()),
                Val::I(a.time_ms),
            ]);
            match &a.effect {
                Effect::Evidence {
                    id,
                    application,
                    run,
                    predicate_type,
                    signer,
                    keyid,
                    subjects: subs,
                    document,
                    summary,
                    commits,
                    scm: facts,
                } => {
                    for sha in commits {
                        evidence_commits.row([Val::I(idx), Val::T(sha.clone())]);
                    }
                    if let Some(f) = facts {
                        scm.add(idx, f);
                    }
                    evidence.row([
                        Val::T(id.clone()),
                        Val::I(idx),
                        Val::T(application.clone()),
                        Val::OptT(run.clone()),
                        Val::T(predicate_type.clone()),
                        Val::T(signer.clone()),
                        Val::T(keyid.clone()),
                        Val::I(a.time_ms),
                        Val::B(document.clone()),
                        Val::OptT(summary.clone()),
                    ]);
                    for (name, digest) in subs {
                        subjects.row([Val::I(idx), Val::T(name.clone()), Val::T(digest.clone())]);
                    }
                }
                Effect::Application { name, team } => {
                    apps.row([
                        Val::T(name.clone()),
                        Val::T(team.clone()),
                        Val::I(idx),
                        Val::I(a.time_ms),
                    ]);
                }
                Effect::Identity {
                    name,
                    role,
                    applications,
                    groups,
                } => identities.row([
                    Val::T(name.clone()),
                    Val::T(role.clone()),
                    Val::T(applications.clone()),
                    Val::T(groups.clone()),
                    Val::I(idx),
                    Val::I(a.time_ms),
                ]),
                Effect::Token { hash, identity } => {
                    tokens.row([
                        Val::T(hash.clone()),
                        Val::T(identity.clone()),
                        Val::I(idx),
                        Val::I(a.time_ms),
                    ]);
                }
                Effect::Key {
                    keyid,
                    identity,
                    public_key,
                } => keys.row([
                    Val::T(keyid.clone()),
                    Val::T(identity.clone()),
                    Val::B(public_key.clone()),
                    Val::I(idx),
                    Val::I(a.time_ms),
                ]),
                Effect::KeyRevoked { keyid } => revoked.push((keyid.clone(), a.time_ms)),
                Effect::Settings(pairs) => settings.extend(pairs.iter()),
                Effect::Change(e) => change_effects.push((idx, a.time_ms, e)),
                Effect::Access(e) => access_effects.push((idx, e)),
                Effect::Telemetry(events) => {
                    for (seq, e) in events.iter().enumerate() {
                        if e.kind.is_login() || e.kind == andon_telemetry::EventKind::HttpRequests {
                            let key = (
                                e.kind.as_str(),
                                e.application.as_deref().unwrap_or(""),
                                e.environment.as_deref().unwrap_or(""),
                                e.source.as_str(),
                                e.at.div_euclid(andon_telemetry::MINUTE_MS),
                            );
                            let sums = minutes.entry(key).or_default();
                            sums[0] += e.count as i64;
                            sums[1] += e.status_4xx as i64;
                            sums[2] += e.status_5xx as i64;
                        }
                        telemetry.row([
                            Val::I(idx),
                            Val::I(seq as i64),
                            Val::T(e.kind.as_str().to_owned()),
                            Val::I(e.at),
                            Val::T(e.source.clone()),
                            Val::OptT(e.application.clone()),
                            Val::OptT(e.environment.clone()),
                            Val::OptT(e.actor.clone()),
                            Val::I(e.count as i64),
                            Val::I(e.status_4xx as i64),
                            Val::I(e.status_5xx as i64),
                            Val::OptT(e.deployment.clone()),
                            Val::OptT(e.detail.clone()),
                        ]);
                    }
                }
                Effect::Policy {
                    version,
                    name,
                    applications,
                    environments,
                    bundle,
                } => policies.row([
                    Val::T(version.clone()),
                    Val::T(name.clone()),
                    Val::T(applications.clone()),
                    Val::T(environments.clone()),
                    Val::B(bundle.clone()),
                    Val::I(idx),
                    Val::I(a.time_ms),
                ]),
                Effect::Decision {
                    id,
                    application,
                    environment,
                    artifact_digest,
                    allow,
                    policy_version,
                    envelope,
                } => decisions.row([
                    Val::T(id.clone()),
                    Val::I(idx),
                    Val::T(application.clone()),
                    Val::T(environment.clone()),
                    Val::T(artifact_digest.clone()),
                    Val::I(i64::from(*allow)),
                    Val::T(policy_version.clone()),
                    Val::I(a.time_ms),
                    Val::B(envelope.clone()),
                ]),
                Effect::WaiverRequested {
                    id,
                    application,
                    control,
                    vulnerability,
                    reason,
                    ticket,
                    requested_by,
                    duration_ms,
                } => waivers.row([
                    Val::T(id.clone()),
                    Val::T(application.clone()),
                    Val::T(control.clone()),
                    Val::OptT(vulnerability.clone()),
                    Val::T(reason.clone()),
                    Val::T(ticket.clone()),
                    Val::T(requested_by.clone()),
                    Val::I(*duration_ms),
                    Val::I(idx),
                    Val::I(a.time_ms),
                ]),
                Effect::WaiverApproved {
                    id,
                    approved_by,
                    expires_at,
                } => approvals.push((id.clone(), approved_by.clone(), idx, a.time_ms, *expires_at)),
                Effect::SourceEvent {
                    provider,
                    delivery,
                    event,
                    payload,
                    facts,
                } => {
                    deliveries.row([
                        Val::T(provider.clone()),
                        Val::T(delivery.clone()),
                        Val::T(event.clone()),
                        Val::I(idx),
                        Val::B(payload.clone()),
                    ]);
                    scm.add(idx, facts);
                }
            }
        }

        let backend = self.backend();
        ledger
            .insert(&mut tx, backend, "appending ledger entries")
            .await?;
        evidence
            .insert(&mut tx, backend, "indexing evidence")
            .await?;
        subjects
            .insert(&mut tx, backend, "indexing evidence subjects")
            .await?;
        apps.insert(&mut tx, backend, "creating applications")
            .await?;
        identities
            .insert(&mut tx, backend, "creating identities")
            .await?;
        tokens.insert(&mut tx, backend, "issuing tokens").await?;
        keys.insert(&mut tx, backend, "registering keys").await?;
        evidence_commits
            .insert(&mut tx, backend, "indexing evidence commits")
            .await?;
        deliveries
            .insert(&mut tx, backend, "recording webhook deliveries")
            .await?;
        scm.insert(&mut tx, backend).await?;
        policies
            .insert(&mut tx, backend, "storing policies")
            .await?;
        decisions
            .insert(&mut tx, backend, "storing decisions")
            .await?;
        waivers
            .insert(&mut tx, backend, "recording waiver requests")
            .await?;
        telemetry
            .insert(&mut tx, backend, "storing telemetry events")
            .await?;
        let mut sums = Rows::new(
            "INSERT INTO telemetry_minutes (kind, application, environment, source, minute, count, status_4xx, status_5xx)",
            8,
            "ON CONFLICT (kind, application, environment, source, minute) DO UPDATE SET \
             count = telemetry_minutes.count + excluded.count, \
             status_4xx = telemetry_minutes.status_4xx + excluded.status_4xx, \
             status_5xx = telemetry_minutes.status_5xx + excluded.status_5xx",
        );
        for ((kind, app, env, source, minute), [n, c4, c5]) in minutes {
            sums.row([
                Val::T(kind.to_owned()),
                Val::T(app.to_owned()),
                Val::T(env.to_owned()),
                Val::T(source.to_owned()),
                Val::I(minute),
                Val::I(n),
                Val::I(c4),
                Val::I(c5),
            ]);
        }
        sums.insert(&mut tx, backend, "summing telemetry per minute")
            .await?;
        for (id, by, idx, at, expires) in approvals {
            sqlx::query(
                "UPDATE waivers SET approved_by = $1, approved_idx = $2, approved_at = $3, expires_at = $4 WHERE id = $5 AND approved_by IS NULL",
            )
            .bind(by)
            .bind(idx)
            .bind(at)
            .bind(expires)
            .bind(id)
            .execute(&mut *tx)
            .await
            .op("approving a waiver")?;
        }
        for (idx, at, e) in change_effects {
            crate::changes::apply(&mut tx, idx, at, e).await?;
        }
        for (idx, e) in access_effects {
            crate::access::apply(&mut tx, idx, e).await?;
        }
        for (keyid, at) in revoked {
            sqlx::query(
                "UPDATE signing_keys SET revoked_at = $1 WHERE keyid = $2 AND revoked_at IS NULL",
            )
            .bind(at)
            .bind(keyid)
            .execute(&mut *tx)
            .await
            .op("revoking a key")?;
        }
        for (key, value) in settings {
            sqlx::query(
                "INSERT INTO meta (key, value) VALUES ($1, $2) \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )
            .bind(key)
            .bind(value)
            .execute(&mut *tx)
            .await
            .op("writing a setting")?;
        }
        if let Some((size, root, note)) = &batch.checkpoint {
            let now = batch.appends.last().map_or(0, |a| a.time_ms);
            sqlx::query("INSERT INTO checkpoints (size, root, note, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING")
                .bind(*size as i64)
                .bind(root.to_vec())
                .bind(note.clone())
                .bind(now)
                .execute(&mut *tx)
                .await
                .op("storing the checkpoint")?;
        }
        tx.commit().await.op("committing a ledger batch")
    }
}

/// The index rows of source-control facts.
struct ScmRows {
    commits: Rows,
    changes: Rows,
    reviews: Rows,
    deployments: Rows,
    tickets: Rows,
}

impl ScmRows {
    fn new() -> Self {
        Self {
            commits: Rows::new(
                "INSERT INTO scm_commits (repository, sha, author, author_email, message, committed_at, git_ref, ledger_idx)",
                8,
                "ON CONFLICT DO NOTHING",
            ),
            changes: Rows::new(
                "INSERT INTO scm_changes (ledger_idx, repository, number, action, title, author, author_id, source_branch, target_branch, head_sha, merge_sha, state, actor, at)",
                14,
                "",
            ),
            reviews: Rows::new(
                "INSERT INTO scm_reviews (ledger_idx, repository, number, reviewer, reviewer_id, state, commit_sha, at)",
                8,
                "",
            ),
            deployments: Rows::new(
                "INSERT INTO scm_deployments (ledger_idx, repository, sha, environment, state, deployment_id, actor, at)",
                8,
                "",
            ),
            tickets: Rows::new(
                "INSERT INTO scm_tickets (ledger_idx, repository, ticket, source, reference)",
                5,
                "",
            ),
        }
    }

    fn add(&mut self, idx: i64, f: &SourceFacts) {
        for c in &f.commits {
            self.commits.row([
                Val::T(c.repository.clone()),
                Val::T(c.sha.clone()),
                Val::OptT(c.author.clone()),
                Val::OptT(c.author_email.clone()),
                Val::T(c.message.clone()),
                Val::OptT(c.timestamp.clone()),
                Val::OptT(c.git_ref.clone()),
                Val::I(idx),
            ]);
        }
        for e in &f.changes {
            self.changes.row([
                Val::I(idx),
                Val::T(e.repository.clone()),
                Val::I(e.number.min(i64::MAX as u64) as i64),
                Val::T(e.action.clone()),
                Val::T(e.title.clone()),
                Val::OptT(e.author.clone()),
                Val::OptT(e.author_id.clone()),
                Val::T(e.source_branch.clone()),
                Val::T(e.target_branch.clone()),
                Val::OptT(e.head_sha.clone()),
                Val::OptT(e.merge_sha.clone()),
                Val::T(e.state.clone()),
                Val::OptT(e.actor.clone()),
                Val::OptT(e.at.clone()),
            ]);
        }
        for r in &f.reviews {
            self.reviews.row([
                Val::I(idx),
                Val::T(r.repository.clone()),
                Val::I(r.number.min(i64::MAX as u64) as i64),
                Val::T(r.reviewer.clone()),
                Val::OptT(r.reviewer_id.clone()),
                Val::T(r.state.clone()),
                Val::OptT(r.commit.clone()),
                Val::OptT(r.at.clone()),
            ]);
        }
        for d in &f.deployments {
            self.deployments.row([
                Val::I(idx),
                Val::T(d.repository.clone()),
                Val::T(d.sha.clone()),
                Val::T(d.environment.clone()),
                Val::T(d.state.clone()),
                Val::OptT(d.deployment_id.clone()),
                Val::OptT(d.actor.clone()),
                Val::OptT(d.at.clone()),
            ]);
        }
        for t in &f.tickets {
            self.tickets.row([
                Val::I(idx),
                Val::T(t.repository.clone()),
                Val::T(t.ticket.clone()),
                Val::T(t.source.clone()),
                Val::T(t.reference.clone()),
            ]);
        }
    }

    async fn insert(
        self,
        tx: &mut Transaction<'_, Any>,
        backend: Backend,
    ) -> Result<(), StoreError> {
        self.commits.insert(tx, backend, "indexing commits").await?;
        self.changes
            .insert(tx, backend, "indexing pull request events")
            .await?;
        self.reviews.insert(tx, backend, "indexing reviews").await?;
        self.deployments
            .insert(tx, backend, "indexing source-control deployments")
            .await?;
        self.tickets.insert(tx, backend, "indexing tickets").await
    }
}
