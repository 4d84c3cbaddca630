//! Vulnerabilities (docs/vulnerabilities.md): the components of every SBOM indexed by
//! package, the blast radius of a package or an advisory, and the items that track each
//! vulnerability running in production to its fix, with their deadlines.

pub mod advisories;
pub mod components;
mod findings;
mod fixes;
pub mod impact;
pub mod items;
pub mod overdue;
mod running;
