-- Andon's foundation schema (PostgreSQL). Times are Unix milliseconds; ids are text.
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

-- The ledger: one row per Merkle leaf. `entry` holds the exact leaf bytes.
CREATE TABLE ledger_entries (
    idx        BIGINT PRIMARY KEY,
    kind       TEXT   NOT NULL,
    leaf_hash  BYTEA   NOT NULL,
    entry      BYTEA   NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE FUNCTION andon_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION '% rows are append-only', TG_TABLE_NAME; END;
$$;
CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries
FOR EACH ROW EXECUTE FUNCTION andon_append_only();

-- Signed tree heads, one per committed batch.
CREATE TABLE checkpoints (
    size       BIGINT PRIMARY KEY,
    root       BYTEA   NOT NULL,
    note       TEXT   NOT NULL,
    created_at BIGINT NOT NULL
);


-- Evidence, keyed by its ledger index (rows are appended in order); `id` is the sha256 of
-- the raw envelope kept in `document`: the content address, unique, so a document is stored
-- once. Only the id and subject-digest indexes are keyed randomly: each costs a B-tree page
-- per entry in every commit, so there are no more of them than searching needs.
CREATE TABLE evidence (
    ledger_idx     BIGINT  PRIMARY KEY,
    id             TEXT   NOT NULL UNIQUE,
    application    TEXT   NOT NULL,
    run            TEXT,
    predicate_type TEXT   NOT NULL,
    signer         TEXT   NOT NULL,
    keyid          TEXT   NOT NULL,
    created_at     BIGINT NOT NULL,
    document       BYTEA   NOT NULL
);
CREATE TRIGGER evidence_immutable BEFORE UPDATE ON evidence
FOR EACH ROW EXECUTE FUNCTION andon_append_only();
CREATE INDEX evidence_by_app ON evidence (application, created_at);
CREATE INDEX evidence_by_type ON evidence (predicate_type, created_at);

CREATE TABLE evidence_subjects (
    evidence_idx BIGINT NOT NULL,
    name         TEXT   NOT NULL,
    digest       TEXT   NOT NULL
);
CREATE INDEX evidence_subjects_by_evidence ON evidence_subjects (evidence_idx);
CREATE INDEX evidence_subjects_by_digest ON evidence_subjects (digest);

CREATE TABLE applications (
    name       TEXT   PRIMARY KEY,
    team       TEXT   NOT NULL,
    ledger_idx BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE identities (
    name         TEXT   PRIMARY KEY,
    role         TEXT   NOT NULL,
    applications TEXT   NOT NULL,
    ledger_idx   BIGINT NOT NULL,
    created_at   BIGINT NOT NULL
);

CREATE TABLE tokens (
    hash       TEXT   PRIMARY KEY,
    identity   TEXT   NOT NULL,
    ledger_idx BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE signing_keys (
    keyid      TEXT   PRIMARY KEY,
    identity   TEXT   NOT NULL,
    public_key BYTEA   NOT NULL,
    ledger_idx BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
