//! Game days: drills started, finished and reviewed, and application risk levels.

use andon_domain::drills::{Drill, DrillFinish, DrillStart, Retrospective, RiskInput};

use crate::{Client, ClientError};

impl Client {
    /// Starts a drill.
    pub fn start_drill(&self, input: &DrillStart) -> Result<Drill, ClientError> {
        self.post_json("/v1/drills", input)
    }

    /// Finishes a drill: the answer carries what happened during it and its time to
    /// production.
    pub fn finish_drill(&self, id: &str, aborted: bool) -> Result<Drill, ClientError> {
        self.post_json(&format!("/v1/drills/{id}/finish"), &DrillFinish { aborted })
    }

    /// Records a finished drill's retrospective; the answer carries the signed envelope.
    pub fn drill_retrospective(
        &self,
        id: &str,
        retro: &Retrospective,
    ) -> Result<Drill, ClientError> {
        self.post_json(&format!("/v1/drills/{id}/retrospective"), retro)
    }

    /// Drills, of one application or all, newest first.
    pub fn drills(&self, application: Option<&str>) -> Result<Vec<Drill>, ClientError> {
        let q: Vec<(&str, String)> = application
            .map(|a| ("application", a.to_owned()))
            .into_iter()
            .collect();
        self.get("/v1/drills", &q)
    }

    /// One drill with its signed retrospective.
    pub fn drill(&self, id: &str) -> Result<Drill, ClientError> {
        self.get(&format!("/v1/drills/{id}"), &[])
    }

    /// Sets an application's risk level (admin).
    pub fn set_application_risk(
        &self,
        application: &str,
        risk: &str,
    ) -> Result<serde_json::Value, ClientError> {
        self.put_json(
            &format!("/v1/applications/{application}/risk"),
            &RiskInput { risk: risk.into() },
        )
    }
}
