package andon.controls.no_secrets

import data.andon.lib
import rego.v1

metadata := {
	"id": "no-secrets",
	"title": "No secret in the source or its history without a valid waiver",
	"risk": "A credential committed to the repository ships: anyone who can read the code or its history can use it.",
	"stage": "build",
	"evidence": ["secrets", "waivers"],
	"frameworks": ["NIST SP 800-53 IA-5(7)", "PCI DSS 4.0 8.6.2", "PCI DSS 4.0 8.3.2", "OWASP ASVS 4.0.3 V2.10.4"],
	"params": {"allow_unverified": false, "require_scan": false},
}

params := lib.params(metadata.id, metadata.params)

# Secret scans of the artifact's source (gitleaks, TruffleHog).
scans := lib.evidence_of("secrets")

# Names listed in a reason at most; the counts cover all.
max_named := 10

plural(n, one, many) := one if {
	n == 1
} else := many

rule_of(f) := object.get(f, "rule", "?")

# A finding's key, the one a waiver names: gitleaks' fingerprint (`commit:file:rule:line`, or
# `file:rule:line` for a scan without git, the key of its .gitleaksignore); for a scanner
# that gives none (TruffleHog), the same layout from the location it gives.
key(f) := f.fingerprint if {
	is_string(f.fingerprint)
} else := concat(":", [sprintf("%v", [x]) |
	some x in [object.get(f, "commit", null), object.get(f, "file", null), rule_of(f), object.get(f, "line", null)]
	x != null
])

# Whether a finding blocks: every finding; with `allow_unverified`, only those the scanner
# did not find dead (gitleaks does not verify: its findings always block).
blocks(_) if not params.allow_unverified

blocks(f) if object.get(f, "verified", null) != false

# The blocking findings every scan lists, each once (two scans of the same source list the
# same leak).
found contains {"key": key(f), "rule": rule_of(f), "file": object.get(f, "file", null)} if {
	some s in scans
	some f in s.summary.listed
	blocks(f)
}

# Findings a scan counted but did not list (past the report's listing bound): no waiver can
# name them, so they block.
unlisted_in(s) := n if {
	params.allow_unverified
	is_number(s.summary.verified)
	n := s.summary.verified - count([f | some f in s.summary.listed; f.verified == true])
} else := s.summary.findings - count(s.summary.listed)

unlisted := sum([max([0, unlisted_in(s)]) | some s in scans])

# The findings a waiver names: its `fingerprint`, or its `vulnerability` (the waiver
# record's field for one finding).
named_by(w) := {k |
	some field in ["fingerprint", "vulnerability"]
	k := object.get(w, field, null)
	is_string(k)
}

waived_keys := {k | some w in input.waivers; w.control == metadata.id; some k in named_by(w)}

open := {f | some f in found; not f.key in waived_keys}

waived := {f.key | some f in found; f.key in waived_keys}

# The waivers that waived a finding of this artifact.
applied := sort({w.id |
	some w in input.waivers
	w.control == metadata.id
	some k in named_by(w)
	k in waived
})

open_count := count(open) + unlisted

by_rule := [sprintf("%s %d", [rule, count({f | some f in open; f.rule == rule})]) |
	some rule in sort({f.rule | some f in open})
]

rules_note := "" if {
	count(by_rule) == 0
} else := sprintf(" (%s)", [concat(", ", by_rule)])

files := sort({f.file | some f in open; is_string(f.file)})

files_note := "" if {
	count(files) == 0
} else := sprintf(" in %d %s: %s%s", [count(files), plural(count(files), "file", "files"), concat(", ", array.slice(files, 0, max_named)), more(count(files))])

more(n) := sprintf(", and %d more", [n - max_named]) if {
	n > max_named
} else := ""

unlisted_note := sprintf("; %d of them not listed by the scan (no waiver can name them)", [unlisted]) if {
	unlisted > 0
} else := ""

skipped := count([f |
	params.allow_unverified
	some s in scans
	some f in s.summary.listed
	f.verified == false
])

allowed_note := sprintf(" (%d unverified allowed)", [skipped]) if {
	skipped > 0
} else := ""

waived_names := sort(waived)

result := lib.missing("no secrets scan for this artifact") if {
	count(scans) == 0
	params.require_scan
} else := lib.not_applicable("no secrets scan for this artifact (required when the parameter require_scan is set)") if {
	count(scans) == 0
} else := lib.fail(sprintf("%d %s found%s%s%s", [open_count, plural(open_count, "secret", "secrets"), rules_note, files_note, unlisted_note]), lib.ids(scans)) if {
	open_count > 0
} else := lib.waived(sprintf("no secret open; waived: %s%s", [concat(", ", array.slice(waived_names, 0, max_named)), more(count(waived_names))]), lib.ids(scans), applied) if {
	count(waived) > 0
} else := lib.pass(sprintf("no secret found by %d %s%s", [count(scans), plural(count(scans), "scan", "scans"), allowed_note]), lib.ids(scans))

test_a_finding_fails_and_its_waiver_waives if {
	leak := {"id": "s", "kind": "secrets", "summary": {"findings": 1, "verified": null, "listed": [{"rule": "github-pat", "file": "a.sh", "line": 3, "fingerprint": "c:a.sh:github-pat:3"}]}}
	result.verdict == "fail" with input as {"evidence": [leak], "waivers": []} with data.andon.params as {}
	result.verdict == "waived" with input as {"evidence": [leak], "waivers": [{"id": "W", "control": "no-secrets", "fingerprint": "c:a.sh:github-pat:3"}]}
		with data.andon.params as {}
}

test_unverified_findings_may_be_allowed if {
	scan := {"id": "s", "kind": "secrets", "summary": {"findings": 1, "verified": 0, "listed": [{"rule": "AWS", "file": "k", "line": 4, "verified": false}]}}
	result.verdict == "fail" with input as {"evidence": [scan], "waivers": []} with data.andon.params as {}
	result.verdict == "pass" with input as {"evidence": [scan], "waivers": []}
		with data.andon.params as {"no-secrets": {"allow_unverified": true}}
}
