//! Deployments and a deployment's trace.

use super::common::*;

/// `GET /ui/deployments`.
pub(crate) async fn deployments(
    State(app): State<App>,
    viewer: Viewer,
    form: Result<Query<AppForm>, QueryRejection>,
) -> Response {
    let r = async {
        let Query(f) = form.map_err(crate::http::query_error)?;
        let (api, rows, next) =
            listed(&app, &viewer, &f, 100, routes::changes::deployments).await?;
        let apps = application_names(&app, &viewer).await?;
        Ok(andon_web::deployments(
            &viewer.shown,
            &rows,
            &f.application,
            &apps,
            &api,
            next.as_deref(),
        ))
    }
    .await;
    page(&viewer, Section::Deployments, r)
}

/// `GET /ui/deployments/{id}`: the trace.
pub(crate) async fn deployment(
    State(app): State<App>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Response {
    let r = async {
        let c = || viewer.caller.clone();
        let st = || State(app.clone());
        let d = answer(routes::changes::deployment(st(), c(), Path(id)).await).await?;
        let decision = match d["decision"].as_str() {
            Some(id) => {
                Some(answer(routes::gates::decision(st(), c(), Path(id.to_owned())).await).await?)
            }
            None => None,
        };
        let change = match d["change"].as_str() {
            Some(id) => {
                Some(answer(routes::changes::show(st(), c(), Path(id.to_owned())).await).await?)
            }
            None => None,
        };
        let digest = d["artifact_digest"].as_str().unwrap_or_default().to_owned();
        let trace = match answer(
            routes::trace::trace(st(), c(), api_query(&query(&[("artifact", &digest)]))).await,
        )
        .await
        {
            Ok(t) => Some(t),
            Err(e) if e.status == StatusCode::NOT_FOUND => None,
            Err(e) => return Err(e),
        };
        Ok(andon_web::deployment(
            &viewer.shown,
            &andon_web::DeploymentTrace {
                deployment: d,
                decision,
                change,
                trace,
            },
        ))
    }
    .await;
    page(&viewer, Section::Deployments, r)
}
