//! Who stands behind an approver, through the real paths on both backends: an admin who
//! creates an approver's identity, keeps its enrollment code, enrolls as it and approves a
//! change that admin requested shows as such on the deployment's trace page, on the change's
//! page and in the request for change; an approver who enrolled with the code another admin
//! handed out shows where its authority came from, without a warning.

use andon_client::Client;
use andon_domain::Role;
use andon_domain::api::{DeploymentRequest, GateRequest};
use andon_domain::change::{ChangeFields, ChangeStatus};
use andon_testkit::{Backend, both_backends};
use serde_json::Value;

use crate::common::release::{Twist, world};
use crate::web::{get, sign_in};

const WARNING: &str = "identity created and enrolled by admin bob, who also requested this change";

fn migration() -> ChangeFields {
    ChangeFields {
        paths: vec!["db/migrations/0042_fees.sql".into()],
        risk: Some("fees table rewritten".into()),
        rollback_plan: Some("run 0042 down".into()),
        ..Default::default()
    }
}

fn decision<'a>(rfc: &'a Value, approver: &str) -> &'a Value {
    rfc["approvals"]["decisions"]
        .as_array()
        .expect("decisions")
        .iter()
        .find(|d| d["approver"] == approver)
        .unwrap_or_else(|| panic!("no decision by {approver}: {rfc:#}"))
}

