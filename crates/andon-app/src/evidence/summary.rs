//! What Andon derives from a typed statement: the summary recorded with the evidence, the
//! commits it names, and the source-control facts a review attestation carries. The
//! parsers are `andon_evidence`'s; a typed report that does not parse is refused.

use andon_domain::scm::{
    PIPELINE_DEFINITION_PREDICATE_V1, REVIEW_PREDICATE_V1, SourceFacts, normalize_sha,
};
use andon_domain::{ReportPredicate, Statement, report_kind};
use andon_evidence::tickets::TicketPatterns;
use andon_evidence::{provenance, review};

use crate::{AppError, ErrorKind};

/// The predicate type cosign and others use for a CycloneDX document as the predicate.
pub(crate) const CYCLONEDX_PREDICATE: &str = "https://cyclonedx.org/bom";
/// The predicate type for an SPDX document as the predicate.
pub(crate) const SPDX_PREDICATE: &str = "https://spdx.dev/Document";

/// What Andon derives from a typed statement.
#[derive(Default)]
pub(crate) struct Derived {
    /// The summary recorded with the evidence.
    pub(crate) summary: Option<serde_json::Value>,
    /// Commits the evidence names, for traceability.
    pub(crate) commits: Vec<String>,
    /// Source-control facts (review attestations).
    pub(crate) scm: Option<SourceFacts>,
    /// The uploaded report the predicate names (its bytes were read from the store).
    pub(crate) report: Option<andon_domain::StoredReport>,
    /// An SBOM's components, bound and indexed.
    pub(crate) components: Option<(
        andon_domain::components::ComponentsBinding,
        Vec<andon_store::SbomComponent>,
    )>,
}

fn with_kind<T: serde::Serialize>(kind: &str, s: &T) -> Result<serde_json::Value, AppError> {
    let mut v = serde_json::to_value(s).map_err(|e| unparseable(e.to_string()))?;
    v["kind"] = kind.into();
    Ok(v)
}

/// A typed report that does not parse (422 `unparseable_report`).
fn unparseable(m: String) -> AppError {
    AppError::new(ErrorKind::UnprocessableEntity, "unparseable_report", m)
}

