package andon.controls.sbom

import data.andon.lib
import rego.v1

metadata := {
	"id": "sbom",
	"title": "A software bill of materials describes the artifact",
	"risk": "Nobody can tell which components ship, so a new vulnerability cannot be traced to where it runs.",
	"stage": "build",
	"evidence": ["sbom"],
	"frameworks": ["NIST SP 800-53 CM-8", "NIST SP 800-53 SR-4", "EO 14028 section 4(e)", "PCI DSS 4.0 6.3.2"],
	"params": {"require_valid_schema": false},
}

params := lib.params(metadata.id, metadata.params)

sboms := lib.evidence_of("sbom")

# SBOMs without a passing validation against their format's official schema: recorded
# leniently with errors, or in a form with no schema (SPDX tag-value, SPDX 3).
not_valid := sort([s.id |
	some s in sboms
	not object.get(s.summary, ["schema", "valid"], false) == true
])

components := max([s.summary.components | some s in sboms])

result := lib.missing("no SBOM for this artifact") if {
	count(sboms) == 0
} else := lib.fail("the SBOM lists no components", lib.ids(sboms)) if {
	components == 0
} else := lib.fail(sprintf("%d of %d SBOMs not validated against their schema: %s", [count(not_valid), count(sboms), concat(", ", [lib.short(id) | some id in not_valid])]), lib.ids(sboms)) if {
	params.require_valid_schema
	count(not_valid) > 0
} else := lib.pass(sprintf("%d components listed", [components]), lib.ids(sboms))
