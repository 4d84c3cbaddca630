//! Exports of searches: any listing as CSV for a spreadsheet (`format=csv`), the same rows as
//! its JSON, with a header line and a file name; an unknown format is a clear error.

use crate::common;
use andon_testkit::{Backend, both_backends};

fn listings_export_as_csv(b: Backend) {
    let h = common::start(b);
    let (ci, key) = h.pipeline("pay");
    for n in 0..3 {
        ci.submit_evidence("pay", Some("run-7"), None, &common::envelope(&key, n))
            .expect("evidence");
    }
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let token = h.admin.token().expect("token").to_owned();
    let get = |path: &str| {
        let mut r = agent
            .get(&format!("{}{path}", h.url))
            .header("Authorization", &format!("Bearer {token}"))
            .call()
            .expect("response");
        let status = r.status().as_u16();
        let header = |n: &str| {
            r.headers()
                .get(n)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        let (media, disposition) = (header("content-type"), header("content-disposition"));
        (
            status,
            media,
            disposition,
            r.body_mut().read_to_string().expect("body"),
        )
    };
    let (status, media, disposition, body) = get("/v1/evidence?app=pay&format=csv");
    assert_eq!(status, 200, "{body}");
    assert!(media.starts_with("text/csv"), "{media}");
    assert_eq!(disposition, "attachment; filename=\"evidence.csv\"");
    let lines: Vec<&str> = body.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 4, "{body}");
    let header: Vec<&str> = lines[0].split(',').collect();
    for column in ["id", "ledger_index", "application", "run", "signer"] {
        assert!(header.contains(&column), "{header:?}");
    }
    // The same rows as the JSON listing, in the same order.
    let json = h.admin.list_evidence(&andon_client::EvidenceQuery {
        app: Some("pay".into()),
        ..Default::default()
    });
    let ids: Vec<String> = json
        .expect("json")
        .evidence
        .iter()
        .map(|e| e.id.clone())
        .collect();
    let id_col = header.iter().position(|c| *c == "id").expect("id column");
    let csv_ids: Vec<&str> = lines[1..]
        .iter()
        .map(|l| l.split(',').nth(id_col).expect("id"))
        .collect();
    assert_eq!(csv_ids, ids);
    assert!(lines[1..].iter().all(|l| l.contains(",run-7,")), "{body}");
    // Every listing that offers it.
    for path in [
        "/v1/deployments?format=csv",
        "/v1/changes?format=csv",
        "/v1/alerts?format=csv",
        "/v1/access/requests?format=csv",
        "/v1/notifications?format=csv",
    ] {
        let (status, media, _, body) = get(path);
        assert_eq!(status, 200, "{path}: {body}");
        assert!(media.starts_with("text/csv"), "{path}: {media}");
    }
    let (status, _, _, body) = get("/v1/evidence?app=pay&format=xml");
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("bad_query"), "{body}");
}

both_backends!(listings_export_as_csv);
