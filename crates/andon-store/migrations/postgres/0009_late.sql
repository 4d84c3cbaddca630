-- Facts recorded after the late window (docs/changes.md, "Time"): an admin's reason and
-- name, kept on the rows of the facts that carry their own time. NULL: on time.
ALTER TABLE deployments ADD COLUMN late_reason TEXT;
ALTER TABLE deployments ADD COLUMN late_by TEXT;
-- The latest late failure, rollback or restoration of the deployment.
ALTER TABLE deployments ADD COLUMN state_late_reason TEXT;
ALTER TABLE deployments ADD COLUMN state_late_by TEXT;
ALTER TABLE deployment_events ADD COLUMN late_reason TEXT;
ALTER TABLE deployment_events ADD COLUMN late_by TEXT;
ALTER TABLE account_uses ADD COLUMN late_reason TEXT;
ALTER TABLE account_uses ADD COLUMN late_by TEXT;
ALTER TABLE runtime_snapshots ADD COLUMN late_reason TEXT;
ALTER TABLE runtime_snapshots ADD COLUMN late_by TEXT;
