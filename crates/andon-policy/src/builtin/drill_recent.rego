package andon.controls.drill_recent

import data.andon.lib
import rego.v1

metadata := {
	"id": "drill-recent",
	"title": "The team rehearsed a change under pressure recently",
	"risk": "A high-risk application meets a real emergency with a delivery path nobody has exercised: the fix waits on steps that were never practised.",
	"stage": "release",
	"evidence": ["drills (andon drill start/finish)", "the application's risk level"],
	"frameworks": ["NIST SP 800-53 CP-4", "NIST SP 800-53 IR-3", "ISO/IEC 27001:2022 A.5.30", "PCI DSS 4.0 12.10.2"],
	"params": {"days": 90, "risks": ["high", "critical"]},
}

params := lib.params(metadata.id, metadata.params)

risk := object.get(input, ["drills", "risk"], null)

last := object.get(input, ["drills", "last"], null)

result := lib.not_applicable(sprintf("%s is not a production environment", [input.environment.name])) if {
	not input.environment.production
} else := lib.not_applicable("the application has no risk level") if {
	risk == null
} else := lib.not_applicable(sprintf("%s risk does not require drills (%s do)", [risk, concat(", ", params.risks)])) if {
	not risk in params.risks
} else := lib.missing(sprintf("no completed drill of this %s-risk application", [risk])) if {
	last == null
} else := lib.fail(sprintf("the last drill (%s) finished %d days ago; %s-risk applications drill every %d days", [last.id, last.age_days, risk, params.days]), [last.id]) if {
	last.age_days > params.days
} else := lib.pass(sprintf("drill %s finished %d days ago (at most %d)", [last.id, last.age_days, params.days]), [last.id])

prod := {"name": "production", "production": true}

test_a_recent_drill_passes if {
	r := result with input as {"environment": prod, "drills": {"risk": "high", "last": {"id": "DR-1", "age_days": 12}}}
		with data.andon.params as {}
	r.verdict == "pass"
	r.evidence == ["DR-1"]
}

test_an_old_drill_fails if {
	r := result with input as {"environment": prod, "drills": {"risk": "critical", "last": {"id": "DR-1", "age_days": 91}}}
		with data.andon.params as {}
	r.verdict == "fail"
}

test_no_drill_is_missing if {
	r := result with input as {"environment": prod, "drills": {"risk": "high", "last": null}} with data.andon.params as {}
	r.verdict == "missing"
}

test_low_risk_and_no_risk_do_not_apply if {
	low := result with input as {"environment": prod, "drills": {"risk": "low", "last": null}} with data.andon.params as {}
	low.verdict == "not_applicable"
	none := result with input as {"environment": prod} with data.andon.params as {}
	none.verdict == "not_applicable"
}

test_parameters_set_the_window_and_the_risks if {
	r := result with input as {"environment": prod, "drills": {"risk": "medium", "last": {"id": "DR-1", "age_days": 20}}}
		with data.andon.params as {"drill-recent": {"days": 14, "risks": ["medium"]}}
	r.verdict == "fail"
}
