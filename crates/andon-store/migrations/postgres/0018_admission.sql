-- Admission (`admission.cluster`, `admission.refused`, `admission.override`): the clusters
-- whose API servers ask Andon before a workload starts, with the SHA-256 of the token each
-- sends, and every workload refused, admitted in audit mode though enforce would refuse it,
-- or admitted by a break-glass grant (`grant_used`). Every row is
-- re-derived from the ledger by `andon verify`. An expand step: older servers never read it.
CREATE TABLE admission_clusters (
    name                  TEXT   PRIMARY KEY,
    ledger_idx            BIGINT NOT NULL,
    environment           TEXT   NOT NULL,
    mode                  TEXT   NOT NULL,
    max_decision_age_days BIGINT NOT NULL,
    token_sha256          TEXT   NOT NULL
);
CREATE TABLE admission_events (
    ledger_idx BIGINT PRIMARY KEY,
    cluster    TEXT   NOT NULL,
    enforced   BIGINT NOT NULL,
    uid        TEXT   NOT NULL,
    operation  TEXT   NOT NULL,
    kind       TEXT   NOT NULL,
    namespace  TEXT   NOT NULL,
    name       TEXT   NOT NULL,
    username   TEXT   NOT NULL,
    at         BIGINT NOT NULL,
    images     TEXT   NOT NULL,
    grant_used TEXT
);
CREATE INDEX admission_events_by_cluster ON admission_events (cluster, ledger_idx);
CREATE TRIGGER admission_events_immutable BEFORE UPDATE ON admission_events
FOR EACH ROW EXECUTE FUNCTION andon_append_only();
