package andon.controls.tested_before_production

import data.andon.lib
import rego.v1

metadata := {
	"id": "tested-before-production",
	"title": "Deployed to a non-production environment before production",
	"risk": "A release reaches production without ever having run anywhere else.",
	"stage": "release",
	"evidence": ["deployments of the artifact or its commits"],
	"frameworks": ["NIST SP 800-53 CM-4", "NIST SP 800-53 SA-11", "PCI DSS 4.0 6.5.2"],
	"params": {"environments": []},
}

params := lib.params(metadata.id, metadata.params)

# The deployments that count as testing: to a non-production environment, or to the
# environments the parameters name.
candidates := [d |
	some d in input.deployments
	not d.production
] if count(params.environments) == 0
else := [d |
	some d in input.deployments
	d.environment in params.environments
]

qualifying := [d | some d in candidates; d.state == "success"]

result := lib.not_applicable(sprintf("%s is not a production environment", [input.environment.name])) if {
	not input.environment.production
} else := lib.fail(sprintf("deployed to %s but no deployment succeeded (%s)", [
	concat(", ", {d.environment | some d in candidates}),
	concat(", ", {d.state | some d in candidates}),
]), []) if {
	count(qualifying) == 0
	count(candidates) > 0
} else := lib.missing("no successful deployment to a non-production environment recorded") if {
	count(qualifying) == 0
} else := lib.pass(sprintf("deployed to %s first", [concat(", ", {d.environment | some d in qualifying})]), [])

prod := {"name": "production", "production": true}

test_a_successful_staging_deployment_passes if {
	r := result with input as {"environment": prod, "deployments": [
		{"environment": "staging", "production": false, "state": "failure"},
		{"environment": "staging", "production": false, "state": "success"},
	]}
		with data.andon.params as {}
	r.verdict == "pass"
}

test_only_failed_deployments_fail if {
	r := result with input as {"environment": prod, "deployments": [{"environment": "staging", "production": false, "state": "failure"}]} with data.andon.params as {}
	r.verdict == "fail"
	contains(r.reason, "failure")
}

test_no_deployment_is_missing if {
	r := result with input as {"environment": prod, "deployments": [{"environment": "production", "production": true, "state": "success"}]} with data.andon.params as {}
	r.verdict == "missing"
}

test_staging_targets_do_not_apply if {
	r := result with input as {"environment": {"name": "staging", "production": false}, "deployments": []} with data.andon.params as {}
	r.verdict == "not_applicable"
}

test_named_environments_are_the_only_ones_that_count if {
	r := result with input as {"environment": prod, "deployments": [{"environment": "dev", "production": false, "state": "success"}]}
		with data.andon.params as {"tested-before-production": {"environments": ["staging"]}}
	r.verdict == "missing"
}
