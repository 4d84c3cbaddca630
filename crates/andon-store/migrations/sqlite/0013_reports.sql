-- Reports uploaded on their own (PUT /v1/reports/sha256:<hex>), for evidence too large to
-- carry inline: content-addressed by the SHA-256 of `content`, stored once, never changed.
-- The evidence envelope that names a report signs its digest and size, and its ledger entry
-- records them, so an audit finds a report that was altered or removed.
CREATE TABLE reports (
    digest     TEXT   PRIMARY KEY,
    size       BIGINT NOT NULL,
    content    BLOB   NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TRIGGER reports_no_update BEFORE UPDATE ON reports
BEGIN SELECT RAISE(ABORT, 'reports are immutable'); END;
