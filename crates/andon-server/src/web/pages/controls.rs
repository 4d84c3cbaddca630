//! The Risk Control Matrix and one control's cases.

use super::common::*;

/// The Risk Control Matrix's API query for a page's form.
fn matrix_query(application: &str, f: &AppForm) -> Result<String, ApiError> {
    Ok(query(&[
        ("application", application),
        ("environment", &f.environment),
        ("since", &day("since", &f.since, false)?),
        ("until", &day("until", &f.until, true)?),
    ]))
}

/// `GET /ui/controls`: the Risk Control Matrix.
pub(crate) async fn controls(
    State(app): State<App>,
    viewer: Viewer,
    form: Result<Query<AppForm>, QueryRejection>,
) -> Response {
    let r = async {
        let Query(f) = form.map_err(crate::http::query_error)?;
        let (application, apps) = chosen(&app, &viewer, &f.application).await?;
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
