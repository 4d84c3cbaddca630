package andon.controls.static_analysis

import data.andon.lib
import rego.v1

metadata := {
	"id": "static-analysis",
	"title": "No unsuppressed static-analysis finding at or above the severity",
	"risk": "A vulnerability or defect a scanner reported ships unaddressed.",
	"stage": "test",
	"evidence": ["sarif"],
	"frameworks": ["PCI DSS 4.0 6.2.4", "NIST SP 800-53 SA-11(1)", "NIST SP 800-53 RA-5"],
	"params": {"severity": "high", "fail_on_levels": ["error"]},
}

params := lib.params(metadata.id, metadata.params)

reports := lib.evidence_of("sarif")

at_or_above := sum([n |
	some r in reports
	some band, n in r.summary.by_security_severity
	lib.severity_rank[band] >= lib.severity_rank[params.severity]
])

by_level := sum([n |
	some r in reports
	some level, n in r.summary.by_level
	level in params.fail_on_levels
])

result := lib.missing("no static analysis (SARIF) for this artifact") if {
	count(reports) == 0
} else := lib.fail(sprintf("%d findings at or above %s security severity, %d at level %s", [at_or_above, params.severity, by_level, concat("/", params.fail_on_levels)]), lib.ids(reports)) if {
	at_or_above + by_level > 0
} else := lib.pass(sprintf("no unsuppressed finding at or above %s (%d %s)", [params.severity, count(reports), runs]), lib.ids(reports))

runs := "run" if {
	count(reports) == 1
} else := "runs"
