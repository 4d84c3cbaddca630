//! The page handlers: gather a page's data from the application, render it.

mod activity;
mod changes;
pub(crate) mod common;
mod controls;
mod deployments;
mod evidence;
mod ledger;
mod overview;
mod vulns;

pub(crate) use activity::{access, alerts, metrics};
pub(crate) use changes::{change, changes};
pub(crate) use controls::{control_cases, controls};
pub(crate) use deployments::{deployment, deployments};
pub(crate) use evidence::{evidence, evidence_record};
pub(crate) use ledger::ledger;
pub(crate) use overview::overview;
pub(crate) use vulns::{vulnerabilities, vulnerability_item};
