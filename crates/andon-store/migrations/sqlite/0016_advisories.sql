-- OSV advisories imported (`advisory.imported`), the newest version of each: its aliases
-- (CVE, GHSA, PYSEC ids naming the same vulnerability) and each affected package with its
-- ranges and versions as the record gives them (JSON), under the package key the SBOM
-- components carry. Rewritten by a newer import of the same id; every row is re-derived from
-- the ledger by `andon verify`. An expand step: older servers never read it.
CREATE TABLE advisories (
    id          TEXT   PRIMARY KEY,
    ledger_idx  BIGINT NOT NULL,
    modified    TEXT   NOT NULL,
    published   TEXT,
    withdrawn   TEXT,
    summary     TEXT,
    severity    TEXT   NOT NULL,
    sha256      TEXT   NOT NULL,
    imported_at BIGINT NOT NULL
);
CREATE TABLE advisory_aliases (
    alias       TEXT NOT NULL,
    advisory_id TEXT NOT NULL,
    PRIMARY KEY (alias, advisory_id)
);
CREATE INDEX advisory_aliases_by_advisory ON advisory_aliases (advisory_id);
CREATE TABLE advisory_packages (
    advisory_id    TEXT   NOT NULL,
    seq            BIGINT NOT NULL,
    ecosystem      TEXT   NOT NULL,
    purl_type      TEXT   NOT NULL,
    purl_namespace TEXT   NOT NULL,
    purl_name      TEXT   NOT NULL,
    affected       TEXT   NOT NULL,
    PRIMARY KEY (advisory_id, seq)
);
CREATE INDEX advisory_packages_by_package ON advisory_packages (purl_type, purl_namespace, purl_name);
