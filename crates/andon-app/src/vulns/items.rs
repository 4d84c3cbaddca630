//! Vulnerability items (docs/vulnerabilities.md, "Items and deadlines"): one per application
//! and vulnerability running in production, moved from `detected` through `fix_built` and
//! `fix_deployed` to `closed` by what Andon records, each step a ledger entry.
//!
//! [`advance`] is idempotent: it judges what runs in production now and records only the
//! steps not yet recorded. The import, deployments, snapshots, SBOM and VEX evidence and
//! waiver approvals call it for what they touched; the jobs loop sweeps everything.

use std::collections::BTreeSet;

use andon_domain::query::vulns::ItemQuery;
use andon_domain::vuln_items::{CheckAnswer, STATES, VulnItem};
use andon_domain::{EntryKind, Role, Sha256Digest};
use andon_store::{Effect, EvidenceFilter, StoredAdvisory, VulnEffect};
use serde_json::{Value, json};

use super::findings::{Described, Finding, Scan, scan};
use crate::input::rfc3339;
use crate::ledger::sequencer::Fact;
use crate::{Actor, App, AppError, ErrorKind};

/// Open items read per application at most.
const OPEN_READ: u32 = 10_000;

/// Records every step due for `only` one application's items, or every application's.
/// Answers the steps recorded, as (item, state).
pub async fn advance(app: &App, only: Option<&str>) -> Result<Vec<(String, String)>, AppError> {
    // No item exists, or can, before an advisory is imported or a scan attested.
    if !app.store().any_advisory().await? && !any_scan(app).await? {
        return Ok(Vec::new());
    }
    let scan = scan(app, only).await?;
    let now = app.now();
    let mut steps = Steps::default();
    let open = app.store().vuln_items(only, true, OPEN_READ).await?;
    let mut tracked = BTreeSet::new();
    for item in &open {
        tracked.insert((item.application.clone(), item.vulnerability.clone()));
        let finding = scan
            .findings
            .get(&(item.application.clone(), item.vulnerability.clone()));
        step(app, &scan, item, finding, now, &mut steps).await?;
    }
    for ((application, vulnerability), f) in &scan.findings {
        if tracked.contains(&(application.clone(), vulnerability.clone())) {
            continue;
        }
        let names = names_of(f);
        if cleared(app, application, &names, &f.artifacts, now)
            .await?
            .is_some()
        {
            continue;
        }
        let (priority, due_at) = app.0.config.vuln_sla.due(&f.severity, now);
        let id = format!(
            "V-{}",
            &Sha256Digest::of(format!("{application}\n{vulnerability}\n{now}").as_bytes()).hex()
                [..16]
        );
        let item = VulnItem {
            id,
            application: application.clone(),
            team: f.team.clone(),
            vulnerability: vulnerability.clone(),
            aliases: f.aliases.iter().cloned().collect(),
            advisories: f.advisories.iter().cloned().collect(),
            severity: f.severity.clone(),
            priority,
            state: "detected".into(),
            detected_at: now,
            due_at,
            artifacts: f.artifacts.iter().cloned().collect(),
            ..VulnItem::default()
        };
        let body = json!({
            "item": item.id, "application": item.application, "team": item.team,
            "vulnerability": item.vulnerability, "aliases": item.aliases,
            "advisories": item.advisories, "scans": f.scans, "severity": item.severity,
            "priority": item.priority, "detected_at": rfc3339(Some(now)),
            "due_at": rfc3339(Some(due_at)), "artifacts": item.artifacts,
        });
        steps
            .record(
                app,
                EntryKind::VulnDetected,
                body,
                VulnEffect::Detected(Box::new(item.clone())),
            )
            .await?;
        // An artifact built with the fix before the advisory came moves it on at once.
        step(app, &scan, &item, Some(f), now, &mut steps).await?;
    }
    Ok(steps.done)
}

/// Whether any vulnerability report was attested.
async fn any_scan(app: &App) -> Result<bool, AppError> {
    let filter = EvidenceFilter {
        predicate_type: Some(andon_domain::VULNERABILITIES_PREDICATE_V1.to_owned()),
        limit: 1,
        ..EvidenceFilter::default()
    };
    Ok(!app.store().list_evidence(&filter).await?.is_empty())
}

