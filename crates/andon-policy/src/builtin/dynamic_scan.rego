package andon.controls.dynamic_scan

import data.andon.lib
import rego.v1

metadata := {
	"id": "dynamic-scan",
	"title": "No dynamic-scan alert at or above the risk without a valid waiver",
	"risk": "A weakness an attacker can reach from outside the running application (injection, cross-site scripting, a missing protection) ships although a scan of it reported it.",
	"stage": "test",
	"evidence": ["dast", "waivers"],
	"frameworks": ["NIST SP 800-53 SA-11(8)", "NIST SP 800-53 RA-5", "PCI DSS 4.0 6.4.1", "NIST SP 800-218 PW.8.2"],
	"params": {"risk": "high", "require_scan": false},
}

params := lib.params(metadata.id, metadata.params)

# ZAP's risk levels, lowest first.
risk_rank := {"informational": 0, "low": 1, "medium": 2, "high": 3}

threshold := risk_rank[lower(params.risk)]

# Dynamic scans of the artifact (OWASP ZAP); a report of no site scanned nothing.
reports := lib.evidence_of("dast")

scans := [r | some r in reports; count(object.get(r.summary, "sites", [])) > 0]

# Names listed in a reason at most; the counts cover all.
max_named := 20

plural(n, one, many) := one if {
	n == 1
} else := many

# An alert's kind: its alert reference (`<plugin>-<n>` for one of a rule's several alerts),
# else its plugin id, as ZAP tells alert types apart.
kind(a) := a.alert_ref if {
	is_string(a.alert_ref)
} else := object.get(a, "plugin_id", "?")

# Alerts at or above the risk, one per alert type and site, from every scan.
at_or_above contains a if {
	some r in scans
	some a in r.summary.listed
	risk_rank[a.risk] >= threshold
}

# Alert types at or above the risk a scan counted but did not list (past the report's
# listing bound): no waiver can name them, so they block.
unlisted := sum([n |
	some r in scans
	some band, total in r.summary.by_risk
	risk_rank[band] >= threshold
	n := total - count({[kind(a), a.name] | some a in r.summary.listed; a.risk == band})
	n > 0
])

# The alerts a waiver names: its `alert` (a plugin id, for all of the rule's alerts, or an
# alert reference), or its `vulnerability` (the waiver record's field for one finding).
named_by(w) := {k |
	some field in ["alert", "vulnerability"]
	k := object.get(w, field, null)
	is_string(k)
}

waived_ids := {k | some w in input.waivers; w.control == metadata.id; some k in named_by(w)}

waived_alert(a) if a.plugin_id in waived_ids

waived_alert(a) if kind(a) in waived_ids

label(a) := sprintf("%s [%s] (%s, %s)", [object.get(a, "name", "?"), kind(a), a.risk, object.get(a, "site", "?")])

blocking := sort({label(a) | some a in at_or_above; not waived_alert(a)})

waived := sort({label(a) | some a in at_or_above; waived_alert(a)})

# The waivers that waived an alert of this artifact.
applied := sort({w.id |
	some w in input.waivers
	w.control == metadata.id
	some a in at_or_above
	some k in named_by(w)
	k in {a.plugin_id, kind(a)}
})

more(n) := sprintf(", and %d more", [n - max_named]) if {
	n > max_named
} else := ""

named(list) := concat("", [concat(", ", array.slice(list, 0, max_named)), more(count(list))])

blocking_note := "" if {
	count(blocking) == 0
} else := sprintf(": %s", [named(blocking)])

unlisted_note := sprintf("; %d alert %s not listed by the scan (no waiver can name them)", [unlisted, plural(unlisted, "type", "types")]) if {
	unlisted > 0
} else := ""

sites := {s | some r in scans; some s in r.summary.sites}

result := lib.fail(sprintf("the parameter risk %v is not one of informational, low, medium, high", [params.risk]), []) if {
	not threshold
} else := lib.missing("no dynamic scan (DAST) for this artifact") if {
	count(reports) == 0
	params.require_scan
} else := lib.not_applicable("no dynamic scan (DAST) for this artifact (required when the parameter require_scan is set)") if {
	count(reports) == 0
} else := lib.missing("no dynamic scan (DAST) for this artifact (a report of no site scanned nothing)") if {
	count(scans) == 0
} else := lib.fail(sprintf("%d %s at or above %s%s%s", [count(blocking) + unlisted, plural(count(blocking) + unlisted, "alert", "alerts"), params.risk, blocking_note, unlisted_note]), lib.ids(reports)) if {
	count(blocking) + unlisted > 0
} else := lib.waived(sprintf("none open at or above %s; waived: %s", [params.risk, named(waived)]), lib.ids(reports), applied) if {
	count(waived) > 0
} else := lib.pass(sprintf("no alert at or above %s on %d %s (%d %s)", [params.risk, count(sites), plural(count(sites), "site", "sites"), count(scans), plural(count(scans), "scan", "scans")]), lib.ids(reports))

test_a_high_alert_fails_and_its_waiver_waives if {
	scan := {"id": "z", "kind": "dast", "summary": {"sites": ["http://example.com"], "by_risk": {"high": 1}, "listed": [{"plugin_id": "1", "alert_ref": "1", "name": "XSS", "risk": "high", "site": "http://example.com"}]}}
	result.verdict == "fail" with input as {"evidence": [scan], "waivers": []} with data.andon.params as {}
	result.verdict == "waived" with input as {"evidence": [scan], "waivers": [{"id": "W", "control": "dynamic-scan", "alert": "1"}]}
		with data.andon.params as {}
}

test_the_risk_is_a_parameter if {
	scan := {"id": "z", "kind": "dast", "summary": {"sites": ["http://example.com"], "by_risk": {"medium": 1}, "listed": [{"plugin_id": "10020", "alert_ref": "10020-1", "name": "Missing Anti-clickjacking Header", "risk": "medium", "site": "http://example.com"}]}}
	result.verdict == "pass" with input as {"evidence": [scan], "waivers": []} with data.andon.params as {}
	result.verdict == "fail" with input as {"evidence": [scan], "waivers": []}
		with data.andon.params as {"dynamic-scan": {"risk": "medium"}}
}
