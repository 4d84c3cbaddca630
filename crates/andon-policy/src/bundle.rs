//! Bundles: a policy set as published (modules, scope, parameters), the built-in control
//! library it may include, and its version.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The key of the change rules' parameters in a bundle's `params` (docs/changes.md).
pub const CHANGE_PARAMS: &str = "change";

/// The built-in control library: (module path, Rego source).
pub const BUILTIN: &[(&str, &str)] = &[
    ("builtin/lib.rego", include_str!("builtin/lib.rego")),
    (
        "builtin/peer_review.rego",
        include_str!("builtin/peer_review.rego"),
    ),
    (
        "builtin/pipeline_reviewed.rego",
        include_str!("builtin/pipeline_reviewed.rego"),
    ),
    (
        "builtin/tests_pass.rego",
        include_str!("builtin/tests_pass.rego"),
    ),
    (
        "builtin/coverage.rego",
        include_str!("builtin/coverage.rego"),
    ),
    (
        "builtin/static_analysis.rego",
        include_str!("builtin/static_analysis.rego"),
    ),
    ("builtin/sbom.rego", include_str!("builtin/sbom.rego")),
    (
        "builtin/vulnerabilities.rego",
        include_str!("builtin/vulnerabilities.rego"),
    ),
    (
        "builtin/no_secrets.rego",
        include_str!("builtin/no_secrets.rego"),
    ),
    (
        "builtin/dynamic_scan.rego",
        include_str!("builtin/dynamic_scan.rego"),
    ),
    (
        "builtin/hardening.rego",
        include_str!("builtin/hardening.rego"),
    ),
    (
        "builtin/drill_recent.rego",
        include_str!("builtin/drill_recent.rego"),
    ),
    (
        "builtin/provenance.rego",
        include_str!("builtin/provenance.rego"),
    ),
    (
        "builtin/tested_before_production.rego",
        include_str!("builtin/tested_before_production.rego"),
    ),
    (
        "builtin/change_approval.rego",
        include_str!("builtin/change_approval.rego"),
    ),
    ("builtin/change.rego", include_str!("builtin/change.rego")),
];

fn yes() -> bool {
    true
}

/// A policy set as published: modules, scope and parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Bundle {
    /// A name people recognise (`payments-production`).
    pub name: String,
    /// The applications it applies to; empty for all.
    #[serde(default)]
    pub applications: Vec<String>,
    /// The environments it applies to; empty for all.
    #[serde(default)]
    pub environments: Vec<String>,
    /// Include the built-in control library (resolved into `modules` on publication).
    #[serde(default = "yes")]
    pub builtin: bool,
    /// Control ids not evaluated.
    #[serde(default)]
    pub disabled: Vec<String>,
    /// Parameters per control id, overriding each control's defaults.
    #[serde(default)]
    pub params: BTreeMap<String, Value>,
    /// Rego modules by path.
    #[serde(default)]
    pub modules: BTreeMap<String, String>,
}

impl Bundle {
    /// The built-in library with its default parameters, for every application and
    /// environment.
    pub fn builtin_default() -> Self {
        Self {
            name: "builtin".into(),
            applications: Vec::new(),
            environments: Vec::new(),
            builtin: true,
            disabled: Vec::new(),
            params: BTreeMap::new(),
            modules: BTreeMap::new(),
        }
    }

    /// The bundle with the built-in modules copied in (a module of the same path in the
    /// bundle wins), so that it is self-contained: its text alone reproduces a decision.
    pub fn resolved(mut self) -> Self {
        if self.builtin {
            for (path, text) in BUILTIN {
                self.modules
                    .entry((*path).to_owned())
                    .or_insert_with(|| (*text).to_owned());
            }
            self.builtin = false;
        }
        self
    }

    /// The canonical bytes of the bundle (maps are ordered).
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Whether it applies to an application and environment, and how specifically: see
    /// [`specificity`].
    pub fn specificity(&self, application: &str, environment: &str) -> Option<u8> {
        specificity(
            &self.applications,
            &self.environments,
            application,
            environment,
        )
    }
}

/// Whether a scope (applications, environments; empty for all) covers an application and
/// environment, and how specifically: 2 for a named application, plus 1 for a named
/// environment.
pub fn specificity(
    applications: &[String],
    environments: &[String],
    application: &str,
    environment: &str,
) -> Option<u8> {
    let app = applications.is_empty() || applications.iter().any(|a| a == application);
    let env = environments.is_empty() || environments.iter().any(|e| e == environment);
    (app && env)
        .then(|| 2 * u8::from(!applications.is_empty()) + u8::from(!environments.is_empty()))
}

/// The version of a bundle's bytes: SHA-256, hex.
pub fn version_of(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}
