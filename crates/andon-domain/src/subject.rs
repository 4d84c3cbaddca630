//! The digests a statement may name its subjects by: sha256, sha384, sha512 (npm names
//! packages by sha512 only) and gitCommit. A subject is recorded with the strongest it has
//! first and the others beside it, which tie them: evidence that named an artifact by sha512
//! only is found for its sha256 when another record of the application named both.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{DomainError, Sha256Digest};

/// A digest algorithm a subject may be named by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DigestAlgorithm {
    /// SHA-256.
    Sha256,
    /// SHA-512.
    Sha512,
    /// SHA-384.
    Sha384,
    /// A git commit id (SHA-1, 40 hex, or SHA-256, 64 hex).
    GitCommit,
}

impl DigestAlgorithm {
    /// Every algorithm, in the order a subject's primary digest is chosen.
    pub const ALL: [DigestAlgorithm; 4] = [
        DigestAlgorithm::Sha256,
        DigestAlgorithm::Sha512,
        DigestAlgorithm::Sha384,
        DigestAlgorithm::GitCommit,
    ];

    /// Its name in in-toto's digest set.
    pub fn as_str(self) -> &'static str {
        match self {
            DigestAlgorithm::Sha256 => "sha256",
            DigestAlgorithm::Sha384 => "sha384",
            DigestAlgorithm::Sha512 => "sha512",
            DigestAlgorithm::GitCommit => "gitCommit",
        }
    }

    fn lengths(self) -> &'static [usize] {
        match self {
            DigestAlgorithm::Sha256 => &[64],
            DigestAlgorithm::Sha384 => &[96],
            DigestAlgorithm::Sha512 => &[128],
            DigestAlgorithm::GitCommit => &[40, 64],
        }
    }

    fn named(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == name)
    }
}

/// One digest of a subject, written `<algorithm>:<lowercase hex>`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SubjectDigest {
    algorithm: DigestAlgorithm,
    hex: String,
}

impl SubjectDigest {
    /// `hex` under the algorithm named `algorithm`; `None` for an algorithm Andon does not
    /// know, an error for a malformed value of one it does.
    pub fn new(algorithm: &str, hex: &str) -> Result<Option<Self>, DomainError> {
        let Some(algorithm) = DigestAlgorithm::named(algorithm) else {
            return Ok(None);
        };
        let well_formed = algorithm.lengths().contains(&hex.len())
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !well_formed {
            return Err(DomainError::MalformedDigest(format!(
                "{}:{hex}",
                algorithm.as_str()
            )));
        }
        Ok(Some(Self {
            algorithm,
            hex: hex.to_owned(),
        }))
    }

    /// The algorithm.
    pub fn algorithm(&self) -> DigestAlgorithm {
        self.algorithm
    }

    /// The lowercase hex, without the algorithm.
    pub fn hex(&self) -> &str {
        &self.hex
    }

    /// The SHA-256 digest, when this is one.
    pub fn sha256(&self) -> Option<Sha256Digest> {
        match self.algorithm {
            DigestAlgorithm::Sha256 => Sha256Digest::from_hex(&self.hex).ok(),
            _ => None,
        }
    }

    /// The form the subject tables store: the bare hex of a sha256 digest (as Andon always
    /// stored them), `<algorithm>:<hex>` for the others.
    pub fn stored(&self) -> String {
        match self.algorithm {
            DigestAlgorithm::Sha256 => self.hex.clone(),
            _ => self.to_string(),
        }
    }

    /// The stored form as people read it: `<algorithm>:<hex>` (the stored form as it is,
    /// should it not parse).
    pub fn shown(stored: &str) -> String {
        Self::from_stored(stored)
            .map(|d| d.to_string())
            .unwrap_or_else(|_| stored.to_owned())
    }

    /// Reads the stored form back.
    pub fn from_stored(s: &str) -> Result<Self, DomainError> {
        if s.contains(':') {
            s.parse()
        } else {
            Self::new("sha256", s)?.ok_or_else(|| DomainError::MalformedDigest(s.to_owned()))
        }
    }
}

impl From<Sha256Digest> for SubjectDigest {
    fn from(d: Sha256Digest) -> Self {
        Self {
            algorithm: DigestAlgorithm::Sha256,
            hex: d.hex(),
        }
    }
}

impl fmt::Display for SubjectDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algorithm.as_str(), self.hex)
    }
}

impl fmt::Debug for SubjectDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for SubjectDigest {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (alg, hex) = s
            .split_once(':')
            .ok_or_else(|| DomainError::MalformedDigest(s.to_owned()))?;
        Self::new(alg, hex)?.ok_or_else(|| DomainError::MalformedDigest(s.to_owned()))
    }
}

impl Serialize for SubjectDigest {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for SubjectDigest {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// A subject's known digests from its in-toto digest set, the primary one first (sha256,
/// else sha512, sha384, gitCommit). Unknown algorithms are left out; a malformed value of a
/// known one is an error.
pub fn known_digests(
    set: &std::collections::BTreeMap<String, String>,
) -> Result<Vec<SubjectDigest>, DomainError> {
    let mut out = Vec::new();
    for algorithm in DigestAlgorithm::ALL {
        if let Some(hex) = set.get(algorithm.as_str())
            && let Some(d) = SubjectDigest::new(algorithm.as_str(), hex)?
        {
            out.push(d);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_of_each_algorithm_round_trip_and_sha256_is_stored_bare() {
        let sha256 = Sha256Digest::of(b"x");
        let d = SubjectDigest::from(sha256);
        assert_eq!(
            d.to_string(),
            sha256.to_string(),
            "the ledger form is unchanged"
        );
        assert_eq!(d.stored(), sha256.hex());
        assert_eq!(SubjectDigest::from_stored(&d.stored()), Ok(d.clone()));
        for (alg, len) in [
            ("sha384", 96),
            ("sha512", 128),
            ("gitCommit", 40),
            ("gitCommit", 64),
        ] {
            let hex = "ab".repeat(len / 2);
            let d = SubjectDigest::new(alg, &hex)
                .expect("well formed")
                .expect("known");
            assert_eq!(d.stored(), format!("{alg}:{hex}"));
            assert_eq!(SubjectDigest::from_stored(&d.stored()), Ok(d.clone()));
            assert_eq!(d.to_string().parse::<SubjectDigest>(), Ok(d));
        }
    }

    #[test]
    fn malformed_values_of_known_algorithms_are_refused_and_unknown_ones_skipped() {
        assert!(SubjectDigest::new("sha512", &"a".repeat(127)).is_err());
        assert!(SubjectDigest::new("sha384", &"A".repeat(96)).is_err());
        assert!(SubjectDigest::new("gitCommit", &"a".repeat(41)).is_err());
        assert_eq!(SubjectDigest::new("md5", "abc"), Ok(None));
    }

    #[test]
    fn the_primary_digest_is_the_strongest_the_subject_has() {
        let set = [
            ("sha512".to_owned(), "c".repeat(128)),
            ("gitCommit".to_owned(), "d".repeat(40)),
            ("blake2b".to_owned(), "e".repeat(128)),
        ]
        .into_iter()
        .collect();
        let known = known_digests(&set).expect("well formed");
        let algorithms: Vec<_> = known.iter().map(SubjectDigest::algorithm).collect();
        assert_eq!(
            algorithms,
            vec![DigestAlgorithm::Sha512, DigestAlgorithm::GitCommit]
        );
    }
}
