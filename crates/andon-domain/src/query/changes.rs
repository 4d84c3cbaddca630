//! Queries: Changes and deployments.
