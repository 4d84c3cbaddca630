//! Listings sorted by a column and paged in that order: deployments recorded in one order,
//! deployed in another, listed by when they happened, page after page, in both directions;
//! a sort key a listing does not take is refused, naming the ones it does.

use andon_domain::api::DeploymentRequest;
use andon_testkit::{Backend, both_backends};
use serde_json::Value;

use crate::common::release::{Twist, world};

/// Hours ago as RFC 3339, within the late window.
fn hours_ago(h: i64) -> String {
    (jiff::Timestamp::now() - jiff::SignedDuration::from_hours(h)).to_string()
}

fn listings_sort_by_a_column_and_page_in_its_order(b: Backend) {
    let w = world(b);
    let artifact = w.release("pay-9.0.0", Twist::None);
    // Recorded in this order; happened in another; environments out of order too.
    let plan = [
        (5, "staging"),
        (9, "qa"),
        (1, "staging"),
        (7, "dev"),
        (3, "qa"),
        (9, "dev"),
        (2, "staging"),
    ];
    for (h, env) in plan {
        w.h.admin
            .record_deployment(&DeploymentRequest {
                application: "pay".into(),
                artifact: artifact.clone(),
                environment: env.into(),
                deployed_at: Some(hours_ago(h)),
                run: Some(format!("run-{h}-{env}")),
                ..Default::default()
            })
            .expect("recorded");
    }
    let get = |path: &str| -> (u16, Value) {
        let (status, body) = w.h.admin_get(path);
        (status, serde_json::from_str(&body).expect("json"))
    };
    // Every page of a listing, following `before` from the last row of each.
    let pages = |query: &str| -> Vec<Value> {
        let mut rows = Vec::new();
        let mut before = String::new();
        loop {
            let (status, page) = get(&format!("/v1/deployments?{query}&limit=2{before}"));
            assert_eq!(status, 200, "{page}");
            let page = page.as_array().expect("rows").clone();
            let Some(last) = page.last() else { break };
            before = format!("&before={}", last["ledger_index"]);
            let full = page.len() == 2;
            rows.extend(page);
            if !full {
                break;
            }
        }
        rows
    };
    let (_, all) = get("/v1/deployments?application=pay");
    let all = all.as_array().expect("rows").clone();
    assert_eq!(all.len(), plan.len());
    let key = |d: &Value| {
        (
            d["deployed_at"].as_i64().expect("ms"),
            d["ledger_index"].as_u64().expect("i"),
        )
    };
    let mut by_time: Vec<(i64, u64)> = all.iter().map(key).collect();
    by_time.sort();
    // Oldest first, then newest first: every row once, in that order, across pages of two.
    let asc: Vec<(i64, u64)> = pages("application=pay&sort=deployed&order=asc")
        .iter()
        .map(key)
        .collect();
    assert_eq!(asc, by_time);
    let desc: Vec<(i64, u64)> = pages("application=pay&sort=deployed")
        .iter()
        .map(key)
        .collect();
    by_time.reverse();
    assert_eq!(desc, by_time, "deployed sorts newest first by default");
    // Recorded order (the default) is not the time order here: the sort changed something.
    let recorded: Vec<(i64, u64)> = pages("application=pay").iter().map(key).collect();
    assert_ne!(recorded, desc);
    assert!(recorded.windows(2).all(|p| p[0].1 > p[1].1));
    // Text columns: A to Z by default, ties by ledger index in the same direction.
    let envs = pages("application=pay&sort=environment");
    let got: Vec<(String, u64)> = envs
        .iter()
        .map(|d| {
            (
                d["environment"].as_str().expect("env").to_owned(),
                d["ledger_index"].as_u64().expect("i"),
            )
        })
        .collect();
    let mut want = got.clone();
    want.sort();
    assert_eq!(got, want);
    assert_eq!(got.first().map(|g| g.0.as_str()), Some("dev"));
    // Changes sort by their own columns, and refuse the deployments' ones by name.
    let (status, body) = get("/v1/changes?sort=status&order=desc");
    assert_eq!(status, 200, "{body}");
    let (status, body) = get("/v1/changes?sort=deployed");
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "bad_query", "{body}");
    let said = body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        said.contains("changes cannot be sorted by deployed")
            && said.contains("recorded, application, environment, class, status"),
        "{said}"
    );
    let (status, body) = get("/v1/deployments?sort=class");
    assert_eq!(status, 400, "{body}");
    let (status, body) = get("/v1/deployments?sort=deployed&order=sideways");
    assert_eq!(status, 400, "{body}");
    let (status, body) = get("/v1/deployments?sort=ledger_idx");
    assert_eq!(status, 400, "{body}");
}

both_backends!(listings_sort_by_a_column_and_page_in_its_order);
