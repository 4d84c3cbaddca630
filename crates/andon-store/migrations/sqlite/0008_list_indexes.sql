-- Newest-first listings by application (GET /v1/evidence?app=, GET /v1/deployments) read
-- the index in order instead of sorting every row of the application: measured under
-- `andon bench load`, the evidence listing on SQLite took 80 ms at the median after a minute
-- of load, sorting 24,000 rows per call.
CREATE INDEX evidence_by_app_idx ON evidence (application, ledger_idx);
CREATE INDEX deployments_by_app_idx ON deployments (application, environment, ledger_idx);
