//! What runs in each environment against what was deployed.

use andon_domain::access::AccessRequest;

/// Who held access to `environment` in a span, in words, for an alert.
pub fn grants_sentence(grants: &[AccessRequest]) -> String {
    if grants.is_empty() {
        return "no break-glass grant was active".into();
    }
    let each: Vec<String> = grants
        .iter()
        .map(|g| {
            format!(
                "{} held {} access ({}, {}: {}, approved by {})",
                g.requested_by,
                g.level.as_str(),
                g.id,
                g.ticket,
                g.reason,
                g.decided_by.as_deref().unwrap_or("?")
            )
        })
        .collect();
    format!("active grants: {}", each.join("; "))
}
