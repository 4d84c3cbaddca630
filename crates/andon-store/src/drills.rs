//! Game days: the effect of `drill.*` and `application.risk` entries, and the reads the drill
//! rules, the gate input and the metrics make.

use andon_domain::drills::{Drill, DrillLinks, RecordedRetrospective};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::{Any, Transaction};

use crate::error::{Op as _, StoreError};
use crate::read::get;
use crate::store::Store;

/// The rows a `drill.*` or `application.risk` entry writes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum DrillEffect {
    /// A drill began.
    Started(Box<Drill>),
    /// A drill ended, with what happened during it.
    Finished {
        /// `DR-…`.
        drill: String,
        /// When (Unix ms).
        at: i64,
        /// `completed` or `aborted`.
        outcome: String,
        /// From the start to the first production deployment (ms).
        time_to_production_ms: Option<i64>,
        /// The runs, decisions, deployments and segments.
        links: DrillLinks,
    },
    /// Its retrospective, with the DSSE envelope that signs it.
    Retrospective {
        /// `DR-…`.
        drill: String,
        /// What was recorded (its `ledger_index` is the entry's).
        retrospective: RecordedRetrospective,
        /// The envelope (JSON).
        envelope: String,
    },
    /// An application's risk level.
    Risk {
        /// The application.
        application: String,
        /// `low` to `critical`.
        risk: String,
    },
}

fn json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

