//! The version orderings Andon can evaluate ranges in: SemVer (npm, Go, crates.io, Hex,
//! Pub), PEP 440 (PyPI) and Debian's (Debian, Ubuntu). Other ecosystems have none yet: their
//! advisories match by exact versions only.

mod dpkg;
mod pep440;
mod semver;

use std::cmp::Ordering;

pub use self::dpkg::DebVersion;
pub use self::pep440::PyVersion;
pub use self::semver::{SemVersion, coerce};

/// A version that its scheme cannot read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{scheme} version {version:?} cannot be read: {why}")]
pub struct VersionError {
    /// The scheme's name.
    pub scheme: &'static str,
    /// The version as given.
    pub version: String,
    /// Why not.
    pub why: String,
}

impl VersionError {
    pub(crate) fn new(scheme: &'static str, version: &str, why: &str) -> Self {
        Self {
            scheme,
            version: version.chars().take(128).collect(),
            why: why.to_owned(),
        }
    }
}

/// An ordering of versions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// SemVer 2.0 precedence after OSV's coercion.
    SemVer,
    /// PEP 440.
    Pep440,
    /// Debian's (`dpkg --compare-versions`).
    Debian,
}

/// A version read in its scheme.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Version {
    /// SemVer.
    SemVer(SemVersion),
    /// PEP 440.
    Pep440(PyVersion),
    /// Debian.
    Debian(DebVersion),
}

impl Scheme {
    /// Reads `s` in this scheme.
    pub fn parse(self, s: &str) -> Result<Version, VersionError> {
        Ok(match self {
            Self::SemVer => Version::SemVer(SemVersion::parse(s)?),
            Self::Pep440 => Version::Pep440(PyVersion::parse(s)?),
            Self::Debian => Version::Debian(DebVersion::parse(s)?),
        })
    }

    /// Compares two versions in this scheme.
    pub fn compare(self, a: &str, b: &str) -> Result<Ordering, VersionError> {
        let (a, b) = (self.parse(a)?, self.parse(b)?);
        Ok(a.cmp_same(&b))
    }

    /// The scheme's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SemVer => "semver",
            Self::Pep440 => "pep440",
            Self::Debian => "debian",
        }
    }
}

impl Version {
    /// Compares two versions of the same scheme; versions of different schemes are never
    /// compared by the callers here, and order by scheme if they are.
    pub fn cmp_same(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Self::SemVer(a), Self::SemVer(b)) => a.cmp(b),
            (Self::Pep440(a), Self::Pep440(b)) => a.cmp(b),
            (Self::Debian(a), Self::Debian(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }

    fn rank(&self) -> u8 {
        match self {
            Self::SemVer(_) => 0,
            Self::Pep440(_) => 1,
            Self::Debian(_) => 2,
        }
    }
}
