-- The source-control tables by ledger index: before a gate uses what it kept from its last
-- gather of an artifact, it asks whether any of these rows was written since
-- (`Store::gathered_since`), whatever entry wrote it (a webhook, or a review attested as
-- evidence by another application of the same repository). An expand step: older servers
-- never read them.
CREATE INDEX scm_commits_by_idx ON scm_commits (ledger_idx);
CREATE INDEX scm_changes_by_idx ON scm_changes (ledger_idx);
CREATE INDEX scm_reviews_by_idx ON scm_reviews (ledger_idx);
CREATE INDEX scm_deployments_by_idx ON scm_deployments (ledger_idx);
CREATE INDEX scm_tickets_by_idx ON scm_tickets (ledger_idx);
