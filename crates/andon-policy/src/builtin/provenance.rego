package andon.controls.provenance

import data.andon.lib
import rego.v1

metadata := {
	"id": "provenance",
	"title": "Provenance from a trusted builder names the source and this exact artifact",
	"risk": "A binary built outside the pipeline, from unknown source, or rebuilt after testing is deployed.",
	"stage": "build",
	"evidence": ["provenance"],
	"frameworks": ["SLSA Build L2", "NIST SP 800-53 SR-4", "NIST SP 800-53 SA-10", "NIST SP 800-218 PS.2"],
	"params": {"trusted_builders": ["https://github.com/actions/runner/github-hosted", "https://gitlab.com/gitlab-org/gitlab-runner"]},
}

params := lib.params(metadata.id, metadata.params)

provenance := lib.evidence_of("provenance")

trusted(e) if {
	some b in params.trusted_builders
	startswith(e.summary.builder_id, b)
}

names_artifact(e) if {
	some s in e.subjects
	s.digest == input.artifact.digest
}

good := [e |
	some e in provenance
	trusted(e)
	is_string(e.summary.source_commit)
	names_artifact(e)
]

untrusted := {e.summary.builder_id | some e in provenance; not trusted(e)}

result := lib.missing("no provenance for this artifact") if {
	count(provenance) == 0
} else := lib.pass(sprintf("built by %s from %s @ %s", [good[0].summary.builder_id, good[0].summary.source_repository, lib.short(good[0].summary.source_commit)]), lib.ids(good)) if {
	count(good) > 0
} else := lib.fail(sprintf("builder not trusted: %s", [concat(", ", untrusted)]), lib.ids(provenance)) if {
	count(untrusted) > 0
} else := lib.fail("the provenance names no source commit, or not this artifact's digest", lib.ids(provenance))
