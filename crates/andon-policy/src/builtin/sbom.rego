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
	"params": {},
}

sboms := lib.evidence_of("sbom")

components := max([s.summary.components | some s in sboms])

result := lib.missing("no SBOM for this artifact") if {
	count(sboms) == 0
} else := lib.fail("the SBOM lists no components", lib.ids(sboms)) if {
	components == 0
} else := lib.pass(sprintf("%d components listed", [components]), lib.ids(sboms))