/// Writes a drill's start, finish or retrospective, or a risk level.
pub(crate) async fn apply(
    tx: &mut Transaction<'_, Any>,
    idx: i64,
    e: &DrillEffect,
) -> Result<(), StoreError> {
    match e {
        DrillEffect::Started(d) => {
            sqlx::query(
                "INSERT INTO drills (id, ledger_idx, application, scenario, rehearses, vulnerability, participants, started_by, started_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(d.id.clone())
            .bind(idx)
            .bind(d.application.clone())
            .bind(d.scenario.clone())
            .bind(d.rehearses.clone())
            .bind(d.vulnerability.clone())
            .bind(json(&d.participants))
            .bind(d.started_by.clone())
            .bind(d.started_at)
            .execute(&mut **tx)
            .await
            .op("recording a drill")?;
        }
        DrillEffect::Finished {
            drill,
            at,
            outcome,
            time_to_production_ms,
            links,
        } => {
            sqlx::query(
                "UPDATE drills SET finished_at = $1, finished_idx = $2, outcome = $3, time_to_production_ms = $4, links = $5 WHERE id = $6",
            )
            .bind(*at)
            .bind(idx)
            .bind(outcome.clone())
            .bind(*time_to_production_ms)
            .bind(json(links))
            .bind(drill.clone())
            .execute(&mut **tx)
            .await
            .op("finishing a drill")?;
        }
        DrillEffect::Retrospective {
            drill,
            retrospective,
            envelope,
        } => {
            sqlx::query(
                "UPDATE drills SET retro_idx = $1, retrospective = $2, retro_envelope = $3 WHERE id = $4",
            )
            .bind(idx)
            .bind(json(retrospective))
            .bind(envelope.clone())
            .bind(drill.clone())
            .execute(&mut **tx)
            .await
            .op("recording a retrospective")?;
        }
        DrillEffect::Risk { application, risk } => {
            sqlx::query("DELETE FROM application_risks WHERE application = $1")
                .bind(application.clone())
                .execute(&mut **tx)
                .await
                .op("replacing a risk level")?;
            sqlx::query(
                "INSERT INTO application_risks (application, risk, ledger_idx) VALUES ($1, $2, $3)",
            )
            .bind(application.clone())
            .bind(risk.clone())
            .bind(idx)
            .execute(&mut **tx)
            .await
            .op("recording a risk level")?;
        }
    }
    Ok(())
}

const DRILL_SELECT: &str = "SELECT id, ledger_idx, application, scenario, rehearses, vulnerability, participants, started_by, started_at, \
     finished_at, finished_idx, outcome, time_to_production_ms, links, retro_idx, retrospective, retro_envelope FROM drills";

fn parse<T: serde::de::DeserializeOwned>(what: &str, s: &str) -> Result<T, StoreError> {
    serde_json::from_str(s).map_err(|e| StoreError::Corrupt {
        what: format!("drills.{what}"),
        detail: e.to_string(),
    })
}

fn drill_row(r: &AnyRow, with_envelope: bool) -> Result<Drill, StoreError> {
    let participants: String = get(r, "participants")?;
    let links: Option<String> = get(r, "links")?;
    let retro: Option<String> = get(r, "retrospective")?;
    let retro_idx: Option<i64> = get(r, "retro_idx")?;
    let retrospective = match retro {
        Some(s) => {
            let mut rr: RecordedRetrospective = parse("retrospective", &s)?;
            rr.ledger_index = retro_idx.unwrap_or_default() as u64;
            Some(rr)
        }
        None => None,
    };
    Ok(Drill {
        id: get(r, "id")?,
        ledger_index: get::<i64>(r, "ledger_idx")? as u64,
        application: get(r, "application")?,
        scenario: get(r, "scenario")?,
        rehearses: get(r, "rehearses")?,
        vulnerability: get(r, "vulnerability")?,
        participants: parse("participants", &participants)?,
        started_by: get(r, "started_by")?,
        started_at: get(r, "started_at")?,
        finished_at: get(r, "finished_at")?,
        outcome: get(r, "outcome")?,
        time_to_production_ms: get(r, "time_to_production_ms")?,
        links: links.as_deref().map(|l| parse("links", l)).transpose()?,
        finished_index: get::<Option<i64>>(r, "finished_idx")?.map(|i| i as u64),
        retrospective,
        retrospective_envelope: if with_envelope {
            get(r, "retro_envelope")?
        } else {
            None
        },
    })
}

impl Store {
    /// One drill, with its signed retrospective.
    pub async fn drill(&self, id: &str) -> Result<Option<Drill>, StoreError> {
        sqlx::query(sqlx::AssertSqlSafe(format!("{DRILL_SELECT} WHERE id = $1")))
            .bind(id.to_owned())
            .fetch_optional(&self.pool)
            .await
            .op("reading a drill")?
            .map(|r| drill_row(&r, true))
            .transpose()
    }

    /// Drills, of one application or all, newest first, at most `limit`.
    pub async fn drills(
        &self,
        application: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Drill>, StoreError> {
        let sql = match application {
            Some(_) => format!(
                "{DRILL_SELECT} WHERE application = $1 ORDER BY started_at DESC, id LIMIT {limit}"
            ),
            None => format!("{DRILL_SELECT} ORDER BY started_at DESC, id LIMIT {limit}"),
        };
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        if let Some(a) = application {
            q = q.bind(a.to_owned());
        }
        q.fetch_all(&self.pool)
            .await
            .op("listing drills")?
            .iter()
            .map(|r| drill_row(r, false))
            .collect()
    }

    /// The completed drills of an application (or of a team's applications) that finished
    /// in `[from, to)` (Unix ms): (finished at, time to production in ms). Aborted drills
    /// are left out.
    pub async fn metric_drills(
        &self,
        application: Option<&str>,
        team: Option<&str>,
        from: i64,
        to: i64,
    ) -> Result<Vec<(i64, Option<i64>)>, StoreError> {
        let (scope, value) = match (application, team) {
            (Some(a), _) => ("d.application = $3", a),
            (None, Some(t)) => (
                "d.application IN (SELECT name FROM applications WHERE team = $3)",
                t,
            ),
            (None, None) => return Ok(Vec::new()),
        };
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT d.finished_at, d.time_to_production_ms FROM drills d \
             WHERE d.outcome = 'completed' AND d.finished_at >= $1 AND d.finished_at < $2 AND {scope} \
             ORDER BY d.finished_at"
        )))
        .bind(from)
        .bind(to)
        .bind(value.to_owned())
        .fetch_all(&self.pool)
        .await
        .op("reading drills for the metrics")?
        .iter()
        .map(|r| Ok((get(r, "finished_at")?, get(r, "time_to_production_ms")?)))
        .collect()
    }

    /// An application's risk level, if one was set.
    pub async fn application_risk(&self, application: &str) -> Result<Option<String>, StoreError> {
        sqlx::query_scalar::<_, String>("SELECT risk FROM application_risks WHERE application = $1")
            .bind(application.to_owned())
            .fetch_optional(&self.pool)
            .await
            .op("reading a risk level")
    }

    /// An application's newest drill that completed with its change in production: (id,
    /// finished at).
    pub async fn last_completed_drill(
        &self,
        application: &str,
    ) -> Result<Option<(String, i64)>, StoreError> {
        let row = sqlx::query(
            "SELECT id, finished_at FROM drills WHERE application = $1 AND outcome = 'completed' \
             AND time_to_production_ms IS NOT NULL ORDER BY finished_at DESC LIMIT 1",
        )
        .bind(application.to_owned())
        .fetch_optional(&self.pool)
        .await
        .op("reading the last drill")?;
        row.map(|r| Ok((get(&r, "id")?, get(&r, "finished_at")?)))
            .transpose()
    }

    /// What an application did in `[from, to]` (Unix ms), for a drill's links: the runs that
    /// sent evidence with the first evidence time, the decisions (id, environment, allow,
    /// time) and the deployments a gate allowed (id, production, when Andon recorded them),
    /// oldest first, reading at most 1,000 rows of each.
    pub async fn drill_activity(
        &self,
        application: &str,
        from: i64,
        to: i64,
    ) -> Result<DrillActivity, StoreError> {
        let evidence = self
            .search(
            "SELECT run, created_at FROM evidence WHERE application = $1 AND created_at >= $2 AND created_at <= $3 \
             ORDER BY ledger_idx LIMIT 1000"
                .into(),
        )
        .bind(application.to_owned())
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await
        .op("reading a drill's evidence")?;
        let mut out = DrillActivity::default();
        for r in &evidence {
            let at: i64 = get(r, "created_at")?;
            out.first_evidence_at = Some(out.first_evidence_at.map_or(at, |f: i64| f.min(at)));
            if let Some(run) = get::<Option<String>>(r, "run")?
                && !out.runs.contains(&run)
            {
                out.runs.push(run);
            }
        }
        for r in self
            .search(
            "SELECT id, environment, allow, created_at FROM decisions WHERE application = $1 AND created_at >= $2 \
             AND created_at <= $3 ORDER BY ledger_idx LIMIT 1000"
                .into(),
        )
        .bind(application.to_owned())
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await
        .op("reading a drill's decisions")?
        {
            out.decisions.push((
                get(&r, "id")?,
                get(&r, "environment")?,
                get::<i64>(&r, "allow")? != 0,
                get(&r, "created_at")?,
            ));
        }
        // A deployment counts from when Andon recorded it (the pipeline says when it
        // deployed, and could say any time), and only when a gate allowed it.
        for r in self
            .search(
            "SELECT d.id, d.production, l.created_at AS recorded_at FROM deployments d \
             JOIN ledger_entries l ON l.idx = d.ledger_idx \
             WHERE d.application = $1 AND d.bypass = 0 AND l.created_at >= $2 AND l.created_at <= $3 \
             ORDER BY d.ledger_idx LIMIT 1000"
                .into(),
        )
        .bind(application.to_owned())
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await
        .op("reading a drill's deployments")?
        {
            out.deployments.push((
                get(&r, "id")?,
                get::<i64>(&r, "production")? != 0,
                get(&r, "recorded_at")?,
            ));
        }
        Ok(out)
    }
}

/// What an application did during a drill ([`Store::drill_activity`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DrillActivity {
    /// The runs that sent evidence, in order of their first evidence.
    pub runs: Vec<String>,
    /// The first evidence's recording time.
    pub first_evidence_at: Option<i64>,
    /// Gate decisions: (id, environment, allowed, time).
    pub decisions: Vec<(String, String, bool, i64)>,
    /// Deployments a gate allowed: (id, production, recorded at).
    pub deployments: Vec<(String, bool, i64)>,
}