fn an_approver_an_admin_enrolled_shows_as_such_on_the_trace_page_and_in_the_rfc(b: Backend) {
    let w = world(b);
    let base = w.h.url.clone();
    // bob, a second admin, enrolled with the code the first admin handed out.
    let bob = Client::new(
        &base,
        Some(
            w.h.admin
                .create_identity_in("bob", Role::Admin.as_str(), &[], &[])
                .expect("bob")
                .token,
        ),
    );
    // bob creates xavier, keeps the enrollment code and redeems it himself.
    let code = bob
        .create_identity_only("xavier", Role::Approver.as_str(), &[], &["dba".to_owned()])
        .expect("xavier")
        .enrollment
        .expect("a person's identity answers an enrollment code")
        .code;
    let xavier = Client::new(
        &base,
        Some(
            Client::new(&base, None)
                .enroll(&code)
                .expect("enrolled")
                .token,
        ),
    );
    // carol enrolls with the code the first admin handed her.
    let carol = Client::new(
        &base,
        Some(
            w.h.admin
                .create_identity_in("carol", Role::Approver.as_str(), &[], &["dba".to_owned()])
                .expect("carol")
                .token,
        ),
    );

    // bob requests the change (he gates the release), xavier and carol approve it.
    let artifact = w.release("pay-5.0.0", Twist::None);
    let gate = |c: &Client, change: Option<ChangeFields>| {
        c.gate(&GateRequest {
            application: "pay".into(),
            artifact: artifact.clone(),
            environment: "production".into(),
            change,
            ..Default::default()
        })
        .expect("decided")
    };
    let denied = gate(&bob, Some(migration()));
    assert!(!denied.decision.allow);
    let id = denied.change.expect("a change record");
    xavier.decide_change(&id, true, "fine").expect("approved");
    carol
        .decide_change(&id, true, "checked the migration")
        .expect("approved");
    let allowed = gate(&w.ci, None);
    assert!(allowed.decision.allow, "{:#?}", allowed.decision.controls);
    let deployment =
        w.ci.record_deployment(&DeploymentRequest {
            application: "pay".into(),
            artifact: artifact.clone(),
            environment: "production".into(),
            decision: Some(allowed.id.clone()),
            ..Default::default()
        })
        .expect("recorded")["deployment"]["id"]
            .as_str()
            .expect("id")
            .to_owned();

    // The change record: each approval with where the approver's authority came from.
    let change = w.h.admin.change(&id).expect("change");
    assert_eq!(change.status, ChangeStatus::Deployed);
    assert_eq!(change.requested_by, "bob");
    let of = |name: &str| {
        change
            .approvals
            .iter()
            .find(|a| a.approver == name)
            .and_then(|a| a.provenance.clone())
            .unwrap_or_else(|| panic!("no provenance for {name}"))
    };
    let (x, c) = (of("xavier"), of("carol"));
    assert_eq!(
        (x.identity_created_by.as_deref(), x.enrolled_by.as_deref()),
        (Some("bob"), Some("bob"))
    );
    assert_eq!(x.token_issued_by.as_deref(), Some("xavier"), "self-issued");
    assert!(x.token.as_deref().is_some_and(|t| t.starts_with("tok_")));
    assert_eq!(x.warnings, vec![WARNING.to_owned()]);
    assert_eq!(
        (c.identity_created_by.as_deref(), c.enrolled_by.as_deref()),
        (Some("admin"), Some("admin"))
    );
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    // The entries named are the ones that did it.
    let entries = w.h.admin.entries(0, 1000).expect("entries").entries;
    let kind_of = |i: Option<u64>| {
        entries
            .iter()
            .find(|e| Some(e.index) == i)
            .map(|e| e.kind.clone())
    };
    assert_eq!(
        kind_of(x.identity_created_index).as_deref(),
        Some("identity.created")
    );
    assert_eq!(
        kind_of(x.enrollment_index).as_deref(),
        Some("enrollment.created")
    );
    assert_eq!(
        kind_of(x.token_issued_index).as_deref(),
        Some("token.issued")
    );

    // The RFC, as JSON (valid against its schema) and as Markdown.
    let rfc = w.h.admin.rfc_json(&id).expect("rfc");
    crate::changes::assert_rfc_schema(&rfc);
    assert_eq!(
        decision(&rfc, "xavier")["provenance"]["warnings"],
        serde_json::json!([WARNING])
    );
    assert_eq!(
        decision(&rfc, "carol")["provenance"]["warnings"],
        serde_json::json!([])
    );
    let md = w.h.admin.rfc_markdown(&id).expect("markdown");
    assert!(md.contains(&format!("**Warning:** {WARNING}")), "{md}");
    assert_eq!(md.matches("**Warning:**").count(), 1, "{md}");
    assert!(
        md.contains("Provenance: identity created by bob, ")
            && md.contains("enrolled with a code from bob, ")
            && md.contains("Provenance: identity created by admin, ")
            && md.contains("enrolled with a code from admin, "),
        "{md}"
    );

    // The deployment's trace page and the change's page, to an auditor.
    let auditor =
        w.h.admin
            .create_identity("ann", "auditor", &[])
            .expect("auditor")
            .token;
    let signed = sign_in(&base, &auditor, "/ui/");
    assert_eq!(signed.status, 303, "{}", signed.body);
    let cookie = signed.cookie.split(';').next().expect("pair").to_owned();
    for path in [
        format!("/ui/deployments/{deployment}"),
        format!("/ui/changes/{id}"),
    ] {
        let page = get(&format!("{base}{path}"), &cookie);
        assert_eq!(page.status, 200, "{path}: {}", page.body);
        let body = page.body;
        assert!(
            body.contains(&format!("Warning: {WARNING}")),
            "{path}: {body}"
        );
        assert!(
            body.contains("identity created by bob, ")
                && body.contains("enrolled with a code from bob, ")
                && body.contains("identity created by admin, ")
                && body.contains("enrolled with a code from admin, "),
            "{path}: {body}"
        );
    }
    let trace = get(&format!("{base}/ui/deployments/{deployment}"), &cookie).body;
    assert_eq!(
        trace.matches("Warning: ").count(),
        1,
        "only xavier's: {trace}"
    );

    // Shown, never recorded: the tables still equal the ledger's projection.
    let verified = w.h.admin.verify_ledger().expect("verify");
    assert_eq!(verified["verified"], true, "{verified:#}");
}

both_backends!(an_approver_an_admin_enrolled_shows_as_such_on_the_trace_page_and_in_the_rfc);
