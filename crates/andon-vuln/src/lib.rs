//! Vulnerability matching for Andon (docs/design/vulnerabilities-and-admission.md): OSV
//! records, package URLs reduced to the key components are matched on, the version
//! orderings of SemVer, PEP 440 and Debian, and the evaluation of OSV's affected ranges.
//! Pure: no I/O, no clock.

pub mod osv;
pub mod purl;
pub mod range;
pub mod sla;
pub mod versions;

pub use osv::Advisory;
pub use purl::{Ecosystem, PackageKey, Purl, PurlError};
pub use range::{Hit, Verdict, evaluate};
pub use versions::{Scheme, Version, VersionError};
