//! Change records and their RFCs.

use super::common::*;

/// `GET /ui/changes`.
pub(crate) async fn changes(
    State(app): State<App>,
    viewer: Viewer,
    form: Result<Query<AppForm>, QueryRejection>,
) -> Response {
    let r = async {
        let Query(f) = form.map_err(crate::http::query_error)?;
        let (api, rows, next, sorting) = listed(&app, &viewer, &f, 200, Listing::Changes).await?;
        let apps = application_names(&app, &viewer).await?;
        Ok(andon_web::changes(
            &viewer.shown,
            &rows,
            (&f.application, &f.environment, &apps),
            &sorting,
            &api,
            next.as_deref(),
        ))
    }
    .await;
    page(&viewer, Section::Changes, r)
}

/// `GET /ui/changes/{id}`: the record and its RFC.
pub(crate) async fn change(
    State(app): State<App>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Response {
    let r = async {
        let c = json(andon_app::changes::list::show(&app, &viewer.caller, &id).await?)?;
        let rfc = andon_app::changes::rfc::rfc_json(&app, &viewer.caller, &id).await?;
        Ok(andon_web::change(
            &viewer.shown,
            &c,
            &andon_app::changes::markdown::markdown(&rfc),
        ))
    }
    .await;
    page(&viewer, Section::Changes, r)
}
