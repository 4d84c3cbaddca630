package andon.controls.tests_pass

import data.andon.lib
import rego.v1

metadata := {
	"id": "tests-pass",
	"title": "Tests ran and passed",
	"risk": "A defect that the test suite catches ships anyway, or the tests did not run at all.",
	"stage": "test",
	"evidence": ["junit"],
	"frameworks": ["NIST SP 800-53 SA-11", "PCI DSS 4.0 6.2.4", "ISO/IEC 27001:2022 A.8.29"],
	"params": {"min_tests": 1},
}

params := lib.params(metadata.id, metadata.params)

reports := lib.evidence_of("junit")

tests := sum([r.summary.tests | some r in reports])

broken_in(r) := r.summary.failures + r.summary.errors

broken := sum([broken_in(r) | some r in reports])

result := lib.missing("no JUnit report for this artifact") if {
	count(reports) == 0
} else := lib.fail(sprintf("%d of %d tests failed or errored", [broken, tests]), lib.ids(reports)) if {
	broken > 0
} else := lib.fail(sprintf("%d tests ran, at least %d required", [tests, params.min_tests]), lib.ids(reports)) if {
	tests < params.min_tests
} else := lib.pass(sprintf("%d tests passed", [tests]), lib.ids(reports))

test_fail_on_failure if {
	result.verdict == "fail" with input as {"evidence": [{"id": "j", "kind": "junit", "summary": {"tests": 3, "failures": 1, "errors": 0}}]} with data.andon.params as {}
}

test_min_tests_is_a_parameter if {
	result.verdict == "fail" with input as {"evidence": [{"id": "j", "kind": "junit", "summary": {"tests": 3, "failures": 0, "errors": 0}}]}
		with data.andon.params as {"tests-pass": {"min_tests": 10}}
}
