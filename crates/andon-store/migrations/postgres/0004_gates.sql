-- Release gates. Every policy version, decision and waiver step is a ledger entry; these
-- rows index them. A policy's version is the SHA-256 of its bundle; a decision's id is the
-- SHA-256 of its signed envelope, which embeds the whole input it was evaluated on.
CREATE TABLE policies (
    version      TEXT   PRIMARY KEY,
    name         TEXT   NOT NULL,
    applications TEXT   NOT NULL,
    environments TEXT   NOT NULL,
    bundle       BYTEA  NOT NULL,
    ledger_idx   BIGINT NOT NULL,
    created_at   BIGINT NOT NULL
);

CREATE TABLE decisions (
    id              TEXT   PRIMARY KEY,
    ledger_idx      BIGINT NOT NULL UNIQUE,
    application     TEXT   NOT NULL,
    environment     TEXT   NOT NULL,
    artifact_digest TEXT   NOT NULL,
    allow           BIGINT NOT NULL,
    policy_version  TEXT   NOT NULL,
    created_at      BIGINT NOT NULL,
    envelope        BYTEA  NOT NULL
);
CREATE INDEX decisions_by_artifact ON decisions (artifact_digest, environment);
CREATE INDEX decisions_by_app ON decisions (application, created_at);

CREATE TABLE waivers (
    id            TEXT   PRIMARY KEY,
    application   TEXT   NOT NULL,
    control       TEXT   NOT NULL,
    vulnerability TEXT,
    reason        TEXT   NOT NULL,
    ticket        TEXT   NOT NULL,
    requested_by  TEXT   NOT NULL,
    duration_ms   BIGINT NOT NULL,
    requested_idx BIGINT NOT NULL,
    requested_at  BIGINT NOT NULL,
    approved_by   TEXT,
    approved_idx  BIGINT,
    approved_at   BIGINT,
    expires_at    BIGINT
);
CREATE INDEX waivers_by_app ON waivers (application, control);

-- The documents the ledger binds by digest are never rewritten.
CREATE TRIGGER decisions_immutable BEFORE UPDATE ON decisions
FOR EACH ROW EXECUTE FUNCTION andon_append_only();
CREATE TRIGGER policies_immutable BEFORE UPDATE ON policies
FOR EACH ROW EXECUTE FUNCTION andon_append_only();
CREATE TRIGGER scm_deliveries_immutable BEFORE UPDATE ON scm_deliveries
FOR EACH ROW EXECUTE FUNCTION andon_append_only();
