//! SBOM components as Andon stores them: the document's own (name, version, purl), in
//! order, each with the package key matching reads, derived from its purl.

use andon_domain::components::{ComponentRow, ComponentsBinding};
use andon_evidence::sbom::Component;
use andon_store::SbomComponent;

/// The rows of an SBOM's components, in document order.
pub fn rows(components: Vec<Component>) -> Vec<ComponentRow> {
    components
        .into_iter()
        .map(|c| ComponentRow {
            name: c.name,
            version: c.version,
            purl: c.purl,
        })
        .collect()
}

/// The rows with their package keys: a purl's type, namespace and name as
/// [`andon_vuln::purl::parse`] normalizes them; empty for a component without a readable
/// purl (it is stored, and found by no package query).
pub fn indexed(rows: Vec<ComponentRow>) -> Vec<SbomComponent> {
    rows.into_iter()
        .map(|row| {
            let key = row
                .purl
                .as_deref()
                .and_then(|p| andon_vuln::purl::parse(p).ok())
                .map(|p| p.key);
            let (purl_type, purl_namespace, purl_name) = match key {
                Some(k) => (k.ty, k.namespace, k.name),
                None => Default::default(),
            };
            SbomComponent {
                row,
                purl_type,
                purl_namespace,
                purl_name,
            }
        })
        .collect()
}

/// An SBOM's components bound and indexed, ready for its evidence entry.
pub fn bind(components: Vec<Component>) -> (ComponentsBinding, Vec<SbomComponent>) {
    let rows = rows(components);
    (ComponentsBinding::of(&rows), indexed(rows))
}
