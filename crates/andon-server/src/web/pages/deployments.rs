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
        let (api, rows, next, sorting) =
            listed(&app, &viewer, &f, 100, Listing::Deployments).await?;
        let apps = application_names(&app, &viewer).await?;
        Ok(andon_web::deployments(
            &viewer.shown,
            &rows,
            (&f.application, &apps),
            &sorting,
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
        let a = &viewer.caller;
        let d = json(andon_app::changes::list::deployment(&app, a, &id).await?)?;
        let decision = match d["decision"].as_str() {
            Some(id) => Some(json(
                andon_app::gates::decide::decision(&app, a, id).await?,
            )?),
            None => None,
        };
        let change = match d["change"].as_str() {
            Some(id) => Some(json(andon_app::changes::list::show(&app, a, id).await?)?),
            None => None,
        };
        let digest = d["artifact_digest"].as_str().unwrap_or_default().to_owned();
        let tq = app_query(&query(&[("artifact", &digest)]))?;
        let trace = match andon_app::trace::trace(&app, a, tq).await {
            Ok(t) => Some(json(t)?),
            Err(e) if e.kind == andon_app::ErrorKind::NotFound => None,
            Err(e) => return Err(e.into()),
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
