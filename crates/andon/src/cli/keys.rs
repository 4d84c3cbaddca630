//! Key files: PKCS#8 PEM private keys, as `openssl genpkey -algorithm ed25519` writes them.

use std::path::Path;

use andon_domain::SigningKey;
use anyhow::Context as _;

/// A fresh random signing key.
pub fn generate() -> anyhow::Result<SigningKey> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    Ok(SigningKey::from_seed(seed))
}

/// Reads a private key file.
pub fn load(path: &Path) -> anyhow::Result<SigningKey> {
    let pem = std::fs::read_to_string(path)
        .with_context(|| format!("reading key file {}", path.display()))?;
    // A key pasted into a CI secret may carry blank lines or CRLF around the PEM.
    let pem = format!("{}\n", pem.trim().replace("\r\n", "\n"));
    SigningKey::from_pem(&pem).with_context(|| format!("key file {}", path.display()))
}

/// Writes a private key file readable by its owner only.
pub fn save(path: &Path, key: &SigningKey) -> anyhow::Result<()> {
    use std::io::Write as _;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    opts.mode(0o600);
    let mut f = opts
        .open(path)
        .with_context(|| format!("creating key file {}", path.display()))?;
    f.write_all(key.to_pem().as_bytes())?;
    Ok(())
}

/// The seed of the server's log key, created on first start.
pub fn log_seed(path: &Path) -> anyhow::Result<[u8; 32]> {
    let key = if path.exists() {
        load(path)?
    } else {
        let k = generate()?;
        save(path, &k)?;
        k
    };
    // The seed is recovered by signing nothing: re-derive from PEM through the domain type.
    Ok(key.seed())
}
