#!/usr/bin/env bash
# Andon in any CI: attest, gate, deploy. The GitHub Action, the GitLab template and the
# Jenkins snippet all call this script; anything else can too.
#
#   andon-pipeline.sh attest <junit|coverage|sarif|sbom|vulnerabilities|provenance|review> <file>
#   andon-pipeline.sh gate <environment>      # exit 0 allow, 1 deny (what failed, what to do)
#   andon-pipeline.sh deploy <environment>    # record the deployment (after it happened)
#
# Environment:
#   ANDON_SERVER   the Andon server URL
#   The CI job's ID token (no Andon secret at all; docs/pipelines.md sets up the rule):
#     ANDON_ID_TOKEN       the token (GitLab: `id_tokens: ANDON_ID_TOKEN: aud: andon`), or
#     ANDON_ID_TOKEN_FILE  a file holding it (Kubernetes, Buildkite), or
#     GitHub Actions' own request endpoint (`permissions: id-token: write`);
#     the job then signs with a key it makes for itself. Otherwise:
#   ANDON_TOKEN    the pipeline identity's token (a CI secret)
#   ANDON_APP      the application
#   ANDON_SUBJECT  the artifact, <name>@sha256:<hex>
#   ANDON_RUN      the pipeline run id (default: the CI's own, when known)
#   ANDON_KEY_FILE the pipeline's signing key file (PKCS#8 PEM), or
#   ANDON_KEY      the key's PEM content (a CI secret; written to a private temporary file);
#                  neither is needed with an ID token
#   ANDON_BIN      the andon binary (default: andon on PATH)
#
# Nothing secret is ever echoed: tracing is switched off here, and the key content only
# ever goes to a 0600 file removed on exit.
set +x
set -euo pipefail

die() { echo "andon-pipeline: $*" >&2; exit 2; }

bin="${ANDON_BIN:-andon}"
: "${ANDON_SERVER:?set ANDON_SERVER to the Andon server URL}"
# An ID token when the job has one and no stored token is given; else the stored token.
workload=""
if [ -z "${ANDON_TOKEN:-}" ]; then
    if [ -n "${ANDON_ID_TOKEN:-}" ] || [ -n "${ANDON_ID_TOKEN_FILE:-}" ] || [ -n "${ACTIONS_ID_TOKEN_REQUEST_URL:-}" ]; then
        workload=1
        unset ANDON_TOKEN
    else
        die "give the job an ID token (ANDON_ID_TOKEN, ANDON_ID_TOKEN_FILE, or GitHub's id-token: write), or set ANDON_TOKEN (a CI secret)"
    fi
fi
: "${ANDON_APP:?set ANDON_APP to the application}"
: "${ANDON_SUBJECT:?set ANDON_SUBJECT to the artifact, <name>@sha256:<hex>}"
export ANDON_SERVER ANDON_APP
# The CI's own run id when none is given: GitHub Actions, GitLab CI, Jenkins.
ANDON_RUN="${ANDON_RUN:-${GITHUB_RUN_ID:-${CI_PIPELINE_ID:-${BUILD_TAG:-}}}}"
run_args=()
if [ -n "$ANDON_RUN" ]; then run_args=(--run "$ANDON_RUN"); fi

# Sets key_args: --key ANDON_KEY_FILE, or ANDON_KEY written to a private file removed on
# exit; none with an ID token and no key given (the job signs with a key it makes).
key_args=()
key=""
use_key() {
    if [ -n "${ANDON_KEY_FILE:-}" ]; then
        key_args=(--key "$ANDON_KEY_FILE")
        return
    fi
    if [ -z "${ANDON_KEY:-}" ] && [ -n "$workload" ]; then
        return
    fi
    [ -n "${ANDON_KEY:-}" ] || die "set ANDON_KEY_FILE, or ANDON_KEY (a CI secret) to the key's PEM"
    key="$(umask 077 && mktemp "${TMPDIR:-/tmp}/andon-key.XXXXXX")"
    trap 'rm -f "$key"' EXIT
    # Secrets often arrive with trailing blank lines or CRLF: keep the PEM itself.
    local pem="$ANDON_KEY"
    pem="${pem%"${pem##*[![:space:]]}"}"
    printf '%s\n' "$pem" > "$key"
    key_args=(--key "$key")
}

cmd="${1:-}"
case "$cmd" in
    attest)
        kind="${2:?attest needs a kind: junit, coverage, sarif, sbom, vulnerabilities, provenance, review}"
        file="${3:?attest needs the report file}"
        [ -f "$file" ] || die "no report file $file"
        use_key
        "$bin" attest "$kind" --app "$ANDON_APP" --subject "$ANDON_SUBJECT" \
            "${key_args[@]}" --file "$file" "${run_args[@]}"
        ;;
    gate)
        env="${2:?gate needs the environment}"
        exec "$bin" gate --app "$ANDON_APP" --artifact "$ANDON_SUBJECT" --env "$env"
        ;;
    deploy)
        env="${2:?deploy needs the environment}"
        exec "$bin" deploy record --app "$ANDON_APP" --artifact "$ANDON_SUBJECT" --env "$env" \
            "${run_args[@]}"
        ;;
    *)
        die "usage: andon-pipeline.sh attest <kind> <file> | gate <env> | deploy <env>"
        ;;
esac
