//! The OpenAPI 3.0 description of the HTTP API, served at `GET /v1/openapi.json`.
//!
//! Request bodies and query parameters are generated from the very types the handlers
//! deserialize (`schemars`), so the description cannot drift from what the server accepts;
//! each operation also carries who may call it (`x-andon-roles`), which the authorization
//! test checks against its role-by-route table.

use std::sync::OnceLock;

use schemars::generate::{SchemaGenerator, SchemaSettings};
use schemars::{JsonSchema, Schema};
use serde_json::{Map, Value, json};

/// How a request carries its input.
enum Body {
    /// No body.
    None,
    /// A JSON body of a type the handler deserializes.
    Json(fn(&mut SchemaGenerator) -> Schema),
    /// A body the handler reads itself, with its media types and schema.
    Raw(&'static [&'static str], fn() -> Value),
}

/// One operation.
struct Op {
    method: &'static str,
    path: &'static str,
    /// `-` anyone, `*` any identity, `sig` a webhook signature, `cluster` an admission cluster's token, else role letters: `A`
    /// admin, `P` pipeline, `R` approver, `U` auditor.
    roles: &'static str,
    summary: &'static str,
    tag: &'static str,
    body: Body,
    query: Option<fn(&mut SchemaGenerator) -> Schema>,
    /// The success status and media type.
    ok: (u16, &'static str),
}

fn schema<T: JsonSchema>(g: &mut SchemaGenerator) -> Schema {
    g.subschema_for::<T>()
}

fn query<T: JsonSchema>(g: &mut SchemaGenerator) -> Schema {
    // Inline: a query's fields become parameters.
    g.root_schema_for::<T>()
}

const JSON: &str = "application/json";
const TEXT: &str = "text/plain";
const OPEN_METRICS: &str = "application/openmetrics-text";

fn envelope() -> Value {
    json!({
        "type": "object",
        "description": "A DSSE envelope whose payload is an in-toto statement, signed by a key registered to the calling pipeline identity.",
        "required": ["payload", "payloadType", "signatures"],
        "additionalProperties": false,
        "properties": {
            "payload": {"type": "string", "description": "standard base64"},
            "payloadType": {"type": "string", "example": "application/vnd.in-toto+json"},
            "signatures": {"type": "array", "minItems": 1, "items": {
                "type": "object", "required": ["sig"], "additionalProperties": false,
                "properties": {"keyid": {"type": "string"}, "sig": {"type": "string"}}
            }}
        }
    })
}

/// OSV records (ossf.github.io/osv-schema): one, an array, or `{"advisories": [...]}`.
fn osv_records() -> Value {
    let record = json!({
        "type": "object",
        "description": "An OSV record, as the OSV database, GitHub's advisory database and osv-scanner write it; checked against the OSV schema.",
        "required": ["id", "modified"],
        "properties": {"id": {"type": "string"}, "modified": {"type": "string"}},
    });
    json!({"oneOf": [
        record.clone(),
        {"type": "array", "items": record.clone(), "minItems": 1, "maxItems": 1000},
        {"type": "object", "required": ["advisories"], "properties": {
            "advisories": {"type": "array", "items": record, "minItems": 1, "maxItems": 1000}
        }},
    ]})
}

/// A DSSE envelope, or a Sigstore bundle that carries one.
fn attestation() -> Value {
    json!({"oneOf": [envelope(), bundle()]})
}

fn bundle() -> Value {
    json!({
        "type": "object",
        "description": "A Sigstore bundle (v0.1 to v0.3) of an attestation: keyless (a Fulcio certificate, checked against the registered trusted roots and the application's keyless policy) or with a key hint (its DSSE signature checked against the registered keys).",
        "required": ["mediaType", "verificationMaterial", "dsseEnvelope"],
        "properties": {
            "mediaType": {"type": "string", "example": "application/vnd.dev.sigstore.bundle.v0.3+json"},
            "verificationMaterial": {"type": "object"},
            "dsseEnvelope": envelope()
        }
    })
}

fn envelopes() -> Value {
    json!({"type": "array", "items": attestation(), "maxItems": 1000})
}

fn trusted_root() -> Value {
    json!({
        "type": "object",
        "description": "A Sigstore trusted root (trusted_root.json), as Sigstore's TUF repository distributes it.",
        "required": ["mediaType", "tlogs", "certificateAuthorities"],
        "properties": {
            "mediaType": {"type": "string", "example": "application/vnd.dev.sigstore.trustedroot+json;version=0.1"},
            "tlogs": {"type": "array"},
            "certificateAuthorities": {"type": "array"},
            "ctlogs": {"type": "array"},
            "timestampAuthorities": {"type": "array"}
        }
    })
}

fn report_bytes() -> Value {
    json!({
        "type": "string",
        "format": "binary",
        "description": "The report's bytes, exactly as the tool wrote them; they must hash to the digest in the path.",
    })
}

fn telemetry() -> Value {
    json!({
        "type": "array",
        "description": "Security events (docs/telemetry.md), as a JSON array or one JSON object per line.",
        "maxItems": 10000,
        "items": {"type": "object", "required": ["kind", "source", "at"], "properties": {
            "kind": {"type": "string", "enum": ["login.success", "login.failure", "config.change",
                "security_group.change", "iam.change", "http.requests", "maintenance.on", "maintenance.off"]},
            "source": {"type": "string"},
            "at": {"type": "string", "format": "date-time"},
            "application": {"type": "string"},
            "environment": {"type": "string"},
            "actor": {"type": "string"},
            "count": {"type": "integer", "minimum": 0},
            "status_4xx": {"type": "integer", "minimum": 0},
            "status_5xx": {"type": "integer", "minimum": 0}
        }}
    })
}

fn admission_review() -> Value {
    json!({"type": "object", "description": "An admission.k8s.io/v1 AdmissionReview, as the Kubernetes API server sends it; answered with an AdmissionReview carrying the response (docs/admission.md)."})
}

fn webhook() -> Value {
    json!({"type": "object", "description": "The source-control system's webhook payload, as it sends it."})
}

/// Every operation of the router, in its order: one line each, a table.
#[rustfmt::skip]
fn operations() -> Vec<Op> {
    use Body::{Json, None as NoBody, Raw};
    let op = |method, path, roles, tag, summary, body, query, ok| Op {
        method,
        path,
        roles,
        summary,
        tag,
        body,
        query,
        ok,
    };
    use andon_domain::api as a;
    vec![
        op("GET", "/healthz", "-", "service", "Alive (kept for older probes).", NoBody, None, (200, TEXT)),
        op("GET", "/livez", "-", "service", "The process answers.", NoBody, None, (200, TEXT)),
        op("GET", "/readyz", "-", "service", "This server can write: the database answers within 400 ms, the sequencer runs, it holds the log key in force and the schema lets it write (503 otherwise, saying why).", NoBody, None, (200, TEXT)),
        op("GET", "/metrics", "*", "service", "Metrics in OpenMetrics text, from memory (also while the database is down); docs/operations.md lists them.", NoBody, None, (200, OPEN_METRICS)),
        op("GET", "/v1/openapi.json", "-", "service", "This description.", NoBody, None, (200, JSON)),
        op("GET", "/v1/whoami", "*", "identities", "The calling identity and its role.", NoBody, None, (200, JSON)),
        op("GET", "/v1/admin/webhooks", "A", "identities", "The webhook endpoints and the secrets they check (configured, or made on the first start).", NoBody, None, (200, JSON)),
        op("POST", "/v1/applications", "A", "identities", "Create an application with its owning team.", Json(schema::<a::NewApplication>), None, (201, JSON)),
        op("GET", "/v1/applications", "*", "identities", "The applications.", NoBody, None, (200, JSON)),
        op("PUT", "/v1/applications/{name}/signing-policy", "A", "identities", "How many of the application's registered keys must sign each envelope (1 to 16; 1 until set).", Json(schema::<a::NewSigningPolicy>), None, (200, JSON)),
        op("PUT", "/v1/applications/{name}/evidence-policy", "A", "identities", "Whether the application's SBOMs that break their format's official schema are refused (strict, the default) or recorded with their errors (lenient).", Json(schema::<a::NewEvidencePolicy>), None, (200, JSON)),
        op("PUT", "/v1/applications/{name}/keyless-policy", "A", "identities", "Which keyless signers (OIDC issuer, certificate identity, claims) may sign the application's evidence; replaces the whole policy.", Json(schema::<andon_domain::sigstore::KeylessPolicy>), None, (200, JSON)),
        op("GET", "/v1/sigstore/trusted-roots", "*", "identities", "The registered Sigstore trusted roots.", NoBody, None, (200, JSON)),
        op("PUT", "/v1/sigstore/trusted-roots/{name}", "A", "identities", "Register (or replace) a Sigstore trusted root that keyless bundles are verified against.", Raw(&[JSON], trusted_root), None, (200, JSON)),
        op("POST", "/v1/identities", "A", "identities", "Create an identity with a role; answers a pipeline's first token, or a person's one-time enrollment code, once.", Json(schema::<a::NewIdentity>), None, (201, JSON)),
        op("GET", "/v1/identities", "AU", "identities", "The identities, as the ledger made them.", NoBody, None, (200, JSON)),
        op("GET", "/v1/identities/{name}", "*", "identities", "One identity with its tokens and keys (admins and auditors: any; others: their own).", NoBody, None, (200, JSON)),
        op("POST", "/v1/identities/{name}/disable", "A", "identities", "Disable an identity: its tokens and keys are refused from now on, on every server.", Json(schema::<andon_domain::identity::ReasonInput>), None, (200, JSON)),
        op("POST", "/v1/identities/{name}/enrollments", "A", "identities", "A one-time enrollment code with which a person issues their own token.", NoBody, None, (201, JSON)),
        op("POST", "/v1/enroll", "-", "identities", "Redeem an enrollment code for a token the identity issues for itself.", Json(schema::<andon_domain::identity::EnrollRequest>), None, (201, JSON)),
        op("POST", "/v1/auth/oidc", "-", "identities", "Exchange a CI job's OpenID Connect ID token, once, for a session token of the pipeline a workload rule maps it to (it lives no longer than the ID token, an hour at most).", Json(schema::<andon_domain::oidc::api::ExchangeRequest>), None, (201, JSON)),
        op("POST", "/v1/auth/sso", "-", "identities", "Sign a person in with an ID token from the organisation's identity provider (andon login): the first sign-in creates their identity with the role a person rule gives; answers a session of eight hours they issued for themselves.", Json(schema::<andon_domain::oidc::api::SignInRequest>), None, (201, JSON)),
        op("GET", "/v1/oidc/person-rules", "AU", "identities", "The rules mapping people's ID tokens to a role and approver groups.", NoBody, None, (200, JSON)),
        op("PUT", "/v1/oidc/person-rules/{name}", "A", "identities", "Map people's ID tokens of a registered issuer, by their claims (groups, email...), to a role and approver groups.", Json(schema::<andon_domain::oidc::PersonRule>), None, (200, JSON)),
        op("POST", "/v1/oidc/person-rules/{name}/remove", "A", "identities", "Remove a person rule (with a reason).", Json(schema::<andon_domain::identity::ReasonInput>), None, (200, JSON)),
        op("GET", "/v1/oidc/issuers", "AU", "identities", "The OpenID Connect issuers whose ID tokens are accepted.", NoBody, None, (200, JSON)),
        op("PUT", "/v1/oidc/issuers/{name}", "A", "identities", "Trust (or replace) an OpenID Connect issuer: its URL, accepted audiences and algorithms, and optionally its JWK set for installs that cannot reach it.", Json(schema::<andon_domain::oidc::OidcIssuer>), None, (200, JSON)),
        op("GET", "/v1/oidc/workload-rules", "AU", "identities", "The rules mapping CI jobs' ID tokens to pipeline identities.", NoBody, None, (200, JSON)),
        op("PUT", "/v1/oidc/workload-rules/{name}", "A", "identities", "Map CI jobs' ID tokens of a registered issuer, by their claims, to a pipeline identity.", Json(schema::<andon_domain::oidc::WorkloadRule>), None, (200, JSON)),
        op("POST", "/v1/oidc/workload-rules/{name}/remove", "A", "identities", "Remove a workload rule (with a reason).", Json(schema::<andon_domain::identity::ReasonInput>), None, (200, JSON)),
        op("GET", "/v1/tokens", "*", "identities", "Tokens (never the secrets): admins and auditors see all, others their own.", NoBody, Some(query::<andon_domain::identity::TokensQuery>), (200, JSON)),
        op("POST", "/v1/tokens/{id}/revoke", "*", "identities", "Revoke a token (admins: any; others: their own).", Json(schema::<andon_domain::identity::ReasonInput>), None, (200, JSON)),
        op("POST", "/v1/identities/{name}/tokens", "A", "identities", "Issue another token, issued by the admin (it approves nothing).", NoBody, None, (201, JSON)),
        op("POST", "/v1/identities/{name}/keys", "A", "identities", "Register a public key (Ed25519, ECDSA P-256/P-384 or RSA; PEM, OpenSSH or raw base64 Ed25519) to a pipeline identity.", Json(schema::<a::NewKey>), None, (201, JSON)),
        op("POST", "/v1/keys/{keyid}/revoke", "A", "identities", "Revoke a key: evidence it signs is refused from now on.", NoBody, None, (200, JSON)),
        op("POST", "/v1/evidence", "P", "evidence", "Submit one signed attestation: a DSSE envelope or a Sigstore bundle.", Raw(&[JSON], attestation), Some(query::<andon_domain::query::evidence::SubmitQuery>), (201, JSON)),
        op("GET", "/v1/evidence", "*", "evidence", "Search evidence.", NoBody, Some(query::<andon_domain::query::evidence::ListQuery>), (200, JSON)),
        op("POST", "/v1/evidence/batch", "P", "evidence", "Submit several attestations at once, all or none.", Raw(&[JSON], envelopes), Some(query::<andon_domain::query::evidence::SubmitQuery>), (201, JSON)),
        op("GET", "/v1/evidence/{id}", "*", "evidence", "One piece of evidence with its inclusion proof.", NoBody, None, (200, JSON)),
        op("GET", "/v1/evidence/{id}/document", "*", "evidence", "The envelope exactly as received.", NoBody, None, (200, JSON)),
        op("PUT", "/v1/reports/{digest}", "P", "evidence", "Upload a report too large to carry inline, under its digest (sha256:<hex>); a statement then names it by digest and size. Limited by --max-report-bytes, not the JSON body limit.", Raw(&["application/octet-stream"], report_bytes), None, (201, JSON)),
        op("GET", "/v1/reports/{digest}", "*", "evidence", "An uploaded report, as uploaded.", NoBody, None, (200, "application/octet-stream")),
        op("GET", "/v1/ledger", "*", "ledger", "Origin, verifier keys, size, signed checkpoint.", NoBody, None, (200, JSON)),
        op("GET", "/v1/ledger/checkpoint", "*", "ledger", "The latest checkpoint as a C2SP signed note, with the witnesses' cosignatures once they have cosigned it.", NoBody, None, (200, TEXT)),
        op("GET", "/v1/ledger/cosigned", "*", "ledger", "The newest checkpoint a witness cosigned, with every cosignature (C2SP tlog-cosignature lines); 404 before any.", NoBody, None, (200, TEXT)),
        op("POST", "/v1/ledger/verify", "AU", "ledger", "Re-verify the stored ledger now.", NoBody, None, (200, JSON)),
        op("GET", "/v1/ledger/entries", "*", "ledger", "Entries with their documents, in index order.", NoBody, Some(query::<andon_domain::query::ledger::EntriesQuery>), (200, JSON)),
        op("GET", "/v1/ledger/proof/inclusion", "*", "ledger", "An RFC 6962 inclusion proof.", NoBody, Some(query::<andon_domain::query::ledger::InclusionQuery>), (200, JSON)),
        op("GET", "/v1/ledger/proof/consistency", "*", "ledger", "An RFC 6962 consistency proof.", NoBody, Some(query::<andon_domain::query::ledger::ConsistencyQuery>), (200, JSON)),
        op("GET", "/v1/trace", "*", "evidence", "From a commit or an artifact to its reviews, tickets, builds and deployments.", NoBody, Some(query::<andon_domain::query::evidence::TraceQuery>), (200, JSON)),
        op("POST", "/v1/policies", "A", "gates", "Publish a policy bundle (validated and tested first).", Json(schema::<andon_policy::Bundle>), None, (201, JSON)),
        op("GET", "/v1/policies", "*", "gates", "Published policies.", NoBody, None, (200, JSON)),
        op("GET", "/v1/policies/{version}", "*", "gates", "A published bundle by version.", NoBody, None, (200, JSON)),
        op("POST", "/v1/gate", "APR", "gates", "Ask the release gate; answers the signed decision.", Json(schema::<a::GateRequest>), None, (200, JSON)),
        op("GET", "/v1/controls", "*", "gates", "The Risk Control Matrix: each control, its risk and frameworks, and how it did over a period.", NoBody, Some(query::<andon_domain::query::gates::ControlsQuery>), (200, JSON)),
        op("GET", "/v1/controls/oscal/component-definition", "*", "gates", "The Risk Control Matrix's controls as an OSCAL 1.2.3 component definition.", NoBody, Some(query::<andon_domain::query::gates::OscalQuery>), (200, JSON)),
        op("GET", "/v1/controls/oscal/assessment-results", "*", "gates", "The Risk Control Matrix's effectiveness over the period as OSCAL 1.2.3 assessment results.", NoBody, Some(query::<andon_domain::query::gates::OscalQuery>), (200, JSON)),
        op("GET", "/v1/decisions/{id}", "*", "gates", "A recorded decision.", NoBody, None, (200, JSON)),
        op("POST", "/v1/waivers", "APR", "gates", "Request a waiver of a control.", Json(schema::<a::WaiverRequest>), None, (201, JSON)),
        op("GET", "/v1/waivers", "*", "gates", "Waivers.", NoBody, Some(query::<andon_domain::query::gates::WaiverQuery>), (200, JSON)),
        op("POST", "/v1/waivers/{id}/approve", "AR", "gates", "Approve a waiver (not one's own).", NoBody, None, (200, JSON)),
        op("GET", "/v1/changes", "*", "changes", "Change records.", NoBody, Some(query::<andon_domain::query::changes::ListQuery>), (200, JSON)),
        op("GET", "/v1/changes/{id}", "*", "changes", "A change record with its approvals.", NoBody, None, (200, JSON)),
        op("POST", "/v1/changes/{id}/approve", "AR", "changes", "Approve a normal change.", Json(schema::<a::ApprovalRequest>), None, (200, JSON)),
        op("POST", "/v1/changes/{id}/reject", "AR", "changes", "Reject a normal change.", Json(schema::<a::ApprovalRequest>), None, (200, JSON)),
        op("GET", "/v1/changes/{id}/rfc.json", "*", "changes", "The request for change, JSON.", NoBody, None, (200, JSON)),
        op("GET", "/v1/changes/{id}/rfc.md", "*", "changes", "The request for change, Markdown.", NoBody, None, (200, "text/markdown")),
        op("GET", "/v1/schemas/rfc.json", "-", "changes", "The JSON Schema of a request for change.", NoBody, None, (200, "application/schema+json")),
        op("POST", "/v1/deployments", "AP", "changes", "Record a deployment.", Json(schema::<a::DeploymentRequest>), None, (201, JSON)),
        op("GET", "/v1/deployments", "*", "changes", "Deployments.", NoBody, Some(query::<andon_domain::query::changes::ListQuery>), (200, JSON)),
        op("GET", "/v1/deployments/{id}", "*", "changes", "A deployment.", NoBody, None, (200, JSON)),
        op("POST", "/v1/deployments/{id}/state", "APR", "changes", "Mark a deployment failed, rolled back or restored.", Json(schema::<a::DeploymentStateRequest>), None, (200, JSON)),
        op("POST", "/v1/incidents", "AP", "metrics", "Report an incident.", Json(schema::<a::IncidentRequest>), None, (201, JSON)),
        op("GET", "/v1/alerts", "*", "alerts", "Alerts, newest first.", NoBody, Some(query::<andon_domain::query::access::AlertsQuery>), (200, JSON)),
        op("GET", "/v1/alerts/{id}", "*", "alerts", "An alert with its history.", NoBody, None, (200, JSON)),
        op("POST", "/v1/alerts/{id}/acknowledge", "AR", "alerts", "Acknowledge an alert.", Json(schema::<andon_domain::api::NoteInput>), None, (200, JSON)),
        op("POST", "/v1/alerts/{id}/resolve", "AR", "alerts", "Resolve an alert.", Json(schema::<andon_domain::api::NoteInput>), None, (200, JSON)),
        op("GET", "/v1/metrics", "*", "metrics", "DORA's four keys with their bands.", NoBody, Some(query::<andon_domain::query::metrics::MetricsQuery>), (200, JSON)),
        op("GET", "/v1/vulnerabilities/impact", "*", "vulnerabilities", "Which artifacts contain a package or a version an imported advisory names (from their SBOMs), where each runs now, and who owns it.", NoBody, Some(query::<andon_domain::query::vulns::ImpactQuery>), (200, JSON)),
        op("GET", "/v1/vulnerabilities/items", "*", "vulnerabilities", "Vulnerability items: one per application and vulnerability found running in production, with its priority, deadline and where its fix stands (newest first, at most 1,000).", NoBody, Some(query::<andon_domain::query::vulns::ItemQuery>), (200, JSON)),
        op("GET", "/v1/vulnerabilities/items/{id}", "*", "vulnerabilities", "One vulnerability item with its transitions, each a ledger entry.", NoBody, None, (200, JSON)),
        op("POST", "/v1/vulnerabilities/check", "A", "vulnerabilities", "Advance every vulnerability item and raise the overdue alerts now, as the server does on its interval.", NoBody, None, (200, JSON)),
        op("POST", "/v1/drills", "APR", "drills", "Start a drill (a game day): the application, the scenario, the change it rehearses and who takes part.", Json(schema::<andon_domain::drills::DrillStart>), None, (201, JSON)),
        op("GET", "/v1/drills", "*", "drills", "Drills, newest first (at most 500).", NoBody, Some(query::<andon_domain::drills::DrillQuery>), (200, JSON)),
        op("GET", "/v1/drills/{id}", "*", "drills", "One drill with what happened during it and its signed retrospective.", NoBody, None, (200, JSON)),
        op("POST", "/v1/drills/{id}/finish", "APR", "drills", "Finish a drill: Andon links the runs, gate decisions and deployments since its start and measures its time to production.", Json(schema::<andon_domain::drills::DrillFinish>), None, (200, JSON)),
        op("POST", "/v1/drills/{id}/retrospective", "AR", "drills", "Record a finished drill's retrospective (went well, went badly, actions with owners), signed by the server as a DSSE envelope.", Json(schema::<andon_domain::drills::Retrospective>), None, (200, JSON)),
        op("PUT", "/v1/applications/{name}/risk", "A", "drills", "Set an application's risk level (low, medium, high, critical), which the drill-recent control reads.", Json(schema::<andon_domain::drills::RiskInput>), None, (200, JSON)),
        op("GET", "/v1/admission/clusters", "*", "admission", "The clusters registered for admission: environment, mode, how old an allowing decision may be.", NoBody, None, (200, JSON)),
        op("PUT", "/v1/admission/clusters/{name}", "A", "admission", "Register a cluster for admission or change it; the first registration (or new_token) answers with the token its API server sends, shown once.", Json(schema::<andon_domain::admission::ClusterInput>), None, (200, JSON)),
        op("GET", "/v1/admission/events", "*", "admission", "Workloads refused at admission, or admitted in audit mode though enforce would refuse them, newest first.", NoBody, Some(query::<andon_domain::admission::EventsQuery>), (200, JSON)),
        op("GET", "/v1/advisories", "*", "vulnerabilities", "The imported OSV advisories, newest import first (at most 1,000): id, aliases, severity, summary, modified, withdrawn, entry.", NoBody, None, (200, JSON)),
        op("POST", "/v1/advisories", "A", "vulnerabilities", "Import OSV records: one, a JSON array, or {\"advisories\": [...]} (at most 1,000), each checked against the OSV schema.", Raw(&[JSON], osv_records), None, (201, JSON)),
        op("POST", "/v1/telemetry", "AP", "telemetry", "Send a batch of security events.", Raw(&[JSON, "application/x-ndjson"], telemetry), None, (201, JSON)),
        op("GET", "/v1/telemetry", "*", "telemetry", "Search security events.", NoBody, Some(query::<andon_domain::query::telemetry::SearchQuery>), (200, JSON)),
        op("GET", "/v1/telemetry/rules", "*", "telemetry", "The rules in force.", NoBody, None, (200, JSON)),
        op("POST", "/v1/access/requests", "APR", "access", "Request break-glass access.", Json(schema::<a::AccessRequestInput>), None, (201, JSON)),
        op("GET", "/v1/access/requests", "*", "access", "Access requests.", NoBody, Some(query::<andon_domain::query::access::RequestsQuery>), (200, JSON)),
        op("GET", "/v1/access/requests/{id}", "*", "access", "An access request.", NoBody, None, (200, JSON)),
        op("POST", "/v1/access/requests/{id}/approve", "AR", "access", "Approve a request (not one's own): the grant starts.", Json(schema::<a::AccessDecisionInput>), None, (200, JSON)),
        op("POST", "/v1/access/requests/{id}/reject", "AR", "access", "Reject a request.", Json(schema::<a::AccessDecisionInput>), None, (200, JSON)),
        op("POST", "/v1/access/requests/{id}/revoke", "APR", "access", "End a grant early, with an optional comment.", Json(schema::<a::AccessDecisionInput>), None, (200, JSON)),
        op("GET", "/v1/access/grants", "*", "access", "Grants valid now (or at a time).", NoBody, Some(query::<andon_domain::query::access::GrantsQuery>), (200, JSON)),
        op("POST", "/v1/access/check", "A", "access", "Record the expiries due now.", NoBody, None, (200, JSON)),
        op("POST", "/v1/access/accounts", "A", "access", "Register a standing production account.", Json(schema::<a::AccountInput>), None, (201, JSON)),
        op("GET", "/v1/access/accounts", "*", "access", "Standing accounts.", NoBody, None, (200, JSON)),
        op("POST", "/v1/access/accounts/{name}/uses", "AP", "access", "Record a use of a standing account.", Json(schema::<a::AccountUseInput>), None, (201, JSON)),
        op("POST", "/v1/access/accounts/{name}/retire", "A", "access", "Retire a standing account.", NoBody, None, (200, JSON)),
        op("GET", "/v1/access/standing", "*", "access", "People with standing production access.", NoBody, None, (200, JSON)),
        op("GET", "/v1/access/debt", "*", "access", "Production Access Debt with its trend.", NoBody, Some(query::<andon_domain::query::access::DebtQuery>), (200, JSON)),
        op("POST", "/v1/environments/{env}/snapshots", "AP", "access", "Report what runs; drift is alerted.", Json(schema::<a::SnapshotInput>), None, (201, JSON)),
        op("GET", "/v1/environments/{env}/snapshots", "*", "access", "Reported snapshots.", NoBody, Some(query::<andon_domain::query::access::SnapshotsQuery>), (200, JSON)),
        op("POST", "/v1/alerts/check", "A", "alerts", "Look for overdue emergency reviews and vulnerability items past their deadline now.", NoBody, None, (200, JSON)),
        op("GET", "/v1/notifications", "AU", "alerts", "The notification delivery log.", NoBody, Some(query::<andon_domain::query::changes::ListQuery>), (200, JSON)),
        op("POST", "/webhooks/github", "sig", "webhooks", "A GitHub webhook delivery (X-Hub-Signature-256).", Raw(&[JSON], webhook), None, (200, JSON)),
        op("POST", "/webhooks/gitlab", "sig", "webhooks", "A GitLab webhook delivery (X-Gitlab-Token).", Raw(&[JSON], webhook), None, (200, JSON)),
        op("POST", "/k8s/admission/v1/{cluster}", "cluster", "admission", "A Kubernetes API server's admission review, with the cluster's token as a bearer token: each new container image admitted only when pinned by digest with a recent allowing gate decision for the cluster's environment.", Raw(&[JSON], admission_review), None, (200, JSON)),
        op("POST", "/k8s/admission/v1/{cluster}/{token}", "cluster", "admission", "The same review for control planes that cannot send a bearer token: the cluster's token as the last path segment.", Raw(&[JSON], admission_review), None, (200, JSON)),
    ]
}

/// Query parameters from a query type's schema: one per property.
fn parameters(root: &Value) -> Vec<Value> {
    let required: Vec<&str> = root["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let mut out = Vec::new();
    if let Some(props) = root["properties"].as_object() {
        for (name, schema) in props {
            let mut schema = schema.clone();
            let description = schema
                .as_object_mut()
                .and_then(|o| o.remove("description"))
                .unwrap_or(Value::Null);
            // A query parameter is a plain value: `nullable` says nothing there.
            if let Some(o) = schema.as_object_mut() {
                o.remove("nullable");
            }
            let mut p = json!({
                "name": name,
                "in": "query",
                "required": required.contains(&name.as_str()),
                "schema": schema,
            });
            if !description.is_null() {
                p["description"] = description;
            }
            out.push(p);
        }
    }
    out
}

fn build() -> Value {
    let mut generator = SchemaSettings::openapi3().into_generator();
    let mut paths = Map::new();
    for op in operations() {
        let mut o = json!({
            "summary": op.summary,
            "tags": [op.tag],
            "operationId": format!("{} {}", op.method.to_lowercase(), op.path),
            "x-andon-roles": op.roles,
        });
        let mut params: Vec<Value> = op
            .path
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        let mut csv = false;
        if let Some(q) = op.query {
            let schema = q(&mut generator).to_value();
            csv = schema["properties"].get("format").is_some();
            params.extend(parameters(&schema));
        }
        if op.roles == "sig" {
            let header = if op.path.ends_with("github") {
                (
                    "X-Hub-Signature-256",
                    "sha256=<hex HMAC-SHA256 of the body>",
                )
            } else {
                ("X-Gitlab-Token", "the webhook's secret token")
            };
            params.push(json!({"name": header.0, "in": "header", "required": true,
                "description": header.1, "schema": {"type": "string"}}));
        }
        if !params.is_empty() {
            o["parameters"] = Value::Array(params);
        }
        match op.body {
            Body::None => {}
            Body::Json(f) => {
                o["requestBody"] = json!({"required": true, "content": {JSON: {"schema": f(&mut generator).to_value()}}});
            }
            Body::Raw(types, f) => {
                let content: Map<String, Value> = types
                    .iter()
                    .map(|t| ((*t).to_owned(), json!({"schema": f()})))
                    .collect();
                o["requestBody"] = json!({"required": true, "content": content});
            }
        }
        if matches!(op.roles, "-" | "sig") {
            o["security"] = json!([]);
        }
        let (status, media) = op.ok;
        let ok = if media == JSON && csv {
            json!({"description": "success (CSV with format=csv)", "content": {
                JSON: {"schema": {}}, "text/csv": {"schema": {"type": "string"}}}})
        } else if media == JSON {
            json!({"description": "success", "content": {JSON: {"schema": {}}}})
        } else {
            json!({"description": "success", "content": {media: {"schema": {"type": "string"}}}})
        };
        let error = json!({"$ref": "#/components/responses/Error"});
        let mut responses = Map::new();
        if status == 201 {
            // Sending the same thing again (evidence, a policy bundle) answers 200 with the
            // first receipt.
            responses.insert("200".into(), ok.clone());
        }
        responses.insert(status.to_string(), ok);
        for code in [
            "400", "401", "403", "404", "405", "409", "413", "415", "422", "429", "503", "507",
        ] {
            responses.insert(code.into(), error.clone());
        }
        o["responses"] = Value::Object(responses);
        let entry = paths.entry(op.path.to_owned()).or_insert_with(|| json!({}));
        entry[op.method.to_lowercase()] = o;
    }
    let schemas: Map<String, Value> = generator.take_definitions(true).into_iter().collect();
    let tags: Vec<Value> = [
        "service",
        "identities",
        "evidence",
        "ledger",
        "gates",
        "changes",
        "metrics",
        "vulnerabilities",
        "alerts",
        "telemetry",
        "access",
        "drills",
        "admission",
        "webhooks",
    ]
    .iter()
    .map(|t| json!({ "name": t }))
    .collect();
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "Andon",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Automated governance for software delivery: signed evidence in, release-gate decisions, change records, production access and drift, delivery metrics, all in a verifiable ledger. `x-andon-roles` on each operation says who may call it: `-` anyone, `*` any identity, `sig` a webhook signature, else role letters (A admin, P pipeline, R approver, U auditor).",
        },
        "servers": [{"url": "/"}],
        "tags": tags,
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "description": "An API token: `andon_<64 hex>`."}},
            "schemas": schemas,
            "responses": {"Error": {
                "description": "Refused: the error's code says why, its message what to do.",
                "content": {JSON: {"schema": {"type": "object", "required": ["error"], "properties": {
                    "error": {"type": "object", "required": ["code", "message"], "properties": {
                        "code": {"type": "string"}, "message": {"type": "string"}}}}}}}
            }}
        }
    })
}

/// The description, built once.
pub fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(build)
}

/// `GET /v1/openapi.json`.
pub(crate) async fn serve() -> axum::Json<&'static Value> {
    axum::Json(document())
}
