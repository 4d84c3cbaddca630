//! Andon's domain: the vocabulary every other crate speaks.
//!
//! This crate owns identifiers (digests, key ids, application and identity names), roles,
//! DSSE envelopes, in-toto Statement v1 and the ledger entry documents. It is pure: no I/O,
//! no async, no SQL, no HTTP. Everything here is validated at construction, so the rest of
//! the program never re-checks it.

pub mod access;
pub mod admission;
pub mod api;
mod application;
pub mod change;
pub mod components;
mod digest;
pub mod drills;
mod dsse;
mod entry;
mod error;
pub mod gate;
pub mod identity;
mod keys;
pub mod late;
mod names;
pub mod oidc;
pub mod oscal;
pub mod query;
mod report;
pub mod scm;
pub mod sigstore;
mod statement;
mod subject;
pub mod vuln_items;
pub mod vulns;

pub use digest::{ArtifactRef, Sha256Digest};
pub use dsse::{
    Envelope, EnvelopeSignature, MAX_SIGNATURES, SignatureCheck, SigningKey, VerifiedEnvelope, pae,
};
pub use entry::{EntryKind, EvidenceFact, LedgerEntry, SourceEventFact, SubjectRef, Via, token_id};
pub use error::DomainError;
pub use keys::{Algorithm, EcdsaKey, KeyAlgorithm, PrivateKey, PublicKey, Signer};
pub use names::{AppName, IdentityName, KeyId, Role};
pub use report::{
    COVERAGE_PREDICATE_V1, DAST_PREDICATE_V1, EmbeddedReport, HARDENING_PREDICATE_V1,
    JUNIT_PREDICATE_V1, REPORT_PREDICATES, ReportPredicate, ReportSource, SARIF_PREDICATE_V1,
    SBOM_PREDICATE_V1, SECRETS_PREDICATE_V1, StoredReport, VULNERABILITIES_PREDICATE_V1,
    report_kind,
};
pub use statement::{IN_TOTO_PAYLOAD_TYPE, STATEMENT_V1_TYPE, Statement, Subject};
pub use subject::{DigestAlgorithm, SubjectDigest, known_digests};
