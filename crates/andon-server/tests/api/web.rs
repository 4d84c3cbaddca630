//! The web interface over HTTP, on both backends: signing in exchanges a token for a
//! session that reads everything and changes nothing; every page renders the release the
//! test made, from the same storage the API reads; bad input is a clear page, not a 500.

use crate::common::release::{Twist, world};
use andon_domain::api::DeploymentRequest;
use andon_testkit::{Backend, both_backends};

pub(crate) struct Answer {
    pub(crate) status: u16,
    location: String,
    pub(crate) cookie: String,
    content_type: String,
    csp: String,
    pub(crate) body: String,
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into()
}

fn answer(mut r: ureq::http::Response<ureq::Body>) -> Answer {
    let header = |name: &str| {
        r.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let (location, cookie, content_type, csp) = (
        header("location"),
        header("set-cookie"),
        header("content-type"),
        header("content-security-policy"),
    );
    Answer {
        status: r.status().as_u16(),
        location,
        cookie,
        content_type,
        csp,
        body: r.body_mut().read_to_string().unwrap_or_default(),
    }
}

pub(crate) fn get(url: &str, cookie: &str) -> Answer {
    let mut req = agent().get(url);
    if !cookie.is_empty() {
        req = req.header("Cookie", cookie);
    }
    answer(req.call().expect("response"))
}

pub(crate) fn sign_in(base: &str, token: &str, next: &str) -> Answer {
    answer(
        agent()
            .post(&format!("{base}/ui/sign-in"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .send(format!(
                "token={token}&next={}",
                next.replace('/', "%2F").replace(':', "%3A")
            ))
            .expect("response"),
    )
}

fn ledger_size(base: &str, token: &str) -> u64 {
    let mut r = agent()
        .get(&format!("{base}/v1/ledger"))
        .header("Authorization", &format!("Bearer {token}"))
        .call()
        .expect("response");
    let v: serde_json::Value =
        serde_json::from_str(&r.body_mut().read_to_string().expect("body")).expect("json");
    v["size"].as_u64().expect("size")
}

fn an_auditor_signs_in_and_reads_every_page(b: Backend) {
    let w = world(b);
    let base = w.h.url.clone();
    let good = w.release("pay-9.0.0", Twist::None);
    let failing = w.release("pay-9.0.1", Twist::Failing("tests-pass"));
    let allowed = w.gate(&good, "production");
    w.gate(&failing, "production");
    let deployed =
        w.ci.record_deployment(&DeploymentRequest {
            application: "pay".into(),
            artifact: good.clone(),
            environment: "production".into(),
            decision: Some(allowed.id.clone()),
            run: Some("77".into()),
            ..Default::default()
        })
        .expect("recorded");
    let deployment = deployed["deployment"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let auditor =
        w.h.admin
            .create_identity("ann", "auditor", &[])
            .expect("auditor")
            .token;
    let admin = w.h.admin.token().expect("token").to_owned();

    // Signed out: the page sends the browser to sign in, and says where it was going.
    let a = get(&format!("{base}/ui/controls?application=pay"), "");
    assert_eq!(a.status, 303);
    assert_eq!(
        a.location,
        "/ui/sign-in?next=%2Fui%2Fcontrols%3Fapplication%3Dpay"
    );
    // A wrong token: the form again, no session.
    let a = sign_in(&base, "andon_wrong", "/ui/");
    assert_eq!(a.status, 401);
    assert!(a.body.contains("That token is not valid."), "{}", a.body);
    assert!(a.cookie.is_empty(), "{}", a.cookie);
    // A sign-in posted from another site's page is refused.
    let a = answer(
        agent()
            .post(&format!("{base}/ui/sign-in"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("Origin", "http://evil.example")
            .send(format!("token={auditor}"))
            .expect("response"),
    );
    assert_eq!(a.status, 403, "{}", a.body);
    assert!(a.cookie.is_empty(), "{}", a.cookie);
    // The right one: a session cookie no script can read and no other site can send; a
    // `next` pointing elsewhere is not followed.
    let a = sign_in(&base, &auditor, "//evil.example/ui/");
    assert_eq!(a.status, 303, "{}", a.body);
    assert_eq!(a.location, "/ui/");
    assert!(
        a.cookie.starts_with("andon_session=v1.")
            && a.cookie.contains("HttpOnly")
            && a.cookie.contains("SameSite=Strict"),
        "{}",
        a.cookie
    );
    assert!(
        !a.cookie.contains(&auditor),
        "the token itself is not in the cookie"
    );
    let cookie = a.cookie.split(';').next().expect("pair").to_owned();

    let page = |path: &str| {
        let a = get(&format!("{base}{path}"), &cookie);
        assert_eq!(a.status, 200, "{path}: {}", a.body);
        assert!(a.content_type.starts_with("text/html"), "{path}");
        assert!(a.csp.contains("default-src 'none'"), "{path}: {}", a.csp);
        assert!(!a.body.contains("<script"), "{path} has a script");
        a.body
    };
    // The overview counts the two production decisions, one allowed.
    let overview = page("/ui/");
    assert!(overview.contains("ann (auditor)"), "{overview}");
    assert!(overview.contains(&deployment), "{overview}");
    assert!(
        overview.contains("50%") && overview.contains(" of 2 production decisions"),
        "{overview}"
    );
    // Evidence: by application and type; by the control that relied on it.
    let junit = page(
        "/ui/evidence?app=pay&predicate_type=https%3A%2F%2Fandon.dev%2Fattestations%2Fjunit%2Fv1",
    );
    assert_eq!(junit.matches("<td>junit</td>").count(), 2, "{junit}");
    assert!(
        junit.contains("/v1/evidence?app=pay&amp;predicate_type="),
        "the export links"
    );
    let cited = page("/ui/evidence?app=pay&control=tests-pass");
    assert_eq!(cited.matches("<td>junit</td>").count(), 2, "{cited}");
    // The same search through the API, as the page's CSV export link asks it.
    let csv = get(
        &format!("{base}/v1/evidence?app=pay&control=tests-pass&format=csv"),
        &cookie,
    );
    assert_eq!(csv.body.lines().count(), 3, "{}", csv.body);
    assert!(
        csv.body.lines().skip(1).all(|l| l.contains("/junit/v1")),
        "{}",
        csv.body
    );
    let paged = get(
        &format!("{base}/v1/evidence?app=pay&control=tests-pass&limit=1"),
        &cookie,
    );
    let paged: serde_json::Value = serde_json::from_str(&paged.body).expect("json");
    assert_eq!(
        paged["evidence"].as_array().map(Vec::len),
        Some(1),
        "{paged}"
    );
    let next = paged["next_before"].as_u64().expect("a next page");
    let rest = get(
        &format!("{base}/v1/evidence?app=pay&control=tests-pass&before={next}"),
        &cookie,
    );
    let rest: serde_json::Value = serde_json::from_str(&rest.body).expect("json");
    assert_eq!(rest["evidence"].as_array().map(Vec::len), Some(1), "{rest}");
    assert_ne!(rest["evidence"][0]["id"], paged["evidence"][0]["id"]);
    // Change records page by ledger index and filter by environment.
    let json = |path: &str| -> serde_json::Value {
        serde_json::from_str(&get(&format!("{base}{path}"), &cookie).body).expect("json")
    };
    let all = json("/v1/changes?application=pay");
    let newest = json("/v1/changes?application=pay&limit=1");
    assert_eq!(newest.as_array().map(Vec::len), Some(1), "{newest}");
    assert_eq!(newest[0]["id"], all[0]["id"]);
    let older = json(&format!(
        "/v1/changes?application=pay&before={}",
        newest[0]["ledger_index"]
    ));
    assert_eq!(
        older.as_array().map(Vec::len),
        all.as_array().map(|a| a.len() - 1),
        "{older}"
    );
    assert_eq!(
        json("/v1/changes?environment=staging")
            .as_array()
            .map(Vec::len),
        Some(0)
    );
    let bad = get(&format!("{base}/v1/evidence?control=tests-pass"), &cookie);
    assert_eq!(bad.status, 400, "{}", bad.body);
    // The deployment's trace: the decision's verdicts, the evidence, the change.
    let trace = page(&format!("/ui/deployments/{deployment}"));
    for want in [
        "Gate decision",
        "tests-pass",
        "provenance",
        "Change record",
        "Commits, pull requests",
    ] {
        assert!(trace.contains(want), "{want}: {trace}");
    }
    // The matrix, and the one failing case behind tests-pass.
    let matrix = page("/ui/controls?application=pay");
    assert!(
        matrix.contains("tests-pass") && matrix.contains("NIST SP 800-53"),
        "{matrix}"
    );
    let cases = page("/ui/controls/tests-pass?application=pay&verdict=fail");
    assert_eq!(
        cases.matches("<span class=\"fail\">fail</span>").count(),
        1,
        "{cases}"
    );
    for path in [
        "/ui/deployments",
        "/ui/changes",
        "/ui/access",
        "/ui/alerts",
        "/ui/vulnerabilities",
        "/ui/metrics?application=pay",
    ] {
        page(path);
    }
    // The four keys (time to restore among them), access debt and pass rates; units on
    // the axes, band boundaries drawn.
    let metrics = page("/ui/metrics?application=pay");
    // Six, and the two security charts: the Trivy scan of what pay runs in production
    // opened vulnerability items.
    assert_eq!(metrics.matches("<svg role=\"img\"").count(), 8);
    assert!(
        metrics.contains("Open vulnerability items by age"),
        "{metrics}"
    );
    assert!(
        metrics.contains("Time to restore, weekly median"),
        "{metrics}"
    );
    assert!(metrics.contains(">hours</text>") && metrics.contains(">minutes</text>"));
    // The ledger page shows the last self-check, and checks an inclusion proof against
    // the signed checkpoint.
    w.h.admin.verify_ledger().expect("verified");
    let ledger = page(&format!("/ui/ledger?index={}", allowed.ledger_index));
    assert!(
        ledger.contains("<span class=\"pass\">passed</span>"),
        "{ledger}"
    );
    // What was checked, in words: every entry then, the checkpoints, the replayed tables.
    assert!(
        ledger.contains("entries recomputed")
            && ledger.contains("signed checkpoints checked")
            && ledger.contains("tables compared with a replay"),
        "{ledger}"
    );
    assert!(ledger.contains("is included"), "{ledger}");
    assert!(
        ledger.contains("the checkpoint&#39;s signature verifies")
            || ledger.contains("the checkpoint's signature verifies"),
        "{ledger}"
    );

    // Bad input: a clear page with the status, nothing more.
    let a = get(&format!("{base}/ui/evidence?since=yesterday"), &cookie);
    assert_eq!(a.status, 400);
    assert!(a.body.contains("since is not a date"), "{}", a.body);
    let a = get(&format!("{base}/ui/deployments/D-nosuch"), &cookie);
    assert_eq!(a.status, 404);
    let a = get(&format!("{base}/ui/ledger?index=99999"), &cookie);
    assert!(a.body.contains("error-box"), "{}", a.body);

    // The session reads the API too (the export links), and changes nothing.
    let csv = get(&format!("{base}/v1/evidence?app=pay&format=csv"), &cookie);
    assert_eq!(csv.status, 200);
    assert!(csv.content_type.starts_with("text/csv"));
    let size = ledger_size(&base, &admin);
    let post = answer(
        agent()
            .post(&format!("{base}/v1/ledger/verify"))
            .header("Cookie", &cookie)
            .send_empty()
            .expect("response"),
    );
    assert_eq!(post.status, 401, "{}", post.body);
    let waiver = answer(
        agent()
            .post(&format!("{base}/v1/waivers"))
            .header("Cookie", &cookie)
            .header("Content-Type", "application/json")
            .send(r#"{"application":"pay","control":"tests-pass","artifact":"x","reason":"r","minutes":5}"#)
            .expect("response"),
    );
    assert_eq!(waiver.status, 401, "{}", waiver.body);
    assert_eq!(ledger_size(&base, &admin), size, "nothing written");

    // A cookie altered by one character is no session.
    let mut forged = cookie.clone().into_bytes();
    let last = forged.len() - 1;
    forged[last] = if forged[last] == b'0' { b'1' } else { b'0' };
    let a = get(
        &format!("{base}/ui/"),
        &String::from_utf8(forged).expect("utf-8"),
    );
    assert_eq!(a.status, 303);
    // Signing out drops the cookie.
    let out = answer(
        agent()
            .post(&format!("{base}/ui/sign-out"))
            .header("Cookie", &cookie)
            .send_empty()
            .expect("response"),
    );
    assert_eq!(out.status, 303);
    assert!(out.cookie.contains("Max-Age=0"), "{}", out.cookie);
}

both_backends!(an_auditor_signs_in_and_reads_every_page);
