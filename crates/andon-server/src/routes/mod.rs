//! The router: one module per route family.

pub(crate) mod access;
pub(crate) mod admin;
pub(crate) mod admission;
pub(crate) mod alerts;
pub(crate) mod changes;
pub(crate) mod drills;
pub(crate) mod environments;
pub(crate) mod evidence;
pub(crate) mod gates;
pub(crate) mod identities;
pub(crate) mod ledger;
pub(crate) mod metrics;
pub(crate) mod oidc;
pub(crate) mod reports;
pub(crate) mod sigstore;
pub(crate) mod telemetry;
pub(crate) mod trace;
pub(crate) mod vulns;
mod webhooks;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post, put};

use crate::state::Server;

/// The metrics listener (`--metrics-listen`): `/metrics` without a token, and the probes.
/// Nothing there is rate-limited and nothing reads a token.
pub(crate) fn metrics_router(server: Server) -> Router {
    Router::new()
        .route("/metrics", get(crate::observe::metrics_open))
        .route("/livez", get(|| async { "ok" }))
        .route("/readyz", get(crate::observe::ready))
        .fallback(|| async { crate::ApiError::not_found("only /metrics and the probes here") })
        .with_state(server)
}

pub(crate) fn router(server: Server) -> Router {
    let limit = server.app.config().max_body_bytes;
    Router::new()
        .route("/metrics", get(crate::observe::metrics))
        .route("/v1/openapi.json", get(crate::openapi::serve))
        .route("/v1/whoami", get(admin::whoami))
        .route("/v1/admin/webhooks", get(admin::webhooks))
        .route(
            "/v1/applications",
            post(admin::create_application).get(admin::list_applications),
        )
        .route(
            "/v1/applications/{name}/signing-policy",
            put(admin::set_signing_policy),
        )
        .route(
            "/v1/applications/{name}/evidence-policy",
            put(admin::set_evidence_policy),
        )
        .route("/v1/applications/{name}/risk", put(drills::set_risk))
        .route(
            "/v1/applications/{name}/keyless-policy",
            put(sigstore::set_keyless_policy),
        )
        .route(
            "/v1/sigstore/trusted-roots",
            get(sigstore::list_trusted_roots),
        )
        .route(
            "/v1/sigstore/trusted-roots/{name}",
            put(sigstore::set_trusted_root),
        )
        .route(
            "/v1/identities",
            post(admin::create_identity).get(identities::list_identities),
        )
        .route("/v1/identities/{name}", get(identities::show_identity))
        .route(
            "/v1/identities/{name}/disable",
            post(identities::disable_identity),
        )
        .route(
            "/v1/identities/{name}/enrollments",
            post(identities::create_enrollment),
        )
        .route("/v1/enroll", post(identities::enroll))
        .route("/v1/auth/oidc", post(oidc::exchange))
        .route("/v1/auth/sso", post(oidc::sign_in))
        .route("/v1/oidc/person-rules", get(oidc::list_person_rules))
        .route("/v1/oidc/person-rules/{name}", put(oidc::set_person_rule))
        .route(
            "/v1/oidc/person-rules/{name}/remove",
            post(oidc::remove_person_rule),
        )
        .route("/v1/oidc/issuers", get(oidc::list_issuers))
        .route("/v1/oidc/issuers/{name}", put(oidc::set_issuer))
        .route("/v1/oidc/workload-rules", get(oidc::list_rules))
        .route("/v1/oidc/workload-rules/{name}", put(oidc::set_rule))
        .route(
            "/v1/oidc/workload-rules/{name}/remove",
            post(oidc::remove_rule),
        )
        .route("/v1/tokens", get(identities::list_tokens))
        .route("/v1/tokens/{id}/revoke", post(identities::revoke_token))
        .route("/v1/identities/{name}/tokens", post(admin::issue_token))
        .route("/v1/identities/{name}/keys", post(admin::register_key))
        .route("/v1/keys/{keyid}/revoke", post(admin::revoke_key))
        .route("/v1/evidence", post(evidence::submit).get(evidence::list))
        .route("/v1/evidence/batch", post(evidence::submit_batch))
        .route("/v1/evidence/{id}", get(evidence::show))
        .route("/v1/evidence/{id}/document", get(evidence::document))
        .route("/v1/ledger", get(ledger::info))
        .route("/v1/ledger/checkpoint", get(ledger::checkpoint))
        .route("/v1/ledger/cosigned", get(ledger::cosigned))
        .route("/v1/ledger/verify", post(ledger::verify))
        .route("/v1/ledger/entries", get(ledger::entries))
        .route("/v1/ledger/proof/inclusion", get(ledger::inclusion))
        .route("/v1/ledger/proof/consistency", get(ledger::consistency))
        .route("/v1/trace", get(trace::trace))
        .route(
            "/v1/policies",
            post(gates::publish).get(gates::list_policies),
        )
        .route("/v1/policies/{version}", get(gates::policy_bundle))
        .route("/v1/gate", post(gates::gate))
        .route("/v1/controls", get(gates::controls))
        .route(
            "/v1/controls/oscal/component-definition",
            get(gates::oscal_component_definition),
        )
        .route(
            "/v1/controls/oscal/assessment-results",
            get(gates::oscal_assessment_results),
        )
        .route("/v1/decisions/{id}", get(gates::decision))
        .route(
            "/v1/waivers",
            post(gates::request_waiver).get(gates::list_waivers),
        )
        .route("/v1/waivers/{id}/approve", post(gates::approve_waiver))
        .route("/v1/changes", get(changes::list))
        .route("/v1/changes/{id}", get(changes::show))
        .route("/v1/changes/{id}/approve", post(changes::approve))
        .route("/v1/changes/{id}/reject", post(changes::reject))
        .route("/v1/changes/{id}/rfc.json", get(changes::rfc_json))
        .route("/v1/changes/{id}/rfc.md", get(changes::rfc_markdown))
        .route("/v1/schemas/rfc.json", get(changes::rfc_schema))
        .route(
            "/v1/deployments",
            post(changes::record_deployment).get(changes::deployments),
        )
        .route("/v1/deployments/{id}", get(changes::deployment))
        .route(
            "/v1/deployments/{id}/state",
            post(changes::deployment_state),
        )
        .route("/v1/incidents", post(changes::report_incident))
        .route("/v1/alerts", get(alerts::list))
        .route("/v1/alerts/{id}", get(alerts::show))
        .route("/v1/alerts/{id}/acknowledge", post(alerts::acknowledge))
        .route("/v1/alerts/{id}/resolve", post(alerts::resolve))
        .route("/v1/metrics", get(metrics::metrics))
        .route("/v1/vulnerabilities/impact", get(vulns::impact))
        .route("/v1/advisories", post(vulns::import).get(vulns::advisories))
        .route("/v1/vulnerabilities/items", get(vulns::items))
        .route("/v1/vulnerabilities/items/{id}", get(vulns::item))
        .route("/v1/vulnerabilities/check", post(vulns::check))
        .route("/v1/drills", post(drills::start).get(drills::list))
        .route("/v1/drills/{id}", get(drills::show))
        .route("/v1/drills/{id}/finish", post(drills::finish))
        .route("/v1/drills/{id}/retrospective", post(drills::retrospective))
        .route("/v1/admission/clusters", get(admission::clusters))
        .route("/v1/admission/clusters/{name}", put(admission::set_cluster))
        .route("/v1/admission/events", get(admission::events))
        .route(
            "/v1/telemetry",
            post(telemetry::ingest).get(telemetry::search),
        )
        .route("/v1/telemetry/rules", get(telemetry::rules))
        .route(
            "/v1/access/requests",
            post(access::request).get(access::list),
        )
        .route("/v1/access/requests/{id}", get(access::show))
        .route("/v1/access/requests/{id}/approve", post(access::approve))
        .route("/v1/access/requests/{id}/reject", post(access::reject))
        .route("/v1/access/requests/{id}/revoke", post(access::revoke))
        .route("/v1/access/grants", get(access::grants))
        .route("/v1/access/check", post(access::check))
        .route(
            "/v1/access/accounts",
            post(access::register_account).get(access::accounts),
        )
        .route(
            "/v1/access/accounts/{name}/uses",
            post(access::account_used),
        )
        .route(
            "/v1/access/accounts/{name}/retire",
            post(access::retire_account),
        )
        .route("/v1/access/standing", get(access::standing))
        .route("/v1/access/debt", get(access::debt))
        .route(
            "/v1/environments/{env}/snapshots",
            post(environments::report).get(environments::snapshots),
        )
        .route("/v1/alerts/check", post(changes::check_alerts))
        .route("/v1/notifications", get(changes::notifications))
        .route("/webhooks/github", post(webhooks::github))
        .route("/k8s/admission/v1/{cluster}", post(admission::review))
        .route(
            "/k8s/admission/v1/{cluster}/{token}",
            post(admission::review_with_path_token),
        )
        .route("/webhooks/gitlab", post(webhooks::gitlab))
        .merge(crate::web::router())
        // Inside the tracker: overload is refused before a body is read.
        .route_layer(axum::middleware::from_fn_with_state(
            server.clone(),
            crate::observe::read_body,
        ))
        .route_layer(axum::middleware::from_fn_with_state(
            server.clone(),
            crate::observe::track,
        ))
        // Reports read their own body, within their own limit (`--max-report-bytes`): not
        // buffered whole under the JSON body limit as every route above is.
        .route(
            "/v1/reports/{digest}",
            put(reports::upload).get(reports::read).route_layer(
                axum::middleware::from_fn_with_state(server.clone(), crate::observe::track),
            ),
        )
        // Probes sit outside the in-flight limit: an overloaded server is alive, and says
        // so, rather than answering its orchestrator 429.
        .route("/healthz", get(|| async { "ok" }))
        .route("/livez", get(|| async { "ok" }))
        .route("/readyz", get(crate::observe::ready))
        .fallback(|| async { crate::ApiError::not_found("no such route") })
        .layer(DefaultBodyLimit::max(limit))
        // Outermost: every route, the probes included, knows its client's address.
        .layer(axum::middleware::from_fn_with_state(
            server.clone(),
            crate::client_addr::layer,
        ))
        .with_state(server)
}
