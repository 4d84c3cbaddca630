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
#   ANDON_TOKEN    the pipeline identity's token (a CI secret)
#   ANDON_APP      the application
#   ANDON_SUBJECT  the artifact, <name>@sha256:<hex>
#   ANDON_RUN      the pipeline run id (default: the CI's own, when known)
#   ANDON_KEY_FILE the pipeline's signing key file (PKCS#8 PEM), or
#   ANDON_KEY      the key's PEM content (a CI secret; written to a private temporary file)
#   ANDON_BIN      the andon binary (default: andon on PATH)
#
# Nothing secret is ever echoed: tracing is switched off here, and the key content only
# ever goes to a 0600 file removed on exit.
set +x
set -euo pipefail

die() { echo "andon-pipeline: $*" >&2; exit 2; }

bin="${ANDON_BIN:-andon}"
: "${ANDON_SERVER:?set ANDON_SERVER to the Andon server URL}"
: "${ANDON_TOKEN:?set ANDON_TOKEN (a CI secret) to the pipeline token}"
: "${ANDON_APP:?set ANDON_APP to the application}"
: "${ANDON_SUBJECT:?set ANDON_SUBJECT to the artifact, <name>@sha256:<hex>}"
export ANDON_SERVER ANDON_TOKEN ANDON_APP
# The CI's own run id when none is given: GitHub Actions, GitLab CI, Jenkins.
ANDON_RUN="${ANDON_RUN:-${GITHUB_RUN_ID:-${CI_PIPELINE_ID:-${BUILD_TAG:-}}}}"
run_args=()
if [ -n "$ANDON_RUN" ]; then run_args=(--run "$ANDON_RUN"); fi

# Sets $key: ANDON_KEY_FILE, or ANDON_KEY written to a private file removed on exit.
key=""
use_key() {
    if [ -n "${ANDON_KEY_FILE:-}" ]; then
        key="$ANDON_KEY_FILE"
        return
    fi
    [ -n "${ANDON_KEY:-}" ] || die "set ANDON_KEY_FILE, or ANDON_KEY (a CI secret) to the key's PEM"
    key="$(umask 077 && mktemp "${TMPDIR:-/tmp}/andon-key.XXXXXX")"
    trap 'rm -f "$key"' EXIT
    # Secrets often arrive with trailing blank lines or CRLF: keep the PEM itself.
    local pem="$ANDON_KEY"
    pem="${pem%"${pem##*[![:space:]]}"}"
    printf '%s\n' "$pem" > "$key"
}

cmd="${1:-}"
case "$cmd" in
    attest)
        kind="${2:?attest needs a kind: junit, coverage, sarif, sbom, vulnerabilities, provenance, review}"
        file="${3:?attest needs the report file}"
        [ -f "$file" ] || die "no report file $file"
        use_key
        "$bin" attest "$kind" --app "$ANDON_APP" --subject "$ANDON_SUBJECT" \
            --key "$key" --file "$file" "${run_args[@]}"
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
