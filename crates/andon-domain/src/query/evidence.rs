//! Queries: Evidence and traces.
