//! The Risk Control Matrix: the controls of the policy that applies to an application and
//! environment, each with its risk, framework references and evidence, and its
//! effectiveness over a period (how many of the period's decisions it ran in, and how each
//! came out); and the same matrix as OSCAL 1.2.3 documents.

use andon_domain::AppName;
use andon_domain::gate::Verdict;
use andon_domain::oscal::{ControlMatrix, ControlRow};
use andon_domain::query::gates::{ControlsQuery, OscalQuery};
use serde_json::Value;

use super::decide::decision_doc;
use super::policies::select_policy;
use crate::input::{check_environment, query_time, rfc3339};
use crate::{Actor, App, AppError};

/// The period a matrix covers when the query does not say: 90 days up to its end.
const DEFAULT_PERIOD_MS: i64 = 90 * 86_400_000;

/// An OSCAL document with the name of the file it is offered as.
pub struct OscalFile {
    /// The file name, `<application>-<model>.json`.
    pub name: String,
    /// The OSCAL JSON document.
    pub document: Value,
}

/// The Risk Control Matrix of a query: the controls of the policy that applies, and the
/// verdicts of the period's decisions counted per control; without an application, the
/// organisation's.
pub async fn controls(
    app: &App,
    _actor: &Actor,
    q: &ControlsQuery,
) -> Result<ControlMatrix, AppError> {
    match q.application {
        Some(_) => matrix(app, q).await,
        None => organisation(app, q).await,
    }
}

/// What the organisation's matrix names as its application and policy.
pub const ALL_APPLICATIONS: &str = "";

/// The organisation's matrix: each application's matrix (its own policy, its decisions and
/// deployments in the period), a control's rows added up across them. A control only some
/// applications' policies have counts only their decisions.
async fn organisation(app: &App, q: &ControlsQuery) -> Result<ControlMatrix, AppError> {
    let mut org: Option<ControlMatrix> = None;
    for a in app.store().applications().await? {
        let one = matrix(
            app,
            &ControlsQuery {
                application: Some(a.name),
                ..q.clone()
            },
        )
        .await?;
        let Some(all) = org.as_mut() else {
            org = Some(ControlMatrix {
                application: ALL_APPLICATIONS.into(),
                policy_name: "each application's own".into(),
                policy_version: String::new(),
                ..one
            });
            continue;
        };
        for row in one.controls {
            match all.controls.iter_mut().find(|r| r.id == row.id) {
                Some(r) => r.add(&row),
                None => all.controls.push(row),
            }
        }
    }
    org.ok_or_else(|| AppError::not_found("no applications yet"))
}

/// The matrix as `GET /v1/controls` answers it: the period, the policy and the controls
/// (the organisation's: `application` null).
pub fn matrix_json(m: &ControlMatrix) -> Value {
    serde_json::json!({
        "application": (m.application != ALL_APPLICATIONS).then_some(&m.application),
        "environment": m.environment,
        "policy": {"name": m.policy_name, "version": m.policy_version},
        "since": m.since, "until": m.until, "controls": m.controls,
    })
}

/// The matrix's controls as an OSCAL 1.2.3 component definition.
pub async fn oscal_component_definition(
    app: &App,
    _actor: &Actor,
    q: OscalQuery,
) -> Result<OscalFile, AppError> {
    let m = matrix(app, &q.into()).await?;
    Ok(OscalFile {
        name: format!("{}-component-definition.json", m.application),
        document: andon_domain::oscal::component_definition(&m),
    })
}

/// The matrix's effectiveness over the period as OSCAL 1.2.3 assessment results, naming
/// the component definition they assess by its API address.
pub async fn oscal_assessment_results(
    app: &App,
    _actor: &Actor,
    q: OscalQuery,
) -> Result<OscalFile, AppError> {
    let m = matrix(app, &q.into()).await?;
    let href = format!(
        "/v1/controls/oscal/component-definition?application={}&environment={}",
        m.application, m.environment
    );
    Ok(OscalFile {
        name: format!("{}-assessment-results.json", m.application),
        document: andon_domain::oscal::assessment_results(&m, &href),
    })
}

/// The Risk Control Matrix of a query: the controls of the policy that applies, and the
/// verdicts of the period's decisions counted per control (controls only older policies
/// had still count).
async fn matrix(app: &App, q: &ControlsQuery) -> Result<ControlMatrix, AppError> {
    let (mut m, since, until) = uncounted_matrix(app, q).await?;
    let decisions = app
        .store()
        .decisions_between(&m.application, Some(&m.environment), since, until, 100_000)
        .await?;
    for d in decisions {
        let Ok(doc) = decision_doc(&d.envelope) else {
            continue;
        };
        for c in doc.controls {
            count(&mut m.controls, &c.id, &c.title, c.verdict);
        }
    }
    let (deployments, bypassed) = app
        .store()
        .deployment_counts(&m.application, &m.environment, since, until)
        .await?;
    if let Some(row) = m.controls.iter_mut().find(|r| r.id == GATED_DEPLOYMENT) {
        row.decisions = deployments;
        row.pass = deployments - bypassed;
        row.fail = bypassed;
    }
    Ok(m)
}

