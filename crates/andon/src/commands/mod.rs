//! The verbs: one module per verb family, each with its flags and what it does.

pub mod access;
pub mod admission;
pub mod app;
pub mod attest;
pub mod backup;
pub mod change;
pub mod drill;
pub mod env;
pub mod evidence;
pub mod export;
pub mod gate;
pub mod identity;
pub mod ledger;
pub mod login;
pub mod oidc;
pub mod package;
pub mod policy;
pub mod provenance_file;
pub mod serve;
pub mod sigstore;
pub mod telemetry;
pub mod token;
pub mod trace;
pub mod verify;
pub mod vuln;
pub mod vuln_items;
