//! Access, alerts and the charts.

use super::common::*;

/// `GET /ui/access`.
pub(crate) async fn access(State(app): State<App>, viewer: Viewer) -> Response {
    let r = async {
        use andon_app::access::{accounts, debt, requests};
        let a = &viewer.caller;
        let since = date_of(app.now() - DEFAULT_DAYS * DAY_MS);
        let requests = json(requests::list(&app, a, app_query("?limit=200")?).await?)?;
        let grants = json(requests::grants(&app, a, app_query("")?).await?)?;
        let accounts = json(accounts::accounts(&app, a).await?)?;
        let standing = json(accounts::standing(&app, a).await?)?;
        let q = app_query(&query(&[("period", "week"), ("since", &since)]))?;
        let debt = json(debt::debt(&app, a, q).await?)?;
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
        let q = app_query(&paged(&api, 500, None))?;
        let rows = json(andon_app::alerts::list(&app, &viewer.caller, q).await?)?;
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
        let a = &viewer.caller;
        let since = date_of(app.now() - DEFAULT_DAYS * DAY_MS);
        let q = query(&[
            ("application", &application),
            ("period", "week"),
            ("since", &since),
        ]);
        let report = json(andon_app::metrics::metrics(&app, a, app_query(&q)?).await?)?;
        let debt = json(andon_app::access::debt::debt(&app, a, app_query(&q)?).await?)?;
        let mq = app_query(&query(&[("application", &application)]))?;
        let m = andon_app::gates::matrix::matrix_json(
            &andon_app::gates::matrix::controls(&app, a, &mq).await?,
        );
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
