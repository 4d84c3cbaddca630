-- Game days (`drill.started`, `drill.finished`, `drill.retrospective`) and application risk
-- levels (`application.risk`): one row per drill, filled in as it finishes and as its
-- retrospective (with the DSSE envelope that signs it) is recorded, and one row per
-- application given a risk. Every row is re-derived from the ledger by `andon verify`. An
-- expand step: older servers never read it.
CREATE TABLE drills (
    id                    TEXT   PRIMARY KEY,
    ledger_idx            BIGINT NOT NULL UNIQUE,
    application           TEXT   NOT NULL,
    scenario              TEXT   NOT NULL,
    rehearses             TEXT   NOT NULL,
    vulnerability         TEXT,
    participants          TEXT   NOT NULL,
    started_by            TEXT   NOT NULL,
    started_at            BIGINT NOT NULL,
    finished_at           BIGINT,
    finished_idx          BIGINT,
    outcome               TEXT,
    time_to_production_ms BIGINT,
    links                 TEXT,
    retro_idx             BIGINT,
    retrospective         TEXT,
    retro_envelope        TEXT
);
CREATE INDEX drills_by_application ON drills (application, started_at);
CREATE TABLE application_risks (
    application TEXT   PRIMARY KEY,
    risk        TEXT   NOT NULL,
    ledger_idx  BIGINT NOT NULL
);
