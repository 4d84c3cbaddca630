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
        let (api, rows, next) = listed(&app, &viewer, &f, 200, routes::changes::list).await?;
        Ok(andon_web::changes(
            &viewer.shown,
            &rows,
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
        let c = answer(
            routes::changes::show(State(app.clone()), viewer.caller.clone(), Path(id.clone()))
                .await,
        )
        .await?;
        let rfc = answer(
            routes::changes::rfc_json(State(app.clone()), viewer.caller.clone(), Path(id)).await,
        )
        .await?;
        Ok(andon_web::change(
            &viewer.shown,
            &c,
            &andon_app::changes::markdown::markdown(&rfc),
        ))
    }
    .await;
    page(&viewer, Section::Changes, r)
}
