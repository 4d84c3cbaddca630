//! Vulnerabilities (docs/vulnerabilities.md): the components of every SBOM indexed by
//! package, and the blast radius of a package: which artifacts contain it, and where they
//! run now.

pub mod advisories;
pub mod components;
pub mod impact;
mod running;
