package andon.controls.hardening

import data.andon.lib
import rego.v1

metadata := {
	"id": "hardening",
	"title": "The production environment gained no exposure since its previous hardening scan",
	"risk": "A port opened or a hardening rule broke in production, and releases keep going into an environment nobody re-checked.",
	"stage": "release",
	"evidence": ["hardening", "waivers"],
	"frameworks": ["NIST SP 800-53 CM-6", "NIST SP 800-53 CM-7", "NIST SP 800-53 RA-5", "PCI DSS 4.0 2.2.1", "PCI DSS 4.0 11.3.1"],
	"params": {"require_scan": false},
}

params := lib.params(metadata.id, metadata.params)

scans := object.get(input, ["hardening", "scans"], [])

gained := [s | some s in scans; s.exposure_gained]

ids := sort([s.current.id | some s in scans])

# "nmap: new open 10.0.0.5 tcp/8080 http; xccdf: newly failing rule_x"
exposure(s) := concat("; ", array.concat(
	[sprintf("new open port %s", [p]) | some p in s.diff.new_open_ports],
	[sprintf("newly failing %s", [r]) | some r in s.diff.newly_failing],
))

result := lib.not_applicable(sprintf("%s is not a production environment", [input.environment.name])) if {
	not input.environment.production
} else := lib.missing(sprintf("no hardening scan of %s", [input.environment.name])) if {
	count(scans) == 0
	params.require_scan
} else := lib.not_applicable(sprintf("no hardening scan of %s recorded", [input.environment.name])) if {
	count(scans) == 0
} else := lib.fail(sprintf("%s gained exposure since its previous scan: %s", [input.environment.name, concat(" | ", [sprintf("%s: %s", [s.format, exposure(s)]) | some s in gained])]), ids) if {
	count(gained) > 0
} else := lib.pass(sprintf("no exposure gained since the previous scan (%s)", [concat(", ", sort([sprintf("%s: %d open ports, %d failing rules", [s.format, s.current.open_ports, s.current.rules_fail]) | some s in scans]))]), ids)
