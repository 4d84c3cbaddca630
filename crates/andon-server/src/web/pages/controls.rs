//! The Risk Control Matrix and one control's cases.

use super::common::*;

/// The Risk Control Matrix's API query for a page's form (no application: the
/// organisation's matrix).
fn matrix_query(application: &str, f: &AppForm) -> Result<String, ApiError> {
    let (since, until) = (
        day("since", &f.since, false)?,
        day("until", &f.until, true)?,
    );
    let mut q = vec![
        ("environment", f.environment.as_str()),
        ("since", &since),
        ("until", &until),
    ];
    if !application.is_empty() {
        q.insert(0, ("application", application));
    }
    Ok(query(&q))
}

/// `GET /ui/controls`: the Risk Control Matrix, the organisation's unless an application
/// is chosen.
pub(crate) async fn controls(
    State(app): State<App>,
    viewer: Viewer,
    form: Result<Query<AppForm>, QueryRejection>,
) -> Response {
    let r = async {
        let Query(f) = form.map_err(crate::http::query_error)?;
        let apps = application_names(&app, &viewer).await?;
        let application = f.application.clone();
        let api = matrix_query(&application, &f)?;
        let q = app_query(&api)?;
        let m = andon_app::gates::matrix::matrix_json(
            &andon_app::gates::matrix::controls(&app, &viewer.caller, &q).await?,
        );
        Ok(andon_web::controls(
            &viewer.shown,
            &m,
            &apps,
            &f.since,
            &f.until,
            &api,
        ))
    }
    .await;
    page(&viewer, Section::Controls, r)
}

/// `GET /ui/controls/{id}`: the decisions behind one control's figures.
pub(crate) async fn control_cases(
    State(app): State<App>,
    viewer: Viewer,
    Path(id): Path<String>,
    form: Result<Query<AppForm>, QueryRejection>,
) -> Response {
    let r = async {
        let Query(f) = form.map_err(crate::http::query_error)?;
        let (application, _) = chosen(&app, &viewer, &f.application).await?;
        // The matrix's period and controls, uncounted: the decisions are read once, here.
        let Query(q) =
            api_query(&matrix_query(&application, &f)?).map_err(crate::http::query_error)?;
        let (m, from, to) = andon_app::gates::matrix::uncounted_matrix(&app, &q).await?;
        let environment = m.environment.clone();
        let decisions = app
            .store()
            .decisions_between(&application, Some(&environment), from, to, 100_000)
            .await?;
        // A control of the policy that applies, or one only older policies had, known by
        // the decisions that name it.
        let mut control = m.controls.into_iter().find(|c| c.id == id);
        let mut cases = Vec::new();
        for d in decisions.iter().rev() {
            let Some(doc) = decision_doc(&d.envelope) else {
                continue;
            };
            for c in doc["controls"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|c| c["id"] == id.as_str())
            {
                control.get_or_insert_with(|| {
                    andon_domain::oscal::ControlRow::new(&id, c["title"].as_str().unwrap_or(""))
                });
                let v = c["verdict"].as_str().unwrap_or("error");
                if !f.verdict.is_empty() && v != f.verdict {
                    continue;
                }
                cases.push(ControlCase {
                    decision: d.id.clone(),
                    ledger_index: d.ledger_index,
                    at: doc["input"]["time"].as_str().unwrap_or_default().to_owned(),
                    artifact: d.artifact_digest.clone(),
                    allow: d.allow,
                    verdict: v.to_owned(),
                    reason: c["reason"].as_str().unwrap_or_default().to_owned(),
                    evidence: c["evidence"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|e| e.as_str().map(str::to_owned))
                        .collect(),
                });
            }
            if cases.len() >= 500 {
                break;
            }
        }
        let control = control
            .ok_or_else(|| ApiError::not_found(format!("no control {id} for {application}")))?;
        Ok(andon_web::control_cases(
            &viewer.shown,
            &serde_json::to_value(&control).unwrap_or_default(),
            &application,
            &environment,
            &f.since,
            &f.until,
            &cases,
            &f.verdict,
        ))
    }
    .await;
    page(&viewer, Section::Controls, r)
}
