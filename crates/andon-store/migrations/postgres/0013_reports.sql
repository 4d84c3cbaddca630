-- Reports uploaded on their own (PUT /v1/reports/sha256:<hex>), for evidence too large to
-- carry inline: content-addressed by the SHA-256 of `content`, stored once, never changed.
-- The evidence envelope that names a report signs its digest and size, and its ledger entry
-- records them, so an audit finds a report that was altered or removed.
CREATE TABLE reports (
    digest     TEXT   PRIMARY KEY,
    size       BIGINT NOT NULL,
    content    BYTEA  NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TRIGGER reports_immutable BEFORE UPDATE ON reports
FOR EACH ROW EXECUTE FUNCTION andon_append_only();
