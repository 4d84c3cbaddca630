//! `andon verify --witness-key K --min-witnesses N`: the log must extend the newest
//! checkpoint that N of the given witnesses cosigned (C2SP tlog-cosignature).

use andon_app::audit::{self, Problem};
use anyhow::Context as _;
use serde::Serialize;

use super::{Source, VerifyArgs, extends};

/// What the witnesses vouch for.
#[derive(Serialize)]
pub struct Witnessed {
    /// The size of the newest cosigned checkpoint.
    pub size: u64,
    /// How many cosignatures by the given witnesses were required.
    pub required: usize,
    /// The given witnesses that cosigned it, with their time (seconds since the epoch).
    pub cosigned_by: Vec<(String, u64)>,
    /// Entries after it that no witness has seen yet.
    pub entries_after: u64,
}

/// With --witness-key: the log must be an extension of the newest checkpoint the source
/// keeps cosigned, signed by a log key, with cosignatures by at least --min-witnesses of
/// the given witnesses. What falls short is a `witness` problem.
pub(super) fn check_witnessed(
    v: &VerifyArgs,
    walked: &mut audit::Walked,
    source: &Source,
    head: Option<&andon_ledger::Checkpoint>,
    origin: &str,
) -> anyhow::Result<Option<Witnessed>> {
    let keys = v
        .witness_key
        .iter()
        .map(|k| {
            andon_ledger::WitnessVerifier::parse(k).with_context(|| format!("--witness-key {k}"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    if v.min_witnesses == 0 || v.min_witnesses > keys.len() {
        anyhow::bail!(
            "--min-witnesses {} of {} --witness-key: give between 1 and the number of witness keys",
            v.min_witnesses,
            keys.len()
        );
    }
    let note = match source {
        Source::Server(c) => c.cosigned_checkpoint()?,
        Source::Database(store, rt) => rt.block_on(store.latest_cosigned())?.map(|(cp, lines)| {
            let mut note = cp.note;
            for l in lines {
                note.push_str(&l.line);
                note.push('\n');
            }
            note
        }),
    };
    let size = walked.tree.size();
    let problem = |walked: &mut audit::Walked, checkpoint: Option<u64>, message: String| {
        walked.findings.push(Problem {
            index: checkpoint.unwrap_or(size).min(size).saturating_sub(1),
            kind: None,
            check: "witness".into(),
            checkpoint,
            message,
        });
    };
    let Some(note) = note else {
        problem(
            walked,
            None,
            format!(
                "no witness has cosigned a checkpoint of this log; {} of {} required",
                v.min_witnesses,
                keys.iter().map(|k| k.name()).collect::<Vec<_>>().join(", ")
            ),
        );
        return Ok(None);
    };
    let cp = match walked.keys.verify_checkpoint(&note) {
        Ok(cp) => cp,
        Err(why) => {
            problem(
                walked,
                None,
                format!("the cosigned checkpoint is not the log's: {why}"),
            );
            return Ok(None);
        }
    };
    if cp.origin != origin {
        problem(
            walked,
            Some(cp.size),
            format!(
                "the cosigned checkpoint is of log {:?}, not {origin:?}",
                cp.origin
            ),
        );
        return Ok(None);
    }
    let cosigned = match andon_ledger::cosignatures(&note, &keys) {
        Ok(c) => c,
        Err(e) => {
            problem(
                walked,
                Some(cp.size),
                format!(
                    "a cosignature of the checkpoint of size {} names a given witness's key and does not verify: {e}",
                    cp.size
                ),
            );
            return Ok(None);
        }
    };
    if cosigned.len() < v.min_witnesses {
        problem(
            walked,
            Some(cp.size),
            format!(
                "the newest cosigned checkpoint (size {}) carries cosignatures by {} of the {} witnesses required ({})",
                cp.size,
                cosigned.len(),
                v.min_witnesses,
                if cosigned.is_empty() {
                    "none of the given keys".to_owned()
                } else {
                    cosigned
                        .iter()
                        .map(|c| c.witness.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            ),
        );
    }
    extends(
        walked,
        source,
        head,
        &cp,
        "witness",
        "the checkpoint the witnesses cosigned",
    )?;
    Ok(Some(Witnessed {
        size: cp.size,
        required: v.min_witnesses,
        cosigned_by: cosigned
            .into_iter()
            .map(|c| (c.witness, c.timestamp))
            .collect(),
        entries_after: size.saturating_sub(cp.size),
    }))
}
