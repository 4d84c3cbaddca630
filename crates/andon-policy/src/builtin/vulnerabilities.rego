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

# Vulnerability evidence of the artifact: scans (CycloneDX, SARIF) and VEX documents (OpenVEX,
# CSAF, and CycloneDX VEX, which is also a scan's form).
reports := lib.evidence_of("vulnerabilities")

vex_only := {"openvex", "csaf"}

# An OpenVEX or CSAF document says what does not affect the artifact, not what does: alone it
# is not a scan.
scans := [r | some r in reports; not r.summary.format in vex_only]

# The ids (and their aliases) some VEX of the artifact says do not affect it: `fixed`, or
# `not_affected` with a justification (OpenVEX requires one; an impact statement alone does
# not count). Statements in any order, from any report.
vex_cleared contains name if {
	some r in reports
	some st in object.get(r.summary, "statements", [])
	vex_clears(st)
	some name in array.concat([st.id], object.get(st, "aliases", []))
}

vex_clears(st) if st.status == "fixed"

vex_clears(st) if {
	st.status == "not_affected"
	is_string(st.justification)
	st.justification != ""
}

waived_ids := {w.vulnerability | some w in input.waivers; w.control == metadata.id; is_string(w.vulnerability)}

# Findings at or above the severity, from every report.
at_or_above contains f if {
	some r in reports
	some f in r.summary.listed
	lib.severity_rank[f.severity] >= lib.severity_rank[params.severity]
}

not_affected := {f.id | some f in at_or_above; f.id in vex_cleared}

blocking := {sprintf("%s (%s, %s)", [f.id, f.severity, object.get(f, "component", "?")]) |
	some f in at_or_above
	not f.id in vex_cleared
	not f.id in waived_ids
}

waived := {f.id |
	some f in at_or_above
	not f.id in vex_cleared
	f.id in waived_ids
}

# The waivers that waived a finding of this artifact.
applied := sort({w.id |
	some w in input.waivers
	w.control == metadata.id
	w.vulnerability in waived
})

# What VEX cleared, said after the verdict's reason; nothing when VEX cleared nothing.
vex_note := sprintf("; not affected per VEX: %s", [concat(", ", sort(not_affected))]) if {
	count(not_affected) > 0
} else := ""

# Findings at or above the severity all waived (or cleared by VEX): the control is waived,
# not passed (the Risk Control Matrix counts it so), and names the waivers.
result := lib.missing("no vulnerability scan for this artifact") if {
	count(reports) == 0
} else := lib.missing("no vulnerability scan for this artifact (a VEX document is not a scan)") if {
	count(scans) == 0
} else := lib.fail(sprintf("%d open at or above %s: %s", [count(blocking), params.severity, concat(", ", blocking)]), lib.ids(reports)) if {
	count(blocking) > 0
} else := lib.waived(sprintf("none open at or above %s; waived: %s%s", [params.severity, concat(", ", sort(waived)), vex_note]), lib.ids(reports), applied) if {
	count(waived) > 0
} else := lib.pass(sprintf("none open at or above %s%s", [params.severity, vex_note]), lib.ids(reports))
