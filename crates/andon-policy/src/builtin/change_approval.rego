package andon.controls.change_approval

import data.andon.lib
import rego.v1

metadata := {
	"id": "change-approval",
	"title": "Production changes are pre-approved (standard), approved, or under the emergency flag",
	"risk": "A change reaches production without the authorisation its class requires.",
	"stage": "release",
	"evidence": ["change record", "approvals"],
	"frameworks": ["NIST SP 800-53 CM-3", "NIST SP 800-53 CM-5", "PCI DSS 4.0 6.5.1", "ISO/IEC 27001:2022 A.8.32", "SOC 2 CC8.1"],
	"params": {},
}

c := input.change

result := lib.not_applicable(sprintf("%s is not a production environment", [input.environment.name])) if {
	not input.environment.production
} else := lib.missing("no change record for this production change") if {
	not is_object(input.change)
} else := lib.fail(sprintf("%s was rejected by %s", [c.id, concat(", ", c.rejected_by)]), []) if {
	c.status == "rejected"
} else := lib.pass(sprintf("standard change %s: %s", [c.id, concat("; ", c.reasons)]), []) if {
	c.class == "standard"
} else := lib.pass(sprintf("emergency change %s (%s); review due by %s", [c.id, c.emergency_reason, c.review_due_at]), []) if {
	c.class == "emergency"
} else := lib.pass(sprintf("%s approved by %s", [c.id, concat(", ", c.approved_by)]), []) if {
	count(c.approved_by) >= c.approvals_required
} else := lib.fail(sprintf("%s awaits approval: %d of %d%s", [
	c.id, count(c.approved_by), c.approvals_required, group,
]), [])

group := sprintf(" (from %s)", [c.approver_group]) if is_string(c.approver_group)
else := ""

prod := {"name": "production", "production": true}

pending := {"id": "CHG-1", "class": "normal", "status": "pending", "approvals_required": 2, "approved_by": ["bob"], "rejected_by": [], "approver_group": "dba", "reasons": ["r"]}

test_a_pending_normal_change_fails_with_the_count if {
	r := result with input as {"environment": prod, "change": pending} with data.andon.params as {}
	r.verdict == "fail"
	r.reason == "CHG-1 awaits approval: 1 of 2 (from dba)"
}

test_enough_approvals_pass if {
	r := result with input as {"environment": prod, "change": object.union(pending, {"approved_by": ["bob", "carol"], "status": "approved"})} with data.andon.params as {}
	r.verdict == "pass"
}

test_a_rejection_fails if {
	r := result with input as {"environment": prod, "change": object.union(pending, {"status": "rejected", "rejected_by": ["carol"]})} with data.andon.params as {}
	r.verdict == "fail"
}

test_standard_and_emergency_pass if {
	r := result with input as {"environment": prod, "change": object.union(pending, {"class": "standard"})} with data.andon.params as {}
	r.verdict == "pass"
	e := result with input as {"environment": prod, "change": object.union(pending, {"class": "emergency", "emergency_reason": "outage", "review_due_at": "t"})} with data.andon.params as {}
	e.verdict == "pass"
}

test_no_change_record_is_missing if {
	r := result with input as {"environment": prod} with data.andon.params as {}
	r.verdict == "missing"
}

test_outside_production_it_does_not_apply if {
	r := result with input as {"environment": {"name": "staging", "production": false}} with data.andon.params as {}
	r.verdict == "not_applicable"
}
