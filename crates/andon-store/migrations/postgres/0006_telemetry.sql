-- Security telemetry (docs/telemetry.md). Each batch is one ledger entry holding the digest
-- of its events' canonical lines; the events themselves are indexed here for the rules'
-- window queries and for search.
CREATE TABLE telemetry_events (
    ledger_idx  BIGINT NOT NULL,
    seq         BIGINT NOT NULL,
    kind        TEXT   NOT NULL,
    at          BIGINT NOT NULL,
    source      TEXT   NOT NULL,
    application TEXT,
    environment TEXT,
    actor       TEXT,
    count       BIGINT NOT NULL,
    status_4xx  BIGINT NOT NULL,
    status_5xx  BIGINT NOT NULL,
    deployment  TEXT,
    detail      TEXT
);
CREATE INDEX telemetry_by_app ON telemetry_events (application, kind, at);
CREATE INDEX telemetry_by_batch ON telemetry_events (ledger_idx);

-- Per-minute sums of the counted kinds (sign-ins, HTTP requests), kept up to date in the
-- same commit as the events: the rules' windows read a few dozen of these rows instead
-- of every event in the window. Derived from the events, so not append-only; '' stands
-- for no application or environment (key columns cannot be NULL).
CREATE TABLE telemetry_minutes (
    kind        TEXT   NOT NULL,
    application TEXT   NOT NULL,
    environment TEXT   NOT NULL,
    source      TEXT   NOT NULL,
    minute      BIGINT NOT NULL,
    count       BIGINT NOT NULL,
    status_4xx  BIGINT NOT NULL,
    status_5xx  BIGINT NOT NULL,
    PRIMARY KEY (kind, application, environment, source, minute)
);

CREATE TRIGGER telemetry_events_immutable BEFORE UPDATE OR DELETE ON telemetry_events
FOR EACH ROW EXECUTE FUNCTION andon_append_only();

-- A change's planned window, as times: maintenance switched outside every window of the
-- application and environment is alerted.
ALTER TABLE changes ADD COLUMN planned_start BIGINT;
ALTER TABLE changes ADD COLUMN planned_end BIGINT;
CREATE INDEX changes_by_window ON changes (application, environment, planned_start);

-- A deployment followed by a 5xx spike is suspect (it still counts as a success until
-- someone marks it failed).
ALTER TABLE deployments ADD COLUMN suspect_at BIGINT;
