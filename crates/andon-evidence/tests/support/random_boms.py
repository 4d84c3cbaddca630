"""Random CycloneDX BOMs, each serialized by cyclonedx-python-lib as JSON and as XML.

Usage: python random_boms.py SEED COUNT OUTDIR

Writes COUNT BOMs as OUTDIR/<n>-<spec>.json and OUTDIR/<n>-<spec>.xml, the spec version
drawn from 1.4 to 1.7. Each BOM draws from the library's model: components of every type,
nested up to three deep, with groups, versions, package URLs (with namespaces, qualifiers
and subpaths), licenses (SPDX ids, names, expressions), hashes, scopes, properties,
pedigrees (ancestors, descendants, variants), license evidence; a described component with
children; tools as components and services; services, nested; vulnerabilities with ratings,
affected components and analyses; dependencies. Names carry characters XML escapes. The
same SEED gives the same files.
"""
import random
from decimal import Decimal
import sys
from datetime import datetime, timezone
from pathlib import Path
from uuid import UUID

from packageurl import PackageURL

from cyclonedx.model import HashAlgorithm, HashType, Property
from cyclonedx.model.bom import Bom, BomMetaData
from cyclonedx.model.bom_ref import BomRef
from cyclonedx.model.component import Component, ComponentScope, ComponentType, Pedigree
from cyclonedx.model.component_evidence import ComponentEvidence
from cyclonedx.model.impact_analysis import ImpactAnalysisJustification, ImpactAnalysisState
from cyclonedx.model.license import DisjunctiveLicense, LicenseExpression
from cyclonedx.model.service import Service
from cyclonedx.model.tool import ToolRepository
from cyclonedx.model.vulnerability import (
    BomTarget,
    Vulnerability,
    VulnerabilityAnalysis,
    VulnerabilityRating,
    VulnerabilityScoreSource,
    VulnerabilitySeverity,
    VulnerabilitySource,
)
from cyclonedx.output import make_outputter
from cyclonedx.schema import OutputFormat, SchemaVersion

TIMESTAMP = datetime(2026, 12, 5, 12, 0, 0, tzinfo=timezone.utc)
SPECS = {
    "1.4": SchemaVersion.V1_4,
    "1.5": SchemaVersion.V1_5,
    "1.6": SchemaVersion.V1_6,
    "1.7": SchemaVersion.V1_7,
}
TYPES = [
    ComponentType.LIBRARY, ComponentType.APPLICATION, ComponentType.FRAMEWORK,
    ComponentType.CONTAINER, ComponentType.OPERATING_SYSTEM, ComponentType.FILE,
    ComponentType.FIRMWARE, ComponentType.DEVICE,
]
NAMES = ["requests", "flask", "lodash", "openssl", "zlib", "log4j-core", "left-pad",
         "acme & sons", "café-<lib>", "quote'n\"double", "spring-boot", "libssl3"]
IDS = ["Apache-2.0", "MIT", "BSD-3-Clause", "GPL-2.0-only", "LGPL-2.1-or-later", "MPL-2.0",
       "ISC", "Zlib", "OpenSSL"]
NAMED = ["Acme Proprietary License 2.0", "Public Domain & more", "custom <terms>"]
EXPRESSIONS = ["Apache-2.0 OR MIT", "(MIT AND BSD-3-Clause) OR GPL-2.0-only",
               "GPL-2.0-or-later WITH Classpath-exception-2.0"]


