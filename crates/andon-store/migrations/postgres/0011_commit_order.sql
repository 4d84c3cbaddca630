-- A commit's place in the push that first named it (0 for the first): commits of one push
-- are ordered by it, not by their author times, which are text in any time zone and say
-- nothing of the order they were made in (docs/metrics.md). Filled for earlier pushes from
-- their ledger entries when this migration runs.
ALTER TABLE scm_commits ADD COLUMN position BIGINT NOT NULL DEFAULT 0;
