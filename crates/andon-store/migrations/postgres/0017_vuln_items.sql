-- Vulnerability items (`vuln.detected`, `vuln.fix_built`, `vuln.fix_deployed`,
-- `vuln.closed`): one row per application and vulnerability found running in production,
-- updated by each transition, and one immutable row per transition. Every row is
-- re-derived from the ledger by `andon verify`. An expand step: older servers never read it.
CREATE TABLE vuln_items (
    id              TEXT   PRIMARY KEY,
    ledger_idx      BIGINT NOT NULL UNIQUE,
    application     TEXT   NOT NULL,
    team            TEXT   NOT NULL,
    vulnerability   TEXT   NOT NULL,
    aliases         TEXT   NOT NULL,
    advisories      TEXT   NOT NULL,
    severity        TEXT   NOT NULL,
    priority        TEXT   NOT NULL,
    state           TEXT   NOT NULL,
    detected_at     BIGINT NOT NULL,
    due_at          BIGINT NOT NULL,
    artifacts       TEXT   NOT NULL,
    fix_artifact    TEXT,
    fix_evidence    TEXT,
    fix_built_at    BIGINT,
    fix_deployed_at BIGINT,
    closed_at       BIGINT,
    close_reason    TEXT,
    close_detail    TEXT,
    updated_idx     BIGINT NOT NULL
);
CREATE INDEX vuln_items_by_application ON vuln_items (application, state);
CREATE INDEX vuln_items_by_due ON vuln_items (state, due_at);
CREATE INDEX vuln_items_by_vulnerability ON vuln_items (vulnerability);
-- What runs is matched to advisories by package name in one query per 500 names.
CREATE INDEX advisory_packages_by_name ON advisory_packages (purl_name);
CREATE TABLE vuln_item_events (
    ledger_idx BIGINT PRIMARY KEY,
    item_id    TEXT   NOT NULL,
    state      TEXT   NOT NULL,
    at         BIGINT NOT NULL,
    detail     TEXT   NOT NULL
);
CREATE INDEX vuln_item_events_by_item ON vuln_item_events (item_id, ledger_idx);
CREATE TRIGGER vuln_item_events_immutable BEFORE UPDATE ON vuln_item_events
FOR EACH ROW EXECUTE FUNCTION andon_append_only();