class Draw:
    """Everything random about one BOM, with refs numbered in order."""

    def __init__(self, rng):
        self.rng = rng
        self.refs = 0
        self.components = []

    def ref(self, prefix):
        self.refs += 1
        return f"{prefix}-{self.refs}"

    def maybe(self, p=0.5):
        return self.rng.random() < p

    def purl(self, name, version):
        kind = self.rng.choice(["pypi", "npm", "maven", "deb", "generic"])
        safe = "".join(c for c in name if c.isalnum() or c in "-.") or "pkg"
        if kind == "npm" and self.maybe():
            return PackageURL(type="npm", namespace="@acme", name=safe, version=version)
        if kind == "maven":
            return PackageURL(type="maven", namespace="org.acme", name=safe, version=version)
        if kind == "deb":
            return PackageURL(type="deb", namespace="debian", name=safe, version=version,
                              qualifiers={"arch": self.rng.choice(["amd64", "arm64"]),
                                          "distro": "bookworm"})
        if kind == "generic" and self.maybe():
            return PackageURL(type="generic", namespace="acme", name=safe, version=version,
                              subpath="lib/core")
        return PackageURL(type=kind, name=safe, version=version)

    def licenses(self):
        form = self.rng.choice(["none", "ids", "named", "expression", "mixed"])
        if form == "ids":
            return [DisjunctiveLicense(id=i) for i in self.rng.sample(IDS, self.rng.randint(1, 3))]
        if form == "named":
            return [DisjunctiveLicense(name=self.rng.choice(NAMED))]
        if form == "expression":
            return [LicenseExpression(self.rng.choice(EXPRESSIONS))]
        if form == "mixed":
            return [DisjunctiveLicense(id=self.rng.choice(IDS)),
                    DisjunctiveLicense(name=self.rng.choice(NAMED))]
        return None

    def component(self, depth, spec, prefix="c", register=True):
        name = self.rng.choice(NAMES)
        version = f"{self.rng.randint(0, 9)}.{self.rng.randint(0, 30)}.{self.rng.randint(0, 9)}" \
            if self.maybe(0.85) else None
        kw = {}
        if self.maybe(0.3):
            kw["group"] = self.rng.choice(["org.acme", "acme", "@scope"])
        if self.maybe(0.7):
            kw["purl"] = self.purl(name, version)
        licenses = self.licenses()
        if licenses:
            kw["licenses"] = licenses
        if self.maybe(0.4):
            kw["hashes"] = [HashType(alg=HashAlgorithm.SHA_256,
                                     content="%064x" % self.rng.getrandbits(256))]
        if self.maybe(0.3):
            kw["scope"] = self.rng.choice([ComponentScope.REQUIRED, ComponentScope.OPTIONAL,
                                           ComponentScope.EXCLUDED])
        if self.maybe(0.3):
            kw["description"] = "built <from> source & patched"
        if self.maybe(0.2):
            kw["properties"] = [Property(name="acme:origin", value="vendored")]
        if depth < 3 and self.maybe(0.15):
            kw["pedigree"] = Pedigree(
                ancestors=[self.component(3, spec, "anc", False)
                           for _ in range(self.rng.randint(0, 2))] or None,
                descendants=[self.component(3, spec, "desc", False)] if self.maybe() else None,
                variants=[self.component(3, spec, "var", False)] if self.maybe() else None,
                notes="patched & rebuilt",
            )
        if spec != "1.4" and self.maybe(0.2):
            kw["evidence"] = ComponentEvidence(licenses=[DisjunctiveLicense(id=self.rng.choice(IDS))])
        if depth < 3 and self.maybe(0.25):
            kw["components"] = [self.component(depth + 1, spec)
                                for _ in range(self.rng.randint(1, 3))]
        c = Component(bom_ref=self.ref(prefix), type=self.rng.choice(TYPES), name=name,
                      version=version, **kw)
        if register:
            self.components.append(c)
        return c

    def service(self, depth):
        kw = {}
        if depth < 2 and self.maybe(0.3):
            kw["services"] = [self.service(depth + 1)]
        return Service(bom_ref=self.ref("svc"), name=self.rng.choice(["billing", "auth & login"]),
                       version="1.0", **kw)

    def vulnerability(self):
        affected = self.rng.sample(self.components, min(len(self.components), self.rng.randint(1, 2)))
        kw = {}
        if self.maybe():
            kw["analysis"] = VulnerabilityAnalysis(
                state=self.rng.choice([ImpactAnalysisState.NOT_AFFECTED, ImpactAnalysisState.EXPLOITABLE,
                                       ImpactAnalysisState.RESOLVED, ImpactAnalysisState.IN_TRIAGE]),
                justification=ImpactAnalysisJustification.CODE_NOT_REACHABLE,
            )
        return Vulnerability(
            bom_ref=self.ref("vuln"),
            id=f"CVE-2026-{self.rng.randint(1000, 99999)}",
            source=VulnerabilitySource(name="NVD"),
            ratings=[VulnerabilityRating(
                score=Decimal(str(round(self.rng.uniform(0.1, 10.0), 1))),
                severity=self.rng.choice([VulnerabilitySeverity.LOW, VulnerabilitySeverity.MEDIUM,
                                          VulnerabilitySeverity.HIGH, VulnerabilitySeverity.CRITICAL]),
                method=VulnerabilityScoreSource.CVSS_V3_1,
            ) for _ in range(self.rng.randint(1, 2))],
            affects=[BomTarget(ref=c.bom_ref.value) for c in affected],
            **kw,
        )


def bom(rng, n, spec):
    d = Draw(rng)
    subject = None
    if d.maybe(0.8):
        subject = d.component(2, spec, "app", register=False)
    tools = None
    if d.maybe(0.5):
        tools = ToolRepository(
            components=[d.component(3, spec, "tool", False) for _ in range(d.rng.randint(1, 2))],
            services=[d.service(2)] if spec != "1.4" and d.maybe(0.3) else None,
        )
    components = [d.component(0, spec) for _ in range(d.rng.randint(0, 6))]
    b = Bom(
        serial_number=UUID(int=rng.getrandbits(128), version=4),
        metadata=BomMetaData(component=subject, timestamp=TIMESTAMP, tools=tools),
        components=components,
        services=[d.service(0) for _ in range(d.rng.randint(0, 2))],
    )
    if d.components and d.maybe(0.5):
        for _ in range(d.rng.randint(1, 3)):
            b.vulnerabilities.add(d.vulnerability())
    if subject is not None and components:
        b.register_dependency(subject, d.rng.sample(components, d.rng.randint(1, len(components))))
    return b


def main():
    seed, count, out = int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
    out.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        spec = random.Random(seed * 1_000_003 + n).choice(list(SPECS))
        for fmt, ext in ((OutputFormat.JSON, "json"), (OutputFormat.XML, "xml")):
            # The same draws for both serializations: a fresh model from the same seed.
            model = bom(random.Random(seed * 1_000_003 + n), n, spec)
            text = make_outputter(model, fmt, SPECS[spec]).output_as_string(indent=2)
            (out / f"{n}-{spec}.{ext}").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
