-- Every component of every SBOM recorded as evidence, in document order, with the package
-- key matching reads (a purl's type, namespace and name, normalized as andon-vuln does),
-- for the blast radius of a vulnerability: which artifacts contain a package. The evidence
-- entry binds the count and SHA-256 of (name, version, purl) in order, so a row deleted,
-- added or altered is found by the audit. An expand step: older servers never read it.
CREATE TABLE sbom_components (
    evidence_idx   BIGINT NOT NULL,
    seq            BIGINT NOT NULL,
    name           TEXT   NOT NULL,
    version        TEXT,
    purl           TEXT,
    purl_type      TEXT   NOT NULL DEFAULT '',
    purl_namespace TEXT   NOT NULL DEFAULT '',
    purl_name      TEXT   NOT NULL DEFAULT '',
    PRIMARY KEY (evidence_idx, seq)
);
CREATE INDEX sbom_components_by_package ON sbom_components (purl_type, purl_namespace, purl_name);
CREATE TRIGGER sbom_components_immutable BEFORE UPDATE ON sbom_components
FOR EACH ROW EXECUTE FUNCTION andon_append_only();
