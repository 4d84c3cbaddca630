//! Andon's application layer: every rule of the product, behind no transport.
//!
//! [`App`] holds the store, the log signer, the in-memory tree, the caches and the handle
//! of the sequencer; each capability is a module of operations of the form
//! `(&App, &Actor, typed input) -> Result<typed output, AppError>`. The HTTP server, the web
//! pages and the background jobs call these operations; none of them holds a rule of its
//! own. Every accepted fact goes through one sequencer task that assigns ledger indexes
//! and group-commits batches.

pub mod access;
pub mod actor;
pub mod admin;
pub mod admission;
pub mod alerts;
mod app;
pub mod audit;
pub mod authority;
pub mod changes;
mod clock;
mod config;
pub mod drills;
pub mod environments;
mod error;
pub mod evidence;
pub mod federation;
pub mod gates;
pub mod identities;
pub mod input;
pub mod jobs;
pub mod late;
pub mod ledger;
pub mod metrics;
pub mod projection;
pub mod sigstore;
pub mod source;
pub mod telemetry;
pub mod trace;
pub mod vulns;

pub use actor::Actor;
pub use app::{App, Started, new_token, token_hash};
pub use clock::Clock;
pub use config::{Config, Sso, VulnSla, Witness, default_checkpoint_file, parse_report_limit};
pub use error::{AppError, ErrorKind};
pub use jobs::notify::{NotifyFormat, SIGNATURE_HEADER, signature as notification_signature};
pub use ledger::sequencer::Fact;
