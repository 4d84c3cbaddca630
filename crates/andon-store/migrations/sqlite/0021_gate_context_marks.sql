-- Hardening scans by ledger index: before a gate uses the context it kept for an
-- application and environment (waivers, policies, drills, risk, the environment's hardening
-- scans), it asks whether any of those rows was written since (`Store::gathered_since`).
-- Scans are evidence of any application, found by predicate type. An expand step: older
-- servers never read it.
CREATE INDEX evidence_by_type_idx ON evidence (predicate_type, ledger_idx);
