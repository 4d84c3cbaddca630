//! The Kubernetes admission webhook through the real HTTP path, on both backends: reviews
//! as an API server sends them (a Pod CREATE captured from GKE, and Deployment, Job and
//! CronJob objects kubectl wrote, in the same envelope), images by tag, by digest and by both,
//! allowed and denied gate decisions, audit and enforce, a dry run, an UPDATE, break-glass
//! grants (valid, read-only, expired), malformed reviews answered with a well-formed
//! refusal and nothing written, and a wrong token.

use andon_domain::admission::ClusterInput;
use andon_server::Clock;
use andon_testkit::{Backend, both_backends};
use serde_json::{Value, json};

use crate::common::release::{Twist, world_with};
use crate::common::{Harness, at_ms};

const GKE_POD: &[u8] = include_bytes!("fixtures/admission/gke-pod-create.json");
const DEPLOYMENT: &[u8] = include_bytes!("fixtures/admission/deployment.json");
const JOB: &[u8] = include_bytes!("fixtures/admission/job.json");
const CRONJOB: &[u8] = include_bytes!("fixtures/admission/cronjob.json");
const DAEMONSET: &[u8] = include_bytes!("fixtures/admission/daemonset.json");
const STATEFULSET: &[u8] = include_bytes!("fixtures/admission/statefulset.json");
const REPLICASET: &[u8] = include_bytes!("fixtures/admission/replicaset.json");

/// The captured review with `object` in its request, as the API server would send it.
fn review(object: &[u8], uid: &str) -> Vec<u8> {
    let object: Value = serde_json::from_slice(object).expect("object");
    let mut r: Value = serde_json::from_slice(GKE_POD).expect("review");
    let (group, version) = match object["apiVersion"].as_str().expect("apiVersion") {
        "v1" => ("", "v1"),
        gv => gv.split_once('/').expect("group/version"),
    };
    let kind = object["kind"].as_str().expect("kind");
    let resource = format!("{}s", kind.to_lowercase());
    let req = &mut r["request"];
    req["uid"] = uid.into();
    req["kind"] = json!({"group": group, "version": version, "kind": kind});
    req["requestKind"] = req["kind"].clone();
    req["resource"] = json!({"group": group, "version": version, "resource": resource});
    req["requestResource"] = req["resource"].clone();
    req["name"] = object["metadata"]["name"].clone();
    req["namespace"] = "shop".into();
    req["object"] = object;
    serde_json::to_vec(&r).expect("json")
}

/// The captured Pod review with its container's image replaced.
fn pod(image: &str, uid: &str) -> Vec<u8> {
    let mut r: Value = serde_json::from_slice(GKE_POD).expect("review");
    r["request"]["uid"] = uid.into();
    r["request"]["object"]["spec"]["containers"][0]["image"] = image.into();
    serde_json::to_vec(&r).expect("json")
}

