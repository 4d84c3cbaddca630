//! Key files: unencrypted PKCS#8 PEM private keys, as `openssl genpkey` writes them. The log
//! key is Ed25519; a pipeline signs with Ed25519 or ECDSA (P-256, P-384).

use std::path::Path;

use andon_domain::{PrivateKey, SigningKey};
use anyhow::Context as _;

/// A fresh random signing key.
pub fn generate() -> anyhow::Result<SigningKey> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    Ok(SigningKey::from_seed(seed))
}

/// A key file's PEM text. A key pasted into a CI secret may carry blank lines or CRLF
/// around the PEM.
fn read_pem(path: &Path) -> anyhow::Result<String> {
    let pem = std::fs::read_to_string(path)
        .with_context(|| format!("reading key file {}", path.display()))?;
    Ok(format!("{}\n", pem.trim().replace("\r\n", "\n")))
}

/// Reads an Ed25519 private key file (the log key).
pub fn load(path: &Path) -> anyhow::Result<SigningKey> {
    SigningKey::from_pem(&read_pem(path)?).with_context(|| format!("key file {}", path.display()))
}

/// Reads a pipeline's private key file: Ed25519 or ECDSA.
pub fn load_signer(path: &Path) -> anyhow::Result<PrivateKey> {
    PrivateKey::from_pem(&read_pem(path)?).with_context(|| format!("key file {}", path.display()))
}

/// Writes a private key file readable by its owner only.
pub fn save(path: &Path, key: &SigningKey) -> anyhow::Result<()> {
    save_pem(path, &key.to_pem())
}

/// Writes PEM text to a new file readable by its owner only.
pub fn save_pem(path: &Path, pem: &str) -> anyhow::Result<()> {
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
    f.write_all(pem.as_bytes())?;
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
