//! Evidence search and records.

use super::common::*;

#[derive(serde::Deserialize, Default)]
pub(crate) struct EvidenceForm {
    #[serde(default)]
    app: String,
    #[serde(default)]
    control: String,
    #[serde(default)]
    predicate_type: String,
    #[serde(default)]
    signer: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    since: String,
    #[serde(default)]
    until: String,
    before: Option<u64>,
}

const PAGE: u32 = 50;

/// `GET /ui/evidence`: the search form and its answer.
pub(crate) async fn evidence(
    State(app): State<App>,
    viewer: Viewer,
    form: Result<Query<EvidenceForm>, QueryRejection>,
) -> Response {
    let r = async {
        let Query(f) = form.map_err(crate::http::query_error)?;
        let since = day("since", &f.since, false)?;
        let until = day("until", &f.until, true)?;
        let mut search = EvidenceSearch {
            applications: application_names(&app, &viewer).await?,
            predicate_types: predicate_types(),
            ..Default::default()
        };
        if !f.app.is_empty() {
            let policy =
                andon_app::gates::policies::select_policy(&app, &f.app, "production").await?;
            search.controls = policy
                .controls()
                .into_iter()
                .map(|c| (c.id.clone(), c.title.clone()))
                .collect();
        }
        let api = query(&[
            ("app", &f.app),
            ("control", &f.control),
            ("predicate_type", &f.predicate_type),
            ("signer", &f.signer),
            ("subject", &f.subject),
            ("since", &since),
            ("until", &until),
        ]);
        let q = app_query(&paged(&api, PAGE, f.before))?;
        let v = json(andon_app::evidence::search::list(&app, &viewer.caller, q).await?)?;
        search.rows = v["evidence"].as_array().cloned().unwrap_or_default();
        if let Some(next) = v["next_before"].as_u64() {
            search.next = Some(query(&[
                ("app", &f.app),
                ("control", &f.control),
                ("predicate_type", &f.predicate_type),
                ("signer", &f.signer),
                ("subject", &f.subject),
                ("since", &f.since),
                ("until", &f.until),
                ("before", &next.to_string()),
            ]));
        }
        search.api_query = Some(api);
        search.app = f.app;
        search.control = f.control;
        search.predicate_type = f.predicate_type;
        search.signer = f.signer;
        search.subject = f.subject;
        search.since = f.since;
        search.until = f.until;
        Ok(andon_web::evidence(&viewer.shown, &search))
    }
    .await;
    page(&viewer, Section::Evidence, r)
}

fn predicate_types() -> Vec<String> {
    let mut t: Vec<String> = andon_domain::REPORT_PREDICATES
        .iter()
        .map(|(_, p)| (*p).to_owned())
        .collect();
    t.push("https://slsa.dev/provenance/v1".into());
    t.push(andon_domain::scm::REVIEW_PREDICATE_V1.into());
    t.push(andon_domain::scm::PIPELINE_DEFINITION_PREDICATE_V1.into());
    t
}

/// `GET /ui/evidence/{id}`.
pub(crate) async fn evidence_record(
    State(app): State<App>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Response {
    let r = async {
        let v = json(andon_app::evidence::search::show(&app, &viewer.caller, &id).await?)?;
        Ok(andon_web::evidence_record(&viewer.shown, &v))
    }
    .await;
    page(&viewer, Section::Evidence, r)
}
