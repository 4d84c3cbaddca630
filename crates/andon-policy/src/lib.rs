//! Controls as Rego policies, evaluated into release-gate verdicts.
//!
//! A **control** is a Rego package under `andon.controls.` that defines `metadata` (id,
//! title, risk, stage, the evidence it needs, framework references, default parameters) and
//! either `result` (`{"verdict", "reason", "evidence"}`) or, as Conftest policies do, a
//! `deny` set of messages (empty: pass). A **bundle** is a named set of modules with the
//! applications and environments it applies to, parameters per control, and whether the
//! built-in library is included; its version is the SHA-256 of its resolved JSON, so a
//! decision names exactly the policy text it used.
//!
//! Evaluation fails closed: a control that errors, or gives no result, denies and says why.
//! Missing evidence is a `missing` verdict, which denies too. A control-level waiver turns a
//! `fail` or `missing` into `waived`. This crate is pure: it never reads files or the clock;
//! the gate input carries everything.

pub use andon_domain::change::{ChangeClass, Classification};
pub use andon_domain::gate::{ControlResult, Verdict};

mod bundle;
mod classify;
mod control;
mod error;
mod evaluate;
mod policy;
mod rego;
mod unit_tests;
mod vm;

pub use bundle::{BUILTIN, Bundle, CHANGE_PARAMS, specificity, version_of};
pub use control::ControlMeta;
pub use error::PolicyError;
pub use evaluate::{EMERGENCY_BLOCKING, Evaluation, INPUT_VERSION, Prepared};
pub use policy::Policy;
pub use unit_tests::TestOutcome;
