//! Python package versions (PEP 440): epochs, pre-, post- and development releases, local
//! versions; `1.0` equals `1.0.0`.

use std::cmp::Ordering;
use std::str::FromStr;

use super::VersionError;

/// A parsed PEP 440 version.
#[derive(Clone, Debug)]
pub struct PyVersion(pep440_rs::Version);

impl PyVersion {
    /// Parses a version in any of the spellings PEP 440 normalizes.
    pub fn parse(s: &str) -> Result<Self, VersionError> {
        pep440_rs::Version::from_str(s.trim())
            .map(Self)
            .map_err(|e| VersionError::new("PEP 440", s, &e.to_string()))
    }
}

impl PartialEq for PyVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for PyVersion {}

impl Ord for PyVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.cmp(&other.0)
    }
}

impl PartialOrd for PyVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
