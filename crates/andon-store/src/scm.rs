//! Source-control facts: their index rows, written in the ledger batch's transaction, and
//! the read queries over them, for replay checks and traceability. Each fact comes back
//! with the ledger index of the entry that recorded it.

use andon_domain::scm::{ChangeEvent, Commit, Review, ScmDeployment, SourceFacts, TicketLink};
use sqlx::any::AnyRow;
use sqlx::{Any, Transaction};

use crate::error::Op;
use crate::multirow::{Rows, Val};
use crate::read::get;
use crate::{Backend, Store, StoreError};

/// A fact and the ledger entry that recorded it.
#[derive(Clone, Debug, PartialEq)]
pub struct Recorded<T> {
    /// The ledger index.
    pub ledger_index: u64,
    /// The fact.
    pub fact: T,
}

fn commit_row(r: &AnyRow) -> Result<Recorded<Commit>, StoreError> {
    Ok(Recorded {
        ledger_index: idx(r)?,
        fact: Commit {
            repository: get(r, "repository")?,
            sha: get(r, "sha")?,
            author: get(r, "author")?,
            author_email: get(r, "author_email")?,
            message: get(r, "message")?,
            timestamp: get(r, "committed_at")?,
            git_ref: get(r, "git_ref")?,
        },
    })
}

fn idx(row: &AnyRow) -> Result<u64, StoreError> {
    Ok(get::<i64>(row, "ledger_idx")? as u64)
}