/// Refuses a document that breaks its format's schema (422 `schema_invalid`, naming the
/// first failing paths), unless the application's evidence policy is lenient: then the
/// errors stay in the summary, for controls to read.
pub(crate) fn check_schema(
    summary: Option<&serde_json::Value>,
    mode: andon_domain::api::SchemaValidation,
) -> Result<(), AppError> {
    let Some(report) = summary.and_then(|s| s.get("schema")) else {
        return Ok(());
    };
    if report["valid"] == true || mode == andon_domain::api::SchemaValidation::Lenient {
        return Ok(());
    }
    let errors = report["errors"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let listed: Vec<String> = errors
        .iter()
        .take(3)
        .map(|e| {
            let path = e["path"].as_str().filter(|p| !p.is_empty()).unwrap_or("/");
            format!("{path}: {}", e["message"].as_str().unwrap_or(""))
        })
        .collect();
    let count = report["error_count"]
        .as_u64()
        .unwrap_or(errors.len() as u64);
    let more = count.saturating_sub(listed.len() as u64);
    Err(AppError::new(
        ErrorKind::UnprocessableEntity,
        "schema_invalid",
        format!(
            "the document breaks the {} schema: {}{}; the application's evidence policy is strict (an admin can make it lenient to record such documents with their errors)",
            report["schema"].as_str().unwrap_or("format's"),
            listed.join("; "),
            if more > 0 {
                format!("; and {more} more")
            } else {
                String::new()
            },
        ),
    ))
}

/// Derives the summary of a typed report from the report itself. A typed predicate whose
/// report does not parse is refused (422), naming the line where the parser can.
/// `uploaded`: the bytes of the uploaded report the predicate names, read and checked by
/// the caller (an inline report is decoded here).
pub(crate) fn derive(
    statement: &Statement,
    tickets: &TicketPatterns,
    uploaded: Option<(andon_domain::StoredReport, Vec<u8>)>,
) -> Result<Derived, AppError> {
    let pt = statement.predicate_type.as_str();
    let p = &statement.predicate;
    if pt == provenance::SLSA_V1 || pt == provenance::SLSA_V02 {
        let s = provenance::parse(pt, p).map_err(|e| unparseable(e.to_string()))?;
        let commits = s
            .source_commit
            .iter()
            .filter_map(|c| normalize_sha(c))
            .collect();
        return Ok(Derived {
            summary: Some(with_kind("provenance", &s)?),
            commits,
            scm: None,
            report: None,
            components: None,
        });
    }
    // SBOMs attested the way cosign does it: the predicate is the document itself.
    if pt == CYCLONEDX_PREDICATE || pt == SPDX_PREDICATE {
        let s = if pt == CYCLONEDX_PREDICATE {
            andon_evidence::sbom::cyclonedx_json(p)
        } else {
            andon_evidence::sbom::spdx_json(p)
        }
        .map_err(|e| unparseable(e.to_string()))?;
        let mut summary = with_kind("sbom", &s.summary)?;
        if let Some(report) = andon_evidence::schema::validate_json(p) {
            summary["schema"] =
                serde_json::to_value(report).map_err(|e| unparseable(e.to_string()))?;
        }
        return Ok(Derived {
            summary: Some(summary),
            components: Some(crate::vulns::components::bind(s.components)),
            ..Default::default()
        });
    }
    if pt == REVIEW_PREDICATE_V1 {
        let mut facts = review::parse_review(p).map_err(|e| unparseable(e.to_string()))?;
        tickets.link(&mut facts);
        return Ok(Derived {
            summary: Some(with_kind("review", &facts)?),
            commits: Vec::new(),
            scm: Some(facts),
            report: None,
            components: None,
        });
    }
    if pt == PIPELINE_DEFINITION_PREDICATE_V1 {
        let bytes = ReportPredicate::decode(p).map_err(|e| unparseable(e.to_string()))?;
        let s =
            review::parse_pipeline_definition(p, &bytes).map_err(|e| unparseable(e.to_string()))?;
        return Ok(Derived {
            commits: s.commit.iter().cloned().collect(),
            summary: Some(with_kind("pipeline-definition", &s)?),
            scm: None,
            report: None,
            components: None,
        });
    }
    let Some(kind) = report_kind(pt) else {
        return Ok(Derived::default());
    };
    let (report, bytes) = match uploaded {
        Some((stored, bytes)) => (Some(stored), bytes),
        None => (
            None,
            ReportPredicate::decode(p).map_err(|e| unparseable(e.to_string()))?,
        ),
    };
    match andon_evidence::summarize_full(kind, &bytes) {
        Some(Ok((v, components))) => Ok(Derived {
            summary: Some(v),
            report,
            components: components.map(crate::vulns::components::bind),
            ..Default::default()
        }),
        Some(Err(e)) => Err(unparseable(e.to_string())),
        None => Ok(Derived {
            report,
            ..Default::default()
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statement(predicate_type: &str, predicate: serde_json::Value) -> Statement {
        Statement::new(
            vec![("app".into(), andon_domain::Sha256Digest::of(b"app"))],
            predicate_type.into(),
            predicate,
        )
    }

    #[test]
    fn an_untyped_predicate_derives_nothing() {
        let d = derive(
            &statement("https://example.com/anything", serde_json::json!({"x": 1})),
            &TicketPatterns::default(),
            None,
        )
        .expect("untyped predicates are accepted as they are");
        assert!(d.summary.is_none() && d.commits.is_empty() && d.scm.is_none());
    }

    #[test]
    fn a_typed_predicate_that_does_not_parse_is_unprocessable() {
        for pt in [
            provenance::SLSA_V1,
            CYCLONEDX_PREDICATE,
            REVIEW_PREDICATE_V1,
        ] {
            let Err(e) = derive(
                &statement(pt, serde_json::json!("not a report")),
                &TicketPatterns::default(),
                None,
            ) else {
                panic!("{pt}: a string is not a report");
            };
            assert_eq!(e.kind, ErrorKind::UnprocessableEntity, "{pt}");
            assert_eq!(e.code, "unparseable_report", "{pt}");
        }
    }

    #[test]
    fn provenance_names_its_source_commit_with_the_summary() {
        let sha = "A1B2C3D4E5F60718293A4B5C6D7E8F9012345678";
        let d = derive(
            &statement(
                provenance::SLSA_V1,
                serde_json::json!({
                    "buildDefinition": {
                        "buildType": "https://example.com/build",
                        "resolvedDependencies": [
                            {"uri": "git+https://example.com/repo@refs/heads/main",
                             "digest": {"gitCommit": sha}}
                        ]
                    },
                    "runDetails": {"builder": {"id": "https://example.com/builder"}}
                }),
            ),
            &TicketPatterns::default(),
            None,
        )
        .expect("a complete provenance parses");
        assert_eq!(d.commits, vec![normalize_sha(sha).expect("hex")]);
        assert_eq!(d.summary.expect("a summary")["kind"], "provenance");
        assert!(d.scm.is_none());
    }
}
