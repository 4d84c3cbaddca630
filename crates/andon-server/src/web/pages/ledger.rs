//! The ledger and the inclusion check.

use super::common::*;

#[derive(serde::Deserialize, Default)]
pub(crate) struct LedgerForm {
    index: Option<u64>,
}

/// `GET /ui/ledger[?index=]`: the log, and an entry's inclusion checked against the signed
/// checkpoint.
pub(crate) async fn ledger(
    State(app): State<App>,
    viewer: Viewer,
    form: Result<Query<LedgerForm>, QueryRejection>,
) -> Response {
    let r = async {
        let Query(f) = form.map_err(crate::http::query_error)?;
        let info = json(andon_app::ledger::entries::info(&app, &viewer.caller))?;
        let last = app.last_check();
        let check = match f.index {
            Some(index) => Some(inclusion(&app, &viewer, &info, index).await),
            None => None,
        };
        Ok(andon_web::ledger(
            &viewer.shown,
            &info,
            last.as_ref(),
            check.as_ref(),
        ))
    }
    .await;
    page(&viewer, Section::Ledger, r)
}

/// Checks entry `index` the way a client would: the proof from the API, the root
/// recomputed from the leaf hash and the path, compared with the root of the checkpoint
/// whose signature verifies with the log key.
async fn inclusion(app: &App, viewer: &Viewer, info: &Value, index: u64) -> InclusionCheck {
    let mut check = InclusionCheck {
        index,
        proof: None,
        computed_root: None,
        checkpoint_root: String::new(),
        signature_ok: false,
        error: None,
    };
    let proof = match app_query(&query(&[("index", &index.to_string())]))
        .and_then(|q| {
            Ok(andon_app::ledger::entries::inclusion(
                app,
                &viewer.caller,
                q,
            )?)
        })
        .and_then(json)
    {
        Ok(p) => p,
        Err(e) => {
            check.error = Some(e.message);
            return check;
        }
    };
    let note = proof["checkpoint"].as_str().unwrap_or_default();
    let verified =
        andon_ledger::NoteVerifier::parse(info["verifier_key"].as_str().unwrap_or_default())
            .and_then(|v| v.verify(note));
    let cp = match verified {
        Ok(cp) => cp,
        Err(e) => {
            check.error = Some(format!(
                "the checkpoint does not verify with the log key: {e}"
            ));
            check.proof = Some(proof);
            return check;
        }
    };
    check.signature_ok = true;
    check.checkpoint_root = hex::encode(cp.root);
    let hash = |s: &str| -> Option<[u8; 32]> { hex::decode(s).ok()?.try_into().ok() };
    let leaf = proof["leaf_hash"].as_str().and_then(hash);
    let path: Option<Vec<[u8; 32]>> = proof["proof"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|h| h.as_str().and_then(hash))
        .collect();
    match (leaf, path) {
        (Some(leaf), Some(path)) => {
            check.computed_root = andon_ledger::root_from_inclusion(&leaf, index, cp.size, &path)
                .ok()
                .map(hex::encode);
            if let Err(e) = andon_ledger::verify_inclusion(&leaf, index, cp.size, &path, &cp.root) {
                check.error = Some(format!(
                    "the proof does not lead to the checkpoint's root: {e}"
                ));
            }
        }
        _ => check.error = Some("the proof is malformed".into()),
    }
    check.proof = Some(proof);
    check
}