/// The steps due for one open item, in order.
async fn step(
    app: &App,
    scan: &Scan,
    item: &VulnItem,
    finding: Option<&Finding>,
    now: i64,
    steps: &mut Steps,
) -> Result<(), AppError> {
    let mut names: BTreeSet<String> = item.names().map(str::to_owned).collect();
    if let Some(f) = finding {
        names.extend(names_of(f));
    }
    let affected: BTreeSet<String> = finding.map(|f| f.artifacts.clone()).unwrap_or_default();
    if let Some((reason, detail)) = cleared(app, &item.application, &names, &affected, now).await? {
        return steps.close(app, item, now, reason, detail).await;
    }
    let advisories = advisories_of(app, item).await?;
    // An item only a scan found is judged by scans; one an advisory found, by SBOMs.
    let by_scan = item.advisories.is_empty();
    if finding.is_none() && !by_scan && advisories.iter().all(|a| a.advisory.withdrawn.is_some()) {
        let detail = format!(
            "every advisory naming {} was withdrawn: {}",
            item.vulnerability,
            item.advisories.join(", ")
        );
        return steps.close(app, item, now, "withdrawn", detail).await;
    }
    // Artifacts of the application running in production whose SBOM shows no affected
    // component: the fix, once deployed.
    let evidence_of = if by_scan {
        &scan.scanned
    } else {
        &scan.described
    };
    let clean: Vec<(&String, &Described)> = evidence_of
        .get(&item.application)
        .map(|d| {
            d.iter()
                .filter(|(digest, _)| !affected.contains(*digest))
                .collect()
        })
        .unwrap_or_default();
    let mut fix = item.fix_artifact.clone();
    if fix.is_none() && !steps.entered(&item.id, "fix_built") {
        // While an affected artifact still runs, only an SBOM with the dependency upgraded
        // shows a fix; once none runs, the clean artifact running is the fix.
        let built = if by_scan {
            super::fixes::by_scan(app, item).await?
        } else {
            super::fixes::by_sbom(app, item, &advisories).await?
        };
        let built = match built {
            Some(b) => Some(b),
            None if finding.is_none() => clean
                .first()
                .map(|(d, s)| ((*d).clone(), s.evidence.clone(), s.recorded_at)),
            None => None,
        };
        if let Some((artifact, evidence, recorded_at)) = built {
            let at = recorded_at.max(item.detected_at);
            let detail = format!(
                "{artifact} was built without {} ({} {evidence})",
                item.vulnerability,
                if by_scan { "scan" } else { "SBOM" }
            );
            let body = json!({"item": item.id, "at": rfc3339(Some(at)), "artifact": artifact,
                              "evidence": evidence, "detail": detail});
            steps
                .advance(
                    app,
                    EntryKind::VulnFixBuilt,
                    body,
                    item,
                    "fix_built",
                    at,
                    detail,
                    (Some(artifact.clone()), Some(evidence), None),
                )
                .await?;
            fix = Some(artifact);
        }
    }
    let running_fix = fix
        .as_ref()
        .filter(|d| clean.iter().any(|(c, _)| c == d))
        .cloned()
        .or_else(|| {
            finding
                .is_none()
                .then(|| clean.first().map(|(d, _)| (*d).clone()))
                .flatten()
        });
    let Some(running_fix) = running_fix else {
        return Ok(());
    };
    if item.fix_deployed_at.is_none() && !steps.entered(&item.id, "fix_deployed") {
        let detail = format!(
            "{running_fix} runs in production without {}",
            item.vulnerability
        );
        let body = json!({"item": item.id, "at": rfc3339(Some(now)), "artifact": running_fix,
                          "detail": detail});
        steps
            .advance(
                app,
                EntryKind::VulnFixDeployed,
                body,
                item,
                "fix_deployed",
                now,
                detail,
                (Some(running_fix.clone()), None, None),
            )
            .await?;
    }
    if finding.is_none() {
        let detail = format!(
            "no artifact of {} running in production has {}; {running_fix} runs",
            item.application, item.vulnerability
        );
        steps.close(app, item, now, "fixed", detail).await?;
    }
    Ok(())
}

/// The ids a finding goes by.
fn names_of(f: &Finding) -> BTreeSet<String> {
    std::iter::once(&f.vulnerability)
        .chain(&f.aliases)
        .chain(&f.advisories)
        .cloned()
        .collect()
}

