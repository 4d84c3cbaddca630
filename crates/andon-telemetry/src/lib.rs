//! Security telemetry (docs/telemetry.md): the events an environment reports, and the rules
//! that decide when they deserve an alert.
//!
//! - [`Event`]: one reported fact (a login, a configuration change, a count of HTTP
//!   statuses, a maintenance switch), validated by [`parse_batch`] and written in one
//!   canonical form whose digest ([`batch_digest`]) the ledger keeps for each batch.
//! - [`Rules`]: the configurable rules, each a pure decision over the counts or facts the
//!   caller gathered for the window an event touched. Nothing here reads a clock or a
//!   database; the server gathers, these decide.

mod event;
mod rules;

pub use event::{
    Event, EventError, EventKind, MAX_BATCH, MAX_DETAIL, batch_digest, canonical_line, parse_batch,
};
pub use rules::{
    ConfigChangeRule, Counts, ErrorSpikeRule, LoginFailureRule, MINUTE_MS, MaintenanceRule, Rules,
    RulesError,
};
