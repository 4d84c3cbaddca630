//! Access, alerts and the charts.

use super::common::*;

/// `GET /ui/access`.
pub(crate) async fn access(State(app): State<App>, viewer: Viewer) -> Response {
    let r = async {
        let c = || viewer.caller.clone();
        let st = || State(app.clone());
        let since = date_of(app.now() - DEFAULT_DAYS * DAY_MS);
        let requests =
            answer(routes::access::list(st(), c(), api_query("?limit=200")).await).await?;
        let grants = answer(routes::access::grants(st(), c(), api_query("")).await).await?;
        let accounts = answer(routes::access::accounts(st(), c()).await).await?;
        let standing = answer(routes::access::standing(st(), c()).await).await?;
        let debt = answer(
            routes::access::debt(
                st(),
                c(),
                api_query(&query(&[("period", "week"), ("since", &since)])),
            )
            .await,
        )
        .await?;
        let list = |v: &Value| v.as_array().cloned().unwrap_or_default();
        Ok(andon_web::access(
            &viewer.shown,
            &list(&requests),
            &list(&grants),
            &list(&accounts),
            &list(&standing),
            &debt,
        ))
    }
    .await;
    page(&viewer, Section::Access, r)
}

/// `GET /ui/alerts`.
pub(crate) async fn alerts(
    State(app): State<App>,
    viewer: Viewer,
    form: Result<Query<AppForm>, QueryRejection>,
) -> Response {
    let r = async {
        let Query(f) = form.map_err(crate::http::query_error)?;
        let api = query(&[("application", &f.application), ("state", &f.state)]);
        let rows = answer(
            routes::alerts::list(
                State(app.clone()),
                viewer.caller.clone(),
                api_query(&paged(&api, 500, None)),
            )
            .await,
        )
        .await?;
        Ok(andon_web::alerts(
            &viewer.shown,
            rows.as_array().map(Vec::as_slice).unwrap_or_default(),
            &f.state,
            &f.application,
            &api,
        ))
    }
    .await;
    page(&viewer, Section::Alerts, r)
}

/// `GET /ui/metrics`: the charts.
pub(crate) async fn metrics(
    State(app): State<App>,
    viewer: Viewer,
    form: Result<Query<AppForm>, QueryRejection>,
) -> Response {
    let r = async {
        let Query(f) = form.map_err(crate::http::query_error)?;
        let (application, apps) = chosen(&app, &viewer, &f.application).await?;
        let c = || viewer.caller.clone();
        let st = || State(app.clone());
        let since = date_of(app.now() - DEFAULT_DAYS * DAY_MS);
        let q = query(&[
            ("application", &application),
            ("period", "week"),
            ("since", &since),
        ]);
        let report = answer(routes::metrics::metrics(st(), c(), api_query(&q)).await).await?;
        let debt = answer(routes::access::debt(st(), c(), api_query(&q)).await).await?;
        let m = answer(
            routes::gates::controls(
                st(),
                c(),
                api_query(&query(&[("application", &application)])),
            )
            .await,
        )
        .await?;
        Ok(andon_web::metrics(
            &viewer.shown,
            &application,
            &apps,
            &report,
            &debt,
            &m,
        ))
    }
    .await;
    page(&viewer, Section::Metrics, r)
}
