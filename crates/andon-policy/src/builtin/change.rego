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
	{"deployments": 0, "failures": 0, "change_success_rate": 0, "mean_time_to_restore_minutes": 0},
	object.get(input, "history", {}),
)

earned if {
	h.deployments >= params.min_deployments
	h.change_success_rate >= params.min_success_rate
	h.mean_time_to_restore_minutes <= params.max_mttr_minutes
}

history := sprintf(
	"over %v days: %v production deployments of %s (minimum %v), change success rate %.1f%% (minimum %.1f%%), mean time to restore %.0f min (maximum %v)",
	[
		params.window_days, h.deployments, input.change_type, params.min_deployments,
		h.change_success_rate * 100, params.min_success_rate * 100,
		h.mean_time_to_restore_minutes, params.max_mttr_minutes,
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
