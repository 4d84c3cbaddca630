-- Rolling upgrades: the oldest schema version whose servers may still write to this
-- database. A migration that only adds (an expand step) leaves it; one that removes or
-- changes the meaning of what older servers write (a contract step) raises it to its own
-- version. A running server of an older version that sees it raised stops writing.
CREATE TABLE schema_compat (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    writers_from BIGINT  NOT NULL
);
INSERT INTO schema_compat (id, writers_from) VALUES (1, 14);
