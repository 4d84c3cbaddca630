//! Signers' keys: the public keys registered to pipeline identities and the private keys
//! pipelines sign with.

mod private;
mod public;

pub use private::{EcdsaKey, KeyAlgorithm, PrivateKey, Signer};
pub use public::{Algorithm, PublicKey};
