-- Source control: webhook deliveries and the facts read from them (and from review
-- attestations), indexed for traceability. The ledger entry is the authoritative record;
-- these rows are its index. A delivery id is seen once per provider: a replay is refused.
CREATE TABLE scm_deliveries (
    provider   TEXT   NOT NULL,
    delivery   TEXT   NOT NULL,
    event      TEXT   NOT NULL,
    ledger_idx BIGINT NOT NULL,
    payload    BLOB  NOT NULL,
    PRIMARY KEY (provider, delivery)
);

-- A commit is recorded once per repository, from the first delivery that names it.
CREATE TABLE scm_commits (
    repository   TEXT   NOT NULL,
    sha          TEXT   NOT NULL,
    author       TEXT,
    author_email TEXT,
    message      TEXT   NOT NULL,
    committed_at TEXT,
    git_ref      TEXT,
    ledger_idx   BIGINT NOT NULL,
    PRIMARY KEY (repository, sha)
);
CREATE INDEX scm_commits_by_sha ON scm_commits (sha);

-- Every pull-request event, in ledger order: the history, not only the last state.
CREATE TABLE scm_changes (
    ledger_idx    BIGINT NOT NULL,
    repository    TEXT   NOT NULL,
    number        BIGINT NOT NULL,
    action        TEXT   NOT NULL,
    title         TEXT   NOT NULL,
    author        TEXT,
    author_id     TEXT,
    source_branch TEXT   NOT NULL,
    target_branch TEXT   NOT NULL,
    head_sha      TEXT,
    merge_sha     TEXT,
    state         TEXT   NOT NULL,
    actor         TEXT,
    at            TEXT
);
CREATE INDEX scm_changes_by_number ON scm_changes (repository, number);
CREATE INDEX scm_changes_by_head ON scm_changes (head_sha);
CREATE INDEX scm_changes_by_merge ON scm_changes (merge_sha);

CREATE TABLE scm_reviews (
    ledger_idx  BIGINT NOT NULL,
    repository  TEXT   NOT NULL,
    number      BIGINT NOT NULL,
    reviewer    TEXT   NOT NULL,
    reviewer_id TEXT,
    state       TEXT   NOT NULL,
    commit_sha  TEXT,
    at          TEXT
);
CREATE INDEX scm_reviews_by_number ON scm_reviews (repository, number);

CREATE TABLE scm_deployments (
    ledger_idx    BIGINT NOT NULL,
    repository    TEXT   NOT NULL,
    sha           TEXT   NOT NULL,
    environment   TEXT   NOT NULL,
    state         TEXT   NOT NULL,
    deployment_id TEXT,
    actor         TEXT,
    at            TEXT
);
CREATE INDEX scm_deployments_by_sha ON scm_deployments (sha);

-- reference: a commit sha, or '#<number>' for a pull request.
CREATE TABLE scm_tickets (
    ledger_idx BIGINT NOT NULL,
    repository TEXT   NOT NULL,
    ticket     TEXT   NOT NULL,
    source     TEXT   NOT NULL,
    reference  TEXT   NOT NULL
);
CREATE INDEX scm_tickets_by_reference ON scm_tickets (repository, reference);
CREATE INDEX scm_tickets_by_ticket ON scm_tickets (ticket);

-- The commits evidence names: a provenance's source commit, a pipeline definition's.
CREATE TABLE evidence_commits (
    evidence_idx BIGINT NOT NULL,
    sha          TEXT   NOT NULL
);
CREATE INDEX evidence_commits_by_sha ON evidence_commits (sha);
CREATE INDEX evidence_commits_by_evidence ON evidence_commits (evidence_idx);
