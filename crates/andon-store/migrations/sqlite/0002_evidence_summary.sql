-- Typed evidence: the summary Andon derived from the attested report (JSON), for queries.
-- The authoritative copy is in the ledger entry.
ALTER TABLE evidence ADD COLUMN summary TEXT;
