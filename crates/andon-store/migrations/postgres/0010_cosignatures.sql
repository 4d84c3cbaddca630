-- Witnesses' cosignatures on the log's checkpoints (C2SP tlog-cosignature): the signature
-- line each witness returned for the checkpoint of `size`, kept so the log can serve its
-- checkpoints with them and an auditor can require them (docs/foundation.md, "Witnesses").
-- Not a projection of the ledger: a cosignature is about the ledger, and verifies on its own.
CREATE TABLE cosignatures (
    size        BIGINT NOT NULL,
    witness     TEXT   NOT NULL,
    cosigned_at BIGINT NOT NULL,
    line        TEXT   NOT NULL,
    PRIMARY KEY (size, witness)
);
