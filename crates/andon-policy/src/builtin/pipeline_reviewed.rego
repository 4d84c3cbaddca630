package andon.controls.pipeline_reviewed

import data.andon.lib
import rego.v1

metadata := {
	"id": "pipeline-reviewed",
	"title": "The pipeline definition that ran is a reviewed version",
	"risk": "Someone changes the pipeline itself (skipping tests, scans or signing) without review.",
	"stage": "build",
	"evidence": ["pipeline-definition", "pull request and reviews of its commit"],
	"frameworks": ["NIST SP 800-53 CM-5", "NIST SP 800-53 SA-10", "PCI DSS 4.0 6.5.1", "SLSA Build L3"],
	"params": {},
}

definitions := lib.evidence_of("pipeline-definition")

without_commit := {e.summary.path | some e in definitions; not is_string(e.summary.commit)}

commits := {e.summary.commit | some e in definitions; is_string(e.summary.commit)}

unrecorded := {lib.short(sha) | some sha in commits; not lib.commit_recorded(sha)}

unreviewed := {lib.review_findings(sha) | some sha in commits; lib.commit_recorded(sha); not lib.commit_reviewed(sha)}

result := lib.missing("no pipeline-definition evidence for this artifact") if {
	count(definitions) == 0
} else := lib.missing(sprintf("the pipeline definition %s names no commit", [concat(", ", without_commit)])) if {
	count(without_commit) > 0
} else := lib.missing(sprintf("no pull request recorded for pipeline commit %s", [concat(", ", unrecorded)])) if {
	count(unrecorded) > 0
} else := lib.fail(sprintf("pipeline definition not independently reviewed: %s", [concat("; ", unreviewed)]), lib.ids(definitions)) if {
	count(unreviewed) > 0
} else := lib.pass(sprintf("%s reviewed", [concat(", ", {e.summary.path | some e in definitions})]), lib.ids(definitions))

test_missing if {
	result.verdict == "missing" with input as {"evidence": [], "commits": []} with data.andon.params as {}
}
