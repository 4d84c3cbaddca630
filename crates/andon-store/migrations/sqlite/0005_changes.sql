-- Approver groups (a change rule may require an approver from one, e.g. dba).
ALTER TABLE identities ADD COLUMN approver_groups TEXT NOT NULL DEFAULT '[]';

-- Deployments and change management (docs/changes.md). Each row indexes a ledger entry
-- that carries the whole fact; `status`, `state` and the times on `changes` and
-- `deployments` are the latest of their ledgered updates.
CREATE TABLE changes (
    id                 TEXT   PRIMARY KEY,
    ledger_idx         BIGINT NOT NULL UNIQUE,
    application        TEXT   NOT NULL,
    environment        TEXT   NOT NULL,
    artifact_name      TEXT   NOT NULL,
    artifact_digest    TEXT   NOT NULL,
    change_type        TEXT   NOT NULL,
    class              TEXT   NOT NULL,
    status             TEXT   NOT NULL,
    requested_by       TEXT   NOT NULL,
    approvals_required BIGINT NOT NULL,
    approver_group     TEXT,
    emergency_reason   TEXT,
    review_due_at      BIGINT,
    reviewed_at        BIGINT,
    detail             TEXT   NOT NULL,
    created_at         BIGINT NOT NULL,
    updated_idx        BIGINT NOT NULL
);
CREATE INDEX changes_by_artifact ON changes (artifact_digest, environment);
CREATE INDEX changes_by_app ON changes (application, created_at);

CREATE TABLE change_approvals (
    ledger_idx BIGINT NOT NULL PRIMARY KEY,
    change_id  TEXT   NOT NULL,
    approver   TEXT   NOT NULL,
    verdict    TEXT   NOT NULL,
    comment    TEXT   NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX change_approvals_by_change ON change_approvals (change_id);

CREATE TABLE deployments (
    id              TEXT   PRIMARY KEY,
    ledger_idx      BIGINT NOT NULL UNIQUE,
    application     TEXT   NOT NULL,
    environment     TEXT   NOT NULL,
    production      BIGINT NOT NULL,
    artifact_name   TEXT   NOT NULL,
    artifact_digest TEXT   NOT NULL,
    decision_id     TEXT,
    change_id       TEXT,
    run             TEXT,
    recorded_by     TEXT   NOT NULL,
    bypass          BIGINT NOT NULL,
    source_commit   TEXT,
    deployed_at     BIGINT NOT NULL,
    state           TEXT   NOT NULL,
    failed_at       BIGINT,
    restored_at     BIGINT
);
CREATE INDEX deployments_by_app ON deployments (application, environment, deployed_at);
CREATE INDEX deployments_by_artifact ON deployments (artifact_digest);

-- The commits a production deployment brought to production first (lead time for
-- changes): a commit deployed again later is not listed again.
CREATE TABLE deployment_commits (
    deployment_id TEXT   NOT NULL,
    application   TEXT   NOT NULL,
    sha           TEXT   NOT NULL,
    committed_at  BIGINT,
    PRIMARY KEY (deployment_id, sha)
);
CREATE INDEX deployment_commits_by_sha ON deployment_commits (application, sha);

CREATE TABLE deployment_events (
    ledger_idx    BIGINT NOT NULL PRIMARY KEY,
    deployment_id TEXT   NOT NULL,
    state         TEXT   NOT NULL,
    at            BIGINT NOT NULL,
    actor         TEXT   NOT NULL,
    note          TEXT
);
CREATE INDEX deployment_events_by_deployment ON deployment_events (deployment_id);

CREATE TABLE alerts (
    id          TEXT   PRIMARY KEY,
    ledger_idx  BIGINT NOT NULL UNIQUE,
    kind        TEXT   NOT NULL,
    severity    TEXT   NOT NULL,
    application TEXT,
    environment TEXT,
    subject     TEXT   NOT NULL,
    message     TEXT   NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX alerts_by_time ON alerts (created_at);
CREATE INDEX alerts_by_subject ON alerts (kind, subject);

-- Approvals, deployment events and alerts are facts: never rewritten.
CREATE TRIGGER change_approvals_no_update BEFORE UPDATE ON change_approvals
BEGIN SELECT RAISE(ABORT, 'approvals are immutable'); END;
CREATE TRIGGER change_approvals_no_delete BEFORE DELETE ON change_approvals
BEGIN SELECT RAISE(ABORT, 'approvals are immutable'); END;
CREATE TRIGGER deployment_events_no_update BEFORE UPDATE ON deployment_events
BEGIN SELECT RAISE(ABORT, 'deployment events are immutable'); END;
CREATE TRIGGER alerts_no_update BEFORE UPDATE ON alerts
BEGIN SELECT RAISE(ABORT, 'alerts are immutable'); END;

-- Outbound notifications (change events for ITSM tools): the delivery log. Derived from
-- the ledger by the dispatcher, which remembers how far it read; operational state, not
-- facts (attempts and outcomes change).
CREATE TABLE notifications (
    ledger_idx      BIGINT PRIMARY KEY,
    event           TEXT   NOT NULL,
    subject         TEXT   NOT NULL,
    body            TEXT   NOT NULL,
    created_at      BIGINT NOT NULL,
    attempts        BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    delivered_at    BIGINT,
    last_status     BIGINT,
    last_error      TEXT,
    gave_up         BIGINT NOT NULL
);
CREATE INDEX notifications_due ON notifications (delivered_at, gave_up, next_attempt_at);

CREATE TABLE notify_cursor (
    id         BIGINT PRIMARY KEY,
    ledger_idx BIGINT NOT NULL
);
