//! Queries: Security telemetry.
