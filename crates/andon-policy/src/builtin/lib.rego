# Helpers shared by the built-in controls.
package andon.lib

import rego.v1

# The evidence of one kind bound to the artifact.
evidence_of(kind) := [e | some e in input.evidence; e.kind == kind]

ids(list) := [e.id | some e in list]

# A control's parameters: its defaults, overridden by the policy set's.
params(id, defaults) := object.union(defaults, object.get(data.andon.params, id, {}))

severity_rank := {"critical": 5, "high": 4, "medium": 3, "low": 2, "none": 1, "unknown": 0}

pass(reason, evidence) := {"verdict": "pass", "reason": reason, "evidence": evidence}

fail(reason, evidence) := {"verdict": "fail", "reason": reason, "evidence": evidence}

# Waived by the waivers `waivers` (their ids) in force for the control.
waived(reason, evidence, waivers) := {"verdict": "waived", "reason": reason, "evidence": evidence, "waivers": waivers}

missing(reason) := {"verdict": "missing", "reason": reason, "evidence": []}

not_applicable(reason) := {"verdict": "not_applicable", "reason": reason, "evidence": []}

short(sha) := substring(sha, 0, 10)

# A pull request whose review holds: merged, approved by someone other than the author on the
# exact head that was merged, nothing pushed after the approval.
reviewed_pr(pr) if {
	pr.state == "merged"
	count(pr.review.independent_approvers) > 0
	pr.review.approved_exact_head
	count(pr.review.commits_after_approval) == 0
}

commit_recorded(sha) if {
	some c in input.commits
	c.sha == sha
	count(c.pull_requests) > 0
}

commit_reviewed(sha) if {
	some c in input.commits
	c.sha == sha
	some pr in c.pull_requests
	reviewed_pr(pr)
}

review_findings(sha) := concat("; ", [sprintf("%s#%d: %s", [pr.repository, pr.number, pr.review.finding]) |
	some c in input.commits
	c.sha == sha
	some pr in c.pull_requests
])
