//! SHA-256 digests and artifact references.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest as _, Sha256};

use crate::DomainError;

/// A SHA-256 digest, written `sha256:<64 lowercase hex>`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sha256Digest([u8; 32]);

impl Sha256Digest {
    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        Self(Sha256::digest(bytes).into())
    }

    /// Wraps raw digest bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The raw 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The 64 lowercase hex characters, without the `sha256:` prefix.
    pub fn hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses 64 lowercase hex characters (no prefix), as in-toto subject digests carry them.
    pub fn from_hex(s: &str) -> Result<Self, DomainError> {
        let well_formed = s.len() == 64
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !well_formed {
            return Err(DomainError::MalformedDigest(s.to_owned()));
        }
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out)
            .map_err(|_| DomainError::MalformedDigest(s.to_owned()))?;
        Ok(Self(out))
    }
}

impl FromStr for Sha256Digest {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let hex = s
            .strip_prefix("sha256:")
            .ok_or_else(|| DomainError::MalformedDigest(s.to_owned()))?;
        Self::from_hex(hex).map_err(|_| DomainError::MalformedDigest(s.to_owned()))
    }
}

impl fmt::Display for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", self.hex())
    }
}

impl fmt::Debug for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Serialize for Sha256Digest {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Sha256Digest {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// An artifact named with its digest: `<name>@sha256:<hex>`, as the CLI takes subjects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArtifactRef {
    /// The artifact's name (an image repository, a file name).
    pub name: String,
    /// Its content digest.
    pub digest: Sha256Digest,
}

impl FromStr for ArtifactRef {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (name, digest) = s
            .rsplit_once('@')
            .ok_or_else(|| DomainError::MalformedArtifact(s.to_owned()))?;
        if name.is_empty() {
            return Err(DomainError::MalformedArtifact(s.to_owned()));
        }
        Ok(Self {
            name: name.to_owned(),
            digest: digest.parse()?,
        })
    }
}

impl fmt::Display for ArtifactRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.name, self.digest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_round_trips_through_its_text_form() {
        let d = Sha256Digest::of(b"hello");
        let text = d.to_string();
        assert_eq!(
            text,
            "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        assert_eq!(text.parse::<Sha256Digest>(), Ok(d));
    }

    #[test]
    fn digest_rejects_uppercase_short_and_unprefixed_forms() {
        let hex = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
        for bad in [
            hex.to_owned(),
            format!("sha256:{}", hex.to_uppercase()),
            format!("sha256:{}", &hex[1..]),
            format!("sha512:{hex}"),
            format!("sha256:{}g", &hex[1..]),
        ] {
            assert!(bad.parse::<Sha256Digest>().is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn artifact_reference_splits_at_the_last_at_sign() {
        let hex = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
        let a: ArtifactRef = format!("registry.example/team/app@sha256:{hex}")
            .parse()
            .expect("valid reference");
        assert_eq!(a.name, "registry.example/team/app");
        assert_eq!(a.digest.hex(), hex);
        assert!(format!("@sha256:{hex}").parse::<ArtifactRef>().is_err());
        assert!("app:latest".parse::<ArtifactRef>().is_err());
    }
}
