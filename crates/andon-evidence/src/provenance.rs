//! SLSA provenance predicates, v1 and v0.2: who built it, how, from which source commit,
//! with which resolved dependencies. The predicate is JSON already; nothing is embedded.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ParseError;

/// SLSA provenance v1.
pub const SLSA_V1: &str = "https://slsa.dev/provenance/v1";
/// SLSA provenance v0.2.
pub const SLSA_V02: &str = "https://slsa.dev/provenance/v0.2";

/// What a provenance predicate says about a build.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ProvenanceSummary {
    /// `v1` or `v0.2`.
    pub slsa_version: String,
    /// The builder's id (who ran the build).
    pub builder_id: String,
    /// The build type URI (how).
    pub build_type: String,
    /// The source repository, when the provenance names one.
    pub source_repository: Option<String>,
    /// The source commit (a git commit digest), when the provenance names one.
    pub source_commit: Option<String>,
    /// The source ref (branch or tag), when given.
    pub source_ref: Option<String>,
    /// How many resolved dependencies (v1) or materials (v0.2) it lists.
    pub resolved_dependencies: u64,
    /// The build's invocation id (a CI run URL, usually).
    pub invocation_id: Option<String>,
}

fn s(v: &Value, ptr: &str) -> Option<String> {
    v.pointer(ptr).and_then(Value::as_str).map(str::to_owned)
}

fn malformed(message: String) -> ParseError {
    ParseError::Malformed {
        format: "SLSA provenance",
        line: 0,
        message,
    }
}

/// `git+https://github.com/o/r@refs/heads/main` -> (`https://github.com/o/r`, `refs/heads/main`).
fn split_git_uri(uri: &str) -> (String, Option<String>) {
    let uri = uri.strip_prefix("git+").unwrap_or(uri);
    // Only an '@' after the host's path starts is a ref separator (not `ssh://git@host/...`).
    let path_start = uri.find("://").map_or(0, |i| i + 3);
    let path_start = uri[path_start..]
        .find('/')
        .map_or(uri.len(), |i| path_start + i);
    match uri[path_start..].rfind('@') {
        Some(i) => (
            uri[..path_start + i].to_owned(),
            Some(uri[path_start + i + 1..].to_owned()),
        ),
        None => (uri.to_owned(), None),
    }
}

/// Summarizes a provenance predicate of `predicate_type`.
pub fn parse(predicate_type: &str, p: &Value) -> Result<ProvenanceSummary, ParseError> {
    if !p.is_object() {
        return Err(malformed("the predicate is not an object".into()));
    }
    let mut out = ProvenanceSummary::default();
    match predicate_type {
        SLSA_V1 => {
            out.slsa_version = "v1".into();
            out.builder_id = s(p, "/runDetails/builder/id")
                .ok_or_else(|| malformed("runDetails.builder.id is missing".into()))?;
            out.build_type = s(p, "/buildDefinition/buildType")
                .ok_or_else(|| malformed("buildDefinition.buildType is missing".into()))?;
            out.invocation_id = s(p, "/runDetails/metadata/invocationId");
            let deps = p
                .pointer("/buildDefinition/resolvedDependencies")
                .and_then(Value::as_array);
            out.resolved_dependencies = deps.map_or(0, |d| d.len() as u64);
            // The source is the resolved dependency that carries a git commit.
            if let Some(src) =
                deps.and_then(|d| d.iter().find(|r| r.pointer("/digest/gitCommit").is_some()))
            {
                out.source_commit = s(src, "/digest/gitCommit");
                if let Some(uri) = s(src, "/uri") {
                    let (repo, r) = split_git_uri(&uri);
                    out.source_repository = Some(repo);
                    out.source_ref = r;
                }
            }
            if out.source_repository.is_none() {
                out.source_repository =
                    s(p, "/buildDefinition/externalParameters/workflow/repository");
            }
            if out.source_ref.is_none() {
                out.source_ref = s(p, "/buildDefinition/externalParameters/workflow/ref");
            }
        }
        SLSA_V02 => {
            out.slsa_version = "v0.2".into();
            out.builder_id =
                s(p, "/builder/id").ok_or_else(|| malformed("builder.id is missing".into()))?;
            out.build_type =
                s(p, "/buildType").ok_or_else(|| malformed("buildType is missing".into()))?;
            out.invocation_id = s(p, "/metadata/buildInvocationId");
            out.resolved_dependencies = p
                .get("materials")
                .and_then(Value::as_array)
                .map_or(0, |m| m.len() as u64);
            if let Some(uri) = s(p, "/invocation/configSource/uri") {
                let (repo, r) = split_git_uri(&uri);
                out.source_repository = Some(repo);
                out.source_ref = r;
            }
            out.source_commit = s(p, "/invocation/configSource/digest/sha1")
                .or_else(|| s(p, "/invocation/configSource/digest/gitCommit"));
        }
        other => {
            return Err(malformed(format!(
                "{other:?} is not an SLSA provenance predicate type"
            )));
        }
    }
    Ok(out)
}
