//! The overview page.

use super::common::*;

/// `GET /ui/`.
pub(crate) async fn overview(State(app): State<App>, viewer: Viewer) -> Response {
    let r = async {
        let now = app.now();
        let since = date_of(now - DEFAULT_DAYS * DAY_MS);
        let actor = &viewer.caller;
        let apps = json(andon_app::admin::list_applications(&app, actor).await?)?;
        let mut out = Vec::new();
        for a in apps.as_array().into_iter().flatten() {
            let name = a["name"].as_str().unwrap_or_default();
            let q = app_query(&query(&[
                ("application", name),
                ("environment", "production"),
                ("limit", "1"),
            ]))?;
            let last = json(andon_app::changes::list::deployments(&app, actor, &q).await?)?;
            let (decisions, allowed) = app
                .store()
                .decision_outcomes(name, Some("production"), now - DEFAULT_DAYS * DAY_MS, now)
                .await?;
            let q = app_query(&query(&[
                ("application", name),
                ("state", "open"),
                ("limit", "1000"),
            ]))?;
            let open = json(andon_app::alerts::list(&app, actor, q).await?)?;
            let q = app_query(&query(&[("application", name), ("since", &since)]))?;
            let debt = json(andon_app::access::debt::debt(&app, actor, q).await?)?;
            let q = app_query(&query(&[
                ("application", name),
                ("period", "quarter"),
                ("since", &since),
            ]))?;
            let keys = json(andon_app::metrics::metrics(&app, actor, q).await?)?;
            out.push(andon_web::AppSummary {
                name: name.to_owned(),
                team: a["team"].as_str().unwrap_or_default().to_owned(),
                last_production: last.as_array().and_then(|l| l.first().cloned()),
                decisions,
                allowed,
                open_alerts: open.as_array().map_or(0, |l| l.len() as u64),
                debt: Some(debt),
                metrics: Some(keys["total"].clone()),
            });
        }
        Ok(andon_web::overview(&viewer.shown, &out, DEFAULT_DAYS))
    }
    .await;
    page(&viewer, Section::Overview, r)
}