/// POSTs a review to the cluster's webhook: (status, body).
fn ask(h: &Harness, cluster: &str, token: Option<&str>, body: &[u8]) -> (u16, Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut req = agent
        .post(&format!("{}/k8s/admission/v1/{cluster}", h.url))
        .header("Content-Type", "application/json");
    if let Some(t) = token {
        req = req.header("Authorization", &format!("Bearer {t}"));
    }
    let mut resp = req.send(body).expect("response");
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string().expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn response(v: &Value) -> (&str, bool, Option<u64>, &str) {
    let r = &v["response"];
    (
        r["uid"].as_str().unwrap_or_default(),
        r["allowed"].as_bool().expect("allowed"),
        r["status"]["code"].as_u64(),
        r["status"]["message"].as_str().unwrap_or_default(),
    )
}

fn workloads_start_only_with_an_allowing_decision(b: Backend) {
    let clock = Clock::manual(at_ms("2026-12-07T10:00:00Z"));
    let w = world_with(b, |c| c.clock = clock.clone());
    let h = &w.h;
    let allowed = w.release("pay-allowed", Twist::None);
    let denied = w.release("pay-denied", Twist::Failing("tests-pass"));
    assert!(w.gate(&allowed, "production").decision.allow);
    assert!(!w.gate(&denied, "production").decision.allow);

    // An admin registers the production cluster, in audit mode first; the token is shown
    // once. A pipeline may not.
    let input = ClusterInput {
        environment: "production".into(),
        mode: "audit".into(),
        ..ClusterInput::default()
    };
    let before = h.counts();
    assert!(w.ci.set_admission_cluster("prod-eu", &input).is_err());
    let bad = ClusterInput {
        mode: "block".into(),
        ..input.clone()
    };
    let (status, code, _) = crate::common::refusal(h.admin.set_admission_cluster("prod-eu", &bad));
    assert_eq!((status, code.as_str()), (400, "invalid_mode"));
    assert_eq!(h.counts(), before, "a refused registration wrote something");
    let cluster = h
        .admin
        .set_admission_cluster("prod-eu", &input)
        .expect("registered");
    let token = cluster.token.clone().expect("a token, once");
    assert_eq!(cluster.max_decision_age_days, 30);
    assert!(
        h.admin.admission_clusters().expect("list")[0]
            .token
            .is_none()
    );

    // No token, a wrong one, another cluster's name: 401, nothing written.
    let body = review(DEPLOYMENT, "u-1");
    let before = h.counts();
    for (cluster, t) in [
        ("prod-eu", None),
        ("prod-eu", Some("andon_wrong")),
        ("prod-us", Some(token.as_str())),
    ] {
        assert_eq!(ask(h, cluster, t, &body).0, 401, "{cluster}");
    }
    assert_eq!(h.counts(), before);

    // A managed control plane cannot send the header: the token as the last path segment.
    let (status, v) = ask(h, &format!("prod-eu/{token}"), None, &body);
    assert_eq!((status, response(&v).1), (200, true), "{v}");
    assert_eq!(ask(h, "prod-eu/andon_wrong", None, &body).0, 401);
    assert_eq!(h.counts(), before);

    // The Deployment kubectl wrote runs the allowed artifact: admitted, nothing written.
    let (status, v) = ask(h, "prod-eu", Some(&token), &body);
    assert_eq!(status, 200);
    assert_eq!(response(&v), ("u-1", true, None, ""));
    assert_eq!(v["apiVersion"], "admission.k8s.io/v1");
    assert_eq!(h.counts(), before, "an admitted workload wrote something");

    // Audit mode: the captured GKE pod (an image by tag) and the Job running the denied
    // artifact are admitted with a warning naming the control, and each is recorded.
    let (_, v) = ask(h, "prod-eu", Some(&token), GKE_POD);
    assert_eq!(
        response(&v),
        ("0c9a8d74-9cb7-44dd-b98e-09fd62def2f4", true, None, "")
    );
    assert_eq!(
        v["response"]["warnings"][0],
        "andon would refuse in enforce mode: colin-coder/echo-pod container echo-server: jmalloc/echo-server is not pinned by digest (control image_pinned)"
    );
    let (_, v) = ask(h, "prod-eu", Some(&token), &review(JOB, "u-2"));
    assert!(response(&v).1);
    let warning = v["response"]["warnings"][0].as_str().unwrap_or_default();
    assert!(
        warning.contains("shop/pay-migrate container pay-migrate")
            && warning.contains("was denied by the gate for production (tests-pass)")
            && warning.contains("(control tests-pass)"),
        "{warning}"
    );
    let events = h.admin.admission_events(Some("prod-eu")).expect("events");
    assert_eq!(events.len(), 2);
    assert!(events.iter().all(|e| !e.enforced));
    assert_eq!(
        (
            events[0].kind.as_str(),
            events[0].name.as_str(),
            events[0].images[0].control.as_str()
        ),
        ("Job", "pay-migrate", "tests-pass")
    );
    assert_eq!(events[1].user, "colin@coder.com");
    assert_eq!(events[1].images[0].control, "image_pinned");
    let alerts: Vec<_> = h
        .admin
        .alerts()
        .expect("alerts")
        .into_iter()
        .filter(|a| a.kind == "admission_would_refuse")
        .collect();
    assert_eq!(alerts.len(), 2);

    // Enforce: refused with 403 and the failing control in the message, still recorded.
    let enforce = ClusterInput {
        mode: "enforce".into(),
        ..input.clone()
    };
    let changed = h
        .admin
        .set_admission_cluster("prod-eu", &enforce)
        .expect("enforce");
    assert!(changed.token.is_none(), "the token is kept unless asked");
    let (status, v) = ask(h, "prod-eu", Some(&token), &review(CRONJOB, "u-3"));
    assert_eq!(status, 200);
    let (uid, ok, code, message) = response(&v);
    assert_eq!((uid, ok, code), ("u-3", false, Some(403)));
    assert!(
        message.starts_with("andon: shop/pay-report container pay-report: registry.example.com/pay:1.4 is not pinned by digest (control image_pinned) (ledger entry "),
        "{message}"
    );
    let (_, v) = ask(h, "prod-eu", Some(&token), &pod(&denied, "u-4"));
    assert_eq!(response(&v).2, Some(403));
    // An image with no decision for production at all.
    let unknown = format!("registry.example.com/pay@sha256:{}", "e".repeat(64));
    let (_, v) = ask(h, "prod-eu", Some(&token), &pod(&unknown, "u-5"));
    assert!(
        response(&v)
            .3
            .contains("has no gate decision for production (control release_gate)"),
        "{v}"
    );
    // The allowed artifact as a pod: admitted; by tag and digest both, as `kubectl set
    // image` writes a pinned tag, the digest decides.
    let (_, v) = ask(h, "prod-eu", Some(&token), &pod(&allowed, "u-6"));
    assert!(response(&v).1, "{v}");
    let both = allowed.replacen("@sha256:", ":2.1@sha256:", 1);
    let (_, v) = ask(h, "prod-eu", Some(&token), &pod(&both, "u-6t"));
    assert!(response(&v).1, "{both}: {v}");
    let denied_both = denied.replacen("@sha256:", ":2.1@sha256:", 1);
    let (_, v) = ask(h, "prod-eu", Some(&token), &pod(&denied_both, "u-6u"));
    assert!(!response(&v).1, "{denied_both}: {v}");
    // A release gated while its pods are being refused: the next review sees the new
    // decision at once (the webhook's cache of decisions is cleared by it).
    let late = w.release("pay-late", Twist::None);
    let (_, v) = ask(h, "prod-eu", Some(&token), &pod(&late, "u-6b"));
    assert!(response(&v).3.contains("has no gate decision"), "{v}");
    assert!(w.gate(&late, "production").decision.allow);
    let (_, v) = ask(h, "prod-eu", Some(&token), &pod(&late, "u-6c"));
    assert!(response(&v).1, "{v}");

    // Break-glass: alice holds a write grant for production that bob approved. The denied
    // artifact, annotated with it, is admitted, recorded as an override and alerted high;
    // on a Job the annotation is read from the pod template too.
    let person = |name: &str| {
        let issued = h
            .admin
            .create_identity(name, "approver", &[])
            .expect("identity");
        andon_client::Client::new(&h.url, Some(issued.token))
    };
    let (alice, bob) = (person("alice"), person("bob"));
    let grant = |level: &str| {
        let r = alice
            .request_access(&andon_domain::api::AccessRequestInput {
                application: "pay".into(),
                environment: "production".into(),
                level: level.into(),
                reason: "INC-9 payments down, hotfix image".into(),
                ticket: "INC-9".into(),
                minutes: 60,
            })
            .expect("requested");
        let id = r["id"].as_str().expect("id").to_owned();
        bob.decide_access(&id, "approve", None).expect("approved");
        id
    };
    let write = grant("write");
    let annotated = |body: Vec<u8>, path: &[&str], ar: &str| {
        let mut v: Value = serde_json::from_slice(&body).expect("json");
        let mut at = &mut v["request"]["object"];
        for p in path {
            at = &mut at[*p];
        }
        at["metadata"]["annotations"]["andon.dev/break-glass"] = ar.into();
        serde_json::to_vec(&v).expect("json")
    };
    let (_, v) = ask(
        h,
        "prod-eu",
        Some(&token),
        &annotated(pod(&denied, "u-10"), &[], &write),
    );
    assert!(response(&v).1, "{v}");
    let warning = v["response"]["warnings"][0].as_str().unwrap_or_default();
    assert!(
        warning.starts_with(&format!(
            "andon: admitted by break-glass grant {write} (INC-9, held by alice, approved by bob) though colin-coder/echo-pod container echo-server: {denied} was denied by the gate"
        )),
        "{warning}"
    );
    let (_, v) = ask(
        h,
        "prod-eu",
        Some(&token),
        &annotated(review(JOB, "u-11"), &["spec", "template"], &write),
    );
    assert!(response(&v).1, "{v}");
    let events = h.admin.admission_events(Some("prod-eu")).expect("events");
    let used = events[0]
        .grant
        .as_ref()
        .expect("the override names its grant");
    assert_eq!(
        (
            used.id.as_str(),
            used.holder.as_str(),
            used.approved_by.as_str()
        ),
        (write.as_str(), "alice", "bob")
    );
    let overrides: Vec<_> = h
        .admin
        .alerts()
        .expect("alerts")
        .into_iter()
        .filter(|a| a.kind == "admission_override")
        .collect();
    assert_eq!(overrides.len(), 2);
    assert_eq!(overrides[0].severity, "high");
    // A read grant does not admit anything, and says why.
    let read = grant("read");
    let (_, v) = ask(
        h,
        "prod-eu",
        Some(&token),
        &annotated(pod(&denied, "u-12"), &[], &read),
    );
    assert!(
        response(&v).3.contains(&format!(
            "break-glass {read} not honoured: it grants read access only"
        )),
        "{v}"
    );

    // A dry run is judged and writes nothing.
    let mut dry: Value = serde_json::from_slice(&review(CRONJOB, "u-7")).expect("json");
    dry["request"]["dryRun"] = true.into();
    let before = h.counts();
    let (_, v) = ask(
        h,
        "prod-eu",
        Some(&token),
        &serde_json::to_vec(&dry).expect("json"),
    );
    assert!(!response(&v).1);
    assert!(!response(&v).3.contains("ledger entry"));
    assert_eq!(h.counts(), before, "a dry run wrote something");

    // An UPDATE judges only the images it brings: the CronJob keeps its old image.
    let mut update: Value = serde_json::from_slice(&review(CRONJOB, "u-8")).expect("json");
    update["request"]["operation"] = "UPDATE".into();
    update["request"]["oldObject"] = update["request"]["object"].clone();
    let (_, v) = ask(
        h,
        "prod-eu",
        Some(&token),
        &serde_json::to_vec(&update).expect("json"),
    );
    assert!(response(&v).1, "{v}");

    // Malformed reviews: a well-formed refusal with the uid when there is one, and nothing
    // written.
    let before = h.counts();
    for (body, uid, says) in [
        (b"not json".to_vec(), "", "not JSON"),
        (
            br#"{"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","request":{"uid":"old"}}"#.to_vec(),
            "old",
            "admission.k8s.io/v1",
        ),
        (
            br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"cm","kind":{"kind":"ConfigMap"},"operation":"CREATE","object":{"data":{}}}}"#.to_vec(),
            "cm",
            "no pod spec",
        ),
    ] {
        let (status, v) = ask(h, "prod-eu", Some(&token), &body);
        assert_eq!(status, 200);
        let (got, ok, code, message) = response(&v);
        assert_eq!((got, ok, code), (uid, false, Some(400)), "{v}");
        assert!(message.contains(says), "{message}");
        assert_eq!(v["kind"], "AdmissionReview");
    }
    assert_eq!(h.counts(), before, "a malformed review wrote something");

    // A decision older than the cluster allows: refused as expired.
    clock.set_ms(at_ms("2027-01-10T10:00:00Z"));
    let (_, v) = ask(h, "prod-eu", Some(&token), &pod(&allowed, "u-9"));
    assert!(
        response(&v)
            .3
            .contains("more than the cluster's 30 days (control decision_expired)"),
        "{v}"
    );

    // The grant ran out long ago.
    let (_, v) = ask(
        h,
        "prod-eu",
        Some(&token),
        &annotated(pod(&denied, "u-13"), &[], &write),
    );
    assert!(
        response(&v)
            .3
            .contains(&format!("break-glass {write} not honoured: it has expired")),
        "{v}"
    );

    // Every refusal and the cluster are ledger entries the verification re-derives; a
    // refusal deleted behind the ledger is named.
    let clean = h.admin.verify_ledger().expect("verify");
    assert_eq!(clean["verified"], true, "{clean:#}");
    crate::operator::execute(
        h,
        &["DELETE FROM admission_events WHERE kind = 'CronJob'".to_owned()],
    );
    let found = h.admin.verify_ledger().expect("verify");
    assert_eq!(found["verified"], false, "{found:#}");
    assert!(
        found.to_string().contains("table admission_events"),
        "{found:#}"
    );
}

