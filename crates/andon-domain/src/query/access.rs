//! Queries: Break-glass access, environments, alerts and metrics.
