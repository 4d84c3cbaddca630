//! Profiles: the server, token and output a person uses most, kept in a TOML file so that
//! they need not be given on every command (`~/.config/andon/config.toml`, or
//! `$XDG_CONFIG_HOME/andon/config.toml`, or the file `ANDON_CONFIG` names):
//!
//! ```toml
//! [default]
//! server = "https://andon.example.com"
//! token = "andon_..."
//! output = "text"
//!
//! [staging]
//! server = "https://andon.staging.example.com"
//! ```
//!
//! `--profile NAME` (`ANDON_PROFILE`) picks a section, `default` when not said. A flag or
//! an environment variable wins over the profile, which wins over the built-in default.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context as _, bail};
use serde::Deserialize;

/// One section of the file.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// The server's URL.
    pub server: Option<String>,
    /// An API token.
    pub token: Option<String>,
    /// `text` or `json`.
    pub output: Option<String>,
    /// When the session `andon login` saved as `token` ends (RFC 3339).
    pub session_expires_at: Option<String>,
}

/// Where the profile file is: `ANDON_CONFIG`, else the XDG configuration directory.
pub fn path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("ANDON_CONFIG") {
        return Some(PathBuf::from(p));
    }
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("andon").join("config.toml"))
}

/// The profile `name` from the file's text.
pub fn parse(text: &str, name: &str, file: &str) -> anyhow::Result<Profile> {
    let all: BTreeMap<String, Profile> =
        toml::from_str(text).with_context(|| format!("{file} is not a valid profile file"))?;
    match all.get(name) {
        Some(p) => Ok(p.clone()),
        None => bail!(
            "{file} has no profile [{name}] (it has: {})",
            if all.is_empty() {
                "none".to_owned()
            } else {
                all.keys().cloned().collect::<Vec<_>>().join(", ")
            }
        ),
    }
}

/// The profile `name` (`None`: `default`, and no file is no profile); a profile asked for
/// by name must exist.
pub fn load(name: Option<&str>) -> anyhow::Result<Profile> {
    let Some(file) = path() else {
        return Ok(Profile::default());
    };
    let text = match std::fs::read_to_string(&file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && name.is_none() => {
            return Ok(Profile::default());
        }
        Err(e) => return Err(e).with_context(|| format!("reading {}", file.display())),
    };
    let profile = parse(
        &text,
        name.unwrap_or("default"),
        &file.display().to_string(),
    )?;
    warn_if_readable(&file, &profile);
    Ok(profile)
}

/// A token in a file others can read is said once on stderr.
fn warn_if_readable(file: &std::path::Path, profile: &Profile) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        if profile.token.is_some()
            && let Ok(m) = std::fs::metadata(file)
            && m.permissions().mode() & 0o077 != 0
        {
            eprintln!(
                "warning: {} holds a token and others may read it (chmod 600 it)",
                file.display()
            );
        }
    }
}

/// Saves a session `andon login` made into profile `name` (the server and the token, with
/// when it ends), keeping the file's other profiles and fields; the file is written
/// readable by its owner only.
pub fn save_session(
    name: &str,
    server: &str,
    token: &str,
    expires_at: &str,
) -> anyhow::Result<PathBuf> {
    let file = path().context("no HOME, XDG_CONFIG_HOME or ANDON_CONFIG to keep the profile in")?;
    let mut all: toml::Table = match std::fs::read_to_string(&file) {
        Ok(t) => toml::from_str(&t)
            .with_context(|| format!("{} is not a valid profile file", file.display()))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => toml::Table::new(),
        Err(e) => return Err(e).with_context(|| format!("reading {}", file.display())),
    };
    let section = all
        .entry(name.to_owned())
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    let toml::Value::Table(section) = section else {
        bail!("{}: [{name}] is not a section", file.display());
    };
    section.insert("server".into(), server.into());
    section.insert("token".into(), token.into());
    section.insert("session_expires_at".into(), expires_at.into());
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let text = toml::to_string(&all).context("writing the profile")?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    use std::io::Write as _;
    options
        .open(&file)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .with_context(|| format!("writing {}", file.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_section_is_read_and_an_unknown_one_named() {
        let text = "[default]\nserver = \"https://a\"\n\n[prod]\nserver = \"https://p\"\ntoken = \"t\"\noutput = \"json\"\n";
        assert_eq!(
            parse(text, "prod", "f").expect("prod"),
            Profile {
                server: Some("https://p".into()),
                token: Some("t".into()),
                output: Some("json".into()),
                session_expires_at: None,
            }
        );
        let e = parse(text, "qa", "f").expect_err("no qa").to_string();
        assert!(
            e.contains("no profile [qa]") && e.contains("default, prod"),
            "{e}"
        );
        let typo = parse("[default]\nsever = \"x\"\n", "default", "f").expect_err("typo");
        assert!(format!("{typo:#}").contains("sever"), "{typo:#}");
    }
}