/// The item's advisories as recorded now.
async fn advisories_of(app: &App, item: &VulnItem) -> Result<Vec<StoredAdvisory>, AppError> {
    let mut out = Vec::new();
    for id in &item.advisories {
        if let Some(a) = app.store().advisory(id).await? {
            out.push(a);
        }
    }
    Ok(out)
}

/// Why the vulnerability needs no fix now, if it does not: an approved waiver in force, or
/// a VEX statement on every affected artifact.
async fn cleared(
    app: &App,
    application: &str,
    names: &BTreeSet<String>,
    artifacts: &BTreeSet<String>,
    now: i64,
) -> Result<Option<(&'static str, String)>, AppError> {
    let named = |id: &str| names.iter().any(|n| n.eq_ignore_ascii_case(id));
    for w in app.store().active_waivers(application, now).await? {
        if w.control == "vulnerabilities" && w.vulnerability.as_deref().is_some_and(named) {
            return Ok(Some((
                "waived",
                format!(
                    "waiver {} ({}), approved by {}, in force until {}: {}",
                    w.id,
                    w.ticket,
                    w.approved_by.unwrap_or_default(),
                    rfc3339(w.expires_at).unwrap_or_default(),
                    w.reason
                ),
            )));
        }
    }
    if artifacts.is_empty() {
        return Ok(None);
    }
    let mut said = Vec::new();
    let mut all_not_affected = true;
    for artifact in artifacts {
        let Some((status, line)) = vex(app, artifact, &named).await? else {
            return Ok(None);
        };
        all_not_affected &= status == "not_affected";
        said.push(line);
    }
    let reason = if all_not_affected {
        "vex_not_affected"
    } else {
        "vex_fixed"
    };
    Ok(Some((reason, said.join("; "))))
}

/// What the newest VEX statement attested for `artifact` says of the vulnerability, when
/// it clears it: `not_affected` with a justification or an impact statement, or `fixed`.
async fn vex(
    app: &App,
    artifact: &str,
    named: &impl Fn(&str) -> bool,
) -> Result<Option<(String, String)>, AppError> {
    let filter = EvidenceFilter {
        subject_digest: Some(artifact.trim_start_matches("sha256:").to_owned()),
        limit: 200,
        ..EvidenceFilter::default()
    };
    for e in app.store().list_evidence(&filter).await? {
        let Some(summary) = e
            .summary
            .as_deref()
            .and_then(|s| serde_json::from_str::<Value>(s).ok())
        else {
            continue;
        };
        let Some(statements) = summary["statements"].as_array() else {
            continue;
        };
        let statement = statements.iter().find(|s| {
            s["id"].as_str().is_some_and(named)
                || s["aliases"]
                    .as_array()
                    .is_some_and(|a| a.iter().filter_map(Value::as_str).any(named))
        });
        let Some(s) = statement else { continue };
        let status = s["status"].as_str().unwrap_or_default();
        let why = s["justification"].as_str().or(s["impact"].as_str());
        let clears = match status {
            "not_affected" => why.is_some(),
            "fixed" => true,
            _ => false,
        };
        if !clears {
            return Ok(None);
        }
        let issuer = summary["issuer"].as_str().unwrap_or(&e.signer);
        return Ok(Some((
            status.to_owned(),
            format!(
                "VEX {} by {issuer} for {artifact}: {status}{}",
                e.id,
                why.map(|w| format!(" ({w})")).unwrap_or_default()
            ),
        )));
    }
    Ok(None)
}

/// The steps recorded in one pass.
#[derive(Default)]
struct Steps {
    done: Vec<(String, String)>,
}

impl Steps {
    fn entered(&self, item: &str, state: &str) -> bool {
        self.done.iter().any(|(i, s)| i == item && s == state)
    }

