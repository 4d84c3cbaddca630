//! Why a policy was refused or could not run.

/// Why a policy was refused or could not run.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PolicyError {
    /// A module does not parse or compile.
    #[error("{module}: {message}")]
    Syntax {
        /// The module path.
        module: String,
        /// The engine's message.
        message: String,
    },
    /// A control lacks required metadata.
    #[error("control package {package}: {message}")]
    Metadata {
        /// The Rego package.
        package: String,
        /// What is missing.
        message: String,
    },
    /// The bundle itself is malformed.
    #[error("bundle: {0}")]
    Bundle(String),
    /// Unit tests of the bundle failed.
    #[error("{failed} of {total} policy tests failed: {names}")]
    Tests {
        /// How many failed.
        failed: usize,
        /// How many ran.
        total: usize,
        /// Which.
        names: String,
    },
}