impl Store {
    /// Whether a webhook delivery was already recorded.
    pub async fn delivery_seen(&self, provider: &str, delivery: &str) -> Result<bool, StoreError> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM scm_deliveries WHERE provider = $1 AND delivery = $2",
        )
        .bind(provider)
        .bind(delivery)
        .fetch_one(&self.pool)
        .await
        .op("looking up a webhook delivery")?;
        Ok(n > 0)
    }

    /// The payload of a recorded delivery, by the ledger index of its entry.
    pub async fn delivery_payload(&self, ledger_index: u64) -> Result<Option<Vec<u8>>, StoreError> {
        sqlx::query_scalar("SELECT payload FROM scm_deliveries WHERE ledger_idx = $1")
            .bind(ledger_index as i64)
            .fetch_optional(&self.pool)
            .await
            .op("reading a webhook payload")
    }

    /// Full commit ids starting with `prefix` (lowercase hex), from every place a commit is
    /// named: pushes, pull-request heads and merges, evidence. At most 10.
    pub async fn resolve_commit(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        if prefix.len() >= 40 {
            return Ok(vec![prefix.to_owned()]);
        }
        let like = format!("{prefix}%");
        let rows = sqlx::query(
            "SELECT sha FROM scm_commits WHERE sha LIKE $1
             UNION SELECT head_sha FROM scm_changes WHERE head_sha LIKE $1
             UNION SELECT merge_sha FROM scm_changes WHERE merge_sha LIKE $1
             UNION SELECT sha FROM evidence_commits WHERE sha LIKE $1
             UNION SELECT sha FROM scm_deployments WHERE sha LIKE $1
             LIMIT 10",
        )
        .bind(like)
        .fetch_all(&self.pool)
        .await
        .op("resolving a commit prefix")?;
        rows.iter().map(|r| get(r, "sha")).collect()
    }

    /// The commit `sha` as pushed, per repository.
    pub async fn commits(&self, sha: &str) -> Result<Vec<Recorded<Commit>>, StoreError> {
        let rows = sqlx::query(
            "SELECT repository, sha, author, author_email, message, committed_at, git_ref, ledger_idx
             FROM scm_commits WHERE sha = $1 ORDER BY ledger_idx",
        )
        .bind(sha)
        .fetch_all(&self.pool)
        .await
        .op("reading commits")?;
        rows.iter().map(commit_row).collect()
    }

    /// The commits of a repository recorded by deliveries `from..=to` (ledger indexes), in
    /// the order they reached Andon: by push, then by their place in the push.
    pub async fn commits_recorded_between(
        &self,
        repository: &str,
        from: u64,
        to: u64,
    ) -> Result<Vec<Recorded<Commit>>, StoreError> {
        let rows = sqlx::query(
            "SELECT repository, sha, author, author_email, message, committed_at, git_ref, ledger_idx
             FROM scm_commits WHERE repository = $1 AND ledger_idx >= $2 AND ledger_idx <= $3
             ORDER BY ledger_idx, position, sha",
        )
        .bind(repository)
        .bind(from as i64)
        .bind(to as i64)
        .fetch_all(&self.pool)
        .await
        .op("reading commits in a range")?;
        rows.iter().map(commit_row).collect()
    }

    /// The pull requests whose head or merge commit was `sha`: (repository, number).
    pub async fn pull_requests_of(&self, sha: &str) -> Result<Vec<(String, u64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT DISTINCT repository, number FROM scm_changes
             WHERE head_sha = $1 OR merge_sha = $1 ORDER BY repository, number",
        )
        .bind(sha)
        .fetch_all(&self.pool)
        .await
        .op("finding pull requests of a commit")?;
        rows.iter()
            .map(|r| Ok((get(r, "repository")?, get::<i64>(r, "number")? as u64)))
            .collect()
    }

    /// A pull request's events, in the order they were recorded.
    pub async fn pull_request_history(
        &self,
        repository: &str,
        number: u64,
    ) -> Result<Vec<Recorded<ChangeEvent>>, StoreError> {
        let rows = sqlx::query(
            "SELECT ledger_idx, repository, number, action, title, author, author_id, source_branch,
                    target_branch, head_sha, merge_sha, state, actor, at
             FROM scm_changes WHERE repository = $1 AND number = $2 ORDER BY ledger_idx",
        )
        .bind(repository)
        .bind(number as i64)
        .fetch_all(&self.pool)
        .await
        .op("reading a pull request")?;
        rows.iter()
            .map(|r| {
                Ok(Recorded {
                    ledger_index: idx(r)?,
                    fact: ChangeEvent {
                        repository: get(r, "repository")?,
                        number: get::<i64>(r, "number")? as u64,
                        action: get(r, "action")?,
                        title: get(r, "title")?,
                        author: get(r, "author")?,
                        author_id: get(r, "author_id")?,
                        source_branch: get(r, "source_branch")?,
                        target_branch: get(r, "target_branch")?,
                        head_sha: get(r, "head_sha")?,
                        merge_sha: get(r, "merge_sha")?,
                        state: get(r, "state")?,
                        actor: get(r, "actor")?,
                        at: get(r, "at")?,
                    },
                })
            })
            .collect()
    }

    /// A pull request's reviews, in the order they were recorded.
    pub async fn reviews(
        &self,
        repository: &str,
        number: u64,
    ) -> Result<Vec<Recorded<Review>>, StoreError> {
        let rows = sqlx::query(
            "SELECT ledger_idx, repository, number, reviewer, reviewer_id, state, commit_sha, at
             FROM scm_reviews WHERE repository = $1 AND number = $2 ORDER BY ledger_idx",
        )
        .bind(repository)
        .bind(number as i64)
        .fetch_all(&self.pool)
        .await
        .op("reading reviews")?;
        rows.iter()
            .map(|r| {
                Ok(Recorded {
                    ledger_index: idx(r)?,
                    fact: Review {
                        repository: get(r, "repository")?,
                        number: get::<i64>(r, "number")? as u64,
                        reviewer: get(r, "reviewer")?,
                        reviewer_id: get(r, "reviewer_id")?,
                        state: get(r, "state")?,
                        commit: get(r, "commit_sha")?,
                        at: get(r, "at")?,
                    },
                })
            })
            .collect()
    }

    /// Tickets linked to a commit sha or a pull request (`#<number>`) of a repository.
    pub async fn tickets(
        &self,
        repository: &str,
        reference: &str,
    ) -> Result<Vec<TicketLink>, StoreError> {
        let rows = sqlx::query(
            "SELECT DISTINCT repository, ticket, source, reference FROM scm_tickets
             WHERE repository = $1 AND reference = $2 ORDER BY ticket, source",
        )
        .bind(repository)
        .bind(reference)
        .fetch_all(&self.pool)
        .await
        .op("reading tickets")?;
        rows.iter()
            .map(|r| {
                Ok(TicketLink {
                    repository: get(r, "repository")?,
                    ticket: get(r, "ticket")?,
                    source: get(r, "source")?,
                    reference: get(r, "reference")?,
                })
            })
            .collect()
    }

    /// Deployments of commit `sha` reported by source control, in recorded order.
    pub async fn scm_deployments(
        &self,
        sha: &str,
    ) -> Result<Vec<Recorded<ScmDeployment>>, StoreError> {
        let rows = sqlx::query(
            "SELECT ledger_idx, repository, sha, environment, state, deployment_id, actor, at
             FROM scm_deployments WHERE sha = $1 ORDER BY ledger_idx",
        )
        .bind(sha)
        .fetch_all(&self.pool)
        .await
        .op("reading deployments")?;
        rows.iter()
            .map(|r| {
                Ok(Recorded {
                    ledger_index: idx(r)?,
                    fact: ScmDeployment {
                        repository: get(r, "repository")?,
                        sha: get(r, "sha")?,
                        environment: get(r, "environment")?,
                        state: get(r, "state")?,
                        deployment_id: get(r, "deployment_id")?,
                        actor: get(r, "actor")?,
                        at: get(r, "at")?,
                    },
                })
            })
            .collect()
    }

    /// Ids of the evidence naming commit `sha` (provenance, pipeline definitions).
    pub async fn evidence_of_commit(&self, sha: &str) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT e.id FROM evidence_commits c JOIN evidence e ON e.ledger_idx = c.evidence_idx
             WHERE c.sha = $1 ORDER BY e.ledger_idx",
        )
        .bind(sha)
        .fetch_all(&self.pool)
        .await
        .op("finding evidence of a commit")?;
        rows.iter().map(|r| get(r, "id")).collect()
    }

    /// The distinct commits named by any of the evidence at these ledger indexes, in sha
    /// order, in one query per 500 indexes.
    pub async fn commits_of_evidence_set(
        &self,
        ledger_indexes: &[u64],
    ) -> Result<Vec<String>, StoreError> {
        self.commits_of(ledger_indexes, "ORDER BY sha").await
    }

    /// The distinct commits named by the evidence at these ledger indexes, in the order of
    /// the evidence (by ledger index), each record's commits by sha: one query per 500
    /// indexes instead of one per record.
    pub async fn commits_of_evidence(
        &self,
        ledger_indexes: &[u64],
    ) -> Result<Vec<String>, StoreError> {
        self.commits_of(ledger_indexes, "ORDER BY evidence_idx, sha")
            .await
    }

    /// The commits of the evidence at `ledger_indexes`, first seen first, in `order`.
    async fn commits_of(
        &self,
        ledger_indexes: &[u64],
        order: &str,
    ) -> Result<Vec<String>, StoreError> {
        let mut out: Vec<String> = Vec::new();
        for chunk in ledger_indexes.chunks(500) {
            let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT evidence_idx, sha FROM evidence_commits WHERE evidence_idx IN ({}) {order}",
                placeholders.join(",")
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for i in chunk {
                q = q.bind(*i as i64);
            }
            for r in q
                .fetch_all(&self.pool)
                .await
                .op("reading the commits of evidence")?
            {
                let sha: String = get(&r, "sha")?;
                if !out.contains(&sha) {
                    out.push(sha);
                }
            }
        }
        Ok(out)
    }
}

