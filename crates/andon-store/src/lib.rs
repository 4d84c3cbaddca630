//! Andon's storage: everything it keeps, on SQLite (the embedded default) or PostgreSQL.
//!
//! One sqlx code path serves both backends through sqlx's `Any` driver: the SQL is written
//! once with `$n` placeholders, values crossing it are integers, text and bytes only (times
//! as Unix milliseconds, JSON as text). Each backend has its own migration tree, because
//! their DDL differs (BLOB vs BYTEA, trigger syntax). The backend is chosen by the URL scheme.
//!
//! This crate owns rows and transactions. It does not decide what is valid (that is the
//! domain's and the server's job) and it does not compute Merkle hashes (the ledger's).

mod access;
mod admission;
mod advisories;
mod alerts;
mod backup;
mod batch;
mod changes;
mod components;
mod cosignatures;
mod deployments;
mod drills;
mod dump;
mod effect;
mod error;
mod first_start;
mod gates;
mod kinds;
mod listing;
mod migrate;
mod multirow;
mod notify;
mod read;
mod reports;
mod rows;
mod scans;
mod scm;
mod sizes;
mod statistics;
mod store;
mod telemetry;
mod vuln_items;

pub use access::{AccessEffect, DebtRow};
pub use admission::AdmissionEffect;
pub use advisories::{AdvisoryEffect, AdvisoryPackage, StoredAdvisory};
pub use backup::{BACKUP_FORMAT, BackupSummary};
pub use batch::{Batch, Sequencing};
pub use changes::ChangeEffect;
pub use components::{ArtifactComponent, PackageHit};
pub use cosignatures::StoredCosignature;
pub use deployments::MetricDeployment;
pub use drills::{DrillActivity, DrillEffect};
pub use dump::{Cell, Scan, Snapshot};
pub use effect::{Append, Effect, SbomComponent};
pub use error::{Failure, StoreError};
pub use first_start::FirstStart;
pub use gates::{DecisionRow, GateKept, GatherMark, PolicyRow, WaiverRow};
pub use listing::Sort;
pub use migrate::{SchemaState, WRITERS_FROM, known as schema_known};
pub use notify::{Attempt, Notification};
pub use rows::{
    ApplicationRow, Counts, EvidenceFilter, EvidenceRow, IdentityRow, KeyRow, StoredCheckpoint,
    StoredEntry,
};
pub use scm::Recorded;
pub use sizes::TableSize;
pub use store::{Backend, Store, WAL_LIMIT_BYTES, WalRestart, check_writable};
pub use telemetry::{StoredEvent, TelemetryFilter};
pub use vuln_items::VulnEffect;
