//! The server's integration tests, one module per area, in one test binary: the suite links
//! once instead of once per area, and the helpers in `common` are all used by some area.

mod common;

mod access;
mod admission;
mod alerts;
mod authorization;
mod backup;
mod change_rules;
mod changes;
mod digests;
mod drills;
mod exports;
mod federation;
mod gates;
mod gathered;
mod hostile;
mod identities;
mod intake;
mod keyless;
mod large_reports;
mod late;
mod listing_order;
mod metrics;
mod notify;
mod observe;
mod operator;
mod projection;
mod property;
mod provenance;
mod recompute;
mod scans;
mod schema_validation;
mod signatures;
mod source_control;
mod sso;
mod tamper;
mod telemetry;
mod upgrades;
mod vuln_items;
mod vulnerabilities;
mod web;
mod witness;