/// The index rows of source-control facts.
pub(crate) struct ScmRows {
    commits: Rows,
    changes: Rows,
    reviews: Rows,
    deployments: Rows,
    tickets: Rows,
}

impl ScmRows {
    /// No rows yet.
    pub(crate) fn new() -> Self {
        Self {
            commits: Rows::new(
                "INSERT INTO scm_commits (repository, sha, author, author_email, message, committed_at, git_ref, ledger_idx, position)",
                9,
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

    /// Adds the rows of the facts recorded by the entry at `idx`.
    pub(crate) fn add(&mut self, idx: i64, f: &SourceFacts) {
        for (position, c) in f.commits.iter().enumerate() {
            self.commits.row([
                Val::T(c.repository.clone()),
                Val::T(c.sha.clone()),
                Val::OptT(c.author.clone()),
                Val::OptT(c.author_email.clone()),
                Val::T(c.message.clone()),
                Val::OptT(c.timestamp.clone()),
                Val::OptT(c.git_ref.clone()),
                Val::I(idx),
                Val::I(position as i64),
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

    /// Inserts them all, table by table.
    pub(crate) async fn insert(
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

/// Fills the place in its push of each commit recorded before places were kept, from the
/// webhook entry that recorded it (a row with no such entry keeps 0). Runs once, inside the
/// migration that adds the column.
pub(crate) async fn fill_commit_positions(
    tx: &mut Transaction<'_, Any>,
) -> Result<(), sqlx::Error> {
    let entries: Vec<(i64, Vec<u8>)> = sqlx::query_as(
        "SELECT l.idx, l.entry FROM ledger_entries l \
         WHERE l.idx IN (SELECT DISTINCT ledger_idx FROM scm_commits) ORDER BY l.idx",
    )
    .fetch_all(&mut **tx)
    .await?;
    for (idx, bytes) in entries {
        let Ok(entry) = serde_json::from_slice::<andon_domain::LedgerEntry>(&bytes) else {
            continue;
        };
        let Ok(fact) = serde_json::from_value::<andon_domain::SourceEventFact>(entry.body) else {
            continue;
        };
        for (position, c) in fact.facts.commits.iter().enumerate() {
            sqlx::query(
                "UPDATE scm_commits SET position = $1 WHERE repository = $2 AND sha = $3 AND ledger_idx = $4",
            )
            .bind(position as i64)
            .bind(c.repository.clone())
            .bind(c.sha.clone())
            .bind(idx)
            .execute(&mut **tx)
            .await?;
        }
    }
    Ok(())
}
