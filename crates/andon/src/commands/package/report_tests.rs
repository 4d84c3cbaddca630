use andon_domain::gate::{ControlResult, DecisionDoc, PolicyRef, Verdict};
use andon_domain::{EntryKind, Envelope, LedgerEntry, SigningKey};

use super::*;

/// A gate decision entry and its signed decision, with one control per `(id, title, verdict)`.
fn decision(index: u64, controls: &[(&str, &str, Verdict)]) -> InScope {
    let doc = DecisionDoc {
        version: "andon.decision/v1".into(),
        application: "pay".into(),
        environment: "production".into(),
        artifact: format!("pay@sha256:{}", "a".repeat(64)),
        policy: PolicyRef {
            name: "library".into(),
            version: "b".repeat(64),
        },
        allow: false,
        controls: controls
            .iter()
            .map(|(id, title, verdict)| ControlResult {
                id: (*id).into(),
                title: (*title).into(),
                verdict: *verdict,
                reason: "because".into(),
                evidence: vec![],
                waiver: None,
            })
            .collect(),
        input: serde_json::json!({}),
        decided_at: "2026-12-03T10:00:00Z".into(),
        requested_by: "ci".into(),
    };
    let envelope = Envelope::sign(
        "application/vnd.andon.decision+json",
        &serde_json::to_vec(&doc).expect("json"),
        &SigningKey::from_seed([7; 32]),
    );
    let entry = LedgerEntry {
        v: 1,
        kind: EntryKind::GateDecision,
        time: "2026-12-03T10:00:00Z".into(),
        actor: "ci".into(),
        via: None,
        body: serde_json::json!({}),
        rows: None,
    };
    InScope {
        index,
        entry: serde_json::to_vec(&entry).expect("json"),
        document: Some(serde_json::to_vec(&envelope).expect("json")),
    }
}

const AWKWARD: &str = "Tests pass, \"all of them\",\nand on time";

#[test]
fn a_title_with_commas_quotes_and_line_breaks_stays_one_cell() {
    let entries = [
        decision(
            0,
            &[
                ("tests-pass", AWKWARD, Verdict::Pass),
                ("sbom", "SBOM present", Verdict::Missing),
            ],
        ),
        decision(1, &[("tests-pass", AWKWARD, Verdict::Fail)]),
    ];
    let rows = control_rows(&entries);
    let csv_text = controls_csv(&rows).expect("csv");

    // Read back by a CSV reader: every record has the header's width, the title whole.
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .expect("header")
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(
        header,
        [
            "control",
            "title",
            "decisions",
            "pass",
            "fail",
            "missing",
            "waived",
            "not_applicable",
            "error"
        ]
    );
    let records: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("record")).collect();
    assert_eq!(records.len(), 2, "{csv_text}");
    let tests = records
        .iter()
        .find(|r| &r[0] == "tests-pass")
        .expect("tests-pass");
    assert_eq!(
        tests.iter().collect::<Vec<_>>(),
        ["tests-pass", AWKWARD, "2", "1", "1", "0", "0", "0", "0"]
    );
    let sbom = records.iter().find(|r| &r[0] == "sbom").expect("sbom");
    assert_eq!(&sbom[5], "1", "missing counted in its own column");

    // The report shows the same cells, escaped, one row per control of nine cells.
    let m = Manifest {
        format: super::super::FORMAT.into(),
        application: "pay".into(),
        since: None,
        until: None,
        origin: "andon.local/x".into(),
        verifier_key: "k".into(),
        tree_size: 2,
        entries: 2,
        files: BTreeMap::new(),
    };
    let page = report_html(&m, "note", &entries, &rows);
    let start = page
        .find("<tr><td>tests-pass</td>")
        .expect("the control's row");
    let row = &page[start..start + page[start..].find("</tr>").expect("row end") + 5];
    assert_eq!(row.matches("<td>").count(), 9, "{row}");
    assert!(
        row.contains("<td>Tests pass, &quot;all of them&quot;,"),
        "{row}"
    );
    assert!(
        row.ends_with(
            "<td>2</td><td>1</td><td>1</td><td>0</td><td>0</td><td>0</td><td>0</td></tr>"
        ),
        "{row}"
    );
}
