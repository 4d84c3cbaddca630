//! Validated names: applications, identities, roles and key ids.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::DomainError;

fn valid_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 64
        && b[0].is_ascii_alphanumeric()
        && b.iter().all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'-' | b'_' | b'.')
        })
}

macro_rules! name_type {
    ($(#[$doc:meta])* $ty:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $ty(String);

        impl $ty {
            /// The name as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $ty {
            type Err = DomainError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                if valid_name(s) {
                    Ok(Self(s.to_owned()))
                } else {
                    Err(DomainError::InvalidName { what: $what, value: s.to_owned() })
                }
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&self.0, f)
            }
        }

        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

name_type!(
    /// An application's name: the unit that evidence, gates and deployments belong to.
    AppName,
    "application name"
);
name_type!(
    /// An identity's name: a person or a machine (a pipeline) known to Andon.
    IdentityName,
    "identity name"
);

/// What an identity may do. The matrix lives in one place: [`Role::may`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Configures applications, identities and keys. Cannot edit or delete history.
    Admin,
    /// A CI/CD job: sends signed evidence for the applications it is scoped to.
    Pipeline,
    /// A change authority: approves changes and access requests (never their own).
    Approver,
    /// Reads everything, changes nothing.
    Auditor,
}

impl Role {
    /// The role's name as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Pipeline => "pipeline",
            Role::Approver => "approver",
            Role::Auditor => "auditor",
        }
    }
}

impl FromStr for Role {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "admin" => Ok(Role::Admin),
            "pipeline" => Ok(Role::Pipeline),
            "approver" => Ok(Role::Approver),
            "auditor" => Ok(Role::Auditor),
            other => Err(DomainError::UnknownRole(other.to_owned())),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The id of an Ed25519 public key: the lowercase hex SHA-256 of its 32 raw bytes. DSSE
/// signatures name their key with it in `keyid`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct KeyId(String);

impl KeyId {
    /// The key id of a public key's canonical bytes (see [`crate::PublicKey::key_id`]).
    pub fn of_bytes(bytes: &[u8]) -> Self {
        Self(crate::Sha256Digest::of(bytes).hex())
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for KeyId {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        crate::Sha256Digest::from_hex(s)
            .map(|d| Self(d.hex()))
            .map_err(|_| {
                DomainError::MalformedKey(format!(
                    "key id {s:?} is not 64 lowercase hex characters"
                ))
            })
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_accept_slugs_and_reject_everything_else() {
        for ok in ["payments", "web-frontend", "a", "svc_2.api"] {
            assert!(ok.parse::<AppName>().is_ok(), "{ok}");
        }
        for bad in [
            "",
            "Payments",
            "-lead",
            "with space",
            "x/y",
            &"a".repeat(65),
        ] {
            assert!(bad.parse::<AppName>().is_err(), "{bad}");
        }
    }

    #[test]
    fn roles_parse_from_their_wire_names_only() {
        for r in [Role::Admin, Role::Pipeline, Role::Approver, Role::Auditor] {
            assert_eq!(r.as_str().parse::<Role>(), Ok(r));
        }
        assert_eq!(
            "root".parse::<Role>(),
            Err(DomainError::UnknownRole("root".into()))
        );
    }
}
