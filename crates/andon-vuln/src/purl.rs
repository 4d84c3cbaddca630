//! Package identities: a package URL (purl) reduced to the key Andon matches on (type,
//! namespace, name), and the same key for an OSV package named by ecosystem and name.
//! Parsing and each type's case rules are the `packageurl` crate's; PyPI names are also
//! normalized as PEP 503 says (runs of `-`, `_` and `.` are one `-`).

use std::str::FromStr;

use packageurl::PackageUrl;

use crate::versions::Scheme;

/// What a package is matched by.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PackageKey {
    /// The purl type (`npm`, `pypi`, `deb`, …).
    pub ty: String,
    /// The namespace, or empty.
    pub namespace: String,
    /// The name.
    pub name: String,
}

/// A package URL as matching needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Purl {
    /// The package.
    pub key: PackageKey,
    /// The version, if the purl names one.
    pub version: Option<String>,
    /// The distribution release (`12`, `22.04`) of a `deb` purl's `distro` qualifier.
    pub release: Option<String>,
}

/// A string that is not a package URL.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{purl:?} is not a package URL: {why}")]
pub struct PurlError {
    /// The string, cut to 256 characters.
    pub purl: String,
    /// Why not.
    pub why: String,
}

/// Parses a package URL.
pub fn parse(s: &str) -> Result<Purl, PurlError> {
    let err = |why: String| PurlError {
        purl: s.chars().take(256).collect(),
        why,
    };
    let p = PackageUrl::from_str(s).map_err(|e| err(e.to_string()))?;
    let key = key(p.ty(), p.namespace().unwrap_or(""), p.name());
    let release = p
        .qualifiers()
        .iter()
        .find(|(k, _)| k.as_ref() == "distro")
        .and_then(|(_, v)| distro_release(v));
    Ok(Purl {
        key,
        version: p.version().map(str::to_owned),
        release,
    })
}

impl PackageKey {
    /// The purl of this package, without version or qualifiers.
    pub fn purl(&self) -> String {
        let mut p = match PackageUrl::new(self.ty.as_str(), self.name.as_str()) {
            Ok(p) => p,
            Err(_) => return format!("pkg:{}/{}", self.ty, self.name),
        };
        if !self.namespace.is_empty() && p.with_namespace(self.namespace.as_str()).is_err() {
            return format!("pkg:{}/{}/{}", self.ty, self.namespace, self.name);
        }
        p.to_string()
    }
}

/// The key, with the case rules matching needs beyond the purl's own: PyPI names by PEP 503,
/// npm scopes in lower case (the registry refuses upper case in new names).
fn key(ty: &str, namespace: &str, name: &str) -> PackageKey {
    let name = if ty == "pypi" {
        pep503(name)
    } else {
        name.to_owned()
    };
    let namespace = if ty == "npm" {
        namespace.to_lowercase()
    } else {
        namespace.to_owned()
    };
    PackageKey {
        ty: ty.to_owned(),
        namespace,
        name,
    }
}

/// PEP 503's normalized project name.
fn pep503(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut sep = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            sep = true;
            continue;
        }
        if sep && !out.is_empty() {
            out.push('-');
        }
        sep = false;
        out.extend(c.to_lowercase());
    }
    out
}

/// An OSV ecosystem: the purl type it names, its release (`Debian:12` is Debian 12) and the
/// ordering its versions follow, if Andon has one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ecosystem {
    /// The purl type.
    pub ty: &'static str,
    /// The namespace every package of it has (`debian`, `alpine`), or empty.
    pub namespace: &'static str,
    /// The release after the first `:`, if any.
    pub release: Option<String>,
    /// The version ordering.
    pub scheme: Option<Scheme>,
}

