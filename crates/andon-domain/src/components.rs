//! The components of an SBOM as Andon indexes them, and what an evidence entry binds of
//! them. An entry cannot carry 200,000 components, yet every row must be re-derivable from
//! the ledger (TRUST.md): the entry carries their count and the SHA-256 of their canonical
//! form, so a component row deleted, added or altered in the database no longer hashes to
//! what the signed ledger binds.

use serde::{Deserialize, Serialize};

use crate::Sha256Digest;

/// The version of the extraction: which components an SBOM yields and in what order. A
/// later change to the SBOM readers that alters either gets a new number, so an old entry's
/// binding is never judged by a newer reader.
pub const COMPONENTS_EXTRACTOR: u32 = 1;

/// One component of an SBOM, as the document gives it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComponentRow {
    /// Its name.
    pub name: String,
    /// Its version, if given.
    pub version: Option<String>,
    /// Its package URL, if given.
    pub purl: Option<String>,
}

/// What an evidence entry binds of its SBOM's components.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComponentsBinding {
    /// How many.
    pub count: u64,
    /// SHA-256 (hex) of [`canonical`] of the components, in order.
    pub sha256: String,
    /// The [`COMPONENTS_EXTRACTOR`] that read them.
    pub extractor: u32,
}

/// The bytes the binding hashes: the components as a JSON array of
/// `[name, version, purl]` triples (`null` where absent), in document order.
pub fn canonical(rows: &[ComponentRow]) -> Vec<u8> {
    let triples: Vec<(&str, Option<&str>, Option<&str>)> = rows
        .iter()
        .map(|r| (r.name.as_str(), r.version.as_deref(), r.purl.as_deref()))
        .collect();
    serde_json::to_vec(&triples).unwrap_or_default()
}

impl ComponentsBinding {
    /// The binding of `rows`.
    pub fn of(rows: &[ComponentRow]) -> Self {
        Self {
            count: rows.len() as u64,
            sha256: Sha256Digest::of(&canonical(rows)).hex(),
            extractor: COMPONENTS_EXTRACTOR,
        }
    }

    /// Whether `rows` are the components bound; `Err` says how they differ.
    pub fn check(&self, rows: &[ComponentRow]) -> Result<(), String> {
        let found = Self::of(rows);
        if found.count == self.count && found.sha256 == self.sha256 {
            return Ok(());
        }
        Err(format!(
            "its {} stored components hash to {}, the entry binds {} ({} components): components were deleted, added or altered",
            found.count, found.sha256, self.sha256, self.count
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, version: Option<&str>) -> ComponentRow {
        ComponentRow {
            name: name.into(),
            version: version.map(str::to_owned),
            purl: version.map(|v| format!("pkg:pypi/{name}@{v}")),
        }
    }

    #[test]
    fn any_change_to_the_rows_breaks_the_binding() {
        let rows = vec![row("requests", Some("2.30.0")), row("idna", None)];
        let b = ComponentsBinding::of(&rows);
        assert_eq!(b.count, 2);
        assert!(b.check(&rows).is_ok());
        let mut altered = rows.clone();
        altered[0].version = Some("2.31.0".into());
        assert!(b.check(&altered).is_err());
        let mut swapped = rows.clone();
        swapped.swap(0, 1);
        assert!(b.check(&swapped).is_err());
        let err = b.check(&rows[..1]).expect_err("one deleted");
        assert!(err.contains("the entry binds"), "{err}");
        // `None` and an empty version are different components.
        let mut empty = rows.clone();
        empty[1].version = Some(String::new());
        assert!(b.check(&empty).is_err());
    }
}
