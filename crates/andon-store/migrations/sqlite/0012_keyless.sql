-- For evidence signed keylessly (a Sigstore bundle): the verified certificate identity,
-- issuer, workload claims, trusted root and Rekor entry, as JSON, so that controls can read
-- who built an artifact (docs/gates.md). NULL for evidence signed with a registered key.
ALTER TABLE evidence ADD COLUMN keyless TEXT;
