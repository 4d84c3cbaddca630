-- Production access and drift (docs/access.md). Each row indexes a ledger entry that
-- carries the whole fact; the decision, revocation and expiry columns of access_requests
-- are the latest of their ledgered updates.
CREATE TABLE access_requests (
    id            TEXT   PRIMARY KEY,
    ledger_idx    BIGINT NOT NULL UNIQUE,
    application   TEXT   NOT NULL,
    environment   TEXT   NOT NULL,
    production    BIGINT NOT NULL,
    level         TEXT   NOT NULL,
    reason        TEXT   NOT NULL,
    ticket        TEXT   NOT NULL,
    requested_by  TEXT   NOT NULL,
    minutes       BIGINT NOT NULL,
    requested_at  BIGINT NOT NULL,
    status        TEXT   NOT NULL,
    decided_by    TEXT,
    decided_at    BIGINT,
    comment       TEXT,
    expires_at    BIGINT,
    revoked_by    TEXT,
    revoked_at    BIGINT,
    expired_idx   BIGINT
);
CREATE INDEX access_by_env ON access_requests (environment, status, decided_at);
CREATE INDEX access_by_app ON access_requests (application, decided_at);

CREATE TABLE standing_accounts (
    name          TEXT   PRIMARY KEY,
    ledger_idx    BIGINT NOT NULL UNIQUE,
    environment   TEXT   NOT NULL,
    production    BIGINT NOT NULL,
    application   TEXT,
    owners        TEXT   NOT NULL,
    registered_at BIGINT NOT NULL,
    retired_at    BIGINT
);

CREATE TABLE account_uses (
    ledger_idx  BIGINT NOT NULL PRIMARY KEY,
    account     TEXT   NOT NULL,
    application TEXT,
    environment TEXT   NOT NULL,
    production  BIGINT NOT NULL,
    at          BIGINT NOT NULL,
    actor       TEXT,
    source      TEXT   NOT NULL
);
CREATE INDEX account_uses_by_account ON account_uses (account, at);
CREATE INDEX account_uses_by_time ON account_uses (at);

CREATE TABLE runtime_snapshots (
    ledger_idx  BIGINT NOT NULL PRIMARY KEY,
    environment TEXT   NOT NULL,
    application TEXT,
    source      TEXT   NOT NULL,
    taken_at    BIGINT NOT NULL,
    reported_by TEXT   NOT NULL,
    workloads   TEXT   NOT NULL
);
CREATE INDEX snapshots_by_env ON runtime_snapshots (environment, taken_at);

CREATE TRIGGER account_uses_immutable BEFORE UPDATE OR DELETE ON account_uses
FOR EACH ROW EXECUTE FUNCTION andon_append_only();
CREATE TRIGGER runtime_snapshots_immutable BEFORE UPDATE OR DELETE ON runtime_snapshots
FOR EACH ROW EXECUTE FUNCTION andon_append_only();

-- The alert model: evidence links, and what happened to an alert after it was raised
-- (acknowledged, resolved, seen again), each a ledger entry.
ALTER TABLE alerts ADD COLUMN links TEXT NOT NULL DEFAULT '[]';
CREATE TABLE alert_updates (
    ledger_idx BIGINT NOT NULL PRIMARY KEY,
    alert_id   TEXT   NOT NULL,
    action     TEXT   NOT NULL,
    actor      TEXT   NOT NULL,
    at         BIGINT NOT NULL,
    note       TEXT
);
CREATE INDEX alert_updates_by_alert ON alert_updates (alert_id);
CREATE TRIGGER alert_updates_immutable BEFORE UPDATE OR DELETE ON alert_updates
FOR EACH ROW EXECUTE FUNCTION andon_append_only();

-- One ledger entry can make several notifications (a deployment that bypassed the gate:
-- the change deployed, and the alert): the delivery log is keyed by entry and event.
ALTER TABLE notifications DROP CONSTRAINT notifications_pkey;
ALTER TABLE notifications ADD PRIMARY KEY (ledger_idx, event);
