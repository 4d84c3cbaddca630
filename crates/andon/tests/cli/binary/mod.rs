//! The binary as operators, pipelines and auditors run it, on both backends: a server killed with
//! SIGKILL mid-stream loses nothing it acknowledged, and `andon verify` catches a byte
//! changed directly in the database and names the entry.
//!
//! One module per topic; `helpers` holds what they share.

mod admission;
mod audit;
mod cluster;
mod demo_and_bench;
mod docs;
mod drills;
mod durability;
mod edge;
mod errors;
mod gates;
mod helpers;
mod interop;
mod k8s_manifests;
mod kubernetes;
mod late;
mod ledger;
mod login;
mod outage;
mod pipelines;
mod restore;
mod signing;
mod sigstore;
mod tamper;
mod vulns;
mod witness;