    /// Appends one step; another server that recorded it first is not an error.
    async fn record(
        &mut self,
        app: &App,
        kind: EntryKind,
        body: Value,
        effect: VulnEffect,
    ) -> Result<(), AppError> {
        let (item, state) = match &effect {
            VulnEffect::Detected(i) => (i.id.clone(), "detected".to_owned()),
            VulnEffect::Advanced { item, state, .. } => (item.clone(), state.clone()),
        };
        match app
            .append(Fact::admin(kind, "andon", body, Effect::Vuln(effect)))
            .await
        {
            Ok(_) => {
                self.done.push((item, state));
                Ok(())
            }
            Err(e) if e.kind == ErrorKind::Conflict => Ok(()),
            Err(e) => Err(e),
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn advance(
        &mut self,
        app: &App,
        kind: EntryKind,
        body: Value,
        item: &VulnItem,
        state: &str,
        at: i64,
        detail: String,
        (artifact, evidence, reason): (Option<String>, Option<String>, Option<String>),
    ) -> Result<(), AppError> {
        let effect = VulnEffect::Advanced {
            item: item.id.clone(),
            state: state.to_owned(),
            at,
            detail,
            artifact,
            evidence,
            reason,
        };
        self.record(app, kind, body, effect).await
    }

    async fn close(
        &mut self,
        app: &App,
        item: &VulnItem,
        now: i64,
        reason: &str,
        detail: String,
    ) -> Result<(), AppError> {
        let body = json!({"item": item.id, "at": rfc3339(Some(now)), "reason": reason,
                          "detail": detail});
        self.advance(
            app,
            EntryKind::VulnClosed,
            body,
            item,
            "closed",
            now,
            detail,
            (None, None, Some(reason.to_owned())),
        )
        .await
    }
}

/// Runs [`advance`] after a fact that may move items (a deployment, a snapshot, an SBOM, a
/// waiver), for one application or all. A failure is logged, not returned: the fact is
/// recorded, and the jobs loop's sweep records the steps later.
pub async fn after(app: &App, only: Option<&str>) {
    if let Err(e) = advance(app, only).await {
        tracing::warn!(error = %e.message, application = ?only, "advancing vulnerability items failed");
    }
}

/// Runs [`after`] for an application's new SBOM or VEX evidence, when it has open items:
/// evidence alone never opens one (what runs in production does).
pub async fn after_evidence(app: &App, application: &str) {
    match app.store().vuln_items(Some(application), true, 1).await {
        Ok(open) if open.is_empty() => {}
        Ok(_) => after(app, Some(application)).await,
        Err(e) => tracing::warn!(error = %e, "reading vulnerability items failed"),
    }
}

/// `GET /v1/vulnerabilities/items`: any identity.
pub async fn list(app: &App, _actor: &Actor, q: &ItemQuery) -> Result<Vec<VulnItem>, AppError> {
    if let Some(s) = &q.state
        && s != "open"
        && !STATES.contains(&s.as_str())
    {
        return Err(AppError::bad_request(
            "invalid_state",
            format!("state is open, {}; not {s}", STATES.join(", ")),
        ));
    }
    let open_only = q.state.as_deref().is_some_and(|s| s != "closed");
    let now = app.now();
    let items = app
        .store()
        .vuln_items(q.application.as_deref(), open_only, 1000)
        .await?;
    Ok(items
        .into_iter()
        .filter(|i| match q.state.as_deref() {
            None | Some("open") => true,
            Some(s) => i.state == s,
        })
        .filter(|i| {
            q.vulnerability
                .as_deref()
                .is_none_or(|v| i.names().any(|n| n.eq_ignore_ascii_case(v)))
        })
        .map(|i| with_overdue(i, now))
        .collect())
}

/// `GET /v1/vulnerabilities/items/{id}`: one item with its transitions.
pub async fn get(app: &App, _actor: &Actor, id: &str) -> Result<VulnItem, AppError> {
    let item = app
        .store()
        .vuln_item(id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no vulnerability item {id}")))?;
    Ok(with_overdue(item, app.now()))
}

fn with_overdue(mut i: VulnItem, now: i64) -> VulnItem {
    i.overdue = i.is_open() && i.due_at <= now;
    i
}

/// `POST /v1/vulnerabilities/check` (admins): advances every item now and raises the
/// overdue alerts, as the jobs loop does on its interval.
pub async fn check(app: &App, actor: &Actor) -> Result<CheckAnswer, AppError> {
    actor.require(&[Role::Admin])?;
    let transitions = advance(app, None).await?;
    let overdue_alerts = super::overdue::raise(app).await?;
    Ok(CheckAnswer {
        transitions,
        overdue_alerts,
    })
}
