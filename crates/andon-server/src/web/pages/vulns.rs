//! Vulnerabilities: the blast radius of what is asked, the items, and one item.

use andon_domain::query::vulns::{ImpactQuery, ItemQuery};
use serde::Deserialize;

use super::common::*;

/// The page's form: a CVE, an advisory id or a package URL.
#[derive(Deserialize)]
pub(crate) struct AskForm {
    #[serde(default)]
    q: String,
}

/// `GET /ui/vulnerabilities?q=`.
pub(crate) async fn vulnerabilities(
    State(app): State<App>,
    viewer: Viewer,
    form: Result<Query<AskForm>, QueryRejection>,
) -> Response {
    let r = async {
        let Query(f) = form.map_err(crate::http::query_error)?;
        let a = &viewer.caller;
        let asked = f.q.trim().to_owned();
        let impact = if asked.is_empty() {
            None
        } else {
            let q = if asked.starts_with("pkg:") {
                ImpactQuery {
                    purl: Some(asked.clone()),
                    ..ImpactQuery::default()
                }
            } else {
                ImpactQuery {
                    id: Some(asked.clone()),
                    ..ImpactQuery::default()
                }
            };
            // A question that does not read, or names nothing imported, is answered on the
            // page, not as an error page.
            Some(match andon_app::vulns::impact::impact(&app, a, &q).await {
                Ok(i) => Ok(json(i)?),
                Err(e) => Err(e.message),
            })
        };
        let items = json(andon_app::vulns::items::list(&app, a, &ItemQuery::default()).await?)?;
        Ok(andon_web::vulnerabilities(
            &viewer.shown,
            &asked,
            impact.as_ref().map(|r| r.as_ref().map_err(String::as_str)),
            items.as_array().map(Vec::as_slice).unwrap_or_default(),
        ))
    }
    .await;
    page(&viewer, Section::Vulnerabilities, r)
}

/// `GET /ui/vulnerabilities/{id}`.
pub(crate) async fn vulnerability_item(
    State(app): State<App>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Response {
    let r = async {
        let item = json(andon_app::vulns::items::get(&app, &viewer.caller, &id).await?)?;
        Ok(andon_web::vulnerability_item(&viewer.shown, &item))
    }
    .await;
    page(&viewer, Section::Vulnerabilities, r)
}