/// The matrix's own control: every deployment followed an allowing gate decision. It is
/// not a policy's (a policy judges an artifact before it deploys); the deployment records
/// count it: each deployment of the period is a case, a bypass its failure.
pub const GATED_DEPLOYMENT: &str = "gated-deployment";

/// The row of [`GATED_DEPLOYMENT`], counted at zero.
fn gated_deployment_row() -> ControlRow {
    ControlRow {
        risk: "A change reaches the environment without the gate: none of the controls \
               ran on it, and nobody authorised it."
            .into(),
        stage: "deploy".into(),
        evidence: vec!["deployment records".into(), "gate decisions".into()],
        frameworks: vec![
            "NIST SP 800-53 CM-3".into(),
            "NIST SP 800-53 CM-5".into(),
            "PCI DSS 4.0 6.5.1".into(),
            "SOC 2 CC8.1".into(),
        ],
        ..ControlRow::new(
            GATED_DEPLOYMENT,
            "Deployments follow an allowing gate decision (a bypass fails it)",
        )
    }
}

/// Counts one control's verdict in one decision, adding a row for a control the matrix
/// does not have yet.
fn count(rows: &mut Vec<ControlRow>, id: &str, title: &str, verdict: Verdict) {
    let i = match rows.iter().position(|r| r.id == id) {
        Some(i) => i,
        None => {
            rows.push(ControlRow::new(id, title));
            rows.len() - 1
        }
    };
    let r = &mut rows[i];
    r.decisions += 1;
    match verdict {
        Verdict::Pass => r.pass += 1,
        Verdict::Fail => r.fail += 1,
        Verdict::Missing => r.missing += 1,
        Verdict::Waived => r.waived += 1,
        Verdict::NotApplicable => r.not_applicable += 1,
        Verdict::Error => r.error += 1,
    }
}

/// The Risk Control Matrix of a query before anything is counted: the period (also as
/// Unix ms, `[since, until)`), the environment and the controls of the policy that applies
/// there, each at zero. The web page of one control's cases starts from it and reads the
/// decisions itself, once.
pub async fn uncounted_matrix(
    app: &App,
    q: &ControlsQuery,
) -> Result<(ControlMatrix, i64, i64), AppError> {
    let application: AppName = q
        .application
        .as_deref()
        .ok_or_else(|| {
            AppError::bad_request("invalid_scope", "one control's cases are an application's")
        })?
        .parse()?;
    let environment = q.environment.clone().unwrap_or_else(|| "production".into());
    check_environment(&environment)?;
    let until = query_time("until", &q.until)?.unwrap_or(app.now());
    let since = query_time("since", &q.since)?.unwrap_or(until - DEFAULT_PERIOD_MS);
    let policy = select_policy(app, application.as_str(), &environment).await?;
    let mut rows: Vec<ControlRow> = policy
        .controls()
        .into_iter()
        .map(|c| ControlRow {
            risk: c.risk.clone(),
            stage: c.stage.clone(),
            evidence: c.evidence.clone(),
            frameworks: c.frameworks.clone(),
            ..ControlRow::new(&c.id, &c.title)
        })
        .collect();
    rows.push(gated_deployment_row());
    let m = ControlMatrix {
        application: application.as_str().to_owned(),
        environment,
        policy_name: policy.name.clone(),
        policy_version: policy.version.clone(),
        since: rfc3339(Some(since)).unwrap_or_default(),
        until: rfc3339(Some(until)).unwrap_or_default(),
        controls: rows,
    };
    Ok((m, since, until))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_verdict_counts_in_its_own_column() {
        let mut rows = vec![ControlRow::new("review", "Reviewed")];
        for v in [
            Verdict::Pass,
            Verdict::Pass,
            Verdict::Fail,
            Verdict::Missing,
            Verdict::Waived,
            Verdict::NotApplicable,
            Verdict::Error,
        ] {
            count(&mut rows, "review", "ignored", v);
        }
        let r = &rows[0];
        assert_eq!(rows.len(), 1);
        assert_eq!(r.title, "Reviewed");
        assert_eq!(r.decisions, 7);
        assert_eq!(
            (
                r.pass,
                r.fail,
                r.missing,
                r.waived,
                r.not_applicable,
                r.error
            ),
            (2, 1, 1, 1, 1, 1)
        );
    }

    #[test]
    fn a_control_only_older_policies_had_gets_its_own_row() {
        let mut rows = vec![ControlRow::new("review", "Reviewed")];
        count(&mut rows, "sbom", "Has an SBOM", Verdict::Fail);
        count(&mut rows, "sbom", "Has an SBOM", Verdict::Pass);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].decisions, 0);
        assert_eq!(rows[1].id, "sbom");
        assert_eq!(rows[1].title, "Has an SBOM");
        assert_eq!((rows[1].decisions, rows[1].pass, rows[1].fail), (2, 1, 1));
    }
}
