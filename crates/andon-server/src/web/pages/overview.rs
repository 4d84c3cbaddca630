//! The overview page.

use super::common::*;

/// `GET /ui/`.
pub(crate) async fn overview(State(app): State<App>, viewer: Viewer) -> Response {
    let r = async {
        let now = app.now();
        let since = date_of(now - DEFAULT_DAYS * DAY_MS);
        let apps = answer(
            routes::admin::list_applications(State(app.clone()), viewer.caller.clone()).await,
        )
        .await?;
        let mut out = Vec::new();
        for a in apps.as_array().into_iter().flatten() {
            let name = a["name"].as_str().unwrap_or_default();
            let c = || viewer.caller.clone();
            let st = || State(app.clone());
            let last = answer(
                routes::changes::deployments(
                    st(),
                    c(),
                    api_query(&query(&[
                        ("application", name),
                        ("environment", "production"),
                        ("limit", "1"),
                    ])),
                )
                .await,
            )
            .await?;
            let (decisions, allowed) = app
                .store()
                .decision_outcomes(name, Some("production"), now - DEFAULT_DAYS * DAY_MS, now)
                .await?;
            let open = answer(
                routes::alerts::list(
                    st(),
                    c(),
                    api_query(&query(&[
                        ("application", name),
                        ("state", "open"),
                        ("limit", "1000"),
                    ])),
                )
                .await,
            )
            .await?;
            let debt = answer(
                routes::access::debt(
                    st(),
                    c(),
                    api_query(&query(&[("application", name), ("since", &since)])),
                )
                .await,
            )
            .await?;
            let keys = answer(
                routes::metrics::metrics(
                    st(),
                    c(),
                    api_query(&query(&[
                        ("application", name),
                        ("period", "quarter"),
                        ("since", &since),
                    ])),
                )
                .await,
            )
            .await?;
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
