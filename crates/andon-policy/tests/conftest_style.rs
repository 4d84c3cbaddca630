//! Policies written for OPA or Conftest: `import rego.v1` and a `deny` set.

use andon_policy::{Bundle, Policy, Verdict};
use serde_json::json;

const MODULE: &str = r#"package andon.controls.release_window

import rego.v1

metadata := {
	"id": "release-window",
	"title": "No production release from a non-main branch",
	"risk": "An unmerged branch build reaches production.",
	"stage": "release",
	"evidence": ["pull requests"],
	"frameworks": ["internal CHG-7"],
}

deny contains msg if {
	input.environment.production
	some c in input.commits
	some pr in c.pull_requests
	pr.target_branch != "main"
	msg := sprintf("%s#%d targets %s, not main", [pr.repository, pr.number, pr.target_branch])
}
"#;

#[test]
fn a_deny_set_fails_with_its_messages_and_passes_when_empty() {
    let mut b = Bundle::builtin_default();
    b.builtin = false;
    b.modules.insert("w.rego".into(), MODULE.into());
    let p = Policy::compile(b).expect("compiles");
    assert!(p.compiled_to_vm());
    let input = |branch: &str| json!({"environment": {"production": true}, "commits": [{"pull_requests": [{"repository": "r", "number": 1, "target_branch": branch}]}]});
    let e = p.evaluate(&input("dev"));
    assert_eq!(e.controls[0].verdict, Verdict::Fail, "{:?}", e.controls[0]);
    assert_eq!(e.controls[0].reason, "r#1 targets dev, not main");
    let e = p.evaluate(&input("main"));
    assert_eq!(e.controls[0].verdict, Verdict::Pass, "{:?}", e.controls[0]);
}
