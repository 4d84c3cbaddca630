//! The verbs: one module per verb family, each with its flags and what it does.

pub mod access;
pub mod attest;
pub mod change;
pub mod gate;
pub mod kube;
pub mod package;
pub mod serve;
pub mod telemetry;
pub mod trace;
pub mod verify;
