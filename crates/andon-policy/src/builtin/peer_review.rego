package andon.controls.peer_review

import data.andon.lib
import rego.v1

metadata := {
	"id": "peer-review",
	"title": "Independent review of the exact change that was merged",
	"risk": "A change reaches production unreviewed, approved only by its author, or with commits pushed after the approval.",
	"stage": "source",
	"evidence": ["provenance (source commit)", "pull request and reviews (webhooks or review attestations)"],
	"frameworks": ["PCI DSS 4.0 6.2.3.1", "NIST SP 800-53 CM-3", "NIST SP 800-53 CM-5", "SOC 2 CC8.1"],
	"params": {},
}

provenance := lib.evidence_of("provenance")

source_commits := {e.summary.source_commit | some e in provenance; is_string(e.summary.source_commit)}

unrecorded := {lib.short(sha) | some sha in source_commits; not lib.commit_recorded(sha)}

unreviewed := {lib.review_findings(sha) | some sha in source_commits; lib.commit_recorded(sha); not lib.commit_reviewed(sha)}

approvers := {a | some c in input.commits; c.sha in source_commits; some pr in c.pull_requests; lib.reviewed_pr(pr); some a in pr.review.independent_approvers}

result := lib.missing("no provenance names the source commit of this artifact") if {
	count(source_commits) == 0
} else := lib.missing(sprintf("no pull request recorded for commit %s", [concat(", ", unrecorded)])) if {
	count(unrecorded) > 0
} else := lib.fail(concat("; ", unreviewed), lib.ids(provenance)) if {
	count(unreviewed) > 0
} else := lib.pass(sprintf("approved by %s on the merged head", [concat(", ", approvers)]), lib.ids(provenance))

test_missing_without_provenance if {
	result.verdict == "missing" with input as {"evidence": [], "commits": []} with data.andon.params as {}
}

test_pass_when_reviewed if {
	result.verdict == "pass" with input as {
		"evidence": [{"id": "p", "kind": "provenance", "summary": {"source_commit": "aaaa"}}],
		"commits": [{"sha": "aaaa", "pull_requests": [{"repository": "r", "number": 1, "state": "merged", "review": {"independent_approvers": ["bob"], "approved_exact_head": true, "commits_after_approval": [], "finding": "ok"}}]}],
	}
		with data.andon.params as {}
}
