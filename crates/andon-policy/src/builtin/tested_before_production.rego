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

qualifying := [d |
	some d in input.deployments
	d.state == "success"
	not d.production
	count(params.environments) == 0
] if count(params.environments) == 0

else := [d |
	some d in input.deployments
	d.state == "success"
	d.environment in params.environments
]

result := lib.not_applicable(sprintf("%s is not a production environment", [input.environment.name])) if {
	not input.environment.production
} else := lib.missing("no successful deployment to a non-production environment recorded") if {
	count(qualifying) == 0
} else := lib.pass(sprintf("deployed to %s first", [concat(", ", {d.environment | some d in qualifying})]), [])
