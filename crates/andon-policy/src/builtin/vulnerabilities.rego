package andon.controls.vulnerabilities

import data.andon.lib
import rego.v1

metadata := {
	"id": "vulnerabilities",
	"title": "No known vulnerability at or above the severity without a valid waiver",
	"risk": "A component with a known, exploitable vulnerability ships.",
	"stage": "test",
	"evidence": ["vulnerabilities", "waivers"],
	"frameworks": ["NIST SP 800-53 SI-2", "NIST SP 800-53 RA-5", "PCI DSS 4.0 6.3.1", "PCI DSS 4.0 6.3.3"],
	"params": {"severity": "high"},
}

params := lib.params(metadata.id, metadata.params)

scans := lib.evidence_of("vulnerabilities")

waived_ids := {w.vulnerability | some w in input.waivers; w.control == metadata.id; is_string(w.vulnerability)}

blocking := {sprintf("%s (%s, %s)", [f.id, f.severity, object.get(f, "component", "?")]) |
	some s in scans
	some f in s.summary.listed
	lib.severity_rank[f.severity] >= lib.severity_rank[params.severity]
	not f.id in waived_ids
}

waived := {f.id |
	some s in scans
	some f in s.summary.listed
	lib.severity_rank[f.severity] >= lib.severity_rank[params.severity]
	f.id in waived_ids
}

# The waivers that waived a finding of this artifact.
applied := sort({w.id |
	some w in input.waivers
	w.control == metadata.id
	w.vulnerability in waived
})

# Findings at or above the severity all waived: the control is waived, not passed (the
# Risk Control Matrix counts it so), and names the waivers.
result := lib.missing("no vulnerability scan for this artifact") if {
	count(scans) == 0
} else := lib.fail(sprintf("%d open at or above %s: %s", [count(blocking), params.severity, concat(", ", blocking)]), lib.ids(scans)) if {
	count(blocking) > 0
} else := lib.waived(sprintf("none open at or above %s; waived: %s", [params.severity, concat(", ", sort(waived))]), lib.ids(scans), applied) if {
	count(waived) > 0
} else := lib.pass(sprintf("none open at or above %s", [params.severity]), lib.ids(scans))
