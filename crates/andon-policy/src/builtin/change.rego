# Change classification (docs/changes.md): which ITIL class a production change is, how
# many approvals it needs and from which group, and why, with the figures behind it.
package andon.change

import data.andon.lib
import rego.v1

defaults := {
	# Change types pre-approved as standard: the controls are the pre-approval. Set to []
	# to make every type earn it from its history.
	"standard_types": ["application"],
	"migration_paths": ["migrations/", "db/migrate", ".sql"],
	"approvals": 1,
	"dba_group": "dba",
	"emergency_review_hours": 24,
	"window_days": 90,
	"min_deployments": 10,
	"min_success_rate": 0.95,
	"max_mttr_minutes": 60,
}

params := lib.params("change", defaults)

migrations := {p |
	some p in input.paths
	some m in params.migration_paths
	contains(p, m)
}

h := object.union(
	{"deployments": 0, "failures": 0, "unrestored": 0, "change_success_rate": null, "mean_time_to_restore_minutes": null},
	object.get(input, "history", {}),
)

# A type earns standard from a record it has: enough deployments, a success rate (none
# without deployments), every failure restored, and restored in time (no failures, no
# restore time to meet). A failure still open is never "0 minutes to restore".
earned if {
	h.deployments >= params.min_deployments
	is_number(h.change_success_rate)
	h.change_success_rate >= params.min_success_rate
	h.unrestored == 0
	restored_in_time
}

restored_in_time if h.failures == 0

restored_in_time if {
	is_number(h.mean_time_to_restore_minutes)
	h.mean_time_to_restore_minutes <= params.max_mttr_minutes
}

rate_text := sprintf("%.1f%%", [h.change_success_rate * 100]) if is_number(h.change_success_rate)

else := "none (no deployments)"

restore_text := sprintf("%.0f min", [h.mean_time_to_restore_minutes]) if {
	is_number(h.mean_time_to_restore_minutes)
} else := "none (no failures)" if {
	h.failures == 0
} else := "none (no failure restored)"

unrestored_text := ", 1 failure not restored" if h.unrestored == 1

else := sprintf(", %v failures not restored", [h.unrestored]) if h.unrestored > 1

else := ""

history := sprintf(
	"over %v days: %v production deployments of %s (minimum %v), change success rate %s (minimum %.1f%%), mean time to restore %s (maximum %v)%s",
	[
		params.window_days, h.deployments, input.change_type, params.min_deployments,
		rate_text, params.min_success_rate * 100,
		restore_text, params.max_mttr_minutes, unrestored_text,
	],
)

change(class, approvals, group, reason) := {
	"class": class,
	"approvals": approvals,
	"approver_group": group,
	"reasons": [reason],
	"review_hours": params.emergency_review_hours,
}

classification := change("emergency", 0, null, sprintf("emergency: %s", [input.emergency])) if {
	is_string(input.emergency)
} else := change(
	"normal", max([params.approvals, 1]), params.dba_group,
	sprintf("touches database migrations (%s): a member of %s approves", [concat(", ", migrations), params.dba_group]),
) if {
	count(migrations) > 0
} else := change("standard", 0, null, sprintf("%s is on the standard change list", [input.change_type])) if {
	input.change_type in params.standard_types
} else := change("standard", 0, null, sprintf("earned standard %s", [history])) if {
	earned
} else := change("normal", params.approvals, null, sprintf("normal: not standard %s", [history]))

test_migrations_need_a_dba if {
	c := classification with input as {"change_type": "application", "paths": ["src/a.rs", "db/migrations/0042.sql"]} with data.andon.params as {}
	c.class == "normal"
	c.approver_group == "dba"
}

test_the_application_type_is_standard_by_default if {
	c := classification with input as {"change_type": "application", "paths": ["src/a.rs"]} with data.andon.params as {}
	c.class == "standard"
}

test_emergency_wins if {
	c := classification with input as {"change_type": "application", "emergency": "payments down", "paths": ["x.sql"]} with data.andon.params as {}
	c.class == "emergency"
}

test_a_type_earns_standard_from_its_history if {
	c := classification with input as {"change_type": "config", "paths": [], "history": {"deployments": 40, "failures": 1, "change_success_rate": 0.975, "mean_time_to_restore_minutes": 12}} with data.andon.params as {}
	c.class == "standard"
	contains(c.reasons[0], "97.5%")
}

test_a_poor_history_stays_normal if {
	c := classification with input as {"change_type": "config", "paths": [], "history": {"deployments": 40, "failures": 8, "change_success_rate": 0.8, "mean_time_to_restore_minutes": 12}} with data.andon.params as {}
	c.class == "normal"
	c.approvals == 1
	contains(c.reasons[0], "change success rate 80%")
}

test_an_unrestored_failure_keeps_a_type_normal if {
	c := classification with input as {"change_type": "config", "paths": [], "history": {"deployments": 40, "failures": 1, "unrestored": 1, "change_success_rate": 0.975, "mean_time_to_restore_minutes": null}} with data.andon.params as {}
	c.class == "normal"
	contains(c.reasons[0], "mean time to restore none (no failure restored) (maximum 60), 1 failure not restored")
}

test_no_deployments_is_no_success_rate if {
	c := classification with input as {"change_type": "config", "paths": [], "history": {"deployments": 0, "failures": 0, "unrestored": 0, "change_success_rate": null, "mean_time_to_restore_minutes": null}} with data.andon.params as {"change": {"min_deployments": 0}}
	c.class == "normal"
	contains(c.reasons[0], "change success rate none (no deployments)")
}

test_no_failures_need_no_restore_time if {
	c := classification with input as {"change_type": "config", "paths": [], "history": {"deployments": 12, "failures": 0, "unrestored": 0, "change_success_rate": 1, "mean_time_to_restore_minutes": null}} with data.andon.params as {}
	c.class == "standard"
	contains(c.reasons[0], "mean time to restore none (no failures)")
}