/// Reads an OSV ecosystem name; `None` for one Andon does not know.
pub fn ecosystem(name: &str) -> Option<Ecosystem> {
    let (base, release) = match name.split_once(':') {
        Some((b, r)) => (b, Some(r)),
        None => (name, None),
    };
    let (ty, namespace, scheme) = match base {
        "npm" => ("npm", "", Some(Scheme::SemVer)),
        "Go" => ("golang", "", Some(Scheme::SemVer)),
        "crates.io" => ("cargo", "", Some(Scheme::SemVer)),
        "Hex" => ("hex", "", Some(Scheme::SemVer)),
        "Pub" => ("pub", "", Some(Scheme::SemVer)),
        "PyPI" => ("pypi", "", Some(Scheme::Pep440)),
        "Debian" => ("deb", "debian", Some(Scheme::Debian)),
        "Ubuntu" => ("deb", "ubuntu", Some(Scheme::Debian)),
        "Maven" => ("maven", "", None),
        "RubyGems" => ("gem", "", None),
        "NuGet" => ("nuget", "", None),
        "Packagist" => ("composer", "", None),
        "Alpine" => ("apk", "alpine", None),
        "Hackage" => ("hackage", "", None),
        "CRAN" => ("cran", "", None),
        "SwiftURL" => ("swift", "", None),
        _ => return None,
    };
    let release = release.map(|r| match base {
        // "Ubuntu:22.04:LTS", "Ubuntu:Pro:18.04:LTS": the release is the numbered part.
        "Ubuntu" => r
            .split(':')
            .find(|p| p.starts_with(|c: char| c.is_ascii_digit()))
            .unwrap_or(r)
            .to_owned(),
        "Alpine" => r.trim_start_matches('v').to_owned(),
        _ => r.to_owned(),
    });
    Some(Ecosystem {
        ty,
        namespace,
        release,
        scheme,
    })
}

impl Ecosystem {
    /// The key of a package of this ecosystem named as OSV names it (`@scope/name` for npm,
    /// `group:artifact` for Maven, `vendor/name` for Packagist, a module path for Go).
    pub fn key(&self, name: &str) -> PackageKey {
        let (namespace, name) = match self.ty {
            "maven" => name.split_once(':').unwrap_or(("", name)),
            "npm" | "composer" | "golang" | "swift" => name.rsplit_once('/').unwrap_or(("", name)),
            _ => (self.namespace, name),
        };
        let lower = matches!(self.ty, "npm" | "composer" | "deb" | "hex");
        let name = if lower {
            name.to_lowercase()
        } else {
            name.to_owned()
        };
        let namespace = if matches!(
            self.ty,
            "npm" | "composer" | "golang" | "deb" | "apk" | "hex"
        ) {
            namespace.to_lowercase()
        } else {
            namespace.to_owned()
        };
        key(self.ty, &namespace, &name)
    }
}

/// The version ordering of a purl type's versions, where Andon has one.
pub fn scheme_of_type(ty: &str) -> Option<Scheme> {
    match ty {
        "npm" | "golang" | "cargo" | "hex" | "pub" => Some(Scheme::SemVer),
        "pypi" => Some(Scheme::Pep440),
        "deb" => Some(Scheme::Debian),
        _ => None,
    }
}

/// Whether two versions of a package of type `ty` are the same version: equal in the type's
/// ordering (`1.0` and `1.0.0` in PyPI), or equal as text where the type has none or either
/// does not read.
pub fn same_version(ty: &str, a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    let Some(scheme) = scheme_of_type(ty) else {
        return false;
    };
    match (scheme.parse(a), scheme.parse(b)) {
        (Ok(x), Ok(y)) => x.cmp_same(&y) == std::cmp::Ordering::Equal,
        _ => false,
    }
}

/// The release a `distro` qualifier names: `debian-12`, `bookworm`, `ubuntu-22.04`, `jammy`.
fn distro_release(distro: &str) -> Option<String> {
    let d = distro.to_ascii_lowercase();
    let d = d
        .strip_prefix("debian-")
        .or_else(|| d.strip_prefix("ubuntu-"))
        .unwrap_or(&d);
    let named = match d {
        "buster" => "10",
        "bullseye" => "11",
        "bookworm" => "12",
        "trixie" => "13",
        "forky" => "14",
        "bionic" => "18.04",
        "focal" => "20.04",
        "jammy" => "22.04",
        "noble" => "24.04",
        other => other,
    };
    (!named.is_empty()).then(|| named.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pep503_names() {
        assert_eq!(pep503("Friendly_Bard"), "friendly-bard");
        assert_eq!(pep503("friendly.-bard"), "friendly-bard");
        assert_eq!(pep503("FRIENDLY-BARD"), "friendly-bard");
    }

    #[test]
    fn distro_names() {
        assert_eq!(distro_release("debian-12").as_deref(), Some("12"));
        assert_eq!(distro_release("bookworm").as_deref(), Some("12"));
        assert_eq!(distro_release("jammy").as_deref(), Some("22.04"));
    }
}
