//! `andon bench bundles`: keyless Sigstore bundles verified per second on one core, as
//! intake verifies them (the bundle parsed, its certificate chain, SCT, transparency-log entry
//! and DSSE signature checked) with the trusted root parsed once, beside the raw ECDSA
//! verification rates measured in the same run through the same cryptography (aws-lc-rs, the
//! verifier's backend). A public-good bundle costs one P-384 verification (the certificate's,
//! by Fulcio's intermediate) and four P-256 ones (the SCT, the checkpoint, the signed entry
//! timestamp, the DSSE signature): those rates bound what any verifier can reach here.

use std::process::ExitCode;
use std::time::Instant;

use andon_domain::sigstore::{TrustedRoot, backend_verify, verify_bundle};
use andon_domain::{Envelope, KeyAlgorithm, PrivateKey, PublicKey, Signer, Statement};

use crate::cli::output::{Output, emit};
use crate::fixtures::sigstore::{GITHUB_SLSA, PUBLIC_GOOD, PUBLISH};

/// Flags of `andon bench bundles`.
#[derive(clap::Args, Debug)]
pub struct BundlesBenchArgs {
    /// Bundle verifications to time.
    #[arg(long, default_value_t = 3000)]
    pub bundles: usize,
}

const P384_PUB: &str = include_str!("../../../andon-domain/tests/fixtures/keys/p384.pub");
const P384_SIG: &[u8] = include_bytes!("../../../andon-domain/tests/fixtures/keys/p384.sig");
const MESSAGE: &[u8] = include_bytes!("../../../andon-domain/tests/fixtures/keys/message.bin");

fn per_second(n: usize, f: impl Fn()) -> f64 {
    let t = Instant::now();
    for _ in 0..n {
        f();
    }
    n as f64 / t.elapsed().as_secs_f64()
}

/// The first subject digest of a bundle's statement, as intake binds it.
fn subject(bundle: &[u8]) -> anyhow::Result<String> {
    let env = Envelope::parse(bundle)?;
    let st = Statement::parse(&env.payload_type, &env.payload)?;
    let (_, digest) = st
        .subject_digests()
        .into_iter()
        .next()
        .ok_or_else(|| anyhow::anyhow!("no subject"))?;
    Ok(digest.hex())
}

/// Runs `andon bench bundles`.
pub fn run(b: &BundlesBenchArgs, out: Output) -> anyhow::Result<ExitCode> {
    let t = Instant::now();
    let root = TrustedRoot::parse("public-good", PUBLIC_GOOD)?;
    let root_parse_ms = t.elapsed().as_secs_f64() * 1e3;
    let roots = [root];
    let bundles: Vec<(&[u8], String)> = std::iter::once(GITHUB_SLSA)
        .chain(PUBLISH)
        .map(|bundle| Ok((bundle, subject(bundle)?)))
        .collect::<anyhow::Result<_>>()?;
    // Warm up, and prove each verifies before timing it.
    for (bundle, digest) in &bundles {
        verify_bundle(bundle, ("sha256", digest), &roots)?;
    }
    let t = Instant::now();
    for i in 0..b.bundles {
        let (bundle, digest) = &bundles[i % bundles.len()];
        verify_bundle(bundle, ("sha256", digest), &roots)?;
    }
    let rate = b.bundles as f64 / t.elapsed().as_secs_f64();

    let p256 = PrivateKey::generate(KeyAlgorithm::EcdsaP256)?;
    let (p256_pub, p256_sig) = (p256.public_key(), p256.sign_message(MESSAGE));
    let p384_pub = PublicKey::parse(P384_PUB)?;
    for (key, sig) in [(&p256_pub, p256_sig.as_slice()), (&p384_pub, P384_SIG)] {
        anyhow::ensure!(
            backend_verify(key.spki_der(), MESSAGE, sig),
            "the {} signature verifies",
            key.algorithm()
        );
    }
    let n = 5_000;
    let r256 = per_second(n, || {
        assert!(backend_verify(p256_pub.spki_der(), MESSAGE, &p256_sig));
    });
    let r384 = per_second(n, || {
        assert!(backend_verify(p384_pub.spki_der(), MESSAGE, P384_SIG));
    });
    let floor = 1.0 / (1.0 / r384 + 4.0 / r256);
    let report = serde_json::json!({
        "bundles": b.bundles,
        "distinct_bundles": bundles.len(),
        "trusted_root_parse_ms": root_parse_ms,
        "bundles_per_second_one_core": rate,
        "raw_p256_verifications_per_second": r256,
        "raw_p384_verifications_per_second": r384,
        "signature_floor_bundles_per_second": floor,
        "ratio_to_signature_floor": rate / floor,
    });
    emit(out, &report, |r| {
        println!(
            "{} verifications of {} real public-good bundles, one core: {:.0} bundles/s (trusted root parsed once, in {:.1} ms)",
            r["bundles"], r["distinct_bundles"], rate, root_parse_ms
        );
        println!(
            "raw verification in the same run: ECDSA P-256 {r256:.0}/s, P-384 {r384:.0}/s; the signatures alone (one P-384, four P-256 per bundle) allow {floor:.0} bundles/s; ratio {:.2}",
            rate / floor
        );
    })?;
    Ok(ExitCode::SUCCESS)
}