/// `object` with the image of its pod template's first container replaced.
fn with_template_image(object: &[u8], image: &str) -> Vec<u8> {
    let mut o: Value = serde_json::from_slice(object).expect("object");
    o["spec"]["template"]["spec"]["containers"][0]["image"] = image.into();
    serde_json::to_vec(&o).expect("json")
}

fn every_workload_kind_is_judged_by_its_pod_template(b: Backend) {
    let w = world_with(b, |_| {});
    let h = &w.h;
    let allowed = w.release("pay-allowed", Twist::None);
    assert!(w.gate(&allowed, "production").decision.allow);
    let token = h
        .admin
        .set_admission_cluster(
            "prod-eu",
            &ClusterInput {
                environment: "production".into(),
                mode: "enforce".into(),
                ..ClusterInput::default()
            },
        )
        .expect("registered")
        .token
        .expect("token");
    // The Kubernetes documentation's DaemonSet, StatefulSet and ReplicaSet, images by tag:
    // each refused, naming its container and image; pinned to the allowed release:
    // admitted.
    for (object, kind, name, container, image) in [
        (
            DAEMONSET,
            "DaemonSet",
            "fluentd-elasticsearch",
            "fluentd-elasticsearch",
            "k8s.gcr.io/fluentd-elasticsearch:1.20",
        ),
        (
            STATEFULSET,
            "StatefulSet",
            "web",
            "nginx",
            "registry.k8s.io/nginx-slim:0.24",
        ),
        (REPLICASET, "ReplicaSet", "my-repset", "nginx", "nginx"),
    ] {
        let uid = format!("u-{kind}");
        let (status, v) = ask(h, "prod-eu", Some(&token), &review(object, &uid));
        assert_eq!(status, 200, "{v}");
        let (answered, allowed_now, code, message) = response(&v);
        assert_eq!(
            (answered, allowed_now, code),
            (uid.as_str(), false, Some(403)),
            "{v}"
        );
        assert!(
            message.starts_with(&format!(
                "andon: shop/{name} container {container}: {image} is not pinned by digest (control image_pinned)"
            )),
            "{kind}: {message}"
        );
        let pinned = with_template_image(object, &allowed);
        let (_, v) = ask(
            h,
            "prod-eu",
            Some(&token),
            &review(&pinned, &format!("{uid}-pinned")),
        );
        assert!(response(&v).1, "{kind}: {v}");
    }
    let kinds: Vec<String> = h
        .admin
        .admission_events(Some("prod-eu"))
        .expect("events")
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        kinds,
        ["ReplicaSet", "StatefulSet", "DaemonSet"],
        "newest first"
    );
}

both_backends!(
    workloads_start_only_with_an_allowing_decision,
    every_workload_kind_is_judged_by_its_pod_template,
);
