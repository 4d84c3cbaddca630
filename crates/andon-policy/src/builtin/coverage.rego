package andon.controls.coverage

import data.andon.lib
import rego.v1

metadata := {
	"id": "coverage",
	"title": "Line coverage at or above the threshold",
	"risk": "Code ships that no test exercises.",
	"stage": "test",
	"evidence": ["coverage"],
	"frameworks": ["NIST SP 800-53 SA-11", "ISO/IEC 27001:2022 A.8.29"],
	"params": {"min_line_coverage": 80},
}

params := lib.params(metadata.id, metadata.params)

reports := lib.evidence_of("coverage")

# With several reports, the lowest counts.
percent(r) := r.summary.line_rate * 100

lowest := min([percent(r) | some r in reports])

result := lib.missing("no coverage report for this artifact") if {
	count(reports) == 0
} else := lib.fail(sprintf("line coverage %.1f%% is below %v%%", [lowest, params.min_line_coverage]), lib.ids(reports)) if {
	lowest < params.min_line_coverage
} else := lib.pass(sprintf("line coverage %.1f%% (threshold %v%%)", [lowest, params.min_line_coverage]), lib.ids(reports))
