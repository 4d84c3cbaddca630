//! Group commit: a batch of ledger appends, the rows they imply, and the checkpoint that
//! covers them, written in one transaction.

use sqlx::{Any, Transaction};

use crate::effect::{Append, Effect};
use crate::error::Op;
use crate::multirow::{Rows, Val};
use crate::scm::ScmRows;
use crate::{Backend, Store, StoreError};

/// What the sequencer commits at once.
#[derive(Clone, Debug, Default)]
pub struct Batch {
    /// The appends, in index order, contiguous from the current ledger size.
    pub appends: Vec<Append>,
    /// The checkpoint after the batch: (size, root, signed note).
    pub checkpoint: Option<(u64, [u8; 32], String)>,
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

    /// Writes the rows `appends` imply and not the entries themselves, in one transaction:
    /// what a replay of the ledger into a fresh database writes to compare its tables
    /// with another's (the entries are the audit's to check, not the tables').
    pub async fn commit_rows(&self, appends: Vec<Append>) -> Result<(), StoreError> {
        let batch = Batch {
            appends,
            checkpoint: None,
        };
        self.commit_in(self.begin_sequencing().await?.tx, &batch, false)
            .await
    }

    /// Commits a batch in the sequencing transaction it was built under.
    pub async fn commit_sequenced(
        &self,
        sequencing: Sequencing,
        batch: &Batch,
    ) -> Result<(), StoreError> {
        self.commit_in(sequencing.tx, batch, true).await
    }

    /// Writes `batch` in `tx`: its entries too when `entries`.
    async fn commit_in(
        &self,
        mut tx: Transaction<'static, Any>,
        batch: &Batch,
        entries: bool,
    ) -> Result<(), StoreError> {
        let mut ledger = Rows::new(
            "INSERT INTO ledger_entries (idx, kind, leaf_hash, entry, created_at)",
            5,
            "",
        );
        let mut evidence = Rows::new(
            "INSERT INTO evidence (id, ledger_idx, application, run, predicate_type, signer, keyid, created_at, document, summary, keyless)",
            11,
            "",
        );
        let mut subjects = Rows::new(
            "INSERT INTO evidence_subjects (evidence_idx, name, digest)",
            3,
            "",
        );
        let mut components = Rows::new(
            "INSERT INTO sbom_components (evidence_idx, seq, name, version, purl, purl_type, purl_namespace, purl_name)",
            8,
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
        let mut advisory_effects = Vec::new();
        let mut vuln_effects = Vec::new();
        let mut admission_effects = Vec::new();
        let mut drill_effects = Vec::new();
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
            if entries {
                ledger.row([
                    Val::I(idx),
                    Val::T(a.kind.to_owned()),
                    Val::B(a.leaf_hash.to_vec()),
                    Val::B(a.entry.clone()),
                    Val::I(a.time_ms),
                ]);
            }
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
                    keyless,
                    components: comps,
                } => {
                    for (seq, c) in comps.iter().enumerate() {
                        components.row([
                            Val::I(idx),
                            Val::I(seq as i64),
                            Val::T(c.row.name.clone()),
                            Val::OptT(c.row.version.clone()),
                            Val::OptT(c.row.purl.clone()),
                            Val::T(c.purl_type.clone()),
                            Val::T(c.purl_namespace.clone()),
                            Val::T(c.purl_name.clone()),
                        ]);
                    }
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
                        Val::OptT(keyless.clone()),
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
                Effect::EntryOnly => {}
                Effect::Change(e) => change_effects.push((idx, a.time_ms, e)),
                Effect::Access(e) => access_effects.push((idx, e)),
                Effect::Advisory(e) => advisory_effects.push((idx, a.time_ms, e)),
                Effect::Vuln(e) => vuln_effects.push((idx, e)),
                Effect::Admission(e) => admission_effects.push((idx, e)),
                Effect::Drill(e) => drill_effects.push((idx, e)),
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
        components
            .insert(&mut tx, backend, "indexing sbom components")
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
        for (idx, at, e) in advisory_effects {
            crate::advisories::apply(&mut tx, idx, at, e).await?;
        }
        for (idx, e) in vuln_effects {
            crate::vuln_items::apply(&mut tx, idx, e).await?;
        }
        for (idx, e) in admission_effects {
            crate::admission::apply(&mut tx, idx, e).await?;
        }
        for (idx, e) in drill_effects {
            crate::drills::apply(&mut tx, idx, e).await?;
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
